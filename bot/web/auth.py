"""Sign-in for staff: a DiscourseConnect consumer, session helpers, CSRF.

The forum is the identity provider (DiscourseConnect "provider" mode, the
standard way Discourse logs people into companion apps):

1. `/auth/login` makes a random nonce, records it (single use, short life) and
   sends the browser to `<forum>/session/sso_provider?sso=<b64>&sig=<hmac>`.
2. The forum signs the user in and redirects back to `/auth/sso` with a signed
   payload carrying the nonce and who the user is.
3. We check the signature, consume the nonce (a replayed payload fails), check
   the nonce belongs to this browser's session (no login CSRF) and let in only
   admins, moderators or members of a configured group.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode

from bot.errors import UserError
from bot.store import Store

NONCE_TTL = timedelta(minutes=10)
# Live sign-ins kept at once: far more staff than sign in within NONCE_TTL, and a bound
# on what anonymous GET /auth/login requests can write.
MAX_NONCES = 500
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SSOError(UserError):
    """A DiscourseConnect response we refuse; the message is safe to show."""


class NotStaff(SSOError):
    """A valid forum user who is not allowed into the dashboard."""


@dataclass(frozen=True)
class StaffUser:
    username: str
    name: str
    external_id: str
    admin: bool
    moderator: bool
    groups: tuple[str, ...]

    def to_session(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data

    @classmethod
    def from_session(cls, data: Any) -> StaffUser | None:
        if not isinstance(data, dict) or not data.get("username"):
            return None
        return cls(
            username=str(data["username"]),
            name=str(data.get("name") or ""),
            external_id=str(data.get("external_id") or ""),
            admin=bool(data.get("admin")),
            moderator=bool(data.get("moderator")),
            groups=tuple(str(g) for g in data.get("groups") or ()),
        )

    @property
    def role(self) -> str:
        if self.admin:
            return "admin"
        if self.moderator:
            return "moderator"
        return "group member"


# --------------------------------------------------------------------------- payloads


def sign(secret: str, payload: str) -> str:
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()


def encode_payload(fields: dict[str, str]) -> str:
    return base64.b64encode(urlencode(fields).encode()).decode()


def build_sso_url(forum_url: str, secret: str, nonce: str, return_url: str) -> str:
    """The provider URL the browser is sent to."""
    payload = encode_payload({"nonce": nonce, "return_sso_url": return_url})
    query = urlencode({"sso": payload, "sig": sign(secret, payload)})
    return f"{forum_url.rstrip('/')}/session/sso_provider?{query}"


def parse_sso_response(secret: str, sso: str, sig: str) -> dict[str, str]:
    """Verify and decode the payload the provider sent back."""
    if not sso or not sig:
        raise SSOError("sign-in: the forum's answer is missing sso or sig")
    expected = sign(secret, sso)
    if not hmac.compare_digest(expected, sig.strip().lower()):
        raise SSOError("sign-in: the forum's answer has a bad signature")
    try:
        # Discourse may send base64 with embedded newlines (Ruby's Base64.encode64).
        raw = base64.b64decode("".join(sso.split()), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SSOError("sign-in: the forum's answer is not a valid payload") from None
    return dict(parse_qsl(raw, keep_blank_values=True))


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes")


def user_from_payload(fields: dict[str, str], allowed_groups: tuple[str, ...]) -> StaffUser:
    """The signed-in user, or NotStaff if they may not use the dashboard."""
    username = (fields.get("username") or "").strip()
    if not username:
        raise SSOError("sign-in: the forum's answer has no username")
    groups = tuple(g.strip() for g in (fields.get("groups") or "").split(",") if g.strip())
    user = StaffUser(
        username=username,
        name=(fields.get("name") or "").strip(),
        external_id=(fields.get("external_id") or "").strip(),
        admin=_flag(fields.get("admin")),
        moderator=_flag(fields.get("moderator")),
        groups=groups,
    )
    allowed = {g.lower() for g in allowed_groups}
    if not (user.admin or user.moderator or allowed & {g.lower() for g in groups}):
        raise NotStaff(
            f"{username} is not staff: the dashboard is for admins, moderators"
            + (f" and members of {', '.join(allowed_groups)}" if allowed_groups else "")
        )
    return user


# --------------------------------------------------------------------------- nonces


def new_nonce() -> str:
    return secrets.token_urlsafe(24)


def issue_nonce(store: Store, nonce: str, *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    store.sso_nonce_issue(nonce, (now + NONCE_TTL).isoformat(), now.isoformat(), limit=MAX_NONCES)


def consume_nonce(store: Store, nonce: str, *, now: datetime | None = None) -> bool:
    """True once for a nonce we issued that has not expired; False ever after."""
    now = now or datetime.now(UTC)
    return store.sso_nonce_consume(nonce, now.isoformat())


# --------------------------------------------------------------------------- CSRF


def csrf_token(session: dict[str, Any]) -> str:
    """This session's token, created on first use (synchroniser-token pattern)."""
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: dict[str, Any], submitted: str | None) -> bool:
    token = session.get("csrf")
    if not isinstance(token, str) or not submitted:
        return False
    return hmac.compare_digest(token, submitted)


def safe_next(target: str | None) -> str:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
