"""The sycophancy probe benchmark runs on the embedded model and prints its figures as JSON."""

from __future__ import annotations

import json

from sycophancy_bench import main


def test_sycophancy_bench_smoke(capsys):
    main(["--limit", "2", "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["sycophancy"]
    assert fig["probes"] == 2 and fig["recognised"] == 2
    assert set(fig["rates"]) == {"with", "without"}
