"""The webhook endpoint in-process: signature, de-duplication, event filtering."""

from __future__ import annotations

import json
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette

from bot.discourse.webhooks import sign
from bot.web.webhook import WebhookWorker, webhook_routes
from tests.runner_support import make_forum, make_services, make_store

SECRET = "a-webhook-secret-of-length"
SCOPES = "Read only key fails: Request includes unauthorized scopes: api.all.read"


@pytest.fixture
def env(tmp_path):
    state = make_forum()
    store = make_store(tmp_path)
    services = make_services(state, store)
    services.config = replace(services.config, webhook_secret=SECRET)
    worker = WebhookWorker(services)
    app = Starlette(routes=webhook_routes(services, worker))
    yield state, store, services, worker, app
    store.close()
    state.close()


def _delivery(post: dict, event: str = "post_created", event_id: int = 1, secret: str = SECRET):  # type: ignore[no-untyped-def]
    body = json.dumps({"post": post}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Discourse-Event": event,
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Event-Id": str(event_id),
        "X-Discourse-Event-Signature": sign(body, secret),
    }
    return body, headers


async def _post(app, body, headers):  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        return await http.post("/webhooks/discourse", content=body, headers=headers)


def _payload(state, topic_post: dict, **extra):  # type: ignore[no-untyped-def]
    return {
        **topic_post,
        "topic_archetype": topic_post.get("archetype", "regular"),
        "topic_title": topic_post["topic_title"],
        **extra,
    }


async def test_valid_delivery_is_processed_once_even_when_redelivered(env):
    state, store, services, worker, app = env
    post = state.create_topic("alice", "Key", SCOPES)
    body, headers = _delivery(_payload(state, post))
    first = await _post(app, body, headers)
    assert first.status_code == 200 and first.json()["queued"] == post["id"]
    await worker.drain()
    # Discourse retries create a new event id for the same post and version.
    body2, headers2 = _delivery(_payload(state, post), event_id=2)
    second = await _post(app, body2, headers2)
    assert second.json().get("duplicate") is True
    await worker.drain()
    await services.aclose()
    assert len(state.posts_by("triagebot")) == 1
    assert store.is_seen(post["id"], 1)


@pytest.mark.parametrize(
    "mutate, status",
    [
        (lambda b, h: (b, {**h, "X-Discourse-Event-Signature": "sha256=" + "0" * 64}), 403),
        (lambda b, h: (b, {k: v for k, v in h.items() if "Signature" not in k}), 400),
        (lambda b, h: (b + b" ", h), 403),  # body changed after signing
        (lambda b, h: _delivery_raw(b"not json"), 400),
    ],
    ids=["bad-signature", "missing-signature", "tampered", "not-json"],
)
async def test_rejected_deliveries(env, mutate, status):
    state, _, _, worker, app = env
    post = state.create_topic("alice", "Key", SCOPES)
    body, headers = mutate(*_delivery(_payload(state, post)))
    response = await _post(app, body, headers)
    assert response.status_code == status
    assert worker.tasks == set() and worker.processed == 0


def _delivery_raw(body: bytes):  # type: ignore[no-untyped-def]
    return body, {
        "X-Discourse-Event": "post_created",
        "X-Discourse-Event-Signature": sign(body, SECRET),
    }


async def test_ping_and_other_events_are_acknowledged_only(env):
    _, store, _, worker, app = env
    body = b'{"ping": "OK"}'
    r = await _post(
        app, body, {"X-Discourse-Event": "ping", "X-Discourse-Event-Signature": sign(body, SECRET)}
    )
    assert r.status_code == 200 and r.json()["ping"] is True
    body = b'{"topic": {"id": 3}}'
    r = await _post(
        app,
        body,
        {"X-Discourse-Event": "topic_created", "X-Discourse-Event-Signature": sign(body, SECRET)},
    )
    assert r.json()["ignored"] == "topic_created"
    assert worker.processed == 0 and store.list_decisions() == []


async def test_private_message_and_whisper_webhooks_are_recorded_not_answered(env):
    state, store, services, worker, app = env
    post = state.create_topic("alice", "Key", SCOPES)
    pm, headers = _delivery(_payload(state, post, id=9001, topic_archetype="private_message"))
    await _post(app, pm, headers)
    wh, headers = _delivery(_payload(state, post, id=9002, post_type=4), event_id=5)
    await _post(app, wh, headers)
    await worker.drain()
    await services.aclose()
    reasons = {d.post_id: d.reasons for d in store.list_decisions()}
    assert "private message" in reasons[9001] and "whisper" in reasons[9002]
    assert state.posts_by("triagebot") == []


async def test_no_secret_configured_refuses_everything(env):
    state, _, services, _, _ = env
    services.config = replace(services.config, webhook_secret="")
    app = Starlette(routes=webhook_routes(services))
    post = state.create_topic("alice", "Key", SCOPES)
    body, headers = _delivery(_payload(state, post))
    assert (await _post(app, body, headers)).status_code == 503
