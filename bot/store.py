"""The one module that owns the SQLite schema: migrations and queries.

Every table the bot uses is created here, by numbered migrations recorded in
`PRAGMA user_version`, so a database written by an older version upgrades in
place. Queries live here too, grouped by the part of the bot that needs them.
Timestamps are ISO-8601 UTC strings; lists and dicts are stored as JSON text.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.errors import UserError
from bot.known_issues import KnownIssue, Misconception, Pattern, validate_entry


class StoreError(UserError):
    """A database problem worth one clear line to the user."""


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- schema


def _m1_known_issues(db: sqlite_utils.Database) -> None:
    db["known_issues"].create(
        {
            "slug": str,
            "title": str,
            "status": str,
            "summary": str,
            "cause": str,
            "workaround": str,
            "updated_at": str,
            "updated_by": str,
        },
        pk="slug",
    )
    db["issue_patterns"].create(
        {"id": int, "slug": str, "position": int, "kind": str, "value": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db["issue_misconceptions"].create(
        {"id": int, "slug": str, "position": int, "claim": str, "patterns": str, "correction": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db["issue_examples"].create(
        {"id": int, "slug": str, "position": int, "text": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db["issue_history"].create(
        {
            "id": int,
            "slug": str,
            "at": str,
            "author": str,
            "action": str,
            "note": str,
            "before": str,
            "after": str,
        },
        pk="id",
    )
    for table in ("issue_patterns", "issue_misconceptions", "issue_examples", "issue_history"):
        db[table].create_index(["slug"])
    db["state"].create({"key": str, "value": str}, pk="key")


def _m2_pipeline(db: sqlite_utils.Database) -> None:
    # Links were kept in the summary text before; they get a column of their own.
    db["known_issues"].add_column("links", str, not_null_default="[]")
    db["seen_posts"].create(
        {"post_id": int, "version": int, "topic_id": int, "decision_id": int, "at": str},
        pk=("post_id", "version"),
    )
    db["decisions"].create(
        {
            "id": int,
            "post_id": int,
            "post_version": int,
            "topic_id": int,
            "username": str,
            "fingerprint": str,
            "normalised": str,
            "issue": str,
            "confidence": float,
            "action": str,
            "reasons": str,
            "error_strings": str,
            "corrections": str,
            "model_version": str,
            "mode": str,
            "created_at": str,
        },
        pk="id",
    )
    db["decisions"].create_index(["post_id"])
    db["decisions"].create_index(["created_at"])
    # Write-ahead intents for every forum write: recorded before, settled after.
    db["intents"].create(
        {
            "id": int,
            "kind": str,  # reply | pm | flag | followup | tags
            "dedupe_key": str,
            "topic_id": int,
            "post_id": int,
            "issue": str,
            "raw": str,
            "payload": str,
            "status": str,  # pending | done | failed | abandoned
            "result_post_id": int,
            "error": str,
            "attempts": int,
            "created_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["intents"].create_index(["dedupe_key"], unique=True)
    db["intents"].create_index(["status"])
    db["replies"].create(
        {
            "id": int,
            "topic_id": int,
            "post_id": int,
            "reply_post_id": int,
            "reply_post_number": int,
            "issue": str,
            "issue_updated_at": str,
            "state": str,  # active | removed | corrected
            "created_at": str,
        },
        pk="id",
    )
    db["replies"].create_index(["topic_id", "issue"])
    db["clusters"].create(
        {
            "id": int,
            "fingerprint": str,
            "normalised": str,
            "title": str,
            "status": str,  # open | dismissed | linked | promoted
            "linked_slug": str,
            "count": int,
            "reporters": str,
            "first_seen": str,
            "last_seen": str,
            "notified_size": int,
            "created_at": str,
        },
        pk="id",
    )
    db["clusters"].create_index(["fingerprint"])
    db["cluster_reports"].create(
        {
            "id": int,
            "cluster_id": int,
            "post_id": int,
            "topic_id": int,
            "username": str,
            "title": str,
            "excerpt": str,
            "error_string": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("cluster_id", "clusters", "id")],
    )
    db["cluster_reports"].create_index(["post_id"], unique=True)
    db["cluster_reports"].create_index(["cluster_id"])
    db["drafts"].create(
        {
            "id": int,
            "post_id": int,
            "topic_id": int,
            "issue": str,
            "confidence": float,
            "raw": str,
            "reason": str,
            "status": str,  # pending | approved | rejected
            "decided_by": str,
            "decided_at": str,
            "reject_reason": str,
            "reply_post_id": int,
            "created_at": str,
        },
        pk="id",
    )
    db["drafts"].create_index(["status"])
    db["feedback"].create(
        {
            "id": int,
            "source": str,  # draft | reply | cluster
            "ref_id": int,
            "text": str,
            "predicted_issue": str,
            "correct_issue": str,
            "verdict": str,
            "reason": str,
            "author": str,
            "created_at": str,
        },
        pk="id",
    )
    db["webhook_events"].create(
        {"event_key": str, "event_id": str, "received_at": str}, pk="event_key"
    )
    db["followups"].create(
        {
            "id": int,
            "history_id": int,
            "issue": str,
            "topic_id": int,
            "status": str,
            "created_at": str,
        },
        pk="id",
    )
    db["followups"].create_index(["history_id", "topic_id"], unique=True)


# Append only: never edit a migration that has shipped.
MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_known_issues, _m2_pipeline]
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open (creating if needed) a database with the settings the bot relies on."""
    path = str(path)
    if path != ":memory:":
        parent = Path(path).expanduser().resolve().parent
        if not parent.is_dir():
            raise StoreError(f"database: directory {parent} does not exist")
    try:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=30.0)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database: cannot open {path}: {exc}") from None
    return sqlite_utils.Database(conn)


def migrate(db: sqlite_utils.Database, target: int = SCHEMA_VERSION) -> int:
    """Apply pending migrations up to `target`, each in its own transaction."""
    try:
        current = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database: not a triagebot database: {exc}") from None
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"database: schema version {current} is newer than this triagebot "
            f"({SCHEMA_VERSION}); upgrade triagebot"
        )
    for version in range(current + 1, target + 1):
        with db.conn:
            MIGRATIONS[version - 1](db)
            db.execute(f"PRAGMA user_version = {version}")
    return max(current, target)


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    slug: str
    at: str
    author: str
    action: str
    note: str
    before: str
    after: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.before.splitlines(keepends=True),
                self.after.splitlines(keepends=True),
                fromfile=f"{self.slug} (before)",
                tofile=f"{self.slug} (after)",
            )
        )


class Store:
    """A handle on the bot's database. Not global: create one per process/app."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: str | Path) -> Store:
        db = connect(path)
        migrate(db)
        return cls(db)

    def close(self) -> None:
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; nested use joins the outer transaction."""
        with self._lock:
            if self.db.conn.in_transaction:
                yield self.db
                return
            self.db.execute("BEGIN IMMEDIATE")
            try:
                yield self.db
            except BaseException:
                self.db.conn.rollback()
                raise
            else:
                self.db.conn.commit()

    # ------------------------------------------------------------------ state

    def get_state(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
        return row[0] if row else default

    def set_state(self, key: str, value: str) -> None:
        with self.transaction():
            self.db["state"].upsert({"key": key, "value": value}, pk="key")

    # ------------------------------------------------------------------ known issues

    def _write_issue_rows(self, issue: KnownIssue) -> None:
        db = self.db
        for table in ("issue_patterns", "issue_misconceptions", "issue_examples"):
            db.execute(f"DELETE FROM {table} WHERE slug = ?", [issue.slug])
        db["known_issues"].upsert(
            {
                "slug": issue.slug,
                "title": issue.title,
                "status": issue.status,
                "summary": issue.summary,
                "cause": issue.cause,
                "workaround": issue.workaround,
                "links": json.dumps(list(issue.links)),
                "updated_at": issue.updated_at,
                "updated_by": issue.updated_by,
            },
            pk="slug",
        )
        db["issue_patterns"].insert_all(
            {"slug": issue.slug, "position": i, "kind": p.kind, "value": p.value}
            for i, p in enumerate(issue.patterns)
        )
        db["issue_misconceptions"].insert_all(
            {
                "slug": issue.slug,
                "position": i,
                "claim": m.claim,
                "patterns": json.dumps(list(m.patterns)),
                "correction": m.correction,
            }
            for i, m in enumerate(issue.misconceptions)
        )
        db["issue_examples"].insert_all(
            {"slug": issue.slug, "position": i, "text": t} for i, t in enumerate(issue.examples)
        )

    def save_issue(
        self, issue: KnownIssue, *, author: str, action: str = "edit", note: str = ""
    ) -> tuple[KnownIssue, bool]:
        """Create or replace an entry, stamping who/when and keeping history.

        Returns the stored entry and whether anything changed (an identical
        save is a no-op and leaves no history row).
        """
        with self.transaction():
            before = self.get_issue(issue.slug)
            if before is not None and _content(before) == _content(issue):
                return before, False
            stamped = _restamp(issue, utcnow(), author)
            self._write_issue_rows(stamped)
            if before is None and action == "edit":
                action = "create"
            self.db["issue_history"].insert(
                {
                    "slug": issue.slug,
                    "at": stamped.updated_at,
                    "author": author,
                    "action": action,
                    "note": note,
                    "before": before.to_yaml() if before else "",
                    "after": stamped.to_yaml(),
                }
            )
            return stamped, True

    def set_status(self, slug: str, status: str, *, author: str, note: str = "") -> KnownIssue:
        current = self.get_issue(slug)
        if current is None:
            raise StoreError(f"issue: no known issue {slug!r}")
        data = current.to_dict()
        data["status"] = status
        updated = validate_entry(data, source=slug)
        stored, _ = self.save_issue(updated, author=author, action="status", note=note)
        return stored

    def get_issue(self, slug: str) -> KnownIssue | None:
        row = self.db.execute("SELECT * FROM known_issues WHERE slug = ?", [slug]).fetchone()
        if row is None:
            return None
        cols = [d[0] for d in self.db.execute("SELECT * FROM known_issues LIMIT 0").description]
        return self._issue_from_row(dict(zip(cols, row, strict=True)))

    def list_issues(self, status: str | None = None) -> list[KnownIssue]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = list(self.db.query(f"SELECT * FROM known_issues {where} ORDER BY slug", params))
        return [self._issue_from_row(r) for r in rows]

    def _issue_from_row(self, row: dict[str, Any]) -> KnownIssue:
        slug = row["slug"]
        pats = self.db.query(
            "SELECT kind, value FROM issue_patterns WHERE slug = ? ORDER BY position", [slug]
        )
        mis = self.db.query(
            "SELECT claim, patterns, correction FROM issue_misconceptions "
            "WHERE slug = ? ORDER BY position",
            [slug],
        )
        exs = self.db.query(
            "SELECT text FROM issue_examples WHERE slug = ? ORDER BY position", [slug]
        )
        return KnownIssue(
            slug=slug,
            title=row["title"],
            status=row["status"],
            summary=row["summary"],
            cause=row["cause"] or "",
            workaround=row["workaround"] or "",
            patterns=tuple(Pattern(kind=p["kind"], value=p["value"]) for p in pats),
            misconceptions=tuple(
                Misconception(
                    claim=m["claim"],
                    patterns=tuple(json.loads(m["patterns"])),
                    correction=m["correction"],
                )
                for m in mis
            ),
            links=tuple(json.loads(row.get("links") or "[]")),
            examples=tuple(e["text"] for e in exs),
            updated_at=row["updated_at"] or "",
            updated_by=row["updated_by"] or "",
        )

    def history(self, slug: str) -> list[HistoryEntry]:
        rows = self.db.query("SELECT * FROM issue_history WHERE slug = ? ORDER BY id", [slug])
        return [HistoryEntry(**r) for r in rows]

    def history_entry(self, history_id: int) -> HistoryEntry | None:
        rows = list(self.db.query("SELECT * FROM issue_history WHERE id = ?", [history_id]))
        return HistoryEntry(**rows[0]) if rows else None

    def issues_digest(self) -> str:
        """A hash of every entry's content: the classifier retrains when it changes."""
        h = hashlib.sha256()
        for issue in self.list_issues():
            h.update(json.dumps(_content(issue), sort_keys=True).encode())
        return h.hexdigest()

    # ------------------------------------------------------------------ pipeline
    # (decisions, intents, replies, clusters, drafts, feedback: see below)


def _content(issue: KnownIssue) -> dict[str, Any]:
    data = issue.to_dict()
    data.pop("updated_at")
    data.pop("updated_by")
    return data


def _restamp(issue: KnownIssue, at: str, by: str) -> KnownIssue:
    data = issue.to_dict()
    data["updated_at"] = at
    data["updated_by"] = by
    return validate_entry(data, source=issue.slug)
