"""Discourse webhook deliveries: signature check and parsing.

Discourse signs the raw body: `X-Discourse-Event-Signature: sha256=<hex HMAC-SHA256(secret,
body)>`. Verification must use the exact received bytes (re-serialising JSON changes them) and a
constant-time comparison.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from bot.discourse.errors import WebhookError
from bot.discourse.models import WebhookEvent

SIGNATURE_HEADER = "X-Discourse-Event-Signature"
EVENT_HEADER = "X-Discourse-Event"
EVENT_TYPE_HEADER = "X-Discourse-Event-Type"
EVENT_ID_HEADER = "X-Discourse-Event-Id"
INSTANCE_HEADER = "X-Discourse-Instance"


def _key(secret: str | bytes) -> bytes:
    return secret.encode("utf-8") if isinstance(secret, str) else secret


def sign(body: bytes, secret: str | bytes) -> str:
    """The header value Discourse sends for `body`: `sha256=<hex digest>`."""
    return "sha256=" + hmac.new(_key(secret), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str | bytes) -> bool:
    """True only if `header` is the valid signature of exactly `body` under `secret`."""
    if not header or not secret:
        return False
    expected = sign(body, secret)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("utf-8", "replace"))


def _header(headers: Mapping[str, str], name: str) -> str | None:
    # Mapping may be case-sensitive (a plain dict); httpx/starlette headers are not.
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for k, v in headers.items():
            if k.lower() == lowered:
                return v
    return value


def parse_event(
    headers: Mapping[str, str], body: bytes, secret: str | bytes | None = None
) -> WebhookEvent:
    """Parse a delivery; when `secret` is given, also require a valid signature.

    Raises WebhookError (a UserError) on a missing/invalid signature, a missing event header,
    or a body that is not a JSON object.
    """
    if secret:
        signature = _header(headers, SIGNATURE_HEADER)
        if not signature:
            raise WebhookError("Webhook rejected: missing X-Discourse-Event-Signature", status=400)
        if not verify_signature(body, signature, secret):
            raise WebhookError("Webhook rejected: signature does not match", status=403)
    event = _header(headers, EVENT_HEADER)
    if not event:
        raise WebhookError("Webhook rejected: missing X-Discourse-Event header", status=400)
    try:
        payload: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WebhookError(f"Webhook rejected: body is not valid JSON ({exc})", status=400) from exc
    except RecursionError:
        # Signed is not the same as sane: the C decoder recurses once per nesting level.
        raise WebhookError("Webhook rejected: body is nested too deeply", status=400) from None
    if not isinstance(payload, dict):
        raise WebhookError("Webhook rejected: body is not a JSON object", status=400)
    event_type = _header(headers, EVENT_TYPE_HEADER) or event.split("_", 1)[0]
    return WebhookEvent.from_json(
        {
            "event": event,
            "event_type": event_type,
            "event_id": _header(headers, EVENT_ID_HEADER),
            "instance": _header(headers, INSTANCE_HEADER),
            "payload": payload,
        }
    )
