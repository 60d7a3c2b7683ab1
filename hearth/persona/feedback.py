"""Learning from the person's ratings: thumbs up and down (given in hearth, or imported from the
ChatGPT export's `message_feedback.json`) and the replies they chose on a regeneration become
plain style notes in the persona ("they liked shorter replies"), which every prompt carries.

Local and deterministic: the liked replies are compared with the disliked ones (or, when only one
side exists, with the companion's usual replies) on the same counts the persona's voice is
measured with. A note appears only when the difference is clear; the person's own words about a
reply ("too long") are quoted as they wrote them. The notes live in the persona's `feedback`
field, versioned like every other field, visible in `hearth persona show`, and editable.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field

import sqlalchemy as sa

from hearth.memory.tokens import estimate_tokens
from hearth.persona.card import Persona
from hearth.persona.style import EMOJI, PET_NAMES_EN, PET_NAMES_ZH
from hearth.store import Store, personas
from hearth.store import schema as s
from hearth.store.chat import CHOSEN_NOTE

MIN_RATED = 3
"""Fewer ratings than this say nothing about a pattern (one thumbs-down is about one reply)."""
LENGTH_RATIO = 1.5
SHARE_GAP = 0.4
QUOTED = 3
SOURCE = "feedback"

_QUESTION = re.compile(r"[?？]")


@dataclass
class Rated:
    text: str
    rating: int
    note: str = ""


@dataclass
class Profile:
    """The counts one group of replies is compared on."""

    replies: int = 0
    tokens: float = 0.0
    emoji: float = 0.0
    questions: float = 0.0
    pet_names: float = 0.0

    @classmethod
    def of(cls, texts: list[str]) -> Profile:
        if not texts:
            return cls()
        pets = PET_NAMES_EN + PET_NAMES_ZH
        return cls(
            replies=len(texts),
            tokens=statistics.median(estimate_tokens(t) for t in texts),
            emoji=sum(bool(EMOJI.search(t)) for t in texts) / len(texts),
            questions=sum(bool(_QUESTION.search(t)) for t in texts) / len(texts),
            pet_names=sum(any(p in t.lower() for p in pets) for t in texts) / len(texts),
        )


@dataclass
class Learned:
    liked: Profile
    disliked: Profile
    notes: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)

    def text(self, language: str) -> str:
        zh = language == "zh"
        lines = list(self.notes)
        if self.said:
            quoted = ("、".join(f"“{q}”" for q in self.said) if zh else "; ".join(f'"{q}"' for q in self.said))
            lines.append(f"对方评价你的回复时说过：{quoted}。" if zh
                         else f"What they said about your replies: {quoted}.")  # fmt: skip
        return ("" if zh else " ").join(lines)


def rated_replies(store: Store, companion_id: int) -> list[Rated]:
    """Every rated reply of this companion, the newest rating per reply (the one that stands)."""
    f, m, c = s.feedback.c, s.messages.c, s.conversations.c
    q = (
        sa.select(f.message_id, f.rating, f.text, m.text.label("reply"))
        .join(s.messages, m.id == f.message_id)
        .join(s.conversations, c.id == m.conversation_id)
        .where(c.companion_id == companion_id, m.role == "assistant")
        .order_by(f.created_at, f.id)
    )
    latest: dict[int, Rated] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(q):
            if row.reply and row.reply.strip() and row.rating:
                note = "" if row.text == CHOSEN_NOTE else (row.text or "").strip()
                latest[row.message_id] = Rated(row.reply, 1 if row.rating > 0 else -1, note)
    return list(latest.values())


def usual_replies(store: Store, companion_id: int, limit: int = 300) -> list[str]:
    """The companion's recent visible replies: the baseline when only one side was rated."""
    m, c = s.messages.c, s.conversations.c
    q = (
        sa.select(m.text)
        .join(s.conversations, c.id == m.conversation_id)
        .where(c.companion_id == companion_id, m.role == "assistant", m.visible.is_(True), m.text != "")
        .order_by(m.id.desc())
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [r.text for r in conn.execute(q)]


def learn(rated: list[Rated], usual: list[str], language: str) -> Learned:
    """What the ratings say, as notes in `language`; nothing when there is too little to go on."""
    liked = Profile.of([r.text for r in rated if r.rating > 0])
    disliked = Profile.of([r.text for r in rated if r.rating < 0])
    out = Learned(liked, disliked)
    out.said = [r.note[:120] for r in rated if r.note][-QUOTED:]
    if len(rated) < MIN_RATED:
        return out
    usual_profile = Profile.of(usual)
    good = liked if liked.replies else usual_profile
    bad = disliked if disliked.replies else usual_profile
    if not good.replies or not bad.replies or good is bad:
        return out
    zh = language == "zh"
    if good.tokens >= bad.tokens * LENGTH_RATIO:
        n = round(good.tokens)
        out.notes.append(f"对方更喜欢较长、详细的回复（约{n}字）。" if zh
                         else f"They like longer, fuller replies (about {max(1, round(n * 0.75))} words).")  # fmt: skip
    elif bad.tokens >= good.tokens * LENGTH_RATIO:
        n = round(good.tokens)
        out.notes.append(f"对方更喜欢简短的回复（约{n}字）。" if zh
                         else f"They like shorter replies (about {max(1, round(n * 0.75))} words).")  # fmt: skip
    for attr, more_zh, less_zh, more_en, less_en in (
        ("emoji", "对方喜欢你用表情符号。", "对方不喜欢表情符号，少用。", "They like it when you use emoji.",
         "They do not like emoji: use few or none."),
        ("questions", "对方喜欢你反问、关心他们。", "少反问，多回应对方说的话。",
         "They like being asked about themselves.", "Ask fewer questions; respond to what they said."),
        ("pet_names", "对方喜欢你用昵称称呼他们。", "对方不喜欢昵称，直接称呼即可。", "They like pet names.",
         "They do not like pet names."),
    ):  # fmt: skip
        gap = getattr(good, attr) - getattr(bad, attr)
        if gap >= SHARE_GAP:
            out.notes.append(more_zh if zh else more_en)
        elif gap <= -SHARE_GAP:
            out.notes.append(less_zh if zh else less_en)
    return out


def notes_for(store: Store, companion_id: int, language: str) -> str:
    """The feedback notes for this companion now ('' when the ratings say nothing yet)."""
    return learn(rated_replies(store, companion_id), usual_replies(store, companion_id), language).text(language)


def update_persona(store: Store, companion_id: int) -> str | None:
    """Refresh the persona's feedback notes after a rating; saves a new persona version only when
    the notes changed and the person has not written them by hand. Returns the new notes, or None."""
    from hearth.persona.derive import base_persona

    persona = base_persona(store, companion_id)
    if "feedback" in persona.edited:
        return None
    text = notes_for(store, companion_id, persona.language)
    if text == persona.feedback:
        return None
    updated: Persona = persona.model_copy(update={"feedback": text})
    personas.save(store, companion_id, updated.model_dump(), SOURCE, "notes from your ratings")
    return text
