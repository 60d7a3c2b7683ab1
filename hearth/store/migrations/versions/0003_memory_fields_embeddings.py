"""Memory fields for retrieval and supersession; embeddings for memories and messages; settings.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("memories") as batch:
        batch.add_column(sa.Column("event_at", sa.Float))
        batch.add_column(sa.Column("slot", sa.String))
        batch.add_column(sa.Column("value", sa.Text))
        batch.add_column(sa.Column("language", sa.String))
        batch.add_column(sa.Column("used_count", sa.Integer, nullable=False, server_default="0"))
    op.create_index("ix_memories_slot", "memories", ["companion_id", "slot"])
    op.create_table(
        "embeddings",
        sa.Column("owner_kind", sa.String, primary_key=True),
        sa.Column("owner_id", sa.Integer, primary_key=True),
        sa.Column("model", sa.String, primary_key=True),
        sa.Column("dim", sa.Integer, nullable=False),
        sa.Column("vector", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String, primary_key=True),
        sa.Column("value", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("settings")
    op.drop_table("embeddings")
    op.drop_index("ix_memories_slot", "memories")
    with op.batch_alter_table("memories") as batch:
        for col in ("used_count", "language", "value", "slot", "event_at"):
            batch.drop_column(col)
