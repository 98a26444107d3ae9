"""Audit log: every decision, filterable by action, issue and date."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.records import DecisionRecord
from bot.triage.types import ACTIONS
from bot.web.common import DateRange, Pager, render, web

PAGE = 50
# The runner also records posts it skipped by policy (own posts, closed topics...).
AUDIT_ACTIONS = (*ACTIONS, "skip")


async def audit(request: Request) -> Response:
    store = web(request).store
    params = request.query_params
    action = params.get("action", "")
    action = action if action in AUDIT_ACTIONS else ""
    issue = params.get("issue", "").strip()
    dates, errors = DateRange.from_request(request)
    # The bot reads its own replies back and skips them: a third of the log on a busy
    # forum, and nothing to review. They are left out unless asked for.
    own = params.get("own", "") == "1"
    filters = {"action": action, "issue": issue, **dates.query()}
    rows: list[DecisionRecord] = []
    hidden = 0
    query = {**filters, "own": "1" if own else ""}
    pager = Pager(1, PAGE, 0, query)
    if not errors:
        store_filters = {
            "action": action or None,
            "issue": issue or None,
            "date_from": dates.start or None,
            "date_to": dates.end or None,
        }
        rows, pager = Pager.fetch(
            request,
            PAGE,
            query,
            lambda limit, offset: store.audit_decisions(
                **store_filters, limit=limit, offset=offset, exclude_own=not own
            ),
        )
        if not own:
            hidden = store.count_own_post_decisions(**store_filters)
    return render(
        request,
        "audit.html.j2",
        {
            "rows": rows,
            "total": pager.total,
            "pager": pager,
            "filters": filters,
            "own": own,
            "hidden": hidden,
            "show_own_href": "?"
            + urlencode({k: v for k, v in {**filters, "own": "1"}.items() if v}),
            "actions": AUDIT_ACTIONS,
            "issues": [i.slug for i in store.list_issues()],
            "errors": errors,
        },
    )


ROUTES = [Route("/audit", audit, methods=["GET"])]
