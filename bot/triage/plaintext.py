"""Plain-text helpers the triage layer and the replies layer both need.

They live here, in the lower layer, so that `bot.replies` (which renders what triage
decided) can use them without `bot.triage` ever importing `bot.replies`:

- `clean_quote`: redacted, single-line, shortened text, the raw material of any quote
  of a member's words (a correction's claim, an attribution, a reply's quote);
- `FENCE_RE`: the opening (or closing) line of a fenced code block;
- `BOT_SIGNATURE` and `is_bot_text`: the signature the bot's own posts carry, so that
  advice detection never "corrects" the bot or a member quoting it;
- `OBJECT_ID`: an object's id, which names no API thing.
"""

from __future__ import annotations

import re
import unicodedata

from bot.triage.secrets import redact

DEFAULT_MAX_CHARS = 300
ELLIPSIS = "…"

# A fence opens with three or more backticks or tildes, indented at most three spaces.
FENCE_RE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")

# The footer of every bot post opens with this signature (`:robot:` is how the emoji
# reads in a post's raw Markdown).
BOT_SIGNATURE = "🤖 Triage bot"
BOT_SIGNATURE_RE = re.compile(r"(?:🤖|:robot:)\s*Triage bot", re.IGNORECASE)

# An object's id ("req_1af8f085b948", "run_abc123def"): quoted from somewhere, never an
# API name (an invented one, or a parameter). Read lower-cased.
OBJECT_ID = re.compile(r"^[a-z]{2,9}_(?=[a-z0-9]*\d)[a-z0-9]{8,}$")


def is_bot_text(text: str) -> bool:
    """True when `text` carries the bot's signature (its own post or a quote of one)."""
    return bool(BOT_SIGNATURE_RE.search(text))


def one_line(text: str) -> str:
    """Collapse whitespace and drop control and formatting characters."""
    if text.isascii() and text.isprintable():
        return " ".join(text.split())  # nothing to drop: the loop below would keep every char
    cleaned = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cs", "Cn"):
            # Control, format (bidi overrides, zero-width), separators, private use
            cleaned.append(" " if ch in "\t\n\r\x0b\x0c\u2028\u2029\x85" else "")
        else:
            cleaned.append(ch)
    return " ".join("".join(cleaned).split())


def shorten(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    if len(text) <= max_chars:
        return text
    cut = text[: max(1, max_chars - 1)]
    space = cut.rfind(" ")
    if space > max_chars // 2:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def clean_quote(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Redacted, single-line, shortened plain text: the raw material of any quote."""
    return shorten(one_line(redact(text)), max_chars)
