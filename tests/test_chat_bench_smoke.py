"""The companion-turn benchmark runs end to end and prints its figures as JSON."""

from __future__ import annotations

import json

import pytest

import chat_bench
from chat_bench import main


@pytest.mark.slow
def test_chat_bench_smoke(capsys, monkeypatch):
    monkeypatch.setattr(chat_bench, "WARMTH_PROMPTS", chat_bench.WARMTH_PROMPTS[:1])
    main(["--turns", "1", "--warmth-seeds", "1", "--json", "--no-write"])
    fig = json.loads(capsys.readouterr().out.strip().splitlines()[-1])["chat"]
    assert fig["hearth"]["ttft_p50_s"] > 0 and fig["raw"]["ttft_p50_s"] > 0
    levels = fig["warmth"]["levels"]
    assert sorted(levels, key=int) == ["0", "50", "100"] and all(v["replies"] == 1 for v in levels.values())
    assert chat_bench._warmth_lines(fig["warmth"])[-1].startswith("Score rises with the dial")
