"""Prometheus metrics for one running bot, in a registry of its own (never the global one).

Totals that the database already records (decisions by action, replies, drafts,
clusters, corrections) are read from it at scrape time, so they survive restarts
and agree with the dashboard; what only the process sees (forum requests, 429s,
triage latency) is counted here. Each `Services` owns one `Metrics`, so tests and
a second bot in the same process never share counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        services = self.metrics.services
        counts = services.store.metrics_counts()
        decisions = CounterMetricFamily(
            "triagebot_decisions", "Posts decided, by the action taken.", labels=["action"]
        )
        for action, n in sorted(counts["decisions"].items()):
            decisions.add_metric([action], n)
        yield decisions
        yield CounterMetricFamily(
            "triagebot_replies_posted", "Replies the bot posted in topics.", counts["replies"]
        )
        yield CounterMetricFamily(
            "triagebot_corrections",
            "Corrections of AI-generated or wrong advice in decided posts.",
            counts["corrections"],
        )
        yield GaugeMetricFamily(
            "triagebot_drafts_waiting", "Drafts waiting for staff review.", counts["drafts_pending"]
        )
        yield GaugeMetricFamily(
            "triagebot_open_clusters", "Escalation clusters still open.", counts["clusters_open"]
        )
        requests, limited = self.metrics.forum_counts()
        yield CounterMetricFamily(
            "triagebot_forum_requests", "HTTP requests sent to the forum API.", requests
        )
        yield CounterMetricFamily(
            "triagebot_forum_rate_limited", "Forum responses that were HTTP 429.", limited
        )


class Metrics:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.registry = CollectorRegistry(auto_describe=True)
        self.triage_seconds = Histogram(
            "triagebot_triage_seconds",
            "Time to decide one post (extraction, patterns, model).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        # Counts of forum clients already closed (a client is recreated after aclose).
        self._closed_requests = 0
        self._closed_429s = 0
        self.registry.register(_Collector(self))

    @contextmanager
    def time_triage(self) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.triage_seconds.observe(time.perf_counter() - started)

    def forum_counts(self) -> tuple[int, int]:
        stats = getattr(self.services._client, "stats", None)
        requests = self._closed_requests + (getattr(stats, "requests", 0) or 0)
        limited = self._closed_429s + (getattr(stats, "rate_limited_429s", 0) or 0)
        return requests, limited

    def absorb_client(self, client: Any) -> None:
        """Keep a closing client's counts so the totals never go down."""
        stats = getattr(client, "stats", None)
        self._closed_requests += getattr(stats, "requests", 0) or 0
        self._closed_429s += getattr(stats, "rate_limited_429s", 0) or 0

    def render(self) -> bytes:
        return generate_latest(self.registry)
