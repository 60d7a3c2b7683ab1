"""What every page of the web UI shares: autoescaped templates, CSRF, security headers, error pages,
and the "answered by" line.

Imported history is hostile input (a title or message may hold `<script>`), so templates are always
autoescaped, no template marks stored text `|safe`, and every page is served with a Content-Security-
Policy that allows only hearth's own script file: even a missed escape could not run.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from hearth.audit.routing import mismatch
from hearth.errors import HearthError, NotFound
from hearth.server.auth import COOKIE

SERVER_DIR = Path(__file__).resolve().parent.parent
TEMPLATES_DIR = SERVER_DIR / "templates"
STATIC_DIR = SERVER_DIR / "static"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}
"""`no-referrer` because the login link carries the token; `no-store` because every page is private."""

NAV = [
    ("/chat", "Chat"), ("/conversations", "Conversations"), ("/memory", "Memory"), ("/persona", "Persona"),
    ("/import", "Import"), ("/audit", "Audit"), ("/backends", "Backends"),
]  # fmt: skip


def _when(ts: float | None) -> str:
    if not ts:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M")


def _clip(text: str | None, width: int = 120) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR), autoescape=True, trim_blocks=True,
                         lstrip_blocks=True)  # fmt: skip
env.filters["when"] = _when
env.filters["clip"] = _clip
templates = Jinja2Templates(env=env)


class CsrfFailed(Exception):
    """A state-changing request without this session's CSRF value (a stale page or another site)."""


def session_cookie(request: Request) -> str | None:
    return request.cookies.get(COOKIE)


def bearer_ok(request: Request) -> bool:
    """API clients send the token itself; CSRF is about cookies a browser sends on its own."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else None
    return request.app.state.auth.check_token(token)


def csrf_token(request: Request) -> str:
    session = session_cookie(request)
    return request.app.state.auth.csrf_for(session) if session else ""


def csrf_valid(request: Request, value: str | None) -> bool:
    return bearer_ok(request) or request.app.state.auth.check_csrf(session_cookie(request), value)


async def require_csrf(request: Request) -> None:
    """Dependency for every POST: the value from the `x-csrf-token` header or the form's `csrf` field."""
    value = request.headers.get("x-csrf-token")
    if value is None and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        value = (await request.form()).get("csrf")
    if not csrf_valid(request, value if isinstance(value, str) else None):
        raise CsrfFailed


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    context.update(request=request, csrf=csrf_token(request), nav=NAV, path=request.url.path,
                   who_name=getattr(getattr(request.state, "who", None), "name", None))  # fmt: skip
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status: int, message: str, hint: str | None = None) -> Response:
    if request.url.path.startswith("/ui/") or "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"error": message, "hint": hint}, status)
    return render(request, "error.html", status, message=message, hint=hint, title="Error")


class WebRoute(APIRoute):
    """Routes of the web UI: a person's mistake (unknown id, bad value, stale form) becomes a page
    that says what happened and what to do, never a traceback."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def wrapped(request: Request) -> Response:
            try:
                return await handler(request)
            except CsrfFailed:
                return error_page(request, 403, "This form is out of date or came from another site.",
                                  "Reload the page and try again.")  # fmt: skip
            except NotFound as exc:
                return error_page(request, 404, exc.message, exc.hint)
            except HearthError as exc:
                status = getattr(exc, "status", None)
                return error_page(request, status if isinstance(status, int) and 400 <= status < 600 else 400,
                                  exc.message, exc.hint)  # fmt: skip

        return wrapped


def int_or_none(value: str | int | None) -> int | None:
    """Query values from a form: '' and junk mean 'not given', so a hand-edited URL never errors."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def pick_companion(hub: Any, wanted: int | None) -> tuple[list[dict[str, Any]], int | None]:
    """All companions and the chosen one (asked for, else the one talked to last, else none)."""
    from hearth.store.loaders import default_companion_id

    companions = hub.companions()
    ids = {c["id"] for c in companions}
    if wanted in ids:
        return companions, wanted
    if not companions:
        return companions, None
    try:
        return companions, default_companion_id(hub.store)
    except NotFound:
        return companions, companions[0]["id"]


@dataclass
class AnsweredBy:
    """The line under a reply: who answered, and why a person should look twice."""

    label: str
    flagged: bool
    note: str | None = None


def answered_by(requested: str | None, served: str | None, status: str | None, meta: dict[str, Any]) -> AnsweredBy:
    """From a stored reply (its models, status and meta), the same reasons `TurnResult.flagged` gives
    for a live one: fallback, verification other than `verified`, cut off, interrupted."""
    reasons: list[str] = []
    meta = meta if isinstance(meta, dict) else {}  # an imported message's raw source object can be anything
    failures = meta.get("failures")
    if isinstance(failures, list) and failures and isinstance(failures[0], list | tuple) and served:
        reasons.append(f"answered by fallback {meta.get('backend')} because {failures[0][0]} failed")
    check = meta.get("verification")
    check = check if isinstance(check, dict) else {}
    if check.get("status") and check["status"] != "verified":
        reasons.append(f"{check['status']}: {check.get('reason', '')}".rstrip(": "))
    if status == "length":
        reasons.append("cut off at the reply length limit")
    if status == "interrupted":
        reasons.append("interrupted: " + str(meta.get("error") or "the reply stopped early"))
    differs = bool(served and requested and mismatch(requested, served))
    if served is None:
        label = "answered by: unknown model" if status != "interrupted" else "no model finished this reply"
    elif requested and requested != served:
        label = f"answered by {served} (asked for {requested})"
    else:
        label = f"answered by {served}"
    return AnsweredBy(label, differs or bool(reasons), "; ".join(reasons) or None)


def from_turn(result: Any) -> AnsweredBy:
    """The same line for a turn that just ran (a `TurnResult`)."""
    check = result.result.verification if result.result is not None else None
    meta = {"verification": {"status": check.status, "reason": check.reason} if check else None,
            "failures": result.failures, "backend": result.backend,
            "error": result.error.message if result.error else None}  # fmt: skip
    status = None if result.result is None else ("length" if result.result.finish_reason == "length" else "done")
    if result.result is None:
        status = "interrupted"
    line = answered_by(result.requested_model, result.served_model, status, meta)
    if result.flagged and not line.note:
        line.note = result.flagged
    return line


def warmth_bands() -> list[str]:
    """The band name for each warmth 0–100, so the slider can name its band as it moves."""
    from hearth.persona.warmth import style

    return [style(w).band for w in range(101)]
