"""`triagebot triage | train | eval`: the offline triage engine from the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.commands.context import AppContext
from bot.errors import UserError
from bot.known_issues import load_dir

# The engine is imported inside each command: every other `triagebot` command, and
# `--help`, starts without paying for it.
if TYPE_CHECKING:
    from bot.triage.engine import Triager
    from bot.triage.types import Decision, Thread

PROGRESS_MIN = 500  # below this a progress bar is noise

_from_db_option = click.option(
    "--from-db",
    is_flag=True,
    help="Use the known issues in the database instead of the data/known_issues files.",
)


def _require_db_issues(app: AppContext) -> None:
    if not app.reader.list_issues():
        raise UserError(
            f"the database {app.config.db_path} has no known issues "
            "(import them with `triagebot issues import`)"
        )


def _triager(app: AppContext, from_db: bool) -> Triager:
    from bot.triage.engine import load_triager

    if from_db:
        _require_db_issues(app)
    return load_triager(app.config, use_store=from_db, store=app.reader if from_db else None)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None]]:
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("triage", total=total)
        yield lambda n: bar.advance(task, n)


@click.command("triage")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="PATH",
    help="Threads JSONL (one thread a line); - for stdin.",
)
@click.option(
    "--output",
    "output_path",
    required=True,
    metavar="PATH",
    help="Decisions JSONL to write; - for stdout.",
)
@_from_db_option
@click.pass_obj
def triage_cmd(app: AppContext, input_path: str, output_path: str, from_db: bool) -> None:
    """Decide every thread in a JSONL file, offline (the batch contract in DESIGN.md).

    Input lines: {"id", "title", "posts": [first post, later posts...]}. Output: one
    decision per input line, same order. Nothing is written if any line is malformed.
    """
    from bot.offline.batch import run_batch

    if from_db:
        _require_db_issues(app)  # at once, not at the first decision
    triager = _Lazy(lambda: _triager(app, from_db))
    show = sys.stderr.isatty()

    def factory(total: int) -> object:
        return _progress(total) if show and total >= PROGRESS_MIN else _null_progress()

    count = run_batch(triager, input_path, output_path, progress_factory=factory)
    if output_path != "-":
        click.echo(f"{count} decisions written to {output_path}", err=True)


class _Lazy:
    """The engine, loaded at the first decision: a malformed input line is reported
    (and the run ends) before the model is loaded or retrained."""

    def __init__(self, load: Callable[[], Triager]) -> None:
        self._load = load
        self._triager: Triager | None = None

    def decide_many(self, threads: Sequence[Thread]) -> list[Decision]:
        if self._triager is None:
            self._triager = self._load()
        return self._triager.decide_many(threads)


@contextmanager
def _null_progress() -> Iterator[Callable[[int], None]]:
    yield lambda n: None


@click.command("train")
@click.option(
    "--models-dir",
    metavar="DIR",
    default=None,
    help="Where to write triage.npz and model_card.json (default: the configured models dir).",
)
@_from_db_option
@click.option("--json", "as_json", is_flag=True, help="Print the model card as JSON.")
@click.pass_obj
def train_cmd(app: AppContext, models_dir: str | None, from_db: bool, as_json: bool) -> None:
    """Train the classifier from the known issues and data/training, and save it."""
    from bot.triage import classifier
    from bot.triage.training_data import load_training_dir

    config = app.config
    issues = (
        app.reader.list_issues()
        if from_db
        else load_dir(config.resolved_data_dir() / "known_issues")
    )
    examples = load_training_dir(config.resolved_data_dir() / "training")
    model = classifier.train(issues, examples)
    target = Path(models_dir) if models_dir else config.resolved_models_dir()
    path = classifier.save(model, target)
    card = model.card
    if as_json:
        click.echo(json.dumps(card.to_json(), indent=2, sort_keys=True))
        return
    cv = card.cv_metrics
    click.echo(f"model {card.version} written to {path}")
    click.echo(
        f"classes: {len(card.classes)}  documents: {card.n_documents}  "
        f"trained in {card.train_seconds:.1f}s"
    )
    click.echo(
        f"cross-validated: accuracy {cv.get('accuracy')}  auto precision {cv.get('auto_precision')}"
        f"  auto recall {cv.get('auto_recall')}  not_error ignored {cv.get('not_error_ignored')}"
    )


@click.command("eval")
@click.option(
    "--input",
    "input_path",
    required=True,
    metavar="PATH",
    help="Labeled JSONL: {title, text, later_posts, label}.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option(
    "--decisions",
    "decisions_path",
    metavar="PATH",
    default=None,
    help="Also write each row's decision (with label and reasons) to this JSONL file.",
)
@_from_db_option
@click.pass_obj
def eval_cmd(
    app: AppContext, input_path: str, as_json: bool, decisions_path: str | None, from_db: bool
) -> None:
    """Measure precision, recall, escalation and ignore rates on labeled threads."""
    from bot.offline.batch import open_input
    from bot.offline.evaluate import evaluate, format_report, read_labeled

    stream, close = open_input(input_path)
    try:
        rows = read_labeled(stream, "stdin" if input_path == "-" else input_path)
    finally:
        if close:
            stream.close()
    triager = _triager(app, from_db)
    report, decisions = evaluate(triager, rows)
    if decisions_path:
        with open(decisions_path, "w", encoding="utf-8") as out:
            for row, d in zip(rows, decisions, strict=True):
                line = {**d.to_json(reply=None), "label": row.label, "reasons": list(d.reasons)}
                line.pop("reply")  # the figures need no reply text
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(format_report(report))


COMMANDS: list[click.Command] = [triage_cmd, train_cmd, eval_cmd]
