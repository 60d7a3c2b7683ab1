"""Every exporter, checked by reading its output back the way the other program would."""

from __future__ import annotations

import json

import pytest

from conftest import FIXTURES, run_hearth
from hearth.formats import charcard, jsonl, sillytavern
from hearth.formats.bundle import open_bundle
from hearth.samples import CHATGPT_SAMPLE

CARDS = FIXTURES / "character-cards"
ST = FIXTURES / "sillytavern"
pytestmark = pytest.mark.skipif(not CARDS.exists(), reason="fixtures missing")


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = tmp_path_factory.mktemp("exp") / "h.db"
    r = run_hearth("import", str(CARDS), str(ST), str(CHATGPT_SAMPLE), db=db)
    assert r.returncode == 0, r.stderr
    return db


def _read_one(path, reader):
    with open_bundle(path) as b:
        return list(reader.read(b))


def test_card_export_reads_back_field_identical(db, tmp_path):
    out = tmp_path / "cards"
    r = run_hearth("export", "--format", "card", "-o", str(out), db=db)
    assert r.returncode == 0, r.stderr
    exported = {suffix: {c.source_id: c for f in sorted(out.glob(f"*{suffix}")) for c in _read_one(f, charcard)}
                for suffix in (".png", ".json")}  # fmt: skip
    compared = 0
    for src in sorted(CARDS.iterdir()):
        original = _read_one(src, charcard)[0]
        for suffix in (".png", ".json"):  # matched by the card's own id: two cards may share a name
            assert original.source_id in exported[suffix], f"{src.name} missing from the {suffix} export"
            assert charcard.card_to_v3(exported[suffix][original.source_id]) == charcard.card_to_v3(original)
            compared += 1
    assert compared == 2 * len(list(CARDS.iterdir()))
    # Importing the exported cards again adds no companion: they are the same cards.
    before = json.loads(run_hearth("companions", "--json", db=db).stdout)
    run_hearth("import", str(out), db=db)
    after = json.loads(run_hearth("companions", "--json", db=db).stdout)
    assert len(after) == len(before)


def test_chinese_lorebook_survives_the_card_export(db, tmp_path):
    out = tmp_path / "cards"
    run_hearth("export", "--format", "card", "-c", "宿命织机", "-o", str(out), db=db)
    card = _read_one(out / "宿命织机.png", charcard)[0]
    assert card.lorebook and len(card.lorebook.entries) == 13
    assert any("\u4e00" <= ch <= "\u9fff" for ch in card.lorebook.entries[0].content)


def test_openai_jsonl_is_valid_for_fine_tuning(db, tmp_path):
    out = tmp_path / "sft.jsonl"
    r = run_hearth("export", "--format", "openai-jsonl", "-o", str(out), "-c", "ChatGPT", db=db)
    assert r.returncode == 0, r.stderr
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= 30
    for line in lines:
        msgs = json.loads(line)["messages"]
        assert {m["role"] for m in msgs} <= {"system", "user", "assistant"}
        assert any(m["role"] == "assistant" for m in msgs)
        assert all(isinstance(m["content"], str) for m in msgs)
    convs = _read_one(out, jsonl)
    assert len(convs) == len(lines)


def test_sillytavern_export_opens_as_the_same_chat(db, tmp_path):
    out = tmp_path / "st"
    r = run_hearth("export", "--format", "sillytavern", "-o", str(out), db=db)
    assert r.returncode == 0, r.stderr
    files = sorted(out.rglob("*.jsonl"))
    assert len(files) >= 40
    for f in files:
        header = json.loads(f.read_text(encoding="utf-8").splitlines()[0])
        assert "user_name" in header and "character_name" in header
        conv = _read_one(f, sillytavern)[0]
        assert any(m.visible and m.role == "assistant" for m in conv.messages)
    original = _read_one(ST / "glxiang369_song-county_2025-05-10.jsonl", sillytavern)[0]
    exported = next(f for f in files if "song-county" in f.name)
    again = _read_one(exported, sillytavern)[0]
    visible = lambda c: [m.text for m in c.messages if m.visible]  # noqa: E731
    assert visible(again) == visible(original)


def test_openai_jsonl_system_prompt_is_the_persona(db, tmp_path):
    """The fine-tuning system prompt is the companion's persona as hearth speaks it (hand edits included)."""
    edit = run_hearth("persona", "edit", "-c", "Seraphina", "--set", "voice=Speaks softly, in short sentences.", db=db)
    assert edit.returncode == 0, edit.stderr
    out = tmp_path / "sft.jsonl"
    r = run_hearth("export", "--format", "openai-jsonl", "-o", str(out), "-c", "Seraphina", db=db)
    assert r.returncode == 0, r.stderr
    first = json.loads(out.read_text(encoding="utf-8").splitlines()[0])["messages"][0]
    assert first["role"] == "system" and first["content"].startswith("You are Seraphina")
    assert "How you write: Speaks softly, in short sentences." in first["content"]
    assert "It is now" not in first["content"]
