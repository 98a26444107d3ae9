"""Typed values at the triage boundary: the thread in, the decision out.

These mirror the batch contract in DESIGN.md. A decision is data only: what the bot
would say is an `Answer` (the entry, the error string to quote, the secrets to warn
about) that `bot.replies` renders; `Decision.to_json(reply)` with that rendering is
exactly one output line of `triagebot triage`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from bot.known_issues import KnownIssue

Action = Literal["reply", "review", "escalate", "ignore"]
ACTIONS: tuple[str, ...] = ("reply", "review", "escalate", "ignore")
# A reply corrects at most this many claims: more reads as a lecture.
MAX_CORRECTIONS = 3


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
class Answer:
    """What the reply (or the review draft) for a matched post says, as data."""

    issue: KnownIssue
    error_string: str | None  # the member's error string the reply quotes
    secret_kinds: tuple[str, ...] = ()  # pasted secrets: the reply opens with a rotate notice


@dataclass(frozen=True)
class Decision:
    id: str
    action: Action
    issue: str | None
    confidence: float
    fingerprint: str | None
    error_strings: tuple[str, ...] = ()
    corrections: tuple[Correction, ...] = ()
    # Set for "reply" and "review": rendered by bot.replies.render.render_decision.
    answer: Answer | None = None
    # Not part of the batch contract; kept for the audit log and staff.
    normalised: str | None = None
    is_error_report: bool = False
    reasons: tuple[str, ...] = ()
    secrets_found: bool = False
    model_version: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self, reply: str | None) -> dict[str, Any]:
        """The batch contract's line for this decision, with `reply` as rendered."""
        return {
            "id": self.id,
            "action": self.action,
            "issue": self.issue,
            "confidence": round(float(self.confidence), 4),
            "fingerprint": self.fingerprint,
            "error_strings": list(self.error_strings),
            "corrections": [asdict(c) for c in self.corrections],
            "reply": reply,
        }
