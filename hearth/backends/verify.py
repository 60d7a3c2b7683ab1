"""How far a server's "this model answered" can be believed.

A server's `model` field is its word: `llama_cpp.server` answers a request for `gpt-4o` with
`"model": "gpt-4o"` while it only serves SmolLM2, and providers have silently routed requests to
other models. So the claim is cross-checked against what else the server says about itself —
its `/v1/models` list, model-naming headers, `system_fingerprint`, OpenRouter's `provider` — and
the result says which of three things is true: the evidence agrees (`verified`), there is only
the server's word or it merely echoes the request (`unverified`), or some evidence names another
model family than the one asked for (`mismatch`). Families follow `hearth.audit.routing`, so a
dated snapshot (`gpt-4o-2024-08-06`, `claude-sonnet-4-5-20250929`) is not a mismatch.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from hearth.audit.routing import ROUTERS, model_family
from hearth.backends.base import MISMATCH, UNVERIFIED, VERIFIED, Verification

MODEL_HEADERS = ("openai-model", "x-served-model", "x-model", "x-litellm-model-name")
"""Response headers in which some servers and proxies name the model that actually ran."""
EVIDENCE_HEADERS = MODEL_HEADERS + (
    "x-request-id",
    "request-id",
    "openai-organization",
    "openai-version",
    "anthropic-organization-id",
    "x-openrouter-provider",
    "x-litellm-model-api-base",
    "server",
)
_SNAPSHOT = re.compile(r"(-\d{8}|@\d{8}|-latest|:latest)$")
LISTING_TTL_S = 600.0

_listings: dict[tuple[str, int], tuple[float, list[dict[str, Any]] | None, str | None]] = {}
_listings_lock = threading.Lock()


def _norm(slug: str) -> str:
    s = slug.strip().lower()
    return s[: -len(":latest")] if s.endswith(":latest") else s


def canonical(slug: str | None) -> str | None:
    """The family of a model id, ignoring provider prefixes, snapshots and `:latest` tags."""
    if not slug:
        return None
    s = slug.strip().lower().rsplit("/", 1)[-1]
    while (stripped := _SNAPSHOT.sub("", s)) != s:
        s = stripped
    return model_family(s)


def is_router(requested: str | None) -> bool:
    """`auto`, `openrouter/auto`: the request itself leaves the choice to the provider."""
    return not requested or requested.lower() in ROUTERS or requested.lower().endswith("/auto")


def different_family(requested: str | None, served: str | None) -> bool:
    if is_router(requested) or not served:
        return False
    return canonical(requested) != canonical(served)


def evidence_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    if not headers:
        return {}
    return {h: headers[h] for h in EVIDENCE_HEADERS if headers.get(h)}


def listed(model: str, listing: list[dict[str, Any]]) -> bool:
    """Is `model` (or its family, for a dated snapshot of a listed alias) in the server's list?"""
    ids = [str(e.get("id", "")) for e in listing]
    if _norm(model) in {_norm(i) for i in ids}:
        return True
    fam = canonical(model)
    return fam is not None and fam in {canonical(i) for i in ids}


def cached_listing(
    base_url: str, key: str | None, fetch: Callable[[], list[dict[str, Any]]]
) -> tuple[list[dict[str, Any]] | None, str | None]:
    """The server's model list (or why there is none), fetched at most once per TTL per address and key."""
    cache_key = (base_url.rstrip("/"), hash(key or ""))
    now = time.monotonic()
    with _listings_lock:
        hit = _listings.get(cache_key)
        if hit and now - hit[0] < LISTING_TTL_S:
            return hit[1], hit[2]
    try:
        entries, error = fetch(), None
    except Exception as exc:  # any failure only means "no list to check against"
        entries, error = None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}"
    with _listings_lock:
        _listings[cache_key] = (now, entries, error)
    return entries, error


def clear_listing_cache() -> None:
    with _listings_lock:
        _listings.clear()


def verify(
    requested: str,
    served: str | None,
    *,
    listing: list[dict[str, Any]] | None,
    listing_error: str | None = None,
    headers: Mapping[str, str] | None = None,
    fingerprint: str | None = None,
    provider: str | None = None,
) -> Verification:
    """Judge the server's claim `served` for a request of `requested` against the other evidence."""
    hdrs = evidence_headers(headers)
    evidence: dict[str, Any] = {"requested": requested, "response_model": served}
    if hdrs:
        evidence["headers"] = hdrs
    if fingerprint:
        evidence["system_fingerprint"] = fingerprint
    if provider:
        evidence["provider"] = provider
    if listing is not None:
        ids = [str(e.get("id", "")) for e in listing]
        evidence["listed"] = ids[:50] + ([f"… {len(ids) - 50} more"] if len(ids) > 50 else [])
    else:
        evidence["listed"] = None
        evidence["listing_error"] = listing_error

    claims = [("the reply's model field", served)] if served else []
    claims += [(f"the {h} header", hdrs[h]) for h in MODEL_HEADERS if h in hdrs]
    for source, claim in claims:
        if different_family(requested, claim):
            return Verification(MISMATCH, f"asked for {requested}, but {source} says {claim}", evidence, claim)
    if not served:
        named = next((c for s, c in claims), None)
        return Verification(UNVERIFIED, "the server did not say which model answered", evidence, named)
    fp = f" (system_fingerprint {fingerprint})" if fingerprint else ""
    if listing is None:
        why = f": {listing_error}" if listing_error else ""
        return Verification(UNVERIFIED, f"only the server's word; its model list could not be read{why}{fp}", evidence)
    if listed(served, listing):
        resolved = f" (resolved from {requested})" if _norm(served) != _norm(requested) else ""
        return Verification(VERIFIED, f"{served} is in the server's model list{resolved}{fp}", evidence)
    ids = [str(e.get("id", "")) for e in listing]
    only = ids[0] if len(ids) == 1 else None
    shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "") if ids else "nothing"
    if _norm(served) == _norm(requested):
        likely = f"; the reply most likely came from {only}" if only else ""
        return Verification(
            UNVERIFIED,
            f"the server echoes the requested name {requested} but lists only {shown}{likely}",
            evidence,
            only,
        )
    return Verification(UNVERIFIED, f"{served} is not in the server's model list ({shown})", evidence, only)
