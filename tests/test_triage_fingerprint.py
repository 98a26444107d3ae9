"""Normalisation rules (each one), the domain allow-list, and fingerprint stability."""

from __future__ import annotations

import re

import pytest

from bot.triage.fingerprint import ALLOW_SPECS, RULE_SPECS, RULES, fingerprint, normalise


def test_rules_are_ordered_named_data() -> None:
    names = [name for name, _, _ in RULE_SPECS]
    assert len(names) == len(set(names))
    assert [r.name for r in RULES] == names
    for _, regex, placeholder in RULE_SPECS:
        re.compile(regex)
        assert isinstance(placeholder, str)
    # Specific shapes run before generic ones.
    assert names.index("api_key") < names.index("hex") < names.index("number")
    assert names.index("uuid") < names.index("number")


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("url_query", "see https://x.test/a/b?token=123&x=y now", "see https://x.test/a/b now"),
        ("email", "contact me at jane.doe+x@mail.example.org", "contact me at <email>"),
        ("api_key", "Incorrect API key provided: sk-proj-ab12********xy9Z.", "<key>"),
        ("bearer", "Authorization: Bearer eyJhbGciOiJI.abc", "bearer <key>"),
        ("org_id", "in organization org-AbC123xyz456 on tokens", "organization <org> on"),
        ("user_id", "user user-Zx9y8w7v6u5t blocked", "user <user> blocked"),
        ("file_id", "file file-AbCdEf123456 missing", "file <file> missing"),
        ("completion_id", "id chatcmpl-9aBcD3eF4g failed", "id <completion> failed"),
        (
            "prefixed_id",
            "thread_abc123XYZ456 while a run run_Qw12345678",
            "<thread> while a run <run>",
        ),
        ("prefixed_id", "item 'rs_68a0bc12ef34' not found", "item '<rs>' not found"),
        ("prefixed_id", "request req_0123456789abcdef failed", "request <req> failed"),
        ("uuid", "trace 123e4567-e89b-12d3-a456-426614174000 end", "trace <uuid> end"),
        ("hex", "request id 7f3a2b1c9d8e7f6a5b4c", "request id <hex>"),
        ("long_token", "token Ab3dEf6hIj9kLm2nOp5qRs8t here", "token <token> here"),
        ("model", "The model `gpt-4o-mini-2024-07-18` does not exist", "the model `<model>` does"),
        ("model", "rate limit reached for o3-mini in", "rate limit reached for <model> in"),
        ("ip", "from 10.0.0.12:8080 refused", "from <ip> refused"),
        ("datetime", "at 2026-11-28T22:51:36Z it broke", "at <date> it broke"),
        ("time", "since 10:42:01 nothing works", "since <time> nothing works"),
        ("duration", "Please try again in 20s.", "please try again in <duration>"),
        ("path", 'File "/home/me/app/main.py", line 3', 'file "<path>", line <n>'),
        (
            "quoted_name",
            "Invalid schema for response_format 'my_answer': x",
            "for response_format '<name>'",
        ),
        (
            "number",
            "Limit 30000, Used 29500, Requested 1500.",
            "limit <n>, used <n>, requested <n>",
        ),
    ],
)
def test_each_rule(rule: str, text: str, expected: str) -> None:
    assert rule in {r.name for r in RULES}
    assert expected in normalise(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Request includes unauthorized scopes: api.all.read", "api.all.read"),
        (
            "Missing scopes: api.responses.write, model.request",
            "api.responses.write, model.request",
        ),
        ("Unsupported parameter: 'max_tokens' is not supported", "'max_tokens'"),
        ("Use 'max_completion_tokens' instead", "'max_completion_tokens'"),
        ("code: insufficient_quota", "insufficient_quota"),
        ("code: context_length_exceeded", "context_length_exceeded"),
        ("'messages[0].role' does not support 'system'", "messages[0].role"),
        ("Error code: 429 - rate limited", "error code: 429"),
        ("HTTP/1.1 503 Service Unavailable", "http/1.1 503"),
        ("on tokens per min (TPM): Limit 100", "(tpm)"),
    ],
)
def test_allow_list_keeps_domain_tokens(text: str, kept: str) -> None:
    assert kept in normalise(text)


def test_allow_list_is_named_data() -> None:
    names = [n for n, _ in ALLOW_SPECS]
    assert {"scope", "parameter", "error_code", "http_status"} <= set(names)


def test_numbers_vary_but_status_codes_do_not() -> None:
    assert fingerprint("Error code: 429 after 3 tries") == fingerprint(
        "Error code: 429 after 7 tries"
    )
    assert fingerprint("Error code: 429 after 3 tries") != fingerprint(
        "Error code: 401 after 3 tries"
    )


def test_fingerprint_stable_across_ids_numbers_keys_and_models() -> None:
    a = (
        "Rate limit reached for gpt-4o-mini in organization org-AbCdEf123456 on tokens per min "
        "(TPM): Limit 30000, Used 29000, Requested 1500. Please try again in 2.5s. "
        "Visit https://platform.openai.com/account/rate-limits?utm=1 to learn more."
    )
    b = (
        "Rate limit reached for gpt-3.5-turbo in organization org-ZZZZZZ999999 on tokens per min "
        "(TPM): Limit 60000, Used 59000, Requested 2500. Please try again in 120ms. "
        "Visit https://platform.openai.com/account/rate-limits to learn more."
    )
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(
        "Can't add messages to thread_aaaaaa111 while a run run_bbbbbb222 is active."
    ) == (
        fingerprint("Can't add messages to thread_ZZZZZZ999 while a run run_YYYYYY888 is active.")
    )
    assert fingerprint("Incorrect API key provided: sk-proj-abc****1234.") == fingerprint(
        "Incorrect API key provided: sk-zzzzzzzzzzzzzz9876."
    )


def test_fingerprint_ignores_case_and_whitespace() -> None:
    assert fingerprint("  Model   NOT found ") == fingerprint("model not found")


def test_distinct_errors_get_distinct_fingerprints() -> None:
    errors = [
        "Request includes unauthorized scopes: api.all.read",
        "Missing scopes: api.responses.write",
        "Missing scopes: model.request",
        "Unsupported parameter: 'max_tokens' is not supported with this model.",
        "Unsupported parameter: 'temperature' is not supported with this model.",
        "You exceeded your current quota, please check your plan and billing details.",
        "code: insufficient_quota",
        "code: rate_limit_exceeded",
    ]
    prints = {fingerprint(e) for e in errors}
    assert len(prints) == len(errors)


def test_fingerprint_shape() -> None:
    fp = fingerprint("anything at all")
    assert re.fullmatch(r"[0-9a-f]{16}", fp)
    assert fingerprint("anything at all") == fp


def test_guards_never_change_the_result() -> None:
    from bot.triage.fingerprint import Rule

    unguarded = tuple(Rule(r.name, r.pattern, r.placeholder) for r in RULES)
    samples = [
        "Rate limit reached for gpt-4o in organization org-AbC123xyz456 on tokens per min: Limit 3",
        "Incorrect API key provided: sk-proj-ab12****xy9Z. mail me@x.org",
        "see https://x.test/a?b=1 at 2026-01-02T03:04:05Z from 10.0.0.1 in 20s",
        "Item with id 'rs_68a0bc12ef34' not found; request req_0123456789abcdef",
        "File \"/usr/lib/x.py\", line 7: Invalid schema for response_format 'a'",
        "plain words only",
    ]
    for text in samples:
        assert normalise(text) == normalise(text, unguarded)
