"""Rate-limit shapes, 5xx, dropped connections, malformed bodies and timeouts.

Each scenario runs against the local forum in-process and over real loopback HTTP. Waits go
through a fake clock, so the tests assert the exact back-off the client chose without sleeping.
"""

from __future__ import annotations

import httpx
import pytest

from bot.discourse.client import RetryPolicy
from bot.discourse.errors import (
    InvalidAccess,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
    UnprocessableEntity,
)
from bot.discourse.ratelimit import RateLimiter

POLICY = RetryPolicy(
    max_attempts=4,
    base_delay=0.5,
    max_delay=4.0,
    default_429_wait=5.0,
    max_429_wait=60.0,
    slack_429=0.0,
    jitter=0.1,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(params=["inprocess", pytest.param("loopback", marks=pytest.mark.e2e)])
def any_forum(request):
    handle = request.getfixturevalue("forum" if request.param == "inprocess" else "live_forum")
    handle.state.seed(
        [{"id": "t", "title": "A seeded topic", "posts": ["first post", "second post"]}]
    )
    return handle


def make_client(handle, http, clock: FakeClock, policy: RetryPolicy = POLICY):
    from bot.discourse.client import DiscourseClient

    limiter = RateLimiter(per_minute=1000, clock=clock, sleep=clock.sleep)
    return DiscourseClient(
        http,
        api_key=handle.api_key,
        api_username="triagebot",
        limiter=limiter,
        retry=policy,
        sleep=clock.sleep,
    )


async def test_json_429_honours_wait_seconds(any_forum):
    any_forum.state.faults.burst_429 = 2
    any_forum.state.faults.burst_wait_seconds = 7
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        posts = await client.latest_posts()
    assert [p.id for p in posts] == [2, 1]
    assert client.stats.rate_limited_429s == 2
    assert client.stats.requests == 3
    assert len(clock.sleeps) == 2
    assert all(7.0 <= s <= 7.0 * 1.1 + 1e-9 for s in clock.sleeps)


async def test_text_plain_429_uses_retry_after(any_forum):
    any_forum.state.faults.text_429 = 1
    any_forum.state.faults.burst_wait_seconds = 3
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        await client.latest_posts()
    assert client.stats.rate_limited_429s == 1
    assert len(clock.sleeps) == 1 and 3.0 <= clock.sleeps[0] <= 3.3


async def test_html_429_without_retry_after_backs_off_by_default(any_forum):
    any_forum.state.faults.html_429 = 2
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        await client.latest_posts()
    assert client.stats.rate_limited_429s == 2
    # Default wait, doubling per attempt: ~5 s then ~10 s.
    assert 5.0 <= clock.sleeps[0] <= 5.5
    assert 10.0 <= clock.sleeps[1] <= 11.0


async def test_persistent_429_raises_rate_limited_after_bounded_attempts(any_forum):
    any_forum.state.faults.burst_429 = 100
    any_forum.state.faults.burst_wait_seconds = 2
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        with pytest.raises(RateLimited) as exc:
            await client.latest_posts()
    assert client.stats.requests == POLICY.max_attempts
    assert exc.value.status == 429
    assert exc.value.wait_seconds == 2
    assert exc.value.code == "admin_api_key_rate_limit"
    assert exc.value.error_type == "rate_limit"


async def test_5xx_retries_with_bounded_jittered_backoff(any_forum):
    any_forum.state.faults.error_rate_5xx = 1.0
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        with pytest.raises(ServerError) as exc:
            await client.get_topic(1)
    assert client.stats.requests == POLICY.max_attempts
    assert exc.value.status in (500, 502, 503)
    assert len(clock.sleeps) == POLICY.max_attempts - 1
    assert all(0 < s <= POLICY.max_delay for s in clock.sleeps)
    # exponential: each delay at least the previous one's lower bound doubled (within jitter)
    assert clock.sleeps[1] > clock.sleeps[0] and clock.sleeps[2] > clock.sleeps[1]


async def test_intermittent_5xx_recovers(any_forum):
    any_forum.state.faults.error_rate_5xx = 0.5
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock, RetryPolicy(max_attempts=10, slack_429=0))
        for _ in range(10):
            topic = await client.get_topic(1)
            assert [p.raw for p in topic.posts] == ["first post", "second post"]
    assert client.stats.server_errors > 0


async def test_dropped_connections_are_retried_and_never_double_post(any_forum):
    any_forum.state.faults.drop_connections = 0.5
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock, RetryPolicy(max_attempts=12, slack_429=0))
        for i in range(5):
            await client.create_post(1, f"reply number {i} from the bot")
    assert client.stats.transport_errors > 0
    raws = [p["raw"] for p in any_forum.state.posts_by("triagebot")]
    assert raws == [f"reply number {i} from the bot" for i in range(5)]


async def test_every_connection_dropped_raises_transport_error(any_forum):
    any_forum.state.faults.drop_connections = 1.0
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        with pytest.raises(TransportError):
            await client.latest_posts()
    assert client.stats.requests == POLICY.max_attempts


async def test_malformed_json_after_create_does_not_duplicate(any_forum):
    # The create succeeds on the forum but the response body is corrupted; the retry hits
    # Discourse's 120 s create memoizer and gets the same post back.
    any_forum.state.faults.malformed_json = 1.0
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        with pytest.raises(TransportError) as exc:
            await client.create_post(1, "an answer that must appear once")
        assert "not JSON" in str(exc.value)
        any_forum.state.faults.malformed_json = 0.0
        post = await client.create_post(1, "an answer that must appear once")
    mine = any_forum.state.posts_by("triagebot")
    assert [p["id"] for p in mine] == [post.id]
    assert client.stats.malformed_responses == POLICY.max_attempts


async def test_typed_errors_carry_discourse_messages(any_forum):
    clock = FakeClock()
    async with any_forum.http() as http:
        client = make_client(any_forum, http, clock)
        with pytest.raises(NotFound) as nf:
            await client.get_topic(404)
        assert nf.value.status == 404 and nf.value.error_type == "not_found"
        await client.create_post(1, "a canned answer body")
        with pytest.raises(UnprocessableEntity) as ue:
            await client.create_post(1, "a canned answer body", reply_to_post_number=2)
        assert "Body is too similar to what you recently posted" in ue.value.errors
        any_forum.state.close_topic(1)
        with pytest.raises(InvalidAccess):
            await client.create_post(1, "reply to a closed topic")
        bad = any_forum.client(http, api_key="0" * 64)
        with pytest.raises(InvalidAccess) as ia:
            await bad.me()
        assert ia.value.error_type == "invalid_access"
        assert "The API username or key is invalid." in ia.value.errors[0]
    assert client.stats.retries == 0  # 4xx are never retried


@pytest.mark.e2e
async def test_timeouts_retry_then_raise(live_forum):
    live_forum.state.seed([{"title": "Slow topic here", "posts": ["slow first post"]}])
    live_forum.state.faults.timeout_paths = ("/posts.json",)
    live_forum.state.faults.timeout_seconds = 0.6
    clock = FakeClock()
    async with httpx.AsyncClient(base_url=live_forum.base_url, timeout=0.15) as http:
        client = make_client(live_forum, http, clock, RetryPolicy(max_attempts=3, slack_429=0))
        with pytest.raises(TransportError) as exc:
            await client.latest_posts()
        assert "timed out" in str(exc.value)
        assert client.stats.transport_errors == 3
        topic = await client.get_topic(1)  # other paths are unaffected
        assert topic.posts[0].raw == "slow first post"


async def test_client_refuses_http_without_timeouts():
    from bot.discourse.client import DiscourseClient
    from bot.discourse.errors import DiscourseError

    async with httpx.AsyncClient(timeout=None) as http:
        with pytest.raises(DiscourseError):
            DiscourseClient(http, api_key="k", api_username="u")


async def test_per_action_429_delays_only_that_call():
    # One-off edge case (respx): a per-user posting limit must not stall the shared limiter.
    import respx

    clock = FakeClock()
    with respx.mock(base_url="http://forum.test") as mock:
        mock.post("/posts.json").side_effect = [
            httpx.Response(
                429,
                json={
                    "errors": ["slow down"],
                    "error_type": "rate_limit",
                    "extras": {"wait_seconds": 4},
                },  # fmt: skip
                headers={"Retry-After": "4", "Discourse-Rate-Limit-Error-Code": "create_post"},
            ),
            httpx.Response(200, json={"id": 9, "topic_id": 1, "post_number": 2}),
        ]
        async with httpx.AsyncClient(base_url="http://forum.test", timeout=5) as http:
            from bot.discourse.client import DiscourseClient

            limiter = RateLimiter(per_minute=1000, clock=clock, sleep=clock.sleep)
            client = DiscourseClient(
                http, api_key="k", api_username="bot", limiter=limiter, retry=POLICY,
                sleep=clock.sleep,
            )  # fmt: skip
            post = await client.create_post(1, "hello there")
    assert post.id == 9 and post.raw == "hello there"
    assert len(clock.sleeps) == 1 and 4.0 <= clock.sleeps[0] <= 4.4
    assert limiter.waited_seconds == 0  # the shared limiter was not paused


async def test_retry_after_http_date_falls_back_to_default():
    import respx

    clock = FakeClock()
    with respx.mock(base_url="http://forum.test") as mock:
        mock.get("/posts.json").side_effect = [
            httpx.Response(
                429, text="busy", headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}
            ),
            httpx.Response(200, json={"latest_posts": []}),
        ]
        async with httpx.AsyncClient(base_url="http://forum.test", timeout=5) as http:
            from bot.discourse.client import DiscourseClient

            limiter = RateLimiter(per_minute=1000, clock=clock, sleep=clock.sleep)
            client = DiscourseClient(
                http, api_key="k", api_username="bot", limiter=limiter, retry=POLICY,
                sleep=clock.sleep,
            )  # fmt: skip
            assert await client.latest_posts() == []
    assert 5.0 <= clock.sleeps[0] <= 5.5


async def test_html_429_flag_shapes_the_burst(forum):
    forum.state.seed([{"title": "A seeded topic", "posts": ["first post"]}])
    forum.state.faults.burst_429 = 1
    forum.state.faults.html_429 = True
    async with forum.http() as http:
        r = await http.get("/posts.json", headers={"Api-Key": forum.api_key})
        assert r.status_code == 429 and "nginx" in r.text and "retry-after" not in r.headers
        assert (
            await http.get("/posts.json", headers={"Api-Key": forum.api_key})
        ).status_code == 200


async def test_per_user_create_limit_waits_and_posts_once(forum):
    # Stock Discourse makes a non-staff user wait between posts; the 429 names `create_post`.
    clock = FakeClock()
    forum.state.clock = clock
    forum.state.rate_limit_create_post = 5.0
    forum.state.create_topic("alice", "A seeded topic", "first post")
    async with forum.http() as http:
        client = make_client(forum, http, clock)
        await client.create_post(1, "first answer from the bot")
        await client.create_post(1, "second answer from the bot")
    assert client.stats.rate_limited_429s == 1
    assert 5.0 <= clock.sleeps[0] <= 5.5
    assert [p["raw"] for p in forum.state.posts_by("triagebot")] == [
        "first answer from the bot",
        "second answer from the bot",
    ]


async def test_redirects_and_unusable_urls_fail_fast_with_one_line_errors():
    import respx

    from bot.discourse.client import DiscourseClient
    from bot.discourse.errors import DiscourseError

    with respx.mock(base_url="http://forum.test") as mock:
        mock.get("/posts.json").respond(302, headers={"Location": "http://forum.test/login"})
        async with httpx.AsyncClient(base_url="http://forum.test", timeout=5) as http:
            client = DiscourseClient(http, api_key="k", api_username="bot", retry=POLICY)
            with pytest.raises(DiscourseError, match="redirected"):
                await client.latest_posts()
            assert client.stats.requests == 1
    async with httpx.AsyncClient(base_url="forum.test", timeout=5) as http:
        client = DiscourseClient(http, api_key="k", api_username="bot", retry=POLICY)
        with pytest.raises(DiscourseError, match="not usable"):
            await client.latest_posts()
        assert client.stats.retries == 0


async def test_latency_fault_delays_responses(forum):
    import time

    forum.state.seed([{"title": "A seeded topic", "posts": ["first post"]}])
    forum.state.faults.latency = 0.15
    async with forum.http() as http:
        client = forum.client(http)
        started = time.perf_counter()
        await client.latest_posts()
        assert time.perf_counter() - started >= 0.15
