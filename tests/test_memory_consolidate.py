"""From history to memories: extracted with provenance, a moved-house fact supersedes the old
one, re-running reads only what is new, and the whole thing goes through the real CLI."""

from __future__ import annotations

import json

import orjson

from conftest import run_hearth

BOTH_ENGINES = True  # the memory commands as a person runs them, on SQLite and on PostgreSQL


def _export(path, turns):
    mapping = {"root": {"id": "root", "message": None, "parent": None, "children": []}}
    prev = "root"
    for i, (t, role, text) in enumerate(turns):
        nid = f"n{i}"
        mapping[nid] = {"id": nid, "parent": prev, "children": [], "message": {
            "id": nid, "author": {"role": role}, "create_time": t,
            "content": {"content_type": "text", "parts": [text]}, "metadata": {}}}  # fmt: skip
        mapping[prev]["children"].append(nid)
        prev = nid
    conv = {"id": path.stem, "title": "t", "create_time": turns[0][0], "mapping": mapping, "current_node": prev}
    path.write_bytes(orjson.dumps([conv]))
    return path


DAY = 86400


def test_extract_supersede_and_resume(tmp_path, db_location):
    db = db_location
    first = _export(tmp_path / "a.json", [
        (1.70e9, "user", "我住在北京，在一家医院当护士"),
        (1.70e9 + 60, "assistant", "辛苦啦"),
        (1.70e9 + 120, "user", "My cat is called Snowball."),
    ])  # fmt: skip
    assert run_hearth("import", str(first), db=db).returncode == 0
    r = run_hearth("memory", "extract", db=db)
    assert r.returncode == 0, r.stderr
    memories = json.loads(run_hearth("memory", "list", "--json", db=db).stdout)
    texts = " | ".join(m["text"] for m in memories)
    assert "北京" in texts and "Snowball" in texts
    beijing = next(m for m in memories if "北京" in m["text"])
    assert beijing["source_message_ids"], "every extracted memory links to its message"

    again = run_hearth("memory", "extract", db=db)
    assert "Read 0 messages" in again.stdout

    later = _export(tmp_path / "b.json", [(1.70e9 + 30 * DAY, "user", "我上个月搬到杭州了，这边很好")])
    run_hearth("import", str(later), db=db)
    r = run_hearth("memory", "extract", db=db)
    assert "superseded" in r.stdout
    current = json.loads(run_hearth("memory", "list", "--json", db=db).stdout)
    assert any("杭州" in m["text"] for m in current)
    assert not any("北京" in m["text"] for m in current), "the old residence is superseded"
    everything = json.loads(run_hearth("memory", "list", "--all", "--json", db=db).stdout)
    old = next(m for m in everything if "北京" in m["text"])
    assert old["superseded_by"] == next(m["id"] for m in current if "杭州" in m["text"])


def test_a_fact_that_ends_retires_the_stored_one(tmp_path, db_location):
    db = db_location
    first = _export(tmp_path / "a.json", [(1.70e9, "user", "I live in Boston with my partner")])
    run_hearth("import", str(first), db=db)
    run_hearth("memory", "extract", db=db)
    later = _export(tmp_path / "b.json", [(1.71e9, "user", "I don't live in Boston anymore.")])
    run_hearth("import", str(later), db=db)
    r = run_hearth("memory", "extract", db=db)
    assert "1 superseded" in r.stdout, r.stdout
    current = json.loads(run_hearth("memory", "list", "--json", db=db).stdout)
    assert not any(m["slot"] == "residence" for m in current)
