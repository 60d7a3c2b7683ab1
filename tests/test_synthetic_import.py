"""Generated exports (branches, zh/en, images, tools, reroutes) against an independent reading."""

from __future__ import annotations

import json
import zipfile
from collections import Counter

import sqlalchemy as sa

from hearth.audit import model_family, run_audit
from hearth.ingest import import_path
from hearth.store import schema
from hearth.store.queries import get_conversation, list_conversations, stats

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


def load(zip_path):
    with zipfile.ZipFile(zip_path) as zf:
        return (
            json.loads(zf.read("conversations.json")),
            json.loads(zf.read("message_feedback.json")),
            [n for n in zf.namelist() if n not in ("conversations.json", "chat.html")],
        )


def test_counts_branches_and_files(store, synth_zip):
    convs, feedback, members = load(synth_zip)
    summary = import_path(store, synth_zip)
    nodes = sum(len(c["mapping"]) for c in convs)
    real = sum(1 for c in convs for n in c["mapping"].values() if n["message"] is not None)
    leaves = 0
    for c in convs:
        parents = {n.get("parent") for n in c["mapping"].values()}
        leaves += sum(1 for nid, n in c["mapping"].items() if n["message"] is not None and nid not in parents)
    s = stats(store)
    assert (s["conversations"], s["tree_nodes"], s["messages"]) == (len(convs), nodes, real)
    assert sum(r.branches for r in list_conversations(store, limit=1000)) == leaves
    assert summary.result.feedback_added == len(feedback)
    assert summary.result.files_added == len(members)
    with store.engine.connect() as conn:
        linked = conn.execute(
            sa.select(sa.func.count()).select_from(schema.feedback).where(schema.feedback.c.message_id.is_not(None))
        ).scalar_one()
    assert linked == len(feedback)


def test_every_image_pointer_has_its_file(store, synth_zip):
    import_path(store, synth_zip)
    with store.engine.connect() as conn:
        a = schema.attachments.c
        pointers = conn.execute(sa.select(a.asset_id).where(a.pointer.is_not(None))).scalars().all()
        files = set(conn.execute(sa.select(a.asset_id).where(a.blob_sha256.is_not(None))).scalars())
    assert pointers and set(pointers) <= files


def test_visible_branch_follows_current_node(store, synth_zip):
    convs, _, _ = load(synth_zip)
    import_path(store, synth_zip)
    by_source = {r.source_id: r.id for r in list_conversations(store, limit=1000)}
    checked = 0
    for c in convs:
        conv, messages = get_conversation(store, by_source[c.get("conversation_id") or c["id"]])
        path, node = set(), c["current_node"]
        while node:
            path.add(node)
            node = c["mapping"][node].get("parent")
        assert {m["source_id"] for m in messages if m["visible"]} == path
        checked += 1
    assert checked == len(convs)


def test_audit_matches_an_independent_count(store, synth_zip):
    convs, _, _ = load(synth_zip)
    import_path(store, synth_zip)
    served, mismatched, with_request = Counter(), 0, 0
    for c in convs:
        for n in c["mapping"].values():
            msg = n["message"]
            if not msg or msg["author"]["role"] != "assistant" or not msg["metadata"].get("model_slug"):
                continue
            meta = msg["metadata"]
            slug = meta["model_slug"]
            served[slug] += 1
            req = meta.get("requested_model_slug") or meta.get("default_model_slug") or c.get("default_model_slug")
            if req and req != "auto":
                with_request += 1
                mismatched += model_family(req) != model_family(slug)
    audit = run_audit(store)
    assert dict(audit.total.served) == dict(served)
    assert audit.total.with_request == with_request
    assert audit.total.mismatched == mismatched > 0
    reroutes = [s for s in audit.suspects if "safety" in s["served"] or "mini" in s["served"]]
    assert reroutes, "safety / mini reroutes are listed"
    assert all(s["reason"] for s in audit.suspects)


def test_model_family():
    assert model_family("gpt-4-browsing") == "gpt-4"
    assert model_family("text-davinci-002-render-sha-mobile") == "text-davinci-002-render-sha"
    assert model_family("gpt-4o-2024-08-06") == "gpt-4o"
    assert model_family("gpt-4o-mini") == "gpt-4o-mini"
    assert model_family("gpt-5-safety") != model_family("gpt-5")


def test_attached_files_flush_by_size(store, synth_zip, monkeypatch):
    """Thousands of photos must not pile up in one batch: files flush after BATCH_BYTES."""
    import hearth.ingest as ingest

    calls = []
    real = store.write_batch

    def spy(import_id, items, done):
        calls.append(sum(len(getattr(i, "data", b"")) for i in items))
        return real(import_id, items, done)

    monkeypatch.setattr(ingest, "BATCH_BYTES", 4096)
    monkeypatch.setattr(store, "write_batch", spy)
    summary = ingest.import_path(store, synth_zip)
    assert summary.result.files_added > 3
    with zipfile.ZipFile(synth_zip) as zf:
        biggest_file = max(i.file_size for i in zf.infolist())
    file_batches = [b for b in calls if b]
    assert len(file_batches) > 3
    assert all(b < 4096 + biggest_file for b in file_batches), "a batch holds at most one file past the limit"
