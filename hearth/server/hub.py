"""What the server's routes share: the store, the backends (built once, one turn at a time each),
and how a companion is put together for a request.

On a shared server each person gets a hub of their own (`for_person`): their own store, the same
backends and the same limits on how many replies each backend writes at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from hearth.backends.base import ChatBackend
from hearth.companion.turn import REPLY_TOKENS, Companion
from hearth.memory.background import Backfill
from hearth.memory.embed import default_embedder
from hearth.server.auth import Principal
from hearth.store import Store
from hearth.store.loaders import companion_id, companions

BackendFactory = Callable[[str | None], ChatBackend]
IDLE_S = 1800.0
"""A person's hub (their open store, their background-embedding thread) is let go after this long
without a request from them, so a server with hundreds of accounts holds only the active ones."""


class Hub:
    def __init__(
        self,
        store: Store,
        make_backend: BackendFactory,
        *,
        backend: str | None = None,
        fallbacks: list[str] | None = None,
        configured: Callable[[], list[tuple[str, str]]] | None = None,
        embed_in_background: bool = False,
    ) -> None:
        """With `embed_in_background`, a thread embeds what this store lacks vectors for (see
        `hearth.memory.background`) and turns retrieve by meaning as well as by words."""
        self.store = store
        self.embed_in_background = embed_in_background
        self.backfill = Backfill(store).start() if embed_in_background else None
        self._make = make_backend
        self.default = backend
        self.fallbacks = fallbacks or []
        self._configured = configured or (lambda: [])
        self._backends: dict[str | None, ChatBackend] = {}
        self._locks: dict[str, threading.BoundedSemaphore] = {}
        self._guard = threading.Lock()
        self._people: dict[str, Hub] = {}
        self._opening: dict[str, threading.Lock] = {}
        self._used: dict[str, float] = {}

    def for_person(self, who: Principal) -> Hub:
        """The hub of the person a request comes from: this one for the owner, else one over their
        own store (opened on first use and kept), sharing this hub's backends and their limits.

        Kept by the store's location, not the account's id: SQLite reuses a removed account's id,
        and a new account must never be handed the hub (and the data) of the one before it."""
        if who.location is None:
            return self
        now = time.monotonic()
        with self._guard:
            self._used[who.location] = now
            idle = [where for where, used in self._used.items() if now - used > IDLE_S]
            gone = [self._people.pop(where) for where in idle if where in self._people]
            for where in idle:
                del self._used[where]
            hub = self._people.get(who.location)
            opening = self._opening.setdefault(who.location, threading.Lock())
        for old in gone:  # a request still using one keeps its connection: disposing closes idle ones
            old._let_go(wait=False)
        if hub is not None:
            return hub
        with opening:  # one request opens (and migrates) a store; the others wait for it
            with self._guard:
                hub = self._people.get(who.location)
            if hub is None:
                theirs = Store(who.location, passphrase=_passphrase(who.location, self.store.passphrase))
                hub = Hub(theirs, self._make, backend=self.default, fallbacks=self.fallbacks,
                          configured=self._configured, embed_in_background=self.embed_in_background)  # fmt: skip
                hub._backends, hub._locks, hub._guard = self._backends, self._locks, self._guard
                with self._guard:
                    self._people[who.location] = hub
        return hub

    def close(self) -> None:
        """Stop background embedding and close the stores opened for people (the main store belongs
        to whoever opened it)."""
        with self._guard:
            people, self._people = list(self._people.values()), {}
        if self.backfill is not None:
            self.backfill.stop()
        for hub in people:
            hub._let_go()

    def _let_go(self, wait: bool = True) -> None:
        """Stop this person's background embedding (waiting for its batch, or not) and close their store."""
        if self.backfill is not None:
            self.backfill.stop(timeout=10.0 if wait else 0.0)
        self.store.close()

    def backend(self, name: str | None = None) -> ChatBackend:
        """The named backend (default: the server's), built on first use and kept."""
        name = name or self.default
        with self._guard:
            if name not in self._backends:
                self._backends[name] = self._make(name)
            return self._backends[name]

    def backend_lock(self, backend: ChatBackend) -> threading.Semaphore:
        """How many replies a backend writes at once: one for a model in this process (not safe to
        run twice at once), its `parallel` setting for a server (8 unless configured), so many
        people talking through one hearth do not queue behind each other."""
        with self._guard:
            return self._locks.setdefault(backend.name, threading.BoundedSemaphore(getattr(backend, "parallel", 1)))

    def backend_models(self) -> list[tuple[str, str]]:
        return self._configured()

    def default_model_label(self) -> str:
        return self.backend().requested_model

    def companions(self) -> list[dict[str, Any]]:
        return companions(self.store)

    def companion_id(self, slug_or_name: str) -> int:
        return companion_id(self.store, slug_or_name)

    def companion(self, cid: int, *, warmth: int | None = None, max_tokens: int | None = None) -> Companion:
        return Companion(
            self.store, cid, self.backend(), fallbacks=[self.backend(f) for f in self.fallbacks], warmth=warmth,
            reply_tokens=int(max_tokens) if max_tokens else REPLY_TOKENS, backfill=self.backfill,
            embedder=default_embedder() if self.embed_in_background else None,
        )  # fmt: skip


def hub_of(request: Any) -> Hub:
    """The hub of whoever sent this request, put there by the auth middleware (server/app.py)."""
    return request.state.hub


def _passphrase(location: str, main: str | None) -> str | None:
    """An account's store opens with its own passphrase when there is one, else with the main
    store's: `hearth users add` and `hearth db encrypt` encrypt the accounts' stores with it."""
    from hearth.store import encryption
    from hearth.store.db import sqlite_file

    return encryption.passphrase_or(sqlite_file(location), main)
