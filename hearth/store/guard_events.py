"""The guard's log: what it noticed in which message and what it did, so nothing happens unseen."""

from __future__ import annotations

import time
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.store import Store
from hearth.store import schema as s

G = s.guard_events.c


def record(store: Store, *, conversation_id: int, message_id: int, reply_id: int | None, kind: str,
           categories: list[str], evidence: list[str], action: str, region: str | None) -> int:  # fmt: skip
    with store.write() as conn, conn.begin():
        return int(
            conn.execute(
                s.guard_events.insert().values(
                    conversation_id=conversation_id, message_id=message_id, reply_id=reply_id, at=time.time(),
                    kind=kind, categories=orjson.dumps(categories).decode(), evidence=orjson.dumps(evidence).decode(),
                    action=action, region=region,
                )
            ).inserted_primary_key[0]
        )  # fmt: skip


def events(store: Store, limit: int = 100) -> list[dict[str, Any]]:
    m = s.messages.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(s.guard_events, m.text.label("message"))
            .outerjoin(s.messages, m.id == G.message_id)
            .order_by(G.at.desc())
            .limit(limit)
        ).mappings()
        return [
            {**r, "categories": orjson.loads(r["categories"] or "[]"), "evidence": orjson.loads(r["evidence"] or "[]")}
            for r in rows
        ]
