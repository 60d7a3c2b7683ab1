"""SillyTavern world info (lorebook) files, and standalone card-style `character_book` JSON.

SillyTavern keeps a world as `{"entries": {"<uid>": {uid, key, keysecondary, comment, content,
constant, selective, order, position, disable, …camelCase extras}}, "originalData": {…}}`, where
`originalData` is the card `character_book` the world was imported from. A lorebook exported from a
card is the card shape instead: `entries` is a list of `{keys, secondary_keys, insertion_order,
enabled, …, extensions}`. Both become one `Lorebook`; the fields every spec agrees on become named
attributes, every other field lands in `extensions`, and each untouched entry stays in `raw`, so a
book written back out carries every setting it came in with.

A world file is small (kilobytes to a few megabytes of text a person wrote), so it is parsed whole
with orjson; sniffing uses ijson and stops at the first entry, so a big unrelated JSON is never
loaded just to be rejected.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

import ijson
import orjson

from hearth.errors import CorruptInput
from hearth.formats.bundle import JSON_BUFFER, Bundle, Entry, Progress
from hearth.records import Item, Lorebook, LoreEntry

NAME = "worldinfo"

_ST_FIELDS = (
    "uid",
    "key",
    "keysecondary",
    "comment",
    "content",
    "constant",
    "selective",
    "order",
    "position",
    "disable",
    "caseSensitive",
)
_CARD_FIELDS = (
    "id",
    "keys",
    "secondary_keys",
    "comment",
    "name",
    "content",
    "constant",
    "selective",
    "insertion_order",
    "priority",
    "position",
    "enabled",
    "use_regex",
    "case_sensitive",
    "extensions",
)
_REGEX_KEY = re.compile(r"^/.+/[a-z]*$", re.DOTALL)
_NOT_A_BOOK = {"spec", "data", "mapping", "chat_messages"}
_SNIFF_EVENTS = 20_000


# ---------------------------------------------------------------- entries


def _strings(value: Any) -> list[str]:
    """Keys as a list of strings: ST sometimes stores one comma-separated string instead of a list."""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None and str(v) != ""]
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return []


def _int(value: Any, default: int = 0) -> int:
    """An order or priority as ST and card editors write it: a number, or a numeric string."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return default
    if isinstance(value, (int, float)) and abs(value) < 2**63:  # also refuses NaN and infinities
        return int(value)
    return default


def _bool_or_none(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def entry_from_worldinfo(entry: dict[str, Any]) -> LoreEntry:
    """One SillyTavern world-info entry (`key`, `order`, `disable`, …) as a `LoreEntry`."""
    keys = _strings(entry.get("key"))
    position = entry.get("position")
    return LoreEntry(
        keys=keys,
        content=entry.get("content") if isinstance(entry.get("content"), str) else "",
        secondary_keys=_strings(entry.get("keysecondary")),
        name=_str_or_none(entry.get("comment")),
        comment=_str_or_none(entry.get("comment")),
        enabled=not bool(entry.get("disable")),
        constant=bool(entry.get("constant")),
        selective=bool(entry.get("selective")),
        insertion_order=_int(entry.get("order"), 100),
        position=None if position is None else str(position),
        # ST has no book-wide regex flag: each key written as /pattern/flags is a regex.
        use_regex=any(_REGEX_KEY.match(k) for k in keys),
        case_sensitive=_bool_or_none(entry.get("caseSensitive")),
        entry_id=None if entry.get("uid") is None else str(entry.get("uid")),
        extensions={k: v for k, v in entry.items() if k not in _ST_FIELDS},
        raw=entry,
    )


def entry_from_card(entry: dict[str, Any]) -> LoreEntry:
    """One card-style `character_book` entry (`keys`, `insertion_order`, `enabled`, …) as a `LoreEntry`."""
    extensions = dict(entry["extensions"]) if isinstance(entry.get("extensions"), dict) else {}
    for k, v in entry.items():
        if k not in _CARD_FIELDS:
            extensions.setdefault(k, v)
    position = entry.get("position")
    priority = entry.get("priority")
    return LoreEntry(
        keys=_strings(entry.get("keys")),
        content=entry.get("content") if isinstance(entry.get("content"), str) else "",
        secondary_keys=_strings(entry.get("secondary_keys")),
        name=_str_or_none(entry.get("name")) or _str_or_none(entry.get("comment")),
        comment=_str_or_none(entry.get("comment")),
        enabled=entry.get("enabled") is not False,
        constant=bool(entry.get("constant")),
        selective=bool(entry.get("selective")),
        insertion_order=_int(entry.get("insertion_order"), 100),
        priority=_int(priority) if isinstance(priority, (int, float)) and not isinstance(priority, bool) else None,
        position=None if position is None else str(position),
        use_regex=bool(entry.get("use_regex")),
        case_sensitive=_bool_or_none(entry.get("case_sensitive")),
        entry_id=None if entry.get("id") is None else str(entry.get("id")),
        extensions=extensions,
        raw=entry,
    )


def _is_entry(value: Any) -> bool:
    return isinstance(value, dict) and "content" in value and ("key" in value or "keys" in value)


def looks_like_lorebook(obj: Any) -> bool:
    """A JSON object with `entries` (dict or list) of lore-entry-shaped values and no card wrapper."""
    if not isinstance(obj, dict) or _NOT_A_BOOK & obj.keys():
        return False
    entries = obj.get("entries")
    if isinstance(entries, dict):
        return all(_is_entry(v) for v in entries.values())
    if isinstance(entries, list):
        return bool(entries) and all(_is_entry(v) for v in entries)
    return False


def _uid_order(item: tuple[str, Any]) -> tuple[int, int, str]:
    key, entry = item
    uid = entry.get("uid") if isinstance(entry, dict) else None
    if isinstance(uid, int) and not isinstance(uid, bool):
        return (0, uid, key)
    if key.isascii() and key.isdigit() and len(key) <= 20:  # longer is no uid (and past int()'s limit)
        return (0, int(key), key)
    return (1, 0, key)


def parse_lorebook(
    obj: dict[str, Any],
    *,
    source_id: str,
    fallback_name: str | None = None,
    companion: str | None = None,
    source_format: str = NAME,
    warn: Callable[[str], None] | None = None,
) -> Lorebook:
    """A world-info or `character_book` object as a `Lorebook` (entries of the ST shape in uid order).

    Public so a card reader can turn an embedded `character_book` into the same records.
    """
    raw_entries = obj.get("entries")
    if isinstance(raw_entries, dict):
        items = sorted(raw_entries.items(), key=_uid_order)
    elif isinstance(raw_entries, list):
        items = [(str(i), e) for i, e in enumerate(raw_entries)]
    else:
        items = []
    entries: list[LoreEntry] = []
    for key, entry in items:
        if not isinstance(entry, dict):
            if warn:
                warn(f"lorebook {fallback_name or source_id}: skipped entry {key}, which is not an object")
            continue
        shape_st = "key" in entry or "uid" in entry or "keysecondary" in entry or "disable" in entry
        entries.append(entry_from_worldinfo(entry) if shape_st else entry_from_card(entry))
    original = obj.get("originalData") if isinstance(obj.get("originalData"), dict) else None
    settings = {k: v for k, v in obj.items() if k not in ("entries", "originalData")}
    if original is not None:
        # The card book it came from: its book-level fields matter, its entries duplicate ours (kept in raw).
        settings["originalData"] = {k: v for k, v in original.items() if k != "entries"}
    name = _str_or_none(obj.get("name")) or (_str_or_none(original.get("name")) if original else None)
    return Lorebook(
        source_format=source_format,
        source_id=source_id,
        name=name or fallback_name,
        companion=companion,
        entries=entries,
        settings=settings,
        raw=obj,
    )


# ---------------------------------------------------------------- bundles


def sniff_entry(entry: Entry) -> bool:
    """Whether one `.json` file is a lorebook, from its top-level keys and first entry only (streamed)."""
    if not entry.basename.lower().endswith(".json"):
        return False
    first: str | None = None
    keys: set[str] = set()
    try:
        with entry.open() as stream:
            # use_float: yajl2_c turns a longer integer into a Python int, and one past Python's
            # 4300-digit limit crashes the interpreter (segfault) instead of raising.
            events = ijson.parse(stream, buf_size=JSON_BUFFER, use_float=True)
            for n, (prefix, event, value) in enumerate(events):
                if n > _SNIFF_EVENTS:
                    return False
                if n == 0 and event != "start_map":
                    return False
                if prefix == "" and event == "map_key" and value in _NOT_A_BOOK:
                    return False
                if prefix == "entries" and event == "end_map":
                    return first is None  # `{"entries": {}}`: an empty world, as ST writes it
                if prefix == "entries" and event == "end_array":
                    return False
                if first is None and prefix.startswith("entries.") and prefix.count(".") == 1:
                    if event != "start_map":
                        return False
                    first = prefix
                elif first is not None and prefix == first:
                    if event == "map_key":
                        keys.add(value)
                    elif event == "end_map":
                        return "content" in keys and bool({"key", "keys"} & keys)
    except (ijson.JSONError, UnicodeDecodeError, OSError):
        return False
    return False


def _chat_reader_wants(bundle: Bundle) -> bool:
    """A SillyTavern data folder belongs to the chat reader, which yields its worlds too."""
    from hearth.formats import sillytavern  # deferred: sillytavern imports this module

    return bool(sillytavern.chat_entries(bundle))


def sniff(bundle: Bundle) -> bool:
    """A `.json` world-info / lorebook file, or a folder or zip of them (and no SillyTavern chats)."""
    if not any(sniff_entry(e) for e in bundle.entries):
        return False
    return bundle.kind == "file" or not _chat_reader_wants(bundle)


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in bundle.entries if e.basename.lower().endswith(".json"))


def read_book(
    bundle: Bundle, entry: Entry, progress: Progress | None = None, warn: Callable[[str], None] | None = None
) -> Lorebook:
    """Parse one world file; its id is the sha256 of its bytes, so re-importing it adds nothing."""
    data = entry.read_bytes(progress)
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CorruptInput(
            f"{bundle.label(entry)} is not valid JSON near byte {exc.pos:,} ({exc}).",
            hint="The world-info file is truncated or damaged; export it from SillyTavern again.",
            offset=exc.pos,
        ) from exc
    if not looks_like_lorebook(obj):
        raise CorruptInput(
            f"{bundle.label(entry)} has an `entries` field that does not hold lore entries.",
            hint="Every entry needs `content` and `key` (SillyTavern) or `keys` (character book).",
        )
    return parse_lorebook(
        obj,
        source_id=hashlib.sha256(data).hexdigest(),
        fallback_name=PurePosixPath(entry.name).stem,
        warn=warn,
    )


def read(bundle: Bundle, progress: Progress | None = None, warn: Callable[[str], None] | None = None) -> Iterator[Item]:
    """Yield one `Lorebook` per world-info file in the bundle."""
    for entry in bundle.entries:
        if sniff_entry(entry):
            yield read_book(bundle, entry, progress, warn)
        elif progress and entry.basename.lower().endswith(".json"):
            progress(entry.size)
