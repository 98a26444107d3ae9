"""Classifier: held-out examples, calibrated thresholds, the model card, the plain
model files, and the exported run-time model against scikit-learn's own objects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from bot.known_issues import validate_entry
from bot.triage import classifier, training
from bot.triage.classifier import ModelError, make_doc
from bot.triage.training import regex_to_text
from bot.triage.training_data import load_training_dir
from tests.test_triage_data import ISSUES, make_data_dir

ROOT = Path(__file__).resolve().parents[1]

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
def fitted(tmp_path_factory: pytest.TempPathFactory) -> training.Fitted:
    root = make_data_dir(tmp_path_factory.mktemp("data"))
    issues = [validate_entry(e) for e in ISSUES]
    return training.fit(issues, load_training_dir(root / "training"))


@pytest.fixture(scope="module")
def model(fitted: training.Fitted) -> classifier.TrainedModel:
    return training.export(fitted)


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
        assert training.AUTO_FLOOR <= auto <= classifier.AUTO_CEIL
        assert training.REVIEW_FLOOR <= review <= auto
    assert "accuracy" in card.cv_metrics
    assert card.library_versions["scikit-learn"]
    assert len(card.data_hash) == 64
    assert card.n_examples_by_label["not_error"] == 5


def test_threshold_choice_meets_target_precision() -> None:
    # Scores with one wrong prediction at 0.7: 0.98 precision needs a cut above it.
    scores = [(0.95, True), (0.9, True), (0.8, True), (0.7, False), (0.6, True)]
    assert training._choose_threshold(scores, 0.98, 0.5) == 0.8
    # All correct: the floor is enough.
    assert training._choose_threshold([(0.9, True), (0.8, True)], 0.98, 0.55) == 0.55
    # Never precise enough: the ceiling (no automatic replies).
    assert training._choose_threshold([(0.9, False)], 0.98, 0.5) == classifier.AUTO_CEIL


def test_save_load_round_trip(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    card = json.loads((tmp_path / classifier.CARD_FILE).read_text())
    assert card["data_hash"] == model.card.data_hash
    assert card["thresholds"]["quota_exceeded"]["auto"] == model.thresholds("quota_exceeded")[0]
    assert card["analysers"]["char"]["analyzer"] == "char_wb"
    assert card["platt"]["issue"] == [model.issue_platt.a, model.issue_platt.b]
    loaded = classifier.load(tmp_path)
    docs = [make_doc(t, x) for t, x, _ in HELD_OUT]
    a, ea = model.predict(docs)
    b, eb = loaded.predict(docs)
    assert np.array_equal(a, b) and np.array_equal(ea, eb)
    assert loaded.classes == model.classes
    # Plain arrays only: every member loads with pickling refused.
    with np.load(tmp_path / classifier.MODEL_FILE, allow_pickle=False) as npz:
        assert all(npz[name].dtype != object for name in npz.files)
    assert not list(tmp_path.glob(".*.tmp"))


RAN: list[str] = []


def _record() -> None:
    RAN.append("code ran")


class Gadget:
    """Unpickling it would run code: loading must refuse it."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_record, ())


def test_load_refuses_pickled_objects(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    path = tmp_path / classifier.MODEL_FILE
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["weights"] = np.array([Gadget()], dtype=object)
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(ModelError, match="cannot load model"):
        classifier.load(tmp_path)
    assert RAN == []


def test_load_refuses_inconsistent_arrays(model: classifier.TrainedModel, tmp_path: Path) -> None:
    classifier.save(model, tmp_path)
    path = tmp_path / classifier.MODEL_FILE
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["weights"] = arrays["weights"][:-1]
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(ModelError, match="do not fit"):
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


TRICKY = [
    "",
    " ",
    "a",
    "ab abc abcd abcde",
    "Error 429: You exceeded your current quota\u00a0 (TPM)\u2028next",
    "ÉCHEC  de l'appel\t\tà l’API — model_not_found",
    "x" * 300,
    "模型不存在错误 model_not_found (o3)",
    "It's <b>o3-mini</b>'s max_tokens.\nDon't",
    "İSTANBUL ſtream K",
]


def test_analysers_give_scikit_learns_terms(
    model: classifier.TrainedModel, fitted: training.Fitted
) -> None:
    word = fitted.word_vec.build_analyzer()
    char = fitted.char_vec.build_analyzer()
    examples = load_training_dir(ROOT / "data" / "training")
    texts = TRICKY + [make_doc(e.title, e.text).word for e in examples[::5]]
    for text in texts:
        assert model.word.analyse(text) == word(text)
        assert model.char.analyse(text) == char(text)


def test_export_refuses_analysers_it_cannot_reproduce() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    def fitted(**kwargs: object) -> TfidfVectorizer:
        return TfidfVectorizer(**kwargs).fit(["a quota error", "another quota error"])

    for kwargs in ({"ngram_range": (1, 3)}, {"stop_words": "english"}, {"token_pattern": r"(\w+)"}):
        with pytest.raises(ModelError, match="no run-time equivalent"):
            training._check_word(fitted(**kwargs))
    training._check_word(fitted(ngram_range=(1, 2)))
    with pytest.raises(ModelError, match="no run-time equivalent"):
        training._check_char(fitted(analyzer="char", ngram_range=(3, 5)))


def test_exported_model_matches_scikit_learn(
    model: classifier.TrainedModel, fitted: training.Fitted
) -> None:
    docs = (
        [make_doc(t, x) for t, x, _ in HELD_OUT]
        + [make_doc("", "")]
        + [make_doc(t, t) for t in TRICKY]
    )
    docs += [make_doc(f"{t} {n}", x[::-1]) for n in range(2) for t, x, _ in HELD_OUT] + docs
    x = training._vectorise(fitted.word_vec, fitted.char_vec, docs)
    assert np.allclose(model.vectorise(docs).dense(), x.toarray(), atol=1e-6)
    issue_p, error_p = model.predict(docs)
    assert np.allclose(
        issue_p, training._issue_proba(fitted.issue_clf, fitted.issue_platt, x), atol=1e-6
    )
    assert fitted.error_clf is not None
    ref = fitted.error_platt(fitted.error_clf.decision_function(x))
    assert np.allclose(error_p, ref, atol=1e-6)
    # One post at a time gives what the chunk gives.
    one = np.vstack([model.predict([d])[0] for d in docs])
    assert np.allclose(one, issue_p, atol=1e-12)


def test_the_same_data_trains_the_same_model(
    model: classifier.TrainedModel, tmp_path: Path
) -> None:
    root = make_data_dir(tmp_path)
    issues = [validate_entry(e) for e in ISSUES]
    again = classifier.train(issues, load_training_dir(root / "training"))
    assert np.array_equal(again.weights, model.weights)
    assert again.card.thresholds == model.card.thresholds
    assert again.card.data_hash == model.card.data_hash


def test_chunk_vectorise_keeps_posts_apart(model: classifier.TrainedModel) -> None:
    """A bigram never spans two posts of a chunk; empty posts give empty rows."""
    bigrams = [t for t in model.word.terms if " " in t]
    first, second = bigrams[0].split(" ")
    docs = [classifier.Doc(word=f"x {first}", char=""), classifier.Doc(word=f"{second} y", char="")]
    docs += [classifier.Doc(word="", char="")] * 3
    rows = model.vectorise(docs).dense()
    assert rows[0, model.word.terms.index(bigrams[0])] == 0.0
    assert not rows[2:].any()
    joined = model.vectorise([classifier.Doc(word=f"{first} {second}", char="")]).dense()
    assert joined[0, model.word.terms.index(bigrams[0])] > 0.0


def test_clearing_caches_keeps_rows(model: classifier.TrainedModel) -> None:
    doc = make_doc("Rate limit", "Error: Rate limit reached for gpt-4o (TPM)")
    before = model.vectorise([doc]).dense()
    model.clear_caches()
    assert model.char._by_word == {}
    assert np.array_equal(model.vectorise([doc]).dense(), before)


def test_deciding_imports_no_training_or_test_libraries(tmp_path: Path) -> None:
    """The run path: load the triager, decide a post, and nothing of scikit-learn,
    scipy, skops or pytest is imported (checked in a fresh process)."""
    from bot.triage.engine import Triager

    data = make_data_dir(tmp_path / "data")
    Triager.from_dir(data, tmp_path / "models", cache_dir=tmp_path / "cache")  # trains
    script = textwrap.dedent(
        f"""
        import sys
        from bot.triage.engine import Triager
        from bot.triage.types import Thread
        t = Triager.from_dir({str(data)!r}, {str(tmp_path / "models")!r},
                             cache_dir={str(tmp_path / "cache")!r})
        assert t.model is not None
        t.decide(Thread("1", "Quota", ("Error: You exceeded your current quota",)))
        heavy = {{"sklearn", "scipy", "skops", "pytest"}}
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy))
        """
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_the_stored_bigram_table_is_the_vocabularys(
    model: classifier.TrainedModel, tmp_path: Path
) -> None:
    classifier.save(model, tmp_path)
    loaded = classifier.load(tmp_path).word.bigrams
    fresh = classifier.BigramTable.of(model.word.terms)
    assert loaded.tokens == fresh.tokens
    assert np.array_equal(loaded.keys, fresh.keys) and np.array_equal(loaded.cols, fresh.cols)
    path = tmp_path / classifier.MODEL_FILE
    with np.load(path) as npz:
        arrays = {name: npz[name] for name in npz.files}
    arrays["word_bigram_keys"] = arrays["word_bigram_keys"][::-1].copy()
    with open(path, "wb") as out:
        np.savez(out, **arrays)
    with pytest.raises(ModelError, match="bigram table does not fit"):
        classifier.load(tmp_path)
