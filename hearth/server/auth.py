"""Who may talk to `hearth serve`: the access token, as a Bearer header (API clients) or as a
signed session cookie after signing in once (the browser), plus CSRF tokens for forms.

The server's own token opens the main store (its owner). On a shared server each person also has
an account (`hearth users add`) whose token opens only their own store: a request is always
answered from the store of whoever its token or session names (see hearth/store/users.py).

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from hearth.errors import HearthError

if TYPE_CHECKING:
    from hearth.store import Store
    from hearth.store.users import Account

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


@dataclass(frozen=True)
class Principal:
    """Who a request comes from: the owner (`name` None, the main store) or an account."""

    name: str | None = None
    account_id: int | None = None
    stamp: float = 0.0
    """When the account's token was made: sessions signed before a new token stop working."""
    location: str | None = field(default=None, repr=False)
    """The account's store; None for the owner (the main store). May hold a database password:
    never shown, logged or handed to a template."""


OWNER = Principal()


class Auth:
    """Checks tokens and mints/validates session and CSRF values. The keys derive from the server's
    own token, so changing it signs everyone out; `main` (the main store) knows the accounts."""

    def __init__(self, token: str, main: Store | None = None) -> None:
        self.token = token
        self.main = main
        self._key = hashlib.sha256(b"hearth-session:" + token.encode()).digest()

    def is_owner(self, candidate: str) -> bool:
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    def identify(self, candidate: str | None) -> Principal | None:
        """The principal a token belongs to, or None for a wrong or missing one."""
        if not candidate:
            return None
        if self.is_owner(candidate):
            return OWNER
        if self.main is None:
            return None
        from hearth.store import users

        account = users.account_for_token(self.main, candidate)
        return self._principal(account) if account else None

    def _principal(self, account: Account) -> Principal:
        from hearth.store import users

        return Principal(account.name, account.id, account.token_at, users.location(self.main, account))

    def check_token(self, candidate: str | None) -> bool:
        return self.identify(candidate) is not None

    def _sign(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()

    def new_session(self, who: Principal = OWNER) -> str:
        expires = str(int(time.time()) + SESSION_DAYS * 86400)
        nonce = secrets.token_hex(8)
        name = who.name or ""
        return f"{expires}.{nonce}.{name}.{self._sign(f'{expires}.{nonce}.{name}.{who.account_id}.{who.stamp!r}')}"

    def session_principal(self, cookie: str | None) -> Principal | None:
        """The principal a session cookie was signed for, while it is unexpired and their token unchanged."""
        if not cookie or cookie.count(".") < 3:
            return None
        expires, nonce, rest = cookie.split(".", 2)
        name, _, sig = rest.rpartition(".")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        who = OWNER
        if name:
            if self.main is None:
                return None
            from hearth.store import users

            try:
                who = self._principal(users.get_account(self.main, name))
            except HearthError:
                return None  # the account was removed
        expected = self._sign(f"{expires}.{nonce}.{name}.{who.account_id}.{who.stamp!r}")
        return who if hmac.compare_digest(sig, expected) else None

    def check_session(self, cookie: str | None) -> bool:
        return self.session_principal(cookie) is not None

    def csrf_for(self, session: str) -> str:
        """The CSRF value for a session: forms carry it, a cross-site page cannot know it."""
        return self._sign("csrf:" + session)[:32]

    def check_csrf(self, session: str | None, value: str | None) -> bool:
        return bool(session and value) and hmac.compare_digest(self.csrf_for(session), value)
