"""The typed rows `bot.store` returns: one frozen dataclass per kind of record.

The columns are the tables' (see the migrations in bot/store.py); JSON columns are
parsed here once, so callers read `draft.status` or `intent.payload["title"]` and never
`json.loads` a column themselves. A NULL text column reads as "" where the table treats
it as optional text, and stays None where its absence means something (a draft not yet
decided, a reply not yet posted).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# The statuses the store's rows take (bot.runner.queues moves rows between them).
CLUSTER_STATUSES = ("open", "dismissed", "linked", "promoted")
DRAFT_STATUSES = ("pending", "approved", "rejected")

Row = dict[str, Any]


def _json(text: object, default: Any) -> Any:
    """A JSON column's value, or `default` when it is empty or not JSON."""
    if not isinstance(text, str) or not text:
        return default
    try:
        value = json.loads(text)
    except ValueError:
        return default
    return value if isinstance(value, type(default)) else default


def _list(text: object) -> list[Any]:
    """A JSON list column read leniently: text that is not JSON is one item, a scalar
    a list of one (the audit log shows what is there rather than nothing)."""
    if not text:
        return []
    try:
        value = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return [str(text)]
    return value if isinstance(value, list) else [value]


def _text(value: object) -> str:
    return "" if value is None else str(value)


@dataclass(frozen=True)
class DecisionRecord:
    """One post version decided: the audit log's main row."""

    id: int
    post_id: int
    post_version: int
    topic_id: int
    username: str
    fingerprint: str | None
    normalised: str | None
    issue: str | None
    confidence: float
    action: str
    reasons: tuple[str, ...]
    error_strings: tuple[str, ...]
    corrections: tuple[dict[str, Any], ...]  # claim, correction, strength, basis
    model_version: str
    mode: str
    created_at: str
    text: str
    title: str

    @classmethod
    def from_row(cls, row: Row) -> DecisionRecord:
        return cls(
            id=row["id"],
            post_id=row["post_id"],
            post_version=row["post_version"] or 0,
            topic_id=row["topic_id"] or 0,
            username=_text(row["username"]),
            fingerprint=row["fingerprint"],
            normalised=row["normalised"],
            issue=row["issue"] or None,
            confidence=float(row["confidence"] or 0.0),
            action=row["action"],
            reasons=tuple(str(r) for r in _list(row["reasons"])),
            error_strings=tuple(str(e) for e in _list(row["error_strings"])),
            corrections=tuple(c for c in _list(row["corrections"]) if isinstance(c, dict)),
            model_version=_text(row["model_version"]),
            mode=_text(row["mode"]),
            created_at=_text(row["created_at"]),
            text=_text(row.get("text")),
            title=_text(row.get("title")),
        )


@dataclass(frozen=True)
class Intent:
    """A forum write, recorded before it is made and settled after."""

    id: int
    kind: str  # reply | notice | pm | topic | flag | whisper | edit | followup
    dedupe_key: str
    topic_id: int
    post_id: int
    issue: str | None
    raw: str
    payload: dict[str, Any]
    status: str  # pending | done | failed | abandoned
    result_post_id: int | None
    error: str
    attempts: int
    created_at: str
    updated_at: str

    @classmethod
    def from_row(cls, row: Row) -> Intent:
        return cls(
            id=row["id"],
            kind=row["kind"],
            dedupe_key=row["dedupe_key"],
            topic_id=row["topic_id"] or 0,
            post_id=row["post_id"] or 0,
            issue=row["issue"] or None,
            raw=_text(row["raw"]),
            payload=_json(row["payload"], {}),
            status=row["status"],
            result_post_id=row["result_post_id"] or None,
            error=_text(row["error"]),
            attempts=row["attempts"] or 0,
            created_at=_text(row["created_at"]),
            updated_at=_text(row["updated_at"]),
        )


@dataclass(frozen=True)
class Reply:
    """A reply the bot posted, and what humans did to it since."""

    id: int
    topic_id: int
    post_id: int
    reply_post_id: int | None
    reply_post_number: int | None
    issue: str | None
    issue_updated_at: str
    state: str  # active | removed | corrected
    created_at: str

    @classmethod
    def from_row(cls, row: Row) -> Reply:
        return cls(
            id=row["id"],
            topic_id=row["topic_id"] or 0,
            post_id=row["post_id"] or 0,
            reply_post_id=row["reply_post_id"] or None,
            reply_post_number=row["reply_post_number"] or None,
            issue=row["issue"] or None,
            issue_updated_at=_text(row["issue_updated_at"]),
            state=row["state"] or "active",
            created_at=_text(row["created_at"]),
        )


@dataclass(frozen=True)
class ClusterReport:
    """One unmatched report in a cluster."""

    id: int
    cluster_id: int
    post_id: int
    topic_id: int
    username: str
    title: str
    excerpt: str
    error_string: str
    created_at: str

    @classmethod
    def from_row(cls, row: Row) -> ClusterReport:
        return cls(
            id=row["id"],
            cluster_id=row["cluster_id"],
            post_id=row["post_id"],
            topic_id=row["topic_id"] or 0,
            username=_text(row["username"]),
            title=_text(row["title"]),
            excerpt=_text(row["excerpt"]),
            error_string=_text(row["error_string"]),
            created_at=_text(row["created_at"]),
        )


@dataclass(frozen=True)
class Cluster:
    """A group of new, unmatched reports: an escalation."""

    id: int
    title: str
    status: str  # open | dismissed | linked | promoted
    fingerprint: str
    normalised: str
    count: int
    reporters: tuple[str, ...]
    first_seen: str
    last_seen: str
    linked_slug: str | None
    notified_size: int
    created_at: str = ""
    # Filled where the reports are asked for (`queues.get_cluster`), empty otherwise.
    reports: tuple[ClusterReport, ...] = ()
    # Reports since the dashboard's window started (`Store.dashboard_clusters` only;
    # None where not counted).
    recent: int | None = None

    @classmethod
    def from_row(cls, row: Row) -> Cluster:
        return cls(
            id=row["id"],
            title=_text(row["title"]),
            status=row["status"],
            fingerprint=_text(row["fingerprint"]),
            normalised=_text(row["normalised"]),
            count=row["count"] or 0,
            reporters=tuple(str(r) for r in _json(row["reporters"], [])),
            first_seen=_text(row["first_seen"]),
            last_seen=_text(row["last_seen"]),
            linked_slug=row["linked_slug"] or None,
            notified_size=row["notified_size"] or 0,
            created_at=_text(row.get("created_at")),
            recent=row.get("recent"),
        )


@dataclass(frozen=True)
class Draft:
    """A reply waiting for (or decided by) staff: the review queue."""

    id: int
    post_id: int
    topic_id: int
    issue: str | None
    confidence: float
    raw: str
    reason: str
    status: str  # pending | approved | rejected
    decided_by: str | None
    decided_at: str | None
    reject_reason: str | None
    reply_post_id: int | None
    created_at: str

    @classmethod
    def from_row(cls, row: Row) -> Draft:
        return cls(
            id=row["id"],
            post_id=row["post_id"],
            topic_id=row["topic_id"],
            issue=row["issue"] or None,
            confidence=float(row["confidence"] or 0.0),
            raw=_text(row["raw"]),
            reason=_text(row["reason"]),
            status=row["status"],
            decided_by=row["decided_by"] or None,
            decided_at=row["decided_at"] or None,
            reject_reason=row["reject_reason"] or None,
            reply_post_id=row["reply_post_id"] or None,
            created_at=_text(row["created_at"]),
        )


@dataclass(frozen=True)
class DayCount:
    """Decisions on one day for one action (and issue, where the query is per issue)."""

    day: str
    action: str
    n: int
    issue: str | None = None
