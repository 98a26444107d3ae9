"""The statistical half of triage: which known issue a post is about, and whether it
reports an error at all.

Two linear models over word and character n-gram TF-IDF:
- the issue model (classes: every known-issue slug plus `novel`), a linear SVM with
  sigmoid-calibrated probabilities, trained on each issue's patterns, title, summary
  and examples plus the training files;
- the error model (error report vs `not_error`), a logistic regression.

Per-issue thresholds are chosen from out-of-fold predictions so that replies meet a
target precision (auto) and drafts a lower one (review); floors keep them sane when
an issue has few examples. Everything is stored with skops (never plain pickle) and
loaded only if every type in the file is on the explicit trusted list below.
"""

from __future__ import annotations

import json
import platform
import re
import time
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
import skops
import skops.io as sio
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from skops.io.exceptions import UntrustedTypesFoundException

from bot.errors import UserError
from bot.known_issues import KnownIssue
from bot.triage.extract import extract_errors, split_own_words
from bot.triage.fingerprint import normalise
from bot.triage.training_data import NOT_ERROR, NOVEL, Example, data_hash, known_labels

MODEL_FILE = "triage.skops"
CARD_FILE = "model_card.json"
FORMAT_VERSION = 1

AUTO_PRECISION = 0.98
REVIEW_PRECISION = 0.80
# Floors: with a handful of examples CV can justify almost any threshold.
AUTO_FLOOR = 0.55
REVIEW_FLOOR = 0.25
AUTO_CEIL = 0.95
CV_FOLDS = 5
CALIBRATION_FOLDS = 3

WORD_CHARS = 4000  # long issue templates: the error is nearly always in the first part
CHAR_CHARS = 1200

# Every type a model file may contain. skops refuses anything else.
TRUSTED_TYPES: tuple[str, ...] = (
    "builtins.dict",
    "builtins.list",
    "builtins.tuple",
    "builtins.str",
    "builtins.float",
    "builtins.int",
    "builtins.bool",
    "builtins.NoneType",
    "builtins.slice",
    "builtins.object",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.int32",
    "numpy.str_",
    "numpy.bool_",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.svm._classes.LinearSVC",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.preprocessing._label.LabelEncoder",
    "sklearn.utils._bunch.Bunch",
)


class ModelError(UserError):
    """A model file that is missing, unreadable or not trusted."""


@dataclass(frozen=True)
class Doc:
    """What the vectorisers see for one post."""

    word: str
    char: str


@dataclass(frozen=True)
class ModelCard:
    format_version: int
    data_hash: str
    classes: tuple[str, ...]
    thresholds: dict[str, dict[str, float]]
    cv_metrics: dict[str, Any]
    library_versions: dict[str, str]
    trained_at: str
    train_seconds: float
    n_documents: int
    n_examples_by_label: dict[str, int]

    @property
    def version(self) -> str:
        return self.data_hash[:12]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["classes"] = list(self.classes)
        data["model_version"] = self.version
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelCard:
        try:
            return cls(
                format_version=int(data["format_version"]),
                data_hash=str(data["data_hash"]),
                classes=tuple(data["classes"]),
                thresholds={k: dict(v) for k, v in data["thresholds"].items()},
                cv_metrics=dict(data.get("cv_metrics") or {}),
                library_versions=dict(data.get("library_versions") or {}),
                trained_at=str(data.get("trained_at", "")),
                train_seconds=float(data.get("train_seconds", 0.0)),
                n_documents=int(data.get("n_documents", 0)),
                n_examples_by_label=dict(data.get("n_examples_by_label") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"model card: missing or bad field ({exc})") from None


@dataclass
class TrainedModel:
    word_vec: TfidfVectorizer
    char_vec: TfidfVectorizer
    issue_clf: Any  # CalibratedClassifierCV or LogisticRegression: both have predict_proba
    error_clf: LogisticRegression | None
    card: ModelCard
    classes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.classes = tuple(str(c) for c in self.issue_clf.classes_)

    def vectorise(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        words = self.word_vec.transform([d.word for d in docs])
        chars = self.char_vec.transform([d.char for d in docs])
        return sp.hstack([words, chars], format="csr")

    def predict(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        """(issue probabilities [n, classes], error-report probability [n])."""
        if not docs:
            return np.zeros((0, len(self.classes))), np.zeros(0)
        x = self.vectorise(docs)
        issue_p = self.issue_clf.predict_proba(x)
        if self.error_clf is None:
            error_p = np.ones(len(docs))
        else:
            col = list(self.error_clf.classes_).index(1)
            error_p = self.error_clf.predict_proba(x)[:, col]
        return issue_p, error_p

    def thresholds(self, slug: str) -> tuple[float, float]:
        t = self.card.thresholds.get(slug) or {}
        return float(t.get("auto", AUTO_CEIL)), float(t.get("review", 0.5))


# ---------------------------------------------------------------- documents

_DIGITS = re.compile(r"\d+")


def make_doc(title: str, text: str, errors: Sequence[str] | None = None) -> Doc:
    """The model's view of a post: its title, own words and normalised error strings."""
    own, _quoted = split_own_words(text)
    if errors is None:
        errors = [c.text for c in extract_errors(own)]
    norm = [normalise(e) for e in errors[:6]]
    err_text = " | ".join(norm)
    body = _DIGITS.sub("0", own[:WORD_CHARS])
    word = f"{title}\n{title}\n{err_text}\n{err_text}\n{body}"
    char_src = f"{title} | {err_text}" if err_text else f"{title} | {body[:CHAR_CHARS]}"
    return Doc(word=word, char=_DIGITS.sub("0", char_src[:CHAR_CHARS]))


_REGEX_SYNTAX = [
    (re.compile(r"\\[sS][*+?]?"), " "),
    (re.compile(r"\\([.\-:'\"()\[\]/?*+])"), r"\1"),
    (re.compile(r"\\[dw][*+?]?|\\b"), ""),
    (re.compile(r"\[([^\]\\])[^\]]*\]"), r"\1"),  # a character class: its first member
    (re.compile(r"\.\{\d+,?\d*\}|\.\*\??|\.\+\??"), " "),
    (re.compile(r"\{\d+,?\d*\}"), ""),
    (re.compile(r"\(\?[:i]"), "("),
    (re.compile(r"\|[^()]*\)"), ")"),  # keep the first alternative
    (re.compile(r"[()^$?]"), ""),
]


def regex_to_text(regex: str) -> str:
    """A readable approximation of a pattern regex, for training text only."""
    text = regex
    for pat, repl in _REGEX_SYNTAX:
        text = pat.sub(repl, text)
    text = text.split("|")[0]
    return re.sub(r"\s+", " ", text).strip()


def issue_documents(issue: KnownIssue) -> list[tuple[Doc, str]]:
    """Anchor documents from an entry itself: always trained on, never held out."""
    docs: list[tuple[Doc, str]] = []
    for p in issue.patterns:
        text = p.value if p.kind == "literal" else regex_to_text(p.value)
        if len(text) >= 6:
            docs.append((make_doc("", text, [text]), issue.slug))
    docs.append((make_doc(issue.title, issue.summary), issue.slug))
    return docs


def example_documents(
    issues: Sequence[KnownIssue], examples: Sequence[Example]
) -> list[tuple[Doc, str]]:
    """Post-shaped documents (held out in cross-validation)."""
    docs = [(make_doc("", ex, None), i.slug) for i in issues for ex in i.examples]
    docs.extend((make_doc(e.title, e.text), e.label) for e in examples)
    return docs


# ---------------------------------------------------------------- training


def _vectorisers() -> tuple[TfidfVectorizer, TfidfVectorizer]:
    word = TfidfVectorizer(
        analyzer="word",
        ngram_range=(1, 2),
        sublinear_tf=True,
        min_df=1,
        max_features=60000,
        token_pattern=r"(?u)\b[\w.<>']{2,}\b",
        dtype=np.float32,
    )
    char = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=(3, 5),
        sublinear_tf=True,
        min_df=2,
        max_features=80000,
        dtype=np.float32,
    )
    return word, char


def _issue_classifier(y: Sequence[str]) -> Any:
    counts = Counter(y)
    svm = LinearSVC(C=0.5, class_weight="balanced", max_iter=5000)
    if len(counts) >= 2 and min(counts.values()) >= CALIBRATION_FOLDS:
        return CalibratedClassifierCV(svm, method="sigmoid", cv=CALIBRATION_FOLDS)
    # Too few documents per class to calibrate: logistic probabilities are next best.
    return LogisticRegression(C=10.0, class_weight="balanced", max_iter=3000)


def _error_classifier() -> LogisticRegression:
    return LogisticRegression(C=4.0, class_weight="balanced", max_iter=3000)


@dataclass
class _Fitted:
    word_vec: TfidfVectorizer
    char_vec: TfidfVectorizer
    issue_clf: Any
    error_clf: LogisticRegression | None


def _fit(issue_docs: Sequence[tuple[Doc, str]], error_docs: Sequence[tuple[Doc, int]]) -> _Fitted:
    word_vec, char_vec = _vectorisers()
    all_docs = [d for d, _ in issue_docs] + [d for d, _ in error_docs]
    word_vec.fit([d.word for d in all_docs])
    char_vec.fit([d.char for d in all_docs])

    def vec(docs: Sequence[Doc]) -> sp.csr_matrix:
        return sp.hstack(
            [
                word_vec.transform([d.word for d in docs]),
                char_vec.transform([d.char for d in docs]),
            ],
            format="csr",
        )

    y = [label for _, label in issue_docs]
    issue_clf = _issue_classifier(y)
    issue_clf.fit(vec([d for d, _ in issue_docs]), y)
    error_clf = None
    ey = [label for _, label in error_docs]
    if len(set(ey)) == 2:
        error_clf = _error_classifier()
        error_clf.fit(vec([d for d, _ in error_docs]), ey)
    return _Fitted(word_vec, char_vec, issue_clf, error_clf)


def _split(
    issues: Sequence[KnownIssue], examples: Sequence[Example]
) -> tuple[list[tuple[Doc, str]], list[tuple[Doc, str]], list[tuple[Doc, int]]]:
    """(anchor docs, held-out-able issue docs, not_error docs for the error model)."""
    anchors = [pair for issue in issues for pair in issue_documents(issue)]
    post_docs = example_documents(issues, [e for e in examples if e.label != NOT_ERROR])
    negatives = [(make_doc(e.title, e.text), 0) for e in examples if e.label == NOT_ERROR]
    return anchors, post_docs, negatives


def _choose_threshold(scores: list[tuple[float, bool]], target: float, floor: float) -> float:
    """The lowest threshold whose predictions at or above it reach `target` precision."""
    if not scores:
        return max(floor, 0.5)
    ordered = sorted(scores, key=lambda s: -s[0])
    best = None
    correct = 0
    for n, (p, ok) in enumerate(ordered, start=1):
        correct += ok
        if correct / n >= target:
            best = p
    # Above the top score nothing is predicted: keep the ceiling.
    chosen = best if best is not None else AUTO_CEIL
    return float(min(max(chosen, floor), AUTO_CEIL))


def _cross_validate(
    anchors: list[tuple[Doc, str]],
    post_docs: list[tuple[Doc, str]],
    negatives: list[tuple[Doc, int]],
    seed: int = 0,
) -> tuple[list[str], list[str], list[float], list[float], list[int]]:
    """Out-of-fold (true, predicted, p, error p, error truth) for post-shaped docs."""
    labels = [label for _, label in post_docs]
    all_docs: list[tuple[Doc, str | None]] = [*post_docs, *((d, None) for d, _ in negatives)]
    strat = [label if label is not None else NOT_ERROR for _, label in all_docs]
    counts = Counter(strat)
    folds = min(CV_FOLDS, max(counts.values())) if counts else 0
    if folds < 2 or len(labels) < 4:
        return [], [], [], [], []
    # Labels seen fewer times than folds still get predicted, just not in every fold.
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    true: list[str] = []
    pred: list[str] = []
    prob: list[float] = []
    err_p: list[float] = []
    err_true: list[int] = []
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train_idx, test_idx in skf.split(np.zeros(len(strat)), strat):
            train = [all_docs[i] for i in train_idx]
            test = [all_docs[i] for i in test_idx]
            issue_train = anchors + [(d, lab) for d, lab in train if lab is not None]
            error_train = [(d, 1) for d, _ in issue_train] + [
                (d, 0) for d, lab in train if lab is None
            ]
            fitted = _fit(issue_train, error_train)
            model = TrainedModel(
                fitted.word_vec, fitted.char_vec, fitted.issue_clf, fitted.error_clf, _EMPTY_CARD
            )
            issue_p, error_p = model.predict([d for d, _ in test])
            for (_, lab), row, ep in zip(test, issue_p, error_p, strict=True):
                err_p.append(float(ep))
                err_true.append(0 if lab is None else 1)
                if lab is None:
                    continue
                k = int(np.argmax(row))
                true.append(lab)
                pred.append(model.classes[k])
                prob.append(float(row[k]))
    return true, pred, prob, err_p, err_true


_EMPTY_CARD = ModelCard(FORMAT_VERSION, "", (), {}, {}, {}, "", 0.0, 0, {})


def _metrics(
    true: list[str], pred: list[str], prob: list[float], thresholds: dict[str, dict[str, float]]
) -> dict[str, Any]:
    if not true:
        return {"note": "too few examples to cross-validate"}
    per: dict[str, dict[str, float]] = {}
    for label in sorted(set(true) | set(pred)):
        tp = sum(1 for t, p in zip(true, pred, strict=True) if t == p == label)
        n_pred = sum(1 for p in pred if p == label)
        n_true = sum(1 for t in true if t == label)
        per[label] = {
            "precision": round(tp / n_pred, 3) if n_pred else 0.0,
            "recall": round(tp / n_true, 3) if n_true else 0.0,
            "support": n_true,
        }
    auto_hits = [
        (t, p)
        for t, p, pr in zip(true, pred, prob, strict=True)
        if p != NOVEL and pr >= thresholds.get(p, {}).get("auto", 1.0)
    ]
    known = [t for t in true if t != NOVEL]
    return {
        "folds": CV_FOLDS,
        "accuracy": round(sum(t == p for t, p in zip(true, pred, strict=True)) / len(true), 3),
        "auto_precision": round(sum(t == p for t, p in auto_hits) / len(auto_hits), 3)
        if auto_hits
        else None,
        "auto_recall": round(sum(t == p for t, p in auto_hits) / len(known), 3) if known else None,
        "per_label": per,
    }


def train(
    issues: Sequence[KnownIssue], examples: Sequence[Example], *, cross_validate: bool = True
) -> TrainedModel:
    """Train both models and choose per-issue thresholds from cross-validation."""
    if not issues:
        raise ModelError("no known issues to train on")
    started = time.perf_counter()
    examples = known_labels(examples, issues)
    anchors, post_docs, negatives = _split(issues, examples)

    thresholds: dict[str, dict[str, float]] = {}
    true: list[str] = []
    pred: list[str] = []
    prob: list[float] = []
    err_p: list[float] = []
    err_true: list[int] = []
    if cross_validate:
        true, pred, prob, err_p, err_true = _cross_validate(anchors, post_docs, negatives)
    for issue in issues:
        scored = [
            (p, t == issue.slug)
            for t, pr, p in zip(true, pred, prob, strict=True)
            if pr == issue.slug
        ]
        thresholds[issue.slug] = {
            "auto": round(_choose_threshold(scored, AUTO_PRECISION, AUTO_FLOOR), 4),
            "review": round(_choose_threshold(scored, REVIEW_PRECISION, REVIEW_FLOOR), 4),
        }
    error_threshold = 0.5
    cv = _metrics(true, pred, prob, thresholds)
    if err_true:
        ok = sum((p >= error_threshold) == bool(t) for p, t in zip(err_p, err_true, strict=True))
        negs = [p for p, t in zip(err_p, err_true, strict=True) if t == 0]
        cv["error_model_accuracy"] = round(ok / len(err_true), 3)
        cv["not_error_ignored"] = (
            round(sum(p < error_threshold for p in negs) / len(negs), 3) if negs else None
        )

    issue_docs = anchors + post_docs
    error_docs = [(d, 1) for d, _ in issue_docs] + negatives
    fitted = _fit(issue_docs, error_docs)
    labels = Counter(label for _, label in post_docs)
    labels[NOT_ERROR] = len(negatives)
    card = ModelCard(
        format_version=FORMAT_VERSION,
        data_hash=data_hash(issues, examples),
        classes=tuple(str(c) for c in fitted.issue_clf.classes_),
        thresholds={**thresholds, "_error": {"report": error_threshold}},
        cv_metrics=cv,
        library_versions=library_versions(),
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        train_seconds=round(time.perf_counter() - started, 2),
        n_documents=len(issue_docs) + len(negatives),
        n_examples_by_label=dict(sorted(labels.items())),
    )
    return TrainedModel(fitted.word_vec, fitted.char_vec, fitted.issue_clf, fitted.error_clf, card)


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


# ---------------------------------------------------------------- persistence


def _vocab_terms(vec: TfidfVectorizer) -> np.ndarray:
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    return np.array(terms, dtype=np.str_)


def save(model: TrainedModel, models_dir: str | Path) -> Path:
    """Write the model and its card; each file is written whole then renamed.

    Vocabularies are stored as arrays: skops reads a large dict key by key, which
    made loading take seconds; an array loads in milliseconds.
    """
    directory = Path(models_dir)
    vocabs = {"word": model.word_vec.vocabulary_, "char": model.char_vec.vocabulary_}
    payload = {
        "format_version": FORMAT_VERSION,
        "word_terms": _vocab_terms(model.word_vec),
        "char_terms": _vocab_terms(model.char_vec),
        "word_vec": model.word_vec,
        "char_vec": model.char_vec,
        "issue_clf": model.issue_clf,
        "error_clf": model.error_clf,
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        del model.word_vec.vocabulary_, model.char_vec.vocabulary_
        tmp_model = directory / f".{MODEL_FILE}.tmp"
        sio.dump(payload, tmp_model, compression=zipfile.ZIP_DEFLATED)
        tmp_card = directory / f".{CARD_FILE}.tmp"
        tmp_card.write_text(json.dumps(model.card.to_json(), indent=2, sort_keys=True) + "\n")
        tmp_model.replace(directory / MODEL_FILE)
        tmp_card.replace(directory / CARD_FILE)
    except OSError as exc:
        raise ModelError(f"cannot write model to {directory}: {exc.strerror}") from None
    finally:
        model.word_vec.vocabulary_ = vocabs["word"]
        model.char_vec.vocabulary_ = vocabs["char"]
    return directory / MODEL_FILE


def read_card(models_dir: str | Path) -> ModelCard | None:
    path = Path(models_dir) / CARD_FILE
    if not path.is_file():
        return None
    try:
        return ModelCard.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError, ModelError):
        return None


def load(models_dir: str | Path) -> TrainedModel:
    """Load a model, refusing any file that holds a type not on TRUSTED_TYPES."""
    directory = Path(models_dir)
    path = directory / MODEL_FILE
    card = read_card(directory)
    if card is None or not path.is_file():
        raise ModelError(f"no trained model in {directory} (run `triagebot train`)")
    try:
        # skops refuses (raises) if the file holds any type not on the list.
        payload = sio.load(path, trusted=list(TRUSTED_TYPES))
    except UntrustedTypesFoundException as exc:
        raise ModelError(f"{path}: refusing to load untrusted types: {exc}") from None
    except Exception as exc:  # skops raises many kinds for a corrupt file
        raise ModelError(f"{path}: cannot load model: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{path}: unsupported model format (retrain with `triagebot train`)")
    try:
        word_vec, char_vec = payload["word_vec"], payload["char_vec"]
        word_vec.vocabulary_ = {str(t): i for i, t in enumerate(payload["word_terms"])}
        char_vec.vocabulary_ = {str(t): i for i, t in enumerate(payload["char_terms"])}
        return TrainedModel(word_vec, char_vec, payload["issue_clf"], payload["error_clf"], card)
    except (KeyError, AttributeError, TypeError) as exc:
        raise ModelError(f"{path}: model file is incomplete ({exc})") from None
