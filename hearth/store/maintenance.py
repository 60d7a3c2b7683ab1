"""Keeping a store healthy: check it, back it up while it is in use, restore it without losing
the store it replaces.

`check` looks past SQLite's own integrity check at what hearth promises: every message and memory
with text is in the search index and nothing else is, every vector and provenance link points at
something that exists, every reply hangs in its own conversation. `repair` rebuilds the search
rows that are missing or stray (the only derived data a crash can leave behind).
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import sqlalchemy as sa
from sqlcipher3 import dbapi2 as sqlite_driver

from hearth.errors import HearthError, StoreError
from hearth.store import Store, lexical
from hearth.store import schema as s
from hearth.store.db import current_revision, head_revision
from hearth.store.tokens import index_columns, message_columns


@dataclass
class Problem:
    what: str
    count: int
    repairable: bool = False
    examples: list[int] = field(default_factory=list)


_CHECKS: list[tuple[str, str, bool]] = [
    ("messages with text missing from the search index",
     f"SELECT m.id FROM messages m LEFT JOIN {s.FTS_TABLE} f ON f.rowid = m.id WHERE m.text != '' AND f.rowid IS NULL",
     True),
    ("search rows for messages that do not exist",
     f"SELECT f.rowid FROM {s.FTS_TABLE} f LEFT JOIN messages m ON m.id = f.rowid WHERE m.id IS NULL", True),
    ("memories missing from the search index",
     f"SELECT m.id FROM memories m LEFT JOIN {s.MEMORY_FTS_TABLE} f ON f.rowid = m.id "
     "WHERE (m.text != '' OR (m.keys IS NOT NULL AND m.keys != '[]')) AND f.rowid IS NULL", True),
    ("search rows for memories that do not exist",
     f"SELECT f.rowid FROM {s.MEMORY_FTS_TABLE} f LEFT JOIN memories m ON m.id = f.rowid WHERE m.id IS NULL", True),
    ("vectors of memories that do not exist",
     "SELECT e.owner_id FROM embeddings e LEFT JOIN memories m ON m.id = e.owner_id "
     "WHERE e.owner_kind = 'memory' AND m.id IS NULL", True),
    ("vectors of messages that do not exist",
     "SELECT e.owner_id FROM embeddings e LEFT JOIN messages m ON m.id = e.owner_id "
     "WHERE e.owner_kind = 'message' AND m.id IS NULL", True),
    ("provenance links to missing messages or memories",
     "SELECT ms.memory_id FROM memory_sources ms LEFT JOIN messages m ON m.id = ms.message_id "
     "LEFT JOIN memories me ON me.id = ms.memory_id WHERE m.id IS NULL OR me.id IS NULL", False),
    ("messages whose parent is in another conversation",
     "SELECT c.id FROM messages c JOIN messages p ON p.id = c.parent_id WHERE p.conversation_id != c.conversation_id",
     False),
    ("memories superseded by a memory that does not exist",
     "SELECT m.id FROM memories m LEFT JOIN memories n ON n.id = m.superseded_by "
     "WHERE m.superseded_by IS NOT NULL AND n.id IS NULL", False),
    ("imports left running (a killed import; importing the same file again resumes it)",
     "SELECT id FROM imports WHERE status = 'running'", False),
]  # fmt: skip


def check(store: Store) -> list[Problem]:
    """Everything that is not as hearth promises; an empty list means the store is healthy."""
    problems: list[Problem] = []
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            result = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").all()]
            if result != ["ok"]:
                problems.append(Problem("SQLite integrity check: " + "; ".join(result[:5]), len(result)))
            fk = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            if fk:
                problems.append(Problem("rows pointing at rows that do not exist (foreign keys)", len(fk)))
        for what, sql, repairable in _CHECKS:
            ids = [r[0] for r in conn.exec_driver_sql(sql).all()]
            if ids:
                problems.append(Problem(what, len(ids), repairable, ids[:5]))
    return problems


def repair(store: Store) -> int:
    """Rebuild what a crash can leave inconsistent (search rows, orphan vectors); returns rows fixed."""
    fixed = 0
    with store.write() as conn, conn.begin():
        missing = [r[0] for r in conn.exec_driver_sql(_CHECKS[0][1]).all()]
        m = s.messages.c
        rows = conn.execute(sa.select(m.id, m.text, m.author_name).where(m.id.in_(missing))).all()
        lexical.add(conn, lexical.MESSAGES, [(r.id, *message_columns(r.text, r.author_name)) for r in rows])
        stray = [r[0] for r in conn.exec_driver_sql(_CHECKS[1][1]).all()]
        lexical.remove(conn, lexical.MESSAGES, stray)
        mem_missing = [r[0] for r in conn.exec_driver_sql(_CHECKS[2][1]).all()]
        me = s.memories.c
        rows = conn.execute(sa.select(me.id, me.text, me["keys"]).where(me.id.in_(mem_missing))).all()
        lexical.add(conn, lexical.MEMORIES, [
            (r.id, *index_columns(" ".join([*(orjson.loads(r[2]) if r[2] else []), r.text]))) for r in rows
        ])  # fmt: skip
        mem_stray = [r[0] for r in conn.exec_driver_sql(_CHECKS[3][1]).all()]
        lexical.remove(conn, lexical.MEMORIES, mem_stray)
        fixed += len(missing) + len(stray) + len(mem_missing) + len(mem_stray)
        for kind, table in (("memory", "memories"), ("message", "messages")):
            fixed += conn.exec_driver_sql(
                f"DELETE FROM embeddings WHERE owner_kind = '{kind}' AND owner_id NOT IN (SELECT id FROM {table})"
            ).rowcount
    return fixed


def _sqlite_path(store: Store) -> Path:
    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise HearthError("Backup and restore work on a SQLite file store.",
                          hint="For PostgreSQL use pg_dump / pg_restore.")  # fmt: skip
    return Path(url.database)


def backup(store: Store, dest: Path, force: bool = False) -> dict[str, float]:
    """A consistent copy while the store is in use (SQLite's VACUUM INTO reads one snapshot),
    written beside `dest` and renamed into place only once it checks out."""
    dest = Path(dest).expanduser()
    if dest.exists() and not force:
        raise HearthError(f"{dest} already exists.", hint="Choose another name, or pass --force to replace it.")
    _sqlite_path(store)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".partial")
    tmp.unlink(missing_ok=True)
    start = time.perf_counter()
    raw = store.engine.raw_connection()  # VACUUM cannot run inside the transaction SQLAlchemy opens
    try:
        driver = raw.driver_connection
        driver.isolation_level = None
        driver.execute("VACUUM INTO ?", (str(tmp),))
    finally:
        raw.close()
    verdict = _verify(tmp, store.passphrase)
    if verdict != "ok":
        tmp.unlink(missing_ok=True)
        raise StoreError(f"The backup did not check out ({verdict}); nothing was written to {dest}.")
    tmp.replace(dest)
    return {"seconds": round(time.perf_counter() - start, 2), "bytes": dest.stat().st_size}


def _verify(path: Path, passphrase: str | None = None) -> str:
    from hearth.store.encryption import connect

    conn = connect(path, passphrase)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        has_version = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'").fetchone()[0]
        return result if has_version else "not a hearth database"
    except sqlite_driver.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()


def restore(source: Path, target: str) -> Path | None:
    """Replace the store at `target` with the backup `source`; the store it replaces is moved aside
    (returned), never deleted. The restored store is migrated to this hearth's schema."""
    source = Path(source).expanduser()
    if not source.is_file():
        raise HearthError(f"There is no backup at {source}.")
    from hearth.store import encryption

    target_path = Path(target).expanduser()
    passphrase = encryption.passphrase_for(target_path) if encryption.is_encrypted(source) else None
    if encryption.is_encrypted(source) and passphrase is None:
        raise encryption.locked_error(source, wrong=False)
    verdict = _verify(source, passphrase)
    if verdict != "ok":
        if passphrase and verdict == "file is not a database":
            raise encryption.locked_error(source, wrong=True)
        raise StoreError(f"{source} is not a usable hearth backup: {verdict}.", hint="Nothing was changed.")
    aside = None
    if target_path.exists():
        aside = target_path.with_name(f"{target_path.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}")
        probe = encryption.connect(target_path, encryption.passphrase_for(target_path))
        try:
            probe.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite_driver.DatabaseError:  # a store we cannot open is still moved aside, whole
            pass
        finally:
            probe.close()
        target_path.replace(aside)
        for suffix in ("-wal", "-shm"):
            Path(str(target_path) + suffix).unlink(missing_ok=True)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target_path)
    restored = Store(str(target_path), passphrase)
    try:
        if current_revision(restored.engine) != head_revision():
            raise StoreError("The restored store could not be brought to this hearth's schema.")
    finally:
        restored.close()
    return aside


def is_empty(store: Store) -> bool:
    with store.engine.connect() as conn:
        return not any(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (s.companions, s.conversations, s.memories)
        )


def copy_store(source: Store, target: Store, workdir: Path) -> dict[str, int]:
    """Copy everything from one store into an empty one (SQLite ↔ PostgreSQL, either way) through
    hearth's own archive, then prove it lossless: the target's archive must equal the source's
    byte for byte. Returns the row counts. Vectors are not copied (they are recomputed)."""
    from hearth.ingest import import_path
    from hearth.store.archive import export_archive

    if not is_empty(target):
        raise HearthError(f"{target.location} already holds a store.",
                          hint="Copy into a new, empty database (or a new SQLite file).")  # fmt: skip
    before, after = Path(workdir) / "source.zip", Path(workdir) / "target.zip"
    counts = export_archive(source, before)
    summary = import_path(target, before)
    if summary.status != "done":
        raise StoreError(f"Copying into {target.location} failed: {summary.error}.", hint=summary.hint)
    export_archive(target, after)
    if before.read_bytes() != after.read_bytes():
        raise StoreError(f"The copy in {target.location} does not match {source.location} exactly.",
                         hint="Nothing was removed from the source; report this as a bug.")  # fmt: skip
    return counts
