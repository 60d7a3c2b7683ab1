"""The persona: measured style (zh and en), derive from real history, edits kept, versions, warmth dial."""

from __future__ import annotations

import orjson
import pytest

from conftest import FIXTURES, run_hearth
from hearth.ingest import import_many
from hearth.persona import style, warmth
from hearth.persona.card import Persona, from_card, to_card
from hearth.persona.derive import derive, save_derived
from hearth.store import personas
from hearth.store.loaders import companion_id, default_companion_id

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL


def _reply(text: str, conv: int = 1) -> style.Reply:
    return style.Reply(text, conv)


def test_style_english():
    replies = [_reply("Hey sweetheart! I'm always here for you 💕 How was your day?", n % 4) for n in range(12)] + [
        _reply("That sounds hard, sweetheart. I'm always here for you.", 9)
    ] * 3
    person = ["I had a long day", "work was awful", "thanks"] * 5
    stats = style.measure(replies, person)
    assert stats["replies"] == 15
    assert stats["pet_names"] == ["sweetheart"]
    assert any("always here for you" in p for p in stats["signature_phrases"])
    assert stats["emoji_per_reply"] == pytest.approx(0.8)
    assert stats["language_mix"]["en"] == 1.0
    notes = style.notes(stats, "en")
    assert "'sweetheart'" in notes and "emoji" in notes


def test_style_chinese_and_mixed():
    replies = [_reply(f"宝贝，抱抱你～我一直都在呢。今天第{n}次想你了！", n % 3) for n in range(10)]
    stats = style.measure(replies, ["今天好累", "我想睡觉了"] * 5)
    assert stats["language_mix"]["zh"] > 0.9
    assert style.main_language(stats["language_mix"]) == "zh"
    assert "宝贝" in stats["pet_names"]
    assert any("一直都在" in p for p in stats["signature_phrases"])
    assert "称呼对方为宝贝" in style.notes(stats, "zh")
    mixed = style.language_mix(["I love 小笼包 so much", "今天 we went hiking 好开心"])
    assert 0.2 < mixed["zh"] < 0.8


def test_signature_needs_several_conversations_and_is_not_the_persons_phrase():
    same_conv = [_reply("you are so brave, you are so brave", 1)] * 10
    assert style.signature_phrases(same_conv, []) == []
    echoed = [_reply("good night my friend", n) for n in range(10)]
    assert style.signature_phrases(echoed, ["good night my friend"] * 10) == []


def test_overlapping_phrases_fold():
    replies = [_reply("可以分几步来，先喝水", n % 3) for n in range(9)]
    phrases = style.signature_phrases(replies, [])
    assert len([p for p, _ in phrases if "分几步" in p]) == 1


def test_card_round_trip_keeps_every_field():
    card = {"name": "Seraphina", "description": "d", "first_mes": "hi", "mes_example": "<START>",
            "tags": ["a"], "extensions": {"depth_prompt": {"depth": 4}}, "character_book": {"entries": []}}  # fmt: skip
    persona = from_card(card, "x")
    assert persona.greeting == "hi" and persona.example_dialogue == "<START>"
    back = to_card(persona.model_copy(update={"voice": "soft"}))
    assert back["tags"] == ["a"] and back["character_book"] == {"entries": []}
    assert back["extensions"]["depth_prompt"] == {"depth": 4}
    assert back["extensions"]["hearth"]["voice"] == "soft"
    assert back["first_mes"] == "hi"


def test_derive_from_sillytavern_fixture(store):
    path = FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"
    [summary] = import_many(store, [path])
    assert summary.status == "done"
    cid = default_companion_id(store)
    persona = derive(store, cid)
    assert persona.name == "Seraphina"
    assert persona.style["replies"] > 0
    assert persona.voice
    assert persona.relationship.startswith("Talking since")
    assert persona.language == "en"


def test_derive_on_the_sample_is_chinese_with_pet_names(tmp_path):
    db = tmp_path / "h.db"
    assert run_hearth("import", "--sample", db=db).returncode == 0
    result = run_hearth("persona", "derive", "--json", db=db)
    assert result.returncode == 0, result.stderr
    persona = orjson.loads(result.stdout)
    assert persona["version"] == 1
    assert persona["language"] == "zh"
    assert persona["style"]["pet_names"]
    assert "<START>" in persona["example_dialogue"]


def test_edit_is_versioned_and_kept_by_derive(tmp_path):
    db = tmp_path / "h.db"
    run_hearth("import", str(FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"), db=db)
    assert run_hearth("persona", "derive", db=db).returncode == 0
    r = run_hearth("persona", "edit", "--set", "voice=Speaks softly, in short lines.", "--add", "facts=Loves rain",
                   "--set", "warmth=85", "--note", "my words", db=db)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "version 2" in r.stdout
    assert run_hearth("persona", "derive", db=db).returncode == 0
    shown = orjson.loads(run_hearth("persona", "show", "--json", db=db).stdout)
    assert shown["version"] == 3
    assert shown["voice"] == "Speaks softly, in short lines."
    assert "Loves rain" in shown["facts"] and shown["warmth"] == 85
    assert set(shown["edited"]) == {"voice", "facts", "warmth"}
    history = orjson.loads(run_hearth("persona", "history", "--json", db=db).stdout)
    assert [h["source"] for h in history] == ["derived", "edited", "derived"]
    assert history[1]["note"] == "my words"
    assert run_hearth("persona", "revert", "1", db=db).returncode == 0
    assert orjson.loads(run_hearth("persona", "show", "--json", db=db).stdout)["warmth"] == 60


@pytest.mark.parametrize(
    "args,message",
    [
        (["--set", "bogus=1"], "not FIELD=VALUE"),
        (["--set", "warmth=abc"], "warmth must be a number"),
        (["--add", "voice=x"], "voice is not a list"),
        (["--remove", "facts=never there"], "facts has no item"),
        ([], "Nothing to change"),
        (["--from-file", "/nonexistent.json"], "Could not read"),
    ],
)
def test_edit_errors_are_one_sentence_and_save_nothing(tmp_path, args, message):
    db = tmp_path / "h.db"
    run_hearth("import", str(FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"), db=db)
    r = run_hearth("persona", "edit", *args, db=db)
    assert r.returncode == 1 and message in r.stderr and "Traceback" not in r.stderr
    assert "No saved versions" in run_hearth("persona", "history", db=db).stdout


def test_no_companion_is_a_clear_error(tmp_path):
    r = run_hearth("persona", "show", db=tmp_path / "h.db")
    assert r.returncode == 1 and "no companion yet" in r.stderr and "hearth import" in r.stderr


def test_persona_versions_survive_the_archive(tmp_path):
    from hearth.formats.bundle import open_bundle
    from hearth.store import Store
    from hearth.store.archive import export_archive, import_archive

    with Store(str(tmp_path / "a.db")) as a:
        import_many(a, [FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"])
        cid = companion_id(a, "Seraphina")
        save_derived(a, cid, derive(a, cid))
        personas.save(a, cid, {**personas.latest(a, cid).persona, "warmth": 90}, "edited", "warmer")
        export_archive(a, tmp_path / "one.zip")
    with Store(str(tmp_path / "b.db")) as b, open_bundle(tmp_path / "one.zip") as bundle:
        import_archive(b, bundle)
        versions = personas.history(b, companion_id(b, "Seraphina"))
        assert [v.version for v in versions] == [1, 2] and versions[1].persona["warmth"] == 90
        export_archive(b, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_warmth_mapping_is_monotone_and_honesty_never_moves():
    styles = [warmth.style(w) for w in range(0, 101, 5)]
    assert [s.temperature for s in styles] == sorted(s.temperature for s in styles)
    assert [s.top_p for s in styles] == sorted(s.top_p for s in styles)
    assert all(warmth.HONESTY in s.instruction for s in styles)
    assert all(warmth.HONESTY_ZH in warmth.style(w, "zh").instruction for w in (0, 50, 100))
    bands = [s.band for s in styles]
    assert bands[0] == "reserved" and bands[-1] == "affectionate"
    assert len(set(bands)) == 5
    assert warmth.clamp(250) == 100 and warmth.clamp(-3) == 0 and warmth.clamp(None) == warmth.DEFAULT_WARMTH
    with pytest.raises(ValueError):
        warmth.clamp("warm")
    assert Persona(name="x", warmth="70").warmth == 70


def test_markers_rise_with_warmth_cues():
    cold = "Noted. The meeting is at 3."
    friendly = "Glad to hear it. The meeting is at 3, good luck."
    warm = "Oh honey, I'm so proud of you! 💕 The meeting is at 3, you'll be wonderful!"
    zh = "宝贝，抱抱你！我一直在呢💕"
    scores = [warmth.markers(t).score for t in (cold, friendly, warm)]
    assert scores == sorted(scores) and scores[0] < scores[-1]
    assert warmth.markers(zh).affect >= 3 and warmth.markers(zh).emoji == 1


def test_derive_with_a_backend_writes_the_portrait(store):
    from scripted import Scripted

    import_many(store, [FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl"])
    cid = companion_id(store, "Seraphina")
    backend = Scripted(name="writer", model="big-model", reply="You are Seraphina, a gentle guardian of the forest.")
    persona = derive(store, cid, backend=backend)
    assert persona.summary.startswith("You are Seraphina")
    assert persona.style["summary_written_by"] == "big-model"
    sent = backend.calls[0]
    assert "memory letter" in sent[0]["content"] and "Seraphina" in sent[1]["content"]
    personas.save(store, cid, {**persona.model_dump(), "edited": ["summary"]}, "edited")
    again = derive(store, cid, backend=Scripted(reply="something else"))
    assert again.summary.startswith("You are Seraphina")  # a portrait set by hand is kept
