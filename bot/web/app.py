"""The staff dashboard as one Starlette app: `create_app(config, store, ...)`.

Access is default-deny: `StaffGate` lets a request through only with a staff
session, except the sign-in routes, static files and `extra_routes` (the
webhook endpoint, which authenticates by its own signature).
"""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from bot.config import Config
from bot.errors import UserError
from bot.store import Store
from bot.web.auth import StaffUser
from bot.web.common import WebContext, make_templates, render_error
from bot.web.pages import ROUTES

STATIC_DIR = Path(__file__).resolve().parent / "static"
SESSION_COOKIE = "triagebot_session"
SESSION_MAX_AGE = 8 * 3600
PUBLIC_PATHS = frozenset({"/auth/login", "/auth/sso", "/auth/signed-out", "/healthz"})
PUBLIC_PREFIXES = ("/static/",)

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


class WebConfigError(UserError):
    """The dashboard cannot start with this configuration."""


class SecurityHeaders:
    """CSP and friends on every response, including errors and redirects."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                extra = {
                    b"content-security-policy": CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"same-origin",
                }
                if not scope["path"].startswith("/static/"):
                    extra[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in extra.items() if k not in names)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class StaffGate:
    """Default deny: no page or action without a staff session."""

    def __init__(
        self, app: ASGIApp, open_paths: frozenset[str], open_prefixes: tuple[str, ...]
    ) -> None:
        self.app = app
        self.open_paths = open_paths
        self.open_prefixes = open_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path in self.open_paths or path.startswith(self.open_prefixes):
            await self.app(scope, receive, send)
            return
        user = StaffUser.from_session(scope.get("session", {}).get("user"))
        if user is None:
            response: Response
            if scope["method"] in ("GET", "HEAD"):
                target = path + (
                    ("?" + scope["query_string"].decode()) if scope["query_string"] else ""
                )
                response = RedirectResponse(f"/auth/login?next={quote(target)}", status_code=303)
            else:
                response = PlainTextResponse("Sign in as staff first.", status_code=403)
            await response(scope, receive, send)
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)


def _route_paths(routes: Sequence[BaseRoute]) -> tuple[frozenset[str], tuple[str, ...]]:
    paths: set[str] = set()
    prefixes: list[str] = []
    for route in routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if isinstance(route, Mount):
            prefixes.append(path.rstrip("/") + "/")
        else:
            paths.add(path)
    return frozenset(paths), tuple(prefixes)


def create_app(
    config: Config,
    store: Store,
    *,
    services: Any = None,
    extra_routes: Sequence[BaseRoute] = (),
) -> Starlette:
    """The dashboard. `services` (bot.runner.services.Services) powers the queue
    buttons; `extra_routes` carry their own authentication (e.g. the webhook)."""
    for key in ("session_secret", "sso_secret", "forum_url"):
        if not getattr(config, key):
            raise WebConfigError(f"{key}: required for the dashboard; set TRIAGEBOT_{key.upper()}")
    if len(config.session_secret) < 16:
        raise WebConfigError("session_secret: must be at least 16 characters")

    ctx = WebContext(config=config, store=store, services=services, templates=make_templates())
    extra_paths, extra_prefixes = _route_paths(extra_routes)
    routes: list[BaseRoute] = [
        *ROUTES,
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
        *extra_routes,
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return render_error(request, exc.status_code, str(exc.detail))

    async def user_error(request: Request, exc: Exception) -> Response:
        return render_error(request, 400, str(exc))

    async def server_error(request: Request, exc: Exception) -> Response:
        return render_error(request, 500, "Something went wrong; the error was logged.")

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(
                SessionMiddleware,
                secret_key=config.session_secret,
                session_cookie=SESSION_COOKIE,
                max_age=SESSION_MAX_AGE,
                # Lax, not Strict: the forum's redirect back after sign-in is a
                # cross-site top-level GET that must carry the session cookie.
                same_site="lax",
                https_only=config.public_url.startswith("https://"),
            ),
            Middleware(
                StaffGate,
                open_paths=PUBLIC_PATHS | extra_paths,
                open_prefixes=PUBLIC_PREFIXES + extra_prefixes,
            ),
        ],
        exception_handlers={
            HTTPException: http_error,
            UserError: user_error,
            Exception: server_error,
        },
    )
    app.state.web = ctx
    return app
