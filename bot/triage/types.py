"""Typed values at the triage boundary: the thread in, the decision out.

These mirror the batch contract in DESIGN.md; `Decision.to_json()` is exactly
one output line of `triagebot triage`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["reply", "review", "escalate", "ignore"]
ACTIONS: tuple[str, ...] = ("reply", "review", "escalate", "ignore")


@dataclass(frozen=True)
class Thread:
    id: str
    title: str
    posts: tuple[str, ...]  # raw Markdown; posts[0] is the post being decided

    @property
    def first_post(self) -> str:
        return self.posts[0] if self.posts else ""


@dataclass(frozen=True)
class Correction:
    claim: str  # the member's words, briefly quoted (plain text: neutralised when rendered)
    correction: str  # the known issue's correction, or the fact that answers the claim
    # "contradicted" (the entry says otherwise) or "unconfirmed" (a claim the entry does
    # not support: said softly).
    strength: str = "contradicted"
    # What answered it: "misconception:<n>" or "fact:<n>:<kind>" of the entry.
    basis: str = ""


@dataclass(frozen=True)
class Decision:
    id: str
    action: Action
    issue: str | None
    confidence: float
    fingerprint: str | None
    error_strings: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()
    reply: str | None = None
    # Not part of the batch contract; kept for the audit log and staff.
    normalised: str | None = None
    is_error_report: bool = False
    reasons: tuple[str, ...] = ()
    secrets_found: bool = False
    model_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "issue": self.issue,
            "confidence": round(float(self.confidence), 4),
            "fingerprint": self.fingerprint,
            "error_strings": list(self.error_strings),
            "corrections": [asdict(c) for c in self.corrections],
            "reply": self.reply,
        }
