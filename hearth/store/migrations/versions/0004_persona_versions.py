"""Persona versions: every derived or edited persona kept, the newest one in use.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "persona_versions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("companion_id", sa.Integer, sa.ForeignKey("companions.id"), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("persona", sa.Text, nullable=False),
        sa.Column("source", sa.String, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("companion_id", "version", name="uq_persona_versions"),
    )


def downgrade() -> None:
    op.drop_table("persona_versions")
