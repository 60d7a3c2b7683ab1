"""What the web UI tests share: an app over a fresh store with scripted backends (one of which
reports a different served model than it was asked for), signing in, and a real uvicorn server on
loopback for the browser."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import uvicorn
from fastapi.testclient import TestClient

from hearth.backends.base import MISMATCH
from hearth.errors import NotFound
from hearth.server.app import create_app
from hearth.server.auth import CSRF_COOKIE, Auth
from hearth.server.hub import Hub
from hearth.store import Store
from hearth.store.companions import companion_by_name
from scripted import Scripted

TOKEN = "web-test-token-0123456789abcdef"
XSS_SCRIPT = "<script>window.__xss=1</script>"
XSS_IMG = '<img src=x onerror="window.__xss=2">'


def make_app(tmp: Path, *, default: str | None = "cloud", companions: tuple[str, ...] = ("Warmie", "小暖"),
             location: str | None = None):  # fmt: skip
    """(app, store, backends): `cloud` asks for gpt-4o and is answered by gpt-4o-mini (a mismatch).
    `location`: another store (a PostgreSQL URL) instead of a fresh SQLite file."""
    store = Store(location or str(tmp / "hearth.db"))
    with store.write() as conn, conn.begin():
        for name in companions:
            companion_by_name(conn, name)
    backends = {
        None: Scripted(name="embedded", model="smollm2", reply="Hello, I'm here for you. 我在这里陪着你。"),
        "cloud": Scripted(
            name="cloud",
            model="gpt-4o",
            served="gpt-4o-mini",
            status=MISMATCH,
            reply="I remember 小白 and Hangzhou. 我记得你的猫小白。",
        ),  # fmt: skip
    }

    def make(name):
        if name not in backends:
            raise NotFound(f"There is no backend {name!r}.", hint="Configure it first.")
        return backends[name]

    hub = Hub(store, make, backend=default, configured=lambda: [("cloud", "gpt-4o")])
    app = create_app(hub, Auth(TOKEN, store))
    app.state.upload_dir = tmp / "uploads"
    return app, store, backends


def signed_in(app) -> TestClient:
    client = TestClient(app)
    r = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def csrf(client: TestClient) -> str:
    return client.cookies[CSRF_COOKIE]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """The app under a real uvicorn on loopback, in a thread (the proxy and web UI tests share it)."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.time() + 10
        while not self.server.started:
            assert time.time() < deadline, "server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
