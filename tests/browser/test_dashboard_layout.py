"""Every dashboard page in Chromium at a phone's width (390 px) and a wide screen (1,400 px).

For each page: nothing overflows sideways, the console stays clean (favicon included),
posts and entries are rendered Markdown (no literal fences or `&lt;` entities), and the
figures carry their sample sizes. Screenshots go to tests/browser/screenshots/ (ignored
by git) for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from bot.config import project_root
from bot.store import utcnow
from tests.browser.conftest import PASSWORD, Stack

pytestmark = pytest.mark.browser

SHOTS = project_root() / "tests" / "browser" / "screenshots"
WIDTHS = {"phone": (390, 844), "wide": (1400, 900)}
ISSUE = "insufficient_quota"
LONG_TOKEN = "x" * 260  # one unbroken word: the kind of thing that pushed pages sideways

DRAFT_POST = """After upgrading, every call fails:

```
openai.RateLimitError: Error code: 429 - {'error': {'code': 'insufficient_quota'}}
```

I use &lt;model&gt; = gpt-4o and:

- a **paid** plan
- a new key from https://platform.openai.com/api-keys
"""
DRAFT_REPLY = """This is the **quota** issue: the account has no credit left.

1. Open *Billing* and add credit.
2. Wait a few minutes, then retry with &lt;model&gt;.

```python
client.chat.completions.create(model="gpt-4o", messages=[])
```
"""
CLUSTER_EXCERPT = "Crash on start:\n\n```\nSplineError: reticulation failed at <addr>\n```\n"


@dataclass
class Console:
    errors: list[str] = field(default_factory=list)


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _decision(post_id: int, **row: Any) -> dict[str, Any]:
    base = {
        "post_id": post_id,
        "post_version": 1,
        "topic_id": post_id,
        "username": "ann",
        "action": "ignore",
        "issue": None,
        "confidence": 0.1,
        "reasons": ["error_p=0.12"],
        "error_strings": [],
        "corrections": [],
        "mode": "auto",
        "text": "Just chatting",
        "title": f"Chatter {post_id}",
    }
    return {**base, **row}


def seed(stack: Stack) -> None:
    """Enough history for every page to have something to show (and to paginate)."""
    store = stack.store
    with store.transaction():
        for i in range(24):  # the bot reading its own replies back
            store.add_decision(
                _decision(5000 + i, username="triagebot", action="skip", reasons=["own post"])
            )
        for i in range(60):
            store.add_decision(
                _decision(
                    6000 + i,
                    reasons=["error_p=0.12", f"top={ISSUE}:0.08"],
                    error_strings=[LONG_TOKEN] if i == 0 else [],
                    title=f"Chatter {6000 + i} "
                    + ("with a very long title " * 6 if i == 0 else ""),
                )
            )
        for i, state in enumerate(("active", "removed", "corrected")):
            post = 7000 + i
            store.add_decision(
                _decision(
                    post,
                    created_at=ago(days=(0, 3, 9)[i]),
                    action="reply",
                    issue=ISSUE,
                    confidence=0.97,
                    reasons=[
                        "error_p=0.97",
                        f"pattern:{ISSUE}:You exceeded your current quota",
                        "p=0.97>=auto 0.80",
                    ],
                    corrections=[{"claim": "c", "correction": "d"}] if i == 0 else [],
                    title=f"Quota exceeded #{i}",
                )
            )
            reply_id = store.add_reply(
                {
                    "topic_id": post,
                    "post_id": post,
                    "reply_post_id": 90000 + i,
                    "reply_post_number": 2,
                    "issue": ISSUE,
                }
            )
            store.set_reply_state(reply_id, state)
        for i, days in enumerate((1.5, 2, 4, 6, 8)):  # another issue, hit on other days
            store.add_decision(
                _decision(
                    7500 + i,
                    action="reply",
                    issue="invalid_api_key",
                    confidence=0.95,
                    reasons=["error_p=0.95", "pattern:invalid_api_key:Incorrect API key provided"],
                    created_at=ago(days=days),
                )
            )
        for post, status in ((7100, "pending"), (7200, "rejected")):
            store.add_decision(
                _decision(
                    post,
                    action="review",
                    issue=ISSUE,
                    confidence=0.6,
                    reasons=["error_p=0.91", "p=0.60>=review 0.45"],
                    text=DRAFT_POST,
                    title=f"Quota error after upgrading ({status})",
                )
            )
            draft = store.add_draft(
                {
                    "post_id": post,
                    "topic_id": post,
                    "issue": ISSUE,
                    "confidence": 0.6,
                    "raw": DRAFT_REPLY,
                    "reason": "grey zone",
                }
            )
            if status == "rejected":
                store.update_draft(
                    draft,
                    status="rejected",
                    decided_by="alice",
                    decided_at=utcnow(),
                    reject_reason="wrong plan",
                )
        cluster = store.add_cluster(
            {
                "fingerprint": "splineerror",
                "normalised": "SplineError: reticulation failed at <addr> " + LONG_TOKEN,
                "title": "SplineError on start",
                "count": 1,
                "reporters": json.dumps(["ann"]),
            }
        )
        store.add_cluster_report(
            {
                "cluster_id": cluster,
                "post_id": 8000,
                "topic_id": 8000,
                "username": "ann",
                "title": "Spline crash",
                "excerpt": CLUSTER_EXCERPT,
                "error_string": "SplineError: reticulation failed",
            }
        )


@pytest.fixture(scope="module")
def tab(browser: Any, stack: Stack) -> Iterator[tuple[Any, Console]]:
    """One signed-in staff tab for the module; each test sets its own viewport."""
    seed(stack)
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.errors.append(f"page error: {e}"))
    page.on(
        "response",
        lambda r: console.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(stack.dashboard_url + "/")
    page.fill("#login-account-name", "alice")
    page.fill("#login-account-password", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state()
    assert page.url == stack.dashboard_url + "/"
    SHOTS.mkdir(parents=True, exist_ok=True)
    yield page, console
    context.close()


def visit(tab: tuple[Any, Console], stack: Stack, path: str, width: str) -> Any:
    page, console = tab
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    console.errors.clear()
    page.goto(stack.dashboard_url + path)
    page.wait_for_load_state("networkidle")
    return page


def check_layout(tab: tuple[Any, Console], name: str, width: str) -> None:
    page, console = tab
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"{name} at {width}: {overflow[0]} px wide"
    assert console.errors == [], console.errors
    # Every control a keyboard reaches has a name a screen reader can say.
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
            .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                    && !el.getAttribute('aria-labelledby') && !(el.tagName === 'BUTTON' && el.textContent.trim()))
            .map(el => el.outerHTML.slice(0, 80))"""
    )
    assert unnamed == [], unnamed
    shot = SHOTS / f"{name}-{width}.png"
    shot.unlink(missing_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    # The first screenful too: what staff see on arrival (full phone pages are long).
    page.screenshot(path=str(SHOTS / f"{name}-{width}-top.png"))


def check_rendered(page: Any, selector: str, must_have: str) -> None:
    """Markdown shown as the forum shows it: elements, not fences or entities."""
    areas = page.locator(selector)
    assert areas.count() >= 1, selector
    for text in areas.all_inner_texts():
        assert "```" not in text and "&lt;" not in text and "&gt;" not in text, text
    assert page.locator(f"{selector} {must_have}").count() >= 1, (selector, must_have)


def bar_days(scope: Any) -> int:
    """How many days of a trend chart have a bar."""
    return len({r.get_attribute("x") for r in scope.locator("svg rect").all()})


def num(page: Any, selector: str) -> str:
    return str(page.locator(selector).inner_text()).strip()


@pytest.mark.parametrize("width", WIDTHS)
def test_overview(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, "/", width)
    # 24 h: 4 posts from the first poll + 60 + 1 + 2 seeded; the 24 own replies are not
    # "seen". 7 days: 1 more for the quota issue and 4 for invalid_api_key.
    assert num(page, "#posts-day") == "67"
    assert num(page, "#posts-week") == "72"
    # 3 replies posted + 1 draft rejected were judged; 1 removed + 1 rejected: 2 of 4 stood.
    assert num(page, "#precision-day") == "50 %"
    assert "2 of 4; 95 % CI 15–85 %" in page.locator("#figures").inner_text()
    assert page.locator(".chart svg rect").count() >= 3
    # Today's bars: 67 posts; the 24 own replies read back are not drawn either.
    today = page.locator(".chart svg rect title").all_text_contents()
    today_total = sum(
        int(t.split(": ")[1].split()[0]) for t in today if t.startswith(utcnow()[:10])
    )
    assert today_total == 67
    check_layout(tab, "overview", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_escalations(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, "/clusters", width)
    card = page.locator("section.cluster", has_text="SplineError on start")
    assert card.locator("a", has_text="Spline crash").get_attribute("href") == (
        f"{stack.forum_url}/t/8000"
    )
    check_rendered(page, "blockquote.excerpt", "pre code")
    check_layout(tab, "escalations", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_review_queue(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, "/drafts", width)
    # Topic titles name the drafts, linked to the topic (the first poll recorded them).
    link = page.locator(f"#draft-1 h2 a[href='{stack.forum_url}/t/{stack.quota_topic}']")
    assert link.inner_text() == "Quota error on a new account"
    card = page.locator("section.draft", has_text="Quota error after upgrading (pending)")
    check_rendered(page, ".rendered.post", "pre code")
    check_rendered(page, ".md-preview", "ol li")
    assert card.locator(".rendered.post").inner_text().count("<model>") == 1
    assert card.locator("textarea[name=raw]").input_value() == DRAFT_REPLY
    if width == "wide":  # source and preview side by side
        src = card.locator("textarea[name=raw]").bounding_box()
        out = card.locator(".md-preview").bounding_box()
        assert src["x"] + src["width"] <= out["x"] and abs(src["y"] - out["y"]) < 60
    check_layout(tab, "review", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_review_queue_decided(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, f"/drafts?status=rejected&issue={ISSUE}", width)
    assert "1 rejected draft(s) for insufficient_quota" in num(page, "#draft-count")
    check_rendered(page, ".rendered.reply", "pre code")
    assert "wrong plan" in page.locator("section.draft").inner_text()
    check_layout(tab, "review-rejected", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_known_issues(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, "/issues", width)
    row = page.locator(f"#issue-{ISSUE}")
    # The busiest issue first, with its figures for the last 28 days.
    assert page.locator("#issues tbody tr").first.get_attribute("id") == f"issue-{ISSUE}"
    figures = [num(row, f"td.{c}") for c in ("hits", "replies", "drafts", "rejected", "corrected")]
    assert figures == ["6", "3", "3", "2", "1"]
    # The trend has a bar for each day the issue was hit (today, 3 and 9 days ago).
    assert bar_days(row) == 3
    assert num(page, "#issue-invalid_api_key td.hits") == "5"
    assert bar_days(page.locator("#issue-invalid_api_key")) == 5
    check_layout(tab, "known-issues", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_issue_detail(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, f"/issues/{ISSUE}", width)
    check_rendered(page, "dd.md", "p")
    assert num(page, "#stat-hits") == "6"
    assert num(page, "#stat-rejected") == "2"
    # 3 replies + 1 rejected draft judged; 1 removed + 1 rejected: 2 of 4.
    assert num(page, "#stat-precision") == "50 % (2 of 4; 95 % CI 15–85 %)"
    assert bar_days(page.locator("#activity")) == 3
    # Today stacks the reply over the three drafts.
    titles = page.locator("#activity svg rect title").all_text_contents()
    assert sorted(t.split(": ")[1] for t in titles) == ["1 reply", "1 reply", "1 reply", "3 review"]
    check_layout(tab, "issue", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_issue_editor(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, f"/issues/{ISSUE}/edit", width)
    check_rendered(page, "#summary-preview", "p")
    check_layout(tab, "editor", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_log(tab: tuple[Any, Console], stack: Stack, width: str) -> None:
    page = visit(tab, stack, "/audit", width)
    text = num(page, "#audit-count")
    assert text.startswith("74 decision(s), page 1 of 2.")
    assert "24 skip(s) of the bot's own posts hidden" in text
    assert page.locator("#audit", has_text="the bot's own post").count() == 0
    # Reasons in words; the recorded figure on hover.
    reason = page.locator("#audit li[title='error_p=0.97']").first
    assert reason.inner_text().startswith("reads as an error report (97 %)")
    assert page.locator("#audit a.topic", has_text="Quota exceeded #0").count() == 1
    check_layout(tab, "audit", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_audit_log_with_own_posts_second_page(
    tab: tuple[Any, Console], stack: Stack, width: str
) -> None:
    page = visit(tab, stack, "/audit?own=1&action=skip", width)
    assert num(page, "#audit-count").startswith("24 decision(s).")
    assert page.locator("#audit tbody tr", has_text="the bot's own post").count() == 24
    page = visit(tab, stack, "/audit?page=2", width)
    assert page.locator("#audit tbody tr").count() == 24  # 74 - 50
    assert page.locator("nav.pager a[rel=prev]").get_attribute("href") == "?"
    # The longest unbroken error string wraps instead of widening the page.
    page.locator("#audit details summary").first.click()
    check_layout(tab, "audit-page2", width)


@pytest.mark.parametrize("width", WIDTHS)
def test_signed_out_page(browser: Any, stack: Stack, width: str) -> None:
    context = browser.new_context(
        viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True))
    )
    page = context.new_page()
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.goto(stack.dashboard_url + "/auth/signed-out")
    page.wait_for_load_state("networkidle")
    check_layout((page, console), "signed-out", width)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_refused_page(browser: Any, stack: Stack, width: str) -> None:
    context = browser.new_context(
        viewport=dict(zip(("width", "height"), WIDTHS[width], strict=True))
    )
    page = context.new_page()
    console = Console()
    page.on("console", lambda m: console.errors.append(m.text) if m.type == "error" else None)
    page.goto(stack.dashboard_url + "/")
    page.fill("#login-account-name", "bob")
    page.fill("#login-account-password", PASSWORD)
    page.click("#login-button")
    page.wait_for_load_state("networkidle")
    assert "bob is not staff" in page.locator("#denied").inner_text()
    # The refusal itself is a 403 document; Chromium logs that, and nothing else may be.
    assert all("status of 403" in e for e in console.errors), console.errors
    console.errors.clear()
    check_layout((page, console), "refused", width)
    context.close()


def test_live_preview_follows_the_source(tab: tuple[Any, Console], stack: Stack) -> None:
    page = visit(tab, stack, "/drafts", "wide")
    area = page.locator("textarea[name=raw]").first
    preview = page.locator(".md-preview").first
    area.fill("")
    area.press_sequentially("Use **credit** and `&lt;model&gt;`")
    # The draft's own text had bold parts too: wait until only the typed one is shown.
    expect(preview.locator("strong")).to_have_count(1)
    expect(preview.locator("strong")).to_have_text("credit")
    expect(preview.locator("code")).to_have_text("&lt;model&gt;")
    area.fill("<script>window.__pwned = 1</script>\n\n**safe**")
    expect(preview.locator("strong")).to_have_text("safe")
    assert preview.locator("script").count() == 0
    assert page.evaluate("window.__pwned === undefined")
    assert tab[1].errors == []


def test_keyboard_reaches_the_content_and_the_actions(
    tab: tuple[Any, Console], stack: Stack
) -> None:
    page = visit(tab, stack, "/drafts", "phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    for _ in range(40):
        page.keyboard.press("Tab")
        name = page.evaluate("document.activeElement.textContent.trim()")
        if name == "Approve and post":
            break
    else:
        pytest.fail("Approve and post is not reachable with the keyboard")
    # The favicon is served (no 404 in the console on any page).
    icon = page.request.get(stack.dashboard_url + "/static/favicon.svg")
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg")
