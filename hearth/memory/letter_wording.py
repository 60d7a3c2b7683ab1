"""The memory letter in a model's words: the deterministic letter, rewritten by a capable backend
so it reads like something a person wrote, and checked before it replaces hearth's wording.

A model asked to reword a letter drops facts, invents new ones and overruns the budget. So the
rewrite is kept only when it (1) fits the token budget (hearth's estimate, as the plain letter),
(2) still names the companion, (3) keeps what each memory and moment says: an item counts as
kept when at least `ITEM_KEPT` of its content words (3+ letter words, Chinese bigrams) are in
the rewrite, and at least `LETTER_KEPT` of the items must be kept, and (4) adds few words the
plain letter never had: few new content words (`NEW_WORDS`) and at most `NEW_NAMES` new names or
numbers (a capitalised word inside a sentence, a run of digits), the shape invented facts take.
Otherwise the plain
letter stands and the reason is reported: the person never gets a letter that lost something
without being told.
"""

from __future__ import annotations

import re
from dataclasses import replace

from hearth.backends.base import ChatBackend
from hearth.errors import HearthError
from hearth.memory.letter import Letter, LetterItem
from hearth.memory.moments import content_words
from hearth.memory.tokens import estimate_tokens

ITEM_KEPT = 0.5
LETTER_KEPT = 0.9
NEW_WORDS = 0.5
"""At most this share of the rewrite's content words may be absent from the plain letter (the
glue of prose: "remember", "together", "记得"… — but not a new city or a new name)."""
NEW_NAMES = 2
ROOM = 1.6
"""The model may spend up to this many of its own tokens per letter token: tokenizers differ."""
SYSTEM = {
    "en": (
        "You rewrite a 'memory letter': the text a person pastes into a new chat so their AI companion "
        "stays itself on another model. Rewrite the letter below as warm, natural prose a person would "
        "write, in English, addressed to {name}. Keep every fact, name, date, number, boundary and "
        "instruction; add nothing the letter does not say. Keep its structure: {frame} "
        "Stay within {words} words. Answer with the letter only."
    ),
    "zh": (
        "你在改写一封“记忆信”：一个人把它贴进新的对话，让AI陪伴在另一个模型上仍然是自己。请把下面的信改写成"
        "一个人会写的、温暖自然的中文，写给{name}。保留每一个事实、名字、日期、数字、边界和要求，不要添加信里"
        "没有的内容。保留它的结构：{frame}不超过{words}个字。只回答改写后的信。"
    ),
}
FRAME = {
    "en": {
        "generic": "a title line, then short sections with their '## ' headings.",
        "chatgpt": "the two questions of ChatGPT's custom instructions stay, each followed by its answer.",
        "claude": "keep every XML tag (<companion>, <memories_about_me>, …) and put the prose inside them.",
    },
    "zh": {
        "generic": "一行标题，然后是带“## ”小标题的几个部分。",
        "chatgpt": "保留 ChatGPT 自定义指令的两个问题，每个问题后面是它的回答。",
        "claude": "保留每一个XML标签（<companion>、<memories_about_me>……），把文字写在标签里面。",
    },
}


_SENTENCE = re.compile(r"[^.!?。！？:\n]+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*|\d+")


def _names(text: str, plain: str) -> list[str]:
    """Names and numbers in `text` that `plain` never has (in any case): capitalised words other
    than a sentence's first, and runs of digits."""
    known = plain.casefold()
    found: list[str] = []
    for sentence in _SENTENCE.findall(text):
        words = _WORD.findall(sentence)
        found += [w for i, w in enumerate(words) if (w.isdigit() or (i and w[0].isupper() and len(w) > 1))
                  and w.casefold() not in known]  # fmt: skip
    return list(dict.fromkeys(found))


def _kept(item: LetterItem, words: set[str]) -> bool:
    own = content_words(item.text)
    return not own or len(own & words) >= ITEM_KEPT * len(own)


def check(plain: Letter, text: str) -> str | None:
    """Why this rewrite cannot replace the plain letter, or None when it can."""
    tokens = estimate_tokens(text)
    if tokens > plain.budget:
        return f"it is {tokens:,} tokens, over the budget of {plain.budget:,}"
    if plain.companion and plain.companion.casefold() not in text.casefold():
        return f"it no longer names {plain.companion}"
    words = content_words(text)
    items = [i for i in plain.items if i.memory_id is not None or i.message_id is not None]
    lost = [i for i in items if not _kept(i, words)]
    if items and len(items) - len(lost) < LETTER_KEPT * len(items):
        return f"it dropped {len(lost)} of the {len(items)} memories and moments (first: {lost[0].text[:60]!r})"
    names = _names(text, plain.text)
    if len(names) > NEW_NAMES:
        return f"it names {', '.join(names[:5])}, which the letter never mentions (it may have made things up)"
    new = words - content_words(plain.text)
    if words and len(new) > NEW_WORDS * len(words):
        return f"{len(new)} of its {len(words)} words are not in the letter (it may have made things up)"
    if plain.target == "claude" and "<companion" not in text:
        return "it lost the <companion> tag Claude's project knowledge is built around"
    return None


def reword(plain: Letter, backend: ChatBackend) -> Letter:
    """The letter in `backend`'s words when the rewrite passes `check`, else the plain letter with
    the reason in `wording_note`. Errors from the backend itself (unreachable, wrong key) raise."""
    lang = "zh" if plain.language == "zh" else "en"
    room = int(plain.tokens * ROOM) + 64
    needed = backend.count_tokens(plain.text) + 300 + room
    if backend.context_tokens < needed:
        raise HearthError(
            f"{backend.name} reads {backend.context_tokens:,} tokens, too few to reword a {plain.tokens:,}-token "
            f"letter (it needs about {needed:,}).",
            hint="Give a smaller --tokens, or a backend with a longer context.",
        )
    words = max(50, int(plain.budget * (0.6 if lang == "en" else 1.2)))
    system = SYSTEM[lang].format(name=plain.companion or "the companion", frame=FRAME[lang][plain.target],
                                 words=words)  # fmt: skip
    result = backend.complete([{"role": "system", "content": system}, {"role": "user", "content": plain.text}],
                              temperature=0.3, max_tokens=room)  # fmt: skip
    text = result.text.strip() + "\n"
    why = "the model stopped before it finished" if result.finish_reason == "length" else check(plain, text)
    if why is not None:
        return replace(plain, wording_note=f"kept hearth's wording: {result.served_model}'s rewrite was refused, {why}")
    return replace(plain, text=text, tokens=estimate_tokens(text), worded_by=result.served_model)
