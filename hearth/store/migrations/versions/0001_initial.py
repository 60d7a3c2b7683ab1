"""Initial canonical store: companions, imports, conversations, messages, attachments, feedback.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "companions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String, nullable=False, unique=True),
        sa.Column("name", sa.String, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("raw", sa.Text),
    )
    op.create_table(
        "imports",
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
    op.create_table(
        "conversations",
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
    op.create_index("ix_conversations_created", "conversations", ["created_at"])
    op.create_table(
        "messages",
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
    op.create_index("ix_messages_created", "messages", ["created_at"])
    op.create_index("ix_messages_parent", "messages", ["parent_id"])
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String, primary_key=True),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "attachments",
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
    )
    op.create_index("ix_attachments_asset", "attachments", ["asset_id"])
    op.create_index("ix_attachments_message", "attachments", ["message_id"])
    op.create_index("uq_attachments_file", "attachments", ["source_format", "archive_path", "blob_sha256"], unique=True)
    op.create_table(
        "feedback",
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
    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_format", sa.String, nullable=False),
        sa.Column("source_id", sa.String, nullable=False),
        sa.Column("raw", sa.Text),
        sa.UniqueConstraint("source_format", "source_id", name="uq_accounts_source"),
    )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_fts USING fts5("
            "body, uni, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')"
        )
    else:  # PostgreSQL: the same tokens as one weighted tsvector (see hearth/store/lexical.py)
        op.execute("CREATE TABLE message_fts (rowid BIGINT PRIMARY KEY, tsv TSVECTOR NOT NULL)")
        op.execute("CREATE INDEX ix_message_fts_tsv ON message_fts USING GIN (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS message_fts")
    for table in ("accounts", "feedback", "attachments", "blobs", "messages", "conversations", "imports", "companions"):
        op.drop_table(table)
