"""`hearth memory …`: see, search, correct, pin and forget everything hearth remembers."""

from __future__ import annotations

from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, _store, _when, app, err, out
from hearth.records import MEMORY_KINDS as KINDS

memory_app = typer.Typer(help="See, search, edit, pin and forget what hearth remembers.", no_args_is_help=True)
app.add_typer(memory_app, name="memory")



def _companion(store, name: str | None) -> int | None:
    if not name:
        return None
    from hearth.store.loaders import companion_id

    return companion_id(store, name)


def _memory_line(m, width: int = 160) -> Text:
    flags = ("📌 " if m.pinned else "") + ("" if m.superseded_by is None else f"(superseded by #{m.superseded_by}) ")
    flat = " ".join(m.text.split())
    return Text(flags + (flat if len(flat) <= width else flat[: width - 1] + "…"))


@memory_app.command("list")
def memory_list(
    companion: Annotated[Optional[str], typer.Option("--companion", "-c", help="Only this companion's.")] = None,
    kind: Annotated[Optional[str], typer.Option(help=f"Only this kind: {', '.join(KINDS)}.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include superseded memories.")] = False,
    limit: Annotated[int, typer.Option(help="How many.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List memories: pinned first, then by importance; each with where it came from."""
    from hearth.store.memories import list_memories

    store = _store()
    rows = list_memories(store, companion_id=_companion(store, companion), kind=kind, include_superseded=all_,
                         limit=limit)  # fmt: skip
    if as_json:
        _json([r.__dict__ for r in rows])
        return
    if not rows:
        err.print("No memories yet.", "Import a history and run `hearth memory extract`, or `hearth memory add`.")
        return
    table = Table()
    for col in ("id", "kind", "memory", "importance", "from"):
        table.add_column(col, overflow="fold")
    for m in rows:
        origin = f"{len(m.source_message_ids)} msg" if m.source_message_ids else m.source
        table.add_row(str(m.id), m.kind, _memory_line(m), f"{m.importance:.2f}", origin)
    out.print(table)


@memory_app.command("show")
def memory_show(memory_id: Annotated[int, typer.Argument(help="Memory id.")]) -> None:
    """One memory with the messages it came from."""
    from hearth.store.memories import get_memory, provenance

    store = _store()
    m = get_memory(store, memory_id)
    out.print(Text(m.text, style="bold"))
    out.print(
        Text(
            f"#{m.id} · {m.kind} · importance {m.importance:.2f}{' · pinned' if m.pinned else ''} · from {m.source}"
            f" · created {_when(m.created_at)}" + (f" · event {_when(m.event_at)}" if m.event_at else ""),
            style="dim",
        )
    )
    if m.keys:
        out.print(Text("keys: " + ", ".join(m.keys), style="dim"))
    for p in provenance(store, memory_id):
        out.print(Text(f"— {p['role']} in “{(p['title'] or '').strip()}” (conversation {p['conversation_id']}, "
                       f"message {p['id']}) {_when(p['created_at'])}", style="cyan"))  # fmt: skip
        out.print(Text("  " + " ".join(p["text"].split())[:300]))


@memory_app.command("add")
def memory_add(
    text: Annotated[str, typer.Argument(help="What to remember, in your own words.")],
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(KINDS)}.")] = "fact",
    importance: Annotated[float, typer.Option(min=0, max=1, help="0 to 1.")] = 0.7,
    companion: Annotated[Optional[str], typer.Option("--companion", "-c", help="Whose memory.")] = None,
    pin: Annotated[bool, typer.Option("--pin", help="Always include it.")] = False,
) -> None:
    """Add a memory by hand."""
    from hearth.store.memories import add_memory

    store = _store()
    mid = add_memory(store, text, kind=kind, importance=importance, companion_id=_companion(store, companion),
                     pinned=pin, source="added by you")  # fmt: skip
    out.print(f"Remembered as #{mid}.")


@memory_app.command("edit")
def memory_edit(
    memory_id: Annotated[int, typer.Argument(help="Memory id.")],
    text: Annotated[Optional[str], typer.Option("--text", help="New wording (opens your editor if omitted).")] = None,
    kind: Annotated[Optional[str], typer.Option(help="New kind.")] = None,
    importance: Annotated[Optional[float], typer.Option(min=0, max=1, help="New importance, 0 to 1.")] = None,
) -> None:
    """Correct a memory; search and retrieval use the new wording at once."""
    from hearth.store.memories import get_memory, update_memory

    store = _store()
    if text is None and kind is None and importance is None:
        current = get_memory(store, memory_id)
        edited = typer.edit(current.text)
        if edited is None or edited.strip() == current.text.strip():
            err.print("Nothing changed.")
            return
        text = edited.strip()
    m = update_memory(store, memory_id, text=text, kind=kind, importance=importance)
    out.print(Text(f"#{m.id} now reads: {m.text}"))


@memory_app.command("forget")
def memory_forget(
    memory_id: Annotated[int, typer.Argument(help="Memory id.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask.")] = False,
) -> None:
    """Delete a memory from hearth and from every index. It cannot come back."""
    from hearth.store.memories import forget_memory, get_memory

    store = _store()
    m = get_memory(store, memory_id)
    if not yes and not typer.confirm(f"Forget “{m.text[:80]}” for good?"):
        raise typer.Exit(1)
    forget_memory(store, memory_id)
    out.print(f"Forgot #{memory_id}.")


@memory_app.command("pin")
def memory_pin(
    memory_id: Annotated[int, typer.Argument(help="Memory id.")],
    off: Annotated[bool, typer.Option("--off", help="Unpin instead.")] = False,
) -> None:
    """Pin a memory so the companion always has it (or --off to unpin)."""
    from hearth.store.memories import update_memory

    m = update_memory(_store(), memory_id, pinned=not off)
    out.print(f"#{m.id} {'pinned' if m.pinned else 'unpinned'}.")


@memory_app.command("search")
def memory_search(
    query: Annotated[str, typer.Argument(help="A question or words, Chinese or English.")],
    budget: Annotated[int, typer.Option(help="Token budget for what is returned.")] = 2000,
    explain: Annotated[bool, typer.Option("--explain", help="Show why each item was chosen.")] = False,
    lexical: Annotated[bool, typer.Option("--lexical", help="Words only, no embeddings.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """What the companion would recall for this: memories and past messages, within a token budget."""
    from hearth.memory.embed import default_embedder
    from hearth.memory.retrieve import embed_pending, retrieve

    store = _store()
    embedder = None if lexical else default_embedder()
    if embedder is not None:
        embed_pending(store, embedder, kinds=("memory",))  # memories are few; messages wait for `memory embed`
    hits = retrieve(store, query, budget_tokens=budget, embedder=embedder)
    if as_json:
        _json([h.__dict__ for h in hits])
        return
    if not hits:
        err.print(f"Nothing recalled for {query!r}.")
        raise typer.Exit(1)
    table = Table(caption=f"{sum(h.tokens for h in hits)} of {budget} tokens")
    for col in ("#", "kind", "text", "tokens") + (("why",) if explain else ()):
        table.add_column(col, overflow="fold")
    for h in hits:
        why = ""
        if explain:
            parts = [f"{name} #{h.why[name]['rank']}" for name in ("lexical", "vector") if name in h.why]
            parts += [f"recency {h.why['recency']}"] if "recency" in h.why else []
            parts += [f"importance {h.why['importance']:.2f}"] if "importance" in h.why else []
            why = ", ".join(parts) + f" → {h.why['score']}"
        label = f"{h.kind} {h.id}" + (f" (conv {h.conversation_id})" if h.conversation_id else "")
        table.add_row(label, h.role or h.kind, Text(" ".join(h.text.split())[:400]), str(h.tokens),
                      *((why,) if explain else ()))  # fmt: skip
    out.print(table)


@memory_app.command("embed")
def memory_embed() -> None:
    """Compute embeddings for memories and messages that lack them (resumable; search works before)."""
    from hearth.memory.embed import default_embedder
    from hearth.memory.retrieve import embed_pending
    from hearth.store.vectors import count_missing

    store = _store()
    embedder = default_embedder()
    total = sum(count_missing(store, kind, embedder.name) for kind in ("memory", "message"))
    if not total:
        out.print("Everything is embedded.")
        return
    with Progress(TextColumn("embedding"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err) as p:
        task = p.add_task("embed", total=total)
        done = embed_pending(store, embedder, progress=lambda n: p.advance(task, n))
    out.print(f"Embedded {done:,} items with {embedder.name}.")


@memory_app.command("extract")
def memory_extract(
    restart: Annotated[
        bool, typer.Option("--restart", help="Read the whole history again, not just what is new.")
    ] = False,
) -> None:
    """Find memories in your history (names, places, pets, likes, boundaries, dates, milestones).

    Works offline without any model, in Chinese and English; re-running reads only new messages.
    A changed fact ("moved to Hangzhou") supersedes the old one, which stays visible.
    """
    import sqlalchemy as sa

    from hearth.memory.consolidate import extract_memories
    from hearth.store import schema

    store = _store()
    with store.engine.connect() as conn:
        total = conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar_one()
    with Progress(TextColumn("reading history"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=err, transient=True) as p:  # fmt: skip
        task = p.add_task("extract", total=total)
        stats = extract_memories(store, restart=restart, progress=lambda n: p.advance(task, n))
    out.print(
        f"Read {stats.messages_read:,} messages: {stats.added:,} new memories, {stats.merged:,} confirmed again, "
        f"{stats.superseded:,} superseded by newer facts."
    )
    if stats.added:
        out.print("See them with `hearth memory list`; correct any with `hearth memory edit` or `forget`.")
