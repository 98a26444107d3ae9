"""Bare error codes: named in a question, they are a topic; quoted from output, a report.

Runs the shipped known issues and model, since the rule is about their patterns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.known_issues import load_dir
from bot.triage.engine import Triager
from bot.triage.matching import code_only, required_substring
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


def test_issue_codes_come_from_every_part_of_an_entry():
    from bot.triage.policy import issue_codes

    issues = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
    assert "insufficient_quota" in issue_codes(issues["insufficient_quota"])
    # A code inside a regex pattern counts, escapes and all.
    assert "beta_api_shape_disabled" in issue_codes(issues["realtime_session_disconnect"])
    assert "insufficient_quota" not in issue_codes(issues["unsupported_temperature"])


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ('{"error": {"code": "rate_limit_exceeded", "type": "x_error"}}', {"rate_limit_exceeded"}),
        ("Error code: 400 - {'error': {'code': 'invalid_value'}}", {"invalid_value"}),
        ('"code" : "Model_Not_Found"', {"model_not_found"}),
        ('{"code": null, "type": "server_error"}', set()),
        ("the code was rate_limit_exceeded", set()),
    ],
)
def test_quoted_codes(text: str, codes: set[str]):
    from bot.triage.policy import quoted_codes

    assert quoted_codes(text) == codes


def _model_only_reply(triager: Triager) -> Thread:
    """A training post the model answers on its own (no pattern of any entry hits)."""
    from bot.triage.training_data import load_training_dir

    for n, e in enumerate(load_training_dir(ROOT / "data" / "training")):
        t = Thread(f"m{n}", e.title, (e.text,))
        d = triager.decide(t)
        if d.action == "reply" and not any(r.startswith("pattern:") for r in d.reasons):
            return t
    pytest.fail("no model-only reply among the training posts")


def test_a_quoted_code_no_entry_knows_is_escalated_not_answered(triager: Triager):
    thread = _model_only_reply(triager)
    body = (
        '\n```\n{"error": {"code": "zz_brand_new_failure", "type": "invalid_request_error"}}\n```'
    )
    d = triager.decide(Thread(thread.id, thread.title, (thread.first_post + body,)))
    assert (d.action, d.issue) == ("escalate", None)
    assert "quoted code zz_brand_new_failure is in no known issue" in d.reasons


def test_a_quoted_code_of_another_entry_makes_only_a_draft(
    triager: Triager, monkeypatch: pytest.MonkeyPatch
):
    thread = _model_only_reply(triager)
    answered = triager.decide(thread).issue
    body = '\n```\n{"error": {"code": "zz_other_entry_code"}}\n```'
    # An entry other than the model's pick names the code.
    monkeypatch.setattr(
        triager._policy, "_all_codes", triager._policy._all_codes | {"zz_other_entry_code"}
    )
    d = triager.decide(Thread(thread.id, thread.title, (thread.first_post + body,)))
    assert (d.action, d.issue) == ("review", answered)
    assert "quoted code zz_other_entry_code is not this issue's" in d.reasons
