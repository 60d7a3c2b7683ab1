"""Memory retrieval benchmark on LoCoMo: does what hearth retrieves for a question hold the turns
that answer it? Hybrid retrieval against pure BM25 and "the whole history cut to the budget".

    python bench/memory_bench.py                                   # all 7 conversations, 1,347 questions
    python bench/memory_bench.py --limit-conversations 1 --limit-questions 20 --no-write --json

Each LoCoMo conversation goes through hearth's real path into a fresh temporary SQLite store: one
`Conversation` per session (LoCoMo sessions are separate chats days or weeks apart, like the
conversations of an export), one `Message` per turn with `source_id` = its `dia_id` and the
speaker in `author_name`; speaker A is the `user`, speaker B the `assistant`. The deterministic
extractor (`hearth.memory.extract`, when present) runs twice, once with each speaker as the
`user`, so the facts of both people become memories (keyed by the speaker's name) with provenance;
then `embed_pending` with the bundled e5 embedder, and `retrieve(..., budget_tokens=2000)` per
question. An item covers an evidence turn when it is that message or a memory citing it.
recall@k is the share of a question's evidence turns covered by the first k items returned,
averaged over questions; recall@budget uses every item returned within the budget.

Baselines in the same run, over the same store and the same token estimate:
  bm25        hearth's `lexical_messages` alone (FTS5 bm25 over the same CJK-aware tokens, any
              query word may match), turns packed greedily into the budget;
  last/first  the last (what a plain context window keeps) / first turns that fit the budget;
  hybrid-msgs `retrieve(..., sources=("message",))`: the hybrid without memories;
  no-context  `retrieve(..., context=False)`: the hybrid without context lending (each message
              still embedded after the turn before it).
Image turns carry their BLIP caption as "[shared a photo: …]", as LoCoMo's own evaluation does.
`--experiment NAME` monkeypatches a proposed retrieval change for a labelled run; it never writes RESULTS.md.
Data: LoCoMo (Maharana et al., ACL 2024), CC BY-NC 4.0, read from --data, never copied here.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from hearth.memory.embed import default_embedder
from hearth.memory.retrieve import Hit, embed_pending, pack, retrieve
from hearth.memory.tokens import estimate_tokens
from hearth.records import Conversation, Message
from hearth.store import Store
from hearth.store import schema as s
from hearth.store.memories import add_memory, lexical_messages
from results import write_section

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "locomo" / "locomo7.json"
BUDGET = 2000
KS = (5, 10)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
ARMS = ("hybrid", "bm25", "last", "first", "hybrid-msgs", "no-context")
DIA_ID = re.compile(r"D\d+:\d+")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def load_extractor():
    try:
        from hearth.memory import extract

        return extract
    except ImportError as exc:
        log(f"note: hearth.memory.extract is not available ({exc}); the hybrid runs over turns only")


# ---------------------------------------------------------------- LoCoMo → hearth records


def session_time(text: str) -> float:
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC).timestamp()


def turn_text(turn: dict) -> str:
    text = turn.get("text") or ""
    if turn.get("blip_caption"):
        text = f"{text} [shared a photo: {turn['blip_caption']}]".strip()
    return text


def to_records(sample: dict) -> list[Conversation]:
    conv = sample["conversation"]
    a, b = conv["speaker_a"], conv["speaker_b"]
    nums = sorted(int(k.split("_")[1]) for k in conv if re.fullmatch(r"session_\d+", k) and conv[k])
    out = []
    for n in nums:
        start = session_time(conv[f"session_{n}_date_time"])
        msgs, parent = [], None
        for i, t in enumerate(conv[f"session_{n}"]):
            role = "user" if t["speaker"] == a else "assistant"
            msgs.append(Message(t["dia_id"], parent, role, text=turn_text(t), author_name=t["speaker"],
                                created_at=start + 30 * i, visible=True, raw=t))  # fmt: skip
            parent = t["dia_id"]
        out.append(Conversation("locomo", f"{sample.get('sample_id', a)}/session_{n}", title=f"{a} & {b}, session {n}",
                                created_at=start, updated_at=msgs[-1].created_at, companion=b,
                                current_node=parent, messages=msgs))  # fmt: skip
    return out


def parse_evidence(raw: object, known: set[str], counts: dict[str, int]) -> list[str]:
    """Valid, known dia_ids of a question ("D8:6; D9:17" is split; "D", "D:11:26" are malformed)."""
    ids: list[str] = []
    for item in raw if isinstance(raw, list) else []:
        for part in filter(None, re.split(r"[;,\s]+", str(item))):
            if not DIA_ID.fullmatch(part):
                counts["malformed_ids"] += 1
            elif part not in known:
                counts["unknown_ids"] += 1
            elif part not in ids:
                ids.append(part)
    return ids


# ---------------------------------------------------------------- building one store


def build_store(sample: dict, path: Path, extractor, stats: dict) -> tuple[Store, dict[str, int], list[tuple], float]:
    store = Store(str(path))
    convs = to_records(sample)
    t = time.perf_counter()
    state = store.begin_import("locomo-" + path.stem, str(path), "locomo", 0)
    store.write_batch(state.id, convs, len(convs))
    store.finish_import(state.id, "done")
    stats["import_s"] += time.perf_counter() - t
    m = s.messages.c
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(m.id, m.source_id, m.text, m.author_name, m.created_at, m.conversation_id)
                            .order_by(m.created_at, m.id)).all()  # fmt: skip
    ids = {r.source_id: r.id for r in rows}
    stats["turns"] += len(rows)
    if extractor is not None:
        t = time.perf_counter()
        stats["memories"] += extract_memories(store, sample["conversation"], rows, extractor, stats)
        stats["extract_s"] += time.perf_counter() - t
    t = time.perf_counter()
    stats["embedded"] += embed_pending(store, bench_embedder())
    stats["embed_s"] += time.perf_counter() - t
    return store, ids, [(r.id, estimate_tokens(r.text)) for r in rows], max(r.created_at for r in rows)


def extract_memories(store: Store, conv: dict, rows: list, ex, stats: dict) -> int:
    """One pass per speaker as the `user`, so both people's facts are extracted and attributed;
    what both passes find (milestones read from either side) is stored once."""
    seen: set[tuple] = set()
    with store.write() as conn, conn.begin():
        for speaker in (conv["speaker_a"], conv["speaker_b"]):
            turns = [ex.Turn(r.id, "user" if r.author_name == speaker else "assistant", r.text, r.created_at,
                             r.conversation_id) for r in rows]  # fmt: skip
            for c in ex.merge_duplicates(ex.extract(turns)):
                key = (c.text, tuple(sorted(set(c.source_message_ids))))
                if key in seen:
                    continue
                seen.add(key)
                add_memory(store, c.text, kind=c.kind, importance=c.importance, source="extract",
                           source_message_ids=c.source_message_ids, event_at=c.event_at, slot=c.slot,
                           value=c.value, language=c.language, keys=[speaker], conn=conn)  # fmt: skip
                stats["memory_sources"] += len(key[1])
    return len(seen)


# ---------------------------------------------------------------- the arms


def packed(ranked: list[tuple[int, float]], tokens: dict[int, int]) -> list[Hit]:
    return pack([Hit("message", i, "", -score, tokens[i]) for i, score in ranked], BUDGET)


def window(turns: list[tuple[int, int]]) -> list[Hit]:
    """Turns in the given order while they fit the budget (a context window keeps a contiguous run)."""
    out, used = [], 0
    for mid, tok in turns:
        if used + tok > BUDGET:
            break
        out.append(Hit("message", mid, "", 0.0, tok))
        used += tok
    return out


class DiskCache:
    """Bench-only speed-up: vectors remembered on disk by (kind, text), so runs that index the same
    text do not re-embed it. The embedder is deterministic, so figures are unchanged."""

    def __init__(self, inner, path: Path) -> None:
        import sqlite3

        self.inner, self.name, self.dim = inner, inner.name, getattr(inner, "dim", 384)
        self.db = sqlite3.connect(str(path))
        self.db.execute("CREATE TABLE IF NOT EXISTS v (kind TEXT, text TEXT, vec BLOB, PRIMARY KEY (kind, text))")

    def _get(self, kind, texts):
        import numpy as np

        out = {}
        for t in set(texts):
            r = self.db.execute("SELECT vec FROM v WHERE kind=? AND text=?", (kind, t)).fetchone()
            if r:
                out[t] = np.frombuffer(r[0], dtype=np.float32)
        todo = [t for t in dict.fromkeys(texts) if t not in out]
        if todo:
            vecs = self.inner.passages(todo) if kind == "p" else [self.inner.query(t) for t in todo]
            for t, v in zip(todo, vecs, strict=True):
                v = np.asarray(v, dtype=np.float32)
                out[t] = v
                self.db.execute("INSERT OR REPLACE INTO v VALUES (?,?,?)", (kind, t, v.tobytes()))
            self.db.commit()
        return out

    def passages(self, texts):
        import numpy as np

        got = self._get("p", texts)
        return np.stack([got[t] for t in texts])

    def query(self, text):
        return self._get("q", [text])[text]


_EMBED_CACHE: list = []


def bench_embedder():
    return _EMBED_CACHE[0] if _EMBED_CACHE else default_embedder()


class CachedQueries:
    """The same embedder, with query vectors remembered so ablation arms do not pay twice."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.dim, self.cache = inner, inner.name, inner.dim, {}

    def passages(self, texts):
        return self.inner.passages(texts)

    def query(self, text):
        return self.cache[text] if text in self.cache else self.cache.setdefault(text, self.inner.query(text))


def recall(hits: list[Hit], evidence: set[int]) -> dict[str, float]:
    def share(items: list[Hit]) -> float:
        got: set[int] = set()
        for h in items:
            got.update([h.id] if h.kind == "message" else h.source_message_ids)
        return len(evidence & got) / len(evidence)

    return {**{f"r@{k}": share(hits[:k]) for k in KS}, "r@budget": share(hits),
            "tokens": sum(h.tokens for h in hits), "items": len(hits)}  # fmt: skip


# ---------------------------------------------------------------- the run


def _covered(hits: list[Hit], evidence: set[int], dia_of: dict[int, str]) -> list[str]:
    """The evidence turns (LoCoMo dia ids) that these hits cover, in the order they are reached."""
    got: list[str] = []
    for h in hits:
        for i in [h.id] if h.kind == "message" else h.source_message_ids:
            if i in evidence and dia_of[i] not in got:
                got.append(dia_of[i])
    return got


def run(args: argparse.Namespace) -> dict:
    data = json.loads(args.data.read_text(encoding="utf-8"))[: args.limit_conversations]
    extractor = load_extractor()
    embedder = CachedQueries(bench_embedder())
    stats = dict.fromkeys(["import_s", "extract_s", "embed_s", "turns", "memories", "memory_sources", "embedded"], 0)
    counts = dict.fromkeys(["questions", "evaluated", "no_evidence", "malformed_ids", "unknown_ids"], 0)
    rows: list[dict] = []
    latency: dict[str, list[float]] = {"hybrid": [], "bm25": []}
    dumped: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, sample in enumerate(data):
            log(f"conversation {n + 1}/{len(data)} ({sample.get('sample_id', '?')}): import, extract, embed …")
            store, ids, turns, last = build_store(sample, Path(tmp) / f"conv{n}.db", extractor, stats)
            tokens, now = dict(turns), last + 86400  # questions are asked the day after the last session
            for q in sample["qa"][: args.limit_questions]:
                counts["questions"] += 1
                ev_ids = parse_evidence(q.get("evidence"), set(ids), counts)
                if not ev_ids:
                    counts["no_evidence"] += 1
                    continue
                counts["evaluated"] += 1
                ev = {ids[e] for e in ev_ids}
                question = str(q["question"])
                t = time.perf_counter()
                results = {"hybrid": retrieve(store, question, budget_tokens=BUDGET, embedder=embedder, now=now)}
                latency["hybrid"].append(time.perf_counter() - t)
                t = time.perf_counter()
                results["bm25"] = packed(lexical_messages(store, question, 300), tokens)
                latency["bm25"].append(time.perf_counter() - t)
                results["last"] = window(turns[::-1])
                results["first"] = window(turns)
                results["hybrid-msgs"] = retrieve(store, question, budget_tokens=BUDGET, embedder=embedder, now=now,
                                                  sources=("message",))  # fmt: skip
                results["no-context"] = retrieve(store, question, budget_tokens=BUDGET, embedder=embedder, now=now,
                                                 context=False)  # fmt: skip
                rows.append({"category": q.get("category"), "conversation": n,
                             **{arm: recall(hits, ev) for arm, hits in results.items()}})  # fmt: skip
                if args.dump:
                    rev = {v: k for k, v in ids.items()}
                    dumped.append({"conv": n, "q": question, "cat": q.get("category"), "ev": ev_ids,
                                   "hybrid": _covered(results["hybrid"], ev, rev),
                                   "bm25": _covered(results["bm25"], ev, rev),
                                   "hybrid_items": [(h.kind, rev.get(h.id, h.id) if h.kind == "message" else h.id,
                                                     h.tokens) for h in results["hybrid"]]})  # fmt: skip
            store.close()
    if args.dump:
        args.dump.write_text(json.dumps(dumped))
    return summarise(rows, counts, stats, latency, extractor is not None, len(data))


def _mean(rows: list[dict], arm: str, key: str) -> float:
    return round(statistics.fmean(r[arm][key] for r in rows), 4) if rows else 0.0


def _block(rows: list[dict]) -> dict:
    return {"questions": len(rows),
            **{arm: {key: _mean(rows, arm, key) for key in [*(f"r@{k}" for k in KS), "r@budget", "tokens", "items"]}
               for arm in ARMS}}  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    return round(1000 * sorted(values)[min(len(values) - 1, int(q * len(values)))], 1) if values else 0.0


def summarise(rows, counts, stats, latency, extracted: bool, conversations: int) -> dict:
    groups = {name: [r for r in rows if r["category"] == c] for c, name in CATEGORIES.items()}
    groups = {k: v for k, v in groups.items() if v}
    groups["overall"] = rows
    groups["overall (1-4)"] = [r for r in rows if r["category"] != 5]
    recall_table = {k: _block(v) for k, v in groups.items()}
    gain = {k: {key: round(100 * (v["hybrid"][key] - v["bm25"][key]), 1) for key in ("r@5", "r@10", "r@budget")}
            for k, v in recall_table.items()}  # fmt: skip
    embedded = max(1, stats["embedded"])
    return {
        "budget_tokens": BUDGET,
        "conversations": conversations,
        "extractor": "hearth.memory.extract" if extracted else "absent (turns only)",
        "counts": {**counts, "turns": stats["turns"], "memories": stats["memories"],
                   "sources_per_memory": round(stats["memory_sources"] / max(1, stats["memories"]), 2)},
        "timings": {"import_s": round(stats["import_s"], 2), "extract_s": round(stats["extract_s"], 2),
                    "embed_s": round(stats["embed_s"], 1), "embedded_items": stats["embedded"],
                    "embed_ms_per_item": round(1000 * stats["embed_s"] / embedded, 1),
                    **{f"{arm}_p{p}_ms": _pct(v, p / 100) for arm, v in latency.items() for p in (50, 95)}},
        "recall": recall_table,
        "gain_over_bm25_points": gain,
    }  # fmt: skip


# ---------------------------------------------------------------- RESULTS.md


def write_results(fig: dict) -> None:
    heading = "## Memory retrieval (LoCoMo)"
    c, t = fig["counts"], fig["timings"]
    lines = [
        f"{heading} (`bench/memory_bench.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')}: {fig['conversations']} LoCoMo conversations, {c['turns']:,} turns, "
        f"{c['evaluated']:,} of {c['questions']:,} questions evaluated ({c['no_evidence']} without a usable "
        f"evidence id; {c['malformed_ids']} malformed and {c['unknown_ids']} unknown ids dropped). "
        f"Budget {fig['budget_tokens']:,} tokens (hearth's estimate). Extractor: {fig['extractor']}, "
        f"{c['memories']:,} memories ({c['sources_per_memory']} source turns each on average).",
        "Recall = share of a question's evidence turns covered by the retrieved items (a turn, or a memory "
        "citing it), averaged over questions; @budget = every item that fits the budget.",
        "Hybrid = `retrieve()` unmodified (lexical + vector lists fused by RRF; each message embedded after the "
        "turn it answers; each message lends half a vote at its rank to the turns before and after it); "
        "BM25 = `lexical_messages()` alone (FTS5 bm25 over the same "
        "tokens, any query word may match), packed into the same budget; last/first = the last/first turns "
        "of the history that fit the budget.",
        "",
        "| category | questions | hybrid @5 | hybrid @10 | hybrid @budget | BM25 @5 | BM25 @10 | BM25 @budget "
        "| last turns @budget | first turns @budget | hybrid − BM25 @budget (points) |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, b in fig["recall"].items():
        h, m = b["hybrid"], b["bm25"]
        lines.append(
            f"| {name} | {b['questions']} | {h['r@5']:.3f} | {h['r@10']:.3f} | {h['r@budget']:.3f} | {m['r@5']:.3f} "
            f"| {m['r@10']:.3f} | {m['r@budget']:.3f} | {b['last']['r@budget']:.3f} | {b['first']['r@budget']:.3f} "
            f"| {fig['gain_over_bm25_points'][name]['r@budget']:+.1f} |"
        )
    o = fig["recall"]["overall"]
    lines += [
        "",
        'Ablations (overall): hybrid over turns only (`sources=("message",)`) '
        f"{o['hybrid-msgs']['r@5']:.3f} / {o['hybrid-msgs']['r@10']:.3f} / {o['hybrid-msgs']['r@budget']:.3f}; "
        "without context lending (`context=False`) "
        f"{o['no-context']['r@5']:.3f} / {o['no-context']['r@10']:.3f} / {o['no-context']['r@budget']:.3f} "
        "(@5 / @10 / @budget). Items within the budget: hybrid "
        f"{o['hybrid']['items']:.0f} ({o['hybrid']['tokens']:.0f} tokens), BM25 {o['bm25']['items']:.0f} "
        f"({o['bm25']['tokens']:.0f} tokens).",
        f"Timings (2-core CPU): import {t['import_s']} s, extraction {t['extract_s']} s, embedding "
        f"{t['embedded_items']:,} items in {t['embed_s']} s ({t['embed_ms_per_item']} ms each); retrieval p50 / p95: "
        f"hybrid {t['hybrid_p50_ms']} / {t['hybrid_p95_ms']} ms (query embedding included), "
        f"BM25 {t['bm25_p50_ms']} / {t['bm25_p95_ms']} ms.",
        f"Goal (hybrid ≥ 15 points above BM25 @budget, overall): "
        f"{'met' if fig['gain_over_bm25_points']['overall']['r@budget'] >= 15 else 'not met'} "
        f"({fig['gain_over_bm25_points']['overall']['r@budget']:+.1f} points).",
        "Data: LoCoMo (Maharana et al., ACL 2024), CC BY-NC 4.0, used for evaluation only.",
    ]
    write_section(heading, lines)


# ---------------------------------------------------------------- experiments (never the headline)


def _retrieve_kw(**fixed):
    """Patch: the bench's `retrieve` calls with extra keyword arguments (k, context, …)."""

    def patch() -> None:
        plain = globals()["retrieve"]
        globals()["retrieve"] = lambda *a, **kw: plain(*a, **{**kw, **fixed})

    return patch


def _rrf(k: int | None = None, **weights: float):
    """Patch: RRF_K and/or the lexical / vector weights of `_fuse`."""

    def patch() -> None:
        import hearth.memory.retrieve as R

        if k is not None:
            R.RRF_K = k
        R.WEIGHTS = {**R.WEIGHTS, **weights}

    return patch


def _plain_passages() -> None:
    """Each message's vector embeds the turn alone, without the turn before it (hearth before 0009)."""
    import hearth.store.vectors as V

    V.CONTEXT = "+plain"
    V._passage = lambda text, author, before, before_author: f"{author}: {text}" if author else text


def _share(w: float):
    """Patch: what a message lends its neighbours (`CONTEXT_SHARE`)."""

    def patch() -> None:
        import hearth.memory.retrieve as R

        R.CONTEXT_SHARE = w

    return patch


def _one_lexical_list() -> None:
    """Memories and messages in one bm25-sorted lexical list, as before 2026-12-06 (see `_per_pool`)."""
    import hearth.memory.retrieve as R

    R._per_pool = lambda *ranked: [("lexical", R._merged(*ranked))]


EXPERIMENTS = {"no-context": [_retrieve_kw(context=False)],
               "plain-passages": [_plain_passages],
               "plain-passages+no-context": [_plain_passages, _retrieve_kw(context=False)],
               "share0.25": [_share(0.25)],
               "share1": [_share(1.0)],
               "k100": [_retrieve_kw(k=100)],
               "k25": [_retrieve_kw(k=25)],
               "rrf-k20": [_rrf(20)],
               "rrf-k120": [_rrf(120)],
               "lexical-only": [_rrf(vector=0.0)],
               "vector-only": [_rrf(lexical=0.0)],
               "one-bm25-list": [_one_lexical_list],
               "memory1.5": [_rrf(memory=1.5)],
               }  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="LoCoMo JSON (default: the shared locomo7.json)")
    ap.add_argument("--limit-conversations", type=int, default=None, help="only the first N conversations")
    ap.add_argument("--limit-questions", type=int, default=None, help="only the first N questions of each")
    ap.add_argument("--dump", type=Path, default=None, help="write per-question evidence coverage (JSON) here")
    ap.add_argument("--embed-cache", type=Path, default=None, help="bench speed-up: cache vectors on disk by text")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    ap.add_argument("--experiment", choices=sorted(EXPERIMENTS),
                    help="EXPERIMENTAL: monkeypatch a proposed retrieval change (implies --no-write)")  # fmt: skip
    args = ap.parse_args(argv)
    if args.embed_cache:
        _EMBED_CACHE[:] = [DiskCache(default_embedder(), args.embed_cache)]
    if not args.data.exists():
        raise SystemExit(f"LoCoMo data not found at {args.data}; pass --data PATH")
    if args.experiment:
        log(f"EXPERIMENT {args.experiment}: hearth's retrieval is patched; figures are not hearth's")
        for patch in EXPERIMENTS[args.experiment]:
            patch()
        args.no_write = True
    fig = {"experiment": args.experiment, **run(args)}
    if not args.no_write:
        write_results(fig)
    if args.json:
        print(json.dumps({"memory": fig}))
    else:
        for name, b in fig["recall"].items():
            print(name, b["questions"], {arm: b[arm]["r@budget"] for arm in ARMS})
        print(fig["timings"])
    return fig


if __name__ == "__main__":
    main()
