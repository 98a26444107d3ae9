"""Case-insensitive rules read faster as case-sensitive ones on lower-cased text.

Python's regex engine skips ahead on a pattern's possible first characters only when
the pattern is case-sensitive; under IGNORECASE every position tries every branch. For
a pattern whose letters are all lower-case ASCII, `folded(rx).search(fold(t))` finds a
match exactly where `rx.search(t)` does (same spans: `fold` keeps the length).
"""

from __future__ import annotations

import re

from bot.patterns import Rule, Source, gated

# Case-insensitive rules also match these non-ASCII letters where an ASCII one is
# written (Python's case folding); U+0130 is also the one character whose lower() is two.
CASE_TWINS = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0130": "I", "\u212a": "K"})


HAS_TWIN = re.compile("[\u017f\u0131\u0130\u212a]")


def fold(text: str) -> str:
    """`text` lower-cased with each case twin as its ASCII letter; same length."""
    if text.isascii() or not HAS_TWIN.search(text):  # translate() is slow: only when needed
        return text.lower()
    return text.translate(CASE_TWINS).lower()


def folded(regex: Rule) -> re.Pattern[str]:
    """The case-sensitive twin of an IGNORECASE pattern, to run on `fold(text)`, behind
    its start gate (bot.patterns.gated) where `re` has no prefix scan of its own.

    For patterns that bot.triage.patterns.foldable accepts, and for lower-case accented
    letters, which have no case twin either (tests check each rule).
    """
    return gated(Source(regex.pattern, regex.flags & ~re.IGNORECASE))
