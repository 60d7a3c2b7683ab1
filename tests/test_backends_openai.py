"""The OpenAI-compatible adapter over real HTTP on loopback.

First against a real server: `python -m llama_cpp.server` serving the bundled SmolLM2 GGUF under
the alias `smollm2-135m` — streaming, non-streaming, seeds, max_tokens, and the echo that hearth
exists to expose (asked for `gpt-4o`, it answers `"model": "gpt-4o"` while it only has SmolLM2).
Then against a scripted loopback server for what a healthy server never does: 401, 404, 429,
500, HTML instead of JSON, a reset in the middle of a stream, a server that never answers.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest_backends import FakeServer, free_port

from hearth.backends.base import MISMATCH, UNVERIFIED, VERIFIED
from hearth.backends.embedded import bundled_model_path
from hearth.backends.openai_compat import OpenAICompatible
from hearth.backends.registry import test_connection
from hearth.backends.verify import clear_listing_cache
from hearth.errors import (
    BackendAuthError,
    BackendBadResponse,
    BackendModelNotFound,
    BackendRateLimited,
    BackendRequestRejected,
    BackendServerError,
    BackendStreamBroken,
    BackendTimeout,
    BackendUnreachable,
)

HELLO = [{"role": "system", "content": "You are a kind friend."}, {"role": "user", "content": "Say hello to me."}]


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory):
    """A real llama.cpp OpenAI-compatible server on 127.0.0.1, started once for the session."""
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model_path())]
    cmd += ["--model_alias", "smollm2-135m", "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024"]
    env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE"}  # see hearth/backends/embedded.py: busy-waiting threads
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(base + "/models", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"llama_cpp.server did not become ready in 90 s:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def fake():
    clear_listing_cache()
    server = FakeServer()
    yield server
    server.close()


def local(base_url: str, model: str = "smollm2-135m", **kw) -> OpenAICompatible:
    return OpenAICompatible(base_url=base_url, model=model, name="local", max_retries=0, **kw)


# -- a real server ------------------------------------------------------------------------------


def test_streams_from_a_real_server_and_verifies_the_listed_model(llama_server):
    backend = local(llama_server)
    stream = backend.stream(HELLO, max_tokens=16, seed=3, temperature=0.7)
    deltas = [d.text for d in stream]
    r = stream.result
    assert r is not None and len(deltas) > 1 and "".join(deltas) == r.text and r.text.strip()
    assert r.requested_model == r.served_model == "smollm2-135m"
    assert r.verification.status == VERIFIED and not r.verification.flagged
    assert r.verification.evidence["listed"] == ["smollm2-135m"]
    assert r.finish_reason in ("stop", "length")
    assert r.usage.estimated, "llama.cpp's server sends no usage in a stream: hearth counts and says so"
    assert r.usage.completion_tokens > 0 and r.usage.prompt_tokens > 0
    assert 0 < r.time_to_first_token_s <= r.latency_s


def test_non_streaming_reply_carries_server_usage(llama_server):
    r = local(llama_server).complete(HELLO, max_tokens=12, seed=3)
    assert r.text.strip() and r.served_model == "smollm2-135m" and r.verification.status == VERIFIED
    assert not r.usage.estimated and 0 < r.usage.completion_tokens <= 12 and r.usage.prompt_tokens > 10
    assert "x-request-id" in r.verification.evidence["headers"]


def test_same_seed_same_reply(llama_server):
    backend = local(llama_server)
    a = backend.complete(HELLO, max_tokens=16, seed=42, temperature=0.9)
    b = backend.stream(HELLO, max_tokens=16, seed=42, temperature=0.9).final()
    assert a.text == b.text


def test_max_tokens_gives_finish_reason_length(llama_server):
    backend = local(llama_server)
    r = backend.complete([{"role": "user", "content": "Write a long story about a lighthouse."}], max_tokens=4, seed=1)
    assert r.finish_reason == "length" and r.usage.completion_tokens == 4
    s = backend.stream([{"role": "user", "content": "Write a long story about a lighthouse."}], max_tokens=4, seed=1)
    assert s.final().finish_reason == "length"


def test_a_server_that_echoes_the_requested_name_is_flagged(llama_server):
    """The finding in DESIGN.md: the server only has SmolLM2 but answers as whatever was asked."""
    backend = local(llama_server, model="gpt-4o")
    for r in (backend.complete(HELLO, max_tokens=8, seed=1), backend.stream(HELLO, max_tokens=8, seed=1).final()):
        assert r.served_model == "gpt-4o", "the server's word is recorded as it was said"
        v = r.verification
        assert v.status == UNVERIFIED and v.flagged
        assert "echoes" in v.reason and "smollm2-135m" in v.reason
        assert v.likely_model == "smollm2-135m"


def test_connection_report_against_a_real_server(llama_server):
    report = test_connection(local(llama_server))
    assert report.ok and report.served_model == "smollm2-135m" and report.listed_models == ["smollm2-135m"]
    assert report.verification.status == VERIFIED and report.reply
    assert any("served model: smollm2-135m" in line for line in report.lines())


def test_chinese_round_trip(llama_server):
    r = local(llama_server).complete([{"role": "user", "content": "你好，今天过得怎么样？"}], max_tokens=8, seed=2)
    assert r.text and r.usage.prompt_tokens > 0


def test_a_prompt_longer_than_the_servers_window_is_a_clear_error(llama_server):
    """Asked for more than its --n_ctx, the real server answers 400 to a plain request, but to a
    streamed one it sends 200, then closes the stream empty (its error stays in its own log)."""
    backend = local(llama_server)
    too_long = [{"role": "user", "content": "tell me about the sea, " * 600}]
    with pytest.raises(BackendRequestRejected, match="context length"):
        backend.complete(too_long, max_tokens=8)
    with pytest.raises(BackendStreamBroken, match="without a word or an error") as caught:
        list(backend.stream(too_long, max_tokens=8))
    assert "--n_ctx" in caught.value.hint and "context_tokens" in caught.value.hint
    assert backend.complete(HELLO, max_tokens=4, seed=1).text, "the server still answers afterwards"


# -- failures, from a scripted server -----------------------------------------------------------


def _chunk(text=None, finish=None, model="smollm2-135m", **extra):
    delta = {"content": text} if text is not None else {}
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }


def _completion(text="Hi!", model="smollm2-135m", finish="stop", **extra):
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
        **extra,
    }


def _models(*ids):
    return lambda h, b: h.send_json(200, {"object": "list", "data": [{"id": i, "object": "model"} for i in ids]})


def test_unreachable_port_is_a_clear_error():
    backend = local(f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(BackendUnreachable, match="Cannot reach the local backend") as err:
        backend.complete(HELLO)
    assert err.value.hint and "base_url" in err.value.hint
    with pytest.raises(BackendUnreachable):
        backend.stream(HELLO).text()


def test_a_server_that_never_answers_times_out(fake):
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.hang()
    backend = local(fake.url("/v1"))
    t = time.monotonic()
    with pytest.raises(BackendTimeout, match="did not answer within 0.5 s"):
        backend.complete(HELLO, timeout=0.5)
    with pytest.raises(BackendTimeout):
        backend.stream(HELLO, timeout=0.5).text()
    assert time.monotonic() - t < 5


def test_a_stream_that_stalls_times_out_keeping_the_partial_reply(fake):
    def stall(h, b):
        h.start_sse()
        h.sse(_chunk("Hello, "))
        h.sse(_chunk("old friend"))
        h.hang()

    fake.routes[("POST", "/v1/chat/completions")] = stall
    with pytest.raises(BackendTimeout, match="middle of the reply") as err:
        local(fake.url("/v1")).stream(HELLO, timeout=0.5).text()
    assert err.value.partial_text == "Hello, old friend"


def test_connection_reset_mid_stream_keeps_the_partial_reply(fake):
    def cut(h, b):
        h.start_sse()
        h.sse(_chunk("我一直"))
        h.sse(_chunk("在这里"))
        h.reset()

    fake.routes[("POST", "/v1/chat/completions")] = cut
    stream = local(fake.url("/v1")).stream(HELLO)
    seen = []
    with pytest.raises(BackendStreamBroken, match="broke in the middle") as err:
        for d in stream:
            seen.append(d.text)
    assert seen == ["我一直", "在这里"] and err.value.partial_text == "我一直在这里"


def test_a_stream_that_ends_without_finish_reason_is_broken(fake):
    def short(h, b):
        h.start_sse()
        h.sse(_chunk("Half a"))
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = short
    with pytest.raises(BackendStreamBroken, match="without saying the reply was complete") as err:
        local(fake.url("/v1")).stream(HELLO).text()
    assert err.value.partial_text == "Half a"


def test_an_error_object_inside_the_stream(fake):
    def oops(h, b):
        h.start_sse()
        h.sse(_chunk("Hel"))
        h.sse({"error": {"message": "model crashed", "type": "server_error"}})
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = oops
    with pytest.raises(BackendServerError, match="model crashed") as err:
        local(fake.url("/v1")).stream(HELLO).text()
    assert err.value.partial_text == "Hel"


@pytest.mark.parametrize(
    ("status", "body", "error", "words"),
    [
        (401, {"error": {"message": "Incorrect API key provided"}}, BackendAuthError, "refused the API key"),
        (404, {"error": {"message": "The model `gpt-9` does not exist"}}, BackendModelNotFound, "does not know"),
        (429, {"error": {"message": "Rate limit reached"}}, BackendRateLimited, "rate-limiting"),
        (500, {"error": {"message": "CUDA out of memory"}}, BackendServerError, "CUDA out of memory"),
        (503, "upstream connect error", BackendServerError, "failed on its side"),
    ],
)
def test_http_errors_become_named_errors(fake, status, body, error, words):
    def answer(h, b):
        if isinstance(body, str):
            h.send_raw(status, body.encode(), "text/plain", {"retry-after": "7"})
        else:
            h.send_json(status, body, {"retry-after": "7"})

    fake.routes[("POST", "/v1/chat/completions")] = answer
    backend = local(fake.url("/v1"), model="gpt-9", key_source="$MY_KEY")
    for call in (lambda: backend.complete(HELLO), lambda: backend.stream(HELLO).text()):
        with pytest.raises(error, match=words) as err:
            call()
        assert err.value.status == status and err.value.hint
    if status == 401:
        assert "$MY_KEY" in err.value.message
    if status == 429:
        assert err.value.retry_after == 7


@pytest.mark.parametrize(
    ("payload", "ctype"),
    [
        (b'{"id": "x", "choices": [{"mess', "application/json"),
        (b"<html><body>Welcome to nginx!</body></html>", "text/html"),
        (b'{"hello": "world"}', "application/json"),
    ],
)
def test_malformed_replies(fake, payload, ctype):
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_raw(200, payload, ctype)
    with pytest.raises(BackendBadResponse, match="not a chat reply") as err:
        local(fake.url("/v1")).complete(HELLO)
    assert "/v1" in err.value.hint


def test_malformed_stream_event_keeps_partial(fake):
    def bad(h, b):
        h.start_sse()
        h.sse(_chunk("ok so far"))
        h.sse("{not json")
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = bad
    with pytest.raises(BackendBadResponse) as err:
        local(fake.url("/v1")).stream(HELLO).text()
    assert err.value.partial_text == "ok so far"


# -- verification against what the server says about itself ------------------------------------


def test_another_family_answering_is_a_mismatch(fake):
    fake.routes[("GET", "/v1/models")] = _models("gpt-4o", "gpt-4o-mini")
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(200, _completion(model="gpt-4o-mini"))
    r = local(fake.url("/v1"), model="gpt-4o").complete(HELLO)
    assert r.served_model == "gpt-4o-mini" and r.verification.status == MISMATCH
    assert "gpt-4o-mini" in r.verification.reason


def test_a_model_header_that_contradicts_the_body_is_a_mismatch(fake):
    fake.routes[("GET", "/v1/models")] = _models("gpt-4o")

    def answer(h, b):
        h.start_sse({"x-served-model": "gpt-5-safety"})
        h.sse(_chunk("Hi", model="gpt-4o"))
        h.sse(_chunk(finish="stop", model="gpt-4o"))
        h.sse("[DONE]")
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = answer
    r = local(fake.url("/v1"), model="gpt-4o").stream(HELLO).final()
    assert r.verification.status == MISMATCH and "x-served-model" in r.verification.reason


def test_a_dated_snapshot_of_a_listed_model_is_verified_with_its_fingerprint(fake):
    fake.routes[("GET", "/v1/models")] = _models("gpt-4o", "gpt-4o-2024-08-06")
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(
        200, _completion(model="gpt-4o-2024-08-06", system_fingerprint="fp_abc123"), {"openai-organization": "o1"}
    )
    r = local(fake.url("/v1"), model="gpt-4o").complete(HELLO)
    v = r.verification
    assert v.status == VERIFIED and "resolved from gpt-4o" in v.reason
    assert v.evidence["system_fingerprint"] == "fp_abc123" and v.evidence["headers"]["openai-organization"] == "o1"


def test_no_model_list_means_only_the_servers_word(fake):
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(200, _completion(model="llama3"))
    r = local(fake.url("/v1"), model="llama3").complete(HELLO)
    assert r.verification.status == UNVERIFIED and "could not be read" in r.verification.reason


def test_openrouter_provider_and_stream_usage_are_recorded(fake):
    fake.routes[("GET", "/v1/models")] = lambda h, b: h.send_json(
        200, {"data": [{"id": "openai/gpt-4o", "context_length": 128000}]}
    )

    def answer(h, b):
        assert b["stream_options"] == {"include_usage": True} and b["seed"] == 5 and b["stop"] == ["\n\n"]
        h.start_sse()
        h.sse(_chunk("Hi there", model="openai/gpt-4o", provider="Azure"))
        h.sse(_chunk(finish="stop", model="openai/gpt-4o", provider="Azure"))
        h.sse({**_chunk(model="openai/gpt-4o"), "choices": [], "usage": {"prompt_tokens": 9, "completion_tokens": 3}})
        h.sse("[DONE]")
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = answer
    backend = local(fake.url("/v1"), model="openai/gpt-4o", api_key="sk-or-test")
    r = backend.stream(HELLO, seed=5, stop=["\n\n"]).final()
    assert r.text == "Hi there" and r.verification.status == VERIFIED
    assert r.verification.evidence["provider"] == "Azure"
    assert r.usage.prompt_tokens == 9 and r.usage.completion_tokens == 3 and not r.usage.estimated
    assert backend.context_tokens == 128000
    assert fake.requests[0]["headers"]["authorization"] == "Bearer sk-or-test"


def test_a_server_that_rejects_stream_options_is_asked_again_without(fake):
    def answer(h, b):
        if "stream_options" in b:
            h.send_json(400, {"error": {"message": "Unrecognized request argument: stream_options"}})
            return
        h.start_sse()
        h.sse(_chunk("fine"))
        h.sse(_chunk(finish="stop"))
        h.end_chunks()

    fake.routes[("POST", "/v1/chat/completions")] = answer
    backend = local(fake.url("/v1"))
    assert backend.stream(HELLO).final().text == "fine" and backend.stream_usage is False


def test_no_key_never_falls_back_to_openai_api_key(fake, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-real-openai-key")
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(200, _completion())
    local(fake.url("/v1")).complete(HELLO)
    assert "sk-real-openai-key" not in str(fake.requests[-1]["headers"])
