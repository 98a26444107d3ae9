"""The Triager: actions, evidence rules, secrets, corrections, retrain-on-edit."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.replies.render import render_decision
from bot.triage import classifier, engine
from bot.triage.engine import Triager
from bot.triage.types import Correction, Thread
from tests.test_triage_data import make_data_dir


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_data_dir(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def triager(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Triager:
    models = tmp_path_factory.mktemp("models")
    return Triager.from_dir(data_dir, models, cache_dir=tmp_path_factory.mktemp("cache"))


def decide(t: Triager, title: str, *posts: str) -> engine.Decision:
    return t.decide(Thread("t1", title, tuple(posts)))


def test_pattern_hit_replies_with_the_issue(triager: Triager) -> None:
    d = decide(
        triager,
        "API stopped working",
        "Since today every call fails:\n```\nYou exceeded your current quota, please check "
        "your plan and billing details.\n```",
    )
    assert d.action == "reply"
    assert d.issue == "quota_exceeded"
    assert d.confidence >= 0.9
    assert any(r.startswith("pattern:quota_exceeded:") for r in d.reasons)
    assert "Add credit on the billing page" in (render_decision(d) or "")
    assert d.error_strings[0].startswith("You exceeded your current quota")
    assert d.fingerprint and d.normalised
    assert d.is_error_report


def test_other_provider_lookalike_is_only_a_draft(triager: Triager) -> None:
    d = decide(
        triager,
        "Azure deployment quota",
        "On our Azure OpenAI resource: `You exceeded your current quota` for the deployment.",
    )
    assert d.action == "review"
    assert d.issue == "quota_exceeded"
    assert any(r.startswith("lookalike:azure") for r in d.reasons)
    assert render_decision(d)  # the draft for staff


def test_pattern_only_in_someone_elses_quote_is_not_evidence(triager: Triager) -> None:
    d = decide(
        triager,
        "Thanks for the help",
        '[quote="bob, post:1, topic:9"]\nYou exceeded your current quota\n[/quote]\n'
        "Thanks, that explains it. Have a nice weekend!",
    )
    assert d.action != "reply"


def test_non_error_post_is_ignored(triager: Triager) -> None:
    d = decide(
        triager,
        "Show and tell: recipe generator",
        "I made a recipe generator with the API this weekend and wanted to share it with you.",
    )
    assert d.action == "ignore"
    assert d.issue is None
    assert d.answer is None and render_decision(d) is None


def test_unknown_error_is_escalated_with_a_fingerprint(triager: Triager) -> None:
    d = decide(
        triager,
        "Crash when uploading audio",
        '```\nTraceback (most recent call last):\n  File "a.py", line 1\n'
        "zipfile.BadZipFile: File is not a zip file\n```",
    )
    assert d.action == "escalate"
    assert d.issue is None
    assert d.fingerprint
    assert d.error_strings[0] == "zipfile.BadZipFile: File is not a zip file"


def test_secrets_are_flagged_and_never_echoed(triager: Triager) -> None:
    key = "sk-proj-" + "Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF"
    d = decide(
        triager,
        "quota error",
        f"My key {key} gets: Error: You exceeded your current quota, please check your plan.",
    )
    assert d.secrets_found
    assert key not in (render_decision(d) or "")
    assert all(key not in s for s in d.error_strings)


def test_corrections_read_the_whole_thread(
    triager: Triager, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, ...]] = []

    def fake(later_posts: list[str], issue: object, **_: object) -> list[Correction]:
        seen.append(tuple(later_posts))
        return [Correction(claim="upgrade your plan", correction="No plan change is needed.")]

    monkeypatch.setattr(engine, "find_corrections", fake)
    d = decide(
        triager, "quota", "Error: You exceeded your current quota", "AI says: upgrade your plan"
    )
    # The first post too: members paste an assistant's answer before asking.
    assert seen == [("Error: You exceeded your current quota", "AI says: upgrade your plan")]
    assert d.corrections[0].correction == "No plan change is needed."
    assert "No plan change is needed." in (render_decision(d) or "")


def test_batch_keeps_order_and_ids(triager: Triager) -> None:
    threads = [
        Thread(str(i), "t", ("Error: You exceeded your current quota" if i % 2 else "hello",))
        for i in range(7)
    ]
    decisions = triager.decide_many(threads)
    assert [d.id for d in decisions] == [str(i) for i in range(7)]
    assert [d.issue for d in decisions][1::2] == ["quota_exceeded"] * 3
    assert triager.decide_many([]) == []


def test_empty_thread_is_ignored(triager: Triager) -> None:
    d = triager.decide(Thread("e", "", ()))
    assert d.action == "ignore"
    assert d.fingerprint is None


def test_retrains_when_known_issues_change(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    models = tmp_path / "models"
    first = Triager.from_dir(data, models, cache_dir=tmp_path / "cache")
    card1 = classifier.read_card(models)
    assert card1 is not None and first.model is not None
    post = Thread("x", "odd", ("Error: Quota gremlin detected in workspace",))
    assert first.decide(post).issue != "quota_exceeded"

    # Loading again without edits reuses the saved model (same hash, no retraining).
    again = Triager.from_dir(data, models, cache_dir=tmp_path / "cache")
    assert again.model is not None
    assert again.model.card.trained_at == card1.trained_at

    path = data / "known_issues" / "quota_exceeded.yml"
    entry = yaml.safe_load(path.read_text())
    entry["patterns"].append({"kind": "literal", "value": "Quota gremlin detected"})
    path.write_text(yaml.safe_dump(entry))
    second = Triager.from_dir(data, models, cache_dir=tmp_path / "cache")
    card2 = classifier.read_card(models)
    assert card2 is not None and card2.data_hash != card1.data_hash
    d = second.decide(post)
    assert (d.action, d.issue) == ("reply", "quota_exceeded")


def test_read_only_models_dir_falls_back_to_cache(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the models directory should be")
    cache = tmp_path / "cache"
    t = Triager.from_dir(data, blocker / "models", cache_dir=cache)
    assert t.model is not None
    assert (cache / classifier.MODEL_FILE).is_file()
    # The next start finds the cached model.
    t2 = Triager.from_dir(data, blocker / "models", cache_dir=cache)
    assert t2.model is not None and t2.model.card.trained_at == t.model.card.trained_at


def test_from_store_uses_the_database_issues(tmp_path: Path) -> None:
    from bot.config import Config
    from bot.known_issues import load_dir
    from bot.store import Store

    data = make_data_dir(tmp_path / "data")
    (tmp_path / "db").mkdir()
    store = Store.open(tmp_path / "db" / "t.db")
    try:
        for issue in load_dir(data / "known_issues")[:2]:
            store.save_issue(issue, author="test")
        config = Config(
            db_path=str(tmp_path / "db" / "t.db"),
            data_dir=str(data),
            models_dir=str(tmp_path / "models"),
        )
        t = Triager.from_store(store, config)
    finally:
        store.close()
    assert set(t.issues) == {"max_tokens_unsupported", "quota_exceeded"}
    assert t.model is not None and "thread_run_active" not in t.model.classes


def test_model_from_older_feature_code_is_retrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_data_dir(tmp_path / "data")
    models = tmp_path / "models"
    first = Triager.from_dir(data, models, cache_dir=tmp_path / "cache")
    assert first.model is not None
    monkeypatch.setattr(classifier, "FORMAT_VERSION", classifier.FORMAT_VERSION + 1)
    second = Triager.from_dir(data, models, cache_dir=tmp_path / "cache")
    assert second.model is not None
    assert second.model.card.format_version == classifier.FORMAT_VERSION
    assert classifier.read_card(models).format_version == classifier.FORMAT_VERSION  # type: ignore[union-attr]


def test_feature_request_is_not_an_error_report(triager: Triager) -> None:
    d = decide(
        triager,
        "[Feature] Add retry with backoff",
        "Is your feature request related to a problem? We sometimes see\n"
        "```\nopenai.APIConnectionError: Connection error.\n```\nand would like the client "
        "to retry automatically. Describe the solution you'd like: a retry option.",
    )
    assert d.action == "ignore"
    assert "feature request" in d.reasons


def test_model_alone_replies_only_when_quoted_errors_agree(triager: Triager) -> None:
    d = decide(
        triager,
        "o1 model refuses max_tokens",
        "Error: max_tokens is not supported, use max_completion_tokens",
    )
    assert not any(r.startswith("pattern:") for r in d.reasons)
    assert (d.action, d.issue) == ("reply", "max_tokens_unsupported")
    assert "error strings agree" in d.reasons
    # The same words with no quoted error text: at most a draft.
    d = decide(
        triager,
        "o1 model refuses max_tokens",
        "the o1 model does not like max_tokens and wants max_completion_tokens, no idea why",
    )
    assert d.action != "reply"


def test_error_string_shown_is_the_one_the_pattern_matched(triager: Triager) -> None:
    d = decide(
        triager,
        "two problems",
        "First `TypeError: x is undefined` in my own code (fixed).\n\n"
        "Now the app says: Can't add messages to thread_abc123 while a run run_def456 is active",
    )
    assert d.issue == "thread_run_active"
    assert "Can't add messages to thread_abc123" in d.error_strings[0]
    assert any("TypeError" in e for e in d.error_strings[1:])


def test_pattern_in_a_post_that_reports_no_error_is_left_alone(triager: Triager) -> None:
    # A known issue is proposed only for a post that reports a problem: the error's
    # words in a post that quotes nothing and reads as no report get no draft.
    d = decide(
        triager,
        "Tips for a billing dashboard",
        "Sharing a few ideas for a billing dashboard that warns users before they see You "
        "exceeded your current quota. Feedback welcome!",
    )
    assert (d.action, d.issue) == ("ignore", None)
    assert "reads as no error report" in d.reasons


def test_needs_reload_after_an_edit(triager: Triager) -> None:
    from dataclasses import replace

    issues = list(triager.issues.values())
    assert not triager.needs_reload(issues)
    edited = [replace(issues[0], summary="Edited by a maintainer."), *issues[1:]]
    assert triager.needs_reload(edited)


@pytest.mark.parametrize("raw", ["", "   \n\n  ", "[quote]Error: quota exceeded[/quote]"])
def test_posts_without_own_words_are_ignored(triager: Triager, raw: str) -> None:
    d = triager.decide(Thread("w", "", (raw,)))
    assert d.action == "ignore"


def test_pattern_prefilter_never_hides_a_match() -> None:
    """On the project's own entries and examples, the literal prefilter agrees with
    running every regex."""
    from bot.config import default_data_dir
    from bot.known_issues import load_dir
    from bot.triage.matching import required_substring
    from bot.triage.training_data import load_training_dir

    data = default_data_dir()
    issues = load_dir(data / "known_issues")
    texts = [f"{e.title}\n{e.text}" for e in load_training_dir(data / "training")]
    texts += [ex for i in issues for ex in i.examples]
    checked = 0
    for issue in issues:
        for pattern in issue.patterns:
            required = required_substring(pattern)
            regex = pattern.compile()
            for text in texts:
                if regex.search(text):
                    checked += 1
                    assert required is None or required in text.lower(), pattern.value
    assert checked > 50


def test_a_key_cut_by_the_length_limit_is_not_echoed(triager: Triager) -> None:
    key = "sk-proj-" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed8Cb7"
    message = "You exceeded your current quota " + "x" * 355 + f" {key} tail"
    d = decide(triager, "quota", '{"error": {"message": "' + message + '"}}')
    assert d.secrets_found
    assert any(s.endswith("[redacted]") for s in d.error_strings)  # the cut fragment
    for s in d.error_strings:
        assert "Zq8X" not in s
    assert "Zq8X" not in (render_decision(d) or "")
