"""Drafts where staff work: a staff-only whisper in the topic, or a flag into the review queue."""

from __future__ import annotations

import httpx
import pytest

from bot.forum_sim.app import create_app
from bot.runner import poller, queues
from tests.runner_support import make_forum, make_services, make_store

UNSURE = "maybe-scopes keys act weird for me"


async def _drafted(tmp_path, channel: str, text: str = UNSURE):  # type: ignore[no-untyped-def]
    state = make_forum()
    state.user("triagebot").moderator = True  # whispers and the review queue are staff things
    store = make_store(tmp_path)
    topic = state.create_topic("alice", "Keys act weird", text)["topic_id"]
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(
        state, store, mode="review", review_channel=channel, public_url="https://triage.example"
    )
    await poller.poll_once(services)
    [draft] = store.list_drafts("pending")
    return state, services, topic, draft


def _bot_posts(state, topic: int) -> list[dict]:  # type: ignore[no-untyped-def]
    return [p for p in state.topic_posts(topic) if p["username"] == "triagebot"]


async def _as(state, username: str, path: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    key = state.add_api_key(username)
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url="http://forum.test") as http:
        return await http.get(path, headers={"Api-Key": key, "Api-Username": username})


async def test_whisper_channel_puts_the_draft_in_the_topic_for_staff_only(tmp_path):
    state, services, topic, draft = await _drafted(tmp_path, "whisper")
    [whisper] = _bot_posts(state, topic)
    assert whisper["post_type"] == 4  # a whisper: staff only
    assert f"triagebot draft #{draft.id}" in whisper["raw"]
    assert "> This matches a known issue: **Creating a" in whisper["raw"]
    assert f"triagebot review approve {draft.id}" in whisper["raw"]
    assert "https://triage.example/drafts" in whisper["raw"]
    member = (await _as(state, "alice", f"/t/{topic}.json")).json()
    assert [p["post_number"] for p in member["post_stream"]["posts"]] == [1]
    staff = (await _as(state, "mod", f"/t/{topic}.json")).json()
    assert len(staff["post_stream"]["posts"]) == 2

    await queues.approve_draft(services, draft.id, "mod")
    posts = _bot_posts(state, topic)
    assert [p["post_type"] for p in posts] == [4, 1]  # the approved reply is public
    assert posts[1]["raw"].startswith("This matches a known issue: **Creating a")
    # The whisper no longer shows a waiting draft.
    assert posts[0]["raw"].startswith(f"**triagebot draft #{draft.id}** approved by @mod.")
    assert "> This matches" not in posts[0]["raw"]
    # A second poll plans nothing more: the whisper is not a reply and not re-sent.
    await poller.poll_once(services)
    assert len(_bot_posts(state, topic)) == 2
    await services.aclose()


async def test_a_rejected_draft_rewrites_its_whisper_from_any_process(tmp_path):
    from bot.runner.intents import reconcile_pending

    state, services, topic, draft = await _drafted(tmp_path, "whisper")
    queues.reject_draft(services, draft.id, "mod", "not this issue")  # sync, like the CLI
    await reconcile_pending(services)  # the running bot's periodic pass
    [whisper] = _bot_posts(state, topic)
    assert whisper["raw"].startswith(
        f"**triagebot draft #{draft.id}** rejected by @mod: not this issue."
    )
    await services.aclose()


async def test_flag_channel_puts_the_post_in_the_review_queue_with_the_draft(tmp_path):
    state, services, topic, draft = await _drafted(tmp_path, "flag")
    assert _bot_posts(state, topic) == []  # nothing in the topic until approved
    [flag] = state.flags
    assert flag["flag"] == "notify_moderators" and flag["username"] == "triagebot"
    assert f"triagebot draft #{draft.id}" in flag["message"]
    queue = (await _as(state, "mod", "/review.json")).json()["reviewables"]
    [item] = queue
    assert item["type"] == "ReviewableFlaggedPost" and item["topic_id"] == topic
    assert "This matches a known issue" in item["reviewable_scores"][0]["reason"]
    assert (await _as(state, "alice", "/review.json")).status_code == 403

    await queues.approve_draft(services, draft.id, "mod")
    [reply] = _bot_posts(state, topic)
    assert reply["post_type"] == 1
    await services.aclose()


async def test_flag_channel_flags_a_post_once_even_with_a_secret(tmp_path):
    text = UNSURE + " my key is sk-abcdefghijklmnopqrstuvwxyz012345"
    state, services, _topic, _draft = await _drafted(tmp_path, "flag", text)
    assert len(state.flags) == 1
    await services.aclose()


@pytest.mark.parametrize("channel", ["dashboard"])
async def test_dashboard_channel_writes_nothing_to_the_forum(tmp_path, channel):
    state, services, topic, _ = await _drafted(tmp_path, channel)
    assert _bot_posts(state, topic) == [] and state.flags == []
    await services.aclose()


def test_review_channel_is_validated():
    from bot.config import ConfigError, load_config

    with pytest.raises(ConfigError, match="review_channel: must be one of"):
        load_config(env={"TRIAGEBOT_REVIEW_CHANNEL": "email"})
