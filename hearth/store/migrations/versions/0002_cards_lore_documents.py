"""Companions from character cards, lorebooks, memories (with provenance), documents.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("companions") as batch:
        batch.add_column(sa.Column("source_format", sa.String))
        batch.add_column(sa.Column("source_id", sa.String))
        batch.add_column(sa.Column("spec", sa.String))
        batch.add_column(sa.Column("card", sa.Text))
        batch.add_column(sa.Column("avatar_sha256", sa.String))
        batch.add_column(sa.Column("updated_at", sa.Float))
        batch.create_foreign_key("fk_companions_avatar", "blobs", ["avatar_sha256"], ["sha256"])
        batch.create_unique_constraint("uq_companions_source", ["source_format", "source_id"])
    with op.batch_alter_table("attachments") as batch:
        batch.add_column(sa.Column("companion_id", sa.Integer))
        batch.create_foreign_key("fk_attachments_companion", "companions", ["companion_id"], ["id"])
    op.create_table(
        "lorebooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id")),
        sa.Column("source_format", sa.String, nullable=False),
        sa.Column("source_id", sa.String, nullable=False),
        sa.Column("name", sa.Text),
        sa.Column("settings", sa.Text),
        sa.Column("raw", sa.Text),
        sa.UniqueConstraint("source_format", "source_id", name="uq_lorebooks_source"),
    )
    op.create_table(
        "memories",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String, nullable=False, unique=True),
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
    )
    op.create_index("ix_memories_companion", "memories", ["companion_id", "kind"])
    op.create_index("ix_memories_lorebook", "memories", ["lorebook_id", "position"])
    op.create_table(
        "memory_sources",
        sa.Column("memory_id", sa.Integer, sa.ForeignKey("memories.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id"), primary_key=True),
    )
    op.create_table(
        "documents",
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
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE memory_fts USING fts5("
            "body, uni, content='', contentless_delete=1, tokenize='unicode61 remove_diacritics 2')"
        )
    else:  # PostgreSQL: the same tokens as one weighted tsvector (see hearth/store/lexical.py)
        op.execute("CREATE TABLE memory_fts (rowid BIGINT PRIMARY KEY, tsv TSVECTOR NOT NULL)")
        op.execute("CREATE INDEX ix_memory_fts_tsv ON memory_fts USING GIN (tsv)")


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS memory_fts")
    for table in ("documents", "memory_sources", "memories", "lorebooks"):
        op.drop_table(table)
    with op.batch_alter_table("attachments") as batch:
        batch.drop_constraint("fk_attachments_companion", type_="foreignkey")
        batch.drop_column("companion_id")
    with op.batch_alter_table("companions") as batch:
        batch.drop_constraint("uq_companions_source", type_="unique")
        batch.drop_constraint("fk_companions_avatar", type_="foreignkey")
        for col in ("updated_at", "avatar_sha256", "card", "spec", "source_id", "source_format"):
            batch.drop_column(col)
