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


def test_the_command_list_loads_no_engine_store_or_server() -> None:
    """`triagebot --help` imports every command module to list them: none of them may
    pull in the engine, the database layer, the HTTP client or the server at import."""
    import os
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from bot.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "heavy = {'numpy', 'sqlite_utils', 'httpx', 'starlette', 'uvicorn', 'jinja2'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('bot.triage', 'bot.store', "
        "'bot.runner', 'bot.web', 'bot.checks'))))\n"
    )
    root = README.parent
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["[]", "[]"]
