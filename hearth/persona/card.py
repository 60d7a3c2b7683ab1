"""The persona card: who the companion is, in fields a person can read and edit.

A superset of Character Card V3's `data`: the card's own fields keep their names and meaning
(`first_mes` is `greeting`, `mes_example` is `example_dialogue`), hearth adds the parts people
wrote by hand into their memory letters — voice, relationship, facts, boundaries — plus the warmth
dial and the measured style. Every card field hearth has no slot for rides along in `card_extras`,
so card → persona → card loses nothing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_validator

from hearth.persona.warmth import DEFAULT_WARMTH, clamp

_CARD_FIELDS = {
    "name": "name", "nickname": "nickname", "description": "description", "personality": "personality",
    "scenario": "scenario", "first_mes": "greeting", "alternate_greetings": "alternate_greetings",
    "mes_example": "example_dialogue", "system_prompt": "system_prompt",
    "post_history_instructions": "post_history_instructions",
}  # fmt: skip

EDITABLE = (
    "name", "nickname", "description", "personality", "scenario", "voice", "relationship", "facts", "boundaries",
    "greeting", "alternate_greetings", "example_dialogue", "system_prompt", "post_history_instructions",
    "language", "warmth", "summary", "feedback",
)  # fmt: skip
"""Fields `hearth persona edit` may set; a field set by hand is never overwritten by `derive`."""


class Persona(BaseModel):
    name: str
    nickname: str = ""
    description: str = ""
    personality: str = ""
    scenario: str = ""
    voice: str = ""
    """How the companion writes, as instructions (derived from its real replies, editable)."""
    relationship: str = ""
    facts: list[str] = Field(default_factory=list)
    """What the companion knows about the person that should be in every prompt."""
    boundaries: list[str] = Field(default_factory=list)
    greeting: str = ""
    alternate_greetings: list[str] = Field(default_factory=list)
    example_dialogue: str = ""
    system_prompt: str = ""
    post_history_instructions: str = ""
    language: str = "en"
    warmth: int = DEFAULT_WARMTH
    style: dict[str, Any] = Field(default_factory=dict)
    """The measured statistics behind `voice` (hearth.persona.style.measure)."""
    summary: str = ""
    """A model-written portrait, when a capable backend was configured for `derive`."""
    feedback: str = ""
    """What the person's ratings taught (hearth.persona.feedback), carried into every prompt."""
    edited: list[str] = Field(default_factory=list)
    card_extras: dict[str, Any] = Field(default_factory=dict)

    @field_validator("warmth", mode="before")
    @classmethod
    def _warmth(cls, value: Any) -> int:
        return clamp(value)

    @field_validator("language")
    @classmethod
    def _language(cls, value: str) -> str:
        return "zh" if value.lower().startswith("zh") else "en"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def from_card(card: dict[str, Any], name: str) -> Persona:
    """A persona from a card's `data` (V3 shape, as the store keeps it)."""
    values: dict[str, Any] = {"name": _text(card.get("name")) or name}
    for key, field in _CARD_FIELDS.items():
        if key == "name" or key not in card:
            continue
        value = card[key]
        if field == "alternate_greetings":
            values[field] = [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
        else:
            values[field] = _text(value)
    extras = {k: v for k, v in card.items() if k not in _CARD_FIELDS}
    return Persona(**values, card_extras=extras)


def to_card(persona: Persona) -> dict[str, Any]:
    """The persona as a V3 card's `data`: card fields back in place, hearth's fields written into
    `description`-adjacent places a card reader understands (voice and facts into the system prompt
    would change the card's meaning, so they ride in `extensions.hearth`)."""
    data: dict[str, Any] = dict(persona.card_extras)
    for key, field in _CARD_FIELDS.items():
        data[key] = getattr(persona, field)
    ext = dict(data.get("extensions") or {})
    ext["hearth"] = {
        "voice": persona.voice, "relationship": persona.relationship, "facts": persona.facts,
        "boundaries": persona.boundaries, "language": persona.language, "warmth": persona.warmth,
        "summary": persona.summary, "feedback": persona.feedback,
    }  # fmt: skip
    data["extensions"] = ext
    return data


def render(persona: Persona) -> str:
    """The persona as a readable page (what `hearth persona show` prints)."""
    lines = [f"# {persona.name}" + (f" ({persona.nickname})" if persona.nickname else "")]
    sections = [
        ("Description", persona.description), ("Personality", persona.personality), ("Scenario", persona.scenario),
        ("Voice", persona.voice), ("Learned from your ratings", persona.feedback),
        ("Relationship", persona.relationship),
        ("Facts", "\n".join(f"- {f}" for f in persona.facts)),
        ("Boundaries", "\n".join(f"- {b}" for b in persona.boundaries)),
        ("Greeting", persona.greeting), ("Example dialogue", persona.example_dialogue),
        ("System prompt", persona.system_prompt), ("Summary", persona.summary),
    ]  # fmt: skip
    for title, body in sections:
        if body:
            lines += ["", f"## {title}", body]
    lines += ["", f"Language: {persona.language}   Warmth: {persona.warmth}/100"]
    if persona.edited:
        lines.append(f"Set by hand (kept by derive): {', '.join(persona.edited)}")
    return "\n".join(lines)
