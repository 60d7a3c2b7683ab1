"""The PostgreSQL-vs-SQLite retrieval latency benchmark runs end to end on a small generated store."""

from __future__ import annotations

import json

import pytest

from conftest import need_pgserver

pytestmark = pytest.mark.postgres


def test_pg_latency_bench_smoke(capsys, tmp_path):
    need_pgserver()
    from pg_latency_bench import main

    main(["--sizes", "1500", "--queries", "6", "--synthetic-queries", "--data", str(tmp_path), "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["pg_latency"]
    size = fig["sizes"]["1500"]
    for engine in ("sqlite", "postgresql"):
        assert all(size[engine][part]["p50_ms"] > 0 for part in ("hybrid", "lexical", "nearest"))
