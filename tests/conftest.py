"""Shared fixtures: the local forum in-process (`forum`) and over loopback HTTP (`live_forum`).

Both give a `ForumHandle`: `.state` (arrange data, set `.state.faults`), `.api_key` of the bot
user `triagebot`, `.base_url`, `.http()` (an httpx.AsyncClient aimed at the forum) and
`.client(http)` (a DiscourseClient with test-speed pacing and retry delays). The forum's
admin-API limit is raised to 6000/min here so ordinary tests never wait; rate-limit tests set
their own with `state.configure_rate_limit`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.discourse.client import DiscourseClient, RetryPolicy
from bot.discourse.ratelimit import RateLimiter
from bot.forum_sim.app import create_app
from bot.forum_sim.server import serve
from bot.forum_sim.state import BOT_USERNAME, ForumState

TEST_RATE_LIMIT = 6000
FAST_RETRY = RetryPolicy(
    max_attempts=4, base_delay=0.01, max_delay=0.05, default_429_wait=0.05, slack_429=0.0
)


@dataclass
class ForumHandle:
    state: ForumState
    api_key: str
    base_url: str
    app: Any | None = None  # set for in-process handles

    def http(self, timeout: float = 5.0) -> httpx.AsyncClient:
        if self.app is not None:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.app), base_url=self.base_url, timeout=timeout
            )
        return httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    def client(
        self,
        http: httpx.AsyncClient,
        *,
        username: str = BOT_USERNAME,
        api_key: str | None = None,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
    ) -> DiscourseClient:
        return DiscourseClient(
            http,
            api_key=api_key or self.api_key,
            api_username=username,
            limiter=limiter or RateLimiter(per_minute=TEST_RATE_LIMIT),
            retry=retry or FAST_RETRY,
        )


def _new_state() -> tuple[ForumState, str]:
    state = ForumState(rate_limit_per_minute=TEST_RATE_LIMIT)
    return state, state.add_api_key(BOT_USERNAME)


@pytest.fixture
def forum() -> Iterator[ForumHandle]:
    state, key = _new_state()
    state.base_url = "http://forum.test"
    yield ForumHandle(state=state, api_key=key, base_url=state.base_url, app=create_app(state))
    state.close()


@pytest.fixture
def live_forum() -> Iterator[ForumHandle]:
    state, key = _new_state()
    with serve(state) as base_url:
        yield ForumHandle(state=state, api_key=key, base_url=base_url)
