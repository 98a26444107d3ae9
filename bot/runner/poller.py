"""Watching `/posts.json`: a persisted cursor, gap closing, bounded concurrency.

The cursor is the highest post id below which every post is decided. It moves
only past posts whose decision is committed, so a crash or a failed post is
picked up again on the next poll (`seen_posts` makes re-processing a no-op).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.discourse.errors import (
    DiscourseError,
    InvalidAccess,
    NotFound,
    RateLimited,
    ServerError,
    TransportError,
)
from bot.discourse.models import Post
from bot.errors import UserError
from bot.runner.followups import run_followups
from bot.runner.intents import reconcile_pending
from bot.runner.pipeline import Outcome, process_post, record_decision
from bot.runner.services import Services, issues_version

log = logging.getLogger(__name__)
CURSOR_KEY = "poll.cursor"
STALE_INTENT = 20.0  # seconds before the loop retries a pending write it did not start
MAX_FAILURES = 5  # a post failing this often is recorded as an error, not retried forever


class PollerError(UserError):
    """A bad start option (e.g. an unparsable --since date)."""


class ForumUnusable(UserError):
    """The forum cannot be used: a permanent refusal, or still unreachable after retries.

    Exit code 2 when a setting is wrong (the key, the URL), 1 when the forum is down.
    """

    def __init__(self, message: str, *, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the network, the forum's 5xx, a rate limit. Not a 403 or a bad URL."""
    return isinstance(exc, TransportError | ServerError | RateLimited | OSError)


def is_refusal(exc: BaseException) -> bool:
    """The forum refuses the bot for good: the key or user (401/403), or not the forum
    at that URL (404)."""
    return isinstance(exc, InvalidAccess | NotFound)


def unusable(exc: BaseException, attempts: int | None = None) -> ForumUnusable:
    if is_transient(exc):
        tries = f" after {attempts} attempt(s)" if attempts else ""
        return ForumUnusable(f"forum: not reachable{tries}: {exc}", exit_code=1)
    hint = ""
    if isinstance(exc, InvalidAccess):
        hint = " (check TRIAGEBOT_API_KEY and api_username)"
    elif isinstance(exc, NotFound):
        hint = " (is forum_url the forum's base URL?)"
    return ForumUnusable(f"forum: {exc}{hint}", exit_code=2)


@dataclass(frozen=True)
class StartSpec:
    backfill: int | None = None  # this many recent posts
    since: str | None = None  # ISO date/time: posts created at or after it


@dataclass
class PollStats:
    polls: int = 0
    fetched: int = 0
    decided: int = 0
    failed: int = 0
    outcomes: list[Outcome] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)


def parse_since(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise PollerError(f"--since: not an ISO date/time: {text!r}") from None
    if value.tzinfo is None:
        from datetime import UTC

        value = value.replace(tzinfo=UTC)
    return value


def get_cursor(services: Services) -> int | None:
    raw = services.store.get_state(CURSOR_KEY)
    return int(raw) if raw is not None else None


def set_cursor(services: Services, value: int) -> None:
    services.store.set_state(CURSOR_KEY, str(value))


async def init_cursor(services: Services, start: StartSpec) -> int:
    """The cursor to start from; on a first start, 'now' unless told to backfill."""
    current = get_cursor(services)
    if current is not None and start.backfill is None and start.since is None:
        return current
    client = services.client()
    page = await client.latest_posts()
    if not page:
        cursor = 0
    elif start.backfill is None and start.since is None:
        cursor = max(p.id for p in page)
    else:
        since = parse_since(start.since) if start.since else None
        seen: list[Post] = []
        before: int | None = None
        while page:
            seen.extend(page)
            if start.backfill is not None and len(seen) >= start.backfill:
                break
            if since is not None and any(_created(p) < since for p in page):
                break
            before = min(p.id for p in page)
            page = await client.latest_posts(before=before)
        seen.sort(key=lambda p: p.id, reverse=True)
        if start.backfill is not None:
            chosen = seen[: start.backfill]
        else:
            chosen = [p for p in seen if since is not None and _created(p) >= since]
        cursor = (min(p.id for p in chosen) - 1) if chosen else max(p.id for p in seen)
        if current is not None:
            cursor = min(cursor, current)
    set_cursor(services, cursor)
    return cursor


def _created(post: Post) -> datetime:
    try:
        return parse_since(post.created_at or "")
    except PollerError:
        return datetime.max.replace(tzinfo=parse_since("2000-01-01").tzinfo)


async def poll_once(
    services: Services,
    stats: PollStats | None = None,
    *,
    stop: asyncio.Event | None = None,
    keep_outcomes: bool = False,
) -> PollStats:
    """Fetch everything after the cursor and decide it; advance the cursor safely."""
    stats = stats if stats is not None else PollStats()
    cursor = get_cursor(services) or 0
    client = services.client()
    try:
        posts = [p async for p in client.posts_since(cursor)]
    except DiscourseError as exc:
        # Listing posts is what the bot is for: if the forum refuses it for good
        # (a revoked key, a wrong URL), waiting for the next poll changes nothing. A
        # response it cannot read is not a refusal: the cursor holds and the next poll
        # tries again, so no post is skipped.
        if is_refusal(exc):
            raise unusable(exc) from None
        raise
    stats.polls += 1
    stats.fetched += len(posts)
    if not posts:
        return stats
    sem = asyncio.Semaphore(max(1, services.config.concurrency))
    done: dict[int, bool] = {}

    async def one(post: Post) -> None:
        async with sem:
            if stop is not None and stop.is_set():
                done[post.id] = False
                return
            try:
                outcome = await process_post(services, post)
            except Exception as exc:  # noqa: BLE001 - one bad post must not stop the bot
                fails = stats.failures.get(post.id, 0) + 1
                stats.failures[post.id] = fails
                stats.failed += 1
                log.warning("post %s not decided (%s), attempt %s", post.id, exc, fails)
                done[post.id] = fails >= MAX_FAILURES and _record_error(services, post, exc)
                return
            stats.decided += outcome.status == "decided"
            if keep_outcomes:
                stats.outcomes.append(outcome)
            done[post.id] = True

    # Shielded: a cancelled poll still lets the posts in hand commit or roll back.
    await asyncio.shield(asyncio.gather(*(one(p) for p in posts)))
    new_cursor = cursor
    for post in posts:  # oldest first: stop at the first post not decided
        if not done.get(post.id):
            break
        new_cursor = post.id
    if new_cursor != cursor:
        set_cursor(services, new_cursor)
    return stats


def _record_error(services: Services, post: Post, exc: Exception) -> bool:
    outcome = record_decision(
        services, post, None, "skip", [f"error: {exc}"[:300]], post.topic_title or ""
    )
    return outcome.status in ("decided", "seen")


async def run_loop(
    services: Services,
    *,
    stop: asyncio.Event,
    interval: float,
    start: StartSpec = StartSpec(),
    on_poll: Callable[[PollStats], None] | None = None,
    start_attempts: int | None = None,
    fail_fast: bool = False,
) -> PollStats:
    """Poll until `stop` is set; reconcile pending writes first and after every poll.

    A permanent error from the forum (the key refused, a URL that is not the forum)
    ends the loop with ForumUnusable at any time; a transient one at start is retried
    `start_attempts` times (None: until stopped). `fail_fast` (a single `--once` pass)
    turns any forum error into ForumUnusable rather than a warning.
    """
    stats = PollStats()
    await _retrying(lambda: init_cursor(services, start), stop, interval, start_attempts)
    await _retrying(lambda: reconcile_pending(services), stop, interval, start_attempts)
    while not stop.is_set():
        try:
            await poll_once(services, stats, stop=stop)
            await reconcile_pending(services, min_age=STALE_INTENT)
            await run_followups(services)
            await reload_triager_if_issues_changed(services)
        except ForumUnusable:
            raise
        except (DiscourseError, OSError) as exc:
            if fail_fast:
                raise unusable(exc) from None
            log.warning("poll failed: %s", exc)
        except Exception:  # noqa: BLE001 - keep watching; the next poll retries
            log.exception("poll failed")
        if on_poll is not None:
            on_poll(stats)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
    return stats


async def reload_triager_if_issues_changed(services: Services) -> bool:
    """Pick up maintainers' edits: rebuild the triager when a known issue changed."""
    if services.triager_builder is None:
        return False
    version = issues_version(services.store)
    if version == services.issues_version:
        return False
    issues = services.store.list_issues()
    services.triager = await asyncio.to_thread(services.triager_builder, issues)
    services.issues_version = version
    log.info("known issues changed; triager rebuilt")
    return True


async def _retrying(make, stop: asyncio.Event, interval: float, attempts: int | None) -> None:  # type: ignore[no-untyped-def]
    tried = 0
    while not stop.is_set():
        try:
            await make()
            return
        except (DiscourseError, OSError) as exc:
            tried += 1
            if not is_transient(exc) or (attempts is not None and tried >= attempts):
                raise unusable(exc, tried) from None
            log.warning("forum not reachable yet: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
