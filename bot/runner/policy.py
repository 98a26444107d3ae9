"""Pure "may the bot answer this post?" checks.

Each check returns a short reason when the bot must stay silent, or None. They
take plain values (the post, its topic, what the store knows) so they are
testable without a forum or a database.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.config import Config
from bot.discourse.models import Post, Topic
from bot.records import Reply


def skip_post(post: Post, config: Config) -> str | None:
    """Checks that need only the post itself (no topic fetch, no store)."""
    if post.username.lower() == config.api_username.lower():
        return "own post"
    if post.username.lower() in {b.lower() for b in config.bot_usernames}:
        return "another bot"
    if post.username.lower() == "system":
        return "system post"
    if post.staff and not config.answer_staff:
        return "staff post"
    if post.is_whisper:
        return "whisper"
    if not post.is_regular:
        return "not a regular post"
    if post.topic_archetype == "private_message":
        return "private message"
    if post.is_deleted or post.hidden:
        return "deleted or hidden"
    if post.category_id is not None and post.category_id in config.excluded_categories:
        return "excluded category"
    return None


def skip_topic(topic: Topic, config: Config) -> str | None:
    """Checks on the topic (fetched only when the bot would act)."""
    if topic.is_private_message:
        return "private message"
    if topic.closed:
        return "topic closed"
    if topic.archived:
        return "topic archived"
    if not topic.visible:
        # Staff unlisted it (spam, duplicate, under review); /posts.json already leaves such
        # posts out, and a webhook or direct fetch must not answer them either.
        return "topic unlisted"
    if topic.deleted_at:
        return "topic deleted"
    if topic.category_id is not None and topic.category_id in config.excluded_categories:
        return "excluded category"
    return None


def skip_answer(replies_in_topic: Sequence[Reply], issue: str | None) -> str | None:
    """Checks on what the bot already did in the topic."""
    for reply in replies_in_topic:
        if reply.state in ("removed", "corrected"):
            return f"a human {reply.state} the bot's reply in this topic"
    for reply in replies_in_topic:
        if issue and reply.issue == issue:
            return "already answered this issue in this topic"
    return None


def over_hourly_limit(posts_last_hour: int, config: Config) -> bool:
    return posts_last_hour >= config.max_posts_per_hour


def human_verdicts(
    topic: Topic, bot_replies: Sequence[Reply], bot_username: str
) -> list[tuple[int, str]]:
    """(reply row id, new state) for bot replies a human removed or corrected.

    Removed: the reply post is gone from the topic or deleted. Corrected: someone
    edited it (the bot never edits its own replies), or a staff member replied
    to it.
    """
    by_id = {p.id: p for p in topic.posts}
    out: list[tuple[int, str]] = []
    for reply in bot_replies:
        if reply.state != "active" or not reply.reply_post_id:
            continue
        post = by_id.get(reply.reply_post_id)
        if post is None or post.is_deleted or post.hidden:
            out.append((reply.id, "removed"))
            continue
        if post.version > 1:
            out.append((reply.id, "corrected"))
            continue
        for other in topic.posts:
            if (
                other.reply_to_post_number == post.post_number
                and other.post_number > post.post_number
                and other.staff
                and other.username.lower() != bot_username.lower()
            ):
                out.append((reply.id, "corrected"))
                break
    return out
