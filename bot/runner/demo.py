"""The demo: a seeded local forum, the bot over HTTP in auto mode, a report of what it did."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.config import Config
from bot.errors import UserError
from bot.forum_sim.state import ForumState
from bot.known_issues import load_dir
from bot.runner import poller
from bot.runner.intents import reconcile_pending
from bot.runner.services import Services, TriagerLike, build_services
from bot.store import Store

STAFF_USER = "staff1"


@dataclass
class ThreadResult:
    label: str
    title: str
    topic_id: int
    author: str
    action: str
    issue: str | None
    confidence: float
    reasons: list[str]
    bot_posts: list[str] = field(default_factory=list)


@dataclass
class DemoReport:
    threads: list[ThreadResult]
    clusters: list[Any]
    staff_messages: list[dict[str, Any]]
    drafts: list[Any]
    flags: list[dict[str, Any]]
    seconds: float


def default_threads_path(config: Config) -> Path:
    return config.resolved_data_dir() / "demo" / "threads.jsonl"


def make_forum(threads_path: Path) -> tuple[ForumState, list[dict[str, Any]], list[int], str]:
    """A forum seeded from the demo threads, with the bot's key and a staff login."""
    if not threads_path.is_file():
        raise UserError(f"demo: threads file {threads_path} not found")
    rows = [json.loads(line) for line in threads_path.read_text().splitlines() if line.strip()]
    state = ForumState(rate_limit_per_minute=60)
    topics = state.seed(rows)
    key = state.add_api_key("triagebot")
    return state, rows, topics, key


def prepare_store(db_path: str, config: Config) -> Store:
    store = Store.open(db_path)
    entries = load_dir(config.resolved_data_dir() / "known_issues")
    with store.transaction():
        for entry in entries:
            store.save_issue(entry, author="demo", action="import")
    return store


async def run_until_decided(
    services: Services, state: ForumState, *, timeout: float = 120.0
) -> None:
    """Poll from the forum's first post until every member post is decided."""
    services.store.set_state(poller.CURSOR_KEY, "0")
    deadline = time.monotonic() + timeout
    stats = poller.PollStats()
    while True:
        await poller.poll_once(services, stats)
        await reconcile_pending(services)
        with state._lock:
            member = [
                (p.id, p.version)
                for p in state.posts.values()
                if state.users[p.user_id].username != services.config.api_username
            ]
        if all(services.store.is_seen(i, v) for i, v in member) and not (
            services.store.pending_intents()
        ):
            return
        if time.monotonic() > deadline:
            raise UserError("demo: the bot did not finish in time")
        await asyncio.sleep(0.2)


def collect(
    services: Services, state: ForumState, rows: list[dict[str, Any]], topics: list[int]
) -> DemoReport:
    from bot.runner import queues

    store = services.store
    results = []
    for row, topic_id in zip(rows, topics, strict=True):
        posts = state.topic_posts(topic_id)
        first = posts[0]
        decisions = store.list_decisions(post_id=first["id"], limit=1)
        d = decisions[0] if decisions else None
        bot = [p["raw"] for p in posts if p["username"] == services.config.api_username]
        results.append(
            ThreadResult(
                label=str(row.get("id", topic_id)),
                title=row["title"],
                topic_id=topic_id,
                author=first["username"],
                action=d.action if d else "?",
                issue=d.issue if d else None,
                confidence=d.confidence if d else 0.0,
                reasons=list(d.reasons) if d else [],
                bot_posts=bot,
            )
        )
    pms = [
        p
        for p in state.posts_by(services.config.api_username)
        if p["archetype"] == "private_message"
    ]
    return DemoReport(
        threads=results,
        clusters=queues.list_clusters(services, None),
        staff_messages=pms,
        drafts=queues.list_drafts(services, None),
        flags=list(state.flags),
        seconds=0.0,
    )


def demo_config(
    base: Config, *, forum_url: str, api_key: str, db_path: str, **extra: Any
) -> Config:
    return replace(
        base,
        forum_url=forum_url,
        api_key=api_key,
        api_username="triagebot",
        db_path=db_path,
        mode="auto",
        poll_interval=0.5,
        rate_limit_per_min=60,
        **extra,
    )


def new_secret() -> str:
    return secrets.token_urlsafe(24)


def build_demo_services(
    config: Config, store: Store, triager_factory: Callable[[], TriagerLike] | None
) -> Services:
    triager = triager_factory() if triager_factory else None
    return build_services(config, store, triager=triager)
