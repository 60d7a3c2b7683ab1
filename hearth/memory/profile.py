"""The provider's profile of the person, made visible: every trace of it becomes a hearth memory.

ChatGPT kept a profile it injected into chats and never fully showed: the saved memory the model
saw (`model_editable_context.model_set_context`, one dated line per saved memory), custom
instructions (`user_editable_context.user_profile` / `user_instructions` since 2024, and the 2023
system messages with `is_user_system_message` + `user_context_message_data.about_user_message` /
`about_model_message`), and every memory the model decided to save (an assistant message to the
`bio` tool). Claude exports the memory it kept in `memories.json` (`conversations_memory`,
`project_memories`, and the newer `memory_files`). Each trace becomes a memory whose `source`
says where it came from (`chatgpt:model_editable_context`, `chatgpt:user_editable_context`,
`chatgpt:custom_instructions`, `chatgpt:bio`, `claude:conversations_memory`,
`claude:project_memories`, `claude:memory_files`) and whose provenance is the messages it rode in.

Kind: `profile`, a kind of its own, because these are the provider's claims about the person, not
facts hearth read in their words. `keep` turns one into hearth's own memory (`fact`, or
`preference` for "how to respond"), which `persona derive` then uses like any other.

The same profile text injected into hundreds of conversations is ONE memory with every message
as its source. A profile is a series of snapshots: an item missing from the newest snapshot of its
group (the person changed their custom instructions, deleted a saved memory, Claude rewrote its
summary) is superseded by the closest item of the newest snapshot; it stays visible with `--all`,
and `keep` brings it back. `bio` calls are writes, not snapshots: each stays. Forgotten items never
come back: every item's key is remembered in `settings` (`profile.item.<hash>` → memory id; the
memory's `raw` names it too, so a store restored from a hearth archive finds its items again;
an archive does not carry the forget list, so after a restore only `--rescan` could bring one back).
The pass runs after every import and keeps cursors in `settings`, so it is resumable and
re-running it reads only what is new.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from hearth.errors import HearthError, NotFound
from hearth.store import Store
from hearth.store import schema as s
from hearth.store.memories import MemoryRow, add_memory, get_memory, supersede, update_memory

KIND = "profile"
VERSION = "v1"
SOURCES = (
    "chatgpt:model_editable_context", "chatgpt:user_editable_context", "chatgpt:custom_instructions", "chatgpt:bio",
    "claude:conversations_memory", "claude:project_memories", "claude:memory_files",
)  # fmt: skip
IMPORTANCE = {"chatgpt:about_me": 0.8, "chatgpt:how_to_respond": 0.8, "chatgpt:bio": 0.6}
"""What the person wrote themselves weighs most; the model's notes and summaries 0.6 (projects 0.5)."""
PLACEHOLDER = re.compile(r"^\W*(no (prior|data|information|relevant|other)|none|n/?a|nothing)\b.{0,80}$", re.I | re.S)
"""Summary filler ("No data available.") is kept, at importance 0.1, so the letter never spends tokens on it."""
BATCH = 500

_FENCE = re.compile(r"```(.*?)(?:```|$)", re.S)
_BOILERPLATE = ("follow the instructions below naturally", "all the following instructions should guide")
_HOW_MARK = re.compile(r"the user provided the additional info about how they would like you to respond:?", re.I)
_ABOUT_MARK = re.compile(r"user profile:|the user provided the following information about themselves\.?", re.I)
_ENTRY_START = re.compile(r"^\s*(?:\d+[.)]\s|[-*•]\s|\[\d{4}-\d{2}-\d{2})")
_ENTRY = re.compile(r"^\s*(?:\d+[.)]\s*|[-*•]\s+)?(?:\[(\d{4}-\d{2}-\d{2})[^\]]*\]\.?\s*)?(.*)$", re.S)
_BULLET = re.compile(r"\s*(?:[-*•]|\d+[.)])\s+(.*)")
_WORD = re.compile(r"[^\W_]+", re.U)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Item:
    """One profile trace as found: which group it belongs to, its text, and where it was seen."""

    group: str
    source: str
    text: str
    seen: tuple[float, int]
    """When the provider showed it (ordering key of snapshots: time, then message/file id)."""
    event_at: float | None = None
    message_id: int | None = None
    companion_id: int | None = None
    section: str | None = None
    origin: dict[str, Any] = field(default_factory=dict)


@dataclass
class ProfileStats:
    messages_read: int = 0
    files_read: int = 0
    added: int = 0
    linked: int = 0
    """Sightings of an item hearth already had (the same text in another conversation)."""
    superseded: int = 0
    restored: int = 0
    forgotten_skipped: int = 0
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- reading the traces


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().strip("。.!！ ").casefold()


def _unwrap(value: Any) -> str:
    """What the person typed, without ChatGPT's wrapper ("The user provided…```…```") and boilerplate."""
    if not isinstance(value, str) or not value.strip():
        return ""
    text = value
    mark = _HOW_MARK.search(text) or _ABOUT_MARK.search(text)
    if mark:
        text = _ABOUT_MARK.split(text)[-1] if _ABOUT_MARK.search(text) else text[mark.end() :]
        fence = _FENCE.match(text.strip())
        text = fence.group(1) if fence else text
    paras = [p for p in re.split(r"\n\s*\n", text) if not p.strip().casefold().startswith(_BOILERPLATE)]
    return "\n\n".join(paras).strip()


def _day(text: str | None) -> float | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() if text else None
    except ValueError:
        return None


def saved_memory_lines(text: Any) -> list[tuple[str, float | None]]:
    """`model_set_context` as (memory, date): "1. [2024-09-29]. User is …" per entry; lines that
    continue an entry are joined to it; unnumbered text is one entry per line."""
    if not isinstance(text, str):
        return []
    lines = [ln for ln in text.splitlines() if ln.strip()]
    entries: list[str] = []
    numbered = any(_ENTRY_START.match(ln) for ln in lines)
    for ln in lines:
        if not numbered or _ENTRY_START.match(ln) or not entries:
            entries.append(ln)
        else:
            entries[-1] += " " + ln.strip()
    out = []
    for e in entries:
        m = _ENTRY.match(e)
        body = (m.group(2) if m else e).strip()
        if body and not re.fullmatch(r"model set context:?", body, re.I):
            out.append((body, _day(m.group(1) if m else None)))
    return out


def bio_texts(text: str) -> list[str]:
    """What a message to the `bio` tool saved: its text, or the memory inside a JSON payload
    (`{"content": …}`, `{"updates": [...]}` — the code-typed variant)."""
    t = text.strip()
    if not t.startswith(("{", "[")):
        return [t] if t else []
    try:
        obj = orjson.loads(t)
    except orjson.JSONDecodeError:
        return [t]
    found: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, str) and o.strip():
            found.append(o.strip())
        elif isinstance(o, list):
            for x in o:
                walk(x)
        elif isinstance(o, dict):
            for key in ("content", "text", "memory", "fact", "value", "note"):
                if isinstance(o.get(key), str):
                    return walk(o[key])
            for key in ("updates", "memories", "facts", "entries"):
                walk(o.get(key))

    walk(obj)
    return found or [t]


def _leaves(obj: Any, path: str = "", limit: int = 100) -> list[str]:
    if isinstance(obj, dict):
        return [x for k, v in obj.items() for x in _leaves(v, f"{path}.{k}" if path else str(k), limit)][:limit]
    if isinstance(obj, list):
        return [x for i, v in enumerate(obj) for x in _leaves(v, f"{path}[{i}]", limit)][:limit]
    return [f"{path}: {obj.strip()}"] if isinstance(obj, str) and obj.strip() else []


def chatgpt_traces(msg: dict[str, Any], role: str | None) -> list[tuple[str, str, str, float | None]]:
    """(group, source, text, date) for every profile trace in one ChatGPT message object."""
    content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
    meta = msg.get("metadata") if isinstance(msg.get("metadata"), dict) else {}
    ctype = content.get("content_type")
    recipient = msg.get("recipient")
    if isinstance(recipient, str) and (recipient == "bio" or recipient.startswith("bio.")) and role == "assistant":
        parts = content.get("parts") if isinstance(content.get("parts"), list) else []
        text = "\n".join(
            p if isinstance(p, str) else str(p.get("text") or "") for p in parts if isinstance(p, dict | str)
        )
        text = text or str(content.get("text") or "")
        return [("chatgpt:bio", "chatgpt:bio", t, None) for t in bio_texts(text)]
    if ctype == "model_editable_context":
        src = "chatgpt:model_editable_context"
        lines = saved_memory_lines(content.get("model_set_context"))
        out = [("chatgpt:model_set_context", src, t, d) for t, d in lines]
        for key in ("user_profile", "repository", "repo_summary"):
            if text := _unwrap(content.get(key)):
                out.append((f"chatgpt:model_editable_context/{key}", src, text, None))
        out += [(f"{src}/structured_context", src, t, None) for t in _leaves(content.get("structured_context"))]
        return out
    ucmd = meta.get("user_context_message_data") if isinstance(meta.get("user_context_message_data"), dict) else {}
    custom = (meta.get("is_user_system_message") or ucmd) and role in ("user", "system")
    if ctype != "user_editable_context" and not custom:
        return []
    source = "chatgpt:user_editable_context" if ctype == "user_editable_context" else "chatgpt:custom_instructions"
    about = _unwrap(content.get("user_profile")) or _unwrap(ucmd.get("about_user_message"))
    how = _unwrap(content.get("user_instructions")) or _unwrap(ucmd.get("about_model_message"))
    if not about and not how and isinstance(content.get("parts"), list):
        text = "\n".join(p for p in content["parts"] if isinstance(p, str))
        mark = _HOW_MARK.search(text)
        about = _unwrap(text[: mark.start()] if mark else text)
        how = _unwrap(text[mark.start() :]) if mark else ""
    return [(f"chatgpt:{g}", source, t, None) for g, t in (("about_me", about), ("how_to_respond", how)) if t]


def markdown_items(text: str) -> list[tuple[str, str]]:
    """(section, item) for a Markdown memory summary: `**Heading**` / `# Heading` lines open a
    section, an italic-only line a sub-section; each bullet or paragraph is an item, and a
    paragraph ending in ":" carries the bullets that follow it (they mean nothing alone)."""
    items: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    intro: list[str] = []  # [section, text] of a paragraph that introduces a list
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n")):
        lines = [ln.rstrip() for ln in block.split("\n") if ln.strip()]
        while lines:
            head = lines[0].strip()
            h = re.fullmatch(r"(#{1,6})\s+(.+?)\s*#*", head) or re.fullmatch(r"\*\*([^*]+?)\*\*:?", head)
            sub = re.fullmatch(r"[*_]([^*_]+?)[*_]:?", head)
            if h or sub:  # `#` = level 1, `**bold**` = level 2 (like `##`), an italic line below any heading
                level = len(h.group(1)) if h and h.lastindex == 2 else 2 if h else 7
                stack = [x for x in stack if x[0] < level] + [(level, (h or sub).group(h.lastindex if h else 1))]
            else:
                break
            lines, intro = lines[1:], []
        if not lines:
            continue
        section = " › ".join(title.strip("*: ") for _, title in stack)
        para_lines: list[str] = []
        bullets: list[str] = []
        for ln in lines:
            m = _BULLET.match(ln)
            if m:
                bullets.append(m.group(1).strip())
            elif bullets:
                bullets[-1] += " " + ln.strip()
            else:
                para_lines.append(ln.strip())
        para = " ".join(para_lines)
        if para and bullets and para.endswith(":"):
            items.append((section, para + " " + "; ".join(bullets)))
        elif bullets and not para and intro and intro[0] == section:
            items[-1] = (section, intro[1] + " " + "; ".join(bullets))
        else:
            items += [(section, t) for t in [para, *bullets] if t]
        intro = [section, para] if para.endswith(":") and not bullets else []
    return items


# ---------------------------------------------------------------- the pass


# Statements the pass runs once or more per item, built once (building one costs more than running it).
_GET_SETTING = sa.select(s.settings.c.value).where(s.settings.c.key == sa.bindparam("k"))
_DELETE_SETTING = s.settings.delete().where(s.settings.c.key == sa.bindparam("k"))
_MEMORY_EXISTS = sa.select(s.memories.c.id).where(s.memories.c.id == sa.bindparam("i"))
_IN_CHUNK = 500
"""Ids per IN list when a batch's sightings are read back."""


def _setting(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(_GET_SETTING, {"k": key}).scalar()


def _set(conn: sa.Connection, key: str, value: str) -> None:
    conn.execute(_DELETE_SETTING, {"k": key})
    conn.execute(s.settings.insert(), {"key": key, "value": value})


def _language(text: str) -> str:
    cjk = len(_CJK.findall(text))
    return "zh" if cjk and cjk >= len(_WORD.findall(_CJK.sub(" ", text))) else "en"


def _importance(group: str, source: str, text: str) -> float:
    if PLACEHOLDER.match(text.strip()):
        return 0.1
    return IMPORTANCE.get(group, 0.5 if source == "claude:project_memories" else 0.6)


class _Recorder:
    """Adds profile items as memories, or links a new sighting to the memory an item already is
    (skipping one the person forgot). Custom instructions repeat in every conversation, so one
    export sights the same item hundreds of times: sightings are gathered per memory and written
    once per batch (`flush`), not as five statements each."""

    def __init__(self, store: Store, conn: sa.Connection, stats: ProfileStats, touched: set) -> None:
        self.store, self.conn, self.stats, self.touched = store, conn, stats, touched
        self.memory_of: dict[str, int | None] = {}
        """item key → its memory id, None when the person forgot it."""
        self.sightings: dict[int, dict[str, Any]] = {}

    def _known(self, key: str, digest: str, it: Item) -> int | None | str:
        """The memory id this item already is, None if it was forgotten, "new" if never seen."""
        if key in self.memory_of:
            return self.memory_of[key]
        conn, mem = self.conn, s.memories.c
        known = _setting(conn, key)
        if known is None:  # a store restored from an archive has the memories (their raw names the key), not settings
            same = mem.companion_id.is_(None) if it.companion_id is None else mem.companion_id == it.companion_id
            found = conn.execute(
                sa.select(mem.id).where(same, mem.slot == f"profile:{it.group}", mem.raw.like(f'%"item":"{digest}"%'))
            ).scalar()
            if found is None:
                return "new"
            known = str(found)
            _set(conn, key, known)
        exists = conn.execute(_MEMORY_EXISTS, {"i": int(known)}).scalar()
        self.memory_of[key] = int(known) if exists is not None else None
        return self.memory_of[key]

    def record(self, it: Item) -> None:
        ident = f"{it.companion_id}\x00{it.group}\x00{it.section or ''}\x00{normalise(it.text)}"
        digest = hashlib.sha1(ident.encode()).hexdigest()[:24]
        key = f"profile.item.{digest}"
        known = self._known(key, digest, it)
        if known is None:
            self.stats.forgotten_skipped += 1
            return
        self.touched.add((it.companion_id, it.group))
        if known == "new":
            mid = add_memory(
                self.store, it.text, kind=KIND, companion_id=it.companion_id, source=it.source,
                importance=_importance(it.group, it.source, it.text), event_at=it.event_at,
                source_message_ids=[it.message_id] if it.message_id else [], slot=f"profile:{it.group}",
                language=_language(it.text), keys=[it.section] if it.section else [], conn=self.conn,
            )  # fmt: skip
            info = {"group": it.group, "section": it.section, "seen": list(it.seen), "item": digest, **it.origin}
            self.conn.execute(sa.update(s.memories).where(s.memories.c.id == mid)
                              .values(raw=orjson.dumps({"profile": info}).decode()))  # fmt: skip
            _set(self.conn, key, str(mid))
            self.memory_of[key] = mid
            self.stats.added += 1
            return
        seen = self.sightings.setdefault(int(known), {"seen": (0.0, 0), "event_at": None, "messages": set()})
        seen["seen"] = max(seen["seen"], tuple(it.seen))
        if it.event_at is not None and (seen["event_at"] is None or it.event_at < seen["event_at"]):
            seen["event_at"] = it.event_at
        if it.message_id is not None:
            seen["messages"].add(it.message_id)
        self.stats.linked += 1

    def flush(self) -> None:
        """Write the gathered sightings: the newest `seen`, the earliest date, the new provenance links.
        The batch's memories and their links among the sighting messages are read in a few IN queries
        and the changes written with executemany, in the order one memory at a time would write them."""
        if not self.sightings:
            return
        conn, mem, ms = self.conn, s.memories.c, s.memory_sources.c
        mids = list(self.sightings)
        rows: dict[int, Any] = {}
        for i in range(0, len(mids), _IN_CHUNK):
            for r in conn.execute(sa.select(mem.id, mem.raw, mem.event_at).where(mem.id.in_(mids[i : i + _IN_CHUNK]))):
                rows[r.id] = r
        sighted = [mid for mid in mids if mid in rows and self.sightings[mid]["messages"]]
        messages = sorted(set().union(*(self.sightings[mid]["messages"] for mid in sighted)))
        linked: set[tuple[int, int]] = set()
        for i in range(0, len(sighted), _IN_CHUNK):
            for j in range(0, len(messages), _IN_CHUNK):
                query = sa.select(ms.memory_id, ms.message_id).where(
                    ms.memory_id.in_(sighted[i : i + _IN_CHUNK]), ms.message_id.in_(messages[j : j + _IN_CHUNK])
                )
                linked.update((r[0], r[1]) for r in conn.execute(query))
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        links: list[dict[str, int]] = []
        for mid, seen in self.sightings.items():
            row = rows.get(mid)
            if row is None:
                continue
            raw = orjson.loads(row.raw) if row.raw else {}
            info = raw.setdefault("profile", {})
            values: dict[str, Any] = {}
            if tuple(info.get("seen") or (0, 0)) < seen["seen"]:
                info["seen"] = list(seen["seen"])
                values["raw"] = orjson.dumps(raw).decode()
            if seen["event_at"] is not None and (row.event_at is None or seen["event_at"] < row.event_at):
                values["event_at"] = seen["event_at"]
            if values:
                updates.setdefault(tuple(values), []).append({"m_id": mid, **{f"v_{k}": v for k, v in values.items()}})
            links += [{"memory_id": mid, "message_id": m} for m in sorted(seen["messages"]) if (mid, m) not in linked]
        for columns, params in updates.items():
            statement = sa.update(s.memories).where(mem.id == sa.bindparam("m_id"))
            conn.execute(statement.values({c: sa.bindparam(f"v_{c}") for c in columns}), params)
        if links:
            conn.execute(s.memory_sources.insert(), links)
        self.sightings.clear()


def _chatgpt(store: Store, restart: bool, stats: ProfileStats, touched: set) -> None:
    key = f"profile.{VERSION}.chatgpt.last_message_id"
    m, c = s.messages.c, s.conversations.c
    traces = sa.or_(
        m.content_type.in_(("user_editable_context", "model_editable_context")),
        m.recipient == "bio", m.recipient.like("bio.%"),
        sa.and_(m.role == "system", sa.or_(m.raw.like("%user_context_message_data%"),
                                           m.raw.like("%is_user_system_message%"))),
    )  # fmt: skip
    with store.engine.connect() as conn:
        last = 0 if restart else int(_setting(conn, key) or 0)
        top = conn.execute(sa.select(sa.func.max(m.id))).scalar() or 0
    while last < top:
        with store.engine.connect() as conn:
            rows = conn.execute(
                sa.select(m.id, m.role, m.raw, c.companion_id,
                          sa.func.coalesce(m.created_at, c.created_at, c.updated_at).label("at"))
                .join(s.conversations, c.id == m.conversation_id)
                .where(m.id > last, m.id <= top, m.source_format == "chatgpt", traces)
                .order_by(m.id).limit(BATCH)
            ).all()  # fmt: skip
        with store.write() as conn, conn.begin():
            recorder = _Recorder(store, conn, stats, touched)
            for r in rows:
                node = orjson.loads(r.raw) if r.raw else {}
                msg = node.get("message") if isinstance(node, dict) else None
                stats.messages_read += 1
                for group, source, text, day in chatgpt_traces(msg if isinstance(msg, dict) else {}, r.role):
                    seen = (r.at or 0.0, r.id)
                    when = day if day is not None else r.at
                    recorder.record(Item(group, source, text, seen, when, r.id, r.companion_id))
            recorder.flush()
            last = rows[-1].id if len(rows) == BATCH else top
            _set(conn, key, str(last))


def _claude(store: Store, restart: bool, stats: ProfileStats, touched: set) -> None:
    from hearth.errors import CorruptInput
    from hearth.formats.claude import COMPANION, MEMORY_FILE, memory_entries
    from hearth.store.companions import companion_by_name

    key = f"profile.{VERSION}.claude.last_attachment_id"
    a = s.attachments.c
    with store.engine.connect() as conn:
        last = 0 if restart else int(_setting(conn, key) or 0)
        files = conn.execute(
            sa.select(a.id, a.archive_path, a.blob_sha256)
            .where(a.id > last, a.source_format == "claude", a.message_id.is_(None), a.archive_path.like("%.json"))
            .order_by(a.id)
        ).all()
    for f in files:
        with store.write() as conn, conn.begin():
            if MEMORY_FILE.search(f.archive_path or ""):
                stats.files_read += 1
                data = conn.execute(sa.select(s.blobs.c.data).where(s.blobs.c.sha256 == f.blob_sha256)).scalar()
                try:
                    entries = memory_entries(data or b"")
                except CorruptInput as exc:
                    stats.warnings.append(f"{f.archive_path}: {exc.message}")
                    entries = []
                companion = companion_by_name(conn, COMPANION) if entries else None
                recorder = _Recorder(store, conn, stats, touched)
                for e in entries:
                    groups = {"conversations_memory": "claude:conversations_memory",
                              "project_memories": f"claude:project:{e.key}"}  # fmt: skip
                    group = groups.get(e.field, f"claude:memory_file:{e.key}")
                    origin = {"attachment_id": f.id, "path": f.archive_path, "key": e.key, "account": e.account}
                    for section, text in markdown_items(e.text):
                        it = Item(group, f"claude:{e.field}", text, (float(f.id), f.id), e.updated_at, None, companion,
                                  section or None, origin)  # fmt: skip
                        recorder.record(it)
                recorder.flush()
            _set(conn, key, str(f.id))


def _similar(a: str, b: str) -> float:
    def words(t: str) -> set[str]:
        t = normalise(t)
        return set(_WORD.findall(_CJK.sub(" ", t))) | {t[i : i + 2] for i in range(len(t) - 1) if _CJK.match(t[i])}

    x, y = words(a), words(b)
    return len(x & y) / len(x | y) if x and y else 0.0


def _resolve(store: Store, touched: set, stats: ProfileStats) -> None:
    """Within each snapshot group, what the newest snapshot holds is current; the rest is superseded
    by its closest newer item (kept items and `bio` writes are never superseded)."""
    mem = s.memories.c
    with store.write() as conn, conn.begin():
        for companion_id, group in sorted(touched, key=repr):
            same = mem.companion_id.is_(None) if companion_id is None else mem.companion_id == companion_id
            rows = conn.execute(
                sa.select(mem.id, mem.text, mem.raw, mem.superseded_by).where(same, mem.slot == f"profile:{group}")
            ).all()
            info = {r.id: (orjson.loads(r.raw) if r.raw else {}).get("profile", {}) for r in rows}
            newest = max((tuple(i.get("seen") or (0, 0)) for i in info.values()), default=None)
            current = [r for r in rows if tuple(info[r.id].get("seen") or (0, 0)) == newest]
            for r in rows:
                stays = group == "chatgpt:bio" or r in current or info[r.id].get("kept")
                if stays and r.superseded_by is not None:
                    conn.execute(sa.update(s.memories).where(mem.id == r.id).values(superseded_by=None))
                    stats.restored += 1
                elif not stays and current:
                    section = info[r.id].get("section")
                    best = max(
                        current,
                        key=lambda c: (_similar(r.text, c.text) + 0.5 * (info[c.id].get("section") == section), -c.id),
                    )
                    if r.superseded_by != best.id:
                        supersede(conn, r.id, best.id)
                        stats.superseded += 1


def scan_profile(store: Store, *, restart: bool = False, mark_read: bool = False) -> ProfileStats:
    """Turn every profile trace not read yet into memories (all of them again with `restart`;
    that adds nothing already there and never brings back a forgotten one). `mark_read` only
    moves the cursors past what is stored: a hearth archive brings its profile memories with it,
    and reading its messages again would bring back what the person forgot before exporting."""
    stats, touched = ProfileStats(), set()
    if mark_read:
        with store.write() as conn, conn.begin():
            top_message = conn.execute(sa.select(sa.func.max(s.messages.c.id))).scalar() or 0
            top_file = conn.execute(sa.select(sa.func.max(s.attachments.c.id))).scalar() or 0
            _set(conn, f"profile.{VERSION}.chatgpt.last_message_id", str(top_message))
            _set(conn, f"profile.{VERSION}.claude.last_attachment_id", str(top_file))
            mem = s.memories.c
            groups = conn.execute(sa.select(mem.companion_id, mem.slot).where(mem.slot.like("profile:%")).distinct())
            touched = {(c, slot.removeprefix("profile:")) for c, slot in groups}
        _resolve(store, touched, stats)  # what is current follows from `seen`, whatever the archive restored
        return stats
    _chatgpt(store, restart, stats, touched)
    _claude(store, restart, stats, touched)
    _resolve(store, touched, stats)
    return stats


# ---------------------------------------------------------------- the person's side


def profile_memories(
    store: Store, *, companion_id: int | None = None, include_superseded: bool = False
) -> list[dict[str, Any]]:
    """Every profile memory with where it came from: first/last sighting, how many messages and
    conversations carried it, and the first message (for `hearth memory show` / the web page)."""
    mem, ms, m, c = s.memories.c, s.memory_sources.c, s.messages.c, s.conversations.c
    q = sa.select(mem.id).where(mem.source.in_(SOURCES))
    if companion_id is not None:
        q = q.where(sa.or_(mem.companion_id == companion_id, mem.companion_id.is_(None)))
    if not include_superseded:
        q = q.where(mem.superseded_by.is_(None))
    t = sa.func.coalesce(m.created_at, c.created_at, c.updated_at)
    with store.engine.connect() as conn:
        ids = list(conn.execute(q.order_by(mem.source, mem.id)).scalars())
        raws = dict(conn.execute(sa.select(mem.id, mem.raw).where(mem.id.in_(ids))).all()) if ids else {}
        sightings = conn.execute(
            sa.select(ms.memory_id, m.id, m.conversation_id, c.title, t.label("at"))
            .join(s.messages, m.id == ms.message_id).join(s.conversations, c.id == m.conversation_id)
            .where(ms.memory_id.in_(ids)).order_by(ms.memory_id, t, m.id)
        ).all() if ids else []  # fmt: skip
    by_memory: dict[int, list] = {}
    for r in sightings:
        by_memory.setdefault(r.memory_id, []).append(r)
    from hearth.store.memories import list_memories

    out = []
    for row in list_memories(store, ids=ids, include_superseded=True, limit=None):
        seen = by_memory.get(row.id, [])
        info = (orjson.loads(raws[row.id]) if raws.get(row.id) else {}).get("profile", {})
        first = seen[0] if seen else None
        out.append({
            **row.__dict__, "group": info.get("group"), "section": info.get("section"), "kept": bool(info.get("kept")),
            "origin": {k: info[k] for k in ("path", "key", "account") if info.get(k)},
            "messages": len(seen), "conversations": len({r.conversation_id for r in seen}),
            "first_seen": first.at if first else None, "last_seen": seen[-1].at if seen else None,
            "first_message": {"id": first.id, "conversation_id": first.conversation_id, "title": first.title}
            if first else None,
        })  # fmt: skip
    out.sort(key=lambda e: (SOURCES.index(e["source"]), e["group"] or "", e["event_at"] or 0, e["id"]))
    return out


def _profile_row(store: Store, memory_id: int) -> MemoryRow:
    row = get_memory(store, memory_id)
    if row.source not in SOURCES:
        raise NotFound(
            f"Memory {memory_id} is not part of a provider's profile (it came from {row.source}).",
            hint="`hearth profile` lists the profile's ids; `hearth memory` manages every other memory.",
        )
    return row


def keep(store: Store, memory_id: int) -> MemoryRow:
    """The person confirms a profile item: it becomes hearth's own memory (`fact`, or `preference`
    for how to respond), importance at least 0.8, and stays current even if the provider dropped it."""
    row = _profile_row(store, memory_id)
    mem = s.memories.c
    with store.engine.connect() as conn:
        raw_text = conn.execute(sa.select(mem.raw).where(mem.id == memory_id)).scalar()
    raw = orjson.loads(raw_text) if raw_text else {}
    raw.setdefault("profile", {})["kept"] = True
    with store.write() as conn, conn.begin():
        conn.execute(
            sa.update(s.memories).where(mem.id == memory_id).values(raw=orjson.dumps(raw).decode(), superseded_by=None)
        )
    kind = "preference" if row.slot == "profile:chatgpt:how_to_respond" else "fact"
    return update_memory(store, memory_id, kind=kind, importance=max(row.importance, 0.8))


def edit(store: Store, memory_id: int, text: str) -> MemoryRow:
    """Correct a profile item's wording; later sightings of the provider's wording still link to it."""
    _profile_row(store, memory_id)
    if not text.strip():
        raise HearthError("The new text is empty.", hint="To remove an item, use `hearth profile forget ID`.")
    return update_memory(store, memory_id, text=text.strip())


def forget(store: Store, memory_id: int) -> None:
    """Delete a profile item everywhere; its key stays known, so no re-import brings it back."""
    from hearth.store.memories import forget_memory

    _profile_row(store, memory_id)
    forget_memory(store, memory_id)
