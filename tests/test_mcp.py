"""hearth's memory over MCP, driven by the official SDK's client: `hearth mcp` as a real stdio
subprocess, and the streamable-HTTP transport that `hearth serve` mounts at /mcp behind its token."""

from __future__ import annotations

import json
import os
import sys

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from conftest import FIXTURES, pg_database, run_hearth
from web_helpers import TOKEN, Server, make_app

TOOLS = {"search_memory", "add_memory", "update_memory", "forget_memory", "get_persona", "get_letter"}
CARD = FIXTURES / "character-cards"


def _data(result) -> dict:
    assert not result.is_error, result.content
    return result.structured_content if result.structured_content is not None else json.loads(result.content[0].text)


def _found(result, memory_id: int) -> bool:
    return any(r["kind"] == "memory" and r["id"] == memory_id for r in _data(result)["results"])


@pytest.fixture
def stocked_db(tmp_path):
    """A store with a real character card (a companion, a persona) imported."""
    db = tmp_path / "hearth.db"
    cards = sorted(p for p in CARD.rglob("*") if p.suffix in (".json", ".png"))
    assert cards, "no character card fixtures"
    done = run_hearth("import", str(cards[0]), db=db)
    assert done.returncode == 0, done.stderr
    return db


def _stdio(db, *extra: str) -> StdioServerParameters:
    env = {**os.environ, "HEARTH_DB": str(db)}
    return StdioServerParameters(command=sys.executable, args=["-m", "hearth.cli", "mcp", *extra], env=env)


async def _memory_round_trip(client: Client) -> None:
    names = {t.name for t in (await client.list_tools()).tools}
    assert TOOLS <= names

    zh = _data(await client.call_tool("add_memory", {"text": "我的猫叫小白，是一只橘猫。", "kind": "person"}))
    en = _data(await client.call_tool("add_memory", {"text": "Mia is allergic to peanuts.", "importance": 0.9}))
    assert zh["source"].startswith("added by MCP client ") and "an MCP client" not in zh["source"]
    assert zh["kind"] == "person" and en["importance"] == 0.9

    assert _found(await client.call_tool("search_memory", {"query": "小白"}), zh["id"])
    assert _found(await client.call_tool("search_memory", {"query": "peanuts allergy", "include_messages": False}),
                  en["id"])  # fmt: skip

    fix = {"memory_id": en["id"], "text": "Mia is allergic to cashews."}
    fixed = _data(await client.call_tool("update_memory", fix))
    assert fixed["text"] == "Mia is allergic to cashews."
    assert _found(await client.call_tool("search_memory", {"query": "cashews", "include_messages": False}), en["id"])

    listed = {str(r.uri) for r in (await client.list_resources()).resources}
    assert {"hearth://memories", f"hearth://memories/{zh['id']}"} <= listed
    one = json.loads((await client.read_resource(f"hearth://memories/{zh['id']}")).contents[0].text)
    assert one["text"] == "我的猫叫小白，是一只橘猫。"

    assert _data(await client.call_tool("forget_memory", {"memory_id": zh["id"]})) == {"forgotten": zh["id"]}
    assert not _found(await client.call_tool("search_memory", {"query": "小白"}), zh["id"])
    assert not _found(await client.call_tool("search_memory", {"query": "我的猫叫什么"}), zh["id"])
    everything = json.loads((await client.read_resource("hearth://memories")).contents[0].text)
    assert zh["id"] not in {m["id"] for m in everything} and en["id"] in {m["id"] for m in everything}

    gone = await client.call_tool("forget_memory", {"memory_id": zh["id"]})
    assert gone.is_error and f"There is no memory {zh['id']}" in gone.content[0].text
    bad = await client.call_tool("add_memory", {"text": "x", "kind": "gossip"})
    assert bad.is_error and "Unknown memory kind" in bad.content[0].text

    persona = _data(await client.call_tool("get_persona", {}))
    assert persona["persona"]["name"] and persona["text"]
    letter = _data(await client.call_tool("get_letter", {"tokens": 600}))
    assert 0 < letter["tokens"] <= 600 and "cashews" in letter["text"]


def test_stdio_client_adds_searches_and_forgets(stocked_db):
    async def main() -> None:
        async with Client(_stdio(stocked_db)) as client:
            await _memory_round_trip(client)

    anyio.run(main)
    listed = run_hearth("memory", "list", "--json", db=stocked_db)
    by_client = [m for m in json.loads(listed.stdout) if m["source"].startswith("added by MCP client")]
    assert [m["text"] for m in by_client] == ["Mia is allergic to cashews."]


@pytest.mark.parametrize("engine", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_streamable_http_behind_the_serve_token(tmp_path, engine, request):
    location = pg_database(request.getfixturevalue("pg_server")) if engine == "postgresql" else None
    app, _, _ = make_app(tmp_path, location=location)
    with Server(app) as server:
        url = server.url + "/mcp"
        assert httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).status_code == 401

        async def main() -> None:
            import httpx2
            from mcp.client.streamable_http import streamable_http_client

            bearer = httpx2.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})
            async with bearer, Client(streamable_http_client(url, http_client=bearer)) as client:
                await _memory_round_trip(client)

        anyio.run(main)


def test_letter_over_http(tmp_path):
    from hearth.store.memories import add_memory
    from web_helpers import signed_in

    app, store, _ = make_app(tmp_path, companions=("小暖",))
    add_memory(store, "你的猫叫小白。", kind="person", companion_id=1, importance=0.9)
    client = signed_in(app)
    body = client.get("/v1/letter?tokens=300&lang=zh&target=chatgpt").json()
    assert body["object"] == "hearth.letter" and 0 < body["tokens"] <= 300 and "小白" in body["text"]
    assert body["lang"] == "zh" and body["target"] == "chatgpt" and body["memory_ids"] == [1]
    text = client.get("/v1/letter?tokens=300&format=text")
    assert text.headers["content-type"].startswith("text/plain") and "小白" in text.text
    assert client.get("/v1/letter?tokens=lots").status_code == 400
    bad = client.get("/v1/letter?target=myspace").json()["error"]["message"]
    assert "Unknown letter target" in bad and "Use one of" in bad
    assert client.get("/v1/letter?companion=nobody").status_code == 404
    from fastapi.testclient import TestClient

    assert TestClient(app).get("/v1/letter").status_code == 401


def test_building_the_server_keeps_library_logs_quiet(tmp_path):
    """The MCP SDK configures the root logger when a server is built; at its default level every HTTP
    request httpx made (and the session manager's start) was printed under `hearth serve`."""
    code = (
        "import logging\n"
        "from hearth.server.mcp_server import build_mcp\n"
        "from hearth.store import Store\n"
        f"build_mcp(Store({str(tmp_path / 'h.db')!r}))\n"
        "logging.getLogger('httpx').info('HTTP Request: POST http://127.0.0.1/v1/chat/completions')\n"
        "logging.getLogger('mcp.server.streamable_http_manager').info('StreamableHTTP session manager started')\n"
        "logging.getLogger('hearth').warning('a real warning')\n"
    )
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "HTTP Request" not in proc.stderr and "session manager" not in proc.stderr
    assert "a real warning" in proc.stderr
