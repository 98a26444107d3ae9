"""Is a post a report of a problem at all? Features that carry to posts never seen.

The word model learns what reports look like from the training posts, and on new
posts it leans on the topic: a question about rate limits reads like a rate-limit
report. These features describe the *form* of a post instead, mostly independent of
its topic and of its language:

- problem statements: "doesn't work", "keeps", "never", "stopped", "even though",
  expected vs actual, in the languages the forum's members write;
- change and frequency: "since yesterday", "used to work", "after the update";
  "1 in 20 calls", "sometimes", "every time";
- what the poster did: "I gave the key ...", "we switched ...", "my script ...";
- planning and calm: "planning a launch", "haven't tried yet", "nothing is broken"
  (a bare "no error" is neither: behaviour bugs say it as often as questions do);
- quoted failure output: tracebacks, JSON error bodies, status lines, log lines;
- request and question forms: how-to questions, "is there a way", feature requests
  ("would be great", "please add"), docs tasks, thanks and announcements;
- quoting: a structured error (JSON body, traceback) against a bare identifier in
  backticks, which names a code or a parameter without showing that it was hit;
- issue-template structure: a bug template (steps, expected, actual) against a
  feature template (the problem it solves, the solution you'd like).

A logistic regression stacked on the word model's out-of-fold score weighs them
(bot.triage.classifier trains it; its weights are plain numbers in the model card).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.patterns import Source, start_gate
from bot.triage.extract import ErrorCandidate


def _alternation(*alternatives: str) -> str:
    return "|".join(f"(?:{a})" for a in alternatives)


def _rx(*alternatives: str) -> re.Pattern[str]:
    # Written in lower case and read on lower-cased text: no case-insensitive scan.
    return re.compile(_alternation(*alternatives), re.MULTILINE)


# Something fails, or behaves other than it should.
_PROBLEM = _alternation(
    r"\b(?:does\s*n[o']?t|do\s*n[o']?t|did\s*n[o']?t|is\s*n[o']?t|are\s*n[o']?t|wo\s*n[o']?t|"
    r"can\s*n[o']?t|cannot|could\s*n[o']?t|not)\s+(?:work|working|respond\w*|return\w*|load\w*|"
    r"connect\w*|stop\w*|end\w*|finish\w*|show\w*|appear\w*|trigger\w*|save\w*|get|receive|"
    r"mention\w*|match\w*|contain\w*|change\w*|happen\w*|arrive\w*|react\w*)",
    r"\b(?:keeps?|kept)\s+(?:\w+ing|on\b|getting|returning|failing|saying)",
    r"\b(?:never|no\s+longer|stopped|stops|broke|broken|fails?|failed|failing|crash\w*|hangs?|"
    r"hung|freez\w*|stuck|truncat\w*|garbled|static|corrupt\w*|wrong|incorrect|unexpected\w*|"
    r"randomly|intermittent\w*|sporadic\w*|regression|glitch\w*|bug\b|buggy|timeout|timed\s+out|"
    r"scrambled|distorted|crackl\w*|noise|silent|silence|ignor(?:es|ed|ing)|unusable|"
    r"twice|duplicat\w*|out\s+of\s+order|backwards|cut\s+(?:off|short)|mid-?(?:sentence|word|list|json)|"
    r"disappear\w*|vanish\w*|dropp(?:ed|ing)|lost|loops?|looping|switch(?:es|ed)\s+to|"
    r"refus\w*|reject\w*|complain\w*|denied|deactivated|suspended|banned|blocked|locked\s+out|"
    r"slow(?:er|ly|ness)?|takes?\s+(?:about\s+|around\s+)?\d+\s*(?:s|sec\w*|min\w*)\b|latency\s+spike\w*|"
    r"worse|degraded|glitch\w*|tint\w*)",
    r"\b(?:i|we)\s+(?:get|got|am\s+getting|are\s+getting|keep\s+getting|see|saw|am\s+seeing|"
    r"are\s+seeing|receive|received|hit|ran\s+into|run\s+into|encounter\w*|noticed)\b",
    r"\bsuddenly\b|\ball\s+of\s+a\s+sudden\b|\beven\s+though\b|\bexcept\s+(?:that|for)\b|"
    r"\bis\s+any(?:one|body)\s+else\s+(?:seeing|getting|having|experiencing)|"
    r"\b(?:looks|seems)\s+like\s+a\s+(?:bug|problem|regression)|\bon\s+your\s+(?:side|end)\b",
    r"\binstead\s+of\b|\bexpected\b.{0,80}\b(?:but|got|instead|actual)|\bactual(?:ly)?\s+(?:result|behaviou?r)",
    # Spanish, Portuguese, French, German, Italian
    r"\b(?:no\s+funciona|falla|fallando|dej[óo]\s+de|siempre\s+devuelve|nunca|de\s+repente|"
    r"vac[íi][oa]|se\s+corta|repite|ignora|en\s+lugar\s+de|en\s+vez\s+de|"
    r"não\s+funciona|falha|parou\s+de|travou|vazi[oa]|fica\s+em\s+sil[êe]ncio|em\s+vez\s+de|"
    r"ne\s+(?:fonctionne|marche)\s+(?:pas|plus)|échoue|plante|bloqué|soudain|au\s+lieu\s+de|"
    r"ignore\s+compl[èe]tement|coup[ée]e?\s+(?:au|en)|"
    r"funktioniert\s+nicht|schlägt\s+fehl|fehlgeschlagen|hängt|plötzlich|verzerrt|bricht\b.{0,40}\bab\b|"
    r"ständig|kaputt|ignoriert|leer\b|statt|non\s+funziona|non\s+risponde|"
    r"tarda|lent[oa]s?|peor|demora|pior|errad[oa]|en\s+double|deux\s+fois|lente|erron\w*|"
    r"langsam|doppelt|falsch|schlechter)\b",
    # Italian, French, Portuguese, Spanish, German: more of the same kinds of words
    r"\b(?:non\s+(?:va|funziona\s+più|restituisce|arriva\w*|compare|parte)|smesso\s+di|"
    r"si\s+(?:blocca|interrompe|pianta)|bloccat[oaie]|sbagliat[oaie]|vuot[oaie]|invece\s+di|"
    r"all'improvviso|improvvisamente|ignorat[oaie]|due\s+volte|doppi[oa]|lentissim[oaie]|"
    r"peggiorat[oaie]|mancan(?:o|ti)|spari(?:to|ti|ta|te)|pers[oaie]|troncat[oaie]|"
    r"ne\s+(?:renvoie|répond|s'affiche|marche)\s+(?:pas|plus|rien)|vides?|soudainement|"
    r"ignorée?s?|lente?s?|manqu(?:e|ent|ante?s?)|disparu(?:e|s|es)?|perdu(?:e|s|es)?|"
    r"tronqu[ée]e?s?|coup[ée]e?s?|invers[ée]e?s?|fausses?|incorrecte?s?|"
    r"de\s+repente|sumi(?:u|ram)|perdid[oa]s?|faltando|cortad[oa]s?|não\s+(?:retorna|responde|aparece)|"
    r"duas\s+vezes|em\s+dobro|se\s+queda|colgad[oa]|desaparec\w+|no\s+(?:devuelve|responde|aparece)|"
    r"dos\s+veces|duplicad[oa]s?|incorrect[oa]s?|"
    r"verschwunden|fehlt|fehlen|abgeschnitten|bleibt\s+hängen|zweimal|"
    r"liefert\s+(?:kein\w*|nicht\w*)|antwortet\s+nicht|stimmt\s+nicht)\b",
    # Dutch, Polish, Turkish, Indonesian, Vietnamese
    r"\b(?:werkt\s+niet|mislukt|hangt|leeg|in\s+plaats\s+van|plotseling|genegeerd|twee\s+keer|"
    r"dubbel|traag|verdwenen|ontbreekt|nie\s+działa|zawiesza\s+się|pust[yae]|zamiast|nagle|"
    r"ignoruje|dwa\s+razy|podwójn\w+|woln\w+|zniknęł\w+|brakuje|çalışmıyor|takılıyor|boş|"
    r"yerine|aniden|yok\s+sayıyor|iki\s+(?:kez|kere)|yavaş|kayboldu|eksik|tidak\s+(?:berfungsi|bekerja|muncul)|"
    r"gagal|macet|kosong|alih-alih|tiba-tiba|diabaikan|dua\s+kali|lambat|hilang|"
    r"không\s+(?:hoạt\s+động|chạy|trả\s+về)|bị\s+(?:treo|mất|lặp)|trống|thay\s+vì|đột\s+nhiên|"
    r"bỏ\s+qua|hai\s+lần|chậm|thiếu)\b",
)
# The behaviour changed at some point: "since yesterday", "after the update", "used to".
_CHANGE = _alternation(
    r"\b(?:since|after|starting|from)\s+(?:yesterday|today|this\s+(?:morning|week)|last\s+(?:week|night)|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|the\s+(?:last\s+)?(?:update|upgrade|release|migration)|"
    r"upgrading|updating|switching|we\s+(?:switched|moved|changed|upgraded|migrated))",
    r"\b(?:used\s+to\s+(?:work|be|get|return)|worked\s+(?:fine\s+|perfectly\s+)?(?:last\s+\w+|"
    r"yesterday|before|until)|until\s+(?:recently|yesterday|last\s+week|about)|"
    r"started\s+(?:yesterday|today|this|last|after|when|happening)|began\s+(?:after|when|yesterday))",
    r"\b(?:desde\s+(?:ayer|hoy|esta\s+mañana|la\s+actualizaci[óo]n|que)|antes\s+funcionaba|"
    r"desde\s+(?:ontem|hoje|que)|antes\s+funcionava|come[çc]ou\s+(?:hoje|ontem)|"
    r"depuis\s+(?:hier|ce\s+matin|aujourd'hui|la\s+mise\s+à\s+jour|que)|fonctionnait\s+avant|"
    r"seit\s+(?:gestern|heute|dem\s+update|wir|letzter)|früher\s+(?:ging|lief|funktionierte)|"
    r"da\s+ieri)\b",
    r"\b(?:prima\s+funzionava|fino\s+a\s+(?:ieri|la\s+settimana\s+scorsa)|dopo\s+l'aggiornamento|"
    r"avant\s+(?:ça|cela)\s+(?:marchait|fonctionnait)|jusqu'à\s+(?:hier|la\s+semaine\s+dernière)|"
    r"après\s+la\s+mise\s+à\s+jour|até\s+(?:ontem|semana\s+passada)|depois\s+da\s+atualiza[çc][ãa]o|"
    r"hasta\s+(?:ayer|la\s+semana\s+pasada)|despu[ée]s\s+de\s+la\s+actualizaci[óo]n|"
    r"bis\s+(?:gestern|letzte\s+woche)|nach\s+dem\s+(?:update|upgrade)|"
    r"sinds\s+(?:gisteren|vandaag|de\s+update)|werkte\s+(?:eerst|vroeger|gisteren)|"
    r"od\s+(?:wczoraj|dzisiaj|aktualizacji)|wcześniej\s+działało|dünden\s+beri|"
    r"güncellemeden\s+sonra|önceden\s+çalışıyordu|sejak\s+(?:kemarin|update|pembaruan)|"
    r"sebelumnya\s+(?:berjalan|normal|lancar)|từ\s+hôm\s+qua|trước\s+đây\s+vẫn|"
    r"sau\s+khi\s+cập\s+nhật)\b",
)
# How often it happens: "1 in 20", "3% of calls", "sometimes", "every time".
_FREQUENCY = _alternation(
    r"\b\d+\s+(?:in|out\s+of)\s+(?:\d+|every)\b|\b\d+(?:\.\d+)?\s?%\s+of\b|"
    r"\b(?:sometimes|occasionally|every\s+(?:time|call|request|other)|each\s+time|"
    r"reproduc\w*|consistently|on\s+(?:some|most|every)\s+(?:calls?|requests?|runs?))\b",
    r"\b(?:a\s+veces|siempre\s+que|às\s+vezes|sempre\s+que|manchmal|jedes\s+mal|parfois|"
    r"à\s+chaque\s+fois|a\s+volte)\b",
)
# The poster did something and tells what followed: "I gave the key ...", "we set ...".
_DID = _alternation(
    r"\b(?:i|we)\s+(?:(?:have|'ve|had|then|just|also)\s+)?(?:tried|set|gave|made|added|created|"
    r"switched|ran|called|sent|used|upgraded|updated|moved|deployed|installed|enabled|disabled|"
    r"changed|removed|passed|configured|followed|copied|pasted|generated|rotated|bought|paid|"
    r"topped\s+up|verified|submitted|appealed|restarted)\b",
    r"\b(?:my|our)\s+(?:script|app|code|service|bot|agent|key|account|org|organization|project|"
    r"job|pipeline|server|backend|client|integration|calls?|requests?)\b",
    r"\b(?:probé|configuré|intenté|usé|cambié|tentei|configurei|usei|mudei|j'ai\s+(?:essayé|mis|"
    r"configuré|ajouté|changé)|ich\s+habe|wir\s+haben|mein(?:e|en)?\s+(?:skript|app|schlüssel|konto))\b",
)
_DID_WIDE = _alternation(
    r"我(?:们)?(?:设置|试|用|改|加|换)了|试过|設定しました|試しました|したら|しましたが|"
    r"설정했|시도했|했는데|(?:я|мы)\s+(?:попробовал|настроил|поставил|использ|поменял|добавил)",
)
# Planning, evaluating or designing ahead: nothing has happened yet.
_PLAN = _alternation(
    r"\b(?:planning|plan\s+to|before\s+(?:we|i)\s+(?:launch|deploy|start|ship|schedule|upgrade|go|"
    r"move|roll)|have\s*n[o']?t\s+(?:tried|applied|hit|started|run)|want\s+to\s+(?:know|make\s+sure|"
    r"plan|size|understand)|designing|evaluating|capacity|for\s+our\s+(?:docs?|design|backoff|"
    r"planning)|just\s+reading\s+up|before\s+implementation)\b",
    r"\b(?:planificar|planeando|planejando|planejar|planen|planung|planifier|pianificare)\b",
)
# Asking how, whether, which, or for something new.
_REQUEST = _alternation(
    r"^\s*(?:how|what|which|where|when|why|is|are|does|do|can|could|should|would|will|has|have|"
    r"any(?:one|body)|is\s+there)\b[^\n]{0,200}\?",
    r"\b(?:how\s+(?:do|can|should|would)\s+(?:i|we|you)|is\s+(?:there|it)\s+(?:a\s+way|possible)|"
    r"does\s+anyone\s+know|what(?:'s|\s+is)\s+the\s+best|best\s+(?:practice|way)|"
    r"any\s+(?:tips|advice|recommendations?)|looking\s+for\s+(?:advice|recommendations?)|"
    r"curious\s+(?:if|whether|what|how)|wondering\s+(?:if|whether|what|how)|planning\s+to|"
    r"not\s+(?:hitting|seeing|getting)\s+any\s+errors?|just\s+(?:asking|curious|planning)|"
    r"we\s+should|(?:i|we)(?:'d|\s+would)\s+like\s+to|is\s+it\s+possible|"
    r"should\s+(?:we|i|the\s+docs)|instead\s+of\s+the\s+beta)\b",
    r"\b(?:feature\s+request|would\s+(?:be|love)\s+(?:great|nice|helpful|useful|to\s+see)|"
    r"it\s+would\s+be\s+(?:great|nice|helpful|useful)|please\s+(?:add|support|consider|expose|allow)|"
    r"could\s+you\s+(?:add|support|expose)|(?:add|adding)\s+support\s+for|proposal|suggestion|"
    r"wish(?:list)?|nice\s+to\s+have|docs?\s+(?:should|could|need)|documentation\s+(?:should|"
    r"could|needs?|is\s+unclear)|typo\s+in\s+the\s+docs?|docs?\s+task|"
    r"(?:page|docs?|documentation|guide|reference|changelog)\s+should\s+(?:say|explain|mention|"
    r"list|document|cover|clarify|state)|should\s+(?:document|explain|clarify)\b)\b",
    r"\b(?:thanks?(?:\s+you)?\s+(?:all|everyone|so\s+much|for)|solved|marking\s+(?:this\s+)?as\s+"
    r"solved|sharing\s+(?:my|our|a)|we\s+(?:built|made|launched|released)|check\s+(?:it\s+)?out|"
    r"announc\w*|showcase|open[- ]sourced?|hiring|job|meetup|webinar|pricing|cost\s+per|"
    r"how\s+much\s+does)\b",
    # Spanish, Portuguese, French, German, Russian
    r"(?:¿|\b)(?:cómo|qué|cuál|cuánto|es\s+posible|hay\s+(?:alguna|forma)|ser[íi]a\s+(?:genial|[úu]til)|"
    r"sugerencia|solicitud\s+de\s+funci|como\s+(?:fa[çc]o|posso)|seria\s+(?:ótimo|útil)|"
    r"comment\s+(?:faire|puis)|est-ce\s+(?:que|possible)|serait\s+(?:bien|utile)|"
    r"wie\s+(?:kann|mache)|gibt\s+es|wäre\s+(?:schön|toll|gut)|funktionswunsch|vorschlag)\b",
)
# How a title reads: a request or question, or a failure.
_TITLE_REQUEST = _rx(
    r"^\s*(?:how\s+(?:to|do|can|should)|what|which|why|when|where|is\s+(?:it|there)|can\s+(?:i|we|you)|"
    r"does|do\s+(?:i|we|you)|should|any(?:one|body)|best\s+(?:way|practice)|question|"
    r"\[?(?:feature|feat|enhancement|proposal|rfc|request|idea|docs?|question)\b)",
    r"\b(?:feature\s+request|support\s+for|add(?:ing)?\s+(?:support|option|a|an|the)|"
    r"allow|expose|use\s+(?:the\s+)?(?:non-beta|ga|new|latest)|migrat\w+\s+to|upgrade\s+to|"
    r"guide|tutorial|example|docs?|documentation|pricing|cost|roadmap|release|announc\w*|"
    r"showcase|thanks?|solved)\b",
    r"如何|怎么|是否|请问|功能|建议|希望|どうやって|方法|機能|要望|질문|방법|기능|"
    r"(?:¿|\b)(?:cómo|cuánto|pregunta|duda|sugerencia|solicitud|sugest[ãa]o|dúvida|question|"
    r"demande|frage|vorschlag|domanda|предложение|вопрос|подскажите)\b|요청|제안|"
    r"^\s*(?:como|qual|quelle?|comment|wie|gibt\s+es|est-ce)\b",
)
_TITLE_PROBLEM = _rx(
    r"\b(?:error|errors|exception|fail\w*|broken|broke|bug|crash\w*|not\s+working|doesn'?t\s+work|"
    r"does\s+not\s+work|stopp?ed|stuck|hang\w*|timeout|timed\s+out|wrong|missing|empty|null|"
    r"invalid|unexpected|keeps?|never|cannot|can'?t|unable|\b[45]\d\d\b)",
    r"报错|错误|失败|无法|不能|エラー|失敗|できない|오류|에러|실패|"
    r"\b(?:falla|fallo|não\s+funciona|erro|erreur|fehler|ошибка)\b",
)
# Saying that nothing is wrong: not a problem statement, whatever words it uses.
_NO_PROBLEM = _alternation(
    r"\bnothing\s+(?:is\s+|'s\s+|has\s+)?(?:broken|wrong|failing|failed)|"
    r"\bno\s+(?:errors?|issues?|problems?)\s*(?:yet|so\s+far|for\s+now|,?\s+(?:just|only)\s+"
    r"(?:asking|planning|curious|a\s+question|capacity))\b|"
    r"\b(?:is\s*n[o']?t|are\s*n[o']?t|not)\s+(?:broken|failing|erroring)\b|\bnot\s+a\s+bug\b|"
    r"\beverything\s+(?:works|is\s+working)|\bworks\s+(?:fine|great|well|perfectly)|"
    # Solved follow-ups and write-ups: the problem is over.
    r"\bwrite-?up\s+of\s+(?:our|my|the)\s+fix|\bhow\s+we\s+(?:fixed|solved|got\s+rid\s+of)|"
    r"\bwhat\s+(?:worked|fixed\s+it)\s+for\s+(?:us|me)|\bfor\s+anyone\s+(?:searching|finding|else)|"
    r"\bhope\s+(?:this|it)\s+helps|\bclosing\s+the\s+loop|\bposting\s+so\s+others|"
    r"\bleaving\s+this\s+here|\bmarking\s+(?:it\s+|this\s+)?(?:as\s+)?solved|"
    r"已解决|解決済み|\bresuelto|\bresolvido|\brésolu|\bgelöst|\bрешено|해결됨|"
    r"没有遇到问题|只是(?:建议|规划|想问|咨询)|まだ.{0,12}(?:当たって|出て)いません|"
    r"\b(?:no\s+tenemos\s+errores|no\s+es\s+un\s+(?:bug|error)|não\s+é\s+um\s+bug|"
    r"noch\s+kein\s+fehler|kein\s+fehler,?\s+nur|ce\s+n'est\s+pas\s+un\s+bug|"
    r"pas\s+d'erreur\s+pour\s+l'instant|aucune\s+erreur\s+pour\s+l'instant|пока\s+всё\s+работает)|"
    r"아직\s+문제는?\s+없습니다",
)
# The same in scripts beyond Latin, scanned only in a post that has such characters.
_PROBLEM_WIDE = _alternation(
    # Chinese, Japanese, Korean; Russian
    r"报错|錯誤|错误|失败|失敗|无法|無法|不能|不行|一直|总是|突然|卡住|崩溃|异常|異常|没有反应|不工作|"
    r"エラー|失敗|できません|できない|されない|しない|止まる|止まって|ずっと|急に|おかしい|返ってこない|"
    r"오류|에러|실패|안\s*됩니다|안\s*돼|작동하지|멈춰|계속|갑자기|않습니다|않아요|반복|비어|무시",
    r"重复|丢失|为空|空的|不对|变成|乱码|杂音|噪音|"
    r"止まっ|のまま|なってしまい|変わって|無視|重複|二回|空に|雑音|途中で|落ち(?:た|て)|遅い|遅く|間違|二重|悪化|"
    r"回声|很慢|变慢|变差|两次|끊기|느려|느립니다|두\s*번|잘못|이상합니다",
    r"не\s+работает|ошибк|падает|зависает|постоянно|вдруг|перестал|не\s+(?:закрывается|приходит|"
    r"отвечает)|обрыва|вместо|пуст|игнорир|дважды|не\s+на\s+тот|медленн|хуже|неправильн",
    r"висит|завис|пропада|пропал|теря|не\s+(?:отображ|совпада|меняется|доходит|возвращает)|"
    r"дублир|сбой|обрезает|обрезан|списал|не\s+так",
    r"不生效|没生效|没有生效|不一致|消失|缺失|丢了|偏移|多扣|截断|被截|没有返回|返回空|"
    r"消え|欠落|足りない|ずれ|反映されない|切れ|途切れ|二重に|"
    r"사라|누락|안\s*나와|중복|잘려|반영되지",
)
_CHANGE_WIDE = _alternation(
    r"从昨天|昨天开始|上周还|之前(?:还)?正常|以前(?:还)?正常|昨日から|先週から|今朝から|"
    r"어제부터|오늘부터|지난주|со\s+вчерашнего|с\s+утра|после\s+обновления|раньше\s+работало",
    r"之前(?:还)?(?:是)?好的|更新后|升级后|上个月还|までは(?:正常|問題なく)|アップデート後|から急に|"
    r"업데이트\s*후|전에는|с\s+прошлой\s+недели|до\s+(?:вчера|недавнего)",
)
_FREQUENCY_WIDE = _alternation(
    r"有时|偶尔|每次|每.{1,4}一次|時々|たまに|毎回|가끔|매번|иногда|каждый\s+раз"
)
_PLAN_WIDE = _alternation(r"规划|计划|打算|準備|計画|予定|계획|планиру")
_REQUEST_WIDE = _alternation(
    # Chinese, Japanese, Korean; Russian
    r"如何|怎么|怎样|是否|能否|可以吗|有没有|请问|建议|希望|功能请求|支持一下|吗[？?]|"
    r"どう(?:やって|すれば)|方法|ですか[？?]|でしょうか|教えて|機能|要望|提案|"
    r"어떻게|방법|있나요|인가요|기능\s*요청|제안",
    r"как\s+(?:мне|можно|сделать)|можно\s+ли|подскажите|было\s+бы\s+(?:здорово|удобно)|предлож",
)
_BUG_TEMPLATE = _rx(
    r"^#{1,4}\s*(?:describe\s+the\s+bug|bug\s+description|to\s+reproduce|steps\s+to\s+reproduce|"
    r"expected\s+behaviou?r|actual\s+behaviou?r|current\s+behaviou?r|what\s+happened|logs?)\b",
    r"^#{1,4}\s*(?:复现步骤|重现步骤|预期|期望行为|实际行为|再現手順|期待される動作|実際の動作|"
    r"pasos\s+para\s+reproducir|comportamiento\s+esperado|passos\s+para\s+reproduzir|"
    r"comportamento\s+esperado|schritte\s+zur\s+reproduktion|erwartetes\s+verhalten|"
    r"étapes\s+pour\s+reproduire|comportement\s+attendu)",
)
_FEATURE_TEMPLATE = _rx(
    r"is\s+your\s+feature\s+request\s+related\s+to\s+a\s+problem|describe\s+the\s+solution\s+you'?d\s+like|"
    r"alternatives?\s+(?:you'?ve\s+)?considered|^#{1,4}\s*(?:feature\s+request|proposed\s+(?:feature|"
    r"solution)|motivation|use\s+case)\b",
    r"功能请求|功能需求|您的功能请求|描述您想要的|機能リクエスト|要望|希望する解決策|"
    r"solicitud\s+de\s+(?:funci[óo]n|caracter[íi]stica)|solu[çc][ãa]o\s+que\s+voc[êe]\s+gostaria|"
    r"funktionswunsch|demande\s+de\s+fonctionnalit|describe\s+la\s+soluci[óo]n|"
    r"alternativas\s+consideradas|solution\s+souhait[ée]e|gew[üu]nschte\s+l[öo]sung|"
    r"^#{1,4}\s*(?:機能の概要|기능\s*설명|предлагаемое\s+решение|alternativen\b)",
)
# An issue tracker's feature tag heading a title, in the languages members write.
_FEATURE_TAG = _rx(
    r"^\s*[\[【(（]\s*(?:feature|feat|enhancement|proposal|rfc|request|idea|suggestion|"
    r"功能请求|功能|建议|需求|機能要望|機能|要望|提案|기능\s*요청|제안|solicitud|sugerencia|"
    r"sugest[ãa]o|funktionswunsch|vorschlag|demande|предложение|idée)",
)
_LOG_LINE = re.compile(
    r"^\s*(?:\[?\d{4}-\d\d-\d\d[t ]\d\d:\d\d|\[?\d\d:\d\d:\d\d|(?:error|warn(?:ing)?|fatal|critical)\b|"
    r"at\s+[\w.$<>]+\([\w.]+:\d+\)|file\s+\"[^\"]+\",\s+line\s+\d+)",
    re.MULTILINE,
)
# A quote that is one identifier (`insufficient_quota`, `max_tokens`) names a code or a
# parameter; questions and requests do that as often as reports, unlike a quoted message.
_BARE_CODE = re.compile(r"^\s*[\w.:/'\"-]+\s*$")
_FENCE = re.compile(r"^\s*(?:```|~~~)", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?。！？]+(?:\s|$)")
_QUESTION_MARK = re.compile(r"[?？]")

# The form of a post shows in its first part; a long pasted log adds nothing but time.
FORM_CHARS = 1500
_STRUCTURED = frozenset({"json", "traceback", "http_status", "error_line", "json_code"})

FEATURE_NAMES: tuple[str, ...] = (
    "word_model_score",
    "problem_cues",
    "request_cues",
    "question_share",
    "change_cues",
    "frequency_cues",
    "plan_cues",
    "calm_cues",
    "did_cues",
    "title_question",
    "title_request",
    "title_problem",
    "bug_template",
    "feature_template",
    "structured_error",
    "bare_code_quotes",
    "best_candidate",
    "candidates",
    "log_lines",
    "code_fence",
    "length",
)


@dataclass(frozen=True)
class ReportModel:
    """p(report) = sigmoid(weights · features + bias), features as FEATURE_NAMES."""

    weights: tuple[float, ...]
    bias: float

    def probability(self, features: np.ndarray) -> np.ndarray:
        z = features @ np.asarray(self.weights) + self.bias
        return np.asarray(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))), dtype=float)

    def to_json(self) -> dict[str, object]:
        return {"features": list(FEATURE_NAMES), "weights": list(self.weights), "bias": self.bias}

    @classmethod
    def from_json(cls, data: object) -> ReportModel | None:
        if not isinstance(data, dict) or data.get("features") != list(FEATURE_NAMES):
            return None  # another feature set: the caller retrains
        weights = data.get("weights")
        bias = data.get("bias")
        if not isinstance(weights, list) or len(weights) != len(FEATURE_NAMES):
            return None
        if not isinstance(bias, int | float):
            return None
        return cls(tuple(float(w) for w in weights), float(bias))


# The cue sets above are alternations compiled only here, together: the three kinds of
# cue in one scan each (Latin script, then the others), calm first:
# "nothing is broken" is read as calm, and its "broken" is not read again as a problem.
_LATIN_CUES = (
    ("calm", _NO_PROBLEM),
    ("plan", _PLAN),
    ("request", _REQUEST),
    ("change", _CHANGE),
    ("frequency", _FREQUENCY),
    ("problem", _PROBLEM),
    ("did", _DID),
)
_WIDE_CUES = (
    ("plan", _PLAN_WIDE),
    ("request", _REQUEST_WIDE),
    ("change", _CHANGE_WIDE),
    ("frequency", _FREQUENCY_WIDE),
    ("problem", _PROBLEM_WIDE),
    ("did", _DID_WIDE),
)


def _named(cues: Sequence[tuple[str, str]]) -> str:
    """The cue sets as one alternation, one named group each, tried in their order."""
    return "|".join(f"(?P<{name}>{source})" for name, source in cues)


def _gated(source: str) -> str:
    """`source` behind a lookahead on where its matches can start (bot.patterns.start_gate):
    the same matches, while `re` passes every other position after one test instead
    of trying each alternative there. Unchanged when no gate is derived."""
    gate = start_gate(Source(source, re.MULTILINE))
    return f"{gate}(?:{source})" if gate else source


def _fast(cues: Sequence[tuple[str, str]]) -> re.Pattern[str]:
    """The alternation of the cue sets (`plain_scan`) with start gates derived from the
    sets themselves: one for the whole alternation, one for each set. A gate holds
    wherever a match of what it guards starts and consumes nothing, so every position
    yields the same match and the same group: the scan finds exactly the matches of
    the plain alternation (the tests compare the two)."""
    gate = start_gate(Source(_named(cues), re.MULTILINE)) or ""
    groups = "|".join(f"(?P<{name}>{_gated(source)})" for name, source in cues)
    fast = re.compile(f"{gate}(?:{groups})", re.MULTILINE)
    if list(fast.groupindex) != [name for name, _ in cues]:
        # A gate that captured would add groups: no fast path.
        return re.compile(_named(cues), re.MULTILINE)
    return fast


@functools.cache
def plain_scan(wide: bool) -> re.Pattern[str]:
    """The plain alternation of the cue sets, which defines the cues; the scan below
    runs its gated twin."""
    return re.compile(_named(_WIDE_CUES if wide else _LATIN_CUES), re.MULTILINE)


_SCAN_LATIN = _fast(_LATIN_CUES)
_SCAN_WIDE = _fast(_WIDE_CUES)
CUE_CAP = 4


def _cues(text: str, wide: bool) -> dict[str, int]:
    counts = dict.fromkeys(("calm", "plan", "request", "change", "frequency", "problem", "did"), 0)
    for rx in (_SCAN_LATIN, _SCAN_WIDE) if wide else (_SCAN_LATIN,):
        for m in rx.finditer(text):
            counts[m.lastgroup or "problem"] += 1
    return counts


def _count(rx: re.Pattern[str], text: str, cap: int = 4) -> float:
    n = 0
    for _ in rx.finditer(text):
        n += 1
        if n >= cap:
            break
    return n / cap


def form_features(title: str, own: str, candidates: Sequence[ErrorCandidate]) -> list[float]:
    """Every feature but the word model's score, in FEATURE_NAMES order (from the
    second on). `own` is the poster's own words (quotes removed)."""
    body = own[:FORM_CHARS].lower()
    title = title.lower()
    text = f"{title}\n{body}"
    cues = _cues(text, wide=not text.isascii())
    calm = min(cues["calm"], 2) / 2
    sentences = max(1, len(_SENTENCE_END.findall(body)) + 1)
    quoted = [c for c in candidates if c.kind != "title"]
    return [
        min(cues["problem"], CUE_CAP) / CUE_CAP,
        min(cues["request"], CUE_CAP) / CUE_CAP,
        min(1.0, len(_QUESTION_MARK.findall(body)) / sentences),
        min(cues["change"], 2) / 2,
        min(cues["frequency"], 2) / 2,
        min(cues["plan"], 2) / 2,
        calm,
        min(cues["did"], 3) / 3,
        1.0 if _QUESTION_MARK.search(title) else 0.0,
        1.0 if _TITLE_REQUEST.search(title) else 0.0,
        1.0 if _TITLE_PROBLEM.search(title) else 0.0,
        _count(_BUG_TEMPLATE, body, 2),
        _count(_FEATURE_TEMPLATE, body, 2),
        1.0 if any(c.kind in _STRUCTURED and c.score >= 0.75 for c in quoted) else 0.0,
        1.0 if names_only(candidates) else 0.0,
        max((c.score for c in quoted), default=0.0),
        min(len(quoted), 5) / 5,
        _count(_LOG_LINE, body, 3),
        1.0 if _FENCE.search(body) else 0.0,
        min(1.0, math.log1p(len(body)) / 8.0),
    ]


def feature_shaped(title: str, own: str) -> bool:
    """The post is a feature request as issue trackers shape one: a feature tag heads
    its title, or its body follows a feature template. The errors it quotes are what it
    wants handled, not what it hit."""
    return bool(
        _FEATURE_TAG.search(title.lower()) or _FEATURE_TEMPLATE.search(own[:FORM_CHARS].lower())
    )


def names_only(candidates: Sequence[ErrorCandidate]) -> bool:
    """Every quote of the post (beyond its title) is a bare identifier: it names a code or
    a parameter and shows no message."""
    quoted = [c for c in candidates if c.kind != "title"]
    return bool(quoted) and all(_BARE_CODE.match(c.text) for c in quoted)


def feature_rows(scores: np.ndarray, forms: Sequence[Sequence[float]]) -> np.ndarray:
    """The stacker's input: the word model's scores beside the form features."""
    rows = np.asarray(forms, dtype=np.float64).reshape(len(forms), len(FEATURE_NAMES) - 1)
    return np.column_stack([np.asarray(scores, dtype=np.float64), rows])
