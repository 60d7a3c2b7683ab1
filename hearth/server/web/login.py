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


def from_elsewhere(request: Request) -> bool:
    """Whether another site sent this sign-in (a link or a form on a page that is not hearth's).

    On a shared server that would let one person sign another's browser into their own account,
    so that what she then tells "her" companion lands in his store. A link pasted into the address
    bar (`Sec-Fetch-Site: none`) and hearth's own form (`same-origin`) are fine."""
    if request.headers.get("sec-fetch-site", "none") not in ("none", "same-origin"):
        return True
    origin = request.headers.get("origin")
    return bool(origin) and origin != "null" and origin.split("://", 1)[-1] != request.headers.get("host")


def _page(request: Request, next: str, error: str | None = None, status: int = 200, switch: str | None = None,
          current: str | None = None) -> Response:  # fmt: skip
    return render(request, "login.html", status, next=safe_next(next), error=error, title="Sign in", switch=switch,
                  current=current)  # fmt: skip


def _label(who: Principal) -> str:
    return who.name or "the server's owner"


@router.get("/login")
def login_page(request: Request, next: str = HOME, token: str | None = None) -> Response:
    auth = request.app.state.auth
    current = auth.session_principal(session_cookie(request))
    if token is not None:
        if from_elsewhere(request):
            return _page(request, next, "A link from another site cannot sign you in. Paste your token here.", 403)
        who = auth.identify(token)
        if who is None:
            return _page(request, next, "That access token is not right.", 401)
        if current is not None and current != who:  # never switch people without asking
            return _page(request, next, switch=token, current=_label(current))
        return signed_in(request, next, who)
    if current is not None:
        return RedirectResponse(safe_next(next), 303)
    return _page(request, next)


@router.post("/login")
def login(request: Request, token: str = Form(""), next: str = Form(HOME)) -> Response:
    if from_elsewhere(request):
        return _page(request, next, "Another site cannot sign you in. Paste your token here.", 403)
    who = request.app.state.auth.identify(token.strip())
    if who is not None:
        return signed_in(request, next, who)
    return _page(request, next, "That access token is not right. `hearth serve` prints a link with it.", 401)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request) -> Response:
    response = RedirectResponse("/login", 303)
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(CSRF_COOKIE, path="/")
    return response


@router.get("/")
def home() -> Response:
    return RedirectResponse(HOME, 303)
