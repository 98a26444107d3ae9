"""Known-issue entries: the typed model, validation, and YAML (de)serialisation.

An entry is one YAML file in data/known_issues/<slug>.yml. Validation reports the
first problem as `file: field: reason` so that a maintainer can fix it at once;
nothing is written anywhere until an entry validates.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import yaml

from bot import data_cache, patterns
from bot.errors import UserError

STATUSES = (
    "investigating",
    "identified",
    "workaround",
    "fixed",
    "wont_fix",
    "expected_behaviour",
)
PATTERN_KINDS = ("literal", "regex")
SLUG_RE = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
# Fields a maintainer writes; updated_at/updated_by are stamped by the store.
FIELD_ORDER = (
    "slug",
    "title",
    "status",
    "summary",
    "cause",
    "workaround",
    "patterns",
    "misconceptions",
    "facts",
    "rejected_claims",
    "links",
    "examples",
    "updated_at",
    "updated_by",
)


class EntryError(UserError):
    """An invalid known-issue entry. `str()` is `source: field: reason`."""

    def __init__(self, source: str, field_name: str, reason: str) -> None:
        self.source = source
        self.field = field_name
        self.reason = reason
        super().__init__(f"{source}: {field_name}: {reason}")


@dataclass(frozen=True)
class Pattern:
    kind: str  # "literal" (case-insensitive substring) or "regex" (Python re, IGNORECASE)
    value: str

    def source(self) -> patterns.Source:
        """The rule as a regex source (a literal escaped), matched case-insensitively."""
        value = re.escape(self.value) if self.kind == "literal" else self.value
        return patterns.Source(value, re.IGNORECASE)

    def compile(self) -> re.Pattern[str]:
        return self.source().compile()


@dataclass(frozen=True)
class Misconception:
    claim: str  # a short statement of the wrong claim, shown in the reply
    patterns: tuple[str, ...]  # regexes that find the claim in a sentence
    correction: str  # what is true, in one or two sentences

    def compiled(self) -> tuple[re.Pattern[str], ...]:
        return _compile_claim_patterns(self.patterns)


# What a fact states about an entry; claims of a shape are checked against the kinds
# that can confirm or contradict them (bot.triage.claims).
FACT_KINDS = (
    "affects",  # who or what meets the error
    "not_affects",  # who is known not to be singled out
    "requires",  # what the fix or the feature really needs
    "not_required",  # what it does not need (plans, support tickets, waiting)
    "cause",  # what causes it
    "not_cause",  # what is known not to cause it
    "fix",  # what works
    "non_fix",  # what is known not to work
    "limit",  # a number (value + unit) that holds
    "delay",  # how long something takes (value [+ max] + unit)
)
NUMERIC_FACT_KINDS = ("limit", "delay")


@dataclass(frozen=True)
class Fact:
    """One checkable fact of an entry: what it is about (key phrases a claim's object is
    compared with) and the sentence a correction quotes."""

    kind: str
    about: tuple[str, ...]
    says: str
    value: float | None = None
    max: float | None = None
    unit: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "about": list(self.about), "says": self.says}
        if self.value is not None:
            data["value"] = self.value
        if self.max is not None:
            data["max"] = self.max
        if self.unit:
            data["unit"] = self.unit
        return data


@functools.lru_cache(maxsize=1024)
def _compile_claim_patterns(patterns: tuple[str, ...]) -> tuple[re.Pattern[str], ...]:
    # Matched against every sentence of AI advice: compile once, not per call.
    return tuple(re.compile(p, re.IGNORECASE) for p in patterns)


@dataclass(frozen=True)
class KnownIssue:
    slug: str
    title: str
    status: str
    summary: str
    cause: str = ""
    workaround: str = ""
    patterns: tuple[Pattern, ...] = ()
    misconceptions: tuple[Misconception, ...] = ()
    facts: tuple[Fact, ...] = ()
    # Claims staff marked as wrongly corrected: never corrected again for this entry.
    rejected_claims: tuple[str, ...] = ()
    links: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    updated_at: str = ""
    updated_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        # The nested fields are rebuilt below: a shallow copy is enough (asdict's deep
        # copy was the slowest part of hashing the entries at start-up).
        data = {name: getattr(self, name) for name in FIELD_ORDER}
        data["patterns"] = [{"kind": p.kind, "value": p.value} for p in self.patterns]
        data["misconceptions"] = [
            {"claim": m.claim, "patterns": list(m.patterns), "correction": m.correction}
            for m in self.misconceptions
        ]
        data["facts"] = [f.to_dict() for f in self.facts]
        data["rejected_claims"] = list(self.rejected_claims)
        data["links"] = list(self.links)
        data["examples"] = list(self.examples)
        return {k: data[k] for k in FIELD_ORDER}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> KnownIssue:
        """An entry from `to_dict` output that passed validation before (the data
        cache): nothing is checked again. Anything else goes through validate_entry."""
        return cls(
            slug=data["slug"],
            title=data["title"],
            status=data["status"],
            summary=data["summary"],
            cause=data["cause"],
            workaround=data["workaround"],
            patterns=tuple(Pattern(p["kind"], p["value"]) for p in data["patterns"]),
            misconceptions=tuple(
                Misconception(m["claim"], tuple(m["patterns"]), m["correction"])
                for m in data["misconceptions"]
            ),
            facts=tuple(
                Fact(
                    f["kind"],
                    tuple(f["about"]),
                    f["says"],
                    f.get("value"),
                    f.get("max"),
                    f.get("unit", ""),
                )
                for f in data["facts"]
            ),
            rejected_claims=tuple(data["rejected_claims"]),
            links=tuple(data["links"]),
            examples=tuple(data["examples"]),
            updated_at=data["updated_at"],
            updated_by=data["updated_by"],
        )

    def content(self) -> dict[str, Any]:
        """`to_dict` without the edit stamps: what two versions of an entry compare on."""
        data = self.to_dict()
        del data["updated_at"], data["updated_by"]
        return data

    def to_yaml(self) -> str:
        import yaml

        data = self.to_dict()
        for optional in ("facts", "rejected_claims"):
            if not data[optional]:
                del data[optional]
        if not data["updated_at"]:
            del data["updated_at"]
        if not data["updated_by"]:
            del data["updated_by"]
        return yaml.dump(
            data, Dumper=_block_dumper(), sort_keys=False, allow_unicode=True, width=88
        )


@functools.cache
def _block_dumper() -> type[yaml.SafeDumper]:
    """A dumper writing multi-line strings as `|` blocks so entries stay readable in an
    editor (made on first use: a start that reads the data cache never imports yaml)."""
    import yaml

    class BlockDumper(yaml.SafeDumper):
        pass

    def represent(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
        if "\n" in value:
            return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
        return dumper.represent_scalar("tag:yaml.org,2002:str", value)

    BlockDumper.add_representer(str, represent)
    return BlockDumper


def _text(
    source: str,
    data: dict[str, Any],
    key: str,
    *,
    required: bool,
    max_len: int,
    where: str = "",
) -> str:
    label = f"{where}.{key}" if where else key
    value = data.get(key)
    if value is None:
        if required:
            raise EntryError(source, label, "is required")
        return ""
    if not isinstance(value, str):
        raise EntryError(source, label, f"must be text, got {type(value).__name__}")
    value = value.strip()
    if required and not value:
        raise EntryError(source, label, "must not be empty")
    if len(value) > max_len:
        raise EntryError(source, label, f"is longer than {max_len} characters")
    return value


def _list(source: str, data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EntryError(source, key, f"must be a list, got {type(value).__name__}")
    return value


def _check_regex(source: str, where: str, value: str) -> None:
    try:
        compiled = re.compile(value, re.IGNORECASE)
    except re.error as exc:
        raise EntryError(source, where, f"invalid regex: {exc}") from None
    if compiled.match(""):
        raise EntryError(source, where, "regex matches the empty string")
    try:
        items = patterns.parse(compiled)
    except patterns.Unsupported as exc:
        raise EntryError(
            source, where, f"uses syntax the safety check cannot read ({exc}): write it plainly"
        ) from None
    if patterns.nested_unbounded(items):
        # Python's regex engine has no time limit: (a+)+ on a long post can hang triage.
        raise EntryError(
            source,
            where,
            "unbounded repeat inside an unbounded repeat can take exponential time: "
            "bound the outer one ({0,20}) or make it possessive (*+, ++)",
        )


# Ordinary forum writing with no error message in it. An error pattern is matched
# before the classifier and answers at high confidence, so one that matches this
# (`[a-z ]+`, `the request`) would answer posts that report nothing of the kind.
PROSE_SAMPLE = """\
Hi everyone, thanks for the warm welcome to the community. I have been building a
small side project over the weekend and wanted to share how it is going so far.
The documentation was easy to follow and the examples helped a lot. My plan is to
add a settings page next, then write some tests before I show it to my team.
Does anyone have tips on organising a project like this? I would also love to hear
what you are working on. Have a great week, and thank you again for all the help!
Quick question about pricing: is the monthly plan billed at the start of the month?
We moved our meeting to Thursday afternoon because of the holiday on Monday.
"""


def _check_not_prose(source: str, where: str, pattern: Pattern) -> None:
    if pattern.kind == "regex":
        found = re.compile(pattern.value, re.IGNORECASE).search(PROSE_SAMPLE)
        hit = found.group(0) if found else None
    else:
        hit = pattern.value if pattern.value.lower() in PROSE_SAMPLE.lower() else None
    if hit is not None:
        shown = " ".join(hit.split())[:40]
        raise EntryError(
            source,
            where,
            f"matches ordinary prose ({shown!r}), so it would answer unrelated posts: "
            "make it specific to the error message",
        )


def validate_entry(data: Any, source: str = "<entry>") -> KnownIssue:
    """Turn parsed YAML into a KnownIssue or raise EntryError for the first problem."""
    if not isinstance(data, dict):
        raise EntryError(source, "(top)", "an entry must be a mapping of fields")
    unknown = sorted(set(data) - set(FIELD_ORDER))
    if unknown:
        raise EntryError(source, unknown[0], "unknown field")
    slug = _text(source, data, "slug", required=True, max_len=64)
    if not SLUG_RE.match(slug):
        raise EntryError(
            source, "slug", "must be 3-64 characters: lowercase letters, digits, underscores"
        )
    status = _text(source, data, "status", required=True, max_len=32)
    if status not in STATUSES:
        raise EntryError(source, "status", f"must be one of {', '.join(STATUSES)}")
    title = _text(source, data, "title", required=True, max_len=200)
    summary = _text(source, data, "summary", required=True, max_len=2000)
    cause = _text(source, data, "cause", required=False, max_len=4000)
    workaround = _text(source, data, "workaround", required=False, max_len=4000)
    if status in ("workaround", "fixed") and not workaround:
        raise EntryError(source, "workaround", f"is required when status is {status}")

    patterns: list[Pattern] = []
    for i, item in enumerate(_list(source, data, "patterns")):
        where = f"patterns[{i}]"
        if isinstance(item, str):
            item = {"kind": "literal", "value": item}
        if not isinstance(item, dict):
            raise EntryError(source, where, "must be a mapping with kind and value")
        kind = item.get("kind", "literal")
        value = item.get("value")
        if kind not in PATTERN_KINDS:
            raise EntryError(source, f"{where}.kind", "must be literal or regex")
        if not isinstance(value, str) or len(value.strip()) < 6:
            raise EntryError(source, f"{where}.value", "must be text of at least 6 characters")
        if kind == "regex":
            _check_regex(source, f"{where}.value", value)
        _check_not_prose(source, f"{where}.value", Pattern(kind=kind, value=value))
        patterns.append(Pattern(kind=kind, value=value))

    misconceptions: list[Misconception] = []
    for i, item in enumerate(_list(source, data, "misconceptions")):
        where = f"misconceptions[{i}]"
        if not isinstance(item, dict):
            raise EntryError(source, where, "must be a mapping with claim, patterns, correction")
        claim = _text(source, item, "claim", required=True, max_len=300, where=where)
        correction = _text(source, item, "correction", required=True, max_len=1000, where=where)
        pats = item.get("patterns")
        if not isinstance(pats, list) or not pats:
            raise EntryError(source, f"{where}.patterns", "must be a non-empty list of regexes")
        for j, pat in enumerate(pats):
            if not isinstance(pat, str):
                raise EntryError(source, f"{where}.patterns[{j}]", "must be text")
            _check_regex(source, f"{where}.patterns[{j}]", pat)
        misconceptions.append(
            Misconception(claim=claim, patterns=tuple(pats), correction=correction)
        )

    facts = [
        _fact(source, f"facts[{i}]", item) for i, item in enumerate(_list(source, data, "facts"))
    ]

    rejected: list[str] = []
    for i, claim in enumerate(_list(source, data, "rejected_claims")):
        if not isinstance(claim, str) or not claim.strip():
            raise EntryError(source, f"rejected_claims[{i}]", "must be non-empty text")
        rejected.append(" ".join(claim.split()))

    links: list[str] = []
    for i, link in enumerate(_list(source, data, "links")):
        if not isinstance(link, str) or not re.match(r"^https?://\S+$", link):
            raise EntryError(source, f"links[{i}]", "must be an http(s) URL")
        links.append(link)

    examples: list[str] = []
    for i, example in enumerate(_list(source, data, "examples")):
        if not isinstance(example, str) or not example.strip():
            raise EntryError(source, f"examples[{i}]", "must be non-empty text")
        examples.append(example.strip())

    return KnownIssue(
        slug=slug,
        title=title,
        status=status,
        summary=summary,
        cause=cause,
        workaround=workaround,
        patterns=tuple(patterns),
        misconceptions=tuple(misconceptions),
        facts=tuple(facts),
        rejected_claims=tuple(rejected),
        links=tuple(links),
        examples=tuple(examples),
        updated_at=str(data.get("updated_at") or ""),
        updated_by=str(data.get("updated_by") or ""),
    )


_FACT_KEYS = frozenset({"kind", "about", "says", "value", "max", "unit"})


def _number(source: str, where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise EntryError(source, where, "must be a number of at least 0")
    return float(value)


def _fact(source: str, where: str, item: Any) -> Fact:
    if not isinstance(item, dict):
        raise EntryError(source, where, "must be a mapping with kind, about and says")
    unknown = sorted(set(item) - _FACT_KEYS)
    if unknown:
        raise EntryError(source, f"{where}.{unknown[0]}", "unknown field")
    kind = item.get("kind")
    if kind not in FACT_KINDS:
        raise EntryError(source, f"{where}.kind", f"must be one of {', '.join(FACT_KINDS)}")
    says = _text(source, item, "says", required=True, max_len=500, where=where)
    about = item.get("about")
    if isinstance(about, str):
        about = [about]
    if not isinstance(about, list) or not about:
        raise EntryError(source, f"{where}.about", "must be a non-empty list of key phrases")
    phrases: list[str] = []
    for j, phrase in enumerate(about):
        if not isinstance(phrase, str) or not re.search(r"\w\w", phrase):
            raise EntryError(source, f"{where}.about[{j}]", "must be a phrase of words")
        phrases.append(" ".join(phrase.split()))
    value = _number(source, f"{where}.value", item.get("value"))
    top = _number(source, f"{where}.max", item.get("max"))
    unit = item.get("unit") or ""
    if not isinstance(unit, str):
        raise EntryError(source, f"{where}.unit", "must be text")
    if kind in NUMERIC_FACT_KINDS and (value is None or not unit):
        raise EntryError(source, where, f"a {kind} fact needs a value and a unit")
    if top is not None and (value is None or top < value):
        raise EntryError(source, f"{where}.max", "must be at least the value")
    return Fact(kind, tuple(phrases), says, value, top, unit.strip().lower())


def parse_yaml(text: str, source: str = "<entry>") -> KnownIssue:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "(yaml)"
        problem = getattr(exc, "problem", None) or "not valid YAML"
        raise EntryError(source, where, str(problem)) from None
    except (RecursionError, ValueError, TypeError) as exc:
        # The constructors raise these on e.g. a date like 2024-13-45 or deep nesting.
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise EntryError(source, "(yaml)", f"not valid YAML: {reason}") from None
    return validate_entry(data, source)


def load_file(path: str | Path) -> KnownIssue:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EntryError(str(path), "(file)", exc.strerror or "cannot read") from None
    except UnicodeDecodeError as exc:
        raise EntryError(str(path), "(file)", f"not UTF-8 text ({exc.reason})") from None
    issue = parse_yaml(text, str(path))
    if path.stem != issue.slug:
        raise EntryError(str(path), "slug", f"must match the file name ({path.stem})")
    return issue


class EntriesError(UserError):
    """Several invalid entries at once: one `source: field: reason` line each."""

    def __init__(self, errors: list[EntryError], directory: str) -> None:
        self.errors = tuple(errors)
        lines = [str(e) for e in errors]
        lines.append(f"{directory}: {len(errors)} invalid entries; nothing was imported")
        super().__init__("\n".join(lines))


def load_dir(path: str | Path) -> list[KnownIssue]:
    """Every entry in a directory, all validated before any is returned.

    Every bad file is reported (EntriesError), not only the first, so that a
    maintainer fixes a directory in one pass. A directory validated before is read
    from the data cache (bot.data_cache), keyed by the files' bytes.
    """
    directory = Path(path)
    if not directory.is_dir():
        raise EntryError(str(directory), "(dir)", "is not a directory")
    files = sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))
    return data_cache.validated(
        _CACHE_KIND,
        __file__,
        files,
        lambda: _validate_dir(directory, files),
        lambda issues: [i.to_dict() for i in issues],
        lambda rows: [KnownIssue.from_dict(d) for d in rows],
    )


_CACHE_KIND = "known-issues"


def _validate_dir(directory: Path, files: list[Path]) -> list[KnownIssue]:
    issues: list[KnownIssue] = []
    errors: list[EntryError] = []
    seen: dict[str, Path] = {}
    for f in files:
        try:
            issue = load_file(f)
        except EntryError as exc:
            errors.append(exc)
            continue
        if issue.slug in seen:
            errors.append(EntryError(str(f), "slug", f"duplicate slug {issue.slug}"))
            continue
        seen[issue.slug] = f
        issues.append(issue)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise EntriesError(errors, str(directory))
    return issues
