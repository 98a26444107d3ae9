"""Dashboard pages and actions, in-process: editor validation, history, queues, audit, escaping."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.known_issues import validate_entry
from bot.runner.services import Services
from bot.store import Store
from bot.web.app import create_app
from tests.test_web_access import BASE, ISSUE, NoTriager, csrf_of, make_config, no_client, sign_in

XSS = '<script>alert("xss")</script><img src=x onerror=alert(1)>'


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def store() -> Store:
    s = Store.open(":memory:")
    s.save_issue(validate_entry(ISSUE), author="seed")
    return s


@pytest.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    config = make_config()
    services = Services(config=config, store=store, client_factory=no_client, triager=NoTriager())
    app = create_app(config, store, services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE) as c:
        await sign_in(c)
        yield c


def editor_form(token: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "slug": "sample_issue",
        "title": "Sample issue",
        "status": "investigating",
        "summary": "A sample.",
        "cause": "",
        "workaround": "",
        "pattern_count": "2",
        "pattern_kind_0": "literal",
        "pattern_value_0": "SampleError: it broke",
        "pattern_kind_1": "literal",
        "pattern_value_1": "",
        "mis_count": "0",
        "example_count": "0",
        "links": "",
        "note": "",
    }
    data.update(fields)
    return data


async def base_stamp(client: httpx.AsyncClient, slug: str = "sample_issue") -> str:
    r = await client.get(f"/issues/{slug}/edit")
    m = re.search(r'name="base_updated_at" value="([^"]*)"', r.text)
    assert m
    return m.group(1)


# --------------------------------------------------------------------------- editor


async def test_invalid_regex_shows_the_error_beside_the_field_and_saves_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    before_issue, before_history = store.get_issue("sample_issue"), store.history("sample_issue")
    form = editor_form(
        token,
        base_updated_at=await base_stamp(client),
        title="A title that must not be saved",
        pattern_kind_1="regex",
        pattern_value_1="unbalanced (group",
    )
    # A blank row first: the error must still land on the row the maintainer typed in.
    form.update(pattern_count="3", pattern_kind_2="literal", pattern_value_2="")
    form["pattern_value_0"], form["pattern_kind_0"] = "", "literal"
    form["pattern_value_2"] = "SampleError: it broke"
    r = await client.post("/issues/sample_issue/edit", data=form)
    assert r.status_code == 400
    assert re.search(r'data-field="patterns\[1\]">patterns\[0\]\.value: invalid regex', r.text)
    assert "Nothing was saved" in r.text
    assert "A title that must not be saved" in r.text  # the input is kept for correction
    assert store.get_issue("sample_issue") == before_issue
    assert store.history("sample_issue") == before_history


async def test_valid_edit_is_saved_with_author_and_shown_as_a_diff(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    form = editor_form(
        token,
        base_updated_at=await base_stamp(client),
        title="Sample issue, clarified",
        pattern_kind_1="regex",
        pattern_value_1=r"sample ?error: \w+ broke",
        note="clearer title",
        example_count="1",
        example_0="My app says SampleError: it broke",
    )
    r = await client.post("/issues/sample_issue/edit", data=form)
    assert r.status_code == 303 and r.headers["location"] == "/issues/sample_issue"
    saved = store.get_issue("sample_issue")
    assert saved is not None and saved.title == "Sample issue, clarified"
    assert [p.kind for p in saved.patterns] == ["literal", "regex"]
    assert saved.examples == ("My app says SampleError: it broke",)
    assert saved.updated_by == "alice"
    last = store.history("sample_issue")[-1]
    assert (last.author, last.action, last.note) == ("alice", "edit", "clearer title")
    page = (await client.get("/issues/sample_issue")).text
    assert '<span class="d-add">+title: Sample issue, clarified</span>' in page
    assert '<span class="d-del">-title: Sample issue</span>' in page
    assert "sample_issue saved." in page


async def test_workaround_required_error_is_placed_on_the_workaround_field(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    r = await client.post(
        "/issues/sample_issue/edit",
        data=editor_form(token, base_updated_at=await base_stamp(client), status="fixed"),
    )
    assert r.status_code == 400
    assert 'data-field="workaround">is required when status is fixed' in r.text
    assert store.get_issue("sample_issue").status == "investigating"  # type: ignore[union-attr]


async def test_misconception_and_link_errors_point_at_their_rows(client: httpx.AsyncClient) -> None:
    token = await csrf_of(client)
    stamp = await base_stamp(client)
    r = await client.post(
        "/issues/sample_issue/edit",
        data=editor_form(
            token,
            base_updated_at=stamp,
            mis_count="2",
            mis_claim_0="",
            mis_patterns_0="",
            mis_correction_0="",
            mis_claim_1="Only paid plans",
            mis_patterns_1="paid (plan",
            mis_correction_1="All plans can.",
        ),
    )
    assert r.status_code == 400
    assert 'data-field="misconceptions[1]">misconceptions[0].patterns[0]: invalid regex' in r.text
    r = await client.post(
        "/issues/sample_issue/edit",
        data=editor_form(token, base_updated_at=stamp, links="https://ok.example/a\nnot a url"),
    )
    assert 'data-field="links">links[1]: must be an http(s) URL' in r.text


async def test_create_new_issue_and_refuse_a_duplicate_slug(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    form = editor_form(token, slug="brand_new_issue", title="Brand new")
    r = await client.post("/issues/new", data=form)
    assert r.status_code == 303
    assert store.get_issue("brand_new_issue") is not None
    assert store.history("brand_new_issue")[0].action == "create"
    r = await client.post("/issues/new", data=form)
    assert r.status_code == 400
    assert 'data-field="slug">brand_new_issue already exists' in r.text
    r = await client.post("/issues/new", data=editor_form(token, slug="Bad Slug"))
    assert r.status_code == 400 and 'data-field="slug">must be 3-64 characters' in r.text


async def test_an_edit_made_meanwhile_is_not_overwritten(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    stale = await base_stamp(client)
    store.set_status("sample_issue", "identified", author="bob", note="")
    r = await client.post(
        "/issues/sample_issue/edit", data=editor_form(token, base_updated_at=stale, title="Mine")
    )
    assert r.status_code == 409
    assert "bob changed this entry" in r.text
    assert store.get_issue("sample_issue").title == "Sample issue"  # type: ignore[union-attr]


async def test_status_change_with_a_note_is_in_the_history(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    r = await client.post(
        "/issues/sample_issue/status",
        data={"csrf_token": token, "status": "identified", "note": "root cause found"},
    )
    assert r.status_code == 303
    last = store.history("sample_issue")[-1]
    assert (last.action, last.author, last.note) == ("status", "alice", "root cause found")
    page = (await client.get("/issues/sample_issue")).text
    assert "root cause found" in page and "status is now identified" in page
    # Invalid: fixed needs a workaround; nothing changes and the reason is shown.
    r = await client.post(
        "/issues/sample_issue/status", data={"csrf_token": token, "status": "fixed", "note": "x"}
    )
    assert store.get_issue("sample_issue").status == "identified"  # type: ignore[union-attr]
    assert "is required when status is fixed" in (await client.get("/issues/sample_issue")).text
    # As on the command line: a note is required, and the current status is no change.
    rows = len(store.history("sample_issue"))
    for data, said in (
        ({"status": "workaround", "note": "  "}, "must not be empty"),
        ({"status": "identified", "note": "again"}, "already identified; nothing recorded"),
    ):
        r = await client.post("/issues/sample_issue/status", data={"csrf_token": token, **data})
        assert r.status_code == 303
        assert said in (await client.get("/issues/sample_issue")).text
    assert len(store.history("sample_issue")) == rows
    assert store.get_issue("sample_issue").status == "identified"  # type: ignore[union-attr]


async def test_issue_list_search_and_status_filter(client: httpx.AsyncClient, store: Store) -> None:
    store.save_issue(
        validate_entry(
            {
                **ISSUE,
                "slug": "other_issue",
                "title": "Quota woes",
                "status": "fixed",
                "workaround": "Pay.",
                "patterns": [],
            }
        ),
        author="seed",
    )
    page = (await client.get("/issues", params={"q": "sampleerror"})).text
    assert "/issues/sample_issue" in page and "/issues/other_issue" not in page
    page = (await client.get("/issues", params={"status": "fixed"})).text
    assert "/issues/other_issue" in page and "/issues/sample_issue" not in page
    assert (await client.get("/issues/missing_issue")).status_code == 404


# --------------------------------------------------------------------------- queues


def add_cluster(store: Store, title: str, excerpt: str, recent: int, old: int) -> int:
    cid = store.add_cluster(
        {
            "fingerprint": f"fp-{title}",
            "normalised": f"{title}Error: <n> failed",
            "title": title,
            "count": recent + old,
            "reporters": json.dumps(["ann", "ben"]),
        }
    )
    for i in range(recent + old):
        store.add_cluster_report(
            {
                "cluster_id": cid,
                "post_id": cid * 100 + i,
                "topic_id": cid * 10 + i,
                "username": "ann",
                "title": f"{title} topic",
                "excerpt": excerpt,
                "error_string": f"{title}Error: 1 failed",
                "created_at": ago(minutes=5) if i < recent else ago(days=3),
            }
        )
    return cid


async def test_escalation_queue_orders_by_recent_growth_and_escapes_forum_text(
    client: httpx.AsyncClient, store: Store
) -> None:
    big_old = add_cluster(store, "Old", "older report", recent=0, old=6)
    growing = add_cluster(store, XSS, XSS, recent=2, old=0)
    page = (await client.get("/clusters")).text
    assert page.index(f'id="cluster-{growing}"') < page.index(f'id="cluster-{big_old}"')
    assert "<script>alert" not in page and "onerror=alert" not in page.replace(
        "&lt;img src=x onerror=alert", ""
    )
    assert "&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;" in page
    assert "<strong>2</strong> in the last 24 h" in page
    assert "ann, ben" in page
    assert f'href="http://forum.test/t/{growing * 10}"' in page


async def test_dismiss_cluster_through_the_runner_library(
    client: httpx.AsyncClient, store: Store
) -> None:
    cid = add_cluster(store, "Gone", "x", recent=1, old=0)
    token = await csrf_of(client)
    r = await client.post(f"/clusters/{cid}/dismiss", data={"csrf_token": token})
    assert r.status_code == 303
    assert store.get_cluster(cid).status == "dismissed"  # type: ignore[union-attr]
    # Twice: a clear message, not an error page.
    r = await client.post(
        f"/clusters/{cid}/dismiss", data={"csrf_token": token}, follow_redirects=True
    )
    assert r.status_code == 200 and "already dismissed" in r.text


async def test_promote_opens_the_editor_prefilled(client: httpx.AsyncClient, store: Store) -> None:
    cid = add_cluster(store, "Widget", "my widget says WidgetError: 1 failed", recent=2, old=0)
    token = await csrf_of(client)
    r = await client.post(f"/clusters/{cid}/promote", data={"csrf_token": token})
    assert r.status_code == 200
    assert f'name="cluster_id" value="{cid}"' in r.text
    assert 'value="WidgetError: 1 failed"' in r.text
    assert store.get_cluster(cid).status == "promoted"  # type: ignore[union-attr]
    # Leaving the editor and coming back later prefills it again.
    again = (await client.get(f"/clusters/{cid}/new-issue")).text
    assert 'value="WidgetError: 1 failed"' in again


def add_draft(store: Store, raw: str, post_text: str) -> int:
    store.add_decision(
        {
            "post_id": 501,
            "post_version": 1,
            "topic_id": 50,
            "username": "ann",
            "action": "review",
            "issue": "sample_issue",
            "confidence": 0.6,
            "reasons": [],
            "error_strings": [],
            "corrections": [],
            "text": post_text,
            "title": "A topic",
        }
    )
    return store.add_draft(
        {
            "post_id": 501,
            "topic_id": 50,
            "issue": "sample_issue",
            "confidence": 0.6,
            "raw": raw,
            "reason": "grey zone",
        }
    )


async def test_review_queue_shows_post_reason_and_rejects_with_feedback(
    client: httpx.AsyncClient, store: Store
) -> None:
    did = add_draft(store, f"Reply mentioning {XSS}", f"Post text {XSS}")
    page = (await client.get("/drafts")).text
    # The post is rendered as the forum would: its HTML is sanitised away, not run.
    post = page.split('class="md rendered post">')[1].split("</div>")[0]
    assert "grey zone" in page and post.startswith("<p>Post text")
    assert "<script" not in post and "onerror" not in post and "<img" not in post
    assert "<script>alert" not in page
    # The editable source keeps the reply exactly, escaped inside its textarea.
    assert "Reply mentioning &lt;script&gt;alert(&#34;xss&#34;)" in page
    token = await csrf_of(client)
    r = await client.post(
        f"/drafts/{did}/reject", data={"csrf_token": token, "reason": ""}, follow_redirects=True
    )
    assert "say why the draft is wrong" in r.text
    assert store.get_draft(did).status == "pending"  # type: ignore[union-attr]
    r = await client.post(
        f"/drafts/{did}/reject", data={"csrf_token": token, "reason": "wrong issue"}
    )
    assert r.status_code == 303
    row = store.get_draft(did)
    assert row is not None and row.status == "rejected" and row.decided_by == "alice"
    feedback = list(store.db.query("SELECT * FROM feedback WHERE source = 'draft'"))
    assert feedback[0]["reason"] == "wrong issue" and "Post text" in feedback[0]["text"]
    assert "wrong issue" in (await client.get("/drafts", params={"status": "rejected"})).text


# --------------------------------------------------------------------------- audit + overview


def add_decisions(store: Store) -> None:
    rows = [
        ("reply", "sample_issue", ago(hours=2), ["pattern hit: SampleError"]),
        ("escalate", None, ago(days=2), ["no known issue matched"]),
        ("ignore", None, ago(days=10), []),
        ("review", "sample_issue", ago(minutes=1), [XSS]),
    ]
    for i, (action, issue, at, reasons) in enumerate(rows):
        store.add_decision(
            {
                "post_id": 900 + i,
                "post_version": 1,
                "topic_id": 90 + i,
                "username": "ann",
                "action": action,
                "issue": issue,
                "confidence": 0.9,
                "reasons": reasons,
                "error_strings": ["SampleError: it broke"],
                "text": "t",
                "title": f"Topic {i}",
                "corrections": [{"claim": "c", "correction": "d"}] if action == "reply" else [],
                "created_at": at,
                "mode": "auto",
            }
        )


async def test_audit_log_filters_and_links_each_row_to_its_post(
    client: httpx.AsyncClient, store: Store
) -> None:
    add_decisions(store)
    page = (await client.get("/audit")).text
    assert "4 decision(s)" in page
    assert 'href="http://forum.test/p/900"' in page and "pattern hit: SampleError" in page
    assert "<script>alert" not in page
    page = (await client.get("/audit", params={"action": "escalate"})).text
    assert "1 decision(s)" in page and "/p/901" in page and "/p/900" not in page
    page = (await client.get("/audit", params={"issue": "sample_issue"})).text
    assert "2 decision(s)" in page
    since = (datetime.now(UTC) - timedelta(days=5)).strftime("%Y-%m-%d")
    page = (await client.get("/audit", params={"from": since})).text
    assert "3 decision(s)" in page and "/p/902" not in page
    page = (await client.get("/audit", params={"to": since})).text
    assert "1 decision(s)" in page and "/p/902" in page
    page = (await client.get("/audit", params={"from": "last tuesday"})).text
    assert "from: use YYYY-MM-DD" in page


async def test_overview_figures_and_chart(client: httpx.AsyncClient, store: Store) -> None:
    add_decisions(store)
    add_cluster(store, "Open", "x", recent=1, old=0)
    add_draft(store, "draft", "post")
    store.add_reply(
        {
            "topic_id": 90,
            "post_id": 900,
            "reply_post_id": 1,
            "reply_post_number": 2,
            "issue": "sample_issue",
        }
    )
    # The bot reading its own reply back is not a post seen.
    store.add_decision(
        {
            "post_id": 999,
            "post_version": 1,
            "topic_id": 90,
            "username": "triagebot",
            "action": "skip",
            "reasons": ["own post"],
            "created_at": ago(minutes=3),
        }
    )
    page = (await client.get("/")).text

    def cell(id_: str) -> str:
        m = re.search(rf'id="{id_}">([^<]*)<', page)
        assert m, id_
        return m.group(1)

    def row(label: str) -> str:
        return re.sub(r"\s+", " ", page.split(f'<th scope="row">{label}')[1].split("</tr>")[0])

    assert (cell("posts-day"), cell("posts-week")) == ("3", "4")  # 24 h: incl. the draft's
    assert "<td>1</td><td>1</td>" in row("Replies posted")
    assert "<td>1</td><td>1</td>" in row("Corrections made")
    assert cell("precision-day") == "100 %"
    assert "1 of 1; 95 % CI 21–100 %" in page
    store.update_draft(add_draft(store, "d2", "p2"), status="rejected", decided_at=ago(minutes=1))
    page = (await client.get("/")).text
    # One reply stood, one draft was rejected: half of what the bot proposed was right,
    # from a sample of two, so the interval is wide.
    assert cell("precision-day") == "50 %"
    assert "1 of 2; 95 % CI 9–91 %" in page
    assert "<td>1</td>" in row("Staff-rejected replies")
    assert '<strong id="drafts-waiting">1</strong>' in page
    assert '<strong id="open-clusters">1</strong>' in page
    assert page.count('class="bar-') >= 3 and "<svg" in page


async def test_saving_a_promoted_cluster_under_another_slug_follows_it(
    client: httpx.AsyncClient, store: Store
) -> None:
    cid = add_cluster(store, "Renamed", "RenamedError: 1 failed", recent=1, old=0)
    token = await csrf_of(client)
    page = (await client.post(f"/clusters/{cid}/promote", data={"csrf_token": token})).text
    proposed = re.search(r'id="slug" name="slug" value="([^"]+)"', page)
    assert proposed and proposed.group(1) != "better_slug"
    form = editor_form(token, slug="better_slug", title="Renamed", cluster_id=str(cid))
    r = await client.post("/issues/new", data=form, follow_redirects=True)
    assert store.get_cluster(cid).linked_slug == "better_slug"  # type: ignore[union-attr]
    # No forum here (the client factory fails): the entry is saved and the page says so.
    assert "better_slug created." in r.text
    assert "1 could not be answered now" in r.text
    # A second, stale form for the same cluster cannot re-point it.
    form = editor_form(token, slug="third_slug", title="Again", cluster_id=str(cid))
    r = await client.post("/issues/new", data=form, follow_redirects=True)
    assert "belongs to better_slug" in r.text
    assert store.get_cluster(cid).linked_slug == "better_slug"  # type: ignore[union-attr]
    # The retry button on the promoted list tries again (and fails the same way here).
    r = await client.post(
        f"/clusters/{cid}/answer", data={"csrf_token": token}, follow_redirects=True
    )
    assert "better_slug: 0 queued post(s) answered, 0 skipped. 1 could not be answered" in r.text


async def test_facts_are_edited_as_yaml_kept_on_save_and_shown_on_the_issue_page(
    client: httpx.AsyncClient, store: Store
) -> None:
    token = await csrf_of(client)
    facts = (
        "- kind: not_required\n  about: [enterprise plan]\n"
        "  says: Samples work on every plan.\n"
        "- kind: delay\n  about: [sample rollout]\n  value: 15\n  max: 30\n  unit: minutes\n"
        "  says: A fix reaches every region within 15 to 30 minutes.\n"
    )
    form = editor_form(
        token,
        base_updated_at=await base_stamp(client),
        facts=facts,
        rejected_claims="Samples need a paid plan.",
    )
    r = await client.post("/issues/sample_issue/edit", data=form)
    assert r.status_code == 303
    saved = store.get_issue("sample_issue")
    assert saved is not None
    assert [f.kind for f in saved.facts] == ["not_required", "delay"]
    assert saved.facts[1].max == 30.0 and saved.rejected_claims == ("Samples need a paid plan.",)
    page = (await client.get("/issues/sample_issue")).text
    assert "Samples work on every plan." in page and "15–30 minutes" in page
    # Opening the editor again offers the same facts: saving unchanged keeps them.
    edit = (await client.get("/issues/sample_issue/edit")).text
    assert "not_required" in edit and "Samples need a paid plan." in edit
    bad = editor_form(token, base_updated_at=await base_stamp(client), facts="- kind: [unclosed")
    r = await client.post("/issues/sample_issue/edit", data=bad)
    assert r.status_code == 400 and "not valid YAML" in r.text
    assert store.get_issue("sample_issue") == saved
