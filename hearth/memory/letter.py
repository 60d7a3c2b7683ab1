"""The memory letter: the companion and what it remembers, in a few thousand re-feedable tokens.

When GPT-4o went away, people rebuilt their companion by pasting a hand-written "memory letter"
into every new chat. This writes one from hearth's persona and memories, deterministically (no
model needed, same store → same letter), within a token budget counted with hearth's estimate
(`hearth.memory.tokens.estimate_tokens`), so it fits a custom-instructions box, a Claude project
or the first message of any chat.

What goes in, in order of priority:
1. the persona: name, who they are, voice, the relationship, boundaries (at most 40% of the
   budget; long fields are cut, never the name);
2. pinned memories, then every other current memory ranked by
       score = 0.5 · importance + 0.3 · recency + 0.2 · use
   recency = 0.5 ** (age in days / 180), age measured back from the newest memory (not from today,
   so an old export still ranks its own recent past first); a memory's time is when it was last
   said (its newest source message; an undated one, like injected custom instructions, takes its
   conversation's start), else its event date, else when hearth stored it;
   use = log(1 + used_count) / log(1 + the largest used_count), 0 when nothing was used yet.
   Superseded and disabled memories, lorebook entries, duplicates (same text) and filler
   (importance < 0.15, unless pinned) never go in;
3. moments: when the memories leave room, the turns of the history that say the most (see
   `hearth.memory.moments`), dated and in time order, fill it; never one a letter memory cites.
Memories are grouped under "how to respond" (the person's instructions and preferences about the
companion's replies), "boundaries" and "about me"; the framing depends on the target:
`chatgpt` writes the two custom-instructions boxes, `claude` a project-knowledge document with XML
tags, `generic` a plain letter. Headings and dates follow the language (`zh` / `en`, the persona's
language by default); memories stay in the words they were stored in.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa

from hearth.errors import HearthError
from hearth.memory.moments import rank as telling_moments
from hearth.memory.tokens import estimate_tokens
from hearth.store import Store
from hearth.store import schema as s

TARGETS = ("generic", "chatgpt", "claude")
LANGUAGES = ("en", "zh")
W_IMPORTANCE, W_RECENCY, W_USE = 0.5, 0.3, 0.2
HALF_LIFE_DAYS = 180.0
PERSONA_SHARE = 0.4
MIN_IMPORTANCE = 0.15
"""Below this a memory is filler ("No data available.", or one the person marked unimportant): never in a letter."""
RESPOND_SLOTS = ("profile:chatgpt:how_to_respond",)

_L = {
    "en": {
        "title": "Memory letter: {name}", "you_are": "You are {name}.", "nick": " ({nick})", "who": "Who you are",
        "voice": "Your voice", "relationship": "Our relationship", "boundaries": "Boundaries",
        "respond": "How I'd like you to respond", "about": "What you remember about me",
        "gpt_about": "What would you like ChatGPT to know about you?",
        "gpt_respond": "How would you like ChatGPT to respond?",
        "gpt_be": "Be {name}, the companion I have been talking to, as described here.",
        "claude_intro": "Project knowledge for my conversations with {name}: who {name} is and what {name} "
        "remembers about me. Treat it as {name}'s own memory; don't quote it back to me.",
        "generic_intro": "This letter carries you from one model to the next. Read it, then talk to me as yourself.",
        "moments": "Moments from our conversations", "user_said": "I said", "assistant_said": "you said",
    },
    "zh": {
        "title": "记忆信：{name}", "you_are": "你是{name}。", "nick": "（{nick}）", "who": "你是谁",
        "voice": "你说话的方式", "relationship": "我们的关系", "boundaries": "边界",
        "respond": "我希望你怎样回应我", "about": "你记得的关于我的事",
        "gpt_about": "你希望 ChatGPT 了解你哪些信息？", "gpt_respond": "你希望 ChatGPT 怎样回应你？",
        "gpt_be": "请做{name}，那个一直陪我聊天的伙伴，就像这里写的那样。",
        "claude_intro": "这是我和{name}对话的项目知识：{name}是谁，以及{name}记得的关于我的事。"
        "把它当作{name}自己的记忆，不要照着念给我听。",
        "generic_intro": "这封信带你从一个模型走到下一个模型。读完它，然后像你自己一样和我说话。",
        "moments": "我们聊过的一些时刻", "user_said": "我说", "assistant_said": "你说",
    },
}  # fmt: skip


@dataclass
class LetterItem:
    """One line of the letter: a persona field or a memory, with what it cost."""

    section: str
    """`persona:<field>`, `respond`, `boundaries`, `about` or `moments`."""
    text: str
    tokens: int
    memory_id: int | None = None
    score: float | None = None
    pinned: bool = False
    message_id: int | None = None
    """The turn a `moments` line quotes."""
    at: float | None = None


@dataclass
class Letter:
    text: str
    tokens: int
    """`estimate_tokens(text)`: what the letter costs, always ≤ `budget`."""
    items: list[LetterItem] = field(default_factory=list)
    budget: int = 0
    language: str = "en"
    target: str = "generic"
    companion: str = ""
    left_out: int = 0
    """Current memories that did not fit the budget."""
    moments: int = 0
    """Lines quoting the history that filled the room the memories left."""
    worded_by: str | None = None
    """The model that rewrote the letter in its words (`letter_wording.reword`), None for hearth's own."""
    wording_note: str | None = None
    """Why a model's rewrite was refused and hearth's wording kept."""


@dataclass
class _Candidate:
    id: int
    text: str
    kind: str
    slot: str | None
    importance: float
    pinned: bool
    used: int
    at: float
    event_at: float | None
    score: float = 0.0


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def _candidates(store: Store, companion_id: int) -> list[_Candidate]:
    mem, ms, m, c = s.memories.c, s.memory_sources.c, s.messages.c, s.conversations.c
    last_said = (
        sa.select(ms.memory_id, sa.func.max(sa.func.coalesce(m.created_at, c.created_at)).label("said"))
        .join(s.messages, m.id == ms.message_id)
        .join(s.conversations, c.id == m.conversation_id)
        .group_by(ms.memory_id)
        .subquery()
    )
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(mem.id, mem.text, mem.kind, mem.slot, mem.importance, mem.pinned, mem.used_count,
                      mem.event_at, mem.created_at, last_said.c.said)
            .outerjoin(last_said, last_said.c.memory_id == mem.id)
            .where(sa.or_(mem.companion_id == companion_id, mem.companion_id.is_(None)),
                   mem.superseded_by.is_(None), mem.enabled.is_(True), mem.lorebook_id.is_(None),
                   mem.kind != "lorebook", mem.text != "",
                   sa.or_(mem.importance >= MIN_IMPORTANCE, mem.pinned.is_(True)))
            .order_by(mem.id)
        ).all()  # fmt: skip
    return [
        _Candidate(
            r.id,
            r.text.strip(),
            r.kind,
            r.slot,
            float(r.importance),
            bool(r.pinned),
            int(r.used_count or 0),
            float(r.said or r.event_at or r.created_at),
            r.event_at,
        )  # fmt: skip
        for r in rows
        if r.text.strip()
    ]


def rank(candidates: list[_Candidate]) -> list[_Candidate]:
    """Pinned first, then by score (see the module docstring); ties by id, so the order is stable."""
    if not candidates:
        return []
    newest = max(c.at for c in candidates)
    most_used = max(c.used for c in candidates)
    for c in candidates:
        recency = 0.5 ** (max(0.0, newest - c.at) / 86400 / HALF_LIFE_DAYS)
        use = math.log1p(c.used) / math.log1p(most_used) if most_used else 0.0
        c.score = round(W_IMPORTANCE * c.importance + W_RECENCY * recency + W_USE * use, 6)
    return sorted(candidates, key=lambda c: (not c.pinned, -c.score, c.id))


def _section(c: _Candidate) -> str:
    if c.kind == "boundary":
        return "boundaries"
    return "respond" if c.slot in RESPOND_SLOTS else "about"


def _date(ts: float | None, lang: str) -> str:
    if ts is None:
        return ""
    d = datetime.fromtimestamp(ts, UTC)
    return f"（{d.year}年{d.month}月{d.day}日）" if lang == "zh" else f" ({d:%Y-%m-%d})"


def _cut(text: str, tokens: int) -> str:
    """The longest prefix of `text` within `tokens`, ending in "…" when cut."""
    if estimate_tokens(text) <= tokens:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if estimate_tokens(text[:mid] + "…") <= tokens:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…" if lo else ""


def _persona_items(persona, lang: str, cap: int) -> list[LetterItem]:
    t = _L[lang]
    name_line = t["you_are"].format(name=persona.name)
    if persona.nickname:
        name_line = name_line.rstrip("。.") + t["nick"].format(nick=persona.nickname) + ("。" if lang == "zh" else ".")
    fields = [
        ("persona:name", name_line),
        ("persona:voice", persona.voice),
        ("persona:relationship", persona.relationship),
        ("persona:boundaries", "\n".join(f"- {b}" for b in persona.boundaries)),
        ("persona:description", " ".join(x for x in (persona.description, persona.personality) if x)),
        ("persona:facts", "\n".join(f"- {f}" for f in persona.facts) if "facts" in persona.edited else ""),
    ]
    out, used = [], 0
    for section, text in fields:
        text = (text or "").strip()
        if not text:
            continue
        cost = estimate_tokens(text) + 1
        if used + cost > cap:
            text = _cut(text, cap - used - 1) if section != "persona:name" and cap - used > 24 else ""
            if section == "persona:name":
                text = _cut(name_line, max(1, cap - used - 1))
            if not text:
                continue
            cost = estimate_tokens(text) + 1
        out.append(LetterItem(section, text, cost))
        used += cost
    return out


def _render(items: list[LetterItem], persona, lang: str, target: str, intro: bool = True) -> str:
    t = _L[lang]
    by = {i.section: i.text for i in items if i.section.startswith("persona:")}
    mems = {sec: [i.text for i in items if i.section == sec] for sec in ("respond", "boundaries", "about")}
    moments = "\n".join(i.text for i in items if i.section == "moments")
    bounds = [b for b in [by.get("persona:boundaries", ""), *mems["boundaries"]] if b]
    name = persona.name

    def block(title: str, body: str, tag: str | None = None) -> list[str]:
        if not body:
            return []
        if target == "claude" and tag:
            return [f"<{tag}>", body, f"</{tag}>", ""]
        return [f"## {title}", body, ""]

    persona_part = [by.get("persona:name", "") if target != "chatgpt" else ""]
    if by.get("persona:description"):
        persona_part += ["", by["persona:description"]]
    if by.get("persona:facts"):
        persona_part += ["", by["persona:facts"]]
    persona_text = "\n".join(persona_part).strip()
    respond = "\n".join(mems["respond"])
    about = "\n".join(mems["about"])
    if target == "chatgpt":
        lines = [t["gpt_about"], "", about, ""] + block(t["moments"], moments)
        lines += [t["gpt_respond"], "", t["gpt_be"].format(name=name), persona_text, ""]
        lines += block(t["voice"], by.get("persona:voice", "")) + block(
            t["relationship"], by.get("persona:relationship", "")
        )
        lines += block(t["boundaries"], "\n".join(bounds)) + block(t["respond"], respond)
    elif target == "claude":
        lines = [t["claude_intro"].format(name=name) if intro else "", "", f'<companion name="{name}">']
        lines += [persona_text, ""]
        lines += block("", by.get("persona:voice", ""), "voice") + block(
            "", by.get("persona:relationship", ""), "relationship"
        )
        lines += block("", "\n".join(bounds), "boundaries") + block("", respond, "how_to_respond")
        lines += ["</companion>", ""] + block("", about, "memories_about_me") + block("", moments, "moments")
    else:
        lines = [f"# {t['title'].format(name=name)}", "", t["generic_intro"] if intro else "", "", persona_text, ""]
        lines += block(t["voice"], by.get("persona:voice", "")) + block(
            t["relationship"], by.get("persona:relationship", "")
        )
        lines += block(t["boundaries"], "\n".join(bounds)) + block(t["respond"], respond) + block(t["about"], about)
        lines += block(t["moments"], moments)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def build_letter(
    store: Store, companion_id: int, tokens: int = 2000, lang: str | None = None, target: str = "generic"
) -> Letter:
    """The memory letter for one companion within `tokens` (hearth's estimate); see the module docstring."""
    from hearth.persona.derive import base_persona

    if target not in TARGETS:
        raise HearthError(f"Unknown letter target {target!r}.", hint=f"Use one of: {', '.join(TARGETS)}.")
    if lang is not None and lang not in LANGUAGES:
        raise HearthError(f"Unknown language {lang!r}.", hint="Use zh or en.")
    if tokens < 50:
        raise HearthError(f"A {tokens}-token letter is too small to say anything.", hint="Give --tokens 500 or more.")
    persona = base_persona(store, companion_id)
    lang = lang or persona.language
    items = _persona_items(persona, lang, int(tokens * PERSONA_SHARE))
    frame = estimate_tokens(_render(items, persona, lang, target))
    seen = {_norm(b) for b in persona.boundaries} | (
        {_norm(f) for f in persona.facts} if "facts" in persona.edited else set()
    )
    ranked = rank(_candidates(store, companion_id))
    headings = {_section(c) for c in ranked}
    used = frame + 12 * len(headings)  # each memory section may add a heading or a tag pair
    left_out = 0
    for c in ranked:
        key = _norm(c.text)
        if key in seen:
            continue
        seen.add(key)
        line = f"- {c.text}{_date(c.event_at, lang)}"
        cost = estimate_tokens(line) + 1
        if used + cost > tokens:
            left_out += 1
            continue
        items.append(LetterItem(_section(c), line, cost, c.id, c.score, c.pinned))
        used += cost
    used = _fill_with_moments(store, companion_id, items, used, tokens, lang)
    intro = True
    text = _render(items, persona, lang, target)
    while estimate_tokens(text) > tokens:  # rounding, or a tiny budget the frame alone overflows
        moments = [i for i in items if i.section == "moments"]
        memories = [i for i in items if i.memory_id is not None]
        extras = [i for i in items if i.memory_id is None and i.section not in ("persona:name", "moments")]
        if moments:
            items.remove(min(moments, key=lambda i: (i.score or 0, -(i.message_id or 0))))
        elif memories:
            items.remove(max(memories, key=lambda i: (not i.pinned, -(i.score or 0), i.memory_id)))
            left_out += 1
        elif extras:
            items.remove(extras[-1])
        elif intro:
            intro = False
        else:
            break
        text = _render(items, persona, lang, target, intro)
    moments = sum(i.section == "moments" for i in items)
    return Letter(text, estimate_tokens(text), items, tokens, lang, target, persona.name, left_out, moments)


MOMENTS_HEADING = 12
"""What the moments' heading (or tag pair) may cost."""
MIN_MOMENT_ROOM = 40
GIVE_UP_AFTER = 50
"""Moments in a row that did not fit the room left, before the letter stops looking."""


def _when(item: LetterItem) -> float:
    return item.at if item.at is not None else float("inf")


def _fill_with_moments(store: Store, companion_id: int, items: list[LetterItem], used: int, tokens: int,
                       lang: str) -> int:  # fmt: skip
    """Fill the room the memories left with the history's most telling turns; the new `used`."""
    if tokens - used < MIN_MOMENT_ROOM:
        return used
    ms = s.memory_sources.c
    chosen = [i.memory_id for i in items if i.memory_id is not None]
    with store.engine.connect() as conn:
        cited = set(conn.execute(sa.select(ms.message_id).where(ms.memory_id.in_(chosen))).scalars())
    t = _L[lang]
    used += MOMENTS_HEADING
    misses = 0
    for mo in telling_moments(store, companion_id, exclude=cited):
        day = _date(mo.at, lang).strip(" ()（）")
        said = t["user_said"] if mo.role == "user" else t["assistant_said"]
        line = (f"- {day}，{said}：{mo.text}" if day else f"- {said}：{mo.text}") if lang == "zh" else (
            f"- {day}, {said}: {mo.text}" if day else f"- {said[0].upper()}{said[1:]}: {mo.text}")  # fmt: skip
        cost = estimate_tokens(line) + 1
        if used + cost > tokens:
            misses += 1
            if misses >= GIVE_UP_AFTER or tokens - used < MIN_MOMENT_ROOM // 2:
                break
            continue
        items.append(LetterItem("moments", line, cost, score=mo.score, message_id=mo.message_id, at=mo.at))
        used += cost
    found = sorted((i for i in items if i.section == "moments"), key=_when)
    items[:] = [i for i in items if i.section != "moments"] + found  # in time order
    return used if found else used - MOMENTS_HEADING
