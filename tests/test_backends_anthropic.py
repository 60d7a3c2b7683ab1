"""The Anthropic adapter against a loopback server that speaks the Messages wire format: a JSON
reply, the SSE event sequence (message_start … message_stop), error events inside a 200 stream,
HTTP errors, and a connection cut mid-reply — through the official `anthropic` SDK."""

from __future__ import annotations

import pytest
from conftest_backends import FakeServer, free_port

from hearth.backends.anthropic import CONTINUED, DEFAULT_MAX_TOKENS, AnthropicBackend, split_system
from hearth.backends.base import MISMATCH, UNVERIFIED, VERIFIED
from hearth.backends.verify import clear_listing_cache
from hearth.errors import (
    BackendAuthError,
    BackendBadResponse,
    BackendRateLimited,
    BackendServerError,
    BackendStreamBroken,
    BackendUnreachable,
)

MODEL = "claude-haiku-4-5"
SNAPSHOT = "claude-haiku-4-5-20251001"
CHAT = [
    {"role": "system", "content": "You are Mira, a warm companion."},
    {"role": "system", "content": "The person's cat is called 小白."},
    {"role": "user", "content": "Hi Mira!"},
    {"role": "assistant", "content": "Hello again!"},
    {"role": "user", "content": "How is 小白 doing, do you think?"},
]


@pytest.fixture
def fake():
    clear_listing_cache()
    server = FakeServer()
    server.routes[("GET", "/v1/models")] = lambda h, b: h.send_json(
        200,
        {
            "data": [{"type": "model", "id": SNAPSHOT, "display_name": "Claude Haiku 4.5", "max_input_tokens": 1000}],
            "has_more": False,
            "first_id": SNAPSHOT,
            "last_id": SNAPSHOT,
        },
    )
    yield server
    server.close()


def claude(fake: FakeServer, model: str = MODEL) -> AnthropicBackend:
    return AnthropicBackend(model=model, api_key="sk-ant-test", base_url=fake.url(), name="claude", max_retries=0)


def posted(fake: FakeServer) -> dict:
    """The last request the adapter POSTed (a models listing may follow it)."""
    return [r for r in fake.requests if r["method"] == "POST"][-1]


def message_json(text: str = "Hello!", model: str = SNAPSHOT, stop: str = "end_turn") -> dict:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 42, "output_tokens": 3},
    }


def stream_events(h, pieces, *, model=SNAPSHOT, stop="end_turn", end=True):
    h.start_sse({"request-id": "req_123"})
    start = {**message_json("", model), "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": 42, "output_tokens": 1}
    h.sse({"type": "message_start", "message": start}, "message_start")
    h.sse(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        "content_block_start",
    )
    h.sse({"type": "ping"}, "ping")
    for p in pieces:
        h.sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
    if not end:
        return
    h.sse({"type": "content_block_stop", "index": 0}, "content_block_stop")
    h.sse(
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 7}},
        "message_delta",
    )
    h.sse({"type": "message_stop"}, "message_stop")
    h.end_chunks()


def test_system_prompt_is_separated_and_turns_alternate():
    system, turns = split_system(
        [
            {"role": "system", "content": "persona"},
            {"role": "assistant", "content": "I remember you."},
            {"role": "user", "content": "一"},
            {"role": "user", "content": "二"},
            {"role": "system", "content": "  "},
        ]
    )
    assert system == "persona"
    assert turns == [
        {"role": "user", "content": CONTINUED},
        {"role": "assistant", "content": "I remember you."},
        {"role": "user", "content": "一\n\n二"},
    ]


def test_non_streaming_reply(fake):
    fake.routes[("POST", "/v1/messages")] = lambda h, b: h.send_json(200, message_json("你好！"), {"request-id": "r1"})
    r = claude(fake).complete(CHAT, temperature=0.5, seed=3)
    body = posted(fake)["body"]
    assert body["system"] == "You are Mira, a warm companion.\n\nThe person's cat is called 小白."
    assert [m["role"] for m in body["messages"]] == ["user", "assistant", "user"]
    assert body["max_tokens"] == DEFAULT_MAX_TOKENS and body["temperature"] == 0.5 and "top_p" not in body
    assert "seed" not in body, "the Messages API has no seed"
    sent = posted(fake)["headers"]
    assert "sk-ant-test" in (sent.get("x-api-key"), sent.get("authorization", "").removeprefix("Bearer "))
    assert r.text == "你好！" and r.finish_reason == "stop"
    assert r.usage.prompt_tokens == 42 and r.usage.completion_tokens == 3 and not r.usage.estimated
    assert r.served_model == SNAPSHOT and r.requested_model == MODEL
    assert r.verification.status == VERIFIED, "a dated snapshot of the model asked for, listed by the server"
    assert r.verification.evidence["headers"]["request-id"] == "r1"


def test_streaming_event_sequence(fake):
    fake.routes[("POST", "/v1/messages")] = lambda h, b: stream_events(
        h, ["I think ", "小白 is ", "napping."], stop="max_tokens"
    )
    backend = claude(fake)
    stream = backend.stream(CHAT, max_tokens=7, stop=["\n\nHuman:"])
    deltas = [d.text for d in stream]
    r = stream.result
    assert deltas == ["I think ", "小白 is ", "napping."] and r.text == "".join(deltas)
    assert r.finish_reason == "length"
    assert r.usage.prompt_tokens == 42 and r.usage.completion_tokens == 7
    assert r.served_model == SNAPSHOT and r.verification.status == VERIFIED
    assert r.time_to_first_token_s is not None and r.time_to_first_token_s <= r.latency_s
    body = posted(fake)["body"]
    assert body["stream"] is True and body["max_tokens"] == 7 and body["stop_sequences"] == ["\n\nHuman:"]
    assert backend.context_tokens == 200_000, "the listing names the snapshot, not the alias asked for"
    assert claude(fake, SNAPSHOT).context_tokens == 1000


def test_error_event_inside_the_stream_keeps_partial(fake):
    def overloaded(h, b):
        stream_events(h, ["Let me ", "think"], end=False)
        h.sse({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, "error")
        h.end_chunks()

    fake.routes[("POST", "/v1/messages")] = overloaded
    with pytest.raises(BackendServerError, match="Overloaded") as err:
        claude(fake).stream(CHAT).text()
    assert err.value.partial_text == "Let me think" and err.value.status == 529


def test_rate_limit_error_event(fake):
    def limited(h, b):
        stream_events(h, [], end=False)
        h.sse({"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}, "error")
        h.end_chunks()

    fake.routes[("POST", "/v1/messages")] = limited
    with pytest.raises(BackendRateLimited, match="Slow down"):
        claude(fake).stream(CHAT).text()


@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (401, "authentication_error", BackendAuthError),
        (429, "rate_limit_error", BackendRateLimited),
        (529, "overloaded_error", BackendServerError),
        (500, "api_error", BackendServerError),
    ],
)
def test_http_errors(fake, status, kind, error):
    body = {"type": "error", "error": {"type": kind, "message": f"{kind} happened"}}
    fake.routes[("POST", "/v1/messages")] = lambda h, b: h.send_json(status, body)
    backend = claude(fake)
    for call in (lambda: backend.complete(CHAT), lambda: backend.stream(CHAT).text()):
        with pytest.raises(error, match=f"{kind} happened") as err:
            call()
        assert err.value.status == status and err.value.hint


def test_connection_cut_mid_stream(fake):
    def cut(h, b):
        stream_events(h, ["I was saying"], end=False)
        h.reset()

    fake.routes[("POST", "/v1/messages")] = cut
    with pytest.raises(BackendStreamBroken, match="12 characters") as err:
        claude(fake).stream(CHAT).text()
    assert err.value.partial_text == "I was saying"


def test_stream_without_message_stop_is_broken(fake):
    def short(h, b):
        stream_events(h, ["Half"], end=False)
        h.end_chunks()

    fake.routes[("POST", "/v1/messages")] = short
    with pytest.raises(BackendStreamBroken, match="before message_stop") as err:
        claude(fake).stream(CHAT).text()
    assert err.value.partial_text == "Half"


def test_malformed_json(fake):
    fake.routes[("POST", "/v1/messages")] = lambda h, b: h.send_raw(200, b'{"content": [', "application/json")
    with pytest.raises(BackendBadResponse):
        claude(fake).complete(CHAT)


def test_another_model_answering_is_a_mismatch(fake):
    fake.routes[("POST", "/v1/messages")] = lambda h, b: stream_events(h, ["hi"], model="claude-opus-4-7")
    r = claude(fake).stream(CHAT).final()
    assert r.verification.status == MISMATCH and r.served_model == "claude-opus-4-7"


def test_echoed_unlisted_model_is_unverified(fake):
    fake.routes[("POST", "/v1/messages")] = lambda h, b: h.send_json(200, message_json(model="claude-sonnet-4-6"))
    r = claude(fake, "claude-sonnet-4-6").complete(CHAT)
    assert r.verification.status == UNVERIFIED and "echoes" in r.verification.reason
    assert r.verification.likely_model == SNAPSHOT


def test_unreachable():
    backend = AnthropicBackend(model=MODEL, api_key="k", base_url=f"http://127.0.0.1:{free_port()}", max_retries=0)
    with pytest.raises(BackendUnreachable, match="Cannot reach"):
        backend.stream(CHAT).text()


def test_a_model_that_refuses_sampling_parameters_is_asked_again_without(fake):
    def picky(h, b):
        if "temperature" in b:
            h.send_json(
                400,
                {
                    "type": "error",
                    "error": {"type": "invalid_request_error", "message": "temperature is not supported"},
                },
            )
            return
        h.send_json(200, message_json("ok"))

    fake.routes[("POST", "/v1/messages")] = picky
    backend = claude(fake)
    assert backend.complete(CHAT, temperature=0.9).text == "ok"
    assert backend.complete(CHAT, temperature=0.9).text == "ok"
    posts = [r for r in fake.requests if r["method"] == "POST"]
    assert ["temperature" in r["body"] for r in posts] == [True, False, False]
