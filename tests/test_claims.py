"""Checking the claims of AI advice against an entry's facts (bot.triage.claims).

The entry here is written for the test, so that each claim shape meets a fact that
confirms, contradicts or says nothing of it; the shipped entries are exercised through
the engine at the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.known_issues import Fact, KnownIssue, load_dir
from bot.triage import advice
from bot.triage.claims import CONTRADICTED, UNCONFIRMED, check_sentence, find_claims

ROOT = Path(__file__).resolve().parent.parent

EXPORTS = KnownIssue(
    slug="export_timeout",
    title="Large exports time out with 504",
    status="workaround",
    summary="Exports of more than 50,000 rows time out after 120 seconds.",
    cause="The export job runs inside the request and hits the gateway timeout.",
    workaround="Export in date ranges, or use the async export endpoint.",
    facts=(
        Fact(
            "affects", ("large exports", "exports over 50000 rows"), "Only large exports time out."
        ),
        Fact(
            "not_required",
            ("paid plan", "enterprise plan", "upgrade"),
            "Exports work on every plan.",
        ),
        Fact(
            "cause",
            ("gateway timeout", "request timeout", "export job"),
            "The export runs inside the request and meets the gateway timeout.",
        ),
        Fact("not_cause", ("api key", "permissions"), "Keys and permissions play no part in it."),
        Fact(
            "fix",
            ("date ranges", "async export", "smaller exports", "retry"),
            "Export in date ranges or use the async export endpoint.",
        ),
        Fact(
            "non_fix",
            ("new api key", "regenerate the key"),
            "A new key does not change the timeout.",
        ),
        Fact(
            "limit",
            ("gateway timeout", "export timeout", "time out"),
            "The gateway gives up after 120 seconds.",
            120,
            None,
            "seconds",
        ),
        Fact(
            "delay",
            ("async export", "export ready", "export finish"),
            "An async export is ready within 10 to 30 minutes.",
            10,
            30,
            "minutes",
        ),
    ),
)


def verdict(sentence: str):
    return check_sentence(sentence, EXPORTS)


# ---------------------------------------------------------------- each shape, each strength


@pytest.mark.parametrize(
    ("sentence", "strength", "kind"),
    [
        # gate / requirement
        ("Large exports are reserved for the Enterprise plan.", CONTRADICTED, "not_required"),
        ("You need a paid plan to export this many rows.", CONTRADICTED, "not_required"),
        (
            "Bulk export is only available to accounts with a verified billing address.",
            UNCONFIRMED,
            None,
        ),
        # cause
        ("This error means your API key lacks export permissions.", CONTRADICTED, "not_cause"),
        (
            "The timeout is caused by a corrupted spreadsheet template on their side.",
            UNCONFIRMED,
            "cause",
        ),
        # fix
        ("Regenerate the key and it will work.", CONTRADICTED, "non_fix"),
        (
            "To fix this, you need to clear the browser cookies for the dashboard.",
            UNCONFIRMED,
            "fix",
        ),
        # impossibility
        ("There is no way to export more than 50,000 rows at once.", CONTRADICTED, "fix"),
        # delay
        ("The async export takes about 3 days to be ready.", CONTRADICTED, "delay"),
        # number
        ("The export timeout is capped at 10 seconds.", CONTRADICTED, "limit"),
        # denial of a known fix
        ("Exporting in date ranges is useless, the job still times out.", CONTRADICTED, "fix"),
        # status
        ("OpenAI has already fixed the export timeout.", CONTRADICTED, "status"),
    ],
)
def test_each_claim_shape_gets_its_strength(sentence: str, strength: str, kind: str | None) -> None:
    v = verdict(sentence)
    assert v is not None, sentence
    assert v.strength == strength
    if kind is not None:
        assert v.fact.kind == kind


@pytest.mark.parametrize(
    "sentence",
    [
        # agrees with a fact
        "Exports do not require an enterprise plan.",
        "The timeout is caused by the gateway timeout on long requests.",
        "Use the async export endpoint and it will work.",
        "The async export is usually ready within 20 minutes.",
        "The gateway gives up after about two minutes, so keep each export smaller.",
        "Export in date ranges to stay under the limit.",
        # negation of a misconception
        "Your API key has nothing to do with this timeout.",
        "You do not need to contact sales for large exports.",
        # hedges and questions assert nothing
        "It might be caused by a corrupted spreadsheet template.",
        "Is this caused by the spreadsheet template?",
        # a universal statement is not a gate
        "Exports over 50,000 rows time out on every plan.",
    ],
)
def test_sentences_that_agree_or_assert_nothing_are_left_alone(sentence: str) -> None:
    assert verdict(sentence) is None, sentence


def test_an_entry_without_facts_checks_nothing() -> None:
    bare = KnownIssue(slug="bare_issue", title="t", status="investigating", summary="s")
    assert check_sentence("This is reserved for the Enterprise plan.", bare) is None


@pytest.mark.parametrize(
    ("sentence", "shape", "value", "unit"),
    [
        ("La verificación tarda unos 3 días en aplicarse.", "delay", 3.0, "day"),
        ("Die Freischaltung dauert bis zu 48 Stunden.", "delay", 48.0, "hour"),
        ("审核需要3个工作日。", "delay", 3.0, "day"),
        ("反映まで24時間かかります。", "delay", 24.0, "hour"),
        ("The context window of gpt-4o is 32k tokens.", "number", 32000.0, "token"),
    ],
)
def test_numbers_and_delays_are_read_in_several_languages(
    sentence: str, shape: str, value: float, unit: str
) -> None:
    claims = [c for c in find_claims(sentence) if c.shape == shape]
    assert claims and claims[0].value == value and claims[0].unit == unit


# ---------------------------------------------------------------- in a thread


@pytest.mark.parametrize(
    "attribution",
    [
        "I asked Claude and it said: {claim}",
        "GPT-4o told me that {claim}",
        "From Gemini:\n\n> {claim}",
        "Copilot suggested this: {claim}",
        "An AI tool says {claim}",
        "ChatGPT me dijo esto: {claim}",
        "Laut ChatGPT: {claim}",
        "我问了ChatGPT，它说：{claim}",
    ],
)
def test_attributed_advice_in_any_words_is_checked(attribution: str) -> None:
    claim = "Large exports are reserved for the Enterprise plan."
    posts = [
        "Exports of 80k rows fail with 504 after two minutes.",
        attribution.format(claim=claim),
    ]
    found = advice.find_corrections(posts, EXPORTS)
    assert [c.strength for c in found] == [CONTRADICTED]
    assert "reserved for the Enterprise plan" in found[0].claim


def test_advice_in_the_first_post_is_checked() -> None:
    posts = ["ChatGPT told me to regenerate the key and it will work, but it still fails with 504."]
    found = advice.find_corrections(posts, EXPORTS)
    assert found and found[0].basis.startswith("fact:")


def test_assistant_style_without_attribution_is_checked() -> None:
    styled = (
        "**Cause**\n\nThe timeout is caused by a corrupted spreadsheet template on their side.\n\n"
        "**Fix**\n\n1. Export in date ranges.\n\nHope this helps!"
    )
    found = advice.find_corrections(["Export fails with 504.", styled], EXPORTS)
    assert [c.strength for c in found] == [UNCONFIRMED]


def test_a_members_own_opinion_is_not_corrected() -> None:
    posts = ["Export fails.", "I think large exports are reserved for the Enterprise plan."]
    assert advice.find_corrections(posts, EXPORTS) == []


def test_the_quoted_claim_is_the_sentence_that_makes_it() -> None:
    posts = [
        "Export fails.",
        "ChatGPT says: Exports are fine on small files. Large exports are reserved for the "
        "Enterprise plan. Try again later.",
    ]
    (c,) = advice.find_corrections(posts, EXPORTS)
    assert c.claim == "Large exports are reserved for the Enterprise plan."


def test_a_rejected_claim_is_not_corrected_again() -> None:
    posts = ["Export fails.", "ChatGPT says large exports are reserved for the Enterprise plan."]
    first = advice.find_corrections(posts, EXPORTS)
    assert first
    from dataclasses import replace

    marked = replace(EXPORTS, rejected_claims=(first[0].claim,))
    assert advice.find_corrections(posts, marked) == []


# ---------------------------------------------------------------- shipped entries


def test_the_seed_thread_still_gets_its_enterprise_plan_correction() -> None:
    issues = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
    posts = [
        "Creating a Read Only key fails: Request includes unauthorized scopes: api.all.read.",
        "I asked GPT-4o: scoped and read-only keys are reserved for organizational or "
        "Enterprise plans and are not available to individual accounts, so you need to "
        "upgrade your plan.",
    ]
    found = advice.find_corrections(posts, issues["unauthorized_scopes_readonly_key"])
    assert found and found[0].strength == CONTRADICTED
    assert "Enterprise" in found[0].claim


def test_every_shipped_entry_has_facts_that_answer_a_claim() -> None:
    for issue in load_dir(ROOT / "data" / "known_issues"):
        assert issue.facts, issue.slug
        assert any(f.kind in ("fix", "requires", "cause") for f in issue.facts), issue.slug
