"""`hearth serve`: the FastAPI application — the OpenAI-compatible proxy and the web UI — behind
one access token (Bearer for API clients, a signed session cookie for the browser)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hearth.server.auth import COOKIE, Auth
from hearth.server.hub import Hub

OPEN_PATHS = ("/login", "/static/", "/healthz")
MAX_BODY_BYTES = 4 << 20
"""Largest request body outside uploads (a long chat history is well under this)."""


def create_app(hub: Hub, auth: Auth) -> FastAPI:
    from hearth.server import openai_api, web

    app = FastAPI(title="hearth", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.hub = hub
    app.state.auth = auth

    @app.middleware("http")
    async def require_token(request: Request, call_next) -> Response:
        path = request.url.path
        if path.startswith(OPEN_PATHS):
            return await call_next(request)
        bearer = request.headers.get("authorization", "")
        token = bearer[7:].strip() if bearer.lower().startswith("bearer ") else None
        if auth.check_token(token) or auth.check_session(request.cookies.get(COOKIE)):
            size = request.headers.get("content-length")
            if size and size.isdigit() and int(size) > MAX_BODY_BYTES and not path.startswith("/import"):
                return JSONResponse({"error": {"message": "The request is too large.", "type": "invalid_request_error",
                                               "param": None, "code": "too_large"}}, 413)  # fmt: skip
            return await call_next(request)
        if path.startswith("/v1/"):
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
    web.install(app)  # the web UI's pages and /static
    return app
