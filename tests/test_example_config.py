"""triagebot.example.toml: every setting, at its default, with a line on what it does."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from bot.config import SECRET_KEYS, Config, load_config

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "triagebot.example.toml"
FIELDS = [f for f in dataclasses.fields(Config) if f.name != "source"]


def _default(field: dataclasses.Field) -> object:  # type: ignore[type-arg]
    return list(field.default) if isinstance(field.default, tuple) else field.default


def test_every_setting_is_in_the_example_at_its_default():
    values = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    plain = {f.name: _default(f) for f in FIELDS if f.name not in SECRET_KEYS}
    assert values == plain


def test_every_setting_has_a_one_line_explanation():
    text = EXAMPLE.read_text(encoding="utf-8")
    for f in FIELDS:
        name = f"{f.name}_file" if f.name in SECRET_KEYS else f.name
        [line] = [ln for ln in text.splitlines() if re.match(rf"#?\s*{name} = ", ln)]
        assert re.search(r"\S\s+# \S", line.split("=", 1)[1]), f"{name}: no comment"


def test_the_example_loads_as_the_defaults(tmp_path):
    config = load_config(EXAMPLE, env={})
    assert dataclasses.replace(config, source="defaults") == Config()


def test_every_setting_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Settings", 1)[1].split("\n## ", 1)[0]
    for f in FIELDS:
        assert f"`{f.name}`" in section, f.name
        assert f"TRIAGEBOT_{f.name.upper()}" in section or f"`{f.name}`" in section


def test_the_readme_set_up_uses_check_the_container_and_the_example():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Connecting the bot to a real Discourse", 1)[1].split("\n## ", 1)[0]
    for needle in ("triagebot check", "cp triagebot.example.toml", "docker compose", "/metrics"):
        assert needle in setup, needle
