"""The OpenAI-messages reader (`.jsonl` / `.json`) and the SFT writer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearth.errors import CorruptInput
from hearth.formats import chatgpt, claude, jsonl
from hearth.formats.bundle import open_bundle
from hearth.records import Conversation, Message

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures"

CHAT = {
    "messages": [
        {"role": "system", "content": "你是小白，一只温柔的猫。"},
        {"role": "user", "content": "你好", "name": "mars"},
        {"role": "assistant", "content": "喵，你好！", "model": "gpt-4o-2024-08-06", "weight": 0},
        {"role": "user", "content": None},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "look at this"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png", "detail": "low"}},
                {"type": "text", "text": "cute?"},
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "Very cute."}]},
    ],
    "tools": [],
    "parallel_tool_calls": False,
}


def read(path: Path) -> list[Conversation]:
    with open_bundle(path) as bundle:
        assert jsonl.sniff(bundle), path
        return list(jsonl.read(bundle))


def canonical_id(obj) -> str:
    return hashlib.sha256(
        json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def test_jsonl_lines_roles_parts_and_raw(tmp_path):
    other = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
    path = tmp_path / "train.jsonl"
    path.write_text(json.dumps(CHAT, ensure_ascii=False) + "\n\n" + json.dumps(other) + "\n", encoding="utf-8")
    conv, second = read(path)
    assert conv.source_format == "openai-jsonl" and conv.companion is None
    assert conv.source_id == canonical_id(CHAT) and second.source_id == canonical_id(other)
    assert conv.raw == {"tools": [], "parallel_tool_calls": False}
    msgs = conv.messages
    assert [(m.source_id, m.parent_source_id) for m in msgs] == [(str(i), str(i - 1) if i else None) for i in range(6)]
    assert all(m.visible and not m.hidden for m in msgs)
    assert [m.role for m in msgs] == ["system", "user", "assistant", "user", "user", "assistant"]
    assert msgs[1].author_name == "mars"
    assert (msgs[2].served_model, msgs[2].raw["weight"]) == ("gpt-4o-2024-08-06", 0)
    assert msgs[1].served_model is None
    assert (msgs[3].text, msgs[3].parts) == ("", [])
    assert msgs[4].text == "look at this\ncute?"
    assert msgs[4].parts == [
        {"type": "text", "text": "look at this"},
        {"type": "image", "url": "https://example.com/cat.png"},
        {"type": "text", "text": "cute?"},
    ]
    assert msgs[5].text == "Very cute."
    assert [m.raw for m in msgs] == CHAT["messages"]


def test_reimport_and_reformatting_keep_ids(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.json"
    a.write_text(json.dumps(CHAT) + "\n" + json.dumps(CHAT) + "\n")
    b.write_text(json.dumps(CHAT, indent=2, ensure_ascii=False), encoding="utf-8")
    first, dup = read(a)
    assert [c.source_id for c in read(a)] == [first.source_id, dup.source_id]
    assert dup.source_id == f"{first.source_id}:2"  # an identical line is kept, under its own id
    (single,) = read(b)
    assert single.source_id == first.source_id


def test_json_shapes(tmp_path):
    one, many, bare = tmp_path / "one.json", tmp_path / "many.json", tmp_path / "bare.json"
    one.write_text(json.dumps(CHAT))
    many.write_text(json.dumps([CHAT, {"messages": []}, {"messages": [{"role": "user", "content": "x"}]}]))
    bare.write_text(json.dumps(CHAT["messages"]))
    (c1,) = read(one)
    assert len(c1.messages) == 6 and c1.raw["tools"] == []
    convs = read(many)
    assert [len(c.messages) for c in convs] == [6, 0, 1]
    (c3,) = read(bare)
    assert [m.text for m in c3.messages] == [m.text for m in c1.messages]
    assert c3.source_id == canonical_id({"messages": CHAT["messages"]}) and c3.raw == {}


def test_tool_calls_become_parts(tmp_path):
    obj = {
        "messages": [
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "sunny"},
            {"role": "assistant", "content": "Sunny."},
        ]
    }
    path = tmp_path / "t.jsonl"
    path.write_text(json.dumps(obj) + "\n")
    (conv,) = read(path)
    assert conv.messages[1].parts == [{"type": "tool_use", "name": "w", "input": "{}", "id": "c1"}]
    assert (conv.messages[2].role, conv.messages[2].text) == ("tool", "sunny")


def test_bad_line_names_file_and_line(tmp_path):
    good = json.dumps({"messages": [{"role": "user", "content": "hi"}]})
    path = tmp_path / "broken.jsonl"
    lines = [good, "", good, '{"messages": [{"role": "user", "content": "cut', good]
    path.write_text("\n".join(lines) + "\n")
    got = []
    with open_bundle(path) as bundle, pytest.raises(CorruptInput) as err:
        got.extend(jsonl.read(bundle))
    assert len(got) == 2
    assert "line 4" in err.value.message and "broken.jsonl" in err.value.message
    assert err.value.offset == len("\n".join(lines[:3])) + 1

    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(good + "\n" + json.dumps({"text": "no messages"}) + "\n")
    with open_bundle(wrong) as bundle, pytest.raises(CorruptInput, match="line 2"):
        list(jsonl.read(bundle))


def test_truncated_or_mixed_json(tmp_path):
    path = tmp_path / "cut.json"
    path.write_text(json.dumps([CHAT, CHAT])[:-30])
    got = []
    with open_bundle(path) as bundle, pytest.raises(CorruptInput) as err:
        got.extend(jsonl.read(bundle))
    assert len(got) == 1 and err.value.offset
    mixed = tmp_path / "mixed.json"
    mixed.write_text(json.dumps([CHAT, {"role": "user", "content": "x"}]))
    with open_bundle(mixed) as bundle, pytest.raises(CorruptInput, match="element #2"):
        list(jsonl.read(bundle))


# ---------------------------------------------------------------- what it must not claim


def sniffs(path: Path) -> bool:
    with open_bundle(path) as bundle:
        return jsonl.sniff(bundle)


def test_rejects_other_formats(tmp_path):
    st_chat = tmp_path / "st.jsonl"
    st_chat.write_text(
        json.dumps({"user_name": "me", "character_name": "Seraphina", "chat_metadata": {}})
        + "\n"
        + json.dumps({"name": "Seraphina", "is_user": False, "mes": "hi", "send_date": "x"})
        + "\n"
    )
    gpt = tmp_path / "conversations.json"
    gpt.write_text(json.dumps([{"title": "t", "mapping": {"a": {"message": None}}, "messages": []}]))
    cl = tmp_path / "claude.json"
    cl.write_text(json.dumps([{"uuid": "u", "chat_messages": [], "messages": []}]))
    plain = tmp_path / "list.json"
    plain.write_text(json.dumps([{"sender": "human", "text": "hi"}]))
    scalar = tmp_path / "n.json"
    scalar.write_text("42")
    text = tmp_path / "notes.txt"
    text.write_text(json.dumps(CHAT))
    for path in (st_chat, gpt, cl, plain, scalar, text, tmp_path):
        assert not sniffs(path), path


@pytest.mark.parametrize(
    "path",
    sorted((FIXTURES / "sillytavern").glob("*.jsonl"))
    + sorted((FIXTURES / "chatgpt").glob("*/conversations*.json"))
    + sorted((FIXTURES / "claude").glob("*/conversations.json")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_rejects_real_fixtures(path):
    assert not sniffs(path)
    with open_bundle(path) as bundle:
        if path.suffix == ".json":
            assert chatgpt.sniff(bundle) or claude.sniff(bundle)


# ---------------------------------------------------------------- the writer


def msg(sid, parent, role, text, *, visible=True, hidden=False) -> Message:
    return Message(source_id=sid, parent_source_id=parent, role=role, text=text, visible=visible, hidden=hidden)


def tree_conversation() -> Conversation:
    """A ChatGPT-like tree: hidden root and custom instructions, a regenerated reply, a tool turn."""
    return Conversation(
        source_format="chatgpt",
        source_id="c1",
        messages=[
            msg("root", None, None, "", hidden=True),
            msg("ctx", "root", "system", "user profile", hidden=True),
            msg("sys", "ctx", "system", "Be kind."),
            msg("u1", "sys", "user", "你好"),
            msg("a-old", "u1", "assistant", "old answer", visible=False),
            msg("a1", "u1", "assistant", "你好呀"),
            msg("t1", "a1", "tool", "search results"),
            msg("u2", "t1", "user", "   "),
            msg("a2", "u2", "assistant", "Bye!"),
        ],
    )


def lines(convs, system_prompt=None) -> list[dict]:
    return [json.loads(line) for line in jsonl.write_openai_jsonl(convs, system_prompt)]


def test_writer_keeps_the_visible_shown_turns():
    no_reply = Conversation(source_format="x", source_id="c2", messages=[msg("u", None, "user", "anyone?")])
    (out,) = lines([tree_conversation(), no_reply])
    assert out == {
        "messages": [
            {"role": "system", "content": "Be kind."},
            {"role": "user", "content": "你好"},
            {"role": "assistant", "content": "你好呀"},
            {"role": "assistant", "content": "Bye!"},
        ]
    }
    (prompted,) = lines([tree_conversation()], system_prompt="You are Xiaobai.")
    assert prompted["messages"][0] == {"role": "system", "content": "You are Xiaobai."}
    assert [m["role"] for m in prompted["messages"]].count("system") == 1


def test_writer_output_is_valid_openai_finetuning():
    raw = list(jsonl.write_openai_jsonl([tree_conversation()] * 3, "sys"))
    assert len(raw) == 3
    for line in raw:
        assert line.endswith(b"\n") and line.count(b"\n") == 1
        obj = json.loads(line)
        assert set(obj) == {"messages"}
        for m in obj["messages"]:
            assert set(m) == {"role", "content"}
            assert m["role"] in {"system", "user", "assistant"}
            assert isinstance(m["content"], str) and m["content"].strip()
        assert any(m["role"] == "assistant" for m in obj["messages"])


def test_round_trip_write_then_read(tmp_path):
    convs = [tree_conversation()]
    path = tmp_path / "sft.jsonl"
    path.write_bytes(b"".join(jsonl.write_openai_jsonl(convs, "You are Xiaobai.")))
    (back,) = read(path)
    assert [(m.role, m.text) for m in back.messages] == [
        (m["role"], m["content"]) for m in lines(convs, "You are Xiaobai.")[0]["messages"]
    ]


@pytest.mark.skipif(not (FIXTURES / "claude").exists(), reason="../shared/fixtures absent")
def test_round_trip_from_real_claude_export(tmp_path):
    with open_bundle(FIXTURES / "claude/gsunny45_2026-04") as bundle:
        convs = [c for c in claude.read(bundle) if isinstance(c, Conversation)]
    path = tmp_path / "claude-sft.jsonl"
    path.write_bytes(b"".join(jsonl.write_openai_jsonl(convs)))
    back = read(path)
    expected = [
        [(m.role, m.text) for m in c.messages if m.visible and m.text.strip()]
        for c in convs
        if any(m.role == "assistant" and m.visible and m.text.strip() for m in c.messages)
    ]
    assert [[(m.role, m.text) for m in c.messages] for c in back] == expected
    assert len(back) == 10  # 13 conversations: one empty, two with only empty messages


turns = st.lists(
    st.tuples(st.sampled_from(["user", "assistant"]), st.text(min_size=1).filter(str.strip)), min_size=1, max_size=6
)


@settings(max_examples=60, deadline=None)
@given(turns)
def test_round_trip_property(tmp_path_factory, pairs):
    conv = Conversation(
        source_format="x",
        source_id="p",
        messages=[msg(str(i), str(i - 1) if i else None, role, text) for i, (role, text) in enumerate(pairs)],
    )
    path = tmp_path_factory.mktemp("rt") / "p.jsonl"
    path.write_bytes(b"".join(jsonl.write_openai_jsonl([conv])))
    if not any(role == "assistant" for role, _ in pairs):
        assert path.read_bytes() == b""
        return
    (back,) = read(path)
    assert [(m.role, m.text) for m in back.messages] == pairs
