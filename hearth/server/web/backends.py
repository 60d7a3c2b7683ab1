"""The backends page: the chat backends this server knows, which one companions speak through (and
the fallbacks, in order), and a connection test that sends one tiny request and shows what came
back — including which model the server says answered and how far that can be believed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from hearth.errors import HearthError
from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, render, require_csrf

router = APIRouter(route_class=WebRoute)
TIMEOUT_S = 30.0


def check_backend(hub: Any, name: str | None) -> dict[str, Any]:
    """Build the backend and run `hearth backends test` on it (registry.test_connection: one tiny
    streamed request), reporting errors as a person can act on them rather than raising."""
    from hearth.backends.registry import test_connection

    try:
        backend = hub.backend(name or None)
    except HearthError as exc:
        return {"ok": False, "name": name or "default", "error": exc.message, "hint": exc.hint}
    with hub.backend_lock(backend):
        report = test_connection(backend, timeout=TIMEOUT_S)
    if not report.ok:
        return {"ok": False, "name": report.backend, "error": report.error, "hint": report.hint}
    v = report.verification
    return {
        "ok": True, "name": report.backend, "kind": report.kind, "requested": report.requested_model,
        "served": report.served_model, "verification": v.status if v else "unverified",
        "reason": v.reason if v else "", "reply": report.reply[:200], "seconds": round(report.latency_s or 0, 2),
        "listed": report.listed_models,
    }  # fmt: skip


def _rows(hub: Any) -> list[dict[str, Any]]:
    default = hub.default
    rows: dict[str, dict[str, Any]] = {}
    for name, model in hub.backend_models():
        rows[name] = {"name": name, "model": model, "role": ""}
    key = default or "embedded"
    rows.setdefault(key, {"name": key, "model": "", "role": ""})
    rows[key]["role"] = "companions speak through this one"
    for n, fb in enumerate(hub.fallbacks, 1):
        rows.setdefault(fb, {"name": fb, "model": "", "role": ""})
        rows[fb]["role"] = f"fallback {n} (used only if the ones before fail, and marked)"
    ordered = [rows.pop(key), *[rows.pop(fb) for fb in hub.fallbacks if fb in rows]]
    return ordered + sorted(rows.values(), key=lambda r: r["name"])


@router.get("/backends")
def backends_page(request: Request) -> Response:
    hub = hub_of(request)
    return render(request, "backends.html", title="Backends", rows=_rows(hub), default=hub.default or "embedded",
                  result=None)  # fmt: skip


@router.post("/backends/test", dependencies=[Depends(require_csrf)])
async def backends_test(request: Request, name: str = Form("")) -> Response:
    hub = hub_of(request)
    wanted = None if name in ("", "embedded") and hub.default is None else name
    result = await run_in_threadpool(check_backend, hub, wanted)
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse(result)
    return render(request, "backends.html", title="Backends", rows=_rows(hub), default=hub.default or "embedded",
                  result=result)  # fmt: skip
