"""The triage decision for one thread: reply, review, escalate or ignore.

Built once (compiled patterns, vectorisers, models) and then called for every post
by the batch command, the running bot and the evaluation alike. The parts: reading
the post (extraction, report features), pattern matching (bot.triage.matching), the
model (bot.triage.classifier), the decision policy (bot.triage.policy), then the
Decision with its error strings, secrets check and corrections (bot.triage.advice).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from bot.config import Config
from bot.known_issues import KnownIssue, load_dir
from bot.patterns import Prefilter
from bot.triage import classifier
from bot.triage.advice import find_corrections
from bot.triage.casefold import fold, folded
from bot.triage.claims import KnownSpecifics
from bot.triage.classifier import ModelError, TrainedModel, make_doc
from bot.triage.extract import ErrorCandidate, extract_errors, split_own_words
from bot.triage.fingerprint import fingerprint_normalised, normalise
from bot.triage.matching import IssueMatcher
from bot.triage.policy import DecisionPolicy, Prepared, has_error_text
from bot.triage.report import form_features
from bot.triage.secrets import find_secrets, redact, secret_kinds
from bot.triage.training_data import NOVEL, Example, data_hash, issues_hash, load_training_dir
from bot.triage.types import Answer, Correction, Decision, Thread

MAX_ERROR_STRINGS = 5
NORMALISE_CACHE = 4096
CHUNK = 256
SCAN_CHARS = 12_000
# Errors from other providers look like ours; their presence makes a reply a draft.
_OTHER_PROVIDER = re.compile(
    r"\b(azure|anthropic|claude|gemini|vertex ?ai|bedrock|mistral|groq|deepseek|ollama|"
    r"cohere|openrouter|hugging ?face|llama\.cpp|llama-server|together\.ai|fireworks|vllm|"
    r"lm ?studio|tgi|text-generation-inference|"
    # ChatGPT / Codex sign-in tokens get the API's scope errors with another cause.
    r"codex|chatgpt\s+(?:log\s?in|sign[- ]?in|oauth)|signed\s+in\s+with\s+(?:my\s+)?chatgpt)\b",
    re.IGNORECASE,
)
# Feature requests as issue trackers shape them (title tags, template headings).
_FEATURE_TITLE = re.compile(
    r"^\s*(?:\[\s*(?:feature|enhancement|feat|proposal|rfc|request|idea)[^\]]*\]|"
    r"(?:feature|enhancement)\s+request\b|feat(?:\(\w+\))?:|"
    r"(?:add|support|implement|allow|expose)\s+(?!.*\b(?:error|fails?|failing|failed|broken|"
    r"crash\w*|exception|not working)\b))",
    re.IGNORECASE,
)
_FEATURE_BODY = re.compile(
    r"is your feature request related to a problem|describe the solution you'?d like|"
    r"^#+\s*(?:feature request|proposed (?:feature|solution)|motivation)\b",
    re.IGNORECASE | re.MULTILINE,
)
_TITLE_ERRORISH = re.compile(
    r"(error|exception|fail|invalid|unsupported|not supported|denied|exceed|unauthori[sz]ed|"
    r"forbidden|not found|does not exist|missing|overloaded|quota|rate limit|\b[45]\d\d\b)",
    re.IGNORECASE,
)
# Case-sensitive twins of the rules above, for folded text (bot.triage.casefold).
_OTHER_PROVIDER_FOLDED = folded(_OTHER_PROVIDER)
_FEATURE_TITLE_FOLDED = folded(_FEATURE_TITLE)
_FEATURE_BODY_FOLDED = folded(_FEATURE_BODY)
_TITLE_ERRORISH_FOLDED = folded(_TITLE_ERRORISH)


# Feature-request headings and other providers are rare: the strings every match holds
# spare a regex scan of the whole post on nearly every one.
_OTHER_PROVIDER_NEEDS = Prefilter.of(_OTHER_PROVIDER)
_FEATURE_BODY_NEEDS = Prefilter.of(_FEATURE_BODY)


class Triager:
    """Decides what to do with a thread. Thread-safe after construction."""

    def __init__(
        self,
        issues: Sequence[KnownIssue],
        model: TrainedModel | None,
        config: Config | None = None,
    ) -> None:
        self.issues = {i.slug: i for i in issues}
        self.model = model
        self.config = config or Config()
        self._matcher = IssueMatcher(issues)
        self._policy = DecisionPolicy(issues, model, self._matcher)
        self._known_specifics = KnownSpecifics(issues)
        self._issues_hash = issues_hash(issues)
        self.model_version = model.card.version if model else "patterns-only"
        # An error string is normalised for the model's document, again for the
        # evidence document and again for the fingerprint: once is enough.
        self._normalise = functools.lru_cache(maxsize=NORMALISE_CACHE)(normalise)

    def clear_caches(self) -> None:
        """Forget normalised strings and the model's per-word n-gram columns (for
        cold-start measurements; decisions never depend on them)."""
        self._normalise.cache_clear()
        if self.model is not None:
            self.model.clear_caches()

    # ------------------------------------------------------------ construction

    @classmethod
    def from_dir(
        cls,
        data_dir: str | Path,
        models_dir: str | Path,
        *,
        cache_dir: str | Path | None = None,
        config: Config | None = None,
    ) -> Triager:
        """Known issues from data_dir/known_issues, training data from data_dir/training."""
        data = Path(data_dir)
        issues = load_dir(data / "known_issues")
        examples = load_training_dir(data / "training")
        model = ensure_model(issues, examples, models_dir, cache_dir or default_cache_dir())
        return cls(issues, model, config)

    @classmethod
    def from_store(cls, store: object, config: Config) -> Triager:
        """Known issues from the database (maintainers' edits), training data from files."""
        issues = store.list_issues()  # type: ignore[attr-defined]
        examples = load_training_dir(config.resolved_data_dir() / "training")
        db_dir = Path(config.db_path).expanduser().resolve().parent
        model = ensure_model(
            issues, examples, config.resolved_models_dir(), db_dir / ".triagebot-models"
        )
        return cls(issues, model, config)

    def needs_reload(self, issues: Sequence[KnownIssue]) -> bool:
        """True when `issues` (e.g. `store.list_issues()`) differ from the ones this
        triager was built from: a long-running bot rebuilds it (retraining only when
        what the model learns from changed)."""
        return issues_hash(issues) != self._issues_hash

    # ------------------------------------------------------------ deciding

    def decide(self, thread: Thread) -> Decision:
        return self.decide_many([thread])[0]

    def decide_many(self, threads: Iterable[Thread]) -> list[Decision]:
        """Decisions in input order; the models run vectorised over chunks of threads
        (bounded, so that memory stays flat however long the input is)."""
        items = list(threads)
        out: list[Decision] = []
        for start in range(0, len(items), CHUNK):
            out.extend(self._decide_chunk(items[start : start + CHUNK]))
        return out

    def _decide_chunk(self, threads: Sequence[Thread]) -> list[Decision]:
        prepared = [self._prepare(t) for t in threads]
        if not prepared:
            return []
        evidence: dict[int, str] = {}
        if self.model is not None:
            # Title candidates are not fed back: the title is already in the document.
            docs = [
                make_doc(
                    p.thread.title,
                    p.own,
                    _texts(p.candidates),
                    own_words=True,
                    norm_fn=self._normalise,
                )
                for p in prepared
            ]
            issue_p, error_p = self.model.predict_report(docs, [p.forms for p in prepared])
            evidence = self._evidence(prepared, issue_p)
        else:
            issue_p = np.zeros((len(prepared), 0))
            error_p = np.array([0.9 if p.candidates else 0.1 for p in prepared])
        return [
            self._finish(p, issue_p[i], float(error_p[i]), evidence.get(i))
            for i, p in enumerate(prepared)
        ]

    def _evidence(self, prepared: list[Prepared], issue_p: np.ndarray) -> dict[int, str]:
        """For posts the model would answer on its own: the issue that the title and the
        quoted error strings alone point to. A reply needs both views to agree."""
        assert self.model is not None
        wanted = []
        for i, p in enumerate(prepared):
            label, prob = self._policy.top(issue_p[i])
            if (
                not p.hits
                and label != NOVEL
                and has_error_text(p.candidates)
                and prob >= self._policy.thresholds(label)[0]
            ):
                wanted.append(i)
        if not wanted:
            return {}
        docs = [
            make_doc(
                prepared[i].thread.title,
                "",
                _texts(prepared[i].candidates),
                own_words=True,
                norm_fn=self._normalise,
            )
            for i in wanted
        ]
        rows, _ = self.model.predict(docs)
        return {i: self._policy.top(row)[0] for i, row in zip(wanted, rows, strict=True)}

    def _prepare(self, thread: Thread) -> Prepared:
        own, _quoted = split_own_words(thread.first_post)
        own = own[:SCAN_CHARS]
        candidates = extract_errors(own)
        title = thread.title.strip()
        scan = f"{title}\n{own}"
        low_scan = fold(scan)  # same length: spans found in it hold in `scan`
        low_title = low_scan[: len(title)]
        if title and _TITLE_ERRORISH_FOLDED.search(low_title):
            candidates.append(ErrorCandidate(title[:300], "title", 0.45))
        matched: dict[str, str] = {}
        hits = self._matcher.hits(scan, matched, low_scan)
        later_hits: dict[str, list[str]] = {}
        if not hits and len(thread.posts) > 1:
            later = "\n".join(split_own_words(p)[0][:4000] for p in thread.posts[1:4])
            later_hits = self._matcher.hits(later)
        provider = (
            _OTHER_PROVIDER_FOLDED.search(low_scan)
            if _OTHER_PROVIDER_NEEDS.may_match(scan, low_scan)
            else None
        )
        body, low_body = scan[len(title) + 1 :][:3000], low_scan[len(title) + 1 :][:3000]
        feature = bool(
            _FEATURE_TITLE_FOLDED.search(low_title)
            or (
                _FEATURE_BODY_NEEDS.may_match(body, low_body)
                and _FEATURE_BODY_FOLDED.search(low_body)
            )
        )
        return Prepared(
            thread,
            own,
            candidates,
            hits,
            later_hits,
            scan[provider.start(1) : provider.end(1)].lower() if provider else None,
            feature,
            matched,
            form_features(title, own, candidates),
        )

    def _finish(
        self, prep: Prepared, row: np.ndarray, error_p: float, evidence: str | None = None
    ) -> Decision:
        ruling = self._policy.rule(prep, row, error_p, evidence)
        return self._decision(
            prep, ruling.action, ruling.issue, ruling.confidence, ruling.is_error, ruling.reasons
        )

    def _decision(
        self,
        prep: Prepared,
        action: str,
        issue_slug: str | None,
        confidence: float,
        is_error: bool,
        reasons: list[str],
    ) -> Decision:
        thread = prep.thread
        ranked = [c for c in prep.candidates if c.kind != "title"] or prep.candidates
        hit_text = prep.matched.get(issue_slug or "") if action in ("reply", "review") else None
        if hit_text:
            # The candidate the issue's pattern matched is the error string to show; if no
            # extractor found it, the matched text itself is.
            low = hit_text.lower()
            holding = [c for c in ranked if low in c.text.lower()]
            rest = [c for c in ranked if low not in c.text.lower()]
            ranked = (
                holding + rest if holding else [ErrorCandidate(hit_text, "pattern", 0.85), *ranked]
            )
        best = ranked[0] if ranked else None
        norm = self._normalise(best.text) if best else None
        # Candidates are cut from the post, so a post without secrets needs no redaction.
        secrets = bool(find_secrets(f"{thread.title}\n{thread.first_post}"))
        shown = ranked[:MAX_ERROR_STRINGS]
        error_strings = (
            tuple(_redact_all(c.text) for c in shown) if secrets else tuple(c.text for c in shown)
        )
        corrections: tuple[Correction, ...] = ()
        answer: Answer | None = None
        if issue_slug is not None and action in ("reply", "review"):
            issue = self.issues[issue_slug]
            # The first post too: members often paste what an assistant told them
            # before asking; find_corrections only reads AI-attributed or
            # assistant-styled advice, never the member's own words.
            corrections = tuple(
                find_corrections(list(thread.posts), issue, known_elsewhere=self._known_specifics)
            )
            answer = Answer(
                issue,
                error_strings[0] if error_strings else None,
                tuple(secret_kinds(thread.first_post)) if secrets else (),
            )
        if secrets:
            reasons.append("secret in post")
        return Decision(
            id=thread.id,
            action=action,  # type: ignore[arg-type]
            issue=issue_slug,
            confidence=float(min(max(confidence, 0.0), 1.0)),
            fingerprint=fingerprint_normalised(norm) if norm else None,
            error_strings=error_strings,
            corrections=corrections,
            answer=answer,
            normalised=norm,
            is_error_report=is_error,
            reasons=tuple(reasons),
            secrets_found=secrets,
            model_version=self.model_version,
        )


_KEY_FRAGMENT = re.compile(r"\b(?:sk|rk|pk|sess)-[A-Za-z0-9_\-]{4,}…?")


def _redact_all(text: str) -> str:
    """Redact secrets, then any key-shaped fragment: a candidate cut at its length limit
    can end in part of a key that no longer looks like a whole one."""
    return _KEY_FRAGMENT.sub("sk-…[redacted]", redact(text))


def _texts(candidates: Sequence[ErrorCandidate]) -> list[str]:
    return [c.text for c in candidates if c.kind != "title"]


# ---------------------------------------------------------------- model freshness


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triagebot" / "models"


def ensure_model(
    issues: Sequence[KnownIssue],
    examples: Sequence[Example],
    models_dir: str | Path,
    cache_dir: str | Path,
) -> TrainedModel | None:
    """The model for exactly this data: loaded if a card's hash matches, else retrained.

    A retrained model goes to models_dir, or to cache_dir when models_dir is
    read-only (an installed package). With no issues there is nothing to learn.
    """
    if not issues:
        return None
    want = data_hash(issues, [e for e in examples if e.label in trained_labels(issues)])
    for directory in (Path(models_dir), Path(cache_dir)):
        card = classifier.read_card(directory)
        if card is not None and card.data_hash == want and model_compatible(card):
            try:
                return classifier.load(directory)
            except ModelError:
                continue  # corrupt or untrusted: retrain below
    model = classifier.train(issues, examples)
    for directory in (Path(models_dir), Path(cache_dir)):
        try:
            classifier.save(model, directory)
            return model
        except ModelError:
            continue
    return model  # nowhere writable: use it for this run only


def model_compatible(card: classifier.ModelCard) -> bool:
    """A model from other feature code or another file layout is retrained, not trusted.
    The library that trained it does not matter: deciding reads plain arrays."""
    return (
        card.format_version == classifier.FORMAT_VERSION
        and card.feature_signature == classifier.feature_signature()
    )


def trained_labels(issues: Sequence[KnownIssue]) -> set[str]:
    from bot.triage.training_data import SPECIAL_LABELS

    return {i.slug for i in issues} | set(SPECIAL_LABELS)


def load_triager(config: Config, *, use_store: bool = False, store: object = None) -> Triager:
    """The triager the CLI uses: from the database when asked, else from data files."""
    if use_store and store is not None:
        return Triager.from_store(store, config)
    return Triager.from_dir(
        config.resolved_data_dir(),
        config.resolved_models_dir(),
        cache_dir=Path(config.db_path).expanduser().resolve().parent / ".triagebot-models",
        config=config,
    )
