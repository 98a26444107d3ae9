"""The speed shortcuts (caches, cheap pre-checks) give exactly what the full work gives."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.known_issues import load_dir
from bot.replies import neutralise as neutralise_mod
from bot.triage import advice, casefold, engine, matching
from bot.triage.training_data import load_training_dir

ROOT = Path(__file__).resolve().parents[1]


def _one_line_slow(text: str) -> str:
    cleaned = []
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
            cleaned.append(" " if ch in "\t\n\r\x0b\x0c\u2028\u2029\x85" else "")
        else:
            cleaned.append(ch)
    return " ".join("".join(cleaned).split())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_one_line_fast_path(text: str) -> None:
    assert neutralise_mod.one_line(text) == _one_line_slow(text)
    ascii_text = text.encode("ascii", "ignore").decode()
    assert neutralise_mod.one_line(ascii_text) == _one_line_slow(ascii_text)


def _style_score_reference(text: str) -> float:
    """The one-pass form: every line judged in order, generic headings included."""
    specific = generic = 0.0
    template = 0
    seen: set[str] = set()
    for line in text.splitlines():
        cleaned = advice._clean_line(line).strip(" :*_#").lower()
        cleaned = advice.re.sub(r"^[^\w]+", "", cleaned)
        if not cleaned or cleaned in seen:
            continue
        if advice._TEMPLATE_HEADINGS.match(cleaned):
            template += 1
            continue
        if advice._STYLE_HEADINGS.match(cleaned) and len(cleaned) <= 70:
            seen.add(cleaned)
            specific += 1.0
        elif advice._is_heading_line(line):
            seen.add(cleaned)
            generic += advice.GENERIC_HEADING_WEIGHT
    if template >= 2:
        return 0.0
    specific += len(advice._STYLE_PHRASES.findall(text))
    if not specific:
        return 0.0
    return specific + min(generic, advice.GENERIC_HEADING_CAP)


_STYLE_LINES = st.sampled_from(
    [
        "## Why the Error Occurs",
        "Why the error occurs",
        "**Workaround**",
        "Workaround:",
        "### Next Steps",
        "Key Points",
        "## Model Settings",
        "Model Settings",
        "**Rate Limits Explained**",
        "- **Check Your Key**",
        "1. Rotate the key.",
        "Steps to reproduce",
        "Expected behavior",
        "Does this help?",
        "I hope this helps!",
        "The call fails with 429.",
        "> quoted line",
        "",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_STYLE_LINES, max_size=12))
def test_style_score_judges_generic_headings_last_with_the_same_result(lines: list[str]) -> None:
    text = "\n".join(lines)
    assert advice.style_score(text) == _style_score_reference(text)


def _twins(text: str) -> str:
    """The same words with the non-ASCII letters case-insensitive rules also match."""
    return text.replace("s", "\u017f").replace("i", "\u0131").replace("K", "\u212a")


_STYLE_PIECES = st.one_of(
    _STYLE_LINES,
    _STYLE_LINES.map(_twins),
    _STYLE_LINES.map(str.upper),
    st.sampled_from(
        [
            "[quote=a]Why this happens",
            "[quote=x\nSummary\ny]",
            "> 1. **Root Cause**",
            "  # 2) Troubleshooting Steps:",
            "_Final Note_",
            "Work*around*",
            "in**summary**",
            "Can you check the org id?",
            "Let me know if that works",
            "feel free to ask",
            "Certainly! Here is how you can fix it",
            "As an AI, I cannot",
            "\u2028Conclusion",
            "\rNext steps\r",
            "\x0bHow to fix it",
            "\u2029Key takeaways",
        ]
    ),
    st.text(alphabet="abwhy *_#>[]:.1\n\u2028\u017f\u0131", max_size=12),
)


# ---------------------------------------------------------------- folded scans

_FOLD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("aAiIsSkK \n:.-_'’\u017f\u0131\u0130\u212a\u00c9\u00df")),
        st.characters(),
    ),
    max_size=40,
)
_PHRASES = st.sampled_from(
    [
        "I asked ChatGPT and it told me",
        "According to the AI assistant:",
        "From Claude: use max_tokens",
        "GPT-4o says upgrade",
        "LLM-generated",
        "rate limit",
        "You exceeded your current quota",
        "Azure OpenAI",
        "[Feature] add streaming",
        "Is your feature request related to a problem",
        "Error 429",
        "Not Found",
        "",
    ]
)


def _mix(pieces: list[str], twins: bool, upper: bool) -> str:
    text = " ".join(pieces)
    if upper:
        text = text.upper()
    return _twins(text) if twins else text


_FOLDED_RULES = [
    engine._OTHER_PROVIDER,
    engine._FEATURE_TITLE,
    engine._FEATURE_BODY,
    engine._TITLE_ERRORISH,
]


def test_folded_rules_are_foldable_and_others_are_not() -> None:
    assert all(patterns.foldable(rx) for rx in _FOLDED_RULES)
    for pattern in ("Error", r"(a)\1", "(?-i:a)b", "[A-Z]x", "\u00e9"):
        assert not patterns.foldable(re.compile(pattern, re.IGNORECASE))
    assert not patterns.foldable(re.compile("abc"))  # already case-sensitive


@settings(max_examples=300, deadline=None)
@given(_FOLD_TEXT)
def test_fold_keeps_the_length(text: str) -> None:
    assert len(casefold.fold(text)) == len(text)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(_PHRASES, _FOLD_TEXT), max_size=6), st.booleans(), st.booleans())
def test_folded_rules_match_where_the_originals_do(
    pieces: list[str], twins: bool, upper: bool
) -> None:
    text = _mix(pieces, twins, upper)
    low = casefold.fold(text)
    for rx in _FOLDED_RULES:
        want = rx.search(text)
        got = casefold.folded(rx).search(low)
        assert (got and got.span()) == (want and want.span())
        assert [m.span() for m in casefold.folded(rx).finditer(low)] == [
            m.span() for m in rx.finditer(text)
        ]
    best = advice._any_attribution().search(text)
    got = advice._attribution(text)
    assert (got and (got.span(), got.group(0))) == (best and (best.span(), best.group(0)))


@pytest.fixture(scope="module")
def pattern_triager() -> engine.Triager:
    return engine.Triager(load_dir(ROOT / "data" / "known_issues"), None)


def _hits_reference(
    triager: engine.Triager, text: str
) -> tuple[dict[str, list[str]], dict[str, str]]:
    """Every pattern's original regex on the original text, no filter, no folding."""
    hits: dict[str, list[str]] = {}
    matched: dict[str, str] = {}
    for compiled in triager._matcher.compiled:
        for p in compiled.patterns:
            m = p.regex.search(text)
            if m:
                hits.setdefault(compiled.issue.slug, []).append(p.value)
                found = m.group(0).strip()
                if 6 <= len(found) <= matching.MAX_MATCH_SHOWN and "\n" not in found:
                    matched.setdefault(compiled.issue.slug, found)
    return hits, matched


def test_most_known_issue_patterns_scan_folded_text(pattern_triager: engine.Triager) -> None:
    compiled = [p for c in pattern_triager._matcher.compiled for p in c.patterns]
    assert sum(p.folded is not None for p in compiled) >= len(compiled) // 2
    for p in compiled:
        assert (p.folded is not None) == patterns.foldable(p.regex)


def test_pattern_hits_on_folded_text_match_the_full_scan(pattern_triager: engine.Triager) -> None:
    examples = load_training_dir(ROOT / "data" / "training")
    texts = [f"{e.title}\n{e.text}" for e in examples]
    texts += [_twins(t) for t in texts[::7]] + [t.upper() for t in texts[::11]]
    hit_any = 0
    for text in texts:
        matched: dict[str, str] = {}
        hits = pattern_triager._matcher.hits(text, matched)
        assert (hits, matched) == _hits_reference(pattern_triager, text)
        hit_any += bool(hits)
    assert hit_any > len(examples) // 4  # the comparison covers real hits


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "plain",
                "\r\n",
                "\n",
                "\u2028",
                "> ",
                "🤖 Triage bot",
                "[quote=",
                "[QUOTE=",
                "triagebot",
                '"',
                "]",
                "[/quote]",
                "ChatGPT says",
                "x",
            ]
        ),
        max_size=10,
    )
)
def test_usernames_change_nothing_without_a_quote_tag(pieces: list[str]) -> None:
    raw = "".join(pieces)
    plain = advice._strip_bot_quotes(raw, ())
    named = advice._strip_bot_quotes(raw, advice.DEFAULT_BOT_USERNAMES)
    if "[quote" not in raw.lower():
        assert plain == named


def test_literal_gates_of_the_post_rules_never_hide_a_match() -> None:
    gated = (
        (engine._OTHER_PROVIDER_FOLDED, engine._OTHER_PROVIDER_NEEDS),
        (engine._FEATURE_BODY_FOLDED, engine._FEATURE_BODY_NEEDS),
    )
    examples = load_training_dir(ROOT / "data" / "training")
    texts = [f"{e.title}\n{e.text}" for e in examples]
    texts += [
        "Works on Azure OpenAI but not here",
        "## Motivation\nWe need retries",
        "**Is your feature request related to a problem?** yes",
        "VERTEX AI and Hugging Face",
    ]
    found = 0
    for rx, gate in gated:
        assert gate.needs  # the gate is in effect
        for text in texts:
            low = casefold.fold(text)
            want = rx.search(low)
            got = rx.search(low) if gate.may_match(text, low) else None
            assert (got and got.span()) == (want and want.span())
            found += bool(want)
    assert found >= 4  # the comparison covers real matches
