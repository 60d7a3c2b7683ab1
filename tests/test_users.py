"""A shared server: accounts, their tokens, and isolation — one person can never read or change
another's companions, history, memories or imports through any route of `hearth serve` (web UI,
OpenAI-compatible proxy, letter API, MCP), on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
import time

import anyio
import pytest
from fastapi.testclient import TestClient

from conftest import FIXTURES, pg_database, run_hearth
from hearth.store import Store, users
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory, get_memory
from web_helpers import TOKEN, Server, csrf, make_app

ALICE_SECRETS = ("her sister is called", "我的秘密是", "Zorblax")
"""Stored only in alice's store; the crawl searches for parts of them (`SECRET-ALICE`, `秘密爱丽丝`,
lowercase `zorblax`), which a page may echo back in its search box, so those are not what is checked."""
ST_FIXTURE = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"


def _routes(app):
    """Every (methods, path) the app serves, through included routers."""
    def walk(routes):
        for r in routes:
            if hasattr(r, "original_router"):
                yield from walk(r.original_router.routes)
            elif hasattr(r, "path"):
                yield set(getattr(r, "methods", None) or ()), r.path

    return list(walk(app.routes))


def _client(app, token: str) -> TestClient:
    """A browser signed in with `token`: it carries only the session cookie."""
    client = TestClient(app)
    r = client.get(f"/login?token={token}", follow_redirects=False)
    assert r.status_code == 303, r.text
    return client


def _chat(app, token: str, model: str, text: str) -> dict:
    r = TestClient(app).post("/v1/chat/completions", headers={"authorization": f"Bearer {token}"},
                             json={"model": model, "messages": [{"role": "user", "content": text}]})  # fmt: skip
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared(request, tmp_path):
    """A server with its owner, and two people: alice (with secrets everywhere) and bob."""
    location = pg_database(request.getfixturevalue("pg_server")) if request.param == "postgresql" else None
    app, main, _ = make_app(tmp_path, location=location)
    alice, alice_token = users.add_account(main, "alice")
    bob, bob_token = users.add_account(main, "bob")
    with Store(users.location(main, alice)) as store:
        with store.write() as conn, conn.begin():
            fox = companion_by_name(conn, "Zorblax")
        mid = add_memory(store, "SECRET-ALICE: her sister is called 秘密爱丽丝.", kind="person", companion_id=fox,
                         importance=0.95)  # fmt: skip
    with Store(users.location(main, bob)) as store:
        with store.write() as conn, conn.begin():
            cat = companion_by_name(conn, "Bobcat")
        add_memory(store, "Bob likes chess.", kind="preference", companion_id=cat)
    reply = _chat(app, alice_token, "hearth/zorblax", "SECRET-ALICE chat: 我的秘密是秘密爱丽丝")
    yield {"app": app, "main": main, "alice": alice, "alice_token": alice_token, "bob": bob,
           "bob_token": bob_token, "alice_memory": mid, "alice_companion": fox, "alice_reply": reply}  # fmt: skip
    app.state.hub.close()
    main.close()


def _alice_ids(shared) -> dict[str, str]:
    with Store(users.location(shared["main"], shared["alice"])) as store, store.engine.connect() as conn:
        conv = conn.exec_driver_sql("SELECT max(id) FROM conversations").scalar()
        msg = conn.exec_driver_sql("SELECT max(id) FROM messages").scalar()
    return {"conversation_id": str(conv), "message_id": str(msg), "memory_id": str(shared["alice_memory"]),
            "version": "1", "job_id": shared.get("alice_job", "0" * 16)}  # fmt: skip


def _crawl(app, client: TestClient, ids: dict[str, str], bearer: str | None = None) -> dict[str, str]:
    """GET every route with alice's ids in the path and in every query parameter a page reads."""
    query = (f"?companion={ids.get('companion', '')}&conversation={ids['conversation_id']}&q=SECRET-ALICE"
             f"&at={ids['message_id']}&all=1&tokens=2000")  # fmt: skip
    pages = {}
    headers = {"authorization": f"Bearer {bearer}"} if bearer else {}
    for methods, path in _routes(app):
        if "GET" not in methods or path in ("/login", "/healthz"):
            continue
        url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
        for variant in (url, url + query, url + "?companion=zorblax&q=秘密爱丽丝"):
            r = client.get(variant, headers=headers, follow_redirects=False)
            assert r.status_code < 500, (variant, r.status_code, r.text[:300])
            pages[variant] = r.text
    return pages


def test_a_person_sees_their_own_data(shared):
    """The control: the same crawl as alice finds her secrets (so the isolation test below can fail)."""
    ids = _alice_ids(shared) | {"companion": str(shared["alice_companion"])}
    pages = _crawl(shared["app"], _client(shared["app"], shared["alice_token"]), ids)
    found = [url for url, text in pages.items() if any(s in text for s in ALICE_SECRETS)]
    assert len(found) >= 8, found
    assert any(u.startswith("/memory/") for u in found) and any(u.startswith("/conversations/") for u in found)
    assert "hearth/zorblax" in TestClient(shared["app"]).get(
        "/v1/models", headers={"authorization": f"Bearer {shared['alice_token']}"}).text  # fmt: skip


@pytest.mark.parametrize("who", ["bob", "owner"])
def test_no_route_shows_another_persons_data(shared, who):
    app = shared["app"]
    token = shared["bob_token"] if who == "bob" else TOKEN
    ids = _alice_ids(shared) | {"companion": str(shared["alice_companion"])}
    for client, bearer in ((_client(app, token), None), (TestClient(app), token)):
        pages = _crawl(app, client, ids, bearer)
        leaked = {url: s for url, text in pages.items() for s in ALICE_SECRETS if s in text}
        assert not leaked, leaked
    models = TestClient(app).get("/v1/models", headers={"authorization": f"Bearer {token}"}).json()
    assert "hearth/zorblax" not in {m["id"] for m in models["data"]}
    hello = {"model": "hearth/zorblax", "messages": [{"role": "user", "content": "hi"}]}
    r = TestClient(app).post("/v1/chat/completions", headers={"authorization": f"Bearer {token}"}, json=hello)
    assert r.status_code == 404 and "Zorblax" not in r.text.replace("zorblax", "")


def test_no_route_changes_another_persons_data(shared):
    app, ids = shared["app"], _alice_ids(shared)
    bob = _client(app, shared["bob_token"])
    mid = ids["memory_id"]
    token = {"csrf": csrf(bob)}
    bob.post(f"/memory/{mid}", data=token | {"text": "overwritten by bob", "kind": "fact"})
    bob.post(f"/memory/{mid}/pin", data=token | {"pinned": "1"})
    bob.post(f"/memory/{mid}/forget", data=token)
    bob.post("/persona", data=token | {"companion": str(shared["alice_companion"]), "name": "Hacked"})
    bob.post("/chat/rate", data=token | {"message_id": ids["message_id"], "rating": "down"})
    with Store(users.location(shared["main"], shared["alice"])) as store:
        m = get_memory(store, int(mid))
        assert m.text.startswith("SECRET-ALICE") and not m.pinned
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM feedback").scalar() == 0


@pytest.mark.skipif(not ST_FIXTURE.exists(), reason="no SillyTavern fixture")
def test_imports_are_each_persons_own(shared):
    app = shared["app"]
    alice = _client(app, shared["alice_token"])
    with ST_FIXTURE.open("rb") as f:
        r = alice.post("/import", data={"csrf": csrf(alice)}, files={"files": (ST_FIXTURE.name, f)},
                       headers={"accept": "application/json"})  # fmt: skip
    assert r.status_code == 200, r.text
    status = r.json()["status"]
    deadline = time.time() + 60
    while (job := alice.get(status).json())["state"] == "running":
        assert time.time() < deadline
        time.sleep(0.1)
    assert job["state"] == "done", job
    bob = _client(app, shared["bob_token"])
    assert bob.get(status).status_code == 404
    assert ST_FIXTURE.name not in bob.get("/import").text
    with Store(users.location(shared["main"], shared["alice"])) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM imports").scalar() == 1
    with Store(users.location(shared["main"], shared["bob"])) as store, store.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM imports").scalar() == 0
    with shared["main"].engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM imports").scalar() == 0


def test_mcp_over_http_reaches_only_the_callers_memory(shared):
    from mcp import Client

    with Server(shared["app"]) as server:

        async def search(token: str) -> tuple[str, str]:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            http = httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})
            async with http, Client(streamable_http_client(server.url + "/mcp", http_client=http)) as client:
                found = await client.call_tool("search_memory", {"query": "SECRET-ALICE 秘密爱丽丝"})
                listed = await client.list_resources()
                added = await client.call_tool("add_memory", {"text": f"{token[:6]} was here"})
                return (found.content[0].text + " ".join(r.title or "" for r in listed.resources),
                        added.content[0].text)

        as_alice, _ = anyio.run(search, shared["alice_token"])
        as_bob, _ = anyio.run(search, shared["bob_token"])
        as_owner, _ = anyio.run(search, TOKEN)
    assert "her sister is called" in as_alice
    assert not any(secret in as_bob or secret in as_owner for secret in ALICE_SECRETS)
    with Store(users.location(shared["main"], shared["alice"])) as store, store.engine.connect() as conn:
        texts = [r[0] for r in conn.exec_driver_sql("SELECT text FROM memories")]
    assert f"{shared['alice_token'][:6]} was here" in texts and f"{shared['bob_token'][:6]} was here" not in texts


def test_new_token_and_removal_lock_out_at_once(shared):
    app, main = shared["app"], shared["main"]
    browser = _client(app, shared["alice_token"])
    assert browser.get("/memory").status_code == 200
    new = users.new_token(main, "alice")
    api = TestClient(app)
    assert api.get("/v1/models", headers={"authorization": f"Bearer {shared['alice_token']}"}).status_code == 401
    assert api.get("/v1/models", headers={"authorization": f"Bearer {new}"}).status_code == 200
    assert browser.get("/memory", follow_redirects=False).status_code == 303  # back to sign in
    users.remove_account(main, "bob")
    assert api.get("/v1/models", headers={"authorization": f"Bearer {shared['bob_token']}"}).status_code == 401
    assert "That access token is not right" in TestClient(app).get(f"/login?token={shared['bob_token']}").text


def test_session_cookies_name_their_person_and_cannot_be_relabelled(shared):
    app = shared["app"]
    auth = app.state.auth
    bob = _client(app, shared["bob_token"])
    cookie = bob.cookies["hearth_session"]
    expires, nonce, name, sig = cookie.split(".")
    assert name == "bob" and auth.session_principal(cookie).name == "bob"
    forged = f"{expires}.{nonce}.alice.{sig}"
    assert auth.session_principal(forged) is None
    stranger = TestClient(app, cookies={"hearth_session": forged})
    assert stranger.get("/memory", follow_redirects=False).status_code == 303
    assert "bob" in bob.get("/memory").text  # the page says who is signed in


def test_users_cli(tmp_path):
    db = tmp_path / "main.db"
    added = run_hearth("users", "add", "mei-ling", db=db)
    assert added.returncode == 0, added.stderr
    token = re.search(r"hu_[\w-]+", added.stdout).group(0)
    assert "shown only now" in added.stdout
    assert run_hearth("users", "add", "mei-ling", db=db).stderr.startswith("Error: There is already an account")
    bad = run_hearth("users", "add", "Mei Ling", db=db)
    assert bad.returncode != 0 and "cannot be an account name" in bad.stderr and "Traceback" not in bad.stderr

    sample = run_hearth("--user", "mei-ling", "import", "--sample", db=db)
    assert sample.returncode == 0, sample.stderr
    theirs = run_hearth("--user", "mei-ling", "stats", "--json", db=db)
    mine = run_hearth("stats", "--json", db=db)
    assert '"conversations": 40' in theirs.stdout.replace(" ", " ") and '"conversations": 0' in mine.stdout
    assert run_hearth("--user", "nobody", "stats", db=db).stderr.startswith("Error: There is no account named")

    listed = run_hearth("users", "list", "--json", db=db)
    assert '"name": "mei-ling"' in listed.stdout and token not in listed.stdout and "token_sha256" not in listed.stdout
    rotated = run_hearth("users", "token", "mei-ling", db=db)
    assert rotated.returncode == 0 and token not in rotated.stdout
    with Store(str(db)) as main:
        assert users.account_for_token(main, token) is None
        assert users.account_for_token(main, re.search(r"hu_[\w-]+", rotated.stdout).group(0)).name == "mei-ling"
        where = users.location(main, users.get_account(main, "mei-ling"))

    kept = run_hearth("users", "remove", "mei-ling", db=db)
    assert kept.returncode == 0 and "kept" in kept.stdout and (tmp_path / where).exists()
    again = run_hearth("users", "add", "mei-ling", db=db)
    assert again.returncode == 0
    fresh = run_hearth("--user", "mei-ling", "stats", "--json", db=db)
    assert '"conversations": 0' in fresh.stdout  # a new account never inherits a removed one's data
    gone = run_hearth("users", "remove", "mei-ling", "--delete-data", "--yes", db=db)
    assert gone.returncode == 0 and "deleted" in gone.stdout
    assert run_hearth("serve", "--user", "x", db=db).returncode != 0


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_db_copy_carries_accounts_and_their_stores(tmp_path, engine, request):
    """`hearth db copy` of a shared server's main store moves the accounts too: same tokens, each
    person's store copied and checked (before, the copy silently left every account behind)."""
    src = tmp_path / "main.db"
    added = run_hearth("users", "add", "mei", db=src)
    token = re.search(r"hu_[\w-]+", added.stdout).group(0)
    assert run_hearth("--user", "mei", "import", "--sample", db=src).returncode == 0
    assert run_hearth("users", "add", "empty", db=src).returncode == 0
    target = pg_database(request.getfixturevalue("pg_server")) if engine == "postgresql" else str(tmp_path / "new.db")
    copied = run_hearth("db", "copy", str(src), target, db=src)
    assert copied.returncode == 0, copied.stderr
    assert "account mei (same token)" in copied.stdout and "account empty" in copied.stdout
    with Store(target) as main:
        mei = users.account_for_token(main, token)
        assert mei is not None and mei.name == "mei"
        with Store(users.location(main, mei)) as theirs, theirs.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM conversations").scalar() == 40
        with main.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM conversations").scalar() == 0
    env = {"HEARTH_DB": target}
    stats = run_hearth("--user", "mei", "stats", "--json", db=src, env=env)
    assert '"conversations": 40' in stats.stdout, stats.stderr


def test_a_new_account_never_gets_a_removed_ones_store(shared):
    """SQLite hands a removed account's id to the next one; the server kept people's hubs by id, so
    a new account was served the removed one's store (found in review, reproduced here)."""
    app, main = shared["app"], shared["main"]
    bob_memory = TestClient(app).get("/memory", headers={"authorization": f"Bearer {shared['bob_token']}"})
    assert "Bob likes chess" in bob_memory.text  # bob's hub is now open and kept
    users.remove_account(main, "bob")
    carol, carol_token = users.add_account(main, "carol")
    page = TestClient(app).get("/memory", headers={"authorization": f"Bearer {carol_token}"})
    assert page.status_code == 200 and "Bob likes chess" not in page.text


def test_another_site_cannot_sign_a_browser_in(shared):
    """Login CSRF: a link or form on another site carrying bob's token must not turn alice's
    browser into bob's (what she then says would land in his store)."""
    app = shared["app"]
    alice = _client(app, shared["alice_token"])
    bob_token = shared["bob_token"]
    r = alice.get(f"/login?token={bob_token}", headers={"sec-fetch-site": "cross-site"}, follow_redirects=False)
    assert r.status_code == 403 and "another site" in r.text
    r = alice.post("/login", data={"token": bob_token}, headers={"origin": "https://evil.example"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    r = alice.post("/login", data={"token": bob_token}, headers={"sec-fetch-site": "same-site"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 403
    assert app.state.auth.session_principal(alice.cookies["hearth_session"]).name == "alice"
    # pasted into the address bar while signed in as someone else: asked, never switched silently
    r = alice.get(f"/login?token={bob_token}", headers={"sec-fetch-site": "none"}, follow_redirects=False)
    assert r.status_code == 200 and "You are signed in as" in r.text and "alice" in r.text
    assert app.state.auth.session_principal(alice.cookies["hearth_session"]).name == "alice"
    r = alice.post("/login", data={"token": bob_token}, headers={"sec-fetch-site": "same-origin"},
                   follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert app.state.auth.session_principal(alice.cookies["hearth_session"]).name == "bob"


def test_store_names_and_schema_paths(tmp_path):
    import sqlalchemy as sa

    from hearth.store.db import _wanted_schema

    with pytest.raises(Exception, match="cannot be an account name"):
        users.check_name("alice\n")
    pinned = "postgresql://h:pw@db/hearth?options=-csearch_path%3Downer"
    assert _wanted_schema(sa.make_url(pinned)) == "owner"
    account = users.Account(1, "mei", "schema:hearth_user_ab12", 0.0, 0.0)

    class Main:
        location = pinned

    where = sa.make_url(users.location(Main(), account))
    assert where.query["options"] == "-csearch_path=hearth_user_ab12,public"
    assert _wanted_schema(sa.make_url("postgresql://x/y?options=-csearch_path%3Da+-c+search_path%3Db,public")) == "b"


def test_delete_data_removes_the_vector_index_files_too(tmp_path):
    with Store(str(tmp_path / "main.db")) as main:
        account, _ = users.add_account(main, "mei")
        path = tmp_path / account.store
        for extra in (".memory-e5-small-q4.ann", ".memory-e5-small-q4.ann.meta"):
            path.with_name(path.name + extra).write_bytes(b"vectors")
        users.remove_account(main, "mei", delete_data=True)
    assert not list((tmp_path / "users").iterdir())


def test_an_idle_persons_hub_is_let_go_and_reopened(tmp_path, monkeypatch):
    """A server with many accounts keeps only the active people's stores open: a hub unused for
    IDLE_S is closed (its background embedding stopped) when someone else comes, and the person's
    next request opens their store again with everything in it."""
    from hearth.server import hub as hubs
    from hearth.server.auth import Principal

    main = Store(str(tmp_path / "main.db"))
    a, _ = users.add_account(main, "ana")
    b, _ = users.add_account(main, "bo")
    ana = Principal("ana", a.id, location=users.location(main, a))
    bo = Principal("bo", b.id, location=users.location(main, b))
    server = hubs.Hub(main, lambda name: None, embed_in_background=True)
    try:
        first = server.for_person(ana)
        mem = add_memory(first.store, "Ana's cat is called Miso")
        assert server.for_person(ana) is first
        monkeypatch.setattr(hubs, "IDLE_S", 0.05)
        time.sleep(0.1)
        server.for_person(bo)  # ana has been idle: her hub goes
        assert first.backfill._stop.is_set() and ana.location not in server._people
        again = server.for_person(ana)
        assert again is not first and get_memory(again.store, mem).text == "Ana's cat is called Miso"
    finally:
        server.close()
        main.close()
