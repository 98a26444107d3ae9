"""The one module that owns the SQLite schema: migrations and queries.

Every table the bot uses is created here, by numbered migrations recorded in
`PRAGMA user_version`, so a database written by an older version upgrades in
place. Queries live here too, grouped by the part of the bot that needs them.
Timestamps are ISO-8601 UTC strings; lists and dicts are stored as JSON text.
"""

from __future__ import annotations

import contextlib
import difflib
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

import sqlite_utils

from bot.errors import UserError
from bot.known_issues import Fact, KnownIssue, Misconception, Pattern, validate_entry
from bot.records import (
    Cluster,
    ClusterReport,
    DayCount,
    DecisionRecord,
    Draft,
    Intent,
    Reply,
    Row,
)

_R = TypeVar("_R")


def _issue_and_dates(
    where: list[str],
    params: list[Any],
    issue: str | None,
    date_from: str | None,
    date_to: str | None,
) -> None:
    """The issue and date filters shared by the dashboard's lists (a bare `date_to`
    includes its whole day)."""
    if issue:
        where.append("issue = ?")
        params.append(issue)
    if date_from:
        where.append("created_at >= ?")
        params.append(date_from)
    if date_to:
        where.append("created_at < ?")
        params.append(date_to + ("\uffff" if len(date_to) == 10 else ""))


class StoreError(UserError):
    """A database problem worth one clear line to the user."""


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --------------------------------------------------------------------------- schema


def _m1_known_issues(db: sqlite_utils.Database) -> None:
    db.table("known_issues").create(
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
    db.table("issue_patterns").create(
        {"id": int, "slug": str, "position": int, "kind": str, "value": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db.table("issue_misconceptions").create(
        {"id": int, "slug": str, "position": int, "claim": str, "patterns": str, "correction": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db.table("issue_examples").create(
        {"id": int, "slug": str, "position": int, "text": str},
        pk="id",
        foreign_keys=[("slug", "known_issues", "slug")],
    )
    db.table("issue_history").create(
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
        db.table(table).create_index(["slug"])
    db.table("state").create({"key": str, "value": str}, pk="key")


def _m2_pipeline(db: sqlite_utils.Database) -> None:
    # Links were kept in the summary text before; they get a column of their own.
    db.table("known_issues").add_column("links", str, not_null_default="[]")
    db.table("seen_posts").create(
        {"post_id": int, "version": int, "topic_id": int, "decision_id": int, "at": str},
        pk=("post_id", "version"),
    )
    db.table("decisions").create(
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
    db.table("decisions").create_index(["post_id"])
    db.table("decisions").create_index(["created_at"])
    # Write-ahead intents for every forum write: recorded before, settled after.
    db.table("intents").create(
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
    db.table("intents").create_index(["dedupe_key"], unique=True)
    db.table("intents").create_index(["status"])
    db.table("replies").create(
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
    db.table("replies").create_index(["topic_id", "issue"])
    db.table("clusters").create(
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
    db.table("clusters").create_index(["fingerprint"])
    db.table("cluster_reports").create(
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
    db.table("cluster_reports").create_index(["post_id"], unique=True)
    db.table("cluster_reports").create_index(["cluster_id"])
    db.table("drafts").create(
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
    db.table("drafts").create_index(["status"])
    db.table("feedback").create(
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
    db.table("webhook_events").create(
        {"event_key": str, "event_id": str, "received_at": str}, pk="event_key"
    )
    db.table("followups").create(
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
    db.table("followups").create_index(["history_id", "topic_id"], unique=True)


def _m3_runner(db: sqlite_utils.Database) -> None:
    # The post text and title are kept with each decision so that staff feedback
    # (a rejected draft, a corrected reply) can become a training example.
    db.table("decisions").add_column("text", str)
    db.table("decisions").add_column("title", str)
    db.table("intents").create_index(["topic_id"])


def _m5_views(db: sqlite_utils.Database) -> None:
    # Read-only views for `datasette triagebot.db` and ad-hoc SQL: one row per thing a
    # person asks about, with JSON columns left as JSON (Datasette renders them).
    db.create_view(
        "audit",
        """
        SELECT 'decision' AS kind, created_at AS at, COALESCE(username, '') AS actor,
               action AS what, COALESCE(issue, '') AS subject, topic_id, post_id,
               reasons AS detail
          FROM decisions
        UNION ALL
        SELECT 'issue_' || action, at, author, action, slug, NULL, NULL, note
          FROM issue_history
        UNION ALL
        SELECT 'draft_' || status, decided_at, decided_by, status, COALESCE(issue, ''),
               topic_id, post_id, COALESCE(reject_reason, '')
          FROM drafts WHERE decided_at IS NOT NULL
        UNION ALL
        SELECT 'forum_' || kind, updated_at, 'triagebot', status, COALESCE(issue, ''),
               topic_id, post_id, COALESCE(error, '')
          FROM intents
        """,
    )
    db.create_view(
        "decisions_by_day",
        """
        SELECT substr(created_at, 1, 10) AS day, action, COUNT(*) AS decisions,
               SUM(CASE WHEN corrections NOT IN ('', '[]') THEN 1 ELSE 0 END) AS with_corrections
          FROM decisions GROUP BY day, action
        """,
    )
    db.create_view(
        "open_clusters",
        """
        SELECT id, title, count AS reports, json_array_length(reporters) AS members,
               first_seen, last_seen, fingerprint
          FROM clusters WHERE status = 'open'
        """,
    )


# Append only: never edit a migration that has shipped.
def _m4_issue_facts(db: sqlite_utils.Database) -> None:
    # An entry's checkable facts (bot.known_issues.Fact), as JSON: read and written whole.
    db.table("known_issues").add_column("facts", str, not_null_default="[]")
    # Claims staff marked as wrongly corrected (KnownIssue.rejected_claims), as JSON.
    db.table("known_issues").add_column("rejected_claims", str, not_null_default="[]")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _m1_known_issues,
    _m2_pipeline,
    _m3_runner,
    _m4_issue_facts,
    _m5_views,
]
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


INIT_HINT = "run `triagebot init` first (or pass --db PATH)"


def _require_initialised_file(path: str | Path) -> None:
    if str(path) != ":memory:" and not Path(path).expanduser().is_file():
        raise StoreError(f"database: {path} does not exist; {INIT_HINT}")


def _require_writable(path: Path) -> None:
    # SQLite would say only "attempt to write a readonly database" or "unable to open
    # database file" (it needs to create the -wal and -shm files next to the database).
    if not os.access(path, os.W_OK):
        raise StoreError(
            f"database: {path} is read-only (no write permission); this command saves "
            "changes, so run it as a user who may write the file"
        )
    if not os.access(path.expanduser().resolve().parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"database: the directory of {path} is read-only; SQLite writes its journal "
            "files (-wal, -shm) there, so this command cannot save changes"
        )


def connect_readonly(path: str | Path) -> sqlite_utils.Database:
    """Open for reading only: never creates the file, never writes, not even a journal.

    With no -wal file beside it, no one is writing the database (a writer keeps one
    while connected), so it is read as immutable: SQLite then creates no -wal/-shm
    files either, which also lets a database in a read-only directory be read. With a
    -wal file (the bot is running), a plain read-only connection sees its latest commits.
    """
    if str(path) == ":memory:":
        return connect(path)
    resolved = Path(path).expanduser().resolve()
    live = resolved.with_name(resolved.name + "-wal").exists()
    query = "mode=ro" if live else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(
            f"{resolved.as_uri()}?{query}", uri=True, check_same_thread=False, timeout=30.0
        )
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database: cannot read {path}: {exc}") from None
    return sqlite_utils.Database(conn)


def _require_current_schema(db: sqlite_utils.Database, path: str | Path) -> None:
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"database: {path} is not a triagebot database: {exc}") from None
    if version == 0:
        raise StoreError(f"database: {path} is not set up; {INIT_HINT}")
    if version < SCHEMA_VERSION:
        raise StoreError(f"database: {path} needs an upgrade; run `triagebot init`")
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"database: schema version {version} is newer than this triagebot "
            f"({SCHEMA_VERSION}); upgrade triagebot"
        )


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

    def __init__(
        self, db: sqlite_utils.Database, *, readonly: bool = False, path: str = ""
    ) -> None:
        self.db = db
        self._lock = threading.RLock()
        self.readonly = readonly
        self.path = path

    @classmethod
    def open(cls, path: str | Path, *, create: bool = True, readonly: bool = False) -> Store:
        """Open the database; `create=False` requires one that `triagebot init` made.

        `readonly` opens it for reading only (what the listing commands need), so a
        database its user may not write, or in a directory they may not write, still
        reads. A writable open of such a file is refused up front with the reason,
        rather than failing at the first write with SQLite's own words.
        """
        if not create or readonly:
            _require_initialised_file(path)
        if readonly:
            db = connect_readonly(path)
            _require_current_schema(db, path)
            return cls(db, readonly=True, path=str(path))
        if str(path) != ":memory:" and Path(path).exists():
            _require_writable(Path(path))
        db = connect(path)
        try:
            fresh = db.execute("PRAGMA user_version").fetchone()[0] == 0
        except sqlite3.DatabaseError as exc:
            db.conn.close()
            raise StoreError(f"database: {path} is not a triagebot database: {exc}") from None
        if not create and fresh and str(path) != ":memory:":
            db.conn.close()
            raise StoreError(f"database: {path} is not set up; {INIT_HINT}")
        migrate(db)
        return cls(db, path=str(path))

    def close(self) -> None:
        # Fold the WAL back into the main file, so a reader in immutable mode
        # (`datasette -i triagebot.db`, a copied backup) sees every row.
        # Another connection may be busy; the next close checkpoints then.
        with contextlib.suppress(sqlite3.DatabaseError):
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """One atomic unit of work; nested use joins the outer transaction."""
        if self.readonly:
            raise StoreError(f"database: {self.path} is open read-only; this needs a writable one")
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
            self.db.table("state").upsert({"key": key, "value": value}, pk="key")

    # ------------------------------------------------------------------ known issues

    def _write_issue_rows(self, issue: KnownIssue) -> None:
        db = self.db
        for table in ("issue_patterns", "issue_misconceptions", "issue_examples"):
            db.execute(f"DELETE FROM {table} WHERE slug = ?", [issue.slug])
        db.table("known_issues").upsert(
            {
                "slug": issue.slug,
                "title": issue.title,
                "status": issue.status,
                "summary": issue.summary,
                "cause": issue.cause,
                "workaround": issue.workaround,
                "links": json.dumps(list(issue.links)),
                "facts": json.dumps([f.to_dict() for f in issue.facts]),
                "rejected_claims": json.dumps(list(issue.rejected_claims)),
                "updated_at": issue.updated_at,
                "updated_by": issue.updated_by,
            },
            pk="slug",
        )
        db.table("issue_patterns").insert_all(
            {"slug": issue.slug, "position": i, "kind": p.kind, "value": p.value}
            for i, p in enumerate(issue.patterns)
        )
        db.table("issue_misconceptions").insert_all(
            {
                "slug": issue.slug,
                "position": i,
                "claim": m.claim,
                "patterns": json.dumps(list(m.patterns)),
                "correction": m.correction,
            }
            for i, m in enumerate(issue.misconceptions)
        )
        db.table("issue_examples").insert_all(
            {"slug": issue.slug, "position": i, "text": t} for i, t in enumerate(issue.examples)
        )

    def save_issue(
        self,
        issue: KnownIssue,
        *,
        author: str,
        action: str = "edit",
        note: str = "",
        keep_stamps: bool = False,
    ) -> tuple[KnownIssue, bool]:
        """Create or replace an entry, stamping who/when and keeping history.

        Returns the stored entry and whether anything changed (an identical
        save is a no-op and leaves no history row). `keep_stamps` keeps the
        entry's own updated_at/updated_by (an import of an export), so that a
        round trip is lossless; the history row still names who imported it.
        """
        with self.transaction():
            before = self.get_issue(issue.slug)
            if before is not None and before.content() == issue.content():
                return before, False
            if keep_stamps and issue.updated_at and issue.updated_by:
                stamped = issue
            else:
                stamped = _restamp(issue, utcnow(), author)
            self._write_issue_rows(stamped)
            if before is None and action == "edit":
                action = "create"
            self.db.table("issue_history").insert(
                {
                    "slug": issue.slug,
                    "at": utcnow(),
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

    def reject_claim(self, slug: str, claim: str, *, author: str) -> tuple[KnownIssue, bool]:
        """Mark a claim as wrongly corrected for an entry (kept in its history); False
        when it was marked already."""
        current = self.get_issue(slug)
        if current is None:
            raise StoreError(f"issue: no known issue {slug!r}")
        claim = " ".join(claim.split())
        if not claim:
            raise StoreError("claim: must not be empty")
        if claim in current.rejected_claims:
            return current, False
        data = current.to_dict()
        data["rejected_claims"] = [*current.rejected_claims, claim]
        updated = validate_entry(data, source=slug)
        return self.save_issue(updated, author=author, action="reject-claim", note=claim)

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
            facts=tuple(
                Fact(
                    kind=f["kind"],
                    about=tuple(f["about"]),
                    says=f["says"],
                    value=f.get("value"),
                    max=f.get("max"),
                    unit=f.get("unit", ""),
                )
                for f in json.loads(row.get("facts") or "[]")
            ),
            rejected_claims=tuple(json.loads(row.get("rejected_claims") or "[]")),
            links=tuple(json.loads(row.get("links") or "[]")),
            examples=tuple(e["text"] for e in exs),
            updated_at=row["updated_at"] or "",
            updated_by=row["updated_by"] or "",
        )

    def history(self, slug: str) -> list[HistoryEntry]:
        rows = self.db.query("SELECT * FROM issue_history WHERE slug = ? ORDER BY id", [slug])
        return [HistoryEntry(**r) for r in rows]

    # ------------------------------------------------------------------ dashboard
    # Sign-in nonces (single use) and the read-only views of the staff dashboard.

    def sso_nonce_issue(self, nonce: str, expires_at: str, now: str, *, limit: int) -> None:
        """Record a DiscourseConnect nonce; expired ones are pruned on the way.

        Anyone can start a sign-in, so at most `limit` live nonces are kept: past
        that the oldest go first (that sign-in must start again), and anonymous
        requests cannot grow the database without bound.
        """
        with self.transaction():
            self.db.execute("DELETE FROM state WHERE key LIKE 'sso_nonce:%' AND value < ?", [now])
            self.db.execute(
                "DELETE FROM state WHERE key IN (SELECT key FROM state "
                "WHERE key LIKE 'sso_nonce:%' ORDER BY value DESC LIMIT -1 OFFSET ?)",
                [max(0, limit - 1)],
            )
            self.db.table("state").insert(
                {"key": f"sso_nonce:{nonce}", "value": expires_at}, pk="key"
            )

    def sso_nonce_consume(self, nonce: str, now: str) -> bool:
        """True once for a live nonce: it is deleted in the same transaction."""
        with self.transaction():
            key = f"sso_nonce:{nonce}"
            row = self.db.execute("SELECT value FROM state WHERE key = ?", [key]).fetchone()
            if row is None:
                return False
            self.db.execute("DELETE FROM state WHERE key = ?", [key])
            return bool(row[0] >= now)

    def dashboard_counts(self, since: str) -> dict[str, int]:
        """Headline figures since `since` (queue sizes are current, not windowed)."""

        def one(sql: str, params: list[Any]) -> int:
            return int(self.db.execute(sql, params).fetchone()[0] or 0)

        return {
            "posts_seen": one(
                "SELECT COUNT(DISTINCT post_id) FROM decisions WHERE created_at >= ?", [since]
            ),
            "replies_posted": one("SELECT COUNT(*) FROM replies WHERE created_at >= ?", [since]),
            "replies_removed": one(
                "SELECT COUNT(*) FROM replies WHERE created_at >= ? AND state = 'removed'",
                [since],
            ),
            "drafts_waiting": one("SELECT COUNT(*) FROM drafts WHERE status = 'pending'", []),
            "drafts_approved": one(
                "SELECT COUNT(*) FROM drafts WHERE status = 'approved' AND decided_at >= ?",
                [since],
            ),
            "drafts_rejected": one(
                "SELECT COUNT(*) FROM drafts WHERE status = 'rejected' AND decided_at >= ?",
                [since],
            ),
            "open_clusters": one("SELECT COUNT(*) FROM clusters WHERE status = 'open'", []),
            "corrections": one(
                "SELECT SUM(CASE WHEN json_valid(corrections) "
                "THEN json_array_length(corrections) ELSE 0 END) "
                "FROM decisions WHERE created_at >= ? AND action IN ('reply', 'review')",
                [since],
            ),
        }

    def metrics_counts(self) -> dict[str, Any]:
        """Totals for /metrics: decisions by action, replies, corrections, waiting work."""
        with self._lock:
            decisions = dict(
                self.db.execute("SELECT action, COUNT(*) FROM decisions GROUP BY action").fetchall()
            )
            one = lambda sql: int(self.db.execute(sql).fetchone()[0] or 0)  # noqa: E731
            return {
                "decisions": decisions,
                "replies": one("SELECT COUNT(*) FROM replies"),
                "corrections": one(
                    "SELECT COALESCE(SUM(json_array_length(corrections)), 0) FROM decisions "
                    "WHERE json_valid(corrections)"
                ),
                "drafts_pending": one("SELECT COUNT(*) FROM drafts WHERE status = 'pending'"),
                "clusters_open": one("SELECT COUNT(*) FROM clusters WHERE status = 'open'"),
            }

    def decisions_per_day(self, since: str, *, exclude_own: bool = False) -> list[DayCount]:
        """Decisions per day and action for the overview chart (`exclude_own`: without
        the skips of the bot's own replies)."""
        own = f"AND NOT {self._OWN_POST} " if exclude_own else ""
        return _day_counts(
            self.db.query(
                "SELECT substr(created_at, 1, 10) AS day, action, COUNT(*) AS n FROM decisions "
                f"WHERE created_at >= ? {own}GROUP BY day, action ORDER BY day",
                [since],
            )
        )

    def audit_decisions(
        self,
        *,
        action: str | None = None,
        issue: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 100,
        offset: int = 0,
        exclude_own: bool = False,
    ) -> tuple[list[DecisionRecord], int]:
        """Decisions newest first, filtered; returns (rows, total matching).

        `exclude_own` leaves out the skips of the bot's own replies."""
        where: list[str] = []
        params: list[Any] = []
        if exclude_own:
            where.append(f"NOT {self._OWN_POST}")
        if action:
            where.append("action = ?")
            params.append(action)
        _issue_and_dates(where, params, issue, date_from, date_to)
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = int(
            self.db.execute(f"SELECT COUNT(*) FROM decisions {clause}", params).fetchone()[0]
        )
        rows = self.db.query(
            f"SELECT * FROM decisions {clause} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [DecisionRecord.from_row(r) for r in rows], total

    def dashboard_clusters(self, status: str, recent_since: str) -> list[Cluster]:
        """Clusters with `recent` (reports since `recent_since`), fastest-growing first."""
        return _clusters(
            self.db.query(
                "SELECT c.*, (SELECT COUNT(*) FROM cluster_reports r WHERE r.cluster_id = c.id "
                "AND r.created_at >= ?) AS recent FROM clusters c WHERE c.status = ? "
                "ORDER BY recent DESC, c.last_seen DESC, c.id DESC",
                [recent_since, status],
            )
        )

    def cluster_reports_for(self, cluster_id: int, limit: int = 5) -> list[ClusterReport]:
        """The cluster's latest `limit` reports, newest first."""
        return _reports(
            self.db.query(
                "SELECT * FROM cluster_reports WHERE cluster_id = ? ORDER BY created_at DESC, "
                "id DESC LIMIT ?",
                [cluster_id, limit],
            )
        )

    # --- dashboard: figures with their sample sizes, per-issue activity, titles

    # A decision the runner skipped because the post was the bot's own reply: not a
    # post anyone wrote to the bot, so figures and the audit log leave these out.
    _OWN_POST = (
        "(action = 'skip' AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(reasons) "
        "THEN reasons ELSE '[]' END) WHERE value = 'own post'))"
    )

    def own_posts_seen(self, since: str) -> int:
        """Distinct posts since `since` skipped as the bot's own (for "posts seen")."""
        row = self.db.execute(
            f"SELECT COUNT(DISTINCT post_id) FROM decisions WHERE created_at >= ? AND {self._OWN_POST}",
            [since],
        ).fetchone()
        return int(row[0] or 0)

    def count_own_post_decisions(self, **filters: Any) -> int:
        """How many rows `audit_decisions(**filters)` hides with `exclude_own=True`."""
        _, total = self.audit_decisions(**filters, limit=0)
        _, kept = self.audit_decisions(**filters, limit=0, exclude_own=True)
        return total - kept

    def topic_titles(self, topic_ids: list[int]) -> dict[int, str]:
        """The title recorded with each topic's latest decision that had one."""
        ids = sorted({int(t) for t in topic_ids if t})
        if not ids:
            return {}
        marks = ",".join("?" for _ in ids)
        rows = self.db.execute(
            f"SELECT topic_id, title FROM decisions WHERE topic_id IN ({marks}) "
            "AND title IS NOT NULL AND title != '' ORDER BY id",
            ids,
        ).fetchall()
        return {int(t): str(title) for t, title in rows}

    def dashboard_drafts(
        self,
        status: str,
        *,
        issue: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> tuple[list[Draft], int]:
        """Drafts with this status, optionally for one issue and created within the dates
        (a bare `date_to` includes its day); returns (rows, total)."""
        where, params = ["status = ?"], [status]
        _issue_and_dates(where, params, issue, date_from, date_to)
        clause = " AND ".join(where)
        total = int(
            self.db.execute(f"SELECT COUNT(*) FROM drafts WHERE {clause}", params).fetchone()[0]
        )
        # Pending drafts are worked oldest first; decided ones are read newest first.
        order = "id" if status == "pending" else "decided_at DESC, id DESC"
        rows = self.db.query(
            f"SELECT * FROM drafts WHERE {clause} ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [Draft.from_row(r) for r in rows], total

    def issue_activity(self, since: str) -> dict[str, dict[str, int]]:
        """Per known issue since `since`: hits (posts matched to it), replies posted,
        drafts made, staff rejections (drafts rejected, replies removed), replies humans
        corrected, and misconception corrections the bot made."""
        out: dict[str, dict[str, int]] = {}

        def add(sql: str, key: str) -> None:
            for slug, n in self.db.execute(sql, [since]).fetchall():
                if slug:
                    out.setdefault(slug, {})[key] = int(n or 0)

        add(
            "SELECT issue, COUNT(DISTINCT post_id) FROM decisions WHERE created_at >= ? "
            f"AND issue IS NOT NULL AND NOT {self._OWN_POST} GROUP BY issue",
            "hits",
        )
        add(
            "SELECT issue, SUM(CASE WHEN json_valid(corrections) "
            "THEN json_array_length(corrections) ELSE 0 END) FROM decisions "
            "WHERE created_at >= ? AND action IN ('reply', 'review') GROUP BY issue",
            "corrections",
        )
        add("SELECT issue, COUNT(*) FROM replies WHERE created_at >= ? GROUP BY issue", "replies")
        add(
            "SELECT issue, COUNT(*) FROM replies WHERE created_at >= ? AND state = 'removed' "
            "GROUP BY issue",
            "removed",
        )
        add(
            "SELECT issue, COUNT(*) FROM replies WHERE created_at >= ? AND state = 'corrected' "
            "GROUP BY issue",
            "corrected",
        )
        add("SELECT issue, COUNT(*) FROM drafts WHERE created_at >= ? GROUP BY issue", "drafts")
        add(
            "SELECT issue, COUNT(*) FROM drafts WHERE status = 'rejected' AND decided_at >= ? "
            "GROUP BY issue",
            "rejected",
        )
        return out

    def issue_hits_per_day(self, since: str, slug: str | None = None) -> list[DayCount]:
        """Posts matched to each issue per day, by action."""
        where, params = "", [since]
        if slug:
            where, params = "AND issue = ?", [since, slug]
        return _day_counts(
            self.db.query(
                "SELECT substr(created_at, 1, 10) AS day, issue, action, "
                "COUNT(DISTINCT post_id) AS n FROM decisions WHERE created_at >= ? "
                f"AND issue IS NOT NULL AND NOT {self._OWN_POST} {where} "
                "GROUP BY day, issue, action ORDER BY day",
                params,
            )
        )

    # ------------------------------------------------------------------ pipeline
    # (decisions, intents, replies, clusters, drafts, feedback: see below)

    # --- runner: seen posts and the decision audit log

    def is_seen(self, post_id: int, version: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM seen_posts WHERE post_id = ? AND version = ?", [post_id, version]
        ).fetchone()
        return row is not None

    def mark_seen(self, post_id: int, version: int, topic_id: int, decision_id: int) -> None:
        self.db.table("seen_posts").insert(
            {
                "post_id": post_id,
                "version": version,
                "topic_id": topic_id,
                "decision_id": decision_id,
                "at": utcnow(),
            },
            pk=("post_id", "version"),
        )

    def add_decision(self, row: dict[str, Any]) -> int:
        data = {"created_at": utcnow(), **row}
        for key in ("reasons", "error_strings", "corrections"):
            if not isinstance(data.get(key, ""), str):
                data[key] = json.dumps(data[key])
        return _new_id(self.db.table("decisions").insert(data, alter=False))

    def list_decisions(
        self, *, limit: int = 100, post_id: int | None = None
    ) -> list[DecisionRecord]:
        where, params = ("WHERE post_id = ?", [post_id]) if post_id is not None else ("", [])
        rows = self.db.query(
            f"SELECT * FROM decisions {where} ORDER BY id DESC LIMIT ?", [*params, limit]
        )
        return [DecisionRecord.from_row(r) for r in rows]

    def decision_corrections_for_post(self, post_id: int) -> list[dict[str, Any]]:
        """The corrections of the latest decision on a post (claim, correction,
        strength, basis)."""
        row = self.db.execute(
            "SELECT corrections FROM decisions WHERE post_id = ? ORDER BY id DESC LIMIT 1",
            [post_id],
        ).fetchone()
        return list(json.loads(row[0] or "[]")) if row else []

    def decision_text_for_post(self, post_id: int) -> str | None:
        row = self.db.execute(
            "SELECT text FROM decisions WHERE post_id = ? ORDER BY id DESC LIMIT 1", [post_id]
        ).fetchone()
        return row[0] if row else None

    # --- runner: write-ahead intents

    def add_intent(
        self,
        *,
        kind: str,
        dedupe_key: str,
        topic_id: int,
        post_id: int,
        issue: str | None,
        raw: str,
        payload: dict[str, Any] | None = None,
    ) -> int | None:
        """Record an intended forum write; None if one with that key already exists."""
        if self.intent_by_key(dedupe_key) is not None:
            return None
        now = utcnow()
        return _new_id(
            self.db.table("intents").insert(
                {
                    "kind": kind,
                    "dedupe_key": dedupe_key,
                    "topic_id": topic_id,
                    "post_id": post_id,
                    "issue": issue,
                    "raw": raw,
                    "payload": json.dumps(payload or {}),
                    "status": "pending",
                    "result_post_id": None,
                    "error": "",
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        )

    def get_intent(self, intent_id: int) -> Intent | None:
        return _first(
            Intent.from_row, self.db.query("SELECT * FROM intents WHERE id = ?", [intent_id])
        )

    def intent_by_key(self, dedupe_key: str) -> Intent | None:
        rows = self.db.query("SELECT * FROM intents WHERE dedupe_key = ?", [dedupe_key])
        return _first(Intent.from_row, rows)

    def pending_intents(self) -> list[Intent]:
        rows = self.db.query("SELECT * FROM intents WHERE status = 'pending' ORDER BY id")
        return [Intent.from_row(r) for r in rows]

    def list_intents(self, status: str | None = None) -> list[Intent]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.db.query(f"SELECT * FROM intents {where} ORDER BY id", params)
        return [Intent.from_row(r) for r in rows]

    def update_intent(self, intent_id: int, **fields: Any) -> None:
        self.db.table("intents").update(intent_id, {**fields, "updated_at": utcnow()})

    def count_intents_since(self, kinds: tuple[str, ...], since: str) -> int:
        marks = ",".join("?" for _ in kinds)
        row = self.db.execute(
            f"SELECT COUNT(*) FROM intents WHERE kind IN ({marks}) AND created_at >= ? "
            "AND status IN ('pending', 'done')",
            [*kinds, since],
        ).fetchone()
        return int(row[0])

    # --- runner: the bot's replies (for corrections and follow-ups)

    def add_reply(self, row: dict[str, Any]) -> int:
        return _new_id(
            self.db.table("replies").insert({"state": "active", "created_at": utcnow(), **row})
        )

    def replies_in_topic(self, topic_id: int) -> list[Reply]:
        rows = self.db.query("SELECT * FROM replies WHERE topic_id = ? ORDER BY id", [topic_id])
        return [Reply.from_row(r) for r in rows]

    def replies_for_issue(self, slug: str, state: str = "active") -> list[Reply]:
        rows = self.db.query(
            "SELECT * FROM replies WHERE issue = ? AND state = ? ORDER BY id", [slug, state]
        )
        return [Reply.from_row(r) for r in rows]

    def set_reply_state(self, reply_id: int, state: str) -> None:
        self.db.table("replies").update(reply_id, {"state": state})

    # --- runner: clusters of unknown error reports

    def list_clusters(self, status: str | None = "open") -> list[Cluster]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        return _clusters(
            self.db.query(
                f"SELECT * FROM clusters {where} ORDER BY count DESC, last_seen DESC", params
            )
        )

    def get_cluster(self, cluster_id: int) -> Cluster | None:
        return _first(
            Cluster.from_row, self.db.query("SELECT * FROM clusters WHERE id = ?", [cluster_id])
        )

    def add_cluster(self, row: dict[str, Any]) -> int:
        now = utcnow()
        data = {
            "status": "open",
            "count": 0,
            "reporters": "[]",
            "notified_size": 0,
            "first_seen": now,
            "last_seen": now,
            "created_at": now,
            **row,
        }
        return _new_id(self.db.table("clusters").insert(data))

    def update_cluster(self, cluster_id: int, **fields: Any) -> None:
        self.db.table("clusters").update(cluster_id, fields)

    def cluster_reports(self, cluster_id: int) -> list[ClusterReport]:
        return _reports(
            self.db.query(
                "SELECT * FROM cluster_reports WHERE cluster_id = ? ORDER BY id", [cluster_id]
            )
        )

    def cluster_report_for_post(self, post_id: int) -> ClusterReport | None:
        rows = self.db.query("SELECT * FROM cluster_reports WHERE post_id = ?", [post_id])
        return _first(ClusterReport.from_row, rows)

    def add_cluster_report(self, row: dict[str, Any]) -> None:
        self.db.table("cluster_reports").insert({"created_at": utcnow(), **row})

    # --- runner: review drafts and staff feedback

    def add_draft(self, row: dict[str, Any]) -> int:
        return _new_id(
            self.db.table("drafts").insert({"status": "pending", "created_at": utcnow(), **row})
        )

    def get_draft(self, draft_id: int) -> Draft | None:
        return _first(
            Draft.from_row, self.db.query("SELECT * FROM drafts WHERE id = ?", [draft_id])
        )

    def list_drafts(self, status: str | None = "pending") -> list[Draft]:
        where, params = ("WHERE status = ?", [status]) if status else ("", [])
        rows = self.db.query(f"SELECT * FROM drafts {where} ORDER BY id", params)
        return [Draft.from_row(r) for r in rows]

    def update_draft(self, draft_id: int, **fields: Any) -> None:
        self.db.table("drafts").update(draft_id, fields)

    def add_feedback(self, **fields: Any) -> int:
        return _new_id(self.db.table("feedback").insert({"created_at": utcnow(), **fields}))

    # --- runner: webhook de-duplication and follow-ups

    def add_webhook_event(self, event_key: str, event_id: str | None) -> bool:
        """True if this (event, post, version) is new; False for a redelivery."""
        with self.transaction():
            if self.db.execute(
                "SELECT 1 FROM webhook_events WHERE event_key = ?", [event_key]
            ).fetchone():
                return False
            self.db.table("webhook_events").insert(
                {"event_key": event_key, "event_id": event_id or "", "received_at": utcnow()}
            )
            return True

    def has_followup(self, history_id: int, topic_id: int) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM followups WHERE history_id = ? AND topic_id = ?", [history_id, topic_id]
        ).fetchone()
        return row is not None

    def add_followup(self, history_id: int, issue: str, topic_id: int, status: str) -> bool:
        """True if this (history entry, topic) pair had no follow-up yet."""
        if self.db.execute(
            "SELECT 1 FROM followups WHERE history_id = ? AND topic_id = ?", [history_id, topic_id]
        ).fetchone():
            return False
        self.db.table("followups").insert(
            {
                "history_id": history_id,
                "issue": issue,
                "topic_id": topic_id,
                "status": status,
                "created_at": utcnow(),
            }
        )
        return True

    def history_after(self, history_id: int) -> list[HistoryEntry]:
        rows = self.db.query("SELECT * FROM issue_history WHERE id > ? ORDER BY id", [history_id])
        return [HistoryEntry(**r) for r in rows]


def _new_id(table: sqlite_utils.db.Table) -> int:
    """The integer key of the row `table.insert(...)` just added."""
    return int(cast(int, table.last_pk))


def _first(make: Callable[[Row], _R], rows: Iterable[Row]) -> _R | None:
    for row in rows:
        return make(row)
    return None


def _clusters(rows: Iterable[Row]) -> list[Cluster]:
    return [Cluster.from_row(r) for r in rows]


def _reports(rows: Iterable[Row]) -> list[ClusterReport]:
    return [ClusterReport.from_row(r) for r in rows]


def _day_counts(rows: Iterable[Row]) -> list[DayCount]:
    return [
        DayCount(day=r["day"], action=r["action"], n=int(r["n"] or 0), issue=r.get("issue"))
        for r in rows
    ]


def _restamp(issue: KnownIssue, at: str, by: str) -> KnownIssue:
    data = issue.to_dict()
    data["updated_at"] = at
    data["updated_by"] = by
    return validate_entry(data, source=issue.slug)
