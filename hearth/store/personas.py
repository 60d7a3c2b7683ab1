"""Persona versions: a persona is never overwritten, each derive or edit adds a version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.errors import NotFound
from hearth.store import Store
from hearth.store import schema as s

P = s.persona_versions.c


@dataclass
class PersonaVersion:
    companion_id: int
    version: int
    persona: dict[str, Any]
    source: str
    note: str | None
    created_at: float


def _version(r: sa.Row) -> PersonaVersion:
    return PersonaVersion(r.companion_id, r.version, orjson.loads(r.persona), r.source, r.note, r.created_at)


def latest(store: Store, companion_id: int) -> PersonaVersion | None:
    with store.engine.connect() as conn:
        r = conn.execute(
            sa.select(s.persona_versions).where(P.companion_id == companion_id).order_by(P.version.desc()).limit(1)
        ).first()
    return _version(r) if r is not None else None


def get(store: Store, companion_id: int, version: int) -> PersonaVersion:
    with store.engine.connect() as conn:
        r = conn.execute(
            sa.select(s.persona_versions).where(P.companion_id == companion_id, P.version == version)
        ).first()
    if r is None:
        raise NotFound(f"This companion has no persona version {version}.", hint="See `hearth persona history`.")
    return _version(r)


def history(store: Store, companion_id: int) -> list[PersonaVersion]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(s.persona_versions).where(P.companion_id == companion_id).order_by(P.version)
        ).all()
    return [_version(r) for r in rows]


def save(store: Store, companion_id: int, persona: dict[str, Any], source: str, note: str | None = None) -> int:
    """Store `persona` as the companion's next version; returns the version number."""
    with store.write() as conn, conn.begin():
        top = conn.execute(sa.select(sa.func.max(P.version)).where(P.companion_id == companion_id)).scalar() or 0
        conn.execute(
            s.persona_versions.insert().values(
                companion_id=companion_id, version=top + 1, persona=orjson.dumps(persona).decode(),
                source=source, note=note, created_at=time.time(),
            )
        )  # fmt: skip
    return top + 1
