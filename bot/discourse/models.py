"""Typed views of Discourse JSON, parsed tolerantly.

Forums differ by version and plugins, so `from_json` ignores unknown fields, defaults missing
optional ones and coerces the loose types Discourse and its plugins emit (ints as strings,
booleans as "true"/"false", tags as strings or objects). A missing `id` is an error, and so is
a post's `raw` in any shape but text (or missing where the endpoint always sends it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.discourse.errors import DiscourseError

POST_TYPE_REGULAR = 1
POST_TYPE_MODERATOR_ACTION = 2
POST_TYPE_SMALL_ACTION = 3
POST_TYPE_WHISPER = 4


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def _bool(value: Any, default: bool = False) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "t", "1", "yes"):
            return True
        if lowered in ("false", "f", "0", "no", ""):
            return False
        return default
    if isinstance(value, int | float):
        return bool(value)
    return default


def _str(value: Any, default: str | None = None) -> str | None:
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, int | float | bool):
        return str(value)
    return default


def _tags(value: Any) -> tuple[str, ...]:
    """Tags arrive as strings (most cores) or `{id, name, slug}` objects (newer cores)."""
    if not isinstance(value, list | tuple):
        return ()
    out: list[str] = []
    for item in value:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            name = _str(item.get("name")) or _str(item.get("slug"))
            if name:
                out.append(name)
    return tuple(out)


def _shape(value: Any) -> str:
    names = {dict: "an object", list: "a list", bool: "a boolean", int: "a number",
             float: "a number"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def _require_id(data: Any, kind: str) -> int:
    if not isinstance(data, dict):
        raise DiscourseError(f"Malformed {kind} from Discourse: expected an object")
    ident = _int(data.get("id"))
    if ident is None:
        raise DiscourseError(f"Malformed {kind} from Discourse: missing id")
    return ident


@dataclass(frozen=True)
class Post:
    id: int
    topic_id: int | None = None
    post_number: int = 1
    post_type: int = POST_TYPE_REGULAR
    username: str = ""
    user_id: int | None = None
    name: str | None = None
    raw: str = ""
    cooked: str = ""
    staff: bool = False
    admin: bool = False
    moderator: bool = False
    trust_level: int = 0
    hidden: bool = False
    deleted_at: str | None = None
    category_id: int | None = None
    version: int = 1
    created_at: str | None = None
    updated_at: str | None = None
    reply_to_post_number: int | None = None
    topic_title: str | None = None
    topic_slug: str | None = None
    topic_archetype: str | None = None
    yours: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], *, require_raw: bool = False) -> Post:
        """`require_raw` for answers that always carry raw (/posts.json, /posts/{id}.json,
        topic posts with include_raw): a post without it there is a malformed answer."""
        ident = _require_id(data, "post")
        raw = data.get("raw")
        # The bot triages raw; reading an unexpected shape as "" would triage an empty post
        # (and then skip the real one), so anything but text is an error, never a default.
        if raw is not None and not isinstance(raw, str):
            raise DiscourseError(
                f"Malformed post {ident} from Discourse: raw is {_shape(raw)}, expected text"
            )
        if raw is None and require_raw:
            raise DiscourseError(f"Malformed post {ident} from Discourse: raw is missing")
        admin = _bool(data.get("admin"))
        moderator = _bool(data.get("moderator"))
        staff_raw = data.get("staff")
        return cls(
            id=ident,
            topic_id=_int(data.get("topic_id")),
            post_number=_int(data.get("post_number"), 1) or 1,
            post_type=_int(data.get("post_type"), POST_TYPE_REGULAR) or POST_TYPE_REGULAR,
            username=_str(data.get("username"), "") or "",
            user_id=_int(data.get("user_id")),
            name=_str(data.get("name")),
            raw=raw or "",
            cooked=_str(data.get("cooked"), "") or "",
            staff=_bool(staff_raw) if staff_raw is not None else (admin or moderator),
            admin=admin,
            moderator=moderator,
            trust_level=_int(data.get("trust_level"), 0) or 0,
            hidden=_bool(data.get("hidden")),
            deleted_at=_str(data.get("deleted_at")),
            category_id=_int(data.get("category_id")),
            version=_int(data.get("version"), 1) or 1,
            created_at=_str(data.get("created_at")),
            updated_at=_str(data.get("updated_at")),
            reply_to_post_number=_int(data.get("reply_to_post_number")),
            topic_title=_str(data.get("topic_title")),
            topic_slug=_str(data.get("topic_slug")),
            topic_archetype=_str(data.get("topic_archetype")),
            yours=_bool(data.get("yours")),
        )

    @property
    def is_regular(self) -> bool:
        return self.post_type == POST_TYPE_REGULAR

    @property
    def is_whisper(self) -> bool:
        return self.post_type == POST_TYPE_WHISPER

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


@dataclass(frozen=True)
class Topic:
    id: int
    title: str = ""
    slug: str = ""
    category_id: int | None = None
    closed: bool = False
    archived: bool = False
    visible: bool = True
    archetype: str = "regular"
    tags: tuple[str, ...] = ()
    posts_count: int = 0
    user_id: int | None = None
    created_at: str | None = None
    deleted_at: str | None = None
    stream: tuple[int, ...] = ()
    posts: tuple[Post, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Topic:
        ident = _require_id(data, "topic")
        stream_obj = data.get("post_stream")
        stream_obj = stream_obj if isinstance(stream_obj, dict) else {}
        raw_posts = stream_obj.get("posts")
        posts = tuple(
            Post.from_json(p)
            for p in (raw_posts if isinstance(raw_posts, list) else [])
            if isinstance(p, dict) and _int(p.get("id")) is not None
        )
        raw_stream = stream_obj.get("stream")
        stream = tuple(
            i
            for i in (_int(x) for x in (raw_stream if isinstance(raw_stream, list) else []))
            if i is not None
        )
        return cls(
            id=ident,
            title=_str(data.get("title"), "") or "",
            slug=_str(data.get("slug"), "") or "",
            category_id=_int(data.get("category_id")),
            closed=_bool(data.get("closed")),
            archived=_bool(data.get("archived")),
            visible=_bool(data.get("visible"), True),
            archetype=_str(data.get("archetype"), "regular") or "regular",
            tags=_tags(data.get("tags")),
            posts_count=_int(data.get("posts_count"), len(posts)) or 0,
            user_id=_int(data.get("user_id")),
            created_at=_str(data.get("created_at")),
            deleted_at=_str(data.get("deleted_at")),
            stream=stream or tuple(p.id for p in posts),
            posts=posts,
        )

    @property
    def is_private_message(self) -> bool:
        return self.archetype == "private_message"


@dataclass(frozen=True)
class User:
    id: int
    username: str = ""
    name: str | None = None
    admin: bool = False
    moderator: bool = False
    staff: bool = False
    trust_level: int = 0
    groups: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> User:
        """Accepts a bare user object or the `{"user": {...}}` envelope of /u/{name}.json."""
        if isinstance(data, dict) and isinstance(data.get("user"), dict):
            data = data["user"]
        ident = _require_id(data, "user")
        admin = _bool(data.get("admin"))
        moderator = _bool(data.get("moderator"))
        staff_raw = data.get("staff")
        groups_raw = data.get("groups")
        groups: list[str] = []
        for g in groups_raw if isinstance(groups_raw, list) else []:
            name = _str(g.get("name")) if isinstance(g, dict) else _str(g)
            if name:
                groups.append(name)
        return cls(
            id=ident,
            username=_str(data.get("username"), "") or "",
            name=_str(data.get("name")),
            admin=admin,
            moderator=moderator,
            staff=_bool(staff_raw) if staff_raw is not None else (admin or moderator),
            trust_level=_int(data.get("trust_level"), 0) or 0,
            groups=tuple(groups),
        )


@dataclass(frozen=True)
class WebhookEvent:
    event: str
    event_type: str
    event_id: int | None
    instance: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    post: Post | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookEvent:
        """Build from a dict with header-like keys and `payload` (e.g. a stored delivery)."""
        given = data.get("payload")
        payload: dict[str, Any] = given if isinstance(given, dict) else {}
        post_obj = payload.get("post")
        post = None
        if isinstance(post_obj, dict) and _int(post_obj.get("id")) is not None:
            post = Post.from_json(post_obj)
        return cls(
            event=_str(data.get("event"), "") or "",
            event_type=_str(data.get("event_type"), "") or "",
            event_id=_int(data.get("event_id")),
            instance=_str(data.get("instance")),
            payload=dict(payload),
            post=post,
        )
