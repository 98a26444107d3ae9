"""The layers of ARCHITECTURE.md hold: the import-linter contracts in .importlinter.

Data flows one way (forum -> ingest -> triage -> replies -> runner -> web), so a module
imports its own layer and the layers below it, never one above; no package's modules
import each other in a cycle.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"


def test_the_import_contracts_hold(capsys) -> None:  # type: ignore[no-untyped-def]
    status = lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert status == 0, report
    assert "0 broken" in report


def test_every_module_of_the_package_has_a_layer() -> None:
    """A new top-level module or package must be placed in a layer, not left unchecked."""
    config = configparser.ConfigParser()
    config.read(CONFIG, encoding="utf-8")
    layered = {
        name.strip()
        for line in config["importlinter:contract:layers"]["layers"].split()
        for name in line.split("|")
        if name.strip()
    }
    package = ROOT / "bot"
    modules = {
        f"bot.{p.stem}"
        for p in package.iterdir()
        if (p.suffix == ".py" and not p.name.startswith("_"))
        or (p.is_dir() and (p / "__init__.py").exists())
    }
    assert modules - layered == set()
