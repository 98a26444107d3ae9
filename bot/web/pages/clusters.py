"""Escalation queue: clusters of unknown error reports, fastest-growing first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

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
    iso_ago,
    redirect,
    render,
    text,
    web,
)
from bot.web.pages.answering import answer_promoted_cluster
from bot.web.pages.issue_form import EditorState, render_editor

STATUSES = ("open", "promoted", "linked", "dismissed")
SAMPLES = 5
PAGE = 20


async def cluster_list(request: Request) -> Response:
    store = web(request).store
    status = request.query_params.get("status", "open")
    if status not in STATUSES:
        status = "open"
    issues = [(i.slug, i.title) for i in store.list_issues()]
    existing = {slug for slug, _ in issues}
    issue = request.query_params.get("issue", "")
    issue = issue if issue in existing else ""
    dates, errors = DateRange.from_request(request)
    # Few clusters are open at a time: filtering them here is cheaper than more SQL.
    everything = [
        c
        for c in store.dashboard_clusters(status, iso_ago(timedelta(days=1)))
        if (not issue or c.linked_slug == issue) and dates.holds(c.last_seen)
    ]
    rows, pager = Pager.fetch(
        request,
        PAGE,
        {"status": status, "issue": issue, **dates.query()},
        lambda limit, offset: (everything[offset : offset + limit], len(everything)),
    )
    clusters = [replace(c, reports=tuple(store.cluster_reports_for(c.id, SAMPLES))) for c in rows]
    return render(
        request,
        "clusters.html.j2",
        {
            "clusters": clusters,
            "status": status,
            "statuses": STATUSES,
            "issues": issues,
            "existing": existing,
            "pager": pager,
            "issue": issue,
            "dates": dates,
            "errors": errors,
        },
    )


def _cluster_id(request: Request) -> int:
    return int(request.path_params["cluster_id"])


async def dismiss(request: Request, form: FormData) -> Response:
    cluster_id = _cluster_id(request)
    await call_service("dismiss_cluster", request, cluster_id, current_user(request).username)
    flash(request, f"Cluster {cluster_id} dismissed.")
    return redirect("/clusters")


async def link(request: Request, form: FormData) -> Response:
    cluster_id = _cluster_id(request)
    slug = text(form, "slug").strip()
    if not slug:
        flash(request, "Choose a known issue to link the cluster to.", "error")
        return redirect("/clusters")
    result = await call_service(
        "link_cluster", request, cluster_id, slug, current_user(request).username
    )
    flash(
        request,
        f"Cluster {cluster_id} linked to {slug}: {result.answered} post(s) answered, "
        f"{result.skipped} skipped"
        + (f", {result.failed} could not be answered now." if result.failed else "."),
    )
    return redirect("/clusters")


async def promote(request: Request, form: FormData) -> Response:
    """Mark the cluster promoted and open the editor prefilled from its reports."""
    cluster_id = _cluster_id(request)
    draft = await call_service(
        "promote_cluster", request, cluster_id, current_user(request).username
    )
    state = EditorState.from_entry(draft, creating=True, cluster_id=cluster_id)
    return render_editor(request, state)


async def resume_promotion(request: Request) -> Response:
    """A promoted cluster whose entry was never saved: prefill the editor again."""
    store = web(request).store
    cluster_id = _cluster_id(request)
    cluster = store.get_cluster(cluster_id)
    if cluster is None or cluster.status != "promoted" or not cluster.linked_slug:
        flash(request, f"Cluster {cluster_id} is not waiting for a new known issue.", "error")
        return redirect("/clusters?status=promoted")
    if store.get_issue(cluster.linked_slug) is not None:
        return redirect(f"/issues/{cluster.linked_slug}")
    reports = store.cluster_reports_for(cluster_id, SAMPLES)
    errors = sorted({r.error_string for r in reports if r.error_string})
    draft = {
        "slug": cluster.linked_slug,
        "title": cluster.title or cluster.normalised[:120],
        "status": "investigating",
        "summary": "",
        "patterns": [{"kind": "literal", "value": e} for e in errors],
        "examples": [r.excerpt for r in reports if r.excerpt],
    }
    return render_editor(
        request, EditorState.from_entry(draft, creating=True, cluster_id=cluster_id)
    )


async def answer_again(request: Request, form: FormData) -> Response:
    """Retry answering a promoted cluster's posts (already-answered topics are skipped)."""
    cluster_id = _cluster_id(request)
    cluster = web(request).store.get_cluster(cluster_id)
    slug = (cluster.linked_slug if cluster else None) or ""
    if (
        cluster is None
        or cluster.status != "promoted"
        or web(request).store.get_issue(slug) is None
    ):
        flash(request, f"Cluster {cluster_id} has no saved known issue to answer with.", "error")
        return redirect("/clusters?status=promoted")
    flash(request, f"{slug}: " + await answer_promoted_cluster(request, cluster_id, slug))
    return redirect("/clusters?status=promoted")


ROUTES = [
    Route("/clusters", cluster_list, methods=["GET"]),
    Route(
        "/clusters/{cluster_id:int}/dismiss",
        form_action(dismiss, back="/clusters"),
        methods=["POST"],
    ),
    Route("/clusters/{cluster_id:int}/link", form_action(link, back="/clusters"), methods=["POST"]),
    Route(
        "/clusters/{cluster_id:int}/promote",
        form_action(promote, back="/clusters"),
        methods=["POST"],
    ),
    Route("/clusters/{cluster_id:int}/new-issue", resume_promotion, methods=["GET"]),
    Route(
        "/clusters/{cluster_id:int}/answer",
        form_action(answer_again, back="/clusters?status=promoted"),
        methods=["POST"],
    ),
]
