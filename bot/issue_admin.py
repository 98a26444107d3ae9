"""Maintainer operations on known issues, shared by the CLI and the dashboard.

Each function validates everything before it writes anything, so a bad entry
leaves the database exactly as it was.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.errors import UserError
from bot.known_issues import EntryError, KnownIssue, load_dir, parse_yaml
from bot.store import Store


class IssueNotFound(UserError):
    def __init__(self, slug: str) -> None:
        super().__init__(f"issue: no known issue {slug!r} (see `triagebot issues list`)")


@dataclass(frozen=True)
class ImportResult:
    total: int
    changed: int


def require_issue(store: Store, slug: str) -> KnownIssue:
    issue = store.get_issue(slug)
    if issue is None:
        raise IssueNotFound(slug)
    return issue


def import_dir(
    store: Store, directory: str | Path, *, author: str, only_new: bool = False
) -> ImportResult:
    """Load every entry of a directory; all or nothing.

    `only_new` adds entries the database lacks and leaves the others alone, so
    seeding never overwrites what maintainers changed since.
    """
    entries = load_dir(directory)
    changed = 0
    with store.transaction():
        for entry in entries:
            if only_new and store.get_issue(entry.slug) is not None:
                continue
            _, did = store.save_issue(entry, author=author, action="import", keep_stamps=True)
            changed += did
    return ImportResult(total=len(entries), changed=changed)


def export_dir(store: Store, directory: str | Path) -> list[Path]:
    """Write one <slug>.yml per entry; a later import gives the same entries back."""
    target = Path(directory)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"export: cannot create {target}: {exc.strerror}") from None
    written = []
    for issue in store.list_issues():
        path = target / f"{issue.slug}.yml"
        # Write then rename, so a crash never leaves a half-written entry behind.
        tmp = path.with_suffix(".yml.tmp")
        tmp.write_text(issue.to_yaml(), encoding="utf-8")
        os.replace(tmp, path)
        written.append(path)
    return written


def add_from_file(store: Store, path: str | Path, *, author: str) -> KnownIssue:
    source = Path(path)
    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{source}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise EntryError(str(source), "(file)", f"not UTF-8 text ({exc.reason})") from None
    issue = parse_yaml(text, str(source))
    if store.get_issue(issue.slug) is not None:
        raise EntryError(
            str(source), "slug", f"{issue.slug} exists already; use `triagebot issues edit`"
        )
    stored, _ = store.save_issue(issue, author=author, action="create")
    return stored


def change_status(store: Store, slug: str, status: str, *, author: str, note: str) -> KnownIssue:
    """A maintainer's status change: the note is required, and a no-op is refused.

    An unchanged status saves nothing (no history row), so it is an error rather
    than a success message over a note that was silently dropped.
    """
    current = require_issue(store, slug)
    if not note.strip():
        raise UserError("--note: must not be empty (say why the status changes)")
    if current.status == status:
        raise UserError(f"status: {slug} is already {status}; nothing recorded")
    return store.set_status(slug, status, author=author, note=note.strip())


def apply_edit(store: Store, slug: str, text: str, *, author: str, note: str = "") -> bool:
    """Validate edited YAML for `slug` and save it. Returns whether anything changed."""
    issue = parse_yaml(text, f"{slug}.yml")
    if issue.slug != slug:
        raise EntryError(f"{slug}.yml", "slug", "cannot be changed while editing")
    require_issue(store, slug)
    _, changed = store.save_issue(issue, author=author, action="edit", note=note)
    return changed


def edit_in_editor(
    store: Store,
    slug: str,
    *,
    author: str,
    edit: Callable[[str], str | None],
    retry: Callable[[EntryError], bool],
    note: str = "",
) -> bool | None:
    """The `git commit`-style edit loop.

    `edit(text) -> text | None` opens an editor; `retry(error) -> bool` asks
    whether to edit again after a validation error. Returns True if saved,
    False if unchanged, None if the maintainer gave up (nothing saved).
    """
    current = require_issue(store, slug)
    text = current.to_yaml()
    original = text
    while True:
        edited = edit(text)
        if edited is None or edited == original:
            return False
        try:
            return apply_edit(store, slug, edited, author=author, note=note)
        except EntryError as exc:
            if not retry(exc):
                return None
            text = edited


def history_json(store: Store, slug: str) -> list[dict[str, object]]:
    require_issue(store, slug)
    return [
        {
            "id": h.id,
            "at": h.at,
            "author": h.author,
            "action": h.action,
            "note": h.note,
            "diff": h.diff(),
        }
        for h in store.history(slug)
    ]


def issue_json(issue: KnownIssue) -> str:
    return json.dumps(issue.to_dict(), indent=2, ensure_ascii=False)
