"""Async Discourse API client over an injected `httpx.AsyncClient`.

Paces requests below the site-wide admin-API budget, honours every 429 shape Discourse
produces (JSON `extras.wait_seconds`, `Retry-After`, bare HTML/text), retries 5xx, timeouts and
connection errors with bounded jittered back-off, and raises typed errors for other 4xx.
Creates are safe to retry: Discourse memoizes identical API creates for 120 s, and the request
body is built deterministically so a retry is byte-identical.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import httpx

from bot.discourse.errors import (
    DiscourseError,
    EditConflict,
    RateLimited,
    ServerError,
    TransportError,
    error_for_status,
)
from bot.discourse.models import Post, Topic, User
from bot.discourse.ratelimit import RateLimiter, Sleep

LATEST_PAGE_SIZE = 50
TOPIC_POSTS_BATCH = 20
USER_AGENT = "triagebot (+discourse client)"
CREATE_SPACING_MARGIN = 0.1  # seconds added to a learned create spacing (response latency)
SITE_WIDE_429_CODES = frozenset({"admin_api_key_rate_limit", "global_rate_limit"})
DEFAULT_FLAG_IDS = {
    "off_topic": 3,
    "inappropriate": 4,
    "notify_user": 6,
    "notify_moderators": 7,
    "spam": 8,
    "illegal": 10,
}


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds for retrying. Delays are seconds; attempts include the first try."""

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    default_429_wait: float = 10.0
    max_429_wait: float = 120.0
    slack_429: float = 1.0
    jitter: float = 0.25

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full-jitter exponential delay for retry number `attempt` (1-based)."""
        cap = min(self.max_delay, self.base_delay * (2.0 ** (attempt - 1)))
        return cap * (1 - self.jitter) + rng.uniform(0, cap * self.jitter)

    def wait_for_429(self, hint: float | None, attempt: int, rng: random.Random) -> float:
        if hint is None:
            hint = min(self.max_429_wait, self.default_429_wait * (2 ** (attempt - 1)))
        base = min(self.max_429_wait, max(0.0, hint)) + self.slack_429
        return base + rng.uniform(0, self.jitter * max(base, 0.01))


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited_429s: int = 0
    server_errors: int = 0
    transport_errors: int = 0
    malformed_responses: int = 0
    waited_seconds: float = 0.0


def _error_body(response: httpx.Response) -> tuple[list[str], str | None, dict[str, Any]]:
    try:
        data = response.json()
    except (ValueError, UnicodeDecodeError):
        text = response.text.strip().splitlines()
        return ([text[0][:200]] if text else []), None, {}
    if not isinstance(data, dict):
        return [], None, {}
    errors = data.get("errors")
    errors_list = [str(e) for e in errors] if isinstance(errors, list) else []
    if isinstance(errors, str):
        errors_list = [errors]
    given = data.get("extras")
    extras: dict[str, Any] = given if isinstance(given, dict) else {}
    error_type = data.get("error_type")
    return errors_list, error_type if isinstance(error_type, str) else None, extras


def retry_after_hint(response: httpx.Response) -> float | None:
    """Wait suggested by a 429: JSON `extras.wait_seconds`, else `Retry-After`, else None."""
    _, _, extras = _error_body(response)
    wait = extras.get("wait_seconds")
    if isinstance(wait, int | float) and not isinstance(wait, bool) and wait >= 0:
        return float(wait)
    header = response.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header.strip()))
        except ValueError:
            return None  # HTTP-date form: Discourse never sends it; fall back to default
    return None


class DiscourseClient:
    """One Discourse site, acting as `api_username` with an admin API key."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: str,
        api_username: str,
        limiter: RateLimiter | None = None,
        retry: RetryPolicy | None = None,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        timeout = http.timeout
        if timeout.connect is None or timeout.read is None:
            raise DiscourseError("The HTTP client for Discourse must have connect/read timeouts")
        if not api_key or not api_username:
            raise DiscourseError("A Discourse API key and API username are required")
        self._http = http
        self._headers = {
            "Api-Key": api_key,
            "Api-Username": api_username,
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
        }
        self.api_username = api_username
        self.limiter = limiter if limiter is not None else RateLimiter()
        self.retry = retry if retry is not None else RetryPolicy()
        self._sleep = sleep
        self._rng = rng if rng is not None else random.Random()
        self._site: dict[str, Any] | None = None
        # Read-modify-write rounds an edit gets when others keep editing the same post/topic.
        self.edit_attempts = 3
        # A non-staff bot meets the forum's per-user create limit (`rate_limit_create_post`,
        # 5 s on a stock forum). The first 429 teaches the spacing; later creates wait it out
        # up front instead of each being refused once.
        self.create_spacing = 0.0
        self._last_create_at: float | None = None
        self._next_create_at = 0.0
        self.stats = ClientStats()

    # ---- transport ---------------------------------------------------------------------

    async def _pause(self, seconds: float) -> None:
        self.stats.waited_seconds += seconds
        await self._sleep(seconds)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: dict[str, Any] | None = None,
    ) -> Any:
        """Send one API call with pacing and bounded retries; return the decoded JSON."""
        content = None
        headers = dict(self._headers)
        if json_body is not None:
            # Deterministic bytes: a retried create must hash the same on the server's memoizer.
            content = json.dumps(json_body, sort_keys=True, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        policy = self.retry
        is_create = method == "POST" and path == "/posts.json"
        if is_create:
            await self._pace_create()
        last_error: DiscourseError | None = None
        for attempt in range(1, max(1, policy.max_attempts) + 1):
            if attempt > 1:
                self.stats.retries += 1
            try:
                async with self.limiter.slot():
                    self.stats.requests += 1
                    response = await self._http.request(
                        method, path, params=params, content=content, headers=headers
                    )
            except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                raise DiscourseError(
                    f"Discourse URL is not usable for {method} {path}: {exc}"
                ) from None
            except httpx.RequestError as exc:
                self.stats.transport_errors += 1
                kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
                last_error = TransportError(
                    f"Discourse {method} {path} {kind}: {type(exc).__name__}"
                )
                if attempt < policy.max_attempts:
                    await self._pause(policy.backoff(attempt, self._rng))
                continue

            status = response.status_code
            if status == 429:
                self.stats.rate_limited_429s += 1
                errors, error_type, extras = _error_body(response)
                hint = retry_after_hint(response)
                wait = policy.wait_for_429(hint, attempt, self._rng)
                code = response.headers.get("Discourse-Rate-Limit-Error-Code")
                last_error = RateLimited(
                    f"Discourse rate limit on {method} {path}"
                    + (f": {errors[0]}" if errors else ""),
                    status=429,
                    errors=errors,
                    error_type=error_type or "rate_limit",
                    extras=extras,
                    wait_seconds=hint,
                    code=code,
                )
                # Core sets the error-code header only for its site-wide limiters; a JSON
                # rate_limit body without it is a per-user content limiter (posting too fast).
                # A body that is not JSON (nginx, the request tracker) is site-wide.
                site_wide = (
                    code in SITE_WIDE_429_CODES if code is not None else error_type is None
                ) or (code or "").startswith("ip_")
                if is_create and not site_wide:
                    self._learn_create_spacing(hint if hint is not None else wait)
                if attempt < policy.max_attempts:
                    if site_wide:
                        # Site-wide limits stall every worker that shares this limiter.
                        self.limiter.pause_for(wait)
                        self.stats.waited_seconds += wait
                    elif is_create:
                        # Concurrent creates queue up behind each other at the learned spacing
                        # rather than all retrying at the same moment.
                        await self._pace_create(at_least=wait)
                    else:
                        # A per-user/per-action limit delays this call only.
                        await self._pause(wait)
                continue
            if status >= 500:
                self.stats.server_errors += 1
                errors, error_type, extras = _error_body(response)
                last_error = ServerError(
                    f"Discourse {method} {path} failed with HTTP {status}"
                    + (f": {errors[0]}" if errors else ""),
                    status=status,
                    errors=errors,
                    error_type=error_type,
                    extras=extras,
                )
                if attempt < policy.max_attempts:
                    await self._pause(policy.backoff(attempt, self._rng))
                continue
            if 300 <= status < 400:
                raise DiscourseError(
                    f"Discourse {method} {path} redirected (HTTP {status}) to "
                    f"{response.headers.get('location', '?')}: wrong forum URL or a login wall",
                    status=status,
                )
            if status >= 400:
                errors, error_type, extras = _error_body(response)
                cls = error_for_status(status)
                detail = "; ".join(errors) if errors else (error_type or "no details")
                detail = detail if len(detail) <= 300 else detail[:297] + "..."
                raise cls(
                    f"Discourse {method} {path} returned HTTP {status}: {detail}",
                    status=status,
                    errors=errors,
                    error_type=error_type,
                    extras=extras,
                )
            if status == 204 or not response.content:
                return {}
            try:
                data = response.json()
            except (ValueError, UnicodeDecodeError):
                self.stats.malformed_responses += 1
                last_error = TransportError(
                    f"Discourse {method} {path} returned a body that is not JSON "
                    f"(HTTP {status}, {response.headers.get('content-type', 'no content type')})",
                    status=status,
                )
                if attempt < policy.max_attempts:
                    await self._pause(policy.backoff(attempt, self._rng))
                continue
            if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
                # Some endpoints report failure inside a 200.
                raise DiscourseError(
                    f"Discourse {method} {path} reported: {'; '.join(map(str, data['errors']))}",
                    status=status,
                    errors=[str(e) for e in data["errors"]],
                    error_type=data.get("error_type"),
                )
            if is_create:
                self._last_create_at = self.limiter.now()
            return data
        assert last_error is not None
        raise last_error

    def _learn_create_spacing(self, wait: float) -> None:
        """The forum refused a create `wait` s before it allows one: its interval is at least
        the time since our last create plus that wait (plus a margin for response latency)."""
        since = 0.0
        if self._last_create_at is not None:
            since = max(0.0, self.limiter.now() - self._last_create_at)
        spacing = min(self.retry.max_429_wait, since + max(0.0, wait) + CREATE_SPACING_MARGIN)
        self.create_spacing = max(self.create_spacing, spacing)

    async def _pace_create(self, at_least: float = 0.0) -> None:
        """Wait for this create's turn: `create_spacing` after the previous one (sent or
        reserved), and at least `at_least` seconds from now."""
        now = self.limiter.now()
        at = now + max(0.0, at_least)
        if self.create_spacing > 0:
            if self._last_create_at is not None:
                at = max(at, self._last_create_at + self.create_spacing)
            at = max(at, self._next_create_at)
            self._next_create_at = at + self.create_spacing
        if at > now:
            await self._pause(at - now)

    # ---- reading -----------------------------------------------------------------------

    async def latest_posts(self, before: int | None = None) -> list[Post]:
        """One page (up to 50) of the newest regular public posts, newest first."""
        params = {"before": before} if before is not None else None
        data = await self.request("GET", "/posts.json", params=params)
        items = data.get("latest_posts") if isinstance(data, dict) else None
        if not isinstance(items, list):
            raise DiscourseError(
                "Malformed answer from Discourse to GET /posts.json: no latest_posts"
            )
        return [
            Post.from_json(p, require_raw=True) for p in items if isinstance(p, dict) and "id" in p
        ]

    async def posts_since(
        self, after_id: int, *, max_pages: int | None = None
    ) -> AsyncIterator[Post]:
        """Every post with id > after_id, oldest first, paging back with `before` to close gaps."""
        collected: dict[int, Post] = {}
        before: int | None = None
        pages = 0
        while True:
            page = await self.latest_posts(before=before)
            pages += 1
            newer = [p for p in page if p.id > after_id]
            for p in newer:
                collected.setdefault(p.id, p)
            if not page or len(newer) < len(page):
                break  # reached the high-water mark or the start of the forum
            lowest = min(p.id for p in page)
            if lowest <= after_id + 1 or (before is not None and lowest >= before):
                break
            if max_pages is not None and pages >= max_pages:
                break
            before = lowest
        for ident in sorted(collected):
            yield collected[ident]

    async def get_post(self, post_id: int) -> Post:
        data = await self.request("GET", f"/posts/{int(post_id)}.json")
        return Post.from_json(data, require_raw=True)

    async def get_topic(self, topic_id: int) -> Topic:
        """The topic with every post in stream order, each with its raw markdown."""
        topic_id = int(topic_id)
        data = await self.request("GET", f"/t/{topic_id}.json")
        topic = Topic.from_json(data)
        ids = list(topic.stream) or [p.id for p in topic.posts]
        by_id: dict[int, Post] = {}
        for start in range(0, len(ids), TOPIC_POSTS_BATCH):
            batch = ids[start : start + TOPIC_POSTS_BATCH]
            params = [("post_ids[]", str(i)) for i in batch] + [("include_raw", "true")]
            chunk = await self.request("GET", f"/t/{topic_id}/posts.json", params=params)
            stream = chunk.get("post_stream") if isinstance(chunk, dict) else None
            for p in (stream or {}).get("posts") or []:
                if isinstance(p, dict) and "id" in p:
                    post = Post.from_json(p, require_raw=True)
                    by_id[post.id] = post
        # /t/{id}/posts.json omits topic context; fill it so each Post stands alone.
        posts = tuple(
            replace(
                by_id[i],
                category_id=by_id[i].category_id or topic.category_id,
                topic_title=by_id[i].topic_title or topic.title,
                topic_archetype=by_id[i].topic_archetype or topic.archetype,
            )
            for i in ids
            if i in by_id
        )
        return replace(topic, posts=posts)

    async def search(self, q: str) -> list[Post]:
        data = await self.request("GET", "/search.json", params={"q": q})
        items = data.get("posts") if isinstance(data, dict) else None
        return [Post.from_json(p) for p in (items or []) if isinstance(p, dict) and "id" in p]

    async def me(self) -> User:
        return User.from_json(await self.request("GET", f"/u/{self.api_username}.json"))

    async def site(self, *, refresh: bool = False) -> dict[str, Any]:
        """`/site.json`, cached for this client (flag ids, categories, trust levels)."""
        if self._site is None or refresh:
            data = await self.request("GET", "/site.json")
            self._site = data if isinstance(data, dict) else {}
        return self._site

    # ---- writing -----------------------------------------------------------------------

    @staticmethod
    def _created_post(data: Any, raw: str) -> Post:
        if isinstance(data, dict) and "id" not in data and isinstance(data.get("post"), dict):
            data = data["post"]  # NewPostResult shape (nested_post)
        if isinstance(data, dict) and data.get("action") == "enqueued" and "id" not in data:
            raise DiscourseError(
                "Discourse queued the post for approval instead of publishing it",
                error_type="enqueued",
            )
        post = Post.from_json(data)
        # The create response carries cooked but not raw; the caller's raw is what was stored.
        return post if post.raw else replace(post, raw=raw)

    async def create_post(
        self,
        topic_id: int,
        raw: str,
        reply_to_post_number: int | None = None,
        *,
        whisper: bool = False,
    ) -> Post:
        body: dict[str, Any] = {"topic_id": int(topic_id), "raw": raw}
        if reply_to_post_number is not None:
            body["reply_to_post_number"] = int(reply_to_post_number)
        if whisper:
            # Rails compares the parameter with the string "true"; a JSON true would not match.
            body["whisper"] = "true"
        return self._created_post(await self.request("POST", "/posts.json", json_body=body), raw)

    async def create_topic(
        self, title: str, raw: str, category_id: int | None = None, tags: Sequence[str] = ()
    ) -> Post:
        body: dict[str, Any] = {"title": title, "raw": raw}
        if category_id is not None:
            body["category"] = int(category_id)
        if tags:
            body["tags"] = list(tags)
        return self._created_post(await self.request("POST", "/posts.json", json_body=body), raw)

    async def send_private_message(
        self, title: str, raw: str, target_recipients: Sequence[str]
    ) -> Post:
        if isinstance(target_recipients, str):
            target_recipients = [target_recipients]
        recipients = ",".join(r.strip() for r in target_recipients if r.strip())
        if not recipients:
            raise DiscourseError("A private message needs at least one recipient")
        body = {
            "title": title,
            "raw": raw,
            "archetype": "private_message",
            "target_recipients": recipients,
        }
        return self._created_post(await self.request("POST", "/posts.json", json_body=body), raw)

    async def flag_type_id(self, flag: str) -> int:
        site = await self.site()
        for entry in site.get("post_action_types") or []:
            if isinstance(entry, dict) and entry.get("name_key") == flag and entry.get("id"):
                return int(entry["id"])
        if flag in DEFAULT_FLAG_IDS and not site.get("post_action_types"):
            return DEFAULT_FLAG_IDS[flag]
        raise DiscourseError(f"This forum has no flag type named {flag!r}")

    async def flag_post(
        self, post_id: int, flag: str = "notify_moderators", message: str | None = None
    ) -> None:
        body: dict[str, Any] = {
            "id": int(post_id),
            "post_action_type_id": await self.flag_type_id(flag),
        }
        if message:
            body["message"] = message
        await self.request("POST", "/post_actions.json", json_body=body)

    async def set_tags(
        self, topic_id: int, tags: Sequence[str], *, original_tags: Sequence[str] | None = None
    ) -> None:
        """Replace the topic's tags (Discourse treats the list as the full set).

        With `original_tags` (the tags the caller read), a topic retagged since answers 409
        (`EditConflict`) instead of losing the other editor's tags.
        """
        body: dict[str, Any] = {"tags": list(tags)}
        if original_tags:  # core ignores a blank original_tags, so sending [] checks nothing
            body["original_tags"] = list(original_tags)
        await self.request("PUT", f"/t/-/{int(topic_id)}.json", json_body=body)

    async def add_tags(self, topic_id: int, tags: Sequence[str]) -> tuple[str, ...]:
        """Add tags to those the topic has; re-reads and retries when someone retags meanwhile."""
        attempts = max(1, self.edit_attempts)
        for attempt in range(1, attempts + 1):
            data = await self.request("GET", f"/t/{int(topic_id)}.json")
            current = Topic.from_json(data).tags
            wanted = tuple(dict.fromkeys([*current, *tags]))
            if wanted == current:
                return current
            try:
                await self.set_tags(topic_id, wanted, original_tags=current)
                return wanted
            except EditConflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    async def edit_post(
        self,
        post_id: int,
        raw: str,
        *,
        original_text: str | None,
        edit_reason: str | None = None,
    ) -> Post:
        """One `PUT /posts/{id}.json`. `original_text` is the raw the edit was made from:
        Discourse answers 409 (`EditConflict`) when the post changed since, so an edit never
        overwrites someone else's. Pass None only to overwrite deliberately."""
        inner: dict[str, Any] = {"raw": raw}
        if original_text:
            inner["original_text"] = original_text
        if edit_reason:
            inner["edit_reason"] = edit_reason
        data = await self.request("PUT", f"/posts/{int(post_id)}.json", json_body={"post": inner})
        post_obj = data.get("post") if isinstance(data, dict) else None
        if not isinstance(post_obj, dict):
            raise DiscourseError(
                f"Malformed response from Discourse to PUT /posts/{int(post_id)}.json: no post"
            )
        return Post.from_json(post_obj)

    async def revise_post(
        self,
        post_id: int,
        revise: Callable[[Post], str | None],
        *,
        edit_reason: str | None = None,
    ) -> Post:
        """Read the post, edit it to `revise(post)` and save it guarded by `original_text`.

        On a 409 (someone edited it in between) the post is read again and `revise` applied
        to the new text, up to `edit_attempts` times; then `EditConflict` is raised and the
        post is left as the other editor saved it. `revise` returning None (or the same
        text) means "nothing to change" and nothing is sent. An edit never creates a post,
        so giving up can never double-post.
        """
        attempts = max(1, self.edit_attempts)
        for attempt in range(1, attempts + 1):
            current = await self.get_post(post_id)
            new_raw = revise(current)
            if new_raw is None or new_raw == current.raw:
                return current
            try:
                return await self.edit_post(
                    post_id, new_raw, original_text=current.raw, edit_reason=edit_reason
                )
            except EditConflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")
