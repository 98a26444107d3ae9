"""The dashboard's building blocks alone: Markdown, rates, reasons, chart geometry."""

from __future__ import annotations

import pytest

from bot.records import DayCount
from bot.web.charts import last_days, per_day, trend
from bot.web.markdown import render_markdown
from bot.web.reasons import humanise
from bot.web.stats import Rate, wilson

# --------------------------------------------------------------------------- Markdown


def test_markdown_renders_what_the_forum_shows() -> None:
    html = str(
        render_markdown(
            "Use &lt;model&gt; here\nnext line\n\n```python\nprint('<b>')\n```\n\n"
            "- **one**\n- `two`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\nsee https://example.com"
        )
    )
    assert "<p>Use &lt;model&gt; here<br>\nnext line</p>" in html  # a newline is a break
    assert "<pre><code class=\"language-python\">print('&lt;b&gt;')\n</code></pre>" in html
    assert "<li><strong>one</strong></li>" in html and "<li><code>two</code></li>" in html
    assert "<table>" in html and "<td>1</td>" in html
    assert '<a href="https://example.com" rel="noopener noreferrer nofollow">' in html
    assert "```" not in html


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<iframe src="https://evil.test"></iframe>',
        '<p style="background:url(https://evil.test)" onclick="alert(1)">hi</p>',
        "<form action=/auth/logout><button>go</button></form>",
    ],
)
def test_markdown_never_keeps_script_frames_forms_or_handlers(source: str) -> None:
    html = str(render_markdown(source)).lower()
    # (A refused link stays as inert text, so "javascript:" may remain outside an href.)
    for bad in ("<script", "onerror", "onclick", 'href="javascript:', "<iframe", "<form", "style="):
        assert bad not in html, (source, html)


def test_images_become_links_so_the_csp_never_refuses_one() -> None:
    html = str(render_markdown("![a cat](https://img.test/cat.png)"))
    assert "<img" not in html
    assert '<a href="https://img.test/cat.png" rel="noopener noreferrer nofollow">' in html
    assert "[image: a cat]" in html


def test_empty_markdown_is_empty() -> None:
    assert str(render_markdown(None)) == "" and str(render_markdown("")) == ""


# --------------------------------------------------------------------------- rates


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(1, 2)
    assert (round(low, 4), round(high, 4)) == (0.0945, 0.9055)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)
    assert round(low, 4) == 0.7225 and high == pytest.approx(1.0)


def test_rate_says_its_sample_size() -> None:
    assert Rate(1, 2).describe() == "50 % (1 of 2; 95 % CI 9–91 %)"
    assert Rate(0, 0).describe() == "no data" and Rate(0, 0).value is None
    with pytest.raises(ValueError):
        wilson(3, 2)


# --------------------------------------------------------------------------- reasons


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ("error_p=0.93", "reads as an error report (93 %)"),
        ("error_p=0.12", "does not read as an error report (12 %)"),
        ("top=insufficient_quota:0.71", "best model match: insufficient_quota (71 %)"),
        (
            "pattern:insufficient_quota:You exceeded: your quota",
            "quotes “You exceeded: your quota”, an error pattern of insufficient_quota",
        ),
        ("p=0.84>=auto 0.80", "sure enough to reply: 84 %, the bar is 80 %"),
        (
            "p=0.55>=review 0.40",
            "sure enough for a draft, not a reply: 55 %, the draft bar is 40 %",
        ),
        ("cluster 3 (2 reports)", "grouped with similar reports (cluster #3, 2 so far)"),
        ("own post", "the bot's own post"),
    ],
)
def test_reasons_are_written_for_people_and_keep_the_raw_figure(raw: str, words: str) -> None:
    reason = humanise(raw)
    assert reason.text == words and reason.raw == raw


def test_an_unknown_reason_is_shown_as_recorded() -> None:
    reason = humanise("hourly post limit reached")
    assert reason.text == reason.raw == "hourly post limit reached"


# --------------------------------------------------------------------------- charts


def test_trend_stacks_series_per_day_and_scales_to_the_busiest_day() -> None:
    from datetime import UTC, datetime

    days = last_days(datetime(2026, 3, 10, tzinfo=UTC), 3)
    assert days == ["2026-03-08", "2026-03-09", "2026-03-10"]
    rows = [
        DayCount("2026-03-08", "reply", 1),
        DayCount("2026-03-10", "reply", 2),
        DayCount("2026-03-10", "review", 1),
        DayCount("2026-02-01", "reply", 9),  # outside the window
    ]
    assert per_day(rows, days) == [1, 0, 3]
    chart = trend({"reply": [1, 0, 2], "review": [0, 0, 2]}, days, label="x", w=300, h=130)
    assert chart.peak == 4 and chart.total == 5
    last = [b for b in chart.bars if b.title.startswith("2026-03-10")]
    assert [b.series for b in last] == ["reply", "review"]
    plot_h = 130 - 16 - 14
    assert sum(b.h for b in last) == pytest.approx(plot_h)  # the busiest day fills the plot
    assert last[1].y + last[1].h == pytest.approx(last[0].y)  # stacked, not overlapping
    assert chart.ticks[-1] == (298.0, "03-10", "end")
    small = trend({"reply": [0, 0, 0]}, days, label="x", w=100, h=30)
    assert small.bars == [] and small.peak == 1 and not small.labelled
