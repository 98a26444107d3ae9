"""`triagebot queue ...` (escalation queue) and `triagebot review ...` (drafted replies)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

import click

from bot.commands.context import AppContext, default_author
from bot.records import CLUSTER_STATUSES, DRAFT_STATUSES

# The runner is imported inside each command: `--help` and the other commands start
# without it.
if TYPE_CHECKING:
    from bot.runner.services import Services


def _services(app: AppContext, *, read_only: bool = False) -> Services:
    """Services for a staff command; the triager is not needed to work the queues."""
    from bot.runner.services import build_services

    class _NoTriage:
        def decide(self, thread: Any) -> Any:  # pragma: no cover - never called here
            raise RuntimeError("not available in queue commands")

    store = app.reader if read_only else app.store
    return build_services(app.config, store, triager=_NoTriage())


async def _with_client(services: Services, coro: Any) -> Any:
    try:
        return await coro
    finally:
        await services.aclose()


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


# --------------------------------------------------------------------------- queue


@click.group()
def queue() -> None:
    """Work the escalation queue: clusters of error reports that match no known issue."""


@queue.command("list")
@click.option(
    "--status",
    type=click.Choice([*CLUSTER_STATUSES, "all"]),
    default="open",
    show_default=True,
    help="Which clusters to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def queue_list(app: AppContext, status: str, as_json: bool) -> None:
    """List clusters, largest first."""
    from bot.runner import queues

    rows = queues.list_clusters(_services(app, read_only=True), None if status == "all" else status)
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo("No clusters.")
        return
    for c in rows:
        click.echo(
            f"#{c.id:<4} {c.status:<9} {c.count:>3} reports {len(c.reporters):>3} members  "
            f"last {c.last_seen[:16]}  {c.title[:70]}"
        )


@queue.command("show")
@click.argument("cluster_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def queue_show(app: AppContext, cluster_id: int, as_json: bool) -> None:
    """Show one cluster with its reports."""
    from bot.runner import queues

    c = queues.get_cluster(_services(app, read_only=True), cluster_id)
    if as_json:
        _echo_json(asdict(c))
        return
    click.echo(f"Cluster #{c.id} ({c.status}{', ' + c.linked_slug if c.linked_slug else ''})")
    click.echo(f"  error:      {c.normalised}")
    click.echo(f"  fingerprint:{' ' + c.fingerprint if c.fingerprint else ' -'}")
    click.echo(f"  reports:    {c.count} from {len(c.reporters)} member(s)")
    click.echo(f"  first/last: {c.first_seen} / {c.last_seen}")
    for r in c.reports:
        click.echo(f"  - post {r.post_id} in topic {r.topic_id} by {r.username}: {r.title[:80]}")


@queue.command("dismiss")
@click.argument("cluster_id", type=int)
@click.option(
    "--as", "author", default=None, metavar="NAME", help="Who is recorded (default $USER)."
)
@click.pass_obj
def queue_dismiss(app: AppContext, cluster_id: int, author: str | None) -> None:
    """Close a cluster without action."""
    from bot.runner import queues

    c = queues.dismiss_cluster(_services(app), cluster_id, author or default_author())
    click.echo(f"Cluster #{c.id} dismissed.")


@queue.command("link")
@click.argument("cluster_id", type=int)
@click.argument("slug")
@click.option(
    "--as", "author", default=None, metavar="NAME", help="Who is recorded (default $USER)."
)
@click.pass_obj
def queue_link(app: AppContext, cluster_id: int, slug: str, author: str | None) -> None:
    """Attach a cluster to known issue SLUG and answer its posts (per the configured mode)."""
    from bot.runner import queues

    services = _services(app)
    result = asyncio.run(
        _with_client(
            services, queues.link_cluster(services, cluster_id, slug, author or default_author())
        )
    )
    click.echo(
        f"Cluster #{cluster_id} linked to {slug}: {result.answered} answered, "
        f"{result.skipped} skipped"
        + (f", {result.failed} could not be answered now." if result.failed else ".")
    )
    for line in result.details:
        click.echo(f"  {line}")


@queue.command("promote")
@click.argument("cluster_id", type=int)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="Write the known-issue draft YAML here (default: print it).",
)
@click.option(
    "--as", "author", default=None, metavar="NAME", help="Who is recorded (default $USER)."
)
@click.pass_obj
def queue_promote(app: AppContext, cluster_id: int, output: str | None, author: str | None) -> None:
    """Turn a cluster into a known-issue draft for a maintainer to complete."""
    from bot.runner import queues

    draft = queues.promote_cluster(_services(app), cluster_id, author or default_author())
    import yaml

    text = yaml.safe_dump(draft, sort_keys=False, allow_unicode=True, width=88)
    if output:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text)
        click.echo(
            f"Draft for {draft['slug']} written to {output}; complete it, then "
            f"`triagebot issues add {output}`."
        )
    else:
        click.echo(text, nl=False)


# --------------------------------------------------------------------------- review


@click.group()
def review() -> None:
    """Work the review queue: replies drafted for staff approval."""


@review.command("list")
@click.option(
    "--status",
    type=click.Choice([*DRAFT_STATUSES, "all"]),
    default="pending",
    show_default=True,
    help="Which drafts to list.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def review_list(app: AppContext, status: str, as_json: bool) -> None:
    """List drafts, oldest first."""
    from bot.runner import queues

    rows = queues.list_drafts(_services(app, read_only=True), None if status == "all" else status)
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo("No drafts.")
        return
    for d in rows:
        click.echo(
            f"#{d.id:<4} {d.status:<8} topic {d.topic_id:<6} {d.issue or '-':<40} "
            f"{d.confidence:.2f}  {d.reason}"
        )


@review.command("show")
@click.argument("draft_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def review_show(app: AppContext, draft_id: int, as_json: bool) -> None:
    """Show one draft with its text."""
    from bot.runner import queues

    d = queues.get_draft(_services(app, read_only=True), draft_id)
    if as_json:
        _echo_json(asdict(d))
        return
    click.echo(f"Draft #{d.id} ({d.status}) for post {d.post_id} in topic {d.topic_id}")
    click.echo(f"  issue: {d.issue or '-'}  confidence: {d.confidence:.2f}  reason: {d.reason}")
    click.echo("")
    click.echo(d.raw)


@review.command("approve")
@click.argument("draft_id", type=int)
@click.option("--edit", is_flag=True, help="Open the text in $EDITOR before posting.")
@click.option(
    "--as", "author", default=None, metavar="NAME", help="Who is recorded (default $USER)."
)
@click.pass_obj
def review_approve(app: AppContext, draft_id: int, edit: bool, author: str | None) -> None:
    """Post a draft to its topic."""
    from bot.runner import queues

    services = _services(app)
    draft = queues.get_draft(services, draft_id)
    edited = None
    if edit:
        edited = click.edit(draft.raw)
        if edited is None:
            raise queues.QueueError("approve: editor closed without saving; nothing posted")
    result = asyncio.run(
        _with_client(
            services,
            queues.approve_draft(services, draft_id, author or default_author(), edited),
        )
    )
    where = f" as post {result.reply_post_id}" if result.reply_post_id else " (pending delivery)"
    click.echo(f"Draft #{draft_id} approved and posted{where}.")


@review.command("reject")
@click.argument("draft_id", type=int)
@click.option("--reason", required=True, help="Why the draft is wrong (kept as training feedback).")
@click.option(
    "--wrong-correction",
    is_flag=True,
    help="The draft corrected advice that was right: never correct those claims again.",
)
@click.option(
    "--as", "author", default=None, metavar="NAME", help="Who is recorded (default $USER)."
)
@click.pass_obj
def review_reject(
    app: AppContext, draft_id: int, reason: str, wrong_correction: bool, author: str | None
) -> None:
    """Reject a draft; the correction is recorded as feedback."""
    from bot.runner import queues

    queues.reject_draft(
        _services(app),
        draft_id,
        author or default_author(),
        reason,
        wrong_correction=wrong_correction,
    )
    extra = "; its corrected claims will not be corrected again" if wrong_correction else ""
    click.echo(f"Draft #{draft_id} rejected{extra}.")


COMMANDS: list[click.Command] = [queue, review]
