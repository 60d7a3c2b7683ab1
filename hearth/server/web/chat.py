"""The chat page: pick a companion and a conversation, send, watch the reply stream in, and see
under every reply which model answered (highlighted when it is not the one asked for, or cannot be
verified). The turn itself is the companion's (`hearth.companion.turn`), run in a worker thread the
way the OpenAI-compatible proxy runs it (`openai_api._Run`); this module only translates."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from hearth.companion.reconcile import Plan
from hearth.errors import HearthError, NotFound
from hearth.persona.derive import base_persona
from hearth.persona.warmth import clamp
from hearth.server.hub import hub_of
from hearth.server.openai_api import _Run
from hearth.server.web.common import (
    WebRoute,
    answered_by,
    from_turn,
    int_or_none,
    pick_companion,
    render,
    require_csrf,
    warmth_bands,
)
from hearth.store import chat
from hearth.store.queries import get_conversation, list_conversations

router = APIRouter(route_class=WebRoute)
SHOWN_TURNS = 200
"""A chat page shows the newest turns; the whole conversation is on its conversation page."""
TITLE_CHARS = 60


def _title(text: str) -> str:
    first = " ".join(text.strip().split("\n", 1)[0].split())
    return first if len(first) <= TITLE_CHARS else first[: TITLE_CHARS - 1] + "…"


def turns_for(store: Any, conversation_id: int, limit: int = SHOWN_TURNS) -> list[dict[str, Any]]:
    """The visible branch's newest turns, each reply with its "answered by" line."""
    out = []
    turns = [t for t in chat.visible_path(store, conversation_id, limit) if t.role in ("user", "assistant")]
    details = chat.reply_details(store, [t.id for t in turns if t.role == "assistant"])
    for t in turns:
        line = None
        if t.role == "assistant":
            line = answered_by(t.requested_model, t.served_model, t.status, chat.message_meta(store, t.id))
        out.append({"turn": t, "answered": line, "detail": details.get(t.id)})
    return out


def _conversation_choices(store: Any, companion_id: int, current: int | None) -> list[tuple[int, str]]:
    """The companion's recent chats (and the open one, imported or not) as (id, label)."""
    ids = chat.recent_conversations(store, companion_id, 30)
    titles = {r.id: r.title for r in list_conversations(store, limit=500)}
    if current is not None and current not in ids:
        ids = [current, *ids]
        if current not in titles:
            titles[current] = get_conversation(store, current)[0].get("title")
    return [(i, (titles.get(i) or "").strip() or f"conversation {i}") for i in ids]


@router.get("/chat")
def chat_page(request: Request, companion: str | None = None, conversation: str | None = None) -> Response:
    hub = hub_of(request)
    store = hub.store
    conv_id = int_or_none(conversation)
    wanted = chat.conversation_companion(store, conv_id) if conv_id is not None else int_or_none(companion)
    companions, cid = pick_companion(hub, wanted)
    if cid is None:
        return render(request, "chat.html", title="Chat", companions=[], cid=None, turns=[], choices=[],
                      conversation=None, warmth=60, bands=warmth_bands(), persona=None)  # fmt: skip
    persona = base_persona(store, cid)  # not hub.companion(): showing a page must not need a working backend
    return render(
        request, "chat.html", title="Chat", companions=companions, cid=cid, conversation=conv_id,
        choices=_conversation_choices(store, cid, conv_id), persona=persona,
        turns=turns_for(store, conv_id) if conv_id is not None else [], warmth=persona.warmth, bands=warmth_bands(),
    )  # fmt: skip


def _start(hub: Any, companion_id: int, conversation_id: int | None, text: str, warmth: Any) -> _Run:
    """A turn ready to run: in the given conversation (whose companion wins), else a new one."""
    text = text.strip()
    if not text:
        raise HearthError("There is nothing to send.", hint="Write a message first.")
    if conversation_id is not None:
        companion_id = chat.conversation_companion(hub.store, conversation_id)
    elif companion_id not in {c["id"] for c in hub.companions()}:
        raise NotFound(f"There is no companion {companion_id}.", hint="Pick one from the list.")
    else:
        conversation_id = hub.companion(companion_id).new_conversation(_title(text))
    try:
        level = clamp(warmth) if warmth not in (None, "") else None
    except ValueError:
        level = None
    return _Run(hub, companion_id, Plan(conversation_id, text, None), {"seed": None, "warmth": level,
                                                                        "max_tokens": None})  # fmt: skip


@router.post("/chat", dependencies=[Depends(require_csrf)])
async def send_form(
    request: Request,
    text: str = Form(""),
    companion: str = Form(""),
    conversation: str = Form(""),
    warmth: str = Form(""),
) -> Response:
    """Without JavaScript: run the turn, then show the conversation (the reply and its line)."""
    hub = hub_of(request)
    cid = int_or_none(companion)
    if cid is None:
        raise HearthError("Pick a companion first.", hint="Import a history or a character card to have one.")
    run = _start(hub, cid, int_or_none(conversation), text, warmth)
    result = await run_in_threadpool(run.execute)
    anchor = f"#m{result.reply_message_id}" if result.reply_message_id else ""
    return RedirectResponse(f"/chat?conversation={result.conversation_id}{anchor}", 303)


def _event(name: str, data: dict[str, Any]) -> str:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _events(run: _Run) -> Iterator[str]:
    """start → delta… → done (or error): the reply as it is written, then who wrote it."""
    yield _event("start", {"conversation_id": run.plan.conversation_id})
    run.start()
    while (text := run.deltas.get()) is not None:
        yield _event("delta", {"text": text})
    r = run.result
    line = from_turn(r)
    if r.result is None and not r.text:
        message = r.error.message if r.error else "The reply failed."
        yield _event("error", {"message": f"{message} Your message is saved.", "conversation_id": r.conversation_id,
                               "answered": vars(line)})  # fmt: skip
        return
    yield _event("done", {"conversation_id": r.conversation_id, "message_id": r.reply_message_id,
                          "user_message_id": r.user_message_id, "answered": vars(line)})  # fmt: skip


@router.post("/ui/chat/stream", dependencies=[Depends(require_csrf)])
async def stream(request: Request) -> Response:
    """Server-sent events over a POST (read with fetch + ReadableStream): a message must not travel
    in a URL, and EventSource can only GET."""
    try:
        body = await request.json()
    except (ValueError, UnicodeDecodeError):
        raise HearthError("The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise HearthError("The request body must be a JSON object.")
    hub = hub_of(request)
    conv = int_or_none(body.get("conversation"))
    cid = int_or_none(body.get("companion"))
    if cid is None and conv is None:
        raise HearthError("Pick a companion first.")
    run = await run_in_threadpool(_start, hub, cid or 0, conv, str(body.get("text") or ""), body.get("warmth"))
    return StreamingResponse(_events(run), media_type="text/event-stream",
                             headers={"cache-control": "no-cache", "x-accel-buffering": "no"})  # fmt: skip


def _message_id(value: str) -> int:
    mid = int_or_none(value)
    if mid is None:
        raise HearthError("Which reply? The form did not say.", hint="Reload the page and try again.")
    return mid


def _learn(store: Any, message_id: int) -> int:
    """After a rating or a choice: refresh the persona's notes from the ratings; returns the conversation."""
    from hearth.persona.feedback import update_persona

    conv = chat.conversation_of(store, message_id)
    update_persona(store, chat.conversation_companion(store, conv))
    return conv


@router.post("/chat/rate", dependencies=[Depends(require_csrf)])
async def rate_form(
    request: Request, message: str = Form(""), rating: str = Form(""), note: str = Form("")
) -> Response:
    """Thumbs up or down on a reply: kept as the person's preference, and taught to the persona."""
    store = hub_of(request).store
    mid = _message_id(message)
    if rating not in ("up", "down"):
        raise HearthError("A rating is up or down.")
    await run_in_threadpool(chat.rate, store, mid, 1 if rating == "up" else -1, note.strip()[:500] or None)
    conv = await run_in_threadpool(_learn, store, mid)
    return RedirectResponse(f"/chat?conversation={conv}#m{mid}", 303)


@router.post("/chat/again", dependencies=[Depends(require_csrf)])
async def again_form(request: Request, message: str = Form(""), warmth: str = Form("")) -> Response:
    """Answer the same message again; the earlier answer stays as a branch to choose between."""
    hub = hub_of(request)
    asked = await run_in_threadpool(chat.question_of, hub.store, _message_id(message))
    conv = chat.conversation_of(hub.store, asked.id)
    run = _Run(hub, chat.conversation_companion(hub.store, conv), Plan(conv, asked.text, asked.id),
               {"seed": None, "warmth": int_or_none(warmth), "max_tokens": None})  # fmt: skip
    result = await run_in_threadpool(run.execute)
    anchor = f"#m{result.reply_message_id}" if result.reply_message_id else ""
    return RedirectResponse(f"/chat?conversation={conv}{anchor}", 303)


@router.get("/chat/answers/{message_id}")
def answers_page(request: Request, message_id: int) -> Response:
    """Every answer to one message, side by side, to keep the one that sounds like them."""
    store = hub_of(request).store
    asked = chat.question_of(store, message_id)
    options = chat.answers(store, message_id)
    details = chat.reply_details(store, [o["id"] for o in options])
    conv = chat.conversation_of(store, message_id)
    return render(request, "answers.html", title="Choose an answer", asked=asked, options=options, details=details,
                  conversation=conv)  # fmt: skip


@router.post("/chat/choose", dependencies=[Depends(require_csrf)])
async def choose_form(request: Request, message: str = Form("")) -> Response:
    """Keep this answer on the conversation's visible branch; the choice is remembered as a preference."""
    store = hub_of(request).store
    mid = _message_id(message)
    await run_in_threadpool(chat.choose, store, mid)
    conv = await run_in_threadpool(_learn, store, mid)
    return RedirectResponse(f"/chat?conversation={conv}#m{mid}", 303)
