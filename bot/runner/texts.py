"""The texts the runner posts, from its own records.

Member-facing wording is `bot.replies.render`'s: these functions only gather what the
runner knows (an entry, a cluster's rows, a draft) into its inputs. The staff notices
about drafts are written here, with the same neutralising of quoted text.
"""

from __future__ import annotations

from bot.known_issues import KnownIssue
from bot.records import Cluster, ClusterReport
from bot.replies.neutralise import neutralise
from bot.replies.render import (
    EscalationSample,
    EscalationSummary,
    render_escalation,
    render_followup,
    render_reply,
    render_secret_notice,
)
from bot.triage.secrets import secret_kinds


def plural(count: int, noun: str) -> str:
    """`1 report`, `3 reports`: never "1 reports" nor "report(s)"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def issue_reply(issue: KnownIssue) -> str:
    """The answer staff chose for a post (a linked cluster): no error string to quote."""
    return render_reply(issue, error_string=None)


def secret_notice(text: str = "") -> str:
    return render_secret_notice(secret_kinds(text))


def escalation(
    cluster: Cluster,
    reports: list[ClusterReport],
    level: int,
    *,
    forum_url: str = "",
    dashboard_url: str = "",
) -> tuple[str, str]:
    """(title, raw) of the staff notice for a cluster reaching `level` reports."""
    summary = EscalationSummary(
        cluster_id=cluster.id,
        fingerprint=cluster.fingerprint,
        normalised=cluster.normalised or cluster.title,
        count=cluster.count,
        reporters=len(cluster.reporters),
        first_seen=cluster.first_seen,
        last_seen=cluster.last_seen,
        samples=tuple(
            EscalationSample(
                title=r.title,
                url=f"{forum_url.rstrip('/')}/t/{r.topic_id}" if forum_url else "",
                excerpt=r.excerpt,
            )
            for r in reports[-5:]
        ),
        crossed_size=level if level > 1 else None,
        dashboard_url=dashboard_url,
    )
    return render_escalation(summary)


def followup(issue: KnownIssue, changed: list[str], previous_status: str) -> str:
    note = "The workaround has been updated." if "workaround" in changed else ""
    return render_followup(issue, previous_status, note)


# A flag's message becomes the reason on Discourse's review item; keep it short.
REVIEW_FLAG_LIMIT = 1000


def review_notice(
    draft_id: int, raw: str, reason: str, public_url: str, *, limit: int | None = None
) -> str:
    """The draft as staff see it where they work: a whisper, or a flag's reason.

    The draft is quoted (never posted as the bot's own words) and says how to approve
    it, so a moderator can act without opening the dashboard first.
    """
    body = raw.strip()
    if limit is not None and len(body) > limit:
        body = body[: max(0, limit - 1)].rstrip() + "\u2026"
    quoted = "\n".join(f"> {line}" if line else ">" for line in body.splitlines())
    return (
        f"**triagebot draft #{draft_id}** waiting for staff review ({neutralise(reason, 120)}).\n\n"
        f"{quoted}\n\n"
        f"Approve or reject it at {public_url.rstrip('/')}/drafts or with "
        f"`triagebot review approve {draft_id}` / "
        f"`triagebot review reject {draft_id} --reason TEXT`."
    )


def review_settled(draft_id: int, verdict: str, author: str, reason: str = "") -> str:
    """What a draft's whisper becomes once staff decided: no stale draft left in the topic."""
    why = f": {neutralise(reason, 200)}" if reason else ""
    return f"**triagebot draft #{draft_id}** {verdict} by @{neutralise(author, 60)}{why}."
