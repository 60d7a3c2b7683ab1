"""Writing imported records: one transaction per batch, idempotent, merge-aware.

A conversation seen before with the same content is skipped; one that grew (a newer export of the
same chat) gets only its new messages, and its visible branch moves to the new `current_node`.
Ids are reserved inside the write transaction so parents, attachments and the FTS rows can be
written with plain executemany, with no per-row round trip.
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.records import (
    Account,
    AttachmentFile,
    CompanionCard,
    Conversation,
    Document,
    Feedback,
    Item,
    Lorebook,
    Message,
)
from hearth.store import lexical
from hearth.store import schema as s
from hearth.store.companions import DEFAULT_NAMES, companion_by_name, upsert_card
from hearth.store.tokens import index_columns, message_columns


def safe_text(text: str | None) -> str | None:
    """Text SQLite can store: a lone UTF-16 surrogate (JavaScript writes them, JSON allows
    `\ud83d` escapes) becomes U+FFFD instead of failing the whole batch."""
    if text is None or text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def _json_iterative(obj: Any) -> str:
    """JSON for an object of any depth, strings scrubbed: an explicit stack instead of recursion, since
    a hostile export can nest far past Python's recursion limit (orjson stops at 254 levels)."""
    out: list[str] = []
    stack: list[Any] = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, _Literal):
            out.append(item.text)
        elif isinstance(item, dict):
            out.append("{")
            parts: list[Any] = []
            for n, (k, v) in enumerate(item.items()):
                key = k if isinstance(k, str) else _json_scalar(k).strip('"')
                parts += [_Literal(("," if n else "") + json.dumps(safe_text(key), ensure_ascii=False) + ":"), v]
            stack.append(_Literal("}"))
            stack.extend(reversed(parts))
        elif isinstance(item, (list, tuple)):
            out.append("[")
            parts = []
            for n, v in enumerate(item):
                if n:
                    parts.append(_Literal(","))
                parts.append(v)
            stack.append(_Literal("]"))
            stack.extend(reversed(parts))
        else:
            out.append(_json_scalar(item))
    return "".join(out)


def _json_scalar(item: Any) -> str:
    """One leaf as orjson writes it: NaN and infinities become null, unknown types their str()."""
    if isinstance(item, str):
        return json.dumps(safe_text(item), ensure_ascii=False)
    if isinstance(item, float) and not math.isfinite(item):
        return "null"
    if item is None or isinstance(item, (bool, int, float)):
        return json.dumps(item)
    return json.dumps(safe_text(str(item)), ensure_ascii=False)


@dataclass(frozen=True)
class _Literal:
    text: str


def dumps(obj: object) -> str:
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        # Lone surrogates, keys orjson refuses, or nesting past orjson's 254 levels.
        return _json_iterative(obj)


def _dumps_utf8(obj: object) -> bytes:
    """`dumps(obj)` encoded as UTF-8, without the round trip through str on the usual path."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return _json_iterative(obj).encode()


@dataclass
class BatchResult:
    conversations_added: int = 0
    conversations_updated: int = 0
    conversations_unchanged: int = 0
    messages_added: int = 0
    feedback_added: int = 0
    files_added: int = 0
    accounts_added: int = 0
    companions_added: int = 0
    memories_added: int = 0
    documents_added: int = 0
    warnings: list[str] = field(default_factory=list)

    def add(self, other: BatchResult) -> None:
        for name, value in vars(other).items():
            if isinstance(value, int):
                setattr(self, name, getattr(self, name) + value)
        self.warnings += other.warnings


def _insert_ignore(conn: sa.Connection, table: sa.Table) -> sa.Insert:
    if conn.dialect.name == "sqlite":
        return table.insert().prefix_with("OR IGNORE")
    from sqlalchemy.dialects.postgresql import insert as pg_insert

    return pg_insert(table).on_conflict_do_nothing()


def _added(conn: sa.Connection, table: sa.Table, values: dict) -> int:
    """Insert unless it is there already; 1 when a row was added. Counted from RETURNING: the
    drivers' rowcount for an ignored insert differs (psycopg may report -1)."""
    return len(conn.execute(_insert_ignore(conn, table).returning(sa.literal_column("1")), values).all())


def _next_id(conn: sa.Connection, table: sa.Table) -> int:
    """First unused id; safe to count up from because the caller holds the write lock."""
    return conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0))).scalar_one() + 1


def _content_hash(raws: list[bytes], conv_raw: bytes) -> str:
    """sha256 of the conversation's raw JSON, then each message's, each after a NUL (UTF-8 bytes)."""
    h = hashlib.sha256(conv_raw)
    for raw in raws:
        h.update(b"\x00")
        h.update(raw)
    return h.hexdigest()


MESSAGE_COLUMNS = (
    "id", "conversation_id", "source_id", "parent_id", "parent_source_id", "sibling_index", "visible", "hidden", "role",
    "author_name", "content_type", "text", "parts", "created_at", "requested_model", "served_model", "status",
    "recipient", "source_format", "raw",
)  # fmt: skip
"""The columns `_message_values` fills, in its order."""
_INSERT_MESSAGES = (
    f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join('?' * len(MESSAGE_COLUMNS))})"
)


def _message_values(
    m: Message, mid: int, conversation_id: int, parent_id: int | None, raw: str, fmt: str, text: str | None
) -> tuple:
    """One message's row in MESSAGE_COLUMNS order (`text`: `safe_text(m.text)`, which the caller
    also indexes). A tuple, so the hot path hands SQLite its rows with no dict per row."""
    return (
        mid, conversation_id, m.source_id, parent_id, m.parent_source_id, m.sibling_index, m.visible, m.hidden, m.role,
        safe_text(m.author_name), m.content_type, text, dumps(m.parts) if m.parts else None, m.created_at,
        m.requested_model, m.served_model, m.status, m.recipient, fmt, raw,
    )  # fmt: skip


def _message_row(m: Message, mid: int, conversation_id: int, parent_id: int | None, raw: str, fmt: str) -> dict:
    values = _message_values(m, mid, conversation_id, parent_id, raw, fmt, safe_text(m.text))
    return dict(zip(MESSAGE_COLUMNS, values, strict=True))


def forget_message_vectors(conn: sa.Connection, ids: list[int]) -> None:
    """Drop the vectors of these messages and of the replies to them, whose passages quote them:
    called whenever a message's text changes, so the next `embed_pending` embeds what it says now."""
    if not ids:
        return
    m, e = s.messages.c, s.embeddings.c
    replies = sa.select(m.id).where(m.parent_id.in_(ids)).scalar_subquery()
    conn.execute(
        sa.delete(s.embeddings).where(e.owner_kind == "message", sa.or_(e.owner_id.in_(ids), e.owner_id.in_(replies)))
    )


class BatchWriter:
    """Writes one batch of items inside one transaction on `conn`."""

    def __init__(self, conn: sa.Connection, import_id: int | None) -> None:
        self.conn = conn
        self.import_id = import_id
        self.sqlite = conn.dialect.name == "sqlite"
        self._companions: dict[str, int] = {}

    def companion_id(self, name: str | None, source_format: str) -> int:
        name = safe_text(name) or DEFAULT_NAMES.get(source_format, source_format)
        if name not in self._companions:
            self._companions[name] = companion_by_name(self.conn, name)
        return self._companions[name]

    def write(self, items: list[Item]) -> BatchResult:
        result = BatchResult()
        for item in items:
            if isinstance(item, CompanionCard):
                self._card(item, result)
            elif isinstance(item, Lorebook):
                self._lorebook(item, None, result)
            elif isinstance(item, Document):
                self._document(item, result)
        convs = [i for i in items if isinstance(i, Conversation)]
        if convs:
            self._conversations(convs, result)
        feedback = [i for i in items if isinstance(i, Feedback)]
        if feedback:
            self._feedback(feedback, result)
        for item in items:
            if isinstance(item, Account):
                account = {"source_format": item.source_format, "source_id": item.source_id, "raw": dumps(item.raw)}
                result.accounts_added += _added(self.conn, s.accounts, account)
            elif isinstance(item, AttachmentFile):
                result.files_added += self._file(item)
        return result

    # -------------------------------------------------------------- conversations

    def _conversations(self, convs: list[Conversation], result: BatchResult) -> None:
        conn = self.conn
        by_format: dict[str, list[Conversation]] = {}
        for c in convs:
            by_format.setdefault(c.source_format, []).append(c)
        existing: dict[tuple[str, str], tuple[int, str]] = {}
        for fmt, group in by_format.items():
            rows = conn.execute(
                sa.select(s.conversations.c.id, s.conversations.c.source_id, s.conversations.c.content_hash).where(
                    s.conversations.c.source_format == fmt,
                    s.conversations.c.source_id.in_([c.source_id for c in group]),
                )
            )
            for cid, sid, chash in rows:
                existing[(fmt, sid)] = (cid, chash)

        new_convs: list[tuple[Conversation, list[str], str, str]] = []
        seen: set[tuple[str, str]] = set()
        for c in convs:
            key = (c.source_format, c.source_id)
            encoded = [_dumps_utf8(m.raw) for m in c.messages]
            conv_encoded = _dumps_utf8(c.raw)
            chash = _content_hash(encoded, conv_encoded)
            raws, conv_raw = [b.decode() for b in encoded], conv_encoded.decode()
            if key in seen:
                result.warnings.append(f"conversation {c.source_id} appears twice in the file; kept the first")
                continue
            seen.add(key)
            if key in existing:
                cid, old_hash = existing[key]
                if old_hash == chash:
                    result.conversations_unchanged += 1
                else:
                    self._merge(cid, c, raws, conv_raw, chash, result)
                    result.conversations_updated += 1
            else:
                new_convs.append((c, raws, conv_raw, chash))
        if not new_convs:
            return

        next_conv = _next_id(conn, s.conversations)
        next_msg = _next_id(conn, s.messages)
        conv_rows, msg_rows, fts_rows, att_rows = [], [], [], []
        for offset, (c, raws, conv_raw, chash) in enumerate(new_convs):
            cid = next_conv + offset
            conv_rows.append(self._conversation_row(cid, c, conv_raw, chash))
            ids: dict[str, int] = {}
            for m in c.messages:
                ids[m.source_id] = next_msg
                next_msg += 1
            self._collect_messages(c, raws, cid, ids, msg_rows, fts_rows, att_rows, only=None)
            result.conversations_added += 1
        conn.execute(s.conversations.insert(), conv_rows)
        self._insert_messages(msg_rows, fts_rows, att_rows)
        result.messages_added += len(msg_rows)

    def _conversation_row(self, cid: int, c: Conversation, conv_raw: str, chash: str) -> dict:
        return {
            "id": cid,
            "companion_id": self.companion_id(c.companion, c.source_format),
            "import_id": self.import_id,
            "source_format": c.source_format,
            "source_id": c.source_id,
            "title": safe_text(c.title),
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "default_model": c.default_model,
            "current_node": c.current_node,
            "content_hash": chash,
            "raw": conv_raw,
        }

    def _collect_messages(self, c, raws, cid, ids, msg_rows, fts_rows, att_rows, only: set[str] | None) -> None:
        fmt = c.source_format
        for m, raw in zip(c.messages, raws, strict=True):
            if only is not None and m.source_id not in only:
                continue
            mid = ids[m.source_id]
            parent_id = ids.get(m.parent_source_id) if m.parent_source_id is not None else None
            text = safe_text(m.text)
            msg_rows.append(_message_values(m, mid, cid, parent_id, raw, fmt, text))
            if text:
                body, uni = message_columns(text, safe_text(m.author_name))
                fts_rows.append((mid, body, uni))
            for a in m.attachments:
                att_rows.append(
                    {
                        "source_format": c.source_format,
                        "conversation_id": cid,
                        "message_id": mid,
                        "asset_id": a.asset_id,
                        "name": a.name,
                        "mime_type": a.mime_type,
                        "size_bytes": a.size_bytes,
                        "pointer": a.pointer,
                        "raw": dumps(a.raw),
                    }
                )

    def _insert_messages(self, msg_rows: list[tuple], fts_rows: list[tuple], att_rows: list[dict]) -> None:
        if msg_rows and self.sqlite:
            # The hot path of a big import: plain executemany skips SQLAlchemy's per-row processing.
            self.conn.exec_driver_sql(_INSERT_MESSAGES, msg_rows)
        elif msg_rows:
            self.conn.execute(s.messages.insert(), [dict(zip(MESSAGE_COLUMNS, r, strict=True)) for r in msg_rows])
        lexical.add(self.conn, lexical.MESSAGES, fts_rows)
        if att_rows:
            self.conn.execute(s.attachments.insert(), att_rows)

    def _merge(
        self, cid: int, c: Conversation, raws: list[str], conv_raw: str, chash: str, result: BatchResult
    ) -> None:
        """Add what a newer export of a stored conversation has that we lack; move the visible branch."""
        conn = self.conn
        m_ = s.messages.c
        stored = {
            sid: (mid, raw)
            for mid, sid, raw in conn.execute(sa.select(m_.id, m_.source_id, m_.raw).where(m_.conversation_id == cid))
        }
        ids = {sid: mid for sid, (mid, _) in stored.items()}
        fresh = [m.source_id for m in c.messages if m.source_id not in stored]
        next_msg = _next_id(conn, s.messages)
        for offset, sid in enumerate(fresh):
            ids[sid] = next_msg + offset
        msg_rows, fts_rows, att_rows = [], [], []
        self._collect_messages(c, raws, cid, ids, msg_rows, fts_rows, att_rows, only=set(fresh))
        self._insert_messages(msg_rows, fts_rows, att_rows)
        result.messages_added += len(msg_rows)

        for m, raw in zip(c.messages, raws, strict=True):
            if m.source_id in fresh:
                continue
            mid, old_raw = stored[m.source_id]
            values = {"visible": m.visible, "sibling_index": m.sibling_index}
            if raw != old_raw:
                parent = ids.get(m.parent_source_id) if m.parent_source_id is not None else None
                row = _message_row(m, mid, cid, parent, raw, c.source_format)
                values.update({k: v for k, v in row.items() if k not in ("id", "conversation_id", "source_id")})
                lexical.remove(conn, lexical.MESSAGES, [mid])
                forget_message_vectors(conn, [mid])
                if m.text:
                    columns = message_columns(safe_text(m.text) or "", safe_text(m.author_name))
                    lexical.add(conn, lexical.MESSAGES, [(mid, *columns)])
            conn.execute(sa.update(s.messages).where(m_.id == mid).values(**values))
        row = self._conversation_row(cid, c, conv_raw, chash)
        del row["id"], row["companion_id"]
        conn.execute(sa.update(s.conversations).where(s.conversations.c.id == cid).values(**row))

    # -------------------------------------------------------------- cards, lore, documents

    def _blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        self.conn.execute(_insert_ignore(self.conn, s.blobs), {"sha256": digest, "size_bytes": len(data), "data": data})
        return digest

    def _card(self, card: CompanionCard, result: BatchResult) -> None:
        avatar = self._blob(card.avatar) if card.avatar else None
        cid, added = upsert_card(self.conn, card, dumps(card.card), dumps(card.raw), avatar)
        self._companions[card.name] = self._companions.get(card.name, cid)
        if not added:
            return
        result.companions_added += 1
        for asset in card.assets:
            digest = self._blob(asset.data)
            self.conn.execute(
                _insert_ignore(self.conn, s.attachments),
                {
                    "source_format": asset.source_format,
                    "companion_id": cid,
                    "asset_id": asset.asset_id,
                    "name": asset.original_name,
                    "size_bytes": len(asset.data),
                    "archive_path": asset.path,
                    "blob_sha256": digest,
                },
            )
        if card.lorebook is not None:
            self._lorebook(card.lorebook, cid, result)

    def _lorebook(self, book: Lorebook, companion_id: int | None, result: BatchResult) -> None:
        """A lorebook and its entries as memories that keep their keys, order and settings."""
        conn, lb = self.conn, s.lorebooks.c
        if (
            conn.execute(
                sa.select(lb.id).where(lb.source_format == book.source_format, lb.source_id == book.source_id)
            ).scalar()
            is not None
        ):
            return
        if companion_id is None and book.companion:
            companion_id = self.companion_id(book.companion, book.source_format)
        book_id = conn.execute(
            s.lorebooks.insert().values(
                companion_id=companion_id,
                source_format=book.source_format,
                source_id=book.source_id,
                name=safe_text(book.name),
                settings=dumps(book.settings),
                raw=dumps(book.raw),
            )
        ).inserted_primary_key[0]
        now = time.time()
        next_id = _next_id(conn, s.memories)
        rows, fts = [], []
        for position, e in enumerate(book.entries):
            settings = {
                "secondary_keys": e.secondary_keys,
                "name": e.name,
                "comment": e.comment,
                "constant": e.constant,
                "selective": e.selective,
                "insertion_order": e.insertion_order,
                "priority": e.priority,
                "position": e.position,
                "use_regex": e.use_regex,
                "case_sensitive": e.case_sensitive,
                "entry_id": e.entry_id,
                "extensions": e.extensions,
            }
            mid = next_id + position
            uid = hashlib.sha256(f"{book.source_format}\x00{book.source_id}\x00{position}".encode()).hexdigest()
            rows.append(
                {
                    "id": mid,
                    "uid": uid[:32],
                    "companion_id": companion_id,
                    "lorebook_id": book_id,
                    "kind": "lorebook",
                    "text": safe_text(e.content),
                    "keys": dumps(e.keys),
                    "position": position,
                    "enabled": e.enabled,
                    "settings": dumps(settings),
                    "importance": 0.5,
                    "pinned": e.constant,
                    "source": f"{book.source_format}:lorebook",
                    "created_at": now,
                    "updated_at": now,
                    "raw": dumps(e.raw),
                }
            )
            if e.content or e.keys:
                fts.append((mid, *index_columns(safe_text(" ".join([*e.keys, e.content])) or "")))
        if rows:
            conn.execute(s.memories.insert(), rows)
        lexical.add(conn, lexical.MEMORIES, fts)
        result.memories_added += len(rows)

    def _document(self, doc: Document, result: BatchResult) -> None:
        result.documents_added += _added(
            self.conn,
            s.documents,
            {
                "source_format": doc.source_format,
                "source_id": doc.source_id,
                "collection": doc.collection,
                "title": safe_text(doc.title),
                "text": safe_text(doc.text),
                "created_at": doc.created_at,
                "raw": dumps(doc.raw),
            },
        )

    # -------------------------------------------------------------- feedback and files

    def _feedback(self, items: list[Feedback], result: BatchResult) -> None:
        conn = self.conn
        m_, c_ = s.messages.c, s.conversations.c
        rows = []
        for fb in items:
            q = (
                sa.select(m_.id)
                .join(s.conversations, c_.id == m_.conversation_id)
                .where(m_.source_id == fb.message_source_id, c_.source_format == fb.source_format)
            )
            if fb.conversation_source_id:
                q = q.where(c_.source_id == fb.conversation_source_id)
            message_id = conn.execute(q.limit(1)).scalar()
            rows.append(
                {
                    "source_format": fb.source_format,
                    "source_id": fb.source_id,
                    "message_id": message_id,
                    "conversation_source_id": fb.conversation_source_id,
                    "message_source_id": fb.message_source_id,
                    "rating": fb.rating,
                    "text": fb.text,
                    "created_at": fb.created_at,
                    "raw": dumps(fb.raw),
                }
            )
        before = conn.execute(sa.select(sa.func.count()).select_from(s.feedback)).scalar_one()
        conn.execute(_insert_ignore(conn, s.feedback), rows)
        result.feedback_added += conn.execute(sa.select(sa.func.count()).select_from(s.feedback)).scalar_one() - before

    def _file(self, f: AttachmentFile) -> int:
        digest = self._blob(f.data)
        return _added(
            self.conn,
            s.attachments,
            {
                "source_format": f.source_format,
                "asset_id": f.asset_id,
                "name": f.original_name,
                "size_bytes": len(f.data),
                "archive_path": f.path,
                "blob_sha256": digest,
                "raw": None,
            },
        )
