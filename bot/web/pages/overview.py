"""Overview: headline figures for the last day and week, and a daily chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.records import DayCount
from bot.triage.types import ACTIONS
from bot.web.common import iso_ago, render, web
from bot.web.stats import Rate

CHART_DAYS = 14
CHART_W = 560
CHART_H = 160
CHART_ACTIONS = (*ACTIONS, "skip")


@dataclass(frozen=True)
class Figures:
    posts_seen: int  # members' posts: the bot's own replies are not counted
    own_posts: int  # the bot's own replies it read back (and skipped)
    replies_posted: int
    drafts_waiting: int
    open_clusters: int
    corrections: int
    staff_rejected: int
    precision: Rate  # n = 0 until staff have judged anything

    @classmethod
    def from_counts(cls, c: dict[str, int], own_posts: int = 0) -> Figures:
        rejected = c["drafts_rejected"] + c["replies_removed"]
        # Proposed answers = replies that went out (auto or approved) + drafts
        # staff refused; precision is the share staff did not reject.
        proposed = c["replies_posted"] + c["drafts_rejected"]
        return cls(
            posts_seen=max(0, c["posts_seen"] - own_posts),
            own_posts=own_posts,
            replies_posted=c["replies_posted"],
            drafts_waiting=c["drafts_waiting"],
            open_clusters=c["open_clusters"],
            corrections=c["corrections"],
            staff_rejected=rejected,
            precision=Rate(max(0, proposed - rejected), proposed),
        )


def chart(rows: list[DayCount], today: datetime) -> dict[str, Any]:
    """Stacked daily bars of decisions by action, as SVG geometry."""
    days = [(today - timedelta(days=i)).strftime("%Y-%m-%d") for i in range(CHART_DAYS - 1, -1, -1)]
    per_day: dict[str, dict[str, int]] = {d: dict.fromkeys(CHART_ACTIONS, 0) for d in days}
    for row in rows:
        if row.day in per_day and row.action in CHART_ACTIONS:
            per_day[row.day][row.action] += row.n
    peak = max((sum(v.values()) for v in per_day.values()), default=0) or 1
    slot = CHART_W / CHART_DAYS
    plot_h = CHART_H - 20
    bars: list[dict[str, Any]] = []
    labels: list[dict[str, Any]] = []
    for i, day in enumerate(days):
        y = float(plot_h)
        for action in CHART_ACTIONS:
            n = per_day[day][action]
            if not n:
                continue
            h = plot_h * n / peak
            y -= h
            bars.append(
                {
                    "x": round(i * slot + 4, 1),
                    "y": round(y, 1),
                    "w": round(slot - 8, 1),
                    "h": round(h, 1),
                    "action": action,
                    "title": f"{day}: {n} {action}",
                }
            )
        labels.append({"x": round(i * slot + slot / 2, 1), "text": day[5:], "y": CHART_H - 4})
    return {
        "w": CHART_W,
        "h": CHART_H,
        "bars": bars,
        "labels": labels,
        "peak": peak,
        "actions": CHART_ACTIONS,
        "empty": not rows,
    }


async def overview(request: Request) -> Response:
    store = web(request).store
    figures = {}
    for name, days in (("day", 1), ("week", 7)):
        since = iso_ago(timedelta(days=days))
        figures[name] = Figures.from_counts(
            store.dashboard_counts(since), store.own_posts_seen(since)
        )
    day, week = figures["day"], figures["week"]
    now = datetime.now(UTC)
    # Like "posts seen", the chart leaves out the bot reading its own replies back.
    rows = store.decisions_per_day(iso_ago(timedelta(days=CHART_DAYS)), exclude_own=True)
    return render(
        request, "overview.html.j2", {"day": day, "week": week, "chart": chart(rows, now)}
    )


ROUTES = [Route("/", overview, methods=["GET"])]
