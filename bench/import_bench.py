"""Import benchmark: hearth's streaming, batched import against a naive json.load + row-by-row
insert of the same records into the same schema, side by side in one run.

    python bench/import_bench.py                       # generated exports of 100, 500, 1000 MB
    python bench/import_bench.py --data export.zip     # any ChatGPT export (zip, json, folder)
    python bench/import_bench.py --sizes 50 --json     # figures as one JSON object on the last line

Each import runs in its own subprocess on a fresh database; the child reports its own peak RSS
(`ru_maxrss`) and wall time. Figures go to bench/RESULTS.md (section "Import").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results import write_section

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

CHILD_HEARTH = r"""
import json, resource, sys, time
from hearth.store import Store
from hearth.ingest import import_path
t = time.perf_counter()
store = Store(sys.argv[2])
s = import_path(store, sys.argv[1])
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "messages": s.result.messages_added,
                  "conversations": s.result.conversations_added,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

CHILD_NAIVE = r"""
import json, resource, sys, time, zipfile
from pathlib import Path
import sqlalchemy as sa
from hearth.formats.chatgpt import parse_conversation
from hearth.store import Store, schema
from hearth.store.tokens import index_columns
from hearth.store.writer import dumps
t = time.perf_counter()
store = Store(sys.argv[2])
src = Path(sys.argv[1])
if src.suffix == ".zip":
    with zipfile.ZipFile(src) as zf:
        data = json.loads(zf.read(next(n for n in zf.namelist() if n.endswith("conversations.json"))))
elif src.is_dir():
    data = json.load(open(src / "conversations.json", encoding="utf-8"))
else:
    data = json.load(open(src, encoding="utf-8"))
with store.engine.begin() as conn:
    from hearth.store.companions import companion_by_name
    companion = companion_by_name(conn, "ChatGPT")
messages = 0
with store.engine.connect() as conn:
    for i, obj in enumerate(data):
        c = parse_conversation(obj, i)
        with conn.begin():
            cid = conn.execute(schema.conversations.insert().values(
                companion_id=companion, source_format="chatgpt", source_id=c.source_id, title=c.title,
                created_at=c.created_at, updated_at=c.updated_at, default_model=c.default_model,
                current_node=c.current_node, content_hash="-", raw=dumps(c.raw))).inserted_primary_key[0]
            ids = {}
            for m in c.messages:
                mid = conn.execute(schema.messages.insert().values(
                    conversation_id=cid, source_id=m.source_id, parent_id=ids.get(m.parent_source_id),
                    parent_source_id=m.parent_source_id, sibling_index=m.sibling_index, visible=m.visible,
                    hidden=m.hidden, role=m.role, author_name=m.author_name, content_type=m.content_type,
                    text=m.text, parts=dumps(m.parts), created_at=m.created_at, requested_model=m.requested_model,
                    served_model=m.served_model, status=m.status, recipient=m.recipient, source_format="chatgpt",
                    raw=dumps(m.raw))).inserted_primary_key[0]
                ids[m.source_id] = mid
                if m.text:
                    conn.exec_driver_sql("INSERT INTO message_fts(rowid, body, uni) VALUES (?, ?, ?)",
                                         (mid, *index_columns(m.text)))
                messages += 1
elapsed = time.perf_counter() - t
print(json.dumps({"seconds": elapsed, "messages": messages, "conversations": len(data),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_child(code: str, data: Path, db: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", code, str(data), str(db)], capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark child failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def generated(size_mb: int, seed: int) -> Path:
    sys.path.insert(0, str(HERE))
    from synth_chatgpt import generate

    OUT.mkdir(exist_ok=True)
    path = OUT / f"chatgpt-{size_mb}mb-seed{seed}.json"
    if not path.exists():
        print(f"generating {path.name} …", file=sys.stderr)
        generate(path, target_bytes=size_mb * 1_000_000, seed=seed)
    return path


def measure(data: Path, skip_naive: bool) -> dict:
    size = data.stat().st_size if data.is_file() else sum(p.stat().st_size for p in data.rglob("*") if p.is_file())
    with tempfile.TemporaryDirectory(dir=OUT) as tmp:
        print(f"{data.name}: hearth import …", file=sys.stderr)
        ours = run_child(CHILD_HEARTH, data, Path(tmp) / "hearth.db")
        naive = None
        if not skip_naive:
            print(f"{data.name}: naive baseline …", file=sys.stderr)
            naive = run_child(CHILD_NAIVE, data, Path(tmp) / "naive.db")
        db_mb = (Path(tmp) / "hearth.db").stat().st_size / 1e6
    row = {
        "input": data.name,
        "input_mb": round(size / 1e6, 1),
        "messages": ours["messages"],
        "hearth_seconds": round(ours["seconds"], 2),
        "hearth_msgs_per_s": round(ours["messages"] / ours["seconds"]),
        "hearth_mb_per_s": round(size / 1e6 / ours["seconds"], 2),
        "hearth_peak_rss_mb": round(ours["peak_rss_mb"], 1),
        "db_mb": round(db_mb, 1),
    }
    if naive:
        row.update(
            naive_seconds=round(naive["seconds"], 2),
            naive_msgs_per_s=round(naive["messages"] / naive["seconds"]),
            naive_peak_rss_mb=round(naive["peak_rss_mb"], 1),
            speedup=round(naive["seconds"] / ours["seconds"], 2),
        )
    return row


def write_results(rows: list[dict]) -> None:
    lines = [
        "## Import (`bench/import_bench.py`)",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine ({os.cpu_count()} cores). Each import runs in its own",
        "process on a fresh SQLite database; the baseline is `json.load` of the whole file plus one",
        "INSERT per row (same parser, same schema and FTS index), committed per conversation.",
        "",
        "| input | MB | messages | hearth s | hearth msg/s | hearth peak RSS MB | naive s | naive msg/s "
        "| naive peak RSS MB | speed-up | DB MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['input']} | {r['input_mb']} | {r['messages']:,} | {r['hearth_seconds']} "
            f"| {r['hearth_msgs_per_s']:,} "
            f"| {r['hearth_peak_rss_mb']} | {r.get('naive_seconds', '—')} | {r.get('naive_msgs_per_s', '—')} "
            f"| {r.get('naive_peak_rss_mb', '—')} | {r.get('speedup', '—')}× | {r['db_mb']} |"
        )
    write_section("## Import (", lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="a ChatGPT export to import (default: generated exports)")
    ap.add_argument("--sizes", default="100,500,1000", help="generated export sizes in MB (default 100,500,1000)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--skip-naive", action="store_true", help="only time hearth (the baseline needs ~10× RAM)")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    args = ap.parse_args()
    OUT.mkdir(exist_ok=True)
    inputs = [args.data] if args.data else [generated(int(s), args.seed) for s in args.sizes.split(",")]
    rows = []
    for data in inputs:
        row = measure(data, args.skip_naive)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    if not args.no_write:
        write_results(rows)
    if args.json:
        print(json.dumps({"import": rows}))
    else:
        for r in rows:
            print(r)


if __name__ == "__main__":
    main()
