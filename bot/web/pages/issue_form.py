"""The known-issue editor: form <-> entry dict, and errors placed beside fields.

Validation is `bot.known_issues.validate_entry`, the same as the CLI's; a form
row left blank is ignored, so the form always offers a few empty rows to fill.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from bot.known_issues import PATTERN_KINDS, STATUSES, EntryError
from bot.web.common import render, text

BLANK_PATTERNS = 2
BLANK_MISCONCEPTIONS = 1
BLANK_EXAMPLES = 1
MAX_ROWS = 100
_ROW_RE = re.compile(r"^([a-z_]+)(\[(\d+)\])?")


@dataclass
class PatternRow:
    kind: str = "literal"
    value: str = ""


@dataclass
class MisconceptionRow:
    claim: str = ""
    patterns: str = ""  # one regex per line
    correction: str = ""

    def blank(self) -> bool:
        return not (self.claim.strip() or self.patterns.strip() or self.correction.strip())


@dataclass
class EditorState:
    creating: bool
    slug: str = ""
    title: str = ""
    status: str = "investigating"
    summary: str = ""
    cause: str = ""
    workaround: str = ""
    patterns: list[PatternRow] = field(default_factory=list)
    misconceptions: list[MisconceptionRow] = field(default_factory=list)
    links: str = ""  # one URL per line
    examples: list[str] = field(default_factory=list)
    facts: str = ""  # the entry's facts as YAML (a list of mappings)
    rejected_claims: str = ""  # one claim per line
    note: str = ""
    base_updated_at: str = ""  # what the editor was opened on, to catch concurrent edits
    cluster_id: int | None = None
    errors: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_entry(
        cls, data: dict[str, Any], *, creating: bool, cluster_id: int | None = None
    ) -> EditorState:
        def s(key: str) -> str:
            value = data.get(key)
            return value if isinstance(value, str) else ""

        return cls(
            creating=creating,
            slug=s("slug"),
            title=s("title"),
            status=s("status") or "investigating",
            summary=s("summary"),
            cause=s("cause"),
            workaround=s("workaround"),
            patterns=[
                PatternRow(kind=str(p.get("kind", "literal")), value=str(p.get("value", "")))
                for p in data.get("patterns") or []
                if isinstance(p, dict)
            ],
            misconceptions=[
                MisconceptionRow(
                    claim=str(m.get("claim", "")),
                    patterns="\n".join(str(p) for p in m.get("patterns") or []),
                    correction=str(m.get("correction", "")),
                )
                for m in data.get("misconceptions") or []
                if isinstance(m, dict)
            ],
            links="\n".join(str(link) for link in data.get("links") or []),
            examples=[str(e) for e in data.get("examples") or []],
            facts=_facts_yaml(data.get("facts") or []),
            rejected_claims="\n".join(str(c) for c in data.get("rejected_claims") or []),
            base_updated_at=s("updated_at"),
            cluster_id=cluster_id,
        )

    @classmethod
    def from_form(cls, form: FormData, *, creating: bool) -> EditorState:
        def rows(prefix: str) -> int:
            try:
                return max(0, min(MAX_ROWS, int(text(form, f"{prefix}_count") or 0)))
            except ValueError:
                return 0

        cluster = text(form, "cluster_id")
        return cls(
            creating=creating,
            slug=text(form, "slug").strip(),
            title=text(form, "title"),
            status=text(form, "status"),
            summary=text(form, "summary"),
            cause=text(form, "cause"),
            workaround=text(form, "workaround"),
            patterns=[
                PatternRow(
                    kind=text(form, f"pattern_kind_{i}"), value=text(form, f"pattern_value_{i}")
                )
                for i in range(rows("pattern"))
            ],
            misconceptions=[
                MisconceptionRow(
                    claim=text(form, f"mis_claim_{i}"),
                    patterns=text(form, f"mis_patterns_{i}"),
                    correction=text(form, f"mis_correction_{i}"),
                )
                for i in range(rows("mis"))
            ],
            links=text(form, "links"),
            examples=[text(form, f"example_{i}") for i in range(rows("example"))],
            facts=text(form, "facts"),
            rejected_claims=text(form, "rejected_claims"),
            note=text(form, "note"),
            base_updated_at=text(form, "base_updated_at"),
            cluster_id=int(cluster) if cluster.isdigit() else None,
        )

    # Blank rows are dropped before validation; these map a validated index back
    # to the form row it came from, so an error lands beside the right field.
    def _kept(self) -> tuple[list[int], list[int], list[int]]:
        pats = [i for i, p in enumerate(self.patterns) if p.value.strip()]
        miss = [i for i, m in enumerate(self.misconceptions) if not m.blank()]
        exs = [i for i, e in enumerate(self.examples) if e.strip()]
        return pats, miss, exs

    def entry_dict(self) -> dict[str, Any]:
        pats, miss, exs = self._kept()
        return {
            "slug": self.slug,
            "title": self.title,
            "status": self.status,
            "summary": self.summary,
            "cause": self.cause,
            "workaround": self.workaround,
            "patterns": [
                {"kind": self.patterns[i].kind, "value": self.patterns[i].value} for i in pats
            ],
            "misconceptions": [
                {
                    "claim": self.misconceptions[i].claim,
                    "patterns": [
                        p.strip() for p in self.misconceptions[i].patterns.splitlines() if p.strip()
                    ],
                    "correction": self.misconceptions[i].correction,
                }
                for i in miss
            ],
            "links": [line.strip() for line in self.links.splitlines() if line.strip()],
            "examples": [self.examples[i] for i in exs],
            "facts": _parse_facts(self.facts),
            "rejected_claims": [
                line.strip() for line in self.rejected_claims.splitlines() if line.strip()
            ],
        }

    def add_error(self, field_path: str, reason: str) -> None:
        """Place a validation error beside its form field (`patterns[3]` -> that row)."""
        match = _ROW_RE.match(field_path)
        key = field_path
        if match:
            name, _, index = match.groups()
            key = name
            if index is not None and name in ("patterns", "misconceptions", "examples"):
                pats, miss, exs = self._kept()
                kept = {"patterns": pats, "misconceptions": miss, "examples": exs}.get(name)
                row = int(index)
                if kept is not None and row < len(kept):
                    row = kept[row]
                key = f"{name}[{row}]"
        self.errors[key] = f"{field_path}: {reason}" if key != field_path else reason

    def with_blank_rows(self) -> EditorState:
        self.patterns += [PatternRow() for _ in range(BLANK_PATTERNS)]
        self.misconceptions += [MisconceptionRow() for _ in range(BLANK_MISCONCEPTIONS)]
        self.examples += ["" for _ in range(BLANK_EXAMPLES)]
        return self


def _facts_yaml(facts: list[Any]) -> str:
    if not facts:
        return ""
    return yaml.safe_dump(facts, sort_keys=False, allow_unicode=True, width=88)


def _parse_facts(text_value: str) -> Any:
    """The facts field as YAML; an unreadable one is reported like any invalid field."""
    if not text_value.strip():
        return []
    try:
        return yaml.safe_load(text_value)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise EntryError("editor", "facts", f"not valid YAML{where}") from None


def render_editor(request: Request, state: EditorState, status: int = 200) -> Response:
    state.with_blank_rows()
    action = "/issues/new" if state.creating else f"/issues/{state.slug}/edit"
    return render(
        request,
        "issue_edit.html.j2",
        {
            "form": state,
            "action": action,
            "statuses": STATUSES,
            "kinds": PATTERN_KINDS,
        },
        status=status,
    )
