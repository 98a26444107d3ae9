"""Benchmark: the Discourse client against the local forum (in-process and loopback).

Run: .venv/bin/python tests/bench/bench_client.py [--requests N]

Prints request throughput without limits, the paced run against the forum's real admin-API
limiter on a scaled window (requests beyond budget must be 0), and a run under injected faults
(5xx, dropped connections, malformed JSON, 429 bursts of every shape) with the client's counters.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from contextlib import nullcontext

import httpx

from bot.discourse.client import DiscourseClient, RetryPolicy
from bot.discourse.errors import DiscourseError
from bot.discourse.ratelimit import RateLimiter
from bot.forum_sim.app import create_app
from bot.forum_sim.server import serve
from bot.forum_sim.state import ForumState


def _state(per_minute: int, window: float) -> tuple[ForumState, str]:
    state = ForumState(rate_limit_per_minute=per_minute, rate_limit_window=window)
    key = state.add_api_key("triagebot")
    state.create_topic("alice", "Benchmark topic title", "first post body")
    for i in range(30):
        state.create_post("bob", 1, f"reply {i}")
    return state, key


async def _run(
    label: str,
    transport: str,
    total: int,
    *,
    per_minute: int,
    window: float,
    client_budget: int,
    faults: dict[str, object] | None = None,
    workers: int = 8,
) -> None:
    state, key = _state(per_minute, window)
    for name, value in (faults or {}).items():
        setattr(state.faults, name, value)
    ctx = serve(state) if transport == "loopback" else nullcontext("http://forum.test")
    with ctx as base_url:
        if transport == "loopback":
            http = httpx.AsyncClient(base_url=base_url, timeout=5)
        else:
            http = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(state)), base_url=base_url, timeout=5
            )
        async with http:
            client = DiscourseClient(
                http,
                api_key=key,
                api_username="triagebot",
                limiter=RateLimiter(per_minute=client_budget, window=window),
                retry=RetryPolicy(
                    max_attempts=8,
                    base_delay=0.005,
                    max_delay=0.05,
                    default_429_wait=0.05,
                    max_429_wait=0.05,
                    slack_429=0.0,
                ),  # fmt: skip
            )
            remaining = [total]
            failures = [0]

            async def worker() -> None:
                while remaining[0] > 0:
                    remaining[0] -= 1
                    try:
                        if remaining[0] % 10 == 0:
                            await client.get_topic(1)
                        else:
                            await client.latest_posts()
                    except DiscourseError:
                        failures[0] += 1

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(workers)))
            elapsed = time.perf_counter() - started
    s = client.stats
    print(
        f"{label:<34} {transport:<9} calls={total:<5} http_requests={s.requests:<5} "
        f"time={elapsed:6.2f}s rate={s.requests / elapsed:7.1f} req/s retries={s.retries:<4} "
        f"429s={s.rate_limited_429s:<3} 5xx={s.server_errors:<3} "
        f"transport={s.transport_errors:<3} malformed={s.malformed_responses:<3} "
        f"failed_calls={failures[0]} server_refusals={state.rate_limited_count}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    n = args.requests
    big = 10**9
    for transport in ("inprocess", "loopback"):
        await _run("unlimited", transport, n, per_minute=big, window=60, client_budget=big)
        await _run(
            "paced 100/0.25s vs real limiter", transport, n,
            per_minute=100, window=0.25, client_budget=100,
        )  # fmt: skip
        await _run(
            "faults: 10% 5xx, 5% drop, 5% bad", transport, n,
            per_minute=big, window=60, client_budget=big,
            faults={"error_rate_5xx": 0.10, "drop_connections": 0.05, "malformed_json": 0.05,
                    "burst_429": 5, "html_429": 5, "text_429": 5, "burst_wait_seconds": 0},
        )  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
