"""Find AI-generated advice in a thread and the misconceptions it repeats.

Policy (what gets corrected):
- Only sentences inside *AI advice* are checked: text a member attributes to an
  assistant ("ChatGPT says", "I asked Claude", "according to AI", "Gemini's answer:")
  or an unattributed post written in assistant style (headings such as "Why the Error
  Occurs" / "Workaround" / "Final Note", closers such as "Does this help?"). A member's
  own confident claim is not corrected: the bot answers the report and leaves people's
  opinions to people, which keeps the false-correction rate near zero.
- A sentence yields a correction only when a misconception pattern of the matched
  issue finds the claim in it (a high-bar word-overlap similarity with the entry's
  claim is a secondary signal), and the sentence does not negate or refute the claim
  ("read-only keys are NOT reserved for Enterprise plans", "that's a hallucination"),
  or says it holds for everyone ("on every plan", "personal and enterprise accounts
  alike") when the pattern does not need those words.
- The bot's own posts, quotes of them, and sentences that restate an entry's
  correction are never checked.
- Advice that matches no listed misconception is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.known_issues import KnownIssue, Misconception
from bot.patterns import LiteralGate, Prefilter, Source, required_literals
from bot.triage.casefold import fold, folded
from bot.triage.claims import CONTRADICTED, agrees_with_a_fact, check_disputed
from bot.triage.plaintext import BOT_SIGNATURE_RE as _BOT_SIGNATURE
from bot.triage.plaintext import FENCE_RE as _FENCE
from bot.triage.plaintext import clean_quote
from bot.triage.types import MAX_CORRECTIONS, Correction
from bot.triage.wording import STOPWORDS

CLAIM_QUOTE_CHARS = 200
SIMILARITY_BAR = 0.6
CORRECTION_ECHO_BAR = 0.5
DEFAULT_BOT_USERNAMES: tuple[str, ...] = ("triagebot",)

# --- attribution -----------------------------------------------------------------------

# Chat products and "an AI": any telling verb or answer-noun counts.
_PRODUCT = (
    r"(?:chat\s?gpt|copilot(?:\s+chat)?|bard|perplexity|bing\s+chat|le\s+chat|phind|"
    r"(?:an?|the|my|some)\s+(?:ai|a\.i\.|llm|chat\s?bot)(?:\s+(?:assistant|tool|model|chat\s?bot))?"
    r"|(?:the|an?|my)\s+(?:coding\s+)?assistant|(?:ai|llm)\s+(?:assistant|tool|chat\s?bot|model)|"
    r"\bai\b|\bki\b|\bia\b|人工智能)"
)
# Model names are also API models in error reports ("gpt-4o returned 429"), so they
# only count with a verb of telling; the forum's own API models ("switching from gpt-4o
# to o3-mini:", "the gpt-4o response:") never count without one.
_API_MODEL = r"(?:gpt(?:[- ]?\d(?:\.\d)?(?:[- ]?(?:o|turbo|mini|pro))*)?|o[134](?:-mini|-pro)?)"
_ASSISTANT = (
    r"(?:cursor|claude(?:\s+\d(?:\.\d)?)?(?:\s+(?:sonnet|opus|haiku))?|gemini(?:\s+\d(?:\.\d)?)?"
    r"(?:\s+(?:pro|flash))?|llama|mistral|deepseek|grok|qwen|kimi|doubao|豆包|文心一言|通义千问)"
)
_MODEL = rf"(?:{_API_MODEL}|{_ASSISTANT})"
_ANY_AI = rf"(?:{_PRODUCT}|{_MODEL})"
# The names that are assistants, not the API's models: enough without a telling verb.
_NAMED = rf"(?:{_PRODUCT}|{_ASSISTANT})"
_TELL = (
    r"(?:says?|said|told|tells|suggest(?:s|ed)?|answer(?:s|ed)|repl(?:y|ies|ied)|"
    r"respond(?:s|ed)|recommend(?:s|ed)?|explain(?:s|ed)|claim(?:s|ed)?|insist(?:s|ed)?|"
    r"thinks|wrote|writes|gave\s+me|gives\s+me|came\s+back\s+with|is\s+saying|"
    r"keeps\s+saying|generated|spat\s+out|"
    # Spanish, Portuguese, French, German, Italian, Russian
    r"(?:me\s+|nos\s+)?(?:dijo|dice|respondi[óo]|sugiri[óo]|sugiere|recomienda|recomend[óo]|"
    r"explic[óo])|(?:me\s+)?(?:disse|diz|respondeu|sugeriu|recomendou|explicou)|"
    r"(?:m['’]a\s+)?(?:dit|répond|répondu|a\s+répondu|suggère|suggéré|a\s+suggéré|recommande|"
    r"explique|expliqué)|"
    r"(?:sagt|sagte|meint|meinte|antwortet|antwortete|empfiehlt|empfahl|schlägt\s+vor|"
    r"schlug\s+vor|behauptet|erklärt)|(?:mi\s+)?(?:ha\s+detto|suggerisce)|"
    r"(?:говорит|сказал|ответил|советует|предложил|пишет))"
)
_ANSWER_NOUN = (
    r"(?:answer|response|reply|explanation|output|suggestion|advice|solution|take|verdict|"
    r"respuesta|resposta|réponse|antwort|ответ)"
)
# Attributions written around the name in languages without spaces or with the name
# last: "ChatGPT说", "ChatGPTによると", "问了ChatGPT", "según ChatGPT".
_CJK_AFTER = (
    r"(?:\s*(?:跟我|告诉我|对我)?(?:说|說|讲|講|表示|建议|建議|回答|回复|回覆|答复|给出|給出|(?:给|給)的(?:回答|答案|建议|建議)|的回答|的答案|"
    r"的建议|によると|に聞いたら|に聞いた|に聞くと|に質問したら|に相談したら|が言う|が言っ|の回答|曰く|"
    r"と言われ|は言|が提案|가\s*말|이\s*말|에게\s*물어|한테\s*물어|의\s*답변|답변))"
)
# Where the assistant spoke, between its name and the verb: "in my IDE", "on some blog".
_WHERE = (
    r"(?:\s+(?:in|on|inside|within|from|at)\s+(?:my|our|the|a|an|some|this|that|its)"
    r"\s+[\w.-]+(?:\s+[\w.-]+)?)"
)
# The attributions as written (case-insensitive); each runs as its folded twin, and
# `_any_attribution` joins them.
_ATTRIBUTIONS: tuple[Source, ...] = tuple(
    Source(p, re.IGNORECASE)
    for p in (
        rf"\b(?:(?:i|we)\s+)?(?:also\s+|then\s+|just\s+)?(?:asked|checked\s+with|consulted|"
        rf"queried|prompted|ran\s+(?:it|this)\s+(?:by|through))"
        rf"\s+(?:the\s+|my\s+)?{_ANY_AI}",
        rf"\b(?:pasted|put|threw|dropped|fed|copied)\b[^.\n]{{0,40}}\binto\s+(?:the\s+|my\s+)?"
        rf"{_ANY_AI}",
        rf"\b{_ANSWER_NOUN}\s+(?:from|by|of|de|do|da|von|del)\s+"
        rf"(?:an?\s+|the\s+|my\s+|la\s+|el\s+|o\s+)?{_ANY_AI}",
        rf"\bper\s+{_PRODUCT}\s*[:,]",
        # "Claude said", "the assistant in my IDE told me", "a chatbot on some blog says"
        rf"\b{_ANY_AI}(?:'s|’s)?{_WHERE}?\s+(?:chat\s+)?(?:also\s+|just\s+)?{_TELL}\b",
        rf"\b(?:according\s+to|según|segun|de\s+acuerdo\s+con|segundo|de\s+acordo\s+com|selon|"
        rf"d['’]après|laut|gemäß|secondo|согласно)\s+(?:the\s+|my\s+|el\s+|la\s+|o\s+|a\s+|le\s+)?"
        rf"{_ANY_AI}",
        rf"\b(?:pregunt[ée]|le\s+pregunt[ée]|perguntei|j['’]ai\s+demandé|habe|hab|fragte|"
        rf"ho\s+chiesto|спросил[аи]?)\s+(?:a\s+|al\s+|ao\s+|à\s+|bei\s+)?(?:la\s+|el\s+|o\s+)?"
        rf"{_ANY_AI}",
        rf"{_ANY_AI}\s+(?:gefragt|consultado|preguntado)\b",
        rf"{_ANY_AI}{_CJK_AFTER}",
        rf"(?:问了|問了|问过|問過|请教了|根据|根據|按照|據)\s*(?:一下\s*)?{_ANY_AI}",
        rf"\b{_PRODUCT}(?:'s|’s)?\s+(?:chat\s+)?{_ANSWER_NOUN}\b",
        rf"\b{_NAMED}(?:'s|’s)\s+{_ANSWER_NOUN}\b",
        rf"\b{_API_MODEL}(?:'s|’s)\s+(?:answer|explanation|suggestion|advice|solution|take|verdict)\b",
        rf"\b{_NAMED}[^.\n]{{0,30}}\b{_ANSWER_NOUN}\s*:",
        rf"(?m)\b(?:from|by)\s+(?:an?\s+|the\s+|my\s+)?{_NAMED}\b[^.\n]{{0,40}}:\s*$",
        # "From ChatGPT: ...", "Via Claude - ..." opening a line or a quote.
        rf"(?m)^[ \t>*_]*(?:from|via|per|de|von|da)\s+(?:an?\s+|the\s+|my\s+)?{_ANY_AI}\b\s*[:\-–—]",
        # "Gemini: ..." opening a line: the assistant's name as the speaker's label. Only
        # names of chat products, not API model ids ("gpt-4o: 429").
        r"(?m)^[ \t>*_]*(?:chat\s?gpt|copilot|perplexity|gemini|claude|deepseek|grok|le\s+chat)"
        r"[*_]*\s*[:：]\s*\S",
        r"\b(?:ai|llm|gpt)[- ]generated\b",
        rf"\bgenerated\s+(?:by|with|using)\s+(?:an?\s+|the\s+)?{_ANY_AI}",
        rf"\b(?:pasted|copied)\s+(?:from|what)\s+(?:an?\s+|the\s+|my\s+)?{_ANY_AI}",
    )
)
_LEADING_FLAGS = re.compile(r"^\(\?([a-zA-Z]+)\)")


def _alternative(pattern: str) -> str:
    """One attribution as an alternative of a larger pattern (leading flags scoped)."""
    flags = _LEADING_FLAGS.match(pattern)
    if flags:
        return f"(?{flags.group(1)}:{pattern[flags.end() :]})"
    return f"(?:{pattern})"


@lru_cache(maxsize=1)
def _any_attribution() -> re.Pattern[str]:
    """All attributions in one rule. A search finds the leftmost start at which any of
    them matches and, there, the first in list order: the match the per-pattern loop
    picks. Compiled at the first attribution found, not at every start."""
    return re.compile("|".join(_alternative(r.pattern) for r in _ATTRIBUTIONS), re.IGNORECASE)


@lru_cache(maxsize=1)
def attribution_rules() -> tuple[re.Pattern[str], ...]:
    """The attributions compiled as written (for tests and tools; triage runs their
    folded twins)."""
    return tuple(r.compile() for r in _ATTRIBUTIONS)


# Which attributions a post may hold, from one pass over the literals each requires
# (bot.triage.patterns); those that may are read case-sensitively on folded text
# (bot.triage.casefold), which is faster.
_ATTRIBUTION_GATE = LiteralGate.build(
    (k, required_literals(r)) for k, r in enumerate(_ATTRIBUTIONS)
)
_ATTRIBUTION_FOLDED = tuple(folded(r) for r in _ATTRIBUTIONS)
# Most attributions are written around an assistant's name (`_ANY_AI`, or its parts
# `_PRODUCT` and `_MODEL`), which is too short ("ai", "o1") for the literal gate: none of
# them matches a text where the name rule itself finds nothing, which one scan decides.
_NAME_FOLDED = folded(Source(_ANY_AI, re.IGNORECASE))
_NEEDS_NAME = frozenset(
    k
    for k, r in enumerate(_ATTRIBUTIONS)
    # _ANY_AI, _NAMED and _MODEL are made of these
    if any(part in r.pattern for part in (_PRODUCT, _API_MODEL, _ASSISTANT))
)
# Those that open with the name start where the name rule matches: never before its
# first match.
_OPENS_WITH_NAME = frozenset(
    k
    for k in _NEEDS_NAME
    if _ATTRIBUTIONS[k]
    .pattern.removeprefix(r"\b")
    .startswith((_PRODUCT, _MODEL, _ANY_AI, _NAMED, _API_MODEL))
)


# --- assistant style -------------------------------------------------------------------

_STYLE_HEADINGS = re.compile(
    r"^(?:why\s+(?:the|this)\s+(?:error\s+)?(?:occurs|happens)|why\s+this\s+happens|"
    r"workaround(?:s)?(?:\s+for\b.*)?|solution(?:s)?|possible\s+(?:causes|solutions|fixes)|"
    r"common\s+causes|steps\s+to\s+(?:fix|resolve)|how\s+to\s+(?:fix|resolve)(?:\s+it)?|"
    r"final\s+notes?|key\s+(?:points|takeaways)|summary|in\s+summary|next\s+steps|conclusion|"
    r"troubleshooting(?:\s+steps)?|root\s+cause|recommendations?|explanation|"
    r"what\s+you\s+can\s+do|can\s+you\s+.{3,40}\?|causes?|the\s+(?:cause|fix|solution)|"
    r"(?:quick|the|possible|recommended)\s+fix(?:es)?|fix|what(?:'s|’s|\s+is)\s+(?:going\s+on|"
    r"happening)|what\s+to\s+(?:do|check|try)|things\s+to\s+(?:check|try)|checklist|"
    r"tl;?dr|bottom\s+line|in\s+short|short\s+answer|why|also|notes?|important|tips?|"
    r"alternatives?|options?(?:\s+\d+)?|step\s+\d+.{0,40}|verify|what\s+changed|details)\s*:?$",
    re.IGNORECASE,
)
_STYLE_PHRASES = re.compile(
    r"(?:does\s+this\s+help\s*\?|let\s+me\s+know\s+if\b|i\s+hope\s+this\s+helps|"
    r"hope\s+this\s+helps|feel\s+free\s+to\s+(?:ask|reach)|^[ \t]*certainly[!,]|"
    r"great\s+question|here(?:'s|’s|\s+is)\s+(?:how|what)\s+you\s+can|"
    r"here(?:'s|’s|\s+is)\s+a\s+(?:breakdown|step-by-step|quick\s+summary)|"
    r"by\s+following\s+these\s+steps|if\s+you\s+need\s+further\s+assistance|"
    r"i\s+apologi[sz]e\s+for\s+the\s+confusion|as\s+an\s+ai\b|"
    r"here(?:'s|’s|\s+is)\s+what(?:'s|’s|\s+is)\s+(?:going\s+on|happening)|"
    r"here(?:'s|’s|\s+is)\s+(?:why|the\s+(?:short\s+)?(?:answer|explanation|fix))|"
    r"this\s+is\s+a\s+(?:known|common)\s+(?:\w+\s+)?(?:issue|bug|problem)|"
    r"you(?:'re|’re|\s+are)\s+(?:running|hitting)\s+into|good\s+news)",
    re.IGNORECASE | re.MULTILINE,
)
# Bug-report templates (GitHub issue forms) are full of headings too; they are the
# member's own report, not an assistant's answer.
_TEMPLATE_HEADINGS = re.compile(
    r"^(?:describe\s+the\s+bug|bug\s+description|to\s+reproduce|steps\s+to\s+reproduce|"
    r"expected\s+(?:behaviou?r|result)|actual\s+(?:behaviou?r|result)|current\s+behaviou?r|"
    r"environment|screenshots?|(?:relevant\s+)?logs?(?:\s+output)?|additional\s+(?:context|info\w*)|"
    r"what\s+happened\??|(?:os|python|library|node|sdk|package)\s+version|versions?|"
    r"description|reproduction|code\s+snippet|system\s+info\w*|platform)\s*:?$",
    re.IGNORECASE,
)
STYLE_THRESHOLD = 2.0
GENERIC_HEADING_WEIGHT = 0.5
GENERIC_HEADING_CAP = 1.0

# --- negation and refutation -----------------------------------------------------------

_NEGATOR = re.compile(
    r"\b(?:not|never|no|nothing|none|neither|nor|cannot|without)\b|n[’']t\b", re.IGNORECASE
)
_RESTRICTIVE = re.compile(r"\b(?:unless|except|other\s+than|apart\s+from)\b", re.IGNORECASE)
_REFUTATION = re.compile(
    r"(?:\bnot\s+(?:true|accurate|correct|right|the\s+case)\b|"
    r"\b(?:is|are|was|were|that's|thats|that\s+is|this\s+is|it's)\s+(?:simply\s+|just\s+|"
    r"completely\s+|totally\s+)?(?:wrong|incorrect|false|inaccurate|misleading|nonsense|"
    r"outdated|a\s+myth|a\s+hallucination|made\s+up|bogus)\b|"
    r"\bhallucinat\w*|\bnonsense\b|\bmyth\b|\bdebunk\w*|\bcontrary\s+to\b|\bdespite\s+what\b|"
    r"\bdon[’']?t\s+believe\b|\bdo\s+not\s+believe\b|\bdoes(?:n[’']t|\s+not)\s+make\s+sense\b|"
    r"\bmade\s+(?:that|this|it)\s+up\b|\buntrue\b|\bisn[’']t\s+true\b|\bwrongly\b|"
    r"\bmistakenly\b|\bincorrectly\b|\bfalsely\b|\bis\s+not\s+accurate\b|"
    # Reporting what others advise, to set it aside: "you may see advice to downgrade".
    r"\byou(?:[’']ll|\s+will|\s+may|\s+might|\s+can)\s+(?:also\s+)?(?:see|read|hear|find|get)\s+"
    r"(?:advice|suggestions?|people|posts|answers?|claims?|tips?)\b|"
    r"\b(?:some|many|other)\s+(?:people|posts|answers|guides|threads|sites|tutorials)\s+"
    r"(?:say|suggest|claim|recommend)\b)",
    re.IGNORECASE,
)
# "on every plan", "regardless of tier", "personal and enterprise accounts alike": the
# sentence says something holds for everyone, which is the opposite of the restrictive
# claims (plan-, tier- or account-gated) that misconceptions usually are. Only an extra
# universal phrase that the pattern itself does not need counts (see match_misconception).
_UNIVERSAL = re.compile(
    r"\b(?:every|all|any)\s+(?:\w+\s+)?(?:plans?|accounts?|tiers?|projects?|users?|"
    r"organi[sz]ations?|customers?)\b|\bregardless\s+of\b|\balike\b|\bno\s+matter\b",
    re.IGNORECASE,
)
_QUESTION_START = re.compile(
    r"^(?:is|are|do|does|did|can|could|should|would|will|why|how|what|where|when|who|"
    r"which|anyone|has|have)\b",
    re.IGNORECASE,
)

# --- text handling ---------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*+•]\s+|\d{1,3}[.)]\s+)")
_HEADING = re.compile(r"^\s*#{1,6}\s+")
# A quoted claim ends at its closing quote even when a dash, not a capital, follows.
_SENTENCE_SPLIT = re.compile(
    r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘'(\[*_]*[A-Z0-9])|(?<=[.!?][\"”])\s+(?=[—–]\s)"
)
_CODEISH = re.compile(r"[{};=]|^\s*(?:\$|>>>|import |from |def |class |curl )|\(\)")
_WORD = re.compile(r"[a-z0-9]+(?:[.'’-][a-z0-9]+)*")
_STOP = STOPWORDS


@dataclass(frozen=True)
class AdviceBlock:
    """A run of AI-generated advice inside one post."""

    post_index: int
    kind: str  # "attributed" | "styled"
    attribution: str  # the words that attribute it ("GPT-4o tells me"), "" when styled
    text: str  # the advice, from the attribution to the end of the post

    def sentences(self) -> list[str]:
        return split_sentences(self.text)


def _strip_bot_quotes(raw: str, bot_usernames: Sequence[str]) -> str:
    """Remove [quote="<bot>, ..."] blocks and > quotes that carry the bot's signature."""
    names = "|".join(re.escape(n) for n in bot_usernames if n)
    if names and "[" in raw:
        raw = re.sub(
            rf'\[quote=["“]?\s*(?:{names})\b[^\]]*\][\s\S]*?\[/quote\]',
            "",
            raw,
            flags=re.IGNORECASE,
        )
    if ">" not in raw:
        return "\n".join(raw.splitlines())  # no quote line: only the line breaks change
    out: list[str] = []
    block: list[str] = []

    def flush() -> None:
        if block and not _BOT_SIGNATURE.search("\n".join(block)):
            out.extend(block)
        block.clear()

    for line in raw.splitlines():
        if line.lstrip().startswith(">"):
            block.append(line)
        else:
            flush()
            out.append(line)
    flush()
    return "\n".join(out)


_QUOTE_MARKS = re.compile(r"^\s*(?:>\s?)+")
_QUOTE_TAGS = re.compile(r"\[/?quote[^\]]*\]", re.IGNORECASE)
# Emphasis marks: `**`, `__`, or a `*`/`_` that opens (no word character before it, a
# non-space after) or closes (a non-space before, no word character after). Each
# alternative starts with its mark and looks back past it, so a scan skips ahead to the
# next `*` or `_` instead of trying every position.
_EMPHASIS = re.compile(r"(\*\*|__|[*_](?<!\w[*_])(?=\S)|[*_](?<=\S[*_])(?!\w))")

# Most lines hold no `*` or `_`: the strings every emphasis mark holds (bot.patterns).
_EMPHASIS_PREFILTER = Prefilter.of(_EMPHASIS)


def _clean_line(line: str) -> str:
    if not line.strip():
        return ""
    line = _QUOTE_MARKS.sub("", line)
    line = _HEADING.sub("", line)
    line = _BULLET.sub("", line)
    line = _QUOTE_TAGS.sub(" ", line)
    if _EMPHASIS_PREFILTER.may_match(line, line):  # a case-sensitive rule: the line itself
        line = _EMPHASIS.sub("", line)
    return line.strip()


def _units(text: str) -> list[str]:
    """Paragraph-ish units: list items, headings and quote lines stand alone."""
    units: list[str] = []
    current: list[str] = []
    fence: str | None = None

    def flush() -> None:
        if current:
            units.append(" ".join(current))
            current.clear()

    for raw_line in text.splitlines():
        opening = _FENCE.match(raw_line)
        if fence is not None:
            if opening and opening.group(1)[0] == fence[0]:
                fence = None
                continue
            # Pasted advice is sometimes fenced; keep prose lines, drop code.
            if len(raw_line.split()) >= 5 and not _CODEISH.search(raw_line):
                flush()
                current.append(raw_line.strip())
                flush()
            continue
        if opening:
            flush()
            fence = opening.group(1)
            continue
        if not raw_line.strip():
            flush()
            continue
        if _BULLET.match(raw_line):
            # A list item starts a unit; wrapped continuation lines join it.
            flush()
            current.append(_clean_line(raw_line))
            continue
        if _HEADING.match(raw_line) or _is_heading_line(raw_line):
            flush()
            current.append(_clean_line(raw_line))
            flush()
            continue
        current.append(_clean_line(raw_line))
    flush()
    return [u for u in units if u]


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for unit in _units(text):
        for part in _SENTENCE_SPLIT.split(unit):
            part = part.strip().strip("\"“”'‘’").strip()
            if len(part) >= 3:
                sentences.append(part)
    return sentences


def _is_heading_line(line: str) -> bool:
    if _BULLET.match(line) and not re.match(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+\*\*", line):
        return False
    stripped = _clean_line(line)
    if not stripped or len(stripped) > 70 or stripped.endswith((".", ",", ";")):
        return False
    if _STYLE_HEADINGS.match(stripped):
        return True
    if re.match(r"^\s*(?:#{1,6}\s+|\*\*[^*]+\*\*:?\s*$)", line):
        return True
    words = stripped.rstrip(":?").split()
    if not 2 <= len(words) <= 8:
        return False
    capitalised = sum(1 for w in words if w[:1].isupper() or w.lower() in _STOP)
    return capitalised == len(words) and sum(1 for w in words if w[:1].isupper()) >= 2


# Stock phrases are read on folded text: same matches (bot.triage.casefold).
_STYLE_PHRASES_FOLDED = folded(_STYLE_PHRASES)


def style_score(text: str) -> float:
    """How much a post reads like an assistant's answer (headings, stock closers).

    Assistant headings and closers count 1 each; other headings count a little (capped)
    and only add to specific evidence; a bug-report template scores 0.
    """
    return _style_score(text)


def _style_score(text: str) -> float:
    specific = 0.0
    template = 0
    seen: set[str] = set()
    # Generic headings only count beside specific evidence, so they are judged last and
    # only when there is some. A line whose cleaned text is a specific heading's is one
    # too, so the specific count never depends on them.
    maybe_generic: list[tuple[str, str]] = []
    for line in text.splitlines():
        cleaned = _clean_line(line).strip(" :*_#").lower()
        cleaned = _LEADING_NON_WORD.sub("", cleaned)
        if not cleaned or cleaned in seen:
            continue
        if _TEMPLATE_HEADINGS.match(cleaned):
            template += 1
            continue
        if _STYLE_HEADINGS.match(cleaned) and len(cleaned) <= 70:
            seen.add(cleaned)
            specific += 1.0
        else:
            maybe_generic.append((cleaned, line))
    if template >= 2:
        return 0.0
    specific += len(_STYLE_PHRASES_FOLDED.findall(fold(text)))
    if not specific:
        return 0.0
    generic = 0.0
    for cleaned, line in maybe_generic:
        if cleaned not in seen and _is_heading_line(line):
            seen.add(cleaned)
            generic += GENERIC_HEADING_WEIGHT
    return specific + min(generic, GENERIC_HEADING_CAP)


_LEADING_NON_WORD = re.compile(r"^[^\w]+")


def _attribution(text: str) -> re.Match[str] | None:
    """The first attribution of AI advice in `text` (`_any_attribution().search(text)`).

    The leftmost start of any attribution is where the combined rule matches first, so
    only the attributions the gate admits are searched for it, on folded text; the
    combined rule, run from there, gives the match over the member's own text.
    """
    low = fold(text)
    admitted = _ATTRIBUTION_GATE.candidates(low)
    name = None
    if not admitted.isdisjoint(_NEEDS_NAME):
        name = _NAME_FOLDED.search(low)
        if name is None:
            admitted -= _NEEDS_NAME  # no assistant is named: none of these can match
    first: int | None = None
    for k in admitted - _OPENS_WITH_NAME:
        found = _ATTRIBUTION_FOLDED[k].search(low)
        if found and (first is None or found.start() < first):
            first = found.start()
    if name is not None:
        # The rules that open with the name are searched from its first match, and not
        # at all when an attribution already starts there or before.
        for k in admitted & _OPENS_WITH_NAME:
            if first is not None and first <= name.start():
                break
            found = _ATTRIBUTION_FOLDED[k].search(low, name.start())
            if found and (first is None or found.start() < first):
                first = found.start()
    return _any_attribution().search(text, first) if first is not None else None


def _quote_end(text: str, end: int) -> int:
    """Where the advice attributed up to `end` stops. "ChatGPT said:" closing its line
    and followed by a quote (`>` lines or a [quote] block) attributes that quote alone:
    what the member writes after it is their own. Otherwise the end of the post."""
    line_end = text.find("\n", end)
    if line_end < 0:
        return len(text)
    rest = text[end:line_end].strip(" \t*_")
    # Nothing more on the line, or a few words that introduce what follows ("this:").
    if rest.strip(":：-–—") and not (rest.endswith((":", "：")) and len(rest.split()) <= 4):
        return len(text)
    pos = line_end + 1
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    if text.startswith("[quote", pos):
        close = text.find("[/quote]", pos)
        return len(text) if close < 0 else close + len("[/quote]")
    if not text.startswith(">", pos):
        return len(text)
    while pos < len(text):
        nl = text.find("\n", pos)
        line = text[pos : len(text) if nl < 0 else nl]
        if line.strip() and not line.lstrip().startswith(">"):
            return pos
        pos = len(text) if nl < 0 else nl + 1
    return len(text)


def _line_start(text: str, pos: int) -> int:
    """Start of the sentence (or line) holding `pos`, so the attributing sentence counts."""
    line_start = text.rfind("\n", 0, pos) + 1
    sentence = max(text.rfind(". ", line_start, pos), text.rfind("! ", line_start, pos))
    return sentence + 2 if sentence >= 0 else line_start


def is_bot_post(raw: str) -> bool:
    return bool(_BOT_SIGNATURE.search(raw))


def find_ai_advice(
    posts: Sequence[str], *, bot_usernames: Sequence[str] = DEFAULT_BOT_USERNAMES
) -> list[AdviceBlock]:
    """Every block of AI-generated advice in `posts`, in thread order."""
    blocks: list[AdviceBlock] = []
    for index, raw in enumerate(posts):
        if not raw:
            continue
        unquoted = _strip_bot_quotes(raw, ())
        if is_bot_post(unquoted):
            # The bot's own post (its signature outside any quote).
            continue
        # Without a [quote] tag the usernames change nothing: the same text.
        text = _strip_bot_quotes(raw, bot_usernames) if "[quote" in raw.lower() else unquoted
        match = _attribution(text)
        if match:
            start = _line_start(text, match.start())
            if len(text[match.end() :].strip()) < 40:
                # "... (that's what ChatGPT told me)": the advice came before its source.
                start = 0
            blocks.append(
                AdviceBlock(
                    post_index=index,
                    kind="attributed",
                    attribution=clean_quote(match.group(0), 80),
                    text=text[start : _quote_end(text, match.end())],
                )
            )
        elif style_score(text) >= STYLE_THRESHOLD:
            blocks.append(AdviceBlock(post_index=index, kind="styled", attribution="", text=text))
    return blocks


# --- matching --------------------------------------------------------------------------


def _content_words(text: str) -> frozenset[str]:
    """Stemmed content words."""
    return frozenset(_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


# An entry's claim and correction meet every sentence of every advice block.
_entry_words = lru_cache(maxsize=1024)(_content_words)


@lru_cache(maxsize=65536)  # the same few thousand words, sentence after sentence
def _stem(word: str) -> str:
    for suffix in ("ations", "ation", "ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def similarity(a: str, b: str) -> float:
    """Overlap of content words (Dice coefficient on stemmed sets)."""
    return _dice(_content_words(a), _content_words(b))


def _dice(ta: frozenset[str], tb: frozenset[str]) -> float:
    if not ta or not tb:
        return 0.0
    return 2 * len(ta & tb) / (len(ta) + len(tb))


def _negation_count(text: str) -> int:
    count = 0
    for match in _NEGATOR.finditer(text):
        # "not available unless you are on Enterprise" restricts; it does not negate.
        if _RESTRICTIVE.search(text, match.end(), match.end() + 60):
            continue
        count += 1
    return count


def _clause_start(sentence: str, pos: int) -> int:
    cut = max(
        sentence.rfind(",", 0, pos),
        sentence.rfind(";", 0, pos),
        sentence.rfind(" but ", 0, pos),
        sentence.rfind(" however ", 0, pos),
        sentence.rfind("—", 0, pos),
    )
    return cut + 1 if cut >= 0 else 0


def is_negated(sentence: str, pattern: re.Pattern[str], match: re.Match[str]) -> bool:
    """True when the sentence denies what the pattern matched."""
    region = sentence[_clause_start(sentence, match.start()) : match.end()]
    found = _negation_count(region)
    if not found:
        return False
    # A pattern that itself needs a negator ("not available on free accounts") is
    # satisfied by one; only an extra negator flips it.
    needed = 0 if pattern.search(_NEGATOR.sub(" ", sentence)) else 1
    return found > needed


def _is_question(sentence: str) -> bool:
    return sentence.rstrip().endswith("?") and bool(_QUESTION_START.match(sentence.lstrip()))


def _asserts_nothing(sentence: str) -> bool:
    """A refutation or a question states no misconception."""
    return bool(_REFUTATION.search(sentence)) or _is_question(sentence)


def match_misconception(sentence: str, misconception: Misconception) -> bool:
    """Does `sentence` assert this misconception (pattern, else high similarity)?"""
    if _asserts_nothing(sentence):
        return False
    return _states(sentence, _content_words(sentence), misconception, fold(sentence))


@lru_cache(maxsize=4096)
def _needs(pattern: re.Pattern[str]) -> Prefilter:
    """The strings a match of a misconception's pattern needs (bot.patterns): most
    sentences hold none of them and skip the scan."""
    return Prefilter.of(pattern)


def _states(sentence: str, words: frozenset[str], misconception: Misconception, low: str) -> bool:
    """match_misconception for a sentence (its content words: `words`, folded: `low`)
    that is neither a refutation nor a question."""
    if _dice(words, _entry_words(misconception.correction)) >= CORRECTION_ECHO_BAR:
        return False  # the correction itself, repeated or quoted
    matched_any = False
    for pattern in misconception.compiled():
        if not _needs(pattern).may_match(sentence, low):
            continue
        for match in pattern.finditer(sentence):
            matched_any = True
            if is_negated(sentence, pattern, match):
                continue
            if _UNIVERSAL.search(sentence) and pattern.search(_UNIVERSAL.sub(" ", sentence)):
                continue
            return True
    if matched_any:
        return False  # the pattern saw the claim and it was negated: trust that
    if _dice(words, _entry_words(misconception.claim)) >= SIMILARITY_BAR:
        if _UNIVERSAL.search(sentence) and not _UNIVERSAL.search(misconception.claim):
            return False
        # As many negations as the claim: a claim that denies ("cannot be deactivated
        # for ...") is restated only by a denial; without one, the sentence says the
        # true opposite.
        return _negation_count(sentence) == _negation_count(misconception.claim)
    return False


_LEAD_IN = re.compile(
    r"^\s*(?:(?:me|us)\b\s*)?(?:[,:;—-]\s*)?(?:(?:and|so)\s+)?(?:(?:it|they|he|she)\s+(?:also\s+)?"
    rf"{_TELL}(?:\s+me)?\s*)?(?:that\s+|[:,]\s*)?",
    re.IGNORECASE,
)


def quote_claim(sentence: str) -> str:
    """The member-facing quote of a claim: the claim itself (an attribution that opens
    the sentence is dropped), redacted, one line, short."""
    opening = _attribution(sentence)
    if opening is not None and opening.start() <= 3:
        rest = sentence[opening.end() :]
        rest = _LEAD_IN.sub("", rest, count=1).strip()
        if len(rest.split()) >= 3:
            sentence = rest[:1].upper() + rest[1:]
    return clean_quote(sentence, CLAIM_QUOTE_CHARS)


def _corrections_from(
    sentences: Iterable[str],
    issue: KnownIssue,
    already: set[int],
    facts_used: set[int] | None = None,
    rejected: frozenset[str] = frozenset(),
    context: str = "",
    known_elsewhere: Container[str] = frozenset(),
) -> list[Correction]:
    facts_used = set() if facts_used is None else facts_used
    found: list[Correction] = []
    for sentence in sentences:
        if _asserts_nothing(sentence):
            continue
        if rejected and claim_key(quote_claim(sentence)) in rejected:
            continue  # staff said correcting this claim was wrong
        if agrees_with_a_fact(sentence, issue):
            continue  # it restates what the entry knows: never corrected
        words = _content_words(sentence)
        low = fold(sentence)
        stated = False
        for index, misconception in enumerate(issue.misconceptions):
            if not _states(sentence, words, misconception, low):
                continue
            stated = True
            if index in already:
                continue
            already.add(index)
            found.append(
                Correction(
                    claim=quote_claim(sentence),
                    correction=" ".join(misconception.correction.split()),
                    strength=CONTRADICTED,
                    basis=f"misconception:{index}",
                )
            )
        if stated or not issue.facts:
            continue
        # Agreement with a fact was ruled out above: not judged again.
        verdict = check_disputed(sentence, issue, context=context, known_elsewhere=known_elsewhere)
        if verdict is None or verdict.fact_index in facts_used:
            continue
        facts_used.add(verdict.fact_index)
        found.append(
            Correction(
                claim=quote_claim(sentence),
                correction=" ".join(verdict.fact.says.split()),
                strength=verdict.strength,
                basis=f"fact:{verdict.fact_index}:{verdict.fact.kind}",
            )
        )
    return found


@lru_cache(maxsize=256)
def _rejected_keys(claims: tuple[str, ...]) -> frozenset[str]:
    return frozenset(claim_key(c) for c in claims)


def claim_key(sentence: str) -> str:
    """The same claim however it is quoted: its content words, sorted."""
    return " ".join(sorted(_content_words(clean_quote(sentence, 10_000))))


def find_corrections(
    posts: Sequence[str],
    issue: KnownIssue,
    *,
    bot_usernames: Sequence[str] = DEFAULT_BOT_USERNAMES,
    max_corrections: int = MAX_CORRECTIONS,
    rejected: frozenset[str] = frozenset(),
    known_elsewhere: Container[str] = frozenset(),
) -> list[Correction]:
    """Corrections of AI advice in `posts` that `issue` knows to be wrong or cannot
    confirm: listed misconceptions first, then the entry's facts (bot.triage.claims).

    At most one correction per misconception and per fact (the first sentence that
    states it), in thread order, capped at `max_corrections`. `rejected` holds the
    `claim_key`s staff marked as wrongly corrected.
    """
    if not issue.misconceptions and not issue.facts:
        return []
    rejected = rejected | _rejected_keys(issue.rejected_claims)
    already: set[int] = set()
    facts_used: set[int] = set()
    corrections: list[Correction] = []
    blocks = find_ai_advice(posts, bot_usernames=bot_usernames)
    context = _members_words(posts, blocks).lower()  # specifics are compared lower-cased
    for block in blocks:
        corrections.extend(
            _corrections_from(
                block.sentences(),
                issue,
                already,
                facts_used,
                rejected,
                context=context,
                known_elsewhere=known_elsewhere,
            )
        )
    return corrections[:max_corrections]


def _members_words(posts: Sequence[str], blocks: Sequence[AdviceBlock]) -> str:
    """The thread without its AI advice: what members themselves wrote or quoted."""
    advised = {b.post_index: b for b in blocks}
    parts = []
    for index, raw in enumerate(posts):
        block = advised.get(index)
        if block is None:
            parts.append(raw)
            continue
        start = raw.find(block.text[:60]) if block.text else -1
        if start > 0:
            parts.append(raw[:start])
    return "\n".join(parts)
