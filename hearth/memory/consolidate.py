"""From imported history to memories: extract, merge duplicates, supersede changed facts.

Runs over the person's messages in id order, in batches, and remembers the last message it
looked at (per extractor version), so it is resumable and re-running it only reads what is new.
A fact that fills the same slot with a new value ("moved to Hangzhou") supersedes the old one
("lives in Beijing"); the old memory stays visible as superseded, linked to its replacement.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from hearth.store import Store
from hearth.store import schema as s
from hearth.store.memories import add_memory, supersede

EXTRACTOR_VERSION = "rules-1"
BATCH = int(os.environ.get("HEARTH_EXTRACT_BATCH", "2000"))
"""Messages read per transaction; each batch commits with the cursor, so a crash loses at most one."""


@dataclass
class ExtractStats:
    messages_read: int = 0
    added: int = 0
    merged: int = 0
    superseded: int = 0


def _setting(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(sa.select(s.settings.c.value).where(s.settings.c.key == key)).scalar()


def _set(conn: sa.Connection, key: str, value: str) -> None:
    conn.execute(s.settings.delete().where(s.settings.c.key == key))
    conn.execute(s.settings.insert().values(key=key, value=value))


def extract_memories(
    store: Store, *, restart: bool = False, progress: Callable[[int], None] | None = None
) -> ExtractStats:
    """Extract memories from every user message not read yet; returns what changed."""
    from hearth.memory.extract import Turn, extract, merge_duplicates

    key = f"memory.extract.{EXTRACTOR_VERSION}.last_message_id"
    m, c = s.messages.c, s.conversations.c
    stats = ExtractStats()
    with store.engine.connect() as conn:
        last = 0 if restart else int(_setting(conn, key) or 0)
    while True:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.id, m.role, m.text, m.created_at, m.conversation_id, c.companion_id)
                .join(s.conversations, c.id == m.conversation_id)
                .where(m.id > last, m.role.in_(("user", "assistant")), m.hidden.is_(False), m.text != "")
                .order_by(m.id)
                .limit(BATCH)
            ).all()
        if not rows:
            break
        companion_of = {r.conversation_id: r.companion_id for r in rows}
        turns = [Turn(r.id, r.role, r.text, r.created_at, r.conversation_id) for r in rows]
        candidates = merge_duplicates(extract(turns))
        with store.write() as conn, conn.begin():
            for cand in candidates:
                first = min(cand.source_message_ids)
                conv = next(t.conversation_id for t in turns if t.message_id == first)
                _store_candidate(store, conn, cand, companion_of.get(conv), stats)
            last = rows[-1].id
            _set(conn, key, str(last))
        stats.messages_read += len(rows)
        if progress:
            progress(len(rows))
    return stats


def extract_from(store: Store, message_ids: list[int]) -> ExtractStats:
    """Extract memories from just these messages (a new chat turn), without moving the history
    cursor: `hearth memory extract` still reads every imported message it has not read."""
    from hearth.memory.extract import Turn, extract, merge_duplicates

    m, c = s.messages.c, s.conversations.c
    stats = ExtractStats()
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.id, m.role, m.text, m.created_at, m.conversation_id, c.companion_id)
            .join(s.conversations, c.id == m.conversation_id)
            .where(m.id.in_(message_ids), m.role.in_(("user", "assistant")), m.text != "")
            .order_by(m.id)
        ).all()
    if not rows:
        return stats
    turns = [Turn(r.id, r.role, r.text, r.created_at, r.conversation_id) for r in rows]
    with store.write() as conn, conn.begin():
        for cand in merge_duplicates(extract(turns)):
            _store_candidate(store, conn, cand, rows[0].companion_id, stats)
    stats.messages_read = len(rows)
    return stats


def _store_candidate(store: Store, conn: sa.Connection, cand, companion_id: int | None, stats: ExtractStats) -> None:
    mem = s.memories.c
    same_companion = mem.companion_id.is_(None) if companion_id is None else mem.companion_id == companion_id
    if cand.slot:
        current = conn.execute(
            sa.select(mem.id, mem.value, mem.importance).where(
                same_companion, mem.slot == cand.slot, mem.superseded_by.is_(None)
            )
        ).all()
    else:
        current = conn.execute(
            sa.select(mem.id, mem.value, mem.importance).where(
                same_companion, mem.text == cand.text, mem.superseded_by.is_(None)
            )
        ).all()
    for row in current:
        if not cand.slot or (row.value or "").casefold() == (cand.value or "").casefold():
            ms = s.memory_sources
            known = set(conn.execute(sa.select(ms.c.message_id).where(ms.c.memory_id == row.id)).scalars())
            new = [i for i in cand.source_message_ids if i not in known]
            if new:
                conn.execute(ms.insert(), [{"memory_id": row.id, "message_id": i} for i in new])
            conn.execute(
                sa.update(s.memories)
                .where(mem.id == row.id)
                .values(importance=max(row.importance, cand.importance), used_count=mem.used_count + len(new))
            )
            stats.merged += 1
            return
    new_id = add_memory(
        store, cand.text, kind=cand.kind, companion_id=companion_id, importance=cand.importance,
        source=f"extracted ({EXTRACTOR_VERSION})", source_message_ids=cand.source_message_ids,
        event_at=cand.event_at, slot=cand.slot, value=cand.value, language=cand.language, conn=conn,
    )  # fmt: skip
    stats.added += 1
    for row in current:  # same slot, other value: the newer statement wins
        supersede(conn, row.id, new_id)
        stats.superseded += 1
    ends = getattr(cand, "ends_slot", None)
    if ends:  # "I don't live in Boston anymore" retires the stored residence it names
        from hearth.memory.extract import supersedes

        for row in conn.execute(
            sa.select(mem.id, mem.slot, mem.value).where(same_companion, mem.slot == ends, mem.superseded_by.is_(None))
        ).all():
            if supersedes(cand, row.slot, row.value):
                supersede(conn, row.id, new_id)
                stats.superseded += 1
