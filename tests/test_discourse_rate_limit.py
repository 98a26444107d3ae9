"""The client's pacing against the forum's real admin-API limiter, on a scaled-down window.

Both sides run their production limiter code; only the window shrinks from 60 s to 0.25 s.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.discourse.client import RetryPolicy
from bot.discourse.errors import RateLimited
from bot.discourse.ratelimit import RateLimiter, SlidingWindow

BUDGET = 100
WINDOW = 0.25


async def _drive(handle, total: int, workers: int) -> tuple[object, float]:
    handle.state.configure_rate_limit(BUDGET, WINDOW)
    handle.state.create_topic("alice", "Rate limited topic", "first post body")
    async with handle.http() as http:
        client = handle.client(
            http, limiter=RateLimiter(per_minute=BUDGET, window=WINDOW), retry=RetryPolicy()
        )
        queue = list(range(total))

        async def worker() -> None:
            while queue:
                queue.pop()
                await client.get_post(1)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(workers)))
        return client, time.perf_counter() - started


async def test_thousand_requests_within_budget_in_process(forum):
    client, elapsed = await _drive(forum, 1000, workers=8)
    assert client.stats.requests == 1000
    assert client.stats.rate_limited_429s == 0
    assert forum.state.rate_limited_count == 0
    # Pacing really happened: 1000 requests at 100 per 0.25 s need at least 9 full windows.
    assert elapsed >= (1000 / BUDGET - 1) * WINDOW


@pytest.mark.e2e
async def test_requests_within_budget_over_loopback(live_forum):
    client, elapsed = await _drive(live_forum, 400, workers=8)
    assert client.stats.requests == 400
    assert client.stats.rate_limited_429s == 0
    assert live_forum.state.rate_limited_count == 0
    assert elapsed >= (400 / BUDGET - 1) * WINDOW


async def test_unpaced_client_hits_the_forum_limit(forum):
    forum.state.configure_rate_limit(10, 60.0)
    forum.state.create_topic("alice", "Rate limited topic", "first post body")
    async with forum.http() as http:
        client = forum.client(
            http,
            limiter=RateLimiter(per_minute=1000),
            retry=RetryPolicy(max_attempts=1),
        )
        for _ in range(10):
            await client.get_post(1)
        with pytest.raises(RateLimited) as exc:
            await client.get_post(1)
    assert exc.value.code == "admin_api_key_rate_limit"
    assert exc.value.wait_seconds is not None and 1 <= exc.value.wait_seconds <= 60
    assert forum.state.rate_limited_count == 1


async def test_limiter_waits_on_fake_clock():
    now = [0.0]
    slept: list[float] = []

    async def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(per_minute=3, window=60.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        async with limiter.slot():
            pass
    async with limiter.slot():
        pass
    assert slept == [pytest.approx(60.0)]
    limiter.pause_for(5)
    async with limiter.slot():
        pass
    assert slept[-1] == pytest.approx(5.0)


def test_sliding_window_reports_wait():
    now = [0.0]
    window = SlidingWindow(2, 10.0, clock=lambda: now[0])
    assert window.try_acquire() == (True, 0.0)
    now[0] = 4.0
    assert window.try_acquire() == (True, 0.0)
    allowed, wait = window.try_acquire()
    assert not allowed and wait == pytest.approx(6.0)
    now[0] = 10.0
    assert window.try_acquire()[0]
