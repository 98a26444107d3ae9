"""Known-issue patterns matched against a post: compiled once, gated in one pass.

Each pattern is the maintainer's regex or literal as written; its fast paths (the
literals a match needs, the folded twin) are derived by bot.triage.patterns.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot import patterns
from bot.known_issues import KnownIssue, Pattern
from bot.patterns import LiteralGate
from bot.triage.casefold import fold, folded

MAX_MATCH_SHOWN = 300


@dataclass(frozen=True)
class CompiledPattern:
    value: str
    source: patterns.Source
    # A lower-cased substring every match must contain: a cheap `in` test skips the
    # regex (some scan the whole post) on the many posts that cannot match.
    required: str | None
    # The case-sensitive twin to scan folded text with, when the pattern allows it.
    folded: re.Pattern[str] | None = None
    # Without a required substring: one of these must be in the folded text.
    any_of: tuple[str, ...] | None = None

    @functools.cached_property
    def regex(self) -> re.Pattern[str]:
        # The rule as written: run only where its folded twin found a match (or where it
        # has none), so most never need compiling.
        return self.source.compile()


@dataclass(frozen=True)
class CompiledIssue:
    issue: KnownIssue
    patterns: tuple[CompiledPattern, ...]


def required_substring(pattern: Pattern) -> str | None:
    """The longest lower-cased ASCII literal (3 characters or more) written in the
    pattern outside any choice: every match holds it."""
    if pattern.kind == "literal":
        value = pattern.value.lower()
        return value if value.isascii() else None
    # ASCII only: lower() is exact there, so the filter never hides a real match.
    runs = [r.lower() for r in patterns.literal_runs(pattern.source()) if r.isascii()]
    return max((r for r in runs if len(r) >= 3), key=len, default=None)


_CODE = re.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


def code_only(regex: re.Pattern[str], required: str | None) -> str | None:
    """The error code a pattern consists of (`\\binsufficient_quota\\b`), else None.

    Such a pattern matches any mention of the code, so alone it proves a report only
    when the code stands in quoted error output. A pattern that the bare code
    satisfies in full is such a pattern; one that also needs context (a JSON key, a
    number, other words) is not.
    """
    if required is None or not _CODE.match(required):
        return None
    return required if regex.fullmatch(required) else None


def compile_issue(issue: KnownIssue) -> CompiledIssue:
    return CompiledIssue(
        issue,
        tuple(
            CompiledPattern(
                p.value,
                rx,
                required,
                folded(rx) if patterns.foldable(rx) else None,
                patterns.required_literals(rx) if required is None else None,
            )
            for p in issue.patterns
            for rx, required in ((p.source(), required_substring(p)),)
        ),
    )


@dataclass(frozen=True)
class PatternGate:
    """Which patterns a folded text may match, from one pass of an automaton over the
    literals all patterns require (bot.triage.patterns) instead of a test per pattern."""

    patterns: tuple[tuple[str, CompiledPattern], ...]  # (slug, pattern), entry order
    gate: LiteralGate[int]

    @classmethod
    def build(cls, compiled: Sequence[CompiledIssue]) -> PatternGate:
        found = tuple((c.issue.slug, p) for c in compiled for p in c.patterns)
        # A required substring must be present; of any_of, one suffices.
        return cls(
            found,
            LiteralGate.build(
                (k, (p.required,) if p.required is not None else p.any_of)
                for k, (_slug, p) in enumerate(found)
            ),
        )

    def candidates(self, lower: str) -> list[tuple[str, CompiledPattern]]:
        """The patterns whose literal filter `lower` passes, in entry order."""
        return [self.patterns[k] for k in sorted(self.gate.candidates(lower))]


class IssueMatcher:
    """Every known issue's patterns, compiled; which of them a text hits."""

    def __init__(self, issues: Sequence[KnownIssue]) -> None:
        self.compiled = tuple(compile_issue(i) for i in issues)
        self._gate = PatternGate.build(self.compiled)
        # pattern value -> the bare error code it consists of (see code_only)
        self.code_of = {
            p.value: code
            for c in self.compiled
            for p in c.patterns
            if (code := code_only(p.folded or p.regex, p.required)) is not None
        }

    def hits(
        self, text: str, matched: dict[str, str] | None = None, low: str | None = None
    ) -> dict[str, list[str]]:
        """slug -> pattern values that hit; `matched` collects a short matched text.

        `low` is fold(text) when the caller has it. It holds every ASCII substring of
        text.lower() (twins only add ASCII letters), so the required-substring filter
        hides no match.
        """
        hits: dict[str, list[str]] = {}
        lower = fold(text) if low is None else low
        for slug, p in self._gate.candidates(lower):
            if p.folded is not None:
                # The folded scan finds where the pattern matches; the original, run
                # from there, gives the same match over the member's own text.
                found = p.folded.search(lower)
                m = p.regex.search(text, found.start()) if found else None
            else:
                m = p.regex.search(text)
            if m:
                hits.setdefault(slug, []).append(p.value)
                shown = m.group(0).strip()
                # Patterns anchored at the start match whole paragraphs: show only a
                # one-line match.
                if matched is not None and 6 <= len(shown) <= MAX_MATCH_SHOWN and "\n" not in shown:
                    matched.setdefault(slug, shown)
        return hits
