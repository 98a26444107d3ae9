"""`GET /review.json`: Discourse's review queue, as far as flags fill it.

In Discourse every flag on a post creates (or adds a score to) a
`ReviewableFlaggedPost`; staff see it at /review with the flag's message as the
reason. The shape follows core's `ReviewableSerializer` trimmed to what a bot
and a test read: id, type, status, target post, topic and the scores' reasons.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.forum_sim.state import ForumState, UserRec, invalid_access

PENDING = 0


def reviewables(state: ForumState) -> list[dict[str, Any]]:
    """One reviewable per flagged post, its scores in flag order (newest reviewable first)."""
    with state._lock:
        by_post: dict[int, dict[str, Any]] = {}
        for flag in state.flags:
            post = state.posts.get(flag["post_id"])
            if post is None:
                continue
            item = by_post.get(post.id)
            if item is None:
                item = by_post[post.id] = {
                    "id": len(by_post) + 1,
                    "type": "ReviewableFlaggedPost",
                    "status": PENDING,
                    "target_type": "Post",
                    "target_id": post.id,
                    "topic_id": post.topic_id,
                    "created_at": flag["created_at"],
                    "reviewable_scores": [],
                }
            item["reviewable_scores"].append(
                {
                    "score_type": {"id": flag["type_id"], "type": flag["flag"]},
                    "user": {"username": flag["username"]},
                    "reason": flag.get("message") or "",
                    "created_at": flag["created_at"],
                }
            )
        return sorted(by_post.values(), key=lambda r: r["id"], reverse=True)


async def review_list(request: Request, state: ForumState, user: UserRec | None) -> Response:
    if user is None or not user.staff:
        raise invalid_access()
    return JSONResponse(
        {"reviewables": reviewables(state), "meta": {"total_rows_reviewables": len(state.flags)}}
    )
