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


@dataclass(slots=True)
class Memory:
    """Something hearth knows about the person, with the messages it came from."""

    text: str
    kind: str = "fact"
    importance: float = 0.5
    source_message_ids: list[int] = field(default_factory=list)
    pinned: bool = False


Item = Conversation | Feedback | Account | AttachmentFile
"""What a format reader yields, in any order and any mix."""
