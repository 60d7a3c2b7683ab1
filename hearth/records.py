"""The canonical records every importer produces and every other package consumes.

These are plain dataclasses (slots, no validation) because importers create millions of them in
a hot loop; validation happens at the edges (API, config, cards) with pydantic. This module
imports nothing else from hearth, so every package can depend on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Attachment:
    """A file a message points at (an uploaded document, an image, a generated picture)."""

    asset_id: str
    """Stable id of the file inside the export (e.g. `file-abc123`, `file_0000…`)."""
    name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    pointer: str | None = None
    """The URI the message used (`file-service://…`, `sediment://…`), when it used one."""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Message:
    """One node of a conversation tree, as the source wrote it.

    A message keeps its parent (so edits and regenerations stay as branches), whether it lies on
    the branch the person last saw (`visible`), the model that was asked for and the model that
    really answered, and the untouched source object in `raw`.
    """

    source_id: str
    parent_source_id: str | None
    role: str | None
    """user / assistant / system / tool, or None for an empty structural node (a tree root)."""
    text: str = ""
    content_type: str | None = None
    parts: list[dict[str, Any]] = field(default_factory=list)
    author_name: str | None = None
    created_at: float | None = None
    requested_model: str | None = None
    served_model: str | None = None
    visible: bool = False
    hidden: bool = False
    """Present in the source but never shown to the person (custom instructions, system nodes)."""
    sibling_index: int = 0
    status: str | None = None
    recipient: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Conversation:
    """A whole conversation tree with its messages in parent-before-child order."""

    source_format: str
    source_id: str
    title: str | None = None
    created_at: float | None = None
    updated_at: float | None = None
    default_model: str | None = None
    current_node: str | None = None
    companion: str | None = None
    """Name of the companion (persona) the person was talking to, when the source says."""
    messages: list[Message] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    """The source object without its message tree (the tree lives in each message's raw)."""


@dataclass(slots=True)
class Feedback:
    """A rating the person gave a reply (thumbs up = +1, thumbs down = -1)."""

    source_format: str
    source_id: str
    rating: int
    conversation_source_id: str | None = None
    message_source_id: str | None = None
    text: str | None = None
    created_at: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Account:
    """Who the export belongs to, as the provider described them (ChatGPT `user.json`)."""

    source_format: str
    source_id: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class AttachmentFile:
    """The bytes of a file shipped inside an export, matched to messages by `asset_id`."""

    source_format: str
    path: str
    """Path of the file inside the export."""
    asset_id: str | None
    data: bytes = b""
    original_name: str | None = None


MEMORY_KINDS = ("fact", "preference", "event", "milestone", "boundary", "person", "lorebook", "note")
"""What a memory can be; the kinds people pick from when they add or correct one."""


@dataclass(slots=True)
class Memory:
    """Something hearth knows about the person, with the messages it came from."""

    text: str
    kind: str = "fact"
    importance: float = 0.5
    source_message_ids: list[int] = field(default_factory=list)
    pinned: bool = False


@dataclass(slots=True)
class LoreEntry:
    """One lorebook / world-info entry: text the companion recalls when a key comes up.

    The card's own fields are kept as named attributes where every spec agrees on them, and the
    whole source entry (chub or SillyTavern extras included) in `raw`, so a card written back out
    carries every setting it came in with.
    """

    keys: list[str]
    content: str
    secondary_keys: list[str] = field(default_factory=list)
    name: str | None = None
    comment: str | None = None
    enabled: bool = True
    constant: bool = False
    selective: bool = False
    insertion_order: int = 0
    priority: int | None = None
    position: str | None = None
    use_regex: bool = False
    case_sensitive: bool | None = None
    entry_id: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Lorebook:
    """A named set of lore entries: a card's `character_book` or a SillyTavern world-info file."""

    source_format: str
    source_id: str
    name: str | None = None
    companion: str | None = None
    """Name of the companion the book belongs to, when it belongs to one."""
    entries: list[LoreEntry] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    """Book-level fields (scan_depth, token_budget, recursive_scanning, extensions, …)."""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class CompanionCard:
    """A companion as a character card (V1, V2, V3 or CHARX) describes it.

    `card` holds the card's `data` fields in Character Card V3 shape (the superset), `raw` the
    untouched source object(s): for a PNG with both a `chara` and a `ccv3` chunk, both.
    """

    source_format: str
    source_id: str
    name: str
    spec: str
    """`chara_card_v1`, `chara_card_v2` or `chara_card_v3`."""
    card: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    avatar: bytes | None = None
    """The card image (PNG) when the card came as one, byte for byte."""
    lorebook: Lorebook | None = None
    assets: list[AttachmentFile] = field(default_factory=list)


@dataclass(slots=True)
class Document:
    """A document the person kept beside their chats (Claude project knowledge, prompts)."""

    source_format: str
    source_id: str
    title: str | None
    text: str
    collection: str | None = None
    """The project or folder it belongs to."""
    created_at: float | None = None
    raw: dict[str, Any] = field(default_factory=dict)


Item = Conversation | Feedback | Account | AttachmentFile | CompanionCard | Lorebook | Document
"""What a format reader yields, in any order and any mix."""
