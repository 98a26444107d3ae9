"""What every page shares: the per-app context, rendering, CSRF-checked forms."""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from markupsafe import Markup, escape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from bot.config import Config
from bot.errors import UserError
from bot.store import Store
from bot.web.auth import CSRF_FIELD, CSRF_HEADER, StaffUser, csrf_ok, csrf_token
from bot.web.markdown import render_markdown
from bot.web.reasons import humanise

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
FormHandler = Callable[[Request, FormData], Awaitable[Response]]


@dataclass
class WebContext:
    """Per-app wiring, kept on `app.state.web` (no module globals)."""

    config: Config
    store: Store
    services: Any
    templates: Jinja2Templates

    def forum_link(self, path: str) -> str:
        return f"{self.config.forum_url.rstrip('/')}{path}"


class ServicesMissing(UserError):
    def __init__(self) -> None:
        super().__init__("this action needs the bot's runner; start the dashboard with `serve`")


def make_templates() -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        # Every piece of forum text goes through here: always escape.
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_when
    env.filters["timetag"] = time_tag
    env.filters["markdown"] = render_markdown
    env.filters["reason"] = humanise
    return Jinja2Templates(env=env)


def format_when(value: str | None) -> str:
    if not value:
        return ""
    return value.replace("T", " ")[:16] + " UTC" if "T" in value else value


def time_tag(value: str | None) -> Markup:
    """A `<time>` that never wraps (CSS), with the full stamp on hover."""
    if not value:
        return Markup("")
    return Markup('<time class="when" datetime="{0}" title="{0}">{1}</time>').format(
        escape(value), format_when(value)
    )


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class DateRange:
    """The `from`/`to` filter of a list (YYYY-MM-DD; `to` includes its whole day)."""

    start: str = ""
    end: str = ""

    @classmethod
    def from_request(cls, request: Request) -> tuple[DateRange, list[str]]:
        """The range and a message per malformed date (which is then left out)."""
        values = {k: request.query_params.get(k, "").strip() for k in ("from", "to")}
        errors = [f"{k}: use YYYY-MM-DD" for k, v in values.items() if v and not _DATE_RE.match(v)]
        ok = {k: v if _DATE_RE.match(v) else "" for k, v in values.items()}
        return cls(ok["from"], ok["to"]), errors

    def holds(self, stamp: str | None) -> bool:
        day = (stamp or "")[:10]
        return (not self.start or day >= self.start) and (not self.end or day <= self.end)

    def query(self) -> dict[str, str]:
        return {"from": self.start, "to": self.end}


@dataclass(frozen=True)
class Pager:
    """One page of a filtered list: `number` is 1-based and clamped to the last page."""

    number: int
    size: int
    total: int
    query: dict[str, str]  # the filters, kept in the page links

    @classmethod
    def requested(cls, request: Request) -> int:
        try:
            return max(1, int(request.query_params.get("page", "1")))
        except ValueError:
            return 1

    @classmethod
    def fetch(
        cls,
        request: Request,
        size: int,
        query: dict[str, str],
        rows_at: Callable[[int, int], tuple[list[Any], int]],
    ) -> tuple[list[Any], Pager]:
        """Rows of the requested page via `rows_at(limit, offset) -> (rows, total)`; a page
        past the end (the list shrank since the link was made) shows the last one."""
        number = cls.requested(request)
        rows, total = rows_at(size, (number - 1) * size)
        pager = cls(number, size, total, query)
        if number > pager.pages:
            pager = cls(pager.pages, size, total, query)
            rows, total = rows_at(size, pager.offset)
        return rows, pager

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    def href(self, number: int) -> str:
        params = {k: v for k, v in self.query.items() if v}
        if number > 1:
            params["page"] = str(number)
        return "?" + urlencode(params) if params else "?"


def web(request: Request) -> WebContext:
    ctx: WebContext = request.app.state.web
    return ctx


def current_user(request: Request) -> StaffUser:
    user: StaffUser = request.state.user
    return user


def iso_ago(delta: timedelta) -> str:
    return (datetime.now(UTC) - delta).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def flash(request: Request, message: str, kind: str = "ok") -> None:
    items = list(request.session.get("flash", []))
    items.append([kind, message])
    request.session["flash"] = items[-5:]


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HTMLResponse:
    ctx = web(request)
    user = getattr(request.state, "user", None)
    data: dict[str, Any] = {
        "user": user,
        "csrf_field": CSRF_FIELD,
        "csrf": csrf_token(request.session) if user else "",
        "flashes": request.session.pop("flash", []) if user else [],
        "forum_url": ctx.config.forum_url.rstrip("/"),
        "path": request.url.path,
    }
    data.update(context or {})
    response: HTMLResponse = ctx.templates.TemplateResponse(
        request, template, data, status_code=status
    )
    return response


def render_error(request: Request, status: int, message: str) -> Response:
    try:
        return render(request, "error.html.j2", {"status": status, "message": message}, status)
    except Exception:  # the error page itself must never fail
        return HTMLResponse(f"<p>Error {status}</p>", status_code=status)


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_action(
    handler: FormHandler, *, back: str | None = None
) -> Callable[[Request], Awaitable[Response]]:
    """Wrap a POST handler: read the form and refuse it without this session's CSRF token.

    With `back`, a UserError from the action (e.g. the draft was already
    approved in another tab) becomes a message on that page instead of an error page.
    """

    async def endpoint(request: Request) -> Response:
        form = await request.form()
        submitted = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
        if not csrf_ok(request.session, submitted if isinstance(submitted, str) else None):
            return render_error(request, 403, "This form has expired; reload the page and retry.")
        if back is None:
            return await handler(request, form)
        try:
            return await handler(request, form)
        except UserError as exc:
            flash(request, str(exc), "error")
            return redirect(back)

    endpoint.__name__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


async def call_service(name: str, request: Request, *args: Any, **kwargs: Any) -> Any:
    """Call a runner queue function (sync or async) by name."""
    services = web(request).services
    if services is None:
        raise ServicesMissing()
    from bot.runner import queues

    result = getattr(queues, name)(services, *args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


def text(form: FormData, key: str) -> str:
    value = form.get(key)
    return value.replace("\r\n", "\n") if isinstance(value, str) else ""
