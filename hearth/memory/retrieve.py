"""Hybrid retrieval over memories and raw messages, packed into a token budget.

Each candidate list ranks on its own — lexical (FTS5 bm25 over CJK bigrams and words) and
semantic (cosine over embeddings) — and reciprocal rank fusion merges them, so neither scale has
to be calibrated against the other. Importance, pinning and recency then nudge the fused score.
The best items that fit the budget are returned; `why` says what each one earned.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hearth.memory.embed import Embedder
from hearth.memory.tokens import estimate_tokens
from hearth.store import Store, vectors
from hearth.store import schema as s
from hearth.store.memories import RECALLED_ROLES, lexical_memories, lexical_messages

RRF_K = 60
WEIGHTS = {"lexical": 1.0, "vector": 1.0, "importance": 0.002, "pinned": 0.001, "recency": 0.002}
"""Priors stay small beside the fused ranks (1/61 vs 1/62 differ by 0.0003): they break near-ties,
they never outvote relevance. Pinned memories are always included by prompt assembly, not here."""
RECENCY_DAYS = 90.0


@dataclass
class Hit:
    kind: str
    """`memory` or `message`."""
    id: int
    text: str
    score: float
    tokens: int
    created_at: float | None = None
    conversation_id: int | None = None
    role: str | None = None
    source_message_ids: list[int] = field(default_factory=list)
    why: dict[str, Any] = field(default_factory=dict)


Key = tuple[str, int]


def _fuse(lists: dict[str, list[tuple[Key, float]]]) -> dict[Key, dict[str, Any]]:
    fused: dict[Key, dict[str, Any]] = {}
    for name, ranked in lists.items():
        for rank, (item, raw) in enumerate(ranked, 1):
            entry = fused.setdefault(item, {"score": 0.0})
            gain = WEIGHTS[name] / (RRF_K + rank)
            entry["score"] += gain
            entry[name] = {"rank": rank, "raw": round(float(raw), 4), "gain": round(gain, 5)}
    return fused


def _load_memories(conn: sa.Connection, ids: list[int]) -> dict[int, sa.Row]:
    m = s.memories.c
    rows = conn.execute(
        sa.select(m.id, m.text, m.importance, m.pinned, m.created_at, m.event_at).where(m.id.in_(ids))
    ).all()
    return {r.id: r for r in rows}


def _load_messages(conn: sa.Connection, ids: list[int]) -> dict[int, sa.Row]:
    m = s.messages.c
    rows = conn.execute(
        sa.select(m.id, m.text, m.role, m.created_at, m.conversation_id).where(
            m.id.in_(ids), m.role.in_(RECALLED_ROLES)
        )
    ).all()
    return {r.id: r for r in rows}


def _merged(*ranked: tuple[str, list[tuple[int, float]]]) -> list[tuple[Key, float]]:
    """Memories and messages in one list per signal (lower raw = better: bm25 and cosine distance),
    so a weak memory never outranks a strong message just by heading its own pool."""
    items = [((kind, i), raw) for kind, pairs in ranked for i, raw in pairs]
    return sorted(items, key=lambda kv: kv[1])


def retrieve(
    store: Store,
    query: str,
    *,
    budget_tokens: int = 2000,
    k: int = 50,
    companion_id: int | None = None,
    conversation_ids: list[int] | None = None,
    embedder: Embedder | None = None,
    sources: tuple[str, ...] = ("memory", "message"),
    now: float | None = None,
    limit: int | None = None,
    replies: bool = True,
) -> list[Hit]:
    """The best memories and messages for `query` that fit `budget_tokens`, best first.

    Each message hit brings the reply that followed it (`replies`), because the answer to a
    question about a past moment is often in the next turn. Without an embedder (or before
    vectors exist) retrieval is lexical only and still useful.
    """
    now = now or time.time()
    qvec = embedder.query(query) if embedder is not None else None
    lexical: list[tuple[str, list[tuple[int, float]]]] = []
    semantic: list[tuple[str, list[tuple[int, float]]]] = []
    with store.engine.connect() as conn:
        if "memory" in sources:
            lexical.append(("memory", lexical_memories(store, query, k, companion_id)))
            if qvec is not None:
                semantic.append(("memory", vectors.nearest(store, "memory", embedder.name, qvec, k)))
        if "message" in sources:
            lexical.append(("message", lexical_messages(store, query, k, conversation_ids)))
            if qvec is not None:
                within = None
                if conversation_ids is not None:
                    within = (
                        conn.execute(
                            sa.select(s.messages.c.id).where(s.messages.c.conversation_id.in_(conversation_ids))
                        )
                        .scalars()
                        .all()
                    )
                semantic.append(("message", vectors.nearest(store, "message", embedder.name, qvec, k, within)))
        lists = {"lexical": _merged(*lexical)}
        if semantic:
            lists["vector"] = _merged(*semantic)
        fused = _fuse(lists)
        memories = _load_memories(conn, [i for kind, i in fused if kind == "memory"])
        messages = _load_messages(conn, [i for kind, i in fused if kind == "message"])
        hits: list[Hit] = []
        for (kind, item), info in fused.items():
            if kind == "memory" and (r := memories.get(item)) is not None:
                bonus = WEIGHTS["importance"] * r.importance + WEIGHTS["pinned"] * bool(r.pinned)
                info["importance"], info["pinned"] = r.importance, bool(r.pinned)
                hits.append(Hit("memory", item, r.text, info["score"] + bonus, estimate_tokens(r.text),
                                r.event_at or r.created_at, why=info))  # fmt: skip
            elif kind == "message" and (r := messages.get(item)) is not None:
                hits.append(Hit("message", item, r.text, info["score"], estimate_tokens(r.text), r.created_at,
                                r.conversation_id, r.role, why=info))  # fmt: skip
        _provenance(conn, hits)
        for h in hits:
            if h.created_at:
                age_days = max(0.0, (now - h.created_at) / 86400)
                recency = math.exp(-age_days / RECENCY_DAYS)
                h.score += WEIGHTS["recency"] * recency
                h.why["recency"] = round(recency, 3)
            h.why["score"] = round(h.score, 5)
        hits.sort(key=lambda h: -h.score)
        if replies:
            hits = _with_replies(conn, hits)
    return pack(hits, budget_tokens, limit)


def _provenance(conn: sa.Connection, hits: list[Hit]) -> None:
    ids = [h.id for h in hits if h.kind == "memory"]
    if not ids:
        return
    ms = s.memory_sources.c
    prov: dict[int, list[int]] = {}
    for mid, msg in conn.execute(sa.select(ms.memory_id, ms.message_id).where(ms.memory_id.in_(ids))):
        prov.setdefault(mid, []).append(msg)
    for h in hits:
        if h.kind == "memory":
            h.source_message_ids = sorted(prov.get(h.id, []))


def _with_replies(conn: sa.Connection, hits: list[Hit]) -> list[Hit]:
    """Each message hit followed by the visible message that answered it (once)."""
    m = s.messages.c
    asked = [h.id for h in hits if h.kind == "message"]
    if not asked:
        return hits
    replies = {
        r.parent_id: r
        for r in conn.execute(
            sa.select(m.id, m.parent_id, m.text, m.role, m.created_at, m.conversation_id)
            .where(m.parent_id.in_(asked), m.visible.is_(True), m.hidden.is_(False), m.text != "")
            .order_by(m.sibling_index.desc())
        )
    }
    seen = {("message", h.id) for h in hits if h.kind == "message"}
    out: list[Hit] = []
    for h in hits:
        out.append(h)
        r = replies.get(h.id) if h.kind == "message" else None
        if r is not None and ("message", r.id) not in seen:
            seen.add(("message", r.id))
            out.append(Hit("message", r.id, r.text, h.score, estimate_tokens(r.text), r.created_at,
                           r.conversation_id, r.role, why={"reply_to": h.id, "score": h.why.get("score")}))  # fmt: skip
    return out


def pack(hits: list[Hit], budget_tokens: int, limit: int | None = None) -> list[Hit]:
    """Greedy by score: take each hit that still fits; a message a memory already cites is skipped."""
    chosen: list[Hit] = []
    used = 0
    covered: set[int] = set()
    for h in hits:
        if limit is not None and len(chosen) >= limit:
            break
        if h.kind == "message" and h.id in covered:
            continue
        if used + h.tokens > budget_tokens:
            continue
        chosen.append(h)
        used += h.tokens
        covered.update(h.source_message_ids)
    return chosen


def embed_pending(store: Store, embedder: Embedder, kinds: tuple[str, ...] = ("memory", "message"),
                  batch: int = 64, progress: Any = None) -> int:  # fmt: skip
    """Embed everything that has no vector from this embedder yet; resumable, batch by batch."""
    done = 0
    for kind in kinds:
        while True:
            todo = vectors.missing(store, kind, embedder.name, batch)
            if not todo:
                break
            vecs = embedder.passages([t for _, t in todo])
            vectors.put(store, kind, embedder.name, [i for i, _ in todo], vecs)
            done += len(todo)
            if progress:
                progress(len(todo))
    return done
