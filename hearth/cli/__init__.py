"""The `hearth` command: thin wrappers that parse flags, call the packages, and print."""

from __future__ import annotations

import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Optional

import orjson
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table
from rich.text import Text

from hearth import __version__, config
from hearth.errors import HearthError

app = typer.Typer(
    help="hearth keeps your AI companion: import your chat history, see which model really answered, "
    "search everything (Chinese included).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
conversations_app = typer.Typer(help="Browse imported conversations.", no_args_is_help=True)
app.add_typer(conversations_app, name="conversations")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class State:
    db: str | None = None
    user: str | None = None
    debug: bool = False


def _version(value: bool) -> None:
    if value:
        out.print(f"hearth {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    db: Annotated[
        Optional[str],
        typer.Option("--db", help="Database file or URL (default: HEARTH_DB, then the per-user data folder)."),
    ] = None,
    user: Annotated[
        Optional[str],
        typer.Option(
            "--user", help="Work on this account's store instead of the main one (a shared server: see `hearth users`)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show full tracebacks for unexpected errors.")] = False,
    version: Annotated[
        Optional[bool], typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = None,
) -> None:
    State.db = db
    State.user = user
    State.debug = debug


def _main_store():
    """The main store, whatever `--user` says (the account registry lives there)."""
    return _open(config.load(State.db).db)


def _location() -> str:
    """Where the store commands work on is: the main one, or with `--user NAME` that account's own."""
    if State.user is None:
        return config.load(State.db).db
    with _main_store() as main:
        return _account_location(main)


def _account_location(main) -> str:
    from hearth.store import users

    return users.location(main, users.get_account(main, State.user))


def _store():
    if State.user is None:
        return _open(_location())
    with _main_store() as main:  # an account's store is encrypted with the main store's passphrase
        return _open(_account_location(main), main.passphrase)


def _open(location: str, passphrase: str | None = None):
    """An encrypted store without HEARTH_PASSPHRASE, a keyring entry or `passphrase` asks for its
    passphrase when someone is at the terminal."""
    from hearth.store import Store, encryption
    from hearth.store.db import sqlite_file

    path = sqlite_file(location)
    passphrase = encryption.passphrase_or(path, passphrase)
    if passphrase is None and path is not None and encryption.is_encrypted(path):
        if sys.stdin.isatty() and sys.stderr.isatty():
            passphrase = typer.prompt(f"Passphrase for {path}", hide_input=True, err=True)
    return Store(location, passphrase)


def _when(ts: float | None) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M") if ts is not None else "—"


def _json(obj: Any) -> None:
    sys.stdout.write(orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode() + "\n")


# ------------------------------------------------------------------ import


class RichObserver:
    """Progress bars for hashing and reading (bytes), with a running conversation count."""

    def __init__(self, progress: Progress, label: str) -> None:
        self.progress = progress
        self.label = label
        self.task: Any = None
        self.warnings: list[str] = []

    def hashing(self, total: int):
        task = self.progress.add_task(f"checking {self.label}", total=total)
        return lambda n: self.progress.advance(task, n)

    def reading(self, total: int, already: int):
        self.task = self.progress.add_task(f"importing {self.label}", total=total, completed=already)
        return lambda n: self.progress.advance(self.task, n)

    def conversation(self, index: int) -> None:
        if index % 25 == 0 and self.task is not None:
            self.progress.update(self.task, description=f"importing {self.label} · {index:,} conversations")

    def warn(self, message: str) -> None:
        self.warnings.append(message)


def _ask_archive_passphrase(paths: list[Path]) -> None:
    """An encrypted zip among the inputs and no HEARTH_ARCHIVE_PASSPHRASE: ask, when someone is there."""
    import os

    from hearth.formats.bundle import ARCHIVE_PASSPHRASE, is_encrypted_zip

    if os.environ.get(ARCHIVE_PASSPHRASE) or not (sys.stdin.isatty() and sys.stderr.isatty()):
        return
    locked = next((p for p in paths if p.is_file() and is_encrypted_zip(p)), None)
    if locked is not None:
        os.environ[ARCHIVE_PASSPHRASE] = typer.prompt(f"Passphrase for {locked}", hide_input=True, err=True)


@app.command("import")
def import_(
    paths: Annotated[
        Optional[list[Path]],
        typer.Argument(
            help="Export zips, files (conversations.json, .jsonl, card .png) or folders.", show_default=False
        ),
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="Import the small synthetic ChatGPT export bundled with hearth.")
    ] = False,
) -> None:
    """Import chat exports, chat logs and character cards (format detected for each file).

    Accepts ChatGPT and Claude exports (zip, folder or conversations.json), SillyTavern chats
    and world info, character cards (PNG, JSON, CHARX) and OpenAI-style JSONL; a folder may mix
    them. Safe to repeat: a file already imported adds nothing, and an interrupted import resumes
    where it stopped when you run the same command again.
    """
    from hearth.ingest import import_many
    from hearth.samples import CHATGPT_SAMPLE

    paths = list(paths or []) + ([CHATGPT_SAMPLE] if sample else [])
    if not paths:
        raise HearthError("Nothing to import.", hint="Give a path (hearth import export.zip) or --sample.")
    store = _store()
    _ask_archive_passphrase(paths)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        observer = RichObserver(progress, paths[0].name if len(paths) == 1 else f"{len(paths)} inputs")
        try:
            summaries = import_many(store, paths, observer)
        except KeyboardInterrupt:
            err.print("Interrupted. Run the same `hearth import` again to continue where it stopped.")
            raise typer.Exit(130) from None
    for w in observer.warnings[:20]:
        err.print(Text(f"warning: {w}", style="yellow"))
    if len(observer.warnings) > 20:
        err.print(Text(f"… and {len(observer.warnings) - 20} more warnings", style="yellow"))
    counters = {
        "convs": lambda r: r.conversations_added,
        "msgs": lambda r: r.messages_added,
        "updated": lambda r: r.conversations_updated,
        "unchanged": lambda r: r.conversations_unchanged,
        "cards": lambda r: r.companions_added,
        "memories": lambda r: r.memories_added,
        "docs": lambda r: r.documents_added,
        "feedback": lambda r: r.feedback_added,
        "files": lambda r: r.files_added,
    }
    shown = [name for name, get in counters.items() if any(get(s.result) for s in summaries)] or ["convs", "msgs"]
    table = Table(title="Import summary")
    table.add_column("input", overflow="fold", min_width=12)
    table.add_column("format")
    table.add_column("status")
    for name in shown:
        table.add_column(name, justify="right")
    for s in summaries:
        status = s.status
        if s.status == "done" and s.resumed_from:
            status = f"done (resumed at #{s.resumed_from + 1})"
        if s.status in ("failed", "skipped"):
            style = "red" if s.status == "failed" else "dim"
            table.add_row(Text(s.path), s.format, Text(status, style=style), *[""] * len(shown))
            continue
        table.add_row(Text(s.path), s.format, status, *[f"{counters[n](s.result):,}" for n in shown])
    out.print(table)
    failed = [s for s in summaries if s.status == "failed"]
    for s in summaries:
        if s.status == "skipped":
            err.print(Text(f"skipped {s.path}: {s.error}", style="dim"))
    for s in failed:
        err.print(Text(f"Error: {s.error}", style="bold red"))
        if s.hint:
            err.print(Text(f"Hint: {s.hint}"))
    if failed:
        raise typer.Exit(1)


# ------------------------------------------------------------------ conversations


@conversations_app.command("list")
def conversations_list(
    limit: Annotated[int, typer.Option(help="How many to show.")] = 50,
    offset: Annotated[int, typer.Option(help="Skip this many (newest first).")] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List conversations, newest first."""
    from hearth.store.queries import list_conversations

    rows = list_conversations(_store(), limit, offset)
    if as_json:
        _json([r.__dict__ for r in rows])
        return
    table = Table()
    for col in ("id", "started", "title", "messages", "branches", "model", "source"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            str(r.id),
            _when(r.created_at),
            Text((r.title or "(untitled)").strip()),
            str(r.messages),
            str(r.branches),
            r.default_model or "",
            r.source_format,
        )
    out.print(table)


@conversations_app.command("show")
def conversations_show(
    conversation_id: Annotated[int, typer.Argument(help="Id from `hearth conversations list`.")],
    all_branches: Annotated[
        bool, typer.Option("--all-branches", help="Show the whole tree (edits, regenerations).")
    ] = False,
    hidden: Annotated[bool, typer.Option("--hidden", help="Also show hidden system and context messages.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print JSON (the same messages, every field but raw).")
    ] = False,
) -> None:
    """Show a conversation: the branch you last saw, or the whole tree."""
    from hearth.store.queries import get_conversation

    conv, messages = get_conversation(_store(), conversation_id)
    shown = [
        m for m in messages
        if m["role"] is not None and (hidden or not m["hidden"]) and (all_branches or m["visible"])
    ]  # fmt: skip
    if as_json:
        _json({"conversation": {k: v for k, v in conv.items() if k != "raw"},
               "messages": [{k: v for k, v in m.items() if k not in ("raw", "parts")} for m in shown]})  # fmt: skip
        return
    out.print(Text(f"{(conv['title'] or '(untitled)').strip()}", style="bold"))
    out.print(Text(f"{conv['source_format']} · {conv['source_id']} · started {_when(conv['created_at'])}", style="dim"))
    for m in shown:
        indent = "  " * m["depth"] if all_branches else ""
        marker = ("● " if m["visible"] else "○ ") if all_branches else ""
        who = m["role"] + (f" ({m['author_name']})" if m["author_name"] else "")
        model = ""
        if m["served_model"]:
            model = f" · {m['served_model']}"
            if m["requested_model"] and m["requested_model"] != m["served_model"]:
                model += f" (asked {m['requested_model']})"
        header = Text(
            f"{indent}{marker}{who} · {_when(m['created_at'])}{model}", style="cyan" if m["visible"] else "dim"
        )
        out.print(header)
        body = m["text"] or f"[{m['content_type']}]"
        out.print(Text("\n".join(indent + "  " + line for line in body.splitlines()) or indent))


# ------------------------------------------------------------------ search, stats, audit


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="Words or Chinese text (substrings match: 小白, 杭州).")],
    limit: Annotated[int, typer.Option(help="How many hits.")] = 20,
    hidden: Annotated[bool, typer.Option("--hidden", help="Also search hidden system/context messages.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Full-text search over every imported message."""
    from hearth.store.queries import search as run_search

    hits = run_search(_store(), query, limit, include_hidden=hidden)
    if as_json:
        _json([h.__dict__ for h in hits])
        return
    if not hits:
        err.print(f"No message matches {query!r}.")
        raise typer.Exit(1)
    table = Table()
    for col in ("conv", "when", "role", "title", "text"):
        table.add_column(col, overflow="fold")
    for h in hits:
        table.add_row(
            str(h.conversation_id),
            _when(h.created_at),
            h.role or "",
            Text((h.title or "").strip()[:30]),
            Text(h.snippet + ("" if h.visible else "  (other branch)")),
        )
    out.print(table)


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Counts of what the store holds."""
    from hearth.store.queries import stats as run_stats

    s = run_stats(_store())
    if as_json:
        _json(s)
        return
    table = Table(show_header=False)
    for key, value in s.items():
        if key in ("first_message", "last_message"):
            value = _when(value)
        elif isinstance(value, dict):
            value = ", ".join(f"{k}: {v:,}" for k, v in list(value.items())[:10])
        elif isinstance(value, int):
            value = f"{value:,}"
        table.add_row(key.replace("_", " "), str(value))
    out.print(table)


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f}%"


@app.command()
def audit(
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole audit as JSON.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG timeline to this path.")] = None,
    limit: Annotated[int, typer.Option(help="Rows per table.")] = 20,
) -> None:
    """Which model really answered: requested vs served, per month and per conversation."""
    from hearth.audit import run_audit

    result = run_audit(_store())
    if plot and not result.total.replies:
        raise HearthError("There is nothing to plot: no replies with a recorded model yet.",
                          hint="Import an export first: hearth import PATH")  # fmt: skip
    if plot:
        from hearth.audit.plot import plot_timeline

        plot_timeline(result, plot)
    if as_json:
        _json(result.as_dict())
        return
    t = result.total
    if not t.replies:
        err.print("No replies with a recorded model yet.", "Import an export first: hearth import PATH")
        return
    out.print(
        f"[bold]{t.replies:,}[/] replies with a recorded model; {t.with_request:,} name the model that was asked for; "
        f"[bold]{t.mismatched:,}[/] ({_pct(t.share)}) were answered by another model."
    )
    months = Table(title="Per month (UTC)")
    for col in ("month", "replies", "served by", "requested", "rerouted"):
        months.add_column(col)
    for m, b in sorted(result.months.items())[-limit:]:
        months.add_row(
            m,
            str(b.replies),
            ", ".join(f"{k} {v}" for k, v in b.served.most_common(3)),
            ", ".join(f"{k} {v}" for k, v in b.requested.most_common(2)),
            _pct(b.share),
        )
    out.print(months)
    convs = Table(title="Conversations with the most reroutes")
    for col in ("id", "title", "replies", "served by", "rerouted"):
        convs.add_column(col)
    ranked = sorted(result.conversations.items(), key=lambda kv: (-kv[1].mismatched, -len(kv[1].served)))
    for cid, b in ranked[:limit]:
        if b.mismatched == 0 and len(b.served) < 2:
            break
        convs.add_row(
            str(cid),
            Text((result.titles.get(cid) or "").strip()[:40]),
            str(b.replies),
            ", ".join(f"{k} {v}" for k, v in b.served.most_common(3)),
            _pct(b.share),
        )
    if convs.row_count:
        out.print(convs)
    if result.suspects:
        sus = Table(title=f"Suspected reroutes ({len(result.suspects):,})")
        for col in ("when", "conv", "title", "why"):
            sus.add_column(col)
        for s in result.suspects[:limit]:
            sus.add_row(
                (s["time"] or "—")[:16], str(s["conversation_id"]), Text((s["title"] or "").strip()[:30]), s["reason"]
            )
        out.print(sus)
    if plot:
        out.print(f"Timeline written to {plot}")


# ------------------------------------------------------------------ export

EXPORT_FORMATS = ("hearth", "card", "openai-jsonl", "sillytavern", "preferences")


@app.command()
def export(
    format: Annotated[
        str,
        typer.Option(
            "--format", "-f", help="hearth (everything, re-importable), card, openai-jsonl, sillytavern, preferences."
        ),  # fmt: skip
    ] = "hearth",
    output: Annotated[
        Optional[Path], typer.Option("--output", "-o", help="File (hearth, openai-jsonl) or folder.")
    ] = None,
    companion: Annotated[
        Optional[str], typer.Option("--companion", "-c", help="Only this companion (slug or name).")
    ] = None,
    encrypt: Annotated[
        bool,
        typer.Option(
            "--encrypt",
            help="hearth archive only: AES-256 zip; passphrase from HEARTH_ARCHIVE_PASSPHRASE "
            "or asked. 7-Zip opens it; `hearth import` reads it with the same passphrase.",
        ),
    ] = False,  # fmt: skip
) -> None:
    """Export what hearth holds, so nothing is locked in here either.

    hearth: one archive with everything; `hearth import` on it restores a store exactly.
    card: a Character Card V3 (PNG and JSON) per companion, its memories as the lorebook.
    openai-jsonl: fine-tuning chat JSONL, one visible branch per line, system prompt from the card.
    sillytavern: one chat .jsonl per conversation that SillyTavern can open.
    preferences: DPO JSONL ({"prompt", "chosen", "rejected"}) from the replies you rated.
    """
    from hearth.store import loaders

    if format not in EXPORT_FORMATS:
        raise HearthError(f"Unknown export format {format!r}.", hint=f"Choose one of: {', '.join(EXPORT_FORMATS)}.")
    store = _store()
    only = loaders.companion_id(store, companion) if companion else None
    chosen = [c for c in loaders.companions(store) if only is None or c["id"] == only]
    if encrypt and format != "hearth":
        raise HearthError("Only the hearth archive can be encrypted.", hint="Use --format hearth, or drop --encrypt.")
    if format == "hearth":
        from hearth.store.archive import export_archive

        if companion:
            raise HearthError("The hearth archive always holds everything.", hint="Drop --companion.")
        output = output or Path(f"hearth-archive-{datetime.now(UTC):%Y%m%d}.zip")
        passphrase = None
        if encrypt:
            import os

            from hearth.formats.bundle import ARCHIVE_PASSPHRASE
            from hearth.store.encryption import check_passphrase

            passphrase = os.environ.get(ARCHIVE_PASSPHRASE) or typer.prompt(
                "Passphrase for the archive", hide_input=True, confirmation_prompt=True, err=True
            )
            check_passphrase(passphrase)
        with err.status(f"writing {output} …"):
            counts = export_archive(store, output, passphrase=passphrase)
        out.print(f"Wrote {output}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items() if n))
    elif format == "card":
        from hearth.formats.charcard import write_card_json, write_card_png

        folder = output or Path("cards")
        folder.mkdir(parents=True, exist_ok=True)
        for c in chosen:
            card, avatar = loaders.companion_card(store, c["id"])
            (folder / f"{c['slug']}.png").write_bytes(write_card_png(card, avatar))
            (folder / f"{c['slug']}.json").write_bytes(write_card_json(card))
            n = len(card.lorebook.entries) if card.lorebook else 0
            out.print(f"Wrote {folder / c['slug']}.png and .json ({n} lorebook entries)")
    elif format == "openai-jsonl":
        from hearth.companion.prompt import identity
        from hearth.formats.jsonl import write_openai_jsonl
        from hearth.persona.derive import base_persona

        output = output or Path("hearth-sft.jsonl")
        lines = 0
        with open(output, "wb") as f:
            for c in chosen:
                for line in write_openai_jsonl(loaders.conversation_records(store, c["id"]),
                                               identity(base_persona(store, c["id"]))):  # fmt: skip
                    f.write(line)
                    lines += 1
        out.print(f"Wrote {output}: {lines:,} conversations for fine-tuning")
    elif format == "preferences":
        from hearth.store.preferences import preference_pairs

        output = output or Path("hearth-preferences.jsonl")
        pairs = 0
        with open(output, "wb") as f:
            for pair in preference_pairs(store, only):
                f.write(orjson.dumps({k: pair[k] for k in ("prompt", "chosen", "rejected")}) + b"\n")
                pairs += 1
        out.print(f"Wrote {output}: {pairs:,} preference pairs (from the replies you rated)")
    else:
        from hearth.formats.sillytavern import write_sillytavern

        folder = output or Path("sillytavern-chats")
        written = 0
        for c in chosen:
            target = folder / c["slug"]
            target.mkdir(parents=True, exist_ok=True)
            for conv in loaders.conversation_records(store, c["id"]):
                if not any(m.visible and m.role in ("user", "assistant") for m in conv.messages):
                    continue
                name = _safe_filename((conv.title or "chat").removesuffix(".jsonl"))
                path = target / f"{name}.jsonl"
                if path.exists():
                    path = target / f"{name} ({written + 1}).jsonl"
                path.write_bytes(write_sillytavern(conv, "User", c["name"]))
                written += 1
        out.print(f"Wrote {written:,} chats under {folder}/")


def _safe_filename(name: str) -> str:
    cleaned = "".join(ch if ch.isalnum() or ch in " -_.@" else "_" for ch in name).strip(" .")
    return cleaned[:120] or "chat"


@app.command("companions")
def companions_list(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List companions (from character cards and from the chats they appear in)."""
    from hearth.store.loaders import companions

    rows = companions(_store())
    if as_json:
        _json(rows)
        return
    table = Table()
    for col in ("slug", "name", "card", "conversations", "memories"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["slug"], Text(r["name"]), r["spec"] or "—", str(r["conversations"]), str(r["memories"]))
    out.print(table)


# ------------------------------------------------------------------ entry point


def main() -> None:
    """Run the CLI; a person's mistake gets one sentence and a hint, a bug a traceback with --debug."""
    debug = "--debug" in sys.argv
    try:
        app()
    except HearthError as exc:
        err.print(Text(f"Error: {exc.message}", style="bold red"))
        if exc.hint:
            err.print(Text(f"Hint: {exc.hint}"))
        if debug:
            traceback.print_exc()
        sys.exit(1)
    except Exception:
        if debug:
            raise
        err.print(Text(f"Unexpected error: {sys.exc_info()[1]!r}", style="bold red"))
        err.print("This is a bug in hearth. Run again with --debug for the full traceback and report it.")
        sys.exit(2)


# Sub-command groups register themselves on `app` when imported.
from hearth.cli import backends as _backends  # noqa: E402, F401
from hearth.cli import chat as _chat  # noqa: E402, F401
from hearth.cli import db as _db  # noqa: E402, F401
from hearth.cli import drill as _drill  # noqa: E402, F401
from hearth.cli import guard as _guard  # noqa: E402, F401
from hearth.cli import mcp_cmd as _mcp  # noqa: E402, F401
from hearth.cli import memory as _memory  # noqa: E402, F401
from hearth.cli import persona as _persona  # noqa: E402, F401
from hearth.cli import profile as _profile  # noqa: E402, F401
from hearth.cli import serve as _serve  # noqa: E402, F401
from hearth.cli import users as _users  # noqa: E402, F401
