"""SillyTavern chat reader and writer, on the real fixtures and on synthetic chats.

Expected values are recomputed here from the raw lines with the stdlib `json` module, so the test
does not trust the reader to check itself.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hearth.errors import CorruptInput
from hearth.formats import sillytavern, worldinfo
from hearth.formats.bundle import open_bundle
from hearth.records import Conversation, Lorebook, Message

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures/sillytavern"
SERAPHINA = FIXTURES / "devslow_seraphina_2025-04-18.jsonl"
SONG = FIXTURES / "glxiang369_song-county_2025-05-10.jsonl"
CST = timezone(timedelta(hours=8))


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"fixture {path.name} is not available")
    return path


def read_items(path: Path) -> list:
    with open_bundle(path) as bundle:
        assert sillytavern.sniff(bundle)
        return list(sillytavern.read(bundle, None, None))


def read_one(path: Path) -> Conversation:
    items = read_items(path)
    assert len(items) == 1 and isinstance(items[0], Conversation)
    return items[0]


def lines_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line.strip()]


def shown(conv: Conversation) -> list[Message]:
    return [m for m in conv.messages if m.visible]


def write_jsonl(path: Path, objects: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\n".join(json.dumps(o, ensure_ascii=False, separators=(",", ":")) for o in objects)
    path.write_text(text, encoding="utf-8")
    return path


def assert_chain(conv: Conversation) -> None:
    """Shown messages form one chain; every other node is a leaf beside a shown one."""
    visible = shown(conv)
    for prev, cur in zip([None, *visible], visible, strict=False):
        assert cur.parent_source_id == (prev.source_id if prev else None)
    parents = {m.parent_source_id for m in conv.messages}
    for m in conv.messages:
        if not m.visible:
            assert m.source_id not in parents


# ---------------------------------------------------------------- real fixtures


def test_seraphina_fixture():
    path = need(SERAPHINA)
    raw = lines_of(path)
    header, lines = raw[0], raw[1:]
    conv = read_one(path)
    assert conv.source_format == "sillytavern"
    assert conv.title == path.stem
    assert conv.companion == header["character_name"] == "Seraphina"
    assert conv.source_id == f"Seraphina/{path.name}"
    assert conv.raw == header
    assert len(conv.messages) == len(lines) == 5
    assert [m.text for m in shown(conv)] == [line["mes"] for line in lines]
    assert [m.role for m in conv.messages] == ["assistant" if not line["is_user"] else "user" for line in lines]
    assert [m.author_name for m in conv.messages] == [line["name"] for line in lines]
    assert conv.messages[1].text == "你好"
    assert conv.messages[4].text == "" and conv.messages[4].role == "assistant"  # the empty reply is kept
    assert [m.requested_model for m in conv.messages] == [
        None, None, lines[2]["extra"]["model"], None, lines[4]["extra"]["model"]
    ]
    assert conv.messages[2].requested_model == "deepseek-ai/DeepSeek-V3"
    assert all(m.served_model is None for m in conv.messages)
    assert not any(m.hidden for m in conv.messages)  # is_system is missing or false everywhere
    assert conv.current_node == "4" and conv.default_model == "grok-3-mini-beta"
    assert_chain(conv)


def test_seraphina_dates_recover_the_zone():
    conv = read_one(need(SERAPHINA))
    lines = lines_of(SERAPHINA)[1:]
    # "April 18, 2025 11:39pm" was written in UTC+8: gen_started says 15:39:18Z.
    assert lines[3]["send_date"] == "April 18, 2025 11:39pm"
    assert conv.messages[3].created_at == datetime(2025, 4, 18, 23, 39, tzinfo=CST).timestamp()
    gen = datetime.fromisoformat(lines[4]["gen_started"].replace("Z", "+00:00")).timestamp()
    assert abs(conv.messages[4].created_at - gen) < 120
    # The header's create_date "2025-03-25@21h19m28s" is the same local clock.
    assert conv.created_at == datetime(2025, 3, 25, 21, 19, 28, tzinfo=CST).timestamp()
    assert conv.updated_at == conv.messages[4].created_at


def test_song_fixture_swipes_and_text():
    path = need(SONG)
    raw = lines_of(path)
    lines = raw[1:]
    conv = read_one(path)
    assert conv.companion == "宋" and conv.source_id == f"宋/{path.name}"
    swipe_total = sum(max(len(line.get("swipes") or []), 1) for line in lines)
    assert len(conv.messages) == swipe_total == 14
    assert len(shown(conv)) == len(lines) == 11
    greeting = [m for m in conv.messages if m.source_id.split(".")[0] == "0"]
    assert len(greeting) == len(lines[0]["swipes"]) == 4
    assert [m.sibling_index for m in greeting] == [0, 1, 2, 3]
    assert [m.text for m in greeting] == lines[0]["swipes"]
    assert [m.visible for m in greeting] == [j == lines[0]["swipe_id"] for j in range(4)]
    assert all(m.parent_source_id is None for m in greeting)
    chosen = greeting[lines[0]["swipe_id"]]
    assert chosen.raw is not None and chosen.raw == lines[0]  # the shown swipe keeps the whole line
    assert "\r\n" in chosen.text and chosen.text == lines[0]["mes"]
    assert "皓月当空" in chosen.text
    assert all(m.created_at is None for m in greeting if not m.visible)  # swipe_info is empty here
    assert shown(conv)[1].parent_source_id == chosen.source_id
    models = {m.requested_model for m in conv.messages if m.role == "assistant" and m.visible} - {None}
    assert models == {"gemini-2.5-pro-exp-03-25"}
    assert conv.messages[-1].author_name == "宋" and shown(conv)[1].author_name == "希灵"
    assert_chain(conv)


def test_song_dates():
    conv = read_one(need(SONG))
    user = shown(conv)[1]
    assert lines_of(SONG)[2]["send_date"] == "May 10, 2025 9:52pm"
    assert user.created_at == datetime(2025, 5, 10, 21, 52, tzinfo=CST).timestamp()
    assert conv.created_at == datetime(2025, 5, 10, 0, 52, 16, tzinfo=CST).timestamp()


@pytest.mark.parametrize("name", ["devslow_seraphina_2025-04-18.jsonl", "glxiang369_song-county_2025-05-10.jsonl"])
def test_fixture_export_is_byte_identical(name):
    path = need(FIXTURES / name)
    conv = read_one(path)
    assert sillytavern.write_sillytavern(conv, "ignored", "ignored") == path.read_bytes()


def test_fixtures_are_not_world_info():
    for path in (need(SERAPHINA), need(SONG)):
        with open_bundle(path) as bundle:
            assert not worldinfo.sniff(bundle)


# ---------------------------------------------------------------- synthetic chats


def test_swipes_branch_under_the_previous_shown_message(tmp_path):
    info = [
        {"send_date": "2025-01-02T03:04:05.000Z", "extra": {"api": "openai", "model": "gpt-4o"}},
        {"send_date": "2025-01-02T03:05:00.000Z", "extra": {"api": "openai", "model": "gpt-4o-mini",
                                                            "reasoning": "想一想"}},
    ]
    path = write_jsonl(tmp_path / "chat.jsonl", [
        {"user_name": "me", "character_name": "Ava", "create_date": "2025-01-02@03h00m00s", "chat_metadata": {}},
        {"name": "me", "is_user": True, "send_date": 1735787000000, "mes": "hi"},
        {"name": "Ava", "is_user": False, "send_date": "2025-01-02T03:05:00.000Z", "mes": "second",
         "swipe_id": 1, "swipes": ["first", "second"], "swipe_info": info,
         "extra": {"api": "openai", "model": "gpt-4o-mini", "reasoning": "想一想"}},
        {"name": "me", "is_user": True, "send_date": "1735787200000", "mes": "ok"},
    ])
    conv = read_one(path)
    ids = [m.source_id for m in conv.messages]
    assert ids == ["0", "1", "1.s1", "2"]
    first, second = conv.messages[1], conv.messages[2]
    assert (first.visible, second.visible) == (False, True)
    assert first.parent_source_id == second.parent_source_id == "0"
    assert conv.messages[3].parent_source_id == "1.s1"
    assert first.requested_model == "gpt-4o" and second.requested_model == "gpt-4o-mini"
    assert first.created_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()
    assert second.parts[0] == {"type": "thinking", "text": "想一想"}
    assert first.raw["swipe"] == 0 and first.raw["text"] == "first"
    assert conv.messages[0].created_at == 1735787000.0 and conv.messages[3].created_at == 1735787200.0
    assert conv.created_at == datetime(2025, 1, 2, 3, 0, tzinfo=UTC).timestamp()  # no zone evidence: UTC
    assert conv.current_node == "2"


def test_is_system_lines(tmp_path):
    path = write_jsonl(tmp_path / "hidden.jsonl", [
        {"user_name": "me", "character_name": "Ava", "create_date": "2025-01-02@03h00m00s", "chat_metadata": {}},
        {"name": "SillyTavern System", "is_user": False, "is_system": True, "mes": "Group chat started",
         "extra": {"type": "group", "isSmallSys": True}, "force_avatar": "img/five.png"},
        {"name": "me", "is_user": True, "is_system": True, "mes": "hidden from the prompt by /hide"},
        {"name": "Ava", "is_user": False, "is_system": True, "mes": "an old reply, hidden"},
        {"name": "System", "is_user": False, "is_system": False, "mes": "The rain stops.",
         "extra": {"type": "narrator", "api": "manual", "model": "slash command"}},
    ])
    conv = read_one(path)
    roles = [(m.role, m.hidden) for m in conv.messages]
    assert roles == [("system", True), ("user", True), ("assistant", True), ("system", False)]
    assert conv.messages[3].requested_model is None  # a slash command asked no model
    assert all(m.visible for m in conv.messages)
    out = sillytavern.write_sillytavern(conv, "me", "Ava")
    assert out == path.read_bytes()


def test_modern_group_chat_with_group_file(tmp_path):
    root = tmp_path / "default-user"
    messages = [
        {"chat_metadata": {"integrity": "abc"}, "user_name": "unused", "character_name": "unused"},
        {"name": "Alice", "is_user": False, "mes": "嗨", "original_avatar": "Alice.png", "send_date": "x"},
        {"name": "me", "is_user": True, "mes": "hello both"},
        {"name": "Bob", "is_user": False, "mes": "yo", "original_avatar": "Bob.png",
         "extra": {"api": "custom", "model": "qwen3"}, "swipes": ["yo"], "swipe_id": 0, "swipe_info": []},
        {"name": "Alice", "is_user": False, "mes": "again"},
    ]
    chat = write_jsonl(root / "group chats" / "2025-06-01@10h00m00s.jsonl", messages)
    conv_alone = read_one(chat)
    assert conv_alone.companion == "Alice, Bob"
    assert conv_alone.source_id == "unused/2025-06-01@10h00m00s.jsonl"
    (root / "groups").mkdir()
    (root / "groups" / "1717.json").write_text(json.dumps(
        {"id": "1717", "name": "茶会", "members": ["Alice.png", "Bob.png"], "chat_id": "2025-06-01@10h00m00s",
         "chats": ["2025-06-01@10h00m00s"]}), encoding="utf-8")
    items = read_items(root)
    assert len(items) == 1
    conv = items[0]
    assert conv.companion == "茶会"
    assert read_one(chat).companion == "茶会"  # one file of a data folder finds its group beside it
    assert conv.source_id == conv_alone.source_id  # the same chat, however it was handed over
    assert [m.author_name for m in shown(conv)] == ["Alice", "me", "Bob", "Alice"]
    assert [m.role for m in shown(conv)] == ["assistant", "user", "assistant", "assistant"]
    assert conv.messages[2].requested_model == "qwen3"
    assert conv.messages[0].created_at is None  # an unreadable date is left out, not guessed


def test_old_group_chat_without_header(tmp_path):
    path = write_jsonl(tmp_path / "1690000000000.jsonl", [
        {"name": "Alice", "is_user": False, "is_group": True, "mes": "first", "send_date": "June 19, 2023 2:20pm"},
        {"name": "Bob", "is_user": False, "mes": "second", "send_date": "June 19, 2023 12:05am"},
    ])
    conv = read_one(path)
    assert conv.raw == {}
    assert conv.source_id == "group/1690000000000.jsonl"
    assert conv.companion == "Alice, Bob"
    assert [m.source_id for m in conv.messages] == ["0", "1"]
    assert conv.messages[0].created_at == datetime(2023, 6, 19, 14, 20, tzinfo=UTC).timestamp()
    assert conv.messages[1].created_at == datetime(2023, 6, 19, 0, 5, tzinfo=UTC).timestamp()
    written = sillytavern.write_sillytavern(conv, "me", "Alice")
    back = sillytavern.parse_chat([json.loads(x) for x in written.split(b"\n")], "again.jsonl")
    assert [m.text for m in shown(back)] == ["first", "second"]


def test_folder_reads_chats_and_worlds_but_not_backups(tmp_path):
    root = tmp_path / "default-user"
    chat = [{"user_name": "me", "character_name": "Ava", "chat_metadata": {}}, {"name": "me", "is_user": True,
                                                                                   "mes": "hi"}]
    write_jsonl(root / "chats" / "Ava" / "Ava - 2025-01-01@00h00m00s.jsonl", chat)
    write_jsonl(root / "backups" / "chat_ava_20250101.jsonl", chat)
    (root / "worlds").mkdir()
    (root / "worlds" / "Ava.json").write_text(json.dumps(
        {"entries": {"0": {"uid": 0, "key": ["rain"], "content": "It always rains."}}}), encoding="utf-8")
    (root / "notes.jsonl").write_text('{"role": "user", "content": "not a chat"}\n', encoding="utf-8")
    with open_bundle(root) as bundle:
        assert sillytavern.sniff(bundle)
        assert not worldinfo.sniff(bundle)  # the chat reader takes the folder, worlds included
        items = list(sillytavern.read(bundle, None, None))
        assert sillytavern.total_bytes(bundle) > 0
    assert [type(i) for i in items] == [Conversation, Lorebook]
    assert items[0].source_id == "Ava/Ava - 2025-01-01@00h00m00s.jsonl"
    assert items[1].entries[0].keys == ["rain"]


def test_sniff_rejects_other_jsonl(tmp_path):
    path = tmp_path / "openai.jsonl"
    path.write_text('{"messages": [{"role": "user", "content": "hi"}]}\n', encoding="utf-8")
    with open_bundle(path) as bundle:
        assert not sillytavern.sniff(bundle)


def test_malformed_line_names_file_and_line(tmp_path):
    path = tmp_path / "broken.jsonl"
    path.write_text('{"user_name": "me", "character_name": "Ava"}\n{"name": "me", "is_user": true, "mes": "hi"}\n'
                    '{"name": "Ava", "mes": "cut off', encoding="utf-8")
    with pytest.raises(CorruptInput) as err:
        read_items(path)
    assert "line 3" in err.value.message and "broken.jsonl" in err.value.message
    path.write_text('{"user_name": "me", "character_name": "Ava"}\n[1, 2]\n', encoding="utf-8")
    with pytest.raises(CorruptInput, match="line 2"):
        read_items(path)


def test_crlf_line_endings_and_lone_surrogates(tmp_path):
    path = tmp_path / "win.jsonl"
    path.write_bytes(b'\xef\xbb\xbf{"user_name": "me", "character_name": "Ava"}\r\n'
                     b'{"name": "Ava", "is_user": false, "mes": "half \\ud83d emoji"}\r\n\r\n')
    conv = read_one(path)
    assert [m.text for m in conv.messages] == ["half \ufffd emoji"]


@pytest.mark.parametrize(("value", "expected"), [
    ("June 19, 2023 2:20pm", (datetime(2023, 6, 19, 14, 20, tzinfo=UTC).timestamp(), True)),
    ("June 19, 2023 12:00am", (datetime(2023, 6, 19, 0, 0, tzinfo=UTC).timestamp(), True)),
    ("June 19, 2023 12:30pm", (datetime(2023, 6, 19, 12, 30, tzinfo=UTC).timestamp(), True)),
    ("2024-07-12@01h31m37s123ms", (datetime(2024, 7, 12, 1, 31, 37, 123000, tzinfo=UTC).timestamp(), True)),
    ("2024-6-5 @14h 56m 50s 682ms", (datetime(2024, 6, 5, 14, 56, 50, 682000, tzinfo=UTC).timestamp(), True)),
    ("2025-03-25T13:19:34.754Z", (datetime(2025, 3, 25, 13, 19, 34, 754000, tzinfo=UTC).timestamp(), False)),
    (1742908774754, (1742908774.754, False)),
    ("1742908774754", (1742908774.754, False)),
    ("not a date", None),
    ("February 30, 2023 1:00pm", None),
    (None, None),
])
def test_parse_date(value, expected):
    assert sillytavern.parse_date(value) == expected


# ---------------------------------------------------------------- writing


def _tree() -> Conversation:
    """A ChatGPT-like tree: a regenerated reply (two siblings) and a hidden system node."""
    t = datetime(2025, 2, 1, 8, 0, tzinfo=UTC).timestamp()
    msgs = [
        Message("root", None, None, visible=True, hidden=True),
        Message("sys", "root", "system", text="custom instructions", visible=True, hidden=True),
        Message("u1", "sys", "user", text="你好，今天怎么样？", created_at=t, visible=True),
        Message("a1", "u1", "assistant", text="old reply", created_at=t + 30, requested_model="gpt-4o"),
        Message("a2", "u1", "assistant", text="新的回答\r\n第二行", created_at=t + 90, requested_model="gpt-4o",
                visible=True, sibling_index=1, parts=[{"type": "thoughts", "text": "hmm"}, {"type": "text"}]),
        Message("u2", "a2", "user", text="bye", created_at=t + 600, visible=True),
    ]
    return Conversation("chatgpt", "c1", title="t", created_at=t, messages=msgs)


def test_write_other_format_and_read_back():
    conv = _tree()
    out = sillytavern.write_sillytavern(conv, "我", "小白", tz=CST)
    lines = [json.loads(x) for x in out.split(b"\n")]
    assert lines[0]["user_name"] == "我" and lines[0]["character_name"] == "小白"
    assert lines[0]["create_date"] == "2025-02-01@16h00m00s"
    assert lines[1]["send_date"] == "February 1, 2025 4:00pm"
    assert lines[2]["swipes"] == ["old reply", "新的回答\r\n第二行"] and lines[2]["swipe_id"] == 1
    assert lines[2]["extra"] == {"model": "gpt-4o", "reasoning": "hmm"}
    back = sillytavern.parse_chat(lines, "export.jsonl")
    assert [m.text for m in shown(back)] == ["你好，今天怎么样？", "新的回答\r\n第二行", "bye"]
    assert [m.role for m in shown(back)] == ["user", "assistant", "user"]
    assert len([m for m in back.messages if m.parent_source_id == "0"]) == 2
    assert back.companion == "小白"
    for original, again in zip([conv.messages[2], conv.messages[4], conv.messages[5]], shown(back), strict=True):
        assert abs(original.created_at - again.created_at) < 60  # the zone came back from gen_finished
    assert sillytavern.write_sillytavern(back, "x", "y", tz=CST) == out


def test_write_folds_reasoning_nodes_into_the_reply():
    msgs = [
        Message("u", None, "user", text="why?", visible=True),
        Message("t", "u", "assistant", text="let me think", content_type="thoughts", visible=True),
        Message("a", "t", "assistant", text="because", content_type="text", visible=True, requested_model="o3"),
    ]
    out = sillytavern.write_sillytavern(Conversation("chatgpt", "x", messages=msgs), "me", "Ava", tz=UTC)
    lines = [json.loads(x) for x in out.split(b"\n")]
    assert [line["mes"] for line in lines[1:]] == ["why?", "because"]
    assert lines[2]["extra"] == {"model": "o3", "reasoning": "let me think"} and lines[2]["swipes"] == ["because"]
    assert "create_date" not in lines[0]  # no date anywhere: none is invented


def test_progress_counts_every_byte():
    path = need(SONG)
    seen: list[int] = []
    with open_bundle(path) as bundle:
        list(sillytavern.read(bundle, seen.append, None))
        assert sum(seen) == sillytavern.total_bytes(bundle) == path.stat().st_size


def test_write_after_choosing_another_swipe():
    conv = read_one(need(SONG))
    greeting = [m for m in conv.messages if m.parent_source_id is None]
    for m in greeting:
        m.visible = m.sibling_index == 2
    for m in conv.messages:
        if m.parent_source_id == "0":
            m.parent_source_id = greeting[2].source_id
    out = sillytavern.write_sillytavern(conv, "u", "c")
    lines = [json.loads(x) for x in out.split(b"\n")]
    assert lines[1]["swipe_id"] == 2 and lines[1]["mes"] == lines[1]["swipes"][2]
    back = sillytavern.parse_chat(lines, SONG.name)
    assert shown(back)[0].text == greeting[2].text
    assert len([m for m in back.messages if m.parent_source_id is None]) == 4


_line = st.fixed_dictionaries(
    {"name": st.text(max_size=5), "is_user": st.booleans(), "mes": st.text(max_size=20)},
    optional={
        "is_system": st.booleans(),
        "swipes": st.lists(st.text(max_size=8), max_size=3),
        "swipe_id": st.integers(-1, 4),
        "send_date": st.one_of(st.integers(0, 2**42), st.text(max_size=12)),
        "swipe_info": st.lists(st.dictionaries(st.sampled_from(["send_date", "extra"]), st.text(max_size=5)),
                               max_size=3),
        "extra": st.one_of(st.dictionaries(st.sampled_from(["model", "reasoning", "api"]), st.text(max_size=5)),
                           st.text(max_size=3)),
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_line, max_size=6))
def test_any_chat_reads_and_round_trips(lines):
    conv = sillytavern.parse_chat([{"user_name": "u", "character_name": "c"}, *lines], "f.jsonl")
    assert len(shown(conv)) == len(lines)
    assert [m.text for m in shown(conv)] == [line["mes"] for line in lines]
    assert len({m.source_id for m in conv.messages}) == len(conv.messages)
    out = sillytavern.write_sillytavern(conv, "u", "c")
    back = sillytavern.parse_chat([json.loads(x) for x in out.split(b"\n")], "f.jsonl")
    assert [m.text for m in shown(back)] == [m.text for m in shown(conv)]
    assert len(back.messages) == len(conv.messages)
