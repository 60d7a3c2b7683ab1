"""`hearth profile` (what the provider knew about you) and `hearth letter` (the memory letter)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, _store, app, err, out
from hearth.errors import HearthError

profile_app = typer.Typer(
    help="What the provider knew about you: ChatGPT's saved memory, custom instructions and bio notes, "
    "Claude's memories, each with the message it came from. Keep, edit or forget any of them.",
)
app.add_typer(profile_app, name="profile")

LABELS = {
    "chatgpt:model_editable_context": "ChatGPT's saved memory (shown to the model in every chat)",
    "chatgpt:user_editable_context": "ChatGPT custom instructions",
    "chatgpt:custom_instructions": "ChatGPT custom instructions (2023 form)",
    "chatgpt:bio": "Notes ChatGPT decided to save about you (bio tool)",
    "claude:conversations_memory": "Claude's memory of you",
    "claude:project_memories": "Claude's memory per project",
    "claude:memory_files": "Claude's memory files",
}
PARTS = {"chatgpt:about_me": "about you", "chatgpt:how_to_respond": "how to respond"}

CompanionOpt = Annotated[Optional[str], typer.Option("--companion", "-c", help="Companion slug or name.")]


def _day(ts: float | None) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d") if ts else "—"


def _origin(e: dict) -> str:
    if e["first_message"]:
        first = e["first_message"]
        where = f"“{(first['title'] or '(untitled)').strip()}” (conv {first['conversation_id']}, msg {first['id']})"
        more = f" + {e['messages'] - 1} more in {e['conversations']} conversations" if e["messages"] > 1 else ""
        return where + more
    origin = e.get("origin") or {}
    return " · ".join(str(x) for x in (origin.get("path"), origin.get("key")) if x) or e["source"]


@profile_app.callback(invoke_without_command=True)
def profile(
    ctx: typer.Context,
    companion: CompanionOpt = None,
    all_: Annotated[bool, typer.Option("--all", help="Include items the provider later dropped or changed.")] = False,
    rescan: Annotated[
        bool,
        typer.Option("--rescan", help="Read all imported messages and memory files again (adds only what is new)."),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List everything the provider knew about you, grouped by where it came from, dated, each with its source."""
    if ctx.invoked_subcommand is not None:
        return
    from hearth.memory.profile import profile_memories, scan_profile
    from hearth.store.loaders import companion_id

    store = _store()
    stats = scan_profile(store, restart=rescan)  # cheap when nothing is new: it also catches up a killed import
    if rescan and not as_json:
        err.print(f"Read {stats.messages_read:,} messages and {stats.files_read} memory files: "
                  f"{stats.added} new items, {stats.superseded} superseded by newer ones.")  # fmt: skip
    rows = profile_memories(store, companion_id=companion_id(store, companion) if companion else None,
                            include_superseded=all_)  # fmt: skip
    if as_json:
        _json(rows)
        return
    if not rows:
        err.print("No provider profile found.", "Import a ChatGPT or Claude export (`hearth import PATH`) first.")
        return
    for source in LABELS:
        group = [e for e in rows if e["source"] == source]
        if not group:
            continue
        table = Table(title=f"{LABELS[source]} · {len(group)}", title_justify="left", show_lines=False)
        for col in ("id", "dated", "what it knew", "from", "status"):
            table.add_column(col, overflow="fold")
        for e in group:
            label = PARTS.get(e["group"]) or e["section"]
            status = "kept" if e["kept"] else (f"superseded by #{e['superseded_by']}" if e["superseded_by"] else "")
            text = " ".join(e["text"].split())
            table.add_row(str(e["id"]), _day(e["event_at"] or e["first_seen"]),
                          Text((f"[{label}] " if label else "") + (text if len(text) <= 300 else text[:299] + "…")),
                          Text(_origin(e), style="dim"), status)  # fmt: skip
        out.print(table)
    out.print(Text("Keep what is right (`hearth profile keep ID`), correct it (`hearth profile edit ID`), or remove it "
                   "for good (`hearth profile forget ID`).", style="dim"))  # fmt: skip


@profile_app.command("keep")
def profile_keep(memory_id: Annotated[int, typer.Argument(help="Item id from `hearth profile`.")]) -> None:
    """Confirm an item: it becomes one of hearth's own memories and stays, whatever the provider did later."""
    from hearth.memory.profile import keep

    m = keep(_store(), memory_id)
    out.print(Text(f"Kept #{m.id} as a {m.kind}: {m.text[:120]}"))


@profile_app.command("edit")
def profile_edit(
    memory_id: Annotated[int, typer.Argument(help="Item id from `hearth profile`.")],
    text: Annotated[Optional[str], typer.Option("--text", help="New wording (opens your editor if omitted).")] = None,
) -> None:
    """Correct an item's wording (search, retrieval and the letter use it at once)."""
    from hearth.memory.profile import edit
    from hearth.store.memories import get_memory

    store = _store()
    if text is None:
        current = get_memory(store, memory_id)
        edited = typer.edit(current.text)
        if edited is None or edited.strip() == current.text.strip():
            err.print("Nothing changed.")
            return
        text = edited
    m = edit(store, memory_id, text)
    out.print(Text(f"#{m.id} now reads: {m.text}"))


@profile_app.command("forget")
def profile_forget(
    memory_id: Annotated[int, typer.Argument(help="Item id from `hearth profile`.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Remove an item from hearth and every index; importing the export again will not bring it back."""
    from hearth.memory.profile import forget
    from hearth.store.memories import get_memory

    store = _store()
    m = get_memory(store, memory_id)
    if not yes and not typer.confirm(f"Forget “{m.text[:80]}” for good?"):
        raise typer.Exit(1)
    forget(store, memory_id)
    out.print(f"Forgot #{memory_id}.")


@app.command("letter")
def letter(
    tokens: Annotated[int, typer.Option("--tokens", "-t", help="Token budget (hearth's estimate).")] = 2000,
    lang: Annotated[Optional[str], typer.Option("--lang", help="zh or en (default: the persona's language).")] = None,
    target: Annotated[
        str, typer.Option("--for", help="chatgpt (custom instructions), claude (project knowledge) or generic.")
    ] = "generic",
    companion: Annotated[
        Optional[str], typer.Option("--companion", "-c", help="Companion slug or name (default: the most recent).")
    ] = None,
    out_file: Annotated[Optional[Path], typer.Option("--out", "-o", help="Write the letter to this file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the letter and its items as JSON.")] = False,
    backend: Annotated[
        Optional[str],
        typer.Option("--backend", "-b", help="Have this model reword the letter; its version is kept only if it "
                     "fits the budget and keeps every memory (else hearth's wording stays, and you are told why)."),
    ] = None,
) -> None:
    """Write the memory letter: the companion's persona and your most important memories, within a token
    budget, ready to paste into ChatGPT, Claude or any other chat; room the memories leave is filled with
    the most telling moments of your history. Works offline, no model needed; with --backend a model
    puts it into warmer prose."""
    from hearth.cli.persona import companion as resolve
    from hearth.memory.letter import build_letter

    store = _store()
    result = build_letter(store, resolve(store, companion), tokens, lang=lang, target=target)
    if backend is not None:
        from hearth.backends.registry import get_backend
        from hearth.memory.letter_wording import reword

        with err.status(f"{backend} is rewording the letter…"):
            result = reword(result, get_backend(backend))
    if as_json:
        _json(
            {k: v for k, v in result.__dict__.items() if k != "items"} | {"items": [i.__dict__ for i in result.items]}
        )
    if out_file is not None:
        try:
            out_file.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            raise HearthError(f"Could not write {out_file}: {exc.strerror}.", hint="Pick another --out path.") from exc
    elif not as_json:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    memories = sum(1 for i in result.items if i.memory_id is not None)
    err.print(f"{result.tokens:,} of {result.budget:,} tokens · {memories} memories"
              + (f" ({result.left_out} more did not fit)" if result.left_out else "")
              + (f" · {result.moments} moments from the history" if result.moments else "")
              + (f" · worded by {result.worded_by}" if result.worded_by else "")
              + (f" · written to {out_file}" if out_file else ""))  # fmt: skip
    if result.wording_note:
        err.print(f"[yellow]{result.wording_note}.[/yellow]")
