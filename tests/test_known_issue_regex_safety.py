"""Maintainers' regexes run on every post with no time limit: shapes that backtrack
exponentially are refused when an entry is validated."""

from __future__ import annotations

import re

import pytest

from bot.patterns import nested_unbounded, parse


@pytest.mark.parametrize(
    "regex",
    [r"(a+)+b", r"(?:\w+\s*)*x", r"((ab)*)*", r"(?:a\w*)+", r"(x+x+)+y", r"(?:[a-z-]+\s?)*q"],
)
def test_nested_unbounded_repeats_are_refused(regex: str) -> None:
    assert nested_unbounded(parse(re.compile(regex, re.IGNORECASE)))


@pytest.mark.parametrize(
    "regex",
    [
        r"(?:\S+\s+)?is active",  # the outer repeat is bounded
        r"(\.\d+)*",  # every repetition starts with a dot \d cannot take
        r"(is\s+|are\s+|was\s+)*null",  # each branch starts with a letter \s cannot take
        r"(?:-\w+)*",
        r"(a|b)*c",
        r"(?:x{1,3})+",
        r"(?:\w+\s*)*+x",  # possessive: no backtracking into it
        r"\A(?=[\s\S]*?\bincomplete\b)(?=[\s\S]*?\bmax_output_tokens\b)",
    ],
)
def test_safe_repeats_are_accepted(regex: str) -> None:
    assert not nested_unbounded(parse(re.compile(regex, re.IGNORECASE)))
