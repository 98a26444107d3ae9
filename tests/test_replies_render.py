"""Behaviour of the renderers: honest status wording, structure, filters, failures."""

from __future__ import annotations

from dataclasses import replace

import jinja2
import pytest

from bot.known_issues import STATUSES, KnownIssue
from bot.replies import render as render_mod
from bot.replies.neutralise import code_span, neutralise
from bot.replies.render import (
    BOT_SIGNATURE,
    EscalationSummary,
    is_bot_text,
    render_escalation,
    render_followup,
    render_reply,
    render_review_note,
    render_secret_notice,
    safe_markdown,
)
from bot.triage.types import Correction

ISSUE = KnownIssue(
    slug="sample_issue",
    title="Uploads fail with `upload_rejected`",
    status="investigating",
    summary="Uploads over 20 MB fail. Smaller uploads work.",
    cause="A size check in the upload gateway.",
    workaround="Upload in parts of at most 10 MB.",
    links=("https://docs.example.com/uploads",),
    updated_at="2026-10-05T12:00:00Z",
)

# What each status must not claim (the bot must never say more than is known).
FORBIDDEN = {
    "investigating": ("has been fixed", "cause is known", "works now", "as designed"),
    "identified": ("has been fixed", "works now", "not confirmed", "as designed"),
    "workaround": ("has been fixed", "not confirmed", "as designed", "no fix"),
    "fixed": ("not confirmed", "no fix", "as designed"),
    "wont_fix": ("has been fixed", "not confirmed", "works now"),
    "expected_behaviour": ("has been fixed", "not confirmed", "no fix", "works now"),
}
REQUIRED = {
    "investigating": ("cause is not confirmed", "no fix has been announced"),
    "identified": ("cause is known", "no fix has been released"),
    "workaround": ("steps below resolve it",),
    "fixed": ("has been fixed", "If you still see this error, reply"),
    "wont_fix": ("will not be changed",),
    "expected_behaviour": ("works as designed", "what to change"),
}


@pytest.mark.parametrize("status", STATUSES)
def test_status_wording_never_claims_more_than_is_known(status: str) -> None:
    text = render_reply(replace(ISSUE, status=status), error_string="upload_rejected")
    for phrase in REQUIRED[status]:
        assert phrase in text, phrase
    for phrase in FORBIDDEN[status]:
        assert phrase not in text, phrase
    assert "(updated 2026-10-05)" in text


def test_reply_names_issue_shows_error_workaround_links_and_staff_line() -> None:
    text = render_reply(ISSUE, error_string="UploadError: upload_rejected (size 23 MB)")
    assert "**Uploads fail with `upload_rejected`**" in text
    assert "Matched error: `UploadError: upload_rejected (size 23 MB)`" in text
    assert "Upload in parts of at most 10 MB." in text
    assert "(https://docs.example.com/uploads)" in text
    assert "If it is wrong, flag this post or reply mentioning `@staff`" in text
    assert is_bot_text(text) and BOT_SIGNATURE in text
    assert "correction" not in text.lower()  # no corrections section without corrections


def test_fixed_says_since_when_if_known() -> None:
    fixed = replace(ISSUE, status="fixed")
    assert "fixed since 2026-10-07" in render_reply(
        fixed, error_string=None, fixed_since="2026-10-07T00:00:00Z"
    )
    assert "It has been fixed." in render_reply(fixed, error_string=None)


def test_corrections_are_listed_with_quote_and_reason() -> None:
    text = render_reply(
        ISSUE,
        error_string=None,
        corrections=[Correction("Uploads need a paid plan", "Uploads work on every plan.")],
    )
    assert "- “Uploads need a paid plan”: this is not accurate: Uploads work on every plan." in text


def test_at_most_three_corrections() -> None:
    many = [Correction(f"claim {i}", f"fix {i}") for i in range(6)]
    text = render_reply(ISSUE, error_string=None, corrections=many)
    assert text.count("this is not accurate") == 3


def test_secret_notice_leads_the_reply_and_names_kinds() -> None:
    text = render_reply(ISSUE, error_string=None, secret_kinds=["openai_key", "session_token"])
    assert text.startswith("**Your post contains an API key and a session token.**")
    assert "revoke" in text
    alone = render_secret_notice(["github_token"], forum_name="Dev Forum")
    assert "a GitHub token" in alone and "Dev Forum" in alone and is_bot_text(alone)
    assert "a secret such as an API key" in render_secret_notice([])


def test_staff_contact_forms() -> None:
    assert "reply mentioning `@support_team`" in render_reply(
        ISSUE, error_string=None, staff_contact="@support_team"
    )
    assert "reply and tell the moderators" in render_reply(
        ISSUE, error_string=None, staff_contact="the moderators"
    )


def test_followup_states_old_and_new_status() -> None:
    text = render_followup(replace(ISSUE, status="fixed"), "identified", "Deployed on Monday.")
    assert "Status changed from *cause identified* to *fixed*." in text
    assert "Deployed on Monday." in text and "fixed since 2026-10-05" in text


def test_escalation_title_is_one_line_and_long_enough() -> None:
    summary = EscalationSummary(
        cluster_id=12,
        fingerprint="ff00",
        normalised="E\n<n>",
        count=1,
        reporters=1,
        first_seen="2026-10-01",
        last_seen="2026-10-01",
    )
    title, raw = render_escalation(summary)
    assert "\n" not in title and len(title) >= 20
    assert "**1 report** from 1 member match" in raw
    assert "`triagebot queue link 12 <slug>`" in raw


def test_two_clusters_of_the_same_wording_get_distinct_titles() -> None:
    # Discourse refuses a topic title already used (422), so notices posted as topics
    # in an escalation category must differ.
    base = EscalationSummary(
        cluster_id=3,
        fingerprint="aa",
        normalised="TimeoutError: upstream took too long " * 8,
        count=3,
        reporters=3,
        first_seen="2026-10-01",
        last_seen="2026-10-02",
    )
    first, _ = render_escalation(base)
    second, _ = render_escalation(replace(base, cluster_id=4))
    assert first != second and len(first) <= 200 and first.endswith("(cluster 3)")


def test_review_note_with_and_without_issue() -> None:
    note = render_review_note(ISSUE, confidence=0.66, threshold=0.9)
    assert "Confidence 0.66, below the auto-reply threshold 0.90." in note
    assert "`sample_issue`" in note
    assert "no known issue matched" in render_review_note(None, confidence=0.2)


def test_links_only_http() -> None:
    issue = replace(ISSUE, links=("javascript:alert(1)", "https://ok.example/a b"))
    text = render_reply(issue, error_string=None)
    assert "javascript" not in text
    assert "(https://ok.example/a%20b)" in text


def test_safe_markdown_keeps_code_and_formatting() -> None:
    md = "Run `pip install -U x@1` then:\n```\n@decorator <tag>\n```\n**bold** @admin <b>"
    out = safe_markdown(md)
    assert "`pip install -U x@1`" in out
    assert "@decorator <tag>" in out  # inside a fence nothing is interpreted
    assert "**bold**" in out and "@\u200dadmin" in out and "&lt;b&gt;" in out
    assert safe_markdown("```\nunclosed").endswith("```")


def test_neutralise_and_code_span_basics() -> None:
    assert neutralise("@bob #general <b>") == "@\u200dbob #\u200dgeneral &lt;b&gt;"
    assert neutralise("x" * 500, 50).endswith("…") and len(neutralise("x" * 500, 50)) == 50
    assert code_span("a\nb") == "`a b`"
    assert code_span("   ") == ""


def test_missing_template_value_is_an_error_not_a_blank(monkeypatch: pytest.MonkeyPatch) -> None:
    env = render_mod.environment()
    template = env.from_string("Hello {{ nobody }}")
    with pytest.raises(jinja2.UndefinedError):
        template.render()
    monkeypatch.setattr(env, "get_template", lambda name: env.from_string("{{ not_given.field }}"))
    with pytest.raises(RuntimeError, match="template reply.md.j2"):
        render_reply(ISSUE, error_string=None)


@pytest.mark.parametrize("status", ["wont_fix", "expected_behaviour", "investigating"])
def test_no_pointer_to_a_missing_workaround(status: str) -> None:
    text = render_reply(replace(ISSUE, status=status, workaround=""), error_string=None)
    assert "below" not in text and "what to change" not in text


def test_followup_for_an_update_without_status_change() -> None:
    text = render_followup(ISSUE, "investigating", "The workaround now covers uploads via API.")
    assert "Status changed" not in text
    assert "the status is still *investigating*" in text
