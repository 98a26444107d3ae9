"""The runner's pipeline over the in-process local forum (real client, real HTTP shapes)."""

from __future__ import annotations

import pytest

from bot.runner import poller, queues
from bot.runner.intents import marker
from tests.runner_support import (
    SCOPES,
    bot_posts,
    make_forum,
    make_services,
    make_store,
)

SCOPES_POST = "Creating a read only key fails: Request includes unauthorized scopes: api.all.read"


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


async def _poll_all(services) -> poller.PollStats:
    services.store.set_state(poller.CURSOR_KEY, "0")
    try:
        return await poller.poll_once(services, keep_outcomes=True)
    finally:
        await services.aclose()


async def test_auto_mode_replies_once_per_topic_and_issue(forum, store):
    topic = forum.create_topic("alice", "Read-only key error", SCOPES_POST)["topic_id"]
    forum.create_post("bob", topic, "Same here! " + SCOPES_POST)
    services = make_services(forum, store, mode="auto")
    stats = await _poll_all(services)
    assert stats.decided == 2
    replies = bot_posts(forum)
    assert len(replies) == 1  # one reply per topic per issue
    assert replies[0]["topic_id"] == topic
    assert replies[0]["reply_to_post_number"] == 1
    intent = store.list_intents("done")[0]
    assert replies[0]["raw"].endswith(marker(intent.id))
    rows = store.replies_in_topic(topic)
    assert [(r.issue, r.reply_post_id) for r in rows] == [(SCOPES, replies[0]["id"])]
    audit = store.list_decisions()
    assert {d.action for d in audit} == {"reply", "skip"}
    assert all(d.mode == "auto" and d.model_version == "fake-1" for d in audit)


async def test_review_mode_drafts_and_approve_posts_via_intent(forum, store):
    forum.create_topic("alice", "Key problem", SCOPES_POST)
    services = make_services(forum, store, mode="review")
    await _poll_all(services)
    assert bot_posts(forum) == []
    drafts = queues.list_drafts(services)
    assert len(drafts) == 1 and drafts[0].issue == SCOPES
    approved = await queues.approve_draft(services, drafts[0].id, "mod", edited_raw="Edited text")
    await services.aclose()
    assert approved.status == "approved" and approved.decided_by == "mod"
    posts = bot_posts(forum)
    assert len(posts) == 1 and posts[0]["raw"].startswith("Edited text")
    assert approved.reply_post_id == posts[0]["id"]
    with pytest.raises(queues.QueueError):
        await queues.approve_draft(services, drafts[0].id, "mod")
    assert len(bot_posts(forum)) == 1


async def test_reject_records_feedback(forum, store):
    forum.create_topic("alice", "Unsure", "maybe-scopes something odd with keys")
    services = make_services(forum, store, mode="auto")
    await _poll_all(services)
    (draft,) = queues.list_drafts(services)
    with pytest.raises(queues.QueueError):
        queues.reject_draft(services, draft.id, "mod", "  ")
    rejected = queues.reject_draft(services, draft.id, "mod", "not this issue")
    assert rejected.status == "rejected"
    fb = list(store.db.query("SELECT * FROM feedback WHERE source = 'draft'"))
    assert fb[0]["verdict"] == "rejected" and fb[0]["predicted_issue"] == SCOPES
    assert "maybe-scopes" in fb[0]["text"]


async def test_dry_run_writes_nothing(forum, store):
    forum.create_topic("alice", "Key", SCOPES_POST)
    forum.create_topic("bob", "New thing", "I get ERR_NEW_ZEBRA on every call")
    services = make_services(forum, store, mode="dry-run")
    stats = await _poll_all(services)
    assert stats.decided == 2
    assert bot_posts(forum) == [] and forum.flags == []
    assert store.list_intents() == [] and queues.list_drafts(services) == []
    assert {d.mode for d in store.list_decisions()} == {"dry-run"}


@pytest.mark.parametrize(
    "arrange, reason",
    [
        (lambda f: f.create_topic("mod", "Staff note", SCOPES_POST), "staff post"),
        (lambda f: f.create_topic("triagebot", "Mine", SCOPES_POST), "own post"),
        (
            lambda f: f.create_topic("alice", "Closed one", SCOPES_POST, closed=True),
            "topic closed",
        ),
        (
            lambda f: f.create_topic("alice", "Archived", SCOPES_POST, archived=True),
            "topic archived",
        ),
    ],
)
async def test_policy_skips(forum, store, arrange, reason):
    arrange(forum)
    services = make_services(forum, store, mode="auto")
    await _poll_all(services)
    assert bot_posts(forum) == [] or reason == "own post"
    decision = store.list_decisions()[0]
    assert decision.action == "skip" and reason in decision.reasons


async def test_excluded_category_and_other_bot(forum, store):
    cat = forum.add_category("Announcements").id
    forum.add_user("otherbot")
    forum.create_topic("alice", "In excluded", SCOPES_POST, category_id=cat)
    forum.create_topic("otherbot", "Bot talk", SCOPES_POST + " again")
    services = make_services(forum, store, excluded_categories=(cat,), bot_usernames=("otherbot",))
    await _poll_all(services)
    assert bot_posts(forum) == []
    reasons = " ".join(r for d in store.list_decisions() for r in d.reasons)
    assert "excluded category" in reasons and "another bot" in reasons


async def test_ignored_posts_need_no_topic_fetch(forum, store):
    for i in range(5):
        forum.create_topic("alice", f"Chatter {i}", f"Thanks everyone, great community {i}")
    services = make_services(forum, store)
    forum.request_log.clear()
    await _poll_all(services)
    paths = [p for _, p, _ in forum.request_log]
    assert not any(p.startswith("/t/") for p in paths)
    assert paths.count("/posts.json") == 1


async def test_human_correction_is_respected_forever(forum, store):
    topic = forum.create_topic("alice", "Key issue", SCOPES_POST)["topic_id"]
    services = make_services(forum, store)
    await _poll_all(services)
    (reply,) = bot_posts(forum)
    forum.delete_post(reply["id"])  # staff removed the bot's reply
    forum.create_post("carol", topic, "Still failing: " + SCOPES_POST + " (different key)")
    services2 = make_services(forum, store)
    await poller.poll_once(services2)
    await services2.aclose()
    assert len(bot_posts(forum)) == 1
    assert store.replies_in_topic(topic)[0].state == "removed"
    fb = list(store.db.query("SELECT * FROM feedback WHERE source = 'reply'"))
    assert fb and fb[0]["verdict"] == "removed"


async def test_hourly_limit_turns_replies_into_drafts(forum, store):
    for i in range(3):
        forum.create_topic("alice", f"Key trouble {i}", f"{SCOPES_POST} #{i}")
    services = make_services(forum, store, max_posts_per_hour=2)
    await _poll_all(services)
    assert len(bot_posts(forum)) == 2
    (draft,) = queues.list_drafts(services)
    assert draft.reason == "hourly post limit reached"


async def test_secret_is_flagged_and_member_told_without_echo(forum, store):
    secret = "sk-" + "A1b2C3d4" * 5
    forum.create_topic("alice", "Key leak", f"{SCOPES_POST}\nmy key is {secret}")
    services = make_services(forum, store)
    await _poll_all(services)
    assert [f["flag"] for f in forum.flags] == ["notify_moderators"]
    texts = [p["raw"] for p in bot_posts(forum)]
    # One warning: the reply opens with it, so no separate notice is posted.
    assert len(texts) == 1 and "revoke" in texts[0]
    assert all(secret not in t for t in texts)


async def test_secret_in_an_ignored_post_gets_its_own_notice(forum, store):
    secret = "sk-" + "Z9y8X7w6" * 5
    forum.create_topic("alice", "My setup", f"Here is my config, works fine: key={secret}")
    services = make_services(forum, store)
    await _poll_all(services)
    assert [f["flag"] for f in forum.flags] == ["notify_moderators"]
    texts = [p["raw"] for p in bot_posts(forum)]
    assert len(texts) == 1 and "revoke" in texts[0].lower()
    assert secret not in texts[0]


async def test_edited_post_is_retriaged_once_per_version(forum, store):
    first = forum.create_topic("alice", "Question", "How do I stream responses?")
    services = make_services(forum, store)
    await _poll_all(services)
    edited = forum.edit_post(first["id"], "Update: now I get " + SCOPES_POST)
    from bot.discourse.models import Post
    from bot.runner.pipeline import process_post

    post = Post.from_json({**edited, "topic_title": "Question"})
    services2 = make_services(forum, store)
    out1 = await process_post(services2, post)
    out2 = await process_post(services2, post)
    await services2.aclose()
    assert out1.action == "reply" and out2.status == "seen"
    assert len(bot_posts(forum)) == 1


async def test_post_in_a_topic_deleted_meanwhile_is_recorded_not_retried(forum, store):
    from bot.discourse.models import Post
    from bot.runner.pipeline import process_post

    services = make_services(forum, store)
    ghost = Post.from_json({"id": 777, "topic_id": 4242, "username": "alice", "raw": SCOPES_POST})
    outcome = await process_post(services, ghost)
    await services.aclose()
    assert outcome.action == "skip" and "topic not found" in outcome.reasons
    assert bot_posts(forum) == []
