"""`triagebot demo` end to end (real local forum over loopback, pattern-only engine)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

pytestmark = pytest.mark.e2e


def test_demo_runs_and_reports_every_thread(tmp_path):
    from bot.cli import cli as main

    result = CliRunner().invoke(
        main, ["--db", str(tmp_path / "demo.db"), "demo", "--patterns-only"], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "What the bot did" in out and "Escalation queue" in out
    assert "unauthorized_scopes_readonly_key" in out
    assert "staff post" in out and "topic closed" in out
    assert "Staff message: New problem" in out
    assert "Posts flagged for moderators (secrets): 1" in out
    # The pasted key is never echoed back.
    assert (
        "sk-proj-Q7rT2vX9mK4pL8nB3wY6zC1dF5gH0jA2sE7uR4iO9tN"
        not in out.split("What the bot did")[1]
    )
