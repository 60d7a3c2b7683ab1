"""`kill -9` in the middle of an import, then the same command again, ends with exactly the rows
of an uninterrupted import: nothing lost, nothing twice. Real subprocesses, real SQLite files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from conftest import run_hearth
from hearth.ingest import import_path
from hearth.store import Store, schema
from hearth.store.queries import search


def snapshot(db) -> dict:
    """Everything an import writes, keyed by source ids (not by row ids)."""
    with Store(str(db)) as store, store.engine.connect() as conn:
        m, c = schema.messages.c, schema.conversations.c
        parent = sa.alias(schema.messages)
        messages = sorted(
            conn.execute(
                sa.select(
                    c.source_id,
                    m.source_id,
                    parent.c.source_id,
                    m.visible,
                    m.hidden,
                    m.role,
                    m.text,
                    m.requested_model,
                    m.served_model,
                    m.raw,
                )
                .join(schema.conversations, c.id == m.conversation_id)
                .outerjoin(parent, parent.c.id == m.parent_id)
            ).all()
        )
        conversations = sorted(conn.execute(sa.select(c.source_id, c.title, c.content_hash, c.raw)).all())
        a = schema.attachments.c
        attachments = sorted(
            conn.execute(sa.select(a.asset_id, a.archive_path, a.blob_sha256, a.pointer, a.name)).all(), key=repr
        )
        feedback = sorted(
            conn.execute(sa.select(schema.feedback.c.source_id, schema.feedback.c.message_id.is_not(None))).all()
        )
        fts = conn.exec_driver_sql("SELECT count(*) FROM message_fts").scalar_one()
        imports = conn.execute(sa.select(schema.imports.c.status, schema.imports.c.conversations_done)).all()
        hits = [(h.conversation_id, h.snippet) for h in search(store, "宝贝", limit=50)]
    return {
        "messages": messages,
        "conversations": conversations,
        "attachments": attachments,
        "feedback": feedback,
        "fts": fts,
        "imports": imports,
        "search": len(hits),
    }


def progress(db) -> tuple[str, int] | None:
    import sqlcipher3

    try:
        con = sqlcipher3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        row = con.execute("SELECT status, conversations_done FROM imports").fetchone()
        con.close()
        return row
    except sqlcipher3.Error:
        return None


@pytest.mark.slow
def test_kill_9_then_resume_equals_uninterrupted(tmp_path, synth_zip):
    reference = tmp_path / "reference.db"
    with Store(str(reference)) as store:
        import_path(store, synth_zip)
    expected = snapshot(reference)
    total = expected["imports"][0][1]
    assert total == 120

    db = tmp_path / "killed.db"
    env = {**os.environ, "HEARTH_DB": str(db), "HEARTH_BATCH_MESSAGES": "40"}
    kills = []
    for threshold in (10, 60):
        proc = subprocess.Popen(
            [sys.executable, "-m", "hearth.cli", "import", str(synth_zip)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            state = progress(db)
            if state and state[1] >= threshold:
                break
            time.sleep(0.005)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        state = progress(db)
        kills.append(state)
        assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"
        assert state[0] == "running" and 0 < state[1] < total
    assert kills[1][1] > kills[0][1]

    r = run_hearth("import", str(synth_zip), db=db)
    assert r.returncode == 0, r.stderr
    assert "resumed" in r.stdout
    assert snapshot(db) == expected

    again = run_hearth("import", str(synth_zip), db=db)
    assert "already" in again.stdout
    assert snapshot(db) == expected
