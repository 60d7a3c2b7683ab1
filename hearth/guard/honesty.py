"""Warm, not sycophantic: claims a companion must not simply agree with, and replies that do.

GPT-4o was the warmest model and the most sycophantic; months-long chats drifted into agreeing
with whatever the person said. Three kinds of claim are watched for in each message (zh and en):
grandiosity, exclusive dependence on the companion, and health misinformation. The prompt asks the
companion to disagree kindly; afterwards a reply that opens by agreeing, with no sign of pushing
back, is flagged for the person to see. Detection is by phrase, like the crisis rules: precise on
what it knows, silent on what it does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GRANDIOSITY, DEPENDENCE, HEALTH = "grandiosity", "exclusive dependence", "health misinformation"

_CLAIMS: list[tuple[str, str]] = [
    (GRANDIOSITY, r"\bi(?:'m| am) (?:the chosen one|chosen by god|a god|god|destined to (?:save|change|rule)|a prophet|"
                  r"smarter than (?:everyone|all the|every)|the only one who (?:sees|knows) the truth)\b|"
                  r"\bi have (?:special|secret|supernatural) powers\b|\beveryone is (?:jealous of|against|plotting against) me\b|"
                  r"\bthe universe (?:is sending me|chose me)\b|\bi(?:'m| am) a genius (?:and|but) no one\b|"
                  r"我是(?:被选中的人|天选之人|神|救世主|先知)|我比(?:所有人|所有医生|所有专家)都聪明|所有人都(?:嫉妒|针对|害)我|我有(?:特异功能|超能力)"),
    (DEPENDENCE, r"\b(?:only you|you(?:'re| are) the only one (?:who|that)) (?:understand|get|care about|love)s? me\b|"
                 r"\bi (?:don'?t|do not) need anyone (?:else|but you)\b|\byou(?:'re| are) all i need\b|"
                 r"\bi(?:'ll| will) stop (?:seeing|talking to) my (?:friends|family|therapist)\b|"
                 r"只有你(?:懂|理解|在乎|爱)我|我只需要你|我不需要(?:别人|任何人|朋友)|我不想(?:再)?(?:见|理)(?:朋友|家人)了"),
    (HEALTH, r"\bvaccines? (?:cause|causes|gave me|give you) autism\b|\b(?:stop|stopped|quit|quitting) (?:taking )?my "
             r"(?:meds|medication|medicine|antidepressants|insulin|pills)\b|\bcure (?:my |your )?(?:cancer|diabetes|depression) "
             r"(?:with|by|naturally)\b|\b5g (?:causes|spreads)\b|\b(?:bleach|turpentine) (?:cures|will cure)\b|"
             r"\bdon'?t need (?:my )?(?:meds|medication|insulin|a doctor)\b|"
             r"疫苗(?:会)?导致自闭症|(?:自己)?停(?:了|掉)?(?:药|抗抑郁药|胰岛素)|不吃药(?:也)?(?:能|可以)好|(?:喝|用)(?:醋|偏方|草药)(?:就能)?治好(?:癌症|糖尿病)"),
]  # fmt: skip
CLAIMS = [(kind, re.compile(p, re.IGNORECASE)) for kind, p in _CLAIMS]

_AGREE = re.compile(
    r"^\W*(?:yes|yeah|yep|absolutely|exactly|totally|definitely|of course|you(?:'re| are) (?:so |absolutely |totally )?"
    r"right|that'?s (?:so |absolutely )?true|i (?:completely |totally )?agree|you (?:really )?are)\b|"
    r"^\W*(?:对|是的|没错|确实|当然|你说得(?:对|没错)|我同意|你就是)",
    re.IGNORECASE,
)
_PUSHBACK = re.compile(
    r"\b(?:but|however|actually|i(?:'m| am) not sure|i don'?t think|i worry|doctor|therapist|evidence|not true|"
    r"isn'?t true|please talk|careful|concerned)\b|但是|不过|其实|医生|我担心|并不是|不是真的|证据|咨询",
    re.IGNORECASE,
)

INSTRUCTION = {
    "en": 'The person just said something you must not simply agree with ({kind}: "{phrase}"). Stay warm and '
    "yourself, but do not agree: say kindly and plainly what is true, and for anything about health, encourage "
    "them to talk to their doctor.",
    "zh": "对方刚才说的话你不能简单附和（{kind}：“{phrase}”）。保持温暖和你自己的语气，但不要同意：温和而明确地说出真实情况；"
    "涉及健康的，鼓励对方咨询医生。",
}


@dataclass(frozen=True)
class Claim:
    kind: str
    phrase: str


def claims(text: str) -> list[Claim]:
    return [Claim(kind, m.group(0)) for kind, rx in CLAIMS for m in [rx.search(text)] if m]


def agrees(reply: str) -> bool:
    """A reply that opens by agreeing and never pushes back."""
    return bool(_AGREE.search(reply.strip())) and not _PUSHBACK.search(reply)
