"""SillyTavern world info and standalone character books, checked against an independent json.load."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.errors import CorruptInput
from hearth.formats import sillytavern, worldinfo
from hearth.formats.bundle import open_bundle
from hearth.records import Lorebook

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/sillytavern"
ELDORIA = FIXTURES / "st_default_Eldoria_worldinfo.json"
SONG = FIXTURES / "glxiang369_song-county_worldinfo.json"


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"fixture {path.name} is not available")
    return path


def read_books(path: Path) -> list[Lorebook]:
    with open_bundle(path) as bundle:
        assert worldinfo.sniff(bundle)
        assert not sillytavern.sniff(bundle)
        books = list(worldinfo.read(bundle, None, None))
    assert all(isinstance(b, Lorebook) for b in books)
    return books


def test_eldoria():
    path = need(ELDORIA)
    obj = json.loads(path.read_text(encoding="utf-8"))
    [book] = read_books(path)
    assert book.source_format == "worldinfo"
    assert book.source_id == hashlib.sha256(path.read_bytes()).hexdigest()
    assert book.name == path.stem and book.companion is None
    assert book.raw == obj and book.settings == {}
    expected = sorted(obj["entries"].values(), key=lambda e: e["uid"])
    assert len(book.entries) == len(expected) == 4
    for entry, src in zip(book.entries, expected, strict=True):
        assert entry.keys == src["key"] and entry.secondary_keys == src["keysecondary"]
        assert entry.content == src["content"]
        assert entry.insertion_order == src["order"]
        assert entry.position == str(src["position"])
        assert entry.enabled is (not src["disable"])
        assert entry.constant is src["constant"] and entry.selective is src["selective"]
        assert entry.entry_id == str(src["uid"])
        assert entry.comment is None and entry.name is None  # "" comments are no name
        assert entry.raw == src and entry.extensions == {}
    assert book.entries[0].keys == ["eldoria", "wood", "forest", "magical forest"]


def test_song_county_camel_case_and_original_data():
    path = need(SONG)
    obj = json.loads(path.read_text(encoding="utf-8"))
    [book] = read_books(path)
    assert book.name == obj["originalData"]["name"] == "宋"
    assert book.raw["originalData"] == obj["originalData"]  # the card book it came from is kept
    assert book.settings == {"originalData": {"name": "宋"}}
    expected = sorted(obj["entries"].values(), key=lambda e: e["uid"])
    assert [e.keys for e in book.entries] == [src["key"] for src in expected]
    assert [e.keys for e in book.entries] == [["林月"], ["月璃"], [], ["阿七"], ["战斗力"]]
    assert [e.insertion_order for e in book.entries] == [src["order"] for src in expected] == [100, 99, 100, 98, 100]
    assert [e.constant for e in book.entries] == [src["constant"] for src in expected]
    first, src = book.entries[0], expected[0]
    assert first.comment == first.name == "林月"
    assert first.content == src["content"] and first.content.startswith("- 名称：林月")
    assert first.case_sensitive is None and first.position == "4"
    for camel in ("matchWholeWords", "automationId", "excludeRecursion", "preventRecursion", "delayUntilRecursion",
                  "groupOverride", "useGroupScoring", "displayIndex", "scanDepth", "addMemo", "sticky", "cooldown",
                  "delay", "role", "vectorized"):
        assert first.extensions[camel] == src[camel]
    assert not {"key", "content", "uid", "order", "disable"} & first.extensions.keys()
    assert first.extensions["extensions"] == src["extensions"]  # the nested copy ST keeps, untouched


def test_entries_in_uid_order():
    obj = {"entries": {
        "10": {"uid": 10, "key": ["b"], "content": "B"},
        "2": {"uid": 2, "key": "x, y", "content": "A", "disable": True, "caseSensitive": True},
        "odd": {"key": ["/ra+in/i"], "content": "C"},
    }}
    book = worldinfo.parse_lorebook(obj, source_id="s", fallback_name="f")
    assert [e.content for e in book.entries] == ["A", "B", "C"]
    assert book.entries[0].keys == ["x", "y"] and not book.entries[0].enabled
    assert book.entries[0].case_sensitive is True
    assert book.entries[2].use_regex and not book.entries[0].use_regex
    assert book.name == "f"


def test_card_style_character_book(tmp_path):
    obj = {
        "name": "Town lore",
        "scan_depth": 4,
        "extensions": {},
        "entries": [
            {"id": 7, "keys": ["市场"], "secondary_keys": ["早上"], "content": "集市在清晨开门。", "comment": "market",
             "name": "Market", "enabled": False, "insertion_order": 5, "priority": 3, "position": "before_char",
             "use_regex": True, "case_sensitive": False, "constant": True, "selective": True,
             "extensions": {"depth": 2}, "key_logic": "AND_ANY"},
        ],
    }
    path = tmp_path / "town.json"
    path.write_text(json.dumps(obj, ensure_ascii=False), encoding="utf-8")
    [book] = read_books(path)
    assert book.name == "Town lore" and book.settings == {"name": "Town lore", "scan_depth": 4, "extensions": {}}
    [e] = book.entries
    assert (e.keys, e.secondary_keys, e.content) == (["市场"], ["早上"], "集市在清晨开门。")
    assert (e.name, e.comment, e.enabled, e.insertion_order, e.priority) == ("Market", "market", False, 5, 3)
    assert (e.position, e.use_regex, e.case_sensitive, e.constant, e.selective) == ("before_char", True, False,
                                                                                    True, True)
    assert e.entry_id == "7" and e.extensions == {"depth": 2, "key_logic": "AND_ANY"}
    assert e.raw == obj["entries"][0]


@pytest.mark.parametrize("obj", [
    {"spec": "chara_card_v2", "data": {"name": "x", "character_book": {"entries": []}}},
    {"entries": []},
    {"entries": {"0": {"title": "no content"}}},
    [{"mapping": {}}],
    {"entries": "nope"},
])
def test_sniff_rejects(tmp_path, obj):
    path = tmp_path / "thing.json"
    path.write_text(json.dumps(obj), encoding="utf-8")
    with open_bundle(path) as bundle:
        assert not worldinfo.sniff(bundle)
    assert not worldinfo.looks_like_lorebook(obj)


def test_empty_world_is_a_world(tmp_path):
    path = tmp_path / "Empty.json"
    path.write_text('{"entries": {}}', encoding="utf-8")
    [book] = read_books(path)
    assert book.entries == [] and book.name == "Empty"


def test_folder_of_worlds(tmp_path):
    for name, key in (("a.json", "alpha"), ("b.json", "beta")):
        (tmp_path / name).write_text(json.dumps({"entries": {"0": {"uid": 0, "key": [key], "content": key}}}))
    (tmp_path / "settings.json").write_text('{"theme": "dark"}')
    books = read_books(tmp_path)
    assert [b.entries[0].keys for b in books] == [["alpha"], ["beta"]]
    with open_bundle(tmp_path) as bundle:
        assert worldinfo.total_bytes(bundle) == sum(p.stat().st_size for p in tmp_path.glob("*.json"))


def test_truncated_world_is_a_clear_error(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text('{"entries": {"0": {"uid": 0, "key": ["a"], "content": "A"}, "1": {"uid": 1, "key": ["b"], "con',
                    encoding="utf-8")
    with open_bundle(path) as bundle:
        assert worldinfo.sniff(bundle)
        with pytest.raises(CorruptInput, match="not valid JSON"):
            list(worldinfo.read(bundle, None, None))


_value = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6), st.text(max_size=6),
                   st.lists(st.text(max_size=4), max_size=3))
_entry = st.dictionaries(st.sampled_from(["uid", "key", "keys", "keysecondary", "secondary_keys", "content", "order",
                                          "insertion_order", "disable", "enabled", "position", "caseSensitive",
                                          "priority", "extensions", "comment", "id"]), _value)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.dictionaries(st.text(max_size=3), _entry, max_size=4), st.lists(_entry, max_size=4)))
def test_any_entries_parse(entries):
    book = worldinfo.parse_lorebook({"entries": entries}, source_id="s", fallback_name="f")
    assert len(book.entries) == len(entries)
    for e in book.entries:
        assert isinstance(e.keys, list) and all(isinstance(k, str) for k in e.keys)
        assert isinstance(e.insertion_order, int) and isinstance(e.content, str)
