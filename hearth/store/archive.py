"""The hearth archive: everything a store knows, as a zip a person can read and take anywhere.

One JSONL member per table, rows referring to each other by natural keys (a conversation's
source format and id, a companion's slug, a memory's uid), never by row ids; every file an
attachment or avatar points at under `blobs/`; and `manifest.json` with each member's sha256.
Rows are written in row-id order and imported in file order, so export → import into an empty
store → export gives the same bytes. JSON kept as text in the store is embedded verbatim.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.errors import CorruptInput
from hearth.formats.bundle import Bundle
from hearth.store import Store, lexical
from hearth.store import schema as s
from hearth.store.tokens import index_columns, message_columns
from hearth.store.writer import BatchResult, _insert_ignore

FORMAT = "hearth-archive"
VERSION = 1
_DATE = (1980, 1, 1, 0, 0, 0)
JSON_COLUMNS = {"raw", "parts", "card", "settings", "keys", "persona"}
TABLES = [
    "companions", "lorebooks", "memories", "conversations", "messages", "memory_sources",
    "attachments", "feedback", "accounts", "documents", "persona_versions",
]  # fmt: skip
"""Import order. A table an older archive does not have is skipped on import."""
ROWS_PER_BATCH = 5000


def _fragment(value: str | None) -> Any:
    return None if value is None else orjson.Fragment(value.encode())


def _dump(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row) + b"\n"


# ------------------------------------------------------------------ export


def _plain(row: sa.RowMapping, drop: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for key, value in row.items():
        if key in drop:
            continue
        out[str(key)] = _fragment(value) if key in JSON_COLUMNS else value
    return out


def _export_rows(conn: sa.Connection) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) in the order the archive stores them, with keys in place of ids."""
    C, M, L, Co = s.conversations.c, s.messages.c, s.lorebooks.c, s.companions.c
    slugs = dict(conn.execute(sa.select(Co.id, Co.slug)).all())
    books = {i: [f, sid] for i, f, sid in conn.execute(sa.select(L.id, L.source_format, L.source_id))}
    convs = {i: [f, sid] for i, f, sid in conn.execute(sa.select(C.id, C.source_format, C.source_id))}
    uids = dict(conn.execute(sa.select(s.memories.c.id, s.memories.c.uid)).all())

    for r in conn.execute(sa.select(s.companions).order_by(Co.id)).mappings():
        yield "companions", _plain(r, ("id",))
    for r in conn.execute(sa.select(s.lorebooks).order_by(L.id)).mappings():
        yield "lorebooks", {**_plain(r, ("id", "companion_id")), "companion": slugs.get(r["companion_id"])}
    for r in conn.execute(sa.select(s.memories).order_by(s.memories.c.id)).mappings():
        yield (
            "memories",
            {
                **_plain(r, ("id", "companion_id", "lorebook_id", "superseded_by")),
                "companion": slugs.get(r["companion_id"]),
                "lorebook": books.get(r["lorebook_id"]),
                "superseded_by": uids.get(r["superseded_by"]),
            },
        )
    for r in conn.execute(sa.select(s.conversations).order_by(C.id)).mappings():
        yield "conversations", {**_plain(r, ("id", "companion_id", "import_id")), "companion": slugs[r["companion_id"]]}
    for r in conn.execute(
        sa.select(s.messages).order_by(M.conversation_id, M.id).execution_options(yield_per=5000)
    ).mappings():
        yield (
            "messages",
            {**_plain(r, ("id", "conversation_id", "parent_id")), "conversation": convs[r["conversation_id"]]},
        )

    def message_key(mid: int | None) -> list[str] | None:
        if mid is None:
            return None
        cid, sid = conn.execute(sa.select(M.conversation_id, M.source_id).where(M.id == mid)).one()
        return [*convs[cid], sid]

    ms = s.memory_sources.c
    for r in conn.execute(sa.select(s.memory_sources).order_by(ms.memory_id, ms.message_id)).mappings():
        yield "memory_sources", {"memory": uids[r["memory_id"]], "message": message_key(r["message_id"])}
    for r in conn.execute(sa.select(s.attachments).order_by(s.attachments.c.id)).mappings():
        yield (
            "attachments",
            {
                **_plain(r, ("id", "conversation_id", "message_id", "companion_id")),
                "conversation": convs.get(r["conversation_id"]),
                "message": message_key(r["message_id"]),
                "companion": slugs.get(r["companion_id"]),
            },
        )
    for r in conn.execute(sa.select(s.feedback).order_by(s.feedback.c.id)).mappings():
        yield "feedback", {**_plain(r, ("id", "message_id")), "message": message_key(r["message_id"])}
    for r in conn.execute(sa.select(s.accounts).order_by(s.accounts.c.id)).mappings():
        yield "accounts", _plain(r, ("id",))
    for r in conn.execute(sa.select(s.documents).order_by(s.documents.c.id)).mappings():
        yield "documents", {**_plain(r, ("id", "companion_id")), "companion": slugs.get(r["companion_id"])}
    pv = s.persona_versions.c
    for r in conn.execute(sa.select(s.persona_versions).order_by(pv.id)).mappings():
        yield "persona_versions", {**_plain(r, ("id", "companion_id")), "companion": slugs[r["companion_id"]]}


def _member(name: str, cls: type = zipfile.ZipInfo) -> zipfile.ZipInfo:
    info = cls(name, date_time=_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def _write_archive(
    store: Store,
    tmp: Path,
    counts: dict[str, int],
    files: dict[str, dict[str, Any]],
    progress: Callable[[int], None] | None,
    passphrase: str | None = None,
) -> None:
    from hearth.store.db import head_revision

    with _open_zip(tmp, passphrase) as zf, store.engine.connect() as conn:
        cls = getattr(zf, "zipinfo_cls", zipfile.ZipInfo)
        groups = groupby(_export_rows(conn), key=lambda table_row: table_row[0])
        pending = next(groups, None)
        for table in TABLES:
            hasher = hashlib.sha256()
            with zf.open(_member(f"{table}.jsonl", cls), "w", force_zip64=True) as handle:
                if pending is not None and pending[0] == table:
                    for _, row in pending[1]:
                        line = _dump(row)
                        handle.write(line)
                        hasher.update(line)
                        counts[table] += 1
                        if progress:
                            progress(1)
                    pending = next(groups, None)
            files[f"{table}.jsonl"] = {"sha256": hasher.hexdigest(), "rows": counts[table]}
        b = s.blobs.c
        for sha, data in conn.execute(sa.select(b.sha256, b.data).order_by(b.sha256).execution_options(yield_per=50)):
            zf.writestr(_member(f"blobs/{sha}", cls), data)
            files[f"blobs/{sha}"] = {"sha256": sha, "bytes": len(data)}
        manifest = {"format": FORMAT, "version": VERSION, "schema": head_revision(), "files": files}
        listing = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        zf.writestr(_member("manifest.json", cls), listing)


def _open_zip(path: Path, passphrase: str | None) -> zipfile.ZipFile:
    """A plain zip, or with a passphrase an AES-256 one (WinZip AE-2, which 7-Zip and most unzip
    tools open): every member encrypted, member names (table names, blob hashes) in the clear."""
    if not passphrase:
        return zipfile.ZipFile(path, "w")
    import pyzipper

    zf = pyzipper.AESZipFile(path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES)
    zf.setpassword(passphrase.encode())
    return zf


def export_archive(
    store: Store, path: Path, progress: Callable[[int], None] | None = None, passphrase: str | None = None
) -> dict[str, int]:
    """Write the whole store to `path` (atomically), AES-encrypted when a passphrase is given;
    returns the row count of each table."""
    path = Path(path)
    counts = dict.fromkeys(TABLES, 0)
    files: dict[str, dict[str, Any]] = {}
    tmp = path.with_name(path.name + ".partial")
    try:
        _write_archive(store, tmp, counts, files, progress, passphrase)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return counts


# ------------------------------------------------------------------ import


def _read_manifest(bundle: Bundle) -> dict[str, Any]:
    entry = next(e for e in bundle.entries if e.name == "manifest.json")
    try:
        manifest = orjson.loads(entry.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise CorruptInput(f"{bundle.path}: manifest.json is not valid JSON ({exc}).") from exc
    if manifest.get("format") != FORMAT or manifest.get("version", 0) > VERSION:
        raise CorruptInput(
            f"{bundle.path} is a hearth archive of version {manifest.get('version')}, newer than this hearth reads.",
            hint="Upgrade hearth, then import it again.",
        )
    return manifest


def verify(bundle: Bundle, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Check every member against the manifest before anything is written."""
    manifest = _read_manifest(bundle)
    entries = {e.name: e for e in bundle.entries}
    for name, meta in manifest["files"].items():
        if name not in entries:
            raise CorruptInput(f"{bundle.path}: {name} is listed in the manifest but missing.")
        h = hashlib.sha256()
        with entries[name].open(progress) as stream:
            while chunk := stream.read(1 << 20):
                h.update(chunk)
        if h.hexdigest() != meta["sha256"]:
            raise CorruptInput(
                f"{bundle.path}: {name} does not match its checksum in the manifest (damaged archive).",
                hint="Export the archive again from the original store.",
            )
    return manifest


class _Importer:
    """Inserts archive rows in file order, mapping natural keys back to this store's ids."""

    def __init__(self, conn: sa.Connection, result: BatchResult) -> None:
        self.conn = conn
        self.result = result
        self.companions: dict[str, int] = dict(
            (slug, i) for i, slug in conn.execute(sa.select(s.companions.c.id, s.companions.c.slug))
        )
        self.books: dict[tuple[str, str], int] = {}
        self.convs: dict[tuple[str, str], int] = {}
        self.memories: dict[str, int] = {}
        self.later_supersessions: list[tuple[int, str]] = []

    def resolve_supersessions(self) -> None:
        """Point each memory at the newer one that replaced it, now that every memory is in."""
        for mid, uid in self.later_supersessions:
            if uid in self.memories:
                self.conn.execute(
                    sa.update(s.memories).where(s.memories.c.id == mid).values(superseded_by=self.memories[uid])
                )

    def _json_columns(self, row: dict[str, Any]) -> dict[str, Any]:
        for key in JSON_COLUMNS & row.keys():
            if row[key] is not None:
                row[key] = orjson.dumps(row[key]).decode()
        return row

    @staticmethod
    def _eq(column: sa.Column, value: Any) -> sa.ColumnElement[bool]:
        return column.is_(None) if value is None else column == value

    def _lookup(self, table: sa.Table, where: list, insert: dict[str, Any]) -> tuple[int, bool]:
        found = self.conn.execute(sa.select(table.c.id).where(*where)).scalar()
        if found is not None:
            return int(found), False
        return int(self.conn.execute(table.insert().values(**insert)).inserted_primary_key[0]), True

    def message_id(self, key: list[str] | None) -> int | None:
        if not key:
            return None
        cid = self.convs.get((key[0], key[1]))
        M = s.messages.c
        return self.conn.execute(sa.select(M.id).where(M.conversation_id == cid, M.source_id == key[2])).scalar()

    def companions_row(self, row: dict[str, Any]) -> None:
        if row["slug"] in self.companions:
            return
        cid = self.conn.execute(s.companions.insert().values(**self._json_columns(row))).inserted_primary_key[0]
        self.companions[row["slug"]] = int(cid)
        self.result.companions_added += 1

    def lorebooks_row(self, row: dict[str, Any]) -> None:
        companion = self.companions.get(row.pop("companion") or "")  # popped before the row is copied
        key = (row["source_format"], row["source_id"])
        L = s.lorebooks.c
        self.books[key], _ = self._lookup(
            s.lorebooks,
            [L.source_format == key[0], L.source_id == key[1]],
            {**self._json_columns(row), "companion_id": companion},
        )

    def memories_row(self, row: dict[str, Any]) -> None:
        book, companion, superseded = row.pop("lorebook"), row.pop("companion"), row.pop("superseded_by")
        values = {
            **self._json_columns(row),
            "companion_id": self.companions.get(companion or ""),
            "lorebook_id": self.books.get(tuple(book)) if book else None,
            "superseded_by": self.memories.get(superseded or ""),
        }
        mid, added = self._lookup(s.memories, [s.memories.c.uid == row["uid"]], values)
        self.memories[row["uid"]] = mid
        if added and superseded and values["superseded_by"] is None:
            self.later_supersessions.append((mid, superseded))  # replaced by a memory further down the file
        if added:
            self.result.memories_added += 1
            keys = orjson.loads(values["keys"]) if values.get("keys") else []
            lexical.add(self.conn, lexical.MEMORIES, [(mid, *index_columns(" ".join([*keys, values["text"]])))])

    def conversations_row(self, row: dict[str, Any]) -> None:
        key = (row["source_format"], row["source_id"])
        C = s.conversations.c
        companion = self.companions[row.pop("companion")]
        values = {**self._json_columns(row), "companion_id": companion}
        self.convs[key], added = self._lookup(
            s.conversations, [C.source_format == key[0], C.source_id == key[1]], values
        )
        self.result.conversations_added += int(added)

    def messages_rows(self, rows: list[dict[str, Any]]) -> None:
        """One conversation's messages: parents resolve inside the group."""
        conn, M = self.conn, s.messages.c
        cid = self.convs[tuple(rows[0]["conversation"])]
        ids = dict(conn.execute(sa.select(M.source_id, M.id).where(M.conversation_id == cid)).all())
        fresh = []
        for row in rows:
            row.pop("conversation")
            if row["source_id"] in ids:
                continue
            row = self._json_columns(row)
            row["conversation_id"] = cid
            row["id"] = conn.execute(
                s.messages.insert().values(**row, parent_id=ids.get(row["parent_source_id"] or ""))
            ).inserted_primary_key[0]
            ids[row["source_id"]] = row["id"]
            fresh.append(row)
        lexical.add(conn, lexical.MESSAGES, [(r["id"], *message_columns(r["text"], r.get("author_name")))
                                             for r in fresh if r["text"]])  # fmt: skip
        self.result.messages_added += len(fresh)

    def memory_sources_row(self, row: dict[str, Any]) -> None:
        mid, msg = self.memories.get(row["memory"]), self.message_id(row["message"])
        if mid is not None and msg is not None:
            self.conn.execute(_insert_ignore(self.conn, s.memory_sources), {"memory_id": mid, "message_id": msg})

    def attachments_row(self, row: dict[str, Any]) -> None:
        conv, message, companion = row.pop("conversation"), row.pop("message"), row.pop("companion")
        values = {
            **self._json_columns(row),
            "conversation_id": self.convs.get(tuple(conv)) if conv else None,
            "message_id": self.message_id(message),
            "companion_id": self.companions.get(companion or ""),
        }
        A = s.attachments.c
        where = [
            self._eq(getattr(A, col), values[col])
            for col in (
                "source_format",
                "conversation_id",
                "message_id",
                "companion_id",
                "asset_id",
                "archive_path",
                "pointer",
            )
        ]
        _, added = self._lookup(s.attachments, where, values)
        self.result.files_added += int(added and values["archive_path"] is not None)

    def feedback_row(self, row: dict[str, Any]) -> None:
        message = row.pop("message")
        values = {**self._json_columns(row), "message_id": self.message_id(message)}
        F = s.feedback.c
        _, added = self._lookup(
            s.feedback, [F.source_format == row["source_format"], F.source_id == row["source_id"]], values
        )
        self.result.feedback_added += int(added)

    def accounts_row(self, row: dict[str, Any]) -> None:
        A = s.accounts.c
        _, added = self._lookup(
            s.accounts,
            [A.source_format == row["source_format"], A.source_id == row["source_id"]],
            self._json_columns(row),
        )
        self.result.accounts_added += int(added)

    def documents_row(self, row: dict[str, Any]) -> None:
        D = s.documents.c
        companion = row.pop("companion")
        values = {**self._json_columns(row), "companion_id": self.companions.get(companion or "")}
        _, added = self._lookup(
            s.documents, [D.source_format == row["source_format"], D.source_id == row["source_id"]], values
        )
        self.result.documents_added += int(added)

    def persona_versions_row(self, row: dict[str, Any]) -> None:
        P = s.persona_versions.c
        companion = self.companions[row.pop("companion")]
        values = {**self._json_columns(row), "companion_id": companion}
        self._lookup(s.persona_versions, [P.companion_id == companion, P.version == row["version"]], values)


def _lines(bundle: Bundle, name: str, progress: Callable[[int], None] | None) -> Iterator[dict[str, Any]]:
    entry = next(e for e in bundle.entries if e.name == name)
    with entry.open(progress) as stream:
        for number, line in enumerate(stream, 1):
            try:
                yield orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise CorruptInput(f"{bundle.path}: {name} line {number} is not valid JSON ({exc}).") from exc


def import_archive(store: Store, bundle: Bundle, progress: Callable[[int], None] | None = None) -> BatchResult:
    """Verify, then import an archive; rows already in the store are left as they are."""
    manifest = verify(bundle)
    result = BatchResult()
    with store.write() as conn, conn.begin():
        imp = _Importer(conn, result)
        for name in sorted(n for n in manifest["files"] if n.startswith("blobs/")):
            data = next(e for e in bundle.entries if e.name == name).read_bytes(progress)
            conn.execute(_insert_ignore(conn, s.blobs), {"sha256": name[6:], "size_bytes": len(data), "data": data})
        for table in TABLES:
            if f"{table}.jsonl" not in manifest["files"]:
                continue
            rows = _lines(bundle, f"{table}.jsonl", progress)
            if table == "messages":
                group: list[dict[str, Any]] = []
                for row in rows:
                    if group and row["conversation"] != group[0]["conversation"]:
                        imp.messages_rows(group)
                        group = []
                    group.append(row)
                if group:
                    imp.messages_rows(group)
            else:
                handler = getattr(imp, f"{table}_row")
                for row in rows:
                    handler(row)
            if table == "memories":
                imp.resolve_supersessions()
    return result
