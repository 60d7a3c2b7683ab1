"""The OpenAI-compatible embedder over real HTTP on loopback: vectors, auth header, errors."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from hearth.errors import HearthError
from hearth.memory.embed import OpenAICompatible

SEEN: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        SEEN.append({"auth": self.headers.get("Authorization"), "body": body})
        if body["model"] == "missing":
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b'{"error": "no such model"}')
            return
        inputs = body["input"]
        data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.0, 2.0]} for i, t in reversed(list(enumerate(inputs)))]
        payload = json.dumps({"data": data, "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_embeds_in_order_normalised_with_key(server):
    e = OpenAICompatible(server, "nomic-embed", api_key="sk-test")
    assert e.dim == 4 and e.name == "openai:nomic-embed"
    v = e.passages(["a", "你好呀", "hello world"])
    assert v.shape == (3, 4)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0)
    assert v[0][0] < v[1][0] < v[2][0], "rows come back in input order even if the server shuffles them"
    assert SEEN[-1]["auth"] == "Bearer sk-test"


def test_clear_errors(server):
    with pytest.raises(HearthError, match="answered 404"):
        OpenAICompatible(server, "missing")
    with pytest.raises(HearthError, match="Cannot reach"):
        OpenAICompatible("http://127.0.0.1:9/v1", "x")
