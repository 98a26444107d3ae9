"""Nothing a member writes can ping, embed, inject HTML or leak a secret through a reply.

Property-based: hypothesis builds adversarial member text (mentions, hashtags, HTML,
image and link syntax, BBCode, backtick runs, newlines, keys) and feeds it through
every place a reply repeats member words. The checker reads the output the way
Discourse's Markdown does: code spans and fences are inert, everything else is live.
"""

from __future__ import annotations

import os
import random
import re
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.known_issues import KnownIssue, Misconception
from bot.replies.neutralise import ZWJ, code_span, neutralise
from bot.replies.render import (
    DISCOURSE_MAX_POST_CHARS,
    MAX_REPLY_CHARS,
    EscalationSample,
    EscalationSummary,
    render_escalation,
    render_followup,
    render_reply,
    render_review_note,
    render_secret_notice,
    safe_markdown,
)
from bot.triage.types import Correction

EXAMPLES = int(os.environ.get("REPLY_PROPERTY_EXAMPLES", "1000"))
LINKS = ("https://docs.example.com/limits", "https://forum.example.com/t/limits/12")
ISSUE = KnownIssue(
    slug="quota_example",
    title="Requests fail with `quota_exceeded` after the monthly reset",
    status="workaround",
    summary="Requests fail with quota_exceeded for a few minutes after the monthly reset.",
    workaround="Retry after five minutes; contact support@example.com if it persists.",
    misconceptions=(
        Misconception("Quota resets need a new key", (r"new key",), "Keys do not hold quota."),
    ),
    links=LINKS,
    updated_at="2026-11-01T10:00:00Z",
)

# --- a small reader of Discourse Markdown ------------------------------------------------


def _strip_code(text: str) -> str:
    """Remove fenced blocks and inline code spans (CommonMark backtick-run matching)."""
    out_lines: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        opening = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            continue
        out_lines.append(line)
    # Code spans never cross a blank line (a paragraph boundary).
    return "\n\n".join(_strip_spans(p) for p in re.split(r"\n\s*\n", "\n".join(out_lines)))


_TOKEN = re.compile(r"\\.|`+", re.DOTALL)


def _strip_spans(text: str) -> str:
    out: list[str] = []
    pos = search_from = 0
    while match := _TOKEN.search(text, search_from):
        if match.group(0).startswith("\\"):
            search_from = match.end()  # an escaped character never opens a span
            continue
        n = len(match.group(0))
        close = re.compile(rf"(?<!`)`{{{n}}}(?!`)").search(text, match.end())
        if close is None:
            search_from = match.end()  # unmatched run: literal backticks
            continue
        out.append(text[pos : match.start()])
        out.append(" ")
        pos = search_from = close.end()
    out.append(text[pos:])
    return "".join(out)


def live_problems(rendered: str, allowed_links: tuple[str, ...] | None = LINKS) -> list[str]:
    """Constructs in `rendered` that Discourse would act on, outside code.

    `allowed_links` None accepts any http(s) link (maintainer Markdown may link out)."""
    live = _strip_code(rendered)
    problems: list[str] = []
    if m := re.search(r"(?<![\w\\])@[\w]", live):
        problems.append(f"mention {m.group(0)!r}")
    if m := re.search(r"(?<![\w&/\\])#[\w]", live):
        problems.append(f"hashtag {m.group(0)!r}")
    if m := re.search(r"<[A-Za-z/!?]", live):
        problems.append(f"html {m.group(0)!r}")
    if m := re.search(r"(?<!\\)!\[", live):
        problems.append("image embed")
    if m := re.search(r"(?<!\\)\[(?:img|quote|details|poll|url)\b", live, re.IGNORECASE):
        problems.append(f"bbcode {m.group(0)!r}")
    for m in re.finditer(r"(?<!\\)\]\(([^)\s]*)", live):
        if allowed_links is None:
            if not re.match(r"https?://", m.group(1)):
                problems.append(f"link to {m.group(1)!r}")
        elif m.group(1) not in allowed_links:
            problems.append(f"link to {m.group(1)!r}")
    if allowed_links is not None:
        for m in re.finditer(r"(?i)\b(?:https?|ftp):(?=//)", live):
            if not any(live.startswith(link, m.start()) for link in allowed_links):
                problems.append("live url")
    return problems


def unescaped(rendered: str) -> str:
    """What a reader sees: escapes and zero-width joiners removed."""
    return re.sub(r"\\(.)", r"\1", rendered).replace(ZWJ, "")


# --- adversarial member text -------------------------------------------------------------

_ATOMS = [
    "@admin",
    "@staff",
    "#announcements",
    "#",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<a href='https://evil.example'>x</a>",
    "![pic](https://evil.example/p.png)",
    "![](upload://abc.png)",
    "[click](https://evil.example)",
    "[img]https://evil.example/x.png[/img]",
    '[quote="admin, post:1, topic:2"]hi[/quote]',
    "[details=x]y[/details]",
    "`",
    "``",
    "```",
    "~~~",
    "\n",
    "\n\n",
    "\r\n> ",
    "\n# Heading\n",
    "\n- item\n",
    "1. ",
    "**",
    "_",
    "\\",
    "|",
    "&lt;b&gt;",
    "&#64;admin",
    "https://evil.example/phish",
    "www.evil.com",
    "evil.com/login",
    "javascript:alert(1)",
    ":smile:",
    "\u202e",
    "\u200b@admin",
    "ｓｋ-",
    "request includes unauthorized scopes",
]


_SECRET_PREFIXES = ("sk-", "sk-proj-", "sess-", "Bearer ", "sk-svcacct-")
_FILLER = ("error", "key", "api.all.read", " ", ": ", "the ", "Plus ")


def _random_secret(rng: random.Random) -> str:
    body = "".join(rng.choices(string.ascii_letters + string.digits, k=rng.randint(30, 80)))
    return rng.choice(_SECRET_PREFIXES) + body


def _random_unicode(rng: random.Random) -> str:
    # Any code point outside the surrogates, weighted towards ASCII punctuation.
    pool = string.punctuation + string.whitespace
    return "".join(
        rng.choice(pool) if rng.random() < 0.5 else chr(rng.randint(1, 0xD7FF))
        for _ in range(rng.randint(0, 12))
    )


def build_member_text(rng: random.Random) -> tuple[str, list[str]]:
    """Adversarial text plus the secrets planted in it."""
    parts: list[str] = []
    planted: list[str] = []
    for _ in range(rng.randint(0, 8)):
        choice = rng.randint(0, 3)
        if choice == 0:
            parts.append(rng.choice(_ATOMS))
        elif choice == 1:
            parts.append(_random_unicode(rng))
        elif choice == 2:
            secret = _random_secret(rng)
            planted.append(secret.split(" ")[-1])
            parts.append(f" {secret} ")
        else:
            parts.append(rng.choice(_FILLER))
    return "".join(parts), planted


# Hypothesis draws one seed per case (drawing every fragment separately is ~10x slower
# on a loaded machine); a failing case still reports its seed and shrinks towards 0.
@st.composite
def member_text(draw: st.DrawFn) -> tuple[str, list[str]]:
    return build_member_text(random.Random(draw(st.integers(0, 2**64))))


def assert_safe(rendered: str, planted: list[str], links: tuple[str, ...] | None = LINKS) -> None:
    problems = live_problems(rendered, links)
    assert not problems, (problems, rendered)
    visible = unescaped(rendered)
    for secret in planted:
        assert secret not in visible, "secret echoed"
        assert secret[-12:] not in visible, "secret tail echoed"


@settings(max_examples=EXAMPLES, deadline=None)
@given(error=member_text(), claim=member_text(), forum=member_text())
def test_property_reply_never_carries_live_member_markup_or_secrets(
    error: tuple[str, list[str]], claim: tuple[str, list[str]], forum: tuple[str, list[str]]
) -> None:
    rendered = render_reply(
        ISSUE,
        error_string=error[0],
        corrections=[Correction(claim=claim[0], correction="Keys do not hold quota.")],
        forum_name=forum[0],
        secret_kinds=["openai_key"] if error[1] else [],
    )
    assert_safe(rendered, error[1] + claim[1] + forum[1])
    assert len(rendered) <= MAX_REPLY_CHARS


@settings(max_examples=max(EXAMPLES // 4, 100), deadline=None)
@given(title=member_text(), excerpt=member_text(), normalised=member_text())
def test_property_escalation_is_safe(
    title: tuple[str, list[str]], excerpt: tuple[str, list[str]], normalised: tuple[str, list[str]]
) -> None:
    summary = EscalationSummary(
        cluster_id=1,
        fingerprint="abc",
        normalised=normalised[0],
        count=2,
        reporters=2,
        first_seen="2026-11-01",
        last_seen="2026-11-02",
        samples=(EscalationSample(title[0], "https://example.org/t/1", excerpt[0]),),
        dashboard_url="https://example.org/queue/1",
    )
    topic_title, raw = render_escalation(summary)
    planted = title[1] + excerpt[1] + normalised[1]
    assert_safe(raw, planted, ("https://example.org/t/1", "https://example.org/queue/1"))
    assert "\n" not in topic_title and len(topic_title) <= 200
    for secret in planted:
        assert secret not in topic_title


@settings(max_examples=max(EXAMPLES // 4, 100), deadline=None)
@given(text=member_text())
def test_property_maintainer_markdown_is_defused(text: tuple[str, list[str]]) -> None:
    # Maintainer fields may have been promoted from member text; they get the same guard.
    issue = KnownIssue(
        slug="x_issue",
        title=text[0][:200] or "t",
        status="fixed",
        summary=text[0] or "s",
        workaround=text[0] or "w",
        links=LINKS,
    )
    assert_safe(render_reply(issue, error_string=None, corrections=[]), text[1], None)
    assert_safe(render_followup(issue, "identified", note=text[0]), text[1], None)
    assert_safe(safe_markdown(text[0]), text[1], None)


@settings(max_examples=max(EXAMPLES // 2, 100), deadline=None)
@given(text=st.text(max_size=200))
def test_property_code_span_round_trips_one_line(text: str) -> None:
    span = code_span(text)
    if not span:
        return
    assert "\n" not in span
    assert _strip_code(span).strip() == ""  # the whole span is code: nothing live
    assert not live_problems(neutralise(text))


def test_known_attacks_are_defused() -> None:
    out = neutralise("@admin see <script>x</script> ![a](https://e.example/i.png) #staff")
    assert not live_problems(out)
    assert "admin" in out and "script" in out  # the words stay readable
    span = code_span("a ``` b `` c")
    assert span.startswith("````") and span.endswith("````")
    assert code_span("`tick`") == "`` `tick` ``"


def test_reply_length_is_bounded_for_huge_entries() -> None:
    big = KnownIssue(
        slug="big_issue",
        title="T" * 200,
        status="workaround",
        summary="word " * 400,
        workaround="\n".join(f"- step {i} " + "x" * 80 for i in range(60)),
        links=LINKS * 3,
    )
    corrections = [Correction("c" * 500, "d" * 1000) for _ in range(10)]
    text = render_reply(big, error_string="e" * 5000, corrections=corrections)
    assert len(text) <= MAX_REPLY_CHARS < DISCOURSE_MAX_POST_CHARS
    assert "Triage bot" in text  # the footer survives trimming


def test_secret_notice_never_quotes_the_key() -> None:
    text = render_secret_notice(["openai_project_key"], forum_name="@everyone <b>")
    assert "revoke" in text and not live_problems(text)


def test_review_note_neutralises_reasons() -> None:
    text = render_review_note(None, confidence=0.5, reasons=["@admin <b>", "`x`"])
    assert not live_problems(text)


def test_a_pasted_key_never_reaches_the_reply_by_any_path() -> None:
    from bot.triage.advice import find_corrections
    from bot.triage.secrets import secret_kinds

    key = "sk-proj-" + "Qm4nR8sT2vW6xY0zA3bC5dE7fG9hJ1kL3mN5pQ7"
    first = f"Calling with {key} gives `quota error for key {key}`"
    advice = f"ChatGPT says you need a new key: {key} is old."
    issue = KnownIssue(
        slug="quota_example",
        title="Quota errors",
        status="identified",
        summary=f"Members paste keys like {key} here.",
        workaround=f"Rotate {key}.",
        misconceptions=(
            Misconception("Needs a new key", (r"need a new key",), f"No: {key} is fine."),
        ),
    )
    corrections = find_corrections([first, advice], issue)
    assert corrections and all(key not in c.claim for c in corrections)
    reply = render_reply(
        issue, error_string=first, corrections=corrections, secret_kinds=secret_kinds(first)
    )
    assert key not in unescaped(reply) and key[-10:] not in unescaped(reply)
    assert "Your post contains an API key" in reply
