"""SillyTavern chats: one `.jsonl` file per chat, solo (`chats/<character>/`) or group (`group chats/`).

Line 1 is a header (`user_name`, `character_name`, `create_date`, `chat_metadata`); group chats from
2025 on write `"unused"` for both names, and older group chats have no header at all. Every other
line is a message: `name`, `is_user`, `is_system`, `send_date`, `mes`, `extra`, and for generated
replies `swipes` (alternative replies), `swipe_id` (the one shown) and `swipe_info` (each swipe's
date and `extra`). Swipes become sibling branches under the previous shown message; the shown one
continues the chain. A message's id is its index in the chat (SillyTavern's own message number),
so ids survive re-imports of a chat that grew; swipe j > 0 of message i is `i.sj`.

`is_system: true` means "excluded from the prompt" (SillyTavern's /hide sets it on ordinary
messages, and its notices carry it too), so such lines are `hidden`; only real system lines (notices,
the narrator) get role "system". SillyTavern records the model it asked for (`extra.model`), never
the one that answered, so `served_model` stays None.

Dates come as `May 10, 2025 12:51am` or `2025-05-10@00h52m16s` (the browser's local time, with no
zone), ISO strings, or epoch milliseconds. The zone is recovered per file from generated replies,
whose `gen_started` is UTC; without one, local times are read as UTC.
"""

from __future__ import annotations

import io
import json
import re
import statistics
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import PurePosixPath
from typing import Any

import orjson

from hearth.errors import CorruptInput
from hearth.formats import worldinfo
from hearth.formats.bundle import Bundle, Entry, Progress, json_int
from hearth.records import Attachment, Conversation, Item, Message

NAME = "sillytavern"
SYSTEM_NAME = "SillyTavern System"
_SYSTEM_TYPES = frozenset(
    {
        "help",
        "welcome",
        "group",
        "empty",
        "generic",
        "narrator",
        "comment",
        "slash_commands",
        "formatting",
        "hotkeys",
        "macros",
        "welcome_prompt",
        "assistant_note",
    }
)
_PLACEHOLDERS = {"", "unused"}
_HEADER_KEYS = ("user_name", "character_name", "create_date", "chat_metadata")
_YEAR_3000 = 32503680000
_THOUGHTS = ("thoughts", "reasoning_recap")
_FIX_LINE = "Fix or delete that line (SillyTavern itself skips it), then import again."
_SURROGATE = re.compile("[\ud800-\udfff]")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MERIDIEM = re.compile(r"([A-Za-z]+)\.?\s+(\d{1,2}),\s*(\d{4})\s+(\d{1,2}):(\d{1,2})\s*([ap]m)", re.IGNORECASE)
_HUMANIZED = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})\s*@\s*(\d{1,2})h\s*(\d{1,2})m\s*(\d{1,2})s(?:\s*(\d{1,3})ms)?")


# ---------------------------------------------------------------- dates


def parse_date(value: Any) -> tuple[float, bool] | None:
    """Seconds since the epoch and whether the value was a zone-less local time (then the seconds
    are that wall-clock time read as UTC, to be corrected by the file's offset). Dates before 1970 or
    after 2999 are no dates SillyTavern wrote: None, like anything unreadable."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) >= 1e11 else float(value)
        return (seconds, False) if 0 <= seconds < _YEAR_3000 else None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return parse_date(int(text)) if len(text) <= 20 else None  # longer is past the year 3000
    try:
        if m := _MERIDIEM.match(text):
            month = next((i for i, name in enumerate(_MONTHS, 1) if name.startswith(m[1].lower()[:3])), 0)
            hour = int(m[4]) % 12 + (12 if m[6].lower() == "pm" else 0)
            dt = datetime(int(m[3]), month, int(m[2]), hour, int(m[5]), tzinfo=UTC)
        elif m := _HUMANIZED.match(text):
            y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
            dt = datetime(y, mo, d, h, mi, s, int(m[7] or 0) * 1000, tzinfo=UTC)
        else:
            dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    naive = m is not None or dt.tzinfo is None
    seconds = dt.replace(tzinfo=dt.tzinfo or UTC).timestamp()
    return (seconds, naive) if 0 <= seconds < _YEAR_3000 else None


def _infer_offset(messages: list[dict[str, Any]]) -> float:
    """The chat's UTC offset in seconds: local `send_date` minus UTC `gen_started`, median, to 15 min."""
    diffs: list[float] = []
    for obj in messages:
        infos = obj.get("swipe_info") if isinstance(obj.get("swipe_info"), list) else []
        for rec in [obj, *(i for i in infos if isinstance(i, dict))]:
            local = parse_date(rec.get("send_date"))
            ref = parse_date(rec.get("gen_started")) or parse_date(rec.get("gen_finished"))
            if local and local[1] and ref and not ref[1]:
                diffs.append(local[0] - ref[0])
    if not diffs:
        return 0.0
    offset = round(statistics.median(diffs) / 900) * 900
    return float(offset) if abs(offset) <= 14 * 3600 else 0.0


def _ts(value: Any, offset: float) -> float | None:
    parsed = parse_date(value)
    if parsed is None:
        return None
    return parsed[0] - offset if parsed[1] else parsed[0]


# ---------------------------------------------------------------- one chat


def _text(value: Any) -> str:
    """`mes` or a swipe: a string, or `{"message": …}` in chats that came from Chub."""
    if isinstance(value, dict) and isinstance(value.get("message"), str):
        return value["message"]
    return value if isinstance(value, str) else "" if value is None else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _role(obj: dict[str, Any]) -> str:
    """Who spoke: a real system line is a notice or the narrator, not merely a line with `is_system`."""
    if obj.get("is_user"):
        return "user"
    avatar, name = obj.get("force_avatar"), _str(obj.get("name"))
    if (
        _str(_dict(obj.get("extra")).get("type")) in _SYSTEM_TYPES
        or name in (SYSTEM_NAME, "System")
        or (isinstance(avatar, str) and avatar.endswith("img/five.png"))
        or (obj.get("is_system") and not name)
    ):
        return "system"
    return "assistant"


def _model(extra: dict[str, Any]) -> str | None:
    # Narrator lines carry api "manual" / model "slash command": nothing was asked of a model.
    return None if extra.get("api") == "manual" else _str(extra.get("model"))


def _attachments(extra: dict[str, Any]) -> list[Attachment]:
    found: list[Attachment] = []
    image = extra.get("image")
    if isinstance(image, str) and image and not image.startswith("data:"):
        found.append(Attachment(asset_id=image, name=PurePosixPath(image).name, pointer=image, raw={"image": image}))
    files = extra.get("files") if isinstance(extra.get("files"), list) else [extra.get("file")]
    for f in files:
        if isinstance(f, dict) and _str(f.get("url")):
            size = f.get("size")
            found.append(
                Attachment(
                    asset_id=f["url"],
                    name=_str(f.get("name")),
                    pointer=f["url"],
                    size_bytes=size if isinstance(size, int) and 0 <= size < 2**63 else None,  # SQLite's range
                    raw=f,
                )
            )
    return found


def _parts(text: str, reasoning: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if isinstance(reasoning, str) and reasoning:
        parts.append({"type": "thinking", "text": reasoning})
    parts.append({"type": "text", "text": text})
    return parts


def _message_nodes(index: int, obj: dict[str, Any], parent: str | None, offset: float) -> tuple[list[Message], str]:
    """The nodes of one chat line (one per swipe) and the id of the one shown."""
    role = _role(obj)
    extra = _dict(obj.get("extra"))
    hidden = bool(obj.get("is_system"))
    name = _str(obj.get("name"))
    mes = _text(obj.get("mes"))
    swipes = obj.get("swipes") if isinstance(obj.get("swipes"), list) else []
    infos = obj.get("swipe_info") if isinstance(obj.get("swipe_info"), list) else []
    texts = [_text(s) for s in swipes]
    chosen = obj.get("swipe_id")
    if not (isinstance(chosen, int) and not isinstance(chosen, bool) and 0 <= chosen < len(texts)):
        chosen = texts.index(mes) if mes in texts else 0
    nodes: list[Message] = []
    for j in range(max(len(texts), 1)):
        sid = str(index) if j == 0 else f"{index}.s{j}"
        info = _dict(infos[j]) if j < len(infos) else {}
        info_extra = _dict(info.get("extra"))
        if j == chosen:
            text, own_extra, raw = mes, extra or info_extra, obj
            created = _ts(obj.get("send_date"), offset)
            created = created if created is not None else _ts(info.get("send_date"), offset)
        else:
            text, own_extra, created = texts[j], info_extra, _ts(info.get("send_date"), offset)
            raw = {"mesid": index, "swipe": j, "text": swipes[j], **({"swipe_info": infos[j]} if info else {})}
        nodes.append(
            Message(
                source_id=sid,
                parent_source_id=parent,
                role=role,
                text=text,
                content_type="text",
                parts=_parts(text, own_extra.get("reasoning")),
                author_name=name,
                created_at=created,
                requested_model=_model(own_extra) if role != "user" else None,
                visible=j == chosen,
                hidden=hidden,
                sibling_index=j,
                attachments=_attachments(own_extra),
                raw=raw,
            )
        )
    return nodes, nodes[chosen].source_id


def _split_header(objects: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if objects and "mes" not in objects[0] and any(k in objects[0] for k in _HEADER_KEYS):
        return objects[0], objects[1:]
    return {}, objects


def parse_chat(
    objects: list[dict[str, Any]], file_name: str, *, group_name: str | None = None, group: bool = False
) -> Conversation:
    """A whole chat (header and message objects, in file order) as one `Conversation`.

    `group_name` comes from `groups/*.json` when the bundle has it; `group` says the file lay in
    `group chats/`. A solo chat's companion is its header's `character_name`; a group's is the
    group's name, else its members' names joined with ", ".
    """
    header, lines = _split_header(objects)
    offset = _infer_offset(lines)
    messages: list[Message] = []
    parent: str | None = None
    for index, obj in enumerate(lines):
        nodes, parent = _message_nodes(index, obj, parent, offset)
        messages.extend(nodes)
    character = header.get("character_name") if isinstance(header.get("character_name"), str) else None
    group = group or group_name is not None or any(o.get("is_group") for o in lines[:1])
    speakers = list(dict.fromkeys(m.author_name for m in messages if m.role == "assistant" and m.author_name))
    if character not in _PLACEHOLDERS and character is not None and not group:
        companion: str | None = character
    else:
        companion = group_name or ", ".join(speakers) or None
    shown = [m for m in messages if m.visible]
    dated = [m.created_at for m in shown if m.created_at is not None]
    models = [m.requested_model for m in shown if m.requested_model]
    started = _ts(header.get("create_date"), offset)
    return Conversation(
        source_format=NAME,
        source_id=f"{character if character is not None else 'group'}/{PurePosixPath(file_name).name}",
        title=PurePosixPath(file_name).stem,
        created_at=started if started is not None else (dated[0] if dated else None),
        updated_at=max(dated) if dated else None,
        default_model=models[-1] if models else None,
        current_node=shown[-1].source_id if shown else None,
        companion=companion,
        messages=messages,
        raw=header,
    )


# ---------------------------------------------------------------- bundles


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    return value


def _load_line(data: bytes) -> Any:
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        # JavaScript writes lone surrogates (an emoji cut in half) that orjson refuses and no UTF-8
        # store can hold: read them with the stdlib and keep a U+FFFD in their place.
        try:
            return _scrub(json.loads(data.decode("utf-8"), parse_int=json_int))
        except RecursionError:  # orjson stops at 1024 levels, the stdlib overflows the stack
            raise ValueError("nested too deeply") from None


def _first_line_is_chat(head: bytes) -> bool:
    head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    line, newline, _ = head.partition(b"\n")
    if not line.startswith(b"{"):
        return False
    try:
        obj = _load_line(line)
    except (ValueError, UnicodeDecodeError):
        # A header longer than the peek (huge chat_metadata): judge by its first keys.
        return not newline and any(f'"{k}"'.encode() in line[:4096] for k in ("user_name", "character_name"))
    if not isinstance(obj, dict):
        return False
    if "mes" in obj:
        return "is_user" in obj or "name" in obj
    return "user_name" in obj or "character_name" in obj or "chat_metadata" in obj


def _is_chat_file(entry: Entry) -> bool:
    """A `.jsonl` outside `backups/` (SillyTavern's copies would duplicate every chat) that starts like a chat."""
    return (
        entry.basename.lower().endswith(".jsonl")
        and "backups" not in PurePosixPath(entry.name).parts[:-1]
        and _first_line_is_chat(entry.head(65536))
    )


def chat_entries(bundle: Bundle) -> list[Entry]:
    return [e for e in bundle.entries if _is_chat_file(e)]


def _world_entries(bundle: Bundle) -> list[Entry]:
    return [e for e in bundle.entries if "worlds" in PurePosixPath(e.name).parts[:-1] and worldinfo.sniff_entry(e)]


def sniff(bundle: Bundle) -> bool:
    """A `.jsonl` whose first line is a chat header or message, or a folder / zip holding such files."""
    return any(_is_chat_file(e) for e in bundle.entries)


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in chat_entries(bundle)) + sum(e.size for e in _world_entries(bundle))


def _group_files(bundle: Bundle) -> list[tuple[str, Callable[[], bytes]]]:
    """SillyTavern's `groups/*.json`: inside the bundle, or beside the `group chats/` folder of a
    single chat file (a data folder is read file by file), since only they name a group."""
    if bundle.kind == "file" and bundle.path.parent.name == "group chats":
        folder = bundle.path.parent.parent / "groups"
        return [(str(p), p.read_bytes) for p in sorted(folder.glob("*.json")) if p.is_file()]
    return [
        (bundle.label(e), e.read_bytes)
        for e in bundle.entries
        if PurePosixPath(e.name).parts[-2:-1] == ("groups",) and e.basename.lower().endswith(".json")
    ]


def _groups(bundle: Bundle, warn: Callable[[str], None] | None) -> dict[str, str]:
    """Chat file stem → group name."""
    names: dict[str, str] = {}
    for label, load in _group_files(bundle):
        try:
            group = orjson.loads(load())
        except (orjson.JSONDecodeError, OSError):
            if warn:
                warn(f"{label}: unreadable group file; its chats are named after their members")
            continue
        if isinstance(group, dict) and _str(group.get("name")):
            chats = group.get("chats") if isinstance(group.get("chats"), list) else []
            names.update((str(c), group["name"]) for c in [*chats, group.get("chat_id")] if c is not None)
    return names


def read_chat(
    bundle: Bundle, entry: Entry, progress: Progress | None = None, *, group_name: str | None = None
) -> Conversation:
    """Read one chat file line by line; a line that is not a JSON object stops with its number."""
    objects: list[dict[str, Any]] = []
    with io.BufferedReader(entry.open(progress), 1 << 16) as stream:
        for number, line in enumerate(stream, 1):
            line = line.rstrip(b"\r\n")
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if not line.strip():
                continue
            try:
                obj = _load_line(line)
                problem = None if isinstance(obj, dict) else f"is a JSON {type(obj).__name__}, not a chat message"
            except (ValueError, UnicodeDecodeError) as exc:
                problem = f"is not valid JSON ({exc})"
            if problem:
                raise CorruptInput(f"{bundle.label(entry)}: line {number} {problem}.", hint=_FIX_LINE)
            objects.append(obj)
    in_group_folder = "group chats" in (
        PurePosixPath(entry.name).parts[:-1] if bundle.kind != "file" else (bundle.path.parent.name,)
    )
    return parse_chat(objects, entry.name, group_name=group_name, group=in_group_folder)


def read(bundle: Bundle, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield one `Conversation` per chat file, then the world-info books of a SillyTavern folder."""
    groups = _groups(bundle, warn)
    for entry in chat_entries(bundle):
        yield read_chat(bundle, entry, progress, group_name=groups.get(PurePosixPath(entry.name).stem))
    for entry in _world_entries(bundle):
        yield worldinfo.read_book(bundle, entry, progress, warn)


# ---------------------------------------------------------------- writing


def _local(ts: float, tz: tzinfo | None) -> datetime:
    return datetime.fromtimestamp(ts, tz) if tz else datetime.fromtimestamp(ts).astimezone()


def _send_date(ts: float, tz: tzinfo | None) -> str:
    """SillyTavern's message date, `June 19, 2023 2:20pm`, in the given zone (default: this machine's)."""
    d = _local(ts, tz)
    meridiem = "pm" if d.hour >= 12 else "am"
    return f"{_MONTHS[d.month - 1].title()} {d.day}, {d.year} {d.hour % 12 or 12}:{d.minute:02d}{meridiem}"


def _dumps(obj: Any) -> bytes:
    """One line as JavaScript's JSON.stringify writes it, so a SillyTavern line survives byte for byte."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", text).encode("utf-8")


def _from_swipe(node: Message, full: dict[str, Any]) -> dict[str, Any]:
    """The source line with another swipe shown (the person chose a different branch in hearth)."""
    line = dict(full, swipe_id=node.sibling_index, mes=node.text)
    infos = full.get("swipe_info") if isinstance(full.get("swipe_info"), list) else []
    info = _dict(infos[node.sibling_index]) if node.sibling_index < len(infos) else {}
    line.update({k: info[k] for k in ("send_date", "gen_started", "gen_finished", "extra") if k in info})
    return line


def _extra(m: Message, thoughts: str) -> dict[str, Any]:
    extra: dict[str, Any] = {"model": m.requested_model} if m.requested_model and m.role != "user" else {}
    thinking = "\n".join(p.get("text") or "" for p in m.parts if p.get("type") in ("thinking", "thoughts")) or thoughts
    return {**extra, "reasoning": thinking} if thinking else extra


def _built_line(
    m: Message, siblings: list[Message], names: tuple[str, str], tz: tzinfo | None, thoughts: str
) -> dict[str, Any]:
    """A line for a message from another source; sibling replies (regenerations) become its swipes."""
    is_user, is_system = m.role == "user", m.role not in ("user", "assistant")
    line: dict[str, Any] = {
        "name": m.author_name or (names[0] if is_user else SYSTEM_NAME if is_system else names[1]),
        "is_user": is_user,
        "is_system": is_system,
        **({"send_date": _send_date(m.created_at, tz)} if m.created_at is not None else {}),
        "mes": m.text,
        "extra": _extra(m, thoughts),
    }
    if m.role == "assistant":
        swipes = [s for s in siblings if s.role == "assistant" and s.content_type not in _THOUGHTS]
        swipes = swipes if any(s is m for s in swipes) else [m]
        line["swipe_id"] = next(i for i, s in enumerate(swipes) if s is m)
        line["swipes"] = [s.text for s in swipes]
        line["swipe_info"] = [
            {
                **(
                    {
                        "send_date": _send_date(s.created_at, tz),
                        "gen_finished": datetime.fromtimestamp(s.created_at, UTC)
                        .isoformat(timespec="milliseconds")
                        .replace("+00:00", "Z"),
                    }
                    if s.created_at is not None
                    else {}
                ),
                "extra": _extra(s, thoughts if s is m else ""),
            }
            for s in swipes
        ]
    return line


def write_sillytavern(
    conversation: Conversation, user_name: str, character_name: str, *, tz: tzinfo | None = None
) -> bytes:
    """The conversation's shown branch as a chat `.jsonl` SillyTavern opens (header, then one line per
    message; sibling replies become swipes).

    A chat that came from SillyTavern is written back from its source lines, byte for byte, so
    export → import → export is stable; the names given only fill in what the source lacks. Other
    conversations get `send_date` in SillyTavern's own format, in `tz` (default: this machine's zone),
    with the UTC time in `gen_finished` so a re-import recovers the zone; their hidden nodes are
    left out, and reasoning nodes (ChatGPT `thoughts`) fold into the next reply's `extra.reasoning`.
    """
    by_parent: dict[str | None, list[Message]] = {}
    for m in sorted(conversation.messages, key=lambda k: k.sibling_index):
        by_parent.setdefault(m.parent_source_id, []).append(m)
    from_st = conversation.source_format == NAME
    header = conversation.raw if from_st and any(k in conversation.raw for k in _HEADER_KEYS) else None
    if header is None:
        dates = [conversation.created_at, *(m.created_at for m in conversation.messages)]
        start = next((d for d in dates if d is not None), None)
        header = {
            "user_name": user_name,
            "character_name": character_name,
            **({"create_date": f"{_local(start, tz):%Y-%m-%d@%Hh%Mm%Ss}"} if start is not None else {}),
            "chat_metadata": {},
        }
    lines, thoughts = [_dumps(header)], ""
    for m in conversation.messages:
        if not m.visible or (m.role is None and not m.text) or (m.hidden and not from_st):
            continue
        siblings = by_parent.get(m.parent_source_id, [m])
        full = next((s.raw for s in siblings if from_st and isinstance(s.raw, dict) and "mes" in s.raw), None)
        if full is not None:
            lines.append(_dumps(m.raw if full is m.raw else _from_swipe(m, full)))
        elif m.content_type in _THOUGHTS:
            thoughts = "\n".join(t for t in (thoughts, m.text) if t)
        else:
            lines.append(_dumps(_built_line(m, siblings, (user_name, character_name), tz, thoughts)))
            thoughts = "" if m.role == "assistant" else thoughts
    return b"\n".join(lines)
