"""The one interface every chat model sits behind, and the record of what a reply really was.

A backend streams text deltas and then settles into a `ChatResult` that says which model the
server *claims* answered, how far that claim can be believed (`Verification`), token usage and
timings. hearth stores `requested_model` and `served_model` for every reply, so the result keeps
the server's word and the evidence apart: a server's `model` field is its word, not proof.

Adapters write one generator that yields `Delta`s and *returns* the `ChatResult`; `ChatStream`
turns that into something a caller can iterate and then ask for `.result`, and `complete()` is
the same thing drained.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from hearth.errors import BackendBadResponse, BackendError
from hearth.memory.tokens import estimate_tokens

Role = Literal["system", "user", "assistant"]
ChatMessage = Mapping[str, str]
"""`{"role": "system" | "user" | "assistant", "content": "..."}` — the OpenAI shape, which every adapter maps."""

VERIFIED = "verified"
UNVERIFIED = "unverified"
MISMATCH = "mismatch"

DEFAULT_CONTEXT_TOKENS = 8192
"""Used when neither the config nor the server says how long the context window is."""


@dataclass(frozen=True)
class Delta:
    """A piece of reply text as it arrives."""

    text: str


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False
    """True when the server reported nothing and hearth counted (its estimate or a local tokenizer)."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Verification:
    """How far the served model name can be believed, and why.

    `status` is `verified` (independent evidence agrees), `unverified` (only the server's word, or
    the server merely echoes the name it was asked for) or `mismatch` (the evidence names another
    model than the one requested). `evidence` keeps what was looked at so a person can check.
    """

    status: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    likely_model: str | None = None
    """When the server's word is not believable but the evidence points at one model, that model."""

    @property
    def flagged(self) -> bool:
        """True when a person should be told (anything but `verified`)."""
        return self.status != VERIFIED

    def __str__(self) -> str:
        return f"{self.status}: {self.reason}"


@dataclass(frozen=True)
class ChatResult:
    text: str
    backend: str
    requested_model: str
    served_model: str
    """Exactly what the server reported (or the local file's model name for the embedded backend)."""
    verification: Verification
    usage: Usage
    finish_reason: str
    """OpenAI vocabulary: `stop`, `length`, `content_filter`, `tool_calls`; other values pass through."""
    latency_s: float
    time_to_first_token_s: float | None


@runtime_checkable
class ChatBackend(Protocol):
    """What `companion/` needs from a model, whatever serves it."""

    name: str
    requested_model: str

    @property
    def context_tokens(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

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
    ) -> ChatStream: ...

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
    ) -> ChatResult: ...


class ChatStream:
    """Iterate for `Delta`s; afterwards `.result` holds the `ChatResult`.

    Breaking out early and calling `close()` (or leaving a `with` block) closes the underlying
    HTTP response or stops generation; `.result` is then None.
    """

    def __init__(self, gen: Generator[Delta, None, ChatResult]) -> None:
        self._gen = gen
        self.result: ChatResult | None = None

    def __iter__(self) -> Iterator[Delta]:
        while True:
            try:
                delta = next(self._gen)
            except StopIteration as stop:
                self.result = stop.value
                return
            yield delta

    def text(self) -> str:
        """Drain the stream; return the whole reply text."""
        return "".join(d.text for d in self)

    def final(self) -> ChatResult:
        """Drain what is left and return the result."""
        for _ in self:
            pass
        if self.result is None:
            raise BackendBadResponse("The reply stream ended without a result.", hint="This is a bug in hearth.")
        return self.result

    def close(self) -> None:
        self._gen.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Timer:
    """Latency and time-to-first-token, measured the same way by every adapter."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.first: float | None = None

    def mark_first(self) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.start

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def check_messages(messages: Sequence[ChatMessage]) -> list[dict[str, str]]:
    """Fail before any network call when the conversation cannot be sent at all."""
    out: list[dict[str, str]] = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise BackendError(
                f"Message {i} has role {role!r} or non-text content; a chat backend takes system/user/assistant text.",
                hint="This is a bug in the caller; the user's message was not sent.",
            )
        out.append({"role": role, "content": content})
    if not any(m["role"] != "system" for m in out):
        raise BackendError("There is nothing to answer: the conversation has no user message.")
    return out


def estimate_usage(messages: Sequence[ChatMessage], text: str, count=estimate_tokens) -> Usage:
    """The server reported no usage: count with `count` (about 4 tokens of framing per message)."""
    prompt = sum(count(m["content"]) + 4 for m in messages)
    return Usage(prompt_tokens=prompt, completion_tokens=count(text) if text else 0, estimated=True)


def finish_reason(raw: str | None) -> str:
    """Anthropic and others into the OpenAI words companion/ checks against."""
    mapping = {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "tool_use": "tool_calls",
        "refusal": "content_filter",
    }
    return mapping.get(raw or "", raw or "unknown")
