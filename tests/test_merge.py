"""A newer export of the same account adds only what is new and moves the visible branch."""

from __future__ import annotations

import copy

import orjson
import sqlalchemy as sa

from hearth.ingest import import_path
from hearth.store import schema
from hearth.store.queries import search

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


def conversation(n_turns: int, current: str | None = None):
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    prev = "root"
    for i in range(n_turns):
        nid = f"n{i}"
        role = "user" if i % 2 == 0 else "assistant"
        mapping[nid] = {
            "id": nid,
            "parent": prev,
            "children": [],
            "message": {
                "id": nid,
                "author": {"role": role},
                "create_time": 1.7e9 + i,
                "content": {"content_type": "text", "parts": [f"第{i}句 turn {i}"]},
                "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            },
        }
        mapping[prev]["children"].append(nid)
        prev = nid
    return {"id": "conv-1", "title": "成长", "create_time": 1.7e9, "mapping": mapping, "current_node": current or prev}


def write(tmp_path, name, convs, indent=False):
    p = tmp_path / name / "conversations.json"
    p.parent.mkdir()
    p.write_bytes(orjson.dumps(convs, option=orjson.OPT_INDENT_2 if indent else 0))
    return p


def visible_ids(store):
    m = schema.messages.c
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(m.source_id).where(m.visible)).scalars())


def test_newer_export_adds_only_new_messages(store, tmp_path):
    old = conversation(4)
    import_path(store, write(tmp_path, "old", [old]))
    newer = conversation(6)
    # A regeneration of the last reply, chosen as current.
    regen = copy.deepcopy(newer["mapping"]["n5"])
    regen["id"] = regen["message"]["id"] = "n5b"
    regen["message"]["content"]["parts"] = ["重新生成的回答 regenerated"]
    newer["mapping"]["n5b"] = regen
    newer["mapping"]["n4"]["children"].append("n5b")
    newer["current_node"] = "n5b"
    summary = import_path(store, write(tmp_path, "new", [newer]))
    assert summary.result.conversations_updated == 1 and summary.result.conversations_added == 0
    assert summary.result.messages_added == 3
    assert visible_ids(store) == {"root", "n0", "n1", "n2", "n3", "n4", "n5b"}
    assert search(store, "重新生成") and search(store, "turn")
    m = schema.messages.c
    with store.engine.connect() as conn:
        parent = conn.execute(
            sa.select(sa.func.count()).where(m.source_id == "n5b", m.parent_id.is_not(None))
        ).scalar_one()
    assert parent == 1
    same_file = import_path(store, write(tmp_path, "same", [newer]))
    assert same_file.status == "already imported"
    again = import_path(store, write(tmp_path, "again", [newer], indent=True))
    assert again.result.conversations_unchanged == 1 and again.result.messages_added == 0


def test_edited_message_text_is_updated_and_reindexed(store, tmp_path):
    import_path(store, write(tmp_path, "a", [conversation(2)]))
    changed = conversation(2)
    changed["mapping"]["n1"]["message"]["content"]["parts"] = ["完成的回答 finished"]
    import_path(store, write(tmp_path, "b", [changed]))
    assert search(store, "完成") and not search(store, "第1句")
