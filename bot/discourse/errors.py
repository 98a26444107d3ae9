"""Typed errors for Discourse API failures.

Each carries the HTTP status and Discourse's own `errors` messages and `error_type`, so callers
branch on type/status (messages are translated by the forum and must not be matched on).
"""

from __future__ import annotations

from typing import Any

from bot.errors import UserError


class DiscourseError(UserError):
    """A Discourse request failed; `str()` is one line suitable for a user."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[str] | None = None,
        error_type: str | None = None,
        extras: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors: list[str] = list(errors or [])
        self.error_type = error_type
        self.extras: dict[str, Any] = dict(extras or {})


class BadRequest(DiscourseError):
    """400: invalid parameters."""


class InvalidAccess(DiscourseError):
    """403: bad key/username, missing scope, or not permitted."""


class NotFound(DiscourseError):
    """404: the resource does not exist or is not visible to the acting user."""


class EditConflict(DiscourseError):
    """409: the resource changed since it was read."""


class UnprocessableEntity(DiscourseError):
    """422: validation failed (e.g. body too similar, title unclear)."""


class RateLimited(DiscourseError):
    """429 that persisted after every allowed retry."""

    def __init__(
        self,
        message: str,
        *,
        wait_seconds: float | None = None,
        code: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, **kwargs)
        self.wait_seconds = wait_seconds
        self.code = code


class ServerError(DiscourseError):
    """5xx that persisted after every allowed retry (503 read-only included)."""


class TransportError(DiscourseError):
    """Connection failure, timeout, or an undecodable response after retries."""


class WebhookError(DiscourseError):
    """A webhook delivery is malformed or its signature does not verify."""


_BY_STATUS: dict[int, type[DiscourseError]] = {
    400: BadRequest,
    403: InvalidAccess,
    404: NotFound,
    409: EditConflict,
    422: UnprocessableEntity,
}


def error_for_status(status: int) -> type[DiscourseError]:
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status == 429:
        return RateLimited
    if status >= 500:
        return ServerError
    return DiscourseError
