"""Candidate error strings from a post's raw Markdown.

Members quote errors in many shapes: fenced or inline code, blockquotes, JSON error
bodies, tracebacks, HTTP status lines, `Error: ...` lines, or a plain sentence copied
from the API. Each extractor yields candidates with a kind and a score (how sure we
are that the text is an error string); the caller ranks by score.

Quoted replies (`[quote=...]` blocks, e-mail style `On ... wrote:` quotes) are other
people's words, so `split_own_words` keeps them apart from what the poster wrote.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.patterns import Prefilter
from bot.triage.casefold import fold, folded

MAX_CANDIDATES = 12
MAX_CANDIDATE_LEN = 400
# Long pasted logs should not make extraction slow; errors sit near the start or end.
MAX_SCAN_CHARS = 20_000


@dataclass(frozen=True)
class ErrorCandidate:
    text: str
    kind: str  # json | json_code | traceback | http_status | error_line | code | quote | sentence
    score: float  # 0..1: how sure we are this is an error string


# Innermost first: the body may not open another quote.
_QUOTE_BLOCK = re.compile(
    r"\[quote(?:=[^\]]*)?\]((?:(?!\[quote[=\]]).)*?)\[/quote\]", re.IGNORECASE | re.DOTALL
)
_EMAIL_QUOTE = re.compile(r"^On .{3,120} wrote:\s*\n((?:>.*(?:\n|$))+)", re.MULTILINE)
_FENCE = re.compile(r"^[ \t]*(```+|~~~+)[^\n]*\n(.*?)(?:^[ \t]*\1[ \t]*$|\Z)", re.M | re.DOTALL)
# A backtick that no backtick precedes: checked after the first one, so that the regex
# engine can jump from backtick to backtick.
_INLINE = re.compile(r"`(?<!``)([^`\n]{6,400})`(?!`)")
_BLOCKQUOTE = re.compile(r"(?:^[ \t]*>[^\n]*(?:\n|$))+", re.MULTILINE)
_QUOTE_MARK = re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE)
_HTML = re.compile(r"<(?:/?(?:p|br|div|span|code|pre|b|i|strong|em)\b[^>]*)>", re.IGNORECASE)

# JSON (or Python-dict) error bodies; tolerant of truncation and single quotes.
_JSON_MESSAGE = re.compile(
    r"""["']message["']\s*:\s*(?:"((?:[^"\\\n]|\\.){3,600})"|'((?:[^'\\\n]|\\.){3,600})')"""
)
# Only where the object opens counts: a quote before the key would not move it.
_JSON_ERROR_KEY = re.compile(r"""error["']?\s*[:=]\s*\{""", re.IGNORECASE)
ERROR_OBJECT_SPAN = 600
_JSON_FIELD = re.compile(r"""["'](code|type|param)["']\s*:\s*["']([A-Za-z][\w.\-\[\]]{2,80})["']""")
_EXCEPTION_LINE = re.compile(
    r"^[ \t]*(?:Uncaught |Unhandled |raise )?"
    r"((?:[A-Za-z_][\w]*\.)*[A-Za-z_]*(?:Error|Exception|Exceeded|Failure|Warning))"
    r"(?:\s*[:\-]\s*(.{0,400}))?$",
    re.MULTILINE,
)
_REASONS = (
    r"Too Many Requests|Unauthorized|Forbidden|Not Found|Bad Request|"
    r"Internal Server Error|Bad Gateway|Service Unavailable|Gateway Time-?out|"
    r"Failed Dependency|Unprocessable Entity|Request Timeout|Payment Required"
)
_PY_TRACEBACK = re.compile(
    # Frame lines: one indent character then anything (unambiguous, so no backtracking
    # blow-up on long tracebacks), or empty lines.
    r"Traceback \(most recent call last\):[ \t]*\n(?:[ \t][^\n]*\n|\n)*?"
    r"((?:[A-Za-z_][\w]*\.)*[A-Za-z_]\w*(?::[ \t]*[^\n]{0,400})?)[ \t]*$",
    re.MULTILINE,
)
_HTTP_STATUS = re.compile(
    r"(?:\bHTTP(?:/\d(?:\.\d)?)?\s+|\bstatus(?:\s+code)?[:=\s]+|\berror\s+code[:=\s]+|\bcode[:=]\s*)"
    rf"([1-5]\d\d)\b(?:[ \t\-:]+({_REASONS})\b)?",
    re.IGNORECASE,
)
_BARE_STATUS = re.compile(rf"\b(4\d\d|5\d\d)\s+({_REASONS})\b", re.IGNORECASE)
# Both status scans report only a 4xx or 5xx code.
_ERROR_STATUS = re.compile(r"[45]\d\d")
_ERROR_LINE = re.compile(
    r"^[ \t>*\-]*(?:\[?(?:ERROR|Error|error|FATAL|Fatal|fatal|Exception|Failed|failed)\]?"
    r"(?:\s+\w+){0,3}?\s*[:\-|]\s*)(.{4,400})$",
    re.MULTILINE,
)
# Plain sentences the API (or SDK) writes: a few shapes, not thread-specific phrases.
_API_PHRASES = (
    "you exceeded",
    "exceeded your",
    "rate limit",
    "too many requests",
    "quota",
    "is not supported",
    "not supported with",
    "does not support",
    "unsupported (?:parameter|value)",
    "does not exist",
    "do not have access",
    "not found",
    "incorrect api key",
    "invalid (?:api key|parameter|value|schema|request|type|model)",
    "missing (?:scopes?|required|parameter)",
    "must be (?:a |an |one of |verified|provided|supplied)",
    "is required",
    "maximum context length",
    "context length",
    "overloaded",
    "server had an error",
    "insufficient (?:permissions|quota)",
    "unauthori[sz]ed",
    "permission denied",
    "forbidden",
    "not allowed",
    "no api key",
    "api key (?:not|was not|is not)",
    "timed? ?out",
    "connection (?:error|reset|closed|refused)",
    "failed to",
    "unable to",
    "cannot",
    "can't",
    "could not",
    "rejected",
    "deactivated",
    "expired",
    "please (?:check|try|retry|reduce|contact|go to|include)",
)


def _by_first_letter(phrases: tuple[str, ...]) -> str:
    """One alternation of `phrases` (each opening with a plain letter) with the phrases that
    share a first letter in one branch: the regex engine tries a dozen branches at each
    position instead of forty. Which phrase matches may differ from the flat alternation,
    where a match starts does not."""
    branches: dict[str, list[str]] = {}
    for phrase in phrases:
        branches.setdefault(phrase[0], []).append(phrase[1:])
    return "|".join(f"{first}(?:{'|'.join(rests)})" for first, rests in branches.items())


_API_SENTENCE = re.compile(_by_first_letter(_API_PHRASES), re.IGNORECASE)
_ERRORISH = re.compile(
    r"(error|exception|fail|invalid|unsupported|not supported|denied|exceed|refus|reject|"
    r"unauthori[sz]ed|forbidden|not found|does not exist|missing|must be|is required|"
    r"overloaded|timeout|timed out|expired|quota|rate limit|\b[45]\d\d\b)",
    re.IGNORECASE,
)
# What each rule's matches must hold (bot.triage.patterns): a text without it is not
# scanned.
_QUOTE_BLOCK_NEEDS = Prefilter.of(_QUOTE_BLOCK)
_EMAIL_QUOTE_NEEDS = Prefilter.of(_EMAIL_QUOTE)
_FENCE_NEEDS = Prefilter.of(_FENCE)
_HTML_NEEDS = Prefilter.of(_HTML)
_JSON_MESSAGE_NEEDS = Prefilter.of(_JSON_MESSAGE)
_JSON_ERROR_KEY_NEEDS = Prefilter.of(_JSON_ERROR_KEY)
_PY_TRACEBACK_NEEDS = Prefilter.of(_PY_TRACEBACK)
_EXCEPTION_LINE_NEEDS = Prefilter.of(_EXCEPTION_LINE)
_HTTP_STATUS_NEEDS = Prefilter.of(_HTTP_STATUS)
_ERROR_LINE_NEEDS = Prefilter.of(_ERROR_LINE)
# Case-sensitive twins on folded text: same answers, a fraction of the time.
_API_SENTENCE_FOLDED = folded(_API_SENTENCE)
_ERRORISH_FOLDED = folded(_ERRORISH)
_JSON_ERROR_KEY_FOLDED = folded(_JSON_ERROR_KEY)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'`(])|\n+")


def split_own_words(raw: str) -> tuple[str, str]:
    """(the poster's own text, text quoted from others) for one post's raw Markdown.

    Markdown `>` blockquotes stay in the poster's text: members use them to paste the
    error they got. Discourse `[quote]` blocks and e-mail replies quote other posts.
    """
    quoted: list[str] = []

    def take(match: re.Match[str]) -> str:
        quoted.append(match.group(1).strip())
        return "\n"

    own = raw or ""
    low = fold(own)
    # Nested quotes: strip innermost first until none are left.
    for _ in range(5 if _QUOTE_BLOCK_NEEDS.may_match(own, low) else 0):
        new = _QUOTE_BLOCK.sub(take, own)
        if new == own:
            break
        own = new
    if _EMAIL_QUOTE_NEEDS.may_match(own, low):
        own = _EMAIL_QUOTE.sub(take, own)
    quoted_text = "\n\n".join(q for q in quoted if q)
    return own.strip(), quoted_text


def _clean(text: str) -> str:
    if _HTML_NEEDS.may_match(text, fold(text)):
        text = _HTML.sub(" ", text)
    text = text.replace("\\n", " ").replace('\\"', '"')
    # str.split() and the regex `\s` agree on what whitespace is.
    return " ".join(text.split()).strip("`").strip()


def _cap(text: str) -> str:
    return text if len(text) <= MAX_CANDIDATE_LEN else text[:MAX_CANDIDATE_LEN].rstrip() + "…"


def _json_candidates(text: str, low: str) -> Iterator[ErrorCandidate]:
    for m in _JSON_MESSAGE.finditer(text) if _JSON_MESSAGE_NEEDS.may_match(text, low) else ():
        msg = _clean(m.group(1) if m.group(1) is not None else m.group(2))
        if len(msg) >= 3:
            yield ErrorCandidate(_cap(msg), "json", 0.95)
    # code/type/param only inside an error object: API payloads have `type` fields too.
    starts = (
        [m.end() for m in _JSON_ERROR_KEY_FOLDED.finditer(low)]
        if _JSON_ERROR_KEY_NEEDS.may_match(text, low)
        else []
    )
    for m in _JSON_FIELD.finditer(text) if starts else ():
        if not any(0 <= m.start() - s <= ERROR_OBJECT_SPAN for s in starts):
            continue
        value = m.group(2)
        if value.lower() in ("null", "none", "error", "string", "object"):
            continue
        yield ErrorCandidate(f"{m.group(1)}: {value}", "json_code", 0.55)


def _traceback_candidates(text: str, low: str) -> Iterator[ErrorCandidate]:
    # In a Python traceback the exception line is the first unindented line after the
    # frames, whatever the exception is called (BadZipFile, StopIteration...).
    for m in _PY_TRACEBACK.finditer(text) if _PY_TRACEBACK_NEEDS.may_match(text, low) else ():
        yield ErrorCandidate(_cap(_clean(m.group(1))), "traceback", 0.9)
    if not _EXCEPTION_LINE_NEEDS.may_match(text, low):
        return
    for m in _EXCEPTION_LINE.finditer(text):
        name, msg = m.group(1), (m.group(2) or "").strip()
        if "." not in name and not name.endswith(("Error", "Exception")):
            continue
        if name.lower() in ("error", "exception"):
            continue  # a bare `Error: ...` line is an error_line, not a traceback
        line = f"{name}: {msg}" if msg else name
        yield ErrorCandidate(_cap(_clean(line)), "traceback", 0.9 if msg else 0.6)


def _http_candidates(text: str, low: str) -> Iterator[ErrorCandidate]:
    first = _ERROR_STATUS.search(text)
    if not first:
        return
    for m in _HTTP_STATUS.finditer(text) if _HTTP_STATUS_NEEDS.may_match(text, low) else ():
        if m.group(1)[0] not in "45":
            continue
        reason = f" {m.group(2).strip()}" if m.group(2) else ""
        yield ErrorCandidate(f"HTTP {m.group(1)}{reason}", "http_status", 0.5)
    # A bare status starts at its code, so none starts before the first code.
    for m in _BARE_STATUS.finditer(text, first.start()):
        yield ErrorCandidate(f"HTTP {m.group(1)} {m.group(2)}", "http_status", 0.5)


def _error_lines(text: str, low: str) -> Iterator[ErrorCandidate]:
    if not _ERROR_LINE_NEEDS.may_match(text, low):
        return
    for m in _ERROR_LINE.finditer(text):
        line = _clean(m.group(0).lstrip(" \t>*-"))
        if len(line) >= 8:
            yield ErrorCandidate(_cap(line), "error_line", 0.75)


def _sentences(text: str, kind: str, score: float) -> Iterator[ErrorCandidate]:
    if not _API_SENTENCE_FOLDED.search(fold(text)):
        return  # one scan of the whole text spares splitting it
    for sentence in _SENTENCE_SPLIT.split(text):
        s = _clean(sentence)
        if 12 <= len(s) <= MAX_CANDIDATE_LEN and _API_SENTENCE_FOLDED.search(fold(s)):
            yield ErrorCandidate(s, kind, score)


def _structured(text: str) -> list[ErrorCandidate]:
    low = fold(text)
    return [
        *_json_candidates(text, low),
        *_traceback_candidates(text, low),
        *_error_lines(text, low),
        *_http_candidates(text, low),
    ]


def extract_errors(raw: str) -> list[ErrorCandidate]:
    """Candidate error strings in `raw`, best first, without duplicates."""
    text = raw or ""
    if len(text) > MAX_SCAN_CHARS:
        half = MAX_SCAN_CHARS // 2
        text = text[:half] + "\n" + text[-half:]
    found: list[ErrorCandidate] = []

    def code_block(body: str, kind: str) -> None:
        inner = _structured(body)
        found.extend(inner)
        if not inner:
            stripped = body.strip()
            if 8 <= len(stripped) <= MAX_CANDIDATE_LEN and _ERRORISH_FOLDED.search(fold(stripped)):
                found.append(ErrorCandidate(_cap(_clean(stripped)), kind, 0.7))
            elif len(stripped) > MAX_CANDIDATE_LEN:
                found.extend(_sentences(stripped, kind, 0.5))

    def fence(m: re.Match[str]) -> str:
        code_block(m.group(2), "code")
        return "\n"

    # Each scan below needs its marker character: most posts have none of them.
    prose = _FENCE.sub(fence, text) if _FENCE_NEEDS.may_match(text, text) else text
    quotes = ">" in prose
    for m in _BLOCKQUOTE.finditer(prose) if quotes else ():
        code_block(_QUOTE_MARK.sub("", m.group(0)), "quote")
    for m in _INLINE.finditer(prose) if "`" in prose else ():
        body = m.group(1).strip()
        low = fold(body)
        if _ERRORISH_FOLDED.search(low) or _API_SENTENCE_FOLDED.search(low):
            inner = _structured(body)
            found.extend(inner or [ErrorCandidate(_cap(_clean(body)), "code", 0.65)])
    outside = _INLINE.sub(" ", prose) if "`" in prose else prose
    if quotes:
        outside = _BLOCKQUOTE.sub("\n", outside)
    found.extend(_structured(outside))
    found.extend(_sentences(outside, "sentence", 0.4))
    return _rank(found)


def _rank(found: list[ErrorCandidate]) -> list[ErrorCandidate]:
    best: dict[str, ErrorCandidate] = {}
    order: list[str] = []
    for cand in found:
        key = cand.text.lower()
        if key not in best:
            order.append(key)
            best[key] = cand
        elif cand.score > best[key].score:
            best[key] = cand
    ranked = sorted(
        (best[k] for k in order), key=lambda c: -c.score
    )  # stable: ties keep document order
    # A sentence contained in a stronger candidate adds nothing.
    kept: list[ErrorCandidate] = []
    for cand in ranked:
        low = cand.text.lower()
        if cand.kind in ("sentence", "error_line", "http_status") and any(
            low in k.text.lower() and k.score >= cand.score and k is not cand for k in kept
        ):
            continue
        kept.append(cand)
    return kept[:MAX_CANDIDATES]
