"""A letter whose memories leave room fills it with the history's most telling moments: more room,
more moments, never over the budget, spread over the history, dated and in time order, never tool
output, hidden turns, repeats or a turn a letter memory already carries (zh and en)."""

from __future__ import annotations

import hashlib
import re

import pytest
import sqlalchemy as sa

from hearth.memory import moments
from hearth.memory.letter import build_letter
from hearth.memory.tokens import estimate_tokens
from hearth.persona.card import Persona
from hearth.records import Conversation, Message
from hearth.store import personas
from hearth.store import schema as s
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory

BOTH_ENGINES = True

DAY = 86400.0
T0 = 1_700_000_000.0

EVENTS_EN = [
    "I went to the pottery workshop on Saturday and made a lopsided blue bowl for my grandmother",
    "My brother Tomas finally passed his driving test after failing it three times",
    "We adopted a rescue greyhound called Pepper from the shelter near the harbour",
    "I started volunteering at the hospice on Thursday evenings, reading poetry to the residents",
    "The landlord raised our rent again so I'm looking at flats in Leith",
    "I ran the Edinburgh half marathon in two hours and four minutes, my knees hated it",
]
EVENTS_ZH = [
    "我上周末去苏州参加了表姐的婚礼，还当了伴娘",
    "我终于考过了注册会计师的最后一门，太不容易了",
    "我和妈妈一起去黄山看日出，凌晨三点就起床爬山",
]
CHATTER = ["haha yes", "ok sounds good", "lol same", "good night!", "嗯嗯", "好的呀"]


def _conv(n: int, turns: list[tuple[str, str]], *, hidden=(), tool=()) -> Conversation:
    msgs, parent = [], None
    for i, (role, text) in enumerate(turns):
        sid = f"c{n}-{i}"
        msgs.append(Message(sid, parent, "tool" if i in tool else role, text=text, created_at=T0 + n * 7 * DAY + i,
                            visible=True, hidden=i in hidden, raw={"t": text}))  # fmt: skip
        parent = sid
    return Conversation("test", f"c{n}", title=f"c{n}", created_at=T0 + n * 7 * DAY, messages=msgs, companion="Mira")


@pytest.fixture
def mira(store):
    """Twelve weekly conversations: chatter around one real event each, a tool error, a hidden turn."""
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mira")
    personas.save(store, cid, Persona(name="Mira", language="en", voice="Warm and dry.").model_dump(), "edited")
    events = EVENTS_EN + EVENTS_ZH + ["TOOL-ERROR try again later", "HIDDEN-SECRET my old bank pin", EVENTS_EN[0]]
    convs = []
    for n, event in enumerate(events):
        turns = [("user", CHATTER[n % 6]), ("assistant", "Tell me everything."), ("user", event),
                 ("assistant", "That sounds like a lot."), ("user", CHATTER[(n + 1) % 6])]  # fmt: skip
        convs.append(_conv(n, turns, tool={2} if "TOOL" in event else (), hidden={2} if "HIDDEN" in event else ()))
    state = store.begin_import(hashlib.sha256(b"mira").hexdigest(), "mira", "test", 0)
    store.write_batch(state.id, convs, len(convs))
    with store.engine.connect() as conn:
        m = s.messages.c
        ids = dict(conn.execute(sa.select(m.source_id, m.id)).all())
    add_memory(store, "Has a brother named Tomas", companion_id=cid, importance=0.7, source_message_ids=[ids["c1-2"]])
    return cid, ids


def _moment_lines(letter) -> list[str]:
    return [i.text for i in letter.items if i.section == "moments"]


@pytest.mark.parametrize("target", ["generic", "chatgpt", "claude"])
def test_room_is_filled_with_moments_within_the_budget(store, mira, target):
    cid, _ = mira
    sizes = []
    for budget in (150, 300, 2000):
        letter = build_letter(store, cid, budget, target=target)
        assert letter.tokens <= budget and estimate_tokens(letter.text) == letter.tokens
        assert letter.moments == len(_moment_lines(letter))
        for line in _moment_lines(letter):
            assert line in letter.text
        sizes.append(letter.moments)
    assert sizes[0] <= sizes[1] <= sizes[2] and sizes[2] >= 8, sizes
    text = build_letter(store, cid, 2000, target=target).text
    for event in EVENTS_EN[2:] + EVENTS_ZH:
        assert event in text, f"an event the memories do not carry is in the letter: {event}"


def test_moments_are_dated_in_time_order_and_say_who_spoke(store, mira):
    cid, _ = mira
    letter = build_letter(store, cid, 2000)
    lines = _moment_lines(letter)
    days = [re.match(r"- (\d{4}-\d\d-\d\d), (I said|you said): ", line).group(1) for line in lines]
    assert days == sorted(days)
    assert "## Moments from our conversations" in letter.text
    zh = build_letter(store, cid, 2000, lang="zh")
    assert "## 我们聊过的一些时刻" in zh.text
    assert any(re.match(r"- \d{4}年\d{1,2}月\d{1,2}日，我说：我上周末去苏州", line) for line in _moment_lines(zh))


def test_never_tool_output_hidden_turns_repeats_or_what_a_memory_carries(store, mira):
    cid, ids = mira
    text = build_letter(store, cid, 4000).text
    assert "TOOL-ERROR" not in text and "HIDDEN-SECRET" not in text
    assert text.count("lopsided blue bowl") == 1, "the same event said twice is one moment"
    assert "Has a brother named Tomas" in text and "passed his driving test" not in text, (
        "the turn a letter memory cites is carried by that memory"
    )
    assert "haha yes" not in text and "嗯嗯" not in text, "chatter says nothing"


def test_content_words_in_both_languages():
    assert moments.content_words("我上周末去苏州") == {"我上", "上周", "周末", "末去", "去苏", "苏州"}
    assert moments.content_words("I ran 21 km in Edinburgh!") == {"ran", "edinburgh"}


def test_one_conversation_cannot_fill_the_letter(store):
    """Diminishing returns per conversation: equally telling turns, six in one conversation and
    one in each of three others, give the first picks to four conversations, not one."""
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mira")
    personas.save(store, cid, Persona(name="Mira", language="en").model_dump(), "edited")
    words = zip(["glass", "salt", "clock", "tram", "paper", "radio", "whale", "desert", "volcano"],
                ["Oslo", "Lima", "Kyiv", "Riga", "Quito", "Hanoi", "Tromsø", "Cusco", "Dakar"],
                ["red", "tiny", "odd", "huge", "torn", "gold", "blue", "wet", "old"], strict=True)  # fmt: skip
    turns = [("user", f"I visited the {w} museum in {c} and bought a {x} postcard") for w, c, x in words]
    state = store.begin_import(hashlib.sha256(b"spread").hexdigest(), "spread", "test", 0)
    convs = [_conv(0, turns[:6]), _conv(1, turns[6:7]), _conv(2, turns[7:8]), _conv(3, turns[8:])]
    store.write_batch(state.id, convs, 4)
    picked = [m for m, _ in zip(moments.rank(store, cid), range(4), strict=False)]
    assert len({m.conversation_id for m in picked}) == 4, [m.text for m in picked]
