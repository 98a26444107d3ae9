"""New-admin edges: bad input and bad config end in one clear line, never a traceback.

Each test drives the command (or the library function behind it) the way a user
would and checks the message, the exit code and that nothing was written.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.config import ConfigError, load_config
from bot.offline.batch import BatchError, json_object
from tests import test_foundation_cli as _cli_tests

# The command-line tests' entry, fixture and call: one copy of each.
GOOD = _cli_tests.GOOD
invoke = _cli_tests.invoke
runner = _cli_tests.runner  # a fixture: pytest finds it under this name


def one_error_line(result) -> str:
    """The single `Error: ...` line a failing command prints, with no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: ") and "Traceback" not in result.output
    return lines[0]


def rows(path: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        out = []
        for table in ("known_issues", "issue_patterns", "issue_history"):
            out.extend(conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall())
        return out
    finally:
        conn.close()


# ----------------------------------------------------------------- triage input


def test_json_object_refuses_deep_nesting_and_huge_numbers_with_one_line():
    with pytest.raises(BatchError, match=r"line 1: not valid JSON \(nested too deeply\)"):
        json_object("[" * 100_000 + "]" * 100_000, "input: line 1")
    with pytest.raises(BatchError, match=r"line 2: not valid JSON \(a number is too long\)"):
        json_object('{"id": ' + "9" * 5000 + "}", "input: line 2")


def test_triage_command_on_a_deeply_nested_thread_exits_2(runner, tmp_path):
    deep = '{"id": "a", "title": "t", "posts": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
    Path("in.jsonl").write_text(deep)
    result = invoke(runner, "triage", "--input", "in.jsonl", "--output", "out.jsonl")
    assert result.exit_code == 2
    assert "in.jsonl: line 1: not valid JSON (nested too deeply)" in one_error_line(result)
    assert not Path("out.jsonl").exists()


# ----------------------------------------------------------------- issues add / import


def test_issues_add_on_a_file_that_is_not_utf8(runner):
    assert invoke(runner, "init").exit_code == 0
    before = rows("t.db")
    Path("bad.yml").write_bytes(b"slug: x\ntitle: \xff\xfe\n")
    result = invoke(runner, "issues", "add", "bad.yml")
    assert result.exit_code == 2
    assert one_error_line(result) == "Error: bad.yml: (file): not UTF-8 text (invalid start byte)"
    assert rows("t.db") == before


def test_issues_import_reports_every_bad_file_and_imports_none(runner):
    assert invoke(runner, "init").exit_code == 0
    before = rows("t.db")
    d = Path("entries")
    d.mkdir()
    (d / "demo_issue.yml").write_text(GOOD)  # valid, but must not be imported alone
    (d / "a.yml").write_text("slug: a\n")
    (d / "b.yml").write_text("x: [\n")
    (d / "c.yml").write_bytes(b"slug: c\n\xff")
    result = invoke(runner, "issues", "import", "entries")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert [line.split(":")[1].strip() for line in lines[:3]] == [
        "entries/a.yml",
        "entries/b.yml",
        "entries/c.yml",
    ]
    assert all(line.startswith("Error: ") for line in lines)
    assert lines[-1] == "Error: entries: 3 invalid entries; nothing was imported"
    assert rows("t.db") == before


# ----------------------------------------------------------------- set-status


def test_set_status_to_the_current_status_says_so_and_records_nothing(runner):
    assert invoke(runner, "init").exit_code == 0
    Path("new.yml").write_text(GOOD)
    assert invoke(runner, "issues", "add", "new.yml").exit_code == 0
    before = rows("t.db")
    same = invoke(runner, "issues", "set-status", "demo_issue", "investigating", "--note", "n")
    assert same.exit_code == 2
    assert one_error_line(same) == (
        "Error: status: demo_issue is already investigating; nothing recorded"
    )
    empty = invoke(runner, "issues", "set-status", "demo_issue", "fixed", "--note", "  ")
    assert empty.exit_code == 2 and "--note: must not be empty" in one_error_line(empty)
    assert rows("t.db") == before
    ok = invoke(runner, "issues", "set-status", "demo_issue", "identified", "--note", "found")
    assert ok.exit_code == 0 and "demo_issue is now identified" in ok.output


# ----------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('max_posts_per_hour = "lots"', "max_posts_per_hour: expected a whole number, got 'lots'"),
        ("max_posts_per_hour = 2.5", "max_posts_per_hour: expected a whole number, got 2.5"),
        ('poll_interval = "soon"', "poll_interval: expected a number, got 'soon'"),
        ('escalation_sizes = [3, "x"]', "escalation_sizes: expected whole numbers, got 'x'"),
    ],
)
def test_config_values_of_the_wrong_type_name_the_key_in_plain_words(tmp_path, toml, message):
    path = tmp_path / "c.toml"
    path.write_text(toml + "\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value) == message
    assert "literal" not in str(info.value)


# ----------------------------------------------------------------- queue promote


async def test_promote_is_repeatable_until_the_entry_exists(tmp_path):
    from bot.runner import poller, queues
    from bot.store import Store
    from tests.runner_support import make_forum, make_services, make_store

    forum = make_forum()
    store: Store = make_store(tmp_path)
    try:
        forum.create_topic("bob", "Other", "ERR_NEW_OTHER happened")
        store.set_state(poller.CURSOR_KEY, "0")
        services = make_services(forum, store)
        await poller.poll_once(services)
        (cluster,) = queues.list_clusters(services)
        first = queues.promote_cluster(services, cluster.id, "mod")
        # The first draft went to a terminal that closed, or the -o write failed: ask again.
        assert queues.promote_cluster(services, cluster.id, "mod") == first
        assert store.get_cluster(cluster.id).status == "promoted"  # type: ignore[union-attr]
        feedback = store.db.execute(
            "SELECT count(*) FROM feedback WHERE verdict = 'promoted'"
        ).fetchone()[0]
        assert feedback == 1  # recorded once
        # Once a maintainer saved the entry, promoting again is refused by name.
        from bot.known_issues import validate_entry

        entry = {**first, "summary": "done", "patterns": first["patterns"]}
        store.save_issue(validate_entry(entry, "x"), author="maint", action="create")
        with pytest.raises(queues.QueueError, match=f"the entry {first['slug']} exists"):
            queues.promote_cluster(services, cluster.id, "mod")
        await services.aclose()
    finally:
        store.close()
        forum.close()


def test_config_show_prints_toml_that_loads_back(runner, monkeypatch):
    Path("triagebot.toml").write_text(
        'forum_url = "https://forum.example.com"\nanswer_staff = false\n'
        "excluded_categories = [12]\npoll_interval = 7.5\n"
    )
    monkeypatch.setenv("TRIAGEBOT_API_KEY", "k" * 20)
    result = invoke(runner, "config", "show")
    assert result.exit_code == 0
    data = tomllib.loads(result.output)
    assert data["answer_staff"] is False and data["excluded_categories"] == [12]
    assert "api_key" not in data and "kkkkkkkk" not in result.output  # masked, commented
    Path("shown.toml").write_text(result.output)
    again = load_config("shown.toml", env={})
    assert again.forum_url == "https://forum.example.com" and again.poll_interval == 7.5


# ----------------------------------------------------------------- webhook endpoint


@pytest.fixture
def hook(tmp_path):
    from dataclasses import replace

    from starlette.applications import Starlette

    from bot.web.webhook import WebhookWorker, webhook_routes
    from tests.runner_support import make_forum, make_services, make_store

    state = make_forum()
    store = make_store(tmp_path)
    services = make_services(state, store)
    services.config = replace(services.config, webhook_secret=HOOK_SECRET)
    app = Starlette(routes=webhook_routes(services, WebhookWorker(services)))
    yield app, store
    store.close()
    state.close()


HOOK_SECRET = "a-webhook-secret-of-length"


def signed(body: bytes, event: str = "post_created") -> dict[str, str]:
    from bot.discourse.webhooks import sign

    return {
        "Content-Type": "application/json",
        "X-Discourse-Event": event,
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Event-Id": "1",
        "X-Discourse-Event-Signature": sign(body, HOOK_SECRET),
    }


async def post_hook(app, body: bytes, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    import httpx

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        return await http.post("/webhooks/discourse", content=body, headers=headers)


async def test_signed_webhook_nested_100000_deep_is_a_400_not_a_500(hook):
    app, _ = hook
    body = b'{"post": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await post_hook(app, body, signed(body))
    assert response.status_code == 400
    assert response.json() == {"error": "Webhook rejected: body is nested too deeply"}


async def test_webhook_body_over_the_cap_is_413_before_the_signature_is_checked(hook):
    from bot.web.webhook import MAX_BODY

    app, _ = hook
    body = b'{"post": "' + b"x" * (MAX_BODY + 1) + b'"}'
    response = await post_hook(app, body, {"X-Discourse-Event": "post_created"})
    assert response.status_code == 413

    async def chunks():  # no Content-Length: the cap holds while streaming too
        for _ in range(40):
            yield b"x" * 65536

    import httpx

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        streamed = await http.post("/webhooks/discourse", content=chunks())
    assert streamed.status_code == 413


# ----------------------------------------------------------------- sign-in nonces


async def test_anonymous_logins_keep_a_bounded_number_of_nonces(monkeypatch):
    import httpx

    from bot.runner.services import Services
    from bot.store import Store
    from bot.web import auth
    from bot.web.app import create_app
    from tests.test_web_access import BASE, NoTriager, make_config, no_client, provider_answer

    monkeypatch.setattr(auth, "MAX_NONCES", 20)
    store = Store.open(":memory:")
    config = make_config()
    services = Services(config=config, store=store, client_factory=no_client, triager=NoTriager())
    app = create_app(config, store, services=services)
    transport = httpx.ASGITransport(app=app)
    for _ in range(60):  # each a new anonymous visitor: no cookie carried over
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as anon:
            assert (await anon.get("/auth/login")).status_code == 303
    live = store.db.execute("SELECT count(*) FROM state WHERE key LIKE 'sso_nonce:%'")
    assert live.fetchone()[0] == 20
    # The most recent sign-in still completes after the flood.
    from tests.test_web_access import start_login

    async with httpx.AsyncClient(transport=transport, base_url=BASE) as staff:
        nonce, _ = await start_login(staff)
        done = await staff.get("/auth/sso", params=provider_answer(nonce))
        assert done.status_code == 303 and done.headers["location"] == "/"
    store.close()


# ----------------------------------------------------------------- run / serve / demo


def run_cli(db, *args, env=None):  # type: ignore[no-untyped-def]
    base = {"USER": "mod", "TRIAGEBOT_API_KEY": "not-the-key", "TRIAGEBOT_CONFIG": None}
    return CliRunner().invoke(cli, ["--db", str(db), *args], env={**base, **(env or {})})


FAKE = ["--triager", "tests.runner_support:FakeTriager"]


@pytest.fixture
def inited_db(tmp_path, monkeypatch):
    from tests.runner_support import make_store

    monkeypatch.chdir(tmp_path)
    make_store(tmp_path).close()
    return tmp_path / "bot.db"


def test_run_once_with_a_key_the_forum_refuses_ends_with_exit_2(inited_db):
    from bot.forum_sim.server import serve
    from tests.runner_support import make_forum

    state = make_forum()
    with serve(state) as url:
        out = run_cli(inited_db, "run", "--once", *FAKE, env={"TRIAGEBOT_FORUM_URL": url})
    state.close()
    assert out.exit_code == 2, out.output
    # The start-up check finds the refused key before the first poll: one line.
    assert out.output.startswith("Error: ") and out.output.count("\n") == 1
    assert "api_key" in out.output or "check TRIAGEBOT_API_KEY" in out.output
    assert "Traceback" not in out.output


def test_run_once_with_the_forum_down_ends_with_exit_1(inited_db, monkeypatch):
    import socket

    from bot.discourse import client

    # Keep the client's own bounded retries, without their seconds of back-off.
    monkeypatch.setattr(client.RetryPolicy, "backoff", lambda self, attempt, rng: 0.0)
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = run_cli(
        inited_db, "run", "--once", *FAKE, env={"TRIAGEBOT_FORUM_URL": f"http://127.0.0.1:{port}"}
    )
    assert out.exit_code == 1, out.output
    # The start-up check only warns about a forum that is down (the run retries); the
    # run then ends with one error line.
    last = out.output.strip().splitlines()[-1]
    assert last.startswith("Error: forum: not reachable")
    assert "Traceback" not in out.output


def test_a_forum_url_that_is_not_a_url_fails_at_load(tmp_path):
    with pytest.raises(ConfigError, match="forum_url: must be an http:// or https:// URL"):
        load_config(env={"TRIAGEBOT_FORUM_URL": "not-a-url"})


def test_serve_and_demo_on_a_port_in_use_fail_at_once_in_one_line(inited_db):
    import socket
    import time

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        env = {"TRIAGEBOT_FORUM_URL": "http://127.0.0.1:9", "TRIAGEBOT_WEBHOOK_SECRET": "s" * 16}
        served = run_cli(inited_db, "serve", "--port", port, env=env)
        assert served.exit_code == 2, served.output
        assert served.output.startswith(f"Error: --port: cannot listen on 127.0.0.1:{port}")
        assert served.output.count("\n") == 1
        started = time.monotonic()
        demo = CliRunner().invoke(
            cli, ["demo", "--keep-running", "--port", port, *FAKE], env={"TRIAGEBOT_CONFIG": None}
        )
        assert demo.exit_code == 2, demo.output
        assert demo.output.startswith("Error: --port: cannot listen")
        assert time.monotonic() - started < 5  # before the demo, not after it


# ----------------------------------------------------------------- databases init never made


@pytest.mark.parametrize(
    "args",
    [
        ["issues", "list"],
        ["issues", "show", "x"],
        ["issues", "add", "new.yml"],
        ["queue", "list"],
        ["review", "list"],
        ["run", "--once", *FAKE],
        ["serve", "--port", "0"],
    ],
)
def test_commands_on_a_missing_database_say_run_init_and_create_nothing(runner, args):
    Path("new.yml").write_text(GOOD)
    env = {"TRIAGEBOT_FORUM_URL": "http://127.0.0.1:9", "TRIAGEBOT_WEBHOOK_SECRET": "s" * 16}
    result = runner.invoke(cli, ["--db", "missing.db", *args], env=env)
    assert result.exit_code == 2, result.output
    assert one_error_line(result) == (
        "Error: database: missing.db does not exist; run `triagebot init` first (or pass --db PATH)"
    )
    assert not Path("missing.db").exists()


@pytest.mark.parametrize("command", ["run", "serve"])
def test_run_and_serve_refuse_a_database_without_known_issues(runner, command):
    from bot.store import Store

    Store.open("empty.db").close()  # migrated, but `init` never loaded the entries
    env = {"TRIAGEBOT_FORUM_URL": "http://127.0.0.1:9", "TRIAGEBOT_WEBHOOK_SECRET": "s" * 16}
    args = ["run", "--once", *FAKE] if command == "run" else ["serve", "--port", "0"]
    result = runner.invoke(cli, ["--db", "empty.db", *args], env=env)
    assert result.exit_code == 2
    assert one_error_line(result) == (
        "Error: database: empty.db has no known issues; run `triagebot init` first"
    )


def test_reading_commands_open_the_database_read_only_and_writes_say_why(runner, monkeypatch):
    import os

    assert invoke(runner, "init").exit_code == 0
    db = Path("t.db").resolve()
    real_access = os.access
    # Tests run as root, for whom file modes do not bite: the bot asks os.access, as
    # SQLite's permission checks would answer for an ordinary user.
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p).resolve() == db else real_access(p, mode)
    )
    listed = invoke(runner, "issues", "list", "--json")
    assert listed.exit_code == 0 and len(json.loads(listed.output)) == 30
    assert not Path("t.db-wal").exists()  # nothing written, not even the journal
    Path("new.yml").write_text(GOOD)
    before = rows("t.db")
    added = invoke(runner, "issues", "add", "new.yml")
    assert added.exit_code == 2
    assert one_error_line(added).startswith(
        "Error: database: " + str(Path("t.db")) + " is read-only (no write permission)"
    )
    assert rows("t.db") == before


def test_a_read_only_store_refuses_writes_at_sqlite_too(tmp_path):
    from bot.store import Store, StoreError

    Store.open(tmp_path / "x.db").close()
    store = Store.open(tmp_path / "x.db", readonly=True)
    with pytest.raises(StoreError, match="is open read-only"):
        store.set_state("k", "v")
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store.db.execute("INSERT INTO state VALUES ('k', 'v')")
    store.close()


# ----------------------------------------------------------------- reply summaries


def test_summary_is_cut_between_sentences_never_inside_a_quote():
    from bot.replies.render import _first_sentences

    text = (
        'The API answers 429 ("Rate limit reached for ... on tokens per min. Try later.") '
        "when the org goes over its limit. This is by design (see e.g. the docs. Really.) "
        "and pacing fixes it."
    )
    assert _first_sentences(text, 120) == (
        'The API answers 429 ("Rate limit reached for ... on tokens per min. Try later.") '
        "when the org goes over its limit."
    )
    assert _first_sentences('He said "no. never. ever." and left', 20) == ""


def test_rate_limit_reply_has_no_quote_left_open():
    from bot.known_issues import load_file
    from bot.replies.render import render_reply

    data = Path(__file__).resolve().parent.parent / "data" / "known_issues"
    for slug in ("rate_limit_exceeded", "context_length_exceeded"):
        issue = load_file(data / f"{slug}.yml")
        reply = render_reply(issue, error_string=None)
        for line in reply.splitlines():
            assert line.count('"') % 2 == 0, line
            assert not line.rstrip().endswith(('"...', "..."))


# ----------------------------------------------------------------- patterns that match prose


@pytest.mark.parametrize(
    ("kind", "value"),
    [("regex", "[a-z ]+"), ("regex", r"\w+\s\w+"), ("regex", "(?:the|a) .{0,20}"),
     ("literal", "thank you")],
)  # fmt: skip
def test_issues_add_refuses_a_pattern_that_matches_ordinary_prose(runner, kind, value):
    assert invoke(runner, "init").exit_code == 0
    before = rows("t.db")
    text = GOOD.replace(
        "kind: literal\n    value: Demo failure text", f"kind: {kind}\n    value: '{value}'"
    )
    Path("broad.yml").write_text(text)
    result = invoke(runner, "issues", "add", "broad.yml")
    assert result.exit_code == 2
    line = one_error_line(result)
    assert line.startswith("Error: broad.yml: patterns[0].value: matches ordinary prose")
    assert "would answer unrelated posts" in line
    assert rows("t.db") == before


def test_specific_patterns_still_pass_the_prose_check():
    from bot.known_issues import validate_entry

    for value in (r"Rate limit reached for \S+ on tokens per min", r"sk-[A-Za-z0-9]{20,}"):
        entry = {
            "slug": "demo_issue", "title": "Demo", "status": "investigating", "summary": "S.",
            "patterns": [{"kind": "regex", "value": value}],
        }  # fmt: skip
        assert validate_entry(entry).patterns[0].value == value


# ----------------------------------------------------------------- small things a user notices


def _commands():  # type: ignore[no-untyped-def]
    import click

    def walk(group, prefix=()):  # type: ignore[no-untyped-def]
        for name, command in sorted(group.commands.items()):
            yield (*prefix, name), command
            if isinstance(command, click.Group):
                yield from walk(command, (*prefix, name))

    return list(walk(cli))


def test_help_says_path_for_paths_and_never_wraps_usage_mid_word():
    import click

    top = CliRunner().invoke(cli, ["--help"], env={"COLUMNS": "80"}).output
    assert "--db PATH" in top and "--db TEXT" not in top
    for path, command in _commands():
        ctx = click.Context(command, info_name=" ".join(("triagebot", *path)))
        whole = " ".join(["Usage:", ctx.command_path, *command.collect_usage_pieces(ctx)])
        out = (
            CliRunner()
            .invoke(cli, [*path, "--help"], env={"COLUMNS": "80"}, prog_name="triagebot")
            .output
        )
        usage = out.split("\n\n")[0]
        # Wrapping may move words to the next line, never split one.
        assert usage.split() == whole.split(), (path, usage)
        assert "{" not in usage, (path, usage)
    status = CliRunner().invoke(cli, ["issues", "set-status", "--help"]).output
    assert "SLUG STATUS" in status and "expected_behaviour" in status


def test_counts_are_plural_only_when_more_than_one():
    from bot.runner.texts import plural

    assert [plural(n, "report") for n in (0, 1, 2)] == ["0 reports", "1 report", "2 reports"]


async def test_an_escalation_with_one_report_says_1_report(tmp_path):
    from bot.runner import poller
    from tests.runner_support import make_forum, make_services, make_store

    forum = make_forum()
    store = make_store(tmp_path)
    forum.create_topic("bob", "Other", "ERR_NEW_SINGLE happened")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store)
    stats = await poller.poll_once(services, keep_outcomes=True)
    await services.aclose()
    reasons = store.list_decisions()[0].reasons
    assert any(r.endswith("(1 report)") for r in reasons), reasons
    assert stats.decided == 1
    store.close()
    forum.close()


def test_demo_report_says_replied_once_the_reply_is_posted():
    from bot.commands.bot_cmds import _why

    assert _why(["reply planned", "pattern:x"], posted=True) == "pattern match; replied"
    assert _why(["reply planned"], posted=False) == "reply not posted yet"


def test_readme_documents_when_staff_are_notified():
    from bot.config import Config

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sizes = ", ".join(str(n) for n in Config().escalation_sizes)
    assert f"`escalation_sizes` (default {sizes})" in readme
    assert "its first report" in readme


def test_demo_leaves_no_temporary_database_behind(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where mkdtemp makes its dirs
    result = CliRunner().invoke(
        cli, ["demo", *FAKE], env={"COLUMNS": "200", "TRIAGEBOT_CONFIG": None}
    )
    assert result.exit_code == 0, result.output
    assert list(tmp_path.glob("triagebot-demo-*")) == []


# ----------------------------------------------------------------- the run loop's bounds


async def test_run_loop_gives_up_on_a_forum_still_failing_after_the_bounded_retries(tmp_path):
    import asyncio

    from bot.runner import poller
    from tests.runner_support import make_forum, make_services, make_store

    forum = make_forum()
    store = make_store(tmp_path)
    services = make_services(forum, store)
    forum.faults.error_rate_5xx = 1.0  # every request answers 5xx: transient, retried
    with pytest.raises(poller.ForumUnusable, match="not reachable after 3 attempt") as info:
        await asyncio.wait_for(
            poller.run_loop(services, stop=asyncio.Event(), interval=0.01, start_attempts=3), 30
        )
    assert info.value.exit_code == 1
    await services.aclose()
    store.close()
    forum.close()


async def test_a_key_revoked_while_running_ends_the_loop_and_serve(tmp_path):
    import asyncio
    import socket

    from bot.commands.bot_cmds import serve_forever
    from bot.runner import poller
    from tests.runner_support import make_forum, make_services, make_store

    forum = make_forum()
    store = make_store(tmp_path)
    services = make_services(forum, store, webhook_secret="s" * 16)
    stop = asyncio.Event()
    polls: list[int] = []

    def revoke_after_first(stats: poller.PollStats) -> None:
        polls.append(stats.polls)
        forum.api_keys.clear()  # an admin revoked the key

    with pytest.raises(poller.ForumUnusable, match="check TRIAGEBOT_API_KEY") as info:
        await asyncio.wait_for(
            poller.run_loop(services, stop=stop, interval=0.01, on_poll=revoke_after_first), 30
        )
    assert info.value.exit_code == 2 and polls == [1]
    await services.aclose()

    services = make_services(forum, store, webhook_secret="s" * 16)
    forum.api_keys.clear()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    with pytest.raises(poller.ForumUnusable, match="check TRIAGEBOT_API_KEY"):
        await asyncio.wait_for(
            serve_forever(services, host="127.0.0.1", port=0, interval=0.01, sockets=[sock]), 30
        )
    sock.close()
    store.close()
    forum.close()


def test_queue_promote_to_stdout_then_to_a_file_gives_the_same_draft(tmp_path):
    import asyncio

    from bot.runner import poller
    from tests.runner_support import make_forum, make_services, make_store

    forum = make_forum()
    store = make_store(tmp_path)
    forum.create_topic("alice", "Odd", "ERR_NEW_PROMO failed here")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(forum, store)

    async def go() -> None:
        await poller.poll_once(services)
        await services.aclose()

    asyncio.run(go())
    (cluster,) = store.list_clusters()
    store.close()
    forum.close()
    db = str(tmp_path / "bot.db")
    shown = CliRunner().invoke(cli, ["--db", db, "queue", "promote", str(cluster.id)])
    assert shown.exit_code == 0, shown.output
    target = tmp_path / "draft.yml"
    written = CliRunner().invoke(
        cli, ["--db", db, "queue", "promote", str(cluster.id), "-o", str(target)]
    )
    assert written.exit_code == 0, written.output
    assert target.read_text() == shown.output
