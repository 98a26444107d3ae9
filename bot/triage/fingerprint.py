"""Normalise error strings and fingerprint them, Sentry-style.

Ordered, named rules replace the parts of an error that vary between members (ids,
numbers, keys, e-mails, model names...) with placeholders, so that two reports of
the same error get the same fingerprint. Before the rules run, an allow-list of
domain tokens (scope names, parameter names, error codes, HTTP statuses) is set
aside so that no rule can blur what makes one error different from another; the
tokens are put back afterwards. The normalised form is kept to show staff why posts
were grouped.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

FINGERPRINT_LEN = 16


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern[str]
    placeholder: str
    # Lower-case substrings one of which every match contains ("0" stands for any
    # digit): a cheap test that skips the regex on most error strings. Empty: always run.
    guard: tuple[str, ...] = ()


def _rule(name: str, regex: str, placeholder: str, flags: int = re.IGNORECASE) -> Rule:
    return Rule(name, re.compile(regex, flags), placeholder, RULE_GUARDS.get(name, ()))


# (name, regex, placeholder), applied in order: the specific shapes before the
# generic ones (a key before hex, a uuid before numbers).
RULE_SPECS: tuple[tuple[str, str, str], ...] = (
    ("url_query", r"(https?://[^\s?#)\]>\"'`]+)[?#][^\s)\]>\"'`]*", r"\1"),
    ("email", r"\b[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+\b", "<email>"),
    ("api_key", r"\b(?:sk|rk|pk)-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-*]{3,}", "<key>"),
    ("bearer", r"\bBearer\s+[A-Za-z0-9_\-.=*]{8,}", "Bearer <key>"),
    ("org_id", r"\borg-[A-Za-z0-9]{6,}\b", "<org>"),
    ("user_id", r"\buser-[A-Za-z0-9]{6,}\b", "<user>"),
    ("file_id", r"\bfile-[A-Za-z0-9]{6,}\b", "<file>"),
    ("completion_id", r"\bchatcmpl-[A-Za-z0-9]{6,}\b", "<completion>"),
    (
        "prefixed_id",
        r"\b(proj|thread|run|rs|req|msg|asst|call|resp|sess|batch|vs|step|fc|item|ws|ftjob|"
        r"cmpl|evt|event|conv|mcp|ig|img)_[A-Za-z0-9]{6,}\b",
        r"<\1>",
    ),
    ("uuid", r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<uuid>"),
    ("hex", r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", "<hex>"),
    ("long_token", r"\b(?=[A-Za-z0-9]*\d)(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{20,}\b", "<token>"),
    (
        "model",
        r"\b(?:ft:)?(?:gpt-[\w.\-]+|chatgpt-[\w.\-]+|o[1-9](?:-[\w.\-]+)?|"
        r"text-(?:davinci|curie|babbage|ada|embedding|moderation)[\w.\-]*|"
        r"(?:davinci|babbage|curie)(?:-\d+)?|dall-e-\d|whisper-\d|tts-\d(?:-hd)?|"
        r"codex-[\w.\-]+|computer-use-[\w.\-]+|omni-moderation[\w.\-]*)(?::[\w.\-:]+)?",
        "<model>",
    ),
    ("ip", r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<ip>"),
    (
        "datetime",
        r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+\-]\d{2}:?\d{2})?)?\b",
        "<date>",
    ),
    ("time", r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?\b", "<time>"),
    (
        "duration",
        r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|secs|seconds?|m|min|mins|minutes?|h|hours?)\b",
        "<duration>",
    ),
    ("path", r"(?<![\w:/.])(?:[A-Za-z]:)?(?:[\\/][\w.\- ]+){2,}[\\/]?[\w.\-]*", "<path>"),
    # "Invalid schema for response_format 'my_schema'": the user's own name varies.
    ("quoted_name", r"(\bfor\s+\S{1,40})\s+'[^'\s]{1,64}'", r"\1 '<name>'"),
    ("number", r"(?<![\w<])[-+]?\d+(?:[.,]\d+)*(?![\w>])", "<n>"),
)
RULE_GUARDS: dict[str, tuple[str, ...]] = {
    "url_query": ("://",),
    "email": ("@",),
    "api_key": ("k-",),
    "bearer": ("bearer",),
    "org_id": ("org-",),
    "user_id": ("user-",),
    "file_id": ("file-",),
    "completion_id": ("chatcmpl-",),
    "prefixed_id": ("_",),
    "uuid": ("-",),
    "hex": ("0",),
    "long_token": ("0",),
    "ip": ("0",),
    "datetime": ("0",),
    "time": ("0",),
    "duration": ("0",),
    "path": ("/", "\\"),
    "quoted_name": ("for ",),
    "number": ("0",),
}
RULES: tuple[Rule, ...] = tuple(_rule(n, r, p) for n, r, p in RULE_SPECS)
_DIGIT = re.compile(r"\d")

# Domain tokens kept literal: they are what tells one error from another.
ALLOW_SPECS: tuple[tuple[str, str], ...] = (
    ("scope", r"\b(?:api|model)\.[a-z_]+(?:\.[a-z_]+)*\b"),
    (
        "parameter",
        r"\b(?:max_tokens|max_completion_tokens|max_output_tokens|response_format|tool_calls|"
        r"tool_choice|temperature|top_p|reasoning_effort|finish_reason|previous_response_id|"
        r"additionalProperties|json_schema|messages\[\d+\]\.role|input_audio_buffer\.[a-z_.]+|"
        r"session\.[a-z_.]+|response\.[a-z_.]+|output_audio_buffer\.[a-z_.]+|"
        r"conversation\.[a-z_.]+)",
    ),
    (
        "error_code",
        r"\b(?:insufficient_quota|rate_limit_exceeded|context_length_exceeded|model_not_found|"
        r"invalid_api_key|invalid_request_error|unsupported_value|unsupported_parameter|"
        r"session_expired|server_error|invalid_value|unsupported_country_region_territory|"
        r"account_deactivated|billing_hard_limit_reached|missing_required_parameter|"
        r"invalid_json_schema|content_policy_violation|moderation_blocked|"
        r"engine_overloaded)\b",
    ),
    (
        "http_status",
        r"\b(?:HTTP(?:/\d(?:\.\d)?)?|status(?: code)?|error code|code|error)[:\s]+[1-5]\d\d\b",
    ),
    (
        "status_reason",
        r"\b[45]\d\d(?=\s+(?:too many|unauthori[sz]ed|forbidden|not found|bad request|internal|bad gateway|service unavailable|gateway))",
    ),
    ("rate_unit", r"\((?:TPM|RPM|RPD|TPD|IPM)\)"),
)
ALLOW: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (n, re.compile(r, re.IGNORECASE)) for n, r in ALLOW_SPECS
)
_ALLOW_ALL = re.compile("|".join(f"(?:{r})" for _, r in ALLOW_SPECS), re.IGNORECASE)
# Private-use characters: no rule can match them, so kept tokens pass through untouched.
_SENTINEL = re.compile("\ue000(.)\ue001")
_WS = re.compile(r"\s+")
_EDGE = re.compile(r"^[\s\"'`.,:;>*\-]+|[\s\"'`.,:;]+$")


def normalise(text: str, rules: Sequence[Rule] = RULES) -> str:
    """The error with its variable parts replaced by placeholders, lower-cased."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\ue000{chr(0xE100 + len(kept) - 1)}\ue001"

    out = _ALLOW_ALL.sub(keep, text or "")
    # Placeholders never add a guard substring, so one probe of the input serves all rules.
    probe = _DIGIT.sub("0", out.lower())
    for rule in rules:
        if rule.guard and not any(g in probe for g in rule.guard):
            continue
        out = rule.pattern.sub(rule.placeholder, out)
    out = _SENTINEL.sub(lambda m: kept[ord(m.group(1)) - 0xE100], out)
    out = _WS.sub(" ", out.lower())
    return _EDGE.sub("", out)


def fingerprint(text: str) -> str:
    """A stable short hash of the normalised error."""
    return fingerprint_normalised(normalise(text))


def fingerprint_normalised(normalised: str) -> str:
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:FINGERPRINT_LEN]
