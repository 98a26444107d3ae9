"""Sliding-window rate limiting, shared by the client (pacing) and the local forum (enforcing).

Discourse's own limiter keeps the timestamps of the last N actions and refuses an action while
N of them fall inside the window; `SlidingWindow` is that algorithm. Clock and sleep are
injected so tests can run the real code on a fake or scaled clock.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


class SlidingWindow:
    """At most `limit` events in any `window` seconds. Thread-safe; never blocks."""

    def __init__(self, limit: int, window: float = 60.0, clock: Clock = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("rate limit needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: deque[float] = deque()
        self._lock = threading.Lock()

    def try_acquire(self) -> tuple[bool, float]:
        """Record an event if allowed. Returns (allowed, seconds until a slot frees)."""
        with self._lock:
            now = self._clock()
            while self._events and self._events[0] <= now - self.window:
                self._events.popleft()
            if len(self._events) < self.limit:
                self._events.append(now)
                return True, 0.0
            return False, max(0.0, self._events[0] + self.window - now)

    def reset(self) -> None:
        with self._lock:
            self._events.clear()


class RateLimiter:
    """Client-side pacing: at most `per_minute` requests per `window` seconds (one event loop).

    A slot's time is taken when its response *arrives*, not when the request leaves, so the
    server (which counts on arrival) can never see more than the budget in its own window,
    whatever the latency or concurrency. In-flight requests hold their slot until done.
    """

    def __init__(
        self,
        per_minute: int = 60,
        *,
        window: float = 60.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        poll_interval: float | None = None,
    ) -> None:
        if per_minute < 1 or window <= 0:
            raise ValueError("rate limiter needs per_minute >= 1 and window > 0")
        self.per_minute = per_minute
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._poll = poll_interval if poll_interval is not None else min(0.05, window / 50)
        # Each entry is a completion time, or +inf while the request is in flight.
        self._slots: list[float] = []
        self._paused_until = 0.0
        self.waited_seconds = 0.0

    def now(self) -> float:
        """This limiter's clock (injected in tests), for callers that pace alongside it."""
        return self._clock()

    def pause_until(self, deadline: float) -> None:
        """Hold every caller until `deadline` (clock time), e.g. after a site-wide 429."""
        self._paused_until = max(self._paused_until, deadline)

    def pause_for(self, seconds: float) -> None:
        self.pause_until(self._clock() + max(0.0, seconds))

    def _wait_needed(self) -> float:
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now
        self._slots = [t for t in self._slots if t > now - self.window]
        if len(self._slots) < self.per_minute:
            return 0.0
        oldest = min(self._slots)
        if math.isinf(oldest):
            return self._poll
        return max(oldest + self.window - now, 1e-6)

    async def acquire(self) -> None:
        """Wait for a slot; pair every call with one `release`."""
        while True:
            wait = self._wait_needed()
            if wait <= 0:
                self._slots.append(math.inf)
                return
            self.waited_seconds += wait
            await self._sleep(wait)

    def release(self) -> None:
        """Mark the oldest in-flight slot as completed now."""
        now = self._clock()
        for i, t in enumerate(self._slots):
            if math.isinf(t):
                self._slots[i] = now
                return

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        await self.acquire()
        try:
            yield
        finally:
            self.release()
