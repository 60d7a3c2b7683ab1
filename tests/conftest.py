"""Shared test helpers: paths to the real fixtures, fresh stores, the synthetic generator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
FIXTURES = SHARED / "fixtures"
CHATGPT_FIXTURES = sorted((FIXTURES / "chatgpt").glob("*/")) if (FIXTURES / "chatgpt").exists() else []

sys.path.insert(0, str(ROOT / "bench"))


@pytest.fixture
def store(tmp_path):
    from hearth.store import Store

    s = Store(str(tmp_path / "hearth.db"))
    yield s
    s.close()


@pytest.fixture(scope="session")
def synth_zip(tmp_path_factory) -> Path:
    """A realistic synthetic ChatGPT export zip (120 conversations), made once per session."""
    from synth_chatgpt import generate

    path = tmp_path_factory.mktemp("synth") / "chatgpt-export.zip"
    generate(path, conversations=120, seed=7)
    return path


def run_hearth(*args: str, db: Path, input: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `hearth` command in a subprocess, as a person would."""
    full_env = {**os.environ, "HEARTH_DB": str(db), "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "hearth.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=600,
    )
