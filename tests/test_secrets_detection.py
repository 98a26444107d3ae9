"""Secrets: detection, placeholders left alone, redaction, and never leaking the value."""

from __future__ import annotations

import random
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.patterns import LiteralGate
from bot.triage import secrets
from bot.triage.secrets import find_secrets, has_secret, redact, secret_kinds

# Built at run time so that no key-shaped literal sits in the repository.
BODY = "A1b2C3d4E5f6G7h8J9k0LmNoPqRsTuVwXyZ12345"


def key(prefix: str, body: str = BODY) -> str:
    return prefix + body


def test_finds_each_kind() -> None:
    cases = {
        "openai_project_key": key("sk-proj-"),
        "openai_service_key": key("sk-svcacct-"),
        "openai_admin_key": key("sk-admin-"),
        "openai_key": key("sk-"),
        "session_token": key("sess-"),
        "bearer_token": "Authorization: Bearer " + BODY,
        "github_token": key("ghp_"),
        "google_api_key": key("AIza"),
        "aws_access_key": "AKIA" + "Q7ZB3XK2M9PLR4TE",
        "slack_token": key("xoxb-"),
        "jwt": "eyJ" + BODY[:20] + ".eyJ" + BODY[:20] + "." + BODY[:20],
    }
    for kind, text in cases.items():
        found = find_secrets(f"my config: {text} thanks")
        assert [m.kind for m in found] == [kind], kind


def test_span_covers_the_key_and_repr_hides_it() -> None:
    text = "use " + key("sk-proj-") + " now"
    (match,) = find_secrets(text)
    assert text[match.start : match.end] == key("sk-proj-")
    assert BODY not in repr(match) and BODY not in str(match)


def test_masked_and_placeholder_keys_are_not_secrets() -> None:
    for text in (
        "sk-proj-****************************abcd",
        "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        "sk-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
        "sk-...abcd",
        "sk-your-api-key-goes-here-please",
        "OPENAI_API_KEY=sk-<your key>",
        "org-AbCdEf123456",
        "request id req_1234567890abcdef",
        "Bearer $OPENAI_API_KEY",
        "Authorization: Bearer <token>",
    ):
        assert not has_secret(text), text


def test_redact_replaces_every_secret_and_keeps_the_rest() -> None:
    text = f"key {key('sk-proj-')} and header Bearer {BODY[::-1]} end"
    out = redact(text)
    assert BODY not in out and BODY[::-1] not in out
    assert out.startswith("key sk-proj-…[redacted] and header Bearer …[redacted] end")
    assert secret_kinds(text) == ["openai_project_key", "bearer_token"]


def test_bearer_around_an_openai_key_is_one_secret() -> None:
    found = find_secrets("Authorization: Bearer " + key("sk-proj-"))
    assert [m.kind for m in found] == ["openai_project_key"]


def test_text_without_secrets_is_unchanged() -> None:
    text = "Request includes unauthorized scopes: api.all.read (task-force sk-8)"
    assert redact(text) == text


_ALNUM = string.ascii_letters + string.digits


@st.composite
def real_keys(draw: st.DrawFn) -> str:
    """Keys as providers issue them: a prefix and a random body (a seeded PRNG, so that
    shrinking cannot turn the body into a placeholder such as all zeros)."""
    prefix = draw(st.sampled_from(["sk-", "sk-proj-", "sk-svcacct-", "sess-", "sk-ant-"]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    body = "".join(rng.choices(_ALNUM + "_-", k=draw(st.integers(24, 120))))
    return prefix + body


@settings(max_examples=1000, deadline=None)
@given(
    before=st.text(max_size=60),
    secret=real_keys(),
    after=st.text(max_size=60),
)
def test_property_redact_removes_any_real_key(before: str, secret: str, after: str) -> None:
    text = f"{before} {secret} {after}"
    out = redact(text)
    assert secret not in out
    assert has_secret(text)
    assert not has_secret(out)


def test_private_key_with_and_without_end_line() -> None:
    body = "\n".join(BODY for _ in range(3))
    pem = f"-----BEGIN RSA PRIVATE KEY-----\n{body}\n-----END RSA PRIVATE KEY-----"
    text = f"my key:\n{pem}\nthanks"
    (match,) = find_secrets(text)
    assert match.kind == "private_key" and text[match.start : match.end] == pem
    cut = f"-----BEGIN PRIVATE KEY-----\n{body}"  # pasted without its END line
    assert BODY not in redact(cut)
    assert not has_secret("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----")


def test_pathological_input_stays_fast() -> None:
    import time

    started = time.perf_counter()
    redact("-----BEGIN PRIVATE KEY-----\n" * 5000 + "sk-" + "a-" * 20000)
    assert time.perf_counter() - started < 2.0


def test_assigned_secret_keeps_the_name_and_hides_the_value() -> None:
    value = BODY[::-1]
    for text in (f"OPENAI_API_KEY={value}", f'"client_secret": "{value}"', f"password = {value}"):
        out = redact(text)
        assert value not in out and "[redacted]" in out
        assert out.split("…")[0].rstrip("=:\"' ") in text  # the name is still readable
    assert not has_secret("API_KEY=your-api-key-goes-here-xxxxxxxx")
    assert not has_secret("max_tokens=1000000000000000000000")


_KEY_PARTS = st.sampled_from(
    [
        "sk-",
        "sk-proj-",
        "SK-",
        "sess-",
        "Bearer ",
        "BEARER\t",
        "ghp_",
        "github_pat_",
        "AIza",
        "AKIA",
        "ASIA",
        "xoxb-",
        "eyJ",
        ".eyJ",
        "OPENAI_API_KEY=",
        '"apiKey": "',
        "client_secret: ",
        "Access-Token=",
        "authToken=",
        "passwd=",
        "ſecret=",
        "pasſword: ",
        "api_\u212aey=",
        "AP\u0130_KEY=",
        "-----BEGIN PRIVATE KEY-----\n",
        "-----END PRIVATE KEY-----",
    ]
)


@st.composite
def key_bodies(draw: st.DrawFn) -> str:
    """Random key characters around the lengths the rules need (16 for AWS and bearer)."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    chars = draw(st.sampled_from([_ALNUM, string.ascii_uppercase + string.digits, _ALNUM + "_-."]))
    return "".join(rng.choices(chars, k=draw(st.integers(14, 36))))


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.one_of(
            _KEY_PARTS,
            key_bodies(),
            st.text(alphabet=_ALNUM + "_-./+=~ \n\u017f\u0131\u0130\u212a", max_size=50),
            st.text(max_size=10),
        ),
        max_size=8,
    )
)
def test_rule_anchors_never_hide_a_secret(parts: list[str]) -> None:
    """Skipping the rules whose required literals are absent finds what every rule finds."""
    text = "".join(parts)
    assert find_secrets(text) == _every_rule(text)


def _every_rule(text: str) -> list[secrets.SecretMatch]:
    gate = secrets._GATE
    try:
        secrets._GATE = LiteralGate.build((kind, None) for kind in secrets.KINDS)
        return find_secrets(text)
    finally:
        secrets._GATE = gate


@pytest.mark.parametrize(
    "text",
    [
        key("sk-proj-"),
        key("sk-svcacct-"),
        key("sk-admin-"),
        key("sk-ant-"),
        key("sk-"),
        key("sess-"),
        "Bearer " + BODY[:16],  # the shortest body any rule takes
        key("ghr_"),
        key("github_pat_"),
        key("AIza"),
        "AKIA" + "Q7ZB3XK2M9PLR4TE",
        "ASIA" + "Q7ZB3XK2M9PLR4TE",
        key("xoxs-"),
        "eyJ" + BODY[:12] + ".eyJ" + BODY[:12] + "." + BODY[:12],
        "x-api-key: " + BODY,
        "authToken=" + BODY,
        "AUTH-TOKEN=" + BODY,
        "passwd=" + BODY,
        "ſecret=" + BODY,  # case twins the case-insensitive rules also match
        "pasſword: " + BODY,
        "API_KEY=" + BODY,
        "APİ_KEY=" + BODY,
        "-----BEGIN PRIVATE KEY-----\nMIIE vQIB ADAN Bgkq hkiG 9w0B\n",  # no long run
    ],
)
def test_each_rule_is_found_past_the_anchor_checks(text: str) -> None:
    found = find_secrets(f"see: {text} thanks")
    assert found and found == _every_rule(f"see: {text} thanks")
