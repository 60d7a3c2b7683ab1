"""`hearth chat`: talk with the companion in the terminal, on any backend, with every reply's
real model shown underneath it."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _store, app, err, out
from hearth.cli.persona import CompanionOpt, companion
from hearth.errors import HearthError

HELP = """Commands:
  /switch NAME   speak through another backend (see `hearth backends list`)
  /warmth N      warmth 0-100 for this chat (0 reserved … 100 affectionate)
  /memory [Q]    what the companion remembers (about Q, or pinned)
  /why           what went into the prompt of the last reply
  /good, /bad [why]   thumbs up or down on the last reply (kept as your preference)
  /again         answer the last message again (the earlier reply stays as a branch)
  /choose [N]    list the answers to the last message, or keep answer N (your choice is remembered)
  /new           start a new conversation
  /help          this list
  /quit          leave (Ctrl-D works too)"""


def _answered_line(r) -> Text:
    if r.result is None:
        return Text(f"(no reply: {r.error.message})" if r.error else "(no reply)", style="bold red")
    v = r.result.verification
    line = f"answered by {r.served_model} via {r.backend}"
    if r.served_model != r.requested_model:
        line += f" (you asked for {r.requested_model})"
    line += f" · {v.status}"
    if r.flagged:
        return Text(f"⚠ {line} — {r.flagged}", style="bold yellow")
    return Text(line, style="dim")


def _turn(comp, conv: int, text: str, seed: int | None) -> None:
    r = comp.turn(conv, text, on_delta=lambda d: out.print(d, end="", markup=False, highlight=False), seed=seed)
    if r.text:
        out.print()
    if r.error is not None:
        err.print(Text(f"Error: {r.error.message}", style="bold red"))
        if r.error.hint:
            err.print(Text(f"Hint: {r.error.hint}"))
        err.print("Your message is saved in the conversation; send it again or /switch to another backend.")
    out.print(_answered_line(r))


def _learned(comp) -> None:
    """After a rating or a choice: refresh the persona's notes from the ratings, and say so when they change."""
    from hearth.persona.feedback import update_persona

    notes = update_persona(comp.store, comp.companion_id)
    if notes is not None:
        out.print(Text("Learned from your ratings: " + (notes or "(nothing clear yet)"), style="dim"))


def _choose(comp, arg: str) -> None:
    from hearth.store import chat

    last = comp.last
    if last is None or last.reply_message_id is None:
        out.print("There is no answer to choose yet.")
        return
    options = chat.answers(comp.store, last.reply_message_id)
    if len(options) < 2:
        out.print("There is only one answer to the last message; /again asks for another.")
        return
    if not arg:
        for n, o in enumerate(options, 1):
            flat = " ".join((o["text"] or "").split())
            mark = "→" if o["visible"] else " "
            out.print(Text(f"{mark} {n}. {flat[:200]}" + (f"  [{o['served_model']}]" if o["served_model"] else "")))
        out.print(Text("/choose N keeps answer N; the others stay as hidden branches.", style="dim"))
        return
    if not arg.isdigit() or not 1 <= int(arg) <= len(options):
        out.print(f"Choose a number from 1 to {len(options)}.")
        return
    chosen = options[int(arg) - 1]["id"]
    chat.choose(comp.store, chosen)
    last.reply_message_id = chosen
    last.text = options[int(arg) - 1]["text"] or ""
    out.print(f"Kept answer {arg}; the conversation goes on from it.")
    _learned(comp)


def _why(comp) -> None:
    last = comp.last
    if last is None or last.prompt is None:
        out.print("No reply yet in this session.")
        return
    table = Table("part", "tokens", "in prompt", "detail")
    for p in last.prompt.parts:
        table.add_row(p.name, str(p.tokens), "yes" if p.included else "no", p.detail)
    out.print(table)
    for h in last.prompt.memories:
        why = "pinned" if h.why.get("pinned") else ", ".join(k for k in ("lexical", "vector") if k in h.why)
        out.print(Text(f"  {h.kind} #{h.id} ({why}): {' '.join(h.text.split())[:140]}"))


def _memory(comp, query: str) -> None:
    from hearth.memory.retrieve import retrieve
    from hearth.store.memories import pinned_memories

    if not query:
        pinned = pinned_memories(comp.store, comp.companion_id)
        out.print("Pinned:" if pinned else "Nothing pinned. `/memory WORDS` searches what is remembered.")
        for m in pinned:
            out.print(Text(f"  #{m.id} {m.text}"))
        return
    for h in retrieve(comp.store, query, budget_tokens=600, companion_id=comp.companion_id, limit=10):
        out.print(Text(f"  {h.kind} #{h.id}: {' '.join(h.text.split())[:160]}"))


def chat_path(comp, last):
    from hearth.store import chat

    return chat.visible_path(comp.store, last.conversation_id)


def _command(comp, line: str, state: dict) -> bool:
    """Run a /command; False means leave."""
    from hearth.backends.registry import get_backend
    from hearth.persona.warmth import clamp

    name, _, arg = line[1:].partition(" ")
    arg = arg.strip()
    if name in ("quit", "exit", "q"):
        return False
    if name == "help":
        out.print(HELP)
    elif name == "switch":
        if not arg:
            out.print(f"Speaking through {comp.backend.name} ({comp.backend.requested_model}).")
        else:
            comp.backend = get_backend(arg)
            out.print(f"Now speaking through {comp.backend.name} ({comp.backend.requested_model}).")
    elif name == "warmth":
        try:
            comp.warmth = clamp(arg)
        except ValueError as exc:
            raise HearthError(str(exc)) from None
        out.print(f"Warmth {comp.warmth} for this chat.")
    elif name == "why":
        _why(comp)
    elif name == "memory":
        _memory(comp, arg)
    elif name in ("good", "bad"):
        from hearth.store import chat

        last = comp.last
        if last is None or last.reply_message_id is None:
            out.print("There is no reply to rate yet.")
        else:
            chat.rate(comp.store, last.reply_message_id, 1 if name == "good" else -1, arg or None)
            out.print("Noted: 👍" if name == "good" else "Noted: 👎")
            _learned(comp)
    elif name == "choose":
        _choose(comp, arg)
    elif name == "again":
        last = comp.last
        if last is None:
            out.print("Nothing to answer again yet.")
        else:
            text = next((t.text for t in reversed(chat_path(comp, last)) if t.id == last.user_message_id), "")
            r = comp.reply_to(last.conversation_id, last.user_message_id, text,
                              on_delta=lambda d: out.print(d, end="", markup=False, highlight=False))  # fmt: skip
            out.print()
            out.print(_answered_line(r))
    elif name == "new":
        state["conv"] = comp.new_conversation()
        out.print(f"New conversation {state['conv']}.")
    else:
        out.print(f"Unknown command /{name}. /help lists them.")
    return True


@app.command("chat")
def chat_cmd(
    companion_name: CompanionOpt = None,
    backend: Annotated[
        Optional[str], typer.Option("--backend", "-b", help="A backend from the config file (default: embedded).")
    ] = None,
    fallback: Annotated[
        Optional[list[str]], typer.Option("--fallback", help="Backend to try if the first fails (marked when used).")
    ] = None,
    warmth: Annotated[Optional[int], typer.Option("--warmth", help="0-100 for this chat (default: persona's).")] = None,
    continue_: Annotated[
        Optional[int], typer.Option("--continue", help="Continue this conversation id (imported or not).")
    ] = None,
    new: Annotated[bool, typer.Option("--new", help="Start a new conversation instead of the latest one.")] = False,
    once: Annotated[Optional[str], typer.Option("--once", help="Send one message, print the reply, exit.")] = None,
    seed: Annotated[Optional[int], typer.Option("--seed", help="Sampling seed, for repeatable replies.")] = None,
    background_embed: Annotated[
        bool,
        typer.Option(
            "--embed/--no-embed",
            help="While you type, embed history and memories that lack vectors, "
            "so replies recall by meaning as well as by words (one core, paused during replies).",
        ),
    ] = True,
) -> None:
    """Talk with your companion. Works offline on the embedded model; every reply shows which model answered."""
    from hearth.backends.registry import get_backend
    from hearth.companion.turn import Companion
    from hearth.memory.background import Backfill
    from hearth.memory.embed import default_embedder
    from hearth.persona.warmth import clamp
    from hearth.store import chat

    store = _store()
    cid = companion(store, companion_name)
    if continue_ is not None and chat.conversation_companion(store, continue_) != cid and companion_name is None:
        cid = chat.conversation_companion(store, continue_)
    comp = Companion(
        store, cid, get_backend(backend), fallbacks=[get_backend(f) for f in fallback or []],
        warmth=clamp(warmth) if warmth is not None else None, embedder=default_embedder(),
    )  # fmt: skip
    conv = continue_ if continue_ is not None else None
    if conv is None and not new and once is None:
        conv = chat.latest_conversation(store, cid, native_only=True)
    if conv is None:
        conv = comp.new_conversation()
    if once is not None:
        _turn(comp, conv, once, seed)
        if comp.last is not None and comp.last.result is None:
            raise typer.Exit(1)
        return
    comp.backfill = Backfill(store).start() if background_embed else None
    try:
        _talk(comp, conv, seed)
    finally:
        if comp.backfill is not None:
            comp.backfill.stop()


def _talk(comp, conv: int, seed: int | None) -> None:
    """The interactive loop (or lines from a pipe) until /quit, Ctrl-D or Ctrl-C."""
    interactive = sys.stdin.isatty()
    persona = comp.persona
    if interactive:
        out.print(Text(f"{persona.name} · conversation {conv} · {comp.backend.name} ({comp.backend.requested_model})"
                       " · /help for commands", style="dim"))  # fmt: skip
    state = {"conv": conv}
    while True:
        try:
            line = input("you> " if interactive else "")
        except EOFError:
            break
        except KeyboardInterrupt:
            out.print()
            break
        line = line.strip()
        if not line:
            continue
        if line.startswith("/"):
            try:
                if not _command(comp, line, state):
                    break
            except HearthError as exc:
                err.print(Text(f"Error: {exc.message}", style="bold red"))
                if exc.hint:
                    err.print(Text(f"Hint: {exc.hint}"))
            continue
        if interactive:
            out.print(Text(f"{persona.name}> ", style="bold"), end="")
        _turn(comp, state["conv"], line, seed)
