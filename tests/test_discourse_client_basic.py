"""Client against the local forum, in-process: reading, writing and typed results."""

from __future__ import annotations

import pytest

from bot.discourse.errors import InvalidAccess, NotFound, UnprocessableEntity


@pytest.fixture
def seeded(forum):
    forum.state.seed(
        [
            {
                "id": "t1",
                "title": "Scoped key rejected",
                "posts": ["Request includes unauthorized scopes", "same here", "me too"],
                "authors": ["alice", "bob", "carol"],
                "tags": ["api"],
            }
        ]
    )
    return forum


async def test_latest_topic_post_and_identity(seeded):
    async with seeded.http() as http:
        client = seeded.client(http)
        latest = await client.latest_posts()
        assert [p.id for p in latest] == [3, 2, 1]
        assert latest[0].raw == "me too"
        topic = await client.get_topic(1)
        assert topic.title == "Scoped key rejected"
        assert topic.tags == ("api",)
        assert [p.raw for p in topic.posts] == [
            "Request includes unauthorized scopes",
            "same here",
            "me too",
        ]
        post = await client.get_post(2)
        assert post.username == "bob" and post.post_number == 2
        me = await client.me()
        assert me.username == "triagebot" and not me.staff


async def test_reply_is_memoized_and_typed_errors(seeded):
    async with seeded.http() as http:
        client = seeded.client(http)
        first = await client.create_post(1, "Known issue, see workaround", reply_to_post_number=1)
        again = await client.create_post(1, "Known issue, see workaround", reply_to_post_number=1)
        assert first.id == again.id
        assert first.raw == "Known issue, see workaround"
        assert len(seeded.state.posts_by("triagebot")) == 1
        with pytest.raises(UnprocessableEntity) as exc:
            await client.create_post(1, "Known issue, see workaround")  # differs: no reply_to
        assert exc.value.errors == ["Body is too similar to what you recently posted"]
        with pytest.raises(NotFound):
            await client.get_post(999)
    async with seeded.http() as http:
        bad = seeded.client(http, api_key="nope")
        with pytest.raises(InvalidAccess) as exc2:
            await bad.latest_posts()
        assert exc2.value.error_type == "invalid_access"
        assert exc2.value.status == 403
