"""Remembered pattern analyses: what bot.patterns derives from a rule is kept by the data
cache, so a second start analyses nothing, and what it reads back is what a fresh
analysis finds; a damaged entry is analysed again."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import data_cache, patterns

ROOT = Path(__file__).resolve().parents[1]

_DECIDE = """
import json
from bot.config import load_config
from bot.triage.engine import load_triager
from bot.replies.render import decision_json
from bot.triage.types import Thread
triager = load_triager(load_config(None))
post = "ChatGPT told me to retry. I get 429 You exceeded your current quota, check billing."
print(decision_json(triager.decide(Thread(id="t", title="quota error", posts=(post,)))))
"""

# The second start: every analysis raises, so the run passes only when all are read back.
_REFUSE = """
import bot.patterns as P
def refuse(*args, **kwargs):
    raise AssertionError("analysed again")
P._required_literals = P._foldable = P._start_gate = P._literal_runs = P._gated_source = refuse
P.Prefilter._needs = staticmethod(refuse)
"""


def _run(code: str, cache: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        data_cache.CACHE_ENV: str(cache),
        "TRIAGEBOT_DB_PATH": str(tmp_path / "t.db"),
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
    )


def test_a_second_start_analyses_no_rule_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = _run(_DECIDE, cache, tmp_path)
    assert first.returncode == 0, first.stderr
    stored = list(cache.glob(f"{patterns._Remembered.KIND}-*.json"))
    assert len(stored) == 1
    assert len(json.loads(stored[0].read_text())) > 100
    second = _run(_REFUSE + _DECIDE, cache, tmp_path)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout
    # Without the remembered analyses the refusing run fails: the check above has teeth.
    cold = _run(_REFUSE + _DECIDE, tmp_path / "empty", tmp_path)
    assert cold.returncode != 0 and "analysed again" in cold.stderr


def _fresh(analysis: str, source: str, flags: int) -> Any:
    regex = re.compile(source, flags)
    if analysis == "required_literals":
        found = patterns._required_literals(regex)
        return None if found is None else list(found)
    if analysis == "literal_runs":
        return list(patterns._literal_runs(regex))
    if analysis == "foldable":
        return patterns._foldable(regex)
    if analysis == "start_gate":
        return patterns._start_gate(regex)
    if analysis == "gated":
        return patterns._gated_source(regex)
    assert analysis == "prefilter"
    return [list(n) for n in patterns.Prefilter._needs(regex)]


def test_what_is_read_back_is_what_a_fresh_analysis_finds(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _run(_DECIDE, cache, tmp_path).returncode == 0
    (stored,) = cache.glob(f"{patterns._Remembered.KIND}-*.json")
    entries = json.loads(stored.read_text())
    kinds = set()
    for key, value in entries.items():
        analysis, flags, source = key.split("\0", 2)
        kinds.add(analysis)
        assert value == _fresh(analysis, source, int(flags)), key
    assert kinds == {
        "required_literals",
        "literal_runs",
        "foldable",
        "start_gate",
        "gated",
        "prefilter",
    }


@pytest.mark.parametrize("damaged", [42, "x", [1, 2], {"a": 1}])
def test_a_damaged_entry_is_analysed_again(
    damaged: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(data_cache.CACHE_ENV, str(tmp_path))
    rx = re.compile(r"\binsufficient_quota\b", re.IGNORECASE)
    memory = patterns._Remembered()
    key = f"required_literals\0{int(rx.flags)}\0{rx.pattern}"
    memory._load()[key] = damaged

    def required() -> tuple[str, ...] | None:
        return memory.get(
            "required_literals",
            rx.pattern,
            rx.flags,
            lambda: patterns._required_literals(rx),
            lambda v: None if v is None else list(v),
            patterns._optional_strings,
        )

    assert required() == ("insufficient_quota",)
    memory.save()
    assert patterns._Remembered()._load()[key] == ["insufficient_quota"]
