"""`hearth import FOLDER` with every format mixed: all imported, one summary, clear skips."""

from __future__ import annotations

import shutil
import zipfile

import pytest

from conftest import FIXTURES, run_hearth
from hearth.formats.png import placeholder_png
from hearth.samples import CHATGPT_SAMPLE

pytestmark = pytest.mark.skipif(not FIXTURES.exists(), reason="fixtures missing")


def test_mixed_folder(tmp_path):
    mixed = tmp_path / "everything"
    mixed.mkdir()
    shutil.copytree(FIXTURES / "chatgpt" / "exposir_2023-04_zh", mixed / "chatgpt-export")
    with zipfile.ZipFile(mixed / "claude-export.zip", "w") as zf:
        for f in (FIXTURES / "claude" / "gsunny45_2026-04").iterdir():
            zf.write(f, f.name)
    for f in (FIXTURES / "sillytavern").iterdir():
        shutil.copy(f, mixed / f.name)
    for f in (FIXTURES / "character-cards").iterdir():
        shutil.copy(f, mixed / f.name)
    shutil.copy(CHATGPT_SAMPLE, mixed / "sample.zip")
    (mixed / "log.jsonl").write_text(
        '{"messages": [{"role": "user", "content": "你好"}, {"role": "assistant", "content": "你好呀"}]}\n',
        encoding="utf-8",
    )
    (mixed / "notes.txt").write_text("not a chat", encoding="utf-8")
    (mixed / "photo.png").write_bytes(placeholder_png("x"))

    db = tmp_path / "h.db"
    r = run_hearth("import", str(mixed), db=db)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("Import summary") == 1
    for fmt in ("chatgpt", "claude", "sillytavern", "worldinfo", "charcard", "openai-jsonl"):
        assert fmt in r.stdout, fmt
    assert "skipped notes.txt" in r.stderr
    assert "photo.png" in r.stderr and "without a character card" in r.stderr

    again = run_hearth("import", str(mixed), db=db)
    assert again.returncode == 0
    assert again.stdout.count("already imported") == 13  # every input, nothing added


def test_broken_file_in_folder_does_not_stop_the_rest(tmp_path):
    folder = tmp_path / "f"
    folder.mkdir()
    shutil.copy(FIXTURES / "sillytavern" / "devslow_seraphina_2025-04-18.jsonl", folder / "good.jsonl")
    data = (FIXTURES / "chatgpt" / "max0240_2023-05" / "conversations.json").read_bytes()
    (folder / "chatgpt").mkdir()
    (folder / "chatgpt" / "conversations.json").write_bytes(data[: len(data) // 2])
    r = run_hearth("import", str(folder), db=tmp_path / "h.db")
    assert r.returncode == 1
    assert "failed" in r.stdout and "done" in r.stdout
    assert "near byte" in r.stderr
