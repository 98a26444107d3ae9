"""The decision policy: reply, review, escalate or ignore, from a prepared post.

Precision comes first. A public reply needs strong evidence: a known-issue pattern
in the member's own words (and no sign that the error comes from another provider),
or a calibrated probability above the issue's auto threshold on a post that reads as
an error report. The grey zone becomes a review draft. An error report that matches
nothing is escalated; anything else is ignored.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot import patterns
from bot.known_issues import KnownIssue
from bot.triage.extract import ErrorCandidate
from bot.triage.matching import CompiledPattern, IssueMatcher
from bot.triage.plaintext import OBJECT_ID
from bot.triage.report import feature_shaped, names_only
from bot.triage.training_data import NOVEL
from bot.triage.types import Thread

if TYPE_CHECKING:
    from bot.triage.classifier import TrainedModel

PATTERN_CONFIDENCE = 0.97
# Error-report probability needed with quoted error text, and with none at all.
ERROR_P = 0.5
# The word model alone over-reads topic as a report, so a post with nothing quoted
# needs a high bar; with the report stacker (bot.triage.report) the bar is chosen in
# training and kept in the model card.
NO_TEXT_ERROR_P = 0.9
NO_TEXT_REVIEW = 0.6
LOW_ERROR_P = 0.2
# Below this the report detector is sure: a tutorial or a question that quotes the
# error (not as failure output, which is strong) is left alone, not drafted, when it is
# long enough for its form to show (a two-line report reads like little at all).
NO_REPORT_P = 0.1
NO_REPORT_MIN_CHARS = 300
EVIDENCE_SCORE = 0.5
# A confident structured error (JSON body, traceback) is an error report by itself.
STRONG_CANDIDATE = 0.9
# One report is about one problem: a post quoting the errors of this many known issues
# is a digest (a cheat sheet, a tutorial, a list of codes) more often than a report.
DIGEST_ISSUES = 3

_WORD = re.compile(r"\w{2,}")

_CODE_IN_TEXT = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
# The machine-readable code of an error body as SDKs print it: JSON, or a Python dict.
# The key is lower-case in every SDK's output (the `in` pre-check relies on it); the
# value is read whatever its case.
_QUOTED_CODE = re.compile(r"""["']code["']\s*:\s*["']((?i:[a-z][a-z0-9]*(?:_[a-z0-9]+)+))["']""")


def _entry_texts(issue: KnownIssue) -> list[str]:
    """An entry's own wording: its texts, examples and the literals of its patterns."""
    texts = [issue.title, issue.summary, issue.cause, issue.workaround, *issue.examples]
    texts += [
        p.value if p.kind == "literal" else "\n".join(patterns.literal_runs(p.source()))
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


# A quoted message of at least this many word pairs shares one with the entry's wording
# when it is the entry's error.
MESSAGE_PAIRS = 3


def _entry_phrases(issue: KnownIssue) -> frozenset[tuple[str, str]]:
    """Consecutive pairs of the entry's words (stop words left out, as in a message)."""
    pairs: set[tuple[str, str]] = set()
    for text in _entry_texts(issue):
        words = [w for w in _MESSAGE_WORD.findall(text.lower()) if w not in _MESSAGE_STOP]
        pairs.update(itertools.pairwise(words))
    return frozenset(pairs)


_MESSAGE_FIELD = re.compile(r"""["']message["']\s*:\s*["']([^"'\n]{3,300})["']""")
_NEGATOR = r"\b(?:without|not|isn'?t|wasn'?t|rather\s+than|instead\s+of|other\s+than)"
# Words that entries' prose patterns use for a symptom ("empty", "null").
_SYMPTOM_WORDS = frozenset({"empty", "blank", "null", "length"})
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9]*(?:[_.][a-z0-9]+)+$")


def _denial(compiled: Sequence[CompiledPattern]) -> re.Pattern[str]:
    """A negation of an identifier the entry's patterns anchor on, or of a symptom word."""
    anchors = {p.required for p in compiled if p.required and _IDENTIFIER.match(p.required)}
    return re.compile(
        rf"{_NEGATOR}\s+(?:\w+\s+){{0,2}}"
        rf"(?:{'|'.join(map(re.escape, sorted(anchors | _SYMPTOM_WORDS)))})\b|"
        rf"\bnon-?(?:{'|'.join(sorted(_SYMPTOM_WORDS))})\b",
        re.IGNORECASE,
    )


def quoted_codes(text: str) -> set[str]:
    """Error codes the post quotes from an error body (`"code": "..."`)."""
    if "code" not in text:
        return set()
    return {c.lower() for c in _QUOTED_CODE.findall(text)}


# The name an error message is about, in its slot: `Unsupported parameter: 'x_y'`,
# `Invalid value for 'x_y'`, an error body's `"param": "x_y"` (not any quoted key of a
# log line: those are the member's own data).
_QUOTED_NAME = re.compile(
    r"""(?i:\b(?:parameter|param|value|argument|field)s?)["']?\s*[:=]?\s*(?:for\s+)?"""
    r"""['"`]([A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)+)['"`]"""
)

# Where a quoted error code is evidence of a report; a code in a plain sentence or a
# title may be the topic of a question or a discussion.
_QUOTED_KINDS = frozenset({"json", "json_code", "traceback", "http_status", "error_line", "code"})


@dataclass
class Prepared:
    """A post read for the decision: its own words, candidates, pattern hits, cues."""

    thread: Thread
    own: str
    candidates: list[ErrorCandidate]
    hits: dict[str, list[str]]
    later_hits: dict[str, list[str]]
    lookalike: str | None
    feature_request: bool
    matched: dict[str, str]  # slug -> the text a pattern matched (when short)
    forms: list[float]  # the report features (bot.triage.report)


@dataclass(frozen=True)
class Ruling:
    """The policy's answer for one post, before it is rendered as a Decision."""

    action: str
    issue: str | None
    confidence: float
    is_error: bool
    reasons: list[str]


class DecisionPolicy:
    """The rules from evidence to action, with the entries' codes and wording and the
    model's classes and thresholds."""

    def __init__(
        self,
        issues: Sequence[KnownIssue],
        model: TrainedModel | None,
        matcher: IssueMatcher,
    ) -> None:
        self.model = model
        self._matcher = matcher
        self._code_of = matcher.code_of  # pattern value -> the bare error code it is
        # slug -> {pattern value: the literal every match of it holds}
        self._required = {
            c.issue.slug: {p.value: p.required for p in c.patterns} for c in matcher.compiled
        }
        self._codes = {i.slug: issue_codes(i) for i in issues}
        self._all_codes = frozenset().union(*self._codes.values())
        self._vocabulary = {i.slug: _entry_vocabulary(i) for i in issues}
        self._phrases = {i.slug: _entry_phrases(i) for i in issues}
        self._denial = {c.issue.slug: _denial(c.patterns) for c in matcher.compiled}
        self._class_index = {c: k for k, c in enumerate(model.classes)} if model else {}
        self._stacked = model is not None and model.report is not None
        self._no_text_p = (
            model.no_text_report_threshold()
            if model is not None and model.report is not None
            else NO_TEXT_ERROR_P
        )
        # Chosen in training so that few new reports quoting nothing become drafts.
        self._no_text_review = float(
            model.card.thresholds.get("_error", {}).get("no_text_review", NO_TEXT_REVIEW)
            if model is not None
            else NO_TEXT_REVIEW
        )

    def _prob(self, row: np.ndarray, slug: str) -> float:
        k = self._class_index.get(slug)
        return float(row[k]) if k is not None else 0.0

    def rule(
        self, prep: Prepared, row: np.ndarray, error_p: float, evidence: str | None = None
    ) -> Ruling:
        """What to do with a prepared post, given the model's issue probabilities
        (`row`), its error-report probability and the issue the error strings alone
        point to (`evidence`)."""
        reasons: list[str] = [f"error_p={error_p:.2f}"]
        top_label, top_p = self.top(row)
        if row.size:
            reasons.append(f"top={top_label}:{top_p:.2f}")
        has_text = has_error_text(prep.candidates)
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
            auto, review = self.thresholds(issue)
            disagree = row.size and top_label != issue and top_p >= auto and p_issue < review
            if len(prep.hits) > 1:
                reasons.append("patterns of several issues hit")
            if self._keyed_on_code(issue, prep.hits[issue]) and self._message_differs(prep, issue):
                # A relay or another service reusing the code with its own message (a
                # "quota" code that says "upstream load saturated"): not this issue.
                reasons.append(f"quoted message is not {issue}'s")
                return Ruling("escalate", None, error_p, True, reasons)
            if not strong and feature_shaped(prep.thread.title, prep.own):
                reasons.append("feature request")
                return Ruling("ignore", None, 1.0 - error_p, False, reasons)
            if self._denied(prep, issue):
                # "without finish_reason length": the member names the entry's field to
                # say it is absent, so the pattern read a denial.
                reasons.append(f"the post says {issue}'s signature is absent")
                action = "escalate" if is_error else "ignore"
                return Ruling(action, None, error_p, is_error, reasons)
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
                    return Ruling("ignore", None, 1.0 - error_p, False, reasons)
                action, confidence = "review", max(p_issue, 0.5)
            elif error_p < LOW_ERROR_P and not strong:
                # The error's words in a post that reads as a question or a discussion.
                reasons.append("reads as no error report")
                sure = error_p < NO_REPORT_P and len(prep.own) >= NO_REPORT_MIN_CHARS
                if not has_text or names_only(prep.candidates) or sure:
                    # Nothing quoted either, only the code's name, or a post that surely
                    # reports nothing: a question or a request about the topic, left alone.
                    return Ruling("ignore", None, 1.0 - error_p, False, reasons)
                action, confidence = "review", max(p_issue, 0.5)
            elif len(prep.hits) >= DIGEST_ISSUES:
                reasons.append(f"errors of {len(prep.hits)} known issues quoted: a digest?")
                action, confidence = "review", max(p_issue, 0.5)
            elif self._stacked and error_p < ERROR_P and not strong:
                # The error's words quoted in a post that may report nothing (a tip, a
                # digest, a question about the message): a public answer needs a report.
                reasons.append("may not be an error report")
                action, confidence = "review", max(p_issue, 0.5)
            else:
                action, confidence = "reply", max(PATTERN_CONFIDENCE, p_issue)
            is_error = True
        elif top_label != NOVEL and is_error and not prep.lookalike:
            auto, review = self.thresholds(top_label)
            foreign = self._foreign_code(prep, top_label)
            later = top_label in prep.later_hits
            if not has_text:
                # Nothing quoted: the text alone must make the issue clear, even for a draft.
                review = max(review, self._no_text_review)
            if foreign is not None and foreign not in self._all_codes:
                # The post quotes an error code no entry knows: a new error, however
                # alike its wording is to a known one.
                reasons.append(f"quoted code {foreign} is in no known issue")
                reasons.append(f"model guess {top_label}:{top_p:.2f}")
                action, confidence = "escalate", error_p
            elif foreign is not None and top_p >= review:
                reasons.append(f"quoted code {foreign} is not this issue's")
                action, issue, confidence = "review", top_label, top_p
            elif (named := self._foreign_name(prep, top_label)) is not None and top_p >= review:
                # "Unsupported parameter: 'logit_bias'" beside an entry about 'max_tokens':
                # the same message, about something else. A draft, not an answer.
                reasons.append(f"quoted name {named} is not this issue's")
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

        return Ruling(action, issue, confidence, is_error, reasons)

    def _foreign_code(self, prep: Prepared, slug: str) -> str | None:
        """A code the post quotes from an error body when none it quotes is one the
        entry names (None: no code quoted, or one of the entry's)."""
        return self._none_of_the_entrys(quoted_codes(prep.own), slug)

    def _foreign_name(self, prep: Prepared, slug: str) -> str | None:
        """A name (a parameter, a field) that the post's quoted error output puts in
        quotes when none it quotes is one the entry names anywhere."""
        named = {
            name
            for c in prep.candidates
            if c.kind in _QUOTED_KINDS
            for m in _QUOTED_NAME.finditer(c.text)
            if not OBJECT_ID.match(name := m.group(1).lower())
        }
        return self._none_of_the_entrys(named, slug)

    def _none_of_the_entrys(self, quoted: set[str], slug: str) -> str | None:
        """One of `quoted` when none of them is a code or name the entry knows."""
        if not quoted or quoted & self._codes.get(slug, frozenset()):
            return None
        return min(quoted)

    def _code_only(self, values: Sequence[str]) -> bool:
        """Every pattern that hit is a bare error code."""
        return bool(values) and all(self._code_of.get(v) for v in values)

    def _message_differs(self, prep: Prepared, slug: str) -> bool:
        """The post quotes an error body's message, and none of its messages speaks
        the entry's words (the entry's own wording, patterns and examples)."""
        messages = [c.text for c in prep.candidates if c.kind == "json"]
        # A JSON body quoted inline (`{"code": ..., "message": ...}`) is not parsed as
        # one: its message field is read all the same.
        messages += [
            m.group(1)
            for c in prep.candidates
            if c.kind != "json"
            for m in _MESSAGE_FIELD.finditer(c.text)
        ]
        if not messages:
            return False
        vocabulary = self._vocabulary[slug]
        for message in messages:
            words = [w for w in _MESSAGE_WORD.findall(message.lower()) if w not in _MESSAGE_STOP]
            if not words:
                return False  # nothing to compare (a bare code or a number)
            if sum(w in vocabulary for w in words) / len(words) < MESSAGE_SHARE:
                continue
            pairs = set(itertools.pairwise(words))
            if len(pairs) >= MESSAGE_PAIRS and not pairs & self._phrases[slug]:
                # The entry's words, never in the entry's order ("request body exceeds
                # gateway limit" against "maximum context length"): another message.
                continue
            return False
        return True

    def _keyed_on_code(self, slug: str, values: Sequence[str]) -> bool:
        """Every pattern that hit is a bare error code, or needs one of the entry's codes
        (`code: model_not_found`): a relay can quote it with a message of its own."""
        codes = self._codes.get(slug, frozenset())
        required = self._required.get(slug, {})
        return bool(values) and all(
            self._code_of.get(v) or required.get(v) in codes for v in values
        )

    def _denied(self, prep: Prepared, slug: str) -> bool:
        """The entry's patterns hit only through an identifier they anchor on, or a
        symptom word, that the post negates ("without finish_reason length", "the
        content is not empty")."""
        scan = f"{prep.thread.title.strip()}\n{prep.own}"
        blanked, n = self._denial[slug].subn(lambda m: " " * len(m.group(0)), scan)
        return n > 0 and slug not in self._matcher.hits(blanked)

    def _code_in_prose(self, prep: Prepared, values: Sequence[str]) -> bool:
        """Only bare error-code patterns hit, and the code is in no quoted error output."""
        if not self._code_only(values):
            return False
        quoted = "\n".join(c.text.lower() for c in prep.candidates if c.kind in _QUOTED_KINDS)
        return not any(self._code_of[v] in quoted for v in values)

    def top(self, row: np.ndarray) -> tuple[str, float]:
        if not row.size or self.model is None:
            return NOVEL, 0.0
        k = int(np.argmax(row))
        return self.model.classes[k], float(row[k])

    def thresholds(self, slug: str) -> tuple[float, float]:
        if self.model is None:
            return 1.0, 1.0
        return self.model.thresholds(slug)


def has_error_text(candidates: Sequence[ErrorCandidate]) -> bool:
    return any(c.kind != "title" and c.score >= EVIDENCE_SCORE for c in candidates)
