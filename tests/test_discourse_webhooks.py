"""Webhook signatures and parsing, and the local forum's signed deliveries over loopback."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.discourse.errors import WebhookError
from bot.discourse.webhooks import parse_event, sign, verify_signature

SECRET = "a-webhook-secret-of-length"


def _delivery(payload: dict, secret: str = SECRET, event: str = "post_created"):
    body = json.dumps(payload).encode()
    headers = {
        "X-Discourse-Event": event,
        "X-Discourse-Event-Type": "post",
        "X-Discourse-Event-Id": "42",
        "X-Discourse-Instance": "https://forum.example",
        "X-Discourse-Event-Signature": sign(body, secret),
    }
    return headers, body


POST = {"post": {"id": 7, "topic_id": 3, "post_number": 2, "raw": "hello", "username": "alice",
                 "topic_archetype": "regular", "version": 2, "unknown_plugin_field": {"x": 1}}}  # fmt: skip


def test_sign_matches_hmac_sha256_hex():
    import hashlib
    import hmac

    body = b'{"post":{"id":1}}'
    assert sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()


def test_valid_delivery_is_parsed():
    headers, body = _delivery(POST)
    event = parse_event(headers, body, SECRET)
    assert event.event == "post_created" and event.event_type == "post"
    assert event.event_id == 42 and event.instance == "https://forum.example"
    assert event.post is not None and event.post.id == 7 and event.post.version == 2
    assert event.post.topic_archetype == "regular"
    assert event.payload["post"]["unknown_plugin_field"] == {"x": 1}


def test_wrong_secret_is_rejected():
    headers, body = _delivery(POST, secret="another-secret-entirely")
    assert not verify_signature(body, headers["X-Discourse-Event-Signature"], SECRET)
    with pytest.raises(WebhookError) as exc:
        parse_event(headers, body, SECRET)
    assert exc.value.status == 403


def test_tampered_body_is_rejected():
    headers, body = _delivery(POST)
    tampered = body.replace(b'"hello"', b'"hellO"')
    assert not verify_signature(tampered, headers["X-Discourse-Event-Signature"], SECRET)
    with pytest.raises(WebhookError):
        parse_event(headers, tampered, SECRET)


def test_missing_signature_header_is_rejected():
    headers, body = _delivery(POST)
    del headers["X-Discourse-Event-Signature"]
    assert not verify_signature(body, None, SECRET)
    with pytest.raises(WebhookError) as exc:
        parse_event(headers, body, SECRET)
    assert "missing" in str(exc.value)


@pytest.mark.parametrize(
    "header", ["", "sha256=", "sha1=abc", "sha256=" + "0" * 64, "SHA256=deadbeef", "\u00e9"]
)
def test_malformed_signatures_are_rejected(header):
    _, body = _delivery(POST)
    assert not verify_signature(body, header, SECRET)


def test_bad_bodies_and_missing_event_raise_typed_errors():
    for body in (b"not json", b"[1,2]", b"\xff\xfe"):
        headers = {
            "X-Discourse-Event": "post_created",
            "X-Discourse-Event-Signature": sign(body, SECRET),
        }
        with pytest.raises(WebhookError):
            parse_event(headers, body, SECRET)
    headers, body = _delivery(POST)
    del headers["X-Discourse-Event"]
    with pytest.raises(WebhookError):
        parse_event(headers, body, SECRET)


def test_headers_are_case_insensitive_and_ping_has_no_post():
    body = b'{"ping":"OK"}'
    headers = {"x-discourse-event": "ping", "x-discourse-event-signature": sign(body, SECRET)}
    event = parse_event(headers, body, SECRET)
    assert event.event == "ping" and event.post is None and event.payload == {"ping": "OK"}


class _Receiver:
    """A plain HTTP server on loopback that records webhook deliveries."""

    def __init__(self, delay: float = 0.0) -> None:
        received: list[tuple[dict[str, str], bytes]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length", 0))
                body = self.rfile.read(length)
                if delay:
                    time.sleep(delay)
                received.append((dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> _Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.e2e
async def test_forum_delivers_signed_post_created_and_edited(live_forum):
    with _Receiver() as receiver:
        live_forum.state.add_webhook(receiver.url, SECRET)
        live_forum.state.create_topic("alice", "Webhook topic title", "first post body")
        async with live_forum.http() as http:
            client = live_forum.client(http)
            reply = await client.create_post(1, "bot reply over http", reply_to_post_number=1)
        live_forum.state.edit_post(reply.id, "bot reply, edited")
        assert live_forum.state.wait_for_deliveries(3, timeout=5)
    events = [parse_event(h, b, SECRET) for h, b in receiver.received]
    assert [e.event for e in events] == ["post_created", "post_created", "post_edited"]
    assert [e.post.id for e in events] == [1, reply.id, reply.id]
    assert events[2].post.raw == "bot reply, edited" and events[2].post.version == 2
    assert events[1].post.topic_archetype == "regular"
    assert events[0].instance == live_forum.base_url
    assert len({e.event_id for e in events}) == 3
    headers = receiver.received[0][0]
    assert headers["User-Agent"].startswith("Discourse/")
    assert "can_edit" not in events[0].payload["post"]  # webhook serializer drops can_*


@pytest.mark.e2e
async def test_slow_webhook_receiver_does_not_block_posting(live_forum):
    with _Receiver(delay=0.6) as receiver:
        live_forum.state.add_webhook(receiver.url, SECRET)
        live_forum.state.create_topic("alice", "Webhook topic title", "first post body")
        async with live_forum.http() as http:
            client = live_forum.client(http)
            started = time.perf_counter()
            await client.create_post(1, "quick reply one")
            await client.create_post(1, "quick reply two")
            elapsed = time.perf_counter() - started
        assert elapsed < 0.5
        assert live_forum.state.wait_for_deliveries(3, timeout=4)
    assert all(d["status"] == 200 for d in live_forum.state.deliveries)


async def test_pm_and_whisper_posts_fire_with_archetype(forum):
    with _Receiver() as receiver:
        forum.state.add_webhook(receiver.url, SECRET, events=("post_created",))
        forum.state.add_user("mod", moderator=True)
        forum.state.create_topic(
            "mod",
            "Escalation to staff",
            "pm body text",
            archetype="private_message",
            target_recipients=["staff"],
        )
        forum.state.create_topic("alice", "Public topic here", "public body")
        forum.state.create_post("mod", 2, "staff-only note", post_type=4)
        assert forum.state.wait_for_deliveries(3, timeout=5)
    posts = sorted(
        (parse_event(h, b, SECRET).post for h, b in receiver.received), key=lambda p: p.id
    )
    assert [p.topic_archetype for p in posts] == ["private_message", "regular", "regular"]
    assert posts[2].is_whisper


def test_unreachable_webhook_is_recorded_not_raised(forum):
    forum.state.add_webhook("http://127.0.0.1:9/hook", SECRET)
    forum.state.create_topic("alice", "Topic for a dead hook", "body text")
    assert forum.state.wait_for_deliveries(1, timeout=6)
    assert forum.state.deliveries[0]["status"] is None and forum.state.deliveries[0]["error"]
