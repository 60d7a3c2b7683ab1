"""Full-text search finds Chinese substrings (two-character words included) and English words."""

from __future__ import annotations

import orjson
import pytest

from hearth.ingest import import_path
from hearth.store.queries import search
from hearth.store.tokens import index_columns, match_all

BOTH_ENGINES = True  # Chinese search must find the same rows on SQLite FTS5 and on PostgreSQL tsvector


def _export(tmp_path, texts):
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    prev = "root"
    for i, (role, text) in enumerate(texts):
        nid = f"m{i}"
        mapping[nid] = {
            "id": nid,
            "parent": prev,
            "children": [],
            "message": {
                "id": nid,
                "author": {"role": role},
                "content": {"content_type": "text", "parts": [text]},
                "create_time": 1_700_000_000 + i,
                "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            },
        }
        mapping[prev]["children"].append(nid)
        prev = nid
    conv = {"id": "c1", "title": "测试 test", "create_time": 1_700_000_000, "mapping": mapping, "current_node": prev}
    path = tmp_path / "conversations.json"
    path.write_bytes(orjson.dumps([conv]))
    return path


TEXTS = [
    ("user", "我的猫咪小白今天生病了，我好担心"),
    ("assistant", "别担心，宝贝。小白会好起来的 🐱"),
    ("user", "我们下个月要搬到杭州了"),
    ("assistant", "杭州很美！西湖边散步一定很舒服"),
    ("user", "I started learning Python at my new job"),
    ("assistant", "That's wonderful — Python is a friendly language."),
    ("user", "白色的狗"),
]


@pytest.fixture
def searchable(store, tmp_path):
    import_path(store, _export(tmp_path, TEXTS))
    return store


@pytest.mark.parametrize(
    "query, expected",
    [
        ("小白", {0, 1}),
        ("杭州", {2, 3}),
        ("西湖", {3}),
        ("猫咪小白", {0}),
        ("白", {0, 1, 6}),
        ("python", {4, 5}),
        ("PYTHON job", {4}),
        ("learn", {4}),
        ("Ｐｙｔｈｏｎ", {4, 5}),
        ("杭州 西湖", {3}),
        ("北京", set()),
        ("白猫", set()),
    ],
)
def test_search_chinese_and_english(searchable, query, expected):
    hits = search(searchable, query)
    assert {TEXTS.index(next(t for t in TEXTS if _same(t[1], h.snippet))) for h in hits} == expected


def _same(text, snippet):
    core = snippet.strip("…")
    return core in text or text in core


def test_snippet_centres_on_match(searchable):
    hit = search(searchable, "西湖")[0]
    assert "西湖" in hit.snippet


def test_index_columns_bigrams_and_unigrams():
    body, uni = index_columns("我爱Python和杭州")
    assert body.split() == ["python", "我爱", "和杭", "杭州"]
    assert uni.split() == ["我", "爱", "和", "杭", "州"]


def test_empty_or_punctuation_query_matches_nothing(searchable):
    assert match_all("!!! ？？") is None
    assert search(searchable, "!!!") == []


@pytest.mark.parametrize("query", ['python" OR "x', "NEAR(python)", "*", "body:python", '"', "uni : 白", "AND"])
def test_query_with_fts_syntax_is_taken_literally(searchable, query):
    """Operators typed by a person are words to find, never FTS5 syntax that errors."""
    hits = search(searchable, query)
    assert isinstance(hits, list)
