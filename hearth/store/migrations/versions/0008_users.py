"""Accounts: the people who share one hearth server, each with a token (kept only as a hash) and a
store of their own. Only the server's main store uses this table; a person's store never holds
another person's rows, which is what keeps them apart.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String, nullable=False, unique=True),
        sa.Column("token_sha256", sa.String, nullable=False, unique=True),
        sa.Column("store", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("token_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("users")
