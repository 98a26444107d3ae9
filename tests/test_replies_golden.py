"""Golden files for every template and status.

The expected outputs live in tests/golden/*.md. They are only rewritten when the
environment variable UPDATE_GOLDEN=1 is set; otherwise a difference fails the test.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from bot.known_issues import STATUSES, KnownIssue, Misconception, Pattern
from bot.replies.render import (
    EscalationSample,
    EscalationSummary,
    render_escalation,
    render_followup,
    render_reply,
    render_review_note,
    render_secret_notice,
)
from bot.triage.types import Correction

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

ISSUE = KnownIssue(
    slug="widget_export_timeout",
    title="Exporting a large widget report times out with `export_timeout`",
    status="investigating",
    summary=(
        "Exports of widget reports larger than about 50 MB stop with export_timeout after "
        "two minutes. Several members see it since the last release."
    ),
    cause="The export worker has a fixed two-minute budget.",
    workaround=(
        "Split the export by month (`?month=2026-01`) and join the files afterwards.\n"
        "- Smaller exports finish well inside the limit."
    ),
    patterns=(Pattern("literal", "export_timeout"),),
    misconceptions=(
        Misconception(
            claim="Exports are limited to paid plans",
            patterns=(r"exports?\b.{0,40}\b(only|limited to)\b.{0,20}\bpaid plans?",),
            correction="Exports are available on every plan; the timeout depends on size only.",
        ),
    ),
    links=("https://docs.example.com/exports", "https://forum.example.com/t/export-timeouts/42"),
    updated_at="2026-11-20T09:30:00Z",
    updated_by="maintainer",
)
ERROR = "ExportError: export_timeout after 120s (request req_<id>)"
CORRECTION = Correction(
    claim="Exports of this size are limited to paid plans, so upgrade first.",
    correction="Exports are available on every plan; the timeout depends on size only.",
)


def check(name: str, text: str) -> None:
    path = GOLDEN / f"{name}.md"
    if UPDATE or not path.exists():
        if not UPDATE:
            pytest.fail(f"missing golden file {path.name}; run with UPDATE_GOLDEN=1 to create it")
        path.write_text(text, encoding="utf-8")
        return
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs (UPDATE_GOLDEN=1)"


@pytest.mark.parametrize("status", STATUSES)
def test_reply_golden_per_status(status: str) -> None:
    issue = replace(ISSUE, status=status)
    text = render_reply(issue, error_string=ERROR, corrections=[], fixed_since="2026-11-21")
    check(f"reply_{status}", text)


def test_reply_golden_with_correction_and_secret() -> None:
    text = render_reply(
        ISSUE,
        error_string=ERROR,
        corrections=[CORRECTION],
        secret_kinds=["openai_project_key"],
        forum_name="Example Developer Forum",
    )
    check("reply_correction_secret", text)


def test_reply_golden_without_error_or_links() -> None:
    issue = replace(ISSUE, links=(), updated_at="")
    check("reply_minimal", render_reply(issue, error_string=None, corrections=[]))


def test_secret_notice_golden() -> None:
    check("secret_notice", render_secret_notice(["openai_key", "bearer_token"]))


def test_escalation_golden() -> None:
    summary = EscalationSummary(
        cluster_id=7,
        fingerprint="3f2a9c1d",
        normalised="Error <n>: widget <id> could not be parsed",
        count=4,
        reporters=3,
        first_seen="2026-11-18T08:00:00Z",
        last_seen="2026-11-20T17:45:00Z",
        samples=(
            EscalationSample(
                "Widget parse error after update", "https://f.example/t/9", "widget 12"
            ),
            EscalationSample("Same here", "https://f.example/t/11", ""),
        ),
        crossed_size=3,
        dashboard_url="https://bot.example/queue/7",
    )
    title, raw = render_escalation(summary)
    check("escalation", f"{title}\n---\n{raw}")


def test_review_note_golden() -> None:
    text = render_review_note(
        ISSUE,
        confidence=0.7412,
        reasons=["model:widget_export_timeout", "p=0.74<auto 0.90"],
        threshold=0.9,
        corrections_count=1,
        secrets_found=True,
    )
    check("review_note", text)


def test_review_note_golden_unmatched() -> None:
    check("review_note_unmatched", render_review_note(None, confidence=0.31))


@pytest.mark.parametrize(
    ("previous", "status"),
    [("investigating", "identified"), ("identified", "workaround"), ("workaround", "fixed")],
)
def test_followup_golden(previous: str, status: str) -> None:
    issue = replace(ISSUE, status=status)
    text = render_followup(issue, previous, note="The export worker budget was raised.")
    check(f"followup_{previous}_to_{status}", text)
