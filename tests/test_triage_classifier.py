"""Classifier: held-out examples, calibrated thresholds, the model card, skops safety."""

from __future__ import annotations

import json
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import skops.io as sio

from bot.known_issues import validate_entry
from bot.triage import classifier
from bot.triage.classifier import ModelError, make_doc, regex_to_text
from bot.triage.training_data import load_training_dir
from tests.test_triage_data import ISSUES, make_data_dir

# Written for these tests and never trained on.
HELD_OUT = [
    (
        "Billing: quota exceeded",
        "We topped up yesterday but calls still say we exceeded our current quota.",
        "quota_exceeded",
    ),
    (
        "o3 and max_tokens",
        "Error: Unsupported parameter: 'max_tokens' is not supported with this model",
        "max_tokens_unsupported",
    ),
    (
        "Thread busy",
        "Adding a message fails: Can't add messages to thread_q1w2e3 while a run run_r4t5y6 is active",
        "thread_run_active",
    ),
    (
        "Crash in tokenizer",
        "```\nUnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 3\n```",
        "novel",
    ),
]


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> classifier.TrainedModel:
    root = make_data_dir(tmp_path_factory.mktemp("data"))
    issues = [validate_entry(e) for e in ISSUES]
    return classifier.train(issues, load_training_dir(root / "training"))


def _top(model: classifier.TrainedModel, title: str, text: str) -> tuple[str, float, float]:
    issue_p, error_p = model.predict([make_doc(title, text)])
    k = int(np.argmax(issue_p[0]))
    return model.classes[k], float(issue_p[0][k]), float(error_p[0])


@pytest.mark.parametrize(("title", "text", "label"), HELD_OUT)
def test_held_out_examples(
    model: classifier.TrainedModel, title: str, text: str, label: str
) -> None:
    got, p, error_p = _top(model, title, text)
    assert got == label
    assert error_p > 0.5


def test_non_error_post_has_low_error_probability(model: classifier.TrainedModel) -> None:
    _, _, error_p = _top(
        model,
        "Ideas for a weekend project",
        "Looking for ideas: what would you build with the API?",
    )
    assert error_p < 0.5


def test_probabilities_are_distributions(model: classifier.TrainedModel) -> None:
    issue_p, error_p = model.predict([make_doc(t, x) for t, x, _ in HELD_OUT])
    assert np.allclose(issue_p.sum(axis=1), 1.0)
    assert ((error_p >= 0) & (error_p <= 1)).all()


def test_card_has_thresholds_metrics_and_versions(model: classifier.TrainedModel) -> None:
    card = model.card
    assert set(card.classes) == {
        "quota_exceeded",
        "max_tokens_unsupported",
        "thread_run_active",
        "novel",
    }
    for slug in ("quota_exceeded", "max_tokens_unsupported", "thread_run_active"):
        auto, review = model.thresholds(slug)
        assert classifier.AUTO_FLOOR <= auto <= classifier.AUTO_CEIL
        assert classifier.REVIEW_FLOOR <= review <= auto
    assert "accuracy" in card.cv_metrics
    assert card.library_versions["scikit-learn"]
    assert len(card.data_hash) == 64
    assert card.n_examples_by_label["not_error"] == 5


def test_threshold_choice_meets_target_precision() -> None:
    # Scores with one wrong prediction at 0.7: 0.98 precision needs a cut above it.
    scores = [(0.95, True), (0.9, True), (0.8, True), (0.7, False), (0.6, True)]
    assert classifier._choose_threshold(scores, 0.98, 0.5) == 0.8
    # All correct: the floor is enough.
    assert classifier._choose_threshold([(0.9, True), (0.8, True)], 0.98, 0.55) == 0.55
    # Never precise enough: the ceiling (no automatic replies).
    assert classifier._choose_threshold([(0.9, False)], 0.98, 0.5) == classifier.AUTO_CEIL


def test_save_load_round_trip(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    card = json.loads((tmp_path / classifier.CARD_FILE).read_text())
    assert card["data_hash"] == model.card.data_hash
    assert card["thresholds"]["quota_exceeded"]["auto"] == model.thresholds("quota_exceeded")[0]
    loaded = classifier.load(tmp_path)
    docs = [make_doc(t, x) for t, x, _ in HELD_OUT]
    a, ea = model.predict(docs)
    b, eb = loaded.predict(docs)
    assert np.allclose(a, b) and np.allclose(ea, eb)
    assert loaded.classes == model.classes
    # The model file holds no type outside the explicit trusted list.
    assert set(sio.get_untrusted_types(file=tmp_path / classifier.MODEL_FILE)) <= set(
        classifier.TRUSTED_TYPES
    )
    assert not list(tmp_path.glob(".*.tmp"))


class Gadget:
    """Not on the trusted list: loading must refuse it rather than run its code."""

    def __init__(self) -> None:
        self.value = 1


def test_load_refuses_untrusted_types(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    path = tmp_path / classifier.MODEL_FILE
    sio.dump({"format_version": classifier.FORMAT_VERSION, "word_vec": Gadget()}, path)
    with pytest.raises(ModelError, match="untrusted"):
        classifier.load(tmp_path)


def test_load_refuses_untrusted_container(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    sio.dump(OrderedDict(a=Gadget()), tmp_path / classifier.MODEL_FILE)
    with pytest.raises(ModelError):
        classifier.load(tmp_path)


def test_load_errors_are_clear(tmp_path: Path, model: classifier.TrainedModel) -> None:
    with pytest.raises(ModelError, match="no trained model"):
        classifier.load(tmp_path)
    classifier.save(model, tmp_path)
    (tmp_path / classifier.MODEL_FILE).write_bytes(b"not a zip file")
    with pytest.raises(ModelError, match="cannot load model"):
        classifier.load(tmp_path)


def test_training_needs_issues() -> None:
    with pytest.raises(ModelError, match="no known issues"):
        classifier.train([], [])


def test_regex_patterns_become_training_text() -> None:
    # A character class keeps its first member; optional parts stay.
    assert regex_to_text(r"unauthori[sz]ed scopes?:?\s*api\.all\.read") == (
        "unauthorised scopes: api.all.read"
    )
    assert regex_to_text(r"\binsufficient_quota\b") == "insufficient_quota"


def test_fast_vectorise_matches_the_fitted_vectorisers(model: classifier.TrainedModel) -> None:
    docs = [make_doc(t, x) for t, x, _ in HELD_OUT] + [make_doc("", "")]
    # A chunk too (the whole-chunk path starts at BATCH_MIN posts), repeats included.
    docs += [make_doc(f"{t} {n}", x[::-1]) for n in range(2) for t, x, _ in HELD_OUT] + docs
    assert len(docs) >= classifier.BATCH_MIN
    fast = model.vectorise(docs).toarray()
    slow = classifier._vectorise(model.word_vec, model.char_vec, docs).toarray()
    assert np.allclose(fast, slow, atol=1e-6)
    issue_p, _ = model.predict(docs)
    ref = classifier._issue_proba(
        model.issue_clf,
        model.issue_platt,
        classifier._vectorise(model.word_vec, model.char_vec, docs),
    )
    assert np.allclose(issue_p, ref, atol=1e-6)


def test_the_same_data_trains_the_same_model(
    model: classifier.TrainedModel, tmp_path: Path
) -> None:
    root = make_data_dir(tmp_path)
    issues = [validate_entry(e) for e in ISSUES]
    again = classifier.train(issues, load_training_dir(root / "training"))
    assert np.array_equal(again.issue_clf.coef_, model.issue_clf.coef_)
    assert again.card.thresholds == model.card.thresholds
    assert again.card.data_hash == model.card.data_hash


def test_chunk_vectorise_keeps_posts_apart(model: classifier.TrainedModel) -> None:
    """A bigram never spans two posts of a chunk; empty posts give empty rows."""
    bigrams = [t for t in model.word_vec.vocabulary_ if " " in t]
    first, second = bigrams[0].split(" ")
    docs = [classifier.Doc(word=f"x {first}", char=""), classifier.Doc(word=f"{second} y", char="")]
    docs += [classifier.Doc(word="", char="")] * classifier.BATCH_MIN
    fast = model.vectorise(docs).toarray()
    slow = classifier._vectorise(model.word_vec, model.char_vec, docs).toarray()
    assert np.allclose(fast, slow, atol=1e-12)
    assert fast[0, model.word_vec.vocabulary_[bigrams[0]]] == 0.0
    assert not fast[2:].any()
