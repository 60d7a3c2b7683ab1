"""Preferences: a rated regeneration becomes a DPO pair; silence is not a verdict; the export runs."""

from __future__ import annotations

import orjson

from conftest import run_hearth
from hearth.companion.turn import Companion
from hearth.store import Store, chat
from hearth.store.companions import companion_by_name
from hearth.store.preferences import preference_pairs
from scripted import Scripted

BOTH_ENGINES = True


def test_rated_regeneration_is_a_pair(tmp_path, db_location):
    db = db_location
    store = Store(str(db))
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    backend = Scripted(reply="A long, rambling answer about many things.")
    comp = Companion(store, cid, backend)
    conv = comp.new_conversation()
    first = comp.turn(conv, "你好，今天好累")
    assert list(preference_pairs(store)) == []  # one answer, nothing rated
    backend.reply = "抱抱你，辛苦啦。"
    second = comp.reply_to(conv, first.user_message_id, "你好，今天好累")
    assert list(preference_pairs(store)) == []  # regenerated, but the person said nothing
    chat.rate(store, first.reply_message_id, -1, "too long")
    chat.rate(store, second.reply_message_id, +1)
    [pair] = list(preference_pairs(store))
    assert pair["chosen"] == "抱抱你，辛苦啦。" and pair["rejected"].startswith("A long")
    assert pair["prompt"] == [{"role": "user", "content": "你好，今天好累"}]
    store.close()
    r = run_hearth("export", "--format", "preferences", "-o", str(tmp_path / "p.jsonl"), db=db)
    assert r.returncode == 0 and "1 preference pairs" in r.stdout
    line = orjson.loads((tmp_path / "p.jsonl").read_bytes().splitlines()[0])
    assert set(line) == {"prompt", "chosen", "rejected"}
