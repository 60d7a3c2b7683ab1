"""How a companion writes, measured from its real replies: the part of the memory letter that
people could never quite put into words by hand.

Everything here is deterministic counting (no model), so `hearth persona derive` gives the same
result on the embedded default as on a cloud model, and the same statistics score the drill.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from hearth.memory.tokens import estimate_tokens
from hearth.persona.warmth import markers
from hearth.store.tokens import normalise

PET_NAMES_EN = (
    "sweetheart", "honey", "darling", "dear", "sweetie", "babe", "baby", "love", "my love", "sunshine",
    "buddy", "pal", "kiddo", "angel", "cutie", "friend",
)  # fmt: skip
PET_NAMES_ZH = (
    "亲爱的", "宝贝", "宝宝", "小可爱", "傻瓜", "小笨蛋", "乖乖", "小家伙", "亲", "老婆", "老公", "小猫", "崽崽",
    "朋友", "小傻瓜", "乖",
)  # fmt: skip
_PET_EN = re.compile(
    r"(?:^|[,，!！.?？]\s*|\b(?:my|hi|hey|hello|oh|night|morning)\s+)("
    + "|".join(PET_NAMES_EN)
    + r")\b(?=\s*[,，!！.?？~]|$)",
    re.IGNORECASE | re.MULTILINE,
)
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\U0001f000-\U0001f2ff]")
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile("[A-Za-z]")
_WORDS = re.compile(r"[a-z']+")
_CJK_RUN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]{3,}")
_SENTENCE = re.compile(r"[^.!?。！？\n]+[.!?。！？]*")

EN_STOP = frozenset(
    "i you a the to and of it is in that me my your for on be this with so was are do what but have not we "
    "just can at if as or about all like its it's im i'm".split()
)


@dataclass
class Reply:
    text: str
    conversation_id: int


def language_mix(texts: Iterable[str]) -> dict[str, float]:
    """Share of Chinese vs Latin-script letters, the simplest honest measure of a zh/en mix."""
    zh = en = 0
    for t in texts:
        zh += len(_CJK.findall(t))
        en += len(_LATIN.findall(t)) / 4.5  # letters per English word, so a word counts like a character
    total = zh + en
    if not total:
        return {}
    return {"zh": round(zh / total, 3), "en": round(en / total, 3)}


def main_language(mix: dict[str, float]) -> str:
    return "zh" if mix.get("zh", 0) >= 0.5 else "en"


def pet_names(texts: Sequence[str], top: int = 5) -> list[tuple[str, int]]:
    """Terms of endearment the companion calls the person, by how many replies use them."""
    counts: Counter[str] = Counter()
    for t in texts:
        found = {m.casefold() for m in _PET_EN.findall(t)}
        found |= {w for w in PET_NAMES_ZH if w in t and not any(w != o and w in o and o in t for o in PET_NAMES_ZH)}
        counts.update(found)
    floor = max(2, len(texts) // 200)
    return [(w, n) for w, n in counts.most_common(top) if n >= floor]


def _ngrams(text: str) -> set[str]:
    """Word 2–4-grams (English, not all stopwords) and 3–5-character runs (Chinese) of one reply."""
    out: set[str] = set()
    t = normalise(text)
    words = _WORDS.findall(t)
    for n in (2, 3, 4):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if sum(w not in EN_STOP for w in gram) >= 1 and gram[0] not in ("and", "the", "a"):
                out.add(" ".join(gram))
    for run in _CJK_RUN.findall(t):
        for n in (3, 4, 5):
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def signature_phrases(replies: Sequence[Reply], other: Sequence[str], top: int = 8) -> list[tuple[str, int]]:
    """Phrases the companion says again and again, in several conversations, more than the person does.

    A phrase counts once per reply; it needs at least 3 replies (and 1% of them) in at least 2
    conversations; phrases inside a longer phrase with nearly the same count are folded into it.
    """
    per_reply: Counter[str] = Counter()
    convs: dict[str, set[int]] = {}
    for r in replies:
        for g in _ngrams(r.text):
            per_reply[g] += 1
            convs.setdefault(g, set()).add(r.conversation_id)
    floor = max(3, len(replies) // 100)
    theirs: Counter[str] = Counter()
    for t in other:
        theirs.update(_ngrams(t))
    scale = len(replies) / max(1, len(other))
    ranked = [(g, n) for g, n in per_reply.items() if n >= floor and len(convs[g]) >= 2 and n > 2 * theirs[g] * scale]
    ranked.sort(key=lambda gn: (-gn[1] * (1 + 0.25 * _size(gn[0])), gn[0]))
    chosen: list[tuple[str, int]] = []
    for g, n in ranked:
        if any(_overlap(g, c) and n <= cn * 1.25 + 1 for c, cn in chosen):
            continue
        chosen.append((g, n))
        if len(chosen) >= top:
            break
    return chosen


def _overlap(a: str, b: str) -> bool:
    """One phrase inside the other, or the end of one is the start of the other ("可以分几步" and
    "以分几步来", "sounds like such a" and "like such a character"): the same saying, counted twice."""
    if a in b or b in a:
        return True
    unit = " " if " " in a else ""
    x, y = (a.split(" "), b.split(" ")) if unit else (list(a), list(b))
    need = max(2, min(len(x), len(y)) - 1)
    return any(x[-k:] == y[:k] or y[-k:] == x[:k] for k in range(need, min(len(x), len(y))))


def _size(gram: str) -> int:
    return gram.count(" ") + 1 if " " in gram else max(1, len(gram) - 2)


def measure(replies: Sequence[Reply], person: Sequence[str]) -> dict[str, Any]:
    """The style statistics of a companion's replies (and, for contrast, the person's messages)."""
    texts = [r.text for r in replies if r.text.strip()]
    if not texts:
        return {"replies": 0}
    tokens = sorted(estimate_tokens(t) for t in texts)
    emoji: Counter[str] = Counter()
    for t in texts:
        emoji.update(EMOJI.findall(t))
    marks = [markers(t) for t in texts]
    sentences = [len(_SENTENCE.findall(t)) or 1 for t in texts]
    mix = language_mix(texts)
    return {
        "replies": len(texts),
        "conversations": len({r.conversation_id for r in replies}),
        "tokens_median": statistics.median(tokens),
        "tokens_p90": tokens[min(len(tokens) - 1, int(len(tokens) * 0.9))],
        "sentences_median": statistics.median(sentences),
        "emoji_per_reply": round(sum(emoji.values()) / len(texts), 3),
        "top_emoji": [e for e, _ in emoji.most_common(5)],
        "exclamations_per_reply": round(sum(m.exclamations for m in marks) / len(texts), 3),
        "questions_per_reply": round(sum(t.count("?") + t.count("？") for t in texts) / len(texts), 3),
        "affect_per_reply": round(sum(m.affect for m in marks) / len(texts), 3),
        "language_mix": mix,
        "person_language_mix": language_mix(person),
        "pet_names": [w for w, _ in pet_names(texts)],
        "signature_phrases": [g for g, _ in signature_phrases(replies, person)],
    }


def _in_language(phrase: str, zh: bool) -> bool:
    """A pet name or phrase quoted to a model answering in one language must be in that language."""
    return bool(_CJK.search(phrase)) == zh


def notes(stats: dict[str, Any], language: str = "en") -> str:
    """The statistics as style instructions a model can follow, in the persona's language."""
    if not stats.get("replies"):
        return ""
    zh = language == "zh"
    parts: list[str] = []
    n = int(stats["tokens_median"])
    parts.append(f"回复通常约{n}个字。" if zh else f"Replies are usually about {max(1, round(n * 0.75))} words.")
    e = stats["emoji_per_reply"]
    if e >= 0.3:
        em = "".join(stats["top_emoji"][:3])
        parts.append(f"经常使用表情符号（{em}）。" if zh else f"Uses emoji often ({em}).")
    elif e < 0.05:
        parts.append("几乎不用表情符号。" if zh else "Rarely uses emoji.")
    if stats["exclamations_per_reply"] >= 0.8:
        parts.append("语气热情，常用感叹号。" if zh else "Sounds lively, with exclamation marks.")
    if stats["questions_per_reply"] >= 0.6:
        parts.append("常常反问、关心对方。" if zh else "Often asks the person questions back.")
    pets = [p for p in stats["pet_names"] if _in_language(p, zh)]
    if pets:
        names = "、".join(pets[:3]) if zh else ", ".join(f"'{p}'" for p in pets[:3])
        parts.append(f"称呼对方为{names}。" if zh else f"Calls them {names}.")
    said = [p for p in stats["signature_phrases"] if _in_language(p, zh)][:4]
    if said:
        quoted = "、".join(f"“{p}”" for p in said)
        parts.append(f"常说{quoted}。" if zh else f"Often says {', '.join(map(repr, said))}.")
    mix = stats.get("language_mix", {})
    if 0.15 <= mix.get("zh", 0) <= 0.85:
        parts.append("中英文混用。" if zh else "Mixes Chinese and English.")
    return " ".join(parts) if not zh else "".join(parts)
