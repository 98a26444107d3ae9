"""One follow-up per topic the bot answered when a maintainer changes an issue.

Scans the known-issue history after a persisted cursor. A change to the status
or the workaround produces, for every topic where the bot's reply for that
issue is still standing, one follow-up keyed `followup:<history id>:<topic>`,
so re-scanning after a crash never posts twice. A per-hour budget spreads a
large batch out over time: the cursor stays on an entry until all its topics
are done.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import yaml

from bot.discourse.errors import NotFound
from bot.records import Reply
from bot.runner import policy, texts
from bot.runner.intents import execute_intent
from bot.runner.pipeline import refresh_human_verdicts
from bot.runner.services import Services

CURSOR_KEY = "followups.history_id"
WATCHED = ("status", "workaround")


def changed_fields(before_yaml: str, after_yaml: str) -> tuple[list[str], str]:
    """(watched fields that changed, the previous status)."""
    if not before_yaml or not after_yaml:
        return [], ""
    try:
        before = yaml.safe_load(before_yaml) or {}
        after = yaml.safe_load(after_yaml) or {}
    except yaml.YAMLError:
        return [], ""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return [], ""
    changed = [
        f for f in WATCHED if str(before.get(f) or "").strip() != str(after.get(f) or "").strip()
    ]
    return changed, str(before.get("status") or "")


def _hour_ago() -> str:
    return (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _blocked(services: Services, reply: Reply) -> str | None:
    """Why the bot must not post in this topic now (closed, gone, corrected by a human)."""
    try:
        topic = await services.client().get_topic(reply.topic_id)
    except NotFound:
        return "skipped: topic gone"
    reason = policy.skip_topic(topic, services.config)
    if reason:
        return f"skipped: {reason}"
    refresh_human_verdicts(services, topic)
    for row in services.store.replies_in_topic(reply.topic_id):
        if row.state in ("removed", "corrected"):
            return f"skipped: reply {row.state} by a human"
    return None


async def run_followups(services: Services) -> int:
    """Plan and post due follow-ups; returns how many were planned."""
    store, config = services.store, services.config
    if services.mode == "dry-run":
        return 0
    cursor_raw = store.get_state(CURSOR_KEY)
    if cursor_raw is None:
        # A new bot has answered nothing yet: earlier history is not news to anyone.
        latest = store.db.execute("SELECT COALESCE(MAX(id), 0) FROM issue_history").fetchone()[0]
        store.set_state(CURSOR_KEY, str(latest))
        return 0
    cursor = int(cursor_raw)
    planned: list[int] = []
    for entry in store.history_after(cursor):
        changed, previous = changed_fields(entry.before, entry.after)
        issue = store.get_issue(entry.slug) if changed else None
        done = True
        if issue is not None:
            for reply in store.replies_for_issue(entry.slug):
                used = store.count_intents_since(("followup",), _hour_ago())
                if used >= config.followup_per_hour:
                    done = False
                    break
                if store.has_followup(entry.id, reply.topic_id):
                    continue
                blocked = await _blocked(services, reply)
                if blocked:
                    with store.transaction():
                        store.add_followup(entry.id, entry.slug, reply.topic_id, blocked)
                    continue
                with store.transaction():
                    if not store.add_followup(entry.id, entry.slug, reply.topic_id, "planned"):
                        continue
                    raw = texts.followup(issue, changed, previous)
                    if services.mode == "auto":
                        intent_id = store.add_intent(
                            kind="followup",
                            dedupe_key=f"followup:{entry.id}:{reply.topic_id}",
                            topic_id=reply.topic_id,
                            post_id=reply.post_id,
                            issue=entry.slug,
                            raw=raw,
                            payload={"reply_to_post_number": reply.reply_post_number},
                        )
                        if intent_id is not None:
                            planned.append(intent_id)
                    else:
                        store.add_draft(
                            {
                                "post_id": reply.post_id,
                                "topic_id": reply.topic_id,
                                "issue": entry.slug,
                                "confidence": 1.0,
                                "raw": raw,
                                "reason": f"follow-up: {', '.join(changed)} changed",
                            }
                        )
        if not done:
            break
        store.set_state(CURSOR_KEY, str(entry.id))
    for intent_id in planned:
        await execute_intent(services, intent_id)
    return len(planned)
