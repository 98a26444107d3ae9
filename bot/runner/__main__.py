"""`python -m bot.runner run|serve ...`: the bot commands without the rest of the CLI.

The same click commands as `triagebot run` / `triagebot serve`, under a root
that takes the same `--config`/`--db` options. It starts faster because it
does not import the offline tooling (training, evaluation), which matters for
supervisors that restart the bot often.
"""

from __future__ import annotations

import click

from bot.commands import bot_cmds
from bot.commands.context import AppContext
from bot.errors import UserError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(130)


@click.group(cls=_Group)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Config file (default: $TRIAGEBOT_CONFIG or ./triagebot.toml).",
)
@click.option("--db", "db_path", default=None, help="SQLite database path (overrides config).")
@click.pass_context
def main(ctx: click.Context, config_path: str | None, db_path: str | None) -> None:
    """Run the triage bot (poll or webhook mode)."""
    ctx.obj = AppContext(config_path=config_path, db_path=db_path)
    ctx.call_on_close(ctx.obj.close)


for _command in bot_cmds.COMMANDS:
    main.add_command(_command)

if __name__ == "__main__":
    main(prog_name="python -m bot.runner")
