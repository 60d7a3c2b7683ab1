"""Companions: found by name for chats, created from character cards, slugs kept unique."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa

from hearth.records import CompanionCard
from hearth.store import schema as s

DEFAULT_NAMES = {"chatgpt": "ChatGPT", "claude": "Claude", "openai-jsonl": "Imported chats"}
"""Who a conversation was with when the source names no character."""

_NOT_SLUG = re.compile(r"[^\w]+", re.UNICODE)


def slugify(name: str) -> str:
    """`Seraphina` → `seraphina`, `宿命 织机` → `宿命-织机`: readable in URLs and model ids."""
    slug = _NOT_SLUG.sub("-", name.strip().casefold()).strip("-_")
    return slug[:60] or "companion"


def _free_slug(conn: sa.Connection, name: str) -> str:
    base = slugify(name)
    taken = set(conn.execute(sa.select(s.companions.c.slug).where(s.companions.c.slug.like(f"{base}%"))).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def companion_by_name(conn: sa.Connection, name: str) -> int:
    """The companion called `name` (the oldest, if several), created when there is none."""
    c = s.companions.c
    found = conn.execute(sa.select(c.id).where(c.name == name).order_by(c.id).limit(1)).scalar()
    if found is not None:
        return int(found)
    now = time.time()
    return int(
        conn.execute(
            s.companions.insert().values(slug=_free_slug(conn, name), name=name, created_at=now, updated_at=now)
        ).inserted_primary_key[0]
    )


def upsert_card(
    conn: sa.Connection, card: CompanionCard, card_json: str, raw_json: str, avatar: str | None
) -> tuple[int, bool]:
    """Store a character card as a companion: (id, added).

    The same card again changes nothing. A companion that so far only had a name (from chats
    imported before the card) takes the card on; otherwise a new companion is created.
    """
    from hearth.store.writer import safe_text

    card.name = safe_text(card.name) or "companion"
    c = s.companions.c
    existing = conn.execute(
        sa.select(c.id).where(c.source_format == card.source_format, c.source_id == card.source_id)
    ).scalar()
    if existing is not None:
        return int(existing), False
    values = {
        "source_format": card.source_format,
        "source_id": card.source_id,
        "spec": card.spec,
        "card": card_json,
        "raw": raw_json,
        "avatar_sha256": avatar,
        "updated_at": time.time(),
    }
    bare = conn.execute(
        sa.select(c.id).where(c.name == card.name, c.source_id.is_(None)).order_by(c.id).limit(1)
    ).scalar()
    if bare is not None:
        conn.execute(sa.update(s.companions).where(c.id == bare).values(**values))
        return int(bare), True
    cid = conn.execute(
        s.companions.insert().values(
            slug=_free_slug(conn, card.name), name=card.name, created_at=values["updated_at"], **values
        )
    ).inserted_primary_key[0]
    return int(cid), True
