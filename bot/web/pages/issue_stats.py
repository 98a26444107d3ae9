"""Per known issue: how often it is hit, answered, drafted, rejected and corrected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.known_issues import KnownIssue
from bot.store import Store
from bot.web.charts import Trend, last_days, per_day, trend
from bot.web.common import iso_ago
from bot.web.stats import Rate

WINDOW_DAYS = 28


@dataclass(frozen=True)
class IssueStats:
    slug: str
    hits: int  # posts the bot matched to the issue (its own replies left out)
    replies: int  # replies posted
    drafts: int  # drafts made for review
    drafts_rejected: int  # drafts staff rejected
    replies_removed: int  # posted replies a human removed
    corrected: int  # replies a human edited or answered as staff
    corrections: int  # misconceptions the bot corrected in threads
    trend: Trend

    @property
    def rejected(self) -> int:
        return self.drafts_rejected + self.replies_removed

    @property
    def precision(self) -> Rate:
        """Of what the bot proposed that staff could judge (posted replies, rejected
        drafts), the share that stood: the overview's measure, for one issue."""
        judged = self.replies + self.drafts_rejected
        return Rate(max(0, judged - self.rejected), judged)


def issue_stats(store: Store, issues: list[KnownIssue], *, wide: bool = False) -> list[IssueStats]:
    """One IssueStats per issue, over the last WINDOW_DAYS days."""
    since = iso_ago(timedelta(days=WINDOW_DAYS))
    days = last_days(datetime.now(UTC), WINDOW_DAYS)
    activity = store.issue_activity(since)
    daily = store.issue_hits_per_day(since)
    out: list[IssueStats] = []
    for issue in issues:
        a = activity.get(issue.slug, {})
        rows = [r for r in daily if r.issue == issue.slug]
        answered = per_day([r for r in rows if r.action == "reply"], days)
        drafted = per_day([r for r in rows if r.action == "review"], days)
        other = per_day([r for r in rows if r.action not in ("reply", "review")], days)
        chart = trend(
            {"reply": answered, "review": drafted, "other": other},
            days,
            label=f"Posts matched to {issue.slug} per day",
            w=560 if wide else 140,
            h=140 if wide else 36,
        )
        out.append(
            IssueStats(
                slug=issue.slug,
                hits=a.get("hits", 0),
                replies=a.get("replies", 0),
                drafts=a.get("drafts", 0),
                drafts_rejected=a.get("rejected", 0),
                replies_removed=a.get("removed", 0),
                corrected=a.get("corrected", 0),
                corrections=a.get("corrections", 0),
                trend=chart,
            )
        )
    return out
