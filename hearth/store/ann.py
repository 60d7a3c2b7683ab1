"""Approximate nearest-neighbour index over the `embeddings` table: a cache, never the truth.

Exact cosine over every vector (sqlite-vec) costs ~0.9 µs a vector here: 9 ms at 10 k, 93 ms at
100 k. Above `THRESHOLD` vectors of one (owner kind, model), `vectors.nearest` asks this index: an
hnswlib HNSW graph labelled by owner id (chosen by measurement, see bench/RESULTS.md: unlike
faiss's HNSW it keeps its recall when vectors are added after the build).

Correctness comes from the table, not from the index:
- every candidate the graph proposes is looked up in `embeddings` again and scored with its stored
  float32 vector, so a deleted vector (a forgotten or edited memory) is never returned and every
  distance is exact; a candidate that is gone is marked deleted in the graph;
- rows written since the index was built are found by rowid (`rowid > watermark`, and a walk down
  from the watermark when its row was deleted and SQLite handed rowids out again), searched exactly
  in a small delta and added to the graph in batches;
- the sidecar beside the database (`<db>.<kind>-<model>.ann`, hnswlib's file, and `….ann.meta`: a
  header with the format, parameters and the data file's CRC, plus each label's rowid) is rebuilt
  when anything does not match, and a loaded one is reconciled row by row with the table (a
  restored backup, a copy from another database).
`:memory:` databases, or a folder that cannot be written, keep the index in memory only.
"""

from __future__ import annotations

import json
import os
import re
import struct
import threading
import time
import weakref
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

THRESHOLD = 5_000
"""Above this many vectors of one kind and model the index answers; below, exact search is as fast."""
WITHIN_EXACT = 5_000
"""A `within` filter of at most this many ids is searched exactly (a graph filtered that hard misses)."""
M, EF_CONSTRUCTION, EF_SEARCH, CANDIDATES = 16, 64, 512, 100
"""Graph degree and beam widths; the `CANDIDATES` best are re-scored exactly and the k best returned."""
DELTA_MERGE = 1024
"""New rows are searched exactly until this many have gathered, then added to the graph at once."""
REBUILD_SHARE = 0.25
"""Rebuild from the table when this share of the graph is deleted (hnswlib keeps deleted nodes)."""
CLOCK_SKEW = 120.0
"""A row stamped up to this many seconds before a snapshot may still commit after it."""
FORMAT, MAGIC = 1, b"HEARTH-ANN\n"
_ROW = "SELECT owner_kind, owner_id, model, created_at FROM embeddings WHERE rowid = ?"


class _Index:
    """One graph for one (owner kind, model, dim); `owners`/`rowids` (sorted by owner) say which
    row each live label was built from."""

    def __init__(self, kind: str, model: str, dim: int, path: Path | None) -> None:
        self.kind, self.model, self.dim, self.path = kind, model, dim, path
        self.graph = None
        self.owners, self.rowids = np.zeros(0, np.int64), np.zeros(0, np.int64)
        self.deleted: set[int] = set()
        self.delta: dict[int, tuple[int, np.ndarray]] = {}
        self._delta_mat: tuple[np.ndarray, np.ndarray] | None = None
        self.watermark, self.stamp, self.snap_time = 0, None, 0.0
        self.build_s, self.saved_count, self.lock = 0.0, 0, threading.Lock()

    def _snapshot(self, cur) -> tuple[int, tuple | None]:
        top = cur.execute("SELECT max(rowid) FROM embeddings").fetchone()[0] or 0
        row = cur.execute(_ROW, (top,)).fetchone()
        return top, tuple(row) if row else None

    def _new_graph(self, capacity: int):
        import hnswlib

        graph = hnswlib.Index(space="ip", dim=self.dim)
        graph.init_index(max_elements=max(capacity, 1024), M=M, ef_construction=EF_CONSTRUCTION, random_seed=1)
        return graph

    def build(self, raw) -> None:
        """Read every vector of this kind and model (one read transaction) into a new graph, in
        chunks: hnswlib inserts one by one, so memory holds the graph and one chunk."""
        t0, cur = time.perf_counter(), raw.cursor()
        pairs: list[np.ndarray] = []
        try:
            self.snap_time = time.time()
            self.watermark, self.stamp = self._snapshot(cur)
            n = cur.execute("SELECT count(*) FROM embeddings WHERE owner_kind = ? AND model = ?",
                            (self.kind, self.model)).fetchone()[0]  # fmt: skip
            graph = self._new_graph(int(n * 1.1) + 1024)
            cur.execute("SELECT rowid, owner_id, vector FROM embeddings WHERE owner_kind = ? AND model = ? "
                        "AND dim = ? AND rowid <= ?", (self.kind, self.model, self.dim, self.watermark))  # fmt: skip
            while chunk := cur.fetchmany(50_000):
                vectors = np.frombuffer(b"".join(r[2] for r in chunk), np.float32).reshape(-1, self.dim)
                ids = np.array([(r[1], r[0]) for r in chunk], np.int64).reshape(-1, 2)
                graph.add_items(_normalise(vectors.copy()), ids[:, 0], num_threads=os.cpu_count() or 1)
                pairs.append(ids)
        finally:
            cur.close()
        both = np.concatenate(pairs) if pairs else np.zeros((0, 2), np.int64)
        order = np.argsort(both[:, 0], kind="stable")
        self.graph, self.owners, self.rowids = graph, both[order, 0], both[order, 1]
        self.deleted, self.delta, self._delta_mat = set(), {}, None
        self.build_s = time.perf_counter() - t0
        self.save()

    # ------------------------------------------------------------ keeping up with the table

    def refresh(self, raw) -> None:
        """Take in rows written since the last look: above the watermark, and below it when the
        watermark row is gone (SQLite then hands its rowid, and those under it, out again)."""
        cur = raw.cursor()
        try:
            snap_time = time.time()
            top, stamp = self._snapshot(cur)
            if top == self.watermark and stamp == self.stamp:
                return
            at_mark = cur.execute(_ROW, (self.watermark,)).fetchone()
            if at_mark is None or tuple(at_mark) != self.stamp:
                cur.execute("SELECT rowid, owner_kind, owner_id, model, dim, vector, created_at FROM embeddings "
                            "WHERE rowid <= ? ORDER BY rowid DESC", (self.watermark,))  # fmt: skip
                for rowid, kind, owner, model, dim, blob, created in cur:
                    if created < self.snap_time - CLOCK_SKEW:
                        break
                    if (kind, model, dim) == (self.kind, self.model, self.dim):
                        self._add_delta(owner, rowid, blob)
            # `+column` keeps SQLite on the rowid range instead of scanning the whole kind by index
            cur.execute("SELECT rowid, owner_id, vector FROM embeddings WHERE rowid > ? AND rowid <= ? "
                        "AND +owner_kind = ? AND +model = ? AND +dim = ?",
                        (self.watermark, top, self.kind, self.model, self.dim))  # fmt: skip
            for rowid, owner, blob in cur:
                self._add_delta(owner, rowid, blob)
            self.watermark, self.stamp, self.snap_time = top, stamp, snap_time
        finally:
            cur.close()
        if len(self.delta) >= DELTA_MERGE:
            self.merge()

    def _add_delta(self, owner: int, rowid: int, blob: bytes) -> None:
        self.delta[owner] = (rowid, np.frombuffer(blob, np.float32))
        self._delta_mat = None

    def merge(self) -> None:
        """Add the delta to the graph (an owner already there gets its new vector); save now and then."""
        if not self.delta:
            return
        owners = np.fromiter(self.delta, np.int64, len(self.delta))
        rowids = np.array([r for r, _ in self.delta.values()], np.int64)
        vectors = _normalise(np.stack([v for _, v in self.delta.values()]).astype(np.float32))
        need = self.graph.get_current_count() + len(owners)
        if need > self.graph.get_max_elements():
            self.graph.resize_index(int(need * 1.5))
        self.graph.add_items(vectors, owners, num_threads=1)  # re-adding a deleted label revives it
        self.deleted.difference_update(owners.tolist())
        both = np.concatenate([np.stack([self.owners, self.rowids], 1), np.stack([owners, rowids], 1)])
        last = len(both) - 1 - np.unique(both[::-1, 0], return_index=True)[1]  # the newest rowid per owner
        self.owners, self.rowids = both[last, 0], both[last, 1]
        self.delta, self._delta_mat = {}, None
        if len(self.owners) - self.saved_count >= max(DELTA_MERGE, 0.05 * self.saved_count):
            self.save()

    def reconcile(self, raw) -> bool:
        """Compare a loaded graph with the table row by row: rows it lacks or holds an older vector
        of go to the delta, owners whose row is gone are deleted. False when so much differs that a
        rebuild is cheaper."""
        cur = raw.cursor()
        try:
            self.snap_time = time.time()
            self.watermark, self.stamp = self._snapshot(cur)
            table = np.array(cur.execute("SELECT owner_id, rowid FROM embeddings WHERE owner_kind = ? AND model = ? "
                                         "AND rowid <= ?", (self.kind, self.model, self.watermark)).fetchall(),
                             np.int64).reshape(-1, 2)  # fmt: skip
            table = table[np.argsort(table[:, 0])]
            pos = np.clip(np.searchsorted(self.owners, table[:, 0]), 0, max(0, len(self.owners) - 1))
            known = (self.owners[pos] == table[:, 0]) if len(self.owners) else np.zeros(len(table), bool)
            fresh = table[~known | (self.rowids[pos] != table[:, 1])] if len(self.owners) else table
            gone = np.setdiff1d(self.owners, table[:, 0], assume_unique=True)
            if len(gone) + len(fresh) > REBUILD_SHARE * max(1, len(table)):
                return False
            self._delete(gone)
            for i in range(0, len(fresh), 500):
                part = fresh[i : i + 500, 1].tolist()
                sql = f"SELECT rowid, owner_id, vector FROM embeddings WHERE rowid IN ({','.join('?' * len(part))})"
                for rowid, owner, blob in cur.execute(sql + " AND dim = ?", (*part, self.dim)).fetchall():
                    self._add_delta(owner, rowid, blob)
        finally:
            cur.close()
        return True

    def _delete(self, owners: Iterable[int]) -> None:
        for owner in owners:
            owner = int(owner)
            if owner not in self.deleted:
                try:
                    self.graph.mark_deleted(owner)
                except RuntimeError:  # not in the graph (a delta row)
                    continue
                self.deleted.add(owner)

    @property
    def stale(self) -> bool:
        return len(self.deleted) > REBUILD_SHARE * max(1, self.graph.get_current_count())

    # ------------------------------------------------------------ search

    def search(self, raw, query: np.ndarray, k: int, within: np.ndarray | None) -> list[tuple[int, float]] | None:
        """(owner id, cosine distance) of the k nearest, re-scored from the table; None: go exact."""
        q = np.ascontiguousarray(query, np.float32).reshape(1, -1)
        q = q / max(float(np.linalg.norm(q)), 1e-12)
        live = self.graph.get_current_count() - len(self.deleted)
        allowed = None if within is None else set(within.tolist())
        if allowed is not None:
            live = int(np.isin(within, self.owners).sum())
        want = min(max(CANDIDATES, 2 * k), live)
        candidates: set[int] = set()
        if want > 0:
            self.graph.set_ef(max(EF_SEARCH, want))
            try:
                labels, _ = self.graph.knn_query(q, k=want, num_threads=1,
                                                 filter=None if allowed is None else allowed.__contains__)  # fmt: skip
            except RuntimeError:  # fewer reachable than asked: a filter too tight for the graph
                return None
            candidates.update(int(x) for x in labels[0])
        if self.delta:
            if self._delta_mat is None:
                ids = np.fromiter(self.delta, np.int64, len(self.delta))
                self._delta_mat = (ids, _normalise(np.stack([v for _, v in self.delta.values()]).astype(np.float32)))
            ids, mat = self._delta_mat
            if within is not None:
                keep = np.isin(ids, within)
                ids, mat = ids[keep], mat[keep]
            live += len(ids)
            candidates.update(ids[np.argsort(-(mat @ q[0]))[: max(CANDIDATES, 2 * k)]].tolist())
        found = _rescore(raw, self.kind, self.model, self.dim, q[0], candidates)
        gone = [o for o in candidates if o not in found]
        if gone:
            self._delete(gone)
            for owner in gone:
                if self.delta.pop(owner, None) is not None:
                    self._delta_mat = None
        ranked = sorted(found.items(), key=lambda kv: (kv[1], kv[0]))[:k]
        if len(ranked) < min(k, live - len(gone)):
            return None  # most candidates were gone: exact this time
        return ranked

    # ------------------------------------------------------------ the sidecar files

    def save(self) -> None:
        """Write the graph, then its meta file (header with the graph's CRC, owners, rowids), each
        to a temp file renamed into place; a half-replaced pair fails the CRC. A failure to write
        keeps the index in memory only."""
        if self.path is None:
            return
        meta, tmp, tmp_meta = _meta(self.path), self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp"), None
        try:
            self.graph.save_index(str(tmp))
            arrays = [np.ascontiguousarray(a, "<i8").tobytes() for a in (self.owners, self.rowids,
                      np.fromiter(self.deleted, np.int64, len(self.deleted)))]  # fmt: skip
            header = json.dumps({
                "format": FORMAT, "kind": self.kind, "model": self.model, "dim": self.dim, "params": _params_stamp(),
                "graph_bytes": tmp.stat().st_size, "graph_crc32": _crc_file(tmp), "sizes": [len(a) for a in arrays],
                "count": self.graph.get_current_count(), "built_s": self.build_s, "saved_at": time.time(),
            }).encode()  # fmt: skip
            tmp_meta = meta.with_name(f"{meta.name}.{os.getpid()}.tmp")
            tmp_meta.write_bytes(MAGIC + struct.pack("<Q", len(header)) + header + b"".join(arrays))
            os.replace(tmp, self.path)
            os.replace(tmp_meta, meta)
            self.saved_count = len(self.owners)
        except (OSError, RuntimeError):
            for leftover in (tmp, tmp_meta):
                if leftover is not None:
                    leftover.unlink(missing_ok=True)
            self.path = None

    def load(self) -> bool:
        """Read a sidecar whose header, sizes and CRC all match; False for anything else."""
        import hnswlib

        if self.path is None or not self.path.exists() or not _meta(self.path).exists():
            return False
        try:
            data = _meta(self.path).read_bytes()
            if not data.startswith(MAGIC):
                return False
            (length,) = struct.unpack_from("<Q", data, len(MAGIC))
            start = len(MAGIC) + 8 + length
            header = json.loads(data[len(MAGIC) + 8 : start])
            expected = {"format": FORMAT, "kind": self.kind, "model": self.model, "dim": self.dim,
                        "params": _params_stamp()}  # fmt: skip
            sizes = [int(x) for x in header["sizes"]]
            if any(header.get(key) != value for key, value in expected.items()):
                return False
            if len(sizes) != 3 or len(data) != start + sum(sizes):
                return False
            if self.path.stat().st_size != header["graph_bytes"] or _crc_file(self.path) != header["graph_crc32"]:
                return False
            cuts = np.cumsum([start, *sizes]).tolist()
            owners, rowids, deleted = (
                np.frombuffer(data[a:b], "<i8").astype(np.int64) for a, b in zip(cuts[:-1], cuts[1:], strict=True)
            )
            graph = hnswlib.Index(space="ip", dim=self.dim)
            graph.load_index(str(self.path), max_elements=int(header["count"] * 1.1) + 1024)
            if graph.get_current_count() != header["count"] or len(owners) != len(rowids):
                return False
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, struct.error):
            return False
        self.graph, self.owners, self.rowids, self.deleted = graph, owners, rowids, set(deleted.tolist())
        self.build_s, self.saved_count = float(header.get("built_s") or 0.0), len(owners)
        return True


def _meta(path: Path) -> Path:
    return path.with_name(path.name + ".meta")


def _crc_file(path: Path) -> int:
    crc = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 24):
            crc = zlib.crc32(block, crc)
    return crc


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def _params_stamp() -> dict:
    import hnswlib

    version = getattr(hnswlib, "__version__", None) or "0"
    return {"library": "hnswlib", "major": str(version).split(".")[0], "space": "ip", "M": M,
            "ef_construction": EF_CONSTRUCTION}  # fmt: skip


def _rescore(raw, kind: str, model: str, dim: int, q: np.ndarray, owners: set[int]) -> dict[int, float]:
    """Exact cosine distance of each candidate that still has a vector in the table."""
    out: dict[int, float] = {}
    todo = list(owners)
    for i in range(0, len(todo), 500):
        part = todo[i : i + 500]
        rows = raw.execute(
            "SELECT owner_id, vector FROM embeddings WHERE owner_kind = ? AND model = ? AND dim = ? "
            f"AND owner_id IN ({','.join('?' * len(part))})",
            (kind, model, dim, *part),
        ).fetchall()
        if rows:
            mat = np.frombuffer(b"".join(r[1] for r in rows), np.float32).reshape(len(rows), dim)
            cos = (mat @ q) / np.maximum(np.linalg.norm(mat, axis=1), 1e-12)
            out.update(zip((r[0] for r in rows), (1.0 - cos).tolist(), strict=True))
    return out


# ---------------------------------------------------------------- per store, per (kind, model, dim)

_states: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_states_lock = threading.Lock()


def sidecar_path(store, owner_kind: str, model: str) -> Path | None:
    """`<db>.<kind>-<model>.ann` beside a SQLite file; None for `:memory:`, other engines, and an
    encrypted store (a plain file of its vectors beside it would give away what it protects)."""
    url = store.engine.url
    if getattr(store, "encrypted", False):
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:") or url.database.startswith("file:"):
        return None
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", model)
    if slug != model:
        slug += f"-{zlib.crc32(model.encode()):08x}"
    db = Path(url.database)
    return db.with_name(f"{db.name}.{owner_kind}-{slug}.ann")


def _state(store, raw, owner_kind: str, model: str, dim: int) -> _Index | None:
    """The loaded index, or None while the vectors are few enough for exact search (or hnswlib is
    missing). Counting uses the primary-key index alone; it is redone only when rows were added."""
    with _states_lock:
        states = _states.setdefault(store, {})
        key = (owner_kind, model, dim)
        state = states.get(key)
        if isinstance(state, _Index):
            return state
        top = raw.execute("SELECT max(rowid) FROM embeddings").fetchone()[0] or 0
        if state is None or state[0] != top:
            count = raw.execute("SELECT count(*) FROM embeddings WHERE owner_kind = ? AND model = ?",
                                (owner_kind, model)).fetchone()[0]  # fmt: skip
            states[key] = state = (top, count)
        if state[1] <= THRESHOLD:
            return None
        try:
            import hnswlib  # noqa: F401
        except ImportError:
            return None
        index = _Index(owner_kind, model, dim, sidecar_path(store, owner_kind, model))
        if not (index.load() and index.reconcile(raw)):
            index.build(raw)
        states[key] = index
        return index


def search(
    store, owner_kind: str, model: str, query: np.ndarray, k: int, within: Iterable[int] | None = None
) -> list[tuple[int, float]] | None:
    """The k nearest (owner id, cosine distance) through the index, or None when exact search
    should answer: few vectors, a small `within`, or a search whose candidates were mostly gone."""
    q = np.asarray(query, np.float32).reshape(-1)
    ids = None
    if within is not None:
        ids = np.unique(np.fromiter((int(i) for i in within), np.int64))
        if len(ids) <= WITHIN_EXACT:
            return None
    with store.engine.connect() as conn, conn.begin():
        raw = conn.connection.driver_connection
        index = _state(store, raw, owner_kind, model, len(q))
        if index is None:
            return None
        with index.lock:
            index.refresh(raw)
            if index.stale:
                index.build(raw)
            return index.search(raw, q, k, ids)


def ensure(store, owner_kind: str, model: str, dim: int) -> dict | None:
    """Load, reconcile or build the index now (after a bulk embedding, say) rather than on the
    first search; what it did, or None when the vectors are few enough for exact search."""
    with store.engine.connect() as conn, conn.begin():
        raw = conn.connection.driver_connection
        t0 = time.perf_counter()
        index = _state(store, raw, owner_kind, model, dim)
        if index is None:
            return None
        with index.lock:
            index.refresh(raw)
            index.merge()
        return {"vectors": index.graph.get_current_count() - len(index.deleted),
                "seconds": round(time.perf_counter() - t0, 3), "build_s": round(index.build_s, 3),
                "path": str(index.path) if index.path else None}  # fmt: skip


def forget(store) -> None:
    """Drop this process's in-memory indexes of a store (the sidecar files stay)."""
    with _states_lock:
        _states.pop(store, None)
