"""Claude through Anthropic's Messages API, with the official `anthropic` SDK.

The Messages API differs from OpenAI's in ways a companion conversation hits at once: the system
prompt is a separate field, turns must alternate user/assistant starting with the user,
`max_tokens` is mandatory, there is no seed, and the stream is a sequence of typed events
(message_start … message_stop, or an `error` event inside a 200 response). This adapter hides
all that behind `ChatBackend`, and checks the served model against `GET /v1/models` like the
OpenAI-compatible adapter does.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from hearth.backends.base import (
    ChatMessage,
    ChatResult,
    ChatStream,
    Delta,
    Timer,
    Usage,
    check_messages,
    estimate_usage,
    finish_reason,
)
from hearth.backends.http_errors import Where, malformed, translate
from hearth.backends.verify import cached_listing, verify
from hearth.errors import BackendConfigError, BackendStreamBroken
from hearth.memory.tokens import estimate_tokens

DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MAX_TOKENS = 1024
"""The API refuses a request without `max_tokens`; a companion turn rarely needs more."""
CLAUDE_CONTEXT_TOKENS = 200_000
CONTINUED = "(continued)"
"""Put before a history that starts with an assistant turn, which the API rejects."""


def _sdk():
    try:
        import anthropic
    except ImportError as exc:  # pragma: no cover - anthropic is a core dependency
        raise BackendConfigError(
            "The `anthropic` package is not installed, so Claude backends cannot be used.",
            hint="pip install 'anthropic>=2.13'",
        ) from exc
    return anthropic


def split_system(messages: list[dict[str, str]]) -> tuple[str | None, list[dict[str, str]]]:
    """OpenAI-shaped history → (system prompt, alternating turns that start with the user).

    System messages anywhere are joined into the one system field; consecutive turns of the same
    role (an imported history with a lost reply) are joined rather than dropped.
    """
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system" and m["content"].strip())
    turns: list[dict[str, str]] = []
    for m in messages:
        if m["role"] == "system":
            continue
        if turns and turns[-1]["role"] == m["role"]:
            turns[-1] = {"role": m["role"], "content": turns[-1]["content"] + "\n\n" + m["content"]}
        else:
            turns.append({"role": m["role"], "content": m["content"]})
    if turns and turns[0]["role"] == "assistant":
        turns.insert(0, {"role": "user", "content": CONTINUED})
    return (system or None), turns


class AnthropicBackend:
    """A `ChatBackend` for one Claude model."""

    kind = "anthropic"
    parallel = 8
    """Replies at once through `hearth serve`: a server answers several people at once (the `parallel` setting)."""

    def __init__(
        self,
        *,
        model: str,
        api_key: str | None,
        base_url: str = DEFAULT_BASE_URL,
        name: str = "anthropic",
        key_source: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        context_tokens: int | None = None,
    ) -> None:
        anthropic = _sdk()
        self.name = name
        self.requested_model = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._key = api_key
        self._key_source = key_source
        self._context = context_tokens
        self._sdk = anthropic
        self._sampling = True
        # An explicit key (even a placeholder) stops the SDK from reading env vars or profiles on disk.
        self._client = anthropic.Anthropic(
            api_key=api_key or "no-key", base_url=self.base_url, timeout=timeout, max_retries=max_retries
        )

    @property
    def context_tokens(self) -> int:
        if self._context:
            return self._context
        listing, _ = self.listing()
        for entry in listing or []:
            if entry.get("id") == self.requested_model and isinstance(entry.get("max_input_tokens"), int):
                return entry["max_input_tokens"]
        return CLAUDE_CONTEXT_TOKENS

    def count_tokens(self, text: str) -> int:
        """Claude's tokenizer is not public (counting is an API call), so hearth's estimate."""
        return estimate_tokens(text)

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
        """`seed` is accepted for the protocol's sake; the Messages API has none."""
        msgs = check_messages(messages)
        params = self._params(msgs, temperature, top_p, max_tokens, stop)
        return ChatStream(self._stream(msgs, params, timeout or self.timeout))

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
        msgs = check_messages(messages)
        params = self._params(msgs, temperature, top_p, max_tokens, stop)
        timeout = timeout or self.timeout
        where = self._where(timeout)
        timer = Timer()
        try:
            raw = self._call(self._client.messages.with_raw_response.create, timeout=timeout, **params)
            resp = raw.parse()
        except Exception as exc:
            raise translate(exc, self._sdk, where) from exc
        blocks = getattr(resp, "content", None)
        if not isinstance(blocks, list):
            raise malformed(where, f"no content blocks in {str(resp)[:120]!r}")
        text = "".join(getattr(b, "text", "") or "" for b in blocks if getattr(b, "type", None) == "text")
        timer.mark_first()
        usage = _usage(getattr(resp, "usage", None)) or estimate_usage(msgs, text, self.count_tokens)
        return self._result(text, getattr(resp, "model", None), raw.headers, resp.stop_reason, usage, timer)

    def listing(self) -> tuple[list[dict[str, Any]] | None, str | None]:
        def fetch() -> list[dict[str, Any]]:
            page = self._client.with_options(timeout=min(self.timeout, 10.0), max_retries=0).models.list(limit=1000)
            return [m.model_dump() for m in page.data]

        return cached_listing(self.base_url, self._key, fetch)

    def list_models(self) -> list[str]:
        listing, _ = self.listing()
        return [str(e.get("id")) for e in listing or []]

    def _call(self, create: Any, **params: Any) -> Any:
        """`create(**params)`, asked again without temperature/top_p if the model refuses them."""
        try:
            return create(**params)
        except self._sdk.BadRequestError as exc:
            said = str(exc)
            if "extra_body" not in params or not ("temperature" in said or "top_p" in said):
                raise
            self._sampling = False
            return create(**{k: v for k, v in params.items() if k != "extra_body"})

    def _where(self, timeout: float | None) -> Where:
        return Where(self.name, self.base_url, self.requested_model, self._key_source, timeout)

    def _params(
        self,
        msgs: list[dict[str, str]],
        temperature: float | None,
        top_p: float | None,
        max_tokens: int | None,
        stop: Sequence[str] | None,
    ) -> dict[str, Any]:
        system, turns = split_system(msgs)
        params: dict[str, Any] = {
            "model": self.requested_model,
            "messages": turns,
            "max_tokens": max_tokens or DEFAULT_MAX_TOKENS,
        }
        if system:
            params["system"] = system
        # The SDK no longer has sampling parameters (newer Claude models reject them), but older
        # models and compatible servers take them: send what was set as extra body fields, and
        # drop them if the server refuses (see `_call`).
        sampling = {k: v for k, v in (("temperature", temperature), ("top_p", top_p)) if v is not None}
        if sampling and self._sampling:
            params["extra_body"] = sampling
        if stop:
            params["stop_sequences"] = list(stop)
        return params

    def _stream(
        self, msgs: list[dict[str, str]], params: dict[str, Any], timeout: float
    ) -> Generator[Delta, None, ChatResult]:
        where = self._where(timeout)
        timer = Timer()
        parts: list[str] = []
        try:
            stream = self._call(self._client.messages.create, stream=True, timeout=timeout, **params)
        except Exception as exc:
            raise translate(exc, self._sdk, where) from exc
        served = stop_reason = None
        prompt_tokens = completion_tokens = None
        stopped = False
        try:
            for event in stream:
                kind = getattr(event, "type", None)
                if kind == "message_start":
                    message = getattr(event, "message", None)
                    served = getattr(message, "model", None)
                    prompt_tokens = getattr(getattr(message, "usage", None), "input_tokens", None)
                elif kind == "content_block_start":
                    text = getattr(getattr(event, "content_block", None), "text", None)
                    if text:
                        timer.mark_first()
                        parts.append(text)
                        yield Delta(text)
                elif kind == "content_block_delta":
                    delta = getattr(event, "delta", None)
                    text = getattr(delta, "text", None) if getattr(delta, "type", None) == "text_delta" else None
                    if text:
                        timer.mark_first()
                        parts.append(text)
                        yield Delta(text)
                elif kind == "message_delta":
                    stop_reason = getattr(getattr(event, "delta", None), "stop_reason", None) or stop_reason
                    usage = getattr(event, "usage", None)
                    completion_tokens = getattr(usage, "output_tokens", None)
                    prompt_tokens = getattr(usage, "input_tokens", None) or prompt_tokens
                elif kind == "message_stop":
                    stopped = True
                elif kind is None:
                    raise malformed(where, f"an event without a type: {str(event)[:80]!r}", "".join(parts))
        except Exception as exc:
            raise translate(exc, self._sdk, where, "".join(parts)) from exc
        finally:
            stream.close()
        text = "".join(parts)
        if not stopped:
            kept = f" The {len(text)} characters that arrived are kept." if text else ""
            raise BackendStreamBroken(
                f"The {self.name} backend ended the reply stream before message_stop.{kept}",
                hint="Try again; if it keeps happening the server or a proxy is cutting responses short.",
                backend=self.name,
                partial_text=text,
            )
        usage = _counts(prompt_tokens, completion_tokens) or estimate_usage(msgs, text, self.count_tokens)
        return self._result(text, served, stream.response.headers, stop_reason, usage, timer)

    def _result(
        self, text: str, served: str | None, headers: Any, stop_reason: str | None, usage: Usage, timer: Timer
    ) -> ChatResult:
        listing, listing_error = self.listing()
        verdict = verify(
            self.requested_model,
            served,
            listing=listing,
            listing_error=listing_error,
            headers={k.lower(): v for k, v in dict(headers or {}).items()},
        )
        return ChatResult(
            text=text,
            backend=self.name,
            requested_model=self.requested_model,
            served_model=served or verdict.likely_model or "unknown",
            verification=verdict,
            usage=usage,
            finish_reason=finish_reason(stop_reason),
            latency_s=timer.elapsed,
            time_to_first_token_s=timer.first,
        )


def _usage(raw: Any) -> Usage | None:
    return _counts(getattr(raw, "input_tokens", None), getattr(raw, "output_tokens", None)) if raw else None


def _counts(prompt: Any, completion: Any) -> Usage | None:
    if isinstance(prompt, int) and isinstance(completion, int):
        return Usage(prompt_tokens=prompt, completion_tokens=completion, estimated=False)
    return None
