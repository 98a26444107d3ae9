"""The triage decision for one thread: reply, review, escalate or ignore.

Built once (compiled patterns, vectorisers, models) and then called for every post
by the batch command, the running bot and the evaluation alike.

Precision comes first. A public reply needs strong evidence: a known-issue pattern
in the member's own words (and no sign that the error comes from another provider),
or a calibrated probability above the issue's auto threshold on a post that reads as
an error report. The grey zone becomes a review draft. An error report that matches
nothing is escalated; anything else is ignored.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.config import Config
from bot.known_issues import KnownIssue, load_dir
from bot.replies.render import render_reply
from bot.triage import classifier, patterns
from bot.triage.advice import find_corrections
from bot.triage.casefold import fold, folded
from bot.triage.claims import known_specifics
from bot.triage.classifier import ModelError, TrainedModel, make_doc
from bot.triage.extract import ErrorCandidate, extract_errors, split_own_words
from bot.triage.fingerprint import fingerprint_normalised, normalise
from bot.triage.matching import IssueMatcher
from bot.triage.report import form_features
from bot.triage.secrets import find_secrets, redact, secret_kinds
from bot.triage.training_data import NOVEL, Example, data_hash, issues_hash, load_training_dir
from bot.triage.types import Correction, Decision, Thread

PATTERN_CONFIDENCE = 0.97
# Error-report probability needed with quoted error text, and with none at all.
ERROR_P = 0.5
# The word model alone over-reads topic as a report, so a post with nothing quoted
# needs a high bar; with the report stacker (bot.triage.report) the bar is chosen in
# training and kept in the model card.
NO_TEXT_ERROR_P = 0.9
NO_TEXT_REVIEW = 0.6
LOW_ERROR_P = 0.2
EVIDENCE_SCORE = 0.5
# A confident structured error (JSON body, traceback) is an error report by itself.
STRONG_CANDIDATE = 0.9
MAX_ERROR_STRINGS = 5
REPLY_CACHE = 2048
NORMALISE_CACHE = 4096
CHUNK = 256
SCAN_CHARS = 12_000
# Errors from other providers look like ours; their presence makes a reply a draft.
_OTHER_PROVIDER = re.compile(
    r"\b(azure|anthropic|claude|gemini|vertex ?ai|bedrock|mistral|groq|deepseek|ollama|"
    r"cohere|openrouter|hugging ?face|llama\.cpp|llama-server|together\.ai|fireworks|vllm|"
    r"lm ?studio|tgi|text-generation-inference)\b",
    re.IGNORECASE,
)
# Feature requests as issue trackers shape them (title tags, template headings).
_FEATURE_TITLE = re.compile(
    r"^\s*(?:\[\s*(?:feature|enhancement|feat|proposal|rfc|request|idea)[^\]]*\]|"
    r"(?:feature|enhancement)\s+request\b|feat(?:\(\w+\))?:|"
    r"(?:add|support|implement|allow|expose)\s+(?!.*\b(?:error|fails?|failing|failed|broken|"
    r"crash\w*|exception|not working)\b))",
    re.IGNORECASE,
)
_FEATURE_BODY = re.compile(
    r"is your feature request related to a problem|describe the solution you'?d like|"
    r"^#+\s*(?:feature request|proposed (?:feature|solution)|motivation)\b",
    re.IGNORECASE | re.MULTILINE,
)
_WORD = re.compile(r"\w{2,}")
_TITLE_ERRORISH = re.compile(
    r"(error|exception|fail|invalid|unsupported|not supported|denied|exceed|unauthori[sz]ed|"
    r"forbidden|not found|does not exist|missing|overloaded|quota|rate limit|\b[45]\d\d\b)",
    re.IGNORECASE,
)
# Case-sensitive twins of the rules above, for folded text (bot.triage.casefold).
_OTHER_PROVIDER_FOLDED = folded(_OTHER_PROVIDER)
_FEATURE_TITLE_FOLDED = folded(_FEATURE_TITLE)
_FEATURE_BODY_FOLDED = folded(_FEATURE_BODY)
_TITLE_ERRORISH_FOLDED = folded(_TITLE_ERRORISH)


_CODE_IN_TEXT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# The machine-readable code of an error body as SDKs print it: JSON, or a Python dict.
# The key is lower-case in every SDK's output (the `in` pre-check relies on it); the
# value is read whatever its case.
_QUOTED_CODE = re.compile(r"""["']code["']\s*:\s*["']((?i:[a-z][a-z0-9]*(?:_[a-z0-9]+)+))["']""")


def _entry_texts(issue: KnownIssue) -> list[str]:
    """An entry's own wording: its texts, examples and the literals of its patterns."""
    texts = [issue.title, issue.summary, issue.cause, issue.workaround, *issue.examples]
    texts += [
        p.value if p.kind == "literal" else "\n".join(patterns.literal_runs(p.compile()))
        for p in issue.patterns
    ]
    return texts


def issue_codes(issue: KnownIssue) -> frozenset[str]:
    """Every error-code-shaped word an entry names anywhere (patterns' literals, texts,
    examples, misconceptions): over-inclusive, so that a code it lacks is surely not
    one of its errors."""
    texts = _entry_texts(issue) + [f"{m.claim} {m.correction}" for m in issue.misconceptions]
    return frozenset(_CODE_IN_TEXT.findall("\n".join(texts).lower()))


# A quoted message shares at least this much of its words with the entry's wording
# when it is the entry's error (translations and paraphrases aside).
MESSAGE_SHARE = 0.3
_MESSAGE_WORD = re.compile(r"[^\W\d_]{3,}")
_MESSAGE_STOP = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "this",
        "that",
        "with",
        "are",
        "was",
        "were",
        "has",
        "have",
        "not",
        "please",
        "from",
        "into",
        "error",
        "errors",
        "request",
        "code",
        "type",
        "message",
    ]
)


def _entry_vocabulary(issue: KnownIssue) -> frozenset[str]:
    return frozenset(_MESSAGE_WORD.findall("\n".join(_entry_texts(issue)).lower()))


def quoted_codes(text: str) -> set[str]:
    """Error codes the post quotes from an error body (`"code": "..."`)."""
    if "code" not in text:
        return set()
    return {c.lower() for c in _QUOTED_CODE.findall(text)}


# Where a quoted error code is evidence of a report; a code in a plain sentence or a
# title may be the topic of a question or a discussion.
_QUOTED_KINDS = frozenset({"json", "json_code", "traceback", "http_status", "error_line", "code"})


# Feature-request headings and other providers are rare: the literals they need spare
# a regex scan of the whole post on nearly every one.
_OTHER_PROVIDER_GATE = patterns.required_literals(_OTHER_PROVIDER)
_FEATURE_BODY_GATE = patterns.required_literals(_FEATURE_BODY)


def _gated_search(
    folded_rx: re.Pattern[str], gate: tuple[str, ...] | None, low: str
) -> re.Match[str] | None:
    """`folded_rx.search(low)`, skipped when no literal of the gate is in `low`."""
    # filter() runs the `in` tests in C, without a generator frame per literal.
    if gate is not None and next(filter(low.__contains__, gate), None) is None:
        return None
    return folded_rx.search(low)


@dataclass
class _Prepared:
    thread: Thread
    own: str
    candidates: list[ErrorCandidate]
    hits: dict[str, list[str]]
    later_hits: dict[str, list[str]]
    lookalike: str | None
    feature_request: bool
    matched: dict[str, str]  # slug -> the text a pattern matched (when short)
    forms: list[float]  # the report features (bot.triage.report)


class Triager:
    """Decides what to do with a thread. Thread-safe after construction."""

    def __init__(
        self,
        issues: Sequence[KnownIssue],
        model: TrainedModel | None,
        config: Config | None = None,
    ) -> None:
        self.issues = {i.slug: i for i in issues}
        self.model = model
        self.config = config or Config()
        self._matcher = IssueMatcher(issues)
        self._code_of = self._matcher.code_of
        self._codes = {i.slug: issue_codes(i) for i in issues}
        self._all_codes = frozenset().union(*self._codes.values())
        self._vocabulary = {i.slug: _entry_vocabulary(i) for i in issues}
        self._specifics = known_specifics(issues)
        self._class_index = {c: k for k, c in enumerate(model.classes)} if model else {}
        self._stacked = model is not None and model.report is not None
        self._no_text_p = (
            model.no_text_report_threshold()
            if model is not None and model.report is not None
            else NO_TEXT_ERROR_P
        )
        self._issues_hash = issues_hash(issues)
        self.model_version = model.card.version if model else "patterns-only"
        # The same error strings recur (that is why posts are grouped): rendering is pure,
        # so identical inputs reuse the rendered reply.
        self._render = functools.lru_cache(maxsize=REPLY_CACHE)(self._render_reply)
        # An error string is normalised for the model's document, again for the
        # evidence document and again for the fingerprint: once is enough.
        self._normalise = functools.lru_cache(maxsize=NORMALISE_CACHE)(normalise)

    def clear_caches(self) -> None:
        """Forget rendered replies, normalised strings and the model's per-word n-gram
        columns (for cold-start measurements; decisions never depend on them)."""
        self._render.cache_clear()
        self._normalise.cache_clear()
        if self.model is not None:
            self.model.clear_caches()

    def _render_reply(
        self,
        slug: str,
        error_string: str | None,
        corrections: tuple[Correction, ...],
        kinds: tuple[str, ...],
    ) -> str:
        return render_reply(
            self.issues[slug],
            error_string=error_string,
            corrections=corrections,
            secret_kinds=kinds,
        )

    # ------------------------------------------------------------ construction

    @classmethod
    def from_dir(
        cls,
        data_dir: str | Path,
        models_dir: str | Path,
        *,
        cache_dir: str | Path | None = None,
        config: Config | None = None,
    ) -> Triager:
        """Known issues from data_dir/known_issues, training data from data_dir/training."""
        data = Path(data_dir)
        issues = load_dir(data / "known_issues")
        examples = load_training_dir(data / "training")
        model = ensure_model(issues, examples, models_dir, cache_dir or default_cache_dir())
        return cls(issues, model, config)

    @classmethod
    def from_store(cls, store: object, config: Config) -> Triager:
        """Known issues from the database (maintainers' edits), training data from files."""
        issues = store.list_issues()  # type: ignore[attr-defined]
        examples = load_training_dir(config.resolved_data_dir() / "training")
        db_dir = Path(config.db_path).expanduser().resolve().parent
        model = ensure_model(
            issues, examples, config.resolved_models_dir(), db_dir / ".triagebot-models"
        )
        return cls(issues, model, config)

    def needs_reload(self, issues: Sequence[KnownIssue]) -> bool:
        """True when `issues` (e.g. `store.list_issues()`) differ from the ones this
        triager was built from: a long-running bot rebuilds it (retraining only when
        what the model learns from changed)."""
        return issues_hash(issues) != self._issues_hash

    # ------------------------------------------------------------ deciding

    def decide(self, thread: Thread) -> Decision:
        return self.decide_many([thread])[0]

    def decide_many(self, threads: Iterable[Thread]) -> list[Decision]:
        """Decisions in input order; the models run vectorised over chunks of threads
        (bounded, so that memory stays flat however long the input is)."""
        items = list(threads)
        out: list[Decision] = []
        for start in range(0, len(items), CHUNK):
            out.extend(self._decide_chunk(items[start : start + CHUNK]))
        return out

    def _decide_chunk(self, threads: Sequence[Thread]) -> list[Decision]:
        prepared = [self._prepare(t) for t in threads]
        if not prepared:
            return []
        evidence: dict[int, str] = {}
        if self.model is not None:
            # Title candidates are not fed back: the title is already in the document.
            docs = [
                make_doc(
                    p.thread.title,
                    p.own,
                    _texts(p.candidates),
                    own_words=True,
                    norm_fn=self._normalise,
                )
                for p in prepared
            ]
            issue_p, error_p = self.model.predict_report(docs, [p.forms for p in prepared])
            evidence = self._evidence(prepared, issue_p)
        else:
            issue_p = np.zeros((len(prepared), 0))
            error_p = np.array([0.9 if p.candidates else 0.1 for p in prepared])
        return [
            self._finish(p, issue_p[i], float(error_p[i]), evidence.get(i))
            for i, p in enumerate(prepared)
        ]

    def _evidence(self, prepared: list[_Prepared], issue_p: np.ndarray) -> dict[int, str]:
        """For posts the model would answer on its own: the issue that the title and the
        quoted error strings alone point to. A reply needs both views to agree."""
        assert self.model is not None
        wanted = []
        for i, p in enumerate(prepared):
            label, prob = self._top(issue_p[i])
            if (
                not p.hits
                and label != NOVEL
                and _has_error_text(p.candidates)
                and prob >= self._thresholds(label)[0]
            ):
                wanted.append(i)
        if not wanted:
            return {}
        docs = [
            make_doc(
                prepared[i].thread.title,
                "",
                _texts(prepared[i].candidates),
                own_words=True,
                norm_fn=self._normalise,
            )
            for i in wanted
        ]
        rows, _ = self.model.predict(docs)
        return {i: self._top(row)[0] for i, row in zip(wanted, rows, strict=True)}

    def _prepare(self, thread: Thread) -> _Prepared:
        own, _quoted = split_own_words(thread.first_post)
        own = own[:SCAN_CHARS]
        candidates = extract_errors(own)
        title = thread.title.strip()
        scan = f"{title}\n{own}"
        low_scan = fold(scan)  # same length: spans found in it hold in `scan`
        low_title = low_scan[: len(title)]
        if title and _TITLE_ERRORISH_FOLDED.search(low_title):
            candidates.append(ErrorCandidate(title[:300], "title", 0.45))
        matched: dict[str, str] = {}
        hits = self._matcher.hits(scan, matched, low_scan)
        later_hits: dict[str, list[str]] = {}
        if not hits and len(thread.posts) > 1:
            later = "\n".join(split_own_words(p)[0][:4000] for p in thread.posts[1:4])
            later_hits = self._matcher.hits(later)
        provider = _gated_search(_OTHER_PROVIDER_FOLDED, _OTHER_PROVIDER_GATE, low_scan)
        feature = bool(
            _FEATURE_TITLE_FOLDED.search(low_title)
            or _gated_search(
                _FEATURE_BODY_FOLDED, _FEATURE_BODY_GATE, low_scan[len(title) + 1 :][:3000]
            )
        )
        return _Prepared(
            thread,
            own,
            candidates,
            hits,
            later_hits,
            scan[provider.start(1) : provider.end(1)].lower() if provider else None,
            feature,
            matched,
            form_features(title, own, candidates),
        )

    def _prob(self, row: np.ndarray, slug: str) -> float:
        k = self._class_index.get(slug)
        return float(row[k]) if k is not None else 0.0

    def _finish(
        self, prep: _Prepared, row: np.ndarray, error_p: float, evidence: str | None = None
    ) -> Decision:
        reasons: list[str] = [f"error_p={error_p:.2f}"]
        top_label, top_p = self._top(row)
        if row.size:
            reasons.append(f"top={top_label}:{top_p:.2f}")
        has_text = _has_error_text(prep.candidates)
        strong = any(c.score >= STRONG_CANDIDATE for c in prep.candidates)
        # A traceback or JSON error body is a report whatever the wording around it; with
        # nothing quoted, only a clearly error-shaped post counts as a report.
        no_text_p = self._no_text_p
        is_error = (error_p >= ERROR_P or strong) if has_text else error_p >= no_text_p
        if not _WORD.search(prep.own) and not _WORD.search(prep.thread.title):
            # Nothing written (empty, whitespace, only a quote of someone else).
            reasons.append("no text")
            is_error = False
        if not prep.hits and prep.feature_request:
            # Issue-tracker feature requests mention errors they want handled, but
            # report none: nothing to answer or escalate.
            reasons.append("feature request")
            is_error = False

        action: str
        issue: str | None = None
        confidence: float
        if prep.hits:
            issue = max(prep.hits, key=lambda s: (self._prob(row, s), len(prep.hits[s])))
            for value in prep.hits[issue][:3]:
                reasons.append(f"pattern:{issue}:{value}")
            p_issue = self._prob(row, issue)
            auto, review = self._thresholds(issue)
            disagree = row.size and top_label != issue and top_p >= auto and p_issue < review
            if len(prep.hits) > 1:
                reasons.append("patterns of several issues hit")
            if self._code_only(prep.hits[issue]) and self._message_differs(prep, issue):
                # A relay or another service reusing the code with its own message (a
                # "quota" code that says "upstream load saturated"): not this issue.
                reasons.append(f"quoted message is not {issue}'s")
                return self._decision(prep, "escalate", None, error_p, True, reasons)
            if prep.lookalike:
                reasons.append(f"lookalike:{prep.lookalike}")
                action, confidence = "review", max(p_issue, 0.5)
            elif disagree:
                reasons.append(f"model prefers {top_label}")
                action, confidence = "review", max(p_issue, 0.5)
            elif self._code_in_prose(prep, prep.hits[issue]):
                reasons.append("error code named, not quoted")
                # The report stacker's own cut, else a low bar for the word model alone.
                no_report = ERROR_P if self._stacked else LOW_ERROR_P
                if error_p < no_report and not strong:
                    # A question or discussion about the code: nothing was reported.
                    reasons.append("reads as no error report")
                    return self._decision(prep, "ignore", None, 1.0 - error_p, False, reasons)
                action, confidence = "review", max(p_issue, 0.5)
            elif error_p < LOW_ERROR_P and not strong:
                # The error's words in a post that reads as a question or a discussion.
                reasons.append("reads as no error report")
                action, confidence = "review", max(p_issue, 0.5)
            else:
                action, confidence = "reply", max(PATTERN_CONFIDENCE, p_issue)
            is_error = True
        elif top_label != NOVEL and is_error and not prep.lookalike:
            auto, review = self._thresholds(top_label)
            foreign = self._foreign_code(prep, top_label)
            later = top_label in prep.later_hits
            if not has_text:
                # Nothing quoted: the text alone must make the issue clear, even for a draft.
                review = max(review, NO_TEXT_REVIEW)
            if foreign is not None and foreign not in self._all_codes:
                # The post quotes an error code no entry knows: a new error, however
                # alike its wording is to a known one.
                reasons.append(f"quoted code {foreign} is in no known issue")
                reasons.append(f"model guess {top_label}:{top_p:.2f}")
                action, confidence = "escalate", error_p
            elif foreign is not None and top_p >= review:
                reasons.append(f"quoted code {foreign} is not this issue's")
                action, issue, confidence = "review", top_label, top_p
            elif top_p >= auto and has_text and evidence == top_label:
                action, issue, confidence = "reply", top_label, top_p
                reasons.append(f"p={top_p:.2f}>=auto {auto:.2f}")
                reasons.append("error strings agree")
            elif top_p >= review or (later and top_p >= review / 2):
                action, issue, confidence = "review", top_label, top_p
                reasons.append(f"p={top_p:.2f}>=review {review:.2f}")
                if later:
                    reasons.append(f"later-post pattern:{top_label}")
            else:
                action, confidence = "escalate", error_p
        elif is_error:
            if prep.lookalike:
                reasons.append(f"lookalike:{prep.lookalike}")
            action, confidence = "escalate", error_p
        else:
            action, confidence = "ignore", 1.0 - error_p

        return self._decision(prep, action, issue, confidence, is_error, reasons)

    def _foreign_code(self, prep: _Prepared, slug: str) -> str | None:
        """A code the post quotes from an error body when none it quotes is one the
        entry names (None: no code quoted, or one of the entry's)."""
        quoted = quoted_codes(prep.own)
        if not quoted or quoted & self._codes.get(slug, frozenset()):
            return None
        return min(quoted)

    def _code_only(self, values: Sequence[str]) -> bool:
        """Every pattern that hit is a bare error code."""
        return bool(values) and all(self._code_of.get(v) for v in values)

    def _message_differs(self, prep: _Prepared, slug: str) -> bool:
        """The post quotes an error body's message, and none of its messages speaks
        the entry's words (the entry's own wording, patterns and examples)."""
        messages = [c.text for c in prep.candidates if c.kind == "json"]
        if not messages:
            return False
        vocabulary = self._vocabulary[slug]
        for message in messages:
            words = [w for w in _MESSAGE_WORD.findall(message.lower()) if w not in _MESSAGE_STOP]
            if not words:
                return False  # nothing to compare (a bare code or a number)
            if sum(w in vocabulary for w in words) / len(words) >= MESSAGE_SHARE:
                return False
        return True

    def _code_in_prose(self, prep: _Prepared, values: Sequence[str]) -> bool:
        """Only bare error-code patterns hit, and the code is in no quoted error output."""
        if not self._code_only(values):
            return False
        quoted = "\n".join(c.text.lower() for c in prep.candidates if c.kind in _QUOTED_KINDS)
        return not any(self._code_of[v] in quoted for v in values)

    def _top(self, row: np.ndarray) -> tuple[str, float]:
        if not row.size or self.model is None:
            return NOVEL, 0.0
        k = int(np.argmax(row))
        return self.model.classes[k], float(row[k])

    def _thresholds(self, slug: str) -> tuple[float, float]:
        if self.model is None:
            return 1.0, 1.0
        return self.model.thresholds(slug)

    def _decision(
        self,
        prep: _Prepared,
        action: str,
        issue_slug: str | None,
        confidence: float,
        is_error: bool,
        reasons: list[str],
    ) -> Decision:
        thread = prep.thread
        ranked = [c for c in prep.candidates if c.kind != "title"] or prep.candidates
        hit_text = prep.matched.get(issue_slug or "") if action in ("reply", "review") else None
        if hit_text:
            # The candidate the issue's pattern matched is the error string to show; if no
            # extractor found it, the matched text itself is.
            low = hit_text.lower()
            holding = [c for c in ranked if low in c.text.lower()]
            rest = [c for c in ranked if low not in c.text.lower()]
            ranked = (
                holding + rest if holding else [ErrorCandidate(hit_text, "pattern", 0.85), *ranked]
            )
        best = ranked[0] if ranked else None
        norm = self._normalise(best.text) if best else None
        # Candidates are cut from the post, so a post without secrets needs no redaction.
        secrets = bool(find_secrets(f"{thread.title}\n{thread.first_post}"))
        shown = ranked[:MAX_ERROR_STRINGS]
        error_strings = (
            tuple(_redact_all(c.text) for c in shown) if secrets else tuple(c.text for c in shown)
        )
        corrections: tuple[Correction, ...] = ()
        reply: str | None = None
        if issue_slug is not None and action in ("reply", "review"):
            issue = self.issues[issue_slug]
            # The first post too: members often paste what an assistant told them
            # before asking; find_corrections only reads AI-attributed or
            # assistant-styled advice, never the member's own words.
            corrections = tuple(
                find_corrections(list(thread.posts), issue, known_elsewhere=self._specifics)
            )
            reply = self._render(
                issue_slug,
                error_strings[0] if error_strings else None,
                corrections,
                tuple(secret_kinds(thread.first_post)) if secrets else (),
            )
        if secrets:
            reasons.append("secret in post")
        return Decision(
            id=thread.id,
            action=action,  # type: ignore[arg-type]
            issue=issue_slug,
            confidence=float(min(max(confidence, 0.0), 1.0)),
            fingerprint=fingerprint_normalised(norm) if norm else None,
            error_strings=error_strings,
            corrections=corrections,
            reply=reply,
            normalised=norm,
            is_error_report=is_error,
            reasons=tuple(reasons),
            secrets_found=secrets,
            model_version=self.model_version,
        )


_KEY_FRAGMENT = re.compile(r"\b(?:sk|rk|pk|sess)-[A-Za-z0-9_\-]{4,}…?")


def _redact_all(text: str) -> str:
    """Redact secrets, then any key-shaped fragment: a candidate cut at its length limit
    can end in part of a key that no longer looks like a whole one."""
    return _KEY_FRAGMENT.sub("sk-…[redacted]", redact(text))


def _texts(candidates: Sequence[ErrorCandidate]) -> list[str]:
    return [c.text for c in candidates if c.kind != "title"]


def _has_error_text(candidates: Sequence[ErrorCandidate]) -> bool:
    return any(c.kind != "title" and c.score >= EVIDENCE_SCORE for c in candidates)


# ---------------------------------------------------------------- model freshness


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triagebot" / "models"


def ensure_model(
    issues: Sequence[KnownIssue],
    examples: Sequence[Example],
    models_dir: str | Path,
    cache_dir: str | Path,
) -> TrainedModel | None:
    """The model for exactly this data: loaded if a card's hash matches, else retrained.

    A retrained model goes to models_dir, or to cache_dir when models_dir is
    read-only (an installed package). With no issues there is nothing to learn.
    """
    if not issues:
        return None
    want = data_hash(issues, [e for e in examples if e.label in _labels(issues)])
    for directory in (Path(models_dir), Path(cache_dir)):
        card = classifier.read_card(directory)
        if card is not None and card.data_hash == want and _compatible(card):
            try:
                return classifier.load(directory)
            except ModelError:
                continue  # corrupt or untrusted: retrain below
    model = classifier.train(issues, examples)
    for directory in (Path(models_dir), Path(cache_dir)):
        try:
            classifier.save(model, directory)
            return model
        except ModelError:
            continue
    return model  # nowhere writable: use it for this run only


def _compatible(card: classifier.ModelCard) -> bool:
    """A model from other feature code or another scikit-learn is retrained, not trusted."""
    current = classifier.library_versions()
    return (
        card.format_version == classifier.FORMAT_VERSION
        and card.feature_signature == classifier.feature_signature()
        and card.library_versions.get("scikit-learn") == current["scikit-learn"]
    )


def _labels(issues: Sequence[KnownIssue]) -> set[str]:
    from bot.triage.training_data import SPECIAL_LABELS

    return {i.slug for i in issues} | set(SPECIAL_LABELS)


def load_triager(config: Config, *, use_store: bool = False, store: object = None) -> Triager:
    """The triager the CLI uses: from the database when asked, else from data files."""
    if use_store and store is not None:
        return Triager.from_store(store, config)
    return Triager.from_dir(
        config.resolved_data_dir(),
        config.resolved_models_dir(),
        cache_dir=Path(config.db_path).expanduser().resolve().parent / ".triagebot-models",
        config=config,
    )
