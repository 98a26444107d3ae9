"""The statistical half of triage: which known issue a post is about, and whether it
reports an error at all.

Two linear models over word and character n-gram TF-IDF:
- the issue model (classes: every known-issue slug plus `novel`), a linear SVM trained
  on each issue's patterns, title, summary and examples plus the training files;
- the error model (error report vs `not_error`), a linear SVM.
Both are calibrated by Platt scaling fitted on out-of-fold scores, so probabilities
reflect posts the model has not seen.

Per-issue thresholds are chosen from out-of-fold predictions so that replies meet a
target precision (auto) and drafts a lower one (review); floors keep them sane when
an issue has few examples. Everything is stored with skops (never plain pickle) and
loaded only if every type in the file is on the explicit trusted list below.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
import time
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import Any

import numpy as np
import scipy
import scipy.sparse as sp
import sklearn
import skops
import skops.io as sio
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedKFold
from sklearn.svm import LinearSVC
from skops.io.exceptions import UntrustedTypesFoundException

from bot.errors import UserError
from bot.known_issues import KnownIssue
from bot.triage.extract import extract_errors, split_own_words
from bot.triage.fingerprint import normalise
from bot.triage.report import FEATURE_NAMES, ReportModel, feature_rows, form_features
from bot.triage.training_data import NOT_ERROR, NOVEL, Example, data_hash, known_labels

MODEL_FILE = "triage.skops"
CARD_FILE = "model_card.json"
# Bump when the model file's layout changes: a model of another format is retrained.
FORMAT_VERSION = 4
# Bump when what a post becomes before the models see it changes (documents, extraction,
# normalisation, the report features): a model built for other features is retrained.
# Comment and speed-only edits leave it alone, so they never rewrite the model file.
FEATURE_VERSION = 15

AUTO_PRECISION = 0.98
REVIEW_PRECISION = 0.80
# Floors: with a handful of examples CV can justify almost any threshold.
AUTO_FLOOR = 0.7
REVIEW_FLOOR = 0.35
AUTO_CEIL = 0.95
CV_FOLDS = 5

WORD_CHARS = 1500  # long issue templates: the error is nearly always in the first part
CHAR_CHARS = 250
# Distinct words whose char n-gram columns are kept (a few MB at most).
WORD_CACHE = 50_000

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
    "numpy.bool_",
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.feature_extraction.text.TfidfTransformer",
    "sklearn.svm._classes.LinearSVC",
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
    feature_signature: str = ""
    # The report stacker (bot.triage.report.ReportModel.to_json), kept as plain data.
    report_model: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> str:
        """Short id of this model: its data, feature code and format together."""
        key = f"{self.data_hash}:{self.feature_signature}:{self.format_version}"
        return hashlib.sha256(key.encode()).hexdigest()[:12]

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
                feature_signature=str(data.get("feature_signature", "")),
                report_model=dict(data.get("report_model") or {}),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"model card: missing or bad field ({exc})") from None


@dataclass(frozen=True)
class Platt:
    """p = 1 / (1 + exp(a * score + b)): a linear SVM's score as a probability."""

    a: float
    b: float

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(np.clip(self.a * scores + self.b, -50, 50)))


@dataclass
class TrainedModel:
    word_vec: TfidfVectorizer
    char_vec: TfidfVectorizer
    issue_clf: LinearSVC
    error_clf: LinearSVC | None
    issue_platt: Platt
    error_platt: Platt
    card: ModelCard
    classes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.classes = tuple(str(c) for c in self.issue_clf.classes_)
        self._word = _FastTfidf(self.word_vec)
        self._char = _FastTfidf(self.char_vec)
        self._width = self._word.width + self._char.width
        self._issue_w = np.ascontiguousarray(self.issue_clf.coef_.T, dtype=np.float64)
        # One copy of the weights, not two: the classifier's coef_ becomes a view of the
        # fast path's matrix (same values; it is saved in Fortran order and then loads
        # without any copy).
        self.issue_clf.coef_ = self._issue_w.T
        self._issue_b = np.asarray(self.issue_clf.intercept_, dtype=np.float64)
        if self.error_clf is not None:
            self._error_w = np.ascontiguousarray(self.error_clf.coef_[0], dtype=np.float64)
            self._error_b = float(self.error_clf.intercept_[0])
        self.report = ReportModel.from_json(self.card.report_model)

    def clear_caches(self) -> None:
        self._word.clear_cache()
        self._char.clear_cache()

    def vectorise(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """The same matrix as the fitted vectorisers' transform, without their per-call
        overhead (validation, sparse copies), which dominated single-post latency. A
        chunk's weighting runs as one array pass per vectoriser, not a few per post."""
        if not docs:
            return sp.csr_matrix(
                (_NO_VALS, _NO_COLS, np.zeros(1, dtype=np.int32)), shape=(0, self._width)
            )
        if len(docs) < BATCH_MIN:
            return self._vectorise_each(docs)
        w_idx, w_vals, w_len = self._word.row_arrays([doc.word for doc in docs])
        c_idx, c_vals, c_len = self._char.row_arrays([doc.char for doc in docs])
        # Each row: its word columns, then its char columns (as sp.hstack would lay them
        # out, at a fraction of its cost for small chunks and single posts).
        n = len(docs)
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(w_len + c_len, out=indptr[1:])
        w_owner = np.repeat(np.arange(n), w_len)
        c_owner = np.repeat(np.arange(n), c_len)
        w_pos = np.arange(w_idx.size) - (np.cumsum(w_len) - w_len)[w_owner] + indptr[w_owner]
        c_pos = np.arange(c_idx.size) - (np.cumsum(c_len) - c_len)[c_owner]
        c_pos += indptr[c_owner] + w_len[c_owner]
        cols = np.empty(int(indptr[-1]), dtype=np.int32)
        vals = np.empty(int(indptr[-1]), dtype=np.float64)
        cols[w_pos], vals[w_pos] = w_idx, w_vals
        cols[c_pos], vals[c_pos] = c_idx + self._word.width, c_vals
        return sp.csr_matrix((vals, cols, indptr.astype(np.int32)), shape=(n, self._width))

    def _vectorise_each(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """`vectorise` one post at a time: fewer array calls for a single post."""
        indptr = [0]
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        offset = self._word.width
        for doc in docs:
            wc, wv = self._word.row(doc.word)
            cc, cv = self._char.row(doc.char)
            cols += (wc, cc + offset)
            vals += (wv, cv)
            indptr.append(indptr[-1] + wc.size + cc.size)
        return sp.csr_matrix(
            (np.concatenate(vals), np.concatenate(cols), np.asarray(indptr, dtype=np.int32)),
            shape=(len(docs), self._width),
        )

    def predict(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        """(issue probabilities [n, classes], error-report probability [n])."""
        if not docs:
            return np.zeros((0, len(self.classes))), np.zeros(0)
        return self.predict_matrix(self.vectorise(docs))

    def predict_report(
        self, docs: Sequence[Doc], forms: Sequence[Sequence[float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(issue probabilities, report probability): the word model's error score
        stacked with each post's form features (bot.triage.report); without a stacker,
        the calibrated word model alone."""
        if not docs:
            return np.zeros((0, len(self.classes))), np.zeros(0)
        x = self.vectorise(docs)
        issue_p, error_p = self.predict_matrix(x)
        if self.report is None or self.error_clf is None:
            return issue_p, error_p
        raw = np.asarray(x @ self._error_w) + self._error_b
        return issue_p, self.report.probability(feature_rows(raw, forms))

    def predict_matrix(self, x: sp.csr_matrix) -> tuple[np.ndarray, np.ndarray]:
        scores = np.asarray(x @ self._issue_w) + self._issue_b
        if scores.shape[1] == 1:  # two classes: one column for the positive class
            scores = np.column_stack([-scores[:, 0], scores[:, 0]])
        issue_p = _issue_proba_from_scores(scores, self.issue_platt)
        if self.error_clf is None:
            error_p = np.ones(x.shape[0])
        else:
            error_p = self.error_platt(np.asarray(x @ self._error_w) + self._error_b)
        return issue_p, error_p

    def no_text_report_threshold(self) -> float:
        """The report probability a post that quotes no error needs (model card)."""
        return float(self.card.thresholds.get("_error", {}).get("no_text_report", 0.5))

    def thresholds(self, slug: str) -> tuple[float, float]:
        t = self.card.thresholds.get(slug) or {}
        return float(t.get("auto", AUTO_CEIL)), float(t.get("review", 0.5))


class _FastTfidf:
    """One fitted TfidfVectorizer's transform for a single text, without sklearn's
    per-call overhead: count n-grams in C (Counter), look up only distinct ones."""

    def __init__(self, vec: TfidfVectorizer) -> None:
        self._words = _WordTerms.build(vec)
        self.analyse = self._words.analyse if self._words else vec.build_analyzer()
        self.vocab: dict[str, int] = vec.vocabulary_
        self.idf = np.asarray(vec.idf_, dtype=np.float64)
        self.sublinear = bool(vec.sublinear_tf)
        self.width = len(self.idf)
        # char_wb n-grams never cross a word, so a document's n-gram stream is its words'
        # streams in order: the known columns of each word are looked up once and reused
        # (words recur across posts far more than documents do).
        self._by_word: dict[str, tuple[int, ...]] | None = None
        if (
            vec.analyzer == "char_wb"
            and vec.lowercase
            and vec.strip_accents is None
            and vec.preprocessor is None
            and vec.input == "content"
        ):
            self._by_word = {}
            self._white = vec._white_spaces
            self._min_n, self._max_n = vec.ngram_range

    def clear_cache(self) -> None:
        if self._by_word is not None:
            self._by_word.clear()

    def _word_columns(self, word: str) -> tuple[int, ...]:
        """Known columns of one word's char_wb n-grams, in the analyser's order."""
        cols = self._by_word.get(word) if self._by_word is not None else None
        if cols is not None:
            return cols
        vocab = self.vocab
        w = f" {word} "
        w_len = len(w)
        out: list[int] = []
        for n in range(self._min_n, self._max_n + 1):
            if w_len <= n:  # the whole padded word, counted once (as scikit-learn does)
                k = vocab.get(w)
                if k is not None:
                    out.append(k)
                break
            for i in range(w_len - n + 1):
                k = vocab.get(w[i : i + n])
                if k is not None:
                    out.append(k)
        cols = tuple(out)
        if self._by_word is not None and len(self._by_word) < WORD_CACHE:
            self._by_word[word] = cols
        return cols

    def _columns_of(self, words: Iterable[str]) -> list[tuple[int, ...]]:
        """`_word_columns` of each word; cached words are looked up in C, only unseen
        ones take the Python path."""
        assert self._by_word is not None
        words = list(words)
        per_word = list(map(self._by_word.get, words))
        if None in per_word:
            per_word = [
                cols if cols is not None else self._word_columns(word)
                for cols, word in zip(per_word, words, strict=True)
            ]
        return per_word  # type: ignore[return-value]

    def _char_counts(self, text: str) -> Counter[int]:
        """Known char_wb columns of `text` with their counts, in first-seen order."""
        words = self._white.sub(" ", text.lower()).split()
        return Counter(chain.from_iterable(self._columns_of(words)))

    def counts(self, text: str) -> tuple[Iterable[int], Iterable[int]]:
        """(columns, term counts) in the analyser's first-seen order; -1 marks a term
        outside the vocabulary (distinct terms have distinct columns: no counts merge)."""
        if self._by_word is not None:
            counted_cols = self._char_counts(text)
            return counted_cols, counted_cols.values()
        counted = Counter(self.analyse(text))
        # map() keeps the vocabulary lookups in C.
        return map(self.vocab.get, counted, repeat(-1)), counted.values()

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self._by_word is not None:
            counted_cols = self._char_counts(text)
            if not counted_cols:
                return _NO_COLS, _NO_VALS
            idx = np.fromiter(counted_cols, np.int32, len(counted_cols))
            tf = np.fromiter(counted_cols.values(), np.float64, len(counted_cols))
            return self._weigh(idx, tf)
        counted = Counter(self.analyse(text))
        if not counted:
            return _NO_COLS, _NO_VALS
        # map() keeps the vocabulary lookups in C; -1 marks n-grams not in the vocabulary.
        cols = np.fromiter(map(self.vocab.get, counted, repeat(-1)), np.int64, len(counted))
        tf = np.fromiter(counted.values(), np.float64, len(counted))
        known = cols >= 0
        if not known.any():
            return _NO_COLS, _NO_VALS
        return self._weigh(cols[known].astype(np.int32), tf[known])

    def rows(self, texts: Sequence[str]) -> sp.csr_matrix:
        """`row` for each text, as one CSR matrix (rows L2-normalised as `row` does)."""
        idx, vals, lengths = self.row_arrays(texts)
        indptr = np.zeros(len(texts) + 1, dtype=np.int32)
        np.cumsum(lengths, out=indptr[1:])
        return sp.csr_matrix((vals, idx, indptr), shape=(len(texts), self.width))

    def row_arrays(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """`row` for each text, concatenated: (columns, values, entries per text)."""
        if self._by_word is not None:
            idx, tf, owner = self._char_chunk_counts(texts)
        elif self._words is not None:
            idx, tf, owner = self._words.chunk_counts(texts)
        else:
            cols: list[int] = []
            tfs: list[int] = []
            ends = np.zeros(len(texts), dtype=np.int64)
            for i, text in enumerate(texts):
                c, t = self.counts(text)
                cols += c
                tfs += t
                ends[i] = len(cols)
            idx = np.array(cols, dtype=np.int64)
            tf = np.array(tfs, dtype=np.float64)
            owner = np.repeat(np.arange(len(texts)), np.diff(ends, prepend=0))
            known = idx >= 0
            if not known.all():
                idx, tf, owner = idx[known], tf[known], owner[known]
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        vals = tf * self.idf[idx]
        norms = np.sqrt(np.bincount(owner, weights=vals * vals, minlength=len(texts)))
        norms[norms == 0.0] = 1.0
        vals /= norms[owner]
        return idx.astype(np.int32), vals, np.bincount(owner, minlength=len(texts))

    def _char_chunk_counts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(columns, counts, row of each) for a chunk of char_wb documents.

        A document's counts are the sum of its words' n-gram columns, so the chunk's
        counts are one sparse product: (documents x distinct words, occurrences) @
        (distinct words x columns), computed in C instead of counting n-grams per post.
        """
        assert self._by_word is not None
        lower_white = self._white.sub
        doc_words = [lower_white(" ", text.lower()).split() for text in texts]
        all_words = list(chain.from_iterable(doc_words))
        local = {w: k for k, w in enumerate(dict.fromkeys(all_words))}
        per_word = self._columns_of(local)
        w_len = np.fromiter(map(len, per_word), np.int64, len(per_word))
        w_indptr = np.zeros(len(per_word) + 1, dtype=np.int64)
        np.cumsum(w_len, out=w_indptr[1:])
        w_cols = np.fromiter(chain.from_iterable(per_word), np.int64, int(w_indptr[-1]))
        words_x_cols = sp.csr_matrix(
            (np.ones(w_cols.size), w_cols, w_indptr), shape=(len(per_word), self.width)
        )
        d_len = np.fromiter(map(len, doc_words), np.int64, len(doc_words))
        d_indptr = np.zeros(len(doc_words) + 1, dtype=np.int64)
        np.cumsum(d_len, out=d_indptr[1:])
        d_words = np.fromiter(map(local.__getitem__, all_words), np.int64, len(all_words))
        docs_x_words = sp.csr_matrix(
            (np.ones(d_words.size), d_words, d_indptr), shape=(len(texts), len(per_word))
        )
        counted = docs_x_words @ words_x_cols
        owner = np.repeat(np.arange(len(texts)), np.diff(counted.indptr))
        return counted.indices.astype(np.int64), counted.data, owner

    def _weigh(self, idx: np.ndarray, tf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.sublinear:
            tf = 1.0 + np.log(tf)
        vals = tf * self.idf[idx]
        return idx, vals / (np.sqrt(vals @ vals) or 1.0)


class _WordTerms:
    """The fitted word analyser (unigrams, then bigrams, in text order) without its
    generic per-call machinery, and a chunk's known terms counted in arrays: a bigram
    is found by its two tokens' ids (a sorted array of the vocabulary's bigram keys),
    never by building its string."""

    def __init__(self, token_pattern: str, vocab: dict[str, int]) -> None:
        self._findall = re.compile(token_pattern).findall
        self._vocab = vocab
        # Ids for the tokens that occur in some vocabulary bigram; others cannot start
        # or end a known bigram.
        self._token_id: dict[str, int] = {}
        keys: list[int] = []
        cols: list[int] = []
        for term, col in vocab.items():
            first, space, second = term.partition(" ")
            if space:
                a = self._token_id.setdefault(first, len(self._token_id))
                b = self._token_id.setdefault(second, len(self._token_id))
                keys.append(a << 32 | b)
                cols.append(col)
        order = np.argsort(np.asarray(keys, dtype=np.int64), kind="stable")
        self._bigram_keys = np.asarray(keys, dtype=np.int64)[order]
        self._bigram_cols = np.asarray(cols, dtype=np.int64)[order]

    @classmethod
    def build(cls, vec: TfidfVectorizer) -> _WordTerms | None:
        """None for settings this does not reproduce exactly."""
        if not (
            vec.analyzer == "word"
            and vec.ngram_range == (1, 2)
            and vec.lowercase
            and vec.strip_accents is None
            and vec.preprocessor is None
            and vec.tokenizer is None
            and vec.stop_words is None
            and vec.input == "content"
            and not re.compile(vec.token_pattern).groups  # sklearn keeps a group's text
        ):
            return None
        return cls(vec.token_pattern, vec.vocabulary_)

    def analyse(self, text: str) -> list[str]:
        tokens = self._findall(text.lower())
        return [*tokens, *map(" ".join, zip(tokens, tokens[1:], strict=False))]

    def chunk_counts(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(columns, counts, row of each) of the known terms of each text."""
        findall = self._findall
        doc_tokens = [findall(text.lower()) for text in texts]
        tokens = list(chain.from_iterable(doc_tokens))
        n = len(tokens)
        per_doc = np.fromiter(map(len, doc_tokens), np.int64, len(texts))
        owner = np.repeat(np.arange(len(texts)), per_doc)
        unigrams = np.fromiter(map(self._vocab.get, tokens, repeat(-1)), np.int64, n)
        ids = np.fromiter(map(self._token_id.get, tokens, repeat(-1)), np.int64, n)
        # Adjacent tokens of one text, both in some vocabulary bigram.
        pair = (owner[:-1] == owner[1:]) & (ids[:-1] >= 0) & (ids[1:] >= 0)
        keys = ids[:-1][pair] << 32 | ids[1:][pair]
        at = np.searchsorted(self._bigram_keys, keys)
        at[at == self._bigram_keys.size] = 0
        known = self._bigram_keys[at] == keys
        known_uni = unigrams >= 0
        cols = np.concatenate([unigrams[known_uni], self._bigram_cols[at[known]]])
        rows = np.concatenate([owner[known_uni], owner[:-1][pair][known]])
        # Duplicates (a term used twice) are summed into its count.
        counted = sp.csr_matrix(
            (np.ones(cols.size), (rows, cols)), shape=(len(texts), len(self._vocab))
        )
        row_of = np.repeat(np.arange(len(texts)), np.diff(counted.indptr))
        return counted.indices.astype(np.int64), counted.data, row_of


# Below this many posts the per-post path is quicker than the whole-chunk array pass.
BATCH_MIN = 8
_NO_COLS = np.zeros(0, dtype=np.int32)
_NO_VALS = np.zeros(0, dtype=np.float64)


def _scores(clf: LinearSVC, x: sp.csr_matrix) -> np.ndarray:
    d = clf.decision_function(x)
    if d.ndim == 1:  # two classes: sklearn returns the positive class's score only
        d = np.column_stack([-d, d])
    return d


def _issue_proba(clf: LinearSVC, platt: Platt, x: sp.csr_matrix) -> np.ndarray:
    """Probabilities through scikit-learn's own decision_function (the reference the
    fast path in TrainedModel.predict_matrix is tested against)."""
    return _issue_proba_from_scores(_scores(clf, x), platt)


def _vectorise(
    word_vec: TfidfVectorizer, char_vec: TfidfVectorizer, docs: Sequence[Doc]
) -> sp.csr_matrix:
    words = word_vec.transform([d.word for d in docs])
    chars = char_vec.transform([d.char for d in docs])
    return sp.hstack([words, chars], format="csr")


# ---------------------------------------------------------------- documents

_DIGITS = re.compile(r"\d+")


def make_doc(
    title: str,
    text: str,
    errors: Sequence[str] | None = None,
    *,
    own_words: bool = False,
    norm_fn: Callable[[str], str] = normalise,
) -> Doc:
    """The model's view of a post: its title, own words and normalised error strings.

    `own_words`: `text` is already the poster's own words (quotes removed). `norm_fn`:
    `normalise` or a memoised form of it (triage normalises the same strings again)."""
    own = text if own_words else split_own_words(text)[0]
    if errors is None:
        errors = [c.text for c in extract_errors(own)]
    norm = [norm_fn(e) for e in errors[:4]]
    err_text = " | ".join(norm)
    body = _DIGITS.sub("0", own[:WORD_CHARS])
    word = f"{title}\n{err_text}\n{body}"
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


def _svm() -> LinearSVC:
    # A fixed seed for liblinear's shuffling: the same data gives the same model.
    return LinearSVC(C=0.5, class_weight="balanced", max_iter=2000, tol=1e-3, random_state=0)


def _fit_issue(x: sp.csr_matrix, y: Sequence[str]) -> LinearSVC:
    return _svm().fit(x, list(y))


def _fit_error(x: sp.csr_matrix, y: Sequence[int]) -> LinearSVC | None:
    if len(set(y)) < 2:
        return None
    return _svm().fit(x, list(y))


def _fit_platt(scores: np.ndarray, truth: np.ndarray) -> Platt:
    """Platt scaling fitted on out-of-fold scores (so it reflects unseen posts)."""
    if scores.size < 4 or len(set(truth.tolist())) < 2:
        return Platt(-4.0, 0.0)
    lr = LogisticRegression(C=100.0, solver="lbfgs", max_iter=500)
    lr.fit(scores.reshape(-1, 1), truth.astype(int))
    return Platt(-float(lr.coef_[0, 0]), -float(lr.intercept_[0]))


def _split(
    issues: Sequence[KnownIssue], examples: Sequence[Example]
) -> tuple[list[tuple[Doc, str]], list[tuple[Doc, str]], list[Doc]]:
    """(anchor docs, post-shaped issue docs, not_error docs for the error model)."""
    anchors = [pair for issue in issues for pair in issue_documents(issue)]
    post_docs = example_documents(issues, [e for e in examples if e.label != NOT_ERROR])
    negatives = [make_doc(e.title, e.text) for e in examples if e.label == NOT_ERROR]
    return anchors, post_docs, negatives


def post_forms(title: str, text: str) -> list[float]:
    """The report features of a post as triage computes them (own words, candidates)."""
    own = split_own_words(text)[0]
    return form_features(title, own, extract_errors(own))


def _forms(issues: Sequence[KnownIssue], examples: Sequence[Example]) -> list[list[float]]:
    """Report features of the post-shaped documents, then of the not_error ones, in
    the order _split lays them out."""
    forms = [post_forms("", ex) for i in issues for ex in i.examples]
    forms += [post_forms(e.title, e.text) for e in examples if e.label != NOT_ERROR]
    forms += [post_forms(e.title, e.text) for e in examples if e.label == NOT_ERROR]
    return forms


MIN_REPORT_EXAMPLES = 100
# Posts that quote nothing: the report probability needed to call one a report, the
# lowest at which the training posts that report nothing are ignored at this rate.
NO_TEXT_IGNORED = 0.95
NO_TEXT_REPORT_FLOOR = 0.5
NO_TEXT_REPORT_CEIL = 0.9
_BEST_CANDIDATE = FEATURE_NAMES.index("best_candidate") - 1  # among the form features


def _no_text_threshold(
    rp: np.ndarray, forms: Sequence[Sequence[float]], truth: np.ndarray
) -> float:
    no_text = np.array([f[_BEST_CANDIDATE] < 0.5 for f in forms])
    negatives = np.sort(rp[no_text & (truth == 0)])
    if not negatives.size:
        return NO_TEXT_REPORT_FLOOR
    cut = float(negatives[min(int(np.ceil(NO_TEXT_IGNORED * negatives.size)), negatives.size - 1)])
    return round(min(max(cut, NO_TEXT_REPORT_FLOOR), NO_TEXT_REPORT_CEIL), 4)


def _groups(issues: Sequence[KnownIssue], examples: Sequence[Example]) -> list[str]:
    """The source of each post-shaped and not_error document, in _split's order."""
    groups = [f"entry:{i.slug}" for i in issues for _ in i.examples]
    groups += [e.source.split("#")[0] or e.label for e in examples if e.label != NOT_ERROR]
    groups += [e.source.split("#")[0] or e.label for e in examples if e.label == NOT_ERROR]
    return groups


def _grouped_error_scores(x: sp.csr_matrix, truth: np.ndarray, groups: Sequence[str]) -> np.ndarray:
    """Out-of-fold error-model scores with whole sources held out (GroupKFold)."""
    scores = np.zeros(x.shape[0])
    folds = min(CV_FOLDS, len(set(groups)))
    if folds < 2:
        return scores
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train_idx, test_idx in GroupKFold(n_splits=folds).split(x, truth, list(groups)):
            clf = _fit_error(x[train_idx], truth[train_idx].astype(int).tolist())
            if clf is not None:
                scores[test_idx] = clf.decision_function(x[test_idx])
    return scores


# Posts that quote nothing, answered from their words alone: the issue probability a
# draft needs, the lowest at which at most this share of such new reports (novel, from
# files held out whole) would be drafted under a known issue instead of escalated.
NO_TEXT_NOVEL_DRAFTED = 0.10
NO_TEXT_REVIEW_FLOOR = 0.6
NO_TEXT_REVIEW_CEIL = 0.8


def _no_text_review_threshold(
    x_anchor: sp.csr_matrix,
    y_anchor: list[str],
    x_post: sp.csr_matrix,
    y_post: list[str],
    groups: Sequence[str],
    forms: Sequence[Sequence[float]],
    platt: Platt,
) -> float:
    """Out-of-fold issue scores with whole source files held out, as new posts are to the
    model; the cut is taken over the novel posts that quote nothing."""
    n = x_post.shape[0]
    no_text = [i for i in range(n) if y_post[i] == NOVEL and forms[i][_BEST_CANDIDATE] < 0.5]
    folds = min(CV_FOLDS, len(set(groups)))
    if folds < 2 or not no_text:
        return NO_TEXT_REVIEW_FLOOR
    top = np.full(n, -np.inf)
    labels = [NOVEL] * n
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr, te in GroupKFold(n_splits=folds).split(np.zeros(n), y_post, list(groups)):
            clf = _fit_issue(
                sp.vstack([x_anchor, x_post[tr]], format="csr"), y_anchor + [y_post[i] for i in tr]
            )
            p = _issue_proba_from_scores(_scores(clf, x_post[te]), platt)
            for row, i in zip(p, te, strict=True):
                k = int(np.argmax(row))
                labels[i], top[i] = str(clf.classes_[k]), float(row[k])
    drafted = np.sort([top[i] for i in no_text if labels[i] != NOVEL])[::-1]
    allowed = int(NO_TEXT_NOVEL_DRAFTED * len(no_text))
    cut = float(drafted[allowed]) + 1e-4 if allowed < drafted.size else NO_TEXT_REVIEW_FLOOR
    return round(min(max(cut, NO_TEXT_REVIEW_FLOOR), NO_TEXT_REVIEW_CEIL), 4)


def _fit_report(
    scores: np.ndarray, forms: Sequence[Sequence[float]], truth: np.ndarray
) -> ReportModel | None:
    """The stacker, fitted on out-of-fold word-model scores (as on unseen posts); with
    too few posts of either kind its weights would be noise, and the calibrated word
    model decides alone."""
    if min(int(truth.sum()), int((truth == 0).sum())) < MIN_REPORT_EXAMPLES:
        return None
    lr = LogisticRegression(C=1.0, class_weight="balanced", solver="lbfgs", max_iter=1000)
    lr.fit(feature_rows(scores, forms), truth.astype(int))
    return ReportModel(tuple(float(w) for w in lr.coef_[0]), float(lr.intercept_[0]))


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
    if best is not None and correct / len(ordered) >= target:
        return floor  # every prediction met the target: nothing to cut
    chosen = best if best is not None else AUTO_CEIL
    return float(min(max(chosen, floor), AUTO_CEIL))


@dataclass
class _OutOfFold:
    true: list[str]
    issue_scores: np.ndarray  # [n_posts, classes] raw SVM scores
    classes: tuple[str, ...]
    error_scores: np.ndarray  # [n_posts + n_negatives]
    error_truth: np.ndarray


def _cross_validate(
    x_anchor: sp.csr_matrix,
    y_anchor: list[str],
    x_post: sp.csr_matrix,
    y_post: list[str],
    x_neg: sp.csr_matrix,
    classes: tuple[str, ...],
    seed: int = 0,
) -> _OutOfFold | None:
    """Out-of-fold scores for every post-shaped document (anchors always trained on)."""
    n_post, n_neg = x_post.shape[0], x_neg.shape[0]
    strat = y_post + [NOT_ERROR] * n_neg
    counts = Counter(strat)
    folds = min(CV_FOLDS, max(counts.values())) if counts else 0
    if folds < 2 or n_post < 4:
        return None
    x_all = sp.vstack([x_post, x_neg], format="csr")
    issue_scores = np.zeros((n_post, len(classes)))
    error_scores = np.zeros(n_post + n_neg)
    index = {c: k for k, c in enumerate(classes)}
    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # few members per class in a fold is expected
        for train_idx, test_idx in skf.split(np.zeros(len(strat)), strat):
            tr_post = train_idx[train_idx < n_post]
            tr_neg = train_idx[train_idx >= n_post]
            x_tr = sp.vstack([x_anchor, x_post[tr_post]], format="csr")
            y_tr = y_anchor + [y_post[i] for i in tr_post]
            clf = _fit_issue(x_tr, y_tr)
            te_post = test_idx[test_idx < n_post]
            if te_post.size:
                fold_scores = _scores(clf, x_post[te_post])
                # A class missing from this fold's training set scores very low.
                full = np.full((te_post.size, len(classes)), -10.0)
                for j, c in enumerate(clf.classes_):
                    full[:, index[str(c)]] = fold_scores[:, j]
                issue_scores[te_post] = full
            # Post-shaped documents only: summaries and bare patterns are not posts.
            x_err = sp.vstack([x_post[tr_post], x_all[tr_neg]], format="csr")
            y_err = [1] * tr_post.size + [0] * tr_neg.size
            err = _fit_error(x_err, y_err)
            if err is not None:
                error_scores[test_idx] = err.decision_function(x_all[test_idx])
    truth = np.array([1] * n_post + [0] * n_neg)
    return _OutOfFold(list(y_post), issue_scores, classes, error_scores, truth)


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
    """Train both models, calibrate them and choose per-issue thresholds, all from
    cross-validation over the post-shaped examples."""
    if not issues:
        raise ModelError("no known issues to train on")
    started = time.perf_counter()
    examples = known_labels(examples, issues)
    anchors, post_docs, negatives = _split(issues, examples)
    y_anchor = [label for _, label in anchors]
    y_post = [label for _, label in post_docs]
    if len(set(y_anchor + y_post)) < 2:
        raise ModelError("need at least two labels to train (add data/training/novel.yml)")

    # Vectorisers are unsupervised: fitting them once on everything keeps CV cheap.
    word_vec, char_vec = _vectorisers()
    all_docs = [d for d, _ in anchors] + [d for d, _ in post_docs] + negatives
    word_vec.fit([d.word for d in all_docs])
    char_vec.fit([d.char for d in all_docs])
    x_all = _vectorise(word_vec, char_vec, all_docs)
    na, npost = len(anchors), len(post_docs)
    x_anchor, x_post, x_neg = x_all[:na], x_all[na : na + npost], x_all[na + npost :]

    issue_clf = _fit_issue(sp.vstack([x_anchor, x_post], format="csr"), y_anchor + y_post)
    classes = tuple(str(c) for c in issue_clf.classes_)
    error_clf = _fit_error(x_all[na:], [1] * npost + [0] * len(negatives))

    oof = (
        _cross_validate(x_anchor, y_anchor, x_post, y_post, x_neg, classes)
        if cross_validate
        else None
    )
    thresholds: dict[str, dict[str, float]] = {}
    true: list[str] = []
    pred: list[str] = []
    prob: list[float] = []
    issue_platt, error_platt = Platt(-4.0, 0.0), Platt(-4.0, 0.0)
    cv: dict[str, Any] = {"note": "not cross-validated"}
    if oof is not None:
        onehot = np.array([[c == t for c in classes] for t in oof.true], dtype=int)
        issue_platt = _fit_platt(oof.issue_scores.ravel(), onehot.ravel())
        error_platt = _fit_platt(oof.error_scores, oof.error_truth)
        p = _issue_proba_from_scores(oof.issue_scores, issue_platt)
        top = p.argmax(axis=1)
        true = oof.true
        pred = [classes[k] for k in top]
        prob = [float(p[i, k]) for i, k in enumerate(top)]
    for issue in issues:
        scored = [
            (pr, t == issue.slug)
            for t, pd, pr in zip(true, pred, prob, strict=True)
            if pd == issue.slug
        ]
        thresholds[issue.slug] = {
            "auto": round(_choose_threshold(scored, AUTO_PRECISION, AUTO_FLOOR), 4),
            "review": round(_choose_threshold(scored, REVIEW_PRECISION, REVIEW_FLOOR), 4),
        }
    error_threshold = 0.5
    no_text_threshold = NO_TEXT_REPORT_FLOOR
    no_text_review = NO_TEXT_REVIEW_FLOOR
    report: ReportModel | None = None
    if oof is not None:
        cv = _metrics(true, pred, prob, thresholds)
        ep = error_platt(oof.error_scores)
        ok = ((ep >= error_threshold) == oof.error_truth.astype(bool)).mean()
        cv["error_model_accuracy"] = round(float(ok), 3)
        negs = ep[oof.error_truth == 0]
        cv["not_error_ignored"] = (
            round(float((negs < error_threshold).mean()), 3) if negs.size else None
        )
        forms = _forms(issues, examples)
        # The word model's scores with each source file held out whole: posts from a
        # file it never saw are what new forum posts are to it, so the stacker learns how
        # far that score carries and how much the post's form must add.
        scores = _grouped_error_scores(x_all[na:], oof.error_truth, _groups(issues, examples))
        report = _fit_report(scores, forms, oof.error_truth)
        if report is not None:
            # In-sample for the stacker (its inputs are out-of-fold): a sanity figure.
            rp = report.probability(feature_rows(scores, forms))
            ok = ((rp >= error_threshold) == oof.error_truth.astype(bool)).mean()
            cv["report_model_accuracy"] = round(float(ok), 3)
            no_text_threshold = _no_text_threshold(rp, forms, oof.error_truth)
        no_text_review = _no_text_review_threshold(
            x_anchor,
            y_anchor,
            x_post,
            y_post,
            _groups(issues, examples)[:npost],
            forms,
            issue_platt,
        )

    labels = Counter(y_post)
    labels[NOT_ERROR] = len(negatives)
    card = ModelCard(
        format_version=FORMAT_VERSION,
        data_hash=data_hash(issues, examples),
        classes=classes,
        thresholds={
            **thresholds,
            "_error": {
                "report": error_threshold,
                "no_text_report": no_text_threshold,
                "no_text_review": no_text_review,
            },
        },
        cv_metrics=cv,
        library_versions=library_versions(),
        trained_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        train_seconds=round(time.perf_counter() - started, 2),
        n_documents=len(all_docs),
        n_examples_by_label=dict(sorted(labels.items())),
        feature_signature=feature_signature(),
        report_model=report.to_json() if report is not None else {},
    )
    return TrainedModel(word_vec, char_vec, issue_clf, error_clf, issue_platt, error_platt, card)


def _issue_proba_from_scores(scores: np.ndarray, platt: Platt) -> np.ndarray:
    p = platt(scores)
    return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)


def feature_signature() -> str:
    """The version of the code that turns posts into features (FEATURE_VERSION): a
    model built for other features is retrained rather than fed different inputs."""
    return f"features-v{FEATURE_VERSION}"


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "skops": skops.__version__,
    }


# ---------------------------------------------------------------- persistence


def _vocab_terms(vec: TfidfVectorizer) -> str:
    """The vocabulary as one newline-joined text, in column order.

    Terms never hold a newline (word tokens hold no whitespace, char_wb n-grams only
    single spaces). One text loads in a fraction of the memory of a fixed-width string
    array, which pads every term to the longest.
    """
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    if any("\n" in t for t in terms):
        raise ModelError("a vocabulary term holds a newline: cannot store it")
    return "\n".join(terms)


def _vocabulary(terms: str) -> dict[str, int]:
    if not isinstance(terms, str):
        raise TypeError("vocabulary must be text")
    return {t: i for i, t in enumerate(terms.split("\n"))} if terms else {}


def save(model: TrainedModel, models_dir: str | Path) -> Path:
    """Write the model and its card; each file is written whole then renamed.

    Vocabularies are stored as one text each: skops reads a large dict key by key,
    which made loading take seconds; a text loads in milliseconds.
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
        "platt": [
            model.issue_platt.a,
            model.issue_platt.b,
            model.error_platt.a,
            model.error_platt.b,
        ],
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        del model.word_vec.vocabulary_, model.char_vec.vocabulary_
        # Unique names: two processes retraining at once must not share a temp file.
        tag = f"{os.getpid()}.{secrets.token_hex(4)}"
        tmp_model = directory / f".{MODEL_FILE}.{tag}.tmp"
        tmp_card = directory / f".{CARD_FILE}.{tag}.tmp"
        try:
            sio.dump(payload, tmp_model, compression=zipfile.ZIP_DEFLATED)
            tmp_card.write_text(json.dumps(model.card.to_json(), indent=2, sort_keys=True) + "\n")
            # Model first: a reader between the two renames never pairs the new card
            # (which it would trust) with the old model.
            tmp_model.replace(directory / MODEL_FILE)
            tmp_card.replace(directory / CARD_FILE)
        finally:
            tmp_model.unlink(missing_ok=True)
            tmp_card.unlink(missing_ok=True)
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
        word_vec.vocabulary_ = _vocabulary(payload["word_terms"])
        char_vec.vocabulary_ = _vocabulary(payload["char_terms"])
        pa, pb, ea, eb = (float(v) for v in payload["platt"])
        return TrainedModel(
            word_vec,
            char_vec,
            payload["issue_clf"],
            payload["error_clf"],
            Platt(pa, pb),
            Platt(ea, eb),
            card,
        )
    except (KeyError, AttributeError, TypeError) as exc:
        raise ModelError(f"{path}: model file is incomplete ({exc})") from None
