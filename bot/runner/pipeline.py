"""One post end to end: policy → context → decision → recorded action → forum write.

`process_post` is the single path used by the poller, the webhook and the
catch-up sweep. The decision, the post's "seen" mark, any cluster update and
every planned forum write (an intent) are committed in ONE transaction; the
writes are executed afterwards. A crash before the commit leaves the post
undecided (it is processed again); a crash after it leaves pending intents
that are reconciled before anything is retried.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.discourse.errors import NotFound
from bot.discourse.models import Post, Topic
from bot.replies.render import render_decision
from bot.runner import clusters, policy, texts
from bot.runner.intents import REPLY_KINDS, execute_intent
from bot.runner.services import Services
from bot.store import Store
from bot.triage.types import Decision, Thread

log = logging.getLogger(__name__)
CONTEXT_POSTS = 30  # posts of the topic given to the triager as context


@dataclass(frozen=True)
class Outcome:
    post_id: int
    version: int
    status: str  # seen | decided
    action: str  # reply | review | escalate | ignore | skip
    reasons: tuple[str, ...] = ()
    decision_id: int | None = None
    intent_ids: tuple[int, ...] = field(default=())
    issue: str | None = None


def _hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _decision_row(
    services: Services,
    post: Post,
    decision: Decision | None,
    action: str,
    reasons: list[str],
    title: str,
) -> dict[str, Any]:
    d = decision
    return {
        "post_id": post.id,
        "post_version": post.version,
        "topic_id": post.topic_id or 0,
        "username": post.username,
        "fingerprint": d.fingerprint if d else None,
        "normalised": d.normalised if d else None,
        "issue": d.issue if d else None,
        "confidence": float(d.confidence) if d else 0.0,
        "action": action,
        "reasons": json.dumps([*(d.reasons if d else ()), *reasons]),
        "error_strings": json.dumps(list(d.error_strings) if d else []),
        "corrections": json.dumps(
            [
                {
                    "claim": c.claim,
                    "correction": c.correction,
                    "strength": c.strength,
                    "basis": c.basis,
                }
                for c in d.corrections
            ]
            if d
            else []
        ),
        "model_version": d.model_version if d else "",
        "mode": services.mode,
        "text": post.raw,
        "title": title,
    }


def record_decision(
    services: Services,
    post: Post,
    decision: Decision | None,
    action: str,
    reasons: list[str],
    title: str,
    plan: Any = None,
) -> Outcome:
    """Commit the decision, the seen mark and (via `plan(store)`) intents/drafts/clusters."""
    store = services.store
    with store.transaction():
        if store.is_seen(post.id, post.version):
            return Outcome(post.id, post.version, "seen", "skip", ("already decided",))
        intent_ids: list[int] = []
        if plan is not None:
            action, extra, intent_ids = plan(store, action)
            reasons = [*reasons, *extra]
        decision_id = store.add_decision(
            _decision_row(services, post, decision, action, reasons, title)
        )
        store.mark_seen(post.id, post.version, post.topic_id or 0, decision_id)
    return Outcome(
        post.id,
        post.version,
        "decided",
        action,
        tuple(reasons),
        decision_id,
        tuple(intent_ids),
        decision.issue if decision else None,
    )


def _context_thread(post: Post, topic: Topic | None, bot: str) -> Thread:
    title = (topic.title if topic else "") or post.topic_title or ""
    others: list[str] = []
    if topic is not None:
        for p in topic.posts:
            if p.id == post.id or p.username.lower() == bot.lower() or p.is_deleted:
                continue
            others.append(p.raw)
    return Thread(id=str(post.id), title=title, posts=(post.raw, *others[:CONTEXT_POSTS]))


def refresh_human_verdicts(services: Services, topic: Topic) -> None:
    store = services.store
    rows = store.replies_in_topic(topic.id)
    verdicts = policy.human_verdicts(topic, rows, services.config.api_username)
    if not verdicts:
        return
    with store.transaction():
        for reply_id, state in verdicts:
            store.set_reply_state(reply_id, state)
            row = next(r for r in rows if r.id == reply_id)
            store.add_feedback(
                source="reply",
                ref_id=reply_id,
                text=store.decision_text_for_post(row.post_id) or "",
                predicted_issue=row.issue or None,
                correct_issue=None,
                verdict=state,
                reason="a human changed or removed the bot's reply",
                author="forum",
            )


def _planned_reply_block(store: Store, topic_id: int, issue: str | None) -> str | None:
    """Policy on what the bot already did or planned in this topic."""
    reason = policy.skip_answer(store.replies_in_topic(topic_id), issue)
    if reason:
        return reason
    if issue and store.intent_by_key(f"reply:{topic_id}:{issue}") is not None:
        return "already answered this issue in this topic"
    return None


def plan_reply(
    services: Services,
    store: Store,
    *,
    post: Post,
    issue: str | None,
    raw: str,
    confidence: float,
    want: str,  # "reply" or "review"
    reason: str = "",
) -> tuple[str, list[str], list[int]]:
    """Turn a wanted reply into an intent (auto), a draft (review) or nothing (dry-run)."""
    topic_id = post.topic_id or 0
    blocked = _planned_reply_block(store, topic_id, issue)
    if blocked:
        return "skip", [blocked], []
    if services.mode == "dry-run":
        return want, ["dry-run: nothing written"], []
    if want == "reply" and services.mode == "auto":
        if policy.over_hourly_limit(
            store.count_intents_since(REPLY_KINDS, _hour_ago()), services.config
        ):
            want, reason = "review", "hourly post limit reached"
        else:
            issue_row = store.get_issue(issue) if issue else None
            intent_id = store.add_intent(
                kind="reply",
                dedupe_key=f"reply:{topic_id}:{issue or post.id}",
                topic_id=topic_id,
                post_id=post.id,
                issue=issue,
                raw=raw,
                payload={
                    "reply_to_post_number": post.post_number,
                    "issue_updated_at": issue_row.updated_at if issue_row else "",
                },
            )
            if intent_id is None:
                return "skip", ["already answered this issue in this topic"], []
            return "reply", ["reply planned"], [intent_id]
    if any(d.topic_id == topic_id and d.issue == issue for d in store.list_drafts("pending")):
        return "skip", ["a draft for this issue in this topic is already waiting"], []
    reason = reason or ("review mode" if services.mode == "review" else "grey zone")
    draft_id = store.add_draft(
        {
            "post_id": post.id,
            "topic_id": topic_id,
            "issue": issue,
            "confidence": confidence,
            "raw": raw,
            "reason": reason,
        }
    )
    channel = _plan_review_channel(services, store, post, draft_id, raw, reason)
    return "review", ["drafted for review", *channel[0]], channel[1]


def _plan_review_channel(
    services: Services, store: Store, post: Post, draft_id: int, raw: str, reason: str
) -> tuple[list[str], list[int]]:
    """Show the draft where staff already work, besides the dashboard (`review_channel`)."""
    channel = services.config.review_channel
    public_url = services.config.public_url
    if channel == "whisper":
        intent_id = store.add_intent(
            kind="whisper",
            dedupe_key=f"whisper:draft:{draft_id}",
            topic_id=post.topic_id or 0,
            post_id=post.id,
            issue=None,
            raw=texts.review_notice(draft_id, raw, reason, public_url),
            payload={"reply_to_post_number": post.post_number, "review_draft_id": draft_id},
        )
        return (["draft whispered to staff"], [intent_id]) if intent_id else ([], [])
    if channel == "flag":
        # The same key as a secret's flag: a post goes to the review queue once.
        intent_id = store.add_intent(
            kind="flag",
            dedupe_key=f"flag:{post.id}",
            topic_id=post.topic_id or 0,
            post_id=post.id,
            issue=None,
            raw=texts.review_notice(
                draft_id, raw, reason, public_url, limit=texts.REVIEW_FLAG_LIMIT
            ),
            payload={"review_draft_id": draft_id},
        )
        return (["draft flagged into the review queue"], [intent_id]) if intent_id else ([], [])
    return [], []


def _plan_secret(
    services: Services, store: Store, post: Post, *, notice: bool = True
) -> tuple[list[str], list[int]]:
    """Flag the post to moderators and, unless the bot's reply already says so, tell
    the member to rotate the key (one warning, never two)."""
    if services.mode == "dry-run":
        return ["secret found (dry-run)"], []
    ids: list[int] = []
    flag = store.add_intent(
        kind="flag",
        dedupe_key=f"flag:{post.id}",
        topic_id=post.topic_id or 0,
        post_id=post.id,
        issue=None,
        raw="triagebot: this post appears to contain an API key or other secret.",
    )
    if flag is not None:
        ids.append(flag)
    if services.mode == "auto" and notice:
        notice_id = store.add_intent(
            kind="notice",
            dedupe_key=f"secret:{post.id}",
            topic_id=post.topic_id or 0,
            post_id=post.id,
            issue=None,
            raw=texts.secret_notice(post.raw),
            payload={"reply_to_post_number": post.post_number},
        )
        if notice_id is not None:
            ids.append(notice_id)
    return ["secret flagged"], ids


def _plan_escalation(
    services: Services, store: Store, post: Post, decision: Decision, title: str
) -> tuple[list[str], list[int]]:
    errors = decision.error_strings
    assignment = clusters.assign_report(
        store,
        fingerprint=decision.fingerprint,
        normalised=decision.normalised or (errors[0] if errors else ""),
        error_string=errors[0] if errors else "",
        post_id=post.id,
        topic_id=post.topic_id or 0,
        username=post.username,
        title=title,
        excerpt=post.raw[:400],
        sizes=services.config.escalation_sizes,
    )
    reasons = [f"cluster {assignment.cluster_id} ({texts.plural(assignment.count, 'report')})"]
    if assignment.notify_level is None or services.mode == "dry-run":
        return reasons, []
    cluster = store.get_cluster(assignment.cluster_id)
    assert cluster is not None  # assigned in this transaction
    ttl, raw = texts.escalation(
        cluster,
        store.cluster_reports(assignment.cluster_id),
        assignment.notify_level,
        forum_url=services.config.forum_url,
        dashboard_url=f"{services.config.public_url.rstrip('/')}/queue/{assignment.cluster_id}",
    )
    category = services.config.escalation_category
    intent_id = store.add_intent(
        kind="topic" if category else "pm",
        dedupe_key=f"escalate:{assignment.cluster_id}:{assignment.notify_level}",
        topic_id=0,
        post_id=post.id,
        issue=None,
        raw=raw,
        payload={
            "title": ttl,
            "recipients": [services.config.staff_group],
            "category": category,
            "cluster_id": assignment.cluster_id,
            "level": assignment.notify_level,
        },
    )
    if intent_id is None:
        return reasons, []
    return [*reasons, f"staff notified at {assignment.notify_level}"], [intent_id]


async def execute_all(services: Services, intent_ids: tuple[int, ...]) -> None:
    for intent_id in intent_ids:
        try:
            await execute_intent(services, intent_id)
        except Exception:  # noqa: BLE001 - left pending; the reconcile loop retries it
            log.exception("intent %s not executed", intent_id)


async def process_post(
    services: Services, post: Post, *, topic: Topic | None = None, execute: bool = True
) -> Outcome:
    """Decide one post (once per version) and carry out what the decision calls for."""
    async with services.lock(f"post:{post.id}:{post.version}"):
        outcome = await _process(services, post, topic)
    if execute and outcome.intent_ids:
        await execute_all(services, outcome.intent_ids)
    return outcome


async def _process(services: Services, post: Post, topic: Topic | None) -> Outcome:
    store, config = services.store, services.config
    if store.is_seen(post.id, post.version):
        return Outcome(post.id, post.version, "seen", "skip", ("already decided",))
    title = post.topic_title or ""
    reason = policy.skip_post(post, config)
    if reason:
        return record_decision(services, post, None, "skip", [reason], title)

    with services.metrics.time_triage():
        decision = services.triager.decide(_context_thread(post, None, config.api_username))
    if decision.action == "ignore" and not decision.secrets_found:
        return record_decision(services, post, decision, "ignore", [], title)

    # Only now is the topic worth a request: status, human corrections, context.
    if topic is None:
        try:
            topic = await services.client().get_topic(post.topic_id or 0)
        except NotFound:  # deleted (or made private) since the post was listed
            return record_decision(services, post, decision, "skip", ["topic not found"], title)
    title = topic.title or title
    reason = policy.skip_topic(topic, config)
    if reason:
        return record_decision(services, post, decision, "skip", [reason], title)
    refresh_human_verdicts(services, topic)
    if len(topic.posts) > 1:
        with services.metrics.time_triage():
            decision = services.triager.decide(_context_thread(post, topic, config.api_username))

    reply = render_decision(decision)

    def plan(store: Store, action: str) -> tuple[str, list[str], list[int]]:
        reasons: list[str] = []
        ids: list[int] = []
        act: str = decision.action
        if act in ("reply", "review") and reply:
            act, extra, new = plan_reply(
                services,
                store,
                post=post,
                issue=decision.issue,
                raw=reply,
                confidence=float(decision.confidence),
                want=act,
            )
            reasons += extra
            ids += new
        elif act == "escalate":
            extra, new = _plan_escalation(services, store, post, decision, title)
            reasons += extra
            ids += new
        elif act in ("reply", "review"):
            act = "ignore"
            reasons.append("no reply text")
        if decision.secrets_found:
            # A posted reply opens with the rotate-your-key notice already.
            extra, new = _plan_secret(services, store, post, notice=act != "reply")
            reasons += extra
            ids += new
        return act, reasons, ids

    return record_decision(services, post, decision, decision.action, [], title, plan)
