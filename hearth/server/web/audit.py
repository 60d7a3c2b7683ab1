"""The routing-audit page: which model really answered, month by month (the timeline chart), per
model, per conversation, and every suspected reroute with a link to the reply itself."""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from hearth.audit.plot import timeline_svg
from hearth.audit.routing import run_audit
from hearth.errors import NotFound
from hearth.server.hub import hub_of
from hearth.server.web.common import WebRoute, render

router = APIRouter(route_class=WebRoute)
ROWS = 50
_PLOT_LOCK = threading.Lock()
"""pyplot keeps global state: one chart at a time."""
SVG_HEADERS = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}
"""Even opened on its own, the chart can run nothing (and matplotlib escapes its labels anyway)."""


@router.get("/audit")
async def audit_page(request: Request) -> Response:
    audit = await run_in_threadpool(run_audit, hub_of(request).store)
    ranked = sorted(audit.conversations.items(), key=lambda kv: (-kv[1].mismatched, -len(kv[1].served)))
    conversations = [(cid, audit.titles.get(cid), b) for cid, b in ranked[:ROWS] if b.mismatched or len(b.served) > 1]
    models = audit.total.served.most_common()
    return render(request, "audit.html", title="Routing audit", audit=audit, total=audit.total, models=models,
                  months=sorted(audit.months.items())[-ROWS:], conversations=conversations,
                  suspects=audit.suspects[:ROWS])  # fmt: skip


@router.get("/audit/chart.svg")
async def audit_chart(request: Request) -> Response:
    def draw() -> str:
        audit = run_audit(hub_of(request).store)
        if not audit.total.replies:
            raise NotFound("No replies with a recorded model yet, so there is no chart.")
        with _PLOT_LOCK:
            return timeline_svg(audit)

    svg = await run_in_threadpool(draw)
    return Response(svg, media_type="image/svg+xml", headers=SVG_HEADERS)
