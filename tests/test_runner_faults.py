"""Forum faults (429 bursts, 5xx, dropped connections, malformed JSON) end fully processed."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.runner import intents, poller
from tests.runner_support import make_forum, make_services, make_store

SCOPES = "Read only key fails: Request includes unauthorized scopes: api.all.read"


def _arrange(state) -> list[int]:  # type: ignore[no-untyped-def]
    topics = []
    for i in range(12):
        topics.append(state.create_topic("alice", f"Key error {i}", f"{SCOPES} #{i}")["topic_id"])
        state.create_topic("bob", f"Chatter {i}", f"Thanks all {i}")
        state.create_topic("carol", f"Odd failure {i}", f"ERR_NEW_FAULTY happened {i}")
    return topics


async def _drain(services, state, rounds: int = 80) -> int:  # type: ignore[no-untyped-def]
    stats = poller.PollStats()
    for n in range(rounds):
        try:
            await poller.poll_once(services, stats)
            await intents.reconcile_pending(services)
        except Exception:  # noqa: BLE001 - a failed poll is retried, as run_loop does
            pass
        member = [p for p in state.posts.values() if state.users[p.user_id].username != "triagebot"]
        if all(services.store.is_seen(p.id, p.version) for p in member) and not (
            services.store.pending_intents()
        ):
            return n
    raise AssertionError("not everything was processed")


@pytest.mark.parametrize(
    "faults",
    [
        {"burst_429": 25, "burst_wait_seconds": 0},
        {"text_429": 10, "html_429": 10},
        {"error_rate_5xx": 0.35},
        {"drop_connections": 0.3},
        {"malformed_json": 0.3},
        {"error_rate_5xx": 0.15, "drop_connections": 0.15, "malformed_json": 0.15},
    ],
    ids=["json429", "text+html429", "5xx", "drops", "malformed", "mixed"],
)
async def test_faults_end_with_everything_processed_once(tmp_path, faults):
    state = make_forum()
    store = make_store(tmp_path)
    topics = _arrange(state)
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(state, store, max_posts_per_hour=1000)
    for name, value in faults.items():
        setattr(state.faults, name, value)
    try:
        await _drain(services, state)
    finally:
        state.faults.clear()
        await services.aclose()
    bot = state.posts_by("triagebot")
    per_topic = Counter(p["topic_id"] for p in bot if p["archetype"] != "private_message")
    assert set(per_topic) == set(topics)
    assert max(per_topic.values()) == 1
    decided = Counter(r["post_id"] for r in store.db.query("SELECT post_id FROM decisions"))
    assert max(decided.values()) == 1
    pms = [p for p in bot if p["archetype"] == "private_message"]
    assert len(pms) == 3  # staff hear once when it appears, then at sizes 3 and 10
    cluster = store.list_clusters("open")
    assert len(cluster) == 1 and cluster[0].count == 12
    store.close()
