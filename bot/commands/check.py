"""`triagebot check`: one screen saying what is wrong before the bot starts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.commands.context import AppContext
from bot.config import PURPOSES, ConfigError

# The checks (the store, the HTTP client) are imported when the command runs: `--help`
# starts without them.
if TYPE_CHECKING:
    from bot.checks import CheckReport


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option(
    "--for",
    "purpose",
    type=click.Choice(PURPOSES),
    default="serve",
    show_default=True,
    help="What to check for: serve (webhooks and dashboard too) or run (polling only).",
)
@click.pass_obj
def check(app: AppContext, as_json: bool, purpose: str) -> None:
    """Check the config, database, model, forum, API key, user, scopes and secrets.

    Makes only harmless requests (a scope is probed with a request the forum refuses
    as incomplete, never one that writes). Exits 1 when any check fails.
    """
    from bot.checks import CheckReport, CheckResult, run_checks

    try:
        report = run_checks(app.config, purpose=purpose)
    except ConfigError as exc:
        report = CheckReport((CheckResult("config", False, str(exc)),))
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print(report)
    if not report.ok:
        raise SystemExit(1)


def _print(report: CheckReport) -> None:
    from rich.console import Console
    from rich.table import Table

    style = {"ok": "green", "warn": "yellow", "fail": "bold red"}
    table = Table(title="triagebot check", show_lines=False)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold")
    for r in report.results:
        table.add_row(r.name, f"[{style[r.status]}]{r.status}[/]", r.detail)
    console = Console()
    console.print(table)
    failures = report.failures
    if failures:
        console.print(f"[bold red]{len(failures)} check(s) failed.[/]")
    else:
        console.print("[green]All checks passed.[/]")


COMMANDS: list[click.Command] = [check]
