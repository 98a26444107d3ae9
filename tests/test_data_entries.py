"""The shipped data: known-issue entries and training examples agree with each other.

A pattern hit lets the bot answer publicly, so these tests hold every pattern to
the training posts written for other labels: a pattern that fires on another issue's
post is a wrong public answer waiting to happen, and one that fires on a `not_error`
or `novel` post (a bare error code a relay reuses or a question names) must still
not make the bot answer with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.known_issues import load_dir
from bot.triage.engine import Triager
from bot.triage.training_data import NOT_ERROR, NOVEL, load_training_dir
from bot.triage.types import Thread

ROOT = Path(__file__).resolve().parent.parent
ISSUES = load_dir(ROOT / "data" / "known_issues")
EXAMPLES = load_training_dir(ROOT / "data" / "training")
SLUGS = {i.slug for i in ISSUES}
# Issues whose reports carry no error text: the classifier, not patterns, finds them.
SYMPTOM_ONLY = {
    "realtime_audio_truncated",
    "realtime_vad_interruption",
    "realtime_transcription_null",
}


def _post(example) -> str:
    return f"{example.title}\n{example.text}"


def test_every_training_label_is_known():
    labels = {e.label for e in EXAMPLES}
    assert labels <= SLUGS | {NOVEL, NOT_ERROR}
    assert {NOVEL, NOT_ERROR} <= labels


@pytest.mark.parametrize("issue", ISSUES, ids=lambda i: i.slug)
def test_every_issue_has_varied_training_posts(issue):
    own = [e for e in EXAMPLES if e.label == issue.slug]
    assert len(own) >= 15, f"{issue.slug}: only {len(own)} training posts"
    assert len({e.text for e in own}) == len(own), "duplicate training posts"
    assert issue.examples, "the entry itself carries short examples"


@pytest.fixture(scope="module")
def project_triager(tmp_path_factory: pytest.TempPathFactory) -> Triager:
    return Triager.from_dir(
        ROOT / "data", ROOT / "models", cache_dir=tmp_path_factory.mktemp("models")
    )


@pytest.mark.parametrize("issue", ISSUES, ids=lambda i: i.slug)
def test_patterns_fire_on_own_posts_and_never_on_other_labels(issue, project_triager):
    compiled = [(p.value, p.compile()) for p in issue.patterns]
    own_hits = sum(
        1
        for e in EXAMPLES
        if e.label == issue.slug and any(c.search(_post(e)) for _, c in compiled)
    )
    if issue.slug not in SYMPTOM_ONLY:
        assert own_hits >= 3, f"patterns of {issue.slug} match only {own_hits} of its own posts"
    for example in EXAMPLES:
        if example.label == issue.slug:
            continue
        for value, pattern in compiled:
            if not pattern.search(_post(example)):
                continue
            # Only a bare error code may meet another label's post (a relay reusing the
            # code, a question naming it); the decision must then not answer with it.
            assert example.label in (NOVEL, NOT_ERROR), (
                f"pattern {value[:60]!r} of {issue.slug} fires on {example.source} "
                f"({example.label})"
            )
            d = project_triager.decide(
                Thread("x", example.title, (example.text, *example.later_posts))
            )
            assert not (d.action == "reply" and d.issue == issue.slug), (
                f"{issue.slug} would answer {example.source} ({example.label}): {d.reasons}"
            )


@pytest.mark.parametrize("issue", ISSUES, ids=lambda i: i.slug)
def test_misconception_patterns_never_fire_on_the_corrections(issue):
    texts = [m.correction for m in issue.misconceptions] + [issue.summary, issue.workaround]
    for misconception in issue.misconceptions:
        for pattern in misconception.compiled():
            for text in texts:
                for sentence in re.split(r"(?<=[.!?])\s+", text):
                    assert not pattern.search(sentence), (
                        f"{issue.slug}: misconception pattern {pattern.pattern[:50]!r} "
                        f"matches the entry's own text: {sentence[:80]!r}"
                    )


def test_wrong_advice_from_the_facts_is_listed():
    by_slug = {i.slug: i for i in ISSUES}
    for slug in (
        "unauthorized_scopes_readonly_key",
        "invalid_api_key",
        "model_not_found",
        "engine_overloaded",
        "unsupported_country",
        "insufficient_quota",
    ):
        assert by_slug[slug].misconceptions, f"{slug} lists no misconception"


def test_statuses_never_claim_a_fix_the_facts_do_not_confirm():
    by_slug = {i.slug: i for i in ISSUES}
    # The facts say no fix is confirmed for these platform problems.
    for slug in (
        "unauthorized_scopes_readonly_key",
        "realtime_audio_truncated",
        "remote_mcp_tool_error",
        "realtime_vad_interruption",
    ):
        assert by_slug[slug].status in ("investigating", "identified"), slug
