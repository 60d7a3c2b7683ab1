"""Prompt assembly: persona, warmth, memories and recent turns, fitted into the backend's context.

Order of sacrifice when the context is small (a 135M model has 2k tokens): the reply's reserve
and the persona core (name, voice, honesty) are never cut; then recent turns (newest kept first),
then retrieved memories (best first), then example dialogue. Every part is recorded with its
token count and whether it made it in, which is what `/why` shows.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hearth.memory.retrieve import Hit
from hearth.persona.card import Persona
from hearth.persona.style import language_mix, main_language, notes
from hearth.persona.warmth import style
from hearth.store.chat import Turn

Counter = Callable[[str], int]
SNIPPET_CHARS = 400
COMPACT_SNIPPET_CHARS = 200
COMPACT_MEMORIES = 4
MEMORY_SHARE = 0.25
"""At most this share of the context goes to remembered things, whatever else fits."""
"""A remembered message longer than this goes into the prompt shortened: the gist, not the paste."""
MEMORY_HEAD = {
    "en": "Things you remember that may matter now (use them naturally):",
    "zh": "你记得的相关往事（可能有用，不必逐条提及）：",
}
CLIENT_HEAD = {
    "en": "Instructions from the app the person is using (follow them unless they conflict with the above):",
    "zh": "对方所用应用的附加说明（与以上内容不冲突时遵循）：",
}
EXAMPLE_HEAD = {"en": "Example dialogue (for tone, do not repeat)", "zh": "对话示例（只学语气，不要照抄）"}


@dataclass
class Part:
    name: str
    tokens: int
    included: bool
    detail: str = ""


@dataclass
class Prompt:
    messages: list[dict[str, str]]
    parts: list[Part] = field(default_factory=list)
    memories: list[Hit] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)
    temperature: float = 0.7
    top_p: float = 0.9
    length: float = 1.0
    """Share of the reply allowance to use (the warmth dial's length)."""

    @property
    def tokens(self) -> int:
        return sum(p.tokens for p in self.parts if p.included)


def _them(user: str) -> str:
    return "them" if user == "you" else user


_EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f\u200d]")


def _same_language(text: str, language: str) -> bool:
    mix = language_mix([text])
    return not mix or main_language(mix) == language


def plain(text: str, language: str) -> str:
    """The system text for a small model: no emoji, no line (or list item) in another language."""
    keep = []
    for line in _EMOJI.sub("", text).split("\n"):
        if line.strip() and not _same_language(line, language):
            continue
        keep.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(keep)).strip()


def plain_example(example: str, language: str) -> str:
    return _EMOJI.sub("", example)


def reply_language(text: str, default: str) -> str:
    """The language to answer in: the message's own, when it clearly has one."""
    mix = language_mix([text])
    if not mix:
        return default
    if mix.get("zh", 0) >= 0.6:
        return "zh"
    if mix.get("en", 0) >= 0.8:
        return "en"
    return default


def _macros(text: str, persona: Persona, user: str) -> str:
    """Character-card placeholders, as SillyTavern and every card editor use them."""
    for key, value in (("{{char}}", persona.name), ("<BOT>", persona.name), ("{{user}}", user), ("<USER>", user)):
        text = text.replace(key, value)
    return text


def current_time() -> float:
    """The time a prompt states (one place, so a test can hold the clock still)."""
    return time.time()


def identity(persona: Persona, user: str = "you") -> str:
    """Who the companion is, without the moment (time, warmth band): the system prompt of the
    fine-tuning data hearth exports, and the start of every chat prompt."""
    return _macros("\n\n".join(_identity_lines(persona, user)), persona, user)


def _identity_lines(persona: Persona, user: str) -> list[str]:
    zh = persona.language == "zh"
    who = "the person you care about" if user == "you" else user
    lines = [
        persona.system_prompt.strip()
        or (f"你是{persona.name}，正在和{user}聊天。始终以{persona.name}的身份和口吻回复。" if zh
            else f"You are {persona.name}, talking with {who}. Always reply as {persona.name}, in your own voice."),
    ]  # fmt: skip
    for label_en, label_zh, text in (
        ("About you", "关于你", persona.description), ("Personality", "性格", persona.personality),
        ("Scenario", "情境", persona.scenario), ("How you write", "说话方式", persona.voice),
        ("What they like in your replies", "对方喜欢的回复方式", persona.feedback),
        ("Your relationship", "你们的关系", persona.relationship),
    ):  # fmt: skip
        if text.strip():
            lines.append(f"{label_zh if zh else label_en}: {text.strip()}")
    if persona.facts:
        lines.append(("你知道的关于对方的事" if zh else f"What you know about {_them(user)}") + ":\n"
                     + "\n".join(f"- {f}" for f in persona.facts))  # fmt: skip
    if persona.boundaries:
        lines.append(("边界" if zh else "Boundaries") + ":\n" + "\n".join(f"- {b}" for b in persona.boundaries))
    return lines


def core(persona: Persona, warmth: int, user: str, now: float | None = None) -> str:
    """The part of the system prompt that is always there: who the companion is and how it speaks."""
    zh = persona.language == "zh"
    w = style(warmth, persona.language)
    when = dt.datetime.fromtimestamp(now or current_time()).strftime("%Y-%m-%d %H:%M")
    lines = _identity_lines(persona, user)
    lines.append(w.instruction)
    lines.append(
        f"语气示例（只学语气，不学内容）：{w.example}" if zh else f"Example of the tone (not the content): {w.example}"
    )
    lines.append(f"现在是{when}。" if zh else f"It is now {when}.")
    return _macros("\n\n".join(lines), persona, user)


def _memory_block(hits: Sequence[Hit], persona: Persona, snippet: int = 400) -> str:
    zh = persona.language == "zh"
    head = MEMORY_HEAD["zh" if zh else "en"]
    rows = []
    for h in hits:
        when = dt.datetime.fromtimestamp(h.created_at).strftime("%Y-%m-%d") if h.created_at else ""
        who = "" if h.kind == "memory" else ("them: " if h.role == "user" else "you: ")
        flat = " ".join(h.text.split())
        if len(flat) > snippet:
            flat = flat[: snippet - 1] + "…"
        rows.append(f"- {when + ' ' if when else ''}{who}{flat}")
    return head + "\n" + "\n".join(rows)


def assemble(
    persona: Persona,
    user_text: str,
    *,
    recent: Sequence[Turn],
    memories: Sequence[Hit],
    context_tokens: int,
    reply_tokens: int,
    count: Counter,
    warmth: int | None = None,
    user_name: str = "you",
    now: float | None = None,
    client_system: str = "",
    compact: bool = False,
) -> Prompt:
    """The messages to send: system (core + memories + examples), recent turns, the new message.

    Instructions are written in the language the person writes in now (a Chinese-speaking
    companion answers an English message in English), and example dialogue in another language
    is left out: small models copy the language of their examples. `compact` is for small local
    models, which a long, emoji-laden, two-language prompt derails: plain text in the reply's
    language, a few short memories, no examples."""
    language = reply_language(user_text, persona.language)
    if language != persona.language:
        update: dict = {"language": language}
        if "voice" not in persona.edited and persona.style.get("replies"):
            update["voice"] = notes(persona.style, language)
        persona = persona.model_copy(update=update)
    w = style(persona.warmth if warmth is None else warmth, persona.language)
    system = core(persona, w.warmth, user_name, now)
    if compact:
        system = plain(system, language)
    if client_system.strip():
        system += "\n\n" + CLIENT_HEAD["zh" if persona.language == "zh" else "en"] + "\n" + client_system.strip()
    budget = context_tokens - reply_tokens - count(system) - count(user_text) - 8
    parts = [Part("persona and warmth", count(system), True, f"warmth {w.warmth} ({w.band})"),
             Part("your message", count(user_text), True)]  # fmt: skip
    if budget < 0:
        parts.append(Part("context", 0, False, f"over by {-budget} tokens: only the persona core fits"))
        budget = 0
    history: list[Turn] = []
    history_budget = int(budget * 0.6) if memories else budget
    used = 0
    for t in reversed(recent):
        cost = count(t.text) + 4
        if used + cost > history_budget:
            break
        history.insert(0, t)
        used += cost
    parts.append(Part("recent turns", used, bool(history), f"{len(history)} of {len(recent)}"))
    budget -= used
    chosen: list[Hit] = []
    mem_used = 0
    mem_budget = min(budget, int(context_tokens * MEMORY_SHARE))
    snippet = COMPACT_SNIPPET_CHARS if compact else SNIPPET_CHARS
    for h in memories:
        if compact and (len(chosen) >= COMPACT_MEMORIES or not _same_language(h.text, language)):
            continue
        cost = count(h.text[:snippet]) + 8
        if mem_used + cost + 20 > mem_budget:
            continue
        chosen.append(h)
        mem_used += cost
    if chosen:
        block = _memory_block(chosen, persona, snippet)
        block = plain(block, language) if compact else block
        system += "\n\n" + block
        mem_used = count(block)
    parts.append(Part("memories", mem_used, bool(chosen), f"{len(chosen)} of {len(memories)} retrieved"))
    budget -= mem_used
    example = _macros(persona.example_dialogue.strip(), persona, user_name)
    if example and (compact or main_language(language_mix([example])) != language):
        example = ""
    fits = bool(example) and count(example) + 20 <= budget
    if fits:
        label = EXAMPLE_HEAD["zh" if persona.language == "zh" else "en"]
        system += f"\n\n{label}:\n{example}"
    parts.append(Part("example dialogue", count(example) if example else 0, fits))
    if compact:  # the tone example keeps its emoji: it is the one place they belong
        system = system.replace(plain_example(w.example, language), w.example)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system}]
    messages += [{"role": "assistant" if t.role == "assistant" else "user", "content": t.text} for t in history]
    messages.append({"role": "user", "content": user_text})
    return Prompt(messages, parts, chosen, history, w.temperature, w.top_p, w.length)
