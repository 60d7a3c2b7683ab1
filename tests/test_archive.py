"""The hearth archive holds everything, and export → import into an empty store → export is
byte-identical."""

from __future__ import annotations

import zipfile

import orjson
import pytest

from conftest import CHATGPT_FIXTURES, FIXTURES, run_hearth
from hearth.ingest import import_many
from hearth.samples import CHATGPT_SAMPLE
from hearth.store import Store
from hearth.store.archive import export_archive
from hearth.store.queries import search, stats


def _inputs():
    paths = [CHATGPT_SAMPLE, *CHATGPT_FIXTURES]
    for sub in ("claude", "sillytavern", "character-cards"):
        if (FIXTURES / sub).exists():
            paths.append(FIXTURES / sub)
    return paths


@pytest.fixture(scope="module")
def full_store(tmp_path_factory):
    store = Store(str(tmp_path_factory.mktemp("full") / "h.db"))
    summaries = import_many(store, _inputs())
    assert not [s for s in summaries if s.status == "failed"], summaries
    return store


def test_round_trip_is_byte_identical(full_store, tmp_path):
    first = tmp_path / "first.zip"
    counts = export_archive(full_store, first)
    assert counts["conversations"] > 80 and counts["messages"] > 1500
    restored = Store(str(tmp_path / "restored.db"))
    summary = import_many(restored, [first])[0]
    assert summary.status == "done" and summary.format == "hearth"
    second = tmp_path / "second.zip"
    export_archive(restored, second)
    assert first.read_bytes() == second.read_bytes()
    before, after = stats(full_store), stats(restored)
    for key in ("conversations", "messages", "tree_nodes", "attachments", "files", "feedback", "companions"):
        assert before[key] == after[key], key
    assert [h.snippet for h in search(restored, "宝贝")] == [h.snippet for h in search(full_store, "宝贝")]


def test_round_trip_through_postgresql_is_byte_identical(full_store, tmp_path, pg_server):
    """A person moving from the SQLite default to a PostgreSQL server loses nothing: the archive of
    the PostgreSQL store equals the archive it was made from."""
    from conftest import pg_database

    first = tmp_path / "first.zip"
    export_archive(full_store, first)
    with Store(pg_database(pg_server)) as moved:
        assert import_many(moved, [first])[0].status == "done"
        second = tmp_path / "second.zip"
        export_archive(moved, second)
        found = sorted(h.snippet for h in search(moved, "宝贝", limit=1000))  # each engine ranks its own way
        assert found == sorted(h.snippet for h in search(full_store, "宝贝", limit=1000))
    assert first.read_bytes() == second.read_bytes()


def test_archive_is_readable_and_checksummed(full_store, tmp_path):
    path = tmp_path / "a.zip"
    export_archive(full_store, path)
    with zipfile.ZipFile(path) as zf:
        manifest = orjson.loads(zf.read("manifest.json"))
        first_message = orjson.loads(zf.read("messages.jsonl").split(b"\n")[0])
    assert manifest["format"] == "hearth-archive" and "messages.jsonl" in manifest["files"]
    assert isinstance(first_message["raw"], dict)
    assert first_message["conversation"][0] in ("chatgpt", "claude", "sillytavern")


def test_reimporting_an_archive_adds_nothing(full_store, tmp_path):
    path = tmp_path / "a.zip"
    export_archive(full_store, path)
    restored = Store(str(tmp_path / "r.db"))
    import_many(restored, [path])
    copy = tmp_path / "copy.zip"
    copy.write_bytes(path.read_bytes() + b"")
    again = import_many(restored, [copy])[0]
    assert again.status == "already imported"
    other = tmp_path / "other.zip"
    export_archive(restored, other)
    assert other.read_bytes() == path.read_bytes()


def test_damaged_archive_is_refused_whole(full_store, tmp_path):
    path = tmp_path / "a.zip"
    export_archive(full_store, path)
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "conversations.jsonl":
                data = data.replace(b'"title":', b'"title" :', 1)
            dst.writestr(info, data)
    db = tmp_path / "d.db"
    r = run_hearth("import", str(damaged), db=db)
    assert r.returncode == 1 and "checksum" in r.stderr
    assert stats(Store(str(db)))["conversations"] == 0


def test_cli_export(full_store, tmp_path):
    out = tmp_path / "x.zip"
    r = run_hearth("export", "--format", "hearth", "-o", str(out), db=full_store.location)
    assert r.returncode == 0, r.stderr
    assert zipfile.is_zipfile(out)
    r = run_hearth("export", "--format", "nope", db=full_store.location)
    assert r.returncode == 1 and "Unknown export format" in r.stderr


def test_superseded_memory_survives_the_round_trip(tmp_path):
    """An older memory points at a newer one, which comes later in the archive: the link was
    dropped on import (only memories already imported were looked up)."""
    from hearth.formats.bundle import open_bundle
    from hearth.store.archive import import_archive
    from hearth.store.memories import add_memory, get_memory, list_memories, supersede

    a = Store(str(tmp_path / "a.db"))
    old = add_memory(a, "lives in Beijing", kind="fact")
    new = add_memory(a, "lives in Hangzhou", kind="fact")
    with a.write() as conn, conn.begin():
        supersede(conn, old, new)
    export_archive(a, tmp_path / "one.zip")
    b = Store(str(tmp_path / "b.db"))
    with open_bundle(tmp_path / "one.zip") as bundle:
        import_archive(b, bundle)
    rows = {m.text: m for m in list_memories(b, include_superseded=True)}
    assert rows["lives in Beijing"].superseded_by == rows["lives in Hangzhou"].id
    assert get_memory(b, rows["lives in Hangzhou"].id).superseded_by is None
    export_archive(b, tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
