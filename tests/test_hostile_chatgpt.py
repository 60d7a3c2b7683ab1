"""Hostile and broken ChatGPT-shaped input: one clear error or a consistent store, never a crash."""

from __future__ import annotations

import zipfile

import orjson
import pytest
import sqlalchemy as sa

from hearth.errors import CorruptInput, HearthError
from hearth.formats.chatgpt import parse_conversation
from hearth.ingest import import_path
from hearth.store import schema
from hearth.store.queries import get_conversation, stats

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


def node(nid, parent, role="user", text="hi", children=None):
    return {
        "id": nid,
        "parent": parent,
        "children": children or [],
        "message": {"id": nid, "author": {"role": role}, "content": {"content_type": "text", "parts": [text]}},
    }


def test_cyclic_parents_are_cut_open():
    mapping = {"a": node("a", "c"), "b": node("b", "a"), "c": node("c", "b")}
    conv = parse_conversation({"id": "x", "mapping": mapping, "current_node": "c"}, 0)
    assert len(conv.messages) == 3
    roots = [m for m in conv.messages if m.parent_source_id is None]
    assert len(roots) == 1
    assert {m.source_id for m in conv.messages if m.visible} == {"a", "b", "c"}


def test_dangling_parent_and_missing_current_node():
    mapping = {"a": node("a", "ghost"), "b": node("b", "a", "assistant")}
    conv = parse_conversation({"id": "x", "mapping": mapping, "current_node": "nope"}, 0)
    by = {m.source_id: m for m in conv.messages}
    assert by["a"].parent_source_id == "ghost" and by["b"].parent_source_id == "a"
    assert by["a"].visible and by["b"].visible


def test_self_parent_and_garbage_nodes():
    mapping = {"a": node("a", "a"), "b": "not a node", "c": {"id": "c", "message": {"content": None}}}
    conv = parse_conversation({"mapping": mapping, "title": None}, 0)
    assert len(conv.messages) == 3


def test_dangling_and_cyclic_conversations_store_consistently(store, tmp_path):
    convs = [
        {"id": "cyc", "mapping": {"a": node("a", "c"), "b": node("b", "a"), "c": node("c", "b")}, "current_node": "c"},
        {"id": "dang", "mapping": {"a": node("a", "ghost")}, "current_node": "a"},
    ]
    path = tmp_path / "conversations.json"
    path.write_bytes(orjson.dumps(convs))
    import_path(store, path)
    with store.engine.connect() as conn:
        orphans = conn.execute(
            sa.text(
                "SELECT count(*) FROM messages WHERE parent_id IS NOT NULL "
                "AND parent_id NOT IN (SELECT id FROM messages)"
            )
        ).scalar_one()
        ids = conn.execute(sa.select(schema.conversations.c.id)).scalars().all()
    assert orphans == 0
    for cid in ids:
        _, messages = get_conversation(store, cid)
        assert len(messages) >= 1


def test_zip_bomb_is_refused(tmp_path):
    bomb = tmp_path / "export.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("conversations.json", "w", force_zip64=True) as f:
            f.write(b"[")
            chunk = b" " * (1 << 20)
            for _ in range(80):
                f.write(chunk)
            f.write(b"]")
    from hearth.formats import open_bundle

    with pytest.raises(CorruptInput, match="zip bomb"):
        open_bundle(bomb)


def test_path_traversal_names_are_only_names(store, tmp_path):
    z = tmp_path / "export.zip"
    conv = {"id": "c1", "mapping": {"a": node("a", None)}, "current_node": "a"}
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("conversations.json", orjson.dumps([conv]))
        zf.writestr("../../evil.txt", b"owned")
        zf.writestr("/abs/file-abc123-x.png", b"\x89PNG")
    import_path(store, z)
    assert not (tmp_path.parent / "evil.txt").exists()
    assert stats(store)["files"] == 2


def test_utf16_file_gets_a_clear_error(store, tmp_path):
    conv = [{"id": "c1", "mapping": {"a": node("a", None, text="你好")}, "current_node": "a"}]
    path = tmp_path / "conversations.json"
    path.write_bytes(orjson.dumps(conv).decode().encode("utf-16"))
    with pytest.raises(HearthError):
        import_path(store, path)


def test_huge_single_message(store, tmp_path):
    text = "长" * (30 << 20)  # 90 MB of UTF-8 in one message
    conv = [{"id": "big", "mapping": {"a": node("a", None, text=text)}, "current_node": "a"}]
    path = tmp_path / "conversations.json"
    path.write_bytes(orjson.dumps(conv))
    del text
    summary = import_path(store, path)
    assert summary.result.messages_added == 1


def test_lone_surrogates_are_stored_as_replacement_characters(store):
    """A reader may hand the store half an emoji pair; the batch must not fail on it."""
    from hearth.records import Conversation, Message
    from hearth.store.queries import search

    bad = "half \ud83d emoji 小白"
    conv = Conversation(
        "chatgpt",
        "s",
        title="bad \udc00 title",
        messages=[Message("a", None, "user", text=bad, author_name="x\ud800", raw={"t": bad, "k\ud800": 1})],
    )
    state = store.begin_import("x" * 64, "mem", "chatgpt", 0)
    result = store.write_batch(state.id, [conv], 1)
    assert result.messages_added == 1
    hits = search(store, "小白")
    assert hits and "\ufffd" in hits[0].snippet
