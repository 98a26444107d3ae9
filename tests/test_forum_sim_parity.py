"""Places where the local forum once differed from Discourse in ways that could hide a bot bug.

Each test sends the request a bot sends to the local forum (in-process, the real ASGI app) and
checks the answer against the OpenAPI description or a captured real response in
../shared/discourse/, or against core's behaviour where the notes cite it
(API_NOTES.md: edit conflicts, title uniqueness, per-user create limits, DiscourseConnect).
"""

from __future__ import annotations

import json

import pytest

from tests.test_forum_sim_fidelity import SHARED, mismatches


@pytest.fixture
def api(forum):
    return forum


def _h(forum, username: str = "triagebot") -> dict[str, str]:
    key = forum.api_key if username == "triagebot" else forum.state.add_api_key(username)
    return {"Api-Key": key, "Api-Username": username}


# ---- edit conflicts (409) ---------------------------------------------------------------------


async def test_stale_original_text_is_a_409_and_leaves_the_post_alone(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    reply = state.create_post("triagebot", 1, "Known issue: see the status page.")
    state.edit_post(reply["id"], "Known issue: see the status page. (edited by a moderator)")
    async with api.http() as http:
        r = await http.put(
            f"/posts/{reply['id']}.json",
            json={"post": {"raw": "bot text v2", "original_text": reply["raw"]}},
            headers=_h(api),
        )
        assert r.status_code == 409
        body = r.json()
        # core: render_json_error(I18n.t("edit_conflict"), status: 409)
        assert list(body) == ["errors"] and "edited by another user" in body["errors"][0]
        assert state.post(reply["id"]).raw.endswith("(edited by a moderator)")
        # The current text as original_text is accepted; so is the older raw_old spelling.
        current = state.post(reply["id"]).raw
        ok = await http.put(
            f"/posts/{reply['id']}.json",
            json={"post": {"raw": "bot text v2", "original_text": current}},
            headers=_h(api),
        )
        assert ok.status_code == 200 and ok.json()["post"]["raw"] == "bot text v2"
        stale = await http.put(
            f"/posts/{reply['id']}.json",
            json={"post": {"raw": "bot text v3", "raw_old": current}},
            headers=_h(api),
        )
        assert stale.status_code == 409


async def test_update_post_response_matches_the_spec_with_raw_and_draft_sequence(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    reply = state.create_post("triagebot", 1, "first text of the reply")
    async with api.http() as http:
        r = await http.put(
            f"/posts/{reply['id']}.json",
            json={"post": {"raw": "second text", "original_text": "first text of the reply"}},
            headers=_h(api),
        )
    data = r.json()
    assert mismatches("update_post", data) == []
    assert data["post"]["raw"] == "second text" and data["post"]["version"] == 2
    assert isinstance(data["post"]["draft_sequence"], int)
    fixture = SHARED / "discourse_api_docs" / "responses" / "posts" / "update_post_response.json"
    if fixture.exists():
        # An older capture (no raw yet; the spec's newer schema has it): every field of it the
        # bot could read is in the local answer too.
        real = json.loads(fixture.read_text())["post"]
        wanted = {"id", "version", "cooked", "draft_sequence", "topic_id", "post_number",
                  "updated_at", "edit_reason", "username", "user_id"}  # fmt: skip
        assert wanted <= set(real) and wanted <= set(data["post"])


async def test_stale_original_title_or_tags_is_a_409(api):
    state = api.state
    state.create_topic("triagebot", "Quota exceeded again", "You exceeded your current quota",
                       tags=["api"])  # fmt: skip
    state.topic(1).title = "Quota exceeded again (renamed by staff)"
    async with api.http() as http:
        r = await http.put(
            "/t/-/1.json",
            json={"title": "Quota exceeded: known", "original_title": "Quota exceeded again"},
            headers=_h(api),
        )
        assert r.status_code == 409 and list(r.json()) == ["errors"]
        assert state.topic(1).title == "Quota exceeded again (renamed by staff)"
        r = await http.put(
            "/t/-/1.json",
            json={"tags": ["api", "quota"], "original_tags": ["old"]},
            headers=_h(api),
        )
        assert r.status_code == 409 and state.topic(1).tags == ["api"]
        # Blank originals check nothing, as in core (`original_tags.present?`).
        r = await http.put("/t/-/1.json", json={"tags": ["api", "x"], "original_tags": []},
                           headers=_h(api))  # fmt: skip
        assert r.status_code == 200 and state.topic(1).tags == ["api", "x"]
        r = await http.put(
            "/t/-/1.json",
            json={"title": "Quota exceeded: known issue",
                  "original_title": "Quota exceeded again (renamed by staff)"},
            headers=_h(api),
        )  # fmt: skip
        assert r.status_code == 200 and r.json()["basic_topic"]["title"] == (
            "Quota exceeded: known issue"
        )


# ---- per-user create limit (429) ----------------------------------------------------------------


async def test_back_to_back_creates_by_a_member_meet_discourses_429(api):
    state = api.state
    state.rate_limit_create_post = 5.0
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    outcomes = []
    async with api.http() as http:
        for i in range(45):
            r = await http.post("/posts.json", json={"topic_id": 1, "raw": f"reply {i}"},
                                headers=_h(api))  # fmt: skip
            outcomes.append(r)
    assert [r.status_code for r in outcomes[:2]] == [200, 429]
    assert all(r.status_code == 429 for r in outcomes[1:])
    refused = outcomes[1]
    body = refused.json()
    # Shape of RateLimiter::LimitExceeded as rendered by core (API_NOTES.md 3.2a).
    assert set(body) == {"errors", "error_type", "extras"} and body["error_type"] == "rate_limit"
    wait = body["extras"]["wait_seconds"]
    assert isinstance(wait, int) and 1 <= wait <= 5
    assert refused.headers["Retry-After"] == str(wait)
    # The per-user limiter has no error code; only the site-wide ones name themselves.
    assert "Discourse-Rate-Limit-Error-Code" not in refused.headers
    assert [p["raw"] for p in state.posts_by("triagebot")] == ["reply 0"]


async def test_staff_are_exempt_from_the_create_limit(api):
    state = api.state
    state.rate_limit_create_post = 5.0
    state.add_user("mod", moderator=True)
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    async with api.http() as http:
        codes = [
            (await http.post("/posts.json", json={"topic_id": 1, "raw": f"staff note {i}"},
                             headers=_h(api, "mod"))).status_code
            for i in range(5)
        ]  # fmt: skip
    assert codes == [200] * 5


# ---- unlisted topics ----------------------------------------------------------------------------


async def test_latest_posts_leave_out_unlisted_topics(api):
    state = api.state
    state.create_topic("alice", "Listed topic here", "You exceeded your current quota")
    hidden = state.create_topic("bob", "Unlisted topic here", "Request includes unauthorized")
    state.create_post("carol", hidden["topic_id"], "same problem here")
    async with api.http() as http:
        r = await http.put(f"/t/{hidden['topic_id']}/status.json",
                           json={"status": "visible", "enabled": "false"},
                           headers=_h(api, "system"))  # fmt: skip
        assert r.status_code == 200 and state.topic(hidden["topic_id"]).visible is False
        latest = (await http.get("/posts.json", headers=_h(api))).json()
        topic = (await http.get(f"/t/{hidden['topic_id']}.json", headers=_h(api))).json()
    assert mismatches("latest_posts", latest) == []
    assert {p["topic_id"] for p in latest["latest_posts"]} == {1}
    # The topic itself stays readable by id and says it is unlisted.
    assert topic["visible"] is False


# ---- duplicate topic titles ---------------------------------------------------------------------


async def test_a_duplicate_topic_title_is_a_422_as_in_core(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    async with api.http() as http:
        dup = await http.post("/posts.json", headers=_h(api),
                              json={"title": "quota  EXCEEDED again", "raw": "Same title here"})  # fmt: skip
        # A PM may reuse a title; a deleted topic's title is free again.
        pm = await http.post("/posts.json", headers=_h(api),
                             json={"title": "Quota exceeded again", "raw": "To staff, same title",
                                   "archetype": "private_message",
                                   "target_recipients": "staff"})  # fmt: skip
        state.delete_post(1)
        again = await http.post("/posts.json", headers=_h(api),
                                json={"title": "Quota exceeded again", "raw": "Now it is free"})  # fmt: skip
    assert dup.status_code == 422
    assert dup.json() == {"action": "create_post", "errors": ["Title has already been used"]}
    assert pm.status_code == 200 and again.status_code == 200


async def test_client_reports_a_duplicate_title_as_unprocessable(api):
    from bot.discourse.errors import UnprocessableEntity

    api.state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    async with api.http() as http:
        client = api.client(http)
        with pytest.raises(UnprocessableEntity, match="Title has already been used"):
            await client.create_topic("Quota exceeded again", "A second topic body")
    assert api.state.posts_by("triagebot") == []


# ---- 404 extras, charset, Accept instead of .json ---------------------------------------------


async def test_topic_404_carries_the_error_page_in_extras(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    async with api.http() as http:
        missing = await http.get("/t/999.json", headers=_h(api))
        by_slug = await http.get("/t/some-slug/999.json", headers=_h(api))
        posts = await http.get("/t/999/posts.json", headers=_h(api))
    for r in (missing, by_slug):
        body = r.json()
        assert r.status_code == 404 and body["error_type"] == "not_found"
        assert set(body["extras"]) == {"title", "html"} and "<" in body["extras"]["html"]
    # Only topics#show renders the page (core's rescue_discourse_actions); topics#posts not.
    assert posts.status_code == 404 and "extras" not in posts.json()


async def test_json_answers_name_their_charset_as_rails_does(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    state.configure_rate_limit(1)
    async with api.http() as http:
        answers = [
            await http.get("/posts.json", headers=_h(api)),  # 200
            await http.get("/t/1.json", headers=_h(api)),  # 429 (site-wide limit of 1)
        ]
        state.configure_rate_limit(100)
        answers += [
            await http.get("/t/999.json", headers=_h(api)),  # 404
            await http.get("/posts.json", headers={"Api-Key": "wrong"}),  # 403
            await http.post("/posts.json", json={"topic_id": 1, "raw": "x"}, headers=_h(api)),
        ]
    assert [r.status_code for r in answers] == [200, 429, 404, 403, 422]
    assert {r.headers["content-type"] for r in answers} == {"application/json; charset=utf-8"}


async def test_accept_json_serves_the_api_without_the_suffix(api):
    state = api.state
    state.create_topic("alice", "Quota exceeded again", "You exceeded your current quota")
    reply = state.create_post("triagebot", 1, "first text of the reply")
    accept = {**_h(api), "Accept": "application/json"}
    async with api.http() as http:
        suffixed = (await http.get("/t/1.json", headers=_h(api))).json()
        topic = await http.get("/t/1", headers=accept)
        slugged = await http.get("/t/quota-exceeded-again/1", headers=accept)
        latest = await http.get("/posts", headers=accept)
        post = await http.get(f"/posts/{reply['id']}", headers=accept)
        edit = await http.put(f"/posts/{reply['id']}", headers=accept,
                              json={"post": {"raw": "second text of the reply"}})  # fmt: skip
        stream = await http.get("/t/1/posts", params={"post_ids[]": "1"}, headers=accept)
        html_client = await http.get("/t/1", headers={**_h(api), "Accept": "text/html"})
    assert topic.status_code == 200 and topic.json()["id"] == suffixed["id"]
    assert slugged.status_code == 200 and post.json()["raw"] == "first text of the reply"
    assert mismatches("latest_posts", latest.json()) == []
    assert edit.status_code == 200 and state.post(reply["id"]).raw == "second text of the reply"
    assert stream.json()["post_stream"]["posts"][0]["id"] == 1
    assert html_client.status_code == 404  # no JSON asked for: not the API


async def test_accept_json_leaves_suffixed_paths_alone(api):
    api.state.add_user("john.doe")
    accept = {**_h(api), "Accept": "application/json"}
    async with api.http() as http:
        assert (await http.get("/u/john.doe.json", headers=accept)).json()["user"]["username"] == (
            "john.doe"
        )
        assert (await http.get("/u/john.doe", headers=accept)).json()["user"]["username"] == (
            "john.doe"
        )
