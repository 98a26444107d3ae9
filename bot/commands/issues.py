"""`triagebot issues ...`: the maintainers' commands for known-issue entries."""

from __future__ import annotations

import json

import click

from bot.commands.context import AppContext, default_author
from bot.known_issues import STATUSES, EntryError

_as_option = click.option(
    "--as",
    "author",
    default=None,
    metavar="NAME",
    help="Author recorded in the history (default $USER).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")


@click.group()
def issues() -> None:
    """Maintain the known-issues database (every change is kept with who and when)."""


@issues.command("list")
@click.option(
    "--status",
    type=click.Choice(STATUSES),
    default=None,
    metavar="STATUS",
    help=f"Only this status: {', '.join(STATUSES)}.",
)
@_json_option
@click.pass_obj
def list_cmd(app: AppContext, status: str | None, as_json: bool) -> None:
    """List known issues."""
    entries = app.reader.list_issues(status=status)
    if as_json:
        rows = [
            {
                "slug": i.slug,
                "title": i.title,
                "status": i.status,
                "updated_at": i.updated_at,
                "updated_by": i.updated_by,
            }
            for i in entries
        ]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None)
    table.add_column("slug", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("title")
    table.add_column("updated", no_wrap=True)
    for i in entries:
        table.add_row(i.slug, i.status, i.title, f"{i.updated_at[:10]} {i.updated_by}")
    Console().print(table)
    click.echo(f"{len(entries)} known issues")


@issues.command("show")
@click.argument("slug")
@_json_option
@click.pass_obj
def show_cmd(app: AppContext, slug: str, as_json: bool) -> None:
    """Show one entry (YAML, or JSON with --json)."""
    from bot.issue_admin import issue_json, require_issue

    issue = require_issue(app.reader, slug)
    click.echo(issue_json(issue) if as_json else issue.to_yaml().rstrip())


@issues.command("reject-claim")
@click.argument("slug")
@click.argument("claim")
@_as_option
@click.pass_obj
def reject_claim_cmd(app: AppContext, slug: str, claim: str, author: str | None) -> None:
    """Never correct CLAIM again for SLUG (a correction staff found wrong)."""
    _, changed = app.store.reject_claim(slug, claim, author=author or default_author())
    if changed:
        click.echo(f"{slug}: the claim will not be corrected again.")
    else:
        click.echo(f"{slug}: that claim was already marked; nothing changed.")


@issues.command("add")
@click.argument("file", type=click.Path(dir_okay=False))
@_as_option
@click.pass_obj
def add_cmd(app: AppContext, file: str, author: str | None) -> None:
    """Add a new entry from a YAML FILE (validated first; nothing saved on error)."""
    from bot.issue_admin import add_from_file

    issue = add_from_file(app.store, file, author=author or default_author())
    click.echo(f"Added {issue.slug} ({issue.status}).")


@issues.command("edit")
@click.argument("slug")
@click.option("--note", default="", help="Why the entry changed (kept in the history).")
@_as_option
@click.pass_obj
def edit_cmd(app: AppContext, slug: str, note: str, author: str | None) -> None:
    """Edit an entry in $EDITOR, like `git commit` does.

    The entry is re-validated when the editor closes; on an error you may edit
    again, and nothing is saved until it is valid.
    """

    def edit(text: str) -> str | None:
        return click.edit(text, extension=".yml", require_save=True)

    def retry(error: EntryError) -> bool:
        click.echo(f"Error: {error}", err=True)
        return click.confirm("Edit again?", default=True, err=True)

    from bot.issue_admin import edit_in_editor

    result = edit_in_editor(
        app.store, slug, author=author or default_author(), edit=edit, retry=retry, note=note
    )
    if result is None:
        click.echo("Edit abandoned; nothing saved.", err=True)
        raise SystemExit(1)
    click.echo(f"Saved {slug}." if result else "No changes.")


@issues.command("set-status")
@click.argument("slug")
# STATUS, not click's {a|b|...}: six statuses make a usage line that wraps mid-word.
@click.argument("status", type=click.Choice(STATUSES), metavar="STATUS")
@click.option("--note", required=True, help="Why the status changed (kept in the history).")
@_as_option
@click.pass_obj
def set_status_cmd(app: AppContext, slug: str, status: str, note: str, author: str | None) -> None:
    """Change an entry's STATUS, with a note.

    STATUS is one of: investigating, identified, workaround, fixed, wont_fix,
    expected_behaviour.
    """
    from bot.issue_admin import change_status

    issue = change_status(app.store, slug, status, author=author or default_author(), note=note)
    click.echo(f"{slug} is now {issue.status}.")


@issues.command("history")
@click.argument("slug")
@_json_option
@click.pass_obj
def history_cmd(app: AppContext, slug: str, as_json: bool) -> None:
    """Show who changed an entry, when, and what changed (as a diff)."""
    from bot.issue_admin import history_json

    rows = history_json(app.reader, slug)
    if as_json:
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
        return
    for row in rows:
        note = f" — {row['note']}" if row["note"] else ""
        click.echo(f"#{row['id']} {row['at']} {row['author']} {row['action']}{note}")
        click.echo(str(row["diff"]))


@issues.command("import")
@click.argument("directory", type=click.Path(file_okay=False))
@_as_option
@click.pass_obj
def import_cmd(app: AppContext, directory: str, author: str | None) -> None:
    """Load every <slug>.yml in DIRECTORY, replacing entries with the same slug.

    All files are validated before anything is written.
    """
    from bot.issue_admin import import_dir

    result = import_dir(app.store, directory, author=author or default_author())
    click.echo(f"Imported {result.total} entries ({result.changed} changed).")


@issues.command("export")
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_obj
def export_cmd(app: AppContext, directory: str) -> None:
    """Write every entry to DIRECTORY as <slug>.yml (re-importable without loss)."""
    from bot.issue_admin import export_dir

    written = export_dir(app.reader, directory)
    click.echo(f"Exported {len(written)} entries to {directory}.")


COMMANDS: list[click.Command] = [issues]
