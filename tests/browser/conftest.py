"""A real local forum, the runner and the dashboard on loopback, for Playwright tests.

The triager is scripted (the dashboard is under test here, not the classifier):
posts quoting `WidgetError` are unknown reports (escalated and clustered), posts
quoting `insufficient_quota` are grey-zone matches (drafted for review).
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from bot.config import Config, project_root
from bot.forum_sim.server import serve as serve_forum
from bot.forum_sim.state import BOT_USERNAME, ForumState
from bot.issue_admin import import_dir
from bot.known_issues import load_dir
from bot.runner.poller import poll_once
from bot.runner.services import Services, build_services
from bot.store import Store
from bot.triage.types import Answer, Decision, Thread
from bot.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = project_root() / "test-artifacts"
XSS_TITLE = '<img src=x onerror="window.__xss=1"> WidgetError everywhere'
XSS_BODY = "<script>window.__xss = 2</script> WidgetError: frobnication failed (code 77)"
PASSWORD = "correct horse battery"
QUOTA = next(
    i for i in load_dir(project_root() / "data" / "known_issues") if i.slug == "insufficient_quota"
)


class ScriptedTriager:
    def decide(self, thread: Thread) -> Decision:
        text = thread.first_post
        widget = re.search(r"WidgetError: frobnication failed \(code \d+\)", text)
        if widget:
            return Decision(
                id=thread.id,
                action="escalate",
                issue=None,
                confidence=0.1,
                fingerprint="widgeterror:frobnication-failed",
                error_strings=(widget.group(0),),
                normalised="WidgetError: frobnication failed (code <n>)",
                is_error_report=True,
                reasons=("error report matching no known issue",),
            )
        gadget = re.search(r"GadgetError: spline overflow", text)
        if gadget:
            return Decision(
                id=thread.id,
                action="escalate",
                issue=None,
                confidence=0.1,
                fingerprint="gadgeterror:spline-overflow",
                error_strings=(gadget.group(0),),
                normalised="GadgetError: spline overflow",
                is_error_report=True,
                reasons=("error report matching no known issue",),
            )
        if "insufficient_quota" in text:
            return Decision(
                id=thread.id,
                action="review",
                issue="insufficient_quota",
                confidence=0.55,
                fingerprint="insufficient_quota",
                error_strings=("insufficient_quota",),
                answer=Answer(QUOTA, "insufficient_quota"),
                is_error_report=True,
                reasons=("grey zone: 0.55 between thresholds",),
            )
        return Decision(id=thread.id, action="ignore", issue=None, confidence=0.0, fingerprint=None)


@dataclass
class Stack:
    forum_url: str
    dashboard_url: str
    state: ForumState
    store: Store
    services: Services
    widget_topics: list[int]
    gadget_topic: int
    quota_topic: int


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test thread owns signals
        pass


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _serve_in_thread(app, sock: socket.socket) -> tuple[_Server, threading.Thread]:  # type: ignore[no-untyped-def]
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="dashboard", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "dashboard did not start"
        time.sleep(0.01)
    return server, thread


def _seed_forum(state: ForumState) -> tuple[list[int], int, int]:
    state.add_user("alice", admin=True, password=PASSWORD, name="Alice Admin")
    state.add_user("bob", password=PASSWORD, name="Bob Member")
    widget = [
        state.create_topic(
            "ann", "Widget API fails", "Since today: WidgetError: frobnication failed (code 12)"
        )["topic_id"],
        state.create_topic("ben", XSS_TITLE, XSS_BODY)["topic_id"],
    ]
    gadget = state.create_topic(
        "dee", "Gadget trouble", "Our gadget job died with GadgetError: spline overflow"
    )["topic_id"]
    quota = state.create_topic(
        "cid", "Quota error on a new account", "Every call returns insufficient_quota, help?"
    )["topic_id"]
    return widget, gadget, quota


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (make browser-deps)")
    state = ForumState()
    state.sso_secret = "local-forum-sso-secret-0123456789"
    for name in ("ann", "ben", "cid", "dee"):
        state.add_user(name)
    widget, gadget, quota = _seed_forum(state)
    api_key = state.add_api_key(BOT_USERNAME)
    with serve_forum(state) as forum_url:
        sock = _free_socket()
        dashboard_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        config = Config(
            db_path=str(tmp_path_factory.mktemp("db") / "triagebot.db"),
            forum_url=forum_url,
            api_username=BOT_USERNAME,
            api_key=api_key,
            mode="auto",
            sso_secret=state.sso_secret,
            session_secret="dashboard-session-secret-0123456789",
            public_url=dashboard_url,
        )
        store = Store.open(config.db_path)
        import_dir(store, project_root() / "data" / "known_issues", author="seed")
        services = build_services(config, store, triager=ScriptedTriager())

        async def first_poll() -> None:
            await poll_once(services)
            await services.aclose()  # the dashboard's loop makes its own client

        asyncio.run(first_poll())
        app = create_app(config, store, services=services)
        server, thread = _serve_in_thread(app, sock)
        try:
            yield Stack(forum_url, dashboard_url, state, store, services, widget, gadget, quota)
        finally:
            server.should_exit = True
            thread.join(timeout=5)
            sock.close()
            store.close()


@pytest.fixture(scope="module")
def browser(stack: Stack):  # type: ignore[no-untyped-def]
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
