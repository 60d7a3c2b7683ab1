"""Alembic environment: hearth runs migrations in-process on a connection it already opened."""

from __future__ import annotations

from alembic import context

from hearth.store.db import version_schema
from hearth.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  version_table_schema=version_schema(connection))  # fmt: skip
with context.begin_transaction():
    context.run_migrations()
