"""Message vectors now embed the turn before each message too, under the model key
"<embedder>+ctx1" (store/vectors.py). Vectors of the turn alone, written by an older hearth, are
never searched again, so they are dropped here rather than kept as dead weight (1.5 kB a message
with the default embedder); `hearth memory embed` writes the new ones.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM embeddings WHERE owner_kind = 'message' AND model NOT LIKE '%+ctx1'")


def downgrade() -> None:
    op.execute("DELETE FROM embeddings WHERE owner_kind = 'message' AND model LIKE '%+ctx1'")
