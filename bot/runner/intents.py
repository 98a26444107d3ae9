"""Write-ahead intents: every forum write is recorded before it is made.

An intent is written in the same transaction as the decision that caused it,
with a deterministic dedupe key (`reply:<topic>:<issue>`, `flag:<post>`, ...)
so the same write can never be planned twice. Executing it marks an attempt
first, then calls the forum, then settles the row (and its side effects, such
as the `replies` row) in one transaction. The raw of every post carries an
invisible marker `<!-- triagebot:intent:<id> -->`, so after a crash at any
point a pending intent that was already attempted is looked up on the forum
before it is retried: if the marker is there, the write landed and is settled
without posting again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.discourse.errors import DiscourseError, NotFound
from bot.records import Intent
from bot.runner.services import ForumClient, Services

log = logging.getLogger(__name__)

REPLY_KINDS = ("reply", "notice", "followup")  # posts in a member's topic
# 4xx answers that retrying cannot fix.
DEFINITE_FAILURES = (400, 403, 404, 409, 422)
# Discourse returns the earlier post for an identical API create within 120 s.
MEMO_SAFE = 100.0


def _age(intent: Intent) -> float:
    try:
        stamp = datetime.strptime(intent.updated_at, "%Y-%m-%dT%H:%M:%S.%fZ")
    except (TypeError, ValueError):
        return float("inf")
    return (datetime.now(UTC) - stamp.replace(tzinfo=UTC)).total_seconds()


def marker(intent_id: int) -> str:
    return f"<!-- triagebot:intent:{intent_id} -->"


def with_marker(raw: str, intent_id: int) -> str:
    return f"{raw.rstrip()}\n\n{marker(intent_id)}"


@dataclass(frozen=True)
class IntentResult:
    intent_id: int
    status: str  # done | pending | failed | abandoned
    result_post_id: int | None = None
    error: str = ""
    reconciled: bool = False  # settled by finding the post after a crash


def _settle(services: Services, intent: Intent, post: Any | None) -> None:
    """Mark done and apply the side effects, atomically."""
    store = services.store
    payload = intent.payload
    post_id = getattr(post, "id", None)
    with store.transaction():
        current = store.get_intent(intent.id)
        if current is None or current.status != "pending":
            return
        store.update_intent(intent.id, status="done", result_post_id=post_id, error="")
        if intent.kind in ("reply", "notice"):
            store.add_reply(
                {
                    "topic_id": intent.topic_id,
                    "post_id": intent.post_id,
                    "reply_post_id": post_id,
                    "reply_post_number": getattr(post, "post_number", None),
                    "issue": intent.issue or "",
                    "issue_updated_at": payload.get("issue_updated_at", ""),
                }
            )
        if payload.get("draft_id"):
            store.update_draft(int(payload["draft_id"]), reply_post_id=post_id)
        if payload.get("cluster_id") and payload.get("level"):
            row = store.get_cluster(int(payload["cluster_id"]))
            if row is not None and row.notified_size < int(payload["level"]):
                store.update_cluster(int(payload["cluster_id"]), notified_size=payload["level"])


async def _find_in_topic(client: ForumClient, topic_id: int, mark: str, bot: str) -> Any | None:
    topic = await client.get_topic(topic_id)
    for post in topic.posts:
        if post.username.lower() == bot.lower() and mark in (post.raw or ""):
            return post
    return None


async def _landed(services: Services, intent: Intent) -> tuple[bool, Any | None]:
    """Whether we could check, and the post if an earlier attempt landed."""
    client = services.client()
    bot = services.config.api_username
    if intent.kind in (*REPLY_KINDS, "whisper"):
        return True, await _find_in_topic(client, intent.topic_id, marker(intent.id), bot)
    return False, None  # flags: re-flagging is rejected by the forum, handled on the call


async def _call(services: Services, intent: Intent) -> Any | None:
    client = services.client()
    payload = intent.payload
    raw = with_marker(intent.raw, intent.id)
    kind = intent.kind
    if kind in REPLY_KINDS:
        return await client.create_post(
            intent.topic_id, raw, reply_to_post_number=payload.get("reply_to_post_number")
        )
    if kind == "whisper":
        return await client.create_post(
            intent.topic_id,
            raw,
            reply_to_post_number=payload.get("reply_to_post_number"),
            whisper=True,
        )
    if kind == "pm":
        return await client.send_private_message(
            payload["title"], raw, target_recipients=payload["recipients"]
        )
    if kind == "topic":
        return await client.create_topic(payload["title"], raw, payload.get("category") or None)
    if kind == "edit":  # the bot's own post (a draft's whisper once staff decided)
        # Guarded by the text it was read with: a moderator's edit meanwhile is kept.
        return await client.revise_post(intent.post_id, lambda _post: raw, edit_reason="triagebot")
    if kind == "flag":
        await client.flag_post(intent.post_id, "notify_moderators", intent.raw or None)
        return None
    raise ValueError(f"unknown intent kind {kind!r}")


async def execute_intent(services: Services, intent_id: int) -> IntentResult:
    """Carry out one pending intent at most once (reconciling earlier attempts first)."""
    async with services.lock(f"intent:{intent_id}"):
        return await _execute(services, intent_id)


async def _execute(services: Services, intent_id: int) -> IntentResult:
    store = services.store
    intent = store.get_intent(intent_id)
    if intent is None:
        raise ValueError(f"no intent {intent_id}")
    if intent.status != "pending":
        return IntentResult(intent_id, intent.status, intent.result_post_id)
    if services.mode == "dry-run" and not intent.payload.get("approved"):
        return IntentResult(intent_id, "pending", error="dry-run: not executed")
    if intent.attempts > 0:
        try:
            checked, post = await _landed(services, intent)
        except NotFound:
            store.update_intent(intent_id, status="failed", error="topic not found")
            return IntentResult(intent_id, "failed", error="topic not found")
        except DiscourseError as exc:
            store.update_intent(intent_id, error=f"reconcile: {exc}")
            return IntentResult(intent_id, "pending", error=str(exc))
        if post is not None:
            log.info("intent %s: found on the forum, settled without posting again", intent_id)
            _settle(services, intent, post)
            return IntentResult(intent_id, "done", getattr(post, "id", None), reconciled=True)
        if not checked and intent.kind in ("pm", "topic") and _age(intent) > MEMO_SAFE:
            # A new topic or PM cannot be looked up through the API, but the forum
            # answers an identical create within its memo window with the earlier
            # post, so a prompt retry is safe. Later, posting again could duplicate
            # a staff notice: a missed notice still shows in the queue.
            store.update_intent(intent_id, status="abandoned", error="delivery not verifiable")
            return IntentResult(intent_id, "abandoned", error="delivery not verifiable")
    # Write-ahead: the attempt is durable before the request leaves.
    store.update_intent(intent_id, attempts=intent.attempts + 1)
    try:
        post = await _call(services, intent)
    except DiscourseError as exc:
        status = getattr(exc, "status", None)
        if intent.kind == "flag" and status in (403, 422):
            _settle(services, intent, None)  # already flagged by us
            return IntentResult(intent_id, "done")
        if status in DEFINITE_FAILURES:
            store.update_intent(intent_id, status="failed", error=str(exc)[:500])
            log.warning("intent %s failed: %s", intent_id, exc)
            return IntentResult(intent_id, "failed", error=str(exc))
        store.update_intent(intent_id, error=str(exc)[:500])
        return IntentResult(intent_id, "pending", error=str(exc))
    _settle(services, intent, post)
    return IntentResult(intent_id, "done", getattr(post, "id", None))


async def reconcile_pending(services: Services, *, min_age: float = 0.0) -> list[IntentResult]:
    """Run pending intents (oldest first): all of them on start, stale ones periodically.

    `min_age` leaves alone intents touched in the last seconds: another process
    (a staff command, the dashboard) may be executing them right now.
    """
    results = []
    for intent in services.store.pending_intents():
        if min_age and _age(intent) < min_age:
            continue
        results.append(await execute_intent(services, intent.id))
    return results
