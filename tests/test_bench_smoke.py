"""The import benchmark runs end to end on a tiny input and prints its JSON figures last."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT


@pytest.mark.slow
def test_import_bench_runs_on_any_file(tmp_path, synth_zip):
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "import_bench.py"), "--data", str(synth_zip), "--no-write", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    figures = json.loads(r.stdout.strip().splitlines()[-1])
    row = figures["import"][0]
    assert row["messages"] > 1000 and row["hearth_msgs_per_s"] > 0 and row["naive_msgs_per_s"] > 0
    assert row["hearth_peak_rss_mb"] > 0
