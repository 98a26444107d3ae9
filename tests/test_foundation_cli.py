"""The maintainer CLI: validation errors, edit loop, JSON output, config and secrets."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import ConfigError, load_config

DATA = Path(__file__).resolve().parent.parent / "data" / "known_issues"
SHARED_FACTS = Path(__file__).resolve().parents[2] / "shared" / "known_issues.md"

GOOD = """\
slug: demo_issue
title: Demo issue
status: investigating
summary: Something fails.
patterns:
  - kind: literal
    value: Demo failure text
"""


@pytest.fixture()
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRIAGEBOT_CONFIG", raising=False)
    return CliRunner()


def invoke(runner, *args, **kwargs):
    return runner.invoke(cli, ["--db", "t.db", *args], catch_exceptions=False, **kwargs)


def table_dump(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        rows = []
        for table in ("known_issues", "issue_patterns", "issue_misconceptions", "issue_history"):
            rows.extend(conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
        return rows
    finally:
        conn.close()


def test_init_lists_every_slug_of_the_facts(runner):
    assert invoke(runner, "init").exit_code == 0
    result = invoke(runner, "issues", "list", "--json")
    slugs = {row["slug"] for row in json.loads(result.output)}
    assert slugs == {p.stem for p in DATA.glob("*.yml")}
    if SHARED_FACTS.exists():
        import re

        expected = set(re.findall(r"^## \d+\. `([a-z0-9_]+)`", SHARED_FACTS.read_text(), re.M))
        assert len(expected) == 30
        assert expected <= slugs, sorted(expected - slugs)


def test_show_seed_issue_json_has_status_workaround_and_correction(runner):
    invoke(runner, "init")
    result = invoke(runner, "issues", "show", "unauthorized_scopes_readonly_key", "--json")
    data = json.loads(result.output)
    assert data["status"] in ("investigating", "identified")
    assert "Restricted" in data["workaround"]
    assert data["misconceptions"] and data["misconceptions"][0]["correction"]
    assert "enterprise" in data["misconceptions"][0]["claim"].lower()


def test_init_keeps_maintainer_edits(runner):
    invoke(runner, "init")
    invoke(
        runner,
        "issues",
        "set-status",
        "unauthorized_scopes_readonly_key",
        "identified",
        "--note",
        "cause known",
        "--as",
        "alice",
    )
    assert "0 added" in invoke(runner, "init").output
    shown = json.loads(
        invoke(runner, "issues", "show", "unauthorized_scopes_readonly_key", "--json").output
    )
    assert shown["status"] == "identified" and shown["updated_by"] == "alice"


BAD_ENTRIES = [
    ("not: [valid", "line"),
    ("- just\n- a list\n", "(top): an entry must be a mapping"),
    (GOOD.replace("slug: demo_issue", "slug: Demo Issue"), "slug: must be"),
    (GOOD.replace("status: investigating", "status: maybe"), "status: must be one of"),
    (GOOD.replace("title: Demo issue\n", ""), "title: is required"),
    (GOOD.replace("summary: Something fails.", "summary: ''"), "summary: must not be empty"),
    (GOOD + "colour: red\n", "colour: unknown field"),
    (GOOD.replace("status: investigating", "status: fixed"), "workaround: is required"),
    (GOOD.replace("kind: literal", "kind: glob"), "patterns[0].kind: must be literal or regex"),
    (GOOD.replace("value: Demo failure text", "value: ab"), "patterns[0].value: must be text"),
    (
        GOOD.replace(
            "kind: literal\n    value: Demo failure text",
            "kind: regex\n    value: 'unclosed (group'",
        ),
        "patterns[0].value: invalid regex",
    ),
    (
        GOOD.replace(
            "kind: literal\n    value: Demo failure text", "kind: regex\n    value: '(abc)*x?'"
        ),
        "matches the empty string",
    ),
    (
        GOOD.replace(
            "kind: literal\n    value: Demo failure text",
            "kind: regex\n    value: 'Demo (\\w+\\s*)+failed'",
        ),
        "patterns[0].value: unbounded repeat inside an unbounded repeat",
    ),
    (
        GOOD + "misconceptions:\n  - claim: c\n    correction: d\n",
        "misconceptions[0].patterns: must be a non-empty list",
    ),
    (
        GOOD + "misconceptions:\n  - claim: c\n    patterns: ['ok', '(bad']\n    correction: d\n",
        "misconceptions[0].patterns[1]: invalid regex",
    ),
    (
        GOOD + "misconceptions:\n  - patterns: ['ok']\n    correction: d\n",
        "misconceptions[0].claim: is required",
    ),
    (GOOD + "links: ['ftp://x']\n", "links[0]: must be an http(s) URL"),
    (GOOD + "examples: ['']\n", "examples[0]: must be non-empty text"),
    (GOOD + "examples: text\n", "examples: must be a list"),
]


@pytest.mark.parametrize(("text", "message"), BAD_ENTRIES)
def test_every_validation_error_is_one_line_exit_2_and_changes_nothing(runner, text, message):
    invoke(runner, "init")
    before = table_dump("t.db")
    Path("bad.yml").write_text(text)
    result = invoke(runner, "issues", "add", "bad.yml")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: bad.yml: ")
    assert message in lines[0]
    assert "Traceback" not in result.output
    assert table_dump("t.db") == before


def test_add_then_duplicate_add_is_refused(runner):
    invoke(runner, "init")
    Path("new.yml").write_text(GOOD)
    assert invoke(runner, "issues", "add", "new.yml", "--as", "dana").exit_code == 0
    again = invoke(runner, "issues", "add", "new.yml")
    assert again.exit_code == 2 and "exists already" in again.stderr


def test_edit_loop_reedits_after_error_and_saves_valid(runner, monkeypatch):
    invoke(runner, "init")
    slug = "unauthorized_scopes_readonly_key"
    edits = iter(
        [
            lambda t: t.replace("status: investigating", "status: bogus"),
            lambda t: t.replace("status: bogus", "status: identified"),
        ]
    )
    monkeypatch.setattr("click.edit", lambda text, **kw: next(edits)(text))
    result = invoke(runner, "issues", "edit", slug, "--as", "erin", "--note", "n", input="y\n")
    assert result.exit_code == 0, result.output
    assert "status: must be one of" in result.stderr
    history = json.loads(invoke(runner, "issues", "history", slug, "--json").output)
    assert history[-1]["author"] == "erin" and history[-1]["action"] == "edit"
    assert "+status: identified" in history[-1]["diff"]


def test_edit_abandoned_saves_nothing(runner, monkeypatch):
    invoke(runner, "init")
    before = table_dump("t.db")
    monkeypatch.setattr("click.edit", lambda text, **kw: text.replace("slug:", "slug: [x"))
    result = invoke(runner, "issues", "edit", "unauthorized_scopes_readonly_key", input="n\n")
    assert result.exit_code == 1 and "nothing saved" in result.stderr
    assert table_dump("t.db") == before


def test_unknown_issue_is_a_clean_error(runner):
    invoke(runner, "init")
    for args in (
        ["show", "nope"],
        ["history", "nope"],
        ["set-status", "nope", "fixed", "--note", "x"],
    ):
        result = invoke(runner, "issues", *args)
        assert result.exit_code == 2 and "no known issue 'nope'" in result.stderr


def test_bad_database_path_is_one_line(runner):
    result = runner.invoke(cli, ["--db", "/nonexistent/dir/x.db", "init"])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "does not exist" in result.stderr


# ---------------------------------------------------------------- config


def test_config_precedence_defaults_file_env_flags(tmp_path):
    cfg = tmp_path / "triagebot.toml"
    cfg.write_text('db_path = "from-file.db"\nmode = "auto"\npoll_interval = 5\n')
    assert load_config(cfg, env={}).mode == "auto"
    env = {"TRIAGEBOT_MODE": "dry-run", "TRIAGEBOT_POLL_INTERVAL": "2.5"}
    conf = load_config(cfg, env=env)
    assert (conf.db_path, conf.mode, conf.poll_interval) == ("from-file.db", "dry-run", 2.5)
    conf = load_config(cfg, env=env, overrides={"db_path": "flag.db", "mode": None})
    assert (conf.db_path, conf.mode) == ("flag.db", "dry-run")


def test_new_configuration_defaults_to_review_mode():
    assert load_config(None, env={}).mode == "review"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('mode = "yolo"', "mode: must be one of"),
        ("poll_interval = -1", "poll_interval: must be positive"),
        ("max_posts_per_hour = 'many'", "max_posts_per_hour:"),
        ('api_key = "sk-abc"', "api_key: secrets are not read from the config file"),
        ("nonsense = 1", "nonsense: unknown setting"),
        ("mode = ", "not valid TOML"),
        ('api_key_file = "/nonexistent/key"', "api_key_file: cannot read"),
    ],
)
def test_bad_config_is_one_line_naming_the_key(runner, toml, message):
    Path("triagebot.toml").write_text(toml + "\n")
    result = runner.invoke(cli, ["config", "show"])
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.count("\n") == 1


def test_config_show_masks_secrets(runner, tmp_path):
    key = "k" * 30 + "XY"
    Path("hook.secret").write_text("hook-secret-value-123456\n")
    Path("triagebot.toml").write_text('webhook_secret_file = "hook.secret"\n')
    result = runner.invoke(
        cli, ["config", "show", "--json"], env={"TRIAGEBOT_API_KEY": key}, catch_exceptions=False
    )
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["api_key"] == "****XY" and data["webhook_secret"].startswith("****")
    assert key not in result.output and "hook-secret-value" not in result.output
    plain = runner.invoke(cli, ["config", "show"], env={"TRIAGEBOT_API_KEY": key})
    assert key not in plain.output


def test_config_env_file_for_secret(tmp_path):
    secret = tmp_path / "s"
    secret.write_text("from-a-file-secret\n")
    conf = load_config(None, env={"TRIAGEBOT_API_KEY_FILE": str(secret)})
    assert conf.api_key == "from-a-file-secret"
    assert "from-a-file" not in repr(conf.masked())


def test_config_error_type():
    with pytest.raises(ConfigError, match="^mode:"):
        load_config(None, env={"TRIAGEBOT_MODE": "loud"})
