"""AI-advice detection and misconception corrections.

Threads here are written for the tests: attributed and unattributed AI advice, control
threads whose pasted advice is correct (must get no correction), negations, the bot's
own posts and quotes of them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.known_issues import KnownIssue, Misconception, load_file
from bot.replies.render import render_reply
from bot.triage.advice import find_ai_advice, find_corrections, split_sentences, style_score
from bot.triage.types import Correction

DATA = Path(__file__).resolve().parents[1] / "data" / "known_issues"
SEED = DATA / "unauthorized_scopes_readonly_key.yml"
ERROR = "Request includes unauthorized scopes: api.all.read"

# A local entry so that these tests do not depend on how the seed data is worded.
ISSUE = KnownIssue(
    slug="readonly_key_scope_error",
    title="Read-only key creation fails with unauthorized scopes",
    status="investigating",
    summary="Creating a read-only key fails; full-access keys work.",
    workaround="Create a Restricted key and pick Read on each resource.",
    misconceptions=(
        Misconception(
            claim="Read-only keys are reserved for Enterprise plans",
            patterns=(
                r"(read[- ]only|scoped|restricted)\s+(api\s+)?keys?\b.{0,120}\b(enterprise|organi[sz]ation(al)?)\s+(plans?|accounts?|tiers?)",
                r"(only|exclusively|reserved)\b.{0,60}\b(enterprise|organi[sz]ation(al)?)\s+(plans?|accounts?|tiers?)",
                r"(not available|unavailable)\b.{0,80}\b(individual|free|personal)\s+(accounts?|plans?|users?)",
            ),
            correction="Read-only keys are not tied to a plan; the error is a reported problem.",
        ),
        Misconception(
            claim="Waiting a day makes the error go away",
            patterns=(r"\bwait(ing)?\b.{0,30}\b(24 hours|a day|overnight)\b",),
            correction="Waiting does not change it; use the workaround.",
        ),
    ),
)
REPORT = f"Creating a read only key fails with `{ERROR}`. Full access keys work. Bug?"


def corrections(*later: str, issue: KnownIssue = ISSUE) -> list[Correction]:
    return find_corrections([REPORT, *later], issue)


# --- attributed advice -------------------------------------------------------------------


@pytest.mark.parametrize(
    "post",
    [
        "ChatGPT says read-only keys are reserved for Enterprise plans.",
        "GPT-4o told me: read-only API keys only exist on organization accounts.",
        "I asked Claude and it said scoped keys are only for enterprise plans.",
        "According to AI, read-only keys are reserved for organisational tiers.",
        "Gemini's answer:\n\nRead-only keys are currently unavailable for individual accounts.",
        "From an AI assistant I use:\n\n> Restricted keys require an enterprise plan or tier.",
        "copilot chat explanation: scoped keys are exclusively for Enterprise accounts",
        "Asked ChatGPT, it said read-only keys are reserved for enterprise plans.",
        "I pasted the error into Gemini and got: restricted keys need an enterprise plan.",
        "Here is the answer from Claude: read-only keys are only for organization accounts.",
        "Read-only keys are reserved for enterprise plans (that is what GPT said).",
        # where the assistant spoke, between its name and the verb
        "The assistant inside our editor told me: read-only keys are reserved for enterprise "
        "plans.",
        "A chatbot on the vendor site says read-only keys are reserved for enterprise plans.",
        "Kimi给的答案：read-only keys are reserved for enterprise plans.",
    ],
)
def test_attributed_ai_advice_with_a_misconception_is_corrected(post: str) -> None:
    found = corrections(post)
    assert len(found) == 1
    assert found[0].correction.startswith("Read-only keys are not tied to a plan")
    assert found[0].claim  # the member's words, quoted
    assert len(found[0].claim) <= 200


def test_attribution_kinds_and_block_extent() -> None:
    posts = [
        REPORT,
        "Same here.",
        "I asked ChatGPT about it. It said:\n\n- Read-only keys need an Enterprise plan.",
    ]
    blocks = find_ai_advice(posts)
    assert [(b.post_index, b.kind) for b in blocks] == [(2, "attributed")]
    assert "asked ChatGPT" in blocks[0].attribution
    assert "Enterprise plan" in blocks[0].text


@pytest.mark.parametrize(
    "quote",
    [
        "> Read-only keys need an Enterprise plan.\n> Upgrade first.",
        '[quote="someone"]\nRead-only keys need an Enterprise plan.\nUpgrade first.\n[/quote]',
    ],
)
def test_an_attributed_quote_ends_the_advice(quote: str) -> None:
    """What the member writes after the quote they attribute is their own words."""
    post = f"Gemini gave me this:\n\n{quote}\n\nI think read-only keys need an Enterprise plan."
    (block,) = find_ai_advice([REPORT, post])
    assert "Upgrade first." in block.text
    assert "I think" not in block.text
    # Without a quote, the advice runs to the end of the post.
    (plain,) = find_ai_advice([REPORT, "Gemini gave me this: upgrade first.\nThen retry."])
    assert plain.text.endswith("Then retry.")


def test_attribution_after_the_advice_covers_the_whole_post() -> None:
    post = "Read-only keys are reserved for Enterprise plans.\n\nThat's what ChatGPT said."
    assert len(corrections(post)) == 1


def test_each_misconception_is_corrected_once_in_thread_order() -> None:
    found = corrections(
        "ChatGPT says read-only keys are reserved for Enterprise plans.",
        "Claude told me the same: read-only keys only work on organization accounts. "
        "It also said waiting 24 hours fixes it.",
    )
    assert [f.correction.split(";")[0] for f in found] == [
        "Read-only keys are not tied to a plan",
        "Waiting does not change it",
    ]
    assert "ChatGPT" not in found[0].claim and "Enterprise plans" in found[0].claim


# --- unattributed assistant-style advice ------------------------------------------------

STYLED = """Why the Error Occurs
- Keys for individual users always get full permissions.
- Read-only keys are reserved for Enterprise plans and organisation accounts.

Workaround
1. Use a normal key and only call read endpoints.

Final Note
This is a limitation of personal accounts. Does this help?"""


def test_unattributed_assistant_style_is_advice() -> None:
    blocks = find_ai_advice([REPORT, STYLED])
    assert [(b.post_index, b.kind) for b in blocks] == [(1, "styled")]
    assert len(corrections(STYLED)) == 1


def test_bug_report_templates_and_plain_posts_are_not_advice() -> None:
    template = (
        "### Describe the bug\nKey creation fails.\n### To Reproduce\n1. Open settings\n"
        "### Expected behavior\nA key.\n### Screenshots\nnone"
    )
    human = "Workaround: I just made a full access key for now. Hope someone fixes it."
    api_talk = "gpt-4o returned a 429 and then the response was empty."
    assert style_score(template) == 0
    assert find_ai_advice([template, human, api_talk]) == []


# --- things that must be left alone -------------------------------------------------------


@pytest.mark.parametrize(
    "post",
    [
        # Correct pasted advice (control threads).
        "ChatGPT says: this looks like a platform bug. Create a Restricted key and choose "
        "Read for each resource; read-only access does not depend on your plan.",
        "I asked GPT-4o. It told me restricted keys are available on every plan, including "
        "free accounts, and that the error is not about billing.",
        # Negated or refuted claims.
        "ChatGPT said read-only keys are not reserved for Enterprise plans, which matches "
        "the docs.",
        "GPT-4o claims read-only keys are exclusive to enterprise plans, but that's wrong.",
        "Claude told me the enterprise-plan thing was a hallucination.",
        "ChatGPT says you can create read-only keys without an enterprise plan.",
        "ChatGPT says read-only keys work on personal and enterprise accounts alike.",
        "GPT-4o told me restricted keys can be created on any plan, enterprise plans too.",
        # Questions are not claims.
        "ChatGPT mentioned plans. Are read-only keys reserved for enterprise plans?",
        # The entry's correction repeated.
        "According to AI: read-only keys are not tied to a plan; the error is a reported problem.",
    ],
)
def test_true_negated_or_questioning_advice_gets_no_correction(post: str) -> None:
    assert corrections(post) == []


def test_a_members_own_claim_is_not_corrected() -> None:
    # Policy: only AI-generated advice is corrected, never a member's own opinion.
    assert corrections("I'm fairly sure read-only keys are reserved for Enterprise plans.") == []


def test_advice_matching_no_listed_misconception_is_left_alone() -> None:
    post = "ChatGPT says the scopes error comes from an expired session; log out and in again."
    assert find_ai_advice([REPORT, post])  # it is AI advice...
    assert corrections(post) == []  # ...but contradicts nothing the entry lists


def test_issue_without_misconceptions_never_corrects() -> None:
    bare = KnownIssue(slug="bare_issue", title="t", status="identified", summary="s")
    assert corrections("ChatGPT says read-only keys need an Enterprise plan.", issue=bare) == []


def test_the_bots_own_reply_and_quotes_of_it_are_never_corrected() -> None:
    claim = "ChatGPT says read-only keys are reserved for Enterprise plans."
    reply = render_reply(
        ISSUE,
        error_string=ERROR,
        corrections=[Correction(claim, ISSUE.misconceptions[0].correction)],
    )
    quoted = "\n".join("> " + line for line in reply.splitlines())
    bbquote = f'[quote="triagebot, post:3, topic:1"]\n{reply}\n[/quote]\nThanks, that helped.'
    assert corrections(reply) == []
    assert corrections(quoted + "\n\nThanks!") == []
    assert corrections(bbquote) == []
    # ...while the original advice earlier in the thread is still corrected once.
    assert len(corrections(claim, reply, quoted)) == 1


def test_secrets_in_quoted_claims_are_redacted() -> None:
    key = "sk-proj-" + "Ab3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY"
    found = corrections(f"ChatGPT says read-only keys like {key} need an Enterprise plan.")
    assert len(found) == 1
    assert key not in found[0].claim and "[redacted]" in found[0].claim


def test_hard_wrapped_list_items_are_one_sentence() -> None:
    post = (
        "GPT-4o told me:\n\n- Read-only keys are reserved for\n  Enterprise plans and org\n"
        "  accounts.\n- Another point."
    )
    assert len(corrections(post)) == 1


def test_sentence_splitting_handles_markdown() -> None:
    text = "**Why:** First point. Second point!\n\n- bullet one\n- bullet two\n```\nx = 1\n```"
    assert split_sentences(text) == [
        "Why: First point.",
        "Second point!",
        "bullet one",
        "bullet two",
    ]


# --- the seed case through the real entry --------------------------------------------------


@pytest.mark.skipif(not SEED.exists(), reason="seed entry not present")
def test_seed_case_reply_states_status_workaround_and_correction() -> None:
    issue = load_file(SEED)
    thread = [
        f"Trying to create a read only key and the dialog says `{ERROR}`. All keys work.",
        "Same error here. GPT-4o tells me:\n\nWhy the Error Occurs\n"
        "- Scoped permissions such as api.all.read are reserved for organizational accounts "
        "or Enterprise plans.\n- Individual users can only create full-access keys.\n\n"
        "Final Note\nUpgrade your plan to get read-only keys.",
        "That makes no sense, why would they offer the option then?",
    ]
    found = find_corrections(thread[1:], issue)
    assert len(found) == 1
    reply = render_reply(issue, error_string=ERROR, corrections=found)
    assert "investigating" in reply.lower()
    assert "no fix has been announced" in reply
    assert "Restricted" in reply  # the workaround
    assert "not accurate" in reply and "not tied to a plan" in reply
    assert ERROR in reply
    assert "fixed" not in reply.lower().replace("no fix", "")


@pytest.mark.skipif(not SEED.exists(), reason="seed entry not present")
@pytest.mark.parametrize(
    "advice",
    [
        "GPT-4o says: read-only keys are not an Enterprise feature; any project can create "
        "Restricted keys with Read scopes.",
        "ChatGPT told me this is NOT an enterprise-only feature and to use a Restricted key.",
        "Claude says read-only keys work on personal and enterprise accounts alike.",
        "According to ChatGPT, upgrading your plan will not fix it; use a Restricted key.",
    ],
)
def test_seed_entry_leaves_correct_advice_alone(advice: str) -> None:
    issue = load_file(SEED)
    assert find_corrections([advice], issue) == []


def test_pathological_posts_stay_fast() -> None:
    import time

    started = time.perf_counter()
    for post in ("\n" * 30000, "> \n" * 20000, "Certainly! " * 5000, "ChatGPT says " * 3000):
        find_corrections([post], ISSUE)
    assert time.perf_counter() - started < 5.0


# --- combinations: any attribution x any phrasing ----------------------------------------

ATTRIBUTIONS = (
    "ChatGPT says {}.",
    "GPT-4o told me that {}.",
    "I asked Claude and it said {}.",
    "According to Gemini, {}.",
    "Copilot's answer: {}.",
    "An AI assistant suggested that {}.",
    "I asked ChatGPT.\n\n> {}.",
)
CLAIMS = (
    "read-only keys are reserved for Enterprise plans",
    "scoped keys are only available on organization accounts",
    "restricted API keys are exclusive to enterprise tiers",
    "read-only keys are not available for individual accounts",
)
NOT_CLAIMS = (
    "read-only keys are not reserved for Enterprise plans",
    "scoped keys aren't only for organization accounts",
    "read-only keys are never limited to enterprise plans",
    "it is a myth that read-only keys are reserved for enterprise plans",
    "nothing says read-only keys are reserved for enterprise plans",
    "read-only keys are available on every plan, not just enterprise plans",
    "the idea that scoped keys are only for enterprise accounts is wrong",
)
FILLER = ("", "Hope that helps.", "The dialog is buggy.", "Check the project settings first.")


@settings(max_examples=300, deadline=None)
@given(
    attribution=st.sampled_from(ATTRIBUTIONS),
    claim=st.sampled_from(CLAIMS),
    before=st.sampled_from(FILLER),
    after=st.sampled_from(FILLER),
)
def test_property_stated_claims_are_corrected(
    attribution: str, claim: str, before: str, after: str
) -> None:
    post = f"{before}\n\n{attribution.format(claim)} {after}".strip()
    found = corrections(post)
    assert len(found) == 1, post
    assert "ChatGPT" not in found[0].claim or "ChatGPT" in claim


@settings(max_examples=300, deadline=None)
@given(
    attribution=st.sampled_from(ATTRIBUTIONS),
    claim=st.sampled_from(NOT_CLAIMS),
    before=st.sampled_from(FILLER),
    after=st.sampled_from(FILLER),
)
def test_property_denied_claims_are_left_alone(
    attribution: str, claim: str, before: str, after: str
) -> None:
    post = f"{before}\n\n{attribution.format(claim)} {after}".strip()
    assert corrections(post) == [], post


def test_similarity_is_a_secondary_signal_with_a_high_bar() -> None:
    # No pattern of this entry matches these sentences; only word overlap with the claim.
    issue = KnownIssue(
        slug="sim_issue",
        title="t",
        status="identified",
        summary="s",
        misconceptions=(
            Misconception(
                claim="Batch jobs always finish within one hour",
                patterns=(r"zzz-never-matches",),
                correction="Batch jobs can take up to a day.",
            ),
        ),
    )
    said = "ChatGPT says batch jobs always finish within one hour."
    assert len(find_corrections([said], issue)) == 1
    for other in (
        "ChatGPT says batch jobs never finish within one hour.",
        "ChatGPT says batch jobs on every plan finish within one hour.",
        "ChatGPT says batch jobs are cheaper than normal requests.",
    ):
        assert find_corrections([other], issue) == [], other


def test_a_quoted_claim_ends_at_its_closing_quote_before_a_dash() -> None:
    text = 'It said "OpenAI has fixed this in the spring release." — is that true?'
    assert split_sentences(text) == [
        'It said "OpenAI has fixed this in the spring release.',
        "— is that true?",
    ]


def test_a_denying_misconception_is_not_matched_by_its_true_opposite() -> None:
    from bot.triage.advice import match_misconception

    denial = Misconception(
        claim="An account cannot be suspended for the content its end users send",
        patterns=(),
        correction="End users' content counts as the account's own traffic.",
    )
    assert match_misconception(
        "An account cannot be suspended for the content its end users send.", denial
    )
    assert not match_misconception(
        "An account can be suspended for the content its end users send.", denial
    )


@pytest.mark.parametrize(
    "post",
    [
        "Moving the summariser from gpt-4o to o4-mini and now each request fails:\n\n"
        "```\nBadRequestError: 400 Unsupported parameter: 'max_tokens'\n```\n"
        "We set max_tokens=512 in the client.",
        "Here is the gpt-4o output:\n\nThe answer is blank, only whitespace.",
        "The o3 response: an empty string with finish_reason length.",
    ],
)
def test_the_apis_own_models_named_without_a_telling_verb_are_no_attribution(post: str) -> None:
    """On this forum gpt-* and o-series are the API's models: switching between them or
    showing what they returned is a report, not pasted AI advice."""
    assert find_ai_advice([post]) == []


def test_an_assistant_named_before_a_colon_still_attributes() -> None:
    (block,) = find_ai_advice(["From Claude, when I asked about it:\n\nUpgrade your plan."])
    assert block.kind == "attributed"


def test_advice_reported_in_order_to_set_it_aside_is_not_corrected() -> None:
    post = (
        "ChatGPT says: you'll find tips claiming read-only keys are reserved for Enterprise "
        "plans; ignore them."
    )
    assert find_ai_advice([REPORT, post])
    assert corrections(post) == []
