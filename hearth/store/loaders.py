"""Stored rows back into canonical records, for the exporters (which never see SQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.errors import NotFound
from hearth.records import CompanionCard, Conversation, Lorebook, LoreEntry, Message
from hearth.store import Store
from hearth.store import schema as s
from hearth.store.queries import get_conversation


def _json(value: str | None, default: Any = None) -> Any:
    return orjson.loads(value) if value else default


def companions(store: Store) -> list[dict[str, Any]]:
    """Every companion: id, slug, name, spec, and how many conversations and memories it has."""
    c, conv, mem = s.companions.c, s.conversations.c, s.memories.c
    n_conv = sa.select(sa.func.count()).where(conv.companion_id == c.id).scalar_subquery()
    n_mem = sa.select(sa.func.count()).where(mem.companion_id == c.id).scalar_subquery()
    q = sa.select(c.id, c.slug, c.name, c.spec, n_conv.label("conversations"), n_mem.label("memories")).order_by(c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def companion_id(store: Store, slug_or_name: str) -> int:
    c = s.companions.c
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(c.id).where(sa.or_(c.slug == slug_or_name, c.name == slug_or_name)).order_by(c.id).limit(1)
        ).scalar()
    if found is None:
        raise NotFound(f"There is no companion {slug_or_name!r}.", hint="`hearth companions` lists them.")
    return int(found)


def conversation_record(store: Store, conversation_id: int) -> Conversation:
    """One stored conversation with all its branches, parents before children."""
    conv, rows = get_conversation(store, conversation_id)
    with store.engine.connect() as conn:
        m = s.messages.c
        extra = {
            r.id: r
            for r in conn.execute(
                sa.select(m.id, m.parent_source_id, m.parts, m.raw).where(m.conversation_id == conversation_id)
            )
        }
        companion = conn.execute(
            sa.select(s.companions.c.name).where(s.companions.c.id == conv["companion_id"])
        ).scalar()
    messages = [
        Message(
            source_id=r["source_id"],
            parent_source_id=extra[r["id"]].parent_source_id,
            role=r["role"],
            text=r["text"],
            content_type=r["content_type"],
            parts=_json(extra[r["id"]].parts, []),
            author_name=r["author_name"],
            created_at=r["created_at"],
            requested_model=r["requested_model"],
            served_model=r["served_model"],
            visible=bool(r["visible"]),
            hidden=bool(r["hidden"]),
            sibling_index=r["sibling_index"],
            status=r["status"],
            recipient=r["recipient"],
            raw=_json(extra[r["id"]].raw, {}),
        )
        for r in rows
    ]
    return Conversation(
        source_format=conv["source_format"],
        source_id=conv["source_id"],
        title=conv["title"],
        created_at=conv["created_at"],
        updated_at=conv["updated_at"],
        default_model=conv["default_model"],
        current_node=conv["current_node"],
        companion=companion,
        messages=messages,
        raw=_json(conv["raw"], {}),
    )


def conversation_records(store: Store, companion: int | None = None) -> Iterator[Conversation]:
    """Every conversation (of one companion), oldest first, one at a time."""
    c = s.conversations.c
    q = sa.select(c.id).order_by(c.created_at.nulls_last(), c.id)
    if companion is not None:
        q = q.where(c.companion_id == companion)
    with store.engine.connect() as conn:
        ids = conn.execute(q).scalars().all()
    for cid in ids:
        yield conversation_record(store, cid)


def _entry(row: sa.RowMapping) -> LoreEntry:
    settings = _json(row["settings"], {})
    return LoreEntry(
        keys=_json(row["keys"], []),
        content=row["text"],
        secondary_keys=settings.get("secondary_keys") or [],
        name=settings.get("name"),
        comment=settings.get("comment") if row["kind"] == "lorebook" else (settings.get("comment") or row["kind"]),
        enabled=bool(row["enabled"]),
        constant=bool(settings.get("constant", row["pinned"])),
        selective=bool(settings.get("selective", False)),
        insertion_order=settings.get("insertion_order", row["position"]) or 0,
        priority=settings.get("priority"),
        position=settings.get("position"),
        use_regex=bool(settings.get("use_regex", False)),
        case_sensitive=settings.get("case_sensitive"),
        entry_id=settings.get("entry_id"),
        extensions=settings.get("extensions") or {},
        raw=_json(row["raw"], {}),
    )


def companion_card(store: Store, companion: int) -> tuple[CompanionCard, bytes | None]:
    """The companion as a card (its memories as the lorebook) and its avatar image, if any."""
    c, mem, lb = s.companions.c, s.memories.c, s.lorebooks.c
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(s.companions).where(c.id == companion)).mappings().one()
        avatar = None
        if row["avatar_sha256"]:
            avatar = conn.execute(sa.select(s.blobs.c.data).where(s.blobs.c.sha256 == row["avatar_sha256"])).scalar()
        book = conn.execute(
            sa.select(lb.name, lb.settings, lb.raw, lb.source_id).where(lb.companion_id == companion).order_by(lb.id)
        ).first()
        memories = (
            conn.execute(
                sa.select(mem.kind, mem.text, mem["keys"], mem.position, mem.enabled, mem.settings, mem.pinned, mem.raw)
                .where(mem.companion_id == companion, mem.superseded_by.is_(None))
                .order_by(mem.lorebook_id.is_(None), mem.lorebook_id, mem.position, mem.id)
            )
            .mappings()
            .all()
        )
    card_data = _json(row["card"], None) or {"name": row["name"]}
    lorebook = None
    if book is not None or memories:
        lorebook = Lorebook(
            source_format="hearth",
            source_id=book.source_id if book else f"{row['slug']}:memories",
            name=book.name if book else None,
            companion=row["name"],
            entries=[_entry(m) for m in memories],
            settings=_json(book.settings, {}) if book else {},
            raw=_json(book.raw, {}) if book else {},
        )
    card = CompanionCard(
        source_format=row["source_format"] or "hearth",
        source_id=row["source_id"] or row["slug"],
        name=row["name"],
        spec=row["spec"] or "chara_card_v3",
        card=card_data,
        raw=_json(row["raw"], {}),
        avatar=avatar,
        lorebook=lorebook,
    )
    return card, avatar


def default_companion_id(store: Store) -> int:
    """The companion a command means when none is named: the one talked to most recently."""
    c, conv = s.companions.c, s.conversations.c
    with store.engine.connect() as conn:
        found = conn.execute(
            sa.select(c.id)
            .outerjoin(s.conversations, conv.companion_id == c.id)
            .group_by(c.id)
            .order_by(sa.func.max(sa.func.coalesce(conv.updated_at, conv.created_at, c.created_at)).desc(), c.id)
            .limit(1)
        ).scalar()
    if found is None:
        raise NotFound(
            "There is no companion yet.",
            hint="Import your history first (`hearth import PATH`, or `hearth import --sample` to try it).",
        )
    return int(found)
