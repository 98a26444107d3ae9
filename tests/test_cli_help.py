"""Every command and group has help, and the README documents every command."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from bot.cli import COMMAND_MODULES, cli

README = Path(__file__).resolve().parent.parent / "README.md"


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, f"{' '.join((*prefix, name))} cannot be loaded"
        path = (*prefix, name)
        yield path, command
        if isinstance(command, click.Group):
            yield from all_commands(command, path)


def test_the_lazy_command_table_names_every_command_of_every_module():
    import importlib
    import pkgutil

    import bot.commands

    found = {}
    for info in pkgutil.iter_modules(bot.commands.__path__):
        module = importlib.import_module(f"bot.commands.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            found[command.name] = module.__name__
    assert found == COMMAND_MODULES


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
