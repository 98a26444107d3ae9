"""Dashboard lists in-process: own-post skips, titles, paging and filters, per-issue figures,
the live preview endpoint."""

from __future__ import annotations

import re

import httpx

from bot.store import Store
from tests import test_web_pages as _page_tests
from tests.test_web_access import csrf_of

# The page tests' signed-in client over the same seeded store: one copy of each (pytest
# finds the fixtures under these names).
ago = _page_tests.ago
store = _page_tests.store
client = _page_tests.client

ISSUE = "sample_issue"


def decision(store: Store, post_id: int, **row: object) -> int:
    return store.add_decision(
        {
            "post_id": post_id,
            "post_version": 1,
            "topic_id": post_id // 10,
            "username": "ann",
            "action": "ignore",
            "reasons": ["error_p=0.10"],
            "title": "",
            **row,
        }
    )


def own_post(store: Store, post_id: int, **row: object) -> int:
    return decision(
        store, post_id, username="triagebot", action="skip", reasons=["own post"], **row
    )


# --------------------------------------------------------------------------- store


def test_own_post_skips_are_counted_apart_and_can_be_left_out(store: Store) -> None:
    decision(store, 1, action="reply", issue=ISSUE)
    decision(store, 2, action="skip", reasons=["staff post"])
    own_post(store, 3)
    own_post(store, 4, created_at=ago(days=3))
    assert store.own_posts_seen(ago(days=1)) == 1
    assert store.own_posts_seen(ago(days=7)) == 2
    rows, total = store.audit_decisions(exclude_own=True)
    assert total == 2 and {r.post_id for r in rows} == {1, 2}
    assert store.count_own_post_decisions(action="skip") == 2
    assert store.count_own_post_decisions(action="reply") == 0
    per_day = store.decisions_per_day(ago(days=7), exclude_own=True)
    assert sum(r.n for r in per_day) == 2 and {r.action for r in per_day} == {"reply", "skip"}
    assert sum(r.n for r in store.decisions_per_day(ago(days=7))) == 4
    # The bot's own replies are never hits for an issue.
    own_post(store, 5, issue=ISSUE)
    assert store.issue_activity(ago(days=1))[ISSUE]["hits"] == 1
    assert [r.n for r in store.issue_hits_per_day(ago(days=1), ISSUE)] == [1]


def test_topic_titles_come_from_the_latest_decision_that_had_one(store: Store) -> None:
    decision(store, 10, title="First title")
    decision(store, 11, title="Renamed title")
    decision(store, 12, title="")
    decision(store, 20, title="Other topic")
    assert store.topic_titles([1, 2, 3]) == {1: "Renamed title", 2: "Other topic"}
    assert store.topic_titles([]) == {}


def test_issue_activity_counts_each_outcome(store: Store) -> None:
    for post in (100, 101, 102):
        decision(store, post, action="reply", issue=ISSUE, corrections=[{"claim": "c"}])
    decision(store, 103, action="review", issue=ISSUE)
    decision(store, 104, action="reply", issue=ISSUE, created_at=ago(days=40))
    for i, state in enumerate(("active", "removed", "corrected")):
        rid = store.add_reply(
            {"topic_id": 10, "post_id": 100 + i, "reply_post_id": 9 + i, "issue": ISSUE}
        )
        store.set_reply_state(rid, state)
    for status in ("pending", "rejected", "approved"):
        did = store.add_draft({"post_id": 103, "topic_id": 10, "issue": ISSUE, "raw": "r"})
        store.update_draft(did, status=status, decided_at=ago(minutes=1))
    got = store.issue_activity(ago(days=28))[ISSUE]
    assert got == {
        "hits": 4,
        "corrections": 3,
        "replies": 3,
        "removed": 1,
        "corrected": 1,
        "drafts": 3,
        "rejected": 1,
    }


# --------------------------------------------------------------------------- pages


async def test_audit_hides_own_posts_until_asked_and_explains_reasons(
    client: httpx.AsyncClient,
    store: Store,
) -> None:
    decision(store, 1, action="reply", issue=ISSUE, reasons=["error_p=0.97"], title="Help!")
    own_post(store, 2)
    page = (await client.get("/audit")).text
    assert "1 decision(s)" in page and "1 skip(s) of the bot's own posts hidden" in page
    assert "/p/2" not in page
    assert '<li title="error_p=0.97">reads as an error report (97 %)' in page
    assert ">Help!</a>" in page
    page = (await client.get("/audit", params={"own": "1"})).text
    assert "2 decision(s)" in page and "/p/2" in page and "own-hidden" not in page


async def test_audit_pages_keep_the_filters(client: httpx.AsyncClient, store: Store) -> None:
    for i in range(55):
        decision(store, 1000 + i, action="escalate")
    decision(store, 2000, action="reply", issue=ISSUE)
    page = (await client.get("/audit", params={"action": "escalate"})).text
    assert "55 decision(s), page 1 of 2" in page
    assert 'href="?action=escalate&amp;page=2" rel="next"' in page
    page = (await client.get("/audit", params={"action": "escalate", "page": "9"})).text
    # A page past the end shows the last one rather than an empty list.
    assert "page 2 of 2" in page and len(re.findall(r'<tr class="action-escalate"', page)) == 5


async def test_review_queue_names_topics_pages_and_filters_by_issue(
    client: httpx.AsyncClient,
    store: Store,
) -> None:
    decision(store, 70, title="Quota error on a new account")  # topic 7
    for i in range(12):
        store.add_draft(
            {"post_id": 70, "topic_id": 7 if i == 0 else 900 + i, "issue": ISSUE, "raw": f"r{i}"}
        )
    store.add_draft({"post_id": 80, "topic_id": 8, "issue": "other_issue", "raw": "x"})
    page = (await client.get("/drafts")).text
    assert "13 pending draft(s)." in page
    assert len(re.findall(r'<section class="card draft"', page)) == 10
    assert '/t/7" rel="noopener noreferrer" class="topic">Quota error on a new account</a>' in page
    assert 'class="topic">topic 901</a>' in page  # no title known: the id
    page = (await client.get("/drafts", params={"issue": ISSUE, "page": "2"})).text
    assert "12 pending draft(s) for sample_issue." in page
    assert len(re.findall(r'<section class="card draft"', page)) == 2
    assert 'href="?status=pending&amp;issue=sample_issue" rel="prev"' in page


async def test_issue_list_shows_each_issues_figures(
    client: httpx.AsyncClient, store: Store
) -> None:
    decision(store, 100, action="reply", issue=ISSUE)
    decision(store, 101, action="review", issue=ISSUE, created_at=ago(days=2))
    store.add_reply({"topic_id": 10, "post_id": 100, "reply_post_id": 9, "issue": ISSUE})
    page = (await client.get("/issues")).text
    row = page.split(f'id="issue-{ISSUE}"')[1].split("</tr>")[0]
    assert 'class="num hits">2<' in row and 'class="num replies">1<' in row
    assert row.count("<rect") == 2  # two days with hits in the trend
    detail = (await client.get(f"/issues/{ISSUE}")).text
    assert 'id="stat-precision">100 % (1 of 1; 95 % CI 21–100 %)<' in detail


async def test_preview_renders_sanitised_markdown_only_with_the_csrf_token(
    client: httpx.AsyncClient,
) -> None:
    body = {"text": "**hi** <script>alert(1)</script>"}
    refused = await client.post("/preview", data=body)
    assert refused.status_code == 403
    token = await csrf_of(client)
    r = await client.post("/preview", data=body, headers={"x-csrf-token": token})
    assert r.status_code == 200 and r.text.startswith("<p><strong>hi</strong>")
    assert "<script" not in r.text


async def test_every_page_links_the_favicon_and_a_skip_link(client: httpx.AsyncClient) -> None:
    for path in ("/", "/drafts", "/clusters", "/issues", "/audit", f"/issues/{ISSUE}"):
        page = (await client.get(path)).text
        assert '<link rel="icon" href="/static/favicon.svg"' in page, path
        assert '<a class="skip" href="#main">' in page and '<main id="main"' in page, path
    icon = await client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg")


async def test_queues_filter_by_date_and_issue(client: httpx.AsyncClient, store: Store) -> None:
    from datetime import UTC, datetime, timedelta

    store.add_draft({"post_id": 1, "topic_id": 1, "issue": ISSUE, "raw": "new draft"})
    store.add_draft(
        {"post_id": 2, "topic_id": 2, "issue": ISSUE, "raw": "old draft", "created_at": ago(days=9)}
    )
    since = (datetime.now(UTC) - timedelta(days=3)).strftime("%Y-%m-%d")
    page = (await client.get("/drafts", params={"from": since})).text
    assert "1 pending draft(s)." in page and "new draft" in page and "old draft" not in page
    page = (await client.get("/drafts", params={"to": since})).text
    assert "old draft" in page and "new draft" not in page
    page = (await client.get("/drafts", params={"from": "yesterday"})).text
    assert "from: use YYYY-MM-DD" in page and "2 pending draft(s)." in page

    store.add_cluster({"fingerprint": "a", "title": "Recent cluster", "last_seen": ago(hours=1)})
    store.add_cluster(
        {
            "fingerprint": "b",
            "title": "Stale cluster",
            "last_seen": ago(days=9),
            "linked_slug": ISSUE,
        }
    )
    page = (await client.get("/clusters", params={"from": since})).text
    assert "Recent cluster" in page and "Stale cluster" not in page
    page = (await client.get("/clusters", params={"issue": ISSUE})).text
    assert "Stale cluster" in page and "Recent cluster" not in page
    assert 'option value="sample_issue" selected' in page
