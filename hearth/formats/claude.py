"""Claude.ai data export: `conversations.json`, `projects.json`, `users.json`, `memories.json`.

A conversation is a list of `chat_messages`. Since 2025 each message names its parent
(`parent_message_uuid`, the root's parent being an all-zero sentinel uuid), so retries and edits
form a tree; older exports have no parent links and the messages are one chain in array order.
The export records no "current node", so the branch the person saw last is taken to be the one
ending at the newest leaf. A message's `text` field mixes the thinking text and placeholders for
tool calls into the answer, so the answer text is rebuilt from the `content` blocks instead; the
untouched source object stays in `raw`. Claude exports do not record models, so
`requested_model` / `served_model` stay None unless a `model` field says otherwise.

`conversations.json` is streamed with ijson one conversation at a time, since exports reach GBs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from hearth.errors import CorruptInput
from hearth.formats.bundle import Bundle, Entry, Progress, load_json, stream_json_items
from hearth.records import Account, Attachment, AttachmentFile, Conversation, Document, Item, Message

NAME = "claude"
COMPANION = "Claude"
ROOT_SENTINEL = "00000000-0000-4000-8000-000000000000"
_ROLES = {"human": "user", "assistant": "assistant"}
_KNOWN_BLOCKS = {"text", "thinking", "tool_use", "tool_result"}
_SKIPPED_BLOCKS = {"token_budget"}
"""Blocks that are bookkeeping, not content (they stay in the message's raw)."""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    """A field that should hold a list; anything else (a number, `true`, an object) holds nothing."""
    return value if isinstance(value, list) else []


def _ts(value: Any) -> float | None:
    """Seconds since the epoch from an ISO-8601 string (`2026-03-21T19:10:14.910018Z`)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


# ---------------------------------------------------------------- which files


def conversation_entries(bundle: Bundle) -> list[Entry]:
    """`conversations.json` anywhere in a zip/folder, or the single JSON file given."""
    entries = bundle.find(lambda e: e.basename.lower() == "conversations.json")
    if not entries and bundle.kind == "file" and bundle.entries[0].basename.lower().endswith(".json"):
        entries = list(bundle.entries)
    return sorted(entries, key=lambda e: e.name)


def _claims(head: bytes) -> bool:
    """`chat_messages` comes before any `mapping` key: a Claude export, not a ChatGPT one.

    Comparing positions rather than forbidding `"mapping"` keeps a Claude export whose tool
    input happens to use that key; a ChatGPT conversation names `mapping` before any content.
    """
    i = head.find(b'"chat_messages"')
    j = head.find(b'"mapping"')
    return i >= 0 and (j < 0 or i < j)


def sniff(bundle: Bundle) -> bool:
    """A Claude export has a conversations file whose first conversation has `chat_messages`."""
    return any(_claims(entry.head()) for entry in conversation_entries(bundle))


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in bundle.entries)


# ---------------------------------------------------------------- one message


def _result_text(content: Any) -> str:
    """Text of a `tool_result`'s content: a string, or a list of `{type: text, text}` items."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(c["text"] for c in content if isinstance(c, dict) and isinstance(c.get("text"), str))
    return ""


def _block(block: dict[str, Any]) -> dict[str, Any] | None:
    """One content block as a normalised part, or None for bookkeeping blocks."""
    kind = block.get("type")
    if kind == "text":
        part: dict[str, Any] = {"type": "text", "text": _text(block.get("text"))}
        if block.get("citations"):
            part["citations"] = block["citations"]
        return part
    if kind == "thinking":
        summaries = [s["summary"] for s in _list(block.get("summaries")) if isinstance(s, dict) and s.get("summary")]
        part = {"type": "thinking", "text": _text(block.get("thinking"))}
        if summaries:
            part["summaries"] = summaries
        if block.get("cut_off"):
            part["cut_off"] = True
        return part
    if kind == "tool_use":
        return {"type": "tool_use", "name": block.get("name"), "input": block.get("input"), "id": block.get("id")}
    if kind == "tool_result":
        return {
            "type": "tool_result",
            "name": block.get("name"),
            "text": _result_text(block.get("content")),
            "tool_use_id": block.get("tool_use_id"),
            "is_error": bool(block.get("is_error")),
        }
    if isinstance(kind, str) and kind in _SKIPPED_BLOCKS:
        return None
    text = block.get("text")
    return {"type": kind if isinstance(kind, str) else "unknown", "text": text if isinstance(text, str) else None}


def content_parts(msg: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Answer text and normalised parts of a message.

    The text is the `text` blocks only: adjacent text blocks are concatenated, runs that a tool
    call or thinking separates are joined by a blank line, and whitespace-only runs (the lone " "
    Claude puts before a thinking block) are dropped. The `text` field is used only when no
    block says what the message holds (old exports have no blocks at all), because it repeats
    the thinking and replaces tool calls with "This block is not supported" placeholders.
    """
    blocks = msg.get("content") if isinstance(msg.get("content"), list) else []
    parts: list[dict[str, Any]] = []
    runs: list[str] = []
    after_text = False
    for block in blocks:
        part = _block(block) if isinstance(block, dict) else {"type": "unknown", "text": None}
        if part is None:
            continue
        parts.append(part)
        if part["type"] == "text" and after_text:
            runs[-1] += part["text"]
        elif part["type"] == "text":
            runs.append(part["text"])
        after_text = part["type"] == "text"
    if not any(p["type"] in _KNOWN_BLOCKS for p in parts) and isinstance(msg.get("text"), str) and msg["text"]:
        return msg["text"], [{"type": "text", "text": msg["text"]}, *parts]
    return "\n\n".join(r.strip() for r in runs if r.strip()), parts


def _attachments(msg: dict[str, Any], msg_id: str) -> tuple[list[Attachment], list[dict[str, Any]]]:
    """`files` (uploads, with a uuid) and `attachments` (pasted or extracted text) as Attachments.

    Recent exports list a pasted text both in `attachments` (with its text) and in `files` (with
    its uuid) under the same, often empty, file name; such a pair becomes one Attachment with the
    file's uuid, matched by name in order. An attachment with no file gets a stable positional id.
    """
    files = [f for f in _list(msg.get("files")) if isinstance(f, dict)]
    pasted = [a for a in _list(msg.get("attachments")) if isinstance(a, dict)]
    used: set[int] = set()
    result: list[Attachment] = []
    parts: list[dict[str, Any]] = []
    for i, a in enumerate(pasted):
        name = a.get("file_name") if isinstance(a.get("file_name"), str) else ""
        match = next((k for k, f in enumerate(files) if k not in used and (f.get("file_name") or "") == name), None)
        file = files[match] if match is not None else None
        if match is not None:
            used.add(match)
        asset_id = _str(file.get("file_uuid")) if file else None
        ftype = _str(a.get("file_type"))
        result.append(
            Attachment(
                asset_id=asset_id or f"{msg_id}:attachment:{i}",
                name=name or None,
                mime_type=ftype if ftype and "/" in ftype else None,
                size_bytes=a["file_size"] if isinstance(a.get("file_size"), int) else None,
                raw={"attachment": a, "file": file} if file else {"attachment": a},
            )
        )
        text = a.get("extracted_content") if isinstance(a.get("extracted_content"), str) else ""
        parts.append({"type": "attachment", "asset_id": result[-1].asset_id, "name": name or None, "text": text})
    for k, f in enumerate(files):
        if k in used:
            continue
        asset_id = _str(f.get("file_uuid")) or f"{msg_id}:file:{k}"
        result.append(Attachment(asset_id=asset_id, name=_str(f.get("file_name")), raw={"file": f}))
        parts.append({"type": "file", "asset_id": asset_id, "name": _str(f.get("file_name"))})
    return result, parts


# ---------------------------------------------------------------- the tree


def _tree(msgs: list[dict[str, Any]], ids: list[str]) -> tuple[list[int], dict[int, int | None], dict[int, int]]:
    """Parent-before-child order (as positions), each message's parent and sibling index.

    With `parent_message_uuid` the links build a tree (the sentinel, a dangling uuid or a link
    that closes a cycle makes a root); without it a message follows the one before it.
    """
    index = {mid: i for i, mid in enumerate(ids)}
    linked = any("parent_message_uuid" in m for m in msgs)
    parent: dict[int, int | None] = {}
    for i, m in enumerate(msgs):
        if linked and "parent_message_uuid" in m:
            p = index.get(m["parent_message_uuid"]) if isinstance(m["parent_message_uuid"], str) else None
            parent[i] = p if p != i else None
        else:
            parent[i] = i - 1 if i > 0 else None

    def when(i: int) -> tuple[float, int]:
        t = _ts(msgs[i].get("created_at"))
        return (t if t is not None else float("inf"), i)

    children: dict[int | None, list[int]] = {}
    for i in range(len(msgs)):
        children.setdefault(parent[i], []).append(i)
    for kids in children.values():
        kids.sort(key=when)
    order: list[int] = []
    sibling: dict[int, int] = {}
    seen: set[int] = set()
    stack = [(r, k) for k, r in reversed(list(enumerate(children.get(None, []))))]
    scan = 0
    while True:
        while stack:
            i, k = stack.pop()
            if i in seen:
                continue
            seen.add(i)
            sibling[i] = k
            order.append(i)
            stack.extend((c, n) for n, c in reversed(list(enumerate(children.get(i, [])))))
        while scan < len(msgs) and scan in seen:
            scan += 1
        if scan == len(msgs):
            break
        rest = scan
        # Unreached messages hang in a cycle: cut it open at the first one in file order.
        parent[rest] = None
        children.setdefault(None, []).append(rest)
        stack.append((rest, len(children[None]) - 1))
    return order, parent, sibling


def _visible(msgs: list[dict[str, Any]], parent: dict[int, int | None]) -> set[int]:
    """The path from the newest leaf (latest `created_at`, ties to the later one) to the root."""
    has_child = {p for p in parent.values() if p is not None}
    leaves = [i for i in range(len(msgs)) if i not in has_child]
    if not leaves:
        return set()

    def when(i: int) -> tuple[float, int]:
        t = _ts(msgs[i].get("created_at"))
        return (t if t is not None else float("-inf"), i)

    node: int | None = max(leaves, key=when)
    path: set[int] = set()
    while node is not None and node not in path:
        path.add(node)
        node = parent[node]
    return path


def parse_conversation(obj: Any, index: int) -> Conversation:
    """Turn one element of the conversations array into a `Conversation`."""
    if not isinstance(obj, dict):
        raise CorruptInput(f"conversation #{index + 1} is a {type(obj).__name__}, not an object.")
    source_id = _str(obj.get("uuid")) or f"untitled:{obj.get('created_at')}:{obj.get('name')}"
    items = obj.get("chat_messages") if isinstance(obj.get("chat_messages"), list) else []
    # A message that is not an object (never seen in real exports) is kept as an empty node.
    odd = {i for i, m in enumerate(items) if not isinstance(m, dict)}
    msgs = [{"value": m} if i in odd else m for i, m in enumerate(items)]
    ids: list[str] = []
    taken: set[str] = set()
    for i, m in enumerate(msgs):
        mid = _str(m.get("uuid")) or f"#{i}"
        if mid in taken or mid == ROOT_SENTINEL:
            mid = f"{mid}#{i}"
        taken.add(mid)
        ids.append(mid)
    order, parent, sibling = _tree(msgs, ids)
    visible = _visible(msgs, parent)
    conv_model = _str(obj.get("model"))
    messages: list[Message] = []
    for i in order:
        m = msgs[i]
        sender = _str(m.get("sender"))
        role = None if i in odd else _ROLES.get(sender, sender) if sender else "unknown"
        text, parts = content_parts(m)
        attachments, attachment_parts = _attachments(m, ids[i])
        assistant = role == "assistant"
        messages.append(
            Message(
                source_id=ids[i],
                parent_source_id=ids[parent[i]] if parent[i] is not None else None,
                role=role,
                text=text,
                parts=parts + attachment_parts,
                created_at=_ts(m.get("created_at")),
                requested_model=conv_model if assistant else None,
                served_model=_str(m.get("model")) if assistant else None,
                visible=i in visible,
                hidden=role is None,
                sibling_index=sibling[i],
                attachments=attachments,
                raw=m,
            )
        )
    return Conversation(
        source_format=NAME,
        source_id=source_id,
        title=_str(obj.get("name")),
        created_at=_ts(obj.get("created_at")),
        updated_at=_ts(obj.get("updated_at")),
        default_model=conv_model,
        companion=COMPANION,
        messages=messages,
        raw={k: v for k, v in obj.items() if k != "chat_messages"},
    )


# ---------------------------------------------------------------- projects and users


def project_documents(projects: Any) -> Iterator[Document]:
    """Each project's knowledge docs, and its custom instructions (`prompt_template`)."""
    for project in projects if isinstance(projects, list) else []:
        if not isinstance(project, dict):
            continue
        pid = _str(project.get("uuid")) or f"project:{project.get('name')}"
        name = _str(project.get("name"))
        meta = {k: v for k, v in project.items() if k != "docs"}
        prompt = project.get("prompt_template")
        if isinstance(prompt, str) and prompt.strip():
            yield Document(
                source_format=NAME,
                source_id=f"{pid}:prompt_template",
                title=f"{name or 'Project'}: instructions",
                text=prompt,
                collection=name,
                created_at=_ts(project.get("updated_at") or project.get("created_at")),
                raw={"project": meta},
            )
        for k, doc in enumerate(_list(project.get("docs"))):
            if not isinstance(doc, dict):
                continue
            yield Document(
                source_format=NAME,
                source_id=_str(doc.get("uuid")) or f"{pid}:doc:{k}",
                title=_str(doc.get("filename")),
                text=doc.get("content") if isinstance(doc.get("content"), str) else "",
                collection=name,
                created_at=_ts(doc.get("created_at")),
                raw={"doc": doc, "project": meta},
            )


def _accounts(users: Any) -> Iterator[Account]:
    for user in users if isinstance(users, list) else [users]:
        if isinstance(user, dict):
            yield Account(source_format=NAME, source_id=str(user.get("uuid") or "me"), raw=user)


# ---------------------------------------------------------------- memories

MEMORY_FILE = re.compile(r"(?:^|/)memories(?:\.json|/[^/]+\.json)$", re.IGNORECASE)
"""`memories.json` (exports until mid-2026) or `memories/<account uuid>.json` (the split 2026 layout)."""


@dataclass
class MemoryEntry:
    """One block of what Claude remembered about the person, as the export holds it.

    `field` is `conversations_memory` (the account-wide summary), `project_memories` (one project's,
    `key` = the project uuid) or `memory_files` (the newer file-based memory, `key` = its path).
    The file itself is imported byte for byte as an attachment; these entries are what the
    profile pass (`hearth.memory.profile`) turns into memories the person can see and edit.
    """

    field: str
    key: str | None
    text: str
    updated_at: float | None = None
    account: str | None = None


def memory_entries(data: bytes) -> list[MemoryEntry]:
    """The memory blocks of a memories file: a list of records (legacy) or one record; keys it
    does not know are ignored, and a block that is not text holds nothing."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CorruptInput(f"the memories file is not valid JSON ({exc}).") from exc
    out: list[MemoryEntry] = []
    for record in obj if isinstance(obj, list) else [obj]:
        if not isinstance(record, dict):
            continue
        account = _str(record.get("account_uuid"))
        if _str(record.get("conversations_memory")):
            out.append(MemoryEntry("conversations_memory", None, record["conversations_memory"], account=account))
        projects = record.get("project_memories")
        for uuid, text in projects.items() if isinstance(projects, dict) else ():
            if _str(text):
                out.append(MemoryEntry("project_memories", str(uuid), text, account=account))
        for k, f in enumerate(_list(record.get("memory_files"))):
            if isinstance(f, dict) and _str(f.get("content")):
                path = _str(f.get("path")) or f"#{k}"
                out.append(MemoryEntry("memory_files", path, f["content"], _ts(f.get("updated_at")), account))
    return out


# ---------------------------------------------------------------- reading a bundle


def read(bundle: Bundle, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield every conversation, then project documents, the account, and every other file."""
    conv_entries = conversation_entries(bundle)
    index = 0
    for entry in conv_entries:
        for obj in stream_json_items(bundle, entry, progress):
            try:
                yield parse_conversation(obj, index)
            except CorruptInput as exc:
                if warn:
                    warn(f"{bundle.label(entry)}: skipped {exc.message}")
            index += 1
    for entry in bundle.entries:
        if entry in conv_entries:
            continue
        base = entry.basename.lower()
        if base == "projects.json":
            yield from project_documents(load_json(bundle, entry, progress))
        elif base == "users.json":
            yield from _accounts(load_json(bundle, entry, progress))
        else:
            # memories.json and anything else: kept byte for byte so nothing is lost (the profile pass
            # reads the memories from the stored file: `memory_entries`).
            yield AttachmentFile(source_format=NAME, path=entry.name, asset_id=None, data=entry.read_bytes(progress))
