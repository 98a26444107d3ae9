"""The database as Datasette reads it: documented tables and views, opened immutable, read-only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from bot.runner import poller
from tests.runner_support import make_forum, make_services, make_store

ROOT = Path(__file__).resolve().parent.parent
TABLES = ("decisions", "replies", "clusters", "drafts", "known_issues", "issue_history")
VIEWS = ("audit", "decisions_by_day", "open_clusters")


@pytest.fixture
async def db_path(tmp_path) -> Path:
    state = make_forum()
    store = make_store(tmp_path)
    state.create_topic("alice", "Read-only key", "my key fails with api.all.read")
    state.create_topic("bob", "Odd", "ERR_NEW_DATASETTE failed here")
    state.create_topic("carol", "Unsure", "maybe-scopes keys act weird")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(state, store, mode="auto")
    await poller.poll_once(services)
    await services.aclose()
    store.close()  # checkpoints the WAL into the main file
    state.close()
    return tmp_path / "bot.db"


def _immutable(path: Path) -> sqlite_utils.Database:
    # What `datasette -i triagebot.db` does: no locks, no WAL, never a write.
    return sqlite_utils.Database(
        sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True)
    )


def test_tables_and_views_read_immutable(db_path):
    db = _immutable(db_path)
    assert set(TABLES) <= set(db.table_names())
    assert set(VIEWS) <= set(db.view_names())
    actions = {r["action"] for r in db["decisions"].rows}
    assert {"reply", "escalate", "review"} <= actions
    assert db["replies"].count == 1
    assert [c["title"] for c in db["open_clusters"].rows] != []
    kinds = {r["kind"] for r in db.query("SELECT DISTINCT kind FROM audit")}
    assert {"decision", "forum_reply", "issue_import"} <= kinds
    assert sum(r["decisions"] for r in db["decisions_by_day"].rows) == db["decisions"].count
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        db.execute("DELETE FROM decisions")


def test_readme_documents_every_table_and_view():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The database", 1)[1].split("\n## ", 1)[0]
    for name in (*TABLES, *VIEWS):
        assert f"`{name}`" in section, name
    assert "datasette" in section


def test_datasette_metadata_describes_every_documented_table_and_view():
    import yaml

    meta = yaml.safe_load((ROOT / "deploy" / "datasette-metadata.yaml").read_text("utf-8"))
    described = meta["databases"]["triagebot"]["tables"]
    for name in (*TABLES, *VIEWS):
        assert described[name]["description"].strip(), name
