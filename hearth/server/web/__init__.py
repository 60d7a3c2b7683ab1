"""The web UI of `hearth serve`: server-rendered pages (Jinja2, autoescaped) with a little plain
JavaScript, one module per page group. Route handlers translate between HTTP and hearth's own
functions (store, companion, persona, memory, ingest, audit); the work happens there."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from hearth.server.web import audit, backends, chat, conversations, imports, login, memory, persona
from hearth.server.web.common import STATIC_DIR

router = APIRouter()
for _module in (login, chat, conversations, memory, persona, imports, audit, backends):
    router.include_router(_module.router)


def install(app: FastAPI) -> None:
    """Add the pages and /static to the app (the auth middleware already guards every page)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
