"""`hearth persona derive`: the memory letter people wrote by hand, built from their history.

The deterministic part (style statistics, facts and boundaries from memories, the relationship's
timeline, example exchanges in the companion's real words) needs no model, so it works on the
embedded default. Fields the person set by hand are never overwritten.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from hearth.memory.tokens import estimate_tokens
from hearth.persona import style
from hearth.persona.card import Persona, from_card
from hearth.store import Store, personas
from hearth.store import schema as s
from hearth.store.loaders import _json

SAMPLE_REPLIES = 5000
"""The most recent replies measured: recent enough to be today's voice, enough to be stable."""
MAX_FACTS = 15
EXAMPLES = 3


@dataclass
class Exchange:
    user: str
    reply: str
    conversation_id: int
    created_at: float | None


def base_persona(store: Store, companion_id: int) -> Persona:
    """The companion's newest persona version, else one made from its card (or just its name)."""
    current = personas.latest(store, companion_id)
    if current is not None:
        return Persona(**current.persona)
    c = s.companions.c
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(c.name, c.card).where(c.id == companion_id)).one()
    return from_card(_json(row.card, {}) or {}, row.name)


def _exchanges(store: Store, companion_id: int, limit: int) -> tuple[list[Exchange], list[str], dict[str, Any]]:
    """(user → reply exchanges, the person's messages, timeline) from the companion's visible history."""
    asked = s.messages.alias("u")
    m, u, conv = s.messages.c, asked.c, s.conversations.c
    visible = sa.and_(m.visible.is_(True), m.hidden.is_(False), m.text != "")
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.text, m.conversation_id, m.created_at, u.text.label("asked"), u.role.label("asked_role"))
            .join(s.conversations, conv.id == m.conversation_id)
            .outerjoin(asked, u.id == m.parent_id)
            .where(conv.companion_id == companion_id, m.role == "assistant", visible)
            .order_by(m.created_at.desc().nulls_last(), m.id.desc())
            .limit(limit)
        ).all()
        person = (
            conn.execute(
                sa.select(m.text)
                .join(s.conversations, conv.id == m.conversation_id)
                .where(conv.companion_id == companion_id, m.role == "user", visible)
                .order_by(m.created_at.desc().nulls_last(), m.id.desc())
                .limit(limit)
            )
            .scalars()
            .all()
        )
        span = conn.execute(
            sa.select(sa.func.min(conv.created_at), sa.func.max(conv.updated_at), sa.func.count()).where(
                conv.companion_id == companion_id
            )
        ).one()
    exchanges = [
        Exchange(r.asked if r.asked_role == "user" else "", r.text, r.conversation_id, r.created_at) for r in rows
    ]
    return exchanges, list(person), {"first": span[0], "last": span[1], "conversations": span[2]}


def _memories(store: Store, companion_id: int, kinds: tuple[str, ...], limit: int) -> list[str]:
    mem = s.memories.c
    with store.engine.connect() as conn:
        return list(dict.fromkeys(
            conn.execute(
                sa.select(mem.text)
                .where(
                    sa.or_(mem.companion_id == companion_id, mem.companion_id.is_(None)),
                    mem.kind.in_(kinds), mem.superseded_by.is_(None), mem.enabled.is_(True),
                    mem.lorebook_id.is_(None),
                )
                .order_by(mem.pinned.desc(), mem.importance.desc(), mem.id.desc())
                .limit(limit)
            ).scalars()
        ))  # fmt: skip


def _date(ts: float | None) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d") if ts else "?"


def relationship(timeline: dict[str, Any], milestones: list[str], language: str) -> str:
    if not timeline["conversations"]:
        return ""
    first, last, n = _date(timeline["first"]), _date(timeline["last"]), timeline["conversations"]
    text = (
        f"你们从{first}开始聊天，到{last}共有{n}段对话。"
        if language == "zh"
        else f"Talking since {first}; {n} conversations up to {last}."
    )
    if milestones:
        joined = ("；" if language == "zh" else "; ").join(milestones)
        text += f"重要时刻：{joined}。" if language == "zh" else f" Milestones: {joined}."
    return text


def example_dialogue(exchanges: list[Exchange], stats: dict[str, Any], count: int = EXAMPLES) -> str:
    """A few real exchanges that sound most like the companion, in the card's `mes_example` form."""
    median = stats.get("tokens_median") or 0
    marks = [*stats.get("signature_phrases", []), *stats.get("pet_names", [])]
    scored: list[tuple[float, int, Exchange]] = []
    for n, ex in enumerate(exchanges):
        if not ex.user.strip() or len(ex.user) > 400:
            continue
        size = estimate_tokens(ex.reply)
        if median and not 0.5 * median <= size <= 2 * median:
            continue
        low = ex.reply.casefold()
        score = sum(p in low for p in marks) - abs(size - median) / max(median, 1)
        scored.append((score, -n, ex))
    scored.sort(key=lambda t: (-t[0], -t[1]))
    chosen: list[Exchange] = []
    for _, _, ex in scored:
        if all(ex.conversation_id != c.conversation_id for c in chosen):
            chosen.append(ex)
        if len(chosen) == count:
            break
    return "\n".join(f"<START>\n{{{{user}}}}: {ex.user.strip()}\n{{{{char}}}}: {ex.reply.strip()}" for ex in chosen)


def derive(store: Store, companion_id: int, sample: int = SAMPLE_REPLIES, backend: Any = None) -> Persona:
    """A new persona from the companion's history; the caller decides whether to save it. With a
    `backend`, a model also writes the portrait (`summary`) from the measured notes."""
    persona = base_persona(store, companion_id)
    exchanges, person, timeline = _exchanges(store, companion_id, sample)
    replies = [style.Reply(ex.reply, ex.conversation_id) for ex in exchanges]
    stats = style.measure(replies, person)
    kept = set(persona.edited)
    updates: dict[str, Any] = {"style": stats}
    language = persona.language
    if "language" not in kept and stats.get("replies"):
        language = updates["language"] = style.main_language(stats["language_mix"])
    if "voice" not in kept:
        updates["voice"] = style.notes(stats, language)
    if "feedback" not in kept:
        from hearth.persona.feedback import notes_for

        updates["feedback"] = notes_for(store, companion_id, language)
    if "facts" not in kept:
        updates["facts"] = _memories(store, companion_id, ("fact", "person", "preference"), MAX_FACTS)
    if "boundaries" not in kept:
        updates["boundaries"] = _memories(store, companion_id, ("boundary",), MAX_FACTS)
    if "relationship" not in kept:
        milestones = _memories(store, companion_id, ("milestone",), 5)
        updates["relationship"] = relationship(timeline, milestones, language)
    if "example_dialogue" not in kept and (not persona.example_dialogue or "example_dialogue" in persona.style):
        if dialogue := example_dialogue(exchanges, stats):
            updates["example_dialogue"] = dialogue
            stats["example_dialogue"] = "derived"
    derived = persona.model_copy(update=updates)
    if backend is not None and "summary" not in kept:
        from hearth.persona.portrait import write_portrait

        text, model = write_portrait(backend, derived, exchanges)
        stats["summary_written_by"] = model
        derived = derived.model_copy(update={"summary": text})
    return derived


def save_derived(store: Store, companion_id: int, persona: Persona, note: str | None = None) -> int:
    return personas.save(store, companion_id, persona.model_dump(), "derived", note)
