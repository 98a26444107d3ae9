"""Check the claims of AI advice against what a known issue's entry knows.

Listed misconceptions (bot.triage.advice) catch the wrong claims maintainers have
already seen. Assistants invent new ones every day, so every sentence of AI advice
that no misconception matched is read here for the shapes wrong advice takes:

- a gate or requirement: "only available to X", "reserved for X", "requires X";
- who is affected: "only affects X", "only happens on X";
- a cause: "this means X", "is caused by X", "because X";
- a fix: "the fix is X", "X will fix it", "just X and it works";
- an impossibility: "there is no way to X";
- a delay: "takes N days";
- a number: "the limit is N tokens".

The claim's object (the words after its cue) is compared with the entry's facts
(`KnownIssue.facts`). Two strengths, and silence otherwise:

- **contradicted**: a fact rules the object out (a `not_required` plan, a `non_fix`,
  a delay or limit outside the stated range): "this is not accurate: <fact>".
- **unconfirmed**: a gate, who-is-affected, cause or fix claim whose object no fact
  supports and whose words the entry never uses: "this isn't something we can
  confirm; what is known: <fact>".

A claim the entry supports, a negated claim the entry agrees with, a question, a
hedge ("might", "could") and anything about which the entry says nothing checkable
is left alone: a correction that calls a true statement false is a wrong public
answer, so every doubt resolves to silence.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeVar

from bot.known_issues import Fact, KnownIssue
from bot.patterns import LiteralGate, Source, foldable, required_literals
from bot.triage.casefold import fold, folded
from bot.triage.plaintext import OBJECT_ID
from bot.triage.wording import STOPWORDS

CONTRADICTED = "contradicted"
UNCONFIRMED = "unconfirmed"
STRENGTHS = (CONTRADICTED, UNCONFIRMED)

# Two words are the same word when equal, or when both are long and share this many
# leading letters ("verification"/"verify", "organisation"/"organization").
PREFIX = 5
# An object whose content words the entry uses this much is something it talks
# about: an unconfirmed correction would likely contradict a true statement.
KNOWN_WORDS_SHARE = 0.5
MAX_OBJECT_WORDS = 14
# An imperative step is doubted only when it names this many specific things and the
# entry uses at most this share of them.
IMPERATIVE_MIN_WORDS = 2
IMPERATIVE_KNOWN_SHARE = 0.25
# A delay or limit may differ from the stated one by this factor before it counts
# as contradicting it (advice rounds: "about an hour" for 45 minutes).
NUMBER_SLACK = 2.0
# Unconfirmed delays below this (a retry after 20 seconds) are ordinary advice.
MIN_UNCONFIRMED_DELAY_S = 3600.0

_WORD = re.compile(r"[a-z0-9]+(?:[._'’-][a-z0-9]+)*")
# Beside the shared stop words, the ones a claim's object never turns on.
_STOP = STOPWORDS | frozenset(
    [
        "yours",
        "done",
        "all",
        "any",
        "some",
        "such",
        "only",
        "even",
        "still",
        "more",
        "most",
        "much",
        "many",
        "other",
        "another",
        "each",
        "every",
        "same",
        "own",
        "get",
        "gets",
        "got",
        "make",
        "makes",
        "made",
        "use",
        "uses",
        "using",
        "used",
        "have",
        "has",
        "had",
        "need",
        "needs",
        "needed",
        "must",
        "may",
        "might",
        "one",
        "ones",
        "way",
        "thing",
        "things",
        "something",
        "anything",
        "everything",
        "whatever",
        "sure",
        "able",
        "via",
        "per",
        "etc",
        "please",
    ]
)
# Words every entry of this forum is about: they say nothing about a claim's object.
_GENERIC_WORDS = frozenset(
    [
        "api",
        "openai",
        "error",
        "errors",
        "key",
        "keys",
        "account",
        "accounts",
        "request",
        "requests",
        "call",
        "calls",
        "model",
        "models",
        "issue",
        "issues",
        "problem",
        "problems",
        "work",
        "works",
        "working",
        "fix",
        "fixes",
        "fixed",
        "code",
        "response",
        "responses",
        "side",
        "platform",
        "endpoint",
        "endpoints",
        "thing",
        "time",
    ]
)

_NEGATOR = re.compile(
    r"\b(?:not|never|no|none|nothing|cannot|without|neither|nor)\b|n[’']t\b", re.IGNORECASE
)
# Hedged or conditional advice asserts nothing checkable.
_HEDGE = re.compile(
    r"\b(?:might|may|maybe|perhaps|possibly|probably|likely|could|sometimes|often|"
    r"in some cases|it seems|seems? to|i think|i believe|not sure|unclear|if)\b",
    re.IGNORECASE,
)
_QUESTION = re.compile(r"\?\s*$")
# "on every plan", "regardless of tier": a sentence that also says a thing holds for
# everyone makes no checkable gate.
_UNIVERSAL = re.compile(
    r"\b(?:every|all|any)\s+(?:\w+\s+)?(?:plans?|accounts?|tiers?|projects?|users?|"
    r"organi[sz]ations?|customers?)\b|\bregardless\s+of\b|\balike\b|\bno\s+matter\b",
    re.IGNORECASE,
)

# A dot inside a name ("session.update", "gpt-5.4") does not end the object.
_OBJ = r"(?P<obj>(?:[^.;:!?\n]|\.(?=\w)){3,160})"
# Small numbers are often written out ("at most five scopes", "one active run").
_NUMBER_WORDS = {
    "one": 1.0,
    "two": 2.0,
    "three": 3.0,
    "four": 4.0,
    "five": 5.0,
    "six": 6.0,
    "seven": 7.0,
    "eight": 8.0,
    "nine": 9.0,
    "ten": 10.0,
    "twelve": 12.0,
    "fifteen": 15.0,
    "twenty": 20.0,
    "thirty": 30.0,
    "forty": 40.0,
    "fifty": 50.0,
    "sixty": 60.0,
    "ninety": 90.0,
    "hundred": 100.0,
}
_A_NUMBER = r"(?:\d+(?:[.,]\d+)?|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b)"
_NUM = rf"(?P<num>{_A_NUMBER})(?:\s*(?:-|–|to)\s*(?P<num2>{_A_NUMBER}))?"
_TIME_UNIT = (
    r"(?P<unit>(?:business\s+|working\s+)?days?|hours?|hrs?|minutes?|mins?|seconds?|secs?|"
    r"weeks?|months?)"
)

_INTL_UNIT_OF = {
    "day": (
        "días",
        "día",
        "dias",
        "dia",
        "tagen",
        "tage",
        "tag",
        "jours",
        "jour",
        "天",
        "日間",
        "営業日",
        "个工作日",
        "個工作日",
        "工作日",
        "日",
        "дней",
        "дня",
        "день",
    ),
    "hour": (
        "horas",
        "hora",
        "stunden",
        "stunde",
        "heures",
        "heure",
        "小时",
        "小時",
        "時間",
        "часов",
        "часа",
        "час",
    ),
    "minute": ("minutos", "minuto", "minuten", "minute", "分钟", "分鐘", "分", "минут", "минуты"),
    "week": ("semanas", "semana", "wochen", "woche", "semaines", "semaine", "周", "週間", "недель"),
}
_INTL_UNITS = "|".join(
    sorted((re.escape(w) for ws in _INTL_UNIT_OF.values() for w in ws), key=len, reverse=True)
)
_INTL_UNIT_KEY = {w: unit for unit, ws in _INTL_UNIT_OF.items() for w in ws}

# (shape, regex) in the order they are tried; the first that finds a claim wins. Each
# runs as its folded twin; the rule as written is compiled at the first claim it reads.
_SHAPES: tuple[tuple[str, Source], ...] = tuple(
    (shape, Source(rx, re.IGNORECASE))
    for shape, rx in (
        (
            "number",
            rf"\b(?:limit(?:ed)?|cap(?:ped)?|maximum|max|at\s+most|no\s+(?:more|longer)\s+than|"
            rf"expires?\s+after|expire\s+after|lasts?(?:\s+for)?|times?\s+out\s+after|"
            rf"disconnects?\s+after|cuts?\s+off\s+after|closes?\s+after|every|more\s+than|"
            rf"(?:timeout|ttl|duration|window|quota|lifetime|expiry)\s+(?:of|is|at)|"
            rf"up\s+to|only|ceiling|allows?|supports?|permits?|window\s+(?:is|of)|quota\s+of|"
            rf"(?:longer|larger|bigger|smaller|shorter|fewer|less|greater|higher)\s+than|exceeds?|over)\b"
            rf"(?:[^.;\n]{{0,30}}?[\s(~≈])?{_NUM}\s*(?P<mult>k|m)?\s*(?:(?!and\b|or\b)[a-z]+\s+)?"
            r"(?P<unit>tokens?|requests?|rpm|tpm|rpd|mb|gb|kb|minutes?|mins?|seconds?|secs?|"
            r"hours?|days?|weeks?|characters?|chars?|messages?|images?|files?|calls?|runs?|"
            r"sessions?|keys?|organi[sz]ations?|projects?|permissions?|scopes?|tools?|items?)\b",
        ),
        (
            "delay",
            rf"\b(?:takes?|taking|took|wait(?:ing)?|allow|within|after|up\s+to|for|needs?|"
            rf"requires?|lasts?)\s+(?:about\s+|around\s+|roughly\s+|approximately\s+|"
            rf"at\s+least\s+|up\s+to\s+|another\s+|a\s+further\s+|exactly\s+|only\s+)?"
            rf"{_NUM}\s*{_TIME_UNIT}\b",
        ),
        (
            # The time named before its event: "granted about 2 hours after the key is made".
            "delay_after",
            rf"\b{_NUM}\s*{_TIME_UNIT}\s+(?:after|later|from\s+(?:now|creation|the\s+moment))\b",
        ),
        (
            # The same in the other languages members write (no word boundaries in CJK).
            "delay_intl",
            r"(?:tarda\w*|esper\w*|demora\w*|hasta|despu[ée]s\s+de|leva\w*|até|após|dauer\w*|"
            r"wart\w*|bis\s+zu|nach|prend\w*|attend\w*|jusqu['’]à|après|需要|等待|等|要|かかり|"
            r"かかる|待って|待つ|займ\w*|подожд\w*|через|до)\s*(?:unos?\s+|umas?\s+|etwa\s+|"
            r"environ\s+|约|約|大约|大約)?" + _NUM + r"\s*(?P<unit>" + _INTL_UNITS + r")",
        ),
        (
            "delay_intl_after",
            _NUM + r"\s*(?P<unit>" + _INTL_UNITS + r")\s*(?:ほど|くらい|ぐらい|程度|左右)?\s*"
            r"(?:かかり|かかる|待|以内|後に|后|之后|以后|内|才能|就)",
        ),
        (
            "impossible",
            r"\b(?:there\s+is\s+no\s+way\s+to|there's\s+no\s+way\s+to|it\s+is\s+impossible\s+to|"
            r"it's\s+impossible\s+to|nothing\s+you\s+can\s+do\s+(?:to|about)|"
            r"no\s+(?:known\s+)?(?:workaround|fix|solution)\s+(?:exists|is\s+available)\s*(?:for)?|"
            rf"(?:cannot|can(?:no|')t)\s+be\s+(?:fixed|worked\s+around|resolved|avoided))\s*{_OBJ}?",
        ),
        (
            "gate",
            r"\b(?:(?:only|exclusively)\s+(?:available|offered|accessible|enabled|supported|"
            r"allowed|possible|works?|granted|open)\s+(?:to|for|on|in|with|through|via)|"
            r"reserved\s+(?:for|to)|(?:is|are)\s+(?:limited|restricted|locked)\s+to|"
            r"(?:requires?|required|requiring)|(?:available|offered)\s+only\s+(?:to|for|on|in)|"
            r"gated\s+(?:behind|to|on)|locked\s+behind|"
            r"(?:is|are)\s+(?:bound|tied|linked|locked|pinned)\s+to|"
            r"can\s+only\s+be\s+(?:set|used|changed|created|called|made|enabled|done)\s+"
            r"(?:when|by|from|on|in|with|through|via|at|before|after|if)|only\s+works?\s+(?:when|if|with|on|for)|"
            r"(?:you|they|users?|accounts?|organi[sz]ations?|projects?)\s+(?:must|need\s+to|"
            r"have\s+to)\s+(?:have|be\s+on|be\s+in|hold|upgrade\s+to|purchase|buy)|"
            r"(?:you|they)\s+(?:need|must\s+have)(?!\s+to\b)|"
            rf"not\s+(?:available|offered|supported|allowed)\s+(?:to|for|on|in)|"
            # Spanish, Portuguese, French, German
            rf"s[óo]lo\s+(?:est[áa]\s+)?(?:disponible|disponibles)\s+(?:para|en)|[úu]nicamente\s+para|"
            rf"s[óo]\s+(?:est[áa]\s+)?dispon[íi]vel\s+para|apenas\s+para|somente\s+para|"
            rf"n['’](?:est|sont)\s+(?:disponibles?|propos[ée]e?s?|accessibles?|offert[es]*)\s+qu['’](?:aux?|à)|"
            rf"r[ée]serv[ée]e?s?\s+aux?|uniquement\s+(?:pour|aux?)|"
            rf"nur\s+(?:für|mit|bei|ab)|ausschließlich\s+(?:für|mit)|"
            # "can only use X after the org is verified": the condition is the gate.
            rf"can\s+only\s+(?:use|access|call|create|get|see|send)\b(?:[^.;:!?\n]|\.(?=\w)){{0,60}}?\s"
            rf"(?:after|once|until))\s+{_OBJ}",
        ),
        (
            "gate_intl",
            rf"\b(?:s[óo]lo\s+funciona\s+(?:con|en|para)|funciona\s+s[óo]lo\s+(?:con|en|para)|"
            rf"(?:ne\s+)?fonctionne\s+qu['’](?:avec|sur|en|pour)|funktioniert\s+nur\s+"
            rf"(?:mit|bei|für|auf|ab))\s+{_OBJ}",
        ),
        (
            "affects",
            r"\b(?:only|just|exclusively)\s+(?:affects?|hits?|happens?\s+(?:to|on|with|in|for|"
            r"when)|occurs?\s+(?:on|with|in|for|when)|applies\s+to|impacts?)\s+" + _OBJ,
        ),
        (
            "cause",
            r"\b(?:(?:is|are|was|were)\s+(?:caused|triggered|produced)\s+by|"
            r"(?:this|that|the|it)\s+(?:error\s+|message\s+|code\s+|[\w-]+\s+)?(?:means|indicates|signals|"
            r"tells\s+you)(?:\s+that)?|(?:happens?|occurs?|appears?|shows?\s+up)\s+(?:because|when)|"
            r"because(?:\s+of)?|due\s+to|(?:root\s+)?(?:cause|reason)\s+(?:is|was)|"
            r"comes?\s+from|(?:is|are)\s+(?:a\s+)?(?:sign|symptom)\s+(?:of|that))\s+" + _OBJ,
        ),
        (
            "fix",
            r"\b(?:(?:to|will|should|would)\s+(?:fix|resolve|solve)\s+(?:this|it|the\s+(?:error|"
            r"issue|problem))(?:\s+(?:you\s+)?(?:need|have|must)\s+to)?|"
            r"the\s+(?:only\s+)?(?:fix|solution|workaround|remedy|way\s+(?:out|around))\s+is"
            r"(?:\s+to)?|(?:just|simply)|(?:told|advised|suggested|recommended)\s+(?:me|us)\s+to|"
            r"(?:you\s+)?(?:need|have|must)\s+to|you\s+should)\s+" + _OBJ,
        ),
        (
            "fix_after",
            r"^(?P<obj>[^.;:!?\n]{3,160}?)\s*(?:,\s*)?(?:and|then)\s+(?:it|this|the\s+(?:error|"
            r"issue|problem|call|request))\s+(?:will|should|would)?\s*(?:work|go\s+away|"
            r"disappear|be\s+(?:fixed|resolved|solved)|resolve|clear|stop)",
        ),
        (
            # "It clears automatically once you X": the condition is the claimed fix.
            "fix_auto",
            r"\b(?:automatically|on\s+(?:its|their)\s+own|by\s+itself)\s+(?:once|when|after|"
            r"as\s+soon\s+as)\s+" + _OBJ,
        ),
        (
            # "il suffit de X", "basta con X", "X 就能解决": a fix in other languages.
            "fix_intl",
            r"(?:\b(?:il\s+suffit\s+d[e'’]|basta\s+con|s[óo]lo\s+(?:tienes|hay)\s+que|"
            r"man\s+muss\s+nur|du\s+musst\s+nur|sie\s+m[üu]ssen\s+nur)\s*" + _OBJ + r")|"
            r"(?:^|[，,：:；;]\s*|只要|只需要?|只用)(?P<obj2>[^。！？!?\n，,：:；;]{2,120}?)(?:就能|就可以|即可|便能|便可)"
            r"(?:解决|修复|搞定|消除|避免)",
        ),
        (
            # Advice in the imperative: "Regenerate the org ID", "Switch to the v2 endpoint".
            "fix_imperative",
            r"^(?:(?:first|then|next|also|just|simply|finally|step\s+\d+)[,:]?\s+)?(?P<obj>(?:switch|change|"
            r"use|set|add|remove|delete|regenerate|rotate|create|contact|email|ask|wait|upgrade|"
            r"downgrade|enable|disable|clear|reset|restart|reinstall|install|move|migrate|buy|"
            r"purchase|pay|top\s+up|verify|request|submit|open|call|pass|send|include|turn|toggle|"
            r"apply|register|link|unlink|re-?create|re-?generate|re-?verify|re-?submit|convert|"
            r"rename|lower|raise|increase|decrease|reduce|split|disconnect|reconnect|log\s+out|"
            r"sign\s+out|whitelist|allowlist)\b[^.;:!?\n]{3,160})",
        ),
        (
            # "Upgrading the SDK restores the text", "cutting the prompt helps".
            "fix_subject",
            r"(?:^|,\s*|\bso\s+|\band\s+)(?P<obj>(?:\w+ing|adding|a|an|the)\b[^.;:!?\n,]{2,120}?)\s+"
            r"(?:fixes|solves|resolves|restores|cures|prevents|avoids|helps|works\s+around|"
            r"will\s+(?:fix|solve|resolve|restore|help)|should\s+(?:fix|solve|resolve|restore|help)|"
            r"gets\s+rid\s+of|makes\s+(?:it|the\s+error)\s+go\s+away)\b",
        ),
        (
            # "Retrying is useless", "reporting it is pointless": a fix denied.
            "non_fix_subject",
            r"(?:^|,\s*|\bso\s+|\band\s+)(?P<obj>[^.;:!?\n,]{3,120}?)\s+(?:is|are|would\s+be|"
            r"will\s+be)\s+(?:useless|pointless|futile|a\s+waste\s+of\s+time|no\s+use|"
            r"not\s+(?:needed|necessary|required|going\s+to\s+help))\b|"
            r"(?:^|,\s*|\bso\s+)(?P<obj2>[^.;:!?\n,]{3,120}?)\s+(?:won[’']t|will\s+not|does\s*n[’']t|"
            r"does\s+not|can[’']t|cannot)\s+(?:help|fix|solve|resolve|change\s+anything)\b",
        ),
        (
            # "Roles play no part in this", "the plan has nothing to do with it".
            "non_cause_subject",
            r"(?:^|,\s*|\bso\s+|;\s*)(?P<obj>[^.;:!?\n,]{3,120}?)\s+(?:plays?\s+no\s+(?:part|role)|"
            r"(?:has|have)\s+nothing\s+to\s+do\s+with|(?:is|are)\s+(?:not|never)\s+(?:related|"
            r"relevant|involved)|(?:does|do)\s*(?:n[’']t|\s+not)\s+matter|(?:can(?:not|[’']t)|"
            r"(?:does|do)\s*(?:n[’']t|\s+not)|will\s+not|won[’']t|never)\s+(?:trigger|cause)|"
            r"(?:is|are)\s+(?:allow-?listed|whitelisted|exempt))\b",
        ),
        (
            # "Incorrect API key is returned when ...", "the block is triggered by ...".
            "cause_subject",
            r"\b(?:is|are)\s+(?:returned|raised|thrown|shown|triggered|sent)\s+(?:when|whenever|if|"
            r"because|by)\s+" + _OBJ,
        ),
        (
            # "OpenAI has already fixed it", "the preset is fixed now".
            "status_fixed",
            r"\b(?:openai|they|the\s+(?:bug|preset|platform|backend|outage|incident))\s+"
            r"(?:has|have|is|was|were|got)\s+(?:already\s+|now\s+|since\s+)?(?:been\s+)?"
            r"(?:fixed|resolved|patched)\b(?P<obj>[^.;:!?\n]{0,80})|"
            r"\b(?:openai|they)\s+(?:has\s+|have\s+)?(?:already\s+)?(?:fixed|resolved|patched|"
            r"rolled\s+out\s+a\s+fix|shipped\s+a\s+fix|deployed\s+a\s+fix|released\s+a\s+fix)\b",
        ),
        (
            # "OpenAI is working on a fix", "a patch is coming next week", "it will be fixed
            # in the next release": a fix promised.
            "pending",
            r"\b(?:openai|they|the\s+team|their\s+engineers)\s+(?:is|are)\s+(?:already\s+|still\s+|"
            r"actively\s+)?(?:working\s+on\s+(?:a\s+)?(?:fix|patch)|fixing\s+(?:it|this|the\s+bug)|"
            r"rolling\s+out\s+a\s+(?:fix|patch))|"
            r"\b(?:a|the)\s+(?:fix|patch)\s+(?:is|will\s+be)\s+(?:coming|rolling\s+out|on\s+(?:its|the)\s+"
            r"way|scheduled|planned)|"
            r"\bwill\s+be\s+(?:fixed|resolved|patched)\s+(?:soon|shortly|in\s+the\s+(?:next|coming|"
            r"upcoming)|by\s+|next\s+|within\s+)",
        ),
    )
)
# The shapes a sentence may make, from one pass over the literals each requires
# (bot.triage.patterns): the others are not searched.
_SHAPE_GATE = LiteralGate.build((k, required_literals(rx)) for k, (_, rx) in enumerate(_SHAPES))
# Each shape that bot.patterns.foldable accepts is looked for case-sensitively on the
# folded sentence (bot.triage.casefold: same spans, faster); the rule itself then reads
# the match where it starts.
_SHAPE_FOLDED: tuple[re.Pattern[str] | None, ...] = tuple(
    folded(rx) if foldable(rx) else None for _, rx in _SHAPES
)


@functools.lru_cache(maxsize=1)
def _shape_rules() -> tuple[re.Pattern[str], ...]:
    return tuple(rx.compile() for _, rx in _SHAPES)


_SHAPE_OF = {
    "delay_intl": "delay",
    "delay_intl_after": "delay",
    "delay_after": "delay",
    "gate_intl": "gate",
    "fix_auto": "fix",
    "fix_intl": "fix",
    "fix_imperative": "fix",
    "fix_after": "fix",
    "fix_subject": "fix",
    "non_fix_subject": "fix",
    "non_cause_subject": "cause",
    "cause_subject": "cause",
    "status_fixed": "status",
}
# Cues in other languages: the entry's vocabulary is English, so their objects are
# compared on the names they hold only (an ordinary French word is not an invention).
_NAMES_ONLY = frozenset({"gate_intl", "fix_intl"})
# Shapes that deny what their object does: the claim is negated by its form.
_DENYING = frozenset({"non_fix_subject", "non_cause_subject"})

# Where an object stops: a new clause that is not part of what the claim names.
_OBJECT_END = re.compile(
    r"\s(?:and\s+(?:it|this|the\s+error|then)|but|so|which|because|since|although|"
    r"unless|otherwise|while|whereas)\b|,\s+(?:and|but|so|which)\b",
    re.IGNORECASE,
)
_UNIT_SECONDS = {
    "second": 1.0,
    "sec": 1.0,
    "minute": 60.0,
    "min": 60.0,
    "hour": 3600.0,
    "hr": 3600.0,
    "day": 86400.0,
    "week": 7 * 86400.0,
    "month": 30 * 86400.0,
}


@dataclass(frozen=True)
class Claim:
    sentence: str
    shape: str  # gate | affects | cause | fix | impossible | delay | number | status
    negated: bool
    object: str
    value: float | None = None
    top: float | None = None
    unit: str = ""
    # An imperative step ("Switch to ..."): advice, not an assertion that it works, so
    # only a step the entry never speaks of is doubted.
    imperative: bool = False
    # Its form denies the object works or matters ("retrying is useless").
    denies: bool = False
    # Its object is compared on its names only (`_NAMES_ONLY`).
    names_only: bool = False


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    strength: str  # CONTRADICTED | UNCONFIRMED
    fact: Fact
    fact_index: int


_T = TypeVar("_T")
ENTRY_MEMO = 256


def _per_entry(fn: Callable[[KnownIssue], _T]) -> Callable[[KnownIssue], _T]:
    """`fn(issue)` remembered for the entry object itself: an lru_cache would hash the
    whole entry (every field, deeply) on each call. The memo holds the entry, so its
    id is not reused while remembered."""
    memo: dict[int, tuple[KnownIssue, _T]] = {}

    @functools.wraps(fn)
    def remembered(issue: KnownIssue) -> _T:
        hit = memo.get(id(issue))
        if hit is not None and hit[0] is issue:
            return hit[1]
        if len(memo) >= ENTRY_MEMO:
            memo.clear()
        value = fn(issue)
        memo[id(issue)] = (issue, value)
        return value

    return remembered


def words(text: str) -> frozenset[str]:
    """Lower-cased content words, lightly stemmed, as comparison keys (`word_key`): two
    words are the same word exactly when their keys are equal."""
    return frozenset(_key(w) for w in _WORD.findall(text.lower()) if w not in _STOP)


@lru_cache(maxsize=65536)
def _key(word: str) -> str:
    return word_key(_stem(word))


def word_key(stem: str) -> str:
    """Long words compare on their first PREFIX letters ("verification"/"verify")."""
    return stem[:PREFIX] if len(stem) >= PREFIX else stem


def _stem(word: str) -> str:
    word = word.strip("'’.-_")
    for suffix in (
        "ations",
        "ation",
        "ments",
        "ment",
        "ings",
        "ing",
        "ied",
        "ies",
        "ed",
        "es",
        "s",
    ):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


_GENERIC = frozenset(_key(w) for w in _GENERIC_WORDS)


def _covers(phrase: frozenset[str], obj: frozenset[str]) -> bool:
    """Every content word of the phrase is in the object."""
    return bool(phrase) and phrase <= obj


@dataclass(frozen=True)
class _Knowledge:
    """An entry's facts, ready to compare with claims."""

    facts: tuple[Fact, ...]
    about: tuple[tuple[frozenset[str], ...], ...]  # per fact, its phrases' words
    vocabulary: frozenset[str]  # every content word the entry uses
    says: tuple[frozenset[str], ...] = ()  # per fact, the words of what it says


@_per_entry
def _knowledge(issue: KnownIssue) -> _Knowledge:
    texts = [issue.title, issue.summary, issue.cause, issue.workaround]
    texts += [m.correction for m in issue.misconceptions]
    texts += [f"{f.says} {' '.join(f.about)}" for f in issue.facts]
    return _Knowledge(
        issue.facts,
        tuple(tuple(words(p) for p in f.about) for f in issue.facts),
        words("\n".join(texts)),
        tuple(words(f.says) - _GENERIC for f in issue.facts),
    )


def _trim_object(text: str) -> str:
    cut = _OBJECT_END.search(text)
    if cut:
        text = text[: cut.start()]
    return " ".join(text.split()[:MAX_OBJECT_WORDS]).strip(" ,\"'“”‘’()*_`")


def _number(text: str | None) -> float | None:
    if not text:
        return None
    if text.lower() in _NUMBER_WORDS:
        return _NUMBER_WORDS[text.lower()]
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _unit_key(unit: str) -> str:
    unit = unit.lower().split()[-1]
    if unit in _INTL_UNIT_KEY:
        return _INTL_UNIT_KEY[unit]
    unit = unit[:-1] if unit.endswith("s") and len(unit) > 3 else unit
    return {
        "char": "character",
        "hr": "hour",
        "min": "minute",
        "sec": "second",
        "rpm": "request",
        "tpm": "token",
    }.get(unit, unit)


def find_claims(sentence: str) -> list[Claim]:
    """The checkable claims a sentence makes (at most one per shape)."""
    text = sentence.strip()
    if not text or _QUESTION.search(text):
        return []
    found: list[Claim] = []
    seen: set[str] = set()
    low = fold(text)
    admitted = _SHAPE_GATE.candidates(low)
    for k, (name, _source) in enumerate(_SHAPES):
        if k not in admitted:
            continue
        shape = _SHAPE_OF.get(name, name)
        if shape in seen or (shape in ("gate", "affects") and _UNIVERSAL.search(text)):
            continue
        twin = _SHAPE_FOLDED[k]
        if twin is None:
            m = _shape_rules()[k].search(text)
        else:
            at = twin.search(low)
            m = _shape_rules()[k].match(text, at.start()) if at else None
        if not m:
            continue
        group = next((g for g in ("obj", "obj2") if m.groupdict().get(g) is not None), None)
        if group is not None and m.start(group) > m.start():
            cue = text[m.start() : m.start(group)]
            clause = text[_clause_start(text, m.start()) : m.start()]
        elif group is not None:
            # The object comes first ("Upgrading the SDK fixes it"): the cue follows it.
            cue = text[m.end(group) : m.end()]
            clause = text[_clause_start(text, m.start(group)) : m.start(group)]
        else:
            cue, clause = m.group(0), text[_clause_start(text, m.start()) : m.start()]
        if _HEDGE.search(clause) or _HEDGE.search(cue):
            continue
        if shape in ("status", "pending") and (
            _CONDITION.search(text[: m.start()])
            or _NEGATOR.search(text[: m.end()])
            or _DOUBT.search(text)
        ):
            continue  # "once you set the scope, it is resolved": a fix, not a status
        if name in _DENYING:
            negated = True  # its cue is the denial ("is useless", "plays no part")
        else:
            negated = bool(_NEGATOR.search(clause)) or (
                shape not in ("gate", "impossible") and bool(_NEGATOR.search(cue))
            )
        if shape == "gate" and re.match(r"not\b", cue.split(None, 1)[0] if cue else "", re.I):
            negated = False  # "not available to X" restricts: the claim is the gate itself
        obj = _trim_object(m.group(group)) if group is not None else ""
        if group is not None and m.start(group) == m.start() and name != "fix_after":
            obj = _LEADING_JOINER.sub("", obj)
        value = top = None
        unit = ""
        if shape in ("delay", "number"):
            value, top = _number(m.group("num")), _number(m.group("num2"))
            if value is None:
                continue
            if shape == "number" and m.group("mult"):
                scale = 1000.0 if m.group("mult").lower() == "k" else 1_000_000.0
                value *= scale
                top = top * scale if top is not None else None
            unit = _unit_key(m.group("unit"))
            obj = text
        seen.add(shape)
        found.append(
            Claim(
                text,
                shape,
                negated,
                obj,
                value,
                top,
                unit,
                imperative=name == "fix_imperative",
                denies=name in _DENYING,
                names_only=name in _NAMES_ONLY,
            )
        )
    return found


_DOUBT = re.compile(r"\b(?:whether|unknown|unclear|not\s+known|no\s+word)\b", re.IGNORECASE)
_CONDITION = re.compile(r"\b(?:once|after|when|as\s+soon\s+as|if|until)\b", re.IGNORECASE)
_LEADING_JOINER = re.compile(r"^(?:,\s*|so\s+|and\s+|;\s*)", re.IGNORECASE)


def _clause_start(text: str, pos: int) -> int:
    cut = max(text.rfind(c, 0, pos) for c in (",", ";", "—", " but ", " however "))
    return cut + 1 if cut >= 0 else 0


# Which fact kinds support and which contradict a positive claim of each shape; a
# negated claim swaps them.
_SUPPORT = {
    "gate": ("requires", "affects"),
    "affects": ("affects",),
    "cause": ("cause",),
    "fix": ("fix",),
}
_CONTRADICT = {
    "gate": ("not_required", "not_affects"),
    "affects": ("not_affects",),
    "cause": ("not_cause",),
    "fix": ("non_fix",),
}
# The fact quoted as "what is known" when nothing matched, by preference.
_KNOWN = {
    "gate": ("requires", "not_required", "affects", "fix"),
    "affects": ("affects", "not_affects", "cause"),
    "cause": ("cause",),
    "fix": ("fix",),
}


def _matching(k: _Knowledge, kinds: Sequence[str], obj: frozenset[str]) -> int | None:
    for i, fact in enumerate(k.facts):
        if fact.kind in kinds and any(_covers(p, obj) for p in k.about[i]):
            return i
    return None


def _first_of(k: _Knowledge, kinds: Sequence[str]) -> int | None:
    for kind in kinds:
        for i, fact in enumerate(k.facts):
            if fact.kind == kind:
                return i
    return None


def _known_share(obj: frozenset[str], vocabulary: frozenset[str]) -> float:
    specific = [w for w in obj if w not in _GENERIC]
    if not specific:
        return 1.0  # nothing specific is claimed
    known = sum(1 for w in specific if w in vocabulary)
    return known / len(specific)


def _seconds(value: float, unit: str) -> float | None:
    unit = _unit_key(unit)
    factor = _UNIT_SECONDS.get(unit)
    return value * factor if factor is not None else None


def _check_number(claim: Claim, k: _Knowledge, kind: str) -> Verdict | None:
    assert claim.value is not None
    as_time = _seconds(claim.value, claim.unit)
    sentence_words = words(claim.sentence)

    # A delay is compared with the delays; a limit with the limits in its unit (a time
    # limit, such as a session's length, in seconds).
    def comparable(fact: Fact) -> bool:
        if fact.value is None or fact.kind != kind:
            return False
        if as_time is not None:
            return _seconds(fact.value, fact.unit) is not None
        return _unit_key(fact.unit) == claim.unit

    pool = [(i, f) for i, f in enumerate(k.facts) if comparable(f)]
    candidates = [
        (i, fact)
        for i, fact in pool
        # Only a fact the sentence is about (all of one of its key phrases).
        if any(_covers(p, sentence_words) for p in k.about[i])
    ]
    if not candidates:
        # Without a fact to compare with, any denial in the sentence ("waiting 10
        # minutes will not change anything") may be what it asserts: silence.
        if claim.negated or not k.facts or _NEGATOR.search(claim.sentence):
            return None
        if kind == "delay" and as_time is not None:
            no_wait = _waiting_is_no_fix(k)
            if no_wait is not None:
                return Verdict(claim, CONTRADICTED, k.facts[no_wait], no_wait)
            if as_time >= MIN_UNCONFIRMED_DELAY_S or (
                not any(f.kind == "delay" for f in k.facts) and not _PACING.search(claim.sentence)
            ):
                # A wait of hours, or a deadline or expiry where the entry knows no
                # timing at all (a retry pause of seconds is ordinary advice).
                known = _first_of(k, ("delay", "fix", "cause"))
                if known is not None:
                    return Verdict(claim, UNCONFIRMED, k.facts[known], known)
        if (
            kind == "limit"
            and as_time is None
            and not pool
            and _LIMIT_CUE.search(claim.sentence)
            and not _PACING.search(claim.sentence)
            and not _SETTING.search(claim.sentence)
        ):
            # A limit in a unit the entry states none in: an invented number.
            known = _most_related_fact(k, sentence_words)
            return Verdict(claim, UNCONFIRMED, k.facts[known], known)
        return None
    for i, fact in candidates:
        low, high = fact.value, fact.max if fact.max is not None else fact.value
        assert low is not None and high is not None
        claimed_low, claimed_high = claim.value, claim.top if claim.top is not None else claim.value
        if claimed_low is None or claimed_high is None:
            continue
        if as_time is not None:
            fs, ft = _seconds(low, fact.unit), _seconds(high, fact.unit)
            cs, ct = _seconds(claimed_low, claim.unit), _seconds(claimed_high, claim.unit)
            if fs is None or ft is None or cs is None or ct is None:
                continue
            low, high, claimed_low, claimed_high = fs, ft, cs, ct
        if claimed_high * NUMBER_SLACK < low or claimed_low > high * NUMBER_SLACK:
            if claim.negated:
                return None
            return Verdict(claim, CONTRADICTED, fact, i)
    return None


# A wait, a retry pause or a polling pace: ordinary advice, not a claim about how long
# a thing lasts.
_PACING = re.compile(
    r"\b(?:retr(?:y|ies|ying)|re-?try|back\s*off|backoff|re-?send\w*|try\s+again|wait\w*|"
    r"poll\w*|sleep\w*|pause\w*|between|every|timeouts?|"
    r"reintent\w*|r[ée]essa\w*|erneut|nochmal)\b|重试|再试|リトライ|再試行",
    re.IGNORECASE,
)
# A value the advice tells the member to choose ("raise the cap to 25000 tokens"), not a
# limit it claims the API imposes.
_SETTING = re.compile(
    r"\b(?:set|setting|raise|increase|lower|reduce|reserve|give|use|try|keep|leave|bump|"
    r"change|pass|send|add|choose|pick|start\s+with|aim\s+for|should|recommend\w*)\b",
    re.IGNORECASE,
)
# Words that make a number a limit ("the last four characters" is none).
_LIMIT_CUE = re.compile(
    r"\b(?:limit(?:s|ed)?|cap(?:s|ped)?|maximum|max|at\s+most|no\s+more\s+than|up\s+to|"
    r"(?:more|fewer|less|longer|larger|bigger|smaller|shorter|greater|higher)\s+than|exceed\w*|"
    r"over|ceiling|quota|only\s+(?:allows?|supports?|accepts?|permits?)|allows?|supports?|"
    r"accepts?|permits?|rejects?|discards?|drops?|only|expires?|times?\s+out|disconnects?|"
    r"cuts?\s+off|closes?|lifetime|ttl|duration|window)\b",
    re.IGNORECASE,
)
# What a `non_fix` fact names when the entry knows that waiting changes nothing.
_WAITING = frozenset(words("waiting"))


def _waiting_is_no_fix(k: _Knowledge) -> int | None:
    """The `non_fix` fact saying waiting does not help (a deterministic error), if any."""
    for i, fact in enumerate(k.facts):
        if fact.kind == "non_fix" and any(p == _WAITING for p in k.about[i]):
            return i
    return None


# A number standing alone, not a piece of a name ("gpt-4o", "v1").
_STATED_NUMBER = re.compile(r"(?<![\w.-])\d+(?:[.,]\d+)?(?!\w)")


def _echoes_member(verdict: Verdict, context: str) -> bool:
    """An unconfirmed number the member wrote too (quoted from the error): not invented."""
    claim = verdict.claim
    if verdict.strength != UNCONFIRMED or claim.value is None or not context:
        return False
    stated = {_number(n) for n in _STATED_NUMBER.findall(context)}
    return claim.value in stated or (claim.top is not None and claim.top in stated)


# A name rather than a word of the language: a version or identifier (a digit, an
# underscore or an inner dot) or a capitalised hyphenated header ("X-Schema-Mode");
# "en-tête" is a word.
_NAME = re.compile(
    r"(?<![\w.-])(?:[A-Za-z0-9-]*(?:\d|_|[A-Za-z0-9]\.[A-Za-z0-9])[\w.-]*|[A-Z]\w*(?:-[A-Z]\w*)+)"
)

_STATUS_SAYS = {
    "investigating": "this issue is still under investigation; no fix has been announced.",
    "identified": "the cause is identified, but no fix has been announced yet.",
    "workaround": "no fix has been announced; the workaround above is what works for now.",
    "wont_fix": "this is not going to be changed; the workaround above is the way to go.",
    "expected_behaviour": "this is how the API is meant to behave, not a bug awaiting a fix.",
}


def _check_status(claim: Claim, issue: KnownIssue) -> Verdict | None:
    """ "OpenAI has already fixed it" against the entry's status."""
    says = _STATUS_SAYS.get(issue.status)
    if claim.negated or says is None:
        return None
    fact = Fact("status", ("status",), says[:1].upper() + says[1:])
    return Verdict(claim, CONTRADICTED, fact, -1)


_PENDING_SAYS = {
    "wont_fix": "this is not going to be changed; the workaround above is the way to go.",
    "expected_behaviour": "this is how the API is meant to behave, not a bug awaiting a fix.",
}
# A promise of when: what no entry without a recorded fix can back.
_PROMISED_WHEN = re.compile(
    r"\b(?:soon|shortly|coming|on\s+(?:its|the)\s+way|scheduled|planned|next\s+(?:week|month|"
    r"release|update|version)|this\s+(?:week|month)|within\s+\S+|by\s+(?:the\s+end|next|monday|"
    r"tuesday|wednesday|thursday|friday|january|february|march|april|may|june|july|august|"
    r"september|october|november|december))\b",
    re.IGNORECASE,
)
_NO_FIX_ANNOUNCED = "no fix has been announced that we know of; what works for now is above."


def _check_pending(claim: Claim, issue: KnownIssue) -> Verdict | None:
    """ "A fix is coming next week" against the entry's status: contradicted where
    nothing is to be fixed, unconfirmed where a fix may come but none is announced."""
    if claim.negated:
        return None
    says = _PENDING_SAYS.get(issue.status)
    strength = CONTRADICTED
    if says is None:
        if issue.status not in _STATUS_SAYS:
            return None  # the entry records a fix: nothing to compare with
        if not _PROMISED_WHEN.search(claim.sentence):
            return None  # "they are working on it" may well be true
        says, strength = _NO_FIX_ANNOUNCED, UNCONFIRMED
    fact = Fact("status", ("status",), says[:1].upper() + says[1:])
    return Verdict(claim, strength, fact, -1)


def check_claim(claim: Claim, issue: KnownIssue) -> Verdict | None:
    """What the entry's facts say of one claim: a verdict to correct it, or None."""
    k = _knowledge(issue)
    if not k.facts:
        return None
    if claim.shape == "delay":
        return _check_number(claim, k, "delay")
    if claim.shape == "number":
        return _check_number(claim, k, "limit")
    if claim.shape == "status":
        return _check_status(claim, issue)
    if claim.shape == "pending":
        return _check_pending(claim, issue)
    obj = words(claim.object)
    if claim.names_only:
        obj = words(" ".join(_NAME.findall(claim.object)))
    if not obj or not [w for w in obj if w not in _GENERIC]:
        return None
    if claim.shape == "impossible":
        if claim.negated:
            return None
        fix = _matching(k, ("fix",), obj)
        if fix is None:
            # The impossibility must be about what a known fix achieves.
            for i, fact in enumerate(k.facts):
                if fact.kind == "fix" and any(
                    w not in _GENERIC and w in words(fact.says) for w in obj
                ):
                    fix = i
                    break
        return Verdict(claim, CONTRADICTED, k.facts[fix], fix) if fix is not None else None
    support, contradict = _SUPPORT[claim.shape], _CONTRADICT[claim.shape]
    if claim.negated and claim.shape == "fix" and not claim.denies:
        return None  # "you don't need to X": optional, not useless
    if claim.negated:
        # "X is not required": wrong only when a fact says X is what it takes, and no
        # fact says X fails in the case the sentence names ("for o1-mini, switching to
        # developer won't help": the model named sits outside the object).
        wrong = _matching(k, support, obj)
        scoped = obj | words(" ".join(_NAME.findall(claim.sentence)))
        if (
            wrong is not None
            and _matching(k, contradict, obj) is None
            and _matching(k, contradict, scoped) is None
        ):
            return Verdict(claim, CONTRADICTED, k.facts[wrong], wrong)
        return None
    supported = _matching(k, support, obj)
    against = _matching(k, contradict, obj)
    if against is not None:
        if supported is not None and claim.shape != "affects":
            # The facts name it both ways: say nothing. ("Only affects X" is the
            # exception: X being among those affected is what a `not_affects` fact
            # on X answers, "it is not limited to X".)
            return None
        return Verdict(claim, CONTRADICTED, k.facts[against], against)
    if supported is not None:
        return None
    specific = [w for w in obj if w not in _GENERIC]
    if claim.imperative and len(specific) < IMPERATIVE_MIN_WORDS:
        return None
    bar = IMPERATIVE_KNOWN_SHARE if claim.imperative else KNOWN_WORDS_SHARE
    if _known_share(obj, k.vocabulary) >= bar:
        return None
    known = _first_of(k, _KNOWN[claim.shape])
    if known is None:
        return None
    return Verdict(claim, UNCONFIRMED, k.facts[known], known)


# A sentence holding this share of a positive fact's specific words restates it.
FACT_ECHO_SHARE = 0.8
_POSITIVE = frozenset({"affects", "requires", "cause", "fix", "limit", "delay"})


def agrees_with_a_fact(sentence: str, issue: KnownIssue) -> bool:
    """The sentence restates a positive fact (most of its specific words)."""
    said = words(sentence)
    k = _knowledge(issue)
    for fact, fact_words in zip(k.facts, k.says, strict=True):
        if fact.kind not in _POSITIVE or len(fact_words) < 3:
            continue
        if len(fact_words & said) / len(fact_words) >= FACT_ECHO_SHARE:
            return True
    return False


def check_sentence(
    sentence: str,
    issue: KnownIssue,
    *,
    context: str = "",
    known_elsewhere: Container[str] = frozenset(),
) -> Verdict | None:
    """The first verdict on any claim of the sentence (contradictions first); failing
    that, a specific the sentence asserts that nobody but the advice knows of. A sentence
    that restates a fact gets none.

    `context`: the member's own words in the thread, lower-cased (what they quoted is
    not invented);
    `known_elsewhere`: specifics other entries name (real API names, not inventions).
    """
    if agrees_with_a_fact(sentence, issue):
        return None  # it says what a fact says: never corrected
    return check_disputed(sentence, issue, context=context, known_elsewhere=known_elsewhere)


def check_disputed(
    sentence: str,
    issue: KnownIssue,
    *,
    context: str = "",
    known_elsewhere: Container[str] = frozenset(),
) -> Verdict | None:
    """`check_sentence` for a sentence already known not to restate a fact."""
    verdicts = [
        v
        for c in find_claims(sentence)
        if (v := check_claim(c, issue)) is not None and not _echoes_member(v, context)
    ]
    if verdicts:
        verdicts.sort(key=lambda v: STRENGTHS.index(v.strength))
        return verdicts[0]
    return check_specifics(sentence, issue, context=context, known_elsewhere=known_elsewhere)


# Specific things an answer can name: code spans, identifiers with dots or underscores,
# dated model ids, URLs and API paths, package extras, money, percentages, dated
# releases. An assistant that invents an answer invents these.
_SPECIFIC = re.compile(
    r"`([^`\s]{2,80})`|"
    r"((?:wss?|https?)://[^\s)>\]]+|(?<![\w/])/v\d+/[\w/.-]+)|"
    r"\b([A-Za-z_][A-Za-z0-9]*(?:[._][A-Za-z0-9]+)+(?:\[[\w\d]+\])?(?:\(\))?)|"
    r"\b([a-z][a-z0-9]*(?:-[a-z0-9]+)*-\d{4}-\d\d-\d\d)\b|"
    r"\b(\w+\[\w+\])|"
    r"(\$\s?\d[\d,.]*|\b\d+(?:[.,]\d+)?\s?%|\b\d+(?:[.,]\d+)?\s?(?:percent|por\s+ciento|prozent)\b)|"
    r"\b((?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december)\s+(?:20\d\d|update|release|dashboard))|"
    # HTTP headers of the X- family ("X-OpenAI-Region")
    r"\b(x-[a-z][a-z0-9]*(?:-[a-z0-9]+)+)\b",
    re.IGNORECASE,
)
# Names every answer may use without inventing anything (the language's own library).
_COMMON_SPECIFICS = frozenset(
    [
        "e.g",
        "i.e",
        "etc",
        "os.environ",
        "os.getenv",
        "process.env",
        "time.sleep",
        "asyncio.sleep",
        "console.log",
        "print()",
        "json.loads",
        "json.dumps",
        # real headers of every API response or client
        "x-request-id",
        "x-client-request-id",
        "x-forwarded-for",
    ]
)
_COMMON_PREFIXES = ("x-ratelimit-", "x-stainless-")
_SPECIFIC_STRIP = " .,;:()'\"“”"


def specifics(text: str) -> list[str]:
    """The specific tokens a text names, lower-cased."""
    found = []
    for m in _SPECIFIC.finditer(text):
        token = next(g for g in m.groups() if g)
        token = token.strip(_SPECIFIC_STRIP).lower()
        if (
            len(token) >= 3
            and token not in _COMMON_SPECIFICS
            and not token.startswith(_COMMON_PREFIXES)
            and not OBJECT_ID.match(token)
        ):
            found.append(token)
    return found


@_per_entry
def _knowledge_text(issue: KnownIssue) -> str:
    parts = [issue.title, issue.summary, issue.cause, issue.workaround, *issue.examples]
    parts += [f"{m.claim}\n{m.correction}" for m in issue.misconceptions]
    parts += [f"{f.says}\n{' '.join(f.about)}" for f in issue.facts]
    parts += [p.value for p in issue.patterns]
    parts += list(issue.links)
    return "\n".join(parts).lower()


def _alnum(token: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", token.lower())


@_per_entry
def _specific_stems(issue: KnownIssue) -> frozenset[str]:
    """Names written as a family (`x-ratelimit-*`): any token they start is known."""
    return frozenset(_alnum(t) for t in specifics(_knowledge_text(issue)) if t.endswith("*"))


# A known family this long covers the tokens it starts: `x-ratelimit-*` covers
# `x-ratelimit-remaining-tokens`.
STEM_CHARS = 8


def _stem_known(token: str, stems: frozenset[str]) -> bool:
    return any(len(stem) >= STEM_CHARS and token.startswith(stem) for stem in stems if stem)


def known_specifics(issues: Sequence[KnownIssue]) -> frozenset[str]:
    """Every specific token any entry names (a real API name, not an invention)."""
    return frozenset(t for i in issues for t in specifics(_knowledge_text(i)))


class KnownSpecifics(Container[str]):
    """`known_specifics(issues)`, found at the first question: only a token an answer
    invents is ever looked up, and most runs meet none."""

    def __init__(self, issues: Sequence[KnownIssue]) -> None:
        self._issues = tuple(issues)
        self._tokens: frozenset[str] | None = None

    def __contains__(self, token: object) -> bool:
        if self._tokens is None:
            self._tokens = known_specifics(self._issues)
        return token in self._tokens


def check_specifics(
    sentence: str,
    issue: KnownIssue,
    *,
    context: str = "",
    known_elsewhere: Container[str] = frozenset(),
) -> Verdict | None:
    """An assertion naming a specific that neither the entry, any other entry nor the
    member wrote (`context`, lower-cased): "this isn't something we can confirm"."""
    text = sentence.strip()
    if not text or _QUESTION.search(text) or _HEDGE.search(text):
        return None
    k = _knowledge(issue)
    if not k.facts:
        return None
    known = _knowledge_text(issue)
    stems = _specific_stems(issue)
    invented = [
        t
        for t in specifics(text)
        if t not in known
        and t not in context
        and t not in known_elsewhere
        and not _stem_known(_alnum(t), stems)
    ]
    if not invented:
        return None
    index = _most_related_fact(k, words(text))
    return Verdict(Claim(text, "specific", False, invented[0]), UNCONFIRMED, k.facts[index], index)


def _most_related_fact(k: _Knowledge, sentence_words: frozenset[str]) -> int:
    """The fact sharing most words with the sentence (the first fix on a tie at 0)."""
    best, best_score = None, 0
    for i, fact in enumerate(k.facts):
        fact_words = words(f"{fact.says} {' '.join(fact.about)}")
        score = sum(1 for w in sentence_words if w not in _GENERIC and w in fact_words)
        if score > best_score:
            best, best_score = i, score
    if best is not None:
        return best
    first = _first_of(k, ("fix", "requires", "cause"))
    return first if first is not None else 0
