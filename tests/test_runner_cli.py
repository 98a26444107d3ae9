"""The queue/review/run commands: output, bad input as one line, start options."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.runner import poller
from tests.runner_support import SCOPES, make_forum, make_services, make_store


@pytest.fixture
def seeded(tmp_path):
    """A database with one cluster and one pending draft, made by the real pipeline."""
    import asyncio

    state = make_forum()
    store = make_store(tmp_path)
    state.create_topic("alice", "Odd", "ERR_NEW_CLI failed here")
    state.create_topic("bob", "Unsure", "maybe-scopes keys act weird")
    store.set_state(poller.CURSOR_KEY, "0")
    services = make_services(state, store, mode="review")

    async def go() -> None:
        await poller.poll_once(services)
        await services.aclose()

    asyncio.run(go())
    store.close()
    yield tmp_path / "bot.db"
    state.close()


def _run(db, *args):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, ["--db", str(db), *args], env={"USER": "mod"})


def test_queue_and_review_commands(seeded):
    out = _run(seeded, "queue", "list", "--json")
    assert out.exit_code == 0, out.output
    (cluster,) = json.loads(out.output)
    shown = _run(seeded, "queue", "show", str(cluster["id"]))
    assert "err_new_cli" in shown.output.lower() and "by alice" in shown.output
    promoted = _run(seeded, "queue", "promote", str(cluster["id"]))
    assert promoted.exit_code == 0 and "status: investigating" in promoted.output
    again = _run(seeded, "queue", "dismiss", str(cluster["id"]))
    assert again.exit_code == 2 and again.output.startswith("Error: cluster")
    drafts = _run(seeded, "review", "list", "--json")
    (draft,) = json.loads(drafts.output)
    assert draft["issue"] == SCOPES
    assert "This matches a known issue" in _run(seeded, "review", "show", str(draft["id"])).output
    rejected = _run(seeded, "review", "reject", str(draft["id"]), "--reason", "wrong issue")
    assert rejected.exit_code == 0 and "rejected" in rejected.output
    assert "No drafts." in _run(seeded, "review", "list").output


@pytest.mark.parametrize(
    "args",
    [
        ["queue", "show", "999"],
        ["review", "approve", "999"],
        ["review", "reject", "999", "--reason", "x"],
        ["queue", "link", "999", SCOPES],
    ],
)
def test_unknown_ids_are_one_line_errors(seeded, args):
    out = _run(seeded, *args)
    assert out.exit_code == 2
    assert out.output.startswith("Error: ") and out.output.count("\n") == 1


def test_run_rejects_bad_start_options(tmp_path):
    db = tmp_path / "x.db"
    out = _run(db, "run", "--since", "yesterday-ish")
    assert out.exit_code == 2 and "--since" in out.output
    out = _run(db, "run", "--backfill", "5", "--since", "2026-01-01")
    assert out.exit_code == 2 and "choose one" in out.output


async def test_start_cursor_now_backfill_and_since(tmp_path):
    state = make_forum()
    store = make_store(tmp_path)
    ids = [state.create_topic("alice", f"T {i}", f"post {i}")["id"] for i in range(120)]
    services = make_services(state, store)
    assert await poller.init_cursor(services, poller.StartSpec()) == ids[-1]  # "now"
    store.db.execute("DELETE FROM state")
    assert await poller.init_cursor(services, poller.StartSpec(backfill=70)) == ids[-70] - 1
    # Restarting without options keeps the persisted cursor.
    assert await poller.init_cursor(services, poller.StartSpec()) == ids[-70] - 1
    store.db.execute("DELETE FROM state")
    since = state.posts[ids[10]].created_at
    cursor = await poller.init_cursor(services, poller.StartSpec(since=since))
    assert cursor < ids[10] and cursor >= ids[0] - 1
    await services.aclose()
    store.close()
    state.close()
