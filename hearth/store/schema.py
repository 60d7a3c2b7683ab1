"""The canonical schema, declared once for SQLAlchemy Core queries.

Alembic migrations (in `migrations/versions`) create and change these tables; this module is what
queries are written against. A person can open the file with plain `sqlite3` and read it:
`raw` columns hold the untouched source objects as JSON text (text, not JSONB, so key order and
every byte survive), times are Unix seconds (UTC).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

companions = sa.Table(
    "companions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("slug", sa.String, nullable=False, unique=True),
    sa.Column("name", sa.String, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("raw", sa.Text),
    sa.Column("source_format", sa.String),
    sa.Column("source_id", sa.String),
    sa.Column("spec", sa.String),
    sa.Column("card", sa.Text),  # the card's `data` fields in Character Card V3 shape (JSON)
    sa.Column("avatar_sha256", sa.String, sa.ForeignKey("blobs.sha256")),
    sa.Column("updated_at", sa.Float),
    sa.UniqueConstraint("source_format", "source_id", name="uq_companions_source"),
)

imports = sa.Table(
    "imports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("file_sha256", sa.String, nullable=False),
    sa.Column("path", sa.String, nullable=False),
    sa.Column("format", sa.String, nullable=False),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("conversations_done", sa.Integer, nullable=False, server_default="0"),
    sa.Column("messages_added", sa.Integer, nullable=False, server_default="0"),
    sa.Column("conversations_added", sa.Integer, nullable=False, server_default="0"),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("finished_at", sa.Float),
    sa.Column("error", sa.Text),
    sa.UniqueConstraint("file_sha256", "format", name="uq_imports_file"),
)

conversations = sa.Table(
    "conversations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id"), nullable=False),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id")),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("title", sa.Text),
    sa.Column("created_at", sa.Float),
    sa.Column("updated_at", sa.Float),
    sa.Column("default_model", sa.String),
    sa.Column("current_node", sa.String),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("source_format", "source_id", name="uq_conversations_source"),
)

RECALLED_ROLES = ("user", "assistant")
"""The messages retrieval may bring back: what the person and the companion said, not tool output
or system text (an export's "ChatGPTAgentToolException … try again later" outranked real
memories for any question with "again" in it)."""

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id"), nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("parent_id", sa.Integer, sa.ForeignKey("messages.id")),
    sa.Column("parent_source_id", sa.String),
    sa.Column("sibling_index", sa.Integer, nullable=False, server_default="0"),
    sa.Column("visible", sa.Boolean, nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("role", sa.String),
    sa.Column("author_name", sa.String),
    sa.Column("content_type", sa.String),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("parts", sa.Text),
    sa.Column("created_at", sa.Float),
    sa.Column("requested_model", sa.String),
    sa.Column("served_model", sa.String),
    sa.Column("status", sa.String),
    sa.Column("recipient", sa.String),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("conversation_id", "source_id", name="uq_messages_source"),
)

blobs = sa.Table(
    "blobs",
    metadata,
    sa.Column("sha256", sa.String, primary_key=True),
    sa.Column("size_bytes", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

attachments = sa.Table(
    "attachments",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id")),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id")),
    sa.Column("asset_id", sa.String),
    sa.Column("name", sa.Text),
    sa.Column("mime_type", sa.String),
    sa.Column("size_bytes", sa.Integer),
    sa.Column("pointer", sa.Text),
    sa.Column("archive_path", sa.Text),
    sa.Column("blob_sha256", sa.String, sa.ForeignKey("blobs.sha256")),
    sa.Column("raw", sa.Text),
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id")),
)

feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id")),
    sa.Column("conversation_source_id", sa.String),
    sa.Column("message_source_id", sa.String),
    sa.Column("rating", sa.Integer, nullable=False),
    sa.Column("text", sa.Text),
    sa.Column("created_at", sa.Float),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("source_format", "source_id", name="uq_feedback_source"),
)

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("source_format", "source_id", name="uq_accounts_source"),
)

lorebooks = sa.Table(
    "lorebooks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id")),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("name", sa.Text),
    sa.Column("settings", sa.Text),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("source_format", "source_id", name="uq_lorebooks_source"),
)

memories = sa.Table(
    "memories",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("uid", sa.String, nullable=False, unique=True),  # stable identity across stores
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id")),
    sa.Column("lorebook_id", sa.Integer, sa.ForeignKey("lorebooks.id")),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("keys", sa.Text),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("settings", sa.Text),
    sa.Column("importance", sa.Float, nullable=False, server_default="0.5"),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("source", sa.String, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("superseded_by", sa.Integer, sa.ForeignKey("memories.id")),
    sa.Column("raw", sa.Text),
    sa.Column("event_at", sa.Float),
    sa.Column("slot", sa.String),
    sa.Column("value", sa.Text),
    sa.Column("language", sa.String),
    sa.Column("used_count", sa.Integer, nullable=False, server_default="0"),
)

memory_sources = sa.Table(
    "memory_sources",
    metadata,
    sa.Column("memory_id", sa.Integer, sa.ForeignKey("memories.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
)

documents = sa.Table(
    "documents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id")),
    sa.Column("source_format", sa.String, nullable=False),
    sa.Column("source_id", sa.String, nullable=False),
    sa.Column("collection", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float),
    sa.Column("raw", sa.Text),
    sa.UniqueConstraint("source_format", "source_id", name="uq_documents_source"),
)

embeddings = sa.Table(
    "embeddings",
    metadata,
    sa.Column("owner_kind", sa.String, primary_key=True),  # "memory" | "message"
    sa.Column("owner_id", sa.Integer, primary_key=True),
    sa.Column("model", sa.String, primary_key=True),
    sa.Column("dim", sa.Integer, nullable=False),
    sa.Column("vector", sa.LargeBinary, nullable=False),  # float32, L2-normalised
    sa.Column("created_at", sa.Float, nullable=False),
)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text),
)

persona_versions = sa.Table(
    "persona_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("persona", sa.Text, nullable=False),  # hearth.persona.card.Persona as JSON
    sa.Column("source", sa.String, nullable=False),  # "card" | "derived" | "edited" | "imported"
    sa.Column("note", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("companion_id", "version", name="uq_persona_versions"),
)

guard_events = sa.Table(
    "guard_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id")),
    sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id")),  # the person's message
    sa.Column("reply_id", sa.Integer, sa.ForeignKey("messages.id")),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("kind", sa.String, nullable=False),  # "crisis" | "asked_if_ai"
    sa.Column("categories", sa.Text),  # JSON list
    sa.Column("evidence", sa.Text),  # JSON list of the phrases that decided it
    sa.Column("action", sa.Text),
    sa.Column("region", sa.String),
    sa.Index("ix_guard_events_at", "at"),
)

MEMORY_FTS_TABLE = "memory_fts"
"""FTS5 table (SQLite only): rowid = memories.id, same columns and tokens as message_fts."""

FTS_TABLE = "message_fts"
"""FTS5 table (SQLite only): rowid = messages.id, columns `body` and `uni` (see tokens.py)."""

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String, nullable=False, unique=True),
    sa.Column("token_sha256", sa.String, nullable=False, unique=True),  # the token itself is never stored
    sa.Column("store", sa.Text, nullable=False),  # this person's store: a SQLite file or a PostgreSQL URL
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("token_at", sa.Float, nullable=False),
)
"""The people sharing one server (main store only): see hearth/store/users.py."""
