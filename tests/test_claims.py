"""Checking the claims of AI advice against an entry's facts (bot.triage.claims).

The entry here is written for the test, so that each claim shape meets a fact that
confirms, contradicts or says nothing of it; the shipped entries are exercised through
the engine at the end.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.known_issues import Fact, KnownIssue, load_dir
from bot.triage import advice, claims
from bot.triage.claims import CONTRADICTED, UNCONFIRMED, check_sentence, find_claims
from bot.triage.training_data import load_training_dir

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
        "Gemini: {claim}",
        "Mistral m'a répondu : {claim}",
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


# ---------------------------------------------------------------- more shapes, what no fact states

UPLOADS = KnownIssue(
    slug="upload_header_rejected",
    title="CSV upload rejected: header does not match the schema",
    status="expected_behaviour",
    summary="The upload API rejects a CSV whose header row does not match the table schema.",
    cause="A column is missing, renamed or out of order in the header row.",
    workaround="Correct the header row, or send schema_override to map the columns.",
    facts=(
        Fact(
            "affects",
            ("csv uploads", "cloud service", "self-hosted", "self-hosted installs"),
            "CSV uploads on the cloud service and on self-hosted installs alike.",
        ),
        Fact(
            "not_affects",
            ("self-hosted", "self-hosted installs"),
            "It is not specific to self-hosted installs: the cloud service rejects the same header.",
        ),
        Fact(
            "cause",
            ("header row", "schema mismatch", "missing column"),
            "The header row does not match the table schema.",
        ),
        Fact(
            "fix",
            ("header row", "correct the header", "schema_override"),
            "Correct the header row or map the columns with schema_override.",
        ),
    ),
)
WAITING = Fact(
    "non_fix",
    ("waiting", "retry later"),
    "Time changes nothing: the same file is rejected again until its header changes.",
)


def upload_verdict(sentence: str, *, issue: KnownIssue = UPLOADS, context: str = ""):
    return check_sentence(sentence, issue, context=context)


@pytest.mark.parametrize(
    ("sentence", "strength", "kind"),
    [
        # "only X" when the entry says it is not limited to X
        ("This only happens on self-hosted installs.", CONTRADICTED, "not_affects"),
        # a limit in a unit the entry states none in
        ("Each upload accepts at most 20 files.", UNCONFIRMED, None),
        ("Uploads fail when the header is longer than 200 characters.", UNCONFIRMED, None),
        # a deadline where the entry knows no timing at all
        ("Uploaded files are kept for 5 minutes before they are discarded.", UNCONFIRMED, None),
        # a cause after "happen when"
        (
            "These rejections happen when the file is saved with Windows line endings.",
            UNCONFIRMED,
            "cause",
        ),
        # the condition of an automatic recovery is a fix
        (
            "The rejection clears automatically once you rename the file to uppercase.",
            UNCONFIRMED,
            "fix",
        ),
        # a fix or gate in another language, on the names it holds
        ("只要在请求头里加上 X-Schema-Mode: lax 就能解决。", UNCONFIRMED, "fix"),
        ("La importación solo funciona con Python 3.12.", UNCONFIRMED, None),
        # a gate after "can only use X after"
        (
            "You can only use schema_override after the workspace completes a security audit.",
            UNCONFIRMED,
            None,
        ),
        # a status claim whose consequence is a negation
        (
            "OpenAI shipped a fix for this last month, so it should no longer happen.",
            CONTRADICTED,
            "status",
        ),
    ],
)
def test_more_claim_shapes_get_their_strength(
    sentence: str, strength: str, kind: str | None
) -> None:
    v = upload_verdict(sentence)
    assert v is not None, sentence
    assert v.strength == strength
    if kind is not None:
        assert v.fact.kind == kind


def test_a_non_fix_on_waiting_contradicts_any_delay() -> None:
    issue = replace(UPLOADS, facts=(*UPLOADS.facts, WAITING))
    v = upload_verdict("Wait 10 minutes and the same file goes through.", issue=issue)
    assert v is not None and v.strength == CONTRADICTED and v.fact is WAITING
    assert upload_verdict("Waiting 10 minutes will not change anything.", issue=issue) is None


@pytest.mark.parametrize(
    "sentence",
    [
        # the true scope, negated
        "It is not limited to self-hosted installs; the cloud service rejects it too.",
        # a retry pause is ordinary advice
        "Retry after 30 seconds with the corrected header.",
        # a denial beside a number is no checkable claim
        "Uploads are not kept for more than 5 minutes.",
        # other-language advice in ordinary words: nothing invented
        "Il suffit de corriger la ligne d'en-tête pour qu'elle corresponde au schéma.",
        "Solo funciona con la cabecera correcta.",
        # the known fix in other words
        "Map the columns with schema_override and the upload will work.",
        # a status that is a denial
        "OpenAI hasn't shipped a fix yet.",
    ],
)
def test_true_statements_of_the_new_shapes_are_left_alone(sentence: str) -> None:
    assert upload_verdict(sentence) is None, sentence


def test_a_number_the_member_wrote_is_not_called_invented() -> None:
    sentence = "Each upload accepts at most 20 files."
    assert upload_verdict(sentence, context="our batch has 20 files, gpt-4o") is None
    # a digit inside a name is not the number
    assert upload_verdict(sentence, context="we use gpt-20x and v20") is not None


@pytest.mark.parametrize(
    ("sentence", "shape", "value", "unit"),
    [
        ("A thread supports at most 3 active runs at once.", "number", 3.0, "run"),
        ("The scope is granted about 2 hours after the key is created.", "delay", 2.0, "hour"),
        ("Requests larger than 4 KB are dropped.", "number", 4.0, "kb"),
    ],
)
def test_numbers_before_their_event_or_after_a_qualifier_are_read(
    sentence: str, shape: str, value: float, unit: str
) -> None:
    claims = [c for c in find_claims(sentence) if c.shape == shape]
    assert claims and claims[0].value == value and claims[0].unit == unit


def test_a_dotted_name_stays_whole_in_an_object() -> None:
    (cause,) = [c for c in find_claims("The socket closes because session.update was binary.")]
    assert cause.shape == "cause" and "session.update" in cause.object


def test_the_shipped_entries_know_the_scope_and_the_timing() -> None:
    issues = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
    azure_only = "This error only happens on Azure deployments, not on api.openai.com."
    v = check_sentence(azure_only, issues["unsupported_param_max_tokens"])
    assert v is not None and v.strength == CONTRADICTED and v.fact.kind == "not_affects"
    slow = "Purchased credits take 72 hours to become usable on the API."
    v = check_sentence(slow, issues["insufficient_quota"])
    assert v is not None and v.strength == CONTRADICTED and v.fact.kind == "delay"
    assert (
        check_sentence(
            "After buying credits, wait a few minutes before retrying.",
            issues["insufficient_quota"],
        )
        is None
    )
    assert (
        check_sentence(
            "Azure deployments of o-series models also reject max_tokens.",
            issues["unsupported_param_max_tokens"],
        )
        is None
    )


def test_an_api_model_id_opening_a_line_is_not_an_attribution() -> None:
    posts = ["Export fails.", "gpt-4o: large exports are reserved for the Enterprise plan."]
    assert advice.find_corrections(posts, EXPORTS) == []


@pytest.mark.parametrize(
    ("sentence", "strength"),
    [
        # nothing is to be fixed in an entry that records expected behaviour
        ("OpenAI is working on a fix for the header check.", CONTRADICTED),
        ("A patch is coming next week for the header check.", CONTRADICTED),
    ],
)
def test_a_promised_fix_meets_the_entrys_status(sentence: str, strength: str) -> None:
    v = upload_verdict(sentence)
    assert v is not None and v.strength == strength and v.fact.kind == "status"


def test_a_promised_fix_is_unconfirmed_only_with_a_date_where_a_fix_may_come() -> None:
    open_issue = replace(UPLOADS, status="investigating")
    v = upload_verdict("The header check will be fixed in the next release.", issue=open_issue)
    assert v is not None and v.strength == UNCONFIRMED
    # without a date it may well be true
    assert upload_verdict("OpenAI is working on a fix.", issue=open_issue) is None
    assert upload_verdict("OpenAI is not working on a fix yet.", issue=open_issue) is None


def test_numbers_written_out_are_read() -> None:
    (claim,) = [
        c for c in find_claims("A key supports at most five scopes.") if c.shape == "number"
    ]
    assert claim.value == 5.0 and claim.unit == "scope"
    issues = {i.slug: i for i in load_dir(ROOT / "data" / "known_issues")}
    locked = issues["run_active_thread_locked"]
    assert check_sentence("A thread allows only one active run at a time.", locked) is None
    v = check_sentence("A thread supports at most three active runs.", locked)
    assert v is not None and v.strength == CONTRADICTED and v.fact.kind == "limit"


def test_an_invented_header_is_a_specific_and_real_headers_are_not() -> None:
    v = upload_verdict("Send the X-Schema-Strict header with every upload.")
    assert v is not None and v.strength == UNCONFIRMED and v.claim.object == "x-schema-strict"
    assert upload_verdict("Log the x-request-id of each rejected upload for support.") is None
    assert upload_verdict("Read x-ratelimit-remaining-requests before the next upload.") is None


@pytest.mark.parametrize(
    "sentence",
    [
        # a value to choose, not a limit the API imposes
        "Reserve up to 25000 tokens for the header check.",
        "Raise the CSV upload batch to more than 40 rows.",
        # a pace, not a deadline
        "Poll the upload every 2 seconds until it finishes.",
        "Wait 2 seconds between CSV uploads.",
    ],
)
def test_numbers_in_advice_on_pacing_or_settings_are_left_alone(sentence: str) -> None:
    assert upload_verdict(sentence) is None, sentence


def test_a_number_without_a_limit_cue_or_an_object_id_is_not_an_invention() -> None:
    assert upload_verdict("Print the last four characters of the key the upload uses.") is None
    assert upload_verdict("The failing upload was request req_1af8f085b94879cba2a6.") is None


# --- the shapes read on folded text ------------------------------------------------------

_SHAPE_PIECES = sorted(
    {
        piece
        for _, rx in claims._SHAPES
        for run in patterns.literal_runs(rx)
        for piece in (run, run.upper(), run.title())
    }
    | {" ", ",", ".", " 5 ", "10", " the ", "SDK", "\u017f", "\u0131", "\u212a", "?"}
)


def _claims_by_the_plain_rules(sentence: str) -> list[claims.Claim]:
    plain = (None,) * len(claims._SHAPES)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(claims, "_SHAPE_FOLDED", plain)
        return find_claims(sentence)


def _training_sentences() -> list[str]:
    examples = load_training_dir(Path(__file__).resolve().parents[1] / "data" / "training")
    return [
        s for e in examples for t in (e.text, *e.later_posts) for s in advice.split_sentences(t)
    ]


def test_folded_shapes_find_the_claims_the_plain_rules_do_on_the_training_data() -> None:
    assert sum(t is not None for t in claims._SHAPE_FOLDED) >= 10
    found = 0
    for sentence in _training_sentences():
        got = find_claims(sentence)
        assert got == _claims_by_the_plain_rules(sentence)
        found += len(got)
    assert found > 100


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_SHAPE_PIECES), max_size=10).map("".join))
def test_folded_shapes_find_the_claims_the_plain_rules_do(sentence: str) -> None:
    assert find_claims(sentence) == _claims_by_the_plain_rules(sentence)


def test_a_denied_fix_in_a_case_a_non_fix_names_is_not_contradicted() -> None:
    """The fix works in general, a non_fix fact says it fails for one model: denying it
    for that model agrees with the entry; denying it outright is still wrong."""
    entry = replace(
        EXPORTS,
        facts=(
            *EXPORTS.facts,
            Fact("non_fix", ("async export eu-2",), "The async export is not offered on eu-2."),
        ),
    )
    scoped = check_sentence("On eu-2, switching to the async export won't help.", entry)
    assert scoped is None
    plain = check_sentence("Switching to the async export won't help.", entry)
    assert plain is not None and plain.strength == CONTRADICTED
