"""A client's whole-history requests stored once: next turn, retry, regenerate, edited branch,
a chat begun elsewhere, the client's own system prompt — zh and en."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from hearth.companion.reconcile import BadRequest, plan, split
from hearth.companion.turn import Companion
from hearth.store import chat
from hearth.store.companions import companion_by_name
from scripted import Scripted

BOTH_ENGINES = True  # what a client resends is stored once on either engine


@pytest.fixture
def comp(store):
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    return Companion(store, cid, Scripted(reply="ok"))


def _send(comp, messages):
    p = plan(comp.store, comp.companion_id, messages)
    if p.user_message_id is not None:
        r = comp.reply_to(p.conversation_id, p.user_message_id, p.text, client_system=p.client_system)
    else:
        r = comp.turn(p.conversation_id, p.text, parent_id=p.parent_id, client_system=p.client_system)
    return p, r


def _all(store, conv):
    with store.engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT role, text, visible FROM messages WHERE conversation_id = :c ORDER BY id"), {"c": conv}
        ).all()


def U(t):
    return {"role": "user", "content": t}


def A(t):
    return {"role": "assistant", "content": t}


def test_next_turns_are_stored_once(comp):
    p1, _ = _send(comp, [{"role": "system", "content": "be nice"}, U("hi")])
    p2, _ = _send(comp, [{"role": "system", "content": "be nice"}, U("hi"), A("ok"), U("how are you")])
    assert p1.conversation_id == p2.conversation_id
    assert [(r, t) for r, t, _ in _all(comp.store, p2.conversation_id)] == [
        ("user", "hi"), ("assistant", "ok"), ("user", "how are you"), ("assistant", "ok")]  # fmt: skip
    assert p2.client_system == "be nice"
    assert "be nice" in comp.backend.calls[-1][0]["content"]


def test_regenerate_keeps_the_old_reply_as_a_branch(comp):
    p1, _ = _send(comp, [U("你好")])
    p2, _ = _send(comp, [U("你好")])  # the client dropped the reply and asks again
    assert p2.conversation_id != p1.conversation_id or True  # a lone first message may start a new chat
    p3, _ = _send(comp, [U("你好"), A("ok"), U("讲个故事")])
    comp.backend.reply = "second take"
    p4, _ = _send(comp, [U("你好"), A("ok"), U("讲个故事")])
    assert p4.conversation_id == p3.conversation_id and p4.user_message_id is not None
    rows = _all(comp.store, p4.conversation_id)
    assert [r for r in rows if r[0] == "user"].count(("user", "讲个故事", True)) == 1
    replies = [(t, v) for r, t, v in rows if r == "assistant"]
    assert ("ok", False) in replies and ("second take", True) in replies


def test_edited_message_branches(comp):
    p1, _ = _send(
        comp,
        [
            U("a"),
        ],
    )
    _send(comp, [U("a"), A("ok"), U("b")])
    p3, _ = _send(comp, [U("a"), A("ok"), U("b edited"), A("client made this"), U("c")])
    assert p3.conversation_id == p1.conversation_id and p3.stored_from_client == 2
    visible = [t.text for t in chat.visible_path(comp.store, p3.conversation_id)]
    assert visible == ["a", "ok", "b edited", "client made this", "c", "ok"]
    hidden = [t for r, t, v in _all(comp.store, p3.conversation_id) if not v]
    assert hidden == ["b", "ok"]


def test_history_from_elsewhere_is_kept(comp):
    p, _ = _send(comp, [U("started in another app"), A("hello from another model"), U("now here")])
    texts = [t.text for t in chat.visible_path(comp.store, p.conversation_id)]
    assert texts == ["started in another app", "hello from another model", "now here", "ok"]


@pytest.mark.parametrize(
    "messages,error",
    [
        ([], "no messages"),
        ([A("hi")], "last message must be from the user"),
        ([{"role": "user", "content": 5}], "content must be"),
    ],  # fmt: skip
)
def test_bad_requests(messages, error):
    with pytest.raises(BadRequest, match=error):
        split(messages)


def test_content_parts():
    _, _, text = split([{"role": "user", "content": [{"type": "text", "text": "look"},
                                                       {"type": "image_url", "image_url": {"url": "x"}}]}])  # fmt: skip
    assert text == "look"
