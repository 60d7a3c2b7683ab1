"""ChatGPT data export: `conversations.json` (or the 2026 split `conversations-NNN.json`),
`user.json`, `message_feedback.json` and the uploaded / generated files beside them.

Each conversation is a tree (`mapping`): edits and regenerations are siblings, and the branch
the person last saw ends at `current_node`. Every node is kept, with its untouched source object;
the served model comes from `metadata.model_slug`, the requested one from the message's
`requested_model_slug` / `default_model_slug`, else the conversation's `default_model_slug`.
The file is read with ijson one conversation at a time, so memory stays flat however big it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import orjson

from hearth.errors import CorruptInput
from hearth.formats.bundle import Bundle, Entry, Progress, load_json, stream_json_items
from hearth.records import Account, Attachment, AttachmentFile, Conversation, Feedback, Item, Message

NAME = "chatgpt"
_CONVERSATION_FILE = re.compile(r"^conversations(-\d+)?\.json$", re.IGNORECASE)
_ASSET_ID = re.compile(r"^(file[-_][A-Za-z0-9]+)")
_POINTER = re.compile(r"^[a-z-]+://(.+)$")
_DERIVED = {"chat.html"}
_HIDDEN_TYPES = {"user_editable_context", "model_editable_context"}


def conversation_entries(bundle: Bundle) -> list[Entry]:
    entries = bundle.find(lambda e: bool(_CONVERSATION_FILE.match(e.basename)))
    return sorted(entries, key=lambda e: e.name)


def sniff(bundle: Bundle) -> bool:
    """A ChatGPT export has a conversations file whose first objects carry a `mapping` tree."""
    candidates = conversation_entries(bundle)
    if not candidates and bundle.kind == "file" and bundle.entries[0].basename.lower().endswith(".json"):
        candidates = bundle.entries
    for entry in candidates:
        head = entry.head()
        if b'"mapping"' in head and b'"chat_messages"' not in head:
            return True
    return False


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in _entries_to_read(bundle))


def _entries_to_read(bundle: Bundle) -> list[Entry]:
    convs = conversation_entries(bundle)
    if not convs and bundle.kind == "file":
        convs = bundle.entries
    others = [e for e in bundle.entries if e not in convs and e.basename.lower() not in _DERIVED]
    return convs + others


# ---------------------------------------------------------------- time, text and parts


def _ts(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _asset_id(pointer: Any) -> str | None:
    if not isinstance(pointer, str) or not pointer:
        return None
    m = _POINTER.match(pointer)
    return m.group(1) if m else pointer


def _part(part: Any) -> tuple[str, dict[str, Any]]:
    """Text to index and a normalised part for one element of `content.parts`."""
    if isinstance(part, str):
        return part, {"type": "text", "text": part}
    if isinstance(part, dict):
        ctype = part.get("content_type")
        if ctype == "image_asset_pointer":
            return "", {
                "type": "image",
                "pointer": part.get("asset_pointer"),
                "asset_id": _asset_id(part.get("asset_pointer")),
                "width": part.get("width"),
                "height": part.get("height"),
            }
        text = part.get("text") if isinstance(part.get("text"), str) else ""
        return text, {"type": ctype or "object", "text": text or None}
    return "", {"type": "unknown"}


def _join(*texts: Any) -> str:
    return "\n".join(t for t in texts if isinstance(t, str) and t)


def _list(value: Any) -> list[Any]:
    """A field that should hold a list; anything else (a number, `true`, an object) holds nothing."""
    return value if isinstance(value, list) else []


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def content_text(content: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Searchable text and normalised parts of a message `content`, for every content type.

    Unknown (future) types still give whatever text they carry; the source object stays in `raw`.
    """
    ctype = content.get("content_type")
    if "parts" in content and isinstance(content["parts"], list):
        texts, parts = zip(*(_part(p) for p in content["parts"]), strict=True) if content["parts"] else ((), ())
        return _join(*texts), list(parts)
    if ctype in ("code", "execution_output", "system_error"):
        text = _join(content.get("name") if ctype == "system_error" else None, content.get("text"))
        return text, [{"type": ctype, "text": content.get("text"), "language": content.get("language")}]
    if ctype == "tether_browsing_display":
        text = _join(content.get("summary"), content.get("result"))
        return text, [{"type": ctype, "text": text}]
    if ctype == "tether_quote":
        text = _join(content.get("title"), content.get("text"), content.get("url"))
        return text, [{"type": ctype, "text": content.get("text"), "url": content.get("url")}]
    if ctype == "thoughts":
        thoughts = _list(content.get("thoughts"))
        text = _join(*(_join(t.get("summary"), t.get("content")) for t in thoughts if isinstance(t, dict)))
        return text, [{"type": ctype, "text": text}]
    if ctype == "reasoning_recap":
        return _join(content.get("content")), [{"type": ctype, "text": content.get("content")}]
    if ctype == "user_editable_context":
        text = _join(content.get("user_profile"), content.get("user_instructions"))
        return text, [{"type": ctype, "text": text}]
    if ctype == "model_editable_context":
        text = _join(content.get("model_set_context"))
        return text, [{"type": ctype, "text": text}]
    text = _join(content.get("text"), content.get("result"), content.get("content"))
    return text, [{"type": ctype or "unknown", "text": text or None}]


# ---------------------------------------------------------------- the tree


def _parents(mapping: dict[str, Any]) -> dict[str, str | None]:
    """Parent of every node: the node's own `parent`, else who lists it as a child, else
    `metadata.parent_id` (2026 slimmed exports have no `children`)."""
    from_children: dict[str, str] = {}
    for nid, node in mapping.items():
        for child in _list(node.get("children")) if isinstance(node, dict) else []:
            if isinstance(child, str):
                from_children.setdefault(child, nid)
    parents: dict[str, str | None] = {}
    for nid, node in mapping.items():
        if not isinstance(node, dict):
            parents[nid] = None
        elif "parent" in node:
            parent = node["parent"]
            parents[nid] = parent if isinstance(parent, str) else None
        elif nid in from_children:
            parents[nid] = from_children[nid]
        else:
            parent = _dict(_dict(node.get("message")).get("metadata")).get("parent_id")
            parents[nid] = parent if isinstance(parent, str) else None
    return parents


def _order(mapping: dict[str, Any], parents: dict[str, str | None]) -> tuple[list[str], dict[str, int], set[str]]:
    """Parent-before-child order, sibling positions, and nodes whose parent link was cut
    because it closes a cycle."""
    children: dict[str, list[str]] = {}
    roots: list[str] = []
    for nid in mapping:
        parent = parents[nid]
        if parent is not None and parent in mapping and parent != nid:
            children.setdefault(parent, []).append(nid)
        else:
            roots.append(nid)

    def created(nid: str) -> float:
        msg = mapping[nid].get("message") if isinstance(mapping[nid], dict) else None
        t = _ts(msg.get("create_time")) if isinstance(msg, dict) else None
        return t if t is not None else float("inf")

    for parent, kids in children.items():
        listed = _list(mapping[parent].get("children")) if isinstance(mapping[parent], dict) else []
        rank = {c: i for i, c in enumerate(listed) if isinstance(c, str)}
        kids.sort(key=lambda c: (rank.get(c, len(rank)), created(c)))

    order: list[str] = []
    seen: set[str] = set()
    sibling: dict[str, int] = {}
    # A dangling parent (pruned from the export) is kept as written; a self-parent is cut.
    cut: set[str] = {r for r in roots if parents[r] == r}
    pending = list(mapping)
    stack = [(r, i) for i, r in reversed(list(enumerate(roots)))]
    while True:
        while stack:
            nid, idx = stack.pop()
            if nid in seen:
                continue
            seen.add(nid)
            sibling[nid] = idx
            order.append(nid)
            stack.extend((c, i) for i, c in reversed(list(enumerate(children.get(nid, [])))))
        # Whatever was not reached hangs in a cycle: cut it open at its first node.
        rest = next((n for n in pending if n not in seen), None) if len(seen) < len(mapping) else None
        if rest is None:
            break
        cut.add(rest)
        stack.append((rest, 0))
    return order, sibling, cut


def _visible_path(mapping: dict[str, Any], parents: dict[str, str | None], current: Any, order: list[str]) -> set[str]:
    """Nodes from `current_node` up to the root; without a valid one, the newest leaf's path."""
    if not isinstance(current, str) or current not in mapping:
        has_child = {p for p in parents.values() if p}
        leaves = [n for n in order if n not in has_child]
        if not leaves:
            return set()

        def created(nid: str) -> float:
            msg = mapping[nid].get("message") if isinstance(mapping[nid], dict) else None
            t = _ts(msg.get("create_time")) if isinstance(msg, dict) else None
            return t if t is not None else float("-inf")

        current = max(leaves, key=created)
    path: set[str] = set()
    node: str | None = current
    while node is not None and node in mapping and node not in path:
        path.add(node)
        node = parents.get(node)
    return path


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_conversation(obj: Any, index: int) -> Conversation:
    """Turn one element of the conversations array into a `Conversation`."""
    if not isinstance(obj, dict):
        raise CorruptInput(f"conversation #{index + 1} is a {type(obj).__name__}, not an object.")
    mapping = obj.get("mapping")
    if not isinstance(mapping, dict):
        mapping = {}
    source_id = _str_or_none(obj.get("conversation_id")) or _str_or_none(obj.get("id"))
    if source_id is None:
        # Very old exports lack ids; the create time and title identify a conversation stably.
        source_id = f"untitled:{obj.get('create_time')}:{obj.get('title')}"
    conv_default = _str_or_none(obj.get("default_model_slug"))
    parents = _parents(mapping)
    order, sibling, cut = _order(mapping, parents)
    visible = _visible_path(mapping, parents, obj.get("current_node"), order)

    requested_ctx: dict[str, str | None] = {}
    messages: list[Message] = []
    for nid in order:
        node = mapping[nid] if isinstance(mapping[nid], dict) else {"value": mapping[nid]}
        parent = None if nid in cut else parents[nid]
        msg = node.get("message")
        inherited = requested_ctx.get(parent) if parent else None
        if not isinstance(msg, dict):
            requested_ctx[nid] = inherited
            messages.append(
                Message(
                    source_id=nid,
                    parent_source_id=parent,
                    role=None,
                    visible=nid in visible,
                    hidden=True,
                    sibling_index=sibling[nid],
                    raw=node,
                )
            )
            continue
        meta = msg.get("metadata") if isinstance(msg.get("metadata"), dict) else {}
        author = msg.get("author") if isinstance(msg.get("author"), dict) else {}
        content = msg.get("content") if isinstance(msg.get("content"), dict) else {}
        role = _str_or_none(author.get("role")) or "unknown"
        own_request = _str_or_none(meta.get("requested_model_slug")) or _str_or_none(meta.get("default_model_slug"))
        requested_ctx[nid] = own_request or inherited
        text, parts = content_text(content)
        ctype = _str_or_none(content.get("content_type"))
        hidden = (
            bool(meta.get("is_visually_hidden_from_conversation"))
            or ctype in _HIDDEN_TYPES
            or (role == "system" and not text.strip())
        )
        attachments = [
            Attachment(
                asset_id=str(a.get("id")),
                name=_str_or_none(a.get("name")),
                mime_type=_str_or_none(a.get("mime_type")),
                size_bytes=a.get("size") if isinstance(a.get("size"), int) else None,
                raw=a,
            )
            for a in _list(meta.get("attachments"))
            if isinstance(a, dict) and a.get("id")
        ]
        attachments += [
            Attachment(asset_id=p["asset_id"], pointer=p["pointer"], raw={"part": i})
            for i, p in enumerate(parts)
            if p.get("type") == "image" and p.get("asset_id")
        ]
        served = _str_or_none(meta.get("model_slug")) if role in ("assistant", "tool") else None
        messages.append(
            Message(
                source_id=nid,
                parent_source_id=parent,
                role=role,
                text=text,
                content_type=ctype,
                parts=parts,
                author_name=_str_or_none(author.get("name")),
                created_at=_ts(msg.get("create_time")),
                requested_model=own_request or inherited or conv_default,
                served_model=served,
                visible=nid in visible,
                hidden=hidden,
                sibling_index=sibling[nid],
                status=_str_or_none(msg.get("status")),
                recipient=_str_or_none(msg.get("recipient")),
                attachments=attachments,
                raw=node,
            )
        )
    raw = {k: v for k, v in obj.items() if k != "mapping"}
    return Conversation(
        source_format=NAME,
        source_id=source_id,
        title=_str_or_none(obj.get("title")),
        created_at=_ts(obj.get("create_time")),
        updated_at=_ts(obj.get("update_time")),
        default_model=conv_default,
        current_node=_str_or_none(obj.get("current_node")),
        messages=messages,
        raw=raw,
    )


# ---------------------------------------------------------------- reading a bundle


def _feedback(entry: dict[str, Any]) -> Feedback | None:
    rating = entry.get("rating")
    score = {"thumbsup": 1, "up": 1, "thumbsdown": -1, "down": -1}.get(str(rating).lower())
    if score is None and isinstance(rating, (int, float)) and not isinstance(rating, bool):
        score = 1 if rating > 0 else -1
    if score is None:
        return None
    message_id = _str_or_none(entry.get("message_id")) or _str_or_none(entry.get("id"))
    text = None
    content = entry.get("content")
    if isinstance(content, str) and content.strip().startswith("{"):
        try:
            content = orjson.loads(content)
        except orjson.JSONDecodeError:
            pass
    if isinstance(content, dict):
        text = _join(content.get("text"), ", ".join(t for t in _list(content.get("tags")) if isinstance(t, str)))
    elif isinstance(content, str):
        text = content
    return Feedback(
        source_format=NAME,
        source_id=_str_or_none(entry.get("id")) or f"{entry.get('conversation_id')}:{message_id}",
        rating=score,
        conversation_source_id=_str_or_none(entry.get("conversation_id")),
        message_source_id=message_id,
        text=text or None,
        created_at=_ts(entry.get("create_time")),
        raw=entry,
    )


def read(bundle: Bundle, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield every conversation, then feedback, the account and the files of the export."""
    entries = _entries_to_read(bundle)
    conv_entries = [e for e in entries if _CONVERSATION_FILE.match(e.basename) or bundle.kind == "file"]
    index = 0
    for entry in conv_entries:
        for obj in stream_json_items(bundle, entry, progress):
            try:
                yield parse_conversation(obj, index)
            except CorruptInput as exc:
                if warn:
                    warn(f"{bundle.label(entry)}: skipped {exc.message}")
            index += 1

    names: dict[str, str] = {}
    for entry in entries:
        if entry in conv_entries:
            continue
        base = entry.basename.lower()
        if base == "conversation_asset_file_names.json":
            mapping = load_json(bundle, entry, None)
            if isinstance(mapping, dict):
                names = {str(k): str(v) for k, v in mapping.items()}
        if base == "message_feedback.json":
            for obj in _list(load_json(bundle, entry, None)):
                fb = _feedback(obj) if isinstance(obj, dict) else None
                if fb:
                    yield fb
        elif base == "user.json":
            user = load_json(bundle, entry, None)
            if isinstance(user, dict):
                yield Account(source_format=NAME, source_id=str(user.get("id") or "me"), raw=user)
    for entry in entries:
        if entry in conv_entries:
            continue
        m = _ASSET_ID.match(entry.basename)
        yield AttachmentFile(
            source_format=NAME,
            path=entry.name,
            asset_id=m.group(1) if m else None,
            data=entry.read_bytes(progress),
            original_name=names.get(entry.basename),
        )
