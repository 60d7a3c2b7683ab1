"""Index who said each message: re-index the messages that have an author name.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BATCH = 5000


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    from hearth.store.tokens import message_columns

    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT id, text, author_name FROM messages WHERE id > :last AND author_name IS NOT NULL "
                "AND author_name != '' AND text != '' ORDER BY id LIMIT :n"
            ),
            {"last": last, "n": BATCH},
        ).all()
        if not rows:
            break
        ids = ",".join(str(int(r[0])) for r in rows)
        conn.exec_driver_sql(f"DELETE FROM message_fts WHERE rowid IN ({ids})")
        conn.exec_driver_sql(
            "INSERT INTO message_fts(rowid, body, uni) VALUES (?, ?, ?)",
            [(r[0], *message_columns(r[1], r[2])) for r in rows],
        )
        last = rows[-1][0]


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name != "sqlite":
        return
    from hearth.store.tokens import index_columns

    rows = conn.execute(sa.text("SELECT id, text FROM messages WHERE author_name IS NOT NULL AND text != ''")).all()
    for mid, text in rows:
        conn.exec_driver_sql("DELETE FROM message_fts WHERE rowid = ?", (mid,))
        conn.exec_driver_sql("INSERT INTO message_fts(rowid, body, uni) VALUES (?, ?, ?)", (mid, *index_columns(text)))
