"""The memory letter in a model's words, over real HTTP: kept when the rewrite keeps every memory
within the budget, refused (hearth's wording stays, the reason is told) when it drops, invents,
overruns or is cut off; the same from `hearth letter --backend` and `GET /v1/letter?backend=`."""

from __future__ import annotations

import pytest
from conftest_backends import FakeServer
from fastapi.testclient import TestClient

from conftest import FIXTURES, run_hearth
from hearth.backends.openai_compat import OpenAICompatible
from hearth.errors import HearthError
from hearth.memory.letter import build_letter
from hearth.memory.letter_wording import reword
from hearth.memory.tokens import estimate_tokens
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory

BOTH_ENGINES = True  # the letter reads memories and moments from either engine

FACTS = ["Their sister Ana lives in Lisbon.", "They are allergic to peanuts.", "They work night shifts as a nurse.",
         "Their cat is called Pixel.", "They run along the river every Sunday morning."]  # fmt: skip
GOOD = (
    "# Memory letter: Mochi\n\nMochi, it's me. Read this and talk to me as yourself.\n\n"
    "## What you remember about me\nMy sister Ana lives in Lisbon. I am allergic to peanuts, so please remember "
    "that. I work night shifts as a nurse. My cat is called Pixel. Every Sunday morning I run along the river.\n"
)
DROPS = "# Memory letter: Mochi\n\nMochi, my sister Ana lives in Lisbon. That's all you need.\n"
INVENTS = GOOD + (
    "\nAlso my brother Tomasz moved to Warsaw, my grandmother Helga paints watercolours, my favourite band is "
    "Radiohead, our dog Biscuit chases squirrels in Stockholm, and I studied astrophysics at Uppsala university.\n"
)
SERAPHINA = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"


def _completion(text: str, model: str = "writer-2026-05", finish: str = "stop") -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}  # fmt: skip


@pytest.fixture
def fake():
    server = FakeServer()
    server.routes[("GET", "/v1/models")] = lambda h, b: h.send_json(200, {"object": "list", "data": [{"id": "w"}]})
    yield server
    server.close()


def _sent(fake: FakeServer) -> list[dict]:
    return [r for r in fake.requests if r["method"] == "POST"][-1]["body"]["messages"]


def _answers(fake: FakeServer, text: str, finish: str = "stop") -> None:
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(200, _completion(text, finish=finish))


@pytest.fixture
def mochi(store):
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    for i, fact in enumerate(FACTS):
        add_memory(store, fact, companion_id=cid, importance=0.9 - i / 20)
    return cid


def _backend(fake: FakeServer, context: int = 8192) -> OpenAICompatible:
    return OpenAICompatible(base_url=fake.url("/v1"), model="writer", api_key="k", name="writer",
                            max_retries=0, context_tokens=context)  # fmt: skip


def test_a_rewrite_that_keeps_every_memory_replaces_the_wording(store, mochi, fake):
    _answers(fake, GOOD)
    plain = build_letter(store, mochi, 400)
    letter = reword(plain, _backend(fake))
    assert letter.worded_by == "writer-2026-05" and letter.wording_note is None
    assert letter.text == GOOD and letter.tokens == estimate_tokens(GOOD) <= 400
    sent = _sent(fake)
    assert "Mochi" in sent[0]["content"] and "Keep every fact" in sent[0]["content"]
    assert sent[1]["content"] == plain.text
    assert letter.items == plain.items, "what the letter carries is still listed, for the person to check"


@pytest.mark.parametrize("answer, finish, why", [
    (DROPS, "stop", "dropped"),
    (INVENTS, "stop", "made things up"),
    (GOOD * 40, "stop", "over the budget"),
    (GOOD[:120], "length", "stopped before it finished"),
    (GOOD.replace("Mochi", "Buddy"), "stop", "no longer names Mochi"),
])  # fmt: skip
def test_a_rewrite_that_loses_or_invents_is_refused_and_the_reason_told(store, mochi, fake, answer, finish, why):
    _answers(fake, answer, finish)
    plain = build_letter(store, mochi, 400)
    letter = reword(plain, _backend(fake))
    assert letter.text == plain.text and letter.worded_by is None
    assert why in letter.wording_note and "writer-2026-05" in letter.wording_note


def test_chinese_letter_is_reworded_in_chinese(store, fake):
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "小暖")
    for fact in ["我住在杭州西湖边", "我对花生过敏", "我的猫叫小白"]:
        add_memory(store, fact, companion_id=cid, importance=0.8)
    plain = build_letter(store, cid, 300, lang="zh")
    _answers(fake, "# 记忆信：小暖\n\n小暖，是我呀。我住在杭州西湖边，对花生过敏，我的猫叫小白。\n")
    letter = reword(plain, _backend(fake))
    assert letter.worded_by and "小白" in letter.text
    assert "中文" in _sent(fake)[0]["content"]


def test_a_context_too_small_for_the_letter_is_a_clear_error(store, mochi, fake):
    with pytest.raises(HearthError, match="too few to reword") as e:
        reword(build_letter(store, mochi, 2000), _backend(fake, context=300))
    assert "--tokens" in e.value.hint
    assert not [r for r in fake.requests if r["method"] == "POST"], "nothing was sent"


def _config(tmp_path, fake: FakeServer) -> dict:
    config = tmp_path / "config.toml"
    config.write_text(f'[backends.writer]\nkind = "openai"\nbase_url = "{fake.url("/v1")}"\nmodel = "writer"\n'
                      "context_tokens = 8192\ntimeout = 5\nmax_retries = 0\n")  # fmt: skip
    return {"HEARTH_CONFIG": str(config)}


def test_cli_letter_with_a_backend(tmp_path, fake):
    db = tmp_path / "h.db"
    env = _config(tmp_path, fake)
    assert run_hearth("import", str(SERAPHINA), db=db).returncode == 0
    for fact in FACTS:
        assert run_hearth("memory", "add", fact, "--importance", "0.95", db=db).returncode == 0
    plain = run_hearth("letter", "--tokens", "600", db=db)
    good = plain.stdout.replace("# Memory letter: Seraphina", "# Memory letter: Seraphina\n\nDear Seraphina,")
    _answers(fake, good)
    r = run_hearth("letter", "--tokens", "600", "--backend", "writer", db=db, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout == good and "worded by writer-2026-05" in r.stderr
    _answers(fake, DROPS.replace("Mochi", "Seraphina"))
    r = run_hearth("letter", "--tokens", "600", "--backend", "writer", db=db, env=env)
    assert r.returncode == 0 and r.stdout == plain.stdout
    assert "kept hearth's wording" in r.stderr and "dropped" in r.stderr
    fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(401, {"error": {"message": "bad key"}})
    r = run_hearth("letter", "--tokens", "600", "--backend", "writer", db=db, env=env)
    assert r.returncode != 0 and "Traceback" not in r.stderr and r.stderr.strip()


def test_api_letter_with_a_backend(store, mochi, fake):
    from hearth.server.app import create_app
    from hearth.server.auth import Auth
    from hearth.server.hub import Hub

    _answers(fake, GOOD)
    hub = Hub(store, lambda name: _backend(fake))
    try:
        client = TestClient(create_app(hub, Auth("t" * 32)))
        auth = {"Authorization": "Bearer " + "t" * 32}
        body = client.get("/v1/letter?tokens=400&backend=writer", headers=auth).json()
        assert body["text"] == GOOD and body["worded_by"] == "writer-2026-05" and body["wording_note"] is None
        _answers(fake, DROPS)
        body = client.get("/v1/letter?tokens=400&backend=writer", headers=auth).json()
        assert body["worded_by"] is None and "dropped" in body["wording_note"]
        fake.routes[("POST", "/v1/chat/completions")] = lambda h, b: h.send_json(500, {"error": {"message": "down"}})
        r = client.get("/v1/letter?tokens=400&backend=writer", headers=auth)
        assert r.status_code == 502 and r.json()["error"]["message"]
    finally:
        hub.close()
