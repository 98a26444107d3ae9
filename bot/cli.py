"""The `triagebot` command: thin. Parse, call a library function, print.

Each group of commands lives in its own module under bot/commands/ and exports
`COMMANDS`; library errors (`bot.errors.UserError`) become one line on stderr and
a non-zero exit here, at the boundary.
"""

from __future__ import annotations

import sys

import click

from bot import __version__
from bot.commands import admin, bot_cmds, check, forum, issues, queue, triage
from bot.commands.context import AppContext
from bot.errors import UserError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except UserError as exc:
            # One line per problem (an import reports every bad file), each marked.
            for line in str(exc).splitlines() or [""]:
                click.echo(f"Error: {line}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="triagebot")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $TRIAGEBOT_CONFIG or ./triagebot.toml).",
)
@click.option(
    "--db", "db_path", default=None, metavar="PATH", help="SQLite database path (overrides config)."
)
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Support-triage bot for developer communities on Discourse.

    Reads new forum posts, matches quoted errors against the known-issues
    database, replies with the true status and workaround, corrects misleading
    advice, and escalates new problems to staff.
    """
    ctx.obj = AppContext(config_path=config_path, db_path=db_path)
    ctx.call_on_close(ctx.obj.close)


for _module in (admin, check, issues, triage, forum, bot_cmds, queue):
    for _command in _module.COMMANDS:
        cli.add_command(_command)


def main() -> None:
    try:
        cli.main(prog_name="triagebot", standalone_mode=True)
    except UserError as exc:  # raised outside a subcommand (e.g. while closing)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
