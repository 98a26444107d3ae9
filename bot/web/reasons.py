"""The triage and runner reasons (`error_p=0.93`, `pattern:slug:text`...) in words for staff.

The raw reason stays with each sentence (shown on hover and to screen readers on
request) because it is what a developer searches the code for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    text: str  # for people
    raw: str  # as recorded


def _pct(value: str) -> str:
    try:
        return f"{float(value) * 100:.0f} %"
    except ValueError:
        return value


def _error_p(m: re.Match[str]) -> str:
    p = float(m.group(1))
    return f"{'reads as' if p >= 0.5 else 'does not read as'} an error report ({_pct(m.group(1))})"


_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"^error_p=([\d.]+)$"), _error_p),
    (re.compile(r"^top=(\S+):([\d.]+)$"), lambda m: f"best model match: {m[1]} ({_pct(m[2])})"),
    (
        re.compile(r"^model guess (\S+):([\d.]+)$"),
        lambda m: f"the model's guess was {m[1]} ({_pct(m[2])})",
    ),
    (
        re.compile(r"^pattern:([^:]+):(.*)$", re.S),
        lambda m: f"quotes “{m[2]}”, an error pattern of {m[1]}",
    ),
    (
        re.compile(r"^p=([\d.]+)>=auto ([\d.]+)$"),
        lambda m: f"sure enough to reply: {_pct(m[1])}, the bar is {_pct(m[2])}",
    ),
    (
        re.compile(r"^p=([\d.]+)>=review ([\d.]+)$"),
        lambda m: (
            f"sure enough for a draft, not a reply: {_pct(m[1])}, the draft bar is {_pct(m[2])}"
        ),
    ),
    (re.compile(r"^lookalike:(\S+)$"), lambda m: f"looks like {m[1]} but differs from it"),
    (
        re.compile(r"^later-post pattern:(\S+)$"),
        lambda m: f"a later post in the thread quotes an error of {m[1]}",
    ),
    (re.compile(r"^model prefers (\S+)$"), lambda m: f"the model prefers {m[1]}"),
    (
        re.compile(r"^cluster (\d+) \((\d+) reports?\)$"),
        lambda m: f"grouped with similar reports (cluster #{m[1]}, {m[2]} so far)",
    ),
    (
        re.compile(r"^staff notified at (\d+)$"),
        lambda m: f"staff were told when the group reached {m[1]} reports",
    ),
    (re.compile(r"^own post$"), lambda m: "the bot's own post"),
    (re.compile(r"^error: (.*)$", re.S), lambda m: f"could not be decided: {m[1]}"),
    (re.compile(r"^no text$"), lambda m: "nothing written apart from quotes"),
    (re.compile(r"^secret in post$"), lambda m: "the post contains an API key or other secret"),
]


def humanise(raw: object) -> Reason:
    text = str(raw)
    for pattern, words in _RULES:
        match = pattern.match(text)
        if match:
            return Reason(words(match), text)
    return Reason(text, text)


def humanise_all(raws: Iterable[object]) -> list[Reason]:
    return [humanise(r) for r in raws]
