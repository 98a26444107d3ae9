"""The store: migrations from an older schema, history, import/export round trip."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.issue_admin import export_dir, import_dir
from bot.known_issues import EntryError, load_dir, validate_entry
from bot.store import SCHEMA_VERSION, Store, StoreError, connect, migrate

DATA = Path(__file__).resolve().parent.parent / "data" / "known_issues"


def _entry(**overrides):
    data = {
        "slug": "demo_issue",
        "title": "Demo issue",
        "status": "investigating",
        "summary": "Something fails.",
        "patterns": [{"kind": "literal", "value": "Demo failure text"}],
        "misconceptions": [
            {"claim": "Needs a paid plan", "patterns": ["paid plan"], "correction": "It does not."}
        ],
        "links": ["https://example.com/demo"],
        "examples": ["I see Demo failure text when I call it"],
    }
    data.update(overrides)
    return validate_entry(data, "test")


def test_new_database_is_at_current_version_and_wal(tmp_path):
    store = Store.open(tmp_path / "t.db")
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for table in ("known_issues", "decisions", "intents", "clusters", "drafts", "seen_posts"):
        assert store.db[table].exists()


def test_database_from_older_version_upgrades_in_place(tmp_path):
    path = tmp_path / "old.db"
    db = connect(path)
    migrate(db, target=1)  # what version 1 of the bot created
    db["known_issues"].insert(
        {
            "slug": "old_issue",
            "title": "Old",
            "status": "fixed",
            "summary": "s",
            "cause": "",
            "workaround": "w",
            "updated_at": "2025-01-01T00:00:00Z",
            "updated_by": "bob",
        }
    )
    db.conn.commit()
    db.conn.close()
    assert not connect(path)["decisions"].exists()

    store = Store.open(path)
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    old = store.get_issue("old_issue")
    assert old is not None and old.status == "fixed" and old.updated_by == "bob"
    assert old.links == ()
    assert store.db["decisions"].exists()
    # Opening again is a no-op.
    Store.open(path).close()


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "new.db"
    db = connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    db.conn.close()
    with pytest.raises(StoreError, match="newer than this triagebot"):
        Store.open(path)


def test_not_a_database_is_one_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError):
        Store.open(path)


def test_save_records_history_with_author_and_diff(tmp_path):
    store = Store.open(tmp_path / "t.db")
    first, changed = store.save_issue(_entry(), author="alice")
    assert changed and first.updated_by == "alice" and first.updated_at
    same, changed = store.save_issue(_entry(), author="bob")
    assert not changed and same.updated_by == "alice"
    store.save_issue(_entry(summary="Now we know why."), author="bob", note="cause found")
    store.set_status("demo_issue", "identified", author="carol", note="triaged")

    history = store.history("demo_issue")
    assert [(h.author, h.action) for h in history] == [
        ("alice", "create"),
        ("bob", "edit"),
        ("carol", "status"),
    ]
    assert history[1].note == "cause found"
    assert "-summary: Something fails." in history[1].diff()
    assert "+summary: Now we know why." in history[1].diff()
    assert "+status: identified" in history[2].diff()
    assert store.get_issue("demo_issue").updated_by == "carol"


def test_set_status_to_fixed_without_workaround_is_refused(tmp_path):
    store = Store.open(tmp_path / "t.db")
    store.save_issue(_entry(), author="alice")
    with pytest.raises(EntryError, match="workaround: is required"):
        store.set_status("demo_issue", "fixed", author="bob")
    assert store.get_issue("demo_issue").status == "investigating"
    assert len(store.history("demo_issue")) == 1


def test_import_export_round_trip_is_lossless(tmp_path):
    store = Store.open(tmp_path / "a.db")
    seeded = import_dir(store, DATA, author="seed")
    assert seeded.total == len(list(DATA.glob("*.yml"))) > 0
    store.save_issue(_entry(), author="alice")
    first = tmp_path / "export1"
    export_dir(store, first)

    other = Store.open(tmp_path / "b.db")
    import_dir(other, first, author="importer")
    second = tmp_path / "export2"
    export_dir(other, second)

    names = sorted(p.name for p in first.glob("*.yml"))
    assert names == sorted(p.name for p in second.glob("*.yml"))
    for name in names:
        assert (first / name).read_text() == (second / name).read_text()
    assert [i.to_dict() for i in store.list_issues()] == [i.to_dict() for i in other.list_issues()]
    assert {i.slug for i in load_dir(second)} == {i.slug for i in store.list_issues()}


def test_import_is_all_or_nothing(tmp_path):
    store = Store.open(tmp_path / "t.db")
    good = tmp_path / "in"
    good.mkdir()
    (good / "demo_issue.yml").write_text(_entry().to_yaml())
    (good / "zzz_bad.yml").write_text("slug: zzz_bad\ntitle: x\nstatus: nope\nsummary: s\n")
    with pytest.raises(EntryError, match="zzz_bad.yml: status"):
        import_dir(store, good, author="x")
    assert store.list_issues() == []
