"""Find and redact credentials that members paste into posts.

A pasted key is a live credential in a public thread: the bot must never echo it,
and staff must hear about it so the post can be hidden. Detection favours recall on
key shapes that are unmistakable (provider prefixes with long random bodies) and
leaves masked or placeholder keys (`sk-...abcd`, `sk-XXXX`, `sk-proj-****`) alone,
because flagging every tutorial placeholder would bury moderators.

`SecretMatch` carries only the kind and the span, never the value, so that a match
can be logged or stored without leaking what it found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.patterns import LiteralGate, required_literals
from bot.triage.casefold import fold

# Ordered: more specific shapes first so that `sk-proj-...` is reported as a project
# key, not as a generic `sk-` key. Each regex's group "body" is the random part whose
# shape decides whether the value is a real key or a placeholder.
_RULES: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    (
        "openai_project_key",
        "sk-proj-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sk-proj-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "openai_service_key",
        "sk-svcacct-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sk-svcacct-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "openai_admin_key",
        "sk-admin-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sk-admin-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "anthropic_key",
        "sk-ant-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "openai_key",
        "sk-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sk-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "session_token",
        "sess-…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])sess-(?P<body>[A-Za-z0-9_-]{20,})"),
    ),
    (
        "bearer_token",
        "Bearer …[redacted]",
        re.compile(r"(?i)\bbearer[ \t]+(?P<body>[A-Za-z0-9_\-.~+/]{16,}=*)"),
    ),
    (
        "github_token",
        "gh…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_])(?:gh[pousr]_|github_pat_)(?P<body>[A-Za-z0-9_]{30,})"),
    ),
    (
        "google_api_key",
        "AIza…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])AIza(?P<body>[A-Za-z0-9_-]{30,})"),
    ),
    (
        "aws_access_key",
        "AKIA…[redacted]",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Z0-9])"),
    ),
    (
        "slack_token",
        "xox…[redacted]",
        re.compile(r"(?<![A-Za-z0-9_-])xox[abposr]-(?P<body>[A-Za-z0-9-]{20,})"),
    ),
    (
        # An unrecognised shape assigned to a secret-looking name: OPENAI_API_KEY=...,
        # "api_key": "...", password: ... (the name stays, only the value is replaced).
        "assigned_secret",
        "…[redacted]",
        re.compile(
            r"(?i)(?<![A-Za-z0-9])(?:[A-Z0-9_]*_)?(?:api[_-]?key|secret(?:[_-]?key)?|"
            r"access[_-]?token|auth[_-]?token|password|passwd|client[_-]?secret)"
            r"[\"']?\s*[:=]\s*[\"']?(?P<body>[A-Za-z0-9_\-./+=]{20,})"
        ),
    ),
    (
        "jwt",
        "eyJ…[redacted]",
        re.compile(
            r"(?<![A-Za-z0-9_-])eyJ(?P<body>[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}"
            r"\.[A-Za-z0-9_-]{10,})"
        ),
    ),
)

# Private keys are found by their armour lines rather than one regex, so that a post
# with many BEGIN lines and no END stays linear. A paste cut before its END line is
# still a leak: it runs to the next BEGIN line or PRIVATE_KEY_MAX_CHARS.
_PEM_BEGIN = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")
_PEM_END = re.compile(r"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----")
PRIVATE_KEY_MAX_CHARS = 8000

KINDS: tuple[str, ...] = ("private_key", *(kind for kind, _, _ in _RULES))
PLACEHOLDERS: dict[str, str] = {
    "private_key": "-----BEGIN PRIVATE KEY-----[redacted]",
    **{kind: placeholder for kind, placeholder, _ in _RULES},
}

# Human wording for the notice to the member, by kind.
KIND_LABELS: dict[str, str] = {
    "private_key": "a private key",
    "openai_project_key": "an API key",
    "openai_service_key": "a service-account API key",
    "openai_admin_key": "an admin API key",
    "anthropic_key": "an API key",
    "openai_key": "an API key",
    "session_token": "a session token",
    "bearer_token": "a bearer token",
    "github_token": "a GitHub token",
    "google_api_key": "a Google API key",
    "aws_access_key": "an AWS access key",
    "slack_token": "a Slack token",
    "jwt": "an access token (JWT)",
    "assigned_secret": "a secret value",
}

_PLACEHOLDER_CHARS = set("xX*.…#")


@dataclass(frozen=True)
class SecretMatch:
    kind: str
    start: int
    end: int

    def __repr__(self) -> str:  # never include the value, even by accident
        return f"SecretMatch(kind={self.kind!r}, start={self.start}, end={self.end})"


_TUTORIAL_WORDS = re.compile(r"your|api|key|here|secret|token|example|placeholder|replace")


def _looks_real(kind: str, body: str) -> bool:
    """False for masked and placeholder values, which are safe to echo and not worth a flag."""
    core = body.replace("-", "").replace("_", "")
    if not core:
        return False
    # Placeholders are long runs of one character: sk-xxxxxxxx..., sk-proj-000000...
    if max(core.count(c) for c in set(core)) / len(core) > 0.6:
        return False
    if sum(c in _PLACEHOLDER_CHARS for c in core) / len(core) > 0.5:
        return False
    # Tutorial text such as sk-your-api-key-goes-here-now is words, not randomness.
    # A random key can contain "api" or "key" by chance, so the words must make up a
    # good part of the body before it counts as tutorial text.
    lowered = body.lower()
    words = _TUTORIAL_WORDS.findall(lowered)
    wordy = sum(len(w) for w in words) / len(core) >= 0.3
    if wordy and not any(c.isdigit() for c in body):
        return False
    # A real key body mixes character classes; a single long word does not.
    classes = sum(
        (
            any(c.islower() for c in core),
            any(c.isupper() for c in core),
            any(c.isdigit() for c in core),
        )
    )
    return classes >= 2 or len(core) >= 40


# A rule runs only on text holding one of the literals it requires (its prefix, or the
# names a value is assigned to), from one pass over the folded text (derived from the
# rule: bot.triage.patterns).
_GATE = LiteralGate.build(
    [("private_key", required_literals(_PEM_BEGIN))]
    + [(kind, required_literals(regex)) for kind, _, regex in _RULES]
)


def find_secrets(text: str) -> list[SecretMatch]:
    """Every real-looking credential in `text`, in order, without overlaps."""
    admitted = _GATE.candidates(fold(text))
    found: list[SecretMatch] = list(_private_keys(text)) if "private_key" in admitted else []
    taken: list[tuple[int, int]] = [(m.start, m.end) for m in found]
    for kind, _placeholder, regex in _RULES:
        if kind not in admitted:
            continue
        for match in regex.finditer(text):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            if not _looks_real(kind, match.group("body")):
                continue
            if kind == "assigned_secret":
                start = match.start("body")  # keep the variable name readable
            taken.append((start, end))
            found.append(SecretMatch(kind=kind, start=start, end=end))
    found.sort(key=lambda m: m.start)
    return found


def _private_keys(text: str) -> list[SecretMatch]:
    found: list[SecretMatch] = []
    begins = list(_PEM_BEGIN.finditer(text))
    for i, begin in enumerate(begins):
        if found and begin.start() < found[-1].end:
            continue
        limit = min(
            begins[i + 1].start() if i + 1 < len(begins) else len(text),
            begin.end() + PRIVATE_KEY_MAX_CHARS,
        )
        end = _PEM_END.search(text, begin.end(), limit)
        stop = end.end() if end else limit
        body = text[begin.end() : end.start() if end else stop]
        if len("".join(body.split())) >= 16:
            found.append(SecretMatch(kind="private_key", start=begin.start(), end=stop))
    return found


def has_secret(text: str) -> bool:
    return bool(find_secrets(text))


def secret_kinds(text: str) -> list[str]:
    """The distinct kinds found, in order of first appearance."""
    kinds: list[str] = []
    for match in find_secrets(text):
        if match.kind not in kinds:
            kinds.append(match.kind)
    return kinds


def redact(text: str) -> str:
    """`text` with every credential replaced by a placeholder such as `sk-…[redacted]`."""
    matches = find_secrets(text)
    if not matches:
        return text
    parts: list[str] = []
    pos = 0
    for match in matches:
        parts.append(text[pos : match.start])
        parts.append(PLACEHOLDERS[match.kind])
        pos = match.end
    parts.append(text[pos:])
    return "".join(parts)
