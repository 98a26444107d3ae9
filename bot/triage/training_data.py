"""Training examples: data/training/<label>[.<part>].yml, and the hash of everything
trained on.

Each file is a YAML list of `{title, text, later_posts?}`, or a mapping with
`provenance` (who wrote it, how, from what) and `examples` (that list). The label is
the file name up to its first dot: a known-issue slug, `novel` (an error report no
known issue covers) or `not_error` (a post that reports no error); what follows the dot
names the part, so one label's examples can live in several files of their own origin
(`not_error.multilingual.yml`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import data_cache
from bot.errors import UserError
from bot.known_issues import SLUG_RE, KnownIssue

NOVEL = "novel"
NOT_ERROR = "not_error"
SPECIAL_LABELS = (NOVEL, NOT_ERROR)


class TrainingDataError(UserError):
    """A malformed training file; the message names the file and the item."""


@dataclass(frozen=True)
class Example:
    label: str
    title: str
    text: str
    later_posts: tuple[str, ...] = ()
    source: str = ""


def _item(path: Path, i: int, item: Any, label: str) -> Example:
    where = f"{path}: item {i + 1}"
    if isinstance(item, str):
        item = {"title": "", "text": item}
    if not isinstance(item, dict):
        raise TrainingDataError(f"{where}: must be a mapping with title and text")
    title = item.get("title") or ""
    text = item.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise TrainingDataError(f"{where}: title and text must be text")
    if not (title.strip() or text.strip()):
        raise TrainingDataError(f"{where}: needs a title or a text")
    later = item.get("later_posts") or []
    if isinstance(later, str):
        later = [later]
    if not isinstance(later, list) or not all(isinstance(p, str) for p in later):
        raise TrainingDataError(f"{where}: later_posts must be a list of texts")
    return Example(label, title.strip(), text.strip(), tuple(later), f"{path.name}#{i + 1}")


def load_training_file(path: str | Path) -> list[Example]:
    path = Path(path)
    label = path.name.split(".", 1)[0]
    if label not in SPECIAL_LABELS and not SLUG_RE.match(label):
        raise TrainingDataError(f"{path}: file name must be a known-issue slug, novel or not_error")
    import yaml  # only when a file is read: the data cache usually answers

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "yaml"
        raise TrainingDataError(f"{path}: {where}: not valid YAML") from None
    except OSError as exc:
        raise TrainingDataError(f"{path}: cannot read: {exc.strerror}") from None
    if data is None:
        return []
    if isinstance(data, dict) and isinstance(data.get("examples"), list):
        data = data["examples"]
    if not isinstance(data, list):
        raise TrainingDataError(f"{path}: must be a YAML list of examples")
    return [_item(path, i, item, label) for i, item in enumerate(data)]


def training_files(training_dir: str | Path) -> list[Path]:
    directory = Path(training_dir)
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))


def load_training_dir(training_dir: str | Path) -> list[Example]:
    """Every example under `training_dir` (missing directory: none). A directory read
    before comes from the data cache (bot.data_cache), keyed by the files' bytes."""
    files = training_files(training_dir)
    return data_cache.validated(
        _CACHE_KIND,
        __file__,
        files,
        lambda: [e for path in files for e in load_training_file(path)],
        lambda examples: [
            [e.label, e.title, e.text, list(e.later_posts), e.source] for e in examples
        ],
        lambda rows: [
            Example(label, title, text, tuple(later), source)
            for label, title, text, later, source in rows
        ],
    )


_CACHE_KIND = "training"


def known_labels(examples: Sequence[Example], issues: Sequence[KnownIssue]) -> list[Example]:
    """Examples whose label is a current issue or a special label (a deleted issue's
    examples must not resurrect it as a class)."""
    slugs = {i.slug for i in issues}
    return [e for e in examples if e.label in slugs or e.label in SPECIAL_LABELS]


# The fields of an entry the model learns from (classifier.issue_documents and
# example_documents): an edit to any other field (status, workaround, misconceptions,
# links) changes replies, not the model, so it must not cost a retrain.
MODEL_FIELDS = ("slug", "title", "summary", "patterns", "examples")


def _model_content(issue: KnownIssue) -> dict[str, Any]:
    content = issue.content()
    return {k: content[k] for k in MODEL_FIELDS}


def data_hash(issues: Sequence[KnownIssue], examples: Sequence[Example]) -> str:
    """A hash of everything the model learns from; a change means retrain.

    Independent of where the data came from (YAML directory or database) and of
    edit stamps, so the same content always gives the same hash.
    """
    h = hashlib.sha256()
    for issue in sorted(issues, key=lambda i: i.slug):
        h.update(json.dumps(_model_content(issue), sort_keys=True).encode())
    for ex in sorted(examples, key=lambda e: (e.label, e.title, e.text, e.later_posts)):
        h.update(json.dumps([ex.label, ex.title, ex.text, list(ex.later_posts)]).encode())
    return h.hexdigest()


def issues_hash(issues: Sequence[KnownIssue]) -> str:
    """A hash of every field of the entries (edit stamps aside): what triage answers
    with, so any change means a triager built from them is out of date."""
    h = hashlib.sha256()
    for issue in sorted(issues, key=lambda i: i.slug):
        h.update(json.dumps(issue.content(), sort_keys=True).encode())
    return h.hexdigest()
