"""Pattern analysis: what a rule's matches must hold, derived from the rule itself.

Every rule is written once, as a plain regex (or a literal). Its fast paths are derived
here when it is compiled, never kept by hand beside it:

- `required_literals(regex)`: lower-cased strings one of which every match holds, so a
  text (folded, bot.triage.casefold) holding none of them cannot match. Many rules'
  literals go into one Aho-Corasick automaton (`LiteralGate`): one pass over a post
  tells which rules may match it.
- `foldable(regex)`: whether the case-sensitive twin of an IGNORECASE rule, run on
  folded text, matches exactly where the rule does (bot.triage.casefold).
- `nested_unbounded(pattern)`: the regex shape whose backtracking is exponential.
- `start_gate(regex)`: a lookahead on where a match can start (its leading `\\b` or
  `^` and first character), put before a big alternation so `re` skips other positions.

The analysis reads the pattern's source with the small parser below (the stdlib's own
parser is private). It is conservative: syntax it does not know (verbose mode,
conditionals) raises `Unsupported`, and the callers then give the rule no fast path,
so a rule is always right and at worst slower. The parse is checked against the
compiled pattern (same number of groups) before anything is derived from it.

What the analyses find is remembered (`_Remembered`): kept by bot.data_cache under the
source of this module, so a rule is analysed once, not at every start.

Parsed items are `(op, argument)` pairs shaped like the stdlib's, with these ops:
LITERAL code; NOT_LITERAL code; ANY None; AT name; CATEGORY name; IN [items] (items:
(LITERAL, code), (RANGE, (lo, hi)), (CATEGORY, name), (NEGATE, None)); SUBPATTERN
(add_flags, del_flags, items); BRANCH [items, ...]; MAX_REPEAT / MIN_REPEAT /
POSSESSIVE_REPEAT (min, max, items), max None when unbounded; ASSERT / ASSERT_NOT
(behind, items); ATOMIC_GROUP items; GROUPREF None.
"""

from __future__ import annotations

import atexit
import re
import sys
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import ahocorasick

from bot import data_cache

LITERAL = "LITERAL"
NOT_LITERAL = "NOT_LITERAL"
ANY = "ANY"
AT = "AT"
CATEGORY = "CATEGORY"
IN = "IN"
RANGE = "RANGE"
NEGATE = "NEGATE"
SUBPATTERN = "SUBPATTERN"
BRANCH = "BRANCH"
MAX_REPEAT = "MAX_REPEAT"
MIN_REPEAT = "MIN_REPEAT"
POSSESSIVE_REPEAT = "POSSESSIVE_REPEAT"
ASSERT = "ASSERT"
ASSERT_NOT = "ASSERT_NOT"
ATOMIC_GROUP = "ATOMIC_GROUP"
GROUPREF = "GROUPREF"
REPEATS = (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT)
_SINGLE = (LITERAL, NOT_LITERAL, ANY, AT, IN, GROUPREF)
_GROUP = "GROUP"  # a non-capturing group without flags, while parsing only

Item = tuple[str, Any]

T = TypeVar("T")


class _Remembered:
    """What the analyses found for each rule (by name, flags and source), read from
    bot.data_cache at the first analysis and written back once at exit when new rules
    were analysed. The key holds this module's source and the Python version, so any
    change to the analysis or to `re` starts afresh; an entry that does not decode is
    analysed again."""

    KIND = "pattern-analyses"
    MAX_ENTRIES = 20_000  # rules of many edits of the entries stay remembered, not all

    def __init__(self) -> None:
        self._found: dict[str, Any] | None = None
        self._key: str | None = None
        self._changed = False

    def _load(self) -> dict[str, Any]:
        if self._found is None:
            version = "{}.{}".format(*sys.version_info[:2])
            self._key = data_cache.content_key(f"{self.KIND}-{version}", __file__, [])
            stored = data_cache.read(self.KIND, self._key) if self._key else None
            self._found = stored if isinstance(stored, dict) else {}
        return self._found

    def get(
        self,
        analysis: str,
        source: str,
        flags: int,
        compute: Callable[[], T],
        encode: Callable[[T], Any],
        decode: Callable[[Any], T],
    ) -> T:
        found = self._load()
        key = f"{analysis}\0{int(flags)}\0{source}"
        if key in found:
            try:
                return decode(found[key])
            except (TypeError, ValueError, KeyError):
                pass
        value = compute()
        found[key] = encode(value)
        if not self._changed:
            self._changed = True
            atexit.register(self.save)
        return value

    def save(self) -> None:
        if not self._changed or self._found is None or not self._key:
            return
        entries = list(self._found.items())[-self.MAX_ENTRIES :]
        data_cache.write(self.KIND, self._key, dict(entries))
        self._changed = False


_REMEMBERED = _Remembered()


@dataclass(frozen=True)
class Source:
    """A rule's source and flags, not compiled: enough for the remembered analyses,
    which compile it only to analyse it afresh."""

    pattern: str
    flags: int = 0

    def compile(self) -> re.Pattern[str]:
        return re.compile(self.pattern, self.flags)


Rule = re.Pattern[str] | Source


def _compiled(rule: Rule) -> re.Pattern[str]:
    return rule if isinstance(rule, re.Pattern) else rule.compile()


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("not a list of strings")
    return tuple(value)


def _optional_strings(value: Any) -> tuple[str, ...] | None:
    return None if value is None else _strings(value)


def _optional_string(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("not a string")
    return value


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("not a bool")
    return value


class Unsupported(ValueError):
    """Syntax the analysis does not read: the rule gets no fast path."""


_CATEGORIES = {"d": "DIGIT", "D": "NOT_DIGIT", "w": "WORD", "W": "NOT_WORD"}
_CATEGORIES |= {"s": "SPACE", "S": "NOT_SPACE"}
_ANCHORS = {"b": "BOUNDARY", "B": "NON_BOUNDARY", "A": "BEGINNING_STRING"}
_ANCHORS |= {"Z": "END_STRING"}
_ESCAPED = {"a": "\a", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "a": re.ASCII}
_FLAGS |= {"u": re.UNICODE, "L": re.LOCALE, "x": re.VERBOSE}
_QUANTIFIER = re.compile(r"\{(\d*)(?:(,)(\d*))?\}")


class _Parser:
    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0
        self.groups = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def take(self) -> str:
        if self.i >= len(self.s):
            raise Unsupported("unexpected end of pattern")
        ch = self.s[self.i]
        self.i += 1
        return ch

    def alternation(self) -> list[Item]:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        if len(branches) == 1:
            return branches[0]
        # Shaped as the stdlib shapes it: a prefix all branches share comes first, and
        # branches of single characters are one class.
        items: list[Item] = []
        # (Only single items are compared, as the stdlib compares them.)
        while (
            all(branches)
            and branches[0][0][0] in _SINGLE
            and all(b[0] == branches[0][0] for b in branches)
        ):
            items.append(branches[0][0])
            branches = [b[1:] for b in branches]
        chars: list[Item] = []
        for branch in branches:
            if len(branch) != 1:
                break
            op, av = branch[0]
            if op == LITERAL:
                chars.append((op, av))
            elif op == IN and av[0][0] != NEGATE:
                chars.extend(av)
            else:
                break
        else:
            return [*items, (IN, list(dict.fromkeys(chars)))]
        return [*items, (BRANCH, branches)]

    def sequence(self) -> list[Item]:
        items: list[Item] = []
        while self.i < len(self.s) and self.peek() not in "|)":
            atom = self.atom()
            if atom is None:
                continue
            atom = self.quantified(atom)
            if atom[0] == _GROUP:  # a plain group is spliced in, as the stdlib does
                items.extend(atom[1])
            else:
                items.append(atom)
        return items

    def quantified(self, atom: Item) -> Item:
        ch = self.peek()
        if ch in ("*", "+", "?"):
            self.i += 1
            lo, hi = {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        elif ch == "{" and (m := _QUANTIFIER.match(self.s, self.i)):
            if not m.group(1) and not m.group(2):
                return atom  # "{}" is two literal characters; the atom stands alone
            self.i = m.end()
            lo = int(m.group(1) or 0)
            hi = None if m.group(2) and not m.group(3) else int(m.group(3) or m.group(1))
        else:
            return atom
        body = atom[1] if atom[0] == _GROUP else [atom]  # a plain group repeats its items
        op = MAX_REPEAT
        if self.peek() == "?":
            self.i += 1
            op = MIN_REPEAT
        elif self.peek() == "+":
            self.i += 1
            op = POSSESSIVE_REPEAT
        return (op, (lo, hi, body))

    def atom(self) -> Item | None:
        ch = self.take()
        if ch == "(":
            return self.group()
        if ch == "[":
            items = list(dict.fromkeys(self.char_class()))
            if len(items) == 2 and items[0][0] == NEGATE and items[1][0] == LITERAL:
                return (NOT_LITERAL, items[1][1])
            if len(items) == 1 and items[0][0] == LITERAL:
                return items[0]
            return (IN, items)
        if ch == ".":
            return (ANY, None)
        if ch == "^":
            return (AT, "BEGINNING")
        if ch == "$":
            return (AT, "END")
        if ch == "\\":
            return self.escape(in_class=False)
        if ch in "*+?":
            raise Unsupported("nothing to repeat")
        return (LITERAL, ord(ch))

    def group(self) -> Item | None:
        if self.peek() != "?":
            self.groups += 1
            return self.close((SUBPATTERN, (0, 0, self.alternation())))
        self.i += 1
        kind = self.take()
        if kind == ":":
            return self.close((_GROUP, self.alternation()))
        if kind == "P":
            if self.peek() == "<":
                end = self.s.index(">", self.i)
                self.i = end + 1
                self.groups += 1
                return self.close((SUBPATTERN, (0, 0, self.alternation())))
            raise Unsupported("named back-reference")
        if kind == "<" and self.peek() not in ("=", "!"):
            raise Unsupported("group name syntax")
        if kind in ("=", "!"):
            return self.close((ASSERT if kind == "=" else ASSERT_NOT, (False, self.alternation())))
        if kind == "<":
            op = ASSERT if self.take() == "=" else ASSERT_NOT
            return self.close((op, (True, self.alternation())))
        if kind == ">":
            return self.close((ATOMIC_GROUP, self.alternation()))
        if kind == "#":
            self.i = self.s.index(")", self.i) + 1
            return None
        if kind == "(":
            raise Unsupported("conditional group")
        self.i -= 1
        add = self.flags("-:)")
        off = 0
        if self.peek() == "-":
            self.i += 1
            off = self.flags(":")
        closing = self.take()
        if (add | off) & re.VERBOSE:
            raise Unsupported("verbose mode")
        if closing == ")":  # global flags at the start: they apply to the whole pattern
            return None
        if not add and not off:
            return self.close((_GROUP, self.alternation()))
        return self.close((SUBPATTERN, (add, off, self.alternation())))

    def flags(self, stops: str) -> int:
        value = 0
        while self.peek() not in stops:
            flag = _FLAGS.get(self.take())
            if flag is None:
                raise Unsupported("unknown flag")
            value |= flag
        return value

    def close(self, item: Item) -> Item:
        if self.take() != ")":
            raise Unsupported("missing )")
        return item

    def escape(self, *, in_class: bool) -> Item:
        ch = self.take()
        if ch in _CATEGORIES:
            category = (CATEGORY, _CATEGORIES[ch])
            return category if in_class else (IN, [category])
        if not in_class and ch in _ANCHORS:
            return (AT, _ANCHORS[ch])
        if in_class and ch == "b":
            return (LITERAL, 8)
        if ch in _ESCAPED:
            return (LITERAL, ord(_ESCAPED[ch]))
        if ch in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[ch]
            digits = self.s[self.i : self.i + width]
            self.i += width
            return (LITERAL, int(digits, 16))
        if ch == "N":
            raise Unsupported("named character")
        octal = "01234567"
        following = self.s[self.i : self.i + 2]
        if ch == "0" or (
            ch in octal and len(following) == 2 and all(c in octal for c in following)
        ):
            digits = ch
            while len(digits) < 3 and self.peek() and self.peek() in octal:
                digits += self.take()
            return (LITERAL, int(digits, 8))
        if ch.isdigit():
            if in_class:
                raise Unsupported("digit escape in a class")
            if self.peek().isdigit():
                self.i += 1
            return (GROUPREF, None)
        if ch.isascii() and ch.isalpha():
            raise Unsupported("unknown escape")
        return (LITERAL, ord(ch))

    def char_class(self) -> list[Item]:
        items: list[Item] = []
        if self.peek() == "^":
            self.i += 1
            items.append((NEGATE, None))
        first = True
        while True:
            ch = self.take()
            if ch == "]" and not first:
                return items
            first = False
            if ch == "[" and self.peek() in ":=.":
                raise Unsupported("possible set syntax")
            item = self.escape(in_class=True) if ch == "\\" else (LITERAL, ord(ch))
            if (
                item[0] == LITERAL
                and self.peek() == "-"
                and self.s[self.i + 1 : self.i + 2] not in ("]", "")
            ):
                self.i += 1
                hi_ch = self.take()
                hi = self.escape(in_class=True) if hi_ch == "\\" else (LITERAL, ord(hi_ch))
                if hi[0] != LITERAL:
                    raise Unsupported("bad range")
                items.append((RANGE, (item[1], hi[1])))
            else:
                items.append(item)


def parse(regex: re.Pattern[str]) -> list[Item]:
    """`regex` as parsed items, checked against the compiled pattern; Unsupported when
    the analysis cannot read it (the caller then derives nothing from it)."""
    if regex.flags & re.VERBOSE:
        raise Unsupported("verbose mode")
    parser = _Parser(regex.pattern)
    try:
        items = parser.alternation()
    except (IndexError, ValueError) as exc:
        raise Unsupported(str(exc)) from None
    if parser.i != len(regex.pattern) or parser.groups != regex.groups:
        raise Unsupported("the parse disagrees with the compiled pattern")
    return items


def parse_source(pattern: str, flags: int = 0) -> list[Item] | None:
    """parse(re.compile(pattern, flags)), or None when it cannot be read."""
    try:
        return parse(re.compile(pattern, flags))
    except (Unsupported, re.error):
        return None


# ------------------------------------------------------------------ required literals


def _usable(ch: str) -> bool:
    """A pattern character whose lower-case form a folded text holds wherever a match
    has it: any ASCII character (fold turns case twins into ASCII) or an uncased one."""
    return ch.isascii() or ch.lower() == ch == ch.upper()


def _weight(literal: str) -> int:
    """How rare a literal is in forum text: its length, each non-ASCII character (CJK,
    symbols) counting as three."""
    return sum(1 if c.isascii() else 3 for c in literal)


# A literal lighter than this ("ai", "to") is in nearly every post: it filters nothing.
MIN_WEIGHT = 3


# A stretch of items with few exact forms (`api[_-]?key`: apikey, api_key, api-key)
# stands for the set of them, up to this many.
MAX_FORMS = 64


def _forms(item: Item, exact: bool = False) -> set[str] | None:
    """The lower-cased strings one item matches, when few and all usable; zero-width
    items match the empty string (they only restrict where the others stand). With
    `exact` (a case-sensitive rule), the strings as written."""
    op, av = item
    if op == LITERAL:
        if exact:
            return {chr(av)}
        return {chr(av).lower()} if _usable(chr(av)) else None
    if op in (AT, ASSERT, ASSERT_NOT):
        return {""}
    if op == IN:
        chars: set[str] = set()
        for o, a in av:
            if o == LITERAL:
                chars.add(chr(a))
            elif o == RANGE and a[1] - a[0] < 8:
                chars.update(map(chr, range(a[0], a[1] + 1)))
            else:
                return None  # negated, a category or a wide range
        if exact:
            return chars
        return {c.lower() for c in chars} if all(map(_usable, chars)) else None
    if op == SUBPATTERN:
        if exact and av[0] & re.IGNORECASE:
            return None  # a part that ignores case inside a case-sensitive rule
        return _sequence_forms(av[2], exact)
    if op == BRANCH:
        found: set[str] = set()
        for branch in av:
            forms = _sequence_forms(branch, exact)
            if forms is None or len(found | forms) > MAX_FORMS:
                return None
            found |= forms
        return found
    if op in (MAX_REPEAT, MIN_REPEAT, POSSESSIVE_REPEAT) and av[1] is not None and av[1] <= 2:
        body = _sequence_forms(av[2], exact)
        if body is None:
            return None
        found = {""} if av[0] == 0 else set()
        power = {""}
        for count in range(1, av[1] + 1):
            grown = _product(power, body)
            if grown is None:
                return None
            power = grown
            if count >= av[0]:
                found |= power
        return found if len(found) <= MAX_FORMS else None
    return None


def _product(left: set[str], right: set[str]) -> set[str] | None:
    if len(left) * len(right) > MAX_FORMS:
        return None
    return {a + b for a in left for b in right}


def _sequence_forms(items: Sequence[Item], exact: bool = False) -> set[str] | None:
    found: set[str] | None = {""}
    for item in items:
        forms = _forms(item, exact)
        if forms is None or found is None:
            return None
        found = _product(found, forms)
    return found


def _options(
    items: Sequence[Item], exact: bool = False, least: int = MIN_WEIGHT
) -> tuple[str, ...] | None:
    """Lower-cased literals one of which every match of `items` holds, or None.

    Each stretch of consecutive items with few exact forms gives the set of them; an
    item within a group, choice, repeat of one or more, or lookahead gives its own;
    the strongest set (the rarest lightest member) is kept."""
    best: tuple[str, ...] | None = None

    def consider(options: set[str] | tuple[str, ...] | None) -> None:
        nonlocal best
        if options and all(options) and (best is None or _strength(options) > _strength(best)):
            # A member holding a shorter one adds nothing: the shorter is there too.
            best = tuple(sorted(o for o in options if not any(p in o for p in options if p != o)))

    stretch: set[str] = {""}
    for op, av in [*items, (None, None)]:
        forms = _forms((op, av), exact) if op is not None else None
        joined = _product(stretch, forms) if forms is not None else None
        if joined is not None:
            stretch = joined
        else:
            if _strength(stretch) >= least:
                consider(stretch)
            stretch = forms if forms is not None else {""}
        if op == SUBPATTERN and not (exact and av[0] & re.IGNORECASE):
            consider(_options(av[2], exact, least))
        elif op == BRANCH:
            branches = [_options(b, exact, least) for b in av]
            if all(branches):
                consider({s for b in branches if b for s in b})
        elif op in REPEATS and av[0] >= 1:
            consider(_options(av[2], exact, least))
        elif op == ASSERT:
            consider(_options(av[1], exact, least))
        elif op == ATOMIC_GROUP:
            consider(_options(av, exact, least))
    return best


def _strength(options: set[str] | tuple[str, ...]) -> int:
    return min(map(_weight, options))


def required_literals(regex: Rule) -> tuple[str, ...] | None:
    """Lower-cased literals one of which every match of `regex` holds in folded text
    (bot.triage.casefold), or None when no such set is known."""
    return _REMEMBERED.get(
        "required_literals",
        regex.pattern,
        regex.flags,
        lambda: _required_literals(_compiled(regex)),
        lambda v: None if v is None else list(v),
        _optional_strings,
    )


def _required_literals(regex: re.Pattern[str]) -> tuple[str, ...] | None:
    try:
        return _options(parse(regex))
    except Unsupported:
        return None


def literal_of(value: str) -> tuple[str, ...] | None:
    """The same for a literal pattern (matched case-insensitively)."""
    low = value.lower()
    if len(low) != len(value) or not all(map(_usable, value)) or _weight(low) < MIN_WEIGHT:
        return None
    return (low,)


def literal_runs(regex: Rule) -> list[str]:
    """The literal strings written in `regex` (its own wording; empty when unread)."""
    return list(
        _REMEMBERED.get(
            "literal_runs",
            regex.pattern,
            regex.flags,
            lambda: _literal_runs(_compiled(regex)),
            list,
            _strings,
        )
    )


def _literal_runs(regex: re.Pattern[str]) -> tuple[str, ...]:
    try:
        items = parse(regex)
    except Unsupported:
        return ()
    runs: list[str] = []
    _runs(items, runs)
    return tuple(runs)


def _runs(items: Sequence[Item], out: list[str]) -> None:
    run: list[str] = []
    for op, av in items:
        if op == LITERAL:
            run.append(chr(av))
            continue
        if run:
            out.append("".join(run))
            run = []
        if op == SUBPATTERN or (op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1):
            _runs(av[2], out)
    if run:
        out.append("".join(run))


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True)
class LiteralGate(Generic[K]):
    """Which of many rules a folded text may match, from one Aho-Corasick pass over
    the literals the rules require. A rule without required literals always may."""

    automaton: Any  # ahocorasick.Automaton: literal -> keys of the rules it admits
    always: frozenset[K]

    @classmethod
    def build(cls, rules: Iterable[tuple[K, tuple[str, ...] | None]]) -> LiteralGate[K]:
        by_literal: dict[str, list[K]] = {}
        always: set[K] = set()
        for key, literals in rules:
            if not literals:
                always.add(key)
                continue
            for literal in literals:
                by_literal.setdefault(literal, []).append(key)
        automaton = ahocorasick.Automaton()
        for literal, keys in by_literal.items():
            automaton.add_word(literal, tuple(keys))
        if by_literal:
            automaton.make_automaton()
        return cls(automaton if by_literal else None, frozenset(always))

    def candidates(self, low: str) -> set[K]:
        """Keys of the rules that `low` (folded text) may match."""
        chosen = set(self.always)
        if self.automaton is not None:
            for _end, keys in self.automaton.iter(low):
                chosen.update(keys)
        return chosen


# ------------------------------------------------------------------ case folding


def _plain(code: int) -> bool:
    """A pattern character that folded text matches as IGNORECASE matches the original:
    a lower-case ASCII letter or any uncased character."""
    ch = chr(code)
    if ch.isascii():
        return not ch.isupper()
    return ch.lower() == ch == ch.upper()


def _all_plain(items: Sequence[Item]) -> bool:
    for op, av in items:
        if op in (LITERAL, NOT_LITERAL):
            if not _plain(av):
                return False
        elif op == IN:
            for item_op, item in av:
                if item_op == LITERAL and not _plain(item):
                    return False
                if item_op == RANGE:
                    lo, hi = item
                    if hi - lo > 256 or not all(_plain(c) for c in range(lo, hi + 1)):
                        return False
        elif op == BRANCH:
            if not all(_all_plain(branch) for branch in av):
                return False
        elif op == SUBPATTERN:
            if (av[0] | av[1]) & re.IGNORECASE or not _all_plain(av[2]):
                return False  # a part with its own case rule
        elif op in REPEATS:
            if not _all_plain(av[2]):
                return False
        elif op in (ASSERT, ASSERT_NOT):
            if not _all_plain(av[1]):
                return False
        elif op == ATOMIC_GROUP:
            if not _all_plain(av):
                return False
        elif op not in (AT, ANY, CATEGORY):
            return False  # back-references: keep the original
    return True


def foldable(regex: Rule) -> bool:
    """True when the case-sensitive twin of `regex`, on folded text, matches exactly
    where `regex` does on the text: an IGNORECASE pattern whose letters are all
    lower-case ASCII or uncased (bot.triage.casefold)."""
    if not regex.flags & re.IGNORECASE or regex.flags & re.ASCII:
        return False
    return _REMEMBERED.get(
        "foldable",
        regex.pattern,
        regex.flags,
        lambda: _foldable(_compiled(regex)),
        bool,
        _flag,
    )


def _foldable(regex: re.Pattern[str]) -> bool:
    try:
        return _all_plain(parse(regex))
    except Unsupported:
        return False


# ------------------------------------------------------------------ backtracking shape

_CATEGORY_TEST = {
    "DIGIT": str.isdigit,
    "NOT_DIGIT": lambda c: not c.isdigit(),
    "SPACE": str.isspace,
    "NOT_SPACE": lambda c: not c.isspace(),
    "WORD": lambda c: c.isalnum() or c == "_",
    "NOT_WORD": lambda c: not (c.isalnum() or c == "_"),
}


def _item_may_match(items: Sequence[Item], ch: str) -> bool:
    """Can one repetition of `items` start with `ch`? (True when unsure.)"""
    if not items:
        return True
    op, av = items[0]
    if op == LITERAL:
        return chr(av).lower() == ch.lower()
    if op == NOT_LITERAL:
        return chr(av).lower() != ch.lower()
    if op == IN:
        negate = any(o == NEGATE for o, _ in av)
        hit = False
        for o, a in av:
            if o == LITERAL:
                hit |= chr(a).lower() == ch.lower()
            elif o == RANGE:
                hit |= a[0] <= ord(ch.lower()) <= a[1] or a[0] <= ord(ch.upper()) <= a[1]
            elif o == CATEGORY:
                test = _CATEGORY_TEST.get(a)
                hit |= test(ch) if test else True
        return hit != negate
    return True


def _first_literals(body: Sequence[Item]) -> set[str] | None:
    """The characters one of which every repetition of `body` starts with, if known."""
    if not body:
        return None
    op, av = body[0]
    if op == LITERAL:
        return {chr(av)}
    if op == SUBPATTERN:
        return _first_literals(av[2])
    if op == BRANCH:
        firsts = [_first_literals(b) for b in av]
        return None if any(f is None for f in firsts) else set().union(*firsts)  # type: ignore[arg-type]
    return None


def _subtrees(op: str, av: Any) -> list[Any]:
    """The item sequences directly inside one item."""
    if op in REPEATS:
        return [av[2]]
    if op == SUBPATTERN:
        return [av[2]]
    if op == BRANCH:
        return list(av)
    if op in (ASSERT, ASSERT_NOT):
        return [av[1]]
    if op == ATOMIC_GROUP:
        return [av]
    return []


def _unbounded(op: str, av: Any) -> bool:
    # A possessive repeat never backtracks into itself.
    return op in (MAX_REPEAT, MIN_REPEAT) and av[1] is None


def _inner_repeats(items: Sequence[Item]) -> list[Any]:
    """Items of the unbounded repeats nested anywhere in `items`."""
    found: list[Any] = []
    for op, av in items:
        if _unbounded(op, av):
            found.append(av[2])
        for sub in _subtrees(op, av):
            found += _inner_repeats(sub)
    return found


def nested_unbounded(items: Sequence[Item]) -> bool:
    """True when an unbounded repeat (`+`, `*`, `{n,}`) holds another one that can
    also consume where a new outer repetition starts: the shape whose backtracking
    grows exponentially with the text's length, like `(a+)+` or `(\\w+\\s*)*`.
    `(\\.\\d+)*` is safe: every repetition starts with a dot no `\\d` can take."""
    for op, av in items:
        if _unbounded(op, av):
            inner = _inner_repeats(av[2])
            firsts = _first_literals(av[2])
            if inner and (
                firsts is None or any(_item_may_match(i, c) for i in inner for c in firsts)
            ):
                return True
        if any(nested_unbounded(sub) for sub in _subtrees(op, av)):
            return True
    return False


# ------------------------------------------------------------------ prefilters


def _requirements(items: Sequence[Item], exact: bool) -> list[frozenset[str]]:
    """Sets of strings of which every match of `items` holds one each (all of them)."""
    found: list[frozenset[str]] = []

    def keep(options: set[str] | None) -> None:
        if options and all(options):
            found.append(
                frozenset(o for o in options if not any(p in o for p in options if p != o))
            )

    stretch: set[str] = {""}
    for op, av in [*items, (None, None)]:
        forms = _forms((op, av), exact) if op is not None else None
        joined = _product(stretch, forms) if forms is not None else None
        if joined is not None:
            stretch = joined
        else:
            keep(stretch)
            stretch = forms if forms is not None else {""}
        if op == SUBPATTERN and not (exact and av[0] & re.IGNORECASE):
            found += _requirements(av[2], exact)
        elif op == BRANCH:
            branches = [_options(b, exact, 1) for b in av]
            if all(branches):
                keep({s for b in branches if b for s in b})
        elif op in REPEATS and av[0] >= 1:
            found += _requirements(av[2], exact)
        elif op == ASSERT:
            found += _requirements(av[1], exact)
        elif op == ATOMIC_GROUP:
            found += _requirements(av, exact)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Prefilter:
    """Whether a text may match one rule, from strings every match holds: as written,
    in the text itself, for a case-sensitive rule; lower-cased, in the folded text,
    for one that ignores case. A text that fails it cannot match the rule."""

    needs: tuple[tuple[str, ...], ...]  # each: one of these must be present
    folded: bool

    @classmethod
    def of(cls, regex: Rule) -> Prefilter:
        needs = _REMEMBERED.get(
            "prefilter",
            regex.pattern,
            regex.flags,
            lambda: cls._needs(_compiled(regex)),
            lambda v: [list(n) for n in v],
            lambda v: tuple(_strings(n) for n in v),
        )
        return cls(needs, bool(regex.flags & re.IGNORECASE))

    @staticmethod
    def _needs(regex: re.Pattern[str]) -> tuple[tuple[str, ...], ...]:
        exact = not regex.flags & re.IGNORECASE
        try:
            needs = _requirements(parse(regex), exact)
        except Unsupported:
            needs = []
        # A need that another implies (each of its strings holds one of this one's)
        # adds nothing; the smallest are tested first, as they are the cheapest.
        kept = [
            a
            for a in needs
            if not any(b != a and all(any(x in y for x in a) for y in b) for b in needs)
        ]
        kept.sort(key=len)
        return tuple(tuple(sorted(n)) for n in kept)

    def may_match(self, text: str, low: str) -> bool:
        """`low` is fold(text)."""
        contains = (low if self.folded else text).__contains__
        for need in self.needs:  # noqa: SIM110 - a plain loop: no generator frame per need
            if not any(map(contains, need)):
                return False
        return True


# ------------------------------------------------------------------ where a match starts

# A start condition with more parts than these filters little: no fast path.
MAX_STARTS = 16
MAX_START_CHARS = 512
_START_ANCHORS = {"BOUNDARY": r"\b", "BEGINNING": "^"}
_CLASS_ESCAPES = {v: f"\\{k}" for k, v in _CATEGORIES.items()}

_Heads = dict[tuple[str, ...], set[Item]]


def start_gate(regex: Rule) -> str | None:
    """The source of a lookahead, `(?=...)`, that holds wherever a match of `regex`
    starts: the match's leading `\\b` or `^`, then the class its first character is in.
    So `gate + "(?:" + regex.pattern + ")"`, compiled with the rule's flags, finds
    exactly the matches of `regex`, and `re` passes every other position after one
    cheap test instead of trying each alternative there (it has no first-character
    test of its own for a pattern that starts with `\\b`).

    None when unsure (then no fast path): a match may be empty, or start with
    something other than `\\b`, `^`, a literal, a class that is not negated, a group
    without flags, a choice or a repeat of those."""
    return _REMEMBERED.get(
        "start_gate",
        regex.pattern,
        regex.flags,
        lambda: _start_gate(_compiled(regex)),
        _optional_string,
        _optional_string,
    )


_GLOBAL_FLAGS = re.compile(r"\A\(\?[aiLmsux]+\)")


def gated(regex: Rule) -> re.Pattern[str]:
    """`regex` behind its start gate, same matches and groups, when it opens with
    something other than a literal (a literal opening has `re`'s own prefix scan,
    which a lookahead would turn off); else `regex` itself (compiled)."""
    found = _REMEMBERED.get(
        "gated",
        regex.pattern,
        regex.flags,
        lambda: _gated_source(_compiled(regex)),
        _optional_string,
        _optional_string,
    )
    return _compiled(regex) if found is None else re.compile(found, regex.flags)


def _gated_source(regex: re.Pattern[str]) -> str | None:
    try:
        items = parse(regex)
    except Unsupported:
        return None
    if not items or items[0][0] == LITERAL:
        return None
    gate = _start_gate(regex)
    if gate is None:
        return None
    flags = _GLOBAL_FLAGS.match(regex.pattern)  # they must stay first
    head, body = (flags.group(0), regex.pattern[flags.end() :]) if flags else ("", regex.pattern)
    source = f"{head}{gate}(?:{body})"
    fast = re.compile(source, regex.flags)
    # A gate never captures; were it to, the groups would shift: no gate then.
    return source if fast.groupindex == regex.groupindex and fast.groups == regex.groups else None


def _start_gate(regex: re.Pattern[str]) -> str | None:
    try:
        heads = _heads(parse(regex), ())
    except Unsupported:
        return None
    if heads is None:
        return None
    options = ["".join(prefix) + _class_source(sorted(chars)) for prefix, chars in heads.items()]
    return f"(?={'|'.join(options)})"


def _heads(items: Sequence[Item], prefix: tuple[str, ...]) -> _Heads | None:
    """The characters a match of `items` can start with, by the zero-width anchors
    before them; None when unsure or when the match can be empty."""
    if not items:
        return None
    op, av = items[0]
    rest = items[1:]
    if op == AT:
        anchor = _START_ANCHORS.get(av)
        return None if anchor is None else _heads(rest, (*prefix, anchor))
    if op == LITERAL:
        return {prefix: {(LITERAL, av)}}
    if op == IN:
        if any(o not in (LITERAL, RANGE, CATEGORY) for o, _ in av):
            return None  # negated
        return {prefix: set(av)}
    if op == SUBPATTERN:
        if av[0] or av[1]:
            return None  # its own flags: the gate would read it otherwise
        return _heads([*av[2], *rest], prefix)
    if op == BRANCH:
        return _union([_heads([*branch, *rest], prefix) for branch in av])
    if op in (MAX_REPEAT, MIN_REPEAT) and av[0] >= 1:
        return _heads(av[2], prefix)  # the first repetition starts the match
    if op in (MAX_REPEAT, MIN_REPEAT) and av[1] != 0:
        return _union([_heads(av[2], prefix), _heads(rest, prefix)])
    return None


def _union(parts: Sequence[_Heads | None]) -> _Heads | None:
    found: _Heads = {}
    for part in parts:
        if part is None:
            return None
        for prefix, chars in part.items():
            found.setdefault(prefix, set()).update(chars)
    if len(found) > MAX_STARTS or sum(map(len, found.values())) > MAX_START_CHARS:
        return None
    return found


def _class_source(items: Sequence[Item]) -> str:
    parts: list[str] = []
    for op, av in items:
        if op == LITERAL:
            parts.append(_class_char(av))
        elif op == RANGE:
            parts.append(f"{_class_char(av[0])}-{_class_char(av[1])}")
        else:
            parts.append(_CLASS_ESCAPES[av])
    return f"[{''.join(parts)}]"


def _class_char(code: int) -> str:
    """A character written so that it means itself inside a class."""
    if chr(code).isalnum():
        return chr(code)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
