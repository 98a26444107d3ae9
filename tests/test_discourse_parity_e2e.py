"""The bot's behaviour where a real Discourse pushes back: 409 on edits, 429 on creates,
unlisted topics. The local forum runs over real HTTP on loopback; the real client talks to it.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from bot.discourse.errors import EditConflict

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent


# ---- 409: edits re-read and retry, or give up cleanly -------------------------------------------


async def test_revise_post_rereads_after_a_409_and_keeps_the_other_edit(live_forum):
    state = live_forum.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    reply = state.create_post("triagebot", 1, "Status: investigating.")
    seen: list[str] = []

    def revise(post):  # type: ignore[no-untyped-def]
        seen.append(post.raw)
        if len(seen) == 1:
            # A moderator saves an edit between the bot's read and its write.
            state.edit_post(post.id, post.raw + "\n\nModerator: see also the status page.")
        return post.raw.replace("investigating", "fixed")

    async with live_forum.http() as http:
        client = live_forum.client(http)
        saved = await client.revise_post(reply["id"], revise)
    final = state.post(reply["id"])
    assert final.raw == "Status: fixed.\n\nModerator: see also the status page."
    assert saved.raw == final.raw and saved.version == final.version == 3
    assert len(seen) == 2 and "Moderator" in seen[1]
    conflicts = [r for r in state.request_log if r[0] == "PUT" and r[2] == 409]
    assert len(conflicts) == 1
    assert len(state.posts_by("triagebot")) == 1  # an edit never adds a post


async def test_revise_post_gives_up_with_edit_conflict_without_posting(live_forum):
    state = live_forum.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    reply = state.create_post("triagebot", 1, "Status: investigating.")
    rounds = 0

    def revise(post):  # type: ignore[no-untyped-def]
        nonlocal rounds
        rounds += 1
        state.edit_post(post.id, f"Moderator rewrite {rounds}")  # always a step ahead
        return "Status: fixed."

    async with live_forum.http() as http:
        client = live_forum.client(http)
        with pytest.raises(EditConflict) as exc:
            await client.revise_post(reply["id"], revise)
    assert exc.value.status == 409 and "edited by another user" in str(exc.value)
    assert rounds == client.edit_attempts == 3
    assert state.post(reply["id"]).raw == "Moderator rewrite 3"
    assert len(state.posts_by("triagebot")) == 1
    assert len(state.topic_posts(1)) == 2


async def test_add_tags_merges_with_a_concurrent_retag(live_forum):
    state = live_forum.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota",
                       tags=["api"])  # fmt: skip
    async with live_forum.http() as http:
        client = live_forum.client(http)
        real_request = client.request
        calls = {"n": 0}

        async def racing_request(method, path, **kw):  # type: ignore[no-untyped-def]
            result = await real_request(method, path, **kw)
            if method == "GET" and path == "/t/1.json" and calls["n"] == 0:
                calls["n"] += 1
                state.set_tags(1, ["api", "billing"])  # staff retags after the bot's read
            return result

        client.request = racing_request  # type: ignore[method-assign]
        tags = await client.add_tags(1, ["quota"])
    assert set(tags) == {"api", "billing", "quota"}
    assert sorted(state.topic(1).tags) == ["api", "billing", "quota"]


# ---- 429 on creates: pace and retry -----------------------------------------------------------


async def test_client_learns_the_create_spacing_and_posts_each_reply_once(live_forum):
    state = live_forum.state
    state.rate_limit_create_post = 1.0
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    async with live_forum.http() as http:
        client = live_forum.client(http)
        started = time.monotonic()
        for i in range(5):
            await client.create_post(1, f"Reply number {i} from the bot")
        elapsed = time.monotonic() - started
    raws = [p["raw"] for p in state.posts_by("triagebot")]
    assert raws == [f"Reply number {i} from the bot" for i in range(5)]  # each once, in order
    refused = [r for r in state.request_log if r[0] == "POST" and r[2] == 429]
    assert len(refused) == 1 == client.stats.rate_limited_429s  # paced after the first
    assert 1.0 <= client.create_spacing <= 2.5
    assert client.limiter.waited_seconds == 0  # a per-user limit does not stall reads
    assert elapsed >= 4.0  # five creates 1 s apart


def test_forum_serve_rate_limit_create_post_option():
    from tests.runner_support import forum_process

    with forum_process("--rate-limit-create-post", "5") as (url, key):
        h = {"Api-Key": key, "Api-Username": "triagebot"}
        topic = httpx.post(f"{url}/posts.json", headers=h,
                           json={"title": "A topic from the bot", "raw": "first post text"})  # fmt: skip
        assert topic.status_code == 200, topic.text
        reply = httpx.post(f"{url}/posts.json", headers=h,
                           json={"topic_id": topic.json()["topic_id"], "raw": "a quick reply"})  # fmt: skip
        assert reply.status_code == 429 and reply.json()["error_type"] == "rate_limit"
        assert 1 <= int(reply.headers["Retry-After"]) <= 5


async def test_running_bot_paces_its_replies_under_the_create_limit(tmp_path):
    from bot.forum_sim.server import serve
    from bot.runner import poller
    from tests.runner_support import make_forum, make_store
    from tests.test_runner_e2e import SCOPES, _real_services, _until

    state = make_forum()
    state.rate_limit_create_post = 1.0  # the bot user is a TL2 member, not staff
    store = make_store(tmp_path)
    with serve(state) as base_url:
        services = _real_services(state, store, base_url, max_posts_per_hour=1000)
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run_loop(services, stop=stop, interval=0.05))
        await _until(lambda: poller.get_cursor(services) is not None)
        topics = [
            state.create_topic("alice", f"Key error {i}", f"{SCOPES} #{i}")["topic_id"]
            for i in range(4)
        ]
        await _until(lambda: len(state.posts_by("triagebot")) >= 4, timeout=30)
        await asyncio.sleep(0.3)  # nothing more may follow
        stop.set()
        await task
        await services.aclose()
    replies = state.posts_by("triagebot")
    assert sorted(p["topic_id"] for p in replies) == topics  # one reply per topic, none lost
    codes = "".join("R" if r[2] == 429 else "." for r in state.request_log if r[0] == "POST")
    # Only the first burst (up to `concurrency` creates in flight before the forum said
    # anything) meets a 429; once the spacing is learned every create lands first time.
    burst = services.config.concurrency
    assert re.fullmatch(rf"\.R{{1,{burst}}}\.+", codes), codes
    store.close()


# ---- unlisted topics are skipped, whichever way the post arrives -------------------------------


async def test_bot_never_answers_in_an_unlisted_topic(tmp_path):
    from bot.commands.bot_cmds import serve_forever
    from bot.forum_sim.server import serve
    from bot.runner import poller
    from tests.runner_support import make_forum, make_store
    from tests.test_runner_e2e import SCOPES, SECRET, _free_socket, _real_services, _until

    state = make_forum()
    store = make_store(tmp_path)
    listed = state.create_topic("alice", "Listed key error", f"{SCOPES} (listed)")
    unlisted = state.create_topic("bob", "Unlisted key error", f"{SCOPES} (unlisted)")
    state.topic(unlisted["topic_id"]).visible = False  # staff unlisted it
    with serve(state) as base_url:
        services = _real_services(state, store, base_url, max_posts_per_hour=1000)
        sock = _free_socket()
        bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        started, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            serve_forever(services, host="127.0.0.1", port=0, interval=0.1, started=started,
                          stop=stop, sockets=[sock])
        )  # fmt: skip
        await asyncio.wait_for(started.wait(), 10)
        await _until(lambda: poller.get_cursor(services) is not None)
        state.add_webhook(f"{bot_url}/webhooks/discourse", SECRET)
        # Edits fire post_edited webhooks the bot triages; a reply in the unlisted topic is
        # also one the catch-up poll would meet if /posts.json listed it.
        state.edit_post(unlisted["id"], unlisted["raw"] + " (edited)")
        state.create_post("carol", unlisted["topic_id"], f"{SCOPES} (reply in unlisted)")
        state.edit_post(listed["id"], listed["raw"] + " (edited)")
        await _until(lambda: any(p["topic_id"] == listed["topic_id"]
                                 for p in state.posts_by("triagebot")))  # fmt: skip
        await _until(lambda: store.is_seen(unlisted["id"], 2))
        await asyncio.sleep(0.5)  # several catch-up polls
        stop.set()
        await asyncio.wait_for(task, 15)
    answered = {p["topic_id"] for p in state.posts_by("triagebot")}
    assert answered == {listed["topic_id"]}
    store.close()


# ---- raw in another shape is an error, never an empty post ------------------------------------


async def test_client_refuses_raw_in_another_shape(live_forum):
    from bot.discourse.errors import DiscourseError

    state = live_forum.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    state.faults.raw_as_document = True
    async with live_forum.http() as http:
        client = live_forum.client(http)
        for call in (client.latest_posts(), client.get_post(1), client.get_topic(1)):
            with pytest.raises(DiscourseError, match="Malformed post 1 .*raw is a list"):
                await call


async def test_bot_neither_answers_nor_skips_posts_it_cannot_read(tmp_path):
    from bot.forum_sim.server import serve
    from bot.runner import poller
    from tests.runner_support import make_forum, make_store
    from tests.test_runner_e2e import SCOPES, _real_services, _until

    state = make_forum()
    store = make_store(tmp_path)
    with serve(state) as base_url:
        services = _real_services(state, store, base_url, max_posts_per_hour=1000)
        stop = asyncio.Event()
        polls: list[int] = []
        task = asyncio.create_task(poller.run_loop(
            services, stop=stop, interval=0.05, on_poll=lambda s: polls.append(s.polls)))  # fmt: skip
        await _until(lambda: poller.get_cursor(services) is not None)
        start = poller.get_cursor(services)
        state.faults.raw_as_document = True
        topic = state.create_topic("alice", "Key error while shaped", f"{SCOPES} (odd shape)")
        await _until(lambda: len(polls) >= 5)
        assert state.posts_by("triagebot") == []  # not triaged as an empty post
        assert poller.get_cursor(services) == start  # and not skipped either
        state.faults.raw_as_document = False
        await _until(lambda: len(state.posts_by("triagebot")) >= 1)
        await asyncio.sleep(0.3)
        stop.set()
        await task
        await services.aclose()
    replies = state.posts_by("triagebot")
    assert [p["topic_id"] for p in replies] == [topic["topic_id"]]
    assert poller.get_cursor(services) >= topic["id"]
    store.close()
