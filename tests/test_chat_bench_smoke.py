"""The companion-turn benchmark runs end to end and prints its figures as JSON."""

from __future__ import annotations

import json

import pytest

from chat_bench import main


@pytest.mark.slow
def test_chat_bench_smoke(capsys):
    main(["--turns", "1", "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["chat"]
    assert fig["hearth"]["ttft_p50_s"] > 0 and fig["raw"]["ttft_p50_s"] > 0
