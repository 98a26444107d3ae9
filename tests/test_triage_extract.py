"""Error-string extraction: one test per shape members use, and own words vs quotes."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.triage.extract import extract_errors, split_own_words
from bot.triage.fingerprint import fingerprint, normalise


def texts(raw: str) -> dict[str, str]:
    """kind -> first candidate text of that kind."""
    out: dict[str, str] = {}
    for cand in extract_errors(raw):
        out.setdefault(cand.kind, cand.text)
    return out


def test_fenced_code_block_plain_error() -> None:
    raw = "I run this and get:\n\n```\nRequest includes unauthorized scopes: api.all.read\n```\n"
    cands = extract_errors(raw)
    assert cands[0].text == "Request includes unauthorized scopes: api.all.read"
    assert cands[0].kind == "code"


def test_tilde_fence_and_language_tag() -> None:
    raw = "~~~text\nthe upload was rejected by the server\n~~~"
    assert texts(raw)["code"] == "the upload was rejected by the server"


def test_inline_code() -> None:
    raw = "Calls fail with `Unsupported parameter: 'max_tokens'` since yesterday."
    assert "Unsupported parameter: 'max_tokens'" in texts(raw).values()


def test_inline_code_that_is_not_an_error_is_ignored() -> None:
    raw = "I call `client.chat.completions.create` with `model=gpt-4o`."
    assert extract_errors(raw) == []


def test_blockquote() -> None:
    raw = "The dashboard shows:\n\n> Your organization must be verified to use the model\n\nwhy?"
    got = texts(raw)
    assert got["quote"] == "Your organization must be verified to use the model"


def test_json_error_body_double_quotes() -> None:
    raw = (
        '{"error": {"message": "You exceeded your current quota, please check your plan.", '
        '"type": "insufficient_quota", "param": null, "code": "insufficient_quota"}}'
    )
    cands = extract_errors(raw)
    assert cands[0].kind == "json"
    assert cands[0].text == "You exceeded your current quota, please check your plan."
    codes = {c.text for c in cands if c.kind == "json_code"}
    assert "code: insufficient_quota" in codes
    assert "type: insufficient_quota" in codes
    assert not any("null" in c for c in codes)


def test_python_dict_error_body_inside_exception() -> None:
    raw = (
        "openai.BadRequestError: Error code: 400 - {'error': {'message': \"This model's "
        "maximum context length is 8192 tokens.\", 'type': 'invalid_request_error', "
        "'param': 'messages', 'code': 'context_length_exceeded'}}"
    )
    cands = extract_errors(raw)
    assert cands[0].kind == "json"
    assert cands[0].text == "This model's maximum context length is 8192 tokens."
    assert any(c.kind == "traceback" and c.text.startswith("openai.BadRequestError") for c in cands)
    assert "code: context_length_exceeded" in {c.text for c in cands}


def test_python_traceback_exception_line() -> None:
    raw = (
        '```\nTraceback (most recent call last):\n  File "app.py", line 4, in <module>\n'
        "    client.responses.create(**kw)\nopenai.NotFoundError: Item with id 'rs_1' not found.\n```"
    )
    got = texts(raw)
    assert got["traceback"] == "openai.NotFoundError: Item with id 'rs_1' not found."
    assert "File" not in got["traceback"]


def test_js_error_with_stack() -> None:
    raw = "Uncaught TypeError: Cannot read properties of undefined (reading 'choices')\n    at main (index.js:3:9)"
    got = texts(raw)
    assert got["traceback"].startswith("TypeError: Cannot read properties of undefined")


def test_http_status_lines() -> None:
    got = {c.text for c in extract_errors("The server answered HTTP/1.1 429 Too Many Requests")}
    assert "HTTP 429 Too Many Requests" in got
    got = {c.text for c in extract_errors("It fails with status code 401 every time.")}
    assert "HTTP 401" in got
    got = {c.text for c in extract_errors("It worked, status 200.")}
    assert not any(t.startswith("HTTP 200") for t in got)


def test_error_colon_line() -> None:
    raw = (
        "Hello,\nError: The server had an error while processing your request. Sorry about that!\n"
    )
    got = texts(raw)
    assert got["error_line"].startswith("Error: The server had an error")


def test_plain_sentence_that_reads_like_an_api_error() -> None:
    raw = (
        "Hi everyone. Since this morning I keep getting told that the model gpt-5 does not "
        "exist or you do not have access to it. Any idea?"
    )
    got = texts(raw)
    assert "does not exist or you do not have access" in got["sentence"]


def test_no_candidates_in_an_ordinary_question() -> None:
    raw = "What is the best way to summarise long meeting notes? I want short bullet points."
    assert extract_errors(raw) == []


def test_ranked_best_first_and_deduplicated() -> None:
    raw = (
        "> Error: quota exceeded for this project\n\n"
        "```\nError: quota exceeded for this project\n```\n"
    )
    cands = extract_errors(raw)
    assert [c.text for c in cands].count("Error: quota exceeded for this project") == 1
    scores = [c.score for c in cands]
    assert scores == sorted(scores, reverse=True)


def test_long_input_is_bounded() -> None:
    raw = ("lorem ipsum " * 20000) + "\nError: the final line failed to parse\n"
    cands = extract_errors(raw)
    assert any("final line failed" in c.text for c in cands)


def test_split_own_words_separates_discourse_quotes() -> None:
    raw = (
        '[quote="alice, post:2, topic:10"]\nUpgrade your plan, read-only keys are enterprise only.'
        "\n[/quote]\n\nThat did not help. Still `Request includes unauthorized scopes`."
    )
    own, quoted = split_own_words(raw)
    assert "enterprise" not in own
    assert "That did not help" in own
    assert "enterprise only" in quoted


def test_split_own_words_nested_and_email_quotes() -> None:
    raw = (
        "[quote=a]outer [quote=b]inner[/quote] tail[/quote]\nmine\n"
        "On Mon, Jan 1, 2026 at 10:00 Bob <bob@example.com> wrote:\n> their words\n> more\n"
    )
    own, quoted = split_own_words(raw)
    assert own.strip().startswith("mine")
    assert "inner" in quoted and "outer" in quoted and "their words" in quoted
    assert "their words" not in own


def test_markdown_blockquote_stays_in_own_words() -> None:
    raw = "I got:\n> Incorrect API key provided\n"
    own, quoted = split_own_words(raw)
    assert "Incorrect API key provided" in own
    assert quoted == ""


def test_json_fields_outside_an_error_object_are_not_errors() -> None:
    raw = '{"output": [{"type": "reasoning"}, {"type": "message", "content": [{"type": "output_text"}]}]}'
    assert not [c for c in extract_errors(raw) if c.kind == "json_code"]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=600))
def test_any_text_extracts_without_error(raw: str) -> None:
    for cand in extract_errors(raw):
        assert cand.text
        assert 0.0 < cand.score <= 1.0
        assert fingerprint(cand.text)
    own, quoted = split_own_words(raw)
    assert isinstance(own, str) and isinstance(quoted, str)


@pytest.mark.parametrize(
    "raw",
    [
        "Error: " + "a" * 50_000,
        "Traceback (most recent call last):\n" + "  File x\n" * 5000,
        "`" * 10_000,
        "[quote]" * 3000 + "x" + "[/quote]" * 3000,
        '{"error": {"message": "' + "\\\\" * 5000,
        "> " * 20_000,
    ],
)
def test_pathological_input_is_fast(raw: str) -> None:
    start = time.perf_counter()
    extract_errors(raw)
    split_own_words(raw)
    normalise(raw)
    assert time.perf_counter() - start < 2.0
