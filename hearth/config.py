"""Settings: command-line flags win over `HEARTH_*` environment variables, which win over the
TOML file in the platform config directory, which wins over defaults."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from hearth.errors import HearthError

APP = "hearth"


def config_path() -> Path:
    """Where the optional settings file lives (`HEARTH_CONFIG` overrides)."""
    env = os.environ.get("HEARTH_CONFIG")
    return Path(env) if env else Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP)) / "hearth.db"


@dataclass(frozen=True)
class Settings:
    db: str
    """A file path (SQLite) or a database URL."""


def _read_file(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise HearthError(
            f"The settings file {path} is not valid TOML: {exc}.",
            hint="Fix or delete the file; hearth works without it.",
        ) from exc


def load(db: str | None = None) -> Settings:
    """Resolve the settings for this run."""
    file = _read_file(config_path())
    resolved = db or os.environ.get("HEARTH_DB") or file.get("db") or str(default_db_path())
    return Settings(db=resolved)


def backend_tables(path: Path | None = None) -> dict[str, dict]:
    """The `[backends.NAME]` tables of the settings file, by name (empty when there are none).

    Only the shape is checked here; `hearth.backends.registry` gives the fields meaning.
    """
    path = path or config_path()
    tables = _read_file(path).get("backends", {})
    if not isinstance(tables, dict) or not all(isinstance(v, dict) for v in tables.values()):
        raise HearthError(
            f"`backends` in {path} must be a set of tables like [backends.openrouter].",
            hint='Write each backend as its own table: [backends.NAME] with kind = "openai", model = "...".',
        )
    return tables
