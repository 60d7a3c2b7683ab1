"""Feedback that teaches: ratings (given here or imported) become persona notes in every prompt;
"answer again" and "choose" keep every answer and remember the choice; in the CLI and the web UI."""

from __future__ import annotations

import re

import pytest

from hearth.companion.prompt import core
from hearth.companion.turn import Companion
from hearth.persona.derive import base_persona, derive
from hearth.persona.feedback import Rated, learn, rated_replies, update_persona
from hearth.store import Store, chat, personas
from hearth.store.companions import companion_by_name
from hearth.store.preferences import preference_pairs
from scripted import Scripted
from web_helpers import csrf, make_app, signed_in

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL

LONG = "Oh my dear friend, " + "I hear you and I am here for you, truly, every single step of the way. " * 6
SHORT = "I'm here. Rest a bit?"
LONG_ZH = "亲爱的，" + "我一直都在这里陪着你，无论发生什么事情我都会认真听你说。" * 5
SHORT_ZH = "抱抱，先歇会儿。"


def test_liked_short_disliked_long_becomes_a_note_in_both_languages():
    rated = [Rated(SHORT, 1), Rated("Okay. Sleep well.", 1), Rated(LONG, -1, "too long"), Rated(LONG + " Really.", -1)]
    en = learn(rated, [], "en")
    assert any("shorter replies" in n for n in en.notes)
    assert '"too long"' in en.text("en")
    zh = learn([Rated(SHORT_ZH, 1), Rated("好的，晚安。", 1), Rated(LONG_ZH, -1, "太长了")], [], "zh")
    assert any("简短" in n for n in zh.notes) and "“太长了”" in zh.text("zh")


def test_too_few_ratings_teach_nothing_but_words_are_kept():
    one = learn([Rated(LONG, -1, "too long")], [SHORT] * 20, "en")
    assert one.notes == [] and one.said == ["too long"]


def test_one_sided_ratings_compare_with_usual_replies():
    usual = [LONG] * 10
    liked = learn([Rated(SHORT, 1), Rated("Sure thing.", 1), Rated("Go rest now.", 1)], usual, "en")
    assert any("shorter" in n for n in liked.notes)
    emoji = learn([Rated("Good night 🌙✨", 1), Rated("Yay 🎉", 1), Rated("Hugs 🤗", 1)], ["Good night."] * 5, "en")
    assert "They like it when you use emoji." in emoji.notes


@pytest.fixture
def mochi(tmp_path):
    store = Store(str(tmp_path / "h.db"))
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    yield store, cid
    store.close()


def test_choose_keeps_every_answer_and_remembers_the_choice(mochi):
    store, cid = mochi
    backend = Scripted(reply=LONG)
    comp = Companion(store, cid, backend)
    conv = comp.new_conversation()
    first = comp.turn(conv, "I had a rough day")
    backend.reply = SHORT
    second = comp.reply_to(conv, first.user_message_id, "I had a rough day")
    options = chat.answers(store, first.reply_message_id)
    assert [o["id"] for o in options] == [first.reply_message_id, second.reply_message_id]
    assert [o["visible"] for o in options] == [False, True]

    chat.choose(store, first.reply_message_id)  # back to the first answer
    assert [o["visible"] for o in chat.answers(store, first.reply_message_id)] == [True, False]
    assert chat.visible_path(store, conv)[-1].id == first.reply_message_id
    [pair] = list(preference_pairs(store))
    assert pair["chosen"] == LONG and pair["rejected"] == SHORT
    assert [r.note for r in rated_replies(store, cid)] == [""]  # a choice is not quoted as the person's words
    nxt = comp.turn(conv, "thanks")
    assert chat.question_of(store, nxt.reply_message_id).text == "thanks"
    assert [t.id for t in chat.visible_path(store, conv)][-3] == first.reply_message_id


def test_ratings_update_the_persona_and_reach_the_prompt(mochi):
    store, cid = mochi
    backend = Scripted(reply=LONG)
    comp = Companion(store, cid, backend)
    conv = comp.new_conversation()
    for i, (reply, rating) in enumerate([(LONG, -1), (SHORT, 1), (LONG, -1), ("Go to bed, silly.", 1)]):
        backend.reply = reply
        r = comp.turn(conv, f"message {i}")
        chat.rate(store, r.reply_message_id, rating, "too long" if rating < 0 else None)
    notes = update_persona(store, cid)
    assert notes and "shorter replies" in notes
    assert personas.latest(store, cid).source == "feedback"
    assert update_persona(store, cid) is None  # unchanged notes make no new version
    persona = base_persona(store, cid)
    assert "shorter replies" in core(persona, 50, "you")
    assert derive(store, cid).feedback == notes  # derive keeps learning from the same ratings
    hand = persona.model_copy(update={"feedback": "Speak like a pirate.", "edited": ["feedback"]})
    personas.save(store, cid, hand.model_dump(), "edited")
    assert update_persona(store, cid) is None and base_persona(store, cid).feedback == "Speak like a pirate."


def test_web_thumbs_again_and_choose(tmp_path):
    app, store, backends = make_app(tmp_path, default=None)
    client = signed_in(app)
    token = csrf(client)
    backends[None].reply = LONG
    sent = {"csrf": token, "companion": "1", "text": "I had a rough day"}
    r = client.post("/chat", data=sent, follow_redirects=False)
    assert r.status_code == 303
    conv = int(re.search(r"conversation=(\d+)", r.headers["location"]).group(1))
    first = chat.visible_path(store, conv)[-1].id
    page = client.get(f"/chat?conversation={conv}").text
    assert 'action="/chat/rate"' in page and 'action="/chat/again"' in page and "answers · choose" not in page

    assert client.post("/chat/rate", data={"csrf": token, "message": first, "rating": "down"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    assert [r.rating for r in rated_replies(store, 1)] == [-1]
    assert 'class="icon on" title="Not like them: less like this"' in client.get(f"/chat?conversation={conv}").text
    assert client.post("/chat/rate", data={"message": first, "rating": "up"}).status_code == 403  # no CSRF token

    backends[None].reply = SHORT
    again = client.post("/chat/again", data={"csrf": token, "message": first}, follow_redirects=False)
    assert again.status_code == 303
    second = chat.visible_path(store, conv)[-1].id
    assert second != first and chat.visible_path(store, conv)[-1].text == SHORT
    assert "2 answers · choose" in client.get(f"/chat?conversation={conv}").text

    choices = client.get(f"/chat/answers/{second}").text
    assert "answer 1 of 2" in choices and "Keep this one" in choices and "I had a rough day" in choices
    kept = client.post("/chat/choose", data={"csrf": token, "message": first}, follow_redirects=False)
    assert kept.status_code == 303 and kept.headers["location"].endswith(f"#m{first}")
    assert chat.visible_path(store, conv)[-1].id == first
    assert client.get("/chat/answers/999999").status_code == 404


def test_imported_chatgpt_thumbs_count_as_ratings(store, synth_zip):
    import sqlalchemy as sa

    from hearth.ingest import import_path
    from hearth.store import schema as s

    import_path(store, synth_zip)
    with store.engine.connect() as conn:
        linked = conn.execute(
            sa.select(s.conversations.c.companion_id, sa.func.count(sa.distinct(s.feedback.c.message_id)))
            .join(s.messages, s.messages.c.id == s.feedback.c.message_id)
            .join(s.conversations, s.conversations.c.id == s.messages.c.conversation_id)
            .where(s.messages.c.role == "assistant", s.messages.c.text != "")
            .group_by(s.conversations.c.companion_id)
        ).all()
    assert linked, "the synthetic export has rated replies"
    for companion_id, count in linked:
        assert len(rated_replies(store, companion_id)) == count
