"""Bare error codes: named in a question, they are a topic; quoted from output, a report.

Runs the shipped known issues and model, since the rule is about their patterns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.known_issues import load_dir
from bot.triage.engine import Triager, code_only, required_substring
from bot.triage.types import Thread

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def triager(tmp_path_factory: pytest.TempPathFactory) -> Triager:
    return Triager.from_dir(
        ROOT / "data", ROOT / "models", cache_dir=tmp_path_factory.mktemp("cache")
    )


def test_code_only_patterns_are_recognised():
    issues = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
    codes = {
        code_only(p.compile(), required_substring(p)) for p in issues["insufficient_quota"].patterns
    }
    assert "insufficient_quota" in codes
    # A pattern that needs the message's words is not a bare code.
    full = [p for p in issues["insufficient_quota"].patterns if "current" in p.value]
    assert full and all(code_only(p.compile(), required_substring(p)) is None for p in full)


def test_code_in_a_discussion_is_not_answered(triager: Triager):
    d = triager.decide(
        Thread(
            "d",
            "Designing retries: rate_limit_exceeded vs insufficient_quota",
            (
                "For a queue worker I'm designing, what's the recommended way to treat "
                "rate_limit_exceeded differently from insufficient_quota? Looking for best "
                "practices, nothing is broken.",
            ),
        )
    )
    assert d.action == "ignore"
    assert "error code named, not quoted" in d.reasons


def test_code_quoted_from_output_is_answered(triager: Triager):
    d = triager.decide(
        Thread(
            "q",
            "429 on every call",
            (
                "Every request fails since this morning:\n```\n"
                '{"error": {"message": "You exceeded your current quota, please check your '
                'plan and billing details.", "type": "insufficient_quota", "param": null, '
                '"code": "insufficient_quota"}}\n```',
            ),
        )
    )
    assert d.action == "reply" and d.issue == "insufficient_quota"


def test_code_named_in_prose_of_a_report_is_a_draft(triager: Triager):
    d = triager.decide(
        Thread(
            "p",
            "Getting errors from the API",
            (
                "My app keeps getting insufficient_quota back even though I have credit, "
                "it started an hour ago and nothing works.",
            ),
        )
    )
    # A report, but a bare code in prose is weaker evidence than quoted output:
    # staff see a draft instead of a public answer.
    assert (d.action, d.issue) == ("review", "insufficient_quota")
    assert "error code named, not quoted" in d.reasons
