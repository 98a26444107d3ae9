"""Building the real forum client from the configuration."""

from __future__ import annotations

import httpx

from bot.config import Config
from bot.discourse.client import DiscourseClient
from bot.discourse.ratelimit import RateLimiter
from bot.errors import UserError


class ForumConfigError(UserError):
    """The forum connection is not configured."""


class OwnedClient(DiscourseClient):
    """A DiscourseClient that also owns (and closes) its httpx client."""

    async def aclose(self) -> None:
        await self._http.aclose()


def make_client(config: Config, *, timeout: float = 20.0) -> OwnedClient:
    if not config.forum_url:
        raise ForumConfigError("forum_url: not set (TRIAGEBOT_FORUM_URL or triagebot.toml)")
    if not config.api_key:
        raise ForumConfigError("api_key: not set (TRIAGEBOT_API_KEY or api_key_file)")
    http = httpx.AsyncClient(
        base_url=config.forum_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=5.0),
        limits=httpx.Limits(max_connections=max(4, config.concurrency * 2)),
    )
    return OwnedClient(
        http,
        api_key=config.api_key,
        api_username=config.api_username,
        limiter=RateLimiter(per_minute=config.rate_limit_per_min),
    )
