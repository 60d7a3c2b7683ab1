"""Crash and fault tests with real processes: `kill -9` at random points of an import, a memory
extraction and chat turns (20 kills each, on SQLite and on PostgreSQL), then the store must hold
exactly what an uninterrupted run holds (no lost, no duplicated message or memory) and
`hearth db check` must call it healthy.
And upstream faults (5xx, a connection reset mid-stream, malformed JSON, a stall) through the real
`hearth chat --once`: the person's message is kept and one clear error is shown.

Kill points are drawn from a seeded generator and printed, so a failure can be replayed."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import sqlcipher3
from conftest_backends import FakeServer
from test_import_resume import progress, snapshot

from conftest import FIXTURES, run_hearth
from hearth.ingest import import_path
from hearth.store import Store

SERAPHINA = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"
KILLS = 20
SEED = int(os.environ.get("HEARTH_CRASH_SEED", "20261204"))
pytestmark = pytest.mark.slow


def _spawn(args: list[str], db: Path | str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hearth.cli", *args], env={**os.environ, "HEARTH_DB": str(db),
                            **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _kill_after(proc: subprocess.Popen, seconds: float, until=None) -> bool:
    """SIGKILL after `seconds` (or once `until()` is true); False when it finished first."""
    deadline = time.monotonic() + seconds
    while proc.poll() is None and time.monotonic() < deadline and not (until and until()):
        time.sleep(0.003)
    if proc.poll() is not None:
        return False
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return True


def _healthy(db: Path | str, env: dict[str, str] | None = None) -> None:
    r = run_hearth("db", "check", "--json", db=db, env=env)
    assert r.returncode == 0, r.stdout + r.stderr


def test_import_killed_20_times_ends_exactly_like_an_uninterrupted_one(tmp_path, synth_zip):
    reference = tmp_path / "reference.db"
    with Store(str(reference)) as store:
        import_path(store, synth_zip)
    expected = snapshot(reference)
    total = expected["imports"][0][1]
    rng = random.Random(SEED)
    db = tmp_path / "killed.db"
    env = {"HEARTH_BATCH_MESSAGES": "40"}
    kills: list[tuple[str, float]] = []
    while len(kills) < KILLS:
        proc = _spawn(["import", str(synth_zip)], db, env)
        if rng.random() < 0.3:  # anywhere: start-up, hashing, the first batch
            at = rng.uniform(0.0, 1.2)
            if _kill_after(proc, at):
                kills.append(("time", round(at, 3)))
        else:  # in the middle of the writing, past a random number of conversations
            done = (progress(db) or ("", 0))[1]
            target = rng.randint(done + 1, max(done + 1, total - 1))
            if _kill_after(proc, 60, lambda t=target: (progress(db) or ("", 0))[1] >= t):
                kills.append(("after conversations", target))
        if proc.returncode == 0:  # it finished before the kill: start a fresh store and go on killing
            db.unlink()
            for extra in tmp_path.glob("killed.db*"):
                extra.unlink()
    print("kill points:", kills)
    r = run_hearth("import", str(synth_zip), db=db)
    assert r.returncode == 0, r.stderr
    assert snapshot(db) == expected
    _healthy(db)


def test_import_killed_20_times_on_postgresql_ends_exactly_like_an_uninterrupted_one(pg_server, synth_zip):
    from conftest import pg_database

    reference = pg_database(pg_server)
    with Store(reference) as store:
        import_path(store, synth_zip)
    expected = snapshot(reference)
    total = expected["imports"][0][1]
    rng = random.Random(SEED + 2)
    url = pg_database(pg_server)
    progress = Peek(url, "SELECT status, conversations_done FROM imports")
    env = {"HEARTH_BATCH_MESSAGES": "40"}
    kills: list[tuple[str, float]] = []
    while len(kills) < KILLS:
        proc = _spawn(["import", str(synth_zip)], url, env)
        if rng.random() < 0.3:
            at = rng.uniform(0.0, 1.5)
            if _kill_after(proc, at):
                kills.append(("time", round(at, 3)))
        else:
            done = (progress() or ("", 0))[1]
            target = rng.randint(done + 1, max(done + 1, total - 1))
            if _kill_after(proc, 60, lambda t=target, p=progress: (p() or ("", 0))[1] >= t):
                kills.append(("after conversations", target))
        if proc.returncode == 0:
            progress.close()
            url = pg_database(pg_server)
            progress = Peek(url, "SELECT status, conversations_done FROM imports")
    progress.close()
    print("kill points:", kills)
    r = run_hearth("import", str(synth_zip), db=url)
    assert r.returncode == 0, r.stderr
    assert snapshot(url) == expected
    _healthy(url)


def _memories(db: Path | str) -> list[tuple]:
    """Every memory as the extraction left it: text, kind, slot, value, importance, the text of
    what superseded it, and the messages it cites."""
    import sqlalchemy as sa

    from hearth.store import schema

    m, ms = schema.memories.c, schema.memory_sources.c
    newer = sa.alias(schema.memories)
    with Store(str(db)) as store, store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.id, m.text, m.kind, m.slot, m.value, m.importance, newer.c.text)
            .outerjoin(newer, newer.c.id == m.superseded_by)
            .order_by(m.id)
        ).all()
        cited: dict[int, list[int]] = {}
        for memory, message in conn.execute(sa.select(ms.memory_id, ms.message_id).order_by(ms.message_id)):
            cited.setdefault(memory, []).append(message)
    return [(*r[1:], tuple(cited.get(r.id, ()))) for r in rows]


CURSOR = "memory.extract.rules-1.last_message_id"


class Peek:
    """One row read as another process would, looked at every 3 ms while a process runs: a
    read-only SQLite connection per look, or one PostgreSQL connection kept open. None while the
    table is not there yet."""

    def __init__(self, db: Path | str, sql: str) -> None:
        self.db, self.sql = db, sql
        self._pg = psycopg.connect(str(db), autocommit=True) if str(db).startswith("postgresql") else None

    def __call__(self) -> tuple | None:
        try:
            if self._pg is not None:
                return self._pg.execute(self.sql).fetchone()
            con = sqlcipher3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=1)
            try:
                return con.execute(self.sql).fetchone()
            finally:
                con.close()
        except (sqlcipher3.Error, psycopg.Error):  # no such table yet, or the file is being created
            return None

    def close(self) -> None:
        if self._pg is not None:
            self._pg.close()


class Cursor(Peek):
    """How far the extraction has read (committed)."""

    def __init__(self, db: Path | str) -> None:
        super().__init__(db, f"SELECT value FROM settings WHERE key = '{CURSOR}'")

    def __call__(self) -> int:  # type: ignore[override]
        row = super().__call__()
        try:
            return int(row[0]) if row else 0
        except ValueError:
            return 0


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_memory_extraction_killed_20_times_ends_with_the_same_memories(tmp_path, engine, request):
    """On PostgreSQL each kill also breaks a server connection in the middle of a transaction."""
    from synth_chatgpt import generate

    def fresh(name: str) -> Path | str:
        if engine == "sqlite":
            for old in tmp_path.glob(f"{name}.db*"):
                old.unlink()
            return tmp_path / f"{name}.db"
        from conftest import pg_database

        return pg_database(request.getfixturevalue("pg_server"))

    export = tmp_path / "big.zip"
    generate(export, conversations=400, seed=11)
    env = {"HEARTH_EXTRACT_BATCH": "200"}
    reference = fresh("reference")
    assert run_hearth("import", str(export), db=reference).returncode == 0
    assert run_hearth("memory", "extract", db=reference, env=env).returncode == 0
    expected = _memories(reference)
    assert len(expected) > 100
    cursor = Cursor(reference)
    last = cursor()
    cursor.close()

    db = fresh("killed")
    assert run_hearth("import", str(export), db=db).returncode == 0
    cursor = Cursor(db)
    rng = random.Random(SEED + 1)
    kills: list[tuple[str, float]] = []
    while len(kills) < KILLS:
        proc = _spawn(["memory", "extract"], db, env)
        if rng.random() < 0.25:  # start-up, or the first batch
            at = rng.uniform(0.0, 1.0)
            killed = _kill_after(proc, at)
            point = ("time", round(at, 3))
        else:  # past a random point of the history, a little into the next batch
            target = rng.randint(cursor() + 1, max(cursor() + 1, last - 1))
            extra = rng.uniform(0.0, 0.05)
            killed = _kill_after(proc, 60, lambda t=target, e=extra, c=cursor: c() >= t and time.sleep(e) is None)
            point = ("after message", target)
        if killed:
            kills.append(point)
        elif cursor() >= last:  # it read everything first: start over on a fresh store
            cursor.close()
            db = fresh("killed")
            assert run_hearth("import", str(export), db=db).returncode == 0
            cursor = Cursor(db)
    cursor.close()
    print("kill points:", kills)
    assert run_hearth("memory", "extract", db=db, env=env).returncode == 0
    assert _memories(db) == expected
    _healthy(db)


def _slow_stream(words: int, delay: float):
    def route(h, body):
        h.start_sse()
        for i in range(words):
            h.sse({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                   "choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]})  # fmt: skip
            time.sleep(delay)
        h.sse({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})  # fmt: skip
        h.sse("[DONE]")
        h.end_chunks()

    return route


@pytest.fixture
def upstream(tmp_path, request):
    """A scripted OpenAI-compatible server, a config naming it, and a store (SQLite unless the
    test asks for `postgresql` through indirect parametrisation) holding someone to talk to."""
    fake = FakeServer()
    fake.routes[("GET", "/v1/models")] = lambda h, b: h.send_json(200, {"object": "list", "data": [{"id": "gpt-4o"}]})
    config = tmp_path / "config.toml"
    config.write_text(f'[backends.fake]\nkind = "openai"\nbase_url = "{fake.url("/v1")}"\nmodel = "gpt-4o"\n'
                      "timeout = 2\nmax_retries = 0\n")
    db: Path | str = tmp_path / "chat.db"
    if getattr(request, "param", "sqlite") == "postgresql":
        from conftest import pg_database

        db = pg_database(request.getfixturevalue("pg_server"))
    assert run_hearth("import", str(SERAPHINA), db=db).returncode == 0  # someone to talk to
    yield fake, {"HEARTH_CONFIG": str(config)}, db
    fake.close()


def _turns(db: Path | str) -> list[tuple[str, str]]:
    with Store(str(db)) as store, store.engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(  # hearth's own chats, not the imported one
            "SELECT role, text FROM messages WHERE role IN ('user', 'assistant') AND source_format = 'hearth' "
            "ORDER BY id"
        )]  # fmt: skip


@pytest.mark.parametrize("upstream", ["sqlite", "postgresql"], indirect=True)
def test_chat_turns_killed_20_times_keep_every_message_once(tmp_path, upstream):
    fake, env, db = upstream
    fake.routes[("POST", "/v1/chat/completions")] = _slow_stream(words=12, delay=0.04)
    first = run_hearth("chat", "--backend", "fake", "--once", "hello 0", db=db, env=env)
    assert first.returncode == 0, first.stderr
    rng = random.Random(SEED + 2)
    sent, kills, completed = ["hello 0"], [], ["hello 0"]
    i = 0
    while len(kills) < KILLS:
        i += 1
        text = f"hello {i}"
        sent.append(text)
        proc = _spawn(["chat", "--backend", "fake", "--once", text], db, env)
        at = rng.uniform(0.3, 2.0)
        if _kill_after(proc, at):
            kills.append(round(at, 3))
        else:
            assert proc.returncode == 0
            completed.append(text)
    print("kill points (s):", kills)
    turns = _turns(db)
    users = [t for role, t in turns if role == "user"]
    assert len(users) == len(set(users)), "a message was stored twice"
    assert set(completed) <= set(users), "a finished turn lost its message"
    assert set(users) <= set(sent)
    for role, t in turns:
        assert role == "user" or t.startswith("word0"), "a stored reply is not one the server sent"
    after = run_hearth("chat", "--backend", "fake", "--once", "still there?", db=db, env=env)
    assert after.returncode == 0 and "word11" in after.stdout
    _healthy(db)


def _chunk(text: str) -> dict:
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}  # fmt: skip


def _reset_mid_stream(h, b) -> None:
    h.start_sse()
    h.sse(_chunk("半句话"))
    time.sleep(0.5)  # let the client read what was sent: an RST discards data it has not read yet
    h.reset()


def _malformed_event(h, b) -> None:
    h.start_sse()
    h.sse(_chunk("半句"))
    time.sleep(0.2)
    h.sse("{not json")
    h.end_chunks()


FAULTS = {  # what the server does, words the person is shown, the partial reply that must be kept
    "a 500": (lambda h, b: h.send_json(500, {"error": {"message": "upstream exploded", "type": "server_error"}}),
              "failed on its side (http 500)", None),
    "a reset mid-stream": (_reset_mid_stream, "broke in the middle", "半句话"),
    "a malformed stream event": (_malformed_event, "not a chat reply", "半句"),
    "a body that is not JSON": (lambda h, b: h.send_raw(200, b"{not json", "application/json"), "not a chat reply",
                                None),
    "a stall": (lambda h, b: h.hang(30), "did not answer", None),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(FAULTS))
def test_upstream_faults_keep_the_message_and_say_what_happened(upstream, fault):
    fake, env, db = upstream
    route, words, partial = FAULTS[fault]
    fake.routes[("POST", "/v1/chat/completions")] = route
    r = run_hearth("chat", "--backend", "fake", "--once", "请记住我的消息", db=db, env=env)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and words in (r.stdout + r.stderr).lower()
    assert "Your message is saved" in r.stderr
    assert ("user", "请记住我的消息") in _turns(db)
    if partial:
        assert ("assistant", partial) in _turns(db)  # what arrived before the fault is kept
    _healthy(db)
