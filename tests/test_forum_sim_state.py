"""Local forum behaviour: seeding, visibility rules, moderation state, and `forum serve`."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from bot.errors import UserError
from bot.forum_sim.state import ForumState
from tests.runner_support import forum_process

ROOT = Path(__file__).resolve().parent.parent

THREADS = [
    {
        "id": "a",
        "title": "Quota exceeded on a new key",
        "posts": ["You exceeded your current quota", "Same here", "Check billing"],
        "authors": ["alice", "bob", "support1"],
        "staff_authors": ["support1"],
        "category": "API",
        "tags": ["billing"],
    },
    {"id": "b", "title": "Closed old thread", "posts": ["old question"], "closed": True},
    {"id": "c", "title": "Archived thread here", "posts": ["archived q"], "archived": True},
    {
        "id": "d",
        "title": "Whispers and actions",
        "posts": [
            "question body",
            {"raw": "staff-only note", "author": "support1", "post_type": 4},
            {"raw": "closed this topic", "author": "support1", "post_type": 3},
        ],
    },
]


def test_seed_builds_users_roles_categories_and_states():
    state = ForumState()
    ids = state.seed(THREADS)
    assert ids == [1, 2, 3, 4]
    assert state.user("support1").moderator and state.user("support1").staff
    assert "staff" in state.user_groups(state.user("support1"))
    assert state.topics[1].tags == ["billing"]
    assert state.categories[state.topics[1].category_id].name == "API"
    assert state.topics[2].closed and state.topics[3].archived
    assert [p["post_type"] for p in state.topic_posts(4)] == [1, 4, 3]
    assert [p["username"] for p in state.topic_posts(1)] == ["alice", "bob", "support1"]


def test_seed_rejects_bad_rows_with_one_line_errors(tmp_path):
    state = ForumState()
    with pytest.raises(UserError, match="missing 'title'"):
        state.seed([{"id": "x", "posts": ["a b"]}])
    with pytest.raises(UserError, match="non-empty list"):
        state.seed([{"id": "x", "title": "A title", "posts": []}])
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "ok title", "posts": ["fine"]}\n{not json\n')
    with pytest.raises(UserError, match="bad.jsonl:2: invalid JSON"):
        state.seed_from_jsonl(bad)
    with pytest.raises(UserError, match="not found"):
        state.seed_from_jsonl(tmp_path / "missing.jsonl")


async def test_latest_excludes_whispers_small_actions_and_pms(forum):
    forum.state.seed(THREADS)
    forum.state.create_topic("alice", "A private message", "pm text", archetype="private_message",
                             target_recipients=["staff"])  # fmt: skip
    async with forum.http() as http:
        client = forum.client(http)
        latest = await client.latest_posts()
        assert {p.raw for p in latest} >= {"question body", "old question"}
        assert not {"staff-only note", "closed this topic", "pm text"} & {p.raw for p in latest}
        topic = await client.get_topic(4)  # the bot is not staff: no whisper in the thread
        assert [p.post_type for p in topic.posts] == [1, 3]
        closed = await client.get_topic(2)
        assert closed.closed and not closed.archived
        assert (await client.get_topic(1)).posts[2].staff


async def test_private_messages_to_a_group_reach_its_members(forum):
    forum.state.add_user("mod", moderator=True)
    mod_key = forum.state.add_api_key("mod")
    async with forum.http() as http:
        bot = forum.client(http)
        pm = await bot.send_private_message("New error reported", "Details for staff", ["staff"])
        topic = forum.state.topics[pm.topic_id]
        assert topic.archetype == "private_message" and topic.allowed_groups == {"staff"}
        mod = forum.client(http, username="mod", api_key=mod_key)
        seen = await mod.get_topic(pm.topic_id)
        assert seen.is_private_message and seen.posts[0].raw == "Details for staff"
        forum.state.add_user("outsider")
        outsider = forum.client(
            http, username="outsider", api_key=forum.state.add_api_key("outsider")
        )
        from bot.discourse.errors import InvalidAccess

        with pytest.raises(InvalidAccess):
            await outsider.get_topic(pm.topic_id)


async def test_edit_bumps_version_and_delete_hides(forum):
    forum.state.seed(THREADS[:1])
    forum.state.edit_post(2, "Same here, edited")
    forum.state.delete_post(3)
    async with forum.http() as http:
        client = forum.client(http)
        post = await client.get_post(2)
        assert post.version == 2 and post.raw == "Same here, edited"
        assert [p.id for p in (await client.get_topic(1)).posts] == [1, 2]


async def test_flags_tags_and_anonymous_writes(forum):
    forum.state.seed(THREADS[:1])
    async with forum.http() as http:
        client = forum.client(http)
        await client.flag_post(1, "spam")
        await client.set_tags(1, ["billing", "Quota"])
        assert forum.state.flags[0]["flag"] == "spam" and forum.state.flags[0]["post_id"] == 1
        assert forum.state.topics[1].tags == ["billing", "quota"]
        from bot.discourse.errors import UnprocessableEntity

        with pytest.raises(UnprocessableEntity):
            await client.flag_post(2, "notify_moderators")  # message required
        r = await http.post("/posts.json", json={"topic_id": 1, "raw": "anonymous"})
        assert r.status_code == 403 and r.json()["error_type"] == "not_logged_in"


def test_api_key_bound_to_user_rejects_other_usernames():
    state = ForumState()
    key = state.add_api_key("triagebot")
    assert state.authenticate(key, "triagebot").username == "triagebot"
    from bot.forum_sim.state import ForumError

    with pytest.raises(ForumError) as exc:
        state.authenticate(key, "system")
    assert exc.value.status == 403 and exc.value.error_type == "invalid_access"
    any_user = state.add_api_key(None)
    assert state.authenticate(any_user, "system").admin


@pytest.mark.e2e
def test_forum_serve_prints_url_and_key(tmp_path):
    seed = tmp_path / "seed.jsonl"
    seed.write_text("\n".join(json.dumps(t) for t in THREADS) + "\n")
    with forum_process("--seed", str(seed)) as (url, key):
        r = httpx.get(f"{url}/posts.json", headers={"Api-Key": key, "Api-Username": "triagebot"})
        assert r.status_code == 200 and len(r.json()["latest_posts"]) >= 5
        bad = httpx.get(f"{url}/posts.json", headers={"Api-Key": "x", "Api-Username": "triagebot"})
        assert bad.status_code == 403


def test_forum_serve_bad_seed_is_one_line_error(tmp_path):
    from click.testing import CliRunner

    from bot.cli import cli

    result = CliRunner().invoke(cli, ["forum", "serve", "--seed", str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2
    assert "Seed file not found" in result.output
    assert "Traceback" not in result.output


def test_seed_errors_from_forum_rules_name_the_row():
    state = ForumState()
    with pytest.raises(UserError, match="Seed row w: .*whisper"):
        state.seed([{"id": "w", "title": "Whisper by a member", "posts": [
            "question", {"raw": "secret note", "author": "member", "post_type": 4}]}])  # fmt: skip
    with pytest.raises(UserError, match="Seed row 1: Title is too short"):
        state.seed([{"title": "x", "posts": ["body text"]}])
