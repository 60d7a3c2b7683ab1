"""The test set-up itself: in CI a missing PostgreSQL server fails instead of skipping a whole engine."""

from __future__ import annotations

import sys

import pytest

from conftest import need_pgserver


def test_missing_pgserver_skips_on_a_laptop_and_fails_in_ci(monkeypatch):
    monkeypatch.setitem(sys.modules, "pgserver", None)  # as if the wheel were not installed
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception):
        need_pgserver()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(ImportError):
        need_pgserver()
