"""Staff actions on the escalation queue (clusters) and the review queue (drafts).

The CLI (`triagebot queue ...`, `triagebot review ...`) and the dashboard both call
these functions, so behaviour is identical whichever a staff member uses. Functions
that only touch the database are synchronous; the two that write to the forum
(`link_cluster`, `approve_draft`) are async and go through the write-ahead intent
path, so a crash or a double click never posts twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from typing import Any

from bot.errors import UserError
from bot.records import CLUSTER_STATUSES, DRAFT_STATUSES, Cluster, Draft
from bot.runner.services import Services
from bot.runner.staff import QueueError, answer_for_issue, plan_review_settled, post_approved_draft
from bot.runner.texts import plural
from bot.store import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Tally:
    answered: int  # replies posted (auto) or drafted (review) for the cluster's posts
    skipped: int  # posts the policy did not allow answering (closed topic, already answered...)
    failed: int = 0  # posts that could not be answered now (logged)
    details: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class LinkResult:
    cluster: Cluster
    answered: int
    skipped: int
    failed: int = 0
    details: tuple[str, ...] = field(default=())


# --------------------------------------------------------------------------- clusters


def list_clusters(services: Services, status: str | None = "open") -> list[Cluster]:
    """Clusters, largest and most recent first; `status=None` lists every status."""
    if status is not None and status not in CLUSTER_STATUSES:
        raise QueueError(f"status: must be one of {', '.join(CLUSTER_STATUSES)}")
    return services.store.list_clusters(status)


def get_cluster(services: Services, cluster_id: int) -> Cluster:
    cluster = services.store.get_cluster(cluster_id)
    if cluster is None:
        raise QueueError(f"cluster {cluster_id}: no such cluster")
    return replace(cluster, reports=tuple(services.store.cluster_reports(cluster_id)))


def _open_cluster(services: Services, cluster_id: int) -> Cluster:
    cluster = get_cluster(services, cluster_id)
    if cluster.status != "open":
        raise QueueError(f"cluster {cluster_id}: already {cluster.status}")
    return cluster


def dismiss_cluster(services: Services, cluster_id: int, author: str) -> Cluster:
    """Close a cluster without action; later matching reports start a new cluster."""
    _open_cluster(services, cluster_id)
    with services.store.transaction():
        services.store.update_cluster(cluster_id, status="dismissed")
        services.store.add_feedback(
            source="cluster",
            ref_id=cluster_id,
            text="",
            predicted_issue=None,
            correct_issue=None,
            verdict="dismissed",
            reason="",
            author=author,
        )
    return get_cluster(services, cluster_id)


async def link_cluster(services: Services, cluster_id: int, slug: str, author: str) -> LinkResult:
    """Attach a cluster to an existing known issue and answer its posts.

    Each post goes through the normal action path (policy, mode, intents), so
    `auto` mode replies, `review` mode drafts and `dry-run` only records.
    """
    cluster = _open_cluster(services, cluster_id)
    issue = services.store.get_issue(slug)
    if issue is None:
        raise QueueError(f"issue: no known issue {slug!r}")
    with services.store.transaction():
        services.store.update_cluster(cluster_id, status="linked", linked_slug=slug)
        services.store.add_feedback(
            source="cluster",
            ref_id=cluster_id,
            text=cluster.normalised,
            predicted_issue=None,
            correct_issue=slug,
            verdict="linked",
            reason="",
            author=author,
        )
    tally = await answer_cluster(services, cluster_id, slug, author)
    return LinkResult(
        cluster=get_cluster(services, cluster_id),
        answered=tally.answered,
        skipped=tally.skipped,
        failed=tally.failed,
        details=tally.details,
    )


async def answer_cluster(services: Services, cluster_id: int, slug: str, author: str) -> Tally:
    """Answer each of a cluster's reports with `slug` through the normal action path.

    A post that cannot be answered now (an unreachable forum, a deleted post) is counted
    and logged, not raised: the cluster is already linked or promoted, and the staff can
    answer the rest again later (topics already answered are skipped).
    """
    answered = skipped = failed = 0
    details: list[str] = []
    for report in services.store.cluster_reports(cluster_id):
        post_id = report.post_id
        try:
            outcome = await answer_for_issue(
                services, post_id=post_id, topic_id=report.topic_id, slug=slug, author=author
            )
        except UserError as exc:
            outcome = str(exc)
        except Exception:  # one unreachable post must not lose the others
            log.exception("answering post %s for %s failed", post_id, slug)
            failed += 1
            details.append(f"post {post_id}: failed (see the log)")
            continue
        details.append(f"post {post_id}: {outcome}")
        if outcome in ("replied", "drafted", "recorded"):
            answered += 1
        else:
            skipped += 1
    return Tally(answered, skipped, failed, tuple(details))


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    slug = slug[:50].rstrip("_") or "new_issue"
    return slug if slug[0].isalpha() else f"issue_{slug}"


def promote_cluster(services: Services, cluster_id: int, author: str) -> dict[str, Any]:
    """Turn a cluster into a known-issue draft (a dict in the YAML entry shape).

    Nothing is added to the known-issue database: a maintainer completes the
    summary, cause and workaround and saves it (`triagebot issues add`/dashboard).
    Until that entry exists, promoting again gives the same draft back: a draft
    printed to a closed terminal or a failed `-o` write is never lost.
    """
    cluster = get_cluster(services, cluster_id)
    again = (
        cluster.status == "promoted"
        and bool(cluster.linked_slug)
        and services.store.get_issue(cluster.linked_slug or "") is None
    )
    if cluster.status == "promoted" and not again:
        raise QueueError(
            f"cluster {cluster_id}: already promoted; the entry {cluster.linked_slug} exists "
            f"(`triagebot issues show {cluster.linked_slug}`)"
        )
    if not again:
        _open_cluster(services, cluster_id)
    if again and cluster.linked_slug:
        slug = cluster.linked_slug
    else:
        base = _slugify(cluster.title or cluster.normalised)
        slug, n = base, 2
        while services.store.get_issue(slug) is not None:
            slug, n = f"{base}_{n}", n + 1
    errors = sorted({r.error_string for r in cluster.reports if r.error_string})
    draft: dict[str, Any] = {
        "slug": slug,
        "title": cluster.title or cluster.normalised[:120],
        "status": "investigating",
        "summary": (
            f"{plural(cluster.count, 'report')} from {plural(len(cluster.reporters), 'member')} "
            "between "
            f"{cluster.first_seen[:10]} and {cluster.last_seen[:10]}. TODO: describe the problem."
        ),
        "cause": "",
        "workaround": "",
        "patterns": [{"kind": "literal", "value": e} for e in errors[:5]],
        "misconceptions": [],
        "links": [],
        "examples": [r.excerpt for r in cluster.reports[:5] if r.excerpt],
    }
    if again:
        return draft  # recorded the first time
    with services.store.transaction():
        services.store.update_cluster(cluster_id, status="promoted", linked_slug=slug)
        services.store.add_feedback(
            source="cluster",
            ref_id=cluster_id,
            text=cluster.normalised,
            predicted_issue=None,
            correct_issue=slug,
            verdict="promoted",
            reason="",
            author=author,
        )
    return draft


# --------------------------------------------------------------------------- drafts


def list_drafts(services: Services, status: str | None = "pending") -> list[Draft]:
    """Drafts, oldest first (the order staff should work them); `None` lists all."""
    if status is not None and status not in DRAFT_STATUSES:
        raise QueueError(f"status: must be one of {', '.join(DRAFT_STATUSES)}")
    return services.store.list_drafts(status)


def get_draft(services: Services, draft_id: int) -> Draft:
    row = services.store.get_draft(draft_id)
    if row is None:
        raise QueueError(f"draft {draft_id}: no such draft")
    return row


def _pending_draft(services: Services, draft_id: int) -> Draft:
    draft = get_draft(services, draft_id)
    if draft.status != "pending":
        raise QueueError(f"draft {draft_id}: already {draft.status}")
    return draft


async def approve_draft(
    services: Services, draft_id: int, author: str, edited_raw: str | None = None
) -> Draft:
    """Post a draft (optionally edited) to its topic through the intent path.

    Approval is a human decision, so it posts whatever the configured mode,
    except `dry-run`, which never writes to the forum.
    """
    draft = _pending_draft(services, draft_id)
    raw = draft.raw if edited_raw is None else edited_raw
    if not raw.strip():
        raise QueueError(f"draft {draft_id}: the reply text is empty")
    await post_approved_draft(services, draft, raw=raw, author=author)
    return get_draft(services, draft_id)


def reject_draft(
    services: Services,
    draft_id: int,
    author: str,
    reason: str,
    *,
    wrong_correction: bool = False,
) -> Draft:
    """Reject a draft; the correction is kept as feedback for training.

    `wrong_correction`: the draft corrected advice that was right; its corrected
    claims are recorded on the entry so that they are never corrected again.
    """
    draft = _pending_draft(services, draft_id)
    if not reason.strip():
        raise QueueError("reason: say why the draft is wrong (it becomes training feedback)")
    post_text = services.store.decision_text_for_post(draft.post_id) or ""
    claims = [
        str(c.get("claim", ""))
        for c in services.store.decision_corrections_for_post(draft.post_id)
        if c.get("claim")
    ]
    if wrong_correction and not claims:
        raise QueueError(f"draft {draft_id}: it corrects no claim")
    if wrong_correction and not draft.issue:
        raise QueueError(f"draft {draft_id}: it names no known issue")
    with services.store.transaction():
        if wrong_correction and draft.issue:
            for claim in claims:
                services.store.reject_claim(draft.issue, claim, author=author)
        services.store.update_draft(
            draft_id,
            status="rejected",
            decided_by=author,
            decided_at=utcnow(),
            reject_reason=reason.strip(),
        )
        # Left pending: the running bot's reconcile loop makes the edit (this may be the CLI).
        plan_review_settled(services.store, draft_id, "rejected", author, reason.strip())
        services.store.add_feedback(
            source="draft",
            ref_id=draft_id,
            text=post_text,
            predicted_issue=draft.issue,
            correct_issue=None,
            verdict="rejected",
            reason=reason.strip(),
            author=author,
        )
    return get_draft(services, draft_id)
