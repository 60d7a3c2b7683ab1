"""One companion turn against a scripted backend: storage, verification marks, fallback, failures,
memory in and memory out, and the context budget. (The real backends are tested in test_backends*.)"""

from __future__ import annotations

import pytest

from hearth.backends.base import (
    MISMATCH,
    VERIFIED,
)
from hearth.companion.prompt import assemble
from hearth.companion.turn import Companion
from hearth.errors import BackendUnreachable
from hearth.memory.tokens import estimate_tokens
from hearth.persona.card import Persona
from hearth.store import chat
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory, get_memory, list_memories, update_memory
from scripted import Scripted

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


@pytest.fixture
def mochi(store):
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    return cid


def test_turn_stores_both_messages_with_models(store, mochi):
    comp = Companion(store, mochi, Scripted(reply="Hi! Good to see you."))
    conv = comp.new_conversation()
    seen: list[str] = []
    r = comp.turn(conv, "hello", on_delta=seen.append)
    assert "".join(seen) == r.text == "Hi! Good to see you."
    assert r.flagged is None and r.error is None
    path = chat.visible_path(store, conv)
    assert [(t.role, t.text) for t in path] == [("user", "hello"), ("assistant", "Hi! Good to see you.")]
    assert path[1].requested_model == path[1].served_model == "smollm2"
    meta = chat.message_meta(store, r.reply_message_id)
    assert meta["verification"]["status"] == VERIFIED and meta["backend"] == "local"
    assert {p["name"] for p in meta["prompt"]} >= {"persona and warmth", "recent turns", "memories"}


def test_second_turn_sees_the_first(store, mochi):
    backend = Scripted(reply="Sure.")
    comp = Companion(store, mochi, backend)
    conv = comp.new_conversation()
    comp.turn(conv, "first message")
    comp.turn(conv, "second message")
    sent = backend.calls[-1]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "first message" and sent[-1]["content"] == "second message"


def test_mismatch_is_marked(store, mochi):
    comp = Companion(store, mochi, Scripted(model="gpt-4o", served="gpt-4o-mini", status=MISMATCH))
    r = comp.turn(comp.new_conversation(), "hi")
    assert r.flagged and "mismatch" in r.flagged
    [_, reply] = chat.visible_path(store, r.conversation_id)
    assert (reply.requested_model, reply.served_model) == ("gpt-4o", "gpt-4o-mini")


def test_failure_keeps_the_message_and_says_why(store, mochi):
    comp = Companion(store, mochi, Scripted(fail=BackendUnreachable("Nothing answered at http://127.0.0.1:9.")))
    conv = comp.new_conversation()
    r = comp.turn(conv, "are you there?")
    assert r.reply_message_id is None and r.error is not None and "Nothing answered" in r.error.message
    assert [t.text for t in chat.visible_path(store, conv)] == ["are you there?"]


def test_fallback_only_when_listed_and_marked(store, mochi):
    down = Scripted(name="cloud", model="gpt-4o", fail=BackendUnreachable("down"))
    local = Scripted(name="local", model="smollm2", reply="I'm here.")
    comp = Companion(store, mochi, down, fallbacks=[local])
    r = comp.turn(comp.new_conversation(), "hi")
    assert r.text == "I'm here." and r.backend == "local"
    assert "fallback local because cloud failed" in r.flagged
    [_, reply] = chat.visible_path(store, r.conversation_id)
    assert (reply.requested_model, reply.served_model) == ("gpt-4o", "smollm2")
    assert chat.message_meta(store, r.reply_message_id)["failures"] == [["cloud", "down"]]


def test_broken_stream_keeps_what_arrived(store, mochi):
    comp = Companion(store, mochi, Scripted(reply="one two three four", fail_after=2),
                     fallbacks=[Scripted(name="never")])  # fmt: skip
    r = comp.turn(comp.new_conversation(), "count")
    assert r.text == "one two" and r.error is not None
    [_, reply] = chat.visible_path(store, r.conversation_id)
    assert reply.status == "interrupted" and reply.text == "one two"


def test_memory_in_the_prompt_and_memory_learned(store, mochi):
    add_memory(store, "Their cat is called Tofu", kind="person", companion_id=mochi, importance=0.7)
    pinned = add_memory(store, "They are vegetarian", kind="preference", companion_id=mochi)
    update_memory(store, pinned, pinned=True)
    backend = Scripted(reply="Tofu is lovely.")
    comp = Companion(store, mochi, backend)
    r = comp.turn(comp.new_conversation(), "What is my cat called? Also, I moved to Hangzhou last week.")
    system = backend.calls[0][0]["content"]
    assert "Tofu" in system and "vegetarian" in system
    assert r.memories_added >= 1
    learned = [m for m in list_memories(store, companion_id=mochi) if "Hangzhou" in m.text]
    assert learned and learned[0].source_message_ids == [r.user_message_id]
    assert get_memory(store, pinned).used_count == 1


def test_chinese_turn(store, mochi):
    add_memory(store, "猫叫小白", kind="person", companion_id=mochi)
    backend = Scripted(reply="小白最可爱了！")
    comp = Companion(store, mochi, backend)
    comp.turn(comp.new_conversation(), "你还记得我的猫叫什么吗？我搬到杭州了。")
    assert "小白" in backend.calls[0][0]["content"]
    assert any("杭州" in m.text for m in list_memories(store, companion_id=mochi))


def test_small_context_keeps_the_core_and_drops_examples_first():
    persona = Persona(
        name="Mochi", voice="Short and sweet.", example_dialogue="<START>\n{{user}}: hi\n{{char}}: " + "la " * 400
    )
    recent = [chat.Turn(i, "user" if i % 2 else "assistant", f"turn {i} " + "word " * 30, None) for i in range(30)]
    p = assemble(
        persona, "hello", recent=recent, memories=[], context_tokens=600, reply_tokens=128, count=estimate_tokens
    )
    parts = {x.name: x for x in p.parts}
    assert parts["persona and warmth"].included and not parts["example dialogue"].included
    assert 0 < len(p.messages) - 2 < 30
    assert p.messages[-1] == {"role": "user", "content": "hello"}
    assert p.tokens <= 600 - 128
    assert "Mochi" in p.messages[0]["content"]


def test_warmth_changes_prompt_and_sampling():
    persona = Persona(name="Mochi")
    cold = assemble(persona, "hi", recent=[], memories=[], context_tokens=4096, reply_tokens=256,
                    count=estimate_tokens, warmth=0)  # fmt: skip
    warm = assemble(persona, "hi", recent=[], memories=[], context_tokens=4096, reply_tokens=256,
                    count=estimate_tokens, warmth=100)  # fmt: skip
    assert cold.temperature < warm.temperature
    assert "No pet names" in cold.messages[0]["content"] and "pet names" in warm.messages[0]["content"]
    assert "honesty" in cold.messages[0]["content"] and "honesty" in warm.messages[0]["content"]


def test_persona_is_read_once_a_turn_and_afresh_the_next(store, mochi, monkeypatch):
    """A turn asks for the persona in several places; it reads it from the store once, and an
    edit made between turns speaks in the next reply."""
    from hearth.companion import turn as turn_module
    from hearth.store import personas

    reads = []
    real = turn_module.base_persona
    monkeypatch.setattr(turn_module, "base_persona", lambda *a: reads.append(1) or real(*a))
    comp = Companion(store, mochi, Scripted(reply="Hello."))
    conv = comp.new_conversation()
    comp.turn(conv, "hi")
    assert len(reads) == 1
    personas.save(store, mochi, {**comp.persona.__dict__, "name": "Mochi the Second"}, "edit")
    r = comp.turn(conv, "still there?")
    assert chat.visible_path(store, conv)[-1].author_name == "Mochi the Second"
    assert r.reply_message_id is not None
