"""`hearth persona …`: the companion's persona card, derived from history, shown, edited, versioned."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer
from pydantic import ValidationError
from rich.table import Table

from hearth.cli import _json, _store, _when, app, out
from hearth.errors import HearthError

persona_app = typer.Typer(
    help="The companion's persona: derive it from your history, see it, edit it, go back to an older version.",
    no_args_is_help=True,
)
app.add_typer(persona_app, name="persona")

CompanionOpt = Annotated[
    Optional[str],
    typer.Option("--companion", "-c", help="Companion slug or name (default: the one you talked to last)."),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def companion(store, name: str | None) -> int:
    from hearth.store.loaders import companion_id, default_companion_id

    return companion_id(store, name) if name else default_companion_id(store)


def _show(persona, as_json: bool, version: int | None = None) -> None:
    from hearth.persona.card import render

    if as_json:
        _json({"version": version, **persona.model_dump()})
        return
    out.print(render(persona), markup=False, highlight=False)


@persona_app.command("derive")
def persona_derive(
    companion_name: CompanionOpt = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the result without saving a new version.")] = False,
    backend: Annotated[
        Optional[str], typer.Option("--backend", "-b", help="Also have this model write the portrait (summary).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Build the persona from your history (style, pet names, language mix, facts, example exchanges).

    Saved as a new version; fields you set by hand are kept."""
    from hearth.persona.derive import derive, save_derived

    store = _store()
    cid = companion(store, companion_name)
    model = None
    if backend is not None:
        from hearth.backends.registry import get_backend

        model = get_backend(backend)
    persona = derive(store, cid, backend=model)
    note = f"portrait by {persona.style.get('summary_written_by')}" if model is not None else None
    version = None if dry_run else save_derived(store, cid, persona, note)
    _show(persona, as_json, version)
    if not as_json:
        out.print("\n(dry run: nothing saved)" if dry_run else f"\nSaved as version {version}.", style="dim")


@persona_app.command("show")
def persona_show(
    companion_name: CompanionOpt = None,
    version: Annotated[Optional[int], typer.Option("--version", "-v", help="An older version.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The persona the companion speaks with now (or an older version)."""
    from hearth.persona.card import Persona
    from hearth.persona.derive import base_persona
    from hearth.store import personas

    store = _store()
    cid = companion(store, companion_name)
    if version is not None:
        _show(Persona(**personas.get(store, cid, version).persona), as_json, version)
        return
    current = personas.latest(store, cid)
    _show(base_persona(store, cid), as_json, current.version if current else None)
    if current is None and not as_json:
        out.print("\n(from the companion's card; run `hearth persona derive` to build it from your history)",
                  style="dim")  # fmt: skip


def _parse(pairs: list[str], option: str) -> list[tuple[str, str]]:
    from hearth.persona.card import EDITABLE

    parsed = []
    for pair in pairs:
        field, sep, value = pair.partition("=")
        field = field.strip().replace("-", "_")
        if not sep or field not in EDITABLE:
            raise HearthError(
                f"{option} {pair!r} is not FIELD=VALUE with a field hearth knows.",
                hint=f"Fields: {', '.join(EDITABLE)}.",
            )
        parsed.append((field, value.replace("\\n", "\n")))
    return parsed


@persona_app.command("edit")
def persona_edit(
    companion_name: CompanionOpt = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="FIELD=VALUE, e.g. --set warmth=80.")] = None,
    add: Annotated[Optional[list[str]], typer.Option("--add", help="Add to a list: --add facts='Loves rain'.")] = None,
    remove: Annotated[Optional[list[str]], typer.Option("--remove", help="Remove from a list (exact text).")] = None,
    from_file: Annotated[
        Optional[Path], typer.Option("--from-file", help="A JSON file of fields (as `persona show --json` prints).")
    ] = None,
    note: Annotated[Optional[str], typer.Option("--note", help="Why you changed it (kept in the history).")] = None,
) -> None:
    """Change the persona; saved as a new version, and the fields you set are never overwritten by derive."""
    from hearth.persona.card import EDITABLE, Persona
    from hearth.persona.derive import base_persona
    from hearth.store import personas

    store = _store()
    cid = companion(store, companion_name)
    persona = base_persona(store, cid)
    data: dict[str, Any] = persona.model_dump()
    changed: list[str] = []
    if from_file is not None:
        try:
            given = orjson.loads(from_file.read_bytes())
        except (OSError, orjson.JSONDecodeError) as exc:
            raise HearthError(f"Could not read {from_file}: {exc}.", hint="Give a JSON object of fields.") from exc
        if not isinstance(given, dict):
            raise HearthError(f"{from_file} is not a JSON object.", hint="Give a JSON object of persona fields.")
        for key, value in given.items():
            if key in EDITABLE and value != data.get(key):
                data[key] = value
                changed.append(key)
    lists = {k for k, v in data.items() if isinstance(v, list)}
    for field, value in _parse(set_ or [], "--set"):
        data[field] = [line for line in value.split("\n") if line.strip()] if field in lists else value
        changed.append(field)
    for option, pairs in (("--add", add or []), ("--remove", remove or [])):
        for field, value in _parse(pairs, option):
            if field not in lists:
                raise HearthError(f"{field} is not a list; use --set {field}=… instead.")
            items = list(data[field])
            if option == "--add":
                items.append(value)
            elif value in items:
                items.remove(value)
            else:
                raise HearthError(f"{field} has no item {value!r}.", hint="`hearth persona show` lists them.")
            data[field] = items
            changed.append(field)
    if not changed:
        raise HearthError("Nothing to change.", hint="Use --set FIELD=VALUE, --add, --remove or --from-file.")
    data["edited"] = sorted(set(data.get("edited", [])) | set(changed))
    try:
        persona = Persona(**data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise HearthError(
            f"{first['loc'][0]}: {first['msg'].removeprefix('Value error, ')}.", hint="Nothing was saved."
        ) from exc
    version = personas.save(store, cid, persona.model_dump(), "edited", note or "changed " + ", ".join(changed))
    out.print(f"Saved version {version} (changed: {', '.join(dict.fromkeys(changed))}).")


@persona_app.command("history")
def persona_history(companion_name: CompanionOpt = None, as_json: JsonOpt = False) -> None:
    """Every saved version, newest last."""
    from hearth.store import personas

    store = _store()
    versions = personas.history(store, companion(store, companion_name))
    if as_json:
        _json([{"version": v.version, "source": v.source, "note": v.note, "created_at": v.created_at}
               for v in versions])  # fmt: skip
        return
    if not versions:
        out.print("No saved versions yet: `hearth persona derive` builds the first one.")
        return
    table = Table("version", "source", "saved", "note")
    for v in versions:
        table.add_row(str(v.version), v.source, _when(v.created_at), v.note or "")
    out.print(table)


@persona_app.command("revert")
def persona_revert(
    version: Annotated[int, typer.Argument(help="The version to go back to.")],
    companion_name: CompanionOpt = None,
) -> None:
    """Go back to an older version (saved as a new version, so nothing is lost)."""
    from hearth.store import personas

    store = _store()
    cid = companion(store, companion_name)
    old = personas.get(store, cid, version)
    new = personas.save(store, cid, old.persona, "edited", f"reverted to version {version}")
    out.print(f"Version {version} is back, saved as version {new}.")
