"""Review queue: drafted replies the bot was not sure enough to post."""

from __future__ import annotations

import sqlite3
from dataclasses import asdict
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.common import (
    DateRange,
    Pager,
    call_service,
    current_user,
    flash,
    form_action,
    redirect,
    render,
    text,
    web,
)

STATUSES = ("pending", "approved", "rejected")
PAGE = 10  # each draft shows a post and a reply side by side: a short page reads better


def _post_text(request: Request, post_id: int) -> str:
    try:
        return web(request).store.decision_text_for_post(post_id) or ""
    except sqlite3.Error:  # an older database without the post text column
        return ""


async def draft_list(request: Request) -> Response:
    store = web(request).store
    status = request.query_params.get("status", "pending")
    if status not in STATUSES:
        status = "pending"
    slugs = [i.slug for i in store.list_issues()]
    issue = request.query_params.get("issue", "")
    issue = issue if issue in slugs else ""
    dates, errors = DateRange.from_request(request)
    rows, pager = Pager.fetch(
        request,
        PAGE,
        {"status": status, "issue": issue, **dates.query()},
        lambda limit, offset: store.dashboard_drafts(
            status,
            issue=issue or None,
            date_from=dates.start or None,
            date_to=dates.end or None,
            limit=limit,
            offset=offset,
        ),
    )
    titles = store.topic_titles([r.topic_id for r in rows])
    drafts: list[dict[str, Any]] = [
        {
            **asdict(row),
            "post_text": _post_text(request, row.post_id),
            "topic_title": titles.get(row.topic_id, ""),
        }
        for row in rows
    ]
    return render(
        request,
        "drafts.html.j2",
        {
            "drafts": drafts,
            "status": status,
            "statuses": STATUSES,
            "issue": issue,
            "issues": slugs,
            "pager": pager,
            "dates": dates,
            "errors": errors,
        },
    )


async def approve(request: Request, form: FormData) -> Response:
    draft_id = int(request.path_params["draft_id"])
    row = web(request).store.get_draft(draft_id)
    edited = text(form, "raw")
    # Only an actual change counts as an edit (browsers normalise line endings).
    original = row.raw if row else ""
    edited_raw = edited if edited.strip() != original.replace("\r\n", "\n").strip() else None
    draft = await call_service(
        "approve_draft", request, draft_id, current_user(request).username, edited_raw=edited_raw
    )
    posted = f" as post {draft.reply_post_id}" if draft.reply_post_id else ""
    flash(
        request,
        f"Draft {draft_id} approved{' with edits' if edited_raw else ''} and posted{posted}.",
    )
    return redirect("/drafts")


async def reject(request: Request, form: FormData) -> Response:
    draft_id = int(request.path_params["draft_id"])
    await call_service(
        "reject_draft", request, draft_id, current_user(request).username, text(form, "reason")
    )
    flash(request, f"Draft {draft_id} rejected; the reason is kept as training feedback.")
    return redirect("/drafts")


ROUTES = [
    Route("/drafts", draft_list, methods=["GET"]),
    Route("/drafts/{draft_id:int}/approve", form_action(approve, back="/drafts"), methods=["POST"]),
    Route("/drafts/{draft_id:int}/reject", form_action(reject, back="/drafts"), methods=["POST"]),
]
