"""Sign-in and sign-out through DiscourseConnect (see bot.web.auth)."""

from __future__ import annotations

import hmac

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.web.auth import (
    NotStaff,
    SSOError,
    StaffUser,
    build_sso_url,
    consume_nonce,
    issue_nonce,
    new_nonce,
    parse_sso_response,
    safe_next,
    user_from_payload,
)
from bot.web.common import form_action, redirect, render, render_error, web


async def login(request: Request) -> Response:
    """Start a DiscourseConnect round trip with a fresh single-use nonce."""
    ctx = web(request)
    target = safe_next(request.query_params.get("next"))
    if StaffUser.from_session(request.session.get("user")) is not None:
        return redirect(target)
    nonce = new_nonce()
    issue_nonce(ctx.store, nonce)
    request.session["sso_nonce"] = nonce
    request.session["next"] = target
    return_url = ctx.config.public_url.rstrip("/") + "/auth/sso"
    return redirect(build_sso_url(ctx.config.forum_url, ctx.config.sso_secret, nonce, return_url))


async def sso_callback(request: Request) -> Response:
    """The forum's signed answer: verify, consume the nonce, admit staff only."""
    ctx = web(request)
    expected = request.session.pop("sso_nonce", None)
    target = safe_next(request.session.pop("next", None))
    try:
        fields = parse_sso_response(
            ctx.config.sso_secret,
            request.query_params.get("sso", ""),
            request.query_params.get("sig", ""),
        )
        nonce = fields.get("nonce", "")
        # The nonce must be the one this browser started with (no login CSRF)
        # and still unused on the server (no replay of a captured payload).
        if not (isinstance(expected, str) and hmac.compare_digest(expected, nonce)):
            raise SSOError("sign-in: this answer does not belong to your sign-in; start again")
        if not consume_nonce(ctx.store, nonce):
            raise SSOError("sign-in: this answer was already used or has expired; start again")
        user = user_from_payload(fields, ctx.config.dashboard_groups)
    except NotStaff as exc:
        request.session.clear()
        return render(request, "denied.html.j2", {"message": str(exc)}, status=403)
    except SSOError as exc:
        request.session.clear()
        return render_error(request, 403, str(exc))
    request.session.clear()
    request.session["user"] = user.to_session()
    return redirect(target)


async def logout(request: Request, form: FormData) -> Response:
    request.session.clear()
    return redirect("/auth/signed-out")


async def signed_out(request: Request) -> Response:
    return render(request, "signed_out.html.j2")


async def healthz(request: Request) -> Response:
    return PlainTextResponse("ok")


ROUTES = [
    Route("/auth/login", login, methods=["GET"]),
    Route("/auth/sso", sso_callback, methods=["GET"]),
    Route("/auth/logout", form_action(logout), methods=["POST"]),
    Route("/auth/signed-out", signed_out, methods=["GET"]),
    Route("/healthz", healthz, methods=["GET"]),
]
