"""`GET /metrics` (Prometheus text exposition format) and `GET /healthz`.

Served beside the webhook, outside the staff sign-in (Prometheus scrapes without a
session), so it carries counts only: no post text, usernames or secrets. Keep the
port on a private network or behind the reverse proxy's allow-list.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.metrics import CONTENT_TYPE


def metrics_routes(services: Any) -> list[Route]:
    async def metrics(request: Request) -> Response:
        return Response(services.metrics.render(), media_type=CONTENT_TYPE)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    # /healthz is the dashboard's too; this one answers when only the webhook is served.
    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
    ]
