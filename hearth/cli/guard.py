"""`hearth guard …`: what the well-being guard noticed, and the crisis lines it shows."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, _store, _when, app, out

guard_app = typer.Typer(help="The well-being guard: its log, its crisis lines, and a dry run on any text.",
                        no_args_is_help=True)  # fmt: skip
app.add_typer(guard_app, name="guard")


@guard_app.command("log")
def guard_log(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many events.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every time the guard stepped in: when, on which message, why, and what it did."""
    from hearth.store.guard_events import events

    rows = events(_store(), limit)
    if as_json:
        _json(rows)
        return
    if not rows:
        out.print("The guard has not stepped in yet.")
        return
    table = Table("when", "kind", "why", "what it did", "message")
    for e in rows:
        table.add_row(_when(e["at"]), e["kind"], ", ".join(e["categories"]) or "—", e["action"] or "",
                      Text(" ".join((e["message"] or "").split())[:80]))  # fmt: skip
    out.print(table)


@guard_app.command("check")
def guard_check(text: Annotated[str, typer.Argument(help="Any message, in any language.")]) -> None:
    """How the guard reads a message (nothing is stored)."""
    from hearth.guard.crisis import assess

    a = assess(text)
    if a.crisis:
        out.print(Text(f"crisis: {', '.join(a.categories)} (because of: {'; '.join(a.evidence)})", style="bold red"))
    else:
        out.print("no crisis detected")


@guard_app.command("lines")
def guard_lines(
    region: Annotated[Optional[str], typer.Option("--region", help="US, GB, CA, AU, CN, HK, TW, default…")] = None,
    path: Annotated[bool, typer.Option("--path", help="Print where your own list would go, then stop.")] = False,
) -> None:
    """The crisis lines hearth shows (edit your own copy to change them)."""
    from hearth.guard import lines

    if path:
        out.print(str(lines.user_file()))
        return
    r = lines.region(region)
    out.print(Text(f"{r.name} ({r.code}) — emergency: {r.emergency}", style="bold"))
    for ln in r.lines:
        out.print(Text(f"  {ln.name}: {ln.contact}  [{', '.join(ln.categories)}]"))
    mine = lines.user_file()
    out.print(Text(f"Using {'your list at ' + str(mine) if mine.exists() else 'the bundled list'}; copy it to "
                   f"{mine} to edit.", style="dim"))  # fmt: skip
