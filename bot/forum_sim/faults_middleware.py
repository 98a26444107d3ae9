"""ASGI middleware applying `state.faults` to API requests (not to the login/SSO pages)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from bot.forum_sim.state import ForumState

EXEMPT_PREFIXES = ("/login", "/logout", "/session/sso_provider", "/_sim")

NGINX_429 = (
    b"<html>\r\n<head><title>429 Too Many Requests</title></head>\r\n<body>\r\n"
    b"<center><h1>429 Too Many Requests</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class DroppedConnection(httpx.RemoteProtocolError):
    """Raised after the response started: uvicorn aborts the socket; in-process callers see
    the same httpx error a real dropped connection produces."""

    def __init__(self) -> None:
        super().__init__("Server disconnected without sending a complete response")


async def _send_simple(
    send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers = [*headers, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class FaultMiddleware:
    def __init__(self, app: Any, state: ForumState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        faults = self.state.faults
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if faults.timeout_seconds > 0 and any(
            scope["path"].startswith(p) for p in faults.timeout_paths
        ):
            await asyncio.sleep(faults.timeout_seconds)
        if faults.burst_429 > 0 and faults.html_429 is True:
            # html_429 as a flag: the burst comes from nginx (HTML, no Retry-After).
            faults.burst_429 -= 1
            await _send_simple(send, 429, NGINX_429, [(b"content-type", b"text/html")])
            return
        if faults.burst_429 > 0:
            faults.burst_429 -= 1
            wait = int(faults.burst_wait_seconds)
            body = json.dumps(
                {
                    "errors": [
                        "You\u2019ve performed this action too many times. "
                        f"Please wait {wait} seconds before trying again."
                    ],
                    "error_type": "rate_limit",
                    "extras": {"wait_seconds": wait, "time_left": f"{wait} seconds"},
                }
            ).encode()
            await _send_simple(
                send,
                429,
                body,
                [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"retry-after", str(wait).encode()),
                    (b"discourse-rate-limit-error-code", b"admin_api_key_rate_limit"),
                ],
            )
            return
        if faults.text_429 > 0:
            faults.text_429 -= 1
            wait = int(faults.burst_wait_seconds)
            body = (
                f"Slow down, you're making too many requests.\nPlease retry again in {wait} "
                "seconds.\nError code: ip_10_secs_limit.\n"
            ).encode()
            await _send_simple(
                send,
                429,
                body,
                [
                    (b"content-type", b"text/plain"),
                    (b"retry-after", str(wait).encode()),
                    (b"discourse-rate-limit-error-code", b"ip_10_secs_limit"),
                ],
            )
            return
        if faults.html_429 is not True and faults.html_429 > 0:
            faults.html_429 -= 1
            await _send_simple(send, 429, NGINX_429, [(b"content-type", b"text/html")])
            return
        if faults.roll(faults.error_rate_5xx):
            status = faults.rng.choice((500, 502, 503))
            body = (
                b"<html><body><h1>Oops</h1></body></html>"
                if status != 503
                else json.dumps(
                    {"errors": ["The site is in read only mode."], "error_type": "read_only"}
                ).encode()
            )
            ctype = b"text/html" if status != 503 else b"application/json; charset=utf-8"
            await _send_simple(send, status, body, [(b"content-type", ctype)])
            return
        if faults.roll(faults.drop_connections):
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"512"),
                    ],
                }
            )
            raise DroppedConnection()
        if faults.roll(faults.malformed_json):
            await self._malformed(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _malformed(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Run the request for real, then corrupt a successful JSON body (truncate it)."""
        captured: dict[str, Any] = {"status": 500, "headers": [], "body": b""}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
                captured["headers"] = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")

        await self.app(scope, receive, capture)
        body = captured["body"]
        if 200 <= captured["status"] < 300 and body:
            body = body[: max(1, len(body) // 2)]
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != b"content-length"]
        await _send_simple(send, captured["status"], body, headers)
