"""`triagebot run`, `triagebot serve` and `triagebot demo`: the running bot."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal

import click

from bot.commands.context import AppContext
from bot.config import MODES, Config
from bot.errors import UserError
from bot.runner.poller import PollStats, StartSpec, parse_since, run_loop
from bot.runner.services import Services, build_services


def _configure(app: AppContext, **overrides: object) -> Config:
    values = {k: v for k, v in overrides.items() if v is not None}
    return dataclasses.replace(app.config, **values) if values else app.config


def _install_stop(stop: asyncio.Event) -> None:
    """SIGINT/SIGTERM finish the posts in hand, persist the cursor, then exit."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not available off the main thread or on some platforms.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def _logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


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
    default=None,
    help="Use another triager, given as module:Class (a plug-in or a test double).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log every poll and forum write.")
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
) -> None:
    """Watch the forum by polling /posts.json and act on each new post exactly once.

    Progress is kept in the database: a restart (or a crash) resumes from the last
    post whose decision was recorded, and pending forum writes are checked against
    the forum before anything is retried.
    """
    _logging(verbose)
    if backfill is not None and since is not None:
        raise UserError("--backfill and --since: choose one")
    if since is not None:
        parse_since(since)
    config = _configure(app, mode=mode, poll_interval=interval)
    services = build_services(config, app.store, triager=load_triager_class(triager_path))
    stats = asyncio.run(_run(services, StartSpec(backfill, since), once))
    click.echo(
        f"Stopped after {stats.polls} poll(s): {stats.decided} post(s) decided, "
        f"{stats.failed} failure(s) to retry."
    )


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


async def _run(services: Services, start: StartSpec, once: bool) -> PollStats:
    stop = asyncio.Event()
    _install_stop(stop)
    if once:

        def after_first(_: PollStats) -> None:
            stop.set()

        try:
            return await run_loop(
                services, stop=stop, interval=0.01, start=start, on_poll=after_first
            )
        finally:
            await services.aclose()
    try:
        return await run_loop(
            services, stop=stop, interval=services.config.poll_interval, start=start
        )
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
@click.pass_obj
def serve(
    app: AppContext,
    host: str,
    port: int,
    mode: str | None,
    catchup_interval: float | None,
    verbose: bool,
) -> None:
    """Serve the webhook endpoint (and the dashboard when configured) with a catch-up poll.

    Discourse posts to /webhooks/discourse; each delivery is verified,
    de-duplicated by post and version, answered at once and processed in the
    background. A slower poll of /posts.json covers deliveries that never came.
    """
    _logging(verbose)
    config = _configure(app, mode=mode)
    if not config.webhook_secret:
        raise UserError(
            "webhook_secret: required to verify deliveries; set TRIAGEBOT_WEBHOOK_SECRET"
        )
    services = build_services(config, app.store)
    interval = catchup_interval or config.poll_interval * 4
    asyncio.run(serve_forever(services, host=host, port=port, interval=interval, verbose=verbose))


def build_asgi(services: Services):  # type: ignore[no-untyped-def]
    """The dashboard with the webhook route, or the webhook alone if the dashboard is not set up."""
    from starlette.applications import Starlette

    from bot.web.webhook import WebhookWorker, webhook_routes

    worker = WebhookWorker(services)
    routes = webhook_routes(services, worker)
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
        )
    )
    stop = stop or asyncio.Event()
    serve_task = asyncio.create_task(server.serve(sockets=sockets))
    poll_task = asyncio.create_task(run_loop(services, stop=stop, interval=interval))
    while not server.started and not serve_task.done():
        await asyncio.sleep(0.01)
    if started is not None:
        started.set()
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({serve_task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stop.set()
    await asyncio.gather(serve_task, return_exceptions=True)
    await worker.drain()
    await asyncio.gather(poll_task, return_exceptions=True)
    stopper.cancel()
    await services.aclose()


COMMANDS: list[click.Command] = [run, serve]
