"""Serve a ForumState over real HTTP on loopback, in a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from bot.errors import UserError
from bot.forum_sim.app import create_app
from bot.forum_sim.state import ForumState
from bot.net import listen_socket


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the main thread owns signals
        pass


@contextmanager
def serve(
    state: ForumState, host: str = "127.0.0.1", port: int = 0, *, log_level: str = "warning"
) -> Iterator[str]:
    """Run the forum with uvicorn until the block exits; yields its base URL."""
    sock = listen_socket(host, port, failure="Cannot listen", nodelay=True)
    bound_port = sock.getsockname()[1]
    base_url = f"http://{host}:{bound_port}"
    state.base_url = base_url
    config = uvicorn.Config(
        create_app(state), log_level=log_level, access_log=False, lifespan="off"
    )
    server = _Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="forum-sim", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise UserError("The local forum failed to start")
        time.sleep(0.01)
    try:
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()
        state.close()
