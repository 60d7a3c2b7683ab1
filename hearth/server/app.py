"""`hearth serve`: the FastAPI application — the OpenAI-compatible proxy, the web UI and the MCP
memory server at `/mcp` — behind access tokens (Bearer for API clients and MCP clients, a signed
session cookie for the browser). Every request is answered from the store of whoever its token or
session names: the owner's main store, or on a shared server that person's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hearth.server.auth import COOKIE, OWNER, Auth, Principal
from hearth.server.hub import Hub

OPEN_PATHS = ("/login", "/static/", "/healthz")
API_PATHS = ("/v1/", "/mcp")
MAX_BODY_BYTES = 4 << 20
"""Largest request body outside uploads (a long chat history is well under this)."""


def _identify(auth: Auth, token: str | None, cookie: str | None) -> Principal | None:
    """A Bearer token first (API and MCP clients), else the browser's session cookie."""
    return auth.identify(token) if token else auth.session_principal(cookie)


def create_app(hub: Hub, auth: Auth, *, host: str = "127.0.0.1", embedder: Callable[[], Any] | None = None) -> FastAPI:
    """`host` is the address served (the MCP transport checks Host headers against it on loopback);
    `embedder` builds the MCP search embedder on first use (None: words only)."""
    from hearth.server import letter_api, openai_api, web
    from hearth.server.mcp_server import build_mcp

    mcp_http = build_mcp(hub.store, embedder=embedder).streamable_http_app(streamable_http_path="/mcp", host=host)
    app = FastAPI(title="hearth", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lambda _app: mcp_http.router.lifespan_context(mcp_http))  # fmt: skip
    app.state.hub = hub  # the owner's; each request gets its sender's as request.state.hub
    app.state.auth = auth

    @app.middleware("http")
    async def require_token(request: Request, call_next) -> Response:
        path = request.url.path
        if path.startswith(OPEN_PATHS):
            return await call_next(request)
        bearer = request.headers.get("authorization", "")
        token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
        if token and auth.is_owner(token):  # the common case, answered without a thread hop
            who: Principal | None = OWNER
        else:
            who = await run_in_threadpool(_identify, auth, token, request.cookies.get(COOKIE))
        if who is not None:
            request.state.who = who
            request.state.hub = hub if who is OWNER else await run_in_threadpool(hub.for_person, who)
            size = request.headers.get("content-length")
            if size and size.isdigit() and int(size) > MAX_BODY_BYTES and not path.startswith("/import"):
                return JSONResponse({"error": {"message": "The request is too large.", "type": "invalid_request_error",
                                               "param": None, "code": "too_large"}}, 413)  # fmt: skip
            return await call_next(request)
        if path.startswith(API_PATHS):  # machines get a 401 they understand, people the sign-in page
            return JSONResponse(
                {"error": {"message": "Missing or wrong access token: send it as `Authorization: Bearer TOKEN`.",
                           "type": "authentication_error", "param": None, "code": "invalid_api_key"}},
                401, headers={"www-authenticate": "Bearer"},
            )  # fmt: skip
        return RedirectResponse(f"/login?next={request.url.path}", 303)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    app.include_router(openai_api.router)
    app.include_router(letter_api.router)
    app.router.routes.extend(mcp_http.routes)  # POST/GET/DELETE /mcp: MCP's streamable HTTP transport
    web.install(app)  # the web UI's pages and /static
    return app
