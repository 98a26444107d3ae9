"""Grouping error reports that match no known issue.

A report joins the open cluster with the same fingerprint; failing that, the
open cluster whose *anchor* (the normalised error that founded it) is most
similar, if above the threshold. Comparing only with anchors, never with other
members, keeps weak links from chaining unrelated reports together.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass

from bot.store import Store, utcnow

DEFAULT_THRESHOLD = 0.7
_TOKEN = re.compile(r"[a-z][a-z0-9_.]+")


@dataclass(frozen=True)
class Assignment:
    cluster_id: int
    created: bool
    count: int
    notify_level: int | None  # a size just reached that staff should hear about


def _grams(text: str) -> Counter[str]:
    tokens = _TOKEN.findall(text.lower())
    grams: Counter[str] = Counter(tokens)
    grams.update(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))
    return grams


def similarity(a: str, b: str) -> float:
    """Cosine similarity of word and word-pair counts (0..1)."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    dot = sum(ga[k] * gb[k] for k in ga.keys() & gb.keys())
    norm = math.sqrt(sum(v * v for v in ga.values())) * math.sqrt(sum(v * v for v in gb.values()))
    return dot / norm if norm else 0.0


def notify_levels(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """Staff hear when a cluster appears (size 1) and when it crosses each size."""
    return tuple(sorted({1, *sizes}))


def assign_report(
    store: Store,
    *,
    fingerprint: str | None,
    normalised: str,
    error_string: str,
    post_id: int,
    topic_id: int,
    username: str,
    title: str,
    excerpt: str,
    sizes: tuple[int, ...],
    threshold: float = DEFAULT_THRESHOLD,
) -> Assignment:
    """Add one report (call inside the decision's transaction)."""
    existing = store.cluster_report_for_post(post_id)
    if existing is not None:
        row = store.get_cluster(existing.cluster_id)
        count = row.count if row else 0
        return Assignment(existing.cluster_id, False, count, None)
    key = normalised or error_string or title
    open_rows = store.list_clusters("open")
    chosen = None
    if fingerprint:
        chosen = next((r for r in open_rows if r.fingerprint == fingerprint), None)
    if chosen is None and key:
        best, best_score = None, threshold
        for row in open_rows:
            score = similarity(key, row.normalised or row.title)
            if score >= best_score:
                best, best_score = row, score
        chosen = best
    created = chosen is None
    now = utcnow()
    if chosen is None:
        cluster_id = store.add_cluster(
            {
                "fingerprint": fingerprint or "",
                "normalised": key,
                "title": (error_string or title or key)[:160],
                "count": 0,
                "reporters": "[]",
                "first_seen": now,
                "last_seen": now,
            }
        )
        chosen = store.get_cluster(cluster_id)
        assert chosen is not None
    reporters = list(chosen.reporters)
    if username not in reporters:
        reporters.append(username)
    count = chosen.count + 1
    store.update_cluster(chosen.id, count=count, reporters=json.dumps(reporters), last_seen=now)
    store.add_cluster_report(
        {
            "cluster_id": chosen.id,
            "post_id": post_id,
            "topic_id": topic_id,
            "username": username,
            "title": title[:200],
            "excerpt": excerpt[:500],
            "error_string": error_string[:500],
        }
    )
    # Levels crossed by this one report: each is announced once, never per post.
    crossed = [lv for lv in notify_levels(sizes) if count - 1 < lv <= count]
    return Assignment(chosen.id, created, count, crossed[0] if crossed else None)
