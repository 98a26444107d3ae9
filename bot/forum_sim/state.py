"""In-memory, thread-safe state of the local Discourse-compatible forum.

Everything the HTTP layer (`app.py`) serves lives here, so tests can arrange a forum directly
(`add_user`, `create_topic`, ...) and then drive it over HTTP with the real client. Rules that
matter to a bot are enforced here, as Discourse enforces them: identical API creates within
120 s return the earlier post, repeated bodies by a non-staff user are refused, closed and
archived topics refuse replies, and post_created / post_edited fire signed webhooks.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.discourse.ratelimit import SlidingWindow
from bot.errors import UserError
from bot.forum_sim.faults import Faults
from bot.forum_sim.webhook_delivery import WebhookDispatcher

BOT_USERNAME = "triagebot"
SYSTEM_USERNAME = "system"
STAFF_GROUP = "staff"
MEMO_SECONDS = 120.0

POST_TYPES = {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4}


class ForumError(UserError):
    """A request the forum refuses; carries the HTTP status and Discourse's error body."""

    def __init__(
        self,
        status: int,
        errors: Sequence[str],
        error_type: str | None = None,
        *,
        action: str | None = None,
        extras: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__("; ".join(errors))
        self.status = status
        self.errors = list(errors)
        self.error_type = error_type
        self.action = action
        self.extras = extras
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.action:
            out["action"] = self.action
        out["errors"] = self.errors
        if self.error_type:
            out["error_type"] = self.error_type
        if self.extras is not None:
            out["extras"] = self.extras
        return out


def not_found() -> ForumError:
    return ForumError(404, ["The requested URL or resource could not be found."], "not_found")


def edit_conflict() -> ForumError:
    # core: render_json_error(I18n.t("edit_conflict"), status: 409), so no error_type
    return ForumError(
        409, ["That post was edited by another user and your changes can no longer be saved."]
    )


def invalid_access(message: str | None = None) -> ForumError:
    return ForumError(
        403,
        [message or "You are not permitted to view the requested resource."],
        "invalid_access",
    )


def _now_iso() -> str:
    return (
        datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{datetime.now(UTC).microsecond // 1000:03d}Z"
    )


def slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:80] or "topic"


@dataclass
class UserRec:
    id: int
    username: str
    name: str
    admin: bool = False
    moderator: bool = False
    trust_level: int = 1
    password: str | None = None
    email: str = ""
    created_at: str = field(default_factory=_now_iso)

    @property
    def staff(self) -> bool:
        return self.admin or self.moderator


@dataclass
class GroupRec:
    id: int
    name: str
    members: set[int] = field(default_factory=set)
    automatic: bool = False


@dataclass
class CategoryRec:
    id: int
    name: str
    slug: str
    color: str = "0088CC"
    text_color: str = "FFFFFF"
    description: str = ""
    read_restricted: bool = False
    position: int = 0


@dataclass
class TopicRec:
    id: int
    title: str
    slug: str
    user_id: int
    category_id: int | None
    archetype: str = "regular"
    closed: bool = False
    archived: bool = False
    visible: bool = True
    tags: list[str] = field(default_factory=list)
    created_at: str = field(default_factory=_now_iso)
    deleted_at: str | None = None
    allowed_user_ids: set[int] = field(default_factory=set)
    allowed_groups: set[str] = field(default_factory=set)
    views: int = 0


@dataclass
class PostRec:
    id: int
    topic_id: int
    post_number: int
    user_id: int
    raw: str
    post_type: int = 1
    reply_to_post_number: int | None = None
    created_at: str = field(default_factory=_now_iso)
    updated_at: str = field(default_factory=_now_iso)
    version: int = 1
    hidden: bool = False
    deleted_at: str | None = None
    edit_reason: str | None = None
    cooked: str = field(default="", repr=False)
    cooked_for: str | None = field(default=None, repr=False)


@dataclass
class WebhookRec:
    id: int
    url: str
    secret: str
    events: tuple[str, ...] = ("post_created", "post_edited")


def cook(raw: str) -> str:
    """A tiny Markdown-ish rendering: enough for `cooked` to be HTML and differ from raw."""
    import html

    blocks = [b for b in re.split(r"\n{2,}", raw.strip()) if b.strip()]
    out = []
    for block in blocks:
        if block.startswith("```"):
            inner = block.strip("`").split("\n", 1)
            code = inner[1] if len(inner) > 1 else inner[0]
            out.append(f"<pre><code>{html.escape(code.rstrip('`').rstrip())}</code></pre>")
        else:
            out.append("<p>" + html.escape(block).replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


class ForumState:
    """The whole forum. Every public method is safe to call from any thread."""

    def __init__(
        self,
        *,
        base_url: str = "http://127.0.0.1",
        clock: Callable[[], float] = time.monotonic,
        rate_limit_per_minute: int = 60,
        rate_limit_window: float = 60.0,
    ) -> None:
        self._lock = threading.RLock()
        self.clock = clock
        self.base_url = base_url
        self.users: dict[int, UserRec] = {}
        self.groups: dict[str, GroupRec] = {}
        self.categories: dict[int, CategoryRec] = {}
        self.topics: dict[int, TopicRec] = {}
        self.posts: dict[int, PostRec] = {}
        self.api_keys: dict[str, str | None] = {}
        # Granular keys only (see scopes.py); a key absent here is a Global key.
        self.api_key_scopes: dict[str, frozenset[str]] = {}
        self.webhooks: list[WebhookRec] = []
        self.flags: list[dict[str, Any]] = []
        self.faults = Faults()
        self.sso_secret: str | None = None
        self.cookie_secret: str = secrets.token_hex(16)
        self.unique_posts_mins: float = 5.0
        # Discourse's per-user `rate_limit_create_post` (seconds between creates, staff exempt;
        # `forum serve --rate-limit-create-post`). Off by default so tests post freely; 5
        # matches a stock forum.
        self.rate_limit_create_post: float = 0.0
        self._last_create: dict[int, float] = {}
        self.enforce_rate_limit = True
        self.admin_api_limiter = SlidingWindow(rate_limit_per_minute, rate_limit_window, clock)
        self.rate_limited_count = 0
        # (method, path, status) of API requests, newest last; bounded for long demo runs.
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=100_000)
        self._memo: dict[str, tuple[float, int]] = {}
        # topic id -> its post ids in post_number order (serialising must not scan every post)
        self.topic_post_ids: dict[int, list[int]] = {}
        self._recent_raw: dict[tuple[int, str], float] = {}
        self._ids = {"user": 0, "group": 0, "category": 0, "topic": 0, "post": 0, "webhook": 0}
        self._event_ids = 0
        self.dispatcher = WebhookDispatcher()
        self.add_user(SYSTEM_USERNAME, admin=True, trust_level=4, name="system")
        self.add_group(STAFF_GROUP, automatic=True)
        self.add_group("moderators", automatic=True)
        self.add_group("admins", automatic=True)
        self.add_user(BOT_USERNAME, trust_level=2, name="Triage Bot")
        self.add_category("Uncategorized")

    # ---- ids and lookups ---------------------------------------------------------------

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def configure_rate_limit(
        self, per_minute: int, window: float = 60.0, clock: Callable[[], float] | None = None
    ) -> None:
        """Replace the site-wide admin-API limiter (tests scale the window down)."""
        with self._lock:
            self.admin_api_limiter = SlidingWindow(per_minute, window, clock or self.clock)

    def user(self, username: str) -> UserRec:
        with self._lock:
            for u in self.users.values():
                if u.username.lower() == username.lower():
                    return u
        raise not_found()

    def find_user(self, username: str) -> UserRec | None:
        try:
            return self.user(username)
        except ForumError:
            return None

    def user_groups(self, user: UserRec) -> list[str]:
        with self._lock:
            names = [g.name for g in self.groups.values() if user.id in g.members]
            return sorted(names)

    def topic(self, topic_id: int) -> TopicRec:
        with self._lock:
            t = self.topics.get(int(topic_id))
            if t is None or t.deleted_at is not None:
                raise not_found()
            return t

    def post(self, post_id: int) -> PostRec:
        with self._lock:
            p = self.posts.get(int(post_id))
            if p is None:
                raise not_found()
            return p

    def can_see_topic(self, user: UserRec | None, topic: TopicRec) -> bool:
        if topic.archetype != "private_message":
            cat = self.categories.get(topic.category_id) if topic.category_id else None
            if cat is not None and cat.read_restricted:
                return user is not None and user.staff
            return True
        if user is None:
            return False
        if user.admin or user.id in topic.allowed_user_ids:
            return True
        return bool(set(self.user_groups(user)) & topic.allowed_groups)

    def can_see_post(self, user: UserRec | None, post: PostRec) -> bool:
        if post.post_type == POST_TYPES["whisper"] and (user is None or not user.staff):
            return False
        if post.deleted_at is not None and (user is None or not user.staff):
            return False
        topic = self.topics.get(post.topic_id)
        return topic is not None and self.can_see_topic(user, topic)

    # ---- users, groups, categories, keys, webhooks ------------------------------------

    def add_user(
        self,
        username: str,
        *,
        admin: bool = False,
        moderator: bool = False,
        trust_level: int = 1,
        groups: Iterable[str] = (),
        password: str | None = None,
        name: str | None = None,
        email: str | None = None,
    ) -> UserRec:
        with self._lock:
            existing = self.find_user(username)
            if existing is not None:
                return existing
            rec = UserRec(
                id=self._next("user") if username != SYSTEM_USERNAME else -1,
                username=username,
                name=name if name is not None else username,
                admin=admin,
                moderator=moderator,
                trust_level=trust_level,
                password=password,
                email=email or f"{username.lower()}@forum.invalid",
            )
            self.users[rec.id] = rec
            if rec.staff and STAFF_GROUP in self.groups:
                self.groups[STAFF_GROUP].members.add(rec.id)
            if rec.admin and "admins" in self.groups:
                self.groups["admins"].members.add(rec.id)
            if rec.moderator and "moderators" in self.groups:
                self.groups["moderators"].members.add(rec.id)
            for g in groups:
                self.add_group(g).members.add(rec.id)
            return rec

    def set_password(self, username: str, password: str) -> None:
        with self._lock:
            self.user(username).password = password

    def add_group(self, name: str, *, automatic: bool = False) -> GroupRec:
        with self._lock:
            if name in self.groups:
                return self.groups[name]
            rec = GroupRec(id=self._next("group"), name=name, automatic=automatic)
            if name == STAFF_GROUP:
                rec.members.update(u.id for u in self.users.values() if u.staff)
            self.groups[name] = rec
            return rec

    def add_category(
        self, name: str, *, read_restricted: bool = False, description: str = ""
    ) -> CategoryRec:
        with self._lock:
            for c in self.categories.values():
                if c.name.lower() == name.lower():
                    return c
            ident = self._next("category")
            rec = CategoryRec(
                id=ident,
                name=name,
                slug=slugify(name),
                description=description,
                read_restricted=read_restricted,
                position=ident,
            )
            self.categories[rec.id] = rec
            return rec

    def add_api_key(self, username: str | None = BOT_USERNAME) -> str:
        """A new admin API key; `username=None` makes an "All users" key."""
        with self._lock:
            if username is not None:
                self.user(username)
            key = secrets.token_hex(32)
            self.api_keys[key] = username
            return key

    def add_webhook(
        self,
        url: str,
        secret: str,
        events: Sequence[str] = ("post_created", "post_edited"),
    ) -> WebhookRec:
        with self._lock:
            rec = WebhookRec(id=self._next("webhook"), url=url, secret=secret, events=tuple(events))
            self.webhooks.append(rec)
            return rec

    @property
    def deliveries(self) -> list[dict[str, Any]]:
        return self.dispatcher.deliveries

    def wait_for_deliveries(self, count: int, timeout: float = 5.0) -> bool:
        return self.dispatcher.wait_for(count, timeout)

    def close(self) -> None:
        self.dispatcher.close()

    # ---- API authentication and rate limiting -----------------------------------------

    def authenticate(self, api_key: str | None, api_username: str | None) -> UserRec | None:
        """The acting user for an Api-Key/Api-Username pair; None for anonymous requests."""
        if not api_key:
            return None
        with self._lock:
            if api_key not in self.api_keys:
                raise invalid_access(
                    "You are not permitted to view the requested resource. "
                    "The API username or key is invalid."
                )
            bound = self.api_keys[api_key]
            username = api_username or bound or SYSTEM_USERNAME
            if bound is not None and bound.lower() != username.lower():
                raise invalid_access(
                    "You are not permitted to view the requested resource. "
                    "The API username or key is invalid."
                )
            user = self.find_user(username)
            if user is None:
                raise invalid_access(
                    "You are not permitted to view the requested resource. "
                    "The API username or key is invalid."
                )
            return user

    def check_admin_api_rate(self) -> tuple[bool, int]:
        """Count one admin-API request; (allowed, whole seconds to wait if not)."""
        if not self.enforce_rate_limit:
            return True, 0
        allowed, wait = self.admin_api_limiter.try_acquire()
        if not allowed:
            with self._lock:
                self.rate_limited_count += 1
            return False, max(1, int(wait + 0.999))
        return True, 0

    # ---- content ----------------------------------------------------------------------

    def _memo_get(self, signature: str) -> PostRec | None:
        now = self.clock()
        for key, (stamp, _) in list(self._memo.items()):
            if stamp <= now - MEMO_SECONDS:
                del self._memo[key]
        hit = self._memo.get(signature)
        return self.posts.get(hit[1]) if hit else None

    @staticmethod
    def create_signature(user: UserRec, params: dict[str, Any]) -> str:
        canonical = json.dumps(params, sort_keys=True, default=str)
        return hashlib.sha1(f"{user.id}:{canonical}".encode()).hexdigest()

    def _check_unique(self, user: UserRec, raw: str) -> None:
        if user.staff or self.unique_posts_mins <= 0:
            return
        key = (user.id, hashlib.sha1(raw.strip().encode()).hexdigest())
        now = self.clock()
        stamp = self._recent_raw.get(key)
        if stamp is not None and now - stamp < self.unique_posts_mins * 60:
            raise ForumError(
                422, ["Body is too similar to what you recently posted"], action="create_post"
            )
        self._recent_raw[key] = now

    def _check_title_unique(self, title: str) -> None:
        # Topic's `unique_among` validation (allow_duplicate_topic_titles off, the default):
        # case-insensitive among listable topics, i.e. regular, not deleted; PMs are exempt.
        wanted = " ".join(title.split()).lower()
        for topic in self.topics.values():
            if (
                topic.archetype == "regular"
                and topic.deleted_at is None
                and " ".join(topic.title.split()).lower() == wanted
            ):
                raise ForumError(422, ["Title has already been used"], action="create_post")

    def _validate_raw(self, raw: str) -> None:
        if not isinstance(raw, str) or len(raw.strip()) < 2:
            raise ForumError(
                422, ["Body is too short (minimum is 2 characters)"], action="create_post"
            )

    def create_topic(
        self,
        username: str,
        title: str,
        raw: str,
        category_id: int | None = None,
        tags: Sequence[str] = (),
        archetype: str = "regular",
        target_recipients: Sequence[str] = (),
        *,
        closed: bool = False,
        archived: bool = False,
        check_unique: bool = False,
    ) -> dict[str, Any]:
        """Create a topic and its first post; returns the post as a plain dict (raw included).

        An unknown `username` is created as a trust-level-1 member, for terse test set-up.
        """
        with self._lock:
            user = self.add_user(username)
            title = (title or "").strip()
            if len(title) < 3:
                raise ForumError(
                    422, ["Title is too short (minimum is 3 characters)"], action="create_post"
                )
            self._validate_raw(raw)
            if category_id is not None and int(category_id) not in self.categories:
                raise ForumError(422, ["Category can't be blank"], action="create_post")
            allowed_users: set[int] = {user.id}
            allowed_groups: set[str] = set()
            if archetype == "private_message":
                if not target_recipients:
                    raise ForumError(
                        422, ["You must choose a valid user or group."], action="create_post"
                    )
                for name in target_recipients:
                    if name in self.groups:
                        allowed_groups.add(name)
                        continue
                    target = self.find_user(name)
                    if target is None:
                        raise ForumError(
                            422,
                            [f"Sorry, there is no user or group named {name}."],
                            action="create_post",
                        )
                    allowed_users.add(target.id)
                category_id = None
            elif category_id is None:
                category_id = 1
            if check_unique:
                if archetype != "private_message":
                    self._check_title_unique(title)
                self._check_unique(user, raw)
            topic = TopicRec(
                id=self._next("topic"),
                title=title,
                slug=slugify(title),
                user_id=user.id,
                category_id=int(category_id) if category_id is not None else None,
                archetype=archetype,
                tags=list(dict.fromkeys(t.strip().lower() for t in tags if t.strip())),
                allowed_user_ids=allowed_users if archetype == "private_message" else set(),
                allowed_groups=allowed_groups,
                closed=closed,
                archived=archived,
            )
            self.topics[topic.id] = topic
            post = self._insert_post(user, topic, raw, 1, None)
            payload = self.post_dict(post)
        self._emit("post_created", post)
        return payload

    def create_post(
        self,
        username: str,
        topic_id: int,
        raw: str,
        post_type: int = 1,
        reply_to_post_number: int | None = None,
        *,
        check_unique: bool = False,
        enforce_closed: bool = True,
    ) -> dict[str, Any]:
        """Add a post to a topic (fires post_created); returns it as a plain dict.

        An unknown `username` is created as a trust-level-1 member.
        """
        with self._lock:
            user = self.add_user(username)
            topic = self.topic(topic_id)
            if not self.can_see_topic(user, topic):
                raise invalid_access()
            if enforce_closed and (topic.closed or topic.archived) and not user.staff:
                raise ForumError(
                    403,
                    ["You are not permitted to view the requested resource."],
                    "invalid_access",
                )
            self._validate_raw(raw)
            if post_type == POST_TYPES["whisper"] and not user.staff:
                raise ForumError(
                    403, ["You are not permitted to whisper."], "invalid_whisper_access"
                )
            if reply_to_post_number is not None and not any(
                p.post_number == int(reply_to_post_number) for p in self.posts_in_topic(topic.id)
            ):
                reply_to_post_number = None  # Discourse silently drops a dangling reply target
            if check_unique:
                self._check_unique(user, raw)
            post = self._insert_post(
                user, topic, raw, int(post_type), reply_to_post_number and int(reply_to_post_number)
            )
            payload = self.post_dict(post)
        self._emit("post_created", post)
        return payload

    def _insert_post(
        self,
        user: UserRec,
        topic: TopicRec,
        raw: str,
        post_type: int,
        reply_to_post_number: int | None,
    ) -> PostRec:
        ids = self.topic_post_ids.setdefault(topic.id, [])
        number = 1 + (self.posts[ids[-1]].post_number if ids else 0)
        post = PostRec(
            id=self._next("post"),
            topic_id=topic.id,
            post_number=number,
            user_id=user.id,
            raw=raw,
            post_type=post_type,
            reply_to_post_number=reply_to_post_number,
        )
        self.posts[post.id] = post
        ids.append(post.id)
        return post

    def posts_in_topic(self, topic_id: int) -> list[PostRec]:
        """All posts of a topic (deleted and whispers included), in post_number order."""
        with self._lock:
            return [self.posts[i] for i in self.topic_post_ids.get(int(topic_id), [])]

    def create_via_api(self, user: UserRec, params: dict[str, Any]) -> dict[str, Any]:
        """POST /posts.json semantics, including the 120 s memoizer for identical creates."""
        signature = self.create_signature(user, params)
        with self._lock:
            earlier = self._memo_get(signature)
            if earlier is not None:
                return self.post_dict(earlier)
            self._check_create_rate(user)
            raw = params.get("raw")
            if not isinstance(raw, str) or not raw.strip():
                raise ForumError(
                    400, ["param is missing or the value is empty: raw"], "invalid_parameters"
                )
            archetype = params.get("archetype") or "regular"
            topic_id = params.get("topic_id")
            if topic_id not in (None, ""):
                try:
                    tid = int(topic_id)
                except (TypeError, ValueError):
                    raise not_found() from None
                reply_to = params.get("reply_to_post_number")
                whisper = str(params.get("whisper", "")).lower() == "true"
                result = self.create_post(
                    user.username,
                    tid,
                    raw,
                    POST_TYPES["whisper"] if whisper else 1,
                    int(reply_to) if reply_to not in (None, "") else None,
                    check_unique=True,
                )
            else:
                recipients: list[str] = []
                if archetype == "private_message":
                    target = params.get("target_recipients") or params.get("target_usernames") or ""
                    if isinstance(target, list):
                        target = ",".join(map(str, target))
                    recipients = [r.strip() for r in str(target).split(",") if r.strip()]
                category = params.get("category")
                tags = params.get("tags") or []
                if isinstance(tags, str):
                    tags = [tags]
                result = self.create_topic(
                    user.username,
                    str(params.get("title") or ""),
                    raw,
                    int(category) if category not in (None, "") else None,
                    [t if isinstance(t, str) else str(t.get("name", "")) for t in tags],
                    archetype,
                    recipients,
                    check_unique=True,
                )
            self._memo[signature] = (self.clock(), result["id"])
            self._last_create[user.id] = self.clock()
            return result

    def _check_create_rate(self, user: UserRec) -> None:
        if user.staff or self.rate_limit_create_post <= 0:
            return
        last = self._last_create.get(user.id)
        if last is None:
            return
        left = last + self.rate_limit_create_post - self.clock()
        if left > 0:
            wait = max(1, int(left + 0.999))
            time_left = "a few seconds" if wait <= 3 else f"{wait} seconds"
            # Core's OnCreateRecord limiter has no error code, so unlike the admin-API limit
            # this 429 carries no Discourse-Rate-Limit-Error-Code header.
            raise ForumError(
                429,
                [f"You\u2019re replying too quickly. Please wait {time_left} before trying again."],
                "rate_limit",
                extras={"wait_seconds": wait, "time_left": time_left},
                headers={"Retry-After": str(wait)},
            )

    def edit_post(
        self, post_id: int, raw: str, *, edit_reason: str | None = None
    ) -> dict[str, Any]:
        """Change a post's raw, bump its version, and fire post_edited."""
        with self._lock:
            post = self.post(post_id)
            self._validate_raw(raw)
            if raw != post.raw:
                post.raw = raw
                post.version += 1
                post.updated_at = _now_iso()
                post.edit_reason = edit_reason
            payload = self.post_dict(post)
        self._emit("post_edited", post)
        return payload

    def delete_post(self, post_id: int) -> None:
        """Soft-delete (fires post_destroyed to hooks subscribed to it); post 1 trashes the topic."""
        with self._lock:
            post = self.post(post_id)
            post.deleted_at = _now_iso()
            if post.post_number == 1:
                self.topics[post.topic_id].deleted_at = post.deleted_at
        self._emit("post_destroyed", post)

    def close_topic(self, topic_id: int, closed: bool = True) -> None:
        with self._lock:
            self.topic(topic_id).closed = closed

    def archive_topic(self, topic_id: int, archived: bool = True) -> None:
        with self._lock:
            self.topic(topic_id).archived = archived

    def set_tags(self, topic_id: int, tags: Sequence[str]) -> None:
        with self._lock:
            self.topic(topic_id).tags = list(
                dict.fromkeys(t.strip().lower() for t in tags if t and t.strip())
            )

    def flag(
        self, user: UserRec, post_id: int, type_id: int, message: str | None = None
    ) -> dict[str, Any]:
        from bot.forum_sim.serializers import POST_ACTION_TYPES

        with self._lock:
            post = self.post(post_id)
            if not self.can_see_post(user, post):
                raise not_found()
            known = {t["id"]: t for t in POST_ACTION_TYPES}
            if type_id not in known or not known[type_id]["is_flag"]:
                raise ForumError(
                    400,
                    ["You supplied invalid parameters to the request: post_action_type_id"],
                    "invalid_parameters",
                )
            if known[type_id]["require_message"] and not (message or "").strip():
                raise ForumError(422, ["Message can't be blank"])
            for f in self.flags:
                if f["post_id"] == post.id and f["user_id"] == user.id and f["type_id"] == type_id:
                    raise ForumError(
                        403,
                        ["You are not permitted to view the requested resource."],
                        "invalid_access",
                    )
            rec = {
                "post_id": post.id,
                "user_id": user.id,
                "username": user.username,
                "type_id": type_id,
                "flag": known[type_id]["name_key"],
                "message": message,
                "created_at": _now_iso(),
            }
            self.flags.append(rec)
            return rec

    # ---- queries ----------------------------------------------------------------------

    def topic_posts(self, topic_id: int, *, include_deleted: bool = False) -> list[dict[str, Any]]:
        with self._lock:
            posts = self.posts_in_topic(topic_id)
            return [self.post_dict(p) for p in posts if include_deleted or p.deleted_at is None]

    def posts_by(self, username: str) -> list[dict[str, Any]]:
        with self._lock:
            user = self.user(username)
            return [
                self.post_dict(p)
                for p in sorted(self.posts.values(), key=lambda p: p.id)
                if p.user_id == user.id
            ]

    def post_dict(self, post: PostRec) -> dict[str, Any]:
        """A plain view of a post for tests and callers of the state API (not a wire shape)."""
        user = self.users[post.user_id]
        topic = self.topics[post.topic_id]
        return {
            "id": post.id,
            "topic_id": post.topic_id,
            "post_number": post.post_number,
            "post_type": post.post_type,
            "username": user.username,
            "user_id": user.id,
            "raw": post.raw,
            "version": post.version,
            "reply_to_post_number": post.reply_to_post_number,
            "created_at": post.created_at,
            "updated_at": post.updated_at,
            "deleted_at": post.deleted_at,
            "hidden": post.hidden,
            "topic_title": topic.title,
            "category_id": topic.category_id,
            "archetype": topic.archetype,
        }

    # ---- webhooks ---------------------------------------------------------------------

    def _emit(self, event: str, post: PostRec) -> None:
        from bot.forum_sim.serializers import webhook_post_json

        with self._lock:
            hooks = [h for h in self.webhooks if event in h.events]
            if not hooks:
                return
            body = json.dumps({"post": webhook_post_json(self, post)}).encode()
            jobs = []
            for hook in hooks:
                self._event_ids += 1
                jobs.append((hook, self._event_ids))
        for hook, event_id in jobs:
            self.dispatcher.submit(
                url=hook.url,
                secret=hook.secret,
                event=event,
                event_type="post",
                event_id=event_id,
                instance=self.base_url,
                body=body,
            )

    # ---- seeding ----------------------------------------------------------------------

    def seed(self, threads: Iterable[dict[str, Any]]) -> list[int]:
        """Create topics from thread rows; returns the new topic ids in order.

        Row format (one JSON object per line in a seed file; the DESIGN.md batch format plus
        optional forum fields):
          id              any string (kept only for error messages)
          title           topic title (required)
          posts           list of raw markdown strings, first post first (required, non-empty);
                          an item may also be an object {"raw", "author", "post_type",
                          "reply_to_post_number"} where post_type is 1 regular, 3 small action
                          or 4 whisper
          authors         usernames, one per post (default: "user<n>" per thread position);
                          unknown users are created at trust level 1
          staff_authors   usernames among the authors to create as moderators
          category        category name (created if missing; default Uncategorized)
          tags            list of tag names
          closed, archived  booleans
          archetype       "regular" (default) or "private_message" (then `recipients`: list of
                          usernames/groups, default ["staff"])
        """
        created: list[int] = []
        for index, row in enumerate(threads, start=1):
            try:
                created.append(self._seed_row(index, row))
            except ForumError as exc:
                label = row.get("id", index) if isinstance(row, dict) else index
                raise UserError(f"Seed row {label}: {exc}") from None
        return created

    def _seed_row(self, index: int, row: Any) -> int:
        label = row.get("id", index) if isinstance(row, dict) else index
        if not isinstance(row, dict):
            raise UserError(f"Seed row {index}: expected a JSON object")
        posts = row.get("posts")
        title = row.get("title")
        if not isinstance(title, str) or not title.strip():
            raise UserError(f"Seed row {label}: missing 'title'")
        if not isinstance(posts, list) or not posts:
            raise UserError(f"Seed row {label}: 'posts' must be a non-empty list")
        authors = row.get("authors") or []
        if not isinstance(authors, list):
            raise UserError(f"Seed row {label}: 'authors' must be a list")
        staff_authors = set(row.get("staff_authors") or [])
        with self._lock:
            category_id = None
            if row.get("category"):
                category_id = self.add_category(str(row["category"])).id
            topic_id: int | None = None
            for n, item in enumerate(posts):
                if isinstance(item, str):
                    item = {"raw": item}
                if not isinstance(item, dict) or not isinstance(item.get("raw"), str):
                    raise UserError(f"Seed row {label}: post {n + 1} has no raw text")
                author = item.get("author") or (authors[n] if n < len(authors) else f"user{n + 1}")
                author = str(author)
                self.add_user(author, moderator=author in staff_authors)
                raw = item["raw"] if len(item["raw"].strip()) >= 2 else item["raw"] + " ."
                if topic_id is None:
                    archetype = row.get("archetype") or "regular"
                    recipients = row.get("recipients") or [STAFF_GROUP]
                    first = self.create_topic(
                        author,
                        str(title),
                        raw,
                        category_id,
                        row.get("tags") or (),
                        archetype,
                        recipients if archetype == "private_message" else (),
                    )
                    topic_id = first["topic_id"]
                else:
                    self.create_post(
                        author,
                        topic_id,
                        raw,
                        int(item.get("post_type", 1)),
                        item.get("reply_to_post_number"),
                        enforce_closed=False,
                    )
            assert topic_id is not None
            topic = self.topics[topic_id]
            topic.closed = bool(row.get("closed", False))
            topic.archived = bool(row.get("archived", False))
            return topic_id

    def seed_from_jsonl(self, path: str | Path) -> list[int]:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"Seed file not found: {p}")
        rows: list[dict[str, Any]] = []
        with p.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise UserError(f"{p}:{lineno}: invalid JSON ({exc.msg})") from None
        return self.seed(rows)
