"""SIGKILL the real bot process at random moments while posts keep arriving.

The bot runs as a subprocess (`python -m bot run`, the same click
command as `triagebot run`) against the local forum over loopback HTTP. After
20+ kills and a final clean run, every member post must be decided exactly
once and no topic may have a duplicate bot reply.
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.forum_sim.server import serve
from bot.runner.poller import CURSOR_KEY
from bot.store import Store
from tests.runner_support import make_forum, make_store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"<!-- triagebot:intent:(\d+) -->")
SCOPES = "Read only key: Request includes unauthorized scopes: api.all.read"


def _start_bot(db: Path, base_url: str, key: str, log) -> subprocess.Popen:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "TRIAGEBOT_FORUM_URL": base_url,
        "TRIAGEBOT_API_KEY": key,
        "TRIAGEBOT_API_USERNAME": "triagebot",
        "TRIAGEBOT_CONCURRENCY": "4",
        "TRIAGEBOT_RATE_LIMIT_PER_MIN": "100000",
        "TRIAGEBOT_MAX_POSTS_PER_HOUR": "100000",
        "PYTHONPATH": str(ROOT),
    }
    cmd = [
        sys.executable, "-m", "bot", "--db", str(db), "run", "--mode", "auto",
        "--interval", "0.05", "--triager", "tests.runner_support:FakeTriager", "--verbose",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=log)


def _member_posts(state) -> list[dict]:  # type: ignore[no-untyped-def]
    with state._lock:
        return [
            state.post_dict(p)
            for p in state.posts.values()
            if state.users[p.user_id].username != "triagebot"
        ]


def test_sigkill_at_random_moments_never_duplicates_or_skips(tmp_path):
    rng = random.Random(20261128)
    state = make_forum()
    key = state.add_api_key("triagebot")
    # Every request waits a little before the forum handles it, so kills often land
    # while a write is in flight: the forum may create the post after the bot died.
    state.faults.latency = 0.03
    store = make_store(tmp_path)
    store.set_state(CURSOR_KEY, "0")  # decide everything from the forum's first post
    store.close()
    db = tmp_path / "bot.db"
    stop_posting = threading.Event()
    topics: list[int] = []

    def writer() -> None:
        n = 0
        while not stop_posting.is_set():
            n += 1
            kind = n % 4
            if kind == 0 or not topics:
                t = state.create_topic("alice", f"Key problem number {n}", f"{SCOPES} ({n})")
                topics.append(t["topic_id"])
            elif kind == 1:
                state.create_post("bob", rng.choice(topics), f"Same here {n}: {SCOPES}")
            elif kind == 2:
                state.create_topic("carol", f"Chatter {n}", f"Thanks for the help everyone {n}")
            else:
                state.create_topic("bob", f"New failure {n}", f"I get ERR_NEW_KILLTEST now {n}")
            time.sleep(rng.uniform(0.02, 0.12))

    log_path = tmp_path / "bot.log"
    with serve(state) as base_url, open(log_path, "ab") as log:
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        kills = 0
        started = time.monotonic()
        while kills < 22:
            proc = _start_bot(db, base_url, key, log)
            if kills % 2:
                time.sleep(rng.uniform(0.3, 1.6))  # anywhere: start-up, polling, deciding
            else:
                # Right after a bot write lands, when the next one is likely in flight.
                before = len(state.posts_by("triagebot"))
                deadline = time.monotonic() + 3
                while len(state.posts_by("triagebot")) == before and time.monotonic() < deadline:
                    time.sleep(0.005)
                time.sleep(rng.uniform(0.0, 0.05))
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
            kills += 1
        stop_posting.set()
        thread.join(timeout=5)
        # A last run, stopped cleanly once everything is decided.
        proc = _start_bot(db, base_url, key, log)
        expected = {(p["id"], p["version"]) for p in _member_posts(state)}
        deadline = time.monotonic() + 40
        check = Store.open(db)
        try:
            while time.monotonic() < deadline:
                seen = {
                    (r["post_id"], r["version"])
                    for r in check.db.query("SELECT post_id, version FROM seen_posts")
                }
                pending = check.pending_intents()
                if expected <= seen and not pending:
                    break
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=15) == 0, log_path.read_text()[-2000:]
            seen = {
                (r["post_id"], r["version"])
                for r in check.db.query("SELECT post_id, version FROM seen_posts")
            }
            undecided = expected - seen
            assert not undecided, f"undecided posts: {sorted(undecided)[:10]}"
            decisions = Counter(
                (r["post_id"], r["post_version"])
                for r in check.db.query("SELECT post_id, post_version FROM decisions")
            )
            assert max(decisions.values()) == 1, "a post was decided twice"
            assert check.pending_intents() == []
            bot = state.posts_by("triagebot")
            member_topic_replies = Counter(
                p["topic_id"] for p in bot if p["archetype"] != "private_message"
            )
            assert member_topic_replies, "the bot never replied"
            dupes = {t: c for t, c in member_topic_replies.items() if c > 1}
            assert not dupes, f"duplicate replies in topics {dupes}"
            markers = Counter(m.group(1) for p in bot for m in [MARKER.search(p["raw"])] if m)
            assert all(c == 1 for c in markers.values())
            done = {r.id for r in check.list_intents("done")}
            assert {int(m) for m in markers} <= done | {
                r.id for r in check.list_intents("abandoned")
            }
            # Every topic with a scopes report got its reply.
            answered = set(member_topic_replies)
            assert set(topics) <= answered
            print(
                f"\n{kills} kills in {time.monotonic() - started:.1f}s; "
                f"{len(expected)} member posts decided; {len(bot)} bot posts; "
                f"intents {Counter(r.status for r in check.list_intents())}; "
                f"{log_path.read_text().count('settled without posting again')} writes "
                "found on the forum after a kill instead of being posted again"
            )
        finally:
            check.close()
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_stops_cleanly_and_persists_the_cursor(tmp_path, sig):
    state = make_forum()
    key = state.add_api_key("triagebot")
    store = make_store(tmp_path)
    store.set_state(CURSOR_KEY, "0")
    store.close()
    for i in range(30):
        state.create_topic("alice", f"Key problem {i}", f"{SCOPES} ({i})")
    with serve(state) as base_url, open(tmp_path / "bot.log", "ab") as log:
        proc = _start_bot(tmp_path / "bot.db", base_url, key, log)
        deadline = time.monotonic() + 20
        while len(state.posts_by("triagebot")) < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(sig)
        assert proc.wait(timeout=15) == 0
    check = Store.open(tmp_path / "bot.db")
    try:
        cursor = int(check.get_state(CURSOR_KEY) or 0)
        assert cursor >= max(p["id"] for p in state.posts_by("alice"))
        assert check.pending_intents() == []
    finally:
        check.close()
