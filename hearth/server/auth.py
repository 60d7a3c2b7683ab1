"""Who may talk to `hearth serve`: the access token, as a Bearer header (API clients) or as a
signed session cookie after signing in once (the browser), plus CSRF tokens for forms.

The store holds the most intimate data a person has, so every route needs the token, even on
loopback (another local user or a web page must not read it). The token is generated on first
start and kept in a 0600 file in the config folder, like Jupyter's.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

import platformdirs

from hearth.errors import HearthError

COOKIE = "hearth_session"
CSRF_COOKIE = "hearth_csrf"
SESSION_DAYS = 30
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def token_path() -> Path:
    return Path(platformdirs.user_config_dir("hearth")) / "server-token"


def resolve_token(given: str | None, host: str) -> tuple[str, bool]:
    """(token, generated): `--token`, else HEARTH_TOKEN, else the saved one, else a new one — which
    is only allowed on loopback: a server other machines can reach must have a token chosen on purpose."""
    token = given or os.environ.get("HEARTH_TOKEN")
    if token:
        if len(token) < 16:
            raise HearthError("The access token is too short.", hint="Use at least 16 random characters.")
        return token, False
    if host not in LOOPBACK:
        raise HearthError(
            f"Refusing to listen on {host} without an access token: anyone who can reach it could read everything.",
            hint="Pass --token (or set HEARTH_TOKEN) to a long random secret, or bind to 127.0.0.1.",
        )
    path = token_path()
    if path.exists():
        saved = path.read_text().strip()
        if len(saved) >= 16:
            return saved, False
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    return token, True


class Auth:
    """Checks tokens and mints/validates session and CSRF values, all derived from the one token."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._key = hashlib.sha256(b"hearth-session:" + token.encode()).digest()

    def check_token(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.token.encode())

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def new_session(self) -> str:
        expires = str(int(time.time()) + SESSION_DAYS * 86400)
        nonce = secrets.token_hex(8)
        return f"{expires}.{nonce}.{self._sign(expires + '.' + nonce)}"

    def check_session(self, cookie: str | None) -> bool:
        if not cookie or cookie.count(".") != 2:
            return False
        expires, nonce, sig = cookie.split(".")
        if not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(sig, self._sign(expires + "." + nonce))

    def csrf_for(self, session: str) -> str:
        """The CSRF value for a session: forms carry it, a cross-site page cannot know it."""
        return self._sign("csrf:" + session)[:32]

    def check_csrf(self, session: str | None, value: str | None) -> bool:
        return bool(session and value) and hmac.compare_digest(self.csrf_for(session), value)
