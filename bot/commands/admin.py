"""`triagebot init` and `triagebot config show`."""

from __future__ import annotations

import json

import click

from bot.commands.context import AppContext, default_author
from bot.config import to_toml


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of known-issue YAML files (default: the packaged data/known_issues).",
)
@click.option(
    "--as",
    "author",
    default=None,
    metavar="NAME",
    help="Author recorded in the history (default $USER).",
)
@click.pass_obj
def init(app: AppContext, data_dir: str | None, author: str | None) -> None:
    """Create or upgrade the database and load the known-issue entries.

    Entries missing from the database are added; entries already there are
    left as maintainers last saved them (use `issues import` to overwrite).
    Running it again is safe.
    """
    directory = data_dir or str(app.config.resolved_data_dir() / "known_issues")
    from bot.issue_admin import import_dir

    result = import_dir(app.new_store, directory, author=author or default_author(), only_new=True)
    click.echo(
        f"Database {app.config.db_path} ready: {result.total} known issues in {directory}, "
        f"{result.changed} added."
    )


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def config_show(app: AppContext, as_json: bool) -> None:
    """Show the effective configuration with every secret masked."""
    data = app.config.masked()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(to_toml(data), nl=False)


COMMANDS: list[click.Command] = [init, config]
