"""Case-insensitive rules read faster as case-sensitive ones on lower-cased text.

Python's regex engine skips ahead on a pattern's possible first characters only when
the pattern is case-sensitive; under IGNORECASE every position tries every branch. For
a pattern whose letters are all lower-case ASCII, `folded(rx).search(fold(t))` finds a
match exactly where `rx.search(t)` does (same spans: `fold` keeps the length).
"""

from __future__ import annotations

import re
import re._constants as _c  # the stdlib's own regex parser
import re._parser as _p
from typing import Any

# Case-insensitive rules also match these non-ASCII letters where an ASCII one is
# written (Python's case folding); U+0130 is also the one character whose lower() is two.
CASE_TWINS = str.maketrans({"\u017f": "s", "\u0131": "i", "\u0130": "I", "\u212a": "K"})


HAS_TWIN = re.compile("[\u017f\u0131\u0130\u212a]")


def fold(text: str) -> str:
    """`text` lower-cased with each case twin as its ASCII letter; same length."""
    if text.isascii() or not HAS_TWIN.search(text):  # translate() is slow: only when needed
        return text.lower()
    return text.translate(CASE_TWINS).lower()


def folded(regex: re.Pattern[str]) -> re.Pattern[str]:
    """The case-sensitive twin of an IGNORECASE pattern, to run on `fold(text)`.

    Only for patterns whose literal letters are lower-case ASCII (tests check each).
    """
    return re.compile(regex.pattern, regex.flags & ~re.IGNORECASE)


def _plain(code: int) -> bool:
    """A pattern character that folded text matches as IGNORECASE matches the original:
    a lower-case ASCII letter or any uncased character."""
    ch = chr(code)
    if ch.isascii():
        return not ch.isupper()
    return ch.lower() == ch == ch.upper()


def _walk(parsed: Any) -> bool:
    for op, av in parsed:
        if op in (_c.LITERAL, _c.NOT_LITERAL):
            if not _plain(av):
                return False
        elif op is _c.IN:
            for item_op, item in av:
                if item_op is _c.LITERAL and not _plain(item):
                    return False
                if item_op is _c.RANGE:
                    lo, hi = item
                    if hi - lo > 256 or not all(_plain(c) for c in range(lo, hi + 1)):
                        return False
        elif op is _c.BRANCH:
            if not all(_walk(branch) for branch in av[1]):
                return False
        elif op is _c.SUBPATTERN:
            if av[2] & re.IGNORECASE or not _walk(av[3]):  # a case-sensitive part
                return False
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            if not _walk(av[2]):
                return False
        elif op in (_c.ASSERT, _c.ASSERT_NOT):
            if not _walk(av[1]):
                return False
        elif op is _c.ATOMIC_GROUP:
            if not _walk(av):
                return False
        elif op not in (_c.AT, _c.ANY, _c.CATEGORY):
            return False  # back-references and anything unforeseen: keep the original
    return True


def foldable(regex: re.Pattern[str]) -> bool:
    """True when `folded(regex)` on `fold(text)` matches exactly where `regex` does on
    `text`: a case-insensitive pattern whose letters are all lower-case ASCII."""
    if not regex.flags & re.IGNORECASE or regex.flags & re.ASCII:
        return False
    try:
        parsed = _p.parse(regex.pattern, regex.flags)
    except Exception:  # noqa: BLE001 - private parser: any failure keeps the original
        return False
    return _walk(parsed)
