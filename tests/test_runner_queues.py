"""Clusters, the escalation queue, follow-ups and the policy helpers."""

from __future__ import annotations

import pytest

from bot.discourse.models import Post, Topic
from bot.records import Reply
from bot.runner import clusters, followups, policy, poller, queues
from bot.runner.pipeline import process_post
from tests.runner_support import SCOPES, bot_posts, make_forum, make_services, make_store


@pytest.fixture
def forum():
    state = make_forum()
    yield state
    state.close()


@pytest.fixture
def store(tmp_path):
    s = make_store(tmp_path)
    yield s
    s.close()


def _add(store, fp, text, post_id, user="u"):  # type: ignore[no-untyped-def]
    with store.transaction():
        return clusters.assign_report(
            store,
            fingerprint=fp,
            normalised=text,
            error_string=text,
            post_id=post_id,
            topic_id=post_id,
            username=user,
            title=text[:40],
            excerpt=text,
            sizes=(3, 10),
        )


def test_clusters_group_by_fingerprint_then_similarity_without_chaining(store):
    a = _add(store, "fp1", "connection reset by peer while uploading file batch", 1, "ann")
    b = _add(store, "fp1", "totally different words but the same fingerprint", 2, "ben")
    assert b.cluster_id == a.cluster_id and a.created and not b.created
    # Similar text, new fingerprint: joins by similarity to the anchor.
    c = _add(store, "fp2", "connection reset by peer while uploading file batch now", 3, "ann")
    assert c.cluster_id == a.cluster_id and c.count == 3
    # Weak link: similar to c's wording drift but not to the anchor -> a new cluster.
    d = _add(store, "fp3", "uploading file batch times out after gateway error 504", 4)
    e = _add(store, "fp4", "gateway error 504 times out after a long wait on model", 5)
    assert d.cluster_id != a.cluster_id
    assert e.cluster_id != a.cluster_id
    row = store.get_cluster(a.cluster_id)
    assert row is not None and row.count == 3 and row.reporters == ("ann", "ben")
    # Notification levels: appear (1), then the configured sizes, each once.
    assert a.notify_level == 1 and b.notify_level is None and c.notify_level == 3
    # The same post twice is counted once.
    again = _add(store, "fp1", "connection reset by peer", 1)
    assert again.cluster_id == a.cluster_id and store.get_cluster(a.cluster_id).count == 3  # type: ignore[union-attr]


def test_similarity_bounds():
    assert clusters.similarity("a b c", "") == 0.0
    assert clusters.similarity("invalid model id gpt", "invalid model id gpt") == pytest.approx(1.0)
    assert clusters.similarity("invalid model id", "quota exceeded for org") < 0.2


async def test_escalation_is_one_message_per_level_not_per_post(forum, store):
    for i in range(4):
        forum.create_topic("alice", f"Weird {i}", f"Now I get ERR_NEW_WOMBAT on call {i}")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store)
    await poller.poll_once(services)
    await services.aclose()
    pms = [p for p in bot_posts(forum) if p["archetype"] == "private_message"]
    assert len(pms) == 2  # appeared, then crossed 3
    (cluster,) = queues.list_clusters(services)
    assert cluster.count == 4 and cluster.notified_size == 3
    shown = queues.get_cluster(services, cluster.id)
    assert len(shown.reports) == 4


async def test_link_answers_cluster_posts_and_promote_and_dismiss(forum, store):
    for i in range(2):
        forum.create_topic("alice", f"Odd {i}", f"ERR_NEW_LINKME happened {i}")
    forum.create_topic("bob", "Other", "ERR_NEW_OTHER happened")
    forum.create_topic("carol", "Third", "ERR_NEW_THIRD happened")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store)
    await poller.poll_once(services)
    by_fp = {c.fingerprint: c for c in queues.list_clusters(services)}
    result = await queues.link_cluster(services, by_fp["err_new_linkme"].id, SCOPES, "mod")
    assert result.answered == 2 and result.cluster.status == "linked"
    replies = [p for p in bot_posts(forum) if p["archetype"] != "private_message"]
    assert len(replies) == 2
    with pytest.raises(queues.QueueError):
        await queues.link_cluster(services, by_fp["err_new_linkme"].id, SCOPES, "mod")
    with pytest.raises(queues.QueueError):
        await queues.link_cluster(services, by_fp["err_new_other"].id, "no_such_issue", "mod")
    draft = queues.promote_cluster(services, by_fp["err_new_other"].id, "mod")
    assert draft["status"] == "investigating" and draft["patterns"]
    assert store.get_issue(draft["slug"]) is None  # a maintainer completes it first
    dismissed = queues.dismiss_cluster(services, by_fp["err_new_third"].id, "mod")
    assert dismissed.status == "dismissed"
    assert queues.list_clusters(services) == []
    with pytest.raises(queues.QueueError):
        queues.get_cluster(services, 9999)
    await services.aclose()


async def test_followup_once_per_change_per_topic(forum, store):
    t1 = forum.create_topic(
        "alice", "Key 1", "x: Request includes unauthorized scopes: api.all.read"
    )
    forum.create_topic("bob", "Key 2", "y: Request includes unauthorized scopes: api.all.read")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store)
    assert await followups.run_followups(services) == 0  # first run sets the cursor
    await poller.poll_once(services)
    assert len(bot_posts(forum)) == 2
    store.set_status(SCOPES, "fixed", author="maint", note="deployed")
    assert await followups.run_followups(services) == 2
    assert await followups.run_followups(services) == 0  # never twice for one change
    texts = [p["raw"] for p in bot_posts(forum)]
    assert len(texts) == 4 and sum("fixed" in t.lower() for t in texts[2:]) == 2
    # A human removed the reply in topic 1: no follow-up there for the next change.
    first_reply = next(p for p in bot_posts(forum) if p["topic_id"] == t1["topic_id"])
    forum.delete_post(first_reply["id"])  # noticed by the bot when it looks at the topic
    store.set_status(SCOPES, "workaround", author="maint")
    assert await followups.run_followups(services) == 1
    assert store.replies_in_topic(t1["topic_id"])[0].state == "removed"
    # A closed topic gets no follow-up either.
    t2 = next(p["topic_id"] for p in bot_posts(forum) if p["topic_id"] != t1["topic_id"])
    forum.close_topic(t2)
    store.set_status(SCOPES, "fixed", author="maint")
    assert await followups.run_followups(services) == 0
    await services.aclose()


async def test_followups_respect_hourly_budget(forum, store):
    for i in range(3):
        forum.create_topic(
            "alice", f"Key {i}", f"{i}: Request includes unauthorized scopes: api.all.read"
        )
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store, followup_per_hour=2)
    await followups.run_followups(services)
    await poller.poll_once(services)
    store.set_status(SCOPES, "fixed", author="maint")
    assert await followups.run_followups(services) == 2
    assert await followups.run_followups(services) == 0  # budget spent; resumes later
    assert store.get_state(followups.CURSOR_KEY) != str(
        store.db.execute("SELECT MAX(id) FROM issue_history").fetchone()[0]
    )
    await services.aclose()


def _post(**kw) -> Post:  # type: ignore[no-untyped-def]
    base = {"id": 1, "topic_id": 1, "username": "alice", "raw": "x"}
    return Post.from_json({**base, **kw})


def test_policy_checks():
    from bot.config import Config

    cfg = Config(api_username="triagebot", bot_usernames=("helper",), excluded_categories=(7,))
    assert policy.skip_post(_post(), cfg) is None
    assert policy.skip_post(_post(username="TriageBot"), cfg) == "own post"
    assert policy.skip_post(_post(username="helper"), cfg) == "another bot"
    assert policy.skip_post(_post(staff=True), cfg) == "staff post"
    assert policy.skip_post(_post(staff=True), Config(answer_staff=True)) is None
    assert policy.skip_post(_post(post_type=4), cfg) == "whisper"
    assert policy.skip_post(_post(topic_archetype="private_message"), cfg) == "private message"
    assert policy.skip_post(_post(category_id=7), cfg) == "excluded category"
    topic = Topic.from_json({"id": 1, "closed": True})
    assert policy.skip_topic(topic, cfg) == "topic closed"
    assert policy.skip_answer([_reply(1, "corrected", issue="a")], "b") is not None
    assert policy.skip_answer([_reply(1, "active", issue="a")], "a") is not None
    assert policy.skip_answer([_reply(1, "active", issue="a")], "b") is None


def _reply(rid: int, state: str, *, issue: str | None = None, reply_post_id: int = 0) -> Reply:
    return Reply(rid, 1, 10, reply_post_id or None, None, issue, "", state, "")


def test_human_verdicts_detect_edits_and_staff_corrections():
    posts = [
        {"id": 10, "post_number": 1, "username": "alice"},
        {"id": 11, "post_number": 2, "username": "triagebot", "version": 2},
        {"id": 12, "post_number": 3, "username": "triagebot"},
        {"id": 13, "post_number": 4, "username": "mod", "staff": True, "reply_to_post_number": 3},
    ]
    topic = Topic.from_json({"id": 1, "post_stream": {"posts": posts}})
    rows = [
        _reply(1, "active", reply_post_id=11),
        _reply(2, "active", reply_post_id=12),
        _reply(3, "active", reply_post_id=99),
    ]
    verdicts = dict(policy.human_verdicts(topic, rows, "triagebot"))
    assert verdicts == {1: "corrected", 2: "corrected", 3: "removed"}


async def test_whisper_and_private_message_never_answered(forum, store):
    services = make_services(forum, store)
    whisper = _post(id=5, topic_id=1, post_type=4, raw=SCOPES)
    pm = _post(id=6, topic_id=1, topic_archetype="private_message", raw=SCOPES)
    assert "whisper" in (await process_post(services, whisper)).reasons
    assert "private message" in (await process_post(services, pm)).reasons
    await services.aclose()


async def test_triager_is_rebuilt_when_a_maintainer_edits_an_issue(forum, store):
    from bot.runner.poller import reload_triager_if_issues_changed
    from bot.runner.services import issues_version
    from tests.runner_support import FakeTriager

    built: list[list] = []

    def builder(issues):  # type: ignore[no-untyped-def]
        built.append(issues)
        return FakeTriager()

    services = make_services(forum, store)
    services.triager_builder = builder
    services.issues_version = issues_version(store)
    assert await reload_triager_if_issues_changed(services) is False
    store.set_status(SCOPES, "fixed", author="maint")
    assert await reload_triager_if_issues_changed(services) is True
    (issues,) = built
    assert next(i for i in issues if i.slug == SCOPES).status == "fixed"
    assert await reload_triager_if_issues_changed(services) is False


async def test_escalation_to_a_staff_category_creates_a_topic_there(forum, store):
    staff_cat = forum.add_category("Staff", read_restricted=True).id
    forum.create_topic("alice", "Weird", "Now I get ERR_NEW_CATEGORY on call")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store, escalation_category=staff_cat)
    await poller.poll_once(services)
    await services.aclose()
    (notice,) = bot_posts(forum)
    assert notice["archetype"] == "regular" and notice["category_id"] == staff_cat
    assert notice["topic_title"].startswith("New problem")
