"""Plain chat logs in the OpenAI messages shape, read and written.

This is the lingua franca of fine-tuning sets and home-made logs: a `.jsonl` file with one
`{"messages": [{"role", "content"}, …], …}` per line, or a `.json` file holding one such object,
a list of them, or a bare list of messages. There are no ids and no tree, so a conversation is
named by the sha256 of its canonical JSON (re-importing the same file adds nothing) and its
messages form one visible chain. Extra keys (`weight`, `tools`, `tool_calls`, …) stay in `raw`.

The writer turns stored conversations back into this shape for supervised fine-tuning: only
what the person saw (the visible branch, hidden nodes left out), with `content` always a string.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import ijson
import orjson

from hearth.errors import CorruptInput
from hearth.formats.bundle import JSON_BUFFER, Bundle, Entry, Progress
from hearth.records import Conversation, Item, Message

NAME = "openai-jsonl"
_LINE_SUFFIXES = (".jsonl", ".ndjson")
_FOREIGN_KEYS = {"mapping", "chat_messages", "mes", "is_user", "user_name", "character_name"}
"""Top-level keys of ChatGPT, Claude and SillyTavern files: never ours."""
_FIRST_LINE_LIMIT = 16 << 20
_WRITE_ROLES = {"system", "user", "assistant"}


def _suffix(entry: Entry) -> str:
    name = entry.basename.lower()
    return name[name.rfind(".") :] if "." in name else ""


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# ---------------------------------------------------------------- sniffing


def _first_line(entry: Entry) -> bytes:
    """The first non-empty line, read only as far as needed (a line can exceed the 64 KB head)."""
    with entry.open() as stream:
        buffered = io.BufferedReader(stream)
        read = 0
        for line in buffered:
            read += len(line)
            if line.strip() or read > _FIRST_LINE_LIMIT:
                return line.strip()
    return b""


def _looks_like_conversation(obj: Any) -> bool:
    if not isinstance(obj, dict) or _FOREIGN_KEYS & obj.keys():
        return False
    msgs = obj.get("messages")
    return isinstance(msgs, list) and (not msgs or (isinstance(msgs[0], dict) and "role" in msgs[0]))


def _json_shape(head: bytes) -> bool:
    """Whether the start of a `.json` file is one of our shapes, from ijson events on its head.

    Looks at the keys of the first object (the file itself or its first element) and of its
    first message; a head cut off mid-way is judged on what it shows.
    """
    top: str | None = None
    obj_keys: set[str] = set()
    msg_keys: set[str] = set()
    messages_array = messages_empty = False
    try:
        # use_float: with Python ints, yajl2_c segfaults on an integer past 4300 digits.
        for prefix, event, value in ijson.parse(io.BytesIO(head), use_float=True):
            if top is None:
                if event not in ("start_map", "start_array"):
                    return False
                top = "" if event == "start_map" else "item"
                continue
            msgs = f"{top}.messages" if top else "messages"
            if event == "map_key" and prefix == top:
                obj_keys.add(value)
            elif prefix == msgs and event == "start_array":
                messages_array = True
            elif prefix == msgs and event == "end_array" and not msg_keys:
                messages_empty = True
            elif event == "map_key" and prefix == f"{msgs}.item":
                msg_keys.add(value)
            elif event == "end_map" and prefix in (top, f"{msgs}.item"):
                break
    except (ijson.JSONError, UnicodeDecodeError):
        pass
    if _FOREIGN_KEYS & obj_keys:
        return False
    if messages_array and (messages_empty or "role" in msg_keys):
        return True
    return top == "item" and {"role", "content"} <= obj_keys


def sniff(bundle: Bundle) -> bool:
    """One `.jsonl` whose first line, or `.json` whose first object, is in the messages shape."""
    if bundle.kind != "file":
        return False
    entry = bundle.entries[0]
    suffix = _suffix(entry)
    if suffix in _LINE_SUFFIXES:
        try:
            return _looks_like_conversation(orjson.loads(_first_line(entry)))
        except orjson.JSONDecodeError:
            return False
    if suffix == ".json":
        return _json_shape(entry.head())
    return False


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in bundle.entries)


# ---------------------------------------------------------------- parsing


def content_parts(content: Any) -> tuple[str, list[dict[str, Any]]]:
    """Text and normalised parts of a `content`: a string, null, or a list of typed parts."""
    if isinstance(content, str):
        return content, [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return "", []
    texts: list[str] = []
    parts: list[dict[str, Any]] = []
    for part in content:
        if isinstance(part, str):
            part = {"type": "text", "text": part}
        if not isinstance(part, dict):
            continue
        kind = part.get("type")
        if kind in ("text", "input_text", "output_text") and isinstance(part.get("text"), str):
            texts.append(part["text"])
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append({"type": "image", "url": url if isinstance(url, str) else None})
        else:
            parts.append({"type": kind if isinstance(kind, str) else "unknown", "text": part.get("text")})
    return "\n".join(texts), parts


def _tool_calls(msg: dict[str, Any]) -> list[dict[str, Any]]:
    calls = msg.get("tool_calls") if isinstance(msg.get("tool_calls"), list) else []
    if isinstance(msg.get("function_call"), dict):
        calls = [*calls, {"function": msg["function_call"]}]
    parts = []
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict):
            name, arguments = fn.get("name"), fn.get("arguments")
            parts.append({"type": "tool_use", "name": name, "input": arguments, "id": call.get("id")})
    return parts


def parse_conversation(obj: dict[str, Any], source_id: str) -> Conversation:
    """One `{"messages": […]}` object as a linear, fully visible conversation."""
    messages: list[Message] = []
    for i, msg in enumerate(obj.get("messages") or []):
        if not isinstance(msg, dict):
            msg = {"value": msg}
        role = _str(msg.get("role")) or "unknown"
        text, parts = content_parts(msg.get("content"))
        messages.append(
            Message(
                source_id=str(i),
                parent_source_id=str(i - 1) if i else None,
                role=role,
                text=text,
                parts=parts + _tool_calls(msg),
                author_name=_str(msg.get("name")),
                served_model=_str(msg.get("model")) if role == "assistant" else None,
                visible=True,
                raw=msg,
            )
        )
    return Conversation(
        source_format=NAME,
        source_id=source_id,
        title=_str(obj.get("title")),
        messages=messages,
        raw={k: v for k, v in obj.items() if k != "messages"},
    )


def source_id_of(obj: dict[str, Any]) -> str:
    """sha256 of the object's canonical JSON (sorted keys, no spaces): stable across re-imports
    and across formatting changes, so the same conversation is recognised wherever it comes from."""
    try:
        canonical = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        # orjson writes no more than 254 levels of nesting (it reads up to 1024, ijson any depth);
        # the stdlib goes as deep as the stack allows, so such a conversation still gets a stable id.
        canonical = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(canonical).hexdigest()


class _Ids:
    """Gives a repeated conversation (identical lines) `hash:2`, `hash:3`… so none is dropped."""

    def __init__(self, where: str) -> None:
        self.seen: dict[str, int] = {}
        self.where = where

    def __call__(self, obj: dict[str, Any]) -> str:
        try:
            sid = source_id_of(obj)
        except RecursionError as exc:
            raise CorruptInput(
                f"{self.where}: a conversation is nested too deeply to read.",
                hint="This is not a chat log a program wrote; check the file.",
            ) from exc
        n = self.seen[sid] = self.seen.get(sid, 0) + 1
        return sid if n == 1 else f"{sid}:{n}"


def _read_lines(bundle: Bundle, entry: Entry, progress: Progress | None) -> Iterator[Conversation]:
    ids = _Ids(bundle.label(entry))
    offset = 0
    with entry.open(progress) as stream:
        for number, line in enumerate(io.BufferedReader(stream), start=1):
            start, offset = offset, offset + len(line)
            if not line.strip():
                continue
            try:
                obj = orjson.loads(line)
                problem = None if _looks_like_conversation(obj) else 'is not a {"messages": [...]} object'
            except orjson.JSONDecodeError as exc:
                problem = f"is not valid JSON ({exc})"
            if problem:
                raise CorruptInput(
                    f"{bundle.label(entry)} line {number} {problem}.",
                    hint="Fix or delete that line and import again; the lines before it were read.",
                    offset=start,
                )
            yield parse_conversation(obj, ids(obj))


def _read_json(bundle: Bundle, entry: Entry, progress: Progress | None) -> Iterator[Conversation]:
    ids = _Ids(bundle.label(entry))
    stream = entry.open(progress)
    try:
        top = entry.head(4096).lstrip()[:1]
        bare: list[Any] = []
        try:
            for n, obj in enumerate(
                ijson.items(stream, "" if top == b"{" else "item", use_float=True, buf_size=JSON_BUFFER)
            ):
                if _looks_like_conversation(obj) and not bare:
                    yield parse_conversation(obj, ids(obj))
                elif isinstance(obj, dict) and "role" in obj and (bare or n == 0):
                    bare.append(obj)
                else:
                    raise CorruptInput(
                        f"{bundle.label(entry)}: element #{n + 1} is neither a conversation nor a message.",
                        hint='Each element must be a {"messages": [...]} object, or every one a message.',
                        offset=stream.position,
                    )
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise CorruptInput(
                f"{bundle.label(entry)} is not valid JSON near byte {stream.position:,} ({exc}).",
                hint="The file is truncated or damaged. What was read before this point is kept.",
                offset=stream.position,
            ) from exc
        if bare:
            obj = {"messages": bare}
            yield parse_conversation(obj, ids(obj))
    finally:
        stream.close()


def read(bundle: Bundle, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield one conversation per line (`.jsonl`) or per object (`.json`)."""
    for entry in bundle.entries:
        if _suffix(entry) in _LINE_SUFFIXES:
            yield from _read_lines(bundle, entry, progress)
        else:
            yield from _read_json(bundle, entry, progress)


# ---------------------------------------------------------------- writing


def _visible_path(conv: Conversation) -> list[Message]:
    """The visible branch root-first, following parent links from its deepest message."""
    visible = [m for m in conv.messages if m.visible]
    by_id = {m.source_id: m for m in visible}
    parents = {m.parent_source_id for m in visible}
    leaves = [m for m in visible if m.source_id not in parents]
    if not leaves:
        return []
    path: list[Message] = []
    node: Message | None = leaves[-1]
    seen: set[str] = set()
    while node is not None and node.source_id not in seen:
        seen.add(node.source_id)
        path.append(node)
        node = by_id.get(node.parent_source_id) if node.parent_source_id else None
    return path[::-1]


def training_messages(conv: Conversation, system_prompt: str | None = None) -> list[dict[str, str]]:
    """The visible, shown, non-empty system/user/assistant turns, as OpenAI chat messages.

    Tool turns are left out: OpenAI's format needs a matching `tool_calls` id for each, which
    other sources do not record. A given system prompt replaces the source's own system turns.
    """
    out = [{"role": "system", "content": system_prompt}] if system_prompt else []
    for m in _visible_path(conv):
        if m.hidden or m.role not in _WRITE_ROLES or not m.text.strip():
            continue
        if m.role == "system" and system_prompt:
            continue
        out.append({"role": m.role, "content": m.text})
    return out


def write_openai_jsonl(conversations: Iterable[Conversation], system_prompt: str | None = None) -> Iterator[bytes]:
    """One `{"messages": [...]}` line per conversation that has an assistant reply, for SFT."""
    for conv in conversations:
        messages = training_messages(conv, system_prompt)
        if any(m["role"] == "assistant" for m in messages):
            yield orjson.dumps({"messages": messages}) + b"\n"
