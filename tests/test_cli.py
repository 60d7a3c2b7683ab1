"""The CLI as a person uses it: import the bundled sample, browse, search, audit, plot."""

from __future__ import annotations

import json

import pytest

from conftest import run_hearth


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = tmp_path_factory.mktemp("cli") / "hearth.db"
    r = run_hearth("import", "--sample", db=db)
    assert r.returncode == 0, r.stderr
    assert "done" in r.stdout
    return db


def test_help_explains():
    r = run_hearth("--help", db="unused.db")
    assert r.returncode == 0
    for cmd in ("import", "conversations", "search", "audit", "stats"):
        assert cmd in r.stdout
    r = run_hearth("import", "--help", db="unused.db")
    assert "resume" in r.stdout


def test_import_twice_adds_nothing(db):
    r = run_hearth("import", "--sample", db=db)
    assert r.returncode == 0 and "already" in r.stdout


def test_stats_json(db):
    s = json.loads(run_hearth("stats", "--json", db=db).stdout)
    assert s["conversations"] == 40 and s["messages"] > 500 and s["feedback"] > 0 and s["branch_points"] > 0


def test_list_and_show_visible_and_all_branches(db):
    rows = json.loads(run_hearth("conversations", "list", "--json", "--limit", "100", db=db).stdout)
    branched = next(r for r in rows if r["branches"] > 1)
    visible = run_hearth("conversations", "show", str(branched["id"]), db=db)
    tree = run_hearth("conversations", "show", str(branched["id"]), "--all-branches", db=db)
    assert visible.returncode == 0 and tree.returncode == 0
    assert "○" in tree.stdout and "●" in tree.stdout
    assert len(tree.stdout) > len(visible.stdout)


def test_search_chinese_two_characters(db):
    r = run_hearth("search", "宝贝", "--json", db=db)
    hits = json.loads(r.stdout)
    assert hits and all("宝贝" in h["snippet"] for h in hits)
    r = run_hearth("search", "zzzqqq", db=db)
    assert r.returncode == 1 and "No message matches" in r.stderr


def test_audit_table_json_and_plot(db, tmp_path):
    table = run_hearth("audit", db=db)
    assert table.returncode == 0 and "Suspected reroutes" in table.stdout
    png = tmp_path / "routing.png"
    r = run_hearth("audit", "--json", "--plot", str(png), db=db)
    data = json.loads(r.stdout)
    assert data["total"]["replies"] > 0 and data["months"] and data["suspected_reroutes"]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_empty_store_audit_is_friendly(tmp_path):
    r = run_hearth("audit", db=tmp_path / "empty.db")
    assert r.returncode == 0 and "Import an export first" in r.stderr
    plotted = run_hearth("audit", "--plot", str(tmp_path / "t.png"), db=tmp_path / "empty.db")
    assert plotted.returncode == 1 and "nothing to plot" in plotted.stderr and "bug" not in plotted.stderr
    assert not (tmp_path / "t.png").exists()
