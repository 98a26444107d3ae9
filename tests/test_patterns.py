"""Fast paths derived from a rule (bot.triage.patterns) agree with the plain rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.known_issues import load_dir
from bot.triage import advice, engine, extract, secrets
from bot.triage.casefold import fold

ROOT = Path(__file__).resolve().parents[1]
_ISSUES = load_dir(ROOT / "data" / "known_issues")


def _module_rules() -> list[re.Pattern[str]]:
    rules = []
    for module in (advice, engine, extract, secrets):
        for value in vars(module).values():
            items = value if isinstance(value, tuple) else (value,)
            rules += [r for r in items if isinstance(r, re.Pattern) and isinstance(r.pattern, str)]
            rules += [r.compile() for r in items if isinstance(r, patterns.Source)]
    return rules


_RULES = _module_rules() + [p.compile() for i in _ISSUES for p in i.patterns]
_RULES += [r for i in _ISSUES for m in i.misconceptions for r in m.compiled()]


def _pieces() -> list[str]:
    found = {"\u212a", "\u017f", "\u0131", "\u0130", " ", "\n", "'", ":", "-", "_", "."}
    for rule in _RULES:
        for run in patterns.literal_runs(rule):
            found.add(run)
            found.add(run.upper())
            found.add(run[: len(run) // 2])
    return sorted(found)


_TEXT = st.lists(st.sampled_from(_pieces()), max_size=10).map("".join)


def test_every_project_rule_is_read() -> None:
    # Verbose mode is the one syntax the analysis leaves alone; no rule here uses it.
    assert all(patterns.parse(rule) is not None for rule in _RULES)


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from(_RULES))
def test_required_literals_never_hide_a_match(text: str, rule: re.Pattern[str]) -> None:
    needed = patterns.required_literals(rule)
    if needed is not None and rule.search(text):
        low = fold(text)
        assert any(s in low for s in needed)


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from(_RULES))
def test_prefilters_never_hide_a_match(text: str, rule: re.Pattern[str]) -> None:
    if rule.search(text):
        assert patterns.Prefilter.of(rule).may_match(text, fold(text))


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from([r for r in _RULES if patterns.foldable(r)]))
def test_folded_rules_match_where_the_originals_do(text: str, rule: re.Pattern[str]) -> None:
    twin = re.compile(rule.pattern, rule.flags & ~re.IGNORECASE)
    want = [m.span() for m in rule.finditer(text)]
    assert [m.span() for m in twin.finditer(fold(text))] == want


@settings(max_examples=300, deadline=None)
@given(_TEXT)
def test_literal_gate_admits_every_rule_that_matches(text: str) -> None:
    admitted = _GATE.candidates(fold(text))
    assert {k for k, r in enumerate(_RULES) if r.search(text)} <= admitted


_GATE = patterns.LiteralGate.build((k, patterns.required_literals(r)) for k, r in enumerate(_RULES))


@settings(max_examples=400, deadline=None)
@given(_TEXT)
def test_attribution_scan_is_the_plain_rule(text: str) -> None:
    got = advice._attribution(text)
    want = advice._any_attribution().search(text)
    assert (got and got.span()) == (want and want.span())


def test_the_parse_follows_the_compiled_pattern() -> None:
    rule = re.compile(r"(a)(?:b|bc)(?P<x>[^\]])\1")
    items = patterns.parse(rule)
    assert [op for op, _ in items][:2] == [patterns.SUBPATTERN, patterns.LITERAL]
    with pytest.raises(patterns.Unsupported):
        patterns.parse(re.compile("a b  # spaced", re.VERBOSE))


def test_required_literals_pick_one_per_alternative() -> None:
    assert patterns.required_literals(re.compile(r"(?:failed dependency|mcp)", re.I)) == (
        "failed dependency",
        "mcp",
    )
    assert patterns.required_literals(re.compile(r"(?:Rate|TPM) limit", re.I)) == (
        "rate limit",
        "tpm limit",
    )
    assert patterns.required_literals(re.compile(r"api[_-]?key", re.I)) == (
        "api-key",
        "api_key",
        "apikey",
    )
    assert patterns.required_literals(re.compile(r"\bai\b", re.I)) is None  # too common
    assert patterns.required_literals(re.compile(r"(?=.*\bquota\b)", re.I)) == ("quota",)
    assert patterns.required_literals(re.compile(r"(?!quota)x{3}", re.I)) is None
    # A case-sensitive rule's prefilter keeps the case as written; both parts count.
    needs = patterns.Prefilter.of(re.compile(r"(?:Error|Failure): \d+"))
    assert needs.needs == (("Error: ", "Failure: "),) and not needs.folded  # one implies the other
    assert not needs.may_match("error: 5", "error: 5")


_GATED = [(r, g) for r in _RULES if (g := patterns.gated(r)) is not r]


def test_most_project_rules_get_a_start_gate() -> None:
    assert len(_GATED) > len(_RULES) // 3


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.sampled_from(_GATED))
def test_start_gates_never_move_a_match(
    text: str, pair: tuple[re.Pattern[str], re.Pattern[str]]
) -> None:
    rule, gated = pair
    assert [m.span() for m in gated.finditer(text)] == [m.span() for m in rule.finditer(text)]


def test_a_rule_opening_with_a_literal_keeps_the_prefix_scan_of_re() -> None:
    literal = re.compile(r"error: \d+")
    assert patterns.gated(literal) is literal
    flagged = patterns.gated(re.compile(r"(?m)^\s*(?:from|via)\b"))
    assert flagged.pattern.startswith("(?m)(?=")  # global flags stay first


def test_start_gates_name_the_first_character_or_nothing() -> None:
    def gate(source: str, flags: int = 0) -> str | None:
        return patterns.start_gate(re.compile(source, flags))

    assert gate(r"\b(?:never|no\s+longer)|^\s*how") == r"(?=\b[n]|^[\sh])"
    assert gate(r"(?:\xbf|\b)(?:c|q)") == r"(?=[\xbf]|\b[cq])"
    assert gate(r"x?\d+y") == r"(?=[\dx])"
    assert gate(r"[a-c]+|\u4e00") == "(?=[\u4e00a-c])"
    assert gate("a*") is None  # can match the empty string
    assert gate("a?") is None
    assert gate("[^a]b") is None  # a negated class
    assert gate("(?i:a)b") is None  # a part with its own flags
    assert gate(r"\Ba") is None and gate(r"(?=a)a") is None and gate(".a") is None
