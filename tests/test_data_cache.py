"""The data cache: validated known issues and training examples are read back from
JSON keyed by the files' bytes; any edit, bad data or unwritable cache falls back to
reading and validating the files, with the same errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import data_cache, known_issues
from bot.known_issues import EntryError, KnownIssue, load_dir
from bot.triage import training_data
from bot.triage.training_data import load_training_dir
from tests.test_triage_data import make_data_dir


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv(data_cache.CACHE_ENV, str(directory))
    return directory


def _no_validation(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_args: object) -> None:
        raise AssertionError("validated again")

    monkeypatch.setattr(known_issues, "_validate_dir", refuse)
    monkeypatch.setattr(training_data, "load_training_file", refuse)


def test_a_second_load_comes_from_the_cache(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_data_dir(tmp_path / "data")
    issues = load_dir(data / "known_issues")
    examples = load_training_dir(data / "training")
    assert len(list(cache.glob("*.json"))) == 2
    _no_validation(monkeypatch)
    assert load_dir(data / "known_issues") == issues
    assert load_training_dir(data / "training") == examples


def test_an_edit_is_validated_again(
    tmp_path: Path, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_data_dir(tmp_path / "data")
    load_dir(data / "known_issues")
    path = data / "known_issues" / "quota_exceeded.yml"
    entry = yaml.safe_load(path.read_text())
    entry["title"] = "Quota gremlins"
    path.write_text(yaml.safe_dump(entry))
    [issue] = [i for i in load_dir(data / "known_issues") if i.slug == "quota_exceeded"]
    assert issue.title == "Quota gremlins"


def test_invalid_data_gives_the_same_error_every_time(tmp_path: Path, cache: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    path = data / "known_issues" / "quota_exceeded.yml"
    entry = yaml.safe_load(path.read_text())
    entry["status"] = "sideways"
    path.write_text(yaml.safe_dump(entry))
    messages = []
    for _ in range(2):
        with pytest.raises(EntryError) as caught:
            load_dir(data / "known_issues")
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "status: must be one of" in messages[0]
    assert not list(cache.glob("known-issues-*.json"))


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv(data_cache.CACHE_ENV, str(blocker / "cache"))
    data = make_data_dir(tmp_path / "data")
    assert load_dir(data / "known_issues") == load_dir(data / "known_issues")
    assert len(load_training_dir(data / "training")) > 0


def test_a_damaged_entry_is_ignored(tmp_path: Path, cache: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    issues = load_dir(data / "known_issues")
    examples = load_training_dir(data / "training")
    for entry in cache.glob("*.json"):
        entry.write_text('[{"slug": 1}]' if entry.name.startswith("known") else "[[1]]")
    assert load_dir(data / "known_issues") == issues
    assert load_training_dir(data / "training") == examples
    for entry in cache.glob("*.json"):
        entry.write_text("{not json")
    assert load_dir(data / "known_issues") == issues


def test_cached_entries_round_trip_every_shipped_entry() -> None:
    root = Path(__file__).resolve().parents[1]
    for issue in load_dir(root / "data" / "known_issues"):
        assert KnownIssue.from_dict(issue.to_dict()) == issue


def test_only_the_most_recent_entries_are_kept(cache: Path) -> None:
    for n in range(data_cache.KEEP + 3):
        data_cache.write("kind", f"k{n}", [n])
    assert len(list(cache.glob("kind-*.json"))) == data_cache.KEEP
    assert data_cache.read("kind", f"k{data_cache.KEEP + 2}") == [data_cache.KEEP + 2]
