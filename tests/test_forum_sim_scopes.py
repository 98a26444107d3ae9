"""Granular API keys on the local forum: scopes are checked while authenticating, as in Discourse."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from bot.forum_sim.scopes import add_granular_api_key, permits

DENIED = {
    "errors": [
        "You are not permitted to view the requested resource. The API username or key is invalid."
    ],
    "error_type": "invalid_access",
}


async def _call(forum, key: str, method: str, path: str, **kw):  # type: ignore[no-untyped-def]
    async with forum.http() as http:
        headers = {"Api-Key": key, "Api-Username": "triagebot"}
        return await http.request(method, path, headers=headers, **kw)


async def test_a_route_outside_the_scopes_is_refused_before_the_controller(forum):
    key = add_granular_api_key(forum.state, "triagebot", {"posts:list"})
    listing = await _call(forum, key, "GET", "/posts.json")
    assert listing.status_code == 200
    create = await _call(forum, key, "POST", "/posts.json", json={})
    assert create.status_code == 403 and create.json() == DENIED
    # With the scope the same empty request reaches the controller: 400, nothing created.
    writer = add_granular_api_key(forum.state, "triagebot", {"topics:write"})
    create = await _call(forum, writer, "POST", "/posts.json", json={})
    assert create.status_code == 400 and create.json()["error_type"] == "invalid_parameters"
    assert forum.state.posts == {}


async def test_global_read_covers_every_get_and_no_write(forum):
    key = add_granular_api_key(forum.state, "triagebot", {"global:read"})
    for path in ("/site.json", "/session/current.json", "/u/triagebot.json", "/posts.json"):
        assert (await _call(forum, key, "GET", path)).status_code == 200, path
    assert (await _call(forum, key, "PUT", "/t/-/1.json", json={})).status_code == 403


async def test_no_granular_scope_can_flag(forum):
    key = add_granular_api_key(forum.state, "triagebot", {"global:read", "topics:write"})
    response = await _call(forum, key, "POST", "/post_actions.json", json={})
    assert response.status_code == 403
    global_key = forum.api_key
    response = await _call(forum, global_key, "POST", "/post_actions.json", json={})
    assert response.status_code == 400


def test_permits_matches_discourse_routes():
    assert permits(frozenset({"topics:update"}), "PUT", "/t/-/12.json")
    assert permits(frozenset({"topics:update"}), "PUT", "/t/some-slug/12.json")
    assert permits(frozenset({"topics:read"}), "GET", "/t/12/posts.json")
    assert not permits(frozenset({"topics:read"}), "GET", "/posts/12.json")
    assert permits(frozenset({"posts:edit"}), "PUT", "/posts/12.json")


def test_unknown_scopes_are_refused(forum):
    with pytest.raises(ValueError, match="unknown scopes: posts:everything"):
        add_granular_api_key(forum.state, "triagebot", {"posts:everything"})
    from bot.cli import cli

    out = CliRunner().invoke(cli, ["forum", "serve", "--scopes", "global:read,nope:x"])
    assert out.exit_code == 2 and "--scopes: unknown nope:x" in out.output
