"""The batch contract (`triagebot triage`), `train` and `eval` from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.offline.batch import BatchError, parse_thread
from tests.test_triage_data import make_data_dir

CONTRACT_KEYS = {
    "id",
    "action",
    "issue",
    "confidence",
    "fingerprint",
    "error_strings",
    "corrections",
    "reply",
}

THREADS = [
    {"id": "a", "title": "quota", "posts": ["Error: You exceeded your current quota", "+1"]},
    {"id": "b", "title": "Show and tell", "posts": ["I built a small recipe app this weekend."]},
    {
        "id": "c",
        "title": "max tokens",
        "posts": ["`Unsupported parameter: 'max_tokens' is not supported with this model`"],
    },
    {"id": 7, "title": "empty", "posts": []},
]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("batch")
    data = make_data_dir(root / "data")
    return {
        "TRIAGEBOT_DATA_DIR": str(data),
        "TRIAGEBOT_MODELS_DIR": str(root / "models"),
        "TRIAGEBOT_DB_PATH": str(root / "triagebot.db"),
        "TRIAGEBOT_CONFIG": "",
    }


def run(env: dict[str, str], *args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    clean = {k: v for k, v in env.items() if v}
    return CliRunner().invoke(cli, list(args), env=clean, input=stdin, catch_exceptions=False)


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_triage_writes_one_decision_per_line_in_order(env: dict[str, str], tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "in.jsonl", THREADS)
    out = tmp_path / "out.jsonl"
    result = run(env, "triage", "--input", str(src), "--output", str(out))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c", "7"]
    assert all(set(r) == CONTRACT_KEYS for r in rows)
    assert (rows[0]["action"], rows[0]["issue"]) == ("reply", "quota_exceeded")
    assert rows[0]["reply"] and rows[0]["fingerprint"]
    assert rows[1]["action"] == "ignore" and rows[1]["reply"] is None
    assert rows[2]["issue"] == "max_tokens_unsupported"
    assert rows[3]["action"] == "ignore"
    assert all(0.0 <= r["confidence"] <= 1.0 for r in rows)
    assert not list(tmp_path.glob(".*.tmp"))


def test_triage_stdin_to_stdout(env: dict[str, str]) -> None:
    stdin = "".join(json.dumps(t) + "\n" for t in THREADS[:2])
    result = run(env, "triage", "--input", "-", "--output", "-", stdin=stdin)
    assert result.exit_code == 0
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a list"]', "line 2: must be a JSON object"),
        ('{"id": "x", "title": "t"}', "line 2: posts must be a list"),
        ('{"id": "", "posts": []}', "line 2: id must be a non-empty string"),
        ('{"id": "x", "title": 3, "posts": []}', "line 2: title must be a string"),
    ],
)
def test_malformed_line_fails_cleanly_and_writes_nothing(
    env: dict[str, str], tmp_path: Path, bad: str, message: str
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps(THREADS[0]) + "\n" + bad + "\n" + json.dumps(THREADS[1]) + "\n")
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n")
    result = run(env, "triage", "--input", str(src), "--output", str(out))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert out.read_text() == "previous run\n"
    assert not list(tmp_path.glob(".*.tmp"))


def test_missing_input_file_is_one_line_error(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "triage", "--input", str(tmp_path / "nope.jsonl"), "--output", "-")
    assert result.exit_code == 2
    assert "nope.jsonl: cannot read" in result.stderr


def test_parse_thread_accepts_numeric_ids() -> None:
    assert parse_thread('{"id": 12, "posts": ["x"]}', 1).id == "12"
    with pytest.raises(BatchError, match="src: line 3"):
        parse_thread("{", 3, "src")


def test_train_command_writes_model_and_card(env: dict[str, str], tmp_path: Path) -> None:
    result = run(env, "train", "--models-dir", str(tmp_path / "m"), "--json")
    assert result.exit_code == 0, result.output
    card = json.loads(result.stdout)
    assert (tmp_path / "m" / "triage.npz").is_file()
    assert (
        json.loads((tmp_path / "m" / "model_card.json").read_text())["data_hash"]
        == card["data_hash"]
    )
    assert "quota_exceeded" in card["thresholds"]


def test_eval_reports_the_figures(env: dict[str, str], tmp_path: Path) -> None:
    rows = [
        {
            "title": "quota",
            "text": "Error: You exceeded your current quota",
            "later_posts": [],
            "label": "quota_exceeded",
        },
        {
            "title": "hi",
            "text": "I built a little app with the API, sharing it here.",
            "later_posts": [],
            "label": "not_error",
        },
        {
            "title": "crash",
            "text": "Traceback (most recent call last):\n  File \"x\", line 1\nKeyError: 'delta'",
            "later_posts": [],
            "label": "novel",
        },
        {
            "title": "tokens",
            "text": "`Unsupported parameter: 'max_tokens' is not supported with this model`",
            "label": "max_tokens_unsupported",
        },
    ]
    src = write_jsonl(tmp_path / "labeled.jsonl", rows)
    result = run(env, "eval", "--input", str(src), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 4 and report["n_known"] == 2
    assert report["auto_precision"] == 1.0
    assert report["recall_auto_or_review"] == 1.0
    assert report["novel_escalated"] == 1.0
    assert report["not_error_ignored"] == 1.0
    assert report["per_issue"]["quota_exceeded"]["recall"] == 1.0
    assert report["targets"]["auto_precision"]["met"] is True
    text = run(env, "eval", "--input", str(src))
    assert "auto-reply precision" in text.stdout


def test_eval_bad_label_names_the_line(env: dict[str, str], tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "labeled.jsonl", [{"title": "t", "text": "x"}])
    result = run(env, "eval", "--input", str(src))
    assert result.exit_code == 2
    assert "line 1: label" in result.stderr


def test_from_db_with_an_empty_database_is_a_clear_error(
    env: dict[str, str], tmp_path: Path
) -> None:
    from bot.store import Store

    src = write_jsonl(tmp_path / "in.jsonl", THREADS[:1])
    Store.open(tmp_path / "empty.db").close()  # set up, but no known issues in it
    result = run(
        {**env, "TRIAGEBOT_DB_PATH": str(tmp_path / "empty.db")},
        "triage",
        "--input",
        str(src),
        "--output",
        "-",
        "--from-db",
    )
    assert result.exit_code == 2
    assert "has no known issues" in result.stderr


def test_from_db_uses_the_database_issues(env: dict[str, str], tmp_path: Path) -> None:
    from bot.known_issues import load_dir
    from bot.store import Store

    db = tmp_path / "filled.db"
    store = Store.open(db)
    try:
        for issue in load_dir(Path(env["TRIAGEBOT_DATA_DIR"]) / "known_issues"):
            if issue.slug != "quota_exceeded":
                store.save_issue(issue, author="test")
    finally:
        store.close()
    src = write_jsonl(tmp_path / "in.jsonl", THREADS[:3])
    result = run(
        {**env, "TRIAGEBOT_DB_PATH": str(db), "TRIAGEBOT_MODELS_DIR": str(tmp_path / "m")},
        *("triage", "--input", str(src), "--output", "-", "--from-db"),
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert rows[0]["issue"] != "quota_exceeded"  # not in the database
    assert rows[2]["issue"] == "max_tokens_unsupported"


class _Recorder:
    """A decider that records the chunks it is asked for and can fail on one."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.chunks: list[int] = []
        self.fail_at = fail_at

    def decide_many(self, threads):  # type: ignore[no-untyped-def]
        from bot.triage.types import Decision

        self.chunks.append(len(threads))
        if self.fail_at is not None and len(self.chunks) == self.fail_at:
            raise RuntimeError("model exploded")
        return [
            Decision(id=t.id, action="ignore", issue=None, confidence=1.0, fingerprint=None)
            for t in threads
        ]


def _many(path: Path, n: int) -> Path:
    return write_jsonl(path, [{"id": str(i), "title": "t", "posts": ["x"]} for i in range(n)])


def test_batch_decides_a_chunk_at_a_time_in_order(tmp_path: Path) -> None:
    from bot.offline import batch

    n = batch.CHUNK * 2 + 5
    src = _many(tmp_path / "in.jsonl", n)
    decider = _Recorder()
    assert batch.run_batch(decider, str(src), str(tmp_path / "out.jsonl")) == n
    assert max(decider.chunks) <= batch.CHUNK and sum(decider.chunks) == n
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").open()]
    assert ids == [str(i) for i in range(n)]


def test_a_failure_while_deciding_keeps_the_previous_output(tmp_path: Path) -> None:
    from bot.offline import batch

    src = _many(tmp_path / "in.jsonl", batch.CHUNK * 3)
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n")
    with pytest.raises(RuntimeError):
        batch.run_batch(_Recorder(fail_at=2), str(src), str(out))
    assert out.read_text() == "previous run\n"
    assert not list(tmp_path.glob(".*.tmp"))


class _Pipe:
    """Stdin from a pipe: read once, never rewound."""

    def __init__(self, text: str) -> None:
        self._lines = iter(text.splitlines(keepends=True))

    def __iter__(self):  # type: ignore[no-untyped-def]
        return self._lines

    def seekable(self) -> bool:
        return False


def test_piped_stdin_is_checked_before_anything_reaches_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.offline import batch

    good = "".join(json.dumps({"id": str(i), "posts": ["x"]}) + "\n" for i in range(300))
    monkeypatch.setattr("sys.stdin", _Pipe(good + "{not json\n"))
    decider = _Recorder()
    with pytest.raises(BatchError, match="stdin: line 301"):
        batch.run_batch(decider, "-", "-")
    assert decider.chunks == [] and capsys.readouterr().out == ""
    monkeypatch.setattr("sys.stdin", _Pipe(good))
    assert batch.run_batch(decider, "-", "-") == 300
    ids = [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()]
    assert ids == [str(i) for i in range(300)]
