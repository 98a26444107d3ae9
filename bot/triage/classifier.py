"""The trained classifier at run time: which known issue a post is about, and whether
it reports an error at all. Load, vectorise, predict, with numpy only.

Training (bot.triage.training, scikit-learn) exports everything predict needs as plain
data: the vocabularies, idf weights, linear weights and intercepts in `triage.npz`
(arrays only, loaded with allow_pickle=False), and the analyser settings, Platt
calibration, report stacker and thresholds in the JSON model card. Nothing in either
file can run code when it is read, and no scikit-learn, scipy or skops import is
needed to decide a post.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import secrets
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import UserError
from bot.triage.extract import extract_errors, split_own_words
from bot.triage.fingerprint import normalise
from bot.triage.report import ReportModel, feature_rows

if TYPE_CHECKING:
    from bot.known_issues import KnownIssue
    from bot.triage.training_data import Example

MODEL_FILE = "triage.npz"
CARD_FILE = "model_card.json"
# Bump when the model files' layout changes: a model of another format is retrained.
FORMAT_VERSION = 6
# Bump when what a post becomes before the models see it changes (documents, extraction,
# normalisation, the report features): a model built for other features is retrained.
# Comment and speed-only edits leave it alone, so they never rewrite the model file.
FEATURE_VERSION = 17

# Without a threshold on the card nothing is answered automatically.
AUTO_CEIL = 0.95

WORD_CHARS = 1500  # long issue templates: the error is nearly always in the first part
CHAR_CHARS = 250
# Distinct words whose char n-gram columns are kept (a few MB at most).
WORD_CACHE = 50_000


class ModelError(UserError):
    """A model file that is missing, unreadable or inconsistent."""


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
    # The analysers' settings ({"word": {...}, "char": {...}}) and the Platt scaling
    # ({"issue": [a, b], "error": [a, b]}): the rest of what predict needs.
    analysers: dict[str, dict[str, Any]] = field(default_factory=dict)
    platt: dict[str, list[float]] = field(default_factory=dict)

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
                analysers={k: dict(v) for k, v in (data.get("analysers") or {}).items()},
                platt={k: [float(x) for x in v] for k, v in (data.get("platt") or {}).items()},
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelError(f"model card: missing or bad field ({exc})") from None


@dataclass(frozen=True)
class Platt:
    """p = 1 / (1 + exp(a * score + b)): a linear SVM's score as a probability."""

    a: float
    b: float

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(
            1.0 / (1.0 + np.exp(np.clip(self.a * scores + self.b, -50, 50))), dtype=float
        )


def issue_proba_from_scores(scores: np.ndarray, platt: Platt) -> np.ndarray:
    p = platt(scores)
    return np.asarray(p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12), dtype=float)


# ---------------------------------------------------------------- features


@dataclass(frozen=True)
class Rows:
    """A chunk's TF-IDF rows in compressed-row form: row i holds the values
    vals[indptr[i]:indptr[i + 1]] at the columns cols[indptr[i]:indptr[i + 1]]."""

    cols: np.ndarray
    vals: np.ndarray
    indptr: np.ndarray
    width: int

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def dot(self, weights: np.ndarray) -> np.ndarray:
        """rows @ weights for weights of shape (width, k): one small product per row,
        so no chunk-sized temporary is ever made."""
        out = np.zeros((len(self), weights.shape[1]))
        cols, vals = self.cols, self.vals
        ptr = self.indptr.tolist()
        for i in range(len(self)):
            a, b = ptr[i], ptr[i + 1]
            if a < b:
                out[i] = vals[a:b] @ weights[cols[a:b]]
        return out

    def dense(self) -> np.ndarray:
        """The rows as a dense array (for inspection and tests; wide)."""
        out = np.zeros((len(self), self.width))
        owner = np.repeat(np.arange(len(self)), np.diff(self.indptr))
        out[owner, self.cols] = self.vals
        return out


def _tally(rows: np.ndarray, cols: np.ndarray, width: int) -> tuple[np.ndarray, ...]:
    """(rows, cols, counts) of the distinct (row, col) pairs, ordered by row then col."""
    keys, counts = np.unique(rows * width + cols, return_counts=True)
    row_of = keys // width
    return row_of, keys - row_of * width, counts.astype(np.float64)


def _weigh(
    rows: np.ndarray, cols: np.ndarray, counts: np.ndarray, idf: np.ndarray, sublinear: bool, n: int
) -> np.ndarray:
    """TF-IDF values of the counted terms, each row L2-normalised."""
    tf = 1.0 + np.log(counts) if sublinear else counts
    vals = tf * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=n))
    norms[norms == 0.0] = 1.0
    return np.asarray(vals / norms[rows], dtype=float)


@dataclass(frozen=True)
class BigramTable:
    """The vocabulary's bigrams by their tokens' ids: `tokens` in id order, `keys`
    (first id << 32 | second id) sorted, `cols` the column of each key. Computed from
    the vocabulary at training and stored with it (building it costs more than the
    rest of loading the word model)."""

    tokens: list[str]
    keys: np.ndarray
    cols: np.ndarray

    @classmethod
    def of(cls, terms: Sequence[str]) -> BigramTable:
        bigram_cols = [col for col, term in enumerate(terms) if " " in term]
        pairs = [terms[col].split(" ") for col in bigram_cols]
        firsts = [p[0] for p in pairs]
        seconds = [p[1] for p in pairs]
        tokens = list(dict.fromkeys(chain(firsts, seconds)))
        ids = dict(zip(tokens, range(len(tokens)), strict=True)).__getitem__
        keys = np.fromiter(map(ids, firsts), np.int64, len(pairs)) << 32
        keys |= np.fromiter(map(ids, seconds), np.int64, len(pairs))
        order = np.argsort(keys, kind="stable")
        return cls(tokens, keys[order], np.asarray(bigram_cols, dtype=np.int64)[order])

    def check(self, width: int) -> None:
        keys, cols = self.keys, self.cols
        if (
            keys.shape != cols.shape
            or keys.dtype != np.int64
            or cols.dtype != np.int64
            or (keys.size and (cols.min() < 0 or cols.max() >= width))
            or (keys.size and int(keys.max() >> 32) >= len(self.tokens))
            or bool((keys[1:] < keys[:-1]).any())
        ):
            raise ModelError("the word model's bigram table does not fit its vocabulary")


class WordFeatures:
    """The word analyser (lower-cased tokens of the token pattern, then the bigrams of
    adjacent tokens) and its vocabulary. A bigram is found by its two tokens' ids (a
    sorted array of the vocabulary's bigram keys), never by building its string."""

    def __init__(
        self,
        terms: Sequence[str],
        idf: np.ndarray,
        *,
        token_pattern: str,
        sublinear: bool,
        bigrams: BigramTable | None = None,
    ) -> None:
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.width = len(self.terms)
        self.token_pattern = token_pattern
        self.sublinear = sublinear
        self._findall = re.compile(token_pattern).findall
        self._vocab = dict(zip(self.terms, range(self.width), strict=True))
        self.bigrams = bigrams if bigrams is not None else BigramTable.of(self.terms)
        self.bigrams.check(self.width)
        # Ids for the tokens that occur in some vocabulary bigram; others cannot start
        # or end a known bigram.
        tokens = self.bigrams.tokens
        self._token_id = dict(zip(tokens, range(len(tokens)), strict=True))
        self._bigram_keys = self.bigrams.keys
        self._bigram_cols = self.bigrams.cols

    def settings(self) -> dict[str, Any]:
        return {
            "analyzer": "word",
            "ngram_range": [1, 2],
            "token_pattern": self.token_pattern,
            "sublinear_tf": self.sublinear,
        }

    def analyse(self, text: str) -> list[str]:
        tokens = self._findall(text.lower())
        return [*tokens, *map(" ".join, zip(tokens, tokens[1:], strict=False))]

    def counts(self, texts: Sequence[str]) -> tuple[np.ndarray, ...]:
        """(rows, cols, counts) of the known terms of each text."""
        findall = self._findall
        doc_tokens = [findall(text.lower()) for text in texts]
        tokens = list(chain.from_iterable(doc_tokens))
        n = len(tokens)
        per_doc = np.fromiter(map(len, doc_tokens), np.int64, len(texts))
        owner = np.repeat(np.arange(len(texts), dtype=np.int64), per_doc)
        unigrams = np.fromiter(map(self._vocab.get, tokens, repeat(-1)), np.int64, n)
        ids = np.fromiter(map(self._token_id.get, tokens, repeat(-1)), np.int64, n)
        # Adjacent tokens of one text, both in some vocabulary bigram.
        pair = (owner[:-1] == owner[1:]) & (ids[:-1] >= 0) & (ids[1:] >= 0)
        keys = ids[:-1][pair] << 32 | ids[1:][pair]
        at = np.searchsorted(self._bigram_keys, keys)
        at[at == self._bigram_keys.size] = 0
        known = self._bigram_keys[at] == keys if self._bigram_keys.size else keys < 0
        known_uni = unigrams >= 0
        cols = np.concatenate([unigrams[known_uni], self._bigram_cols[at[known]]])
        rows = np.concatenate([owner[known_uni], owner[:-1][pair][known]])
        return _tally(rows, cols, self.width)


class CharFeatures:
    """The char_wb analyser (n-grams of each lower-cased word padded with a space) and
    its vocabulary. Its n-grams never cross a word, so a document's n-grams are its
    words' n-grams: the known columns of each word are looked up once and reused (words
    recur across posts far more than documents do)."""

    def __init__(
        self,
        terms: Sequence[str],
        idf: np.ndarray,
        *,
        ngram_range: tuple[int, int],
        sublinear: bool,
    ) -> None:
        self.terms = list(terms)
        self.idf = np.asarray(idf, dtype=np.float64)
        self.width = len(self.terms)
        self.ngram_range = ngram_range
        self.sublinear = sublinear
        self._vocab = dict(zip(self.terms, range(self.width), strict=True))
        self._by_word: dict[str, tuple[int, ...]] = {}

    def settings(self) -> dict[str, Any]:
        return {
            "analyzer": "char_wb",
            "ngram_range": list(self.ngram_range),
            "sublinear_tf": self.sublinear,
        }

    def clear_cache(self) -> None:
        self._by_word.clear()

    def analyse(self, text: str) -> list[str]:
        """Every n-gram of the text, in order (as scikit-learn's char_wb analyser)."""
        return list(chain.from_iterable(map(self._ngrams, text.lower().split())))

    def _ngrams(self, word: str) -> list[str]:
        min_n, max_n = self.ngram_range
        w = f" {word} "
        out: list[str] = []
        for n in range(min_n, max_n + 1):
            if len(w) <= n:  # the whole padded word, counted once
                out.append(w)
                break
            out.extend(w[i : i + n] for i in range(len(w) - n + 1))
        return out

    def _word_columns(self, word: str) -> tuple[int, ...]:
        cols = self._by_word.get(word)
        if cols is None:
            found = map(self._vocab.get, self._ngrams(word), repeat(None))
            cols = tuple(k for k in found if k is not None)
            if len(self._by_word) < WORD_CACHE:
                self._by_word[word] = cols
        return cols

    def counts(self, texts: Sequence[str]) -> tuple[np.ndarray, ...]:
        """(rows, cols, counts) of the known n-grams of each text."""
        doc_words = [text.lower().split() for text in texts]
        all_words = list(chain.from_iterable(doc_words))
        local = {w: k for k, w in enumerate(dict.fromkeys(all_words))}
        per_word = [self._word_columns(w) for w in local]
        w_len = np.fromiter(map(len, per_word), np.int64, len(per_word))
        w_start = np.cumsum(w_len) - w_len
        w_cols = np.fromiter(chain.from_iterable(per_word), np.int64, int(w_len.sum()))
        # Each occurrence of a word emits that word's columns, for the row it is in.
        occ = np.fromiter(map(local.__getitem__, all_words), np.int64, len(all_words))
        occ_len = w_len[occ]
        occ_row = np.repeat(
            np.arange(len(texts), dtype=np.int64),
            np.fromiter(map(len, doc_words), np.int64, len(texts)),
        )
        total = int(occ_len.sum())
        at = np.repeat(w_start[occ] - (np.cumsum(occ_len) - occ_len), occ_len)
        cols = w_cols[at + np.arange(total, dtype=np.int64)]
        return _tally(np.repeat(occ_row, occ_len), cols, self.width)


# ---------------------------------------------------------------- the model


@dataclass
class TrainedModel:
    """The two linear models over [word features | char features]: `weights` holds the
    issue model's columns (one per class, or one for two classes) and then, when there
    is an error model, its single column; `intercepts` likewise."""

    card: ModelCard
    word: WordFeatures
    char: CharFeatures
    weights: np.ndarray
    intercepts: np.ndarray
    classes: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        # Kept (and stored) in single precision: half the bytes to read at every start,
        # for scores that move by about 1e-7.
        self.weights = np.ascontiguousarray(self.weights, dtype=np.float32)
        self.classes = tuple(self.card.classes)
        self.width = self.word.width + self.char.width
        k = 1 if len(self.classes) == 2 else len(self.classes)
        if self.weights.shape[0] != self.width or self.weights.shape[1] not in (k, k + 1):
            raise ModelError("the model's weights do not fit its vocabularies and classes")
        if self.intercepts.shape != (self.weights.shape[1],):
            raise ModelError("the model's intercepts do not fit its weights")
        self._issue_columns = k
        self.has_error_model = self.weights.shape[1] == k + 1
        platt = self.card.platt
        self.issue_platt = Platt(*platt.get("issue", (-4.0, 0.0)))
        self.error_platt = Platt(*platt.get("error", (-4.0, 0.0)))
        self.report = ReportModel.from_json(self.card.report_model)

    def clear_caches(self) -> None:
        self.char.clear_cache()

    def vectorise(self, docs: Sequence[Doc]) -> Rows:
        """Each post's word columns, then its char columns (offset by the word width)."""
        n = len(docs)
        w_rows, w_cols, w_counts = self.word.counts([d.word for d in docs])
        c_rows, c_cols, c_counts = self.char.counts([d.char for d in docs])
        w_vals = _weigh(w_rows, w_cols, w_counts, self.word.idf, self.word.sublinear, n)
        c_vals = _weigh(c_rows, c_cols, c_counts, self.char.idf, self.char.sublinear, n)
        rows = np.concatenate([w_rows, c_rows])
        order = np.argsort(rows, kind="stable")
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        cols = np.concatenate([w_cols, c_cols + self.word.width])[order]
        vals = np.concatenate([w_vals, c_vals])[order]
        return Rows(cols, vals, indptr, self.width)

    def scores(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray | None]:
        """(issue scores [n, classes], error-model score [n] or None): raw SVM scores."""
        raw = self.vectorise(docs).dot(self.weights) + self.intercepts
        k = self._issue_columns
        issue = raw[:, :k]
        if len(self.classes) == 2:  # one column for the positive class
            issue = np.column_stack([-issue[:, 0], issue[:, 0]])
        return issue, (raw[:, k] if self.has_error_model else None)

    def predict(self, docs: Sequence[Doc]) -> tuple[np.ndarray, np.ndarray]:
        """(issue probabilities [n, classes], error-report probability [n])."""
        if not docs:
            return np.zeros((0, len(self.classes))), np.zeros(0)
        issue, error = self.scores(docs)
        error_p = np.ones(len(docs)) if error is None else self.error_platt(error)
        return issue_proba_from_scores(issue, self.issue_platt), error_p

    def predict_report(
        self, docs: Sequence[Doc], forms: Sequence[Sequence[float]]
    ) -> tuple[np.ndarray, np.ndarray]:
        """(issue probabilities, report probability): the word model's error score
        stacked with each post's form features (bot.triage.report); without a stacker,
        the calibrated word model alone."""
        if not docs:
            return np.zeros((0, len(self.classes))), np.zeros(0)
        issue, error = self.scores(docs)
        issue_p = issue_proba_from_scores(issue, self.issue_platt)
        if error is None:
            return issue_p, np.ones(len(docs))
        if self.report is None:
            return issue_p, self.error_platt(error)
        return issue_p, self.report.probability(feature_rows(error, forms))

    def no_text_report_threshold(self) -> float:
        """The report probability a post that quotes no error needs (model card)."""
        return float(self.card.thresholds.get("_error", {}).get("no_text_report", 0.5))

    def thresholds(self, slug: str) -> tuple[float, float]:
        t = self.card.thresholds.get(slug) or {}
        return float(t.get("auto", AUTO_CEIL)), float(t.get("review", 0.5))


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


# ---------------------------------------------------------------- versions


def feature_signature() -> str:
    """The version of the code that turns posts into features (FEATURE_VERSION): a
    model built for other features is retrained rather than fed different inputs."""
    return f"features-v{FEATURE_VERSION}"


def library_versions() -> dict[str, str]:
    """The versions a model is trained with (recorded on its card), read from package
    metadata: importing scikit-learn to ask would cost more than the rest of start-up."""
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("scikit-learn", "numpy", "scipy"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = ""
    return found


def train(
    issues: Sequence[KnownIssue], examples: Sequence[Example], *, cross_validate: bool = True
) -> TrainedModel:
    """Train a model (bot.triage.training; scikit-learn is imported only then)."""
    from bot.triage import training

    return training.train(issues, examples, cross_validate=cross_validate)


# ---------------------------------------------------------------- persistence


def _text_array(terms: Sequence[str]) -> np.ndarray:
    """Terms as one newline-joined UTF-8 byte array: compact, and plain data."""
    # Word tokens hold no whitespace and char_wb n-grams only single spaces, so a
    # newline means a vectoriser this cannot store.
    if any("\n" in t for t in terms):
        raise ModelError("a vocabulary term holds a newline: cannot store it")
    return np.frombuffer("\n".join(terms).encode("utf-8"), dtype=np.uint8)


def _terms(data: np.ndarray) -> list[str]:
    if data.dtype != np.uint8 or data.ndim != 1:
        raise TypeError("vocabulary must be UTF-8 bytes")
    text = data.tobytes().decode("utf-8")
    return text.split("\n") if text else []


def save(model: TrainedModel, models_dir: str | Path) -> Path:
    """Write the model's arrays and its card; each file is written whole then renamed."""
    directory = Path(models_dir)
    arrays: dict[str, Any] = {
        "format_version": np.asarray(FORMAT_VERSION),
        "word_terms": _text_array(model.word.terms),
        "word_idf": model.word.idf,
        "word_bigram_tokens": _text_array(model.word.bigrams.tokens),
        "word_bigram_keys": model.word.bigrams.keys,
        "word_bigram_cols": model.word.bigrams.cols,
        "char_terms": _text_array(model.char.terms),
        "char_idf": model.char.idf,
        "weights": model.weights,
        "intercepts": model.intercepts,
    }
    try:
        directory.mkdir(parents=True, exist_ok=True)
        # Unique names: two processes retraining at once must not share a temp file.
        tag = f"{os.getpid()}.{secrets.token_hex(4)}"
        tmp_model = directory / f".{MODEL_FILE}.{tag}.tmp"
        tmp_card = directory / f".{CARD_FILE}.{tag}.tmp"
        try:
            with open(tmp_model, "wb") as out:
                # Uncompressed: inflating the weights took longer than the rest of
                # loading (git compresses the file in its own store anyway).
                np.savez(out, **arrays)
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
    """Load a model: plain arrays (never pickled objects) and the card's settings."""
    directory = Path(models_dir)
    path = directory / MODEL_FILE
    card = read_card(directory)
    if card is None or not path.is_file():
        raise ModelError(f"no trained model in {directory} (run `triagebot train`)")
    if card.format_version != FORMAT_VERSION:
        raise ModelError(f"{path}: unsupported model format (retrain with `triagebot train`)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        # ValueError also covers an object array: allow_pickle=False refuses it.
        raise ModelError(f"{path}: cannot load model: {exc}") from None
    try:
        if int(arrays["format_version"]) != FORMAT_VERSION:
            raise ModelError(f"{path}: unsupported model format (retrain with `triagebot train`)")
        word_cfg, char_cfg = card.analysers["word"], card.analysers["char"]
        if word_cfg.get("analyzer") != "word" or list(word_cfg.get("ngram_range", ())) != [1, 2]:
            raise ModelError(f"{path}: unsupported word analyser {word_cfg}")
        if char_cfg.get("analyzer") != "char_wb":
            raise ModelError(f"{path}: unsupported char analyser {char_cfg}")
        min_n, max_n = (int(v) for v in char_cfg["ngram_range"])
        word = WordFeatures(
            _terms(arrays["word_terms"]),
            arrays["word_idf"],
            token_pattern=str(word_cfg["token_pattern"]),
            sublinear=bool(word_cfg["sublinear_tf"]),
            bigrams=BigramTable(
                _terms(arrays["word_bigram_tokens"]),
                arrays["word_bigram_keys"],
                arrays["word_bigram_cols"],
            ),
        )
        char = CharFeatures(
            _terms(arrays["char_terms"]),
            arrays["char_idf"],
            ngram_range=(min_n, max_n),
            sublinear=bool(char_cfg["sublinear_tf"]),
        )
        if word.idf.shape != (word.width,) or char.idf.shape != (char.width,):
            raise ModelError(f"{path}: idf weights do not fit the vocabularies")
        weights = np.asarray(arrays["weights"])
        if weights.dtype not in (np.float32, np.float64):
            raise ModelError(f"{path}: weights must be floating point")
        intercepts = np.asarray(arrays["intercepts"], dtype=np.float64)
        if weights.ndim != 2:
            raise ModelError(f"{path}: weights must be a matrix")
        return TrainedModel(card, word, char, weights, intercepts)
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, re.error) as exc:
        raise ModelError(f"{path}: model file is incomplete ({exc})") from None
