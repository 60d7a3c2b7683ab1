"""The canonical store: schema, migrations, transactions and every SQL statement in hearth."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlalchemy as sa

from hearth.errors import StoreError
from hearth.records import Item
from hearth.store import schema
from hearth.store.db import create_engine, migrate, sqlite_file, sync_ids
from hearth.store.writer import BatchResult, BatchWriter

__all__ = ["Store", "ImportState", "BatchResult", "schema"]


@dataclass
class ImportState:
    id: int
    status: str
    conversations_done: int


class Store:
    """A hearth database (SQLite file or PostgreSQL URL), migrated to the newest schema on open."""

    def __init__(self, location: str, passphrase: str | None = None) -> None:
        """`passphrase` opens an encrypted SQLite store, or creates one where no file is yet;
        without one, an encrypted file's passphrase comes from HEARTH_PASSPHRASE or the OS keyring
        (see hearth.store.encryption). Given for a plain file, it is not used."""
        from hearth.store import encryption

        self.location = location
        path = sqlite_file(location)
        new_file = path is not None and (not path.exists() or path.stat().st_size == 0)
        self.encrypted = path is not None and (encryption.is_encrypted(path) or (new_file and passphrase is not None))
        if self.encrypted and passphrase is None:
            passphrase = encryption.passphrase_for(path)
            if passphrase is None:
                raise encryption.locked_error(path, wrong=False)
        self.passphrase = passphrase if self.encrypted else None
        """Kept for the store's own maintenance (a backup is checked with the same key)."""
        try:
            self.engine = create_engine(location, self.passphrase)
            self.schema_before, self.schema = migrate(self.engine)
            """The schema revision found on opening (None: a new store) and the one it has now."""
        except sa.exc.DatabaseError as exc:
            if self.encrypted:
                raise encryption.locked_error(path, wrong=True) from None
            raise StoreError(
                f"Cannot open the hearth database at {location}: {exc.orig}.",
                hint="Is it a hearth database? Pass another location with --db or HEARTH_DB.",
            ) from exc

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> sa.Connection:
        """A connection whose transaction takes the write lock at once (use as `with ... .begin()`)."""
        return self.engine.connect().execution_options(immediate=True)

    # -------------------------------------------------------------- imports

    def begin_import(self, sha256: str, path: str, fmt: str, size: int) -> ImportState:
        """The import record for this file: a new one, or the earlier one to resume or skip."""
        i = schema.imports.c
        with self.write() as conn, conn.begin():
            row = conn.execute(
                sa.select(i.id, i.status, i.conversations_done).where(i.file_sha256 == sha256, i.format == fmt)
            ).first()
            if row is not None:
                if row.status != "done":
                    conn.execute(
                        sa.update(schema.imports).where(i.id == row.id).values(status="running", path=path, error=None)
                    )
                return ImportState(row.id, row.status, row.conversations_done)
            new_id = conn.execute(
                schema.imports.insert().values(
                    file_sha256=sha256, path=path, format=fmt, size_bytes=size, status="running", started_at=time.time()
                )
            ).inserted_primary_key[0]
            return ImportState(int(new_id), "new", 0)

    def write_batch(self, import_id: int, items: list[Item], conversations_done: int) -> BatchResult:
        """Write a batch and the import's progress in one transaction, so a kill loses nothing
        that was reported done and resumes exactly after it."""
        i = schema.imports.c
        with self.write() as conn, conn.begin():
            result = BatchWriter(conn, import_id).write(items)
            sync_ids(conn)
            conn.execute(
                sa.update(schema.imports)
                .where(i.id == import_id)
                .values(
                    conversations_done=conversations_done,
                    conversations_added=i.conversations_added + result.conversations_added,
                    messages_added=i.messages_added + result.messages_added,
                )
            )
        return result

    def finish_import(self, import_id: int, status: str, error: str | None = None) -> None:
        with self.write() as conn, conn.begin():
            conn.execute(
                sa.update(schema.imports)
                .where(schema.imports.c.id == import_id)
                .values(status=status, error=error, finished_at=time.time())
            )
