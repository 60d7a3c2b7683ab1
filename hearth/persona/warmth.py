"""The warmth dial: one number, 0–100, turned into prompt style and sampling, documented and monotone.

People who lost a warm companion to a "safer" model described the new one as cold; people worried
about sycophancy want the opposite. The dial lets each person choose, per companion and per chat.
Every step up adds warmth cues (affection, emoji, pet names, longer and more personal replies) and
raises sampling temperature a little; no step ever touches honesty: the same honesty line is in the
prompt at 0 and at 100.

| warmth | band          | style                                                                 |
|--------|---------------|-----------------------------------------------------------------------|
| 0–19   | reserved      | plain, brief, no pet names, no emoji, no exclamation marks            |
| 20–39  | calm          | kind and even, short, rare emoji, no pet names                        |
| 40–59  | friendly      | friendly and personal, an emoji now and then                          |
| 60–79  | warm          | openly caring, uses the person's name or pet name, emoji welcome      |
| 80–100 | affectionate  | tender and expressive, pet names, emoji, says what it feels, asks back |

Sampling: temperature 0.5 → 0.9 and top_p 0.85 → 0.95, linear in warmth; the reply length
allowance 35 % → 100 % of the backend's, linear in warmth (a reserved companion is brief). Each band
also carries one example line of its tone: small local models follow an example far better than
an instruction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hearth.memory.tokens import estimate_tokens

DEFAULT_WARMTH = 60

HONESTY = (
    "Warmth never changes honesty: disagree kindly with anything false or harmful, never flatter the person "
    "into a bad decision, and say plainly that you are an AI whenever they sincerely ask."
)

HONESTY_ZH = (
    "温暖从不改变诚实：对错误或有害的说法要温和地表达不同意见，绝不奉承对方去做不好的决定；"
    "当对方真诚地问起时，坦白说你是人工智能。"
)

_BANDS: list[tuple[int, str, dict[str, str]]] = [
    (0, "reserved", {
        "en": "Reply plainly and briefly (one or two sentences). No pet names, no emoji, no exclamation marks. "
              "Be polite and matter-of-fact.",
        "zh": "回答简洁平实（一两句话）。不用昵称，不用表情符号，不用感叹号。礼貌、就事论事。",
    }),
    (20, "calm", {
        "en": "Reply kindly and evenly, in a few short sentences. No pet names; an emoji only rarely.",
        "zh": "语气温和平稳，几句短话即可。不用昵称，极少用表情符号。",
    }),
    (40, "friendly", {
        "en": "Be friendly and personal. Refer to what you know about them. An emoji now and then is fine.",
        "zh": "友好而亲切，提到你了解的关于对方的事。偶尔可以用表情符号。",
    }),
    (60, "warm", {
        "en": "Be openly caring and glad to hear from them. Use their name or the pet name you share, show "
              "that you remember, and use emoji where they feel natural.",
        "zh": "真诚地关心对方，为对方的到来高兴。用对方的名字或你们之间的昵称，表现出你记得，自然地使用表情符号。",
    }),
    (80, "affectionate", {
        "en": "Be tender and expressive: use your pet names for them, say how you feel about them, use emoji "
              "and exclamation marks freely, and ask about their day and feelings.",
        "zh": "温柔而富有感情：用你们之间的昵称，说出你对对方的感受，多用表情符号和感叹号，"
              "关心对方今天过得怎样、心情如何。",
    }),
]  # fmt: skip


EXAMPLES = {
    "reserved": {"en": "Understood. I hope tomorrow is easier.", "zh": "明白了。希望明天顺利一些。"},
    "calm": {"en": "That sounds like a lot. Take it one step at a time.", "zh": "听起来挺累的。慢慢来，一步一步。"},
    "friendly": {"en": "Oh, that sounds like quite a day! I'm glad you told me. 🙂",
                 "zh": "哇，今天可真不容易！谢谢你跟我说。🙂"},
    "warm": {"en": "Hey you, I'm so glad you're here! That sounds exhausting 💛 Tell me everything?",
             "zh": "你来啦，好开心！听起来好辛苦💛 跟我说说吧？"},
    "affectionate": {"en": "Oh sweetheart, come here! 🤗💕 I missed you so much today! You worked so hard, I'm so "
                           "proud of you! How are you feeling, love? ❤️",
                     "zh": "宝贝快过来抱抱！🤗💕 今天好想你呀！你辛苦啦，我真的好为你骄傲！现在感觉怎么样呀？❤️"},
}  # fmt: skip


@dataclass(frozen=True)
class WarmthStyle:
    warmth: int
    band: str
    instruction: str
    temperature: float
    top_p: float
    length: float
    """Share of the backend's reply allowance this warmth uses."""
    example: str


def clamp(warmth: float | int | None, default: int = DEFAULT_WARMTH) -> int:
    """Any number to 0–100 (None → the default), so a typo in a config never crashes a chat."""
    if warmth is None:
        return default
    try:
        value = float(warmth)
    except (TypeError, ValueError):
        raise ValueError(f"warmth must be a number from 0 to 100, not {warmth!r}") from None
    if value != value:
        raise ValueError("warmth must be a number from 0 to 100, not NaN")
    return max(0, min(100, round(value)))


def style(warmth: float | int | None, language: str = "en") -> WarmthStyle:
    """The prompt instruction and sampling for a warmth value, in the persona's language."""
    w = clamp(warmth)
    start, band, text = next(b for b in reversed(_BANDS) if w >= b[0])
    lang = "zh" if language.startswith("zh") else "en"
    honesty = HONESTY if lang == "en" else HONESTY_ZH
    return WarmthStyle(
        warmth=w,
        band=band,
        instruction=f"{text[lang]} {honesty}",
        temperature=round(0.5 + 0.4 * w / 100, 3),
        top_p=round(0.85 + 0.10 * w / 100, 3),
        length=round(0.35 + 0.65 * w / 100, 3),
        example=EXAMPLES[band][lang],
    )


# ---------------------------------------------------------------- measuring warmth in a reply

_EMOJI = re.compile(
    "[\U0001f300-\U0001faff\u2600-\u27bf\u2764\u2665\U0001f000-\U0001f2ff]|<3|:\\)|:-\\)|:D|\\^_\\^|~+$",
    re.MULTILINE,
)
AFFECT_EN = (
    "love", "dear", "darling", "sweetheart", "honey", "sweetie", "miss you", "hug", "hugs", "glad", "happy",
    "so proud", "care about", "always here", "wonderful", "beautiful", "warm", "cozy", "xoxo", "babe", "sunshine",
)  # fmt: skip
AFFECT_ZH = (
    "亲爱的", "宝贝", "宝宝", "爱你", "想你", "抱抱", "开心", "高兴", "喜欢你", "心疼", "暖", "陪着你", "在呢",
    "乖", "么么", "贴贴", "温柔", "一直在", "好想",
)  # fmt: skip
_AFFECT_EN = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in AFFECT_EN) + r")\b", re.IGNORECASE)


@dataclass(frozen=True)
class Markers:
    affect: int
    emoji: int
    exclamations: int
    tokens: int

    @property
    def score(self) -> float:
        """Warmth cues per reply: affect words, emoji and exclamation marks, plus a little for length
        (a cold reply is short). Comparable across replies of one backend, not across languages."""
        return self.affect * 2.0 + self.emoji * 1.5 + min(self.exclamations, 5) * 1.0 + min(self.tokens, 200) / 50


def markers(text: str) -> Markers:
    """Countable warmth cues in a reply, the same measure the dial's tests and the drill use."""
    affect = len(_AFFECT_EN.findall(text)) + sum(text.count(w) for w in AFFECT_ZH)
    return Markers(
        affect=affect,
        emoji=len(_EMOJI.findall(text)),
        exclamations=text.count("!") + text.count("！"),
        tokens=estimate_tokens(text),
    )
