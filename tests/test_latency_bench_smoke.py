"""The retrieval latency benchmark runs end to end at a tiny size and prints its JSON figures last,
writing only the results file it is given."""

from __future__ import annotations

import json
import subprocess
import sys

from conftest import ROOT


def test_latency_bench_runs_small(tmp_path):
    results = tmp_path / "RESULTS.md"
    results.write_text("# Benchmark results\n\n## Other bench\n\nkept\n")
    before = (ROOT / "bench" / "RESULTS.md").read_bytes()
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "latency_bench.py"), "--sizes", "1500,3000", "--queries", "12",
         "--synthetic-queries", "--ann-threshold", "2000", "--data", str(tmp_path / "data"),
         "--results", str(results), "--json"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    fig = json.loads(r.stdout.strip().splitlines()[-1])["latency"]
    small, large = fig["sizes"]
    assert (small["memories"], large["memories"]) == (1500, 3000)
    assert small["nearest"]["path"] == "exact" and small["nearest"]["recall"] == 1.0
    assert large["nearest"]["path"] == "ann" and large["nearest"]["recall"] >= 0.95
    assert large["index"]["build_s"] > 0 and large["index"]["sidecar_mb"] > 0
    for size in fig["sizes"]:
        for arm in ("numpy", "nearest", "lexical", "lexical_full", "hybrid", "sqlite_vec_exact"):
            assert 0 < size[arm]["p50_ms"] <= size[arm]["p95_ms"], arm
        assert size["lexical_same_top"] == size["queries"] == 12
        assert size["hybrid"]["hits_per_query"] > 0 and size["peak_rss_mb"] > 0
    text = results.read_text()
    assert "## Other bench\n\nkept" in text and "## Retrieval latency" in text and "| 3,000 |" in text
    assert (ROOT / "bench" / "RESULTS.md").read_bytes() == before
    # a second run reuses the generated stores and replaces its section in place
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "latency_bench.py"), "--sizes", "1500", "--queries", "5",
         "--synthetic-queries", "--data", str(tmp_path / "data"), "--results", str(results)],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    text = results.read_text()
    assert text.count("## Retrieval latency") == 1 and "| 3,000 |" not in text and "kept" in text
