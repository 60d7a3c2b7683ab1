"""Live conversations: the person's message is written before any model is called, so a failed
turn never loses it; the reply is written with the model asked for and the model that answered.

New chats are conversations of source format `hearth`; an imported conversation can be continued,
its new messages hanging off its visible branch like any other reply.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.errors import NotFound
from hearth.store import Store, lexical
from hearth.store import schema as s
from hearth.store.tokens import message_columns
from hearth.store.writer import forget_message_vectors, safe_text

M, C = s.messages.c, s.conversations.c
FORMAT = "hearth"


@dataclass
class Turn:
    id: int
    role: str
    text: str
    created_at: float | None
    author_name: str | None = None
    requested_model: str | None = None
    served_model: str | None = None
    status: str | None = None


def new_conversation(store: Store, companion_id: int, title: str | None = None, model: str | None = None) -> int:
    now = time.time()
    with store.write() as conn, conn.begin():
        return int(
            conn.execute(
                s.conversations.insert().values(
                    companion_id=companion_id, source_format=FORMAT, source_id=str(uuid.uuid4()), title=title,
                    created_at=now, updated_at=now, default_model=model, content_hash="",
                )
            ).inserted_primary_key[0]
        )  # fmt: skip


def conversation_companion(store: Store, conversation_id: int) -> int:
    with store.engine.connect() as conn:
        found = conn.execute(sa.select(C.companion_id).where(C.id == conversation_id)).scalar()
    if found is None:
        raise NotFound(f"There is no conversation {conversation_id}.", hint="`hearth conversations list` shows them.")
    return int(found)


def visible_path(store: Store, conversation_id: int, limit: int | None = None, before: int | None = None) -> list[Turn]:
    """The conversation as the person last saw it (its visible branch), oldest first; the last
    `limit` messages (before message id `before`) when given. Hidden system and tool messages are
    left out."""
    q = (
        sa.select(M.id, M.role, M.text, M.created_at, M.author_name, M.requested_model, M.served_model, M.status)
        .where(M.conversation_id == conversation_id, M.visible.is_(True), M.hidden.is_(False), M.text != "")
        .order_by(M.id.desc())
    )
    if before is not None:
        q = q.where(M.id < before)
    if limit is not None:
        q = q.limit(limit)
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    return [Turn(*r) for r in reversed(rows)]


CHOSEN_NOTE = "chosen over another answer"
"""The note on a rating that records a choice between regenerated answers."""


def _leaf(conn: sa.Connection, conversation_id: int) -> int | None:
    """The newest visible message: where the next message hangs."""
    return conn.execute(
        sa.select(M.id).where(M.conversation_id == conversation_id, M.visible.is_(True)).order_by(M.id.desc()).limit(1)
    ).scalar()


def append(
    store: Store,
    conversation_id: int,
    role: str,
    text: str,
    *,
    parent_id: int | None = None,
    author_name: str | None = None,
    requested_model: str | None = None,
    served_model: str | None = None,
    status: str | None = None,
    meta: dict[str, Any] | None = None,
) -> int:
    """Add a message to the visible branch (after `parent_id`, else after the newest visible
    message) and to the search index, in one transaction."""
    now = time.time()
    text = safe_text(text) or ""
    with store.write() as conn, conn.begin():
        parent = parent_id if parent_id is not None else _leaf(conn, conversation_id)
        siblings = conn.execute(
            sa.select(sa.func.count()).where(M.conversation_id == conversation_id, M.parent_id.is_(parent))
            if parent is None
            else sa.select(sa.func.count()).where(M.parent_id == parent)
        ).scalar_one()
        if parent is not None and siblings:  # a regeneration: the older answers stay, as hidden branches
            _hide_below(conn, parent)
        source_id = str(uuid.uuid4())
        mid = int(
            conn.execute(
                s.messages.insert().values(
                    conversation_id=conversation_id, source_id=source_id, parent_id=parent,
                    sibling_index=siblings, visible=True, hidden=False, role=role, author_name=author_name,
                    content_type="text", text=text, created_at=now, requested_model=requested_model,
                    served_model=served_model, status=status, source_format=FORMAT,
                    raw=orjson.dumps(meta or {}).decode(),
                )
            ).inserted_primary_key[0]
        )  # fmt: skip
        if text:
            lexical.add(conn, lexical.MESSAGES, [(mid, *message_columns(text, safe_text(author_name)))])
        conn.execute(
            sa.update(s.conversations).where(C.id == conversation_id).values(updated_at=now, current_node=source_id)
        )
    return mid


def _hide_below(conn: sa.Connection, parent: int) -> None:
    """Take the current answers to `parent` (and everything after them) off the visible branch."""
    frontier = list(conn.execute(sa.select(M.id).where(M.parent_id == parent, M.visible.is_(True))).scalars())
    while frontier:
        conn.execute(sa.update(s.messages).where(M.id.in_(frontier)).values(visible=False))
        frontier = list(conn.execute(sa.select(M.id).where(M.parent_id.in_(frontier), M.visible.is_(True))).scalars())


def answers(store: Store, message_id: int) -> list[dict[str, Any]]:
    """Every answer to the same message as `message_id` (itself included), oldest first: the
    alternatives a regeneration left, for the person to choose between."""
    with store.engine.connect() as conn:
        parent = conn.execute(sa.select(M.parent_id).where(M.id == message_id)).first()
        if parent is None:
            raise NotFound(f"There is no message {message_id}.")
        if parent.parent_id is None:
            return [{"id": message_id, "visible": True}]
        rows = conn.execute(
            sa.select(M.id, M.text, M.visible, M.served_model)
            .where(M.parent_id == parent.parent_id, M.role == "assistant")
            .order_by(M.sibling_index, M.id)
        )
        return [dict(r._mapping) for r in rows]


def question_of(store: Store, reply_id: int) -> Turn:
    """The message a reply answers (what "answer again" answers)."""
    with store.engine.connect() as conn:
        parent = conn.execute(sa.select(M.parent_id).where(M.id == reply_id)).scalar()
        row = None if parent is None else conn.execute(
            sa.select(M.id, M.role, M.text, M.created_at, M.author_name).where(M.id == parent)
        ).first()  # fmt: skip
    if row is None or row.role != "user":
        raise NotFound(f"Message {reply_id} does not answer a message of yours.", hint="Pick one of the replies.")
    return Turn(row.id, row.role, row.text or "", row.created_at, row.author_name)


def conversation_of(store: Store, message_id: int) -> int:
    with store.engine.connect() as conn:
        conv = conn.execute(sa.select(M.conversation_id).where(M.id == message_id)).scalar()
    if conv is None:
        raise NotFound(f"There is no message {message_id}.")
    return int(conv)


def reply_details(store: Store, message_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For each reply: the person's rating that stands (the newest) and how many answers its
    message has (more than one after a regeneration), for showing thumbs and alternatives."""
    f = s.feedback.c
    with store.engine.connect() as conn:
        ratings: dict[int, int] = {}
        for mid, rating in conn.execute(
            sa.select(f.message_id, f.rating).where(f.message_id.in_(message_ids)).order_by(f.created_at, f.id)
        ):
            ratings[mid] = rating
        parents = dict(conn.execute(sa.select(M.id, M.parent_id).where(M.id.in_(message_ids))).all())
        counts = dict(
            conn.execute(
                sa.select(M.parent_id, sa.func.count())
                .where(M.parent_id.in_([p for p in parents.values() if p is not None]), M.role == "assistant")
                .group_by(M.parent_id)
            ).all()
        )
    return {mid: {"rating": ratings.get(mid, 0), "answers": counts.get(parents.get(mid), 1)} for mid in message_ids}


def choose(store: Store, message_id: int) -> None:
    """Make this answer the one on the visible branch (the others stay, hidden) and keep the choice
    as the person's preference: a rating up, noted as a choice, which preference pairs and the
    persona's feedback notes both read."""
    with store.write() as conn, conn.begin():
        row = conn.execute(sa.select(M.parent_id, M.conversation_id, M.source_id).where(M.id == message_id)).first()
        if row is None:
            raise NotFound(f"There is no message {message_id}.")
        if row.parent_id is not None:
            _hide_below(conn, row.parent_id)
        frontier = [message_id]
        conn.execute(sa.update(s.messages).where(M.id == message_id).values(visible=True))
        while True:  # the rest of that branch comes back with it, newest answer at each step
            nxt = conn.execute(sa.select(M.id).where(M.parent_id.in_(frontier)).order_by(M.id.desc()).limit(1)).scalar()
            if nxt is None:
                break
            conn.execute(sa.update(s.messages).where(M.id == nxt).values(visible=True))
            frontier = [nxt]
        leaf = conn.execute(sa.select(M.source_id).where(M.id == frontier[0])).scalar()
        conn.execute(sa.update(s.conversations).where(C.id == row.conversation_id).values(current_node=leaf))
        f = s.feedback.c
        liked = conn.execute(
            sa.select(f.id).where(f.source_format == FORMAT, f.message_id == message_id, f.rating > 0)
        ).first()  # a thumbs up already says it, maybe in the person's own words: keep those
    if liked is None:
        rate(store, message_id, 1, CHOSEN_NOTE)


def update_message(store: Store, message_id: int, **values: Any) -> None:
    """Set columns of a message written earlier in this turn (its final text, models, status, meta)."""
    if "meta" in values:
        values["raw"] = orjson.dumps(values.pop("meta")).decode()
    text = values.get("text")
    with store.write() as conn, conn.begin():
        conn.execute(sa.update(s.messages).where(M.id == message_id).values(**values))
        if text is not None:
            author = conn.execute(sa.select(M.author_name).where(M.id == message_id)).scalar()
            lexical.remove(conn, lexical.MESSAGES, [message_id])
            forget_message_vectors(conn, [message_id])
            if text:
                lexical.add(conn, lexical.MESSAGES, [(message_id, *message_columns(safe_text(text) or "", author))])


def message_meta(store: Store, message_id: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        raw = conn.execute(sa.select(M.raw).where(M.id == message_id)).scalar()
    return orjson.loads(raw) if raw else {}


def latest_conversation(store: Store, companion_id: int, native_only: bool = False) -> int | None:
    """The conversation with this companion that moved last (only chats started in hearth when
    `native_only`: an imported conversation is continued only when the person asks)."""
    q = sa.select(C.id).where(C.companion_id == companion_id)
    if native_only:
        q = q.where(C.source_format == FORMAT)
    with store.engine.connect() as conn:
        return conn.execute(q.order_by(C.updated_at.desc(), C.id.desc()).limit(1)).scalar()


def recent_conversations(store: Store, companion_id: int, limit: int) -> list[int]:
    """The companion's chats started in hearth (or by a client through it), most recent first."""
    with store.engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(C.id)
                .where(C.companion_id == companion_id, C.source_format == FORMAT)
                .order_by(C.updated_at.desc(), C.id.desc())
                .limit(limit)
            ).scalars()
        )


def rate(store: Store, message_id: int, rating: int, note: str | None = None) -> None:
    """The person's thumbs up (+1) or down (-1) on a reply; rating the same reply again replaces it."""
    with store.write() as conn, conn.begin():
        row = conn.execute(sa.select(M.source_id, M.conversation_id).where(M.id == message_id)).first()
        if row is None:
            raise NotFound(f"There is no message {message_id}.")
        conv = conn.execute(sa.select(C.source_id).where(C.id == row.conversation_id)).scalar()
        key = f"hearth:{row.source_id}"
        conn.execute(s.feedback.delete().where(s.feedback.c.source_format == FORMAT, s.feedback.c.source_id == key))
        conn.execute(
            s.feedback.insert().values(
                source_format=FORMAT, source_id=key, message_id=message_id, conversation_source_id=conv,
                message_source_id=row.source_id, rating=1 if rating > 0 else -1, text=note, created_at=time.time(),
            )
        )  # fmt: skip
