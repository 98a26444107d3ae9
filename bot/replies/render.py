"""Render what the bot posts: replies, secret notices, escalations, review notes, follow-ups.

Templates live in bot/replies/templates/*.md.j2 (Markdown for Discourse) and run with
StrictUndefined, so a missing field is an error at render time instead of a silent
blank in a public post. Every value that can carry member-written text goes through
a neutralising filter (`neutralise`, `code`); maintainer-written Markdown (workaround,
summary, corrections) goes through `safe_markdown`, which keeps formatting and links
but still strips mentions, HTML, images and secrets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.known_issues import KnownIssue
from bot.replies.neutralise import ZWJ, code_span, neutralise, plain_title
from bot.triage.plaintext import BOT_SIGNATURE, FENCE_RE, is_bot_text, one_line, shorten
from bot.triage.secrets import KIND_LABELS, redact
from bot.triage.types import MAX_CORRECTIONS, Answer, Correction, Decision

# jinja2 is imported at the first template rendered: a run that posts nothing (a batch
# of ignores and escalations, `triagebot --help`) starts without it.
if TYPE_CHECKING:
    import jinja2

__all__ = [
    "BOT_SIGNATURE",
    "EscalationSample",
    "EscalationSummary",
    "MAX_REPLY_CHARS",
    "STATUS_LABELS",
    "decision_json",
    "is_bot_text",
    "neutralise",
    "render_decision",
    "render_escalation",
    "render_followup",
    "render_reply",
    "render_review_note",
    "render_secret_notice",
    "safe_markdown",
]

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Discourse's default max_post_length is 32000; a reply read on a phone should be a
# small fraction of that, so longer parts are cut well before the forum would refuse.
MAX_REPLY_CHARS = 4000
DISCOURSE_MAX_POST_CHARS = 32000
SUMMARY_CHARS = 240
WORKAROUND_CHARS = 1500

STATUS_LABELS: dict[str, str] = {
    "investigating": "investigating",
    "identified": "cause identified",
    "workaround": "workaround available",
    "fixed": "fixed",
    "wont_fix": "won't fix",
    "expected_behaviour": "expected behaviour",
}

# The footer opens with BOT_SIGNATURE; advice detection uses it (`is_bot_text`) to
# recognise the bot's own posts (and members quoting them) so it never "corrects" itself.


@dataclass(frozen=True)
class EscalationSample:
    title: str
    url: str = ""
    excerpt: str = ""


@dataclass(frozen=True)
class EscalationSummary:
    """What staff need to judge a cluster of unmatched reports."""

    cluster_id: int
    fingerprint: str
    normalised: str
    count: int
    reporters: int
    first_seen: str
    last_seen: str
    samples: tuple[EscalationSample, ...] = ()
    crossed_size: int | None = None  # set when the message announces a size threshold
    dashboard_url: str = ""
    sample_limit: int = field(default=5, compare=False)


# --- filters ---------------------------------------------------------------------------

# Mentions and hashtags start after a non-word character; e-mail addresses stay intact.
_MENTION_RE = re.compile(r"(?:(?<!\w)@|(?<![\w/&])#)(?=\w)", re.UNICODE)
_QUOTE_PREFIX_RE = re.compile(r"^(\s*(?:>\s?)*)")
_IMAGE_RE = re.compile(r"!\[")
_SCHEMES_OK = ("http", "https")


def _safe_segment(text: str) -> str:
    """Prose outside code: no mentions, hashtags, HTML or image embeds; links stay."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _IMAGE_RE.sub("!\\[", text)
    text = _MENTION_RE.sub(lambda m: m.group(0) + ZWJ, text)
    # Links stay only when they go to http(s); anything else (upload://, javascript:)
    # is shown as text.
    text = re.sub(r"\]\((?!\s*https?://)", "]\\(", text)
    # Discourse BBCode that embeds or hides content.
    text = re.sub(r"\[(/?)(img|quote|details|poll|spoiler|wrap)", r"\\[\1\2", text, flags=re.I)
    return text


def split_code(line: str) -> list[tuple[bool, str]]:
    """Split a line into (is_code, text) parts the way CommonMark pairs backtick runs.

    A code span opens at a maximal run of n unescaped backticks and closes at the next
    maximal run of exactly n; an unmatched run is literal text.
    """
    parts: list[tuple[bool, str]] = []
    text_start = 0
    pos = 0
    while pos < len(line):
        ch = line[pos]
        if ch == "\\":
            pos += 2
            continue
        if ch != "`":
            pos += 1
            continue
        run_end = pos
        while run_end < len(line) and line[run_end] == "`":
            run_end += 1
        n = run_end - pos
        close = re.compile(rf"(?<!`)`{{{n}}}(?!`)").search(line, run_end)
        if close is None:
            pos = run_end
            continue
        if pos > text_start:
            parts.append((False, line[text_start:pos]))
        parts.append((True, line[pos : close.end()]))
        pos = text_start = close.end()
    if text_start < len(line):
        parts.append((False, line[text_start:]))
    return parts


def _safe_line(line: str) -> str:
    prefix = _QUOTE_PREFIX_RE.match(line)
    lead = prefix.group(1) if prefix else ""
    rest = line[len(lead) :]
    if rest.startswith("#") and re.match(r"#{1,6}\s", rest):
        # Headings inside a reply would shout on a phone: keep the text, drop the level.
        rest = rest.lstrip("#").lstrip()
    return lead + "".join(
        part if is_code else _safe_segment(part) for is_code, part in split_code(rest)
    )


def safe_markdown(text: str, max_chars: int | None = None) -> str:
    """Maintainer Markdown made inert where it could ping, embed or inject; code is kept."""
    text = redact(text.strip())
    if max_chars is not None:
        text = (
            shorten(text, max_chars)
            if "\n" not in text[:max_chars]
            else _cut_lines(text, max_chars)
        )
    lines: list[str] = []
    fence: str | None = None
    for line in text.splitlines():
        opening = FENCE_RE.match(line)
        if fence is not None:
            lines.append(line)
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            lines.append(line)
            continue
        lines.append(_safe_line(line))
    if fence is not None:
        lines.append(fence)  # an unclosed fence would swallow the rest of the reply
    return "\n".join(lines)


def _cut_lines(text: str, max_chars: int) -> str:
    kept: list[str] = []
    total = 0
    for line in text.splitlines():
        if total + len(line) + 1 > max_chars:
            kept.append("…")
            break
        kept.append(line)
        total += len(line) + 1
    return "\n".join(kept)


def safe_inline(text: str, max_chars: int = 600) -> str:
    """Maintainer text placed inside one list item: one line, still Markdown."""
    return _safe_line(shorten(one_line(redact(text)), max_chars))


def _day(value: str) -> str:
    value = str(value).strip()
    match = re.match(r"^\d{4}-\d{2}-\d{2}", value)
    return match.group(0) if match else neutralise(value, 40)


def _status_label(status: str) -> str:
    return STATUS_LABELS.get(status, neutralise(status, 40))


def _link_url(url: str) -> str:
    """A maintainer link fit for `[label](url)`: http(s) only, no spaces or parentheses."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES_OK or not parts.netloc:
        return "#"
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29").replace("<", "%3C")


def _link_label(url: str) -> str:
    """A short, readable label for a maintainer link (the URL itself stays the target)."""
    parts = urlsplit(url.strip())
    host = parts.netloc.lower().removeprefix("www.")
    segments = [s for s in parts.path.split("/") if s]
    if host == "github.com" and "issues" in segments:
        label = "GitHub issue"
    elif host == "github.com" and "pull" in segments:
        label = "GitHub pull request"
    elif segments[:1] == ["t"]:
        label = f"{host} thread"
    elif "docs" in segments[:1] or host.startswith("docs."):
        label = f"{host} docs"
    elif host.startswith("help.") or "articles" in segments:
        label = f"{host} help article"
    else:
        label = host or "link"
    return re.sub(r"[^A-Za-z0-9.\- ]", "", label)[:60] or "link"


def _secret_labels(kinds: Sequence[str]) -> str:
    labels: list[str] = []
    for kind in kinds:
        label = KIND_LABELS.get(kind, "a secret")
        if label not in labels:
            labels.append(label)
    if not labels:
        return "a secret such as an API key"
    if len(labels) == 1:
        return labels[0]
    return ", ".join(labels[:-1]) + " and " + labels[-1]


MEMO_SIZE = 1024


def _memo(fn: Callable[..., str]) -> Callable[..., str]:
    """`fn` (pure, over strings and numbers) with a bounded cache of its results."""
    cached = lru_cache(maxsize=MEMO_SIZE)(fn)

    def call(text: object, *args: object) -> str:
        if type(text) is str and all(a is None or type(a) is int for a in args):
            return cached(text, *args)
        return fn(text, *args)

    return call


@cache
def environment() -> jinja2.Environment:
    """The template environment (built once; it holds no per-call state)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML: escaping is done by the filters above
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # templates ship with the package: no stat() per render
    )
    env.filters.update(
        neutralise=neutralise,
        code=code_span,
        # Maintainer text (titles, summaries, workarounds, corrections) is the same in
        # every reply for an issue: each distinct text is made safe once.
        safe_markdown=_memo(safe_markdown),
        safe_inline=_memo(safe_inline),
        day=_memo(_day),
        status_label=_memo(_status_label),
        link_url=_memo(_link_url),
        link_label=_memo(_link_label),
        secret_labels=_secret_labels,
    )
    return env


def _finish(text: str) -> str:
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n"


@lru_cache(maxsize=MEMO_SIZE)  # one staff contact per forum: the same footer every time
def _footer(staff_contact: str) -> str:
    contact = staff_contact.strip()
    if re.fullmatch(r"@[\w.-]{1,60}", contact):
        how = f"reply mentioning {code_span(contact)}"
    elif contact:
        how = f"reply and tell {neutralise(contact, 60)}"
    else:
        how = "reply here"
    return f"_{BOT_SIGNATURE} · automated answer. If it is wrong, flag this post or {how}._"


def _render(name: str, **context: object) -> str:
    import jinja2

    try:
        return _finish(environment().get_template(name).render(**context))
    except jinja2.UndefinedError as exc:
        # A template asking for a field we do not pass is a programming error; name it.
        raise RuntimeError(f"template {name}: {exc.message}") from None


@lru_cache(maxsize=MEMO_SIZE)  # an issue's summary: the same text in each of its replies
def _first_sentences(text: str, max_chars: int) -> str:
    """Whole sentences only: a summary cut mid-sentence can say something untrue."""
    flat = one_line(text)
    if len(flat) <= max_chars:
        return flat
    ends = [i for i in _sentence_ends(flat) if i < max_chars]
    return flat[: ends[-1] + 1] if ends else ""


_NOT_ENDINGS = ("e.g.", "i.e.", "etc.", "vs.")


def _sentence_ends(flat: str) -> list[int]:
    """Indexes of the punctuation that ends a sentence, in order.

    A ". " inside a quotation, parentheses or `code`, or an ellipsis ("... on
    tokens"), does not end the sentence around it: cutting there would leave a
    quote open in the reply.
    """
    ends: list[int] = []
    quoted = code = False
    depth = 0
    for i, ch in enumerate(flat):
        if ch == "`":
            code = not code
        elif code:
            continue
        elif ch == '"':
            quoted = not quoted
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch in ".!?" and not quoted and not depth:
            follows = flat[i + 1 : i + 2]
            if follows not in ("", " ") or flat[max(0, i - 2) : i] == "..":
                continue
            if ch == "." and flat[: i + 1].lower().endswith(_NOT_ENDINGS):
                continue
            ends.append(i)
    return ends


def render_reply(
    issue: KnownIssue,
    *,
    error_string: str | None,
    corrections: Sequence[Correction] = (),
    forum_name: str = "",
    staff_contact: str = "@staff",
    secret_kinds: Sequence[str] = (),
    fixed_since: str | None = None,
    include_summary: bool = True,
) -> str:
    """The public answer for a post that matches `issue`.

    `secret_kinds` (from `bot.triage.secrets.secret_kinds`) prepends the rotate-your-key
    notice so that one post covers both. Output is always under MAX_REPLY_CHARS: when a
    long entry would exceed it, the summary, then corrections, then the workaround are cut.
    """
    kept = list(corrections)[:MAX_CORRECTIONS]
    summary = _first_sentences(issue.summary, SUMMARY_CHARS) if include_summary else ""
    workaround_chars = WORKAROUND_CHARS
    while True:
        shown = _trim_issue(issue, workaround_chars)
        text = _render(
            "reply.md.j2",
            issue=shown,
            error_string=error_string or "",
            corrections=kept,
            summary=summary,
            footer=_footer(staff_contact),
            forum_name=forum_name,
            secret_kinds=list(secret_kinds),
            fixed_since=fixed_since or "",
        )
        if len(text) <= MAX_REPLY_CHARS:
            return text
        if summary:
            summary = ""
        elif len(kept) > 1:
            kept = kept[:-1]
        elif workaround_chars > 200:
            workaround_chars //= 2
        else:
            return shorten(text, MAX_REPLY_CHARS - 1)


# Posts are grouped because the same error strings recur: identical answers (the entry,
# the quoted error, the corrections) reuse the rendered text.
REPLY_CACHE = 2048


def render_decision(decision: Decision) -> str | None:
    """The reply (or review draft) a triage decision calls for; None when it says nothing."""
    if decision.answer is None:
        return None
    return _answer_text(decision.answer, decision.corrections)


@lru_cache(maxsize=REPLY_CACHE)
def _answer_text(answer: Answer, corrections: tuple[Correction, ...]) -> str:
    return render_reply(
        answer.issue,
        error_string=answer.error_string,
        corrections=corrections,
        secret_kinds=answer.secret_kinds,
    )


def clear_reply_cache() -> None:
    """Forget rendered answers (for cold-start measurements; the text never depends on it)."""
    _answer_text.cache_clear()


def decision_json(decision: Decision) -> dict[str, object]:
    """One line of the batch contract (DESIGN.md): the decision with its reply rendered."""
    return decision.to_json(render_decision(decision))


def _trim_issue(issue: KnownIssue, workaround_chars: int) -> KnownIssue:
    from dataclasses import replace

    workaround = issue.workaround
    if len(workaround) > workaround_chars:
        workaround = _cut_lines(workaround, workaround_chars)
    return replace(issue, workaround=workaround, links=tuple(issue.links[:4]))


def render_secret_notice(
    kinds: Sequence[str] = (), *, forum_name: str = "", staff_contact: str = "@staff"
) -> str:
    """Tell a member to revoke and rotate a pasted credential, without quoting it."""
    return _render(
        "secret_notice.md.j2",
        secret_kinds=list(kinds),
        forum_name=forum_name,
        footer=_footer(staff_contact),
    )


def render_followup(
    issue: KnownIssue,
    previous_status: str,
    note: str = "",
    *,
    fixed_since: str | None = None,
    staff_contact: str = "@staff",
) -> str:
    """Posted once in each answered topic when an issue's status changes."""
    return _render(
        "followup.md.j2",
        issue=_trim_issue(issue, WORKAROUND_CHARS),
        previous_status=previous_status,
        note=note,
        fixed_since=fixed_since or (issue.updated_at if issue.status == "fixed" else ""),
        footer=_footer(staff_contact),
    )


def render_escalation(summary: EscalationSummary) -> tuple[str, str]:
    """(title, raw) of the staff message announcing a cluster of unmatched reports."""
    error = plain_title(summary.normalised, 90) or summary.fingerprint[:16]
    noun = "report" if summary.count == 1 else "reports"
    # The cluster id keeps each notice's title unique (Discourse refuses a topic title
    # already used, and two clusters can share their error's wording) and long enough
    # for min_topic_title_length.
    suffix = f" (cluster {summary.cluster_id})"
    title = plain_title(f"New problem: {summary.count} {noun} of {error}", 200 - len(suffix))
    title = f"{title}{suffix}"
    shown = EscalationSummary(
        cluster_id=summary.cluster_id,
        fingerprint=summary.fingerprint,
        normalised=summary.normalised,
        count=summary.count,
        reporters=summary.reporters,
        first_seen=summary.first_seen,
        last_seen=summary.last_seen,
        samples=tuple(summary.samples[: summary.sample_limit]),
        crossed_size=summary.crossed_size,
        dashboard_url=summary.dashboard_url,
    )
    return title, _render("escalation.md.j2", s=shown)


def render_review_note(
    issue: KnownIssue | None,
    *,
    confidence: float,
    reasons: Sequence[str] = (),
    threshold: float | None = None,
    corrections_count: int = 0,
    secrets_found: bool = False,
) -> str:
    """A note for staff beside a draft: why it was not posted and what to check."""
    return _render(
        "review_note.md.j2",
        issue=issue,
        confidence=float(confidence),
        reasons=list(reasons)[:8],
        threshold=threshold,
        corrections_count=corrections_count,
        secrets_found=secrets_found,
    )
