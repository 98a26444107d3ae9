"""Granular admin API keys: which route each scope unlocks, as Discourse checks it.

Discourse checks a granular key's scopes while it authenticates the request
(`lookup_api_user` returns nil unless `api_key.request_allowed?`), before any
controller runs, so a route the key does not cover answers 403 with the
"API username or key is invalid" body whatever the parameters. The mapping is the
subset of core `app/models/api_key_scope.rb` (`default_mappings`) the bot touches;
`global:read` unlocks every GET. No granular scope covers `post_actions#create`
or `session#current`, as in Discourse.
"""

from __future__ import annotations

import re

from bot.forum_sim.state import ForumError, ForumState, invalid_access

# (scope, method, path regex) -> one controller action each.
ROUTE_SCOPES: tuple[tuple[str, str, re.Pattern[str]], ...] = tuple(
    (scope, method, re.compile(pattern))
    for scope, method, pattern in (
        ("posts:list", "GET", r"^/posts\.json$"),
        ("topics:read", "GET", r"^/t/(?:[^/]+/)?\d+\.json$"),
        ("topics:read", "GET", r"^/t/\d+/posts\.json$"),
        ("topics:write", "POST", r"^/posts\.json$"),
        ("topics:update", "PUT", r"^/t/(?:[^/]+/)?\d+\.json$"),
        ("topics:update", "PUT", r"^/t/\d+/status\.json$"),
        ("topics:status", "PUT", r"^/t/\d+/status\.json$"),
        ("posts:edit", "PUT", r"^/posts/\d+\.json$"),
        ("search:show", "GET", r"^/search\.json$"),
        ("categories:list", "GET", r"^/categories\.json$"),
        ("users:show", "GET", r"^/u/[^/]+\.json$"),
    )
)
KNOWN_SCOPES = frozenset({"global:read"} | {s for s, _, _ in ROUTE_SCOPES})


def add_granular_api_key(state: ForumState, username: str | None, scopes: set[str]) -> str:
    """A new key that may only call the routes its `scopes` unlock."""
    unknown = set(scopes) - KNOWN_SCOPES
    if unknown:
        raise ValueError(f"unknown scopes: {', '.join(sorted(unknown))}")
    key = state.add_api_key(username)
    with state._lock:
        state.api_key_scopes[key] = frozenset(scopes)
    return key


def permits(scopes: frozenset[str], method: str, path: str) -> bool:
    if method in ("GET", "HEAD") and "global:read" in scopes:
        return True
    return any(scope in scopes and method == m and rx.match(path) for scope, m, rx in ROUTE_SCOPES)


def require_scope(state: ForumState, api_key: str | None, method: str, path: str) -> None:
    """Raise Discourse's 403 when a granular key does not cover this route."""
    if not api_key:
        return
    scopes = state.api_key_scopes.get(api_key)
    if scopes is None:  # a Global key: anything the acting user may do
        return
    if not permits(scopes, method.upper(), path):
        raise invalid_access(
            "You are not permitted to view the requested resource. "
            "The API username or key is invalid."
        )


__all__ = ["ForumError", "add_granular_api_key", "permits", "require_scope", "KNOWN_SCOPES"]
