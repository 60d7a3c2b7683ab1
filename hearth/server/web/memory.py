"""The memory page: everything hearth remembers, searchable (hearth's own retrieval, so the page
shows what a companion would recall), editable, pinnable and forgettable, each memory with links to
the messages it came from. The person can see and correct everything hearth knows."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response

from hearth.errors import HearthError, NotFound
from hearth.memory.retrieve import retrieve
from hearth.records import MEMORY_KINDS as KINDS
from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, int_or_none, pick_companion, render, require_csrf
from hearth.server.web.login import safe_next
from hearth.store.memories import add_memory, forget_memory, get_memory, list_memories, provenance, update_memory

router = APIRouter(route_class=WebRoute)
"""The kinds `hearth memory` knows (as in hearth.cli.memory)."""
SEARCH_BUDGET = 6000
LIST_LIMIT = 200


def _search(store: Any, q: str, companion_id: int | None) -> tuple[list[Any], list[Any]]:
    """Memories and past messages for `q`, best first, as retrieval ranks them (lexical: fast on
    any machine; vectors join in when the person ran `hearth memory embed`)."""
    hits = retrieve(store, q, budget_tokens=SEARCH_BUDGET, companion_id=companion_id, limit=100)
    order = [h.id for h in hits if h.kind == "memory"]
    rows = {m.id: m for m in list_memories(store, ids=order, limit=None)} if order else {}
    return [rows[i] for i in order if i in rows], [h for h in hits if h.kind == "message"]


@router.get("/memory")
def memory_page(request: Request, companion: str = "", kind: str = "", q: str = "", all: str = "",
                forgot: str = "") -> Response:  # fmt: skip
    hub = hub_of(request)
    companions, _ = pick_companion(hub, None)
    cid = int_or_none(companion)
    kind = kind if kind in KINDS else ""
    messages: list[Any] = []
    if q.strip():
        memories, messages = _search(hub.store, q.strip(), cid)
        memories = [m for m in memories if not kind or m.kind == kind]
    else:
        memories = list_memories(hub.store, companion_id=cid, kind=kind or None, include_superseded=bool(all),
                                 limit=LIST_LIMIT)  # fmt: skip
    names = {c["id"]: c["name"] for c in companions}
    return render(request, "memory.html", title="Memory", memories=memories, messages=messages, q=q, kind=kind,
                  kinds=KINDS, companions=companions, cid=cid, names=names, all=bool(all),
                  forgot=int_or_none(forgot), back=str(request.url.path) + ("?" + request.url.query if request.url.query
                                                                             else ""))  # fmt: skip


@router.get("/memory/{memory_id}")
def memory_detail(request: Request, memory_id: int, saved: str = "") -> Response:
    store = hub_of(request).store
    m = get_memory(store, memory_id)
    return render(request, "memory_edit.html", title=f"Memory {m.id}", m=m, kinds=KINDS,
                  sources=provenance(store, memory_id), saved=bool(saved))  # fmt: skip


@router.post("/memory/{memory_id}", dependencies=[Depends(require_csrf)])
def memory_save(
    request: Request, memory_id: int, text: str = Form(...), kind: str = Form("fact"), importance: str = Form("")
) -> Response:
    if not text.strip():
        raise HearthError("A memory cannot be empty.", hint="To remove it, use Forget.")
    try:
        level = float(importance) if importance.strip() else None
    except ValueError:
        raise HearthError("Importance must be a number from 0 to 1.") from None
    update_memory(hub_of(request).store, memory_id, text=text.strip(), kind=kind if kind in KINDS else None,
                  importance=level)  # fmt: skip
    return RedirectResponse(f"/memory/{memory_id}?saved=1", 303)


@router.post("/memory/{memory_id}/pin", dependencies=[Depends(require_csrf)])
def memory_pin(request: Request, memory_id: int, pinned: str = Form("1"), back: str = Form("/memory")) -> Response:
    update_memory(hub_of(request).store, memory_id, pinned=pinned == "1")
    return RedirectResponse(safe_next(back), 303)


@router.get("/memory/{memory_id}/forget")
def memory_forget_confirm(request: Request, memory_id: int) -> Response:
    m = get_memory(hub_of(request).store, memory_id)
    return render(request, "memory_forget.html", title="Forget a memory", m=m)


@router.post("/memory/{memory_id}/forget", dependencies=[Depends(require_csrf)])
async def memory_forget(request: Request, memory_id: int) -> Response:
    await run_in_threadpool(forget_memory, hub_of(request).store, memory_id)
    return RedirectResponse(f"/memory?forgot={memory_id}", 303)


@router.get("/memory/{memory_id}/from/{message_id}")
def memory_source(request: Request, memory_id: int, message_id: int) -> Response:
    """A source message of a memory, opened in its conversation at that message."""
    for p in provenance(hub_of(request).store, memory_id):
        if p["id"] == message_id:
            return RedirectResponse(f"/conversations/{p['conversation_id']}?at={message_id}#m{message_id}", 303)
    raise NotFound(f"Memory {memory_id} does not come from message {message_id}.")


@router.post("/memory", dependencies=[Depends(require_csrf)])
def memory_add(
    request: Request, text: str = Form(...), kind: str = Form("fact"), companion: str = Form(""), pin: str = Form("")
) -> Response:
    if not text.strip():
        raise HearthError("There is nothing to remember.", hint="Write the memory in your own words.")
    mid = add_memory(hub_of(request).store, text.strip(), kind=kind if kind in KINDS else "fact",
                     companion_id=int_or_none(companion), importance=0.7, pinned=bool(pin),
                     source="added by you")  # fmt: skip
    return RedirectResponse(f"/memory/{mid}?saved=1", 303)
