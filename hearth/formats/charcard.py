"""Character cards: V1 (TavernAI), V2 (`chara_card_v2`) and V3 (`chara_card_v3`) as JSON, as PNG
text chunks (`chara`, `ccv3`) and as CHARX zips (`card.json` plus `embeded://` assets).

A card is a person's companion in its most portable form, so nothing in it may be lost:
`CompanionCard.raw` keeps every decoded source object, `card` keeps the `data` object in V3 shape
with every unknown field where it was, and each lore entry keeps its source object.

Mapping to V3 (the superset): V2 `data` already is V3 bar `group_only_greetings`; a V1 card is flat,
and its SillyTavern extras move where SillyTavern's own V1→V2 upgrade puts them (`creatorcomment` →
`creator_notes`; `talkativeness`, `fav`, `world` → `extensions`; `depth_prompt_*` →
`extensions.depth_prompt`); other V1 keys stay in `data` untouched. Fields the V3 interface marks
required are filled with empty values when absent: silently when the field is newer than the card's
own spec (expected), through `warn` when the card's own spec required it; type repairs and other
fallbacks are reported the same way. `character_book` leaves `card` for `CompanionCard.lorebook`, and
the writers rebuild it from there, so lore edited in hearth is what gets exported.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

import orjson

from hearth.errors import CorruptInput, UnsupportedInput
from hearth.formats import png
from hearth.formats.bundle import Bundle, Progress, json_int
from hearth.formats.png import PngError, TextChunk
from hearth.records import AttachmentFile, CompanionCard, Item, Lorebook, LoreEntry

NAME = "charcard"
V1, V2, V3 = "chara_card_v1", "chara_card_v2", "chara_card_v3"
CARD_CHUNKS = ("ccv3", "chara")
"""Keywords of the chunks that hold a card, in order of preference (the V3 spec: prefer ccv3)."""
V1_FIELDS = ("name", "description", "personality", "scenario", "first_mes", "mes_example")
V2_FIELDS = V1_FIELDS + tuple(
    "creator_notes system_prompt post_history_instructions alternate_greetings tags creator character_version "
    "extensions".split()
)
V3_REQUIRED = (*V2_FIELDS, "group_only_greetings")
V3_ONLY = tuple(
    "assets nickname creator_notes_multilingual source group_only_greetings creation_date modification_date".split()
)
_LISTS = {"alternate_greetings", "tags", "group_only_greetings"}
_OWN_REQUIRED = {V1: V1_FIELDS, V2: V2_FIELDS, V3: V3_REQUIRED}
_V1_MOVES = {"creatorcomment": ("creator_notes",), **{k: ("extensions", k) for k in ("talkativeness", "fav", "world")}}
_V1_MOVES |= {f"depth_prompt_{k}": ("extensions", "depth_prompt", k) for k in ("prompt", "depth", "role")}
"""SillyTavern's V1 extras and where its V1→V2 upgrade puts them."""
V3_STASH = "chara_card_v3"
"""Key under a V2 card's `extensions` where `card_to_v2` keeps the V3-only fields (read back here)."""
BACKFILL_NOTE = (
    "This character card is Character Card V3, but it is loaded as a Character Card V2. "
    "Please use a Character Card V3 compatible application to use this character card properly."
)
"""The warning the V3 spec asks a V2 backfill to carry in `creator_notes`; trimmed again on import."""
_ENTRY_ATTRS = tuple(
    "keys content extensions enabled insertion_order use_regex secondary_keys name comment constant selective "
    "priority position case_sensitive entry_id".split()
)
"""LoreEntry attributes written back into an entry (`entry_id` as `id`); the first six are required."""
_ENTRY_REQUIRED = set(_ENTRY_ATTRS[:6])
_JSON_SNIFF_LIMIT = 32 << 20
_BOM = b"\xef\xbb\xbf"
_HINT = "The card is damaged: download it again, or import its .json file."
Warn = Callable[[str], None]


def classify(obj: Any, strict: bool = False) -> tuple[str, dict[str, Any]] | None:
    """(spec, data object) of a decoded card, or None when it is not one.

    `strict` (sniffing) takes only a declared V2/V3 card or the V1 field set; otherwise a card found
    in a PNG chunk or a card.json is read however it is shaped, as long as it names someone.
    """
    if not isinstance(obj, dict):
        return None
    spec, data = obj.get("spec"), obj.get("data")
    if spec in (V2, V3) and isinstance(data, dict):
        return spec, data
    if strict:
        has = {k for k in V1_FIELDS if isinstance(obj.get(k), str)}
        v1 = {"name", "first_mes"} <= has and bool(has & {"description", "personality"})
        return (V1, obj) if v1 and spec in (None, V1) else None
    if isinstance(data, dict) and isinstance(data.get("name"), str):
        return (V3 if spec == V3 else V2), data
    return (V1, obj) if isinstance(obj.get("name"), str) else None


def sniff(bundle: Bundle) -> bool:
    """A PNG with a card chunk (its image data is skipped, not read), a JSON card, or a CHARX zip."""
    if bundle.kind == "zip":
        return any(e.name == "card.json" for e in bundle.entries) or bundle.path.suffix.lower() == ".charx"
    if bundle.kind != "file":
        return False
    entry = bundle.entries[0]
    head = entry.head(4096)
    try:
        if png.is_png(head):
            with open(bundle.path, "rb") as stream:
                return any(k.lower() in CARD_CHUNKS for k in png.text_keywords(stream))
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") or entry.size > _JSON_SNIFF_LIMIT:
            return False
        return classify(orjson.loads(entry.read_bytes().removeprefix(_BOM)), strict=True) is not None
    except (orjson.JSONDecodeError, OSError):
        return False


def total_bytes(bundle: Bundle) -> int:
    return sum(e.size for e in bundle.entries)


# ---------------------------------------------------------------- normalising


def canonical_json(obj: Any) -> bytes:
    """Sorted, compact UTF-8 JSON, so the same card always hashes to the same id."""
    return json.dumps(obj, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def _put(card: dict[str, Any], path: tuple[str, ...], value: Any) -> bool:
    """Set a nested key unless something is already there (then the V1 key stays where it was)."""
    for key in path[:-1]:
        if key in card and not isinstance(card[key], dict):
            return False
        card = card.setdefault(key, {})
    if path[-1] in card:
        return False
    card[path[-1]] = value
    return True


def _fix(key: str, value: Any) -> Any:
    """The value in the shape V3 gives the field: an object, a list, or a string."""
    if key == "extensions":
        return value if isinstance(value, dict) else {}
    if key in _LISTS:
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()] if key == "tags" else [value] if value else []
        return value if isinstance(value, list) else []
    return value if isinstance(value, (str, dict, list)) else "" if value is None else str(value)


def _spec_number(value: Any) -> float:
    """A card's spec_version as a number, 0 when it is not one (str.isdigit accepts '²', float does not)."""
    try:
        return float(str(value))
    except ValueError:
        return 0.0


def normalise(spec: str, root: dict[str, Any], data: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The `data` object in V3 shape (a deep copy), and notes on whatever was not as its spec says."""
    card, notes = copy.deepcopy(data), []
    if spec == V1:
        for key, path in _V1_MOVES.items():
            if key in card and _put(card, path, card[key]):
                del card[key]
    for key in V1_FIELDS if spec != V1 else ():
        if key not in card and isinstance(root.get(key), str):
            card[key] = root[key]
            notes.append(f"{key} taken from the card's top level")
    if spec == V3 and _spec_number(root.get("spec_version")) > 3.0:
        notes.append(f"written for card spec {root['spec_version']}, newer than 3.0; every field is kept")
    ext = card.get("extensions")
    if spec == V2 and isinstance(ext, dict) and isinstance(ext.get(V3_STASH), dict):
        for key, value in ext.pop(V3_STASH).items():
            card.setdefault(key, value)
    if isinstance(card.get("creator_notes"), str) and card["creator_notes"].startswith(BACKFILL_NOTE):
        card["creator_notes"] = card["creator_notes"][len(BACKFILL_NOTE) :].lstrip("\n")
    if "system_prompt" not in card and isinstance(card.get("system_prompts"), str):
        card["system_prompt"] = card["system_prompts"]
        notes.append("system_prompt taken from system_prompts (a misspelling, kept as well)")
    for key in V3_REQUIRED:
        fixed = _fix(key, card.get(key))
        if key in card and fixed is card[key]:
            continue
        if key in _OWN_REQUIRED[spec]:
            notes.append(f"{key} {'repaired' if key in card else 'missing'}, set to {fixed!r}"[:100])
        card[key] = fixed
    return card, notes


# ---------------------------------------------------------------- lorebook


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [k.strip() for k in value.split(",") if k.strip()]
    return [str(k) for k in value if k is not None] if isinstance(value, list) else []


def _int(value: Any) -> int | None:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _of(value: Any, kind: type, default: Any = None) -> Any:
    return value if isinstance(value, kind) else default


def parse_entry(raw: dict[str, Any]) -> LoreEntry:
    """One `character_book` entry; the untouched source object stays in `raw`."""
    ident = raw.get("id") if raw.get("id") is not None else raw.get("entry_id")
    position = raw.get("position")
    return LoreEntry(
        keys=_strings(raw.get("keys")),
        content=_of(raw.get("content"), str, ""),
        secondary_keys=_strings(raw.get("secondary_keys")),
        name=_of(raw.get("name"), str),
        comment=_of(raw.get("comment"), str),
        enabled=_of(raw.get("enabled"), bool, True),
        constant=_of(raw.get("constant"), bool, False),
        selective=_of(raw.get("selective"), bool, False),
        insertion_order=_int(raw.get("insertion_order")) or 0,
        priority=_int(raw.get("priority")),
        position=str(position) if isinstance(position, str) or _int(position) is not None else None,
        use_regex=_of(raw.get("use_regex"), bool, False),
        case_sensitive=_of(raw.get("case_sensitive"), bool),
        entry_id=None if ident is None else str(ident),
        extensions=copy.deepcopy(_of(raw.get("extensions"), dict, {})),
        raw=raw,
    )


def parse_lorebook(book: dict[str, Any], source_id: str, companion: str, notes: list[str]) -> Lorebook:
    """A `character_book`: entries as LoreEntry, the book's other fields as settings."""
    entries = book.get("entries")
    if isinstance(entries, dict):
        entries = list(entries.values())
        notes.append("character_book.entries was an object; read its values in order")
    elif not isinstance(entries, list):
        entries = []
        notes += ["character_book.entries is not a list; no entries read"] if "entries" in book else []
    if skipped := sum(not isinstance(e, dict) for e in entries):
        notes.append(f"{skipped} character_book entries are not objects and were skipped")
    name, rest = _of(book.get("name"), str), {k: v for k, v in book.items() if k != "entries"}
    return Lorebook(
        source_format=NAME,
        source_id=f"{source_id}:book",
        name=name,
        companion=companion,
        entries=[parse_entry(e) for e in entries if isinstance(e, dict)],
        settings=copy.deepcopy({k: v for k, v in rest.items() if k != "name" or name is None}),
        raw=rest,
    )


def entry_to_json(entry: LoreEntry) -> dict[str, Any]:
    """The entry's source object with every named field that changed overlaid, plus the fields V3
    requires; a field the source never had and nobody set is not invented."""
    out, before = copy.deepcopy(entry.raw), parse_entry(entry.raw)
    for attr in _ENTRY_ATTRS:
        value = getattr(entry, attr)
        key = attr if attr != "entry_id" else "entry_id" if "id" not in out and "entry_id" in out else "id"
        if getattr(before, attr) == value and (key in out or attr not in _ENTRY_REQUIRED):
            continue
        if value is None:
            out.pop(key, None)
        else:
            out[key] = int(value) if key == "id" and _int(value) is not None else copy.deepcopy(value)
    return out


def lorebook_to_json(book: Lorebook) -> dict[str, Any]:
    """The `character_book` object, in the source's key order, entries last."""
    out: dict[str, Any] = {} if book.name is None else {"name": book.name}
    out.update(copy.deepcopy(book.settings))
    out.setdefault("extensions", {})
    out["entries"] = [entry_to_json(e) for e in book.entries]
    return {**{k: out[k] for k in book.raw if k in out}, **out}


# ---------------------------------------------------------------- reading


def _build(
    label: str, stem: str, hit: tuple[str, dict], picked: dict, raw: dict, notes: list[str], warn: Warn, **extra: Any
) -> CompanionCard:
    """The record for one card: data normalised, lore split out, id from the normalised card.

    The id hashes `card_to_v3()`, not the source bytes, so a card hearth exported and a person
    imports again is recognised as the same companion.
    """
    try:
        return _build_card(label, stem, hit, picked, raw, notes, warn, **extra)
    except RecursionError as exc:  # copying or hashing JSON nested hundreds of levels deep
        raise CorruptInput(f"{label}: the card's JSON is nested too deeply to read.", hint=_HINT) from exc


def _build_card(
    label: str, stem: str, hit: tuple[str, dict], picked: dict, raw: dict, notes: list[str], warn: Warn, **extra: Any
) -> CompanionCard:
    spec, data = hit
    source_id = "pending"
    card, more = normalise(spec, picked, data)
    notes += more
    name = card["name"].strip() if isinstance(card.get("name"), str) else ""
    if not name:
        name = card["name"] = stem
        notes.append(f"the card has no name; called it {stem!r}")
    book, lorebook = card.pop("character_book", None), None
    if isinstance(book, dict):
        lorebook = parse_lorebook(book, source_id, name, notes)
    elif book is not None:
        card["character_book"] = book
        notes.append("character_book is not an object; kept as it was, no lore read")
    if notes:
        warn(f"{label}: " + "; ".join(notes) + ".")
    result = CompanionCard(NAME, source_id, name, spec, card, raw, lorebook=lorebook, **extra)
    result.source_id = hashlib.sha256(canonical_json(card_to_v3(result))).hexdigest()
    if lorebook is not None:
        lorebook.source_id = f"{result.source_id}:book"
    return result


def decode_chunk(text: TextChunk, label: str) -> Any:
    """The JSON in a card chunk: base64 of UTF-8 JSON (or, from a few tools, the JSON itself)."""
    where = f"{label}: the `{text.keyword}` {text.chunk_type} chunk"
    body = text.text.strip()
    if body.startswith("{"):
        payload = body.encode("utf-8" if text.chunk_type == "iTXt" else "latin-1")
    else:
        compact = "".join(body.split())
        try:
            payload = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise CorruptInput(f"{where} is not valid base64 ({exc}).", hint=_HINT) from exc
    payload = payload.removeprefix(_BOM)
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        try:  # the stdlib takes what orjson refuses (lone surrogates, NaN)
            return json.loads(payload.decode("utf-8"), parse_int=json_int)
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise CorruptInput(f"{where} does not hold valid JSON ({exc}).", hint=_HINT) from exc


def _from_png(label: str, stem: str, data: bytes, warn: Warn) -> CompanionCard:
    texts, damage = png.read_texts(data)
    if not any(t.keyword.lower() in CARD_CHUNKS for t in texts):
        if damage:
            raise CorruptInput(f"{label} is a damaged PNG: {damage}.", hint=_HINT) from damage
        raise UnsupportedInput(
            f"{label} is a PNG image without a character card in it.",
            hint="Download the card again from where you found it, or import its .json file.",
        )
    raw: dict[str, Any] = {}
    other: list[dict[str, Any]] = []
    errors: list[str] = []
    for text in texts:  # the first good chunk of each card keyword is the card; the rest is kept aside
        key, error = text.keyword.lower(), text.error
        if key in CARD_CHUNKS and key not in raw:
            try:
                if error:
                    where = f"{label}: the `{text.keyword}` {text.chunk_type} chunk"
                    raise CorruptInput(f"{where} cannot be decoded ({error}).", hint=_HINT)
                raw[key] = decode_chunk(text, label)
                continue
            except CorruptInput as exc:
                error = exc.message
                errors.append(error)
        other.append({"chunk": text.chunk_type, "keyword": text.keyword, "text": text.text})
        other[-1].update({"error": error} if error else {})
    if other:
        raw["png_text"] = other
    notes = [f"the PNG is damaged after its card chunks ({damage})"] if damage else []
    for key in CARD_CHUNKS:
        if hit := classify(raw.get(key)):
            if key == "chara" and (errors or "ccv3" in raw):
                why = next((e for e in errors if "`ccv3`" in e), "the `ccv3` chunk is not a character card")
                notes.append(f"read the `chara` chunk because {why.rstrip('.')}")
            return _build(label, stem, hit, raw[key], raw, notes, warn, avatar=data)
    if errors:
        raise CorruptInput(errors[-1], hint=_HINT)
    raise CorruptInput(f"{label}: the card chunk holds JSON that is not a character card.", hint=_HINT)


def _load_json(label: str, data: bytes) -> Any:
    try:
        return orjson.loads(data.removeprefix(_BOM))
    except orjson.JSONDecodeError as exc:
        raise CorruptInput(
            f"{label} is not valid JSON near byte {exc.pos:,} ({exc}).", hint=_HINT, offset=exc.pos
        ) from exc


def _from_charx(bundle: Bundle, progress: Progress | None, warn: Warn) -> CompanionCard:
    card_entry = next((e for e in bundle.entries if e.name == "card.json"), None)
    if card_entry is None:
        raise CorruptInput(f"{bundle.path} is a CHARX file without a card.json at its root.", hint=_HINT)
    label = bundle.label(card_entry)
    obj = _load_json(label, card_entry.read_bytes(progress))
    if (hit := classify(obj)) is None:
        raise CorruptInput(f"{label} is not a character card.", hint=_HINT)
    names: dict[str, str] = {}
    icons: list[tuple[bool, str]] = []
    for asset in [a for a in _of(hit[1].get("assets"), list, []) if isinstance(a, dict)]:
        uri, ext, title = asset.get("uri"), asset.get("ext"), asset.get("name")
        if isinstance(uri, str) and uri.startswith("embeded://"):
            path = uri[len("embeded://") :]
            names.setdefault(path, f"{title}.{ext}" if title and ext else PurePosixPath(path).name)
            if asset.get("type") == "icon":
                icons.append((title != "main", path))  # the main icon sorts first
    assets = [
        AttachmentFile(NAME, e.name, f"embeded://{e.name}", e.read_bytes(progress), names.get(e.name, e.basename))
        for e in bundle.entries
        if e is not card_entry
    ]
    files = {a.path: a.data for a in assets}
    avatar = next((files[p] for _, p in sorted(icons, key=lambda i: i[0]) if p in files), None)
    raw = {"card.json": obj, "files": [e.name for e in bundle.entries]}
    stem = PurePosixPath(bundle.path.name).stem
    return _build(label, stem, hit, obj, raw, [], warn, avatar=avatar, assets=assets)


def read(bundle: Bundle, progress: Progress | None = None, warn: Warn | None = None) -> Iterator[Item]:
    """Yield the one companion card the bundle holds (its lorebook and assets ride inside it)."""
    warn = warn or (lambda message: None)
    if bundle.kind != "file":
        yield _from_charx(bundle, progress, warn)
        return
    entry = bundle.entries[0]
    label, stem = bundle.label(entry), PurePosixPath(entry.name).stem
    data = entry.read_bytes(progress)
    if png.is_png(data):
        yield _from_png(label, stem, data, warn)
        return
    obj = _load_json(label, data)
    if (hit := classify(obj)) is None:
        raise UnsupportedInput(
            f"{label} is JSON but not a character card (it has no name and no card spec).",
            hint="Import a Character Card V1/V2/V3 .json, .png or .charx file.",
        )
    yield _build(label, stem, hit, obj, obj, [], warn)


# ---------------------------------------------------------------- writing


def card_to_v3(card: CompanionCard) -> dict[str, Any]:
    """The full Character Card V3 object; its `character_book` is rebuilt from `card.lorebook`."""
    data = copy.deepcopy(card.card)
    data["name"] = card.name
    for key in V3_REQUIRED:
        data[key] = _fix(key, data.get(key))
    if card.lorebook is not None:
        data["character_book"] = lorebook_to_json(card.lorebook)
    return {"spec": V3, "spec_version": "3.0", "data": data}


def card_to_v2(card: CompanionCard) -> dict[str, Any]:
    """A V2 object for the `chara` chunk, for readers that know only V2.

    V3-only fields move to `extensions.chara_card_v3` (V2 editors must keep unknown extensions, and
    hearth reads them back), an entry's `use_regex` moves into its extensions when set, and when any
    of that happened `creator_notes` carry the backfill warning the V3 spec asks for. Decorators stay
    in the lore text: removing them would lose them for good.
    """
    data = card_to_v3(card)["data"]
    moved = {k: data.pop(k) for k in V3_ONLY if k in data}
    if moved.get("group_only_greetings") == []:  # the V3 default: nothing is lost by leaving it out
        del moved["group_only_greetings"]
    if moved:
        data["extensions"] = {**data["extensions"], V3_STASH: moved}
    book, regex = data.get("character_book"), False
    for entry in book.get("entries", []) if isinstance(book, dict) else []:
        if isinstance(entry, dict) and entry.pop("use_regex", None) is True:
            entry["extensions"] = {**_of(entry.get("extensions"), dict, {}), "use_regex": True}
            regex = True
    if moved or regex:  # only when a V2 reader really misses something
        notes = data.get("creator_notes") or ""
        data["creator_notes"] = BACKFILL_NOTE + (f"\n\n{notes}" if notes else "")
    return {"spec": V2, "spec_version": "2.0", "data": data}


def _dumps(obj: Any, pretty: bool = False) -> bytes:
    try:
        return orjson.dumps(obj, option=orjson.OPT_INDENT_2 if pretty else 0)
    except TypeError:  # lone surrogates or huge integers: the stdlib escapes what orjson refuses
        return json.dumps(obj, indent=2 if pretty else None, separators=None if pretty else (",", ":")).encode()


def write_card_json(card: CompanionCard) -> bytes:
    """The card as a V3 JSON file (UTF-8, indented so a person can read it)."""
    return _dumps(card_to_v3(card), pretty=True) + b"\n"


def write_card_png(card: CompanionCard, image: bytes | None = None) -> bytes:
    """`image` (else the card's own PNG, else a placeholder) with fresh `chara` (V2) and `ccv3` (V3)
    chunks before IEND; every old card chunk is removed, so no stale copy can win."""
    if image is None:
        image = card.avatar if card.avatar and png.is_png(card.avatar) else png.placeholder_png(card.name)
    new = [
        png.text_chunk(key, base64.b64encode(_dumps(obj)).decode("ascii"))
        for key, obj in (("chara", card_to_v2(card)), ("ccv3", card_to_v3(card)))
    ]
    try:
        return png.replace_texts(image, CARD_CHUNKS, new)
    except PngError as exc:
        raise UnsupportedInput(
            f"The picture for {card.name!r} is not a usable PNG ({exc}).", hint="Convert the picture to PNG first."
        ) from exc
