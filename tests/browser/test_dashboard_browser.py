"""The dashboard in headless Chromium over real loopback servers (local forum + dashboard)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.browser.conftest import ARTIFACTS, PASSWORD, XSS_BODY, XSS_TITLE, Stack

pytestmark = pytest.mark.browser


@dataclass
class Watch:
    dialogs: list[str] = field(default_factory=list)
    csp_errors: list[str] = field(default_factory=list)


def open_page(browser: Any) -> tuple[Any, Watch]:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    watch = Watch()

    def on_dialog(dialog: Any) -> None:
        watch.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on(
        "console",
        lambda m: (
            watch.csp_errors.append(m.text)
            if m.type == "error" and "Content Security Policy" in m.text
            else None
        ),
    )
    return page, watch


def sign_in(browser: Any, stack: Stack, username: str) -> tuple[Any, Watch]:
    page, watch = open_page(browser)
    page.goto(stack.dashboard_url + "/")
    # Redirected through DiscourseConnect to the forum's login page (core parks the request
    # in a cookie and resumes it after the sign-in).
    assert page.url.startswith(stack.forum_url + "/login")
    page.fill("#login-account-name", username)
    page.fill("#login-account-password", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state()
    return page, watch


@pytest.fixture(scope="module")
def staff(browser: Any, stack: Stack) -> tuple[Any, Watch]:
    """One signed-in staff tab shared by the tests that act (sign-in is tested on its own)."""
    page, watch = sign_in(browser, stack, "alice")
    assert page.url == stack.dashboard_url + "/"
    return page, watch


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"dashboard-{name}.png"), full_page=True)


def bot_posts(stack: Stack, topic_id: int) -> list[str]:
    return [p["raw"] for p in stack.state.topic_posts(topic_id) if p["username"] == "triagebot"]


def test_staff_sign_in_through_the_local_forum(browser: Any, stack: Stack) -> None:
    page, watch = sign_in(browser, stack, "alice")
    assert page.url == stack.dashboard_url + "/"
    assert page.locator("h1").inner_text() == "Overview"
    assert "alice (admin)" in page.locator("header").inner_text()
    assert page.locator("svg rect").count() >= 1  # the chart has the first poll's decisions
    assert page.locator("#drafts-waiting").inner_text() == "1"
    assert page.locator("#open-clusters").inner_text() == "2"
    shot(page, "overview")
    assert watch.csp_errors == []


def test_non_staff_member_is_refused(browser: Any, stack: Stack) -> None:
    page, _ = sign_in(browser, stack, "bob")
    assert page.url.startswith(stack.dashboard_url + "/auth/sso")
    assert "bob is not staff" in page.locator("#denied").inner_text()
    shot(page, "refused")
    response = page.goto(stack.dashboard_url + "/issues")
    # Still no session: sent to sign in again and refused again, never shown the page.
    assert response is not None and response.status == 403
    assert page.locator("#denied").count() == 1


def test_xss_payload_in_a_post_is_shown_as_text(staff: tuple[Any, Watch], stack: Stack) -> None:
    page, watch = staff
    page.goto(stack.dashboard_url + "/clusters")
    card = page.locator("section.cluster", has_text="WidgetError")
    # The title is plain text, shown as typed; the post is Markdown, rendered as the
    # forum would, so its script is removed, never run.
    assert XSS_TITLE in card.inner_text()
    assert XSS_BODY.split("</script>")[1].strip() in card.inner_text()
    assert page.evaluate("window.__xss === undefined")
    assert card.locator("script, img").count() == 0
    assert watch.dialogs == []
    shot(page, "escalations")
    assert watch.csp_errors == []


def test_promote_a_cluster_and_see_the_queued_posts_answered(
    staff: tuple[Any, Watch], stack: Stack
) -> None:
    assert all(bot_posts(stack, t) == [] for t in stack.widget_topics)
    page, watch = staff
    page.goto(stack.dashboard_url + "/clusters")
    page.locator("section.cluster", has_text="WidgetError").get_by_role(
        "button", name="Promote to a new known issue"
    ).click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "New known issue"
    patterns = [page.locator(f"input[name=pattern_value_{i}]").input_value() for i in range(2)]
    assert "WidgetError: frobnication failed (code 12)" in patterns
    slug = page.locator("#slug").input_value()
    page.fill("#title", "WidgetError: frobnication failed")
    page.fill("#summary", "Widget calls fail with a frobnication error; under investigation.")
    shot(page, "promote-editor")
    page.get_by_role("button", name="Create").click()
    page.wait_for_load_state()
    assert page.url == f"{stack.dashboard_url}/issues/{slug}"
    assert "2 queued post(s) answered" in page.locator(".flash").inner_text()
    shot(page, "promoted-issue")
    for topic_id in stack.widget_topics:
        replies = bot_posts(stack, topic_id)
        assert len(replies) == 1 and "WidgetError: frobnication failed" in replies[0]
    assert stack.store.get_issue(slug) is not None
    assert watch.csp_errors == []


def test_link_a_cluster_to_a_known_issue_and_answer_it(
    staff: tuple[Any, Watch], stack: Stack
) -> None:
    page, watch = staff
    page.goto(stack.dashboard_url + "/clusters")
    card = page.locator("section.cluster", has_text="GadgetError")
    card.locator("select[name=slug]").select_option("engine_overloaded")
    card.get_by_role("button", name="Link and answer").click()
    page.wait_for_load_state()
    assert "linked to engine_overloaded: 1 post(s) answered" in page.locator(".flash").inner_text()
    assert page.locator("section.cluster", has_text="GadgetError").count() == 0
    assert len(bot_posts(stack, stack.gadget_topic)) == 1
    page.goto(stack.dashboard_url + "/clusters?status=linked")
    assert page.locator("section.cluster", has_text="GadgetError").count() == 1
    assert watch.csp_errors == []


def test_approve_a_draft_and_see_the_reply_on_the_forum(
    staff: tuple[Any, Watch], stack: Stack
) -> None:
    page, watch = staff
    page.goto(stack.dashboard_url + "/drafts")
    card = page.locator("section.draft").first
    assert "insufficient_quota" in card.locator(".rendered.post").inner_text()
    assert "grey zone" in card.locator(".reason").inner_text()
    shot(page, "review")
    edited = "Edited by staff: your account has no credit yet; add billing, then retry."
    card.locator("textarea[name=raw]").fill(edited)
    card.get_by_role("button", name="Approve and post").click()
    page.wait_for_load_state()
    assert "approved with edits and posted" in page.locator(".flash").inner_text()
    replies = bot_posts(stack, stack.quota_topic)
    assert len(replies) == 1 and replies[0].startswith(edited)
    # And on the forum itself, as any visitor sees it.
    forum = page.context.new_page()
    forum.goto(f"{stack.forum_url}/t/{stack.quota_topic}.json")
    posts = json.loads(forum.locator("body").inner_text())["post_stream"]["posts"]
    assert any(p["username"] == "triagebot" and edited in p["cooked"] for p in posts)
    assert watch.csp_errors == []


def test_invalid_edit_saves_nothing_then_a_valid_edit_is_in_the_history(
    staff: tuple[Any, Watch], stack: Stack
) -> None:
    slug = "insufficient_quota"
    before = stack.store.get_issue(slug)
    history_before = len(stack.store.history(slug))
    page, watch = staff
    page.goto(f"{stack.dashboard_url}/issues/{slug}/edit")
    blank = page.locator("input[name^=pattern_value_]").count() - 1  # a blank row is offered
    page.select_option(f"select[name=pattern_kind_{blank}]", "regex")
    page.fill(f"input[name=pattern_value_{blank}]", "quota (exceeded")
    page.fill("#note", "add the exceeded wording")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    error = page.locator(f'.field-error[data-field="patterns[{blank}]"]')
    assert "invalid regex" in error.inner_text()
    shot(page, "editor-invalid")
    assert stack.store.get_issue(slug) == before
    assert len(stack.store.history(slug)) == history_before
    page.fill(f"input[name=pattern_value_{blank}]", r"quota (was )?exceeded")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state()
    assert page.url == f"{stack.dashboard_url}/issues/{slug}"
    newest = page.locator("#history li.change").first
    assert newest.locator(".author").inner_text() == "alice"
    assert newest.locator(".note").inner_text() == "add the exceeded wording"
    added = newest.locator(".d-add").all_inner_texts()
    assert any("quota (was )?exceeded" in line for line in added)
    assert len(stack.store.history(slug)) == history_before + 1
    shot(page, "issue-history")
    assert watch.csp_errors == []


def test_known_issues_search_and_audit_log(staff: tuple[Any, Watch], stack: Stack) -> None:
    page, watch = staff
    page.goto(stack.dashboard_url + "/issues?q=insufficient_quota")
    assert page.locator("#issues tbody tr").count() >= 1
    shot(page, "known-issues")
    page.goto(stack.dashboard_url + "/audit")
    page.select_option("select[name=action]", "escalate")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_load_state()
    rows = page.locator("#audit tbody tr")
    assert rows.count() == 3  # two WidgetError reports and one GadgetError report
    link = rows.first.locator("a").first.get_attribute("href")
    assert link is not None and link.startswith(stack.forum_url + "/p/")
    assert "error report matching no known issue" in rows.first.inner_text()
    page.goto(stack.dashboard_url + "/audit")
    shot(page, "audit")
    assert watch.csp_errors == []
