"""Tolerant parsing of Discourse JSON into the client's dataclasses."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.discourse.errors import DiscourseError
from bot.discourse.models import Post, Topic, User, WebhookEvent


def test_post_ignores_unknown_fields_and_defaults_missing_ones():
    post = Post.from_json({"id": 5, "accepted_answer": True, "reactions": [{"id": "heart"}]})
    assert post.id == 5 and post.raw == "" and post.post_type == 1 and post.version == 1
    assert not post.staff and post.deleted_at is None and post.topic_id is None


def test_post_coerces_loose_types():
    post = Post.from_json(
        {
            "id": "9",
            "topic_id": "3",
            "post_number": "2",
            "admin": "true",
            "moderator": "false",
            "trust_level": 3.0,
            "hidden": "false",
            "version": "4",
            "post_type": 4,
        }  # fmt: skip
    )
    assert (post.id, post.topic_id, post.post_number, post.version) == (9, 3, 2, 4)
    assert post.admin and post.staff  # staff derived when the field is missing
    assert not post.moderator and not post.hidden
    assert post.trust_level == 3 and post.is_whisper


def test_topic_tags_as_strings_or_objects_and_stream():
    topic = Topic.from_json(
        {
            "id": 1,
            "tags": ["api", {"id": 3, "name": "billing", "slug": "billing"}, 7, None],
            "archetype": "private_message",
            "closed": "true",
            "post_stream": {"posts": [{"id": 10}, {"no_id": True}, "junk"], "stream": [10, "11"]},
        }
    )
    assert topic.tags == ("api", "billing")
    assert topic.is_private_message and topic.closed and not topic.archived
    assert topic.stream == (10, 11) and [p.id for p in topic.posts] == [10]


def test_user_accepts_envelope_and_group_shapes():
    user = User.from_json(
        {
            "user": {
                "id": 2,
                "username": "mod",
                "moderator": True,
                "groups": [{"id": 1, "name": "staff"}, "support"],
            }
        }  # fmt: skip
    )
    assert user.staff and user.groups == ("staff", "support")


def test_webhook_event_without_post():
    event = WebhookEvent.from_json({"event": "ping", "payload": {"ping": "OK"}})
    assert event.post is None and event.event_id is None


@pytest.mark.parametrize("bad", [{}, {"id": None}, {"id": "abc"}, [], "x", None])
def test_missing_id_is_a_typed_error(bad):
    with pytest.raises(DiscourseError):
        Post.from_json(bad)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)
post_keys = st.sampled_from(
    [
        "id",
        "topic_id",
        "raw",
        "cooked",
        "post_number",
        "post_type",
        "staff",
        "admin",
        "trust_level",
        "user_id",
        "username",
        "hidden",
        "deleted_at",
        "version",
        "tags",
        "post_stream",
        "groups",
        "closed",
        "archetype",
    ]  # fmt: skip
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(post_keys, json_values, max_size=10))
def test_parsing_never_fails_except_with_typed_error(data):
    for model in (Post, Topic, User):
        try:
            parsed = model.from_json(data)
        except DiscourseError:
            continue
        assert isinstance(parsed.id, int)
