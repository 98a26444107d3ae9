"""Every command and group has help, and the README documents every command."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


def test_every_command_has_help_text_and_help_option():
    runner = CliRunner()
    commands = list(all_commands(cli))
    assert len(commands) >= 10
    for path, command in commands:
        assert (command.help or "").strip(), f"{' '.join(path)} has no help text"
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, path
        assert "Usage:" in result.output
        for param in command.params:
            if isinstance(param, click.Option) and param.name != "help":
                assert (param.help or "").strip(), f"{' '.join(path)} {param.opts} lacks help"


def test_readme_documents_every_command():
    text = README.read_text()
    for path, _ in all_commands(cli):
        assert f"triagebot {' '.join(path)}" in text, f"README lacks `triagebot {' '.join(path)}`"
