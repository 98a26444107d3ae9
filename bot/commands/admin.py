"""`triagebot init` and `triagebot config show`."""

from __future__ import annotations

import json

import click

from bot.commands.context import AppContext
from bot.known_issues import load_dir


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Directory of known-issue YAML files (default: the packaged data/known_issues).",
)
@click.option("--as", "author", default=None, help="Who is recorded as the author (default $USER).")
@click.pass_obj
def init(app: AppContext, data_dir: str | None, author: str | None) -> None:
    """Create or upgrade the database and load the known-issue entries.

    Entries already in the database are updated only where the files differ,
    so running it again is safe; every change is recorded in the history.
    """
    from bot.commands.context import default_author

    directory = data_dir or str(app.config.resolved_data_dir() / "known_issues")
    entries = load_dir(directory)  # validate everything before writing anything
    store = app.store
    changed = 0
    with store.transaction():
        for entry in entries:
            _, did = store.save_issue(entry, author=author or default_author(), action="import")
            changed += did
    click.echo(
        f"Database {app.config.db_path} ready; {len(entries)} known issues "
        f"({changed} added or updated)."
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
    for key, value in data.items():
        click.echo(f"{key} = {value!r}")


COMMANDS: list[click.Command] = [init, config]
