"""Deterministic memory extraction: what a person said about themselves, without any LLM.

hearth's embedded model is too small to pull memories out of a history, yet the person should still
get a memory they can see and edit after an offline import. So this module reads the person's own
turns with hand-written Chinese and English patterns (`hearth.memory.slots`) and proposes
`Candidate` memories, each with the messages it came from.

How a turn is read, and why:
- Text is folded character for character (full-width → ASCII, some traditional → simplified
  characters, curly → straight quotes), so patterns are written once and offsets still point into
  the original text, which is where values are cut from (a 臺北 stays 臺北).
- It is split into sentences and clauses. A clause that drops its subject ("我叫小明，今年25岁")
  inherits 我 / I from the clause before it when that one was about the person; a bare time
  ("Tomorrow, I have an exam") or greeting joins the next clause, and "，叫小白" the one before.
- A clause is skipped when it is a question, hypothetical ("如果", "if"), reported by someone else
  ("朋友说我…", "my friend said I…") or inside a relative clause ("what I love is…"). Negated
  statements never match a positive pattern; "我不住在北京了" yields a candidate that *ends* the
  residence slot (`ends_slot`) instead of asserting one.
- Only `role == "user"` turns give facts about the person. Assistant turns are read for
  relationship milestones only ("我们认识一年了"): the companion saying so is evidence of the shared
  history, while its other statements are not facts about the person.
- Relative dates resolve against the turn's `created_at` in `tz` (UTC by default) and are written
  into the memory's text ("2024年3月7日：面试"), because "明天有面试" is wrong a day later.

Importance (0..1) is a fixed heuristic: boundaries .95; name and milestones .9; health and nickname
.85; family, pets, residence, job .65–.8; birthday .75; medical events .75, other events .6 (past
.5); age .6; favourites .55; dislikes .45 and likes .4 (+.1 when stressed: 最/特别/really/hate).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from hearth.memory import slots as S


@dataclass(frozen=True)
class Turn:
    """One message as the extractor sees it."""

    message_id: int
    role: str
    text: str
    created_at: float | None
    conversation_id: int


@dataclass
class Candidate:
    """A proposed memory. `ends_slot`/`ends_value` mark a statement that a fact stopped being true
    ("我不住在北京了"); its `slot` stays None so a store that ignores them keeps it as plain text."""

    text: str
    kind: str
    slot: str | None
    value: str | None
    importance: float
    event_at: float | None
    source_message_ids: list[int]
    language: str
    ends_slot: str | None = None
    ends_value: str | None = None


_FOLD = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2018: 0x27, 0x2019: 0x27, 0x201C: 0x22,
                                                          0x201D: 0x22}
_FOLD |= {ord(S.TRAD[i]): ord(S.TRAD[i + 1]) for i in range(0, len(S.TRAD) - 1, 2)}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
_NONWORD = re.compile(r"[^\w']+")
_SENT = re.compile(r"[。!?;\n…]+|\.{2,}|\.(?=\s|$)")
_ABBR = re.compile(r"\b(?:mr|mrs|ms|dr|st|jr|sr|vs|etc|mt|prof|no|e\.g|i\.e)$", re.I)
_CLAUSE = re.compile(r"\s*[,:]\s*|\s+(?:and|but|so|because|cause|though|although|while)\s+(?=(?:i|i'm|i've|i'd|im|ive|"
                     r"my|we|we're|we've|our|live|work|moved|love|like|hate|have|study|am|just|also|really)\b)", re.I)
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|hiya|嗨|你好|哈喽|嘿)(?:\s+there|\s+all|\s+everyone)?\s*$", re.I)
_JOIN_PREV = re.compile(r"^\s*(?:(?:其中)?(?:一只|一条)?(?:它|他|她)?(?:叫|名叫|名字叫)|(?i:named|called)\b)")
_ZH_SELF = re.compile(rf"^(?:[嗯啊哦哈对了然后而且另外其实]{{0,4}})我"
                      rf"(?!们|(?:的|家的?|们家的?)?(?:{S.REL_ZH}|{S.PET_ZH}))")
_EN_SELF = re.compile(r"^(?:(?:so|and|but|well|also|oh|honestly|actually|btw|anyway)\s+)?(?:i|i'm|i've|im|ive|i am)\b",
                      re.I)
_ZH_CARRY = re.compile(r"^(?:今年|现在|目前|住|在|搬|是|做|当|从事|对|喜欢|爱|讨厌|最|特别|很|"
                       r"也|还|已经|刚|养|不|来自|老家)")
_EN_CARRY = re.compile(r"^(?:live|living|work|working|moved|just moved|am|study|studying|currently|recently|was born|"
                       r"grew up|turned)\b", re.I)


class _Triggers:
    """English trigger words (a set, intersected with the text's words) and phrases (substrings)."""

    def __init__(self, triggers: Iterable[str]) -> None:
        self.words = frozenset(t for t in triggers if " " not in t)
        self.phrases: dict[str, list[tuple[str, str]]] = {}  # by first word, so most are never tried
        for t in triggers:
            if " " in t:
                self.phrases.setdefault(t.split()[0], []).append((t, f" {t} "))

    def found(self, words: set[str], padded: str) -> list[str]:
        return [*(self.words & words),
                *(t for w in self.phrases.keys() & words for t, tp in self.phrases[w] if tp in padded)]


def _index(rules: list[S.Rule]) -> dict[str, list[S.Rule]]:
    woken: dict[str, list[S.Rule]] = {}
    for r in rules:
        for t in r.triggers:
            woken.setdefault(t, []).append(r)
    return woken


_WOKEN = {"zh": _index(S.ZH), "en": _index(S.EN)}
_EN_TRIGGERS = _Triggers(_WOKEN["en"])
_ASSISTANT = tuple({t for r in S.ZH + S.EN if r.assistant for t in r.triggers} | {"認識", "紀念日", "週年"})
_ORDER = {id(r): i for i, r in enumerate(S.ZH + S.EN)}


def _fold(text: str) -> str:
    return text if text.isascii() else text.translate(_FOLD)


def _num(s: str) -> int | None:
    """'25' / '二十五' / '十' / '一百' / 'twenty-two' → int; None when it is not a number."""
    if s.isdigit():
        return int(s)
    if s[:1].isascii():
        parts = re.split(r"[- ]", s.lower())
        return sum(S.WORDNUM.get(p, 0) for p in parts) or None if all(p in S.WORDNUM for p in parts) else None
    total, cur = 0, 0
    for ch in s:
        if ch in S.CN_DIGIT:
            cur = S.CN_DIGIT[ch]
        elif ch in "十百":
            total, cur = total + (cur or 1) * (10 if ch == "十" else 100), 0
        else:
            return None
    return total + cur


# ---------------------------------------------------------------- dates
def _add_month(d: date, day: int) -> tuple[int, int, int]:
    return (d.year + 1, 1, day) if d.month == 12 else (d.year, d.month + 1, day)


def _resolve(m: re.Match[str], base: date, past: bool) -> tuple[date | None, str]:
    """A time expression → (the day it names, 'day' | 'week'), relative to the day the turn was written.
    "下周五"/"next Friday" is Friday of next week; a bare weekday is the coming one (the last one in
    a past-tense clause); a month and day without a year is the one nearest the turn."""
    g = {k: v for k, v in m.groupdict().items() if v}
    monday = base - timedelta(days=base.weekday())
    try:
        if "rel" in g:
            return base + timedelta(days=S.REL_DAYS[g["rel"].lower()]), "day"
        if "wd" in g or "wd2" in g:
            w = (g.get("wd") or g["wd2"]).lower()
            idx = ("一二三四五六".find(w) if w in "一二三四五六" else 6 if w in "日天" else int(w) - 1 if w.isdigit()
                   else [d[:3] for d in S.WD.split("|")].index(w[:3]))
            shifts = {"下": 7, "next": 7, "下下": 14, "上": -7, "last": -7, "这": 0, "本": 0}
            shift = shifts.get(g.get("wkpre", "").lower())
            if shift is not None:
                return monday + timedelta(days=shift + idx), "day"
            back = -((base.weekday() - idx) % 7)
            return base + timedelta(days=back if past else (idx - base.weekday()) % 7), "day"
        if "nw" in g:
            return monday + timedelta(days=7), "week"
        if "iso" in g:
            return date(*map(int, g["iso"].split("-"))), "day"
        if "n" in g:
            n = _num(g["n"]) or (1 if g["n"].lower() in ("a", "an") else 0)
            return base + timedelta(days=n * (7 if g.get("u", "").lower().startswith("week") else 1)), "day"
        day = _num(g.get("d") or g.get("d2") or g.get("dd") or "") or 0
        if "nm" in g:
            return date(*_add_month(base, day)), "day"
        if "dd" in g:
            ahead = not past and day < base.day - 7
            return date(*_add_month(base, day)) if ahead else date(base.year, base.month, day), "day"
        mon = g.get("mo") or g.get("mon") or g.get("mon2") or ""
        mo = S.MON.get(mon[:3].lower()) if mon[:1].isascii() and mon[:1].isalpha() else _num(mon)
        near = []
        for y in (base.year - 1, base.year, base.year + 1):
            try:
                near.append(date(y, mo or 0, day))
            except ValueError:
                pass
        return (min(near, key=lambda d: abs((d - base).days)) if near else None), "day"
    except (ValueError, OverflowError):
        return None, "day"


def _when(text: str, lang: str, created_at: float | None, tz: tzinfo) -> tuple[float | None, str, str | None]:
    """The first time expression in a clause: (timestamp or None, granularity, the words that said it)."""
    m = (S.EN_TIME if lang == "en" else S.ZH_TIME).search(text) or (S.EN_TIME.search(text) if lang == "mixed" else None)
    if m is None:
        return None, "", None
    if created_at is None:
        return None, "day", m.group(0)
    past = bool((S.EN_PAST if lang == "en" else S.ZH_PAST).search(text))
    try:
        day, gran = _resolve(m, datetime.fromtimestamp(created_at, tz).date(), past)
        if day is None:
            return None, "day", m.group(0)
        datetime.combine(day, time(0), tz).timestamp()
    except (ValueError, OverflowError, OSError):  # a date outside what datetime can hold
        return None, "day", m.group(0)
    hour = minute = 0
    hm = (S.EN_HOUR if lang == "en" else S.ZH_HOUR).search(text)
    if hm and gran == "day":
        g = hm.groupdict()
        h = _num(g["h"] or g.get("h2") or "") or 0
        ap = (g["ap"] or g.get("ap2") or "").lower()
        if (ap in ("下午", "晚上", "傍晚", "pm", "p.m.") and h < 12) or (not ap and lang == "en" and h < 8):
            h += 12
        minute = 30 if g.get("half") else int(g.get("mi") or g.get("mi2") or 0)
        hour, minute = (h, minute) if h < 24 and minute < 60 else (0, 0)
    return datetime.combine(day, time(hour, minute), tz).timestamp(), gran, m.group(0)


def _date_text(ts: float, lang: str, tz: tzinfo, gran: str = "day") -> str:
    d = datetime.fromtimestamp(ts, tz)
    clock = f" {d:%H:%M}" if (d.hour or d.minute) else ""
    if lang == "en":
        return f"the week of {d:%Y-%m-%d}" if gran == "week" else f"{d:%Y-%m-%d}{clock}"
    return f"{d.year}年{d.month}月{d.day}日" + ("那周" if gran == "week" else clock)


# ---------------------------------------------------------------- clauses and values
def _language(s: str) -> str:
    if not _CJK.search(s):
        return "en"
    return "mixed" if len(_LATIN_WORD.findall(s)) >= 3 else "zh"


def _clauses(folded: str, keep: Callable[[str], bool]) -> Iterator[tuple[int, int, bool, bool, int]]:
    """(start, end, is_question, is_hypothetical, sentence) per clause, pieces of one statement
    joined; a sentence that `keep` turns down (no trigger word in it) is not split at all (speed)."""
    start, n = 0, 0
    for m in [*_SENT.finditer(folded), None]:
        if m is not None and m.group() == "." and _ABBR.search(folded, max(0, m.start() - 5), m.start()):
            continue
        s, e, q = start, (len(folded) if m is None else m.start()), m is not None and "?" in m.group()
        start, n = (m.end() if m else start), n + 1
        if s >= e or not keep(folded[s:e]):
            continue
        spans, pos = [], s
        for c in _CLAUSE.finditer(folded, s, e):
            spans.append((pos, c.start()))
            pos = c.end()
        spans.append((pos, e))
        merged: list[list[int]] = []
        for a, b in spans:
            piece = folded[a:b].strip()
            if merged and (merged[-1][2] or _JOIN_PREV.match(piece)):
                merged[-1][1:] = [b, 0]
            else:
                lead = len(piece) < 30 and bool(S.ZH_TIME.fullmatch(piece) or S.EN_TIME.fullmatch(piece)
                                                or _GREETING.match(piece))
                merged.append([a, b, lead])
        hypo = bool(S.HYPO.match(folded, merged[0][0]))
        for i, (a, b, _) in enumerate(merged):
            piece = folded[a:b]
            question = (q and i == len(merged) - 1) or bool(S.ZH_Q.search(piece) or S.EN_Q.match(piece))
            yield a, b, question, hypo, n


def _clean(v: str, lang: str, keep_de: bool) -> str:
    v = v.strip().strip("\"'“”「」")
    if lang == "en":
        return re.sub(r"^(?:also|really|just|still|even|actually|totally)\s+", "", re.sub(r"\s+", " ", v), flags=re.I)
    v = S.ZH_TRAIL.sub("", v)
    return (v if keep_de else re.sub(r"(?<=.)的$", "", v)).strip()


def _valid(v: str, check: str, zh: bool) -> str | None:
    """The value, normalised, or None when it is not a plausible value for this kind of slot."""
    if check == "none":
        return v
    if check == "num":
        n = _num(v)
        return str(n) if n is not None and 3 <= n <= 120 else None
    if not v or (S.ZH_QWORD if zh else S.EN_QWORD).search(v):
        return None
    if check == "name":
        if zh and _CJK.match(v):
            return None if v[0] in S.ZH_NAME_BAD or re.search("任何|随便|名字|什么", v) else v
        words = v.split()
        while words and words[-1].lower() in S.NAME_STOP:
            words.pop()
        return " ".join(words) if words and words[0].lower() not in S.NAME_STOP else None
    if zh and _CJK.search(v):
        if check == "org":
            v = re.sub(r"^(?:一家|一个|一所|一间|某家?|这家|那家)", "", v)
        bad = (S.ZH_BAD_START.match(v) or len(v) > 14 or check == "pref" and re.search("[这那它他她你]", v)
               or check in ("place", "org") and (v in (S.BAD_PLACE_ZH if check == "place" else S.BAD_ORG_ZH)
                                                 or len(v) < 2 or v[:1].isdigit())
               or check == "role" and (v.endswith(S.BAD_ROLE_ZH) or re.search(r"的|你|他|她|不|很|最|太|什么", v))
               or check == "origin" and set(v) & S.ORIGIN_BAD or check == "health" and (v[:1] in "点些" or len(v) < 2))
        return None if bad else v
    bad = (S.EN_BAD_START.match(v) or S.EN_YOU.search(v) or len(v.split()) > 6
           or check == "pref" and (S.EN_DEICTIC.search(v) or S.EN_PREF_BAD.match(v))
           or check == "place" and S.BAD_PLACE_EN.match(v) or check in ("org", "school") and S.BAD_ORG_EN.match(v)
           or check == "school" and not S.SCHOOL_EN.search(v))
    return None if bad else v


def _keys(rule: S.Rule, m: re.Match[str], orig: str, off: int, lang: str) -> dict[str, str] | None:
    """Template keys for a match: its groups (cut from the original text) plus derived ones."""
    g = {k: v for k, v in m.groupdict().items() if v is not None}
    k = {name: (orig[off + m.start(name): off + m.end(name)] if off + m.start(name) >= 0 else val)
         for name, val in g.items()}
    if "v" in k:
        v = _valid(_clean(k["v"], lang, rule.kind == "boundary" or rule.check in ("name", "origin")), rule.check,
                   lang != "en")
        if v is None:
            return None
        k["v"] = v
    rel, pet, verb = (g.get(x, "").lower() for x in ("rel", "pet", "verb"))
    k["rel_slot"] = f"{S.REL_OF[rel]}:name" if rel in S.REL_OF else ""
    if rel and lang == "en":
        k["person_en"] = f"{rel.capitalize()}'s name is {k['v']}" if rel in S.REL_OF else f"Has a {rel} named {k['v']}"
    k["pet_n"] = S.PET_OF.get(pet, pet)
    what = k.get("what", "").lower().replace("colour", "color").replace("film", "movie")
    k["what_n"] = what[:-1] if what.endswith("s") and not what.endswith("ss") else what
    words = verb.split() or [""]
    head = words[0][:-3] if words[0].endswith("ing") else words[0]
    k |= {"verb3": S.VERB3.get(verb, verb), "verb_neg": "Can't" if verb.startswith("can") else "Doesn't",
          "verb_base": " ".join([head + "e" * (head in ("us", "jok"))] + words[1:]),
          "a": "an" if k.get("v", "x")[:1].lower() in "aeiou" else "a"}
    mon, day = g.get("m") or g.get("mon") or g.get("mon2"), g.get("d") or g.get("d2")
    if mon and day:
        mo = S.MON.get(mon[:3].lower()) if mon[:1].isascii() and mon[:1].isalpha() else _num(mon)
        dd = _num(day)
        if not mo or not dd or mo > 12 or dd > 31:
            return None
        k |= {"md": f"{mo:02d}-{dd:02d}", "date_md": f"{S.MON_NAME[mo - 1]} {dd}", "m": str(mo), "d": str(dd)}
    return k


# ---------------------------------------------------------------- rules and events
def _apply(rule: S.Rule, vtext: str, orig: str, off: int, lang: str, turn: Turn, tz: tzinfo) -> Candidate | None:
    m = rule.pattern.search(vtext)
    if m is None:
        return None
    if rule.lang == "zh" and S.ZH_PREFIX_BAD.search(vtext, 0, m.start()) or rule.lang == "en" and (
            S.EN_PREFIX_BAD.search(vtext, 0, m.start()) or S.EN_RELATIVE.search(vtext, 0, m.start())):
        return None  # hypothetical, reported, or inside a relative clause ("what I love makes…")
    if rule.kind == "preference" and (S.EN_YOU if rule.lang == "en" else S.ZH_YOU).search(vtext, m.end(), m.end() + 25):
        return None  # "I love talking with you" is about the companion, not a taste
    k = _keys(rule, m, orig, off, lang)
    if k is None:
        return None
    event_at = None
    if rule.kind == "milestone":
        event_at, _, said = _when(vtext, lang, turn.created_at, tz)
        if said is None and turn.created_at is not None:
            try:  # the day it was said
                event_at = datetime.combine(datetime.fromtimestamp(turn.created_at, tz).date(), time(0), tz).timestamp()
            except (ValueError, OverflowError, OSError):
                event_at = None
        k["date"] = _date_text(event_at, rule.lang, tz) if event_at is not None else ""
    text = rule.text.format(**k)
    if k.get("date") == "":
        text = re.sub(r"\s*[（(][^（(]*[）)]$", "", text)
    slot = (rule.slot.format(**k) if rule.slot else "") or None
    value = rule.value.format(**k) if rule.value else None
    imp = rule.importance + (.1 if rule.kind == "preference" and S.STRESS.search(vtext) else 0)
    if rule.ends:
        return Candidate(text, rule.kind, None, None, imp, None, [turn.message_id], lang, slot, value or "")
    return Candidate(text, rule.kind, slot, value, imp, event_at, [turn.message_id], lang)


def _event(fc: str, oc: str, lang: str, turn: Turn, tz: tzinfo) -> list[Candidate]:
    """A dated event in one clause ("下周五有面试", "my exam is tomorrow"), or nothing."""
    zh = lang != "en"
    em = (S.EV_ZH if zh else S.EV_EN).search(fc)
    if em is None or (S.NEG_ZH if zh else S.NEG_EN).search(fc):
        return []
    ts, gran, said = _when(fc, lang, turn.created_at, tz)
    own = (S.OWNER_ZH if zh else S.OWNER_EN).search(fc)
    if said is None or own is None and ((S.OTHER_ZH.search(fc) or ("你" in fc and "我" not in fc)) if zh else
                                        (S.OTHER_EN.search(fc) or not S.FIRST_EN.search(fc))):
        return []
    ev = oc[slice(*em.span())] if zh else oc[slice(*em.span("ev" if em.group("ev") else "ev2"))]
    birthday = ev.lower() in ("生日", "birthday")
    if ev.lower() in ("纪念日", "anniversary") and own is None:
        return []  # "我们的纪念日" belongs to a milestone rule
    if birthday and re.search(r"月|\d{4}-|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)", said, re.I):
        return []  # "我生日是3月5号" is a yearly fact (the birthday rule's), not an event
    rel = oc[slice(*own.span("rel"))] if own else ""
    what = (rel + ev) if zh else (f"{rel.capitalize()}'s {ev}" if rel else ev[:1].upper() + ev[1:])
    when = _date_text(ts, lang if lang == "en" else "zh", tz, gran) if ts is not None else said
    text = f"{when}：{what}" if zh else f"{what} {'in' if gran == 'week' else 'on'} {when}" if ts else f"{what} {when}"
    imp = .75 if S.MEDICAL.search(ev) else (.5 if ts is not None and ts < (turn.created_at or 0) - 86400 else .6)
    out = [Candidate(text, "event", None, what if zh else what.lower(), imp, ts, [turn.message_id], lang)]
    if birthday and not rel and ts is not None and gran == "day":
        d = datetime.fromtimestamp(ts, tz)
        out.append(Candidate(f"生日是{d.month}月{d.day}日" if zh else f"Birthday is {S.MON_NAME[d.month - 1]} {d.day}",
                             "fact", "birthday", f"{d.month:02d}-{d.day:02d}", .75, None, [turn.message_id], lang))
    return out


# ---------------------------------------------------------------- public API
def extract_turn(turn: Turn, tz: tzinfo = UTC) -> list[Candidate]:
    """Candidates from one turn, in the order they were said, duplicates within the turn dropped."""
    user = turn.role == "user"
    if not (user or turn.role == "assistant") or not turn.text:
        return []
    if not user and not any(t in turn.text.lower() for t in _ASSISTANT):
        return []  # a cheap test first: most assistant turns mention no milestone at all
    folded = _fold(turn.text)
    low = folded.lower()
    pad = " " + _NONWORD.sub(" ", low) + " "
    words = set(pad.split())
    cjk = bool(_CJK.search(folded))
    # Triggers are looked for once per turn, then per clause only among those found (speed).
    hits = {"zh": [t for t in _WOKEN["zh"] if t in low] if cjk else [],
            "en": _EN_TRIGGERS.found(words, pad) if re.search("[a-z]", low) else []}
    events = user and bool(cjk and S.EV_ZH.search(folded) or words & S.EV_WORDS and S.EV_EN.search(folded))
    if not (events or hits["zh"] or hits["en"]):
        return []
    needles = hits["zh"] + hits["en"]

    def keep(sentence: str) -> bool:
        s = sentence.lower()
        return any(t in s for t in needles) or events and bool(S.EV_ZH.search(sentence) or S.EV_EN.search(sentence))

    out: list[Candidate] = []
    seen: set[tuple[str, str | None, str | None, str]] = set()
    prev_self, prev_sentence = False, -1
    for s, e, question, hypo, sentence in _clauses(folded, keep):
        fc = folded[s:e].strip()
        s += len(folded[s:e]) - len(folded[s:e].lstrip())
        lang = _language(fc) if cjk else "en"
        zh = lang != "en"
        prefix = ""
        if prev_self and prev_sentence == sentence:  # "我叫小明，今年25岁" → "今年25岁" is about 我 too
            if zh and _ZH_CARRY.match(fc):
                prefix = "我"
            elif not zh and _EN_CARRY.match(fc):
                prefix = "I "
        vtext = prefix + fc
        prev_self, prev_sentence = bool((_ZH_SELF if zh else _EN_SELF).match(vtext)), sentence
        if question or hypo:
            continue
        found: list[Candidate] = []
        clow = vtext.lower()
        for key in (("zh", "en") if lang == "mixed" else ("zh",) if zh else ("en",)):
            woken = _WOKEN[key]
            if key == "zh":
                present = [t for t in (woken if prefix else hits["zh"]) if t in clow]
            else:
                cpad = " " + _NONWORD.sub(" ", clow) + " "
                cwords = set(cpad.split())
                present = (_EN_TRIGGERS.found(cwords, cpad) if prefix else
                           [t for t in hits["en"] if (f" {t} " in cpad if " " in t else t in cwords)])
            rules = {id(r): r for t in present for r in woken[t] if user or r.assistant}
            for i in sorted(rules, key=_ORDER.__getitem__):
                c = _apply(rules[i], vtext, turn.text, s - len(prefix), lang, turn, tz)
                if c is not None:
                    found.append(c)
        if events:
            found += _event(fc, turn.text[s:s + len(fc)], lang, turn, tz)
        for c in found:
            key4 = (c.kind, c.slot, c.value, c.text)
            if key4 not in seen:
                seen.add(key4)
                out.append(c)
    return out


def extract(turns: Iterable[Turn], *, tz: tzinfo = UTC) -> list[Candidate]:
    """Candidate memories from a stream of turns, one per statement (call `merge_duplicates` after).
    Relative dates resolve in `tz`; pass the person's own time zone when it is known."""
    out: list[Candidate] = []
    for turn in turns:
        out.extend(extract_turn(turn, tz))
    return out


def _norm(v: str | None) -> str:
    """Comparison form of a value: case, spaces, punctuation, a leading 'the' and 市/省 ignored."""
    v = re.sub(r"[\W_]+", "", re.sub(r"^the\s+", "", (v or "").casefold().strip()))
    return re.sub(r"(?<=.)[市省]$", "", v)


def supersedes(new: Candidate, old_slot: str | None, old_value: str | None) -> bool:
    """Whether `new` replaces a stored fact: the same slot with another value ("moved to Hangzhou"
    over "lives in Beijing"), or a statement that exactly that value ended ("我不住在北京了")."""
    if new.ends_slot is not None:
        return old_slot == new.ends_slot and (not new.ends_value or _norm(new.ends_value) == _norm(old_value))
    if new.slot is None or new.slot != old_slot or new.value is None or old_value is None:
        return False
    return _norm(new.value) != _norm(old_value)


def merge_duplicates(cands: list[Candidate]) -> list[Candidate]:
    """One candidate per fact: the same kind+slot+value (or, without a slot, the same text once case,
    spaces and punctuation are ignored) → the first one, with every source id and the highest
    importance. The input candidates are not modified."""
    out: list[Candidate] = []
    index: dict[tuple[str, str | None, str], Candidate] = {}
    for c in cands:
        key = (c.kind, c.slot, _norm(c.value)) if c.slot and c.value else (c.kind, c.ends_slot, _norm(c.text))
        have = index.get(key)
        if have is None:
            index[key] = have = Candidate(**{**c.__dict__, "source_message_ids": list(c.source_message_ids)})
            out.append(have)
            continue
        have.source_message_ids = sorted(set(have.source_message_ids) | set(c.source_message_ids))
        have.importance = max(have.importance, c.importance)
        if have.event_at is None:
            have.event_at = c.event_at
    return out
