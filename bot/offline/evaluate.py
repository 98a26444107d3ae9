"""Measure the triager on labeled threads.

Rows: `{title, text, later_posts, label}` (optionally `id`/`url`), where label is a
known-issue slug, `novel` or `not_error`. The figures are the ones the product is
judged by: auto-reply precision, known-issue recall (auto, and auto-or-review),
novel errors escalated, non-errors ignored, per-issue precision/recall and the worst
confusions.

Definitions: auto-reply precision = replies naming the labeled issue / all replies;
recall (auto) = known-issue threads replied with the right issue / known-issue threads;
recall (auto|review) counts right-issue review drafts too; novel escalated = `novel`
threads whose action is escalate; not_error ignored = `not_error` threads ignored.
Per issue, precision and recall count replies and drafts naming that issue.

Report detection: a thread labeled with a slug or `novel` is a report, `not_error` is
not; the bot called it a report when it did anything but ignore it.

Corrections (rows may carry `ai_advice` and `ai_claims`, the false claims in pasted AI
advice): wrong-advice threads are those with claims; a thread is corrected when the
decision holds a correction, and the claim is hit when a correction quotes one of the
labeled claims. Every correction on a thread without labeled claims (correct advice, or
no advice at all) is a false correction.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from bot.offline.batch import BatchError, Decider, json_object
from bot.triage.training_data import NOT_ERROR, NOVEL
from bot.triage.types import Decision, Thread

# What a forum's staff can rely on (a wrong public answer is worse than none): the bars
# every measured set is held to.
TARGETS = {
    "auto_precision": 0.99,
    "recall_auto_or_review": 0.90,
    "novel_escalated": 0.90,
    "not_error_ignored": 0.95,
}


@dataclass(frozen=True)
class LabeledThread:
    thread: Thread
    label: str
    ai_advice: bool = False
    ai_claims: tuple[str, ...] = ()


@dataclass
class EvalReport:
    n: int
    n_known: int
    n_novel: int
    n_not_error: int
    auto_precision: float | None
    auto_recall: float | None
    recall_auto_or_review: float | None
    review_precision: float | None
    novel_escalated: float | None
    not_error_ignored: float | None
    actions: dict[str, int]
    per_issue: dict[str, dict[str, float | int | None]]
    confusions: list[dict[str, Any]]
    report_confusion: dict[str, int] = field(default_factory=dict)
    corrections: dict[str, int | float | None] = field(default_factory=dict)
    targets: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def read_labeled(stream: IO[str], source: str = "input") -> list[LabeledThread]:
    rows: list[LabeledThread] = []
    for lineno, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        where = f"{source}: line {lineno}"
        data = json_object(line, where)
        label = data.get("label")
        text = data.get("text", "")
        title = data.get("title", "") or ""
        later = data.get("later_posts") or []
        if not isinstance(label, str) or not label:
            raise BatchError(f"{where}: label must be a slug, novel or not_error")
        if not isinstance(text, str) or not isinstance(title, str):
            raise BatchError(f"{where}: title and text must be strings")
        if not isinstance(later, list) or not all(isinstance(p, str) for p in later):
            raise BatchError(f"{where}: later_posts must be a list of strings")
        claims = data.get("ai_claims") or []
        if not isinstance(claims, list) or not all(isinstance(c, str) for c in claims):
            raise BatchError(f"{where}: ai_claims must be a list of strings")
        tid = str(data.get("id") or data.get("url") or f"line-{lineno}")
        rows.append(
            LabeledThread(
                Thread(tid, title, (text, *later)),
                label,
                ai_advice=bool(data.get("ai_advice")) or bool(claims),
                ai_claims=tuple(claims),
            )
        )
    return rows


def _claim_hit(claims: Sequence[str], decision: Decision) -> bool:
    """A correction quotes one of the labeled claims (quotes are cut and cleaned, so
    word overlap, not equality, decides)."""
    for c in decision.corrections:
        quoted = set(_WORDS.findall(c.claim.lower()))
        for claim in claims:
            words = set(_WORDS.findall(claim.lower()))
            if quoted and words and len(quoted & words) >= 0.6 * min(len(quoted), len(words)):
                return True
    return False


_WORDS = re.compile(r"\w+")


def _correction_figures(pairs: Sequence[tuple[LabeledThread, Decision]]) -> dict[str, Any]:
    wrong = [(r, d) for r, d in pairs if r.ai_claims]
    right = [(r, d) for r, d in pairs if r.ai_advice and not r.ai_claims]
    other = [(r, d) for r, d in pairs if not r.ai_advice and not r.ai_claims]
    corrected = sum(bool(d.corrections) for _, d in wrong)
    return {
        "wrong_advice_threads": len(wrong),
        "corrected": corrected,
        "corrected_rate": _ratio(corrected, len(wrong)),
        "claim_quoted": sum(_claim_hit(r.ai_claims, d) for r, d in wrong),
        "correct_advice_threads": len(right),
        "false_corrections_on_correct_advice": sum(bool(d.corrections) for _, d in right),
        "false_corrections_without_advice": sum(bool(d.corrections) for _, d in other),
    }


def _report_confusion(pairs: Sequence[tuple[LabeledThread, Decision]]) -> dict[str, int]:
    out = {"report->report": 0, "report->ignored": 0, "other->report": 0, "other->ignored": 0}
    for r, d in pairs:
        truth = "other" if r.label == NOT_ERROR else "report"
        got = "ignored" if d.action == "ignore" else "report"
        out[f"{truth}->{got}"] += 1
    return out


def _outcome(d: Decision) -> str:
    """What the bot did, as one comparable label."""
    if d.action in ("reply", "review") and d.issue:
        return d.issue
    return {"escalate": NOVEL, "ignore": NOT_ERROR}.get(d.action, d.action)


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def evaluate(triager: Decider, rows: Sequence[LabeledThread]) -> tuple[EvalReport, list[Decision]]:
    decisions = triager.decide_many([r.thread for r in rows])
    pairs = list(zip(rows, decisions, strict=True))
    known = [(r, d) for r, d in pairs if r.label not in (NOVEL, NOT_ERROR)]
    novel = [(r, d) for r, d in pairs if r.label == NOVEL]
    non = [(r, d) for r, d in pairs if r.label == NOT_ERROR]
    replies = [(r, d) for r, d in pairs if d.action == "reply"]
    reviews = [(r, d) for r, d in pairs if d.action == "review"]

    per_issue: dict[str, dict[str, float | int | None]] = {}
    slugs = sorted({r.label for r, _ in known} | {d.issue for _, d in pairs if d.issue})
    for slug in slugs:
        predicted = [
            (r, d) for r, d in pairs if d.issue == slug and d.action in ("reply", "review")
        ]
        auto = [(r, d) for r, d in predicted if d.action == "reply"]
        actual = [(r, d) for r, d in pairs if r.label == slug]
        per_issue[slug] = {
            "support": len(actual),
            "precision": _ratio(sum(r.label == slug for r, _ in predicted), len(predicted)),
            "auto_precision": _ratio(sum(r.label == slug for r, _ in auto), len(auto)),
            "recall": _ratio(
                sum(d.issue == slug and d.action in ("reply", "review") for _, d in actual),
                len(actual),
            ),
            "auto_recall": _ratio(
                sum(d.issue == slug and d.action == "reply" for _, d in actual), len(actual)
            ),
        }

    confusion = Counter(
        (r.label, _outcome(d), d.action) for r, d in pairs if _outcome(d) != r.label
    )
    confusions = [
        {"label": label, "got": got, "action": action, "count": n}
        for (label, got, action), n in sorted(confusion.items(), key=lambda kv: (-kv[1], kv[0]))
    ][:15]

    report = EvalReport(
        n=len(pairs),
        n_known=len(known),
        n_novel=len(novel),
        n_not_error=len(non),
        auto_precision=_ratio(sum(d.issue == r.label for r, d in replies), len(replies)),
        auto_recall=_ratio(
            sum(d.action == "reply" and d.issue == r.label for r, d in known), len(known)
        ),
        recall_auto_or_review=_ratio(
            sum(d.action in ("reply", "review") and d.issue == r.label for r, d in known),
            len(known),
        ),
        review_precision=_ratio(sum(d.issue == r.label for r, d in reviews), len(reviews)),
        novel_escalated=_ratio(sum(d.action == "escalate" for _, d in novel), len(novel)),
        not_error_ignored=_ratio(sum(d.action == "ignore" for _, d in non), len(non)),
        actions=dict(sorted(Counter(d.action for d in decisions).items())),
        per_issue=per_issue,
        confusions=confusions,
        report_confusion=_report_confusion(pairs),
        corrections=_correction_figures(pairs),
    )
    for name, target in TARGETS.items():
        value = getattr(report, name)
        report.targets[name] = {
            "target": target,
            "value": value,
            "met": value is not None and value >= target,
        }
    return report, decisions


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_report(report: EvalReport) -> str:
    rc, co = report.report_confusion, report.corrections
    lines = [
        f"threads: {report.n} (known {report.n_known}, novel {report.n_novel}, "
        f"not_error {report.n_not_error})",
        "actions: " + ", ".join(f"{k} {v}" for k, v in report.actions.items()),
        "",
        f"auto-reply precision          {_fmt(report.auto_precision)}"
        f"   (target >= {TARGETS['auto_precision']})",
        f"known-issue recall, auto      {_fmt(report.auto_recall)}",
        f"known-issue recall, auto|rev  {_fmt(report.recall_auto_or_review)}"
        f"   (target >= {TARGETS['recall_auto_or_review']})",
        f"review precision              {_fmt(report.review_precision)}",
        f"novel errors escalated        {_fmt(report.novel_escalated)}"
        f"   (target >= {TARGETS['novel_escalated']})",
        f"not_error ignored             {_fmt(report.not_error_ignored)}"
        f"   (target >= {TARGETS['not_error_ignored']})",
        "",
        "report detection (truth -> outcome):",
        f"  report   -> handled {rc['report->report']:>4}   ignored {rc['report->ignored']:>4}",
        f"  other    -> handled {rc['other->report']:>4}   ignored {rc['other->ignored']:>4}",
        "",
        "AI-advice corrections:",
        f"  wrong advice corrected        {co['corrected']}/{co['wrong_advice_threads']}"
        f" ({_fmt(co['corrected_rate'])}), quoting the labeled claim {co['claim_quoted']}",
        f"  false corrections             {co['false_corrections_on_correct_advice']}"
        f" on {co['correct_advice_threads']} correct-advice threads,"
        f" {co['false_corrections_without_advice']} on threads without advice",
        "",
        "per issue (support, precision, recall, auto precision, auto recall):",
    ]
    for slug, m in report.per_issue.items():
        lines.append(
            f"  {slug:<42} {m['support']:>3}  {_fmt(m['precision'])}  {_fmt(m['recall'])}"
            f"  {_fmt(m['auto_precision'])}  {_fmt(m['auto_recall'])}"
        )
    if report.confusions:
        lines += ["", "worst confusions (label -> outcome, action, count):"]
        for c in report.confusions:
            lines.append(f"  {c['label']} -> {c['got']} ({c['action']}) x{c['count']}")
    return "\n".join(lines)
