"""The `triagebot` command: thin. Parse, call a library function, print.

Each group of commands lives in its own module under bot/commands/ and exports
`COMMANDS`; only the module of the command being run is imported (the bot's server,
the forum simulator and the engine each cost more than a short command's whole run).
Library errors (`bot.errors.UserError`) become one line on stderr and a non-zero
exit here, at the boundary.
"""

from __future__ import annotations

import importlib
import sys

import click

from bot import __version__
from bot.errors import UserError

# Where each command lives (tests/test_cli_help.py checks this against the modules'
# COMMANDS lists).
COMMAND_MODULES: dict[str, str] = {
    "init": "bot.commands.admin",
    "config": "bot.commands.admin",
    "check": "bot.commands.check",
    "issues": "bot.commands.issues",
    "triage": "bot.commands.triage",
    "train": "bot.commands.triage",
    "eval": "bot.commands.triage",
    "forum": "bot.commands.forum",
    "run": "bot.commands.bot_cmds",
    "serve": "bot.commands.bot_cmds",
    "demo": "bot.commands.bot_cmds",
    "queue": "bot.commands.queue",
    "review": "bot.commands.queue",
}


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = COMMAND_MODULES.get(cmd_name)
        if module is None:
            return None
        commands = {c.name: c for c in importlib.import_module(module).COMMANDS}
        return commands.get(cmd_name)

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
    from bot.commands.context import AppContext

    ctx.obj = AppContext(config_path=config_path, db_path=db_path)
    ctx.call_on_close(ctx.obj.close)


def main() -> None:
    try:
        cli.main(prog_name="triagebot", standalone_mode=True)
    except UserError as exc:  # raised outside a subcommand (e.g. while closing)
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
