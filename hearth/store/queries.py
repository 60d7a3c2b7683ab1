"""Read-side queries: conversation lists, one conversation's tree, search, stats, audit rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hearth.errors import NotFound
from hearth.store import Store, lexical
from hearth.store import schema as s
from hearth.store.tokens import match_all, normalise, query_terms

C, M = s.conversations.c, s.messages.c


@dataclass
class ConversationRow:
    id: int
    title: str | None
    created_at: float | None
    updated_at: float | None
    source_format: str
    source_id: str
    default_model: str | None
    messages: int
    branches: int


def list_conversations(store: Store, limit: int = 50, offset: int = 0) -> list[ConversationRow]:
    """Newest first, with the number of real messages and of leaves (branches)."""
    child = sa.alias(s.messages)
    n_msgs = sa.select(sa.func.count()).where(M.conversation_id == C.id, M.role.is_not(None)).scalar_subquery()
    n_leaves = (
        sa.select(sa.func.count())
        .where(
            M.conversation_id == C.id,
            M.role.is_not(None),
            ~sa.exists().where(child.c.parent_id == M.id),
        )
        .scalar_subquery()
    )
    q = (
        sa.select(
            C.id, C.title, C.created_at, C.updated_at, C.source_format, C.source_id, C.default_model, n_msgs, n_leaves
        )
        .order_by(C.created_at.desc().nulls_last(), C.id.desc())
        .limit(limit)
        .offset(offset)
    )
    with store.engine.connect() as conn:
        return [ConversationRow(*row) for row in conn.execute(q)]


def get_conversation(store: Store, conversation_id: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The conversation and all its messages in parent-before-child, sibling order."""
    with store.engine.connect() as conn:
        conv = conn.execute(sa.select(s.conversations).where(C.id == conversation_id)).mappings().first()
        if conv is None:
            raise NotFound(
                f"There is no conversation {conversation_id}.", hint="`hearth conversations list` shows the ids."
            )
        rows = (
            conn.execute(
                sa.select(
                    M.id,
                    M.parent_id,
                    M.sibling_index,
                    M.visible,
                    M.hidden,
                    M.role,
                    M.author_name,
                    M.content_type,
                    M.text,
                    M.created_at,
                    M.requested_model,
                    M.served_model,
                    M.status,
                    M.recipient,
                    M.source_id,
                ).where(M.conversation_id == conversation_id)
            )
            .mappings()
            .all()
        )
    children: dict[int | None, list[dict]] = {}
    for r in rows:
        children.setdefault(r["parent_id"], []).append(dict(r))
    ordered: list[dict[str, Any]] = []
    stack = [(r, 0) for r in sorted(children.get(None, []), key=lambda r: r["sibling_index"], reverse=True)]
    while stack:
        row, depth = stack.pop()
        row["depth"] = depth
        ordered.append(row)
        kids = sorted(children.get(row["id"], []), key=lambda r: r["sibling_index"], reverse=True)
        stack.extend((k, depth + 1) for k in kids)
    return dict(conv), ordered


@dataclass
class SearchHit:
    message_id: int
    conversation_id: int
    title: str | None
    role: str | None
    created_at: float | None
    snippet: str
    visible: bool


def snippet(text: str, query: str, width: int = 80) -> str:
    """A window of `text` around the first query term, on one line."""
    flat = " ".join(text.split())
    folded = normalise(flat)
    pos = -1
    for _, tokens in query_terms(query):
        needle = tokens[0] if len(tokens) == 1 else tokens[0][0] + "".join(t[-1] for t in tokens[1:])
        pos = folded.find(needle)
        if pos >= 0:
            break
    start = max(0, pos - width // 3) if pos >= 0 else 0
    out = flat[start : start + width]
    return ("…" if start > 0 else "") + out + ("…" if start + width < len(flat) else "")


def search(store: Store, query: str, limit: int = 20, include_hidden: bool = False) -> list[SearchHit]:
    """Full-text search over every message (Chinese substrings included), best matches first."""
    with store.engine.connect() as conn:
        match = match_all(query, lexical.syntax(conn))
        if match is None:
            return []
        sql = sa.text(
            f"""SELECT m.id, m.conversation_id, c.title, m.role, m.created_at, m.text, m.visible
            FROM ({lexical.ranked(conn, lexical.MESSAGES)}) f JOIN messages m ON m.id = f.rowid
            JOIN conversations c ON c.id = m.conversation_id
            {"" if include_hidden else "WHERE NOT m.hidden"} ORDER BY f.score LIMIT :limit"""
        )
        rows = conn.execute(sql, {"q": match, "n": max(limit * 20, 200), "limit": limit}).all()
    return [SearchHit(r[0], r[1], r[2], r[3], r[4], snippet(r[5], query), bool(r[6])) for r in rows]


def stats(store: Store) -> dict[str, Any]:
    """Counts a person can check against their export."""
    with store.engine.connect() as conn:
        one = lambda q: conn.execute(q).scalar_one()  # noqa: E731
        count = sa.func.count()
        out = {
            "companions": one(sa.select(count).select_from(s.companions)),
            "conversations": one(sa.select(count).select_from(s.conversations)),
            "messages": one(sa.select(count).select_from(s.messages).where(M.role.is_not(None))),
            "visible_messages": one(
                sa.select(count).select_from(s.messages).where(M.role.is_not(None), M.visible, ~M.hidden)
            ),
            "tree_nodes": one(sa.select(count).select_from(s.messages)),
            "branch_points": one(sa.select(sa.func.count(sa.distinct(M.parent_id))).where(M.sibling_index > 0)),
            "attachments": one(sa.select(count).select_from(s.attachments)),
            "files": one(sa.select(count).select_from(s.blobs)),
            "feedback": one(sa.select(count).select_from(s.feedback)),
            "imports": one(sa.select(count).select_from(s.imports)),
            "first_message": one(sa.select(sa.func.min(M.created_at))),
            "last_message": one(sa.select(sa.func.max(M.created_at))),
        }
        out["by_role"] = dict(conn.execute(sa.select(M.role, count).where(M.role.is_not(None)).group_by(M.role)).all())
        out["by_served_model"] = dict(
            conn.execute(
                sa.select(M.served_model, count)
                .where(M.role == "assistant", M.served_model.is_not(None))
                .group_by(M.served_model)
                .order_by(count.desc())
            ).all()
        )
    return out


def reply_rows(store: Store) -> Iterator[tuple]:
    """Every assistant reply with a known served model, oldest first, for the routing audit:
    (message id, conversation id, title, created_at, requested, served, conversation default)."""
    q = (
        sa.select(
            M.id,
            M.conversation_id,
            C.title,
            sa.func.coalesce(M.created_at, C.created_at),
            M.requested_model,
            M.served_model,
            C.default_model,
        )
        .join(s.conversations, C.id == M.conversation_id)
        .where(M.role == "assistant", M.served_model.is_not(None))
        .order_by(sa.func.coalesce(M.created_at, C.created_at), M.id)
    )
    with store.engine.connect() as conn:
        yield from conn.execute(q.execution_options(yield_per=10000))
