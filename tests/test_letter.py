"""The memory letter, in Chinese and English: within budget, pinned first, forgotten and superseded
memories never in it, the person's language by default, one framing per target, deterministic."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

from conftest import ROOT, SHARED
from hearth.errors import HearthError
from hearth.memory.letter import TARGETS, build_letter, rank
from hearth.memory.tokens import estimate_tokens
from hearth.persona.card import Persona
from hearth.store import personas
from hearth.store import schema as s
from hearth.store.companions import companion_by_name
from hearth.store.memories import add_memory, forget_memory, supersede, update_memory

BOTH_ENGINES = True  # the store tests run on SQLite and on PostgreSQL

DAY = 86400.0
T0 = 1_700_000_000.0


@pytest.fixture
def xiaonuan(store):
    """A Chinese-speaking companion with a persona and 60 memories in both languages."""
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "小暖")
    persona = Persona(name="小暖", nickname="暖暖", language="zh", voice="说话温柔，句子短，常用“呀”。",
                      relationship="你们从2023年开始聊天，已经一起度过很多个夜晚。",
                      boundaries=["不替我做医疗决定"], description="一个温暖的陪伴者。")  # fmt: skip
    personas.save(store, cid, persona.model_dump(), "edited")
    ids = {}
    for i in range(30):
        ids[f"zh{i}"] = add_memory(store, f"我第{i}次提到：我喜欢在杭州西湖边散步，第{i}号记忆。", companion_id=cid,
                                   importance=0.3 + (i % 5) / 10, event_at=T0 + i * DAY)  # fmt: skip
        ids[f"en{i}"] = add_memory(store, f"Memory {i}: they take the number {i} bus to the library on Sundays.",
                                   companion_id=cid, importance=0.3 + (i % 4) / 10, event_at=T0 + i * DAY)  # fmt: skip
    ids["pinned"] = add_memory(store, "对花生严重过敏（置顶）", companion_id=cid, importance=0.1, pinned=True)
    ids["forgotten"] = add_memory(store, "FORGOTTEN-SECRET 旧密码是 1234", companion_id=cid, importance=1.0)
    forget_memory(store, ids["forgotten"])
    ids["old"] = add_memory(store, "SUPERSEDED 住在北京", companion_id=cid, importance=1.0)
    ids["new"] = add_memory(store, "搬到了杭州", companion_id=cid, importance=0.95)
    with store.write() as conn, conn.begin():
        supersede(conn, ids["old"], ids["new"])
        off = add_memory(store, "DISABLED 这条被关掉了", companion_id=cid, importance=1.0, conn=conn)
        conn.execute(sa.update(s.memories).where(s.memories.c.id == off).values(enabled=False))
    ids["boundary"] = add_memory(store, "不要在深夜催我睡觉", kind="boundary", companion_id=cid, importance=0.9)
    ids["respond"] = add_memory(store, "请用中文回答，语气温柔。", kind="profile", companion_id=cid,
                                importance=0.8, slot="profile:chatgpt:how_to_respond",
                                source="chatgpt:user_editable_context")  # fmt: skip
    return cid, ids


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("budget", [60, 200, 1000, 2000, 4000])
def test_budget_respected_and_reported(store, xiaonuan, target, budget):
    cid, _ = xiaonuan
    for lang in ("zh", "en"):
        letter = build_letter(store, cid, budget, lang=lang, target=target)
        assert letter.tokens == estimate_tokens(letter.text) <= budget
        assert letter.budget == budget and letter.language == lang and letter.target == target
        assert "小暖" in letter.text


def test_pinned_first_forgotten_superseded_and_disabled_never(store, xiaonuan):
    cid, ids = xiaonuan
    for budget in (80, 300, 4000):
        for target in TARGETS:
            letter = build_letter(store, cid, budget, target=target)
            memories = [i for i in letter.items if i.memory_id is not None]
            if memories:
                assert memories[0].memory_id == ids["pinned"] and memories[0].pinned
                assert "对花生严重过敏（置顶）" in letter.text
            for gone in ("FORGOTTEN-SECRET", "SUPERSEDED", "DISABLED"):
                assert gone not in letter.text
    full = build_letter(store, cid, 4000)
    assert full.left_out == 0 and "搬到了杭州" in full.text
    ranked = [i.memory_id for i in full.items if i.memory_id]
    assert ranked.index(ids["new"]) < ranked.index(ids["zh0"])  # importance 0.95 over 0.3


def test_language_switch_and_default(store, xiaonuan):
    cid, _ = xiaonuan
    zh = build_letter(store, cid, 1500)  # the persona speaks Chinese
    assert zh.language == "zh" and "# 记忆信：小暖" in zh.text and "## 你记得的关于我的事" in zh.text
    assert "你是小暖（暖暖）。" in zh.text and re.search(r"。（2023年1[12]月\d+日）\n", zh.text)
    en = build_letter(store, cid, 1500, lang="en")
    assert "# Memory letter: 小暖" in en.text and "## What you remember about me" in en.text
    assert "You are 小暖 (暖暖)." in en.text and re.search(r"Sundays\. \(2023-1[12]-\d\d\)\n", en.text)
    assert "记忆信" not in en.text
    assert "## Boundaries" in en.text and "不要在深夜催我睡觉" in en.text and "不替我做医疗决定" in en.text
    assert "## How I'd like you to respond\n- 请用中文回答，语气温柔。" in en.text


def test_targets_frame_differently(store, xiaonuan):
    cid, _ = xiaonuan
    gpt = build_letter(store, cid, 800, lang="en", target="chatgpt").text
    assert gpt.startswith("What would you like ChatGPT to know about you?")
    assert gpt.index("How would you like ChatGPT to respond?") > gpt.index("- ")
    claude = build_letter(store, cid, 800, lang="zh", target="claude").text
    assert '<companion name="小暖">' in claude and "<memories_about_me>" in claude and "</companion>" in claude
    generic = build_letter(store, cid, 800, target="generic").text
    assert generic.startswith("# 记忆信：小暖") and "<companion" not in generic


def test_deterministic_and_ranked_by_use(store, xiaonuan):
    cid, ids = xiaonuan
    assert build_letter(store, cid, 700).text == build_letter(store, cid, 700).text
    with store.write() as conn, conn.begin():
        conn.execute(sa.update(s.memories).where(s.memories.c.id == ids["en0"]).values(used_count=25))
    order = [i.memory_id for i in build_letter(store, cid, 4000).items if i.memory_id]
    assert order.index(ids["en0"]) < order.index(ids["en4"])  # same importance, used far more


def test_rank_formula():
    from hearth.memory.letter import _Candidate

    a = _Candidate(1, "a", "fact", None, 0.5, False, 0, T0, None)
    b = _Candidate(2, "b", "fact", None, 0.5, False, 0, T0 - 180 * DAY, None)  # one half-life older
    c = _Candidate(3, "c", "fact", None, 0.1, True, 0, T0 - 900 * DAY, None)
    assert [x.id for x in rank([a, b, c])] == [3, 1, 2]
    assert a.score == pytest.approx(0.5 * 0.5 + 0.3) and b.score == pytest.approx(0.25 + 0.15)


def test_bad_arguments(store, xiaonuan):
    cid, _ = xiaonuan
    for kwargs in ({"lang": "fr"}, {"target": "gemini"}, {"tokens": 10}):
        with pytest.raises(HearthError):
            build_letter(store, cid, **{"tokens": 500, **kwargs})


def test_an_english_letter_from_an_english_persona(store):
    with store.write() as conn, conn.begin():
        cid = companion_by_name(conn, "Mochi")
    for i in range(5):
        mid = add_memory(store, f"Their sister Ana visited in week {i}.", companion_id=cid, importance=0.6)
    update_memory(store, mid, text="Their sister Ana lives in Lisbon.")
    letter = build_letter(store, cid, 300)
    assert letter.language == "en" and letter.text.startswith("# Memory letter: Mochi")
    assert "Their sister Ana lives in Lisbon." in letter.text and "week 4" not in letter.text


LOCOMO = SHARED / "data" / "locomo" / "locomo7.json"


@pytest.mark.skipif(not LOCOMO.exists(), reason="the LoCoMo data set is not in ../shared/data/locomo")
def test_letter_bench_runs_on_one_conversation():
    r = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "letter_bench.py"), "--limit-conversations", "1", "--no-write", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    fig = json.loads(r.stdout.strip().splitlines()[-1])["letter"]
    assert fig["conversations"] == 1 and fig["budgets"] == [1000, 2000, 4000]
    counts = fig["counts"]
    assert counts["turns"] > 100 and counts["evaluated"] + counts["no_evidence"] == counts["questions"] > 100
    overall = fig["carried"]["overall"]
    assert overall["questions"] == counts["evaluated"] and overall["control@2000"] is None
    for arm in ("letter", "first", "last", "cited"):
        values = [overall[f"{arm}@{n}"] for n in (1000, 2000, 4000)]
        assert all(0.0 <= v <= 1.0 for v in values) and values == sorted(values), (arm, values)
    for n in ("1000", "2000", "4000"):
        assert fig["letters"][n]["tokens"] <= int(n)
