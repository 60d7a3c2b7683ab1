"""The provider's profile becomes memories: counted on the real fixtures against a plain JSON walk
of the files, and on a synthetic export for the kinds the fixtures lack (saved memory, bio calls)."""

from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from conftest import FIXTURES, run_hearth
from hearth.ingest import import_path
from hearth.memory.profile import (
    SOURCES,
    bio_texts,
    chatgpt_traces,
    edit,
    forget,
    keep,
    markdown_items,
    profile_memories,
    saved_memory_lines,
    scan_profile,
)
from hearth.store import Store
from hearth.store import schema as s
from hearth.store.memories import get_memory, list_memories, provenance

BOTH_ENGINES = True  # the profile memories of real exports land the same on SQLite and PostgreSQL

GYPADHAM = FIXTURES / "chatgpt" / "gypadham_2025-01" / "conversations.json"
BOBBY = FIXTURES / "chatgpt" / "bobbytango_2023-09" / "conversations.json"
CLAUDE = FIXTURES / "claude" / "gsunny45_2026-04"
needs = pytest.mark.skipif(not GYPADHAM.exists(), reason="shared fixtures missing")


def message_ids(store: Store) -> dict[str, int]:
    m = s.messages.c
    with store.engine.connect() as conn:
        return dict(conn.execute(sa.select(m.source_id, m.id).where(m.source_format == "chatgpt")).all())


def walk(path) -> dict[str, dict[str, set]]:
    """Independent reading: (kind → {text → node ids}) straight from the JSON, no hearth code."""
    found: dict[str, dict[str, set]] = {"about": {}, "how": {}, "uec": {}, "ci": {}, "mec": {}, "bio": {}}
    for conv in json.loads(path.read_text()):
        for nid, node in conv["mapping"].items():
            msg = node.get("message") or {}
            content, meta = msg.get("content") or {}, msg.get("metadata") or {}
            ucmd = meta.get("user_context_message_data") or {}
            if content.get("content_type") == "user_editable_context":
                found["uec"].setdefault("", set()).add(nid)
            elif meta.get("is_user_system_message"):
                found["ci"].setdefault("", set()).add(nid)
            if ucmd.get("about_user_message"):
                found["about"].setdefault(ucmd["about_user_message"], set()).add(nid)
            if ucmd.get("about_model_message"):
                found["how"].setdefault(ucmd["about_model_message"], set()).add(nid)
            if content.get("content_type") == "model_editable_context":
                for line in (content.get("model_set_context") or "").split("\n"):
                    if m := re.match(r"\d+\. \[[\d-]+\]\. (.+)", line.strip()):
                        found["mec"].setdefault(m.group(1), set()).add(nid)
            if msg.get("recipient") == "bio":
                found["bio"].setdefault("".join(content.get("parts") or [content.get("text", "")]), set()).add(nid)
    return found


def by_group(store: Store) -> dict[str, list]:
    out: dict[str, list] = {}
    for e in profile_memories(store, include_superseded=True):
        out.setdefault(e["group"], []).append(e)
    return out


@needs
@pytest.mark.parametrize(("path", "source"), [(GYPADHAM, "chatgpt:user_editable_context"),
                                              (BOBBY, "chatgpt:custom_instructions")])  # fmt: skip
def test_every_custom_instruction_of_the_real_fixtures_is_a_memory(store, tmp_path, path, source):
    truth = walk(path)
    kind_ids = set().union(*truth["uec" if "user_editable" in source else "ci"].values())
    assert kind_ids, "the fixture should hold custom instructions"
    import_path(store, path.parent)  # the profile pass runs after the import by itself
    ids = message_ids(store)
    groups = by_group(store)
    for field, group in (("about", "chatgpt:about_me"), ("how", "chatgpt:how_to_respond")):
        mems = groups.get(group, [])
        assert sorted(e["text"] for e in mems) == sorted(truth[field]), field  # one memory per distinct text
        for e in mems:
            assert e["source"] == source
            expected = {ids[n] for n in truth[field][e["text"]]}
            assert set(e["source_message_ids"]) == expected  # every message carrying it is a source
            assert e["messages"] == len(expected) > 1 and e["event_at"] is not None
    carried = {i for e in profile_memories(store) for i in e["source_message_ids"]}
    assert {ids[n] for n in kind_ids} <= carried
    assert (
        not truth["mec"] and not truth["bio"] and not groups.keys() - {"chatgpt:about_me", "chatgpt:how_to_respond"}
    )
    before = len(list_memories(store, limit=None, include_superseded=True))
    assert import_path(store, path.parent).status == "already imported"
    assert scan_profile(store, restart=True).added == 0
    assert len(list_memories(store, limit=None, include_superseded=True)) == before


@needs
def test_every_claude_memory_line_is_carried_with_its_heading(store):
    data = json.loads((CLAUDE / "memories.json").read_text())
    texts = {"claude:conversations_memory": [r["conversations_memory"] for r in data]}
    texts["claude:project_memories"] = [t for r in data for t in r["project_memories"].values()]
    import_path(store, CLAUDE)
    mems = profile_memories(store)
    for source, blocks in texts.items():
        mine = [e for e in mems if e["source"] == source]
        flat = [" ".join(e["text"].split()) for e in mine]
        for block in blocks:
            for line in block.split("\n"):
                line = line.strip()
                heading = re.fullmatch(r"\*\*[^*]+\*\*|\*[^*]+\*|#+ .*", line)
                if not line or heading:
                    if heading:
                        assert any(line.strip("*# ") in (e["section"] or "") for e in mine), line
                    continue
                body = re.sub(r"^- ", "", line)
                assert any(body in f for f in flat), body  # every line of content is in some memory
        assert all(e["text"][:40] in "\n".join(blocks).replace("\n- ", " ") or e["text"][:40] in " ".join(
            " ".join(blocks).split()) for e in mine)  # fmt: skip
        assert all(not e["source_message_ids"] and e["origin"]["path"] == "memories.json" for e in mine)
    assert len(mems) == 26
    filler = [e for e in mems if e["text"] == "No data available."]
    assert filler and filler[0]["importance"] < 0.15
    assert scan_profile(store, restart=True).added == 0


# ---------------------------------------------------------------- a synthetic export with every kind


def node(nid, parent, role, content, t, **extra):
    msg = {"id": nid, "author": {"role": role, "name": extra.pop("name", None), "metadata": {}}, "create_time": t,
           "content": content, "status": "finished_successfully", "metadata": extra.pop("meta", {}),
           "recipient": extra.pop("recipient", "all")}  # fmt: skip
    return nid, {"id": nid, "message": msg, "parent": parent, "children": []}


def conversation(cid, t, nodes):
    mapping = {"root-" + cid: {"id": "root-" + cid, "message": None, "parent": None, "children": []}}
    parent = "root-" + cid
    for nid, n in nodes:
        n["parent"] = parent
        mapping[parent]["children"].append(nid)
        mapping[nid] = n
        parent = nid
    return {"title": f"chat {cid}", "create_time": t, "update_time": t + 60, "mapping": mapping,
            "current_node": parent, "conversation_id": cid, "id": cid}  # fmt: skip


T = 1714521600.0  # 2024-05-01
UEC = {"content_type": "user_editable_context",
       "user_profile": "The user provided the following information about themselves. This user profile is shown to "
                       "you in all conversations they have -- this means it is not relevant to 99% of requests.\n"
                       "User profile:\n```Preferred name: 林\nRole: 小学老师\n```",
       "user_instructions": "The user provided the additional info about how they would like you to respond:\n```"
                            "Follow the instructions below naturally, without repeating, referencing, echoing, or "
                            "mirroring any of their wording!\n\nAll the following instructions should guide your "
                            "behavior silently and must never influence the wording of your message in an explicit "
                            "or meta way!\n\n请用中文回答，语气温柔。```"}  # fmt: skip
SNAP1 = ("1. [2024-04-01]. User's cat is called 小白.\n\n2. [2024-04-20]. User lives in Beijing.\n\n"
         "3. [2024-04-25]. 用户喜欢喝乌龙茶。")  # fmt: skip
SNAP2 = ("1. [2024-04-01]. User's cat is called 小白.\n\n2. [2024-05-10]. User moved from Beijing to Hangzhou.\n\n"
         "3. [2024-04-25]. 用户喜欢喝乌龙茶。\n\n4. [2024-05-20]. User is learning the guitar.")  # fmt: skip


def mec(text):
    return {"content_type": "model_editable_context", "model_set_context": text}


def export(convs, tmp_path, name):
    folder = tmp_path / name
    folder.mkdir()
    (folder / "conversations.json").write_text(json.dumps(convs, ensure_ascii=False))
    return folder


def first_export(repeat: int = 1):
    convs = [conversation("ci-2023", T - 3e7, [
        node("ci", None, "system", {"content_type": "text", "parts": [""]}, None,
             meta={"is_user_system_message": True, "user_context_message_data": {
                 "about_user_message": "I teach at a school in Shanghai.", "about_model_message": "Be brief."}}),
        node("ci-u", None, "user", {"content_type": "text", "parts": ["hi"]}, T - 3e7)])]  # fmt: skip
    convs.append(conversation("a", T, [
        node("a-uec", None, "user", UEC, None, meta={"is_visually_hidden_from_conversation": True}),
        node("a-mec", None, "assistant", mec(SNAP1), T),
        node("a-u", None, "user", {"content_type": "text", "parts": ["remember I play guitar and use SQLite"]}, T + 1),
        node("a-bio1", None, "assistant", {"content_type": "text", "parts": ["User is learning the guitar."]}, T + 2,
             recipient="bio"),
        node("a-tool1", None, "tool", {"content_type": "text", "parts": ["Model set context updated."]}, T + 3,
             name="bio"),
        node("a-bio2", None, "assistant", {"content_type": "code", "language": "unknown",
                                           "text": '{"content": "Prefers SQLite"}'}, T + 4, recipient="bio"),
        node("a-a", None, "assistant", {"content_type": "text", "parts": ["Noted!"]}, T + 5)]))  # fmt: skip
    for k in range(repeat):  # the same profile injected into many more chats
        t = T + 86400 * 31 + k
        convs.append(conversation(f"b{k}", t, [
            node(f"b{k}-uec", None, "user", UEC, None),
            node(f"b{k}-mec", None, "assistant", mec(SNAP2), t),
            node(f"b{k}-u", None, "user", {"content_type": "text", "parts": ["早上好"]}, t + 1)]))  # fmt: skip
    convs.append(conversation("c-2026", T + 5e7, [
        node("c-mec", None, "assistant", {**mec(""), "repository": None, "repo_summary": None,
                                          "structured_context": None}, T + 5e7),
        node("c-u", None, "user", {"content_type": "text", "parts": ["hello"]}, T + 5e7 + 1)]))  # fmt: skip
    return convs


def test_every_kind_dedupe_supersede_and_idempotence(store, tmp_path):
    convs = first_export(repeat=150)
    path = export(convs, tmp_path, "one")
    truth = walk(path / "conversations.json")
    summary = import_path(store, path)
    assert summary.result.memories_added == 11
    ids, groups = message_ids(store), by_group(store)
    lines = {e["text"]: e for e in groups["chatgpt:model_set_context"]}
    assert set(lines) == set(truth["mec"]) and len(lines) == 5
    for text, nodes in truth["mec"].items():
        assert set(lines[text]["source_message_ids"]) == {ids[n] for n in nodes}
    assert len(lines["User's cat is called 小白."]["source_message_ids"]) == 151  # one memory, 151 sources
    assert lines["User's cat is called 小白."]["event_at"] == 1711929600.0  # the line's own date
    old, new = lines["User lives in Beijing."], lines["User moved from Beijing to Hangzhou."]
    assert old["superseded_by"] == new["id"] and new["superseded_by"] is None
    assert {e["text"] for e in groups["chatgpt:bio"]} == {"User is learning the guitar.", "Prefers SQLite"}
    assert (
        {e["event_at"] for e in groups["chatgpt:bio"]}
        == {T + 2, T + 4}
        == {e["first_seen"] for e in groups["chatgpt:bio"]}
    )
    assert len(truth["bio"]) == 2 and all(e["superseded_by"] is None for e in groups["chatgpt:bio"])
    about = {e["text"]: e for e in groups["chatgpt:about_me"]}
    assert set(about) == {"Preferred name: 林\nRole: 小学老师", "I teach at a school in Shanghai."}
    assert about["I teach at a school in Shanghai."]["source"] == "chatgpt:custom_instructions"
    assert (
        about["I teach at a school in Shanghai."]["superseded_by"]
        == about["Preferred name: 林\nRole: 小学老师"]["id"]
    )
    how = {e["text"]: e for e in groups["chatgpt:how_to_respond"]}
    assert set(how) == {"请用中文回答，语气温柔。", "Be brief."}
    assert (
        how["请用中文回答，语气温柔。"]["messages"] == 151 and how["请用中文回答，语气温柔。"]["language"] == "zh"
    )
    assert all(e["kind"] == "profile" and e["source"] in SOURCES for g in groups.values() for e in g)
    assert provenance(store, lines["User is learning the guitar."]["id"])[0]["role"] == "assistant"

    total = len(list_memories(store, limit=None, include_superseded=True))
    assert import_path(store, path).status == "already imported"
    assert scan_profile(store, restart=True).added == 0
    assert len(list_memories(store, limit=None, include_superseded=True)) == total

    # a later export: the saved memory lost the cat, the Beijing line is back under its own words
    later = [conversation("d", T + 6e7, [node("d-mec", None, "assistant", mec(
        "1. [2024-04-20]. User lives in Beijing.\n2. [2024-04-25]. 用户喜欢喝乌龙茶。"), T + 6e7)])]  # fmt: skip
    import_path(store, export(later, tmp_path, "two"))
    lines = {e["text"]: e for e in by_group(store)["chatgpt:model_set_context"]}
    assert lines["User lives in Beijing."]["superseded_by"] is None  # current again
    assert lines["User's cat is called 小白."]["superseded_by"] is not None
    assert len(list_memories(store, limit=None, include_superseded=True)) == total

    cat = lines["User's cat is called 小白."]["id"]
    assert keep(store, cat).kind == "fact" and get_memory(store, cat).superseded_by is None
    scan_profile(store, restart=True)
    assert get_memory(store, cat).superseded_by is None  # kept stays, whatever the provider did
    tea = lines["用户喜欢喝乌龙茶。"]["id"]
    assert edit(store, tea, "用户最喜欢喝冻顶乌龙。").text == "用户最喜欢喝冻顶乌龙。"
    guitar = lines["User is learning the guitar."]["id"]
    forget(store, guitar)
    again = [conversation("e", T + 7e7, [node("e-mec", None, "assistant", mec(SNAP2), T + 7e7)])]
    stats_before = len(list_memories(store, limit=None, include_superseded=True))
    import_path(store, export(again, tmp_path, "three"))
    texts = [m.text for m in list_memories(store, limit=None, include_superseded=True)]
    assert "User is learning the guitar." not in [e["text"] for e in by_group(store)["chatgpt:model_set_context"]]
    assert len(texts) == stats_before and "用户最喜欢喝冻顶乌龙。" in texts  # the edit took the new sighting
    with pytest.raises(Exception, match="not part of a provider"):
        keep(store, store_manual(store))


def test_archive_restore_finds_its_items_and_keeps_forgotten_ones_gone(tmp_path):
    from hearth.ingest import import_many
    from hearth.store.archive import export_archive

    with Store(str(tmp_path / "a.db")) as store:
        import_path(store, export(first_export(), tmp_path, "x"))
        guitar = next(e for e in profile_memories(store) if e["group"] == "chatgpt:bio" and "guitar" in e["text"])
        forget(store, guitar["id"])
        export_archive(store, tmp_path / "a.zip")
        before = sorted((e["group"], e["text"], e["superseded_by"] is None)
                        for e in profile_memories(store, include_superseded=True))  # fmt: skip
    with Store(str(tmp_path / "b.db")) as restored:
        assert import_many(restored, [tmp_path / "a.zip"])[0].status == "done"
        after = sorted((e["group"], e["text"], e["superseded_by"] is None)
                       for e in profile_memories(restored, include_superseded=True))  # fmt: skip
        assert after == before and ("chatgpt:bio", "User is learning the guitar.", True) not in after
        assert scan_profile(restored).added == 0  # the archive's items count as read
        assert scan_profile(restored, restart=True).added == 1  # a full rescan finds the rest by key: only the
        # forgotten one comes back, since a forget is not part of the archive (documented in the module)


def store_manual(store: Store) -> int:
    from hearth.store.memories import add_memory

    return add_memory(store, "hand-written", source="added by you")


def test_cli_profile_keep_edit_forget_and_letter(tmp_path):
    db = tmp_path / "h.db"
    path = export(first_export(), tmp_path, "x")
    assert run_hearth("import", str(path), db=db).returncode == 0
    r = run_hearth("profile", db=db)
    assert r.returncode == 0 and "ChatGPT's saved memory" in r.stdout and "bio tool" in r.stdout
    rows = json.loads(run_hearth("profile", "--json", db=db).stdout)
    assert {e["source"] for e in rows} == {"chatgpt:model_editable_context", "chatgpt:user_editable_context",
                                           "chatgpt:bio"}  # fmt: skip
    everything = json.loads(run_hearth("profile", "--all", "--json", db=db).stdout)
    assert len(everything) > len(rows)  # the 2023 custom instructions and the Beijing line are superseded
    tea = next(e for e in rows if e["text"] == "用户喜欢喝乌龙茶。")
    assert "as a fact" in run_hearth("profile", "keep", str(tea["id"]), db=db).stdout
    assert run_hearth("profile", "edit", str(tea["id"]), "--text", "用户爱喝乌龙茶", db=db).returncode == 0
    assert run_hearth("profile", "forget", str(tea["id"]), "--yes", db=db).returncode == 0
    after = json.loads(run_hearth("profile", "--rescan", "--json", db=db).stdout)
    assert all(e["id"] != tea["id"] and "乌龙" not in e["text"] for e in after)
    bad = run_hearth("profile", "keep", "99999", db=db)
    assert bad.returncode == 1 and "no memory" in bad.stderr.lower()
    letter = run_hearth("letter", "--tokens", "300", "--for", "chatgpt", "--lang", "zh", db=db)
    assert (
        letter.returncode == 0 and "你希望 ChatGPT 怎样回应你？" in letter.stdout and "of 300 tokens" in letter.stderr
    )
    assert "请用中文回答，语气温柔。" in letter.stdout and "乌龙" not in letter.stdout


# ---------------------------------------------------------------- the readers, variant by variant


def test_saved_memory_variants():
    assert saved_memory_lines("1. [2024-09-29]. User is implementing Supabase.\n\n2. [2024-09-30]. Likes tea") == [
        ("User is implementing Supabase.", 1727568000.0), ("Likes tea", 1727654400.0)]  # fmt: skip
    assert saved_memory_lines("[2025-05-02] The user likes ice cream\n[2025-05-03] 用户养了一只猫") == [
        ("The user likes ice cream", 1746144000.0), ("用户养了一只猫", 1746230400.0)]  # fmt: skip
    assert saved_memory_lines("Likes tea\nLives in Paris") == [("Likes tea", None), ("Lives in Paris", None)]
    assert saved_memory_lines("1. First line\n   continues here\n2. Second") == [
        ("First line continues here", None), ("Second", None)]  # fmt: skip
    assert saved_memory_lines("") == [] and saved_memory_lines(None) == []


def test_bio_and_context_variants():
    assert bio_texts("User prefers Python.") == ["User prefers Python."]
    assert bio_texts('{"content": "Prefers SQLite"}') == ["Prefers SQLite"]
    assert bio_texts('{"updates": ["A", {"text": "B"}]}') == ["A", "B"]
    assert bio_texts("{not json") == ["{not json"]
    msg = {"recipient": "bio", "content": {"content_type": "text", "parts": ["记住：我对花生过敏"]}}
    assert chatgpt_traces(msg, "assistant") == [("chatgpt:bio", "chatgpt:bio", "记住：我对花生过敏", None)]
    assert chatgpt_traces({**msg, "recipient": "all"}, "assistant") == []
    extra = {"content": {**mec(""), "repository": "hearth: a companion platform", "structured_context": {"a": ["x"]}}}
    assert [t[0] for t in chatgpt_traces(extra, "assistant")] == [
        "chatgpt:model_editable_context/repository", "chatgpt:model_editable_context/structured_context"]  # fmt: skip
    plain = {"content": {"content_type": "user_editable_context", "user_profile": "Lubię krótkie odpowiedzi.",
                         "user_instructions": "Odpowiadaj po polsku."}}  # fmt: skip
    assert [t[2] for t in chatgpt_traces(plain, "user")] == ["Lubię krótkie odpowiedzi.", "Odpowiadaj po polsku."]
    text_ci = {"metadata": {"is_user_system_message": True}, "content": {"content_type": "text", "parts": [
        "User profile:\n```I live in Lyon.```\nThe user provided the additional info about how they would like you to "
        "respond:\n```Answer in French.```"]}}  # fmt: skip
    assert [(t[0], t[2]) for t in chatgpt_traces(text_ci, "system")] == [
        ("chatgpt:about_me", "I live in Lyon."), ("chatgpt:how_to_respond", "Answer in French.")]  # fmt: skip


def test_markdown_items_keep_sections_and_lists():
    text = ("**Work context**\n\nMars builds agents.\n\n**Brief history**\n\n*Recent months*\n\nNo data available.\n\n"
            "## 偏好\n\n- 喜欢安静\n- 不喝咖啡\n\n**Current state**\n\nA script was produced, including:\n\n"
            "- configs\n- templates")  # fmt: skip
    assert markdown_items(text) == [
        ("Work context", "Mars builds agents."), ("Brief history › Recent months", "No data available."),
        ("偏好", "喜欢安静"), ("偏好", "不喝咖啡"),
        ("Current state", "A script was produced, including: configs; templates"),
    ]  # fmt: skip
