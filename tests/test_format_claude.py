"""The Claude.ai export reader, on the real export in ../shared/fixtures and on synthetic ones.

Every expectation about the real export is computed here from an independent reading of the
file with the stdlib `json`, not taken from the reader.
"""

from __future__ import annotations

import json
import zipfile
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from hearth.errors import CorruptInput
from hearth.formats import chatgpt, claude
from hearth.formats.bundle import open_bundle
from hearth.records import Account, AttachmentFile, Conversation, Document

FIXTURES = Path(__file__).resolve().parents[2] / "shared/fixtures"
EXPORT = FIXTURES / "claude/gsunny45_2026-04"
SENTINEL = "00000000-0000-4000-8000-000000000000"
needs_fixture = pytest.mark.skipif(not (EXPORT / "conversations.json").exists(), reason="../shared/fixtures absent")


def read_all(path: Path) -> list:
    with open_bundle(path) as bundle:
        return list(claude.read(bundle))


def conversations(items: list) -> list[Conversation]:
    return [i for i in items if isinstance(i, Conversation)]


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def truth() -> list[dict]:
    return json.loads((EXPORT / "conversations.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def parsed() -> dict[str, Conversation]:
    return {c.source_id: c for c in conversations(read_all(EXPORT))}


# ---------------------------------------------------------------- the real export


@needs_fixture
def test_sniff_folder_file_and_zip(tmp_path):
    zpath = tmp_path / "claude.zip"
    with zipfile.ZipFile(zpath, "w") as zf:
        for f in EXPORT.iterdir():
            zf.write(f, f"data-2026-04/{f.name}")
    for path in (EXPORT, EXPORT / "conversations.json", zpath):
        with open_bundle(path) as bundle:
            assert claude.sniff(bundle), path
            assert not chatgpt.sniff(bundle), path
    assert len(conversations(read_all(zpath))) == len(conversations(read_all(EXPORT)))


@needs_fixture
def test_counts_ids_titles_and_raw(truth, parsed):
    assert len(parsed) == len(truth) == 13
    assert sum(len(c.messages) for c in parsed.values()) == sum(len(c["chat_messages"]) for c in truth) == 154
    for conv in truth:
        got = parsed[conv["uuid"]]
        assert got.source_format == "claude" and got.companion == "Claude"
        assert got.title == (conv["name"] or None)
        assert got.created_at == ts(conv["created_at"]) and got.updated_at == ts(conv["updated_at"])
        assert got.raw == {k: v for k, v in conv.items() if k != "chat_messages"}
        by_id = {m.source_id: m for m in got.messages}
        for msg in conv["chat_messages"]:
            m = by_id[msg["uuid"]]
            assert m.raw == msg
            assert m.role == {"human": "user", "assistant": "assistant"}[msg["sender"]]
            assert m.created_at == ts(msg["created_at"])
            assert m.parent_source_id == (
                None if msg["parent_message_uuid"] == SENTINEL else msg["parent_message_uuid"]
            )
            assert m.requested_model is None and m.served_model is None


@needs_fixture
def test_parent_before_child_and_empty_conversation(truth, parsed):
    empty = [c["uuid"] for c in truth if not c["chat_messages"]]
    assert len(empty) == 1 and parsed[empty[0]].messages == []
    assert sum(1 for c in truth if not c["name"]) == sum(1 for c in parsed.values() if c.title is None) == 3
    for conv in parsed.values():
        seen: set[str] = set()
        for m in conv.messages:
            assert m.parent_source_id is None or m.parent_source_id in seen
            seen.add(m.source_id)


@needs_fixture
def test_branch_points_and_sibling_order(truth, parsed):
    expected = Counter()
    for conv in truth:
        kids = Counter(m["parent_message_uuid"] for m in conv["chat_messages"])
        expected[conv["uuid"]] = sum(1 for n in kids.values() if n > 1)
    assert sum(expected.values()) == 2
    for cid, conv in parsed.items():
        groups = defaultdict(list)
        for m in conv.messages:
            groups[m.parent_source_id].append(m)
        assert sum(1 for g in groups.values() if len(g) > 1) == expected[cid]
        for group in groups.values():
            ordered = sorted(group, key=lambda m: m.created_at)
            assert [m.sibling_index for m in ordered] == list(range(len(group)))


@needs_fixture
def test_visible_is_newest_leaf_path(truth, parsed):
    for conv in truth:
        msgs = conv["chat_messages"]
        parents = {m["uuid"]: m["parent_message_uuid"] for m in msgs}
        leaves = [(ts(m["created_at"]), i, m["uuid"]) for i, m in enumerate(msgs) if m["uuid"] not in parents.values()]
        path: set[str] = set()
        if leaves:
            node = max(leaves)[2]
            while node != SENTINEL:
                path.add(node)
                node = parents[node]
        assert {m.source_id for m in parsed[conv["uuid"]].messages if m.visible} == path
    hidden_by_branch = sum(1 for c in parsed.values() for m in c.messages if not m.visible)
    assert hidden_by_branch == 2


@needs_fixture
def test_text_is_the_answer_without_thinking(truth, parsed):
    thinking_in_raw_text = 0
    for conv in truth:
        by_id = {m.source_id: m for m in parsed[conv["uuid"]].messages}
        for msg in conv["chat_messages"]:
            m = by_id[msg["uuid"]]
            blocks = msg["content"]
            texts = [b["text"] for b in blocks if b["type"] == "text"]
            thoughts = [b["thinking"] for b in blocks if b["type"] == "thinking" and b["thinking"].strip()]
            for t in texts:
                assert t.strip() in m.text
            for t in thoughts:
                thinking_in_raw_text += t in msg["text"]
                assert t not in m.text
            assert [p["text"] for p in m.parts if p["type"] == "thinking"] == [
                b["thinking"] for b in blocks if b["type"] == "thinking"
            ]
            if len(blocks) == 1 and blocks[0]["type"] == "text":
                assert m.text == blocks[0]["text"].strip()
            tools = [(b["name"], b["input"]) for b in blocks if b["type"] == "tool_use"]
            assert [(p["name"], p["input"]) for p in m.parts if p["type"] == "tool_use"] == tools
            results = [b["name"] for b in blocks if b["type"] == "tool_result"]
            assert [p["name"] for p in m.parts if p["type"] == "tool_result"] == results
            assert not any(p["type"] == "token_budget" for p in m.parts)
    # The export's own `text` repeats every thinking block (20 of them); ours does not.
    assert thinking_in_raw_text == 20


@needs_fixture
def test_empty_text_field(truth, parsed):
    """28 messages have `text: ""`; in this export their text blocks are empty too (see report),
    so their text is the (empty) join of their blocks and never the thinking or a placeholder."""
    empty = [(c["uuid"], m) for c in truth for m in c["chat_messages"] if m["text"] == ""]
    assert len(empty) == 28
    for cid, msg in empty:
        m = next(x for x in parsed[cid].messages if x.source_id == msg["uuid"])
        assert m.text == "".join(b["text"] for b in msg["content"] if b["type"] == "text").strip()


@needs_fixture
def test_files_and_pasted_attachments(truth, parsed):
    n_files = n_pasted = 0
    for conv in truth:
        by_id = {m.source_id: m for m in parsed[conv["uuid"]].messages}
        for msg in conv["chat_messages"]:
            m = by_id[msg["uuid"]]
            n_files += len(msg["files"])
            n_pasted += len(msg["attachments"])
            assert {f["file_uuid"] for f in msg["files"]} <= {a.asset_id for a in m.attachments}
            assert len(m.attachments) >= max(len(msg["files"]), len(msg["attachments"]))
            pasted = [p["text"] for p in m.parts if p["type"] == "attachment"]
            assert pasted == [a["extracted_content"] for a in msg["attachments"]]
            names = {a.name for a in m.attachments}
            assert {f["file_name"] for f in msg["files"] if f["file_name"]} <= names
    assert (n_files, n_pasted) == (10, 6)


@needs_fixture
def test_memories_kept_as_file():
    files = [i for i in read_all(EXPORT) if isinstance(i, AttachmentFile)]
    assert [(f.path, f.asset_id) for f in files] == [("memories.json", None)]
    assert files[0].data == (EXPORT / "memories.json").read_bytes()


@needs_fixture
def test_truncated_real_export(tmp_path):
    data = (EXPORT / "conversations.json").read_bytes()
    cut = tmp_path / "conversations.json"
    cut.write_bytes(data[: len(data) // 2])
    got = []
    with open_bundle(cut) as bundle, pytest.raises(CorruptInput) as err:
        for item in claude.read(bundle):
            got.append(item)
    assert got and err.value.offset is not None and 0 < err.value.offset <= len(data) // 2
    assert "conversations.json" in err.value.message and "byte" in err.value.message


@needs_fixture
def test_does_not_claim_chatgpt():
    for folder in sorted((FIXTURES / "chatgpt").glob("*/")):
        with open_bundle(folder) as bundle:
            assert not claude.sniff(bundle), folder


# ---------------------------------------------------------------- synthetic exports


def old_style() -> list[dict]:
    """A 2023-style export: no `content` blocks and no parent links."""
    msgs = [
        {"uuid": "m1", "text": "你好，小白", "sender": "human", "created_at": "2023-11-01T10:00:00Z",
         "attachments": [{"file_name": "notes.txt", "file_size": 5, "file_type": "text/plain",
                          "extracted_content": "hello"}]},
        {"uuid": "m2", "text": "你好！", "sender": "assistant", "created_at": "2023-11-01T10:00:05Z",
         "attachments": []},
        {"uuid": "m3", "text": "再见", "sender": "human", "created_at": "2023-11-01T10:01:00Z", "attachments": []},
    ]  # fmt: skip
    return [{"uuid": "c-old", "name": "", "created_at": "2023-11-01T10:00:00Z",
             "updated_at": "2023-11-01T10:01:00Z", "chat_messages": msgs}]  # fmt: skip


def test_old_style_export_is_a_chain(tmp_path):
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(old_style(), ensure_ascii=False), encoding="utf-8")
    with open_bundle(path) as bundle:
        assert claude.sniff(bundle)
    (conv,) = conversations(read_all(path))
    assert conv.title is None
    assert [(m.source_id, m.parent_source_id, m.role, m.text) for m in conv.messages] == [
        ("m1", None, "user", "你好，小白"),
        ("m2", "m1", "assistant", "你好！"),
        ("m3", "m2", "user", "再见"),
    ]
    assert all(m.visible for m in conv.messages)
    (att,) = conv.messages[0].attachments
    assert (att.asset_id, att.name, att.mime_type, att.size_bytes) == ("m1:attachment:0", "notes.txt", "text/plain", 5)
    assert conv.messages[0].parts[-1] == {"type": "attachment", "asset_id": "m1:attachment:0", "name": "notes.txt",
                                          "text": "hello"}  # fmt: skip


def block(kind: str, **fields) -> dict:
    return {"type": kind, "start_timestamp": None, "stop_timestamp": None, "flags": None, **fields}


def test_blocks_text_thinking_tools_and_model(tmp_path):
    msgs = [
        {"uuid": "u", "text": "", "sender": "human", "created_at": "2026-01-01T00:00:00Z",
         "parent_message_uuid": SENTINEL, "content": [block("text", text="What is 2+2?")]},
        {"uuid": "a", "text": " hmm 2+2 is 4 …", "sender": "assistant", "created_at": "2026-01-01T00:00:01Z",
         "parent_message_uuid": "u", "model": "claude-opus-4",
         "content": [block("text", text=" "), block("thinking", thinking="hmm", summaries=[{"summary": "S"}],
                                                    cut_off=False),
                     block("text", text="It is"), block("text", text=" 4."),
                     block("tool_use", name="calc", input={"x": "2+2"}, id="t1"),
                     block("tool_result", name="calc", content=[{"type": "text", "text": "4"}], tool_use_id="t1"),
                     block("token_budget", remaining=100), block("text", text="Done.")]},
    ]  # fmt: skip
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"uuid": "c", "name": "n", "model": "claude-x", "chat_messages": msgs}]))
    (conv,) = conversations(read_all(path))
    user, answer = conv.messages
    assert user.text == "What is 2+2?"  # `text` is "" but the block has the text
    assert answer.text == "It is 4.\n\nDone."
    assert [p["type"] for p in answer.parts] == ["text", "thinking", "text", "text", "tool_use", "tool_result", "text"]
    assert answer.parts[1] == {"type": "thinking", "text": "hmm", "summaries": ["S"]}
    assert answer.parts[5]["text"] == "4"
    assert (answer.served_model, answer.requested_model, conv.default_model) == (
        "claude-opus-4",
        "claude-x",
        "claude-x",
    )
    assert user.served_model is None


def test_branches_ties_and_cycles(tmp_path):
    t = "2026-01-01T00:00:00Z"
    msgs = [
        {"uuid": "r", "sender": "human", "text": "q", "created_at": t, "parent_message_uuid": SENTINEL},
        {"uuid": "a1", "sender": "assistant", "text": "x", "created_at": t, "parent_message_uuid": "r"},
        {"uuid": "a2", "sender": "assistant", "text": "y", "created_at": t, "parent_message_uuid": "r"},
        {"uuid": "c1", "sender": "human", "text": "loop", "created_at": t, "parent_message_uuid": "c2"},
        {"uuid": "c2", "sender": "human", "text": "loop", "created_at": t, "parent_message_uuid": "c1"},
        {"uuid": "d", "sender": "system", "text": "", "created_at": None, "parent_message_uuid": "gone"},
    ]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"uuid": "c", "chat_messages": msgs}, {"uuid": "ties", "chat_messages": msgs[:3]}]))
    conv, ties = conversations(read_all(path))
    by_id = {m.source_id: m for m in conv.messages}
    assert len(by_id) == 6
    assert (by_id["a1"].sibling_index, by_id["a2"].sibling_index) == (0, 1)
    assert by_id["d"].parent_source_id is None and by_id["d"].role == "system"
    # The cycle is cut open at its first message, which becomes one more root.
    assert (by_id["c1"].parent_source_id, by_id["c2"].parent_source_id) == (None, "c1")
    assert sorted(m.sibling_index for m in conv.messages if m.parent_source_id is None) == [0, 1, 2]
    # All timed leaves tie on created_at: the last one in file order is the visible branch.
    assert {m.source_id for m in conv.messages if m.visible} == {"c1", "c2"}
    assert {m.source_id for m in ties.messages if m.visible} == {"r", "a2"}
    seen: set[str] = set()
    for m in conv.messages:
        assert m.parent_source_id is None or m.parent_source_id in seen
        seen.add(m.source_id)


def test_zip_with_projects_users_and_memories(tmp_path):
    projects = [
        {"uuid": "p1", "name": "Garden", "description": "d", "prompt_template": "Speak like a gardener.",
         "docs": [{"uuid": "d1", "filename": "soil.md", "content": "土壤 pH 6.5",
                   "created_at": "2025-05-01T00:00:00Z"}]},
        {"uuid": "p2", "name": "Empty", "prompt_template": "  ", "docs": []},
    ]  # fmt: skip
    users = [{"uuid": "user-1", "full_name": "Mars", "email_address": "m@example.com"}]
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("conversations.json", json.dumps(old_style()))
        zf.writestr("projects.json", json.dumps(projects))
        zf.writestr("users.json", json.dumps(users))
        zf.writestr("memories.json", b'[{"conversations_memory": "likes tea"}]')
        zf.writestr("extra/readme.txt", b"hi")
    with open_bundle(path) as bundle:
        assert claude.sniff(bundle) and not chatgpt.sniff(bundle)
        assert claude.total_bytes(bundle) == sum(e.size for e in bundle.entries)
    items = read_all(path)
    docs = {d.source_id: d for d in items if isinstance(d, Document)}
    assert set(docs) == {"d1", "p1:prompt_template"}
    assert (docs["d1"].title, docs["d1"].text, docs["d1"].collection) == ("soil.md", "土壤 pH 6.5", "Garden")
    assert docs["p1:prompt_template"].text == "Speak like a gardener."
    assert docs["d1"].raw["project"]["description"] == "d"
    (account,) = [i for i in items if isinstance(i, Account)]
    assert (account.source_id, account.raw) == ("user-1", users[0])
    files = {f.path: f.data for f in items if isinstance(f, AttachmentFile)}
    assert files == {"memories.json": b'[{"conversations_memory": "likes tea"}]', "extra/readme.txt": b"hi"}


def test_truncated_synthetic_file_names_offset(tmp_path):
    convs = old_style() * 3
    data = json.dumps(convs).encode()
    path = tmp_path / "conversations.json"
    path.write_bytes(data[:-40])
    got = []
    with open_bundle(path) as bundle, pytest.raises(CorruptInput) as err:
        got.extend(claude.read(bundle))
    assert len(got) == 2 and err.value.offset is not None


def test_sniff_ordering_and_rejections(tmp_path):
    chatgpt_like = tmp_path / "conversations.json"
    chatgpt_like.write_text(json.dumps([{"title": "t", "mapping": {}, "chat_messages_note": 1}]))
    tool_key = tmp_path / "claude.json"
    tool_key.write_text(json.dumps([{"uuid": "c", "chat_messages": [{"content": [{"input": {"mapping": 1}}]}]}]))
    other = tmp_path / "notes.txt"
    other.write_text('"chat_messages"')
    with open_bundle(chatgpt_like) as b1, open_bundle(tool_key) as b2, open_bundle(other) as b3:
        assert (claude.sniff(b1), claude.sniff(b2), claude.sniff(b3)) == (False, True, False)


def test_text_field_used_when_no_block_says_what_the_message_holds(tmp_path):
    msgs = [
        {"uuid": "u", "sender": "human", "text": "describe this", "content": [{"type": "image", "file_uuid": "f"}]},
        {"uuid": "a", "sender": "assistant", "text": "thought… placeholder", "parent_message_uuid": "u",
         "content": [block("thinking", thinking="thought…"), block("tool_use", name="x", input={})]},
    ]  # fmt: skip
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"uuid": "c", "chat_messages": msgs}]))
    (conv,) = conversations(read_all(path))
    user, answer = conv.messages
    assert user.text == "describe this" and [p["type"] for p in user.parts] == ["text", "image"]
    assert answer.text == ""  # thinking and a tool call only: no answer text, no leaked thinking
