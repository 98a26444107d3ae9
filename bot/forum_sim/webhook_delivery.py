"""Background webhook delivery, so the request that caused an event never waits on it.

Like Discourse (with `retry_web_hook_events` off, its default), each event is POSTed once;
every attempt is recorded for tests, including failures.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

import httpx

from bot.discourse.webhooks import sign

DELIVERY_TIMEOUT = 5.0


class WebhookDispatcher:
    def __init__(
        self, timeout: float = DELIVERY_TIMEOUT, user_agent: str = "Discourse/3.4.0"
    ) -> None:
        self._timeout = timeout
        self._user_agent = user_agent
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self.deliveries: list[dict[str, Any]] = []

    def _ensure_thread(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="forum-webhooks", daemon=True
                )
                self._thread.start()

    def submit(
        self,
        *,
        url: str,
        secret: str,
        event: str,
        event_type: str,
        event_id: int,
        instance: str,
        body: bytes,
    ) -> None:
        headers = {
            "Accept": "*/*",
            "Connection": "close",
            "Content-Type": "application/json",
            "User-Agent": self._user_agent,
            "X-Discourse-Instance": instance,
            "X-Discourse-Event-Id": str(event_id),
            "X-Discourse-Event-Type": event_type,
            "X-Discourse-Event": event,
        }
        if secret:
            headers["X-Discourse-Event-Signature"] = sign(body, secret)
        self._ensure_thread()
        self._queue.put({"url": url, "headers": headers, "body": body, "event": event})

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as http:
            while True:
                job = self._queue.get()
                if job is None:
                    return
                started = time.monotonic()
                record: dict[str, Any] = {
                    "url": job["url"],
                    "event": job["event"],
                    "headers": job["headers"],
                    "body": job["body"],
                    "status": None,
                    "error": None,
                }
                try:
                    response = http.post(job["url"], content=job["body"], headers=job["headers"])
                    record["status"] = response.status_code
                except httpx.HTTPError as exc:
                    record["error"] = f"{type(exc).__name__}: {exc}"
                record["duration"] = time.monotonic() - started
                with self._done:
                    self.deliveries.append(record)
                    self._done.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        """Block until at least `count` deliveries were attempted (True) or timeout (False)."""
        deadline = time.monotonic() + timeout
        with self._done:
            while len(self.deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._done.wait(left)
            return True

    def close(self) -> None:
        with self._lock:
            thread = self._thread
            self._thread = None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=self._timeout + 1)
