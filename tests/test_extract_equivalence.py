"""Extraction gives the same candidates on tricky shapes, and each quicker form of a scan
matches where its plain form does.

The expected values were written down from the extraction as it was before its scans
were made quicker; a change that alters them changes the model's features.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot import patterns
from bot.triage import casefold
from bot.triage import extract as X

CASES: dict[str, str] = {
    "fence_crlf_traceback": "It fails:\r\n```python\r\nTraceback (most recent call last):\r\n  File \"app.py\", line 3, in <module>\r\n    client.chat.completions.create(model=\"gpt-4o\")\r\nopenai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o on tokens per min (TPM)', 'type': 'tokens', 'code': 'rate_limit_exceeded'}}\r\n```\r\nAny idea?",
    "unterminated_fence": "Output:\n~~~\nError: the upload was rejected because the file is too large\nmore lines",
    "nested_fence": "````markdown\n```\nError: inner fence stays inside the outer one\n```\n````\nThen: `Unsupported parameter: 'max_tokens'`",
    "indented_tilde_fence": "  ~~~~text\n  HTTP/1.1 401 Unauthorized\n  ~~~~\nstatus 200 was fine before",
    "nested_quotes": '[quote="a, post:1"]outer [quote=b]inner: Error: not mine[/quote] outer tail[/quote]\n[QUOTE]shouted quote[/QUOTE]\nMine: `Error: invalid_api_key provided`',
    "email_quote": "Same here.\nOn Tue, Mar 3, 2026 at 9:12 Ann <ann@example.com> wrote:\n> Error: quoted from the list\n> second line\nStill getting 429 Too Many Requests.",
    "json_escaped": '{"error": {"message": "Invalid schema for response_format \'x\': In context=(), \'additionalProperties\' is required to be supplied and to be false.\\nSee \\"docs\\".", "type": "invalid_request_error", "param": "response_format", "code": null}}',
    "json_truncated": '{\n  "error": {\n    "message": "The model `o3` does not exist or you do not have access to it.",\n    "type": "invalid_request_error",\n    "code": "model_not_found"',
    "json_far_fields": '{"error": {"message": "short"}} '
    + "x" * 650
    + ' {"type": "reasoning", "code": "far_away_code"}',
    "python_dict_body": "openai.BadRequestError: Error code: 400 - {'error': {'message': \"Unsupported value: 'temperature' does not support 0.2 with this model.\", 'type': 'invalid_request_error', 'param': 'temperature', 'code': 'unsupported_value'}}",
    "chained_traceback": 'Traceback (most recent call last):\n  File "a.py", line 1\nKeyError: \'choices\'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File "b.py", line 2\nopenai.APIConnectionError: Connection error.',
    "js_errors": "Uncaught (in promise) Error: 403 Country, region, or territory not supported\n    at main (index.js:3:9)\nUnhandled TypeError: fetch failed\nSomeWarning: not an error\nurllib3.InsecureRequestWarning: Unverified HTTPS request",
    "http_lines": "HTTP/1.1 200 OK then HTTP/2 503 Service Unavailable, status code: 429, error code 401, code=500, and a bare 404 Not Found; STATUS 418",
    "http_shadowed": "HTTP 200 Internal Server Error code 404",
    "error_lines": "> * - [ERROR] worker | the queue stalled after 30s\nFATAL |   database connection refused\nfailed: could not resolve host\nError - x",
    "blockquote_and_gt": "if a > b then\n> Your organization must be verified to use the model `gpt-image-1`.\n>\n>  Please go to: https://platform.openai.com/settings\nthanks",
    "inline_shapes": "``double `tick` code`` and `short` and ```triple``` and `the call was rejected by the server` and `model=gpt-4o-mini` and a`Error: glued to a word`",
    "html": '<p>Error: <code>invalid_api_key</code> when calling</p><br/>the <b>endpoint</b> is not allowed<div class="x">quota</div>',
    "crlf_prose": "Hello,\r\n\r\nError: The server had an error while processing your request.\r\nSorry about that!\r\nYou exceeded your current quota.\r\n",
    "unicode_twins": "\u017ftatus 429 Too Many Reque\u017fts\n\u0130nvalid api key\nUNAUTHOR\u0130ZED request\nrate \u212aey limit",
    "unicode_spaces": "Error:\u00a0the\u2028request\u3000timed out\u0085again\x1c and\u2029it is not supported",
    "unicode_cjk": "\u6a21\u578b\u4e0d\u5b58\u5728\u9519\u8bef model_not_found (o3)\n\u9519\u8bef: \u8c03\u7528\u5931\u8d25 Error: \u6a21\u578b not found \U0001f600",
    "unicode_digits": "\u0664\u0662\u0669 Too Many Requests and status \u0664\u0660\u0660 and 4\u0662\u0669 Not Found",
    "long_paste": "lorem ipsum " * 1800 + "\nError: the final line failed to parse\n",
    "sentence_edges": "It must be a \nstring. Request time\\nout happened. The key \\not found here.  Rate  limit   reached!  Cannot do it",
    "long_code_block": "```\n"
    + "x = compute(y)  # harmless line\n" * 15
    + "The model does not support tools. Please check the docs.\n"
    + "y = 2\n" * 5
    + "```",
    "empty": "",
    "whitespace": " \n\t\r\n ",
    "fatal_alone": "fatal: repository not found",
    "http_only": "The proxy answered HTTP/2 502 and then HTTP 403",
    "upper_error_key": '{"ERROR": {"code": "upper_case_key"}}',
    "warning_only": "urllib3.InsecureRequestWarning: Unverified HTTPS request",
    "twin_status": "the \u017ftatus: 503 again",
    "quote_first": "> The model `gpt-5` does not exist\nwhy?",
    "html_br": "Error:<br/>the <b>quota</b> is gone",
    "failed_alone": "Failed: to load the model config",
    "exception_alone": "Exception: something went wrong here",
}

# name -> (quoted text, candidates of the poster's own words as (text, kind, score))
EXPECTED: dict[str, tuple[str, list[tuple[str, str, float]]]] = {
    "fence_crlf_traceback": (
        "",
        [
            ("Rate limit reached for gpt-4o on tokens per min (TPM)", "json", 0.95),
            (
                "openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o on tokens per min (TPM)', 'type': 'tokens', 'code': 'rate_limit_exceeded'}}",
                "traceback",
                0.9,
            ),
            ("type: tokens", "json_code", 0.55),
            ("code: rate_limit_exceeded", "json_code", 0.55),
            ("HTTP 429", "http_status", 0.5),
        ],
    ),
    "unterminated_fence": (
        "",
        [("Error: the upload was rejected because the file is too large", "error_line", 0.75)],
    ),
    "nested_fence": (
        "",
        [
            ("Error: inner fence stays inside the outer one", "error_line", 0.75),
            ("Unsupported parameter: 'max_tokens'", "code", 0.65),
        ],
    ),
    "indented_tilde_fence": ("", [("HTTP 401 Unauthorized", "http_status", 0.5)]),
    "nested_quotes": (
        "inner: Error: not mine\n\nshouted quote\n\nouter \n outer tail",
        [("Error: invalid_api_key provided", "error_line", 0.75)],
    ),
    "email_quote": (
        "> Error: quoted from the list\n> second line",
        [
            ("HTTP 429 Too Many Requests", "http_status", 0.5),
            ("Still getting 429 Too Many Requests.", "sentence", 0.4),
        ],
    ),
    "json_escaped": (
        "",
        [
            (
                "Invalid schema for response_format 'x': In context=(), 'additionalProperties' is required to be supplied and to be false. See \"docs\".",
                "json",
                0.95,
            ),
            ("type: invalid_request_error", "json_code", 0.55),
            ("param: response_format", "json_code", 0.55),
            (
                '{"error": {"message": "Invalid schema for response_format \'x\': In context=(), \'additionalProperties\' is required to be supplied and to be false. See "docs".", "type": "invalid_request_error", "param": "response_format", "code": null}}',
                "sentence",
                0.4,
            ),
        ],
    ),
    "json_truncated": (
        "",
        [
            ("The model `o3` does not exist or you do not have access to it.", "json", 0.95),
            ("type: invalid_request_error", "json_code", 0.55),
            ("code: model_not_found", "json_code", 0.55),
            (
                '"message": "The model `o3` does not exist or you do not have access to it.",',
                "sentence",
                0.4,
            ),
        ],
    ),
    "json_far_fields": ("", [("short", "json", 0.95)]),
    "python_dict_body": (
        "",
        [
            (
                "Unsupported value: 'temperature' does not support 0.2 with this model.",
                "json",
                0.95,
            ),
            (
                "openai.BadRequestError: Error code: 400 - {'error': {'message': \"Unsupported value: 'temperature' does not support 0.2 with this model.\", 'type': 'invalid_request_error', 'param': 'temperature', 'code': 'unsupported_value'}}",
                "traceback",
                0.9,
            ),
            ("type: invalid_request_error", "json_code", 0.55),
            ("param: temperature", "json_code", 0.55),
            ("code: unsupported_value", "json_code", 0.55),
            ("HTTP 400", "http_status", 0.5),
        ],
    ),
    "chained_traceback": (
        "",
        [
            ("KeyError: 'choices'", "traceback", 0.9),
            ("openai.APIConnectionError: Connection error.", "traceback", 0.9),
        ],
    ),
    "js_errors": (
        "",
        [
            ("TypeError: fetch failed", "traceback", 0.9),
            ("urllib3.InsecureRequestWarning: Unverified HTTPS request", "traceback", 0.9),
        ],
    ),
    "http_lines": (
        "",
        [
            ("HTTP 503 Service Unavailable", "http_status", 0.5),
            ("HTTP 429", "http_status", 0.5),
            ("HTTP 401", "http_status", 0.5),
            ("HTTP 500", "http_status", 0.5),
            ("HTTP 418", "http_status", 0.5),
            ("HTTP 404 Not Found", "http_status", 0.5),
            (
                "HTTP/1.1 200 OK then HTTP/2 503 Service Unavailable, status code: 429, error code 401, code=500, and a bare 404 Not Found; STATUS 418",
                "sentence",
                0.4,
            ),
        ],
    ),
    "http_shadowed": ("", []),
    "error_lines": (
        "",
        [
            ("[ERROR] worker | the queue stalled after 30s", "error_line", 0.75),
            ("FATAL | database connection refused", "error_line", 0.75),
            ("failed: could not resolve host", "error_line", 0.75),
        ],
    ),
    "blockquote_and_gt": (
        "",
        [
            (
                "Your organization must be verified to use the model `gpt-image-1`. Please go to: https://platform.openai.com/settings",
                "quote",
                0.7,
            )
        ],
    ),
    "inline_shapes": (
        "",
        [
            ("Error: glued to a word", "error_line", 0.75),
            ("the call was rejected by the server", "code", 0.65),
        ],
    ),
    "html": (
        "",
        [
            (
                "Error: invalid_api_key when calling the endpoint is not allowed quota",
                "sentence",
                0.4,
            )
        ],
    ),
    "crlf_prose": (
        "",
        [
            ("Error: The server had an error while processing your request.", "error_line", 0.75),
            ("You exceeded your current quota.", "sentence", 0.4),
        ],
    ),
    "unicode_twins": (
        "",
        [
            ("HTTP 429 Too Many Requeſts", "http_status", 0.5),
            ("ſtatus 429 Too Many Requeſts", "sentence", 0.4),
            ("İnvalid api key", "sentence", 0.4),
            ("UNAUTHORİZED request", "sentence", 0.4),
        ],
    ),
    "unicode_spaces": (
        "",
        [("Error: the request timed out again and it is not supported", "error_line", 0.75)],
    ),
    "unicode_cjk": ("", [("错误: 调用失败 Error: 模型 not found 😀", "sentence", 0.4)]),
    "unicode_digits": (
        "",
        [
            ("HTTP 4٢٩ Not Found", "http_status", 0.5),
            ("٤٢٩ Too Many Requests and status ٤٠٠ and 4٢٩ Not Found", "sentence", 0.4),
        ],
    ),
    "long_paste": ("", [("Error: the final line failed to parse", "error_line", 0.75)]),
    "sentence_edges": (
        "",
        [
            ("Request time out happened.", "sentence", 0.4),
            ("Rate limit reached!", "sentence", 0.4),
            ("Cannot do it", "sentence", 0.4),
        ],
    ),
    "long_code_block": (
        "",
        [
            ("The model does not support tools.", "code", 0.5),
            ("Please check the docs.", "code", 0.5),
        ],
    ),
    "empty": ("", []),
    "whitespace": ("", []),
    "fatal_alone": ("", [("fatal: repository not found", "error_line", 0.75)]),
    "http_only": ("", [("HTTP 502", "http_status", 0.5), ("HTTP 403", "http_status", 0.5)]),
    "upper_error_key": ("", [("code: upper_case_key", "json_code", 0.55)]),
    "warning_only": (
        "",
        [("urllib3.InsecureRequestWarning: Unverified HTTPS request", "traceback", 0.9)],
    ),
    "twin_status": ("", [("HTTP 503", "http_status", 0.5)]),
    "quote_first": ("", [("The model `gpt-5` does not exist", "quote", 0.7)]),
    "html_br": ("", [("Error: the quota is gone", "error_line", 0.75)]),
    "failed_alone": ("", [("Failed: to load the model config", "error_line", 0.75)]),
    "exception_alone": ("", [("Exception: something went wrong here", "error_line", 0.75)]),
}


@pytest.mark.parametrize("name", CASES)
def test_tricky_shapes_keep_their_candidates(name: str) -> None:
    own, quoted = X.split_own_words(CASES[name])
    got = [(c.text, c.kind, c.score) for c in X.extract_errors(own)]
    assert (quoted, got) == EXPECTED[name]


def test_folded_scans_are_foldable() -> None:
    for regex in (X._API_SENTENCE, X._ERRORISH, X._JSON_ERROR_KEY):
        assert patterns.foldable(regex), regex.pattern


def _twins(text: str) -> str:
    return text.replace("s", "\u017f").replace("i", "\u0131").replace("K", "\u212a")


_PHRASE_TEXT = st.lists(
    st.one_of(
        st.sampled_from(
            [
                "You exceeded",
                "exceeded your",
                "rate limit",
                "Too many requests",
                "is not supported",
                "does not support",
                "unsupported value",
                "do not have access",
                "invalid api key",
                "missing scopes",
                "must be one of ",
                "maximum context length",
                "unauthorised",
                "timeout",
                "time out",
                "connection reset",
                "can't",
                "please retry",
                "api key was not",
            ]
        ),
        st.sampled_from(["can", "not", "is", "rate", "time", "must be", "d", "do", "please"]),
        st.text(alphabet="aeiosnt '\n.\u017f\u0131\u0130\u212a", max_size=12),
    ),
    max_size=6,
)


@settings(max_examples=400, deadline=None)
@given(_PHRASE_TEXT, st.booleans(), st.booleans())
def test_phrases_grouped_by_first_letter_match_where_the_flat_list_does(
    pieces: list[str], upper: bool, twins: bool
) -> None:
    text = " ".join(pieces)
    text = text.upper() if upper else text
    text = _twins(text) if twins else text
    flat = re.compile("|".join(X._API_PHRASES), re.IGNORECASE).search(text)
    grouped = X._API_SENTENCE_FOLDED.search(casefold.fold(text))
    assert (grouped and grouped.start()) == (flat and flat.start())


_PLAIN_INLINE = re.compile(r"(?<!`)`([^`\n]{6,400})`(?!`)")
_PLAIN_ERROR_KEY = re.compile(r"""["']?error["']?\s*[:=]\s*\{""", re.IGNORECASE)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["`", "``", "error", "ERROR", "'error'", '"Error" =', ": {", "{", "\n"]
            ),
            st.sampled_from(
                ["429 Too Many Requests", "5\u0660\u0660 bad gateway", "x404 Not Found"]
            ),
            st.text(alphabet="ab `:{'\"\n\u017f\u0131", max_size=12),
        ),
        max_size=10,
    )
)
def test_rewritten_scans_match_their_plain_forms(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert [m.span(1) for m in X._INLINE.finditer(text)] == [
        m.span(1) for m in _PLAIN_INLINE.finditer(text)
    ]
    assert [m.end() for m in X._JSON_ERROR_KEY_FOLDED.finditer(casefold.fold(text))] == [
        m.end() for m in _PLAIN_ERROR_KEY.finditer(text)
    ]
    first = X._ERROR_STATUS.search(text)
    bare = [m.span() for m in X._BARE_STATUS.finditer(text)]
    assert bare == (
        [m.span() for m in X._BARE_STATUS.finditer(text, first.start())] if first else []
    )
