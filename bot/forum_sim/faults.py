"""Fault injection for the local forum, settable per test."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Faults:
    """What the local forum does wrong on purpose. All rates are probabilities in [0, 1].

    `burst_429` answers the next N API requests with a JSON 429 (Retry-After and
    `extras.wait_seconds` = `burst_wait_seconds`); `html_429` answers the next N with the nginx
    shape (HTML, no Retry-After), or, set to True, turns the `burst_429` responses into that
    shape; `text_429` answers the next N with the middleware's text/plain shape. Counters
    decrement as they fire. `timeout_paths` + `timeout_seconds` stall matching paths (to test
    client timeouts over loopback). `raw_as_document` serves every post's raw as a structured
    document (a list of blocks, the shape of a real capture in ../shared/discourse/
    topic_posts.json) instead of text. `rng` is seeded so a failing test replays exactly.
    """

    latency: float = 0.0
    error_rate_5xx: float = 0.0
    burst_429: int = 0
    burst_wait_seconds: int = 1
    html_429: int | bool = 0
    text_429: int = 0
    drop_connections: float = 0.0
    malformed_json: float = 0.0
    timeout_paths: tuple[str, ...] = ()
    timeout_seconds: float = 0.0
    raw_as_document: bool = False
    rng: random.Random = field(default_factory=lambda: random.Random(1234))

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def clear(self) -> None:
        self.latency = 0.0
        self.error_rate_5xx = 0.0
        self.burst_429 = 0
        self.html_429 = 0
        self.text_429 = 0
        self.drop_connections = 0.0
        self.malformed_json = 0.0
        self.timeout_paths = ()
        self.timeout_seconds = 0.0
        self.raw_as_document = False
