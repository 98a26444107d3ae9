"""`triagebot check` against the local forum over loopback HTTP: each failure it must catch."""

from __future__ import annotations

import json
import shutil
import socket
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.checks import run_checks
from bot.cli import cli
from bot.config import Config
from bot.forum_sim.scopes import add_granular_api_key
from bot.forum_sim.server import serve
from bot.store import connect
from tests.runner_support import make_forum, make_store

pytestmark = pytest.mark.e2e
SECRET = "a-webhook-secret-for-tests"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def forum_url():
    state = make_forum()
    state.add_user("helper", moderator=True)
    with serve(state) as url:
        yield state, url


@pytest.fixture
def config(tmp_path, forum_url) -> Config:
    state, url = forum_url
    make_store(tmp_path).close()
    return Config(
        db_path=str(tmp_path / "bot.db"),
        forum_url=url,
        api_key=state.add_api_key("triagebot"),
        mode="review",
        webhook_secret=SECRET,
        sso_secret="sso-secret-for-tests",
        session_secret="session-secret-for-tests-0123456789",
        public_url="http://127.0.0.1:8080",
    )


def _by_name(report) -> dict:  # type: ignore[no-untyped-def]
    return {r.name: r for r in report.results}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_ready_setup_passes_every_check(config):
    report = run_checks(config)
    names = _by_name(report)
    assert report.ok, [(r.name, r.detail) for r in report.failures]
    for name in ("config", "database", "known_issues", "model", "forum", "api_key", "api_user"):
        assert names[name].ok
    for cap in ("read", "reply", "private_message", "flag", "tag"):
        assert names[f"scope:{cap}"].ok
    assert "acting as triagebot" in names["api_user"].detail


def test_probes_write_nothing_to_the_forum(config, forum_url):
    state, _ = forum_url
    before = (len(state.posts), len(state.flags))
    run_checks(config)
    assert (len(state.posts), len(state.flags)) == before


def test_unreachable_forum_is_a_transient_failure(config):
    report = run_checks(replace(config, forum_url=f"http://127.0.0.1:{_free_port()}"))
    forum = _by_name(report)["forum"]
    assert not forum.ok and "unreachable" in forum.detail and not forum.permanent
    assert "api_key" not in _by_name(report)  # nothing judged past it


def test_invalid_key(config):
    report = run_checks(replace(config, api_key="0" * 64))
    key = _by_name(report)["api_key"]
    assert not key.ok and key.permanent and "refused" in key.detail


def test_wrong_username_names_the_key_owner(config):
    report = run_checks(replace(config, api_username="alice"))
    user = _by_name(report)["api_user"]
    assert not user.ok and user.permanent
    assert "belongs to user 'triagebot'" in user.detail and "'alice'" in user.detail


def test_unknown_username_with_an_all_users_key(config, forum_url):
    state, _ = forum_url
    report = run_checks(replace(config, api_key=state.add_api_key(None), api_username="nobody"))
    user = _by_name(report)["api_user"]
    assert not user.ok and "no user 'nobody'" in user.detail


def test_missing_scope_is_named(config, forum_url):
    state, _ = forum_url
    key = add_granular_api_key(state, "triagebot", {"global:read", "topics:update"})
    report = run_checks(replace(config, api_key=key))
    names = _by_name(report)
    assert names["scope:read"].ok and names["scope:tag"].ok
    assert not names["scope:reply"].ok and "topics:write" in names["scope:reply"].detail
    assert not names["scope:flag"].ok and "Global key" in names["scope:flag"].detail
    assert not report.ok and names["scope:reply"].permanent


def test_granular_read_only_key_is_enough_for_dry_run(config, forum_url):
    state, _ = forum_url
    key = add_granular_api_key(state, "triagebot", {"global:read"})
    report = run_checks(replace(config, api_key=key, mode="dry-run"))
    names = _by_name(report)
    assert report.ok
    assert names["scope:tag"].status == "warn"  # reported, not needed yet


def test_a_key_that_cannot_read_users(config, forum_url):
    state, _ = forum_url
    key = add_granular_api_key(state, "triagebot", {"posts:list", "topics:write"})
    names = _by_name(run_checks(replace(config, api_key=key)))
    assert not names["scope:read"].ok and "users:show" in names["scope:read"].detail


def test_whisper_channel_needs_a_staff_bot_user(config, forum_url):
    names = _by_name(run_checks(replace(config, review_channel="whisper")))
    assert not names["scope:whisper"].ok and "not staff" in names["scope:whisper"].detail
    state, _ = forum_url
    helper = replace(config, api_key=state.add_api_key("helper"), api_username="helper")
    names = _by_name(run_checks(replace(helper, review_channel="whisper")))
    assert names["scope:whisper"].ok and names["scope:edit"].ok
    key = add_granular_api_key(state, "helper", {"global:read", "topics:write"})
    names = _by_name(run_checks(replace(helper, api_key=key, review_channel="whisper")))
    assert not names["scope:edit"].ok and "posts:edit" in names["scope:edit"].detail


def test_uninitialised_database(config, tmp_path):
    missing = run_checks(replace(config, db_path=str(tmp_path / "nope.db")))
    db = _by_name(missing)["database"]
    assert not db.ok and "does not exist" in db.detail and "triagebot" in db.detail
    assert not (tmp_path / "nope.db").exists()  # a check creates nothing
    connect(tmp_path / "empty.db").conn.close()  # a SQLite file without the schema
    empty = _by_name(run_checks(replace(config, db_path=str(tmp_path / "empty.db"))))
    assert not empty["database"].ok and "not initialised" in empty["database"].detail


def test_database_without_known_issues(config, tmp_path):
    from bot.store import Store

    Store.open(tmp_path / "bare.db").close()
    names = _by_name(run_checks(replace(config, db_path=str(tmp_path / "bare.db"))))
    assert names["database"].ok and not names["known_issues"].ok


def test_stale_model(config, tmp_path):
    models = tmp_path / "models"
    shutil.copytree(config.resolved_models_dir(), models)
    card = json.loads((models / "model_card.json").read_text())
    card["data_hash"] = "0" * len(card["data_hash"])
    (models / "model_card.json").write_text(json.dumps(card))
    model = _by_name(run_checks(replace(config, models_dir=str(models))))["model"]
    assert not model.ok and "stale" in model.detail
    assert not model.permanent  # the running bot retrains by itself


@pytest.mark.parametrize(
    ("change", "name", "words"),
    [
        ({"webhook_secret": ""}, "webhook_secret", "not set"),
        ({"webhook_secret": "short"}, "webhook_secret", "shorter"),
        ({"sso_secret": ""}, "sign_in", "sso_secret not set"),
        ({"session_secret": ""}, "sign_in", "session_secret not set"),
        ({"public_url": "http://triage.example.com"}, "sign_in", "https"),
        ({"public_url": "https://triage.example.com/bot"}, "sign_in", "site root"),
    ],
)
def test_missing_or_inconsistent_secrets(config, change, name, words):
    result = _by_name(run_checks(replace(config, **change)))[name]
    assert not result.ok and words in result.detail


def test_public_url_must_not_be_the_forum(config):
    result = _by_name(run_checks(replace(config, public_url=config.forum_url)))["sign_in"]
    assert not result.ok and "the forum's address" in result.detail


def test_webhook_only_serve_warns_that_the_dashboard_is_off(config):
    report = run_checks(replace(config, sso_secret="", session_secret=""))
    sign_in = _by_name(report)["sign_in"]
    assert report.ok and sign_in.status == "warn" and "dashboard off" in sign_in.detail


def test_polling_only_needs_no_webhook_or_sign_in(config):
    report = run_checks(replace(config, webhook_secret="", sso_secret=""), purpose="run")
    assert report.ok and "webhook_secret" not in _by_name(report)


def _env(config: Config, **extra: str) -> dict[str, str]:
    env = {
        "TRIAGEBOT_FORUM_URL": config.forum_url,
        "TRIAGEBOT_API_KEY": config.api_key,
        "TRIAGEBOT_WEBHOOK_SECRET": config.webhook_secret,
        "TRIAGEBOT_SSO_SECRET": config.sso_secret,
        "TRIAGEBOT_SESSION_SECRET": config.session_secret,
        "TRIAGEBOT_PUBLIC_URL": config.public_url,
    }
    env.update(extra)
    return env


def test_cli_check_json_and_exit_codes(config, tmp_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["--db", config.db_path, "check", "--json"], env=_env(config))
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    bad = runner.invoke(
        cli, ["--db", config.db_path, "check", "--json"], env=_env(config, TRIAGEBOT_API_KEY="x")
    )
    assert bad.exit_code == 1
    data = json.loads(bad.output)
    assert data["ok"] is False
    assert {c["name"]: c["status"] for c in data["checks"]}["api_key"] == "fail"
    screen = runner.invoke(cli, ["--db", config.db_path, "check"], env=_env(config))
    assert screen.exit_code == 0 and "All checks passed" in screen.output


def test_cli_check_reports_a_bad_config_value(config):
    out = CliRunner().invoke(
        cli, ["--db", config.db_path, "check", "--json"], env=_env(config, TRIAGEBOT_MODE="loud")
    )
    assert out.exit_code == 1
    assert json.loads(out.output)["checks"][0]["name"] == "config"


def test_run_and_serve_refuse_to_start_on_a_permanent_failure(config, tmp_path):
    runner = CliRunner()
    env = _env(config, TRIAGEBOT_API_USERNAME="alice")
    run = runner.invoke(cli, ["--db", config.db_path, "run", "--once"], env=env)
    assert run.exit_code == 2
    assert run.output.startswith("Error: api_user: the key belongs to user 'triagebot'")
    assert run.output.count("\n") == 1
    missing = str(tmp_path / "fresh.db")
    serve_out = runner.invoke(cli, ["--db", missing, "serve", "--port", "0"], env=_env(config))
    assert serve_out.exit_code == 2 and "Error: database:" in serve_out.output
    assert not (tmp_path / "fresh.db").exists()


def test_run_starts_with_a_one_line_banner(config):
    out = CliRunner().invoke(
        cli,
        ["--db", config.db_path, "run", "--once", "--triager", "tests.runner_support:FakeTriager"],
        env=_env(config),
    )
    assert out.exit_code == 0, out.output
    first = out.output.splitlines()[0]
    assert first.startswith(f"triagebot polling {config.forum_url}: mode review")
    assert "known issues" in first and "model FakeTriager" in first


def _subprocess_env(config: Config, **extra: str) -> dict[str, str]:
    import os

    return {**os.environ, **_env(config), "PYTHONPATH": str(ROOT), **extra}


def test_run_logs_json_lines(config):
    import subprocess
    import sys

    cmd = [
        sys.executable, "-m", "bot", "--db", config.db_path, "run", "--once", "-v",
        "--log-format", "json", "--triager", "tests.runner_support:FakeTriager",
    ]  # fmt: skip
    out = subprocess.run(
        cmd, cwd=ROOT, env=_subprocess_env(config), capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert lines, "expected log lines with -v"
    for line in lines:
        record = json.loads(line)
        assert {"time", "level", "logger", "message"} <= set(record)


def test_serve_prints_a_banner_and_serves_healthz_and_metrics(config):
    import subprocess
    import sys
    import time

    import httpx

    port = _free_port()
    cmd = [sys.executable, "-m", "bot", "--db", config.db_path, "serve", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=_subprocess_env(config), stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        banner = proc.stdout.readline()  # type: ignore[union-attr]
        assert banner.startswith(f"triagebot http://127.0.0.1:{port}: mode review"), banner
        assert "known issues, model " in banner
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        assert health.text == "ok"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200 and "triagebot_decisions" in metrics.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _fake_site(status: int, body: str, headers: dict | None = None):  # type: ignore[no-untyped-def]
    import httpx
    from starlette.applications import Starlette
    from starlette.responses import Response
    from starlette.routing import Route

    async def anything(request):  # type: ignore[no-untyped-def]
        return Response(body, status_code=status, headers=headers)

    app = Starlette(routes=[Route("/{path:path}", anything)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x.test")


@pytest.mark.parametrize(
    ("status", "body", "headers", "words", "permanent"),
    [
        (301, "", {"location": "https://forum.example.com/site.json"}, "redirects to", True),
        (200, "<html>a blog</html>", None, "does not look like a Discourse", True),
        (502, "bad gateway", None, "HTTP 502", False),
        (404, "<html>not here</html>", None, "is forum_url the forum's root", True),
    ],
)
def test_a_forum_url_that_is_not_a_discourse(config, status, body, headers, words, permanent):
    http = _fake_site(status, body, headers)
    forum = _by_name(run_checks(replace(config, forum_url="http://x.test"), http=http))["forum"]
    assert not forum.ok and words in forum.detail and forum.permanent is permanent


def test_no_forum_requests_without_a_usable_config(config):
    report = run_checks(replace(config, forum_url="ftp://forum.example.com"))
    names = _by_name(report)
    assert not names["config"].ok and "not an http(s) URL" in names["config"].detail
    assert "forum" not in names
