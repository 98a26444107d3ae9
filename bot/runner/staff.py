"""Staff actions that write to the forum: answer a post with the issue staff chose, post
an approved draft, and rewrite a draft's whisper once staff decided.

They go through the same intent path as the bot's own replies (`pipeline.plan_reply`,
`intents.execute_intent`), so policy, modes and exactly-once writes hold for them too.
`bot.runner.queues` (the staff queues) calls them; nothing here imports the queues.
"""

from __future__ import annotations

from bot.errors import UserError
from bot.records import Draft
from bot.runner import policy, texts
from bot.runner.intents import execute_intent
from bot.runner.pipeline import execute_all, plan_reply, refresh_human_verdicts
from bot.runner.services import Services
from bot.store import Store, utcnow


class QueueError(UserError):
    """A staff action that cannot be done (unknown id, wrong state, bad input)."""


def plan_review_settled(
    store: Store, draft_id: int, verdict: str, author: str, reason: str = ""
) -> int | None:
    """Rewrite the draft's whisper (when there is one) to say what staff decided."""
    whisper = store.intent_by_key(f"whisper:draft:{draft_id}")
    if whisper is None or whisper.status != "done" or not whisper.result_post_id:
        return None
    return store.add_intent(
        kind="edit",
        dedupe_key=f"whisper:settled:{draft_id}",
        topic_id=whisper.topic_id,
        post_id=whisper.result_post_id,
        issue=None,
        raw=texts.review_settled(draft_id, verdict, author, reason),
    )


async def answer_for_issue(
    services: Services, *, post_id: int, topic_id: int, slug: str, author: str
) -> str:
    """Answer one post with a known issue chosen by staff (cluster link)."""
    issue = services.store.get_issue(slug)
    if issue is None:
        return "skipped: unknown issue"
    client = services.client()
    post = await client.get_post(post_id)
    topic = await client.get_topic(topic_id)
    reason = policy.skip_topic(topic, services.config)
    if reason:
        return f"skipped: {reason}"
    refresh_human_verdicts(services, topic)
    raw = texts.issue_reply(issue)
    with services.store.transaction():
        act, reasons, ids = plan_reply(
            services,
            services.store,
            post=post,
            issue=slug,
            raw=raw,
            confidence=1.0,
            want="reply",
            reason=f"cluster linked by {author}",
        )
    await execute_all(services, tuple(ids))
    if act == "reply":
        return "replied" if ids else "recorded"  # dry-run plans nothing
    if act == "review":
        return "drafted"
    if act in ("skip",):
        return f"skipped: {'; '.join(reasons)}"
    return "recorded"


async def post_approved_draft(services: Services, draft: Draft, *, raw: str, author: str) -> int:
    """Record the approval and the reply intent together, then post."""
    if services.mode == "dry-run":
        raise QueueError("dry-run mode never writes to the forum; switch mode to approve")
    store = services.store
    key = f"reply:{draft.topic_id}:{draft.issue}" if draft.issue else f"draft:{draft.id}"
    with store.transaction():
        current = store.get_draft(draft.id)
        if current is None or current.status != "pending":
            raise QueueError(f"draft {draft.id}: already {current.status if current else 'gone'}")
        blocked = _human_block(store, draft.topic_id)
        if blocked:
            raise QueueError(f"draft {draft.id}: {blocked}")
        issue_row = store.get_issue(draft.issue) if draft.issue else None
        intent_id = store.add_intent(
            kind="reply",
            dedupe_key=key,
            topic_id=draft.topic_id,
            post_id=draft.post_id,
            issue=draft.issue,
            raw=raw,
            payload={
                "draft_id": draft.id,
                "approved": True,
                "issue_updated_at": issue_row.updated_at if issue_row else "",
            },
        )
        if intent_id is None:
            raise QueueError(f"draft {draft.id}: the bot already answered this issue in the topic")
        store.update_draft(
            draft.id, status="approved", decided_by=author, decided_at=utcnow(), raw=raw
        )
        settled_id = plan_review_settled(store, draft.id, "approved", author)
        if raw != draft.raw:
            store.add_feedback(
                source="draft",
                ref_id=draft.id,
                text=store.decision_text_for_post(draft.post_id) or "",
                predicted_issue=draft.issue,
                correct_issue=draft.issue,
                verdict="edited",
                reason="",
                author=author,
            )
    await execute_intent(services, intent_id)
    if settled_id is not None:
        await execute_intent(services, settled_id)
    return intent_id


def _human_block(store: Store, topic_id: int) -> str | None:
    for reply in store.replies_in_topic(topic_id):
        if reply.state in ("removed", "corrected"):
            return f"a human {reply.state} the bot's reply in this topic"
    return None
