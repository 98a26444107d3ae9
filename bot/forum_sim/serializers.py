"""Wire shapes of the local forum, matching Discourse's serializers field for field.

The field sets and types follow Discourse's PostSerializer, TopicViewSerializer and friends as
seen in real responses; tests compare them against the captured responses when available.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.forum_sim.state import ForumState, PostRec, TopicRec, UserRec

POST_ACTION_TYPES: list[dict[str, Any]] = [
    {"id": 2, "name_key": "like", "name": "Like", "is_flag": False, "require_message": False},
    {
        "id": 3,
        "name_key": "off_topic",
        "name": "Off-Topic",
        "is_flag": True,
        "require_message": False,
    },
    {
        "id": 4,
        "name_key": "inappropriate",
        "name": "Inappropriate",
        "is_flag": True,
        "require_message": False,
    },
    {
        "id": 6,
        "name_key": "notify_user",
        "name": "Send @{{username}} a message",
        "is_flag": True,
        "require_message": True,
    },
    {
        "id": 7,
        "name_key": "notify_moderators",
        "name": "Something Else",
        "is_flag": True,
        "require_message": True,
    },
    {"id": 8, "name_key": "spam", "name": "Spam", "is_flag": True, "require_message": False},
    {
        "id": 10,
        "name_key": "illegal",
        "name": "It's Illegal",
        "is_flag": True,
        "require_message": True,
    },
]


def _avatar(user: UserRec) -> str:
    letter = (user.username[:1] or "x").lower()
    return f"/letter_avatar_proxy/v4/letter/{letter}/8c91f0/{{size}}.png"


def _excerpt(cooked: str, limit: int = 300) -> tuple[str, bool]:
    text = html.unescape(re.sub(r"<[^>]+>", "", cooked)).strip()
    if len(text) > limit:
        return text[:limit] + "&hellip;", True
    return text, False


def _cooked(post: PostRec) -> str:
    from bot.forum_sim.state import cook

    # Cache keyed on raw: edits (state or direct assignment) re-render automatically.
    if post.cooked_for != post.raw:
        post.cooked = cook(post.raw)
        post.cooked_for = post.raw
    return post.cooked


def post_json(
    state: ForumState,
    post: PostRec,
    viewer: UserRec | None,
    *,
    include_raw: bool = False,
    latest: bool = False,
    in_stream: bool = False,
) -> dict[str, Any]:
    user = state.users[post.user_id]
    topic = state.topics[post.topic_id]
    cooked = _cooked(post)
    staff_viewer = viewer is not None and viewer.staff
    yours = viewer is not None and viewer.id == user.id
    siblings = state.posts_in_topic(post.topic_id)
    reply_count = sum(1 for p in siblings if p.reply_to_post_number == post.post_number)
    groups = state.user_groups(user)
    primary = "staff" if "staff" in groups else None
    data: dict[str, Any] = {
        "id": post.id,
        "name": user.name,
        "username": user.username,
        "avatar_template": _avatar(user),
        "created_at": post.created_at,
        "cooked": cooked,
        "post_number": post.post_number,
        "post_type": post.post_type,
        "posts_count": sum(1 for p in siblings if p.deleted_at is None),
        "updated_at": post.updated_at,
        "reply_count": reply_count,
        "reply_to_post_number": post.reply_to_post_number,
        "quote_count": 0,
        "incoming_link_count": 0,
        "reads": 1,
        "readers_count": 0,
        "score": 0,
        "yours": yours,
        "topic_id": topic.id,
        "topic_slug": topic.slug,
        "display_username": user.name,
        "primary_group_name": primary,
        "flair_name": None,
        "flair_url": None,
        "flair_bg_color": None,
        "flair_color": None,
        "flair_group_id": None,
        "badges_granted": [],
        "version": post.version,
        "can_edit": yours or staff_viewer,
        "can_delete": staff_viewer,
        "can_recover": staff_viewer,
        "can_see_hidden_post": staff_viewer,
        "can_wiki": staff_viewer,
        "user_title": None,
        "bookmarked": False,
        "actions_summary": [],
        "moderator": user.moderator,
        "admin": user.admin,
        "staff": user.staff,
        "user_id": user.id,
        "hidden": post.hidden,
        "trust_level": user.trust_level,
        "deleted_at": post.deleted_at,
        "user_deleted": False,
        "edit_reason": post.edit_reason,
        "can_view_edit_history": True,
        "wiki": False,
        "reviewable_id": None,
        "reviewable_score_count": 0,
        "reviewable_score_pending_count": 0,
        "post_url": f"/t/{topic.slug}/{topic.id}/{post.post_number}",
    }
    if in_stream:
        data["read"] = True
        data["link_counts"] = []
    if include_raw:
        data["raw"] = post.raw
        if state.faults.raw_as_document:
            data["raw"] = [{"type": "paragraph", "children": [{"text": post.raw}]}]
    if latest:
        excerpt, truncated = _excerpt(cooked)
        data.update(
            {
                "topic_title": topic.title,
                "topic_html_title": html.escape(topic.title),
                "category_id": topic.category_id,
                "excerpt": excerpt,
                "truncated": truncated,
            }
        )
    return data


def webhook_post_json(state: ForumState, post: PostRec) -> dict[str, Any]:
    """WebHookPostSerializer: serialised as system, with raw and topic context, no can_*."""
    system = state.find_user("system")
    data = post_json(state, post, system, include_raw=True)
    for key in list(data):
        if (
            key.startswith("can_")
            or key.startswith("flair_")
            or key
            in (
                "actions_summary",
                "yours",
                "badges_granted",
                "readers_count",
            )
        ):
            del data[key]
    topic = state.topics[post.topic_id]
    category = state.categories.get(topic.category_id) if topic.category_id else None
    visible = state.posts_in_topic(topic.id)
    data.update(
        {
            "topic_title": topic.title,
            "category_id": topic.category_id,
            "topic_posts_count": len(visible),
            "topic_filtered_posts_count": len([p for p in visible if p.deleted_at is None]),
            "topic_archetype": topic.archetype,
            "category_slug": category.slug if category else None,
        }
    )
    return data


def _basic_user(user: UserRec) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "avatar_template": _avatar(user),
    }


def visible_topic_posts(
    state: ForumState, topic: TopicRec, viewer: UserRec | None
) -> list[PostRec]:
    return [p for p in state.posts_in_topic(topic.id) if state.can_see_post(viewer, p)]


def topic_json(
    state: ForumState, topic: TopicRec, viewer: UserRec | None, chunk_size: int = 20
) -> dict[str, Any]:
    posts = visible_topic_posts(state, topic, viewer)
    creator = state.users[topic.user_id]
    last = state.users[posts[-1].user_id] if posts else creator
    participants: dict[int, int] = {}
    for p in posts:
        participants[p.user_id] = participants.get(p.user_id, 0) + 1
    staff_viewer = viewer is not None and viewer.staff
    return {
        "post_stream": {
            "posts": [post_json(state, p, viewer, in_stream=True) for p in posts[:chunk_size]],
            "stream": [p.id for p in posts],
        },
        "timeline_lookup": [[1, 0]],
        "tags": list(topic.tags),
        "id": topic.id,
        "title": topic.title,
        "fancy_title": html.escape(topic.title),
        "posts_count": len(posts),
        "created_at": topic.created_at,
        "views": topic.views,
        "reply_count": max(0, len(posts) - 1),
        "participant_count": len(participants),
        "like_count": 0,
        "last_posted_at": posts[-1].created_at if posts else None,
        "visible": topic.visible,
        "closed": topic.closed,
        "archived": topic.archived,
        "has_summary": False,
        "archetype": topic.archetype,
        "slug": topic.slug,
        "category_id": topic.category_id,
        "word_count": sum(len(p.raw.split()) for p in posts),
        "deleted_at": topic.deleted_at,
        "user_id": topic.user_id,
        "draft": None,
        "draft_key": f"topic_{topic.id}",
        "draft_sequence": 0,
        "unpinned": None,
        "pinned_globally": False,
        "pinned": False,
        "pinned_at": None,
        "pinned_until": None,
        "details": {
            "auto_close_at": None,
            "auto_close_hours": None,
            "auto_close_based_on_last_post": False,
            "created_by": _basic_user(creator),
            "last_poster": _basic_user(last),
            "participants": [
                {**_basic_user(state.users[uid]), "post_count": n}
                for uid, n in participants.items()
            ],
            "notification_level": 1,
            "can_flag_topic": viewer is not None,
            "can_edit": staff_viewer,
            "can_archive_topic": staff_viewer,
            "can_close_topic": staff_viewer,
            "can_convert_topic": staff_viewer,
            "can_create_post": viewer is not None
            and (staff_viewer or not (topic.closed or topic.archived)),
            "can_delete": staff_viewer,
            "can_edit_staff_notes": staff_viewer,
            "can_moderate_category": staff_viewer,
            "can_move_posts": staff_viewer,
            "can_pin_unpin_topic": staff_viewer,
            "can_remove_allowed_users": staff_viewer,
            "can_remove_self_id": viewer.id if viewer is not None else 0,
            "can_reply_as_new_topic": viewer is not None,
            "can_review_topic": staff_viewer,
            "can_split_merge_topic": staff_viewer,
            "can_toggle_topic_visibility": staff_viewer,
        },
        "highest_post_number": max((p.post_number for p in posts), default=0),
        "deleted_by": None,
        "actions_summary": [],
        "chunk_size": chunk_size,
        "bookmarked": False,
        "bookmarks": [],
        "featured_link": None,
        "has_deleted": any(p.deleted_at for p in posts),
        "image_url": None,
        "message_bus_last_id": 0,
        "show_read_indicator": False,
        "slow_mode_enabled_until": None,
        "slow_mode_seconds": 0,
        "suggested_topics": [],
        "tags_descriptions": {},
        "thumbnails": None,
        "topic_timer": None,
    }


def user_json(state: ForumState, user: UserRec) -> dict[str, Any]:
    groups = [
        {"id": state.groups[name].id, "name": name, "automatic": state.groups[name].automatic}
        for name in state.user_groups(user)
    ]
    post_count = sum(1 for p in state.posts.values() if p.user_id == user.id)
    return {
        "user_badges": [],
        "user": {
            "id": user.id,
            "username": user.username,
            "name": user.name,
            "avatar_template": _avatar(user),
            "last_posted_at": None,
            "last_seen_at": None,
            "created_at": user.created_at,
            "ignored": False,
            "muted": False,
            "can_ignore_user": False,
            "can_mute_user": False,
            "can_send_private_messages": True,
            "can_send_private_message_to_user": True,
            "trust_level": user.trust_level,
            "moderator": user.moderator,
            "admin": user.admin,
            "title": None,
            "badge_count": 0,
            "post_count": post_count,
            "profile_view_count": 0,
            "time_read": 0,
            "recent_time_read": 0,
            "primary_group_id": None,
            "primary_group_name": None,
            "staged": False,
            "groups": groups,
        },
    }


def site_json(state: ForumState) -> dict[str, Any]:
    return {
        "default_archetype": "regular",
        "post_types": {"regular": 1, "moderator_action": 2, "small_action": 3, "whisper": 4},
        "trust_levels": {"newuser": 0, "basic": 1, "member": 2, "regular": 3, "leader": 4},
        "groups": [{"id": g.id, "name": g.name} for g in state.groups.values()],
        "uncategorized_category_id": 1,
        "post_action_types": [
            {
                "id": t["id"],
                "name_key": t["name_key"],
                "name": t["name"],
                "description": t["name"],
                "short_description": "",
                "is_flag": t["is_flag"],
                "require_message": t["require_message"],
                "enabled": True,
                "applies_to": ["Post", "Chat::Message"],
                "is_used": False,
                "position": i,
                "auto_action_type": False,
                "system": True,
            }
            for i, t in enumerate(POST_ACTION_TYPES)
        ],
        "topic_flag_types": [],
        "can_create_tag": True,
        "can_tag_topics": True,
        "can_tag_pms": False,
        "top_tags": sorted({t for topic in state.topics.values() for t in topic.tags}),
        "categories": [
            {
                "id": c.id,
                "name": c.name,
                "color": c.color,
                "text_color": c.text_color,
                "slug": c.slug,
                "topic_count": sum(1 for t in state.topics.values() if t.category_id == c.id),
                "post_count": 0,
                "position": c.position,
                "description": c.description or None,
                "description_text": c.description or None,
                "topic_url": f"/t/{c.slug}",
                "read_restricted": c.read_restricted,
                "permission": 1,
                "notification_level": 1,
                "parent_category_id": None,
                "allow_global_tags": False,
                "can_edit": False,
                "default_list_filter": "all",
                "default_top_period": "all",
                "default_view": None,
                "has_children": False,
                "minimum_required_tags": 0,
                "navigate_to_first_post_after_read": False,
                "num_featured_topics": 3,
                "read_only_banner": None,
                "required_tag_groups": [],
                "show_subcategory_list": False,
                "sort_ascending": None,
                "sort_order": None,
                "subcategory_count": None,
                "subcategory_list_style": "rows_with_featured_topics",
                "topic_template": None,
                "topic_title_placeholder": None,
                "uploaded_background": None,
                "uploaded_background_dark": None,
                "uploaded_logo": None,
                "uploaded_logo_dark": None,
            }
            for c in state.categories.values()
        ],
        "archetypes": [{"id": "regular", "name": "Regular Topic", "options": []}],
        "user_fields": [],
        "auth_providers": [],
    }
