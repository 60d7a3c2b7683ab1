"""SDK and transport failures turned into `BackendError`s a person can act on.

The `openai` and `anthropic` SDKs raise parallel exception families (same class names, different
modules) and, mid-stream, sometimes let raw `httpx2` or `json` errors through; everything meets
here so both adapters say the same sentence for the same situation, and keep any partial reply.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from hearth.errors import (
    BackendAuthError,
    BackendBadResponse,
    BackendError,
    BackendModelNotFound,
    BackendRateLimited,
    BackendRequestRejected,
    BackendServerError,
    BackendStreamBroken,
    BackendTimeout,
    BackendUnreachable,
)


@dataclass(frozen=True)
class Where:
    """Who failed, for the message: the backend's name, its address, the model, where its key lives."""

    backend: str
    base_url: str
    model: str
    key_source: str | None = None
    timeout: float | None = None


def server_message(body: Any) -> str:
    """The human part of an error body, whichever of the common shapes the server used."""
    msg: Any = body
    if isinstance(body, dict):
        err = body.get("error", body.get("detail", body.get("message")))
        if isinstance(err, dict):
            msg = err.get("message") or err.get("type") or err
        elif err is not None:
            msg = err
    text = msg if isinstance(msg, str) else json.dumps(msg, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text[:240] + ("…" if len(text) > 240 else "")


def _error_type(body: Any) -> str | None:
    """Anthropic's `{"type": "error", "error": {"type": "overloaded_error"}}`, also inside a 200 stream."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        kind = body["error"].get("type")
        return kind if isinstance(kind, str) else None
    return None


_TYPE_STATUS = {
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "rate_limit_error": 429,
    "invalid_request_error": 400,
    "request_too_large": 413,
    "api_error": 500,
    "overloaded_error": 529,
}


def _retry_after(response: Any) -> float | None:
    try:
        value = response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, ValueError):
        return None


def translate(exc: BaseException, sdk: ModuleType, where: Where, partial: str = "") -> BackendError:
    """Map one failure to the matching `BackendError`; `partial` is the reply text received so far."""
    kw = {"backend": where.backend, "partial_text": partial}
    kept = f" The {len(partial)} characters that arrived are kept." if partial else ""
    name, url = where.backend, where.base_url

    if isinstance(exc, BackendError):
        return exc
    if isinstance(exc, sdk.APITimeoutError) or _is_httpx(exc, "TimeoutException"):
        after = f" within {where.timeout:g} s" if where.timeout else ""
        if partial:
            msg = f"The {name} backend stopped sending in the middle of the reply and did not resume{after}.{kept}"
        else:
            msg = f"The {name} backend at {url} did not answer{after}."
        return BackendTimeout(
            msg,
            hint="The server may be busy or still loading the model; try again, or raise `timeout` for this backend.",
            **kw,
        )
    if isinstance(exc, sdk.APIConnectionError) or _is_httpx(exc, "TransportError"):
        if partial:
            return BackendStreamBroken(
                f"The connection to the {name} backend broke in the middle of the reply.{kept}",
                hint="Try again; if it keeps happening the server is crashing or a proxy cuts long responses.",
                **kw,
            )
        return BackendUnreachable(
            f"Cannot reach the {name} backend at {url}.",
            hint=f"Is the server running and listening there? Check `base_url` in [backends.{name}] of the config.",
            **kw,
        )
    if isinstance(exc, sdk.APIStatusError):
        status = exc.status_code
        if status < 400:  # an error event inside a 200 stream
            status = _TYPE_STATUS.get(_error_type(exc.body) or "", 500)
        said = server_message(exc.body if exc.body is not None else str(exc))
        kw["status"] = status
        if status in (401, 403):
            where_key = f" (read from {where.key_source})" if where.key_source else ""
            return BackendAuthError(
                f"The {name} backend refused the API key{where_key}: HTTP {status}, {said}",
                hint="Check that the key is current and belongs to this provider, then set it again.",
                **kw,
            )
        if status == 404:
            return BackendModelNotFound(
                f"The {name} backend does not know the model '{where.model}' or the endpoint (HTTP 404): {said}",
                hint="Check `model` against the server's model list and that `base_url` ends where the API "
                "starts (usually …/v1).",
                **kw,
            )
        if status == 429:
            retry = _retry_after(getattr(exc, "response", None))
            wait = f" Wait {retry:g} s" if retry else " Wait a little"
            return BackendRateLimited(
                f"The {name} backend is rate-limiting hearth (HTTP 429): {said}.{kept}",
                hint=f"{wait} and try again, or check the plan/quota of this key.",
                retry_after=retry,
                **kw,
            )
        if status >= 500:
            return BackendServerError(
                f"The {name} backend failed on its side (HTTP {status}): {said}.{kept}",
                hint="This is usually temporary; try again in a minute, or use another backend.",
                **kw,
            )
        return BackendRequestRejected(
            f"The {name} backend rejected the request (HTTP {status}): {said}",
            hint="The conversation may be longer than the model's context, or a setting is out of range.",
            **kw,
        )
    if isinstance(exc, (ValueError, TypeError, KeyError, AttributeError, sdk.APIResponseValidationError)):
        return malformed(where, f"{type(exc).__name__}: {exc}", partial)
    if isinstance(exc, sdk.APIError):  # an `{"error": …}` object inside a 200 stream
        said = server_message(exc.body if exc.body is not None else str(exc))
        return BackendServerError(
            f"The {name} backend reported an error in the middle of the reply: {said}.{kept}",
            hint="This is usually temporary; try again, or use another backend.",
            **kw,
        )
    return BackendError(f"The {name} backend failed: {type(exc).__name__}: {exc}.{kept}", **kw)


def malformed(where: Where, detail: str, partial: str = "") -> BackendBadResponse:
    detail = " ".join(detail.split())[:200]
    return BackendBadResponse(
        f"The {where.backend} backend at {where.base_url} answered something that is not a chat reply ({detail}).",
        hint="Check that `base_url` points at the API (usually ending in /v1), not at a web page or another service.",
        backend=where.backend,
        partial_text=partial,
    )


def _is_httpx(exc: BaseException, cls: str) -> bool:
    """httpx2 errors escape some SDK stream paths unwrapped; match them without importing httpx2 here."""
    for klass in type(exc).__mro__:
        if klass.__name__ == cls and klass.__module__.split(".")[0] in ("httpx2", "httpx"):
            return True
    return False
