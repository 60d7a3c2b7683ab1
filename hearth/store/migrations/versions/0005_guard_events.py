"""Guard events: every crisis the guard noticed and what it did, for the person to see.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guard_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id")),
        sa.Column("message_id", sa.Integer, sa.ForeignKey("messages.id")),
        sa.Column("reply_id", sa.Integer, sa.ForeignKey("messages.id")),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("kind", sa.String, nullable=False),
        sa.Column("categories", sa.Text),
        sa.Column("evidence", sa.Text),
        sa.Column("action", sa.Text),
        sa.Column("region", sa.String),
    )
    op.create_index("ix_guard_events_at", "guard_events", ["at"])


def downgrade() -> None:
    op.drop_index("ix_guard_events_at", "guard_events")
    op.drop_table("guard_events")
