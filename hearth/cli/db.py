"""`hearth db …`: check, repair, migrate, back up and restore the store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

from hearth import config
from hearth.cli import State, _json, _store, app, out

db_app = typer.Typer(help="Check, migrate, back up and restore the store.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@db_app.command("check")
def db_check(
    repair: Annotated[bool, typer.Option("--repair", help="Rebuild search rows and drop orphan vectors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Is the store as hearth promises? Integrity, search index, vectors, provenance, branches."""
    from hearth.store import maintenance

    store = _store()
    problems = maintenance.check(store)
    fixed = maintenance.repair(store) if repair and any(p.repairable for p in problems) else 0
    after = maintenance.check(store) if fixed else problems
    if as_json:
        _json({"problems": [p.__dict__ for p in problems], "repaired_rows": fixed,
               "remaining": [p.__dict__ for p in after]})  # fmt: skip
    else:
        if not problems:
            out.print(Text("The store is healthy.", style="bold green"))
        for p in problems:
            hint = " (--repair fixes this)" if p.repairable and not repair else ""
            out.print(Text(f"• {p.what}: {p.count}{hint}", style="yellow"))
        if fixed:
            out.print(f"Repaired {fixed} rows; {len(after)} problem(s) remain.")
    if after:
        raise typer.Exit(1)


@db_app.command("migrate")
def db_migrate() -> None:
    """Bring the store to this hearth's schema (opening it does the same)."""
    from hearth.store.db import current_revision

    store = _store()
    out.print(f"{store.location} is at schema {current_revision(store.engine)}.")


@db_app.command("backup")
def db_backup(
    dest: Annotated[Path, typer.Argument(help="The backup file to write.")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """A consistent copy of the store, safe to take while hearth is running."""
    from hearth.store import maintenance

    done = maintenance.backup(_store(), dest, force)
    out.print(f"Backed up to {dest} ({done['bytes'] / 1e6:.1f} MB in {done['seconds']} s).")


@db_app.command("restore")
def db_restore(
    source: Annotated[Path, typer.Argument(help="A backup written by `hearth db backup`.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Replace the store with a backup; the current store is kept beside it, never deleted."""
    from hearth.store import maintenance

    target = config.load(State.db).db
    if not yes and not typer.confirm(f"Replace {target} with {source}? (the current one is kept aside)"):
        raise typer.Exit(1)
    aside = maintenance.restore(source, target)
    out.print(f"Restored {target} from {source}." + (f" The previous store is at {aside}." if aside else ""))
