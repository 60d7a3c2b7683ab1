"""Context in retrieval: a message's vector carries the turn it answers, a turn next to a match
competes too, and a memory stands in for the messages it cites (zh and en)."""

from __future__ import annotations

import hashlib

import pytest
import sqlalchemy as sa

from hearth.memory.embed import default_embedder
from hearth.memory.retrieve import Hit, embed_pending, pack, retrieve
from hearth.records import Conversation, Message
from hearth.store import chat, schema, vectors

BOTH_ENGINES = True

T0 = 1_760_000_000.0


@pytest.fixture(scope="module")
def embedder():
    return default_embedder()


def _import(store, source_id, turns, *, hidden=()):
    msgs, parent = [], None
    for i, (role, author, text) in enumerate(turns):
        sid = f"{source_id}-{i}"
        msgs.append(Message(sid, parent, role, text=text, author_name=author, created_at=T0 + i * 60, visible=True,
                            hidden=i in hidden, raw={"text": text}))  # fmt: skip
        parent = sid
    conv = Conversation("test", source_id, title=source_id, created_at=T0, messages=msgs)
    digest = hashlib.sha256(repr(turns).encode()).hexdigest()
    state = store.begin_import(digest, source_id, "test", 0)
    store.write_batch(state.id, [conv], 1)
    with store.engine.connect() as conn:
        m = schema.messages.c
        return dict(conn.execute(sa.select(m.source_id, m.id).where(m.source_id.like(f"{source_id}-%"))).all())


def _vector_ids(store):
    e = schema.embeddings.c
    with store.engine.connect() as conn:
        return set(conn.execute(sa.select(e.owner_id).where(e.owner_kind == "message")).scalars())


def test_a_message_passage_carries_the_turn_it_answers(store):
    ids = _import(store, "kids", [
        ("user", "Caroline", "How are your children doing these days?"),
        ("assistant", "Melanie", "They're tough kids, all three of them."),
        ("tool", None, "ChatGPTAgentToolException: try again later"),
        ("user", "Caroline", "我今天去了杭州西湖"),
        ("assistant", "Melanie", "风景一定很美"),
    ], hidden={3})  # fmt: skip
    passages = dict(vectors.missing(store, "message", "m"))
    assert passages[ids["kids-1"]] == (
        "Caroline: How are your children doing these days?\nMelanie: They're tough kids, all three of them."
    )
    assert passages[ids["kids-0"]] == "Caroline: How are your children doing these days?", "the first turn stands alone"
    assert ids["kids-2"] not in passages, "tool output is never embedded"
    assert ids["kids-3"] not in passages, "a hidden message is never embedded"
    assert passages[ids["kids-4"]] == "Melanie: 风景一定很美", "nor quoted by the turn after it"
    assert vectors.count_missing(store, "message", "m") == len(passages)


def test_a_long_turn_before_is_cut_to_its_end(store):
    ids = _import(store, "long", [("user", None, "x" * 5000 + " the end"), ("assistant", None, "I see.")])
    passage = dict(vectors.missing(store, "message", "m"))[ids["long-1"]]
    assert passage.endswith(" the end\nI see.") and len(passage) == vectors.PARENT_CHARS + len("\nI see.")


def test_changed_text_drops_the_vectors_that_quote_it(store, embedder):
    ids = _import(store, "edit", [("user", None, "My sister lives in Chengdu"), ("assistant", None, "Nice!"),
                                  ("user", None, "Anyway"), ("assistant", None, "Sure")])  # fmt: skip
    embed_pending(store, embedder, kinds=("message",))
    assert _vector_ids(store) == set(ids.values())
    chat.update_message(store, ids["edit-0"], text="My sister moved to Shenzhen")
    assert _vector_ids(store) == {ids["edit-2"], ids["edit-3"]}, "the turn and its reply are embedded again"
    assert dict(vectors.missing(store, "message", embedder.name))[ids["edit-1"]].startswith(
        "My sister moved to Shenzhen\n"
    )
    embed_pending(store, embedder, kinds=("message",))
    assert _vector_ids(store) == set(ids.values())


def test_a_reimported_edit_drops_the_vectors_that_quote_it(store, embedder):
    turns = [("user", None, "我养了一只叫豆豆的狗"), ("assistant", None, "豆豆好可爱"), ("user", None, "是啊")]
    ids = _import(store, "re", turns)
    embed_pending(store, embedder, kinds=("message",))
    _import(store, "re", [turns[0], ("assistant", None, "豆豆是什么品种？"), turns[2]])
    assert _vector_ids(store) == {ids["re-0"]}


def test_the_reply_next_to_a_match_is_recalled_with_why(store, embedder):
    def noise(start):
        pairs = [(f"Note {i} about groceries and the weather", "Okay") for i in range(start, start + 6)]
        return [turn for said, answer in pairs for turn in (("user", None, said), ("assistant", None, answer))]

    ids = _import(store, "ctx", [
        *noise(0),
        ("user", "Caroline", "How is your son doing at school?"),
        ("assistant", "Melanie", "He won the science fair with a volcano!"),
        *noise(6),
    ])  # fmt: skip
    embed_pending(store, embedder)
    asked, answer = ids["ctx-12"], ids["ctx-13"]
    hits = retrieve(store, "What did Melanie's son win?", embedder=embedder, budget_tokens=60)
    by_id = {h.id: h for h in hits if h.kind == "message"}
    assert asked in by_id and answer in by_id, [h.text for h in hits]
    assert {"of": asked, "side": "reply"}.items() <= by_id[answer].why["context"][0].items()
    plain = retrieve(store, "What did Melanie's son win?", embedder=embedder, budget_tokens=60, context=False)
    assert all("context" not in h.why for h in plain)


def _hit(kind, i, tokens, cites=()):
    return Hit(kind, i, f"{kind} {i}", 1.0, tokens, source_message_ids=list(cites))


def test_a_memory_takes_the_place_of_the_messages_it_cites():
    hits = [_hit("message", 1, 30), _hit("message", 2, 30), _hit("message", 3, 30), _hit("memory", 9, 10, [2, 3])]
    got = pack(hits, budget_tokens=80)
    assert [(h.kind, h.id) for h in got] == [("message", 1), ("memory", 9)], "its tokens freed, its place taken"
    assert [(h.kind, h.id) for h in pack(hits, 80, limit=2)] == [("message", 1), ("message", 2)]
    assert [(h.kind, h.id) for h in pack([*hits, _hit("message", 4, 30)], 80)] == [
        ("message", 1), ("memory", 9), ("message", 4)
    ]  # fmt: skip
    assert [(h.kind, h.id) for h in pack([hits[3], *hits[:3]], 80)] == [("memory", 9), ("message", 1)]
