"""The bot's behaviour where a real Discourse pushes back: 409 on edits, 429 on creates,
unlisted topics. The local forum runs over real HTTP on loopback; the real client talks to it.
"""

from __future__ import annotations

import pytest

from bot.discourse.errors import EditConflict

pytestmark = pytest.mark.e2e


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
