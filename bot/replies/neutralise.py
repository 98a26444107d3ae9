"""Make member-written text safe to repeat inside a Discourse post.

Anything the bot quotes from a thread (an error string, a sentence of pasted advice,
a topic title) could otherwise @mention people, #-link categories, embed images or
HTML, open BBCode blocks, create links or break the surrounding Markdown. Two forms:

- `code_span(text)`: an inline code span whose backtick fence is longer than any
  backtick run inside. Nothing inside a code span is interpreted by Discourse
  (no mentions, hashtags, HTML, links, emoji, BBCode), so it is the strongest form
  and is used for error strings.
- `neutralise(text)`: prose that reads naturally but is inert: HTML-significant
  characters become entities, Markdown punctuation is backslash-escaped, and @, #
  and URL schemes are broken with a zero-width joiner (Discourse's mention and
  hashtag rules run on text after escapes, so a backslash alone is not enough).

Both redact secrets first and collapse the text to one line (`clean_quote`, shared
with the triage layer in `bot.triage.plaintext`): a quote never needs more, and a
newline would let text escape the block it sits in.
"""

from __future__ import annotations

import re

from bot.triage.plaintext import DEFAULT_MAX_CHARS, clean_quote, one_line, shorten

__all__ = ["ZWJ", "clean_quote", "code_span", "neutralise", "one_line", "plain_title", "shorten"]

ZWJ = "\u200d"

# Discourse linkifies bare domains for these TLDs (markdown_linkify_tlds default).
_LINKIFY_TLDS = "com|net|org|io|onebox|co|tv|ru|cn|us|uk|me|de|fr|fi|gov"
_DOMAIN_DOT = re.compile(rf"(?<=[A-Za-z0-9-])\.(?=(?:{_LINKIFY_TLDS})\b)", re.IGNORECASE)
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}):(?=//)")
_WWW = re.compile(r"(?i)\bwww\.")
# Backslash-escapable ASCII punctuation that Markdown or Discourse give meaning to.
# Only characters that act mid-line are escaped everywhere; line-start markers are
# handled separately so that ordinary prose stays readable in the raw post.
_MD_PUNCT = set("\\`*_[]|~")
_LINE_START = re.compile(r"^(?:[-+=>]|\d{1,9}[.)])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}


def neutralise(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Inert prose for a Discourse post (see the module docstring)."""
    plain = clean_quote(text, max_chars)
    plain = _SCHEME.sub(lambda m: m.group(1) + ":" + ZWJ, plain)
    plain = _WWW.sub(lambda m: m.group(0)[:3] + ZWJ + ".", plain)
    plain = _DOMAIN_DOT.sub("." + ZWJ, plain)
    out: list[str] = []
    for ch in plain:
        if ch in _HTML:
            out.append(_HTML[ch])
        elif ch in "@#":
            out.append(ch + ZWJ)
        elif ch in _MD_PUNCT:
            out.append("\\" + ch)
        else:
            out.append(ch)
    result = "".join(out)
    if _LINE_START.match(result):
        # A quote placed at the start of a line must not become a list, heading or quote.
        result = "\\" + result if not result[0].isdigit() else _escape_ordinal(result)
    return result


def _escape_ordinal(text: str) -> str:
    match = re.match(r"^(\d{1,9})([.)])", text)
    assert match is not None
    return match.group(1) + "\\" + match.group(2) + text[match.end() :]


def code_span(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """An inline code span holding `text` verbatim (after redaction), whatever it contains."""
    plain = clean_quote(text, max_chars)
    if not plain:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", plain)), default=0)
    fence = "`" * (longest + 1)
    # A space keeps a leading/trailing backtick from joining the fence; CommonMark strips
    # exactly one space on each side when both are present.
    pad = " " if plain.startswith("`") or plain.endswith("`") else ""
    return f"{fence}{pad}{plain}{pad}{fence}"


def plain_title(text: str, max_chars: int = 120) -> str:
    """A topic title: titles are not Markdown, but they must be one short, redacted line."""
    return clean_quote(text, max_chars)
