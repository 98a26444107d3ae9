"""The type check of mypy.ini passes: the whole package with mypy's defaults, bot/discourse
strictly. `make lint` runs the same check; CI runs it here, with the rest of the suite."""

from __future__ import annotations

from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parent.parent


def test_the_package_type_checks(tmp_path: Path) -> None:
    out, err, status = api.run(
        [
            "--config-file",
            str(ROOT / "mypy.ini"),
            "--cache-dir",
            str(tmp_path / "mypy-cache"),
            "--no-error-summary",
            str(ROOT / "bot"),
        ]
    )
    assert status == 0, out + err


def test_the_strict_part_is_strict(tmp_path: Path) -> None:
    """The configuration really holds bot/discourse to strict rules: an unannotated
    function placed there is refused (and the same one elsewhere in bot is not)."""
    package = tmp_path / "pkg"
    (package / "discourse").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "discourse" / "__init__.py").write_text("")
    loose = "def f(x):\n    return x\n"
    (package / "discourse" / "loose.py").write_text(loose)
    (package / "other.py").write_text(loose)
    config = (ROOT / "mypy.ini").read_text().replace("[mypy-bot.", "[mypy-pkg.")
    (tmp_path / "mypy.ini").write_text(config.replace("files = bot", "files = pkg"))
    out, _, status = api.run(
        [
            "--config-file",
            str(tmp_path / "mypy.ini"),
            "--cache-dir",
            str(tmp_path / "c"),
            str(package),
        ]
    )
    assert status == 1
    assert "pkg/discourse/loose.py:1: error: Function is missing a type annotation" in out
    assert "other.py" not in out
