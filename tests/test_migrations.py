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
