"""Named backends from the config file, keys from env or the OS keyring (never from a file), the
connection test the CLI shows, and the verification rules on their own."""

from __future__ import annotations

import sys
import types

import pytest
from conftest_backends import free_port

from hearth.backends import registry
from hearth.backends.anthropic import AnthropicBackend
from hearth.backends.base import MISMATCH, UNVERIFIED, VERIFIED
from hearth.backends.embedded import EmbeddedBackend
from hearth.backends.openai_compat import OpenAICompatible
from hearth.backends.verify import canonical, different_family, listed, verify
from hearth.errors import BackendConfigError, HearthError


@pytest.fixture
def config(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    monkeypatch.setenv("HEARTH_CONFIG", str(path))
    for var in ("OPENROUTER_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "MY_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setitem(sys.modules, "keyring", None)  # no keyring unless a test provides one
    return path


OPENROUTER = """
[backends.openrouter]
kind = "openai"
base_url = "https://openrouter.ai/api/v1"
model = "openai/gpt-4o"
timeout = 30
context_tokens = 128000
"""


def test_no_config_means_the_embedded_default(config):
    assert isinstance(registry.get_backend(None), EmbeddedBackend)
    assert isinstance(registry.get_backend("embedded"), EmbeddedBackend)
    assert list(registry.specs()) == ["embedded"]
    assert registry.configured_models() == [("embedded", "SmolLM2-135M-Instruct Q4_1")]


def test_named_backend_with_key_from_env(config, monkeypatch):
    config.write_text(OPENROUTER, encoding="utf-8")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-1")
    b = registry.get_backend("openrouter")
    assert isinstance(b, OpenAICompatible) and b.requested_model == "openai/gpt-4o" and b.timeout == 30
    assert b._key == "sk-or-1" and b._key_source == "$OPENROUTER_API_KEY" and b.context_tokens == 128000
    assert registry.configured_models() == [("embedded", "SmolLM2-135M-Instruct Q4_1"), ("openrouter", "openai/gpt-4o")]


def test_missing_key_says_where_to_put_it(config):
    config.write_text(OPENROUTER, encoding="utf-8")
    with pytest.raises(BackendConfigError, match=r"\$OPENROUTER_API_KEY is not set") as err:
        registry.get_backend("openrouter")
    assert "keyring` package is not installed" in err.value.message
    assert "export OPENROUTER_API_KEY" in err.value.hint and "keyring set hearth openrouter" in err.value.hint


def test_key_from_the_os_keyring(config, monkeypatch):
    config.write_text(OPENROUTER, encoding="utf-8")
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, user: "sk-from-keyring" if (service, user) == ("hearth", "openrouter") else None
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = type("KeyringError", (Exception,), {})
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    b = registry.get_backend("openrouter")
    assert b._key == "sk-from-keyring" and "keyring" in b._key_source


def test_a_broken_keyring_is_explained(config, monkeypatch):
    config.write_text(OPENROUTER, encoding="utf-8")
    errors = types.ModuleType("keyring.errors")
    errors.KeyringError = type("NoKeyringError", (Exception,), {})
    fake = types.ModuleType("keyring")

    def broken(service, user):
        raise errors.KeyringError("No recommended backend was available.")

    fake.get_password = broken
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    with pytest.raises(BackendConfigError, match="OS keyring is not usable here"):
        registry.get_backend("openrouter")


def test_a_key_in_the_file_is_refused(config):
    config.write_text(OPENROUTER + 'api_key = "sk-secret"\n', encoding="utf-8")
    with pytest.raises(BackendConfigError, match="does not read keys from files") as err:
        registry.get_backend("openrouter")
    assert "sk-secret" not in err.value.message + (err.value.hint or "")


def test_local_server_needs_no_key_and_anthropic_defaults(config, monkeypatch):
    config.write_text(
        """
[backends.ollama]
base_url = "http://127.0.0.1:11434/v1"
model = "qwen2.5:7b"

[backends.claude]
kind = "anthropic"
model = "claude-haiku-4-5"

[backends.tiny]
kind = "embedded"
n_ctx = 512
""",
        encoding="utf-8",
    )
    assert isinstance(registry.get_backend("ollama"), OpenAICompatible)
    with pytest.raises(BackendConfigError, match="ANTHROPIC_API_KEY"):
        registry.get_backend("claude")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant")
    claude = registry.get_backend("claude")
    assert isinstance(claude, AnthropicBackend) and claude.base_url == "https://api.anthropic.com"
    tiny = registry.get_backend("tiny")
    assert isinstance(tiny, EmbeddedBackend) and tiny.context_tokens == 512


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ('[backends.x]\nkind = "gemini"\nmodel = "m"\nbase_url = "u"\n', "hearth knows openai, anthropic, embedded"),
        ('[backends.x]\nbase_url = "http://h/v1"\n', "needs both base_url and model"),
        ('[backends.x]\nbase_url = "http://h/v1"\nmodel = "m"\ntemprature = 1\n', "unknown field"),
        ('backends = "openrouter"\n', "must be a set of tables"),
    ],
)
def test_bad_tables_are_clear(config, toml, words):
    config.write_text(toml, encoding="utf-8")
    with pytest.raises(HearthError, match=words):
        registry.get_backend("x")


def test_unknown_name_lists_the_known_ones(config):
    config.write_text(OPENROUTER, encoding="utf-8")
    with pytest.raises(BackendConfigError, match="no backend called 'nope'") as err:
        registry.get_backend("nope")
    assert "embedded, openrouter" in err.value.hint


def test_connection_report_on_failure_does_not_raise(config):
    backend = OpenAICompatible(base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", name="down", max_retries=0)
    report = registry.test_connection(backend, timeout=2)
    assert not report.ok and "Cannot reach" in report.error and report.hint
    assert report.lines()[0].endswith("FAILED")


def test_connection_report_for_the_embedded_model(config):
    report = registry.test_connection(registry.get_backend(None))
    assert report.ok and report.verification.status == VERIFIED and report.served_model == "SmolLM2-135M-Instruct Q4_1"


# -- verification rules ---------------------------------------------------------------------------


def test_families():
    assert (
        canonical("claude-sonnet-4-5-20250929")
        == canonical("claude-sonnet-4-5")
        == canonical("anthropic/claude-sonnet-4-5")
    )
    assert canonical("gpt-4o-2024-08-06") == "gpt-4o"
    assert not different_family("auto", "gpt-5") and not different_family("openrouter/auto", "x")
    assert different_family("gpt-4o", "gpt-4o-mini")
    assert listed("llama3", [{"id": "llama3:latest"}]) and not listed("gpt-4o", [{"id": "smollm2-135m"}])


def test_verdicts():
    only = [{"id": "smollm2-135m"}]
    assert verify("smollm2-135m", "smollm2-135m", listing=only).status == VERIFIED
    echo = verify("gpt-4o", "gpt-4o", listing=only)
    assert echo.status == UNVERIFIED and echo.likely_model == "smollm2-135m" and "echoes" in str(echo)
    assert verify("gpt-4o", "gpt-4o-mini", listing=None).status == MISMATCH
    silent = verify("gpt-4o", None, listing=only, headers={"x-served-model": "gpt-4o"})
    assert silent.status == UNVERIFIED and "did not say" in silent.reason and silent.likely_model == "gpt-4o"
    hdr = verify("gpt-4o", "gpt-4o", listing=[{"id": "gpt-4o"}], headers={"openai-model": "gpt-5-safety"})
    assert hdr.status == MISMATCH and "openai-model" in hdr.reason


def test_parallel_replies_per_backend_through_the_server(config, monkeypatch, tmp_path):
    """The embedded model answers one message at a time; a server as many as `parallel` (default 8)."""
    import threading

    from hearth.server.hub import Hub
    from hearth.store import Store

    config.write_text(OPENROUTER + "parallel = 3\n[backends.local]\nkind = \"openai\"\n"
                      "base_url = \"http://127.0.0.1:9/v1\"\nmodel = \"m\"\n", encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-1")
    hub = Hub(Store(str(tmp_path / "h.db")), registry.get_backend)

    def slots(name):
        sem, taken = hub.backend_lock(hub.backend(name)), 0
        while sem.acquire(blocking=False):
            taken += 1
        return taken

    assert slots("openrouter") == 3 and slots("local") == 8
    assert isinstance(hub.backend_lock(hub.backend("openrouter")), threading.BoundedSemaphore)
    config.write_text(OPENROUTER + "parallel = \"many\"\n", encoding="utf-8")
    with pytest.raises(HearthError, match="whole number"):
        registry.get_backend("openrouter")
