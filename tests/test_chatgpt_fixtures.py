"""The real ChatGPT exports in ../shared/fixtures, checked against an independent walk of the JSON."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import sqlalchemy as sa

from conftest import CHATGPT_FIXTURES
from hearth.ingest import import_path
from hearth.store import schema
from hearth.store.queries import list_conversations

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL

pytestmark = pytest.mark.skipif(not CHATGPT_FIXTURES, reason="../shared/fixtures not present")


def independent_walk(folder):
    """Count what the export holds, reading it with the stdlib and the node `parent` links only."""
    convs = []
    for f in sorted(folder.glob("conversations*.json")):
        convs += json.loads(f.read_text(encoding="utf-8"))
    out = {"conversations": len(convs), "nodes": 0, "messages": 0, "leaves": 0, "visible": {}, "served": {},
           "requested": {}}  # fmt: skip
    for c in convs:
        mapping = c["mapping"]
        cid = c.get("conversation_id") or c.get("id")

        def asked(nid, mapping=mapping, conv=c):
            """The model asked for at this node: its own slug, else the nearest ancestor's, else the
            conversation's default."""
            seen = set()
            while nid is not None and nid in mapping and nid not in seen:
                seen.add(nid)
                meta = (mapping[nid].get("message") or {}).get("metadata") or {}
                slug = meta.get("requested_model_slug") or meta.get("default_model_slug")
                if slug:
                    return slug
                nid = mapping[nid].get("parent")
            return conv.get("default_model_slug")

        out["nodes"] += len(mapping)
        has_child = {n.get("parent") for n in mapping.values()}
        for nid, node in mapping.items():
            if node.get("message") is not None:
                out["messages"] += 1
                if nid not in has_child:
                    out["leaves"] += 1
                slug = (node["message"].get("metadata") or {}).get("model_slug")
                if slug and node["message"]["author"]["role"] == "assistant":
                    out["served"][(cid, nid)] = slug
                if node["message"]["author"]["role"] == "assistant":
                    out["requested"][(cid, nid)] = asked(nid)
        path, node = [], c.get("current_node")
        while node is not None and node in mapping:
            path.append(node)
            node = mapping[node].get("parent")
        out["visible"][cid] = set(path)
    return out


@pytest.mark.parametrize("folder", CHATGPT_FIXTURES, ids=lambda p: p.name)
def test_fixture_counts_tree_and_models(store, folder):
    truth = independent_walk(folder)
    summary = import_path(store, folder)
    assert summary.status == "done"
    assert summary.result.conversations_added == truth["conversations"]
    assert summary.result.messages_added == truth["nodes"]

    with store.engine.connect() as conn:
        m, c = schema.messages.c, schema.conversations.c
        rows = conn.execute(
            sa.select(c.source_id, m.source_id, m.role, m.visible, m.served_model, m.requested_model).join(
                schema.conversations, c.id == m.conversation_id
            )
        ).all()
    assert sum(1 for r in rows if r.role is not None) == truth["messages"]
    visible = {}
    for r in rows:
        if r.visible:
            visible.setdefault(r[0], set()).add(r[1])
    for cid, path in truth["visible"].items():
        assert visible.get(cid, set()) == path, f"visible branch of {cid}"
    served = {(r[0], r[1]): r.served_model for r in rows if r.role == "assistant" and r.served_model}
    assert served == truth["served"]
    requested = {(r[0], r[1]): r.requested_model for r in rows if r.role == "assistant"}
    assert requested == truth["requested"]  # per message: own slug, else an ancestor's, else the conversation's
    leaves = sum(r.branches for r in list_conversations(store, limit=10_000))
    assert leaves == truth["leaves"]


def test_requested_model_from_conversation_and_message(store):
    folder = next(p for p in CHATGPT_FIXTURES if p.name.startswith("gypadham"))
    import_path(store, folder)
    with store.engine.connect() as conn:
        m = schema.messages.c
        requested = Counter(conn.execute(sa.select(m.requested_model).where(m.role == "assistant")).scalars())
    assert requested == {"auto": sum(requested.values())}


def test_old_export_without_slugs_has_unknown_request(store):
    folder = next(p for p in CHATGPT_FIXTURES if p.name.startswith("exposir"))
    import_path(store, folder)
    with store.engine.connect() as conn:
        m = schema.messages.c
        rows = conn.execute(sa.select(m.requested_model, m.served_model).where(m.role == "assistant")).all()
    assert all(r.requested_model is None for r in rows)
    assert any(r.served_model is None for r in rows), "Jan 2023 conversations carry no model_slug"


def test_every_content_type_gives_text(store):
    for folder in CHATGPT_FIXTURES:
        import_path(store, folder)
    with store.engine.connect() as conn:
        m = schema.messages.c
        rows = conn.execute(
            sa.select(m.content_type, sa.func.count(), sa.func.sum(sa.case((m.text != "", 1), else_=0)))
            .where(m.role.is_not(None))
            .group_by(m.content_type)
        ).all()
    by_type = {r[0]: (r[1], r[2]) for r in rows}
    for ctype in (
        "code",
        "execution_output",
        "tether_browsing_display",
        "tether_quote",
        "system_error",
        "user_editable_context",
    ):
        total, with_text = by_type[ctype]
        assert with_text >= total * 0.9, ctype


def test_raw_source_is_kept_verbatim(store):
    folder = next(p for p in CHATGPT_FIXTURES if p.name.startswith("max0240"))
    import_path(store, folder)
    original = json.loads((folder / "conversations.json").read_text())
    node = original[0]["mapping"][original[0]["current_node"]]
    with store.engine.connect() as conn:
        m = schema.messages.c
        raw = conn.execute(sa.select(m.raw).where(m.source_id == node["id"])).scalar_one()
    assert json.loads(raw) == node


def test_reimport_adds_nothing(store):
    for folder in CHATGPT_FIXTURES:
        import_path(store, folder)
    with store.engine.connect() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar_one()
    for folder in CHATGPT_FIXTURES:
        summary = import_path(store, folder)
        assert summary.status == "already imported"
        assert summary.result.messages_added == 0
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(schema.messages)).scalar_one() == before


def test_split_export_sidecar_is_kept_not_parsed(store):
    folder = next(p for p in CHATGPT_FIXTURES if p.name.startswith("j1jaewon"))
    summary = import_path(store, folder)
    assert summary.result.conversations_added == 2
    assert summary.result.files_added == 1
    with store.engine.connect() as conn:
        a = schema.attachments.c
        paths = conn.execute(sa.select(a.archive_path).where(a.archive_path.is_not(None))).scalars().all()
    assert paths == ["conversation_asset_file_names.json"]
