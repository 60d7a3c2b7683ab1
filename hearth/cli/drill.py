"""`hearth drill`: before a model is retired, check whether another one can still be your companion."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import orjson
import typer
from rich.table import Table
from rich.text import Text

from hearth.cli import _json, _store, app, out
from hearth.cli.persona import CompanionOpt, companion
from hearth.errors import HearthError


@app.command("drill")
def drill(
    backend: Annotated[
        Optional[list[str]], typer.Option("--backend", "-b", help="Candidate backend(s) (default: embedded).")
    ] = None,
    companion_name: CompanionOpt = None,
    samples: Annotated[int, typer.Option("--samples", "-n", help="Past moments to replay.")] = 20,
    seed: Annotated[int, typer.Option("--seed", help="Which moments, and the sampling seed.")] = 0,
    persona_file: Annotated[
        Optional[Path], typer.Option("--persona-file", help="Try a different persona (JSON, as `persona show --json`).")
    ] = None,
    examples: Annotated[int, typer.Option("--examples", help="Side-by-side examples to show per backend.")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The model-retirement drill: replay past moments on a candidate model and score its replies
    against the companion's real ones (style, meaning, language, memory)."""
    from hearth.backends.registry import get_backend
    from hearth.persona.card import Persona
    from hearth.persona.derive import base_persona
    from hearth.persona.drill import WEIGHTS, run_drill

    store = _store()
    cid = companion(store, companion_name)
    persona = base_persona(store, cid)
    if persona_file is not None:
        try:
            persona = Persona(**orjson.loads(persona_file.read_bytes()))
        except (OSError, orjson.JSONDecodeError, TypeError, ValueError) as exc:
            raise HearthError(f"Could not read a persona from {persona_file}: {exc}.") from exc
    reports = []
    for name in backend or ["embedded"]:
        out.print(
            Text(f"Replaying {samples} moments on {name}…", style="dim"), highlight=False
        ) if not as_json else None
        reports.append(run_drill(store, cid, get_backend(name), persona, samples=samples, seed=seed))
    if as_json:
        _json([{"backend": r.backend, "served_model": r.served_model, "fidelity": r.fidelity, "scores": r.scores,
                "moments": [m.__dict__ for m in r.moments]} for r in reports])  # fmt: skip
        return
    table = Table("backend", "answered by", "fidelity", *WEIGHTS, "moments")
    for r in reports:
        cells = ["—" if r.scores[k] is None else f"{r.scores[k]:.2f}" for k in WEIGHTS]
        table.add_row(r.backend, r.served_model, f"{r.fidelity:.2f}", *cells, str(len(r.moments)))
    out.print(table)
    for r in reports:
        ranked = sorted(r.moments, key=lambda m: m.meaning)
        for label, m in [("least alike", x) for x in ranked[:examples]] + [
            ("most alike", x) for x in ranked[-examples:]
        ]:
            out.print(Text(f"\n[{r.backend} · {label} · meaning {m.meaning:.2f}]", style="bold"))
            out.print(Text(f"  you:       {' '.join(m.user.split())[:200]}"))
            out.print(Text(f"  real:      {' '.join(m.real.split())[:300]}", style="green"))
            out.print(Text(f"  candidate: {' '.join(m.candidate.split())[:300]}", style="cyan"))
