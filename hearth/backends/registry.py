"""Named backends: `embedded` always, plus every `[backends.NAME]` table of the config file.

    [backends.openrouter]
    kind = "openai"                      # openai | anthropic | embedded
    base_url = "https://openrouter.ai/api/v1"
    model = "openai/gpt-4o"
    key_env = "OPENROUTER_API_KEY"       # optional; else the OS keyring (service "hearth", user NAME)
    timeout = 60                         # seconds without a byte before giving up
    parallel = 8                         # replies at once through `hearth serve` (a server; the embedded model: 1)
    context_tokens = 128000              # optional; else asked from the server, else 8192

    [backends.ollama]
    kind = "openai"
    base_url = "http://127.0.0.1:11434/v1"
    model = "qwen2.5:7b"                 # no key_env: a local server needs no key

Keys come from an environment variable or the OS keyring and nowhere else: a key written into
the config file is refused (files get copied and shared; keys must not be), and none is ever
stored in hearth's database. `keyring` is optional; when it is missing or has no usable backend
the error says so instead of failing obscurely.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from hearth import config
from hearth.backends.base import ChatBackend, Verification
from hearth.errors import BackendConfigError, HearthError

KINDS = ("openai", "anthropic", "embedded")
DEFAULT_NAME = "embedded"
KEYRING_SERVICE = "hearth"
_SECRET_FIELDS = ("api_key", "key", "token", "secret", "password")
_KNOWN_FIELDS = {
    "kind",
    "base_url",
    "model",
    "key_env",
    "keyring",
    "timeout",
    "max_retries",
    "parallel",
    "context_tokens",
    "model_path",
    "n_ctx",
    "n_threads",
    "repeat_penalty",
}
_DEFAULT_KEY_ENV = {
    "api.openai.com": "OPENAI_API_KEY",
    "openrouter.ai": "OPENROUTER_API_KEY",
    "api.anthropic.com": "ANTHROPIC_API_KEY",
}


@dataclass(frozen=True)
class BackendSpec:
    """One named backend as configured (never holds the key itself)."""

    name: str
    kind: str
    model: str | None = None
    base_url: str | None = None
    key_env: str | None = None
    keyring: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def wants_key(self) -> bool:
        return bool(self.key_env or self.keyring)


def _spec(name: str, table: dict[str, Any]) -> BackendSpec:
    where = f"[backends.{name}] in {config.config_path()}"
    secrets = [k for k in table if k.lower() in _SECRET_FIELDS]
    if secrets:
        raise BackendConfigError(
            f"{where} contains a key ({', '.join(secrets)}); hearth does not read keys from files.",
            hint=f'Remove it, then either export it and set key_env = "MY_KEY_VAR", or store it with: '
            f"keyring set {KEYRING_SERVICE} {name}",
            backend=name,
        )
    kind = table.get("kind", "openai")
    if kind not in KINDS:
        raise BackendConfigError(
            f"{where} has kind = {kind!r}; hearth knows {', '.join(KINDS)}.",
            hint='Use kind = "openai" for any OpenAI-compatible server (OpenRouter, vLLM, Ollama, LM Studio).',
            backend=name,
        )
    unknown = sorted(set(table) - _KNOWN_FIELDS)
    if unknown:
        raise BackendConfigError(
            f"{where} has unknown field(s): {', '.join(unknown)}.",
            hint=f"Known fields: {', '.join(sorted(_KNOWN_FIELDS))}.",
            backend=name,
        )
    base_url = table.get("base_url")
    if kind == "anthropic":
        base_url = base_url or "https://api.anthropic.com"
    if kind != "embedded" and (not base_url or not table.get("model")):
        raise BackendConfigError(
            f"{where} needs both base_url and model.",
            hint='For example: base_url = "http://127.0.0.1:8080/v1", model = "qwen2.5-7b-instruct".',
            backend=name,
        )
    key_env = table.get("key_env") or _DEFAULT_KEY_ENV.get(urlparse(base_url or "").hostname or "")
    return BackendSpec(
        name=name,
        kind=kind,
        model=table.get("model"),
        base_url=base_url,
        key_env=key_env,
        keyring=bool(table.get("keyring", False)),
        options=_present(table),
    )


def _present(table: dict[str, Any]) -> dict[str, Any]:
    return {k: table[k] for k in _KNOWN_FIELDS - {"kind", "base_url", "model", "key_env", "keyring"} if k in table}


def specs() -> dict[str, BackendSpec]:
    """Every backend a person can name, `embedded` first."""
    out = {DEFAULT_NAME: BackendSpec(name=DEFAULT_NAME, kind="embedded")}
    for name, table in config.backend_tables().items():
        out[name] = _spec(name, table)
    return out


def configured_models() -> list[tuple[str, str]]:
    """(backend name, model it asks for) for every backend, without building any or reading keys."""
    from hearth.backends.embedded import BUNDLED_FILE, gguf_model_name

    out = []
    for name, spec in specs().items():
        if spec.kind == "embedded":
            out.append((name, gguf_model_name(Path(spec.options.get("model_path") or BUNDLED_FILE))))
        else:
            out.append((name, str(spec.model)))
    return out


def _keyring_password(name: str) -> tuple[str | None, str | None]:
    """(key, None) or (None, why the keyring could not be used)."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None, "the optional `keyring` package is not installed (pip install keyring)"
    try:
        return keyring.get_password(KEYRING_SERVICE, name), None
    except KeyringError as exc:
        return None, f"the OS keyring is not usable here ({type(exc).__name__}: {exc})"
    except Exception as exc:  # keyring backends raise all sorts (dbus, secretstorage)
        return None, f"the OS keyring failed ({type(exc).__name__}: {exc})"


def resolve_key(spec: BackendSpec) -> tuple[str | None, str | None]:
    """(key, where it came from) — from the environment first, then the OS keyring."""
    if not spec.wants_key:
        return None, None
    if spec.key_env and os.environ.get(spec.key_env):
        return os.environ[spec.key_env], f"${spec.key_env}"
    key, why = _keyring_password(spec.name)
    if key:
        return key, f"the OS keyring ({KEYRING_SERVICE}/{spec.name})"
    env = f"${spec.key_env} is not set" if spec.key_env else "no key_env is configured"
    raise BackendConfigError(
        f"Backend '{spec.name}' needs an API key, but {env} and the OS keyring has none"
        + (f": {why}." if why else "."),
        hint=(f"export {spec.key_env}=... " if spec.key_env else "")
        + f"(or store it with: keyring set {KEYRING_SERVICE} {spec.name}).",
        backend=spec.name,
    )


def get_backend(name: str | None = None) -> ChatBackend:
    """The backend called `name`; the bundled embedded model when `name` is None or "embedded"."""
    name = name or DEFAULT_NAME
    all_specs = specs() if name != DEFAULT_NAME else {DEFAULT_NAME: BackendSpec(DEFAULT_NAME, "embedded")}
    spec = all_specs.get(name)
    if spec is None:
        raise BackendConfigError(
            f"There is no backend called '{name}'.",
            hint=f"Known: {', '.join(all_specs)}. Add a [backends.{name}] table to {config.config_path()}.",
            backend=name,
        )
    return build(spec)


def build(spec: BackendSpec) -> ChatBackend:
    """The backend a spec describes (its `parallel` setting applied)."""
    backend = _build(spec)
    if "parallel" in spec.options and spec.kind != "embedded":
        try:
            backend.parallel = max(1, int(spec.options["parallel"]))
        except (TypeError, ValueError):
            raise HearthError(f"`parallel` of backend {spec.name!r} must be a whole number, like 8.") from None
    return backend


def _build(spec: BackendSpec) -> ChatBackend:
    """Construct the adapter for one spec (resolving its key, which is never kept elsewhere)."""
    opts = dict(spec.options)
    if spec.kind == "embedded":
        from hearth.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(
            opts.get("model_path"),
            name=spec.name,
            **{k: opts[k] for k in ("n_ctx", "n_threads", "timeout", "repeat_penalty") if k in opts},
        )
    key, source = resolve_key(spec)
    common = {k: opts[k] for k in ("timeout", "max_retries", "context_tokens") if k in opts}
    if spec.kind == "anthropic":
        from hearth.backends.anthropic import AnthropicBackend

        return AnthropicBackend(
            model=str(spec.model), api_key=key, base_url=str(spec.base_url), name=spec.name, key_source=source, **common
        )
    from hearth.backends.openai_compat import OpenAICompatible

    return OpenAICompatible(
        base_url=str(spec.base_url), model=str(spec.model), api_key=key, name=spec.name, key_source=source, **common
    )


@dataclass
class ConnectionReport:
    """What `hearth backends test NAME` shows: did a tiny request work, and who answered."""

    backend: str
    kind: str
    requested_model: str
    ok: bool
    served_model: str | None = None
    verification: Verification | None = None
    reply: str = ""
    latency_s: float | None = None
    time_to_first_token_s: float | None = None
    listed_models: list[str] | None = None
    error: str | None = None
    hint: str | None = None

    def lines(self) -> list[str]:
        head = f"{self.backend} ({self.kind}, model {self.requested_model}): "
        if not self.ok:
            return [head + "FAILED", f"  {self.error}"] + ([f"  hint: {self.hint}"] if self.hint else [])
        out = [
            head + "ok",
            f"  served model: {self.served_model}",
            f"  verification: {self.verification}",
            f"  first token {self.time_to_first_token_s or 0:.2f} s, whole reply {self.latency_s or 0:.2f} s",
            f"  reply: {self.reply[:120]!r}",
        ]
        if self.listed_models is not None:
            shown = ", ".join(self.listed_models[:10]) + (" …" if len(self.listed_models) > 10 else "")
            out.append(f"  server lists: {shown or 'nothing'}")
        return out


def test_connection(backend: ChatBackend, *, timeout: float = 30.0) -> ConnectionReport:
    """Send one tiny streamed request; report who answered and how far that can be believed.

    Never raises a `HearthError`: a failure is part of the report, with its hint.
    """
    report = ConnectionReport(
        backend=backend.name,
        kind=getattr(backend, "kind", type(backend).__name__),
        requested_model=backend.requested_model,
        ok=False,
    )
    messages = [{"role": "user", "content": "Reply with one short friendly sentence."}]
    try:
        stream = backend.stream(messages, max_tokens=16, temperature=0.0, timeout=timeout)
        result = stream.final()
    except HearthError as exc:
        report.error, report.hint = exc.message, exc.hint
        return report
    report.ok = True
    report.served_model = result.served_model
    report.verification = result.verification
    report.reply = result.text
    report.latency_s = result.latency_s
    report.time_to_first_token_s = result.time_to_first_token_s
    listing = getattr(backend, "listing", None)
    if callable(listing):
        entries, _ = listing()
        report.listed_models = None if entries is None else [str(e.get("id")) for e in entries]
    return report


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name
