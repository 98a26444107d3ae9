"""Runner benchmark: request budget, exactly-once writes, webhook latency, 10,000-post run.

Plain script (not collected by pytest): `.venv/bin/python tests/bench/bench_runner.py`.
Everything runs against the local forum over loopback HTTP. The triager is the
rule-based test double, so the figures measure the runner, not the classifier.
"""

from __future__ import annotations

import asyncio
import math
import socket
import statistics
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.commands.bot_cmds import serve_forever  # noqa: E402
from bot.discourse.client import DiscourseClient  # noqa: E402
from bot.discourse.ratelimit import RateLimiter  # noqa: E402
from bot.forum_sim.server import serve  # noqa: E402
from bot.runner import poller  # noqa: E402
from bot.runner.intents import reconcile_pending  # noqa: E402
from bot.runner.services import Services  # noqa: E402
from tests.runner_support import make_forum, make_services, make_store  # noqa: E402

SCOPES = "Read only key fails: Request includes unauthorized scopes: api.all.read"


def _http_services(state, store, base_url, *, per_minute=60, window=60.0, **kw) -> Services:  # type: ignore[no-untyped-def]
    import httpx

    services = make_services(state, store, **kw)
    config = replace(services.config, forum_url=base_url, webhook_secret="bench-secret-123")
    services.config = config

    def factory() -> DiscourseClient:
        http = httpx.AsyncClient(base_url=base_url, timeout=httpx.Timeout(10.0, connect=5.0))
        client = DiscourseClient(
            http,
            api_key=config.api_key,
            api_username="triagebot",
            limiter=RateLimiter(per_minute=per_minute, window=window),
        )
        client.aclose = http.aclose  # type: ignore[attr-defined]
        return client

    services.client_factory = factory
    return services


def _count(state, method: str, path: str) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for m, p, _ in state.request_log if m == method and p == path)


async def bench_steady_state(tmp: Path) -> None:
    state = make_forum()
    store = make_store(tmp)
    with serve(state) as url:
        services = _http_services(state, store, url, per_minute=100_000, max_posts_per_hour=10**6)
        await poller.init_cursor(services, poller.StartSpec())
        state.request_log.clear()
        for _ in range(20):
            await poller.poll_once(services)
        idle = _count(state, "GET", "/posts.json")
        print(f"idle: {idle} GET /posts.json over 20 polls (target <= 20)")
        n_new, replies_wanted = 240, 0
        for i in range(n_new):
            if i % 8 == 0:
                state.create_topic("alice", f"Key error {i}", f"{SCOPES} {i}")
                replies_wanted += 1
            else:
                state.create_topic("bob", f"Chatter {i}", f"Thanks, all good {i}")
        state.request_log.clear()
        await poller.poll_once(services)
        await reconcile_pending(services)
        gets = _count(state, "GET", "/posts.json")
        posts = _count(state, "POST", "/posts.json")
        bot = len(state.posts_by("triagebot"))
        print(
            f"burst of {n_new} new posts in one poll: {gets} GET /posts.json "
            f"(target <= 1 + {math.ceil(n_new / 50)}), {posts} POST /posts.json for "
            f"{bot} replies ({replies_wanted} wanted), topic fetches "
            f"{sum(1 for m, p, _ in state.request_log if p.startswith('/t/'))}"
        )
        await services.aclose()
    store.close()


async def bench_burst_429(tmp: Path) -> None:
    """10x normal traffic under the default 60/min budget (time scaled 10x: 60 per 6 s)."""
    state = make_forum()
    window = 6.0
    state.configure_rate_limit(60, window=window)
    store = make_store(tmp)
    with serve(state) as url:
        services = _http_services(
            state, store, url, per_minute=60, window=window, max_posts_per_hour=10**6
        )
        await poller.init_cursor(services, poller.StartSpec())
        stop = asyncio.Event()
        task = asyncio.create_task(poller.run_loop(services, stop=stop, interval=0.3))
        # Normal: 4 error reports a minute (about 12 requests, a fifth of the budget);
        # the burst is 10x that at once, every one needing a topic fetch and a reply.
        n = 40
        for i in range(n):
            state.create_topic("alice", f"Burst key error {i}", f"{SCOPES} burst {i}")
        t0 = time.monotonic()
        while len(state.posts_by("triagebot")) < n and time.monotonic() - t0 < 120:
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - t0
        stop.set()
        await task
        await services.aclose()
        print(
            f"burst of {n} error reports (10x normal) at 60 req/{window:.0f}s: "
            f"{state.rate_limited_count} responses 429 (target 0), "
            f"{len(state.posts_by('triagebot'))} replies in {elapsed:.1f}s "
            f"(= {elapsed * 60 / window:.0f}s at the real 60 req/min)"
        )
    store.close()


async def bench_webhook_latency(tmp: Path) -> None:
    state = make_forum()
    store = make_store(tmp)
    with serve(state) as url:
        services = _http_services(state, store, url, per_minute=100_000, max_posts_per_hour=10**6)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        started, stop = asyncio.Event(), asyncio.Event()
        task = asyncio.create_task(
            serve_forever(
                services, host="127.0.0.1", port=0, interval=60.0, started=started, stop=stop,
                sockets=[sock],
            )
        )  # fmt: skip
        await started.wait()
        state.add_webhook(f"{bot_url}/webhooks/discourse", services.config.webhook_secret)
        lat = []
        for i in range(60):
            before = len(state.posts_by("triagebot"))
            t0 = time.monotonic()
            state.create_topic("alice", f"Webhook key error {i}", f"{SCOPES} w{i}")
            while len(state.posts_by("triagebot")) == before:
                await asyncio.sleep(0.002)
            lat.append((time.monotonic() - t0) * 1000)
        stop.set()
        await task
        q = statistics.quantiles(lat, n=20)
        print(
            f"webhook arrival -> reply posted: p50 {statistics.median(lat):.0f} ms, "
            f"p95 {q[18]:.0f} ms (target <= 300), max {max(lat):.0f} ms over {len(lat)}"
        )
    store.close()


async def bench_10k(tmp: Path) -> None:
    state = make_forum()
    store = make_store(tmp)
    n = 10_000
    with state._lock:
        for i in range(n):
            if i % 50 == 0:
                state.create_topic("alice", f"Key error {i}", f"{SCOPES} {i}")
            else:
                state.create_topic("bob", f"Chatter {i}", f"Nice thread number {i}")
    store.set_state(poller.CURSOR_KEY, "0")
    with serve(state) as url:
        services = _http_services(
            state, store, url, per_minute=100_000, max_posts_per_hour=10**6, concurrency=8
        )
        t0 = time.monotonic()
        stop = asyncio.Event()
        member = [p for p in state.posts.values() if state.users[p.user_id].username != "triagebot"]

        def check(_: poller.PollStats) -> None:
            if all(store.is_seen(p.id, p.version) for p in member):
                stop.set()

        # The same loop `triagebot run` drives (cursor, pages, intents, follow-ups).
        stats = await poller.run_loop(
            services, stop=stop, interval=0.05, start=poller.StartSpec(), on_poll=check
        )
        elapsed = time.monotonic() - t0
        await services.aclose()
    decided = Counter(r["post_id"] for r in store.db.query("SELECT post_id FROM decisions"))
    member_ids = {
        p.id for p in state.posts.values() if state.users[p.user_id].username != "triagebot"
    }
    undecided = member_ids - set(decided)
    twice = sum(1 for c in decided.values() if c > 1)
    replies = Counter(p["topic_id"] for p in state.posts_by("triagebot"))
    print(
        f"10,000 posts via run: {len(member_ids & set(decided))} decided, {len(undecided)} "
        f"undecided, {twice} decided twice, {sum(replies.values())} replies "
        f"({sum(1 for c in replies.values() if c > 1)} topics with >1) in {elapsed:.1f}s "
        f"({n / elapsed:.0f} posts/s), {stats.polls} polls"
    )
    store.close()


def main() -> None:
    import tempfile

    for bench in (bench_steady_state, bench_burst_429, bench_webhook_latency, bench_10k):
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(bench(Path(tmp)))


if __name__ == "__main__":
    main()
