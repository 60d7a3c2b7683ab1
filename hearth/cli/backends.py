"""`hearth backends …`: which models hearth can speak through, and whether they answer."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, app, out

backends_app = typer.Typer(help="The models companions can speak through (config file: [backends.NAME]).",
                           no_args_is_help=True)  # fmt: skip
app.add_typer(backends_app, name="backends")


@backends_app.command("list")
def backends_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """The embedded model and every backend in the config file (keys are never shown)."""
    from hearth.backends import registry
    from hearth.config import config_path

    specs = registry.specs()
    rows = [{"name": "embedded", "kind": "embedded", "model": "bundled SmolLM2-135M-Instruct", "base_url": None,
             "key": "none needed"}]  # fmt: skip
    for name, spec in specs.items():
        if name == "embedded":
            continue
        key = f"env {spec.key_env}" if spec.key_env else "OS keyring" if spec.keyring else "none"
        rows.append({"name": name, "kind": spec.kind, "model": spec.model, "base_url": spec.base_url, "key": key})
    if as_json:
        _json(rows)
        return
    table = Table("name", "kind", "model", "address", "key from")
    for r in rows:
        table.add_row(r["name"], r["kind"], r["model"] or "", r["base_url"] or "", r["key"])
    out.print(table)
    out.print(Text(f"Add your own in {config_path()} (see README, 'Backends').", style="dim"))


@backends_app.command("test")
def backends_test(name: Annotated[str, typer.Argument(help="Backend name, or 'embedded'.")] = "embedded") -> None:
    """Send one tiny message and show who really answered, and how far that can be believed."""
    from hearth.backends import registry

    report = registry.test_connection(registry.get_backend(name))
    for n, line in enumerate(report.lines()):
        out.print(Text(line, style=("bold green" if report.ok else "bold red") if n == 0 else ""))
    if not report.ok:
        raise typer.Exit(1)
