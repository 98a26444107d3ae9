"""After a promoted cluster's known issue is saved, answer the posts it queued."""

from __future__ import annotations

from starlette.requests import Request

from bot.runner import queues
from bot.web.common import current_user, web


async def answer_promoted_cluster(request: Request, cluster_id: int, slug: str) -> str:
    """Answer each queued report through the runner's normal action path.

    `promote_cluster` marked the cluster promoted to a proposed slug; the saved
    entry may use another slug, but once one entry exists for the cluster a
    stale form cannot answer its posts again for a different issue (and the
    runner's intents never post the same issue twice in a topic).
    Returns a sentence for the flash message.
    """
    ctx = web(request)
    cluster = ctx.store.get_cluster(cluster_id)
    if cluster is None or cluster.status != "promoted":
        return f"Cluster {cluster_id} was not promoted; its posts were left alone."
    proposed = cluster.linked_slug or ""
    if proposed != slug:
        # The maintainer chose a better slug than the proposed one; follow it,
        # unless the proposed entry was already written (then the form is stale).
        if proposed and ctx.store.get_issue(proposed) is not None:
            return f"Cluster {cluster_id} belongs to {proposed}; its posts were left alone."
        with ctx.store.transaction():
            ctx.store.update_cluster(cluster_id, linked_slug=slug)
    if ctx.services is None:
        return "The runner is not available here, so the queued posts were not answered."
    tally = await queues.answer_cluster(
        ctx.services, cluster_id, slug, current_user(request).username
    )
    answered, skipped, failed = tally.answered, tally.skipped, tally.failed
    message = f"{answered} queued post(s) answered, {skipped} skipped."
    if failed:
        message += (
            f" {failed} could not be answered now (see the log; retry from the promoted clusters)."
        )
    return message
