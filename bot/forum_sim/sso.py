"""DiscourseConnect provider and a minimal login page for the local forum.

Implements Discourse's `GET /session/sso_provider?sso=<base64>&sig=<hex HMAC-SHA256>`: the
payload carries `nonce` and `return_sso_url`; a logged-in user is redirected back with a signed
payload describing them (nonce, external_id, username, name, email, admin, moderator, groups).
As in core, a visitor who is not logged in is redirected to /login (the request waits in a
cookie and resumes after signing in); `prompt=none` answers at once with `failed=true`;
`logout=true` signs out and returns; a bad or missing signature is a plain-text 422 and a
missing `return_sso_url` a plain-text 400.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.forum_sim.state import ForumState, UserRec

SESSION_COOKIE = "_forum_session"


def sso_sign(payload: str, secret: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def encode_payload(params: dict[str, str]) -> str:
    return base64.b64encode(urlencode(params).encode()).decode()


def decode_payload(payload: str) -> dict[str, str]:
    decoded = base64.b64decode(payload.encode(), validate=False).decode("utf-8")
    return {k: v[0] for k, v in parse_qs(decoded, keep_blank_values=True).items()}


def _serializer(state: ForumState) -> URLSafeSerializer:
    return URLSafeSerializer(state.cookie_secret, salt="forum-session")


def session_user(request: Request, state: ForumState) -> UserRec | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        username = _serializer(state).loads(token)
    except BadSignature:
        return None
    return state.find_user(str(username))


def _safe_return(target: str) -> str:
    # Only local paths: the login form must not become an open redirect.
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/"):
        return "/"
    return target


def _login_page(return_to: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    message = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    body = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Log in - local forum</title></head>
<body><main><h1>Log in</h1>{message}
<form method="post" action="/login">
<input type="hidden" name="return_to" value="{html.escape(return_to)}">
<label>Username <input name="username" id="login-account-name" autocomplete="username" required></label>
<label>Password <input name="password" id="login-account-password" type="password" required></label>
<button type="submit" id="login-button">Log in</button>
</form></main></body></html>"""
    return HTMLResponse(body, status_code=status)


async def login_form(request: Request) -> Response:
    return _login_page(_safe_return(request.query_params.get("return_to", "/")))


async def login_submit(request: Request) -> Response:
    state: ForumState = request.app.state.forum
    form = await request.form()
    username = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    return_to = _safe_return(str(form.get("return_to", "/")))
    user = state.find_user(username) if username else None
    if user is None or not user.password or not hmac.compare_digest(user.password, password):
        return _login_page(return_to, "Incorrect username or password.", 401)
    pending_sso = request.cookies.get(SSO_PAYLOAD_COOKIE)
    if pending_sso:
        return_to = "/session/sso_provider?" + pending_sso
    response = RedirectResponse(return_to, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, _serializer(state).dumps(user.username), httponly=True, samesite="lax"
    )
    if pending_sso:
        response.delete_cookie(SSO_PAYLOAD_COOKIE)
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


SSO_PAYLOAD_COOKIE = "sso_payload"
# core's answers (SessionController#sso_provider): plain text, not JSON
LOGIN_ERROR = "Login Error"  # discourse_connect.login_error; never says why (it would leak)
BLANK_RETURN_URL = "return_sso_url is blank, it must be provided"


def _plain(message: str, status: int) -> PlainTextResponse:
    return PlainTextResponse(message, status_code=status)


def _signed_redirect(return_url: str, params: dict[str, str], secret: str) -> RedirectResponse:
    payload = encode_payload(params)
    separator = "&" if urlsplit(return_url).query else "?"
    target = return_url + separator + urlencode({"sso": payload, "sig": sso_sign(payload, secret)})
    return RedirectResponse(target, status_code=302)


async def sso_provider(request: Request) -> Response:
    state: ForumState = request.app.state.forum
    secret = state.sso_secret
    if not secret:
        return JSONResponse(
            {"errors": ["The requested URL or resource could not be found."],
             "error_type": "not_found"},
            status_code=404,
        )  # fmt: skip
    sso = request.query_params.get("sso", "")
    sig = request.query_params.get("sig", "")
    # A missing or wrong signature and an undecodable payload are one ParseError in core: 422.
    if not sso or not sig or not hmac.compare_digest(sso_sign(sso, secret), sig.lower()):
        return _plain(LOGIN_ERROR, 422)
    try:
        params = decode_payload(sso)
    except (ValueError, UnicodeDecodeError):
        return _plain(LOGIN_ERROR, 422)
    nonce = params.get("nonce", "")
    return_url = params.get("return_sso_url", "")
    if not return_url:
        return _plain(BLANK_RETURN_URL, 400)
    if urlsplit(return_url).scheme not in ("http", "https"):
        return _plain("Invalid value for return_sso_url", 400)
    user = session_user(request, state)
    if params.get("logout") == "true":
        # Sign the visitor out of the forum and send them back (core: destroy with return_url).
        response = RedirectResponse(return_url, status_code=302)
        response.delete_cookie(SESSION_COOKIE)
        return response
    if user is None:
        if params.get("prompt") == "none":
            # "Only if already signed in": answer at once with a signed failure, no login page.
            return _signed_redirect(
                return_url,
                {"nonce": nonce, "return_sso_url": return_url, "failed": "true"},
                secret,
            )
        # core keeps the request in a cookie and sends the browser to /login; the login
        # resumes the provider request afterwards.
        response = RedirectResponse("/login", status_code=302)
        response.set_cookie(SSO_PAYLOAD_COOKIE, request.url.query, httponly=True, samesite="lax")
        return response
    return _signed_redirect(
        return_url,
        {
            "nonce": nonce,
            "external_id": str(user.id),
            "username": user.username,
            "name": user.name,
            "email": user.email,
            "admin": "true" if user.admin else "false",
            "moderator": "true" if user.moderator else "false",
            "groups": ",".join(state.user_groups(user)),
            "return_sso_url": return_url,
        },
        secret,
    )


def sso_routes() -> list[Route]:
    return [
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login_submit, methods=["POST"]),
        Route("/logout", logout, methods=["GET", "POST"]),
        Route("/session/sso_provider", sso_provider, methods=["GET"]),
    ]
