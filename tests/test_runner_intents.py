"""Write-ahead intents: reconciliation after a crash at each point of a forum write."""

from __future__ import annotations

import pytest

from bot.runner.intents import execute_intent, marker, reconcile_pending, with_marker
from tests.runner_support import bot_posts, make_forum, make_services, make_store


@pytest.fixture
def env(tmp_path):
    state = make_forum()
    store = make_store(tmp_path)
    yield state, store
    store.close()
    state.close()


def _intent(store, topic_id: int, post_id: int, kind: str = "reply") -> int:  # type: ignore[no-untyped-def]
    with store.transaction():
        intent_id = store.add_intent(
            kind=kind,
            dedupe_key=f"reply:{topic_id}:x",
            topic_id=topic_id,
            post_id=post_id,
            issue="x",
            raw="The answer.",
            payload={"reply_to_post_number": 1},
        )
    assert intent_id is not None
    return intent_id


async def test_crash_after_post_landed_is_settled_without_posting_again(env):
    state, store = env
    post = state.create_topic("alice", "Question", "text")
    intent_id = _intent(store, post["topic_id"], post["id"])
    # The previous process marked the attempt and the forum created the post,
    # but the process died before recording the result.
    store.update_intent(intent_id, attempts=1)
    landed = state.create_post("triagebot", post["topic_id"], with_marker("The answer.", intent_id))
    services = make_services(state, store)
    (result,) = await reconcile_pending(services)
    await services.aclose()
    assert result.status == "done" and result.reconciled
    assert result.result_post_id == landed["id"]
    assert len(bot_posts(state)) == 1
    assert store.replies_in_topic(post["topic_id"])[0].reply_post_id == landed["id"]


async def test_crash_before_post_landed_posts_exactly_once(env):
    state, store = env
    post = state.create_topic("alice", "Question", "text")
    intent_id = _intent(store, post["topic_id"], post["id"])
    store.update_intent(intent_id, attempts=1)  # attempted, but nothing reached the forum
    services = make_services(state, store)
    first = await execute_intent(services, intent_id)
    second = await execute_intent(services, intent_id)
    await services.aclose()
    assert first.status == "done" and not first.reconciled
    assert second.status == "done"
    (reply,) = bot_posts(state)
    assert reply["raw"].endswith(marker(intent_id))


async def test_duplicate_dedupe_key_is_refused(env):
    _, store = env
    _intent(store, 1, 1)
    with store.transaction():
        again = store.add_intent(
            kind="reply", dedupe_key="reply:1:x", topic_id=1, post_id=2, issue="x", raw="r"
        )
    assert again is None


async def test_definite_failure_is_not_retried(env):
    state, store = env
    post = state.create_topic("alice", "Question", "text")
    state.close_topic(post["topic_id"])
    intent_id = _intent(store, post["topic_id"], post["id"])
    services = make_services(state, store)
    result = await execute_intent(services, intent_id)
    assert result.status == "failed"
    assert await reconcile_pending(services) == []
    await services.aclose()
    assert bot_posts(state) == []


async def test_staff_message_not_verifiable_after_memo_window_is_abandoned(env):
    state, store = env
    with store.transaction():
        intent_id = store.add_intent(
            kind="pm",
            dedupe_key="escalate:1:1",
            topic_id=0,
            post_id=1,
            issue=None,
            raw="A new problem",
            payload={"title": "New problem: something broke", "recipients": ["staff"]},
        )
    store.db["intents"].update(
        intent_id, {"attempts": 1, "updated_at": "2020-01-01T00:00:00.000000Z"}
    )
    services = make_services(state, store)
    result = await execute_intent(services, intent_id)
    await services.aclose()
    assert result.status == "abandoned" and bot_posts(state) == []


async def test_per_key_locks_serialise_and_are_forgotten(env):
    import asyncio

    state, store = env
    services = make_services(state, store)
    order: list[str] = []

    async def hold(name: str) -> None:
        async with services.lock("post:1:1"):
            order.append(f"{name}-in")
            await asyncio.sleep(0.01)
            order.append(f"{name}-out")

    await asyncio.gather(hold("a"), hold("b"))
    assert order == ["a-in", "a-out", "b-in", "b-out"]
    assert services._locks == {}  # a long-running bot does not accumulate locks
