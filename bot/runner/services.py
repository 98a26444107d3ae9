"""The wiring every long-running part shares, built once per process.

`Services` is a plain dataclass (no globals): the configuration, the store, a
factory for the forum client and the triager. The forum client is created on
first use and shared, so every forum call in one process goes through one rate
limiter and one connection pool.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.config import Config
from bot.store import Store
from bot.triage.types import Decision, Thread


class TriagerLike(Protocol):
    """What the runner needs from the triage engine."""

    def decide(self, thread: Thread) -> Decision: ...


class ForumClient(Protocol):
    """The subset of `bot.discourse.DiscourseClient` the runner calls."""

    async def latest_posts(self, before: int | None = None) -> list[Any]: ...

    def posts_since(self, after_id: int, *, max_pages: int | None = None) -> AsyncIterator[Any]: ...

    async def get_topic(self, topic_id: int) -> Any: ...

    async def get_post(self, post_id: int) -> Any: ...

    async def create_post(
        self,
        topic_id: int,
        raw: str,
        reply_to_post_number: int | None = None,
        *,
        whisper: bool = False,
    ) -> Any: ...

    async def send_private_message(
        self, title: str, raw: str, target_recipients: Sequence[str]
    ) -> Any: ...

    async def create_topic(
        self, title: str, raw: str, category_id: int | None = None, tags: Sequence[str] = ()
    ) -> Any: ...

    async def flag_post(
        self, post_id: int, flag: str = "notify_moderators", message: str | None = None
    ) -> Any: ...

    async def revise_post(
        self,
        post_id: int,
        revise: Callable[[Any], str | None],
        *,
        edit_reason: str | None = None,
    ) -> Any: ...

    async def aclose(self) -> None: ...


@dataclass
class _Held:
    lock: asyncio.Lock
    users: int = 0


@dataclass
class Services:
    """Everything a runner part needs. Build with `build_services` or directly in tests."""

    config: Config
    store: Store
    client_factory: Callable[[], ForumClient]
    triager: TriagerLike
    # Rebuilds the triager from known issues read from the store (run in a worker
    # thread, it may retrain); None keeps `triager` for the life of the process.
    triager_builder: Callable[[list[Any]], TriagerLike] | None = None
    issues_version: int | None = None
    # Created lazily by `client()`; one per process so the rate budget is shared.
    _client: ForumClient | None = field(default=None, repr=False)
    # One lock per intent / post id: a webhook, the catch-up poll and the
    # reconcile loop may reach the same item at once inside one process.
    _locks: dict[str, _Held] = field(default_factory=dict, repr=False)
    # This process's Prometheus registry (bot.metrics); one per Services, never global.
    metrics: Any = field(init=False, repr=False)

    def __post_init__(self) -> None:
        from bot.metrics import Metrics

        self.metrics = Metrics(self)

    @property
    def mode(self) -> str:
        return self.config.mode

    def client(self) -> ForumClient:
        if self._client is None:
            self._client = self.client_factory()
        return self._client

    @contextlib.asynccontextmanager
    async def lock(self, key: str) -> AsyncIterator[None]:
        """Hold the lock for `key`; it is forgotten once nobody holds or awaits it."""
        entry = self._locks.get(key)
        if entry is None:
            entry = self._locks[key] = _Held(asyncio.Lock())
        entry.users += 1
        try:
            async with entry.lock:
                yield
        finally:
            entry.users -= 1
            if entry.users == 0:
                self._locks.pop(key, None)

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            self.metrics.absorb_client(client)
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()


def build_services(
    config: Config,
    store: Store,
    *,
    triager: TriagerLike | None = None,
    client_factory: Callable[[], ForumClient] | None = None,
) -> Services:
    """The production wiring: the real Discourse client and the real triager."""
    builder = None
    if triager is None:
        builder = _engine_builder(config)
        triager = builder(store.list_issues())
    if client_factory is None:

        def client_factory() -> ForumClient:
            from bot.runner.forum import make_client

            return make_client(config)

    return Services(
        config=config,
        store=store,
        client_factory=client_factory,
        triager=triager,
        triager_builder=builder,
        issues_version=issues_version(store),
    )


def issues_version(store: Store) -> int:
    """Changes whenever a maintainer edits any known issue (a history row is added)."""
    row = store.db.execute("SELECT COALESCE(MAX(id), 0) FROM issue_history").fetchone()
    return int(row[0])


def _engine_builder(config: Config) -> Callable[[list[Any]], TriagerLike]:
    """Build the engine like `Triager.from_store`, from issues read beforehand.

    Reading the issues is left to the caller (on the event loop's thread) so that
    the build itself, which may retrain the model, can run in a worker thread
    without sharing the database connection.
    """
    from pathlib import Path

    from bot.triage.engine import Triager, ensure_model
    from bot.triage.training_data import load_training_dir

    def build(issues: list[Any]) -> TriagerLike:
        examples = load_training_dir(config.resolved_data_dir() / "training")
        cache = Path(config.db_path).expanduser().resolve().parent / ".triagebot-models"
        model = ensure_model(issues, examples, config.resolved_models_dir(), cache)
        return Triager(issues, model, config)

    return build
