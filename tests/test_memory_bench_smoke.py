"""The LoCoMo memory benchmark runs end to end on one conversation and prints its JSON figures last."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, SHARED

LOCOMO = SHARED / "data" / "locomo" / "locomo7.json"


@pytest.mark.slow
@pytest.mark.skipif(not LOCOMO.exists(), reason="the LoCoMo data set is not in ../shared/data/locomo")
def test_memory_bench_runs_on_one_conversation():
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "memory_bench.py"), "--limit-conversations", "1",
         "--limit-questions", "20", "--no-write", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    fig = json.loads(r.stdout.strip().splitlines()[-1])["memory"]
    assert fig["budget_tokens"] == 2000 and fig["conversations"] == 1
    counts = fig["counts"]
    assert counts["questions"] == 20 and 0 < counts["evaluated"] <= 20
    assert counts["evaluated"] + counts["no_evidence"] == counts["questions"]
    assert counts["turns"] > 100
    overall = fig["recall"]["overall"]
    assert overall["questions"] == counts["evaluated"]
    for group in fig["recall"].values():
        for arm in ("hybrid", "bm25", "last", "first", "hybrid-msgs", "no-context"):
            for key in ("r@5", "r@10", "r@budget"):
                assert 0.0 <= group[arm][key] <= 1.0, (arm, key, group[arm][key])
            assert group[arm]["r@5"] <= group[arm]["r@10"] <= group[arm]["r@budget"] + 1e-9
            assert group[arm]["tokens"] <= 2000
    assert set(fig["gain_over_bm25_points"]) == set(fig["recall"])
    t = fig["timings"]
    assert t["embed_s"] > 0 and t["hybrid_p50_ms"] > 0 and t["hybrid_p95_ms"] >= t["hybrid_p50_ms"]
