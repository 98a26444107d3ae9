"""The `not_error` and `novel` training posts keep covering the shapes that fool the models.

The error model learns what a non-report looks like only from `not_error`, so without
counter-examples that carry code blocks, issue-tracker templates or other languages, any
post with a fence or a `### Environment` heading reads as an error report. Likewise the
issue model escalates a Realtime or non-Python error only if `novel` shows such errors
that match no known issue. The floors sit a little below today's counts: pruning a whole
category fails here, small edits do not.

The held-out threads are the project's independent measure, so no training post may
repeat one.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.triage.training_data import NOT_ERROR, NOVEL, Example, load_training_dir

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = load_training_dir(ROOT / "data" / "training")
HELDOUT = ROOT / "data" / "heldout" / "threads.jsonl"

_FENCE = re.compile(r"```")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_TEMPLATE = re.compile(r"^(?:#{2,3} |\*\*[A-Z])", re.MULTILINE)
_REALTIME = re.compile(r"\brealtime\b", re.IGNORECASE)
# A held-out text this short could be a bare error string that both sets quote.
MIN_SHARED_TEXT = 120


def _normalise(text: str) -> str:
    return " ".join(text.lower().split())


def _of(label: str) -> list[Example]:
    return [e for e in EXAMPLES if e.label == label]


def _issue_shaped(example: Example) -> bool:
    return bool(_TEMPLATE.search(example.text) or example.title.lstrip().startswith("["))


@pytest.mark.parametrize(
    ("label", "minimum"),
    [(NOT_ERROR, 200), (NOVEL, 130)],
)
def test_special_labels_keep_their_size(label: str, minimum: int) -> None:
    own = _of(label)
    assert len(own) >= minimum, f"{label}: only {len(own)} training posts"
    assert len({_normalise(e.text) for e in own}) == len(own), f"{label}: duplicate posts"


def test_not_error_covers_error_shaped_non_reports() -> None:
    own = _of(NOT_ERROR)
    fenced = sum(bool(_FENCE.search(e.text)) for e in own)
    other_script = sum(bool(_NON_ASCII.search(e.title)) for e in own)
    issue_shaped = sum(_issue_shaped(e) for e in own)
    assert fenced >= 10, f"only {fenced} not_error posts with a code block"
    assert other_script >= 10, f"only {other_script} not_error posts titled in another script"
    assert issue_shaped >= 10, f"only {issue_shaped} not_error posts shaped like tracker issues"


def test_novel_covers_realtime_errors() -> None:
    realtime = sum(bool(_REALTIME.search(f"{e.title}\n{e.text}")) for e in _of(NOVEL))
    assert realtime >= 6, f"only {realtime} novel Realtime posts"


def test_no_training_post_repeats_a_heldout_thread() -> None:
    held = [json.loads(line) for line in HELDOUT.read_text(encoding="utf-8").splitlines() if line]
    texts = [_normalise(h.get("text") or "") for h in held]
    long_texts = [t for t in texts if len(t) >= MIN_SHARED_TEXT]
    for example in EXAMPLES:
        text = _normalise(example.text)
        assert text not in texts, f"{example.source} repeats a held-out thread"
        assert not any(t in text for t in long_texts), (
            f"{example.source} contains a held-out thread's text"
        )
