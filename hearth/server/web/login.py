"""Signing in to the web UI: the access token once (typed, or in the link `hearth serve` prints),
then a signed session cookie (HttpOnly, SameSite=Strict) and the CSRF cookie forms echo back."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hearth.server.auth import COOKIE, CSRF_COOKIE, SESSION_DAYS, Principal
from hearth.server.web.common import WebRoute, render, require_csrf, session_cookie

router = APIRouter(route_class=WebRoute)
HOME = "/chat"


def safe_next(target: str | None) -> str:
    """Only a path on this server: `next=//evil.example` or a full URL must not redirect away."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or "\n" in target:
        return HOME
    return "/chat" if target.startswith(("/login", "/logout")) else target


def signed_in(request: Request, target: str, who: Principal) -> Response:
    """Redirect to `target` with a new session for `who` and its CSRF value set."""
    auth = request.app.state.auth
    session = auth.new_session(who)
    response = RedirectResponse(safe_next(target), 303)
    secure = request.url.scheme == "https"
    age = SESSION_DAYS * 86400
    response.set_cookie(COOKIE, session, max_age=age, httponly=True, samesite="strict", secure=secure, path="/")
    response.set_cookie(CSRF_COOKIE, auth.csrf_for(session), max_age=age, httponly=False, samesite="strict",
                        secure=secure, path="/")  # fmt: skip
    response.headers["referrer-policy"] = "no-referrer"
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/login")
def login_page(request: Request, next: str = HOME, token: str | None = None) -> Response:
    auth = request.app.state.auth
    if token is not None:
        who = auth.identify(token)
        if who is not None:
            return signed_in(request, next, who)
        return render(request, "login.html", 401, next=safe_next(next), error="That access token is not right.",
                      title="Sign in")  # fmt: skip
    if auth.check_session(session_cookie(request)):
        return RedirectResponse(safe_next(next), 303)
    return render(request, "login.html", next=safe_next(next), error=None, title="Sign in")


@router.post("/login")
def login(request: Request, token: str = Form(""), next: str = Form(HOME)) -> Response:
    who = request.app.state.auth.identify(token.strip())
    if who is not None:
        return signed_in(request, next, who)
    return render(request, "login.html", 401, next=safe_next(next), title="Sign in",
                  error="That access token is not right. `hearth serve` prints a link with it.")  # fmt: skip


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse(HOME, 303)
