"""Embedding vectors for memories and messages, stored beside them and searched with sqlite-vec.

Vectors are plain float32 BLOBs keyed by (owner kind, owner id, model), so a store can hold the
vectors of several embedders and anything can be re-embedded; `vec_distance_cosine` ranks them.
Above `ann.THRESHOLD` vectors of one kind and model, an approximate index (`ann.py`, a cache the
table always overrules) answers instead, because exact search grows with every vector.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

import numpy as np
import sqlalchemy as sa

from hearth.store import Store, ann
from hearth.store import schema as s

E = s.embeddings.c

CONTEXT = "+ctx1"
"""A message's vector embeds the turn before it too (see `missing`), so its model key says so:
vectors of the plain turn, from an older hearth, are never mixed with these (migration 0009)."""
PARENT_CHARS = 512
"""How much of the turn before (its end) a message's passage carries: enough to say what the turn
answers, little enough that the turn itself stays inside the embedder's window."""


def key(owner_kind: str, model: str) -> str:
    """The model key a vector of this kind is stored under."""
    return model + CONTEXT if owner_kind == "message" else model


def _pending(owner_kind: str, model: str, columns: list) -> sa.Select:
    table = s.memories if owner_kind == "memory" else s.messages
    t = table.c
    model = key(owner_kind, model)
    q = sa.select(*columns).where(
        ~sa.exists().where(E.owner_kind == owner_kind, E.owner_id == t.id, E.model == model), t.text != ""
    )
    if owner_kind == "memory":
        return q.where(t.superseded_by.is_(None))
    return q.where(t.hidden.is_(False), t.role.in_(s.RECALLED_ROLES))


def missing(store: Store, owner_kind: str, model: str, limit: int = 256) -> list[tuple[int, str]]:
    """(id, passage) of memories or visible messages that have no vector from `model` yet.

    A message's passage is "who: text", after the end of the turn it answers on the line before:
    a short turn ("They're tough kids") means what it means because of that turn, and a question
    about the moment should find it. The search row and the text recalled stay the turn alone."""
    t = (s.memories if owner_kind == "memory" else s.messages).c
    if owner_kind == "memory":
        q = _pending(owner_kind, model, [t.id, t.text]).order_by(t.id).limit(limit)
        with store.engine.connect() as conn:
            return [(r[0], r[1]) for r in conn.execute(q)]
    p = s.messages.alias("context")
    parent_ok = sa.and_(p.c.hidden.is_(False), p.c.role.in_(s.RECALLED_ROLES), p.c.text != "")
    q = (
        _pending(owner_kind, model, [t.id, t.text, t.author_name, p.c.text, p.c.author_name])
        .outerjoin(p, sa.and_(p.c.id == t.parent_id, parent_ok))
        .order_by(t.id)
        .limit(limit)
    )
    with store.engine.connect() as conn:
        return [(r[0], _passage(r[1], r[2], r[3], r[4])) for r in conn.execute(q)]


def _passage(text: str, author: str | None, before: str | None, before_author: str | None) -> str:
    own = f"{author}: {text}" if author else text
    if not before:
        return own
    before = before[-PARENT_CHARS:]
    return f"{before_author}: {before}\n{own}" if before_author else f"{before}\n{own}"


def count_missing(store: Store, owner_kind: str, model: str) -> int:
    with store.engine.connect() as conn:
        return conn.execute(_pending(owner_kind, model, [sa.func.count()])).scalar_one()


def has_any(store: Store, model: str, kinds: Iterable[str] = ("memory", "message")) -> bool:
    """Whether any vector of these kinds exists from `model`: without one, a query need not be embedded."""
    queries = [sa.select(E.owner_id).where(E.owner_kind == k, E.model == key(k, model)).limit(1) for k in kinds]
    with store.engine.connect() as conn:
        return any(conn.execute(q).first() for q in queries)


def put(store: Store, owner_kind: str, model: str, ids: Sequence[int], vectors: np.ndarray) -> None:
    vectors = np.asarray(vectors, dtype=np.float32)
    model = key(owner_kind, model)
    now = time.time()
    rows = [
        {"owner_kind": owner_kind, "owner_id": int(i), "model": model, "dim": vectors.shape[1],
         "vector": v.tobytes(), "created_at": now}
        for i, v in zip(ids, vectors, strict=True)
    ]  # fmt: skip
    with store.write() as conn, conn.begin():
        if conn.dialect.name == "sqlite":
            conn.execute(s.embeddings.insert().prefix_with("OR REPLACE"), rows)
        elif has_pgvector(store):
            for row, v in zip(rows, vectors, strict=True):
                row["embedding"] = _literal(v)
            conn.execute(sa.text(
                "INSERT INTO embeddings (owner_kind, owner_id, model, dim, vector, created_at, embedding) VALUES "
                "(:owner_kind, :owner_id, :model, :dim, :vector, :created_at, CAST(:embedding AS vector)) "
                "ON CONFLICT (owner_kind, owner_id, model) DO UPDATE SET dim = EXCLUDED.dim, "
                "vector = EXCLUDED.vector, created_at = EXCLUDED.created_at, embedding = EXCLUDED.embedding"
            ), rows)  # fmt: skip
            _ensure_hnsw(conn, owner_kind, model, int(vectors.shape[1]))
        else:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            stmt = pg_insert(s.embeddings)
            conn.execute(stmt.on_conflict_do_update(
                index_elements=["owner_kind", "owner_id", "model"],
                set_={"dim": stmt.excluded.dim, "vector": stmt.excluded.vector, "created_at": stmt.excluded.created_at},
            ), rows)  # fmt: skip


def nearest(
    store: Store, owner_kind: str, model: str, query: np.ndarray, k: int = 50, within: Iterable[int] | None = None
) -> list[tuple[int, float]]:
    """(id, cosine distance) of the k closest vectors, closest first.

    Exact while the vectors are few (or `within` is small); above that, approximate through the
    index, whose candidates are re-scored from this table (see ann.py)."""
    model = key(owner_kind, model)
    if store.engine.dialect.name == "sqlite":
        if within is not None and not isinstance(within, list | tuple | set | frozenset):
            within = list(within)
        found = ann.search(store, owner_kind, model, query, k, within)
        if found is not None:
            return found
    return _exact(store, owner_kind, model, query, k, within)


def _exact(
    store: Store, owner_kind: str, model: str, query: np.ndarray, k: int, within: Iterable[int] | None
) -> list[tuple[int, float]]:
    if store.engine.dialect.name != "sqlite":
        if within is None and has_pgvector(store):
            return _pgvector_nearest(store, owner_kind, model, query, k)
        return _exact_numpy(store, owner_kind, model, query, k, within)
    q = np.asarray(query, dtype=np.float32).tobytes()
    where = ""
    if within is not None:
        where = f" AND owner_id IN ({','.join(str(int(i)) for i in within) or 'NULL'})"
    sql = sa.text(
        "SELECT owner_id, vec_distance_cosine(vector, :q) AS d FROM embeddings "
        f"WHERE owner_kind = :kind AND model = :model{where} ORDER BY d LIMIT :k"
    )
    with store.engine.connect() as conn:
        return [(r[0], r[1]) for r in conn.execute(sql, {"q": q, "kind": owner_kind, "model": model, "k": k})]


def _exact_numpy(
    store: Store, owner_kind: str, model: str, query: np.ndarray, k: int, within: Iterable[int] | None
) -> list[tuple[int, float]]:
    """Exact cosine search in numpy over the stored vectors (engines without a vector index)."""
    q = sa.select(E.owner_id, E.vector).where(E.owner_kind == owner_kind, E.model == model)
    if within is not None:
        q = q.where(E.owner_id.in_([int(i) for i in within]))
    with store.engine.connect() as conn:
        rows = conn.execute(q).all()
    if not rows:
        return []
    matrix = np.frombuffer(b"".join(bytes(r[1]) for r in rows), dtype=np.float32).reshape(len(rows), -1)
    v = np.asarray(query, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(v) or 1.0)
    distance = 1.0 - (matrix @ v) / np.where(norms == 0, 1.0, norms)
    best = np.argsort(distance, kind="stable")[:k]
    return [(int(rows[i][0]), float(distance[i])) for i in best]


# ------------------------------------------------------------------ PostgreSQL + pgvector

_pgvector: dict[str, bool] = {}
EF_SEARCH = 200
"""Candidates HNSW keeps per query (pgvector's default, 40, would cap results below k = 50)."""


def has_pgvector(store: Store) -> bool:
    """Whether this PostgreSQL store keeps pgvector values (migration 0007, when pgvector exists)."""
    key = store.engine.url.render_as_string(hide_password=True)
    if key not in _pgvector:
        with store.engine.connect() as conn:
            _pgvector[key] = bool(conn.execute(sa.text(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'embeddings' AND column_name = 'embedding'"
            )).first())  # fmt: skip
    return _pgvector[key]


def _literal(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.9g}" for x in np.asarray(v, dtype=np.float32).tolist()) + "]"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ensure_hnsw(conn: sa.Connection, owner_kind: str, model: str, dim: int) -> None:
    """One HNSW index per (kind, model, dimension): an index needs a fixed dimension, and the
    partial predicate lets each search use the index of its own model."""
    import zlib

    name = f"ix_embeddings_hnsw_{zlib.crc32(f'{owner_kind}|{model}|{dim}'.encode()):08x}"
    conn.exec_driver_sql(
        f"CREATE INDEX IF NOT EXISTS {name} ON embeddings USING hnsw ((embedding::vector({dim})) vector_cosine_ops) "
        f"WHERE owner_kind = {_quote(owner_kind)} AND model = {_quote(model)}"
    )


def _pgvector_nearest(store: Store, owner_kind: str, model: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
    dim = int(np.asarray(query).shape[-1])
    sql = sa.text(
        f"SELECT owner_id, (embedding::vector({dim})) <=> CAST(:q AS vector({dim})) AS d FROM embeddings "
        f"WHERE owner_kind = {_quote(owner_kind)} AND model = {_quote(model)} ORDER BY d LIMIT :k"
    )
    with store.engine.connect() as conn, conn.begin():
        conn.exec_driver_sql(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH, 2 * k)}")
        return [(int(r[0]), float(r[1])) for r in conn.execute(sql, {"q": _literal(query), "k": k})]
