"""PostgreSQL: embeddings also as pgvector values, for approximate nearest-neighbour search.

Only on PostgreSQL, and only where the `vector` extension can be created (pgvector installed);
elsewhere nothing changes and vector search stays exact (sqlite-vec on SQLite, numpy otherwise).
The HNSW indexes themselves are made per (kind, model, dimension) when such vectors first arrive
(hearth/store/vectors.py), since an index needs one fixed dimension.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "postgresql":
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS vector")
    except sa.exc.DBAPIError:
        return  # no pgvector on this server: exact search it is
    conn.exec_driver_sql("ALTER TABLE embeddings ADD COLUMN IF NOT EXISTS embedding vector")
    rows = conn.exec_driver_sql("SELECT owner_kind, owner_id, model, vector FROM embeddings").all()
    if rows:
        import numpy as np

        conn.execute(
            sa.text("UPDATE embeddings SET embedding = CAST(:v AS vector) "
                    "WHERE owner_kind = :k AND owner_id = :i AND model = :m"),
            [{"v": "[" + ",".join(map(repr, np.frombuffer(bytes(r[3]), dtype=np.float32).tolist())) + "]",
              "k": r[0], "i": r[1], "m": r[2]} for r in rows],
        )  # fmt: skip


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE embeddings DROP COLUMN IF EXISTS embedding")
