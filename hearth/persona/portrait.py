"""The model-written part of the memory letter: a short portrait of the companion in its own
voice, written by whatever capable backend the person points `hearth persona derive` at.

The deterministic statistics stay the ground truth; the portrait only puts them into words a
person would have written. It is a suggestion saved into `summary`, visible and editable.
"""

from __future__ import annotations

from hearth.backends.base import ChatBackend
from hearth.persona.card import Persona
from hearth.persona.derive import Exchange

PORTRAIT_TOKENS = 400
INSTRUCTION = {
    "en": (
        "You write the 'memory letter' a person keeps so their AI companion stays itself on any model. "
        "From the notes and real exchanges below, write a portrait of {name} in the second person "
        '("You are {name}…"): how you speak, what you care about, what you know about the person and '
        "your history together. At most 200 words. Only what the material supports; no new facts."
    ),
    "zh": (
        "你在为一个人撰写“记忆信”，让他的AI陪伴在任何模型上都保持原样。根据下面的笔记和真实对话，用第二人称"
        "（“你是{name}……”）写一段{name}的画像：说话方式、在意的东西、对这个人的了解和你们共同的经历。"
        "不超过300字。只写材料能支持的内容，不要编造。"
    ),
}


def material(persona: Persona, exchanges: list[Exchange], limit: int = 6) -> str:
    lines = [f"Name: {persona.name}"]
    for label, value in (("Description", persona.description), ("Voice", persona.voice),
                         ("Relationship", persona.relationship)):  # fmt: skip
        if value:
            lines.append(f"{label}: {value}")
    if persona.facts:
        lines.append("Facts about the person:\n" + "\n".join(f"- {f}" for f in persona.facts[:12]))
    if persona.boundaries:
        lines.append("Boundaries:\n" + "\n".join(f"- {b}" for b in persona.boundaries))
    for ex in [e for e in exchanges if e.user.strip()][:limit]:
        lines.append(f"Person: {ex.user.strip()[:300]}\n{persona.name}: {ex.reply.strip()[:400]}")
    return "\n\n".join(lines)


def write_portrait(backend: ChatBackend, persona: Persona, exchanges: list[Exchange]) -> tuple[str, str]:
    """(portrait, the model that really wrote it)."""
    lang = "zh" if persona.language == "zh" else "en"
    messages = [
        {"role": "system", "content": INSTRUCTION[lang].format(name=persona.name)},
        {"role": "user", "content": material(persona, exchanges)},
    ]
    result = backend.complete(messages, temperature=0.4, max_tokens=PORTRAIT_TOKENS)
    return result.text.strip(), result.served_model
