"""Audit log: every decision, filterable by action, issue and date."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.triage.types import ACTIONS
from bot.web.common import render, web

PAGE = 50
# The runner also records posts it skipped by policy (own posts, closed topics...).
AUDIT_ACTIONS = (*ACTIONS, "skip")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _json_list(value: Any) -> list[Any]:
    if not value:
        return []
    try:
        data = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    return data if isinstance(data, list) else [data]


async def audit(request: Request) -> Response:
    params = request.query_params
    action = params.get("action", "")
    action = action if action in AUDIT_ACTIONS else ""
    issue = params.get("issue", "").strip()
    date_from = params.get("from", "").strip()
    date_to = params.get("to", "").strip()
    errors = [
        f"{name}: use YYYY-MM-DD"
        for name, value in (("from", date_from), ("to", date_to))
        if value and not _DATE_RE.match(value)
    ]
    try:
        page = max(1, int(params.get("page", "1")))
    except ValueError:
        page = 1
    rows: list[dict[str, Any]] = []
    total = 0
    if not errors:
        raw_rows, total = web(request).store.audit_decisions(
            action=action or None,
            issue=issue or None,
            date_from=date_from or None,
            date_to=date_to or None,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
        rows = [
            {
                **r,
                "reasons": _json_list(r.get("reasons")),
                "error_strings": _json_list(r.get("error_strings")),
                "corrections": _json_list(r.get("corrections")),
            }
            for r in raw_rows
        ]
    filters = {"action": action, "issue": issue, "from": date_from, "to": date_to}
    query = urlencode({k: v for k, v in filters.items() if v})
    return render(
        request,
        "audit.html.j2",
        {
            "rows": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // PAGE)),
            "filters": filters,
            "query": query,
            "actions": AUDIT_ACTIONS,
            "issues": [i.slug for i in web(request).store.list_issues()],
            "errors": errors,
        },
    )


ROUTES = [Route("/audit", audit, methods=["GET"])]
