"""Shared set-up for the runner's tests: an in-process forum and a rule-based fake triager.

The fake triager stands in for the trained engine so these tests pin the runner's
behaviour (policy, intents, modes, clusters), not the classifier's.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bot.config import Config
from bot.discourse.client import DiscourseClient, RetryPolicy
from bot.discourse.ratelimit import RateLimiter
from bot.forum_sim.app import create_app
from bot.forum_sim.state import ForumState
from bot.known_issues import KnownIssue, load_dir
from bot.runner.services import Services
from bot.store import Store
from bot.triage.types import Answer, Decision, Thread

SCOPES = "unauthorized_scopes_readonly_key"
DATA = Path(__file__).resolve().parent.parent / "data" / "known_issues"


@functools.cache
def _entry(slug: str) -> KnownIssue:
    return next(i for i in load_dir(DATA) if i.slug == slug)


@dataclass
class FakeTriager:
    """Rules: 'api.all.read' -> reply; 'maybe-scopes' -> review; 'ERR_NEW_<word>' -> escalate."""

    calls: list[Thread] = field(default_factory=list)

    def decide(self, thread: Thread) -> Decision:
        self.calls.append(thread)
        text = thread.first_post
        secrets = bool(re.search(r"sk-[A-Za-z0-9]{20,}", text))
        if "api.all.read" in text:
            return Decision(
                id=thread.id,
                action="reply",
                issue=SCOPES,
                confidence=0.97,
                fingerprint="unauthorized scopes: api.all.read",
                error_strings=("Request includes unauthorized scopes: api.all.read",),
                # Like the engine: a reply to a post with a key opens with the notice.
                answer=Answer(
                    _entry(SCOPES),
                    "Request includes unauthorized scopes: api.all.read",
                    ("openai_key",) if secrets else (),
                ),
                is_error_report=True,
                secrets_found=secrets,
                model_version="fake-1",
            )
        if "maybe-scopes" in text:
            return Decision(
                id=thread.id,
                action="review",
                issue=SCOPES,
                confidence=0.6,
                fingerprint=None,
                answer=Answer(_entry(SCOPES), None),
                model_version="fake-1",
            )
        m = re.search(r"ERR_NEW_(\w+)", text)
        if m:
            err = f"ERR_NEW_{m.group(1)}"
            return Decision(
                id=thread.id,
                action="escalate",
                issue=None,
                confidence=0.0,
                fingerprint=f"err_new_{m.group(1).lower()}",
                normalised=err.lower(),
                error_strings=(err,),
                is_error_report=True,
                secrets_found=secrets,
                model_version="fake-1",
            )
        return Decision(
            id=thread.id,
            action="ignore",
            issue=None,
            confidence=0.1,
            fingerprint=None,
            secrets_found=secrets,
            model_version="fake-1",
        )


def make_forum(rate_limit: int = 100_000) -> ForumState:
    state = ForumState(rate_limit_per_minute=rate_limit)
    state.add_user("alice")
    state.add_user("bob")
    state.add_user("carol")
    state.add_user("mod", moderator=True)
    return state


_TEMPLATE: dict[str, Path] = {}


def make_store(tmp_path: Path) -> Store:
    """A database with the packaged known issues (built once per session, then copied)."""
    import shutil
    import tempfile

    if "db" not in _TEMPLATE:
        path = Path(tempfile.mkdtemp(prefix="runner-tpl-")) / "template.db"
        store = Store.open(path)
        with store.transaction():
            for entry in load_dir(DATA):
                store.save_issue(entry, author="test", action="import")
        store.close()
        _TEMPLATE["db"] = path
    target = tmp_path / "bot.db"
    shutil.copy(_TEMPLATE["db"], target)
    return Store.open(target)


def make_services(
    state: ForumState,
    store: Store,
    *,
    mode: str = "auto",
    triager: FakeTriager | None = None,
    **overrides: object,
) -> Services:
    key = state.add_api_key("triagebot")
    config = Config(
        forum_url="http://forum.test",
        api_key=key,
        api_username="triagebot",
        mode=mode,
        db_path=str(store.db.conn),
        **overrides,  # type: ignore[arg-type]
    )
    app = create_app(state)

    def factory() -> DiscourseClient:
        http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://forum.test",
            timeout=httpx.Timeout(5.0),
        )
        client = DiscourseClient(
            http,
            api_key=key,
            api_username="triagebot",
            limiter=RateLimiter(per_minute=100_000),
            retry=RetryPolicy(
                base_delay=0.01,
                max_delay=0.05,
                default_429_wait=0.05,
                max_429_wait=0.2,
                slack_429=0.0,
            ),
        )
        client.aclose = http.aclose  # type: ignore[attr-defined]
        return client

    return Services(
        config=config, store=store, client_factory=factory, triager=triager or FakeTriager()
    )


def bot_posts(state: ForumState) -> list[dict]:
    return state.posts_by("triagebot")


ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def forum_process(*options: str) -> Iterator[tuple[str, str]]:
    """`triagebot forum serve --port 0 OPTIONS` as a real process: yields the base URL
    and the bot's API key it prints, and stops it (SIGINT, then kill) afterwards."""
    cmd = [sys.executable, "-m", "bot", "forum", "serve", "--port", "0", *options]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})  # fmt: skip
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 20
        while len(lines) < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline() if proc.stdout else ""
            if not line:
                break
            lines.append(line.strip())
        assert lines and lines[0].startswith("Forum: http://127.0.0.1:"), lines
        yield lines[0].split(": ", 1)[1], lines[1].split(": ", 1)[1]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
