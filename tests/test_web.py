"""The web UI in process (Starlette's TestClient): sign-in, CSRF on every state change, GET never
changing state, hostile imported text escaped on every page, the upload size limit, clear 404s,
and each page group doing its job through hearth's own functions."""

from __future__ import annotations

import json
import re
import time

import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, pg_database
from hearth.server.auth import COOKIE, CSRF_COOKIE
from hearth.server.web.conversations import branch_path
from hearth.server.web.upload import parse_size, safe_relpath
from hearth.store import chat, personas
from hearth.store.memories import add_memory, get_memory, list_memories
from web_helpers import TOKEN, XSS_IMG, XSS_SCRIPT, csrf, make_app, signed_in

ST_FIXTURE = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"
PAGES = ["/chat", "/conversations", "/memory", "/persona", "/import", "/audit", "/backends"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def web(request, tmp_path):
    """The web UI over a SQLite store, and over a real PostgreSQL one."""
    location = pg_database(request.getfixturevalue("pg_server")) if request.param == "postgresql" else None
    app, store, backends = make_app(tmp_path, location=location)
    yield app, store, backends
    store.close()


def _hostile(store) -> tuple[int, int, int]:
    """A conversation, a reply and a memory whose text is an XSS payload, as an import could bring."""
    cid = store_companion(store)
    conv = chat.new_conversation(store, cid, f"title {XSS_SCRIPT}{XSS_IMG}", "gpt-4o")
    user = chat.append(store, conv, "user", f"hello {XSS_SCRIPT} and {XSS_IMG}")
    chat.append(store, conv, "assistant", f"reply {XSS_IMG}", parent_id=user, requested_model="gpt-4o",
                served_model=f"evil{XSS_SCRIPT}")  # fmt: skip
    mem = add_memory(store, f"memory {XSS_SCRIPT}{XSS_IMG}", companion_id=cid, source_message_ids=[user])
    return conv, user, mem


def store_companion(store) -> int:
    from hearth.store.loaders import companion_id

    return companion_id(store, "Warmie")


def test_sign_in_sets_strict_httponly_session_and_csrf_cookies(web):
    app, *_ = web
    client = TestClient(app)
    r = client.get("/memory", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/memory"
    page = client.get("/login?next=/memory")
    assert page.status_code == 200 and 'name="token"' in page.text and 'value="/memory"' in page.text
    assert client.post("/login", data={"token": "wrong-token-123456789"}).status_code == 401
    r = client.post("/login", data={"token": TOKEN, "next": "/memory"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/memory"
    cookies = r.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith(COOKIE + "="))
    token = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "HttpOnly" in session and "samesite=strict" in session.lower()
    assert "HttpOnly" not in token and "samesite=strict" in token.lower()
    assert client.get("/memory").status_code == 200


def test_token_link_and_next_cannot_leave_the_site(web):
    app, *_ = web
    client = TestClient(app)
    r = client.get(f"/login?token={TOKEN}&next=/persona", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/persona"
    for evil in ("//evil.example/x", "https://evil.example", "/\\evil.example"):
        r = TestClient(app).get(f"/login?token={TOKEN}&next={evil}", follow_redirects=False)
        assert r.headers["location"] == "/chat"
    assert TestClient(app).get("/login?token=nope-nope-nope-nope").status_code == 401


def test_every_page_renders_with_security_headers(web):
    app, *_ = web
    client = signed_in(app)
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert r.headers["x-frame-options"] == "DENY" and r.headers["cache-control"] == "no-store"
        assert f'content="{csrf(client)}"' in r.text


def test_state_changes_need_the_csrf_value(web):
    app, store, _ = web
    client = signed_in(app)
    mid = add_memory(store, "Loves rain", companion_id=store_companion(store))
    for data in ({}, {"csrf": "0" * 32}):
        assert client.post(f"/memory/{mid}/forget", data=data).status_code == 403
        assert client.post(f"/memory/{mid}", data={**data, "text": "changed"}).status_code == 403
        assert client.post("/persona", data={**data, "warmth": "90"}).status_code == 403
        assert client.post("/logout", data=data).status_code == 403
    r = client.post("/ui/chat/stream", json={"companion": 1, "text": "hi"})
    assert r.status_code == 403 and r.json()["error"]
    assert get_memory(store, mid).text == "Loves rain" and personas.latest(store, 1) is None
    assert client.post(f"/memory/{mid}/forget", headers={"x-csrf-token": csrf(client)}).status_code == 200
    assert list_memories(store) == []
    # an API client with the token itself is not a browser riding on cookies
    bearer = TestClient(app)
    mid = add_memory(store, "Bearer may", companion_id=1)
    r = bearer.post(f"/memory/{mid}/pin", data={"pinned": "1"}, headers={"authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200 and get_memory(store, mid).pinned


def test_get_never_changes_state(web):
    app, store, _ = web
    client = signed_in(app)
    mid = add_memory(store, "Has a cat named 小白", companion_id=1)
    page = client.get(f"/memory/{mid}/forget")
    assert page.status_code == 200 and "Forget for good" in page.text
    assert client.get(f"/memory/{mid}/pin").status_code in (404, 405)
    client.get("/logout")
    assert get_memory(store, mid).text == "Has a cat named 小白" and not get_memory(store, mid).pinned
    assert client.get("/memory").status_code == 200  # still signed in


def test_hostile_imported_text_is_escaped_everywhere(web):
    app, store, _ = web
    conv, user, mem = _hostile(store)
    client = signed_in(app)
    pages = [f"/conversations/{conv}", "/conversations", f"/chat?conversation={conv}", "/memory",
             f"/memory/{mem}", "/audit", "/conversations?q=hello", "/memory?q=memory"]  # fmt: skip
    for path in pages:
        r = client.get(path)
        assert r.status_code == 200, path
        assert "<script>window" not in r.text and "<img src=x" not in r.text, path
        assert "&lt;script&gt;window.__xss=1&lt;/script&gt;" in r.text or "&lt;img src=x" in r.text, path
    svg = client.get("/audit/chart.svg")
    assert "<script>" not in svg.text and svg.headers["content-security-policy"].startswith("default-src 'none'")


def test_upload_over_the_limit_is_refused_and_nothing_kept(web, tmp_path):
    app, store, _ = web
    app.state.upload_limit = 1000
    client = signed_in(app)
    big = tmp_path / "big.jsonl"
    big.write_bytes(b'{"x": 1}\n' * 500)
    with big.open("rb") as f:
        r = client.post("/import", data={"csrf": csrf(client)}, files={"files": ("big.jsonl", f)})
    assert r.status_code == 413 and "larger than the limit of 1000 bytes" in r.text
    assert "hearth import PATH" in r.text
    with big.open("rb") as f:  # the page's script asks for JSON
        r = client.post("/import", data={"csrf": csrf(client)}, files={"files": ("big.jsonl", f)},
                        headers={"accept": "application/json"})  # fmt: skip
    assert r.status_code == 413 and "1000 bytes" in r.json()["error"] and "hearth import" in r.json()["hint"]
    uploads = app.state.upload_dir
    assert not any(p.is_file() for p in uploads.rglob("*"))
    with ST_FIXTURE.open("rb") as f:  # no CSRF: refused before any byte is written
        r = client.post("/import", files={"files": ("a.jsonl", f)})
    assert r.status_code == 403 and not any(p.is_file() for p in uploads.rglob("*"))
    r = client.post("/import", data={"csrf": csrf(client)}, headers={"content-length": str(10**12)}, content=b"")
    assert r.status_code == 413


def test_import_upload_runs_and_summarises(web):
    app, store, _ = web
    client = signed_in(app)
    with ST_FIXTURE.open("rb") as f:
        r = client.post("/import", data={"csrf": csrf(client), "extract": "1"},
                        files={"files": (ST_FIXTURE.name, f)}, headers={"accept": "application/json"})  # fmt: skip
    assert r.status_code == 200, r.text
    status_url = r.json()["status"]
    deadline = time.time() + 60
    while (job := client.get(status_url).json())["state"] == "running":
        assert time.time() < deadline
        time.sleep(0.1)
    assert job["state"] == "done", job
    row = job["summaries"][0]
    assert row["input"] == ST_FIXTURE.name and row["format"] == "sillytavern" and row["counts"]["msgs"] > 0
    page = client.get(r.json()["url"])
    assert "Import summary" in page.text and ST_FIXTURE.name in page.text
    assert not any(p.is_file() for p in app.state.upload_dir.rglob("*"))  # the upload is gone, the store has it


def test_unknown_ids_are_clear_404s(web):
    app, *_ = web
    client = signed_in(app)
    for path in ("/conversations/999999", "/memory/999999", "/memory/999999/forget", "/import/nope",
                 "/persona/version/42", "/chat?conversation=999999"):  # fmt: skip
        r = client.get(path)
        assert r.status_code == 404, path
        assert "There is no" in r.text or "has no persona version" in r.text, path
    r = client.get("/ui/import/nope/status")
    assert r.status_code == 404 and "import" in r.json()["error"]


def _events(body: str) -> list[tuple[str, dict]]:
    out = []
    for block in body.strip().split("\n\n"):
        name = re.search(r"^event: (.+)$", block, re.M).group(1)
        out.append((name, json.loads(re.search(r"^data: (.+)$", block, re.M).group(1))))
    return out


def test_chat_streams_and_flags_the_served_model(web):
    app, store, backends = web
    client = signed_in(app)
    r = client.post("/ui/chat/stream", json={"companion": 1, "text": "你好，还记得小白吗？", "warmth": 80},
                    headers={"x-csrf-token": csrf(client)})  # fmt: skip
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    events = _events(r.text)
    assert events[0][0] == "start" and events[-1][0] == "done"
    assert "".join(d["text"] for n, d in events if n == "delta") == backends["cloud"].reply
    answered = events[-1][1]["answered"]
    assert answered["flagged"] and answered["label"] == "answered by gpt-4o-mini (asked for gpt-4o)"
    conv = events[0][1]["conversation_id"]
    page = client.get(f"/chat?conversation={conv}").text
    assert '<div class="answered flagged">answered by gpt-4o-mini (asked for gpt-4o)' in page
    assert "你好，还记得小白吗？" in page
    # the no-JavaScript form: same turn, then the conversation
    r = client.post("/chat", data={"csrf": csrf(client), "companion": "1", "conversation": str(conv), "text": "again"},
                    follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"].startswith(f"/chat?conversation={conv}#m")
    assert len(chat.visible_path(store, conv)) == 4


def test_verified_reply_is_not_highlighted(tmp_path):
    app, store, _ = make_app(tmp_path, default=None)
    client = signed_in(app)
    r = client.post("/ui/chat/stream", json={"companion": 1, "text": "hi"}, headers={"x-csrf-token": csrf(client)})
    done = _events(r.text)[-1][1]
    assert done["answered"] == {"label": "answered by smollm2", "flagged": False, "note": None}
    store.close()


def test_memory_edit_pin_forget_and_sources(web):
    app, store, _ = web
    client = signed_in(app)
    conv = chat.new_conversation(store, 1, "猫")
    msg = chat.append(store, conv, "user", "我的猫叫小白")
    mid = add_memory(store, "猫叫小白", companion_id=1, source_message_ids=[msg])
    token = {"csrf": csrf(client)}
    assert "猫叫小白" in client.get("/memory?q=小白").text
    r = client.get(f"/memory/{mid}/from/{msg}", follow_redirects=False)
    assert r.headers["location"] == f"/conversations/{conv}?at={msg}#m{msg}"
    assert f'id="m{msg}"' in client.get(r.headers["location"]).text
    client.post(f"/memory/{mid}", data={**token, "text": "猫叫小白，是只橘猫", "kind": "fact", "importance": "0.9"})
    m = get_memory(store, mid)
    assert m.text == "猫叫小白，是只橘猫" and m.importance == 0.9
    assert "橘猫" in client.get("/memory?q=橘猫").text
    client.post(f"/memory/{mid}/pin", data={**token, "pinned": "1", "back": "/memory"})
    assert get_memory(store, mid).pinned
    client.post(f"/memory/{mid}/pin", data={**token, "pinned": "0"})
    assert not get_memory(store, mid).pinned
    r = client.post(f"/memory/{mid}/forget", data=token)
    assert "Forgot memory" in r.text and list_memories(store) == []
    assert "猫叫小白，是只橘猫" not in client.get("/memory?q=橘猫").text


def test_persona_saves_versions_like_the_cli_and_reverts(web):
    app, store, _ = web
    client = signed_in(app)
    page = client.get("/persona?companion=1").text
    assert 'type="range" name="warmth"' in page and "data-bands=" in page
    form = {"csrf": csrf(client), "companion": "1", "warmth": "85", "relationship": "老朋友",
            "facts": "Has a cat 小白\r\nLives in Hangzhou\r\n"}  # fmt: skip
    r = client.post("/persona", data=form)
    assert "Saved as version 1" in r.text
    v1 = personas.latest(store, 1)
    assert v1.persona["warmth"] == 85 and v1.persona["facts"] == ["Has a cat 小白", "Lives in Hangzhou"]
    assert {"warmth", "relationship", "facts"} <= set(v1.persona["edited"]) and v1.source == "edited"
    assert "affectionate" in client.get("/persona?companion=1").text
    client.post("/persona", data={"csrf": csrf(client), "companion": "1", "warmth": "10"})
    assert personas.latest(store, 1).persona["warmth"] == 10
    r = client.post("/persona", data={"csrf": csrf(client), "companion": "1", "warmth": "10"})
    assert "Nothing changed" in r.text and personas.latest(store, 1).version == 2
    client.post("/persona/revert", data={"csrf": csrf(client), "companion": "1", "version": "1"})
    latest = personas.latest(store, 1)
    assert latest.version == 3 and latest.persona["warmth"] == 85 and latest.note == "reverted to version 1"
    r = client.post("/persona/derive", data={"csrf": csrf(client), "companion": "1"})
    assert "Derived from your history" in r.text and personas.latest(store, 1).source == "derived"
    assert personas.latest(store, 1).persona["warmth"] == 85  # set by hand: derive keeps it
    assert "老朋友" in client.get("/persona/version/1?companion=1").text


def test_branches_are_reachable(web):
    app, store, _ = web
    client = signed_in(app)
    conv = chat.new_conversation(store, 1, "branches")
    q = chat.append(store, conv, "user", "question")
    first = chat.append(store, conv, "assistant", "first answer", parent_id=q, requested_model="a", served_model="a")
    second = chat.append(store, conv, "assistant", "second answer", parent_id=q, requested_model="a", served_model="b")
    page = client.get(f"/conversations/{conv}").text
    assert "second answer" in page and "first answer" not in page and "alternative 2 of 2" in page
    assert f"?at={first}#m{first}" in page
    other = client.get(f"/conversations/{conv}?at={first}").text
    assert "first answer" in other and "second answer" not in other and "alternative 1 of 2" in other
    every = client.get(f"/conversations/{conv}?all=1").text
    assert "first answer" in every and "second answer" in every and "other branch" in every
    assert "answered by b (asked for a)" in page
    assert second > first


def test_branch_path_picks_visible_then_newest():
    rows = [
        {"id": 1, "parent_id": None, "sibling_index": 0, "visible": True},
        {"id": 2, "parent_id": 1, "sibling_index": 0, "visible": False},
        {"id": 3, "parent_id": 1, "sibling_index": 1, "visible": True},
        {"id": 4, "parent_id": 2, "sibling_index": 0, "visible": False},
        {"id": 5, "parent_id": 2, "sibling_index": 1, "visible": False},
    ]
    assert [r["id"] for r in branch_path([dict(r) for r in rows])] == [1, 3]
    assert [r["id"] for r in branch_path([dict(r) for r in rows], at=2)] == [1, 2, 5]
    assert [r["id"] for r in branch_path([dict(r) for r in rows], at=4)] == [1, 2, 4]
    assert branch_path([dict(r) for r in rows], at=4)[1]["alternatives"] == [2, 3]


def test_chinese_search_in_conversations(web):
    app, store, _ = web
    conv = chat.new_conversation(store, 1, "杭州的雨")
    chat.append(store, conv, "user", "今天杭州下雨了，小白躲在被子里。")
    client = signed_in(app)
    page = client.get("/conversations?q=小白").text
    assert "杭州的雨" in page and "1 message found" in page


def test_backends_page_and_connection_test(web):
    app, *_ = web
    client = signed_in(app)
    page = client.get("/backends").text
    assert "cloud" in page and "companions speak through this one" in page
    r = client.post(
        "/backends/test", data={"csrf": csrf(client), "name": "cloud"}, headers={"accept": "application/json"}
    )
    body = r.json()
    assert body["ok"] and body["served"] == "gpt-4o-mini" and body["verification"] == "mismatch"
    r = client.post("/backends/test", data={"csrf": csrf(client), "name": "nowhere"})
    assert r.status_code == 200 and "There is no backend" in r.text


def test_audit_page_and_svg_chart(web):
    app, store, _ = web
    client = signed_in(app)
    assert client.get("/audit/chart.svg").status_code == 404  # nothing to draw yet
    client.post("/ui/chat/stream", json={"companion": 2, "text": "你好"}, headers={"x-csrf-token": csrf(client)})
    page = client.get("/audit").text
    assert 'src="/audit/chart.svg"' in page and "gpt-4o-mini" in page and "asked for gpt-4o" in page
    svg = client.get("/audit/chart.svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text and "gpt-4o-mini" in svg.text


def test_upload_helpers():
    assert parse_size("4G") == 4 << 30 and parse_size("500m") == 500 << 20 and parse_size("123") == 123
    assert str(safe_relpath("../../etc/passwd")) == "etc/passwd"
    assert str(safe_relpath("folder\\sub/./conversations.json")) == "folder/sub/conversations.json"
    assert safe_relpath("..") is None and safe_relpath("") is None


def test_failed_reply_keeps_the_message_and_says_so(web):
    from hearth.errors import BackendUnreachable

    app, store, backends = web
    backends["cloud"].fail = BackendUnreachable("The model server at 127.0.0.1:9 did not answer.")
    client = signed_in(app)
    r = client.post(
        "/ui/chat/stream", json={"companion": 1, "text": "还在吗？"}, headers={"x-csrf-token": csrf(client)}
    )
    events = _events(r.text)
    assert [n for n, _ in events] == ["start", "error"]
    error = events[-1][1]
    assert "did not answer" in error["message"] and "Your message is saved" in error["message"]
    assert error["answered"]["flagged"]
    conv = events[0][1]["conversation_id"]
    assert [t.text for t in chat.visible_path(store, conv)] == ["还在吗？"]
    assert "还在吗？" in client.get(f"/chat?conversation={conv}").text
