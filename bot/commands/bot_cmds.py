"""`triagebot run`, `triagebot serve` and `triagebot demo`: the running bot."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
import socket
import sys
import time
from typing import TYPE_CHECKING, Any

import click

from bot import net
from bot.commands.context import AppContext
from bot.config import MODES, Config
from bot.errors import UserError

# The runner (httpx, the store, the engine's imports) is imported by the commands that
# run it: `--help` and the other commands start without it.
if TYPE_CHECKING:
    from bot.runner.poller import PollStats, StartSpec
    from bot.runner.services import Services


def _configure(app: AppContext, **overrides: Any) -> Config:
    values = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(app.config, **values) if values else app.config


def _install_stop(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM finish the posts in hand, persist the cursor, then exit."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on some platforms.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def _logging(verbose: bool, log_format: str = "text") -> None:
    from bot.logs import configure_logging

    configure_logging(verbose=verbose, log_format=log_format)


_log_format_option = click.option(
    "--log-format",
    type=click.Choice(("text", "json")),
    default="text",
    envvar="TRIAGEBOT_LOG_FORMAT",
    show_default=True,
    help="Log lines as text or as one JSON object each (for log collectors).",
)


def _preflight(config: Config, purpose: str, *, model: bool = True) -> None:
    """The checks of `triagebot check`: refuse to start on a permanent failure."""
    from bot.checks import preflight

    preflight(config, purpose=purpose, check_model_fresh=model)


def _banner(services: Services, url: str | None = None) -> None:
    """One line at start-up, so an admin sees what is running without -v."""
    from bot.logs import banner

    click.echo(banner(services, url))


@click.command()
@click.option(
    "--mode", type=click.Choice(MODES), default=None, help="Override the configured mode."
)
@click.option(
    "--backfill",
    type=click.IntRange(min=1),
    default=None,
    help="On start, also process the N most recent posts (default: start at 'now').",
)
@click.option(
    "--since",
    metavar="DATE",
    default=None,
    help="On start, also process posts created since this ISO date/time.",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Seconds between polls (default: poll_interval from the config).",
)
@click.option("--once", is_flag=True, help="Poll once, deliver pending writes, and exit.")
@click.option(
    "--triager",
    "triager_path",
    metavar="MODULE:CLASS",
    default=None,
    help="Use another triager, given as module:Class (a plug-in or a test double).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every poll and forum write.")
@_log_format_option
@click.pass_obj
def run(
    app: AppContext,
    mode: str | None,
    backfill: int | None,
    since: str | None,
    interval: float | None,
    once: bool,
    triager_path: str | None,
    verbose: bool,
    log_format: str,
) -> None:
    """Watch the forum by polling /posts.json and act on each new post exactly once.

    Progress is kept in the database: a restart (or a crash) resumes from the last
    post whose decision was recorded, and pending forum writes are checked against
    the forum before anything is retried.
    """
    _logging(verbose, log_format)
    if backfill is not None and since is not None:
        raise UserError("--backfill and --since: choose one")
    from bot.runner.poller import StartSpec, parse_since
    from bot.runner.services import build_services

    if since is not None:
        parse_since(since)
    config = _configure(app, mode=mode, poll_interval=interval)
    _require_forum(config)
    _require_issues(app)
    # A plug-in triager brings its own model: the engine's freshness is not its concern.
    _preflight(config, "run", model=triager_path is None)
    services = build_services(config, app.store, triager=load_triager_class(triager_path))
    _banner(services)
    stats = asyncio.run(_run(services, StartSpec(backfill, since), once))
    click.echo(
        f"Stopped after {stats.polls} poll(s): {stats.decided} post(s) decided, "
        f"{stats.failed} failure(s) to retry."
    )


def _require_issues(app: AppContext) -> None:
    # Without known issues every post would be escalated: refuse rather than start wrong.
    if not app.store.list_issues():
        raise UserError(
            f"database: {app.config.db_path} has no known issues; run `triagebot init` first"
        )


def _require_forum(config: Config) -> None:
    if not config.forum_url:
        raise UserError("forum_url: not set; set it in triagebot.toml or TRIAGEBOT_FORUM_URL")


def load_triager_class(path: str | None):  # type: ignore[no-untyped-def]
    """An instance of `module:Class`, or None for the default engine."""
    if not path:
        return None
    import importlib

    module_name, _, attr = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise UserError(f"--triager: cannot load {path!r}: {exc}") from None
    return cls()


# A forum still unreachable after this many polls at start (each with the client's own
# retries) ends `run` with exit code 1 rather than waiting silently.
START_ATTEMPTS = 10


async def _run(services: Services, start: StartSpec, once: bool) -> PollStats:
    from bot.runner.poller import run_loop

    stop = asyncio.Event()
    _install_stop(stop)
    if once:

        def after_first(_: PollStats) -> None:
            stop.set()

        try:
            # The client has already retried each request within its own bound.
            return await run_loop(
                services, stop=stop, interval=0.01, start=start, on_poll=after_first,
                start_attempts=1, fail_fast=True,
            )  # fmt: skip
        finally:
            await services.aclose()
    try:
        return await run_loop(
            services, stop=stop, interval=services.config.poll_interval, start=start,
            start_attempts=START_ATTEMPTS,
        )  # fmt: skip
    finally:
        await services.aclose()


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8080,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="Port to listen on.",
)
@click.option(
    "--mode", type=click.Choice(MODES), default=None, help="Override the configured mode."
)
@click.option(
    "--catchup-interval",
    type=click.FloatRange(min=0.01),
    default=None,
    help="Seconds between catch-up polls for missed webhooks (default: 4x poll_interval).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log requests and forum writes.")
@_log_format_option
@click.pass_obj
def serve(
    app: AppContext,
    host: str,
    port: int,
    mode: str | None,
    catchup_interval: float | None,
    verbose: bool,
    log_format: str,
) -> None:
    """Serve the webhook endpoint (and the dashboard when configured) with a catch-up poll.

    Discourse posts to /webhooks/discourse; each delivery is verified,
    de-duplicated by post and version, answered at once and processed in the
    background. A slower poll of /posts.json covers deliveries that never came.
    """
    _logging(verbose, log_format)
    config = _configure(app, mode=mode)
    _require_forum(config)
    _require_issues(app)
    if not config.webhook_secret:
        raise UserError(
            "webhook_secret: required to verify deliveries; set TRIAGEBOT_WEBHOOK_SECRET"
        )
    # Bound before anything slow, so a port in use fails at once, in one line.
    sock = listen_socket(host, port)
    _preflight(config, "serve")
    from bot.runner.services import build_services

    services = build_services(config, app.store)
    interval = catchup_interval or config.poll_interval * 4
    _banner(services, f"http://{host}:{port}")
    asyncio.run(
        serve_forever(
            services, host=host, port=port, interval=interval, verbose=verbose, sockets=[sock]
        )
    )


def listen_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket for the web app, or UserError naming the option and address."""
    return net.listen_socket(host, port, failure="--port: cannot listen")


def build_asgi(services: Services):  # type: ignore[no-untyped-def]
    """The dashboard with the webhook route, or the webhook alone if the dashboard is not set up."""
    from starlette.applications import Starlette

    from bot.web.metrics import metrics_routes
    from bot.web.webhook import WebhookWorker, webhook_routes

    worker = WebhookWorker(services)
    # Both authenticate on their own (signature; nothing secret served), outside the staff gate.
    routes = [*webhook_routes(services, worker), *metrics_routes(services)]
    try:
        from bot.web.app import create_app

        asgi = create_app(services.config, services.store, services=services, extra_routes=routes)
        has_dashboard = True
    except (ImportError, UserError) as exc:
        logging.getLogger(__name__).warning("dashboard not served: %s", exc)
        asgi = Starlette(routes=routes)
        has_dashboard = False
    return asgi, worker, has_dashboard


async def serve_forever(
    services: Services,
    *,
    host: str,
    port: int,
    interval: float,
    verbose: bool = False,
    started: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    sockets: list | None = None,  # type: ignore[type-arg]
) -> None:
    import uvicorn

    asgi, worker, _ = build_asgi(services)
    server = uvicorn.Server(
        uvicorn.Config(
            asgi,
            host=host,
            port=port,
            log_level="info" if verbose else "warning",
            access_log=verbose,
            lifespan="on",
            # Our handlers (text or JSON, bot.logs) format uvicorn's records too.
            log_config=None,
        )
    )
    stop = stop or asyncio.Event()
    serve_task = asyncio.create_task(server.serve(sockets=sockets))
    from bot.runner.poller import run_loop

    poll_task = asyncio.create_task(run_loop(services, stop=stop, interval=interval))
    while not server.started and not serve_task.done():
        await asyncio.sleep(0.01)
    if started is not None:
        started.set()
    stopper = asyncio.create_task(stop.wait())
    # The poll ends on its own only when the forum refuses the bot for good (ForumUnusable).
    await asyncio.wait({serve_task, stopper, poll_task}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stop.set()
    await asyncio.gather(serve_task, return_exceptions=True)
    await worker.drain()
    (polled,) = await asyncio.gather(poll_task, return_exceptions=True)
    stopper.cancel()
    await services.aclose()
    if isinstance(polled, UserError):
        raise polled


@click.command()
@click.option(
    "--threads",
    "threads_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Demo threads JSONL (default: the packaged data/demo/threads.jsonl).",
)
@click.option(
    "--keep-running",
    is_flag=True,
    help="Leave the forum, the bot (webhooks + catch-up poll) and the dashboard up until Ctrl-C.",
)
@click.option(
    "--port",
    default=0,
    type=click.IntRange(0, 65535),
    help="Port for the bot's web app with --keep-running (0 picks a free port).",
)
@click.option(
    "--patterns-only",
    is_flag=True,
    help="Match known-issue patterns only (no trained classifier; starts faster).",
)
@click.option(
    "--triager",
    "triager_path",
    metavar="MODULE:CLASS",
    default=None,
    help="Use another triager, given as module:Class (a plug-in or a test double).",
)
@click.pass_obj
def demo(
    app: AppContext,
    threads_path: str | None,
    keep_running: bool,
    port: int,
    patterns_only: bool,
    triager_path: str | None,
) -> None:
    """Run the bot against a local forum seeded with demo threads and show what it did.

    Starts the local Discourse-compatible forum on loopback, seeds it, runs the
    bot over HTTP in auto mode until every post is decided, then prints a table
    per thread, the replies it posted and the escalation queue.
    """
    import shutil
    import tempfile
    from pathlib import Path

    from rich.console import Console

    from bot.forum_sim.server import serve as serve_forum
    from bot.runner import demo as demo_lib

    # Piped to a file or a CI log, rich would fall back to 80 columns and wrap the table.
    console = Console(width=None if sys.stdout.isatty() else 140)
    base = app.config
    path = Path(threads_path) if threads_path else demo_lib.default_threads_path(base)
    # Bound first: a port in use fails before the demo runs, not after it.
    sock = listen_socket("127.0.0.1", port) if keep_running else None
    # A throw-away database unless --db names one; removed at the end, so runs leave
    # nothing in /tmp.
    workdir = None if app.db_path else Path(tempfile.mkdtemp(prefix="triagebot-demo-"))
    db_path = app.db_path or str(Path(workdir or ".") / "demo.db")
    store = None
    try:
        state, rows, topics, key = demo_lib.make_forum(path)
        store = demo_lib.prepare_store(db_path, base)
        sso_secret, session_secret = demo_lib.new_secret(), demo_lib.new_secret()
        staff_password = demo_lib.new_secret()[:12]
        state.sso_secret = sso_secret
        state.add_user(demo_lib.STAFF_USER, moderator=True, trust_level=4, password=staff_password)
        with serve_forum(state) as forum_url:
            config = demo_lib.demo_config(
                base, forum_url=forum_url, api_key=key, db_path=db_path,
                sso_secret=sso_secret, session_secret=session_secret,
                webhook_secret=demo_lib.new_secret(),
            )  # fmt: skip
            console.print(
                f"[bold]Local forum[/] {forum_url}: seeded {len(topics)} threads from {path}"
            )
            triager = load_triager_class(triager_path)
            if triager is None:
                with console.status(
                    "Loading the triage engine (trains the model if data changed)..."
                ):
                    from bot.triage.engine import Triager

                    triager = (
                        Triager(store.list_issues(), None, config)
                        if patterns_only
                        else Triager.from_store(store, config)
                    )
            from bot.runner.services import build_services

            services = build_services(config, store, triager=triager)
            started = time.monotonic()
            with console.status("The bot is reading the forum over HTTP (auto mode)..."):
                asyncio.run(_demo_run(services, state))
            report = demo_lib.collect(services, state, rows, topics)
            report.seconds = time.monotonic() - started
            _print_report(console, report, config)
            if keep_running:
                asyncio.run(_keep_running(services, state, console, sock, staff_password))
    finally:
        if store is not None:
            store.close()
        if sock is not None:
            sock.close()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)


async def _demo_run(services: Services, state) -> None:  # type: ignore[no-untyped-def]
    from bot.runner.demo import run_until_decided

    try:
        await run_until_decided(services, state)
    finally:
        await services.aclose()


async def _keep_running(services, state, console, sock, staff_password: str) -> None:  # type: ignore[no-untyped-def]
    bot_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    services.config = dataclasses.replace(services.config, public_url=bot_url)
    state.add_webhook(f"{bot_url}/webhooks/discourse", services.config.webhook_secret)
    _, _, has_dashboard = build_asgi(services)
    started, stop = asyncio.Event(), asyncio.Event()
    _install_stop(stop)
    task = asyncio.create_task(
        serve_forever(
            services, host="127.0.0.1", port=0, interval=5.0, started=started, stop=stop,
            sockets=[sock],
        )
    )  # fmt: skip
    await started.wait()
    console.print()
    console.print(f"[bold]Forum[/]      {services.config.forum_url}  (API key user: triagebot)")
    console.print(f"[bold]Webhook[/]    {bot_url}/webhooks/discourse")
    if has_dashboard:
        console.print(
            f"[bold]Dashboard[/]  {bot_url}/  (sign in on the forum as "
            f"{STAFF_LOGIN} / {staff_password})"
        )
    console.print(f"[bold]Database[/]   {services.config.db_path}")
    console.print("New posts on the forum are answered through the webhook. Ctrl-C stops.")
    await task


STAFF_LOGIN = "staff1"


def _why(reasons: list[str], posted: bool = False) -> str:
    """The runner's own reasons, plus 'pattern match' when the engine matched one.

    Reasons are recorded when the reply is planned; by the time the report is shown
    it has been posted (or not), and the table says which.
    """
    engine = ("error_p", "issue_p", "model", "pattern:", "p=", "top=")
    own = [r for r in reasons if not r.startswith(engine)]
    if "reply planned" in own:
        own[own.index("reply planned")] = "replied" if posted else "reply not posted yet"
    if any(r.startswith("pattern:") for r in reasons):
        own.insert(0, "pattern match")
    return "; ".join(own) or "-"


def _print_report(console, report, config: Config) -> None:  # type: ignore[no-untyped-def]
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.table import Table

    table = Table(title=f"What the bot did ({report.seconds:.1f}s, mode {config.mode})")
    for col in ("#", "thread", "author", "action", "issue", "conf", "posted", "why"):
        # Slugs stay whole so they can be copied into `triagebot issues show`.
        table.add_column(col, overflow="fold", no_wrap=col in ("issue", "action", "conf"))
    for n, t in enumerate(report.threads, 1):
        why = _why(t.reasons, posted=bool(t.bot_posts))
        table.add_row(
            str(n), t.title[:48], t.author, t.action, t.issue or "-",
            f"{t.confidence:.2f}", str(len(t.bot_posts)), why[:90],
        )  # fmt: skip
    console.print(table)
    for t in report.threads:
        for raw in t.bot_posts:
            body = raw.split("<!-- triagebot:intent:")[0].strip()
            console.print(Panel(Markdown(body), title=f"Reply in: {t.title}", expand=True))
    queue = Table(title="Escalation queue")
    for col in ("cluster", "status", "reports", "members", "error"):
        queue.add_column(col, overflow="fold")
    for c in report.clusters:
        queue.add_row(str(c.id), c.status, str(c.count), str(len(c.reporters)), c.title[:80])
    console.print(queue)
    for pm in report.staff_messages:
        console.print(f"Staff message: [bold]{pm['topic_title']}[/]")
    if report.flags:
        console.print(f"Posts flagged for moderators (secrets): {len(report.flags)}")
    pending = [d for d in report.drafts if d.status == "pending"]
    if pending:
        console.print(f"Drafts waiting for review: {len(pending)}")


COMMANDS: list[click.Command] = [run, serve, demo]
