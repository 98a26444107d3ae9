"""`posts_since` closes gaps by paging `/posts.json?before=` and yields oldest first."""

from __future__ import annotations

import pytest


@pytest.fixture(params=["inprocess", pytest.param("loopback", marks=pytest.mark.e2e)])
def any_forum(request):
    return request.getfixturevalue("forum" if request.param == "inprocess" else "live_forum")


def _build(state, n_regular: int) -> list[int]:
    """A forum with regular posts interleaved with posts the feed must skip."""
    state.add_user("mod", moderator=True)
    first = state.create_topic("alice", "Busy public topic", "opening post")
    state.create_topic(
        "alice",
        "Private escalation",
        "pm body",
        archetype="private_message",
        target_recipients=["staff"],
    )
    pm_topic = 2
    public = [first["id"]]
    for i in range(n_regular - 1):
        public.append(state.create_post("bob", 1, f"regular reply {i}")["id"])
        if i % 7 == 0:
            state.create_post("mod", 1, f"whisper {i}", post_type=4)
        if i % 11 == 0:
            state.create_post("alice", pm_topic, f"pm reply {i}")
        if i % 13 == 0:
            state.create_post("mod", 1, f"closed the topic {i}", post_type=3)
    return public


@pytest.mark.parametrize("after_fraction", [0.0, 0.3, 0.97])
async def test_posts_since_walks_back_across_pages(any_forum, after_fraction):
    forum = any_forum
    public = _build(forum.state, 180)
    after_id = public[int(len(public) * after_fraction)] if after_fraction else 0
    expected = [i for i in public if i > after_id]
    async with forum.http() as http:
        client = forum.client(http)
        got = [p async for p in client.posts_since(after_id)]
    assert [p.id for p in got] == expected
    assert all(p.is_regular for p in got)
    # Each page holds at most 50; no page is fetched twice.
    pages = client.stats.requests
    assert pages <= len(expected) // 50 + 2


async def test_latest_page_is_50_newest_first_and_before_pages(forum):
    public = _build(forum.state, 120)
    async with forum.http() as http:
        client = forum.client(http)
        page1 = await client.latest_posts()
        page2 = await client.latest_posts(before=page1[-1].id)
    assert len(page1) == 50
    assert [p.id for p in page1] == sorted(public, reverse=True)[:50]
    assert [p.id for p in page2] == sorted(public, reverse=True)[50:100]


async def test_posts_since_current_mark_yields_nothing_in_one_request(forum):
    public = _build(forum.state, 60)
    async with forum.http() as http:
        client = forum.client(http)
        got = [p async for p in client.posts_since(max(public))]
    assert got == []
    assert client.stats.requests == 1


async def test_get_topic_fetches_long_topics_in_batches(any_forum):
    forum = any_forum
    forum.state.create_topic("alice", "A very long topic", "post zero")
    for i in range(1, 65):
        forum.state.create_post("bob", 1, f"post {i}")
    async with forum.http() as http:
        client = forum.client(http)
        topic = await client.get_topic(1)
    assert [p.raw for p in topic.posts] == ["post zero"] + [f"post {i}" for i in range(1, 65)]
    # 1 topic request + ceil(65 / 20) batches of post_ids with raw
    assert client.stats.requests == 1 + 4
    assert all(p.topic_title == "A very long topic" for p in topic.posts)
