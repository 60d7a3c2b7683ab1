"""Moments: the turns of a history that say the most, for a memory letter with room to spare.

A deterministic extractor only turns some kinds of statements into memories (names, places,
family, likes, boundaries); what happened to the person ("I went to a support group yesterday
and it was so powerful") mostly stays in the history. When a letter's memories leave part of the
budget free, it carries such moments instead of leaving the space empty, chosen without a model:

    score = information / sqrt(tokens) × (1.5 if the speaker talks about themselves) × (0.3 for a bare question)

information is the sum of the inverse document frequencies of the turn's distinct content words
(English words of 3+ letters, Chinese character bigrams) over the companion's history, leaving out
words found in more than a fifth of its turns: a turn full of words rarely said is specific, and
the square root lets a long turn count for more without a long one always winning. Turns are then
picked greedily with diminishing returns per conversation (each pick from a conversation scales
that conversation's next by `SPREAD`), so the letter spans the whole history; a turn whose
information mostly repeats an earlier pick is skipped (common words shared do not count). Only
what the person and the companion said counts (never tool output, hidden or off-branch
messages), and at most the newest `MAX_TURNS` turns are read, so a letter stays quick on a
history of millions of messages.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from hearth.memory.tokens import estimate_tokens
from hearth.store import Store
from hearth.store import schema as s
from hearth.store.tokens import normalise

MAX_TURNS = 50_000
COMMON = 0.2
"""Words in more than this share of the turns carry no information here ("really", "today")."""
SELF, QUESTION = 1.5, 0.3
SPREAD = 0.7
REPEAT = 0.6
"""A turn is skipped when this share of its information is already in one picked turn."""
MIN_WORDS = 3
MAX_LINE_TOKENS = 60
"""A longer turn keeps its most informative sentences, in order, up to this many tokens."""

_LATIN = re.compile(r"[^\W\d_]{3,}")
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_SELF = re.compile(r"\b(?:i|i'm|i've|i'd|i'll|me|my|mine|we|we're|we've|our|us)\b|我", re.IGNORECASE)
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？…]*[\"”'’)）]*\s*")


@dataclass
class Moment:
    message_id: int
    conversation_id: int
    role: str
    at: float | None
    text: str
    """The turn, or its most informative sentences when it is long."""
    score: float
    tokens: int


def content_words(text: str) -> set[str]:
    """Words of 3+ letters (English and other alphabets) and Chinese bigrams (a one-character run
    stays itself)."""
    text = normalise(text)
    words = set(_LATIN.findall(_CJK_RUN.sub(" ", text)))
    for run in _CJK_RUN.findall(text):
        words.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return words


def _turns(store: Store, companion_id: int) -> list[sa.Row]:
    m, c = s.messages.c, s.conversations.c
    with store.engine.connect() as conn:
        return conn.execute(
            sa.select(m.id, m.conversation_id, m.role, m.text, sa.func.coalesce(m.created_at, c.created_at).label("at"))
            .join(s.conversations, c.id == m.conversation_id)
            .where(c.companion_id == companion_id, m.role.in_(s.RECALLED_ROLES), m.visible.is_(True),
                   m.hidden.is_(False), m.text != "")
            .order_by(m.id.desc())
            .limit(MAX_TURNS)
        ).all()  # fmt: skip


def _information(words: set[str], idf: dict[str, float]) -> float:
    return sum(idf.get(w, 0.0) for w in words)


def _trim(text: str, idf: dict[str, float]) -> str:
    """The turn itself when short; else its densest sentences, kept in their order."""
    if estimate_tokens(text) <= MAX_LINE_TOKENS:
        return text.strip()
    sentences = [x for x in _SENTENCE.findall(text) if x.strip()] or [text]
    dense = sorted(
        range(len(sentences)),
        key=lambda i: -_information(content_words(sentences[i]), idf) / math.sqrt(estimate_tokens(sentences[i]) + 1),
    )
    keep, used = set(), 0
    for i in dense:
        cost = estimate_tokens(sentences[i])
        if used + cost <= MAX_LINE_TOKENS:
            keep.add(i)
            used += cost
    if not keep:
        words = sentences[dense[0]].split()
        return " ".join(words[: MAX_LINE_TOKENS // 2]).strip() + "…"
    out, last = [], None
    for i in sorted(keep):
        if last is not None:
            out.append(" " if i == last + 1 else " … ")
        out.append(sentences[i].strip())
        last = i
    return "".join(out)


def rank(store: Store, companion_id: int, exclude: set[int] | None = None) -> Iterator[Moment]:
    """Worthwhile turns, best first after the spreading (see the module docstring), lazily: a
    letter takes what fits and stops."""
    rows = _turns(store, companion_id)
    if not rows:
        return
    words = [content_words(r.text) for r in rows]
    df = Counter(w for ws in words for w in ws)
    n = len(rows)
    idf = {w: math.log(n / d) for w, d in df.items() if d <= max(1.0, COMMON * n)}
    base: dict[int, float] = {}
    info: dict[int, float] = {}
    for i, (r, ws) in enumerate(zip(rows, words, strict=True)):
        if exclude and r.id in exclude or len(ws) < MIN_WORDS:
            continue
        info[i] = _information(ws, idf)
        if info[i] <= 0:
            continue
        score = info[i] / math.sqrt(max(estimate_tokens(r.text), 8))
        score *= SELF if _SELF.search(r.text) else 1.0
        if r.text.rstrip().endswith(("?", "？")) and len(_SENTENCE.findall(r.text)) <= 1:
            score *= QUESTION
        base[i] = score
    heap = [(-score, i, 0) for i, score in base.items()]
    heapq.heapify(heap)
    picked_words: list[set[str]] = []
    per_conversation: Counter[int] = Counter()
    while heap:
        neg, i, seen = heapq.heappop(heap)
        r, ws = rows[i], words[i]
        now = per_conversation[r.conversation_id]
        if now != seen:  # its conversation gave a moment since it was scored: score it again
            heapq.heappush(heap, (-base[i] * SPREAD**now, i, now))
            continue
        if any(_information(ws & other, idf) >= REPEAT * info[i] for other in picked_words):
            continue
        picked_words.append(ws)
        per_conversation[r.conversation_id] += 1
        text = _trim(r.text, idf)
        yield Moment(r.id, r.conversation_id, r.role, r.at, text, round(-neg, 6), estimate_tokens(text))
