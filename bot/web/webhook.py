"""`POST /webhooks/discourse`: verify, de-duplicate, answer fast, process in the background.

Discourse redelivers with new event ids, so de-duplication is on
(event, post id, post version). The response is sent before the post is
triaged; the work runs as a background task through the same
`process_post` as the poller. If the process dies before the task finishes,
the catch-up poll (or, for edits, the post's absent `seen` mark) covers it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.discourse.errors import WebhookError
from bot.discourse.webhooks import parse_event
from bot.runner.pipeline import process_post
from bot.runner.services import Services

log = logging.getLogger(__name__)
POST_EVENTS = ("post_created", "post_edited")
# Discourse's post payloads are a few kilobytes (a post's raw text is capped at 32,000
# characters by default, plus its cooked HTML); anything far larger is not from it, and
# is refused before it is read into memory or hashed.
MAX_BODY = 1024 * 1024


async def read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None once it is known to exceed `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


class WebhookWorker:
    """Holds the background tasks so they are not garbage-collected mid-flight."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.tasks: set[asyncio.Task[Any]] = set()
        # Bounded like the poller: a burst of deliveries queues here, not at the forum.
        self._slots = asyncio.Semaphore(max(1, services.config.concurrency))
        self.processed = 0
        self.errors = 0

    def submit(self, post: Any) -> None:
        task = asyncio.create_task(self._run(post))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _run(self, post: Any) -> None:
        try:
            async with self._slots:
                await process_post(self.services, post)
            self.processed += 1
        except Exception:  # noqa: BLE001 - the catch-up poll retries it
            self.errors += 1
            log.exception("webhook post %s not processed; the catch-up poll will retry", post.id)

    async def drain(self, timeout: float = 10.0) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout)


def webhook_routes(services: Services, worker: WebhookWorker | None = None) -> list[Route]:
    """The webhook endpoint(s) to add to the ASGI app."""
    worker = worker if worker is not None else WebhookWorker(services)

    async def receive(request: Request) -> JSONResponse:
        body = await read_capped(request, MAX_BODY)
        if body is None:
            return JSONResponse({"error": f"payload larger than {MAX_BODY} bytes"}, status_code=413)
        secret = services.config.webhook_secret
        if not secret:
            return JSONResponse({"error": "webhook secret not configured"}, status_code=503)
        try:
            event = parse_event(request.headers, body, secret)
        except WebhookError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status or 400)
        if event.event == "ping" or "ping" in event.payload:
            return JSONResponse({"ok": True, "ping": True})
        if event.event not in POST_EVENTS or event.post is None:
            return JSONResponse({"ok": True, "ignored": event.event or "unknown"})
        post = event.post
        key = f"{event.event}:{post.id}:{post.version}"
        if not services.store.add_webhook_event(key, str(event.event_id or "")):
            return JSONResponse({"ok": True, "duplicate": True})
        worker.submit(post)
        return JSONResponse({"ok": True, "queued": post.id})

    return [Route("/webhooks/discourse", receive, methods=["POST"])]
