"""Known issues: list with search and status filter, editor, status change, history."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.errors import UserError
from bot.issue_admin import change_status as admin_change_status
from bot.known_issues import STATUSES, EntryError, KnownIssue, validate_entry
from bot.web.common import current_user, flash, form_action, redirect, render, text, web
from bot.web.pages.answering import answer_promoted_cluster
from bot.web.pages.issue_form import EditorState, render_editor
from bot.web.pages.issue_stats import WINDOW_DAYS, issue_stats


def _matches(issue: KnownIssue, query: str) -> bool:
    haystack = " ".join(
        [issue.slug, issue.title, issue.summary, *(p.value for p in issue.patterns)]
    ).lower()
    return all(word in haystack for word in query.lower().split())


async def issue_list(request: Request) -> Response:
    store = web(request).store
    query = request.query_params.get("q", "").strip()
    status = request.query_params.get("status", "")
    if status not in STATUSES:
        status = ""
    issues = [i for i in store.list_issues(status or None) if not query or _matches(i, query)]
    stats = issue_stats(store, issues)
    rows = sorted(zip(issues, stats, strict=True), key=lambda pair: (-pair[1].hits, pair[0].slug))
    return render(
        request,
        "issues.html.j2",
        {
            "rows": rows,
            "q": query,
            "status": status,
            "statuses": STATUSES,
            "window": WINDOW_DAYS,
        },
    )


def _issue_or_404(request: Request) -> KnownIssue:
    issue = web(request).store.get_issue(request.path_params["slug"])
    if issue is None:
        raise HTTPException(404, f"No known issue {request.path_params['slug']!r}.")
    return issue


def _diff_lines(diff: str) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for line in diff.splitlines():
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append({"kind": kind, "text": line})
    return out


async def issue_detail(request: Request) -> Response:
    issue = _issue_or_404(request)
    history = [
        {"entry": h, "lines": _diff_lines(h.diff())}
        for h in reversed(web(request).store.history(issue.slug))
    ]
    (stats,) = issue_stats(web(request).store, [issue], wide=True)
    return render(
        request,
        "issue_detail.html.j2",
        {
            "issue": issue,
            "history": history,
            "statuses": STATUSES,
            "stats": stats,
            "window": WINDOW_DAYS,
        },
    )


async def new_issue_form(request: Request) -> Response:
    return render_editor(request, EditorState(creating=True))


async def edit_issue_form(request: Request) -> Response:
    issue = _issue_or_404(request)
    return render_editor(request, EditorState.from_entry(issue.to_dict(), creating=False))


async def _save(request: Request, form: FormData, *, creating: bool) -> Response:
    """Validate everything, then write in one transaction, or show errors and save nothing."""
    store = web(request).store
    user = current_user(request)
    state = EditorState.from_form(form, creating=creating)
    if not creating:
        path_slug = request.path_params["slug"]
        current = store.get_issue(path_slug)
        if current is None:
            raise HTTPException(404, f"No known issue {path_slug!r}.")
        state.slug = path_slug  # the slug is the key; renaming is not an edit
    try:
        entry = validate_entry(state.entry_dict(), source="editor")
    except EntryError as exc:
        state.add_error(exc.field, exc.reason)
        return render_editor(request, state, status=400)
    if creating and store.get_issue(entry.slug) is not None:
        state.add_error("slug", f"{entry.slug} already exists; choose another slug")
        return render_editor(request, state, status=400)
    if not creating and current is not None and state.base_updated_at != current.updated_at:
        state.add_error(
            "(top)",
            f"{current.updated_by} changed this entry at {current.updated_at} after you opened "
            "it; reload the editor to see their version",
        )
        return render_editor(request, state, status=409)
    _, changed = store.save_issue(entry, author=user.username, note=state.note.strip())
    message = (
        f"{entry.slug} {'created' if creating else 'saved'}."
        if changed
        else f"{entry.slug}: nothing changed."
    )
    if state.cluster_id is not None:
        message += " " + await answer_promoted_cluster(request, state.cluster_id, entry.slug)
    flash(request, message)
    return redirect(f"/issues/{entry.slug}")


async def create_issue(request: Request, form: FormData) -> Response:
    return await _save(request, form, creating=True)


async def update_issue(request: Request, form: FormData) -> Response:
    return await _save(request, form, creating=False)


async def change_status(request: Request, form: FormData) -> Response:
    issue = _issue_or_404(request)
    status = text(form, "status")
    note = text(form, "note").strip()
    try:
        # The CLI's rule: a note is required and a change to the current status is refused.
        admin_change_status(
            web(request).store, issue.slug, status, author=current_user(request).username, note=note
        )
    except UserError as exc:
        reason = exc.reason if isinstance(exc, EntryError) else str(exc)
        flash(request, f"Status not changed: {reason}", "error")
        return redirect(f"/issues/{issue.slug}")
    flash(request, f"{issue.slug}: status is now {status}.")
    return redirect(f"/issues/{issue.slug}")


ROUTES = [
    Route("/issues", issue_list, methods=["GET"]),
    Route("/issues/new", new_issue_form, methods=["GET"]),
    Route("/issues/new", form_action(create_issue), methods=["POST"]),
    Route("/issues/{slug}", issue_detail, methods=["GET"]),
    Route("/issues/{slug}/edit", edit_issue_form, methods=["GET"]),
    Route("/issues/{slug}/edit", form_action(update_issue), methods=["POST"]),
    Route("/issues/{slug}/status", form_action(change_status), methods=["POST"]),
]
