"""The approximate vector index is a cache of the embeddings table: same answers as exact search on
small data, never a deleted vector, new vectors found before any rebuild, a bad sidecar rebuilt."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import sqlalchemy as sa

from hearth.memory.retrieve import embed_pending, retrieve
from hearth.store import Store, ann, vectors
from hearth.store.memories import add_memory, forget_memory, update_memory
from hearth.store.tokens import index_columns

MODEL, DIM = "test-model", 32


@pytest.fixture(autouse=True)
def small_thresholds(monkeypatch):
    """Force the index on for a few hundred vectors, and make every path reachable."""
    monkeypatch.setattr(ann, "THRESHOLD", 100)
    monkeypatch.setattr(ann, "WITHIN_EXACT", 40)
    monkeypatch.setattr(ann, "DELTA_MERGE", 25)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(12, DIM))
    v = centres[rng.integers(0, 12, n)] + 0.35 * rng.normal(size=(n, DIM))
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def fill(store: Store, n: int = 400, seed: int = 0, kind: str = "memory", first_id: int = 1) -> np.ndarray:
    x = clustered(n, seed)
    vectors.put(store, kind, MODEL, list(range(first_id, first_id + n)), x)
    return x


def ids(hits):
    return [i for i, _ in hits]


def test_index_gives_the_exact_top_results_and_writes_a_sidecar(store):
    fill(store)
    queries = clustered(20, seed=1)
    assert ann.search(store, "memory", MODEL, queries[0], 10) is not None  # the index answers, not sqlite-vec
    overlap = []
    for q in queries:
        got = vectors.nearest(store, "memory", MODEL, q, 10)
        want = vectors._exact(store, "memory", MODEL, q, 10, None)
        assert got[0] == pytest.approx(want[0], abs=1e-5)
        overlap.append(len(set(ids(got)) & set(ids(want))) / 10)
        assert [d for _, d in got] == sorted(d for _, d in got)
    assert np.mean(overlap) >= 0.95
    path = ann.sidecar_path(store, "memory", MODEL)
    assert path is not None and path.exists() and path.name.endswith(".memory-test-model.ann")


def test_few_vectors_stay_exact(store, monkeypatch):
    monkeypatch.setattr(ann, "THRESHOLD", 1000)
    fill(store, 200)
    assert ann.search(store, "memory", MODEL, clustered(1, 3)[0], 5) is None
    assert not ann.sidecar_path(store, "memory", MODEL).exists()


def test_deleted_vectors_are_never_returned(store, tmp_path):
    x = fill(store)
    q = x[7]
    assert vectors.nearest(store, "memory", MODEL, q, 5)[0][0] == 8  # index built, id 8 is q itself
    with store.write() as conn, conn.begin():
        conn.execute(sa.text("DELETE FROM embeddings WHERE owner_id IN (8, 9, 10)"))
    other = Store(str(tmp_path / "hearth.db"))  # another process deletes too
    with other.write() as conn, conn.begin():
        conn.execute(sa.text("DELETE FROM embeddings WHERE owner_id = 11"))
    other.close()
    for _ in range(2):
        got = ids(vectors.nearest(store, "memory", MODEL, q, 50))
        assert len(got) == 50 and not {8, 9, 10, 11} & set(got)
    for row in x[:20]:
        assert not {8, 9, 10, 11} & set(ids(vectors.nearest(store, "memory", MODEL, row, 20)))


def test_forgotten_and_edited_memories_leave_the_index(store):
    texts = [f"memory number {i} about topic {i % 7}" for i in range(150)]
    mids = [add_memory(store, t) for t in texts]
    x = clustered(150, seed=4)
    vectors.put(store, "memory", MODEL, mids, x)
    assert vectors.nearest(store, "memory", MODEL, x[3], 1)[0][0] == mids[3]
    forget_memory(store, mids[3])
    update_memory(store, mids[4], text="edited: its vector is dropped until re-embedded")
    for q in (x[3], x[4]):
        got = ids(vectors.nearest(store, "memory", MODEL, q, 30))
        assert mids[3] not in got and mids[4] not in got


def test_new_vectors_are_found_before_and_after_a_merge(store, tmp_path):
    x = fill(store)
    q = clustered(1, seed=9)[0]
    vectors.nearest(store, "memory", MODEL, q, 5)
    vectors.put(store, "memory", MODEL, [1000], q[None])  # the query itself, in the not-yet-indexed tail
    assert vectors.nearest(store, "memory", MODEL, q, 5)[0] == (1000, pytest.approx(0.0, abs=1e-5))
    other = Store(str(tmp_path / "hearth.db"))  # another process writes a whole batch: merged into the graph
    vectors.put(other, "memory", MODEL, list(range(2000, 2040)), clustered(40, seed=10))
    other.close()
    near = x[0] * 0.999 + q * 0.001
    vectors.put(store, "memory", MODEL, [3000], (near / np.linalg.norm(near))[None])
    got = vectors.nearest(store, "memory", MODEL, x[0], 3)
    assert set(ids(got)[:2]) == {1, 3000}
    index = ann._states[store][("memory", MODEL, DIM)]
    assert len(index.delta) < ann.DELTA_MERGE and len(index.owners) >= 441 and 2039 in index.owners
    # a re-embedded owner: the new vector wins, the old label dies
    vectors.put(store, "memory", MODEL, [1], q[None])
    assert vectors.nearest(store, "memory", MODEL, q, 1)[0][1] == pytest.approx(0.0, abs=1e-5)


def test_reused_rowids_below_the_watermark_are_found(store):
    fill(store)
    q = clustered(1, seed=12)[0]
    vectors.nearest(store, "memory", MODEL, q, 5)
    with store.write() as conn, conn.begin():  # the newest row goes: SQLite hands its rowid out again
        top = conn.execute(sa.text("SELECT max(rowid) FROM embeddings")).scalar_one()
        conn.execute(sa.text("DELETE FROM embeddings WHERE rowid = :r"), {"r": top})
    vectors.put(store, "memory", MODEL, [5000], q[None])
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT rowid FROM embeddings WHERE owner_id = 5000")).scalar_one() == top
    assert vectors.nearest(store, "memory", MODEL, q, 1)[0][0] == 5000


@pytest.mark.parametrize("damage", ["flip", "truncate", "garbage-meta", "other-model", "no-meta"])
def test_a_bad_sidecar_is_rebuilt_never_trusted(store, monkeypatch, damage):
    x = fill(store)
    vectors.nearest(store, "memory", MODEL, x[0], 5)
    path = ann.sidecar_path(store, "memory", MODEL)
    meta = path.with_name(path.name + ".meta")
    graph = bytearray(path.read_bytes())
    if damage == "flip":
        graph[len(graph) // 2] ^= 0xFF
        path.write_bytes(bytes(graph))
    elif damage == "truncate":
        path.write_bytes(bytes(graph[: len(graph) // 2]))
    elif damage == "garbage-meta":
        meta.write_bytes(b"not an index at all")
    elif damage == "other-model":
        meta.write_bytes(meta.read_bytes().replace(b'"model": "test-model"', b'"model": "xest-model"'))
    else:
        meta.unlink()
    ann.forget(store)
    builds = []
    real_build = ann._Index.build
    monkeypatch.setattr(ann._Index, "build", lambda self, raw: builds.append(1) or real_build(self, raw))
    assert vectors.nearest(store, "memory", MODEL, x[0], 1)[0][0] == 1
    assert builds == [1]
    ann.forget(store)
    vectors.nearest(store, "memory", MODEL, x[0], 1)
    assert builds == [1]  # the rebuilt sidecar loads


def test_a_stale_sidecar_is_reconciled_with_the_table(store, tmp_path):
    x = fill(store)
    vectors.nearest(store, "memory", MODEL, x[0], 5)
    ann.forget(store)  # the next process finds rows deleted and added behind the sidecar's back
    with store.write() as conn, conn.begin():
        conn.execute(sa.text("DELETE FROM embeddings WHERE owner_id BETWEEN 1 AND 30"))
    fresh = clustered(10, seed=20)
    vectors.put(store, "memory", MODEL, list(range(900, 910)), fresh)
    got = ids(vectors.nearest(store, "memory", MODEL, x[0], 60))
    assert not set(range(1, 31)) & set(got)
    assert vectors.nearest(store, "memory", MODEL, fresh[4], 1)[0][0] == 904


def test_within_is_honoured_small_and_large(store):
    x = fill(store)
    q = x[0]
    small = list(range(100, 130))
    got = vectors.nearest(store, "memory", MODEL, q, 10, small)
    assert ids(got) == ids(vectors._exact(store, "memory", MODEL, q, 10, small))
    large = list(range(150, 400))
    got = vectors.nearest(store, "memory", MODEL, q, 10, large)
    assert len(got) == 10 and set(ids(got)) <= set(large)
    want = ids(vectors._exact(store, "memory", MODEL, q, 10, large))
    assert len(set(ids(got)) & set(want)) >= 9
    assert vectors.nearest(store, "memory", MODEL, q, 10, iter(large))  # any iterable
    assert vectors.nearest(store, "memory", MODEL, q, 10, []) == []


def test_in_memory_database_and_unwritable_folder_keep_the_index_in_memory(tmp_path, monkeypatch):
    mem = Store(":memory:")
    fill(mem)
    assert ann.sidecar_path(mem, "memory", MODEL) is None
    assert vectors.nearest(mem, "memory", MODEL, clustered(1, 2)[0], 3)
    mem.close()
    disk = Store(str(tmp_path / "ro.db"))
    x = fill(disk)

    def refuse(*a, **k):
        raise PermissionError("read-only folder")

    monkeypatch.setattr(ann.os, "replace", refuse)
    assert vectors.nearest(disk, "memory", MODEL, x[5], 1)[0][0] == 6
    assert not ann.sidecar_path(disk, "memory", MODEL).exists()
    assert not list(tmp_path.glob("*.tmp"))
    disk.close()


class BigramEmbedder:
    """Deterministic stand-in for e5: hashed CJK bigrams and words, so 小白 finds 小白."""

    name, dim = MODEL, DIM

    def _one(self, text: str) -> np.ndarray:
        v = np.zeros(DIM, np.float32)
        for tok in " ".join(index_columns(text.lower())).split():
            v[int(hashlib.md5(tok.encode()).hexdigest(), 16) % DIM] += 1.0
        return v / max(np.linalg.norm(v), 1e-9)

    def passages(self, texts):
        return np.stack([self._one(t) for t in texts])

    def query(self, text):
        return self._one(text)


def test_retrieval_through_the_index_in_chinese_and_english(store):
    rng = np.random.default_rng(0)
    filler = [f"note {i}: " + " ".join(rng.choice(["tea", "rain", "bus", "book", "work", "雨天", "公交", "看书"], 4))
              for i in range(300)]  # fmt: skip
    for t in filler:
        add_memory(store, t)
    cat = add_memory(store, "我的猫叫小白，喜欢在窗台上睡觉")
    job = add_memory(store, "Sam works as a nurse in Hangzhou")
    embedder = BigramEmbedder()
    embed_pending(store, embedder, kinds=("memory",))
    assert ann.search(store, "memory", MODEL, embedder.query("小白"), 5) is not None  # the index answers
    assert vectors.nearest(store, "memory", MODEL, embedder.query("我的猫叫小白"), 1)[0][0] == cat
    assert vectors.nearest(store, "memory", MODEL, embedder.query("Sam works as a nurse"), 1)[0][0] == job
    top = retrieve(store, "猫叫小白", embedder=embedder, sources=("memory",))[0]
    assert (top.kind, top.id) == ("memory", cat) and "vector" in top.why
    top = retrieve(store, "where does Sam work as a nurse", embedder=embedder, sources=("memory",))[0]
    assert (top.kind, top.id) == ("memory", job)
    forget_memory(store, cat)
    assert all(h.id != cat for h in retrieve(store, "猫叫小白", embedder=embedder, sources=("memory",)))
