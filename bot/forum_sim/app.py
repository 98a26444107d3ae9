"""The local forum's HTTP API: Discourse's paths, JSON shapes, status codes and error bodies.

Authentication is by `Api-Key` + `Api-Username` headers (admin API keys) or by the login
cookie of the local /login page. Every request made with an API key counts against the
site-wide admin-API limiter, as in Discourse, and a refused one gets Discourse's JSON 429.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.forum_sim import serializers as ser
from bot.forum_sim.faults_middleware import FaultMiddleware
from bot.forum_sim.review import review_list
from bot.forum_sim.scopes import require_scope
from bot.forum_sim.sso import SESSION_COOKIE, session_user, sso_routes
from bot.forum_sim.state import (
    POST_TYPES,
    ForumError,
    ForumState,
    UserRec,
    edit_conflict,
    invalid_access,
    not_found,
)

LATEST_PAGE_SIZE = 50

Handler = Callable[[Request, ForumState, UserRec | None], Awaitable[Response]]


class DiscourseJSONResponse(JSONResponse):
    # Rails names the charset on every JSON answer; Starlette adds it only to text/* types.
    media_type = "application/json; charset=utf-8"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return DiscourseJSONResponse(data, status_code=status, headers=headers)


def _error(exc: ForumError) -> JSONResponse:
    return _json(exc.body(), exc.status, exc.headers or None)


def rate_limit_response(wait: int) -> JSONResponse:
    return _json(
        {
            "errors": [
                "You\u2019ve performed this action too many times. "
                f"Please wait {wait} seconds before trying again."
            ],
            "error_type": "rate_limit",
            "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
        },
        429,
        {"Retry-After": str(wait), "Discourse-Rate-Limit-Error-Code": "admin_api_key_rate_limit"},
    )


async def read_params(request: Request) -> dict[str, Any]:
    """Query + body parameters, as Rails would see them (`a[]` keys become lists)."""
    params: dict[str, Any] = {}

    def put(key: str, value: Any) -> None:
        if key.endswith("[]"):
            params.setdefault(key[:-2], []).append(value)
        elif "[" in key and key.endswith("]"):  # post[raw] -> post: {raw}
            outer, inner = key[:-1].split("[", 1)
            nested = params.setdefault(outer, {})
            if isinstance(nested, dict):
                nested[inner] = value
        else:
            params[key] = value

    for key, value in request.query_params.multi_items():
        put(key, value)
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        ctype = request.headers.get("content-type", "")
        if "application/json" in ctype:
            body = await request.body()
            if body.strip():
                try:
                    data = json.loads(body)
                except ValueError:
                    raise ForumError(
                        400, ["The request body is not valid JSON."], "invalid_parameters"
                    ) from None
                if not isinstance(data, dict):
                    raise ForumError(
                        400, ["The request body must be a JSON object."], "invalid_parameters"
                    )
                params.update(data)
        elif "form" in ctype:
            form = await request.form()
            for key, item in form.multi_items():
                put(key, item)
    return params


def api(handler: Handler, *, write: bool = False) -> Callable[[Request], Awaitable[Response]]:
    """Wrap an endpoint with authentication, the admin-API limiter and error rendering."""

    async def endpoint(request: Request) -> Response:
        state: ForumState = request.app.state.forum
        try:
            key = request.headers.get("api-key")
            user = state.authenticate(key, request.headers.get("api-username"))
            require_scope(state, key, request.method, request.url.path)
            if key:
                allowed, wait = state.check_admin_api_rate()
                if not allowed:
                    return rate_limit_response(wait)
            if user is None:
                user = session_user(request, state)
            if write and user is None:
                return _json(
                    {
                        "errors": ["You need to be logged in to do that."],
                        "error_type": "not_logged_in",
                    },
                    403,
                )
            response = await handler(request, state, user)
            state.request_log.append((request.method, request.url.path, response.status_code))
            return response
        except ForumError as exc:
            state.request_log.append((request.method, request.url.path, exc.status))
            return _error(exc)

    return endpoint


def _int_param(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ForumError(
            400, [f"You supplied invalid parameters to the request: {name}"], "invalid_parameters"
        ) from None


# ---- posts ----------------------------------------------------------------------------------


async def latest_posts(request: Request, state: ForumState, user: UserRec | None) -> Response:
    before = request.query_params.get("before")
    before_id = _int_param(before, "before") if before not in (None, "") else None
    with state._lock:
        posts = []
        # Post ids are allocated in increasing order, so the dict is already id-sorted.
        for post in reversed(state.posts.values()):
            if before_id is not None and post.id >= before_id:
                continue
            topic = state.topics.get(post.topic_id)
            if (
                post.post_type != POST_TYPES["regular"]
                or post.deleted_at is not None
                or post.hidden
                or topic is None
                or topic.deleted_at is not None
                or topic.archetype == "private_message"
                # core's posts#latest takes Post.visible: posts of unlisted topics are left out
                or not topic.visible
                or not state.can_see_topic(user, topic)
            ):
                continue
            posts.append(ser.post_json(state, post, user, include_raw=True, latest=True))
            if len(posts) >= LATEST_PAGE_SIZE:
                break
    return _json({"latest_posts": posts})


async def create_post(request: Request, state: ForumState, user: UserRec | None) -> Response:
    assert user is not None
    params = await read_params(request)
    result = state.create_via_api(user, params)
    with state._lock:
        post = state.post(result["id"])
        data = ser.post_json(state, post, user)
        data["draft_sequence"] = 0
    return _json(data)


async def show_post(request: Request, state: ForumState, user: UserRec | None) -> Response:
    post_id = _int_param(request.path_params["post_id"], "id")
    with state._lock:
        post = state.posts.get(post_id)
        if post is None or not state.can_see_post(user, post):
            raise not_found()
        return _json(ser.post_json(state, post, user, include_raw=True))


async def update_post(request: Request, state: ForumState, user: UserRec | None) -> Response:
    assert user is not None
    post_id = _int_param(request.path_params["post_id"], "id")
    params = await read_params(request)
    post_param = params.get("post")
    nested = post_param if isinstance(post_param, dict) else {}
    raw = nested.get("raw", params.get("raw"))
    with state._lock:
        post = state.posts.get(post_id)
        if post is None or not state.can_see_post(user, post):
            raise not_found()
        if post.user_id != user.id and not user.staff:
            raise invalid_access()
        if not isinstance(raw, str):
            raise ForumError(
                400, ["param is missing or the value is empty: post"], "invalid_parameters"
            )
        # Optimistic concurrency as in core's PostsController#update: a caller that says what
        # text it edited (`original_text`, or the older `raw_old`) is refused with 409 when
        # someone changed the post since, instead of silently overwriting their edit.
        original = nested.get("original_text") or nested.get("raw_old")
        if original and original != post.raw:
            raise edit_conflict()
        # Check and write under one lock hold, so no edit can slip in between.
        state.edit_post(post_id, raw, edit_reason=nested.get("edit_reason"))
        data = ser.post_json(state, state.post(post_id), user, include_raw=True)
        data["draft_sequence"] = 0
        return _json({"post": data})


async def post_action(request: Request, state: ForumState, user: UserRec | None) -> Response:
    assert user is not None
    params = await read_params(request)
    post_id = _int_param(params.get("id"), "id")
    type_id = _int_param(params.get("post_action_type_id"), "post_action_type_id")
    state.flag(user, post_id, type_id, params.get("message"))
    with state._lock:
        data = ser.post_json(state, state.post(post_id), user)
        data["actions_summary"] = [{"id": type_id, "count": 1, "acted": True, "can_undo": True}]
        return _json(data)


# ---- topics ---------------------------------------------------------------------------------


def _visible_topic(state: ForumState, user: UserRec | None, topic_id: int) -> Any:
    topic = state.topic(topic_id)
    if not state.can_see_topic(user, topic):
        if topic.archetype == "private_message" or user is not None:
            raise invalid_access()
        raise not_found()
    return topic


NOT_FOUND_PAGE_TITLE = "Page Not Found"
NOT_FOUND_HTML = (
    '<div class="page-not-found">\n'
    '  <h1 class="title">Oops! That page doesn\u2019t exist or is private.</h1>\n'
    "</div>"
)


async def show_topic(request: Request, state: ForumState, user: UserRec | None) -> Response:
    topic_id = _int_param(request.path_params["topic_id"], "id")
    with state._lock:
        try:
            topic = _visible_topic(state, user, topic_id)
        except ForumError as exc:
            # core's rescue_discourse_actions adds the HTML error page for topics#show only.
            exc.extras = {"title": NOT_FOUND_PAGE_TITLE, "html": NOT_FOUND_HTML}
            raise
        topic.views += 1
        return _json(ser.topic_json(state, topic, user))


async def topic_posts(request: Request, state: ForumState, user: UserRec | None) -> Response:
    topic_id = _int_param(request.path_params["topic_id"], "id")
    params = await read_params(request)
    include_raw = str(params.get("include_raw", "")).lower() == "true"
    raw_ids = params.get("post_ids") or []
    if not isinstance(raw_ids, list):
        raw_ids = [raw_ids]
    ids = [_int_param(i, "post_ids") for i in raw_ids]
    with state._lock:
        topic = _visible_topic(state, user, topic_id)
        visible = ser.visible_topic_posts(state, topic, user)
        if ids:
            wanted = set(ids)
            chosen = [p for p in visible if p.id in wanted]
        else:
            chosen = visible[:20]
        return _json(
            {
                "post_stream": {
                    "posts": [
                        ser.post_json(state, p, user, include_raw=include_raw, in_stream=True)
                        for p in chosen
                    ]
                },
                "id": topic.id,
            }
        )


async def update_topic(request: Request, state: ForumState, user: UserRec | None) -> Response:
    assert user is not None
    topic_id = _int_param(request.path_params["topic_id"], "id")
    params = await read_params(request)
    with state._lock:
        topic = _visible_topic(state, user, topic_id)
        if not user.staff and user.trust_level < 2 and topic.user_id != user.id:
            raise invalid_access()
        # Core's TopicsController#update: a present (non-blank) original_title/original_tags
        # that no longer matches the topic is an edit conflict.
        original_title = params.get("original_title")
        if original_title and str(original_title) != topic.title:
            raise edit_conflict()
        original_tags = params.get("original_tags")
        if isinstance(original_tags, str):
            original_tags = [original_tags]
        if original_tags and sorted(map(str, original_tags)) != sorted(topic.tags):
            raise edit_conflict()
        if "tags" in params:
            tags = params["tags"] or []
            if isinstance(tags, str):
                tags = [tags]
            state.set_tags(topic.id, [str(t) for t in tags])
        if params.get("title"):
            topic.title = str(params["title"])
        if params.get("category_id") not in (None, ""):
            cid = _int_param(params["category_id"], "category_id")
            if cid not in state.categories:
                raise invalid_access()
            topic.category_id = cid
        count = len(state.posts_in_topic(topic.id))
        return _json(
            {
                "basic_topic": {
                    "id": topic.id,
                    "title": topic.title,
                    "fancy_title": topic.title,
                    "slug": topic.slug,
                    "posts_count": count,
                }
            }
        )


async def topic_status(request: Request, state: ForumState, user: UserRec | None) -> Response:
    assert user is not None
    topic_id = _int_param(request.path_params["topic_id"], "id")
    params = await read_params(request)
    status = params.get("status")
    enabled = str(params.get("enabled", "")).lower() == "true"
    with state._lock:
        topic = _visible_topic(state, user, topic_id)
        if not user.staff:
            raise invalid_access()
        if status == "closed":
            topic.closed = enabled
        elif status == "archived":
            topic.archived = enabled
        elif status == "visible":
            topic.visible = enabled
        elif status not in ("pinned", "pinned_globally"):
            raise ForumError(
                400,
                ["You supplied invalid parameters to the request: status"],
                "invalid_parameters",
            )
    return _json({"success": "OK", "topic_status_update": None})


# ---- search, users, site ----------------------------------------------------------------------


async def search(request: Request, state: ForumState, user: UserRec | None) -> Response:
    q = (request.query_params.get("q") or request.query_params.get("term") or "").strip()
    if len(q) < 3:
        raise ForumError(400, ["Your search term is too short."], "invalid_parameters")
    terms = [t.lower() for t in q.split() if ":" not in t and not t.startswith(("@", "#"))]
    with state._lock:
        hits = []
        for post in reversed(state.posts.values()):
            topic = state.topics.get(post.topic_id)
            if topic is None or topic.archetype == "private_message":
                continue
            if post.deleted_at or not state.can_see_post(user, post):
                continue
            text = f"{topic.title}\n{post.raw}".lower()
            if terms and all(t in text for t in terms):
                hits.append(post)
            if len(hits) >= 50:
                break
        posts = []
        topic_ids: list[int] = []
        for post in hits:
            owner = state.users[post.user_id]
            posts.append(
                {
                    "id": post.id,
                    "name": owner.name,
                    "username": owner.username,
                    "avatar_template": ser._avatar(owner),
                    "created_at": post.created_at,
                    "like_count": 0,
                    "blurb": post.raw[:200],
                    "post_number": post.post_number,
                    "topic_id": post.topic_id,
                }
            )
            if post.topic_id not in topic_ids:
                topic_ids.append(post.topic_id)
        topics = []
        for tid in topic_ids:
            t = state.topics[tid]
            topics.append(
                {
                    "id": t.id,
                    "title": t.title,
                    "fancy_title": t.title,
                    "slug": t.slug,
                    "posts_count": len(state.posts_in_topic(t.id)),
                    "archetype": t.archetype,
                    "closed": t.closed,
                    "archived": t.archived,
                    "visible": t.visible,
                    "category_id": t.category_id,
                    "tags": list(t.tags),
                    "created_at": t.created_at,
                }
            )
        return _json(
            {
                "posts": posts,
                "topics": topics,
                "users": [],
                "categories": [],
                "tags": [],
                "groups": [],
                "grouped_search_result": {
                    "more_posts": None,
                    "more_users": None,
                    "more_categories": None,
                    "term": q,
                    "search_log_id": 0,
                    "more_full_page_results": None,
                    "can_create_topic": user is not None,
                    "error": None,
                    "post_ids": [p.id for p in hits],
                    "user_ids": [],
                    "category_ids": [],
                    "tag_ids": [],
                    "group_ids": [],
                },
            }
        )


async def show_user(request: Request, state: ForumState, user: UserRec | None) -> Response:
    username = request.path_params["username"]
    with state._lock:
        target = state.find_user(username)
        if target is None:
            raise not_found()
        return _json(ser.user_json(state, target))


async def current_session(request: Request, state: ForumState, user: UserRec | None) -> Response:
    if user is None:
        raise not_found()
    with state._lock:
        return _json({"current_user": ser.user_json(state, user)["user"]})


async def site(request: Request, state: ForumState, user: UserRec | None) -> Response:
    with state._lock:
        return _json(ser.site_json(state))


async def categories(request: Request, state: ForumState, user: UserRec | None) -> Response:
    with state._lock:
        cats = ser.site_json(state)["categories"]
    return _json(
        {
            "category_list": {
                "can_create_category": bool(user and user.staff),
                "can_create_topic": user is not None,
                "categories": cats,
            }
        }
    )


async def not_found_route(request: Request) -> Response:
    return _error(not_found())


# API paths that Rails also serves without `.json` when the request sends
# `Accept: application/json` (the format comes from the header; API_NOTES.md 2).
_FORMATLESS_API = re.compile(
    r"^/(posts|posts/\d+|post_actions|t/\d+|t/[^/]+/\d+|t/\d+/(posts|status)|search"
    r"|u/[^/]+|session/current|site|categories)$"
)


class JSONFormatFromAccept:
    """Route `/t/123` with `Accept: application/json` as `/t/123.json`, as Rails does."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and not path.endswith(".json") and _FORMATLESS_API.match(path):
            accept = b""
            for name, value in scope.get("headers") or []:
                if name == b"accept":
                    accept = value.lower()
            if b"application/json" in accept:
                path += ".json"
                scope = {**scope, "path": path, "raw_path": path.encode()}
        await self.app(scope, receive, send)


def create_app(state: ForumState) -> Any:
    """The ASGI app for `state` (wrapped in the fault-injection middleware)."""
    routes = [
        Route("/posts.json", api(latest_posts), methods=["GET"]),
        Route("/posts.json", api(create_post, write=True), methods=["POST"]),
        Route("/posts/{post_id}.json", api(show_post), methods=["GET"]),
        Route("/posts/{post_id}.json", api(update_post, write=True), methods=["PUT"]),
        Route("/post_actions.json", api(post_action, write=True), methods=["POST"]),
        Route("/t/{topic_id:int}.json", api(show_topic), methods=["GET"]),
        Route("/t/{slug}/{topic_id:int}.json", api(show_topic), methods=["GET"]),
        Route("/t/{topic_id:int}/posts.json", api(topic_posts), methods=["GET"]),
        Route("/t/{topic_id:int}/status.json", api(topic_status, write=True), methods=["PUT"]),
        Route("/t/-/{topic_id:int}.json", api(update_topic, write=True), methods=["PUT"]),
        Route("/t/{slug}/{topic_id:int}.json", api(update_topic, write=True), methods=["PUT"]),
        Route("/search.json", api(search), methods=["GET"]),
        Route("/u/{username}.json", api(show_user), methods=["GET"]),
        Route("/session/current.json", api(current_session), methods=["GET"]),
        Route("/site.json", api(site), methods=["GET"]),
        Route("/categories.json", api(categories), methods=["GET"]),
        Route("/review.json", api(review_list), methods=["GET"]),
        *sso_routes(),
    ]
    app = Starlette(routes=routes)
    app.state.forum = state
    app.state.session_cookie = SESSION_COOKIE
    app.add_exception_handler(404, lambda request, exc: _error(not_found()))
    return FaultMiddleware(JSONFormatFromAccept(app), state)
