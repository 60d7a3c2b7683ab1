"""`hearth db check / backup / restore`: a healthy store says so, a damaged index is found and
repaired, a backup taken while another process writes is consistent, a restore keeps what it replaces."""

from __future__ import annotations

import subprocess
import sys
import time

import orjson

from conftest import FIXTURES, run_hearth
from hearth.ingest import import_many
from hearth.store import Store, maintenance
from hearth.store.memories import add_memory

SAMPLE_ARGS = ("import", "--sample")


def test_healthy_store(tmp_path):
    db = tmp_path / "h.db"
    assert run_hearth(*SAMPLE_ARGS, db=db).returncode == 0
    r = run_hearth("db", "check", db=db)
    assert r.returncode == 0 and "healthy" in r.stdout


def test_damage_is_found_and_repaired(tmp_path):
    store = Store(str(tmp_path / "h.db"))
    import_many(store, [FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"])
    add_memory(store, "猫叫小白", kind="person")
    with store.write() as conn, conn.begin():
        conn.exec_driver_sql("DELETE FROM message_fts WHERE rowid = (SELECT min(id) FROM messages WHERE text != '')")
        conn.exec_driver_sql("INSERT INTO message_fts(rowid, body, uni) VALUES (999999, 'ghost', '')")
        conn.exec_driver_sql("DELETE FROM memory_fts")
        conn.exec_driver_sql("INSERT INTO embeddings VALUES ('memory', 424242, 'm', 1, x'00000000', 0)")
    problems = {p.what: p.count for p in maintenance.check(store)}
    assert problems["messages with text missing from the search index"] == 1
    assert problems["search rows for messages that do not exist"] == 1
    assert problems["memories missing from the search index"] == 1
    assert problems["vectors of memories that do not exist"] == 1
    store.close()
    db = tmp_path / "h.db"
    r = run_hearth("db", "check", "--json", db=db)
    assert r.returncode == 1 and len(orjson.loads(r.stdout)["problems"]) == 4
    fixed = run_hearth("db", "check", "--repair", db=db)
    assert fixed.returncode == 0 and "Repaired 4 rows; 0 problem(s) remain" in fixed.stdout
    assert "小白" in run_hearth("memory", "search", "小白", db=db).stdout


WRITER = """
import sys, time
from hearth.store import Store
from hearth.store.memories import add_memory
store = Store(sys.argv[1])
n = 0
end = time.time() + float(sys.argv[2])
while time.time() < end:
    add_memory(store, f"memory number {n} 第{n}条", kind="fact")
    n += 1
print(n)
"""


def test_backup_while_another_process_writes(tmp_path):
    db = tmp_path / "h.db"
    assert run_hearth(*SAMPLE_ARGS, db=db).returncode == 0
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db), "4"], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    r = run_hearth("db", "backup", str(tmp_path / "b.db"), db=db)
    written = int(writer.communicate(timeout=60)[0])
    assert r.returncode == 0, r.stderr
    assert written > 0
    copy = Store(str(tmp_path / "b.db"))
    assert maintenance.check(copy) == []
    with copy.engine.connect() as conn:
        in_copy = conn.exec_driver_sql("SELECT count(*) FROM memories WHERE text LIKE 'memory number %'").scalar()
        fts = conn.exec_driver_sql("SELECT count(*) FROM memory_fts WHERE memory_fts MATCH 'number'").scalar()
    assert 0 <= in_copy <= written and fts == in_copy
    again = run_hearth("db", "backup", str(tmp_path / "b.db"), db=db)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_restore_keeps_the_replaced_store(tmp_path):
    db = tmp_path / "h.db"
    run_hearth(*SAMPLE_ARGS, db=db)
    assert run_hearth("db", "backup", str(tmp_path / "b.db"), db=db).returncode == 0
    run_hearth("memory", "add", "added after the backup", db=db)
    r = run_hearth("db", "restore", str(tmp_path / "b.db"), "--yes", db=db)
    assert r.returncode == 0, r.stderr
    assert "added after the backup" not in run_hearth("memory", "list", db=db).stdout
    [aside] = list(tmp_path.glob("h.db.before-restore-*"))
    assert "added after the backup" in run_hearth("memory", "list", db=aside).stdout
    bad = tmp_path / "not.db"
    bad.write_bytes(b"hello")
    refused = run_hearth("db", "restore", str(bad), "--yes", db=db)
    assert refused.returncode == 1 and "not a usable hearth backup" in refused.stderr


def test_cards_with_empty_lorebook_entries_are_healthy(tmp_path):
    """A lorebook entry with no text and no keys has nothing to index; check called it missing."""
    db = tmp_path / "h.db"
    assert run_hearth("import", str(FIXTURES / "character-cards"), db=db).returncode == 0
    r = run_hearth("db", "check", db=db)
    assert r.returncode == 0 and "healthy" in r.stdout, r.stdout
