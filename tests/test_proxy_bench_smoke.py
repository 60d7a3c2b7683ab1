"""The proxy benchmark runs end to end on real HTTP and prints its figures as JSON."""

from __future__ import annotations

import json

from proxy_bench import main


def test_proxy_bench_smoke(capsys):
    main(["--requests", "4", "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["proxy"]
    assert fig["direct"]["p50_ms"] > 0 and fig["proxy"]["p50_ms"] > fig["direct"]["p50_ms"]
