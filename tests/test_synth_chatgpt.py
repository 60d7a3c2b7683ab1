"""Tests for bench/synth_chatgpt.py: the synthetic exports must be valid, deterministic and realistic."""

from __future__ import annotations

import json
import re
import sys
import zipfile
from collections import Counter
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "bench"))
import synth_chatgpt  # noqa: E402

REQUIRED_TYPES = {
    "text",
    "multimodal_text",
    "code",
    "execution_output",
    "tether_browsing_display",
    "tether_quote",
    "system_error",
    "thoughts",
    "reasoning_recap",
    "user_editable_context",
    "holo_memory_v9",
}
CONV_KEYS = {
    "title",
    "create_time",
    "update_time",
    "mapping",
    "moderation_results",
    "current_node",
    "plugin_ids",
    "conversation_id",
    "conversation_template_id",
    "gizmo_id",
    "is_archived",
    "default_model_slug",
    "id",
}


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("synth") / "export.zip"
    summary = synth_chatgpt.generate(path, conversations=200, seed=0)
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        data = {n: zf.read(n) for n in ("conversations.json", "user.json", "message_feedback.json")}
    return {
        "summary": summary,
        "path": path,
        "names": names,
        "convs": json.loads(data["conversations.json"]),
        "user": json.loads(data["user.json"]),
        "feedback": json.loads(data["message_feedback.json"]),
    }


def messages(convs: list[dict]):
    for c in convs:
        for node in c["mapping"].values():
            if node["message"] is not None:
                yield c, node["message"]


def test_json_parses_with_stdlib(tmp_path: Path) -> None:
    out = tmp_path / "conversations.json"
    summary = synth_chatgpt.generate(out, conversations=30, seed=3)
    raw = out.read_bytes()
    convs = json.loads(raw)
    assert len(convs) == summary["conversations"] == 30
    assert summary["bytes"] == len(raw) and summary["seed"] == 3
    assert raw.startswith(b"[{") and b"}, {" in raw and raw.endswith(b"}]")
    times = [c["create_time"] for c in convs]
    assert times == sorted(times, reverse=True)  # newest first, like real exports


def test_deterministic(tmp_path: Path) -> None:
    for name in ("a.zip", "b.zip", "c.json", "d.json"):
        synth_chatgpt.generate(tmp_path / name, conversations=40, seed=7)
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert (tmp_path / "c.json").read_bytes() == (tmp_path / "d.json").read_bytes()
    synth_chatgpt.generate(tmp_path / "e.json", conversations=40, seed=8)
    assert (tmp_path / "e.json").read_bytes() != (tmp_path / "c.json").read_bytes()


def test_size_targeting(tmp_path: Path) -> None:
    out = tmp_path / "conversations.json"
    summary = synth_chatgpt.generate(out, target_bytes=2_000_000, seed=1)
    size = out.stat().st_size
    assert 2_000_000 <= size <= 2_500_000
    assert summary["bytes"] == size
    json.loads(out.read_bytes())


def test_argument_validation(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        synth_chatgpt.generate(tmp_path / "x.json")
    with pytest.raises(ValueError):
        synth_chatgpt.generate(tmp_path / "x.json", target_bytes=10, conversations=1)


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert synth_chatgpt.main([str(tmp_path / "x.zip"), "--conversations", "5", "--seed", "2", "--no-assets"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["conversations"] == 5 and summary["assets"] == 0
    assert not [n for n in zipfile.ZipFile(tmp_path / "x.zip").namelist() if n.endswith((".png", ".webp"))]


def test_zip_members_and_assets(export: dict) -> None:
    names = export["names"]
    assert {"conversations.json", "user.json", "message_feedback.json", "chat.html"} <= set(names)
    assert any(n.startswith("dalle-generations/") and n.endswith(".webp") for n in names)
    bases = [n.rsplit("/", 1)[-1] for n in names]
    raw = json.dumps(export["convs"])
    pointers = set(re.findall(r'"(?:file-service|sediment)://(file[-_][A-Za-z0-9]+)"', raw))
    assert any(p.startswith("file-") for p in pointers) and any(p.startswith("file_") for p in pointers)
    for fid in pointers:
        assert any(b.startswith(fid + "-") for b in bases), fid
    assert re.search(r"^file-[A-Za-z0-9]{22}-.+\.png$", "\n".join(bases), re.M)
    assert re.search(r"^file_[0-9a-f]{32}-[0-9a-f-]{36}\.png$", "\n".join(bases), re.M)
    with zipfile.ZipFile(export["path"]) as zf:
        png = zf.read(next(n for n in names if n.endswith(".png")))
    assert png.startswith(b"\x89PNG")
    user = export["user"]
    assert user["id"].startswith("user-") and user["chatgpt_plus_user"] is True and "email" in user


def test_tree_integrity(export: dict) -> None:
    for c in export["convs"]:
        mapping = c["mapping"]
        roots = [n for n in mapping.values() if n["parent"] is None]
        assert len(roots) == 1 and roots[0]["message"] is None
        assert c["current_node"] in mapping
        kids: dict[str, list[str]] = {k: [] for k in mapping}
        for nid, node in mapping.items():
            assert node["id"] == nid
            if node["parent"] is not None:
                kids[node["parent"]].append(nid)
        for nid, node in mapping.items():
            if "children" in node:
                assert node["children"] == kids[nid]
        assert kids[c["current_node"]] == []  # current_node is a leaf


def test_realism_features(export: dict) -> None:
    convs = export["convs"]
    years = Counter(__import__("datetime").datetime.utcfromtimestamp(c["create_time"]).year for c in convs)
    assert set(years) == {2023, 2024, 2025, 2026}
    assert all(isinstance(c["create_time"], float) for c in convs)
    msgs = list(messages(convs))
    assert any(m["create_time"] is None for _, m in msgs)
    assert any(m["create_time"] is None and m["author"]["role"] in ("user", "assistant") for _, m in msgs)
    roots = [n["id"] for c in convs for n in c["mapping"].values() if n["parent"] is None]
    assert "client-created-root" in roots and any(re.fullmatch(r"[0-9a-f-]{36}", r) for r in roots)
    assert any(
        m["author"]["role"] == "system"
        and m["content"]["parts"] == [""]
        and m["metadata"].get("is_visually_hidden_from_conversation")
        for _, m in msgs
    )
    no_children = [c for c in convs if all("children" not in n for n in c["mapping"].values())]
    assert 0.03 * len(convs) <= len(no_children) <= 0.25 * len(convs)
    assert all(CONV_KEYS <= set(c) for c in convs if c not in no_children)
    assert all(c["moderation_results"] == [] for c in convs if c not in no_children)

    # branches: regenerations (2-4 assistant siblings) and edits (2 user siblings that both continue)
    regen = edits = not_last = 0
    for c in convs:
        mp = c["mapping"]
        kids: dict[str, list[str]] = {}
        for nid, n in mp.items():
            if n["parent"]:
                kids.setdefault(n["parent"], []).append(nid)
        for ch in kids.values():
            roles = {mp[x]["message"]["author"]["role"] for x in ch}
            if len(ch) >= 2 and roles == {"assistant"}:
                regen += 1
                assert len(ch) <= 4
            if len(ch) == 2 and roles == {"user"} and all(kids.get(x) for x in ch):
                edits += 1
        not_last += c["current_node"] != list(mp)[-1]
    assert regen and edits and not_last

    texts = [
        p
        for _, m in msgs
        if m["content"]["content_type"] in ("text", "multimodal_text")
        for p in m["content"]["parts"]
        if isinstance(p, str) and p
    ]
    cjk = re.compile(r"[\u4e00-\u9fff]")
    assert any(cjk.search(t) for t in texts) and any(not cjk.search(t) and re.search(r"[a-z]{4}", t) for t in texts)
    assert any(cjk.search(t) and re.search(r"\b[a-z]{4,}\b", t) for t in texts)  # mixed language
    assert any("宝贝" in t for t in texts) and any(re.search("[\U0001f300-\U0001faff]", t) for t in texts)
    lens = [len(t) for t in texts]
    assert min(lens) <= 5 and max(lens) >= 3000

    types = Counter(m["content"]["content_type"] for _, m in msgs)
    assert REQUIRED_TYPES <= set(types)
    assert types["holo_memory_v9"] < types["text"] / 20  # unknown future types stay rare
    assert all(
        m["recipient"] == "python"
        for _, m in msgs
        if m["content"]["content_type"] == "code" and "import" in m["content"]["text"]
    )
    mm_parts = [p for _, m in msgs if m["content"]["content_type"] == "multimodal_text" for p in m["content"]["parts"]]
    ptr = next(p for p in mm_parts if isinstance(p, dict))
    assert {"content_type", "asset_pointer", "size_bytes", "width", "height", "fovea", "metadata"} <= set(ptr)
    thoughts = next(m["content"] for _, m in msgs if m["content"]["content_type"] == "thoughts")
    assert {"summary", "content"} <= set(thoughts["thoughts"][0]) and thoughts["source_analysis_msg_id"]
    assert any(
        re.fullmatch(r"Thought for \d+ ?s(econds)?", m["content"]["content"])
        for _, m in msgs
        if m["content"]["content_type"] == "reasoning_recap"
    )
    uec = next(m for _, m in msgs if m["content"]["content_type"] == "user_editable_context")
    assert {"user_profile", "user_instructions"} <= set(uec["content"]) and uec["metadata"][
        "is_visually_hidden_from_conversation"
    ]

    tools = {m["author"]["name"] for _, m in msgs if m["author"]["role"] == "tool"}
    assert {"python", "browser", "bio", "dalle.text2im", "web"} <= tools

    served = Counter(m["metadata"].get("model_slug") for _, m in msgs if m["author"]["role"] == "assistant")
    assert {"text-davinci-002-render-sha", "gpt-4", "gpt-4o", "gpt-5", "gpt-5-instant"} <= set(served)
    assert {"gpt-4o", "auto", "gpt-5"} <= {c["default_model_slug"] for c in convs}
    switched = [
        c
        for c in convs
        if len(
            {m["metadata"].get("default_model_slug") for _, m in messages([c]) if m["author"]["role"] == "assistant"}
        )
        > 1
    ]
    assert switched

    # reroutes: gpt-4o conversations sometimes served by a safety / mini model, flagged with requested_model_slug
    rerouted = [(c, m) for c, m in msgs if m["metadata"].get("requested_model_slug") == "gpt-4o"]
    assert {m["metadata"]["model_slug"] for _, m in rerouted} == {"gpt-5-safety", "gpt-5-chat-safety", "gpt-4o-mini"}
    assert all(m["metadata"]["default_model_slug"] == "gpt-4o" for _, m in rerouted)
    replies_4o = [
        m for c, m in msgs if m["author"]["role"] == "assistant" and m["metadata"].get("default_model_slug") == "gpt-4o"
    ]
    assert 0.03 <= len(rerouted) / len(replies_4o) <= 0.15


def test_feedback(export: dict) -> None:
    fb = export["feedback"]
    assert fb
    ids = {(c["id"], m["id"]) for c, m in messages(export["convs"]) if m["author"]["role"] == "assistant"}
    for e in fb:
        assert set(e) == {"id", "conversation_id", "message_id", "user_id", "rating", "create_time", "content"}
        assert (e["conversation_id"], e["message_id"]) in ids
        assert e["rating"] in ("thumbsUp", "thumbsDown") and e["user_id"] == export["user"]["id"]
        assert "text" in json.loads(e["content"]) and re.match(r"\d{4}-\d\d-\d\dT", e["create_time"])
