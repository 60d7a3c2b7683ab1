"""Character cards: the real fixtures checked against an independent decode of their PNG chunks and
JSON (struct/zlib/base64/json only), synthetic V1 / CHARX / broken cards, and PNG and JSON round trips."""

from __future__ import annotations

import base64
import io
import json
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.errors import CorruptInput, HearthError, UnsupportedInput
from hearth.formats import charcard
from hearth.formats.bundle import open_bundle
from hearth.formats.png import Chunk, placeholder_png, text_keywords, write_png
from hearth.records import CompanionCard

CARDS = Path(__file__).resolve().parents[2] / "shared/fixtures/character-cards"
ST_V2 = CARDS / "st_default_Seraphina_v2_chara-only.png"
BOTH = CARDS / "amnesiavon_Seraphina_v2chara_v3ccv3.png"
ZH = CARDS / "lide4144_suming-zhiji_v3_zh_lorebook.png"
CHUB = CARDS / "cardarchitect_amanda_chub_v2.json"
JEM = CARDS / "cardarchitect_jem_voxta_v3_assets.json"
FIXTURES = [ST_V2, BOTH, ZH, CHUB, JEM]
REQUIRED_ENTRY_KEYS = {"keys", "content", "extensions", "enabled", "insertion_order", "use_regex"}


def needs(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} not present")


# ---------------------------------------------------------------- an independent decode


def png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """Every chunk, checking signature, lengths and CRCs on the way."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, out = 8, []
    while pos < len(data):
        length, ctype = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(ctype + body) == crc, ctype
        out.append((ctype, body))
        pos += 12 + length
    assert out[-1][0] == b"IEND"
    return out


def card_chunks(data: bytes) -> dict[str, list[dict]]:
    """keyword -> decoded JSON of every tEXt card chunk."""
    found: dict[str, list[dict]] = {}
    for ctype, body in png_chunks(data):
        if ctype == b"tEXt":
            key, _, text = body.partition(b"\x00")
            if key in (b"chara", b"ccv3"):
                found.setdefault(key.decode(), []).append(json.loads(base64.b64decode(text)))
    return found


def expected_source(path: Path) -> dict:
    """What the card's own spec says it is: ccv3 beats chara; a JSON file is itself."""
    if path.suffix == ".json":
        return json.loads(path.read_text(encoding="utf-8"))
    chunks = card_chunks(path.read_bytes())
    return (chunks.get("ccv3") or chunks["chara"])[0]


def read_card(path: Path, warnings: list[str] | None = None) -> CompanionCard:
    with open_bundle(path) as bundle:
        assert charcard.sniff(bundle)
        items = list(charcard.read(bundle, None, (warnings if warnings is not None else []).append))
    assert len(items) == 1
    return items[0]


def entry_fields(entry) -> dict:
    return {k: getattr(entry, k) for k in entry.__slots__ if k != "raw"}


# ---------------------------------------------------------------- the real fixtures


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_matches_independent_decode(path):
    needs(path)
    source = expected_source(path)
    card = read_card(path)
    assert card.source_format == "charcard"
    assert card.name == source["data"]["name"]
    assert card.spec == source["spec"]
    for key, value in source["data"].items():  # every data field kept, the book moved to the lorebook
        if key != "character_book":
            assert card.card[key] == value, key
    assert "character_book" not in card.card
    book = source["data"].get("character_book")
    if book is None:
        assert card.lorebook is None
    else:
        assert card.lorebook.name == book.get("name")
        assert card.lorebook.companion == card.name
        assert card.lorebook.source_id == f"{card.source_id}:book"
        assert [e.keys for e in card.lorebook.entries] == [e["keys"] for e in book["entries"]]
        assert [e.content for e in card.lorebook.entries] == [e["content"] for e in book["entries"]]
        assert [e.raw for e in card.lorebook.entries] == book["entries"]
        assert card.lorebook.settings == {k: v for k, v in book.items() if k not in ("name", "entries")}
    assert card.card["group_only_greetings"] == source["data"].get("group_only_greetings", [])


def test_v2_png_with_chara_only():
    needs(ST_V2)
    card = read_card(ST_V2)
    assert card.spec == "chara_card_v2" and card.name == "Seraphina"
    assert set(card.raw) == {"chara"}
    assert card.avatar == ST_V2.read_bytes()
    assert card.raw["chara"]["creatorcomment"].startswith("ST Default Bot")  # V1 duplicates stay in raw
    assert "chat" not in card.card and "creatorcomment" not in card.card
    assert card.card["extensions"] == {"talkativeness": "0.5", "fav": False, "world": "Eldoria"}
    assert len(card.lorebook.entries) == 4
    assert card.lorebook.entries[0].keys == ["eldoria", "wood", "forest", "magical forest"]
    assert card.lorebook.entries[0].entry_id == "0"


def test_png_with_both_chunks_prefers_ccv3():
    needs(BOTH)
    chunks = card_chunks(BOTH.read_bytes())
    card = read_card(BOTH)
    assert card.spec == "chara_card_v3"
    assert card.raw["ccv3"] == chunks["ccv3"][0] and card.raw["chara"] == chunks["chara"][0]
    first = card.lorebook.entries[0]
    assert first.use_regex is True and first.selective is True and first.insertion_order == 100
    assert first.extensions["display_index"] == 0
    assert card.card["extensions"]["depth_prompt"] == {"prompt": "", "depth": 4, "role": "system"}


def test_chinese_v3_card_with_lorebook():
    needs(ZH)
    warnings: list[str] = []
    card = read_card(ZH, warnings)
    source = card_chunks(ZH.read_bytes())["ccv3"][0]["data"]
    assert card.name == "宿命织机" and card.spec == "chara_card_v3"
    assert len(card.lorebook.entries) == 13
    assert card.lorebook.entries[0].comment == "C+C世界观测文风"
    assert card.lorebook.entries[0].content == source["character_book"]["entries"][0]["content"]
    assert "瑟希莉娅" in card.lorebook.entries[0].content
    assert all("ignore_budget" in e.extensions for e in card.lorebook.entries)
    assert card.card["system_prompts"] == "" and card.card["system_prompt"] == ""  # sic kept, real one added
    assert {"world", "regex_scripts", "tavern_helper", "depth_prompt"} <= set(card.card["extensions"])
    assert card.card["description"] == ""
    assert any("system_prompts" in w for w in warnings)
    assert "宿命织机" in charcard.write_card_json(card).decode("utf-8")  # not \u-escaped


def test_chub_fields_survive():
    needs(CHUB)
    card = read_card(CHUB)
    assert card.spec == "chara_card_v2"
    (entry,) = card.lorebook.entries
    assert entry.entry_id == "LK5KO3rASWuinT_KMecPc" and entry.case_sensitive is True and entry.priority == 5
    for key in ("key_logic", "whole_words_only", "sticky", "cooldown", "delay", "scan_persona"):
        assert key in entry.raw
    for key in ("_id", "approval_date", "lexicon", "gallery", "photoURL", "rating", "status", "visibility"):
        assert key in card.lorebook.settings
    written = json.loads(charcard.write_card_json(card))["data"]["character_book"]
    source = json.loads(CHUB.read_text(encoding="utf-8"))["data"]["character_book"]
    assert {k: v for k, v in written.items() if k != "entries"} == {k: v for k, v in source.items() if k != "entries"}
    assert written["entries"][0] == {**source["entries"][0], "use_regex": False}  # the one field V3 requires


def test_v3_assets_kept():
    needs(JEM)
    card = read_card(JEM)
    assert card.spec == "chara_card_v3" and card.lorebook is None and card.assets == []
    assets = json.loads(JEM.read_text(encoding="utf-8"))["data"]["assets"]
    assert card.card["assets"] == assets and len(assets) == 45
    assert all(a["uri"].startswith("/storage/") for a in card.card["assets"])
    assert charcard.card_to_v3(card)["data"]["assets"] == assets
    v2 = charcard.card_to_v2(card)["data"]
    assert "assets" not in v2 and v2["extensions"]["chara_card_v3"]["assets"] == assets
    assert v2["creator_notes"].startswith(charcard.BACKFILL_NOTE)


def test_same_card_same_id():
    needs(ZH)
    assert read_card(ZH).source_id == read_card(ZH).source_id != read_card(BOTH).source_id


# ---------------------------------------------------------------- round trips


def assert_round_trip(card, written: bytes, tmp_path: Path, suffix: str):
    path = tmp_path / f"round-trip{suffix}"
    path.write_bytes(written)
    again = read_card(path)
    assert charcard.card_to_v3(again) == charcard.card_to_v3(card)
    assert again.name == card.name
    before = card.lorebook.entries if card.lorebook else []
    after = again.lorebook.entries if again.lorebook else []
    assert [entry_fields(e) for e in after] == [entry_fields(e) for e in before]
    for old, new in zip(before, after, strict=True):
        assert {k: new.raw[k] for k in old.raw} == old.raw
        assert set(new.raw) - set(old.raw) <= REQUIRED_ENTRY_KEYS
    return again


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_round_trips(path, tmp_path):
    needs(path)
    card = read_card(path)
    png = charcard.write_card_png(card)
    again = assert_round_trip(card, png, tmp_path, ".png")
    assert charcard.write_card_png(again) == png  # export -> import -> export is byte-stable
    chunks = card_chunks(png)
    assert len(chunks["chara"]) == 1 and len(chunks["ccv3"]) == 1
    assert chunks["ccv3"][0] == charcard.card_to_v3(card)
    v2 = chunks["chara"][0]
    assert v2["spec"] == "chara_card_v2" and not set(charcard.V3_ONLY) & set(v2["data"])
    if path.suffix == ".png":  # the picture itself is untouched
        original = [c for c in png_chunks(path.read_bytes()) if c[0] != b"tEXt"]
        assert [c for c in png_chunks(png) if c[0] != b"tEXt"] == original
    else:
        assert png_chunks(png)[0][0] == b"IHDR"  # a placeholder picture
    js = charcard.write_card_json(card)
    again = assert_round_trip(card, js, tmp_path, ".json")
    assert charcard.write_card_json(again) == js


def test_png_written_into_another_image(tmp_path):
    needs(ZH)
    card = read_card(ZH)
    image = write_png(
        [*[Chunk(t, d) for t, d in png_chunks(placeholder_png("x", 8, 8))][:-1], Chunk(b"tEXt", b"ccv3\x00stale")]
        + [Chunk(b"tEXt", b"Software\x00paint"), Chunk(b"IEND", b"")]
    )
    png = charcard.write_card_png(card, image)
    texts = [d.partition(b"\x00")[0] for t, d in png_chunks(png) if t == b"tEXt"]
    assert texts == [b"Software", b"chara", b"ccv3"]
    assert_round_trip(card, png, tmp_path, ".png")


# ---------------------------------------------------------------- synthetic cards


def test_v1_json(tmp_path):
    v1 = {
        "name": "Aiko",
        "description": "A quiet librarian.",
        "personality": "shy",
        "scenario": "",
        "first_mes": "Oh, hello.",
        "mes_example": "",
        "creatorcomment": "my first card",
        "talkativeness": "0.6",
        "fav": True,
        "tags": "books, quiet",
        "avatar": "none",
        "chat": "Aiko - 2023-5-1",
    }
    path = tmp_path / "aiko.json"
    path.write_text(json.dumps(v1), encoding="utf-8")
    warnings: list[str] = []
    card = read_card(path, warnings)
    assert warnings == [] and card.spec == "chara_card_v1" and card.name == "Aiko"
    assert card.raw == v1
    assert card.card["creator_notes"] == "my first card" and "creatorcomment" not in card.card
    assert card.card["extensions"] == {"talkativeness": "0.6", "fav": True}
    assert card.card["tags"] == ["books", "quiet"]
    assert card.card["avatar"] == "none" and card.card["chat"] == "Aiko - 2023-5-1"  # unknown keys kept
    assert card.card["group_only_greetings"] == [] and card.card["system_prompt"] == ""
    assert card.lorebook is None
    assert_round_trip(card, charcard.write_card_png(card), tmp_path, ".png")


def make_charx(path: Path) -> bytes:
    icon = placeholder_png("Mika", 16, 16)
    card = {
        "spec": "chara_card_v3",
        "spec_version": "3.0",
        "data": {
            "name": "Mika",
            "description": "描述",
            "first_mes": "你好",
            "assets": [
                {"type": "icon", "uri": "embeded://assets/icon/main.png", "name": "main", "ext": "png"},
                {"type": "emotion", "uri": "embeded://assets/emotion/happy.webp", "name": "happy", "ext": "webp"},
            ],
            "character_book": {"entries": [{"keys": ["猫"], "content": "Mika has a cat.", "id": 3}]},
        },
    }
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("card.json", json.dumps(card, ensure_ascii=False))
        zf.writestr("assets/icon/main.png", icon)
        zf.writestr("assets/emotion/happy.webp", b"RIFF....WEBP")
    return icon


def test_charx(tmp_path):
    path = tmp_path / "mika.charx"
    icon = make_charx(path)
    warnings: list[str] = []
    card = read_card(path, warnings)
    assert card.name == "Mika" and card.spec == "chara_card_v3" and card.avatar == icon
    assert card.raw["files"] == ["card.json", "assets/icon/main.png", "assets/emotion/happy.webp"]
    assert card.raw["card.json"]["data"]["first_mes"] == "你好"
    by_id = {a.asset_id: a for a in card.assets}
    assert by_id["embeded://assets/icon/main.png"].data == icon
    assert by_id["embeded://assets/icon/main.png"].original_name == "main.png"
    assert by_id["embeded://assets/emotion/happy.webp"].data == b"RIFF....WEBP"
    assert card.lorebook.entries[0].keys == ["猫"] and card.lorebook.entries[0].entry_id == "3"
    assert any("personality missing" in w for w in warnings)  # an incomplete V3 card is reported
    png = charcard.write_card_png(card)
    assert [c for c in png_chunks(png) if c[0] == b"IDAT"] == [c for c in png_chunks(icon) if c[0] == b"IDAT"]
    assert_round_trip(card, png, tmp_path, ".png")


def card_png(*chunks: tuple[bytes, bytes]) -> bytes:
    base = [Chunk(t, d) for t, d in png_chunks(placeholder_png("t", 4, 4))]
    return write_png([*base[:-1], *(Chunk(t, d) for t, d in chunks), base[-1]])


def b64(obj) -> bytes:
    return base64.b64encode(json.dumps(obj, ensure_ascii=False).encode())


V2_CARD = {"spec": "chara_card_v2", "spec_version": "2.0", "data": {"name": "Old", "first_mes": "hi"}}
V3_CARD = {"spec": "chara_card_v3", "spec_version": "3.0", "data": {"name": "New", "first_mes": "hi"}}


def test_ccv3_wins_over_chara(tmp_path):
    path = tmp_path / "c.png"
    path.write_bytes(card_png((b"tEXt", b"chara\x00" + b64(V2_CARD)), (b"tEXt", b"ccv3\x00" + b64(V3_CARD))))
    card = read_card(path)
    assert card.name == "New" and card.raw["chara"] == V2_CARD and card.raw["ccv3"] == V3_CARD


def test_ztxt_and_itxt_chunks(tmp_path):
    path = tmp_path / "z.png"
    itxt = b"chara\x00\x01\x00\x00\x00" + zlib.compress(b64(V2_CARD))
    path.write_bytes(card_png((b"iTXt", itxt), (b"zTXt", b"ccv3\x00\x00" + zlib.compress(b64(V3_CARD)))))
    card = read_card(path)
    assert card.name == "New" and card.raw["chara"] == V2_CARD


def test_png_without_card(tmp_path):
    path = tmp_path / "photo.png"
    path.write_bytes(card_png((b"tEXt", b"Software\x00paint")))
    with open_bundle(path) as bundle:
        assert not charcard.sniff(bundle)
        with pytest.raises(UnsupportedInput, match="is a PNG image without a character card in it"):
            list(charcard.read(bundle))


@pytest.mark.parametrize(
    ("payload", "message"),
    [(b"!!!not*base64***", "`chara` tEXt chunk is not valid base64"), (b64("x")[:-4] + b"e30s", "not hold valid JSON")],
)
def test_broken_chunk(tmp_path, payload, message):
    path = tmp_path / "broken.png"
    path.write_bytes(card_png((b"tEXt", b"chara\x00" + payload)))
    with open_bundle(path) as bundle, pytest.raises(CorruptInput, match=message):
        list(charcard.read(bundle))


def test_broken_ccv3_falls_back_to_chara(tmp_path):
    path = tmp_path / "half.png"
    path.write_bytes(card_png((b"tEXt", b"chara\x00" + b64(V2_CARD)), (b"tEXt", b"ccv3\x00%%%")))
    warnings: list[str] = []
    card = read_card(path, warnings)
    assert card.name == "Old" and card.spec == "chara_card_v2" and "ccv3" not in card.raw
    assert any("`ccv3`" in w and "base64" in w for w in warnings)
    assert card.raw["png_text"][0]["keyword"] == "ccv3"


def test_undecodable_card_chunk_and_duplicates(tmp_path):
    path = tmp_path / "z.png"
    path.write_bytes(card_png((b"zTXt", b"ccv3\x00\x00not zlib")))
    with open_bundle(path) as bundle, pytest.raises(CorruptInput, match="`ccv3` zTXt chunk cannot be decoded"):
        list(charcard.read(bundle))
    path.write_bytes(card_png((b"tEXt", b"chara\x00@@@"), (b"tEXt", b"chara\x00" + b64(V2_CARD))))
    card = read_card(path)  # a later good copy of a broken chunk is still found
    assert card.name == "Old" and [t["text"] for t in card.raw["png_text"]] == ["@@@"]


def test_truncated_png(tmp_path):
    whole = card_png((b"tEXt", b"chara\x00" + b64(V2_CARD)))
    path = tmp_path / "cut.png"
    path.write_bytes(whole[:-6])  # IEND cut short: the card before it is still read, with a warning
    warnings: list[str] = []
    assert read_card(path, warnings).name == "Old" and "damaged" in warnings[0]
    path.write_bytes(whole[:40])
    with open_bundle(path) as bundle, pytest.raises(CorruptInput, match="damaged PNG"):
        list(charcard.read(bundle))


def test_sniff(tmp_path):
    cases = {
        "array.json": b"[1, 2]",
        "chat.jsonl": b'{"user_name": "me", "character_name": "Aiko"}\n{"mes": "hi"}\n',
        "other.json": b'{"name": "x", "mapping": {}}',
        "plain.png": placeholder_png("p", 2, 2),
        "notes.txt": b"hello",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        with open_bundle(tmp_path / name) as bundle:
            assert not charcard.sniff(bundle), name
    sample = Path(charcard.__file__).parents[1] / "samples" / "chatgpt-sample.zip"
    with open_bundle(sample) as bundle:
        assert not charcard.sniff(bundle)
    (tmp_path / "v2.json").write_text(json.dumps(V2_CARD))
    with open_bundle(tmp_path / "v2.json") as bundle:
        assert charcard.sniff(bundle)


class CountingBytes(io.BytesIO):
    read_total = 0

    def read(self, n=-1):
        data = super().read(n)
        self.read_total += len(data)
        return data


def test_sniff_skips_image_data():
    big = write_png(
        [Chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)), Chunk(b"IDAT", bytes(5 << 20))]
        + [Chunk(b"tEXt", b"ccv3\x00" + b64(V3_CARD)), Chunk(b"IEND", b"")]
    )
    stream = CountingBytes(big)
    assert text_keywords(stream) == ["ccv3"]
    assert stream.read_total < 200


def test_placeholder_png():
    png = placeholder_png("Seraphina")
    chunks = dict(png_chunks(png))
    width, height, depth, colour = struct.unpack(">IIBB", chunks[b"IHDR"][:10])
    assert (width, height, depth, colour) == (400, 600, 8, 2)
    assert len(zlib.decompress(chunks[b"IDAT"])) == 600 * (1 + 400 * 3)
    assert placeholder_png("Seraphina") == png != placeholder_png("宿命织机")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
entry_like = st.dictionaries(
    st.sampled_from(["keys", "content", "id", "entry_id", "enabled", "position", "priority", "extensions", "x"]),
    json_values,
)
card_like = st.fixed_dictionaries(
    {"name": st.text(min_size=1, max_size=8)},
    optional={
        "tags": json_values,
        "extensions": json_values,
        "alternate_greetings": json_values,
        "character_book": st.fixed_dictionaries({"entries": st.lists(entry_like, max_size=3)}) | json_values,
        "creator_notes": json_values,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=card_like, spec=st.sampled_from(["chara_card_v2", "chara_card_v3"]), garbage=st.binary(max_size=40))
def test_fuzzed_cards_read_or_fail_clearly(tmp_path, data, spec, garbage):
    path = tmp_path / "fuzz.png"
    for payload in (b64({"spec": spec, "data": data}), base64.b64encode(garbage), garbage.replace(b"\x00", b"")):
        path.write_bytes(card_png((b"tEXt", b"chara\x00" + payload)))
        try:
            card = read_card(path)
        except HearthError:
            continue
        png = charcard.write_card_png(card)
        path.write_bytes(png)
        again = read_card(path)
        assert charcard.card_to_v3(again) == charcard.card_to_v3(card)
        assert charcard.write_card_png(again) == png


@pytest.mark.parametrize("version", ["²", "3.5.1", "x", None, 3.5, "Ⅳ", "1e400"])
def test_odd_spec_version_is_read(version):
    """'²'.isdigit() is True but float('²') raises: such a spec_version crashed the reader (found by fuzzing)."""
    card, notes = charcard.normalise(charcard.V3, {"spec": charcard.V3, "spec_version": version}, {"name": "A"})
    assert card["name"] == "A"
    newer = any("newer than 3.0" in n for n in notes)
    assert newer == (version in (3.5, "1e400"))
