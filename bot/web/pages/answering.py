"""After a promoted cluster's known issue is saved, answer the posts it queued."""

from __future__ import annotations

from starlette.requests import Request

from bot.errors import UserError
from bot.web.common import current_user, web


async def answer_promoted_cluster(request: Request, cluster_id: int, slug: str) -> str:
    """Answer each queued report through the runner's normal action path.

    `promote_cluster` has already marked the cluster promoted to `slug`; only
    that pairing is answered, so a stale form cannot answer for another issue.
    Returns a sentence for the flash message.
    """
    ctx = web(request)
    row = ctx.store.get_cluster(cluster_id)
    if row is None or row["status"] != "promoted" or row["linked_slug"] != slug:
        return f"Cluster {cluster_id} was not promoted to {slug}; its posts were left alone."
    if ctx.services is None:
        return "The runner is not available here, so the queued posts were not answered."
    from bot.runner.pipeline import answer_for_issue

    author = current_user(request).username
    answered = skipped = 0
    for report in ctx.store.cluster_reports(cluster_id):
        try:
            outcome = await answer_for_issue(
                ctx.services,
                post_id=report["post_id"],
                topic_id=report["topic_id"],
                slug=slug,
                author=author,
            )
        except UserError as exc:
            outcome = str(exc)
        if outcome in ("replied", "drafted", "recorded"):
            answered += 1
        else:
            skipped += 1
    return f"{answered} queued post(s) answered, {skipped} skipped."
