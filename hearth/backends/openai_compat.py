"""Any server that speaks OpenAI's chat-completions API: OpenAI, OpenRouter, vLLM, llama.cpp's
server, Ollama, LM Studio — a base URL, a key and a model name.

It uses the official `openai` SDK (retries, SSE parsing, typed errors) and adds what the SDK
does not: every reply is checked against the server's `/v1/models` list, model headers and
`system_fingerprint` (see `verify.py`), usage is estimated when the server reports none, and
every failure becomes a `BackendError` that keeps the partial reply.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import Any

from hearth.backends.base import (
    DEFAULT_CONTEXT_TOKENS,
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

NO_KEY = "no-key"
"""Sent to local servers that need no key: the SDK insists on one, and must not fall back to
$OPENAI_API_KEY, which would leak a real OpenAI key to whatever server `base_url` names."""
_CONTEXT_FIELDS = ("context_length", "max_model_len", "context_window", "max_context_length", "n_ctx")


def _sdk():
    try:
        import openai
    except ImportError as exc:  # pragma: no cover - openai is a core dependency
        raise BackendConfigError(
            "The `openai` package is not installed, so OpenAI-compatible backends cannot be used.",
            hint="pip install 'openai>=3.57'",
        ) from exc
    return openai


class OpenAICompatible:
    """A `ChatBackend` for one model on one OpenAI-compatible server."""

    kind = "openai"
    parallel = 8
    """Replies at once through `hearth serve`: a server answers several people at once (the `parallel` setting)."""

    def __init__(
        self,
        *,
        base_url: str,
        model: str,
        api_key: str | None = None,
        name: str = "openai",
        key_source: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        context_tokens: int | None = None,
        stream_usage: bool = True,
    ) -> None:
        openai = _sdk()
        self.name = name
        self.requested_model = model
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.stream_usage = stream_usage
        self._key = api_key
        self._key_source = key_source
        self._context = context_tokens
        self._sdk = openai
        self._max_retries = max_retries
        self._client = self._new_client()

    def _new_client(self) -> Any:
        return self._sdk.OpenAI(
            base_url=self.base_url, api_key=self._key or NO_KEY, timeout=self.timeout, max_retries=self._max_retries
        )

    def _drop_connections(self) -> None:
        """After a stream that ended short, the server may close that connection once it has failed,
        and the next request, sent over it from the pool, would fail as 'connection reset' (seen
        with llama.cpp's server). New connections from here on."""
        old, self._client = self._client, self._new_client()
        old.close()

    # -- the protocol -------------------------------------------------------------------------

    @property
    def context_tokens(self) -> int:
        """From the config, else from the server's model list (OpenRouter, vLLM say it), else 8192."""
        if self._context:
            return self._context
        listing, _ = self.listing()
        for entry in listing or []:
            if entry.get("id") == self.requested_model:
                for f in _CONTEXT_FIELDS:
                    if isinstance(entry.get(f), int) and entry[f] > 0:
                        return entry[f]
        return DEFAULT_CONTEXT_TOKENS

    def count_tokens(self, text: str) -> int:
        """The server's tokenizer is not reachable through this API, so hearth's estimate."""
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
        """Nothing is sent until the stream is iterated; errors surface there, keeping partial text."""
        msgs = check_messages(messages)
        params = _params(temperature, top_p, max_tokens, seed, stop)
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
        """One non-streaming request (`stream: false`), for callers that want the whole reply at once."""
        msgs = check_messages(messages)
        params = _params(temperature, top_p, max_tokens, seed, stop)
        timeout = timeout or self.timeout
        where = self._where(timeout)
        timer = Timer()
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=self.requested_model, messages=msgs, timeout=timeout, **params
            )
            resp = raw.parse()
        except Exception as exc:
            raise translate(exc, self._sdk, where) from exc
        choices = getattr(resp, "choices", None)
        message = getattr(choices[0], "message", None) if choices else None
        if message is None:
            raise malformed(where, f"no choices[0].message in {str(resp)[:120]!r}")
        text = message.content or ""
        timer.mark_first()
        usage = _usage(getattr(resp, "usage", None)) or estimate_usage(msgs, text, self.count_tokens)
        return self._result(text, resp, raw.headers, choices[0].finish_reason, usage, timer)

    # -- extras ---------------------------------------------------------------------------------

    def listing(self) -> tuple[list[dict[str, Any]] | None, str | None]:
        """The server's `/v1/models` entries (cached), or None and the reason it could not be read."""

        def fetch() -> list[dict[str, Any]]:
            page = self._client.with_options(timeout=min(self.timeout, 10.0), max_retries=0).models.list()
            return [m.model_dump() if hasattr(m, "model_dump") else dict(m) for m in page.data]

        return cached_listing(self.base_url, self._key, fetch)

    def list_models(self) -> list[str]:
        listing, _ = self.listing()
        return [str(e.get("id")) for e in listing or []]

    # -- internals ------------------------------------------------------------------------------

    def _where(self, timeout: float | None) -> Where:
        return Where(self.name, self.base_url, self.requested_model, self._key_source, timeout)

    def _open(self, msgs: list[dict[str, str]], params: dict[str, Any], timeout: float):
        body = {"model": self.requested_model, "messages": msgs, "stream": True, **params}
        extra = {"stream_options": {"include_usage": True}} if self.stream_usage else {}
        try:
            return self._post_stream({**body, **extra}, timeout)
        except self._sdk.BadRequestError as exc:
            if not extra or "stream_options" not in str(exc):
                raise
            self.stream_usage = False  # an older server that rejects the field; ask without it
            return self._post_stream(body, timeout)

    def _post_stream(self, body: dict[str, Any], timeout: float):
        """The SDK's streaming request with the body as it is. `chat.completions.create` would first
        re-walk every message against its typed schema (about 0.1 ms a message: 5 ms for a 40-turn
        prompt, on every turn), for messages `check_messages` already made plain text."""
        from openai.types.chat import ChatCompletion, ChatCompletionChunk

        return self._client.post("/chat/completions", body=body, cast_to=ChatCompletion, options={"timeout": timeout},
                                 stream=True, stream_cls=self._sdk.Stream[ChatCompletionChunk])  # fmt: skip

    def _stream(
        self, msgs: list[dict[str, str]], params: dict[str, Any], timeout: float
    ) -> Generator[Delta, None, ChatResult]:
        where = self._where(timeout)
        timer = Timer()
        parts: list[str] = []
        try:
            stream = self._open(msgs, params, timeout)
        except Exception as exc:
            raise translate(exc, self._sdk, where) from exc
        last: Any = None
        served = fingerprint = provider = finish = None
        usage: Usage | None = None
        try:
            for chunk in stream:
                if not hasattr(chunk, "choices"):
                    raise malformed(where, f"a stream chunk that is not a completion chunk: {str(chunk)[:80]!r}")
                last = chunk
                served = served or chunk.model
                fingerprint = fingerprint or chunk.system_fingerprint
                provider = provider or (chunk.model_extra or {}).get("provider")
                usage = _usage(chunk.usage) or usage
                for choice in chunk.choices or []:
                    if choice.index != 0:
                        continue
                    text = choice.delta.content if choice.delta else None
                    if text:
                        timer.mark_first()
                        parts.append(text)
                        yield Delta(text)
                    finish = choice.finish_reason or finish
        except Exception as exc:
            raise translate(exc, self._sdk, where, "".join(parts)) from exc
        finally:
            stream.close()
        text = "".join(parts)
        if last is None or finish is None:
            self._drop_connections()
        if last is None:
            kind = stream.response.headers.get("content-type", "")
            if "event-stream" not in kind:
                raise malformed(where, f"a {kind or 'untyped'} body where a reply stream belongs")
            raise self._empty_stream(msgs)
        if finish is None:
            kept = f" The {len(text)} characters that arrived are kept." if text else ""
            raise BackendStreamBroken(
                f"The {self.name} backend ended the reply stream without saying the reply was complete.{kept}",
                hint="Try again; if it keeps happening the server or a proxy is cutting responses short.",
                backend=self.name,
                partial_text=text,
            )
        usage = usage or estimate_usage(msgs, text, self.count_tokens)
        summary = _Summary(served, fingerprint, provider) if last is not None else None
        return self._result(text, summary, stream.response.headers, finish, usage, timer)

    def _empty_stream(self, msgs: list[dict[str, str]]) -> BackendStreamBroken:
        """A stream that closed before its first event. llama.cpp's server does this when the prompt
        does not fit its context window: the error comes after the 200 and never reaches the client."""
        prompt = sum(self.count_tokens(m["content"]) + 4 for m in msgs)
        return BackendStreamBroken(
            f"The {self.name} backend accepted the request, then closed the reply stream without a word or an "
            f"error (the prompt was about {prompt:,} tokens; hearth assumes the model holds {self.context_tokens:,}).",
            hint="A llama.cpp server does this when the prompt is longer than its context window: start it with a "
            "larger --n_ctx, or set context_tokens for this backend in the config to what the server holds. "
            "Its own log says why.",
            backend=self.name,
        )

    def _result(self, text: str, resp: Any, headers: Any, finish: str | None, usage: Usage, timer: Timer) -> ChatResult:
        served = getattr(resp, "model", None) or None
        extra = getattr(resp, "model_extra", None) or {}
        provider = getattr(resp, "provider", None) or extra.get("provider")
        listing, listing_error = self.listing()
        verdict = verify(
            self.requested_model,
            served,
            listing=listing,
            listing_error=listing_error,
            headers={k.lower(): v for k, v in dict(headers or {}).items()},
            fingerprint=getattr(resp, "system_fingerprint", None),
            provider=provider if isinstance(provider, str) else None,
        )
        return ChatResult(
            text=text,
            backend=self.name,
            requested_model=self.requested_model,
            served_model=served or verdict.likely_model or "unknown",
            verification=verdict,
            usage=usage,
            finish_reason=finish_reason(finish),
            latency_s=timer.elapsed,
            time_to_first_token_s=timer.first,
        )


class _Summary:
    """What the chunks of a stream said about the model, shaped like a non-streaming response."""

    def __init__(self, model: str | None, fingerprint: str | None, provider: str | None) -> None:
        self.model = model
        self.system_fingerprint = fingerprint
        self.provider = provider


def _params(
    temperature: float | None, top_p: float | None, max_tokens: int | None, seed: int | None, stop: Sequence[str] | None
) -> dict[str, Any]:
    """Only what the caller set: servers differ in defaults and some reject fields they do not know."""
    params: dict[str, Any] = {"temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seed": seed}
    params = {k: v for k, v in params.items() if v is not None}
    if stop:
        params["stop"] = list(stop)
    return params


def _usage(raw: Any) -> Usage | None:
    if raw is None:
        return None
    prompt, completion = getattr(raw, "prompt_tokens", None), getattr(raw, "completion_tokens", None)
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return Usage(prompt_tokens=prompt, completion_tokens=completion, estimated=False)
