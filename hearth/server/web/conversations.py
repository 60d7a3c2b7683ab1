"""The conversation browser: every conversation, full-text search (Chinese included), and one
conversation along a branch — the visible one by default, any other by picking an alternative at
a point where the history forks — each reply with the model asked for and the model that answered."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, answered_by, int_or_none, render
from hearth.store import chat
from hearth.store.queries import get_conversation, list_conversations, search

router = APIRouter(route_class=WebRoute)
PAGE = 50
MAX_LEVEL = 8


def branch_path(rows: list[dict[str, Any]], at: int | None = None) -> list[dict[str, Any]]:
    """The branch through message `at` (root to leaf): its ancestors, then downwards the visible
    child where there is one, else the newest alternative. Without `at`, the visible branch."""
    by_id = {r["id"]: r for r in rows}
    children: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        children[r["parent_id"] if r["parent_id"] in by_id else None].append(r)
    for kids in children.values():
        kids.sort(key=lambda r: r["sibling_index"])

    def pick(kids: list[dict[str, Any]]) -> dict[str, Any] | None:
        return next((k for k in kids if k["visible"]), kids[-1] if kids else None)

    path: list[dict[str, Any]] = []
    node = by_id.get(at) if at is not None else None
    if node is None:
        node = pick(children[None])
    else:
        up, seen = by_id.get(node["parent_id"]), {node["id"]}
        while up is not None and up["id"] not in seen:
            seen.add(up["id"])
            path.insert(0, up)
            up = by_id.get(up["parent_id"])
    seen = {r["id"] for r in path}
    while node is not None and node["id"] not in seen:
        seen.add(node["id"])
        path.append(node)
        node = pick(children[node["id"]])
    for r in path:
        kids = children[r["parent_id"] if r["parent_id"] in by_id else None]
        r["alternatives"] = [k["id"] for k in kids]
    return path


def branch_levels(rows: list[dict[str, Any]]) -> None:
    """For the all-branches view: how many forks lie above each message (its indentation)."""
    counts: dict[int | None, int] = defaultdict(int)
    for r in rows:
        counts[r["parent_id"]] += 1
    level: dict[int, int] = {}
    for r in rows:  # parents come before children
        above = level.get(r["parent_id"], 0) if r["parent_id"] is not None else 0
        level[r["id"]] = above + (1 if counts[r["parent_id"]] > 1 else 0)
        r["level"] = min(MAX_LEVEL, level[r["id"]])


def _shown(r: dict[str, Any]) -> bool:
    return bool(r["role"]) and not r["hidden"] and bool(r["text"])


def _with_lines(store: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        if not _shown(r):
            continue
        if r["role"] == "assistant":
            meta = chat.message_meta(store, r["id"]) if r["status"] in ("done", "length", "interrupted") else {}
            r["answered"] = answered_by(r["requested_model"], r["served_model"], r["status"], meta)
        out.append(r)
    return out


@router.get("/conversations")
def conversations_page(request: Request, q: str = "", page: str = "1") -> Response:
    store = hub_of(request).store
    if q.strip():
        hits = search(store, q.strip(), limit=50)
        return render(request, "conversations.html", title="Conversations", q=q, hits=hits, rows=[], page=1,
                      more=False)  # fmt: skip
    number = max(1, int_or_none(page) or 1)
    rows = list_conversations(store, limit=PAGE + 1, offset=(number - 1) * PAGE)
    return render(request, "conversations.html", title="Conversations", q="", hits=None, rows=rows[:PAGE],
                  page=number, more=len(rows) > PAGE)  # fmt: skip


@router.get("/conversations/{conversation_id}")
def conversation_page(request: Request, conversation_id: int, at: str | None = None, all: str = "") -> Response:
    store = hub_of(request).store
    conv, rows = get_conversation(store, conversation_id)
    if all:
        branch_levels(rows)
        shown = _with_lines(store, rows)
    else:
        shown = _with_lines(store, branch_path(rows, int_or_none(at)))
    forks = sum(1 for r in rows if r["sibling_index"] and r["sibling_index"] > 0)
    return render(request, "conversation.html", title=(conv.get("title") or "").strip() or f"Conversation {conv['id']}",
                  conv=conv, messages=shown, all=bool(all), forks=forks, at=int_or_none(at))  # fmt: skip
