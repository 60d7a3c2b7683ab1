"""hearth on a real PostgreSQL (18, with pgvector, started by the test set-up): the CLI through
`HEARTH_DB=postgresql://…`, Chinese and English search, memories, `hearth db check`, and
`hearth db copy` moving a whole store SQLite → PostgreSQL → SQLite without losing a byte.
(The store and memory suites also run on PostgreSQL: modules with BOTH_ENGINES = True.)"""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, pg_database, run_hearth

pytestmark = pytest.mark.postgres
INPUTS = [FIXTURES / "chatgpt" / "exposir_2023-04_zh", FIXTURES / "character-cards", FIXTURES / "sillytavern"]


def _ok(*args, db) -> str:
    r = run_hearth(*args, db=db)
    assert r.returncode == 0, f"{args}: {r.stderr}"
    return r.stdout


def test_the_cli_on_postgresql(pg_server):
    url = pg_database(pg_server)
    _ok("import", *map(str, INPUTS), db=url)
    stats = json.loads(_ok("stats", "--json", db=url))
    assert stats["conversations"] >= 25 and stats["companions"] >= 6
    assert "微前端实际应用" in _ok("search", "微前端", db=url)
    assert "healthy" in _ok("db", "check", db=url)

    _ok("memory", "add", "我的猫叫小白，是一只橘猫。", "--kind", "person", db=url)
    _ok("memory", "add", "Mia is allergic to peanuts.", db=url)
    found = json.loads(_ok("memory", "search", "小白", "--lexical", "--json", db=url))
    cat = next(h for h in found if h["kind"] == "memory")
    assert "小白" in cat["text"]
    assert "peanuts" in _ok("memory", "search", "allergic to peanuts?", "--lexical", db=url)
    _ok("memory", "forget", str(cat["id"]), "--yes", db=url)
    again = json.loads(_ok("memory", "search", "小白", "--lexical", "--json", db=url))
    assert cat["id"] not in [h["id"] for h in again if h["kind"] == "memory"]
    assert "healthy" in _ok("db", "check", db=url)


def test_db_copy_sqlite_to_postgresql_and_back(pg_server, tmp_path):
    first, back = tmp_path / "first.db", tmp_path / "back.db"
    _ok("import", *map(str, INPUTS), db=first)
    _ok("memory", "add", "我们在杭州认识的", db=first)
    url = pg_database(pg_server)
    r = run_hearth("db", "copy", str(first), url, db=first)
    assert r.returncode == 0 and "checked" in r.stdout, r.stderr
    r = run_hearth("db", "copy", url, str(back), db=first)
    assert r.returncode == 0, r.stderr
    stats = [json.loads(_ok("stats", "--json", db=d)) for d in (first, back)]
    for s in stats:
        del s["imports"]  # the copy is one import of an archive
    assert stats[0] == stats[1]
    one, two = tmp_path / "one.zip", tmp_path / "two.zip"
    _ok("export", "--format", "hearth", "-o", str(one), db=first)
    _ok("export", "--format", "hearth", "-o", str(two), db=back)
    assert one.read_bytes() == two.read_bytes()

    full = run_hearth("db", "copy", str(first), url, db=first)
    assert full.returncode == 1 and "already holds a store" in full.stderr


def test_an_unreachable_server_is_one_clear_error(tmp_path):
    r = run_hearth("stats", db="postgresql://hearth@127.0.0.1:1/hearth")
    assert r.returncode == 1 and "Traceback" not in r.stderr and "Cannot open the hearth database" in r.stderr


def test_vectors_use_a_pgvector_hnsw_index(pg_server):
    import numpy as np
    import sqlalchemy as sa

    from hearth.store import Store, vectors
    from hearth.store.memories import add_memory, forget_memory

    rng = np.random.default_rng(7)
    with Store(pg_database(pg_server)) as store:
        assert vectors.has_pgvector(store)
        ids = [add_memory(store, f"memory {i}") for i in range(400)]
        vecs = rng.normal(size=(400, 384)).astype(np.float32)
        vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        vectors.put(store, "memory", "test-model", ids, vecs)
        query = vecs[123] + 0.05 * rng.normal(size=384).astype(np.float32)
        found = vectors.nearest(store, "memory", "test-model", query, k=50)
        exact = np.argsort(1 - vecs @ (query / np.linalg.norm(query)))[:50]
        assert found[0][0] == ids[123] and len(found) == 50
        assert len({i for i, _ in found} & {ids[j] for j in exact}) >= 45  # approximate, high recall
        with store.engine.connect() as conn:
            explain = sa.text(
                "EXPLAIN SELECT owner_id FROM embeddings WHERE owner_kind = 'memory' AND model = 'test-model' "
                "ORDER BY (embedding::vector(384)) <=> CAST(:q AS vector(384)) LIMIT 50")
            plan = "\n".join(r[0] for r in conn.execute(explain, {"q": vectors._literal(query)}))
        assert "ix_embeddings_hnsw_" in plan, plan
        forget_memory(store, ids[123])
        assert ids[123] not in [i for i, _ in vectors.nearest(store, "memory", "test-model", query, k=50)]


def test_planned_lexical_search_on_a_large_table(pg_server):
    """Past a few thousand rows the search is planned by how common each word is; on PostgreSQL
    from the planner's own statistics (EXPLAIN), not by counting through the index."""
    import sqlalchemy as sa

    from hearth.store import Store, lexical
    from hearth.store.memories import add_memory, lexical_memories

    with Store(pg_database(pg_server)) as store:
        for i in range(3000):
            add_memory(store, f"the person is happy about thing number {i} and it is nice")
        rare = add_memory(store, "我的猫叫小白 and the person is happy about Hangzhou")
        with store.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE memory_fts")
            total = conn.execute(sa.text("SELECT max(id) FROM memories")).scalar()
            estimate = lexical.counter(conn, lexical.MEMORIES, total)
            assert estimate("'happy':A", [(0, total)]) > 2000 and estimate("'hangzhou':A", [(0, total)]) < 50
        found = lexical_memories(store, "is the person happy about Hangzhou?", 10)
        assert found and found[0][0] == rare
        assert lexical_memories(store, "小白", 5)[0][0] == rare
