"""The cost of being a companion: time to first token and tokens/s of a whole hearth turn on the
embedded model (reconcile nothing, retrieve memories, assemble the persona prompt, guard, stream,
store, learn) against raw llama-cpp-python streaming the very same prompt, in one run. Then the
warmth dial on the same model: whole turns at warmth 0, 50 and 100 (each prompt in a conversation
of its own, the same seeds at every level), scored with the markers the dial's test uses.

    python bench/chat_bench.py [--data EXPORT] [--turns 30] [--json] [--no-write]

`--data` is any export hearth imports (default: the bundled sample), so retrieval has a real
history to search. Figures go to bench/RESULTS.md ("Companion turn on the embedded model").
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from hearth.backends.embedded import EmbeddedBackend
from hearth.companion.turn import Companion
from hearth.ingest import import_many
from hearth.store import Store
from hearth.store.loaders import default_companion_id
from results import write_section

SAMPLE = Path(__file__).resolve().parents[1] / "hearth" / "samples" / "chatgpt-sample.zip"
MESSAGES = [
    "I had a long day at work, can you cheer me up?", "My cat knocked over the plant again.",
    "I'm nervous about my exam tomorrow.", "We went hiking last weekend, it was lovely.",
    "今天好累，想吃火锅。", "Do you remember what I told you about my sister?",
]  # fmt: skip


def _raw(backend: EmbeddedBackend, messages, max_tokens: int, seed: int, temperature: float, top_p: float):
    """(time to first token, seconds, completion tokens) for llama-cpp-python alone, streaming the
    same prompt tokens (the GGUF's chat template, as hearth renders it) with the same sampling."""
    llm = backend.llama()
    start = time.perf_counter()
    tokens, stops, criteria = backend._prompt(llm, [dict(m) for m in messages])
    llm.reset()
    first = None
    n = 0
    for chunk in llm.create_completion(tokens, stream=True, max_tokens=max_tokens, stop=stops, seed=seed,
                                       stopping_criteria=criteria, temperature=temperature, top_p=top_p,
                                       repeat_penalty=backend.repeat_penalty):  # fmt: skip
        if chunk["choices"][0].get("text"):
            first = first or time.perf_counter() - start
            n += 1
    return first or 0.0, time.perf_counter() - start, n


WARMTH_PROMPTS = [
    "I had a long day at work.", "I finally finished my painting today!", "I'm nervous about my exam.",
    "My cat knocked over my plant again.", "I'm visiting my mom this weekend.", "I got a small raise.",
    "今天下雨了，我一个人在家。", "我终于把论文交上去了！",
]  # fmt: skip
WARMTH_LEVELS = (0, 50, 100)


def _warmth(store: Store, backend: EmbeddedBackend, seeds: int) -> dict:
    """Mean markers per reply at each dial level: same prompts, same seeds, fresh conversations."""
    from hearth.persona.warmth import markers

    levels = {}
    for level in WARMTH_LEVELS:
        comp = Companion(store, default_companion_id(store), backend, warmth=level)
        found = []
        for seed in range(1, seeds + 1):
            for text in WARMTH_PROMPTS:
                r = comp.turn(comp.new_conversation(), text, seed=seed)
                found.append(markers(r.result.text if r.result else ""))
        n = len(found)
        levels[level] = {"replies": n, "score": round(sum(m.score for m in found) / n, 2),
                         "affect": round(sum(m.affect for m in found) / n, 2),
                         "emoji": round(sum(m.emoji for m in found) / n, 2),
                         "exclamations": round(sum(m.exclamations for m in found) / n, 2),
                         "tokens": round(sum(m.tokens for m in found) / n, 1)}  # fmt: skip
    scores = [levels[w]["score"] for w in WARMTH_LEVELS]
    return {"levels": levels, "monotone": all(a < b for a, b in zip(scores, scores[1:], strict=False))}


def run(data: Path, turns: int, warmth_seeds: int = 2) -> dict:
    backend = EmbeddedBackend()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(str(Path(tmp) / "h.db"))
        import_many(store, [data])
        comp = Companion(store, default_companion_id(store), backend)
        conv = comp.new_conversation()
        comp.turn(conv, "hello", seed=0)  # load the model before timing
        hearth, raw = [], []
        for i in range(turns):
            text = MESSAGES[i % len(MESSAGES)]
            start = time.perf_counter()
            first: list[float] = []
            r = comp.turn(conv, text, seed=i, on_delta=lambda d, s=start, f=first: f.append(time.perf_counter() - s))
            total = time.perf_counter() - start
            tokens = r.result.usage.completion_tokens if r.result else 0
            hearth.append((first[0] if first else total, total, tokens))
            raw.append(_raw(backend, r.prompt.messages, max(1, tokens), i, r.prompt.temperature, r.prompt.top_p))
        warmth = _warmth(store, backend, warmth_seeds) if warmth_seeds else None
        store.close()

    def summary(rows):
        ttft = sorted(r[0] for r in rows)
        rates = [r[2] / max(1e-9, r[1] - r[0]) for r in rows if r[2] > 1]
        return {"ttft_p50_s": round(statistics.median(ttft), 3), "ttft_p95_s": round(ttft[int(len(ttft) * .95)], 3),
                "tokens_per_s": round(statistics.median(rates), 1) if rates else None,
                "turn_p50_s": round(statistics.median(r[1] for r in rows), 3)}  # fmt: skip

    h, w = summary(hearth), summary(raw)
    return {"data": str(data), "turns": turns, "hearth": h, "raw": w,
            "ttft_overhead_ratio": round(h["ttft_p50_s"] / max(1e-9, w["ttft_p50_s"]), 2),
            "ttft_overhead_ms": round((h["ttft_p50_s"] - w["ttft_p50_s"]) * 1000, 1), "warmth": warmth}  # fmt: skip


def write(fig: dict) -> None:
    h, w = fig["hearth"], fig["raw"]
    heading = "## Companion turn on the embedded model"
    write_section(heading, [
        f"{heading} (`bench/chat_bench.py`)", "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 cores, no GPU), {fig['turns']} turns after importing "
        f"`{Path(fig['data']).name}`; SmolLM2-135M-Instruct Q4_1. Hearth = a whole `Companion.turn` (retrieval, "
        "persona prompt, guard, streaming, storing both messages, memory extraction); raw = llama-cpp-python "
        "streaming the same prompt messages with the same sampling.", "",
        "| | time to first token p50 | p95 | tokens/s (p50) | whole turn p50 |", "|---|---|---|---|---|",
        f"| hearth turn | {h['ttft_p50_s']} s | {h['ttft_p95_s']} s | {h['tokens_per_s']} | {h['turn_p50_s']} s |",
        f"| raw llama-cpp-python | {w['ttft_p50_s']} s | {w['ttft_p95_s']} s | {w['tokens_per_s']} "
        f"| {w['turn_p50_s']} s |",
        "", f"Overhead on time to first token: ×{fig['ttft_overhead_ratio']} ({fig['ttft_overhead_ms']:+} ms at p50).",
        *_warmth_lines(fig.get("warmth")),
    ])  # fmt: skip


def _warmth_lines(warmth: dict | None) -> list[str]:
    if not warmth:
        return []
    levels = warmth["levels"]
    n = next(iter(levels.values()))["replies"]
    return [
        "", f"Warmth dial on the same model: {n} whole turns per level ({len(WARMTH_PROMPTS)} prompts, en + zh, "
        f"{n // len(WARMTH_PROMPTS)} seeds, each in a new conversation; the same seeds at every level). Means per "
        "reply of the markers `hearth.persona.warmth.markers` counts (score = 2 × affect words + 1.5 × emoji + "
        "exclamation marks (≤ 5) + tokens (≤ 200) / 50):", "",
        "| warmth | score | affect words | emoji | exclamation marks | tokens |", "|---|---|---|---|---|---|",
        *[f"| {w} | {v['score']} | {v['affect']} | {v['emoji']} | {v['exclamations']} | {v['tokens']} |"
          for w, v in sorted(levels.items(), key=lambda kv: int(kv[0]))],
        "", f"Score rises with the dial: {'yes' if warmth['monotone'] else 'no'}.",
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SAMPLE, help="an export to import first (default: the sample)")
    ap.add_argument("--turns", type=int, default=30, help="timed turns, each also run raw (default 30)")
    ap.add_argument("--warmth-seeds", type=int, default=2,
                    help="seeds per prompt and warmth level for the dial's figures; 0 skips them (default 2)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = ap.parse_args(argv)
    fig = run(args.data, args.turns, args.warmth_seeds)
    if not args.no_write:
        write(fig)
    print(json.dumps({"chat": fig}) if args.json else fig)
    return fig


if __name__ == "__main__":
    main()
