"""`hearth memory` as a person uses it: add, list, search with reasons, show, edit, pin, forget."""

from __future__ import annotations

import json

from conftest import run_hearth

BOTH_ENGINES = True  # the memory commands as a person runs them, on SQLite and on PostgreSQL


def test_memory_commands_round_trip(db_location):
    db = db_location
    assert run_hearth("memory", "add", "我的猫叫小白", "--kind", "person", db=db).returncode == 0
    assert run_hearth("memory", "add", "Allergic to peanuts", "--importance", "0.9", db=db).returncode == 0
    rows = json.loads(run_hearth("memory", "list", "--json", db=db).stdout)
    assert [r["text"] for r in rows] == ["Allergic to peanuts", "我的猫叫小白"]

    hits = json.loads(run_hearth("memory", "search", "我的猫叫什么名字", "--json", db=db).stdout)
    assert hits[0]["text"] == "我的猫叫小白" and hits[0]["why"]["lexical"]["rank"] == 1
    explained = run_hearth("memory", "search", "peanut allergy", "--explain", db=db)
    assert explained.returncode == 0 and "vector #" in explained.stdout

    cat = next(r for r in rows if "小白" in r["text"])
    r = run_hearth("memory", "edit", str(cat["id"]), "--text", "我的猫叫小黑", db=db)
    assert "小黑" in r.stdout
    assert "小黑" in run_hearth("memory", "show", str(cat["id"]), db=db).stdout
    assert "pinned" in run_hearth("memory", "pin", str(cat["id"]), db=db).stdout

    r = run_hearth("memory", "forget", str(cat["id"]), db=db, input="n\n")
    assert r.returncode == 1
    assert run_hearth("memory", "forget", str(cat["id"]), "--yes", db=db).returncode == 0
    hits = json.loads(run_hearth("memory", "search", "小黑", "--json", db=db).stdout or "[]")
    assert all("小黑" not in h["text"] for h in hits)
    r = run_hearth("memory", "show", str(cat["id"]), db=db)
    assert r.returncode == 1 and "no memory" in r.stderr
