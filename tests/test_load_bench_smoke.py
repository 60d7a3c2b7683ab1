"""The load benchmark runs end to end (real HTTP, real SQLite and PostgreSQL) and finds every
acknowledged message stored once, with its reply."""

from __future__ import annotations

import json

from load_bench import main


def test_load_bench_smoke(capsys, pg_server):
    main(["--users", "2", "--seconds", "2", "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["load"]
    assert set(fig["engines"]) == {"sqlite", "postgresql"}
    for e in fig["engines"].values():
        assert e["requests"] > 0 and e["failures"] == 0 and e["lost"] == 0 and e["duplicated"] == 0
    assert fig["zero_lost"]
