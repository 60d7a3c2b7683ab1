"""A person's mistakes get one clear sentence and a hint, never a traceback, and lose nothing."""

from __future__ import annotations

import json
import zipfile

import pytest
import sqlalchemy as sa

from conftest import CHATGPT_FIXTURES, run_hearth
from hearth.store import Store, schema


def test_missing_path(tmp_path):
    r = run_hearth("import", str(tmp_path / "nope.zip"), db=tmp_path / "h.db")
    assert r.returncode == 1
    assert "does not exist" in r.stderr and "Traceback" not in r.stderr


def test_zip_that_is_not_an_export(tmp_path):
    z = tmp_path / "photos.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("cat.jpg", b"\xff\xd8\xff")
    r = run_hearth("import", str(z), db=tmp_path / "h.db")
    assert r.returncode == 1
    assert "not a chat export" in r.stderr and "Hint:" in r.stderr and "Traceback" not in r.stderr


def test_fake_zip(tmp_path):
    z = tmp_path / "export.zip"
    z.write_bytes(b"PK\x03\x04 this was cut off")
    r = run_hearth("import", str(z), db=tmp_path / "h.db")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "zip" in r.stderr


@pytest.mark.skipif(not CHATGPT_FIXTURES, reason="fixtures missing")
def test_truncated_json_keeps_what_was_read_and_reports_offset(tmp_path, monkeypatch):
    src = next(p for p in CHATGPT_FIXTURES if p.name.startswith("max0240")) / "conversations.json"
    data = src.read_bytes()
    cut = tmp_path / "conversations.json"
    cut.write_bytes(data[: int(len(data) * 0.8)])
    db = tmp_path / "h.db"
    r = run_hearth("import", str(cut), db=db, env={"HEARTH_BATCH_MESSAGES": "50"})
    assert r.returncode == 1, r.stderr
    assert "not valid JSON near byte" in r.stderr and "Traceback" not in r.stderr
    with Store(str(db)) as store, store.engine.connect() as conn:
        status, error = conn.execute(sa.select(schema.imports.c.status, schema.imports.c.error)).one()
        kept = conn.execute(sa.select(sa.func.count()).select_from(schema.conversations)).scalar_one()
    assert status == "failed" and "near byte" in error
    whole = len(json.loads(data))
    assert 0 < kept < whole


def test_bad_database_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    r = run_hearth("stats", db=blocker / "sub" / "h.db")
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "--db" in r.stderr


def test_not_a_database(tmp_path):
    db = tmp_path / "h.db"
    db.write_bytes(b"this is not sqlite" * 100)
    r = run_hearth("stats", db=db)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "Cannot open the hearth database" in r.stderr


def test_unknown_conversation_id(tmp_path):
    r = run_hearth("conversations", "show", "999", db=tmp_path / "h.db")
    assert r.returncode == 1 and "no conversation 999" in r.stderr


def test_debug_shows_traceback_for_user_errors_too(tmp_path):
    r = run_hearth("--debug", "conversations", "show", "999", db=tmp_path / "h.db")
    assert r.returncode == 1 and "Traceback" in r.stderr
