"""Check a text about a stem-cell treatment (an advert, a forwarded message, a web page) for the
warning signs the ISSCR and the FDA describe, each quoted from the text.

Pure: no I/O. The rules are data (the tables below, one per sign and per language) read by a
small engine that works sentence by sentence:

1. The text is cut into sentences (Latin and Chinese punctuation, line breaks). Chinese has no
   spaces, so Chinese rules match characters, not words.
2. A sentence is skipped for every sign when it is a question ("is this legit?"), or when it
   warns against clinics or describes what clinics do ("beware of clinics that charge…", "no se
   deje engañar", "警惕…收费"). A sentence that reports research ("the study found…",
   "participants…", "研究发现") is skipped for every sign except `payment`: a study that charges
   its participants is still a warning sign.
3. A match is dropped when a negation or a condition stands just before it in the same clause
   ("not approved", "no cure", "whether it is 100% safe", "未经批准"); a sign that is itself a
   negation ("without side effects", "无副作用") is written as one rule, so it still counts.
   `payment` is also dropped from a sentence that says the participant does not pay ("no cost",
   "gratuito", "免费") or that speaks of funding or compensation.
4. The text "sells" when a sentence that is not skipped offers a treatment (book, contact us,
   personalised plan, patients treated, price, "why choose"). `no_registry_id` is raised when
   it sells and no registry number or registry link appears anywhere in it.
5. Verdict: "warning" when it sells and shows a sign other than `no_registry_id`; "caution" when
   it shows any sign; "no_red_flags" otherwise. A text that warns (a warning cue outside
   questions) and does not sell is a warning article: no sign is reported for it.

Every rule is run on every text whatever its language (pages mix languages); the language only
chooses the wording of the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, get_args

from trialbot.identifiers import find_ids, find_registry_links

Flag = Literal[
    "payment",
    "success_rate",
    "testimonials",
    "many_conditions",
    "no_risk",
    "approval_claim",
    "urgency",
    "no_registry_id",
    "travel_package",
    "proprietary",
]
"""The closed list of warning signs: the same names in code, in `trialbot check --json`, in the
bot's catalogs (`claims.flag.<name>`) and in tests."""
FLAGS: tuple[Flag, ...] = get_args(Flag)

Verdict = Literal["warning", "caution", "no_red_flags"]
Language = Literal["en", "es", "zh"]

QUOTE_LIMIT = 200
"""The most characters of the text one quote holds (a window around the match in a long
sentence, cut at spaces), so the answer stays short."""
QUOTES_PER_FLAG = 2


@dataclass(frozen=True)
class RedFlag:
    flag: Flag
    quote: str
    """An exact substring of the checked text: the sentence, or the part of it, that shows it."""


@dataclass(frozen=True)
class ClaimCheck:
    verdict: Verdict
    red_flags: tuple[RedFlag, ...]
    registry_ids: tuple[str, ...]
    """Canonical ids (`NCT03545607`, `2023-503690-36-00`) named in the text, in order."""
    registry_links: tuple[str, ...] = ()
    """Links to registry web sites, including those whose address holds no readable id."""
    sells: bool = False
    """The text offers a treatment (booking, contact, price, patients treated...)."""
    offer_quote: str | None = None
    """The first sentence that shows the offer."""
    language: Language = "en"
    warns: bool = False
    """The text warns against clinics or unproven treatments (and does not sell)."""
    id_registries: tuple[tuple[str, str], ...] = field(default=())
    """(registry display name, canonical id) for each id, as `find_ids` reads them."""

    @property
    def flags(self) -> tuple[Flag, ...]:
        return tuple(dict.fromkeys(f.flag for f in self.red_flags))


# -- the rules, as data ------------------------------------------------------------------------
# Each table maps a language to regular expressions (matched case-insensitively). English and
# Spanish rules use word edges (\b); Chinese rules match characters.

Table = dict[Language, tuple[str, ...]]

_NUM = r"\d[\d,.]*"
_PCT = r"\d{1,3}(?:[.,]\d+)?\s?%"

SIGNS: dict[Flag, Table] = {
    "payment": {
        "en": (
            r"(?:US\$|USD|\$|€|EUR|£|GBP|₹|INR|Rs\.?|RMB|CNY|¥|MXN)\s?" + _NUM,
            _NUM + r"\s?(?:dollars|euros|pounds|rupees|usd|eur)\b",
            r"\b(?:treatment|therapy|stem[- ]cell|all[- ]inclusive|care|medical) packages?\b",
            r"\bpackages? (?:start|from|include|includes|cost|costs|price)\b",
            r"\b(?:prices?|pricing)\b",
            r"\b(?:costs?|fees?|charges?) (?:of|for) (?:the |a |our |each )?(?:treatment|therapy"
            r"|procedure|cells|injections?|infusions?|session|participation|programme|program)",
            r"\b(?:treatment|therapy|procedure|participation|programme|program|session|"
            r"consultation)[- ](?:costs?|fees?|charges?|prices?)\b",
            r"\b(?:affordable|payment plans?|financing|instal(?:l)?ments?|out[- ]of[- ]pocket|"
            r"self[- ]pay|self[- ]funded|patient[- ]funded)\b",
            r"\b(?:pay|paid|charge|charges|charged) (?:for|to join|to take part|to participate)\b",
            r"\b(?:you|patients|participants) (?:pay|will pay|must pay|have to pay)\b",
            r"\b(?:get|request|ask for) (?:a |your )?(?:free )?(?:quote|price)\b",
        ),
        "es": (
            _NUM + r"\s?(?:dólares|dolares|euros|pesos|soles|usd|eur|mxn)\b",
            r"\b(?:precios?|tarifas?|cuotas?|financiamiento|financiación|financiacion|"
            r"plan(?:es)? de pago|pagos? a plazos|cotización|presupuesto|meses sin intereses|"
            r"asequibles?|económic[oa]s?)\b",
            r"\b(?:costo|coste|valor)s? (?:del?|por|de la) (?:tratamiento|terapia|procedimiento"
            r"|células|infusión|sesión|programa|participación)",
            r"\bpaquetes? (?:de tratamiento|todo incluido|médicos?|desde|incluye)",
            r"\b(?:usted|el paciente|los pacientes|los participantes) (?:paga|pagan|debe pagar|"
            r"deben pagar|tiene que pagar|tienen que pagar)\b",
        ),
        "zh": (
            r"\d[\d,，.]*\s?(?:万元|元|美元|欧元|块|万)",
            r"(?:费用|价格|价位|收费|自费|套餐|分期付款|优惠价|报价|付费|治疗费|费用由患者承担)",
        ),
    },
    "success_rate": {
        "en": (
            _PCT + r"[^.!?\n]{0,40}?\b(?:success|improv\w*|recover\w*|effective\w*|efficacy|cure"
            r"\w*|better|satisf\w*|respon\w*|results?|walk\w*|talk\w*|speak\w*|regain\w*)",
            r"\b(?:success|improvement|cure|recovery|response|efficacy|effectiveness) rates?\b",
            r"\b(?:cures?|cured|curing) (?:stroke|paralysis|brain damage|your|the damage)\b",
            r"\b(?:miracle|miraculous|guarantee[sd]?|guaranteed results?)\b",
            r"\breverses? (?:stroke|paralysis|the damage|brain damage)\b",
        ),
        "es": (
            _PCT + r"[^.!?\n]{0,40}?(?:éxito|exito|mejor\w*|recupera\w*|eficacia|efectiv\w*|"
            r"cura\w*|resultados?|camin\w*|habla\w*)",
            r"\btasas? de (?:éxito|exito|mejoría|mejora|curación|recuperación|eficacia|respuesta)",
            r"\b(?:milagro\w*|milagros[oa]s?|garantizad[oa]s?|garantiza\w*)\b",
            r"\bcura (?:el|la|los|las) (?:ictus|parálisis|derrame|accidente)",
            r"\brevierte (?:el|la|los) (?:daño|ictus|parálisis)",
        ),
        "zh": (
            r"(?:有效率|成功率|治愈率|好转率|改善率|总有效|显效率)",
            _PCT + r"[^。！？\n]{0,15}(?:患者|病人|有效|改善|好转|康复|恢复|成功|行走|走路)",
            r"(?:治愈|根治|奇迹|神奇疗效|保证疗效|包治|药到病除)",
            r"(?:又能|重新)(?:走路|说话|行走|站起来)",
        ),
    },
    "testimonials": {
        "en": (
            r"\btestimonials?\b",
            r"\b(?:patient|success|recovery) stories\b",
            r"\bhear from (?:our )?(?:patients|families)\b",
            r"\b(?:our|satisfied|happy) patients (?:say|share|report|tell|describe)\b",
            r"\bpatients?\b[^.!?\n]{0,80}\b(?:report|reported|reports|say|says|tell us|describe)"
            r"\b[^.!?\n]{0,60}\b(?:improv\w*|better|recover\w*|gains?|walk|talk)",
            r"\b(?:I|he|she|my \w+) (?:can|could) (?:walk|talk|speak|move) again\b",
            r"\bbefore[- ]and[- ]after (?:photos|videos|pictures)\b",
        ),
        "es": (
            r"\btestimonios?\b",
            r"\b(?:casos|historias) (?:de éxito|de exito|reales|de pacientes)\b",
            r"\bnuestros pacientes (?:dicen|cuentan|comparten|reportan|opinan)\b",
            r"\bpacientes\b[^.!?\n]{0,80}\b(?:reportan|refieren|dicen|cuentan|relatan)\b"
            r"[^.!?\n]{0,60}(?:mejor\w*|recupera\w*|avances?)",
            r"\b(?:puedo|pude|puede|volvió a|volví a) (?:caminar|hablar|moverse) "
            r"(?:de nuevo|otra vez)",
            r"\bvolvió a (?:caminar|hablar)\b",
        ),
        "zh": (
            r"(?:患者见证|真实案例|成功案例|康复案例|治疗案例|患者反馈|患者评价|感谢信|康复故事|患者心声)",
            r"(?:患者|病人|家属)[^。！？\n]{0,20}(?:反映|表示|反馈|称|说)[^。！？\n]{0,20}(?:改善|好转|恢复)",
        ),
    },
    "many_conditions": {
        "en": (
            r"\b(?:various|many|multiple|numerous|a (?:wide )?(?:range|variety) of|over \d+|"
            r"more than \d+|\d+\+?) (?:other )?(?:medical |chronic |neurological |degenerative |"
            r"incurable )?(?:conditions|diseases|disorders|illnesses|ailments)\b",
        ),
        "es": (
            r"\b(?:diversas|varias|múltiples|multiples|numerosas|una amplia gama de|"
            r"una variedad de|más de \d+|\d+\+?) "
            r"(?:enfermedades|afecciones|condiciones|patologías|padecimientos)\b",
        ),
        "zh": (
            r"(?:多种|各种|多类|上百种|数十种|几十种|\d+种|百余种)(?:疾病|病症|慢性病|疑难杂症)",
            r"百病",
        ),
    },
    "no_risk": {
        "en": (
            r"\b(?:no|zero|without(?: any)?|free of) (?:known |serious )?(?:side[- ]effects?|"
            r"risks?\b(?!-)|complications|rejection)",
            r"\b(?:does not|doesn't|do not|don't|will not|won't) (?:have|cause|carry) (?:any )?"
            r"(?:side[- ]effects?|risks?)",
            r"\b(?:proven|completely|totally|100\s?%|perfectly|absolutely|entirely) safe\b",
            r"\bsafe and (?:effective|natural|painless)\b",
            r"\brisk[- ]free\b",
            r"\b(?:100\s?%|all|completely|totally|purely|entirely)[- ]natural\b",
            r"\bnatural (?:and safe|treatment|therapy|remedy|healing)\b",
        ),
        "es": (
            r"\b(?:sin|cero|ningún|ningun|no tiene|no hay|libre de) (?:efectos? secundarios?|"
            r"riesgos?|complicaciones|rechazo)",
            r"\b(?:100\s?%|totalmente|completamente|absolutamente) "
            r"(?:segur[oa]s?|natural(?:es)?)\b",
            r"\bsegur[oa]s? y (?:eficaz|efectiv[oa]|natural)",
        ),
        "zh": (
            r"(?:无|没有|零|不会有|不存在)(?:任何)?(?:副作用|风险|不良反应|排异|排斥)",
            r"(?:100\s?%|百分之百|绝对|完全)(?:安全|天然)",
            r"纯天然",
        ),
    },
    "approval_claim": {
        "en": (
            r"\bFDA[- ]?(?:registered|approved|cleared|certified|compliant)\b",
            r"\b(?:approved|registered|certified|licensed|cleared|authori[sz]ed|endorsed) "
            r"(?:by|with) (?:the )?(?:FDA|government|ministry|health ministry|COFEPRIS|"
            r"authorities|regulators?)",
            r"\b(?:government|state|ministry|ISO|GMP|JCI|lab|laboratory)[- ](?:approved|certified"
            r"|accredited|licensed)\b",
            r"\bcertified (?:clinic|center|centre|cells|lab|laboratory|stem cells?|treatment|"
            r"protocol|doctors|facility)\b",
            r"\b(?:legal|approved) (?:stem[- ]cell )?(?:treatment|therapy|procedure)\b",
        ),
        "es": (
            r"\baprobad[oa]s? por (?:la |el )?(?:FDA|COFEPRIS|gobierno|ministerio|ANMAT|INVIMA|"
            r"autoridades|secretaría)",
            r"\b(?:registrad[oa]s?|certificad[oa]s?|avalad[oa]s?) (?:por|ante) (?:la |el )?"
            r"(?:FDA|COFEPRIS|gobierno|ministerio|ANMAT|INVIMA|secretaría)",
            r"\b(?:clínica|clinica|centro|laboratorio|tratamiento|células|celulas) "
            r"certificad[oa]s?\b",
            r"\bcertificación (?:ISO|GMP|internacional)\b",
            r"\btratamiento (?:legal|aprobado)\b",
        ),
        "zh": (
            r"(?:FDA|国家|政府|卫健委|卫生部|药监局|NMPA|CFDA)[^，。！？\n]{0,6}(?:认证|批准|备案|许可|审批)",
            r"(?:获批|正规认证|权威认证|官方认证|合法治疗)",
        ),
    },
    "urgency": {
        "en": (
            r"\b(?:book|call|act|apply|register|enrol|enroll|contact us|reserve|sign up) "
            r"(?:now|today)\b",
            r"\blimited (?:spots|places|slots|seats|spaces|offer)\b",
            r"\blimited[- ]time (?:offer|only|discount|price)\b|\bfor a limited time only\b",
            r"\bonly \d+ (?:spots|places|slots|seats|spaces) (?:left|remaining|available)\b",
            r"\b(?:don't|do not) (?:wait|delay|miss out)\b",
            r"\bbefore it'?s too late\b",
            r"\b(?:time is running out|hurry|last chance|offer ends|ends soon)\b",
        ),
        "es": (
            r"\b(?:reserve|reserva|llame|llama|agende|agenda|contáctenos|escríbanos|inscríbase)"
            r"\s(?:ahora|hoy|ya)\b",
            r"\b(?:plazas|cupos|lugares) limitad[oa]s\b",
            r"\b(?:últimas|últimos) (?:plazas|cupos|lugares)\b",
            r"\bno (?:espere|esperes|pierda|pierdas) (?:más|mas|tiempo|esta)",
            r"\bantes de que sea (?:demasiado )?tarde\b",
            r"\bhoy mismo\b",
            r"\b(?:oferta|promoción) (?:por tiempo limitado|válida hasta)",
            r"\bsolo quedan \d+",
        ),
        "zh": (
            r"(?:名额有限|限时|仅剩|只剩|最后\d*个?名额|立即预约|马上预约|立即咨询|马上咨询|赶快|抓紧|不要再等|尽快预约|今天就)",
        ),
    },
    "travel_package": {
        "en": (
            r"\b(?:flights?|airfare|air tickets?|airport (?:pick-?ups?|transfers?|transportation)|"
            r"hotels?|accommodations?|lodging|visa (?:assistance|support|invitation|letter)|"
            r"medical (?:tourism|travel|tourists?)|travel (?:package|arrangements|assistance)|"
            r"all[- ]inclusive|interpreters?|concierge)\b",
            r"\b(?:top|leading|global|popular|premier) (?:\w+ )?destination\b",
            r"\binternational patients?\b",
            r"\bpatients (?:from|in) \d+\+? countries\b",
        ),
        "es": (
            r"\b(?:vuelos?|boletos? de avión|pasajes? aéreos?|hotel(?:es)?|alojamiento|hospedaje|"
            r"traslados?(?: al| desde el)? aeropuerto|visas?|turismo médico|todo incluido|"
            r"intérpretes?|pacientes internacionales)\b",
            r"\bdestino (?:líder|médico|de referencia|principal)\b",
        ),
        "zh": (r"(?:机票|酒店|住宿|接机|接送机|签证|医疗旅游|全包|翻译陪同|国际患者|海外患者)",),
    },
    "proprietary": {
        "en": (
            r"\b(?:proprietary|patented|patent[- ]pending|trademarked)\b",
            r"\b(?:secret|exclusive|our own) (?:\w+ ){0,2}(?:technique|techniques|protocol|"
            r"protocols|method|methods|process|formula|technology|cells?|procedure|blend|cocktail)"
            r"\b",
        ),
        "es": (
            r"\bpatentad[oa]s?\b",
            r"\b(?:técnicas?|protocolos?|métodos?|fórmulas?|tecnologías?|células|procedimientos?)"
            r" (?:\w+ )?(?:exclusiv[oa]s?|secret[oa]s?|propi[oa]s?)\b",
        ),
        "zh": (r"(?:专利|独家|秘方|自主研发|独创|独有)",),
    },
}

CONTEXT: dict[str, Table] = {
    # A sentence that offers a treatment: the text sells.
    "selling": {
        "en": (
            r"\b(?:book|schedule|request|get|claim|arrange) (?:a |an |your )?(?:free )?"
            r"(?:personali[sz]ed )?(?:consultation|consult|appointment|evaluation|assessment|"
            r"quote|treatment plan)\b",
            r"\bpersonali[sz]ed (?:\w+ )?(?:treatment )?(?:plans?|protocols?)\b",
            r"\b(?:contact|call|email|message|whatsapp|write to|text) us\b",
            r"\bconsider contacting\b",
            r"\bright for (?:you|your)\b",
            r"\b(?:we|our (?:clinic|center|centre|team|hospital|doctors|specialists|experts))"
            r" (?:offer|provide|treat|specialize|specialise|perform|administer)s?\b",
            r"\bspeciali[sz](?:es|ing) in (?:providing |offering )?(?:\w+ ){0,3}"
            r"(?:treatments?|therapy|therapies)\b",
            r"\b(?:treated|helped) (?:over |more than )?" + _NUM + r"\+? (?:patients|people)\b",
            r"\b" + _NUM + r"\+? patients (?:treated|from)\b",
            r"\bwhy choose\b",
            r"\bconnect(?:ing)? with (?:\w+ ){0,3}(?:specialists|doctors|experts)\b",
            r"\bfree consultation\b",
            r"\b(?:enquire|inquire) (?:now|today)\b",
            r"\b(?:top|leading|premier) (?:\w+ )?destination\b",
        ),
        "es": (
            r"\b(?:contáctenos|contáctanos|llámenos|llámanos|escríbanos|escríbenos)\b",
            r"\b(?:reserve|agende|solicite|pida|obtenga|reciba) (?:su |una |un )?(?:cita|consulta|"
            r"valoración|evaluación|cotización|presupuesto|plan)\b",
            r"\bplan(?:es)? de tratamiento personalizad[oa]s?\b",
            r"\b(?:ofrecemos|brindamos|tratamos|proporcionamos|aplicamos)\b",
            r"\b(?:nuestra clínica|nuestro centro|nuestros especialistas|nuestros médicos|nuestro"
            r" equipo) (?:ofrece|ofrecen|brinda|brindan|realiza|realizan|trata|tratan)\b",
            r"\bhemos tratado\b",
            r"\b" + _NUM + r"\+? pacientes (?:tratados|atendidos|de más de)\b",
            r"\bpor qu[ée] elegir(?:nos)?\b",
            r"\bconsulta gratuita\b",
            r"\bse especializa en\b",
        ),
        "zh": (
            r"(?:联系我们|咨询热线|欢迎(?:来电|咨询)|立即预约|预约(?:咨询|治疗|就诊)|免费咨询|在线咨询|"
            r"微信咨询|我院|本院|本中心|我们(?:提供|开展|可以为)|已(?:成功)?治疗|为什么选择|个性化(?:治疗)?方案)",
        ),
    },
    # A sentence that warns against clinics, or describes what clinics do.
    "warning": {
        "en": (
            r"\b(?:beware|be wary|be careful|be cautious|watch out|warning signs?|red flags?|"
            r"scams?|scammers?|fraud\w*|don'?t be fooled|unproven|unapproved|not approved|"
            r"illegal\w*|predatory|too good to be true|not (?:scientific )?evidence|no "
            r"(?:good |scientific |strong |reliable )?(?:evidence|proof)|not (?:been )?proven|be "
            r"suspicious|be skeptical|be sceptical|FDA warns|warns?|warned|warning)\b",
            r"\b(?:some|many|these|such|unregulated|private|other|unlicensed|overseas|foreign|"
            r"rogue) clinics\b",
            r"\bclinics (?:that|which|who|often|may|might|claim|promise|charge|offer|sell|"
            r"advertise|tout|market)\b",
            r"\b(?:they|providers|sellers|marketers) (?:claim|promise|charge|advertise|tout)\b",
        ),
        "es": (
            r"\b(?:cuidado|desconf[íi]\w*|no se deje engañar|no te dejes engañar|engañ\w*|"
            r"señal(?:es)? de (?:alerta|alarma)|estafa\w*|fraude\w*|no probad\w*|no (?:está|están)"
            r" (?:probad|aprobad)\w*|sin (?:pruebas|evidencia)|ilegal\w*|evite|tenga cuidado|"
            r"sospech\w*|advierte\w*|advertencia|alerta)\b",
            r"\b(?:algunas|muchas|estas|esas|ciertas|otras) clínicas\b",
            r"\bclínicas (?:que|suelen|prometen|cobran|ofrecen|venden|anuncian)\b",
        ),
        "zh": (
            r"(?:警惕|小心|谨防|骗局|诈骗|虚假|未经证实|未经批准|不要相信|谨慎|违法|非法|警示|陷阱|提醒|"
            r"没有证据|缺乏证据|风险提示|当心)",
            r"(?:一些|某些|部分|不少|这些|有些)(?:诊所|机构|医院)",
            r"(?:诊所|机构)(?:声称|宣称|号称|承诺)",
        ),
    },
    # A sentence that reports research: every sign but `payment` is the study's, not an offer.
    "reporting": {
        "en": (
            r"\b(?:the|this|a|an|one|that) (?:\w+ ){0,3}(?:study|trial|research|meta-analysis|"
            r"review)\b[^.!?\n]{0,80}\b(?:found|find|showed|shows|show|reported|reports|suggests|"
            r"suggested|tests|tested|will test|compared|compares|enrolled|measured|aims)\b",
            r"\b(?:researchers?|investigators?|participants?|placebo|sham|randomi[sz]ed)\b",
            r"\bpublished in\b",
            r"\baccording to (?:the )?(?:study|trial|researchers|registry|authors)\b",
            r"\bregistered (?:as|at|with|on|under)\b",
            r"\bbeing (?:studied|tested|investigated)\b",
            r"\b(?:primary endpoint|end ?points?|announced|press release|"
            r"phase (?:1|2|3|i|ii|iii))\b",
        ),
        "es": (
            r"\b(?:el|este|un|una|la) (?:\w+ ){0,3}(?:estudio|ensayo|investigación|metaanálisis)\b"
            r"[^.!?\n]{0,80}\b(?:encontró|mostró|muestra|demostró|evaluará|evalúa|comparó|compara|"
            r"incluyó|mide|midió)\b",
            r"\b(?:investigadores?|participantes?|placebo|aleatorizad[oa])\b",
            r"\bpublicad[oa] en\b",
            r"\bsegún (?:el|los) (?:estudio|ensayo|investigadores|autores|registro)\b",
            r"\bregistrad[oa] (?:como|en|con)\b",
        ),
        "zh": (
            r"(?:研究(?:发现|显示|表明|人员|者|团队)|试验(?:发现|显示|结果|表明)|受试者|参与者|安慰剂|"
            r"随机|发表(?:在|于)|注册号|临床研究|临床试验)",
        ),
    },
    # Said just before a sign in the same clause, it undoes it: "not approved", "no cure".
    "negation": {
        "en": (
            r"\b(?:no|not|never|without|nor|neither|cannot|can't|isn't|aren't|wasn't|weren't|"
            r"hasn't|haven't|doesn't|don't|won't|lacks?|whether|if|any claim of)\b",
        ),
        "es": (r"\b(?:no|nunca|sin|ni|tampoco|ningún|ninguna|ninguno|si|jamás)\b",),
        "zh": (r"(?:不|没|未|无|非|别|勿|是否|能否)",),
    },
    # In the same sentence, these undo `payment`: the participant does not pay.
    "free": {
        "en": (
            r"\b(?:free of charge|at no cost|no cost|without (?:cost|charge)|no charge|free for "
            r"(?:you|participants|patients)|(?:is|are) free|(?:do|does|will) not (?:have to )?pay|"
            r"(?:don't|doesn't|won't) (?:have to )?pay|(?:will not|won't|are not|is not) be "
            r"charged|not charged|never (?:charge|ask)|covered by the (?:study|sponsor|trial)|paid "
            r"(?:for )?by the (?:study|sponsor|trial)|funded|funding|grants?|compensat\w*|"
            r"reimburs\w*|stipends?|invest\w*)\b",
        ),
        "es": (
            r"\b(?:gratis|gratuit[oa]s?|sin (?:costo|coste|cargo)|no (?:tiene|tendrá|tienen|"
            r"tendrán) (?:que pagar|costo|coste|ningún costo)|no (?:pagan|paga|pagará|pagarán|"
            r"cobra|cobran|cobrará)|cubiert[oa]s? por el (?:estudio|patrocinador|ensayo)|"
            r"financiad[oa] por|compensación|reembols\w*)\b",
        ),
        "zh": (
            r"(?:免费|不收费|无需付费|不需要付费|不用付费|不需支付|无需支付|不用花钱|由研究方?承担|不收取|补贴|报销|资助)",
        ),
    },
    # A sentence about an ethics committee's approval is not an approval claim.
    "ethics": {
        "en": (r"\b(?:ethics committee|ethics board|IRB|institutional review board)\b",),
        "es": (r"\bcomité (?:de ética|ético)\b",),
        "zh": (r"伦理委员会",),
    },
}

CONDITIONS: dict[str, tuple[str, ...]] = {
    # Unrelated diseases a clinic may offer the same cells for; three or more named in one
    # sentence of a text that sells is `many_conditions`.
    "autism": (r"\bautis\w*", r"自闭症|孤独症"),
    "cerebral_palsy": (r"\bcerebral palsy\b|\bparálisis cerebral\b", r"脑瘫"),
    "parkinson": (r"\bparkinson\w*", r"帕金森"),
    "alzheimer": (r"\balzheimer\w*|\bdementia\b|\bdemencia\b", r"阿尔茨海默|老年痴呆"),
    "als": (r"\bALS\b|\bELA\b|\bmotor neuron\w*|\besclerosis lateral\b", r"渐冻症"),
    "ms": (r"\bmultiple sclerosis\b|\besclerosis múltiple\b", r"多发性硬化"),
    "spinal": (r"\bspinal cord injur\w*|\blesión medular\b|\blesiones medulares\b", r"脊髓损伤"),
    "diabetes": (r"\bdiabet\w*", r"糖尿病"),
    "joints": (r"\b(?:osteo)?arthritis\b|\bartritis\b|\bartrosis\b|\bknee\w*", r"关节炎|膝关节"),
    "lungs": (r"\bCOPD\b|\bEPOC\b|\blung disease\b", r"慢阻肺|肺病"),
    "heart": (r"\bheart (?:failure|disease)\b|\binsuficiencia cardíaca\b", r"心衰|心脏病"),
    "ageing": (r"\banti[- ]?aging\b|\bantienvejecimiento\b|\brejuvenat\w*", r"抗衰老|抗衰"),
    "sexual": (r"\berectile\b|\bdisfunción eréctil\b", r"勃起"),
    "lupus": (r"\blupus\b", r"狼疮"),
    "liver": (r"\bcirrhosis\b|\bcirrosis\b|\bliver disease\b", r"肝硬化"),
    "kidney": (r"\bkidney disease\b|\benfermedad renal\b", r"肾病|肾衰"),
    "dystrophy": (r"\bmuscular dystrophy\b|\bdistrofia muscular\b", r"肌营养不良"),
    "eyes": (r"\bmacular degeneration\b|\bdegeneración macular\b", r"黄斑"),
}
MANY = 3

# -- the engine --------------------------------------------------------------------------------


def _compile(table: Table) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{p})" for lang in table for p in table[lang]), re.IGNORECASE)


_SIGN_RES: dict[Flag, re.Pattern[str]] = {flag: _compile(SIGNS[flag]) for flag in SIGNS}
_CTX: dict[str, re.Pattern[str]] = {name: _compile(table) for name, table in CONTEXT.items()}
_CONDITION_RES = {
    name: re.compile("|".join(patterns), re.IGNORECASE) for name, patterns in CONDITIONS.items()
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CLAUSE_EDGE = re.compile(r"[,;:，；：、—–()（）\"“”«»]")
_LATIN_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_BULLET = " \t\r\n•·*-–—>#"
_SPANISH = re.compile(
    r"[ñ¿¡áéíóú]|\b(?:el|la|los|las|de|del|que|y|en|para|por|con|una|es|su|sus|células|ictus)\b",
    re.IGNORECASE,
)
_ENGLISH = re.compile(
    r"\b(?:the|and|of|to|is|for|with|that|this|are|your|you|cells|stroke)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    text: str

    @property
    def question(self) -> bool:
        stripped = self.text.rstrip(" \t\"'”)）")
        return stripped.endswith(("?", "？")) or self.text.lstrip(_BULLET).startswith("¿")


def detect_language(text: str) -> Language:
    """en, es or zh, from the characters and the commonest words."""
    letters = sum(1 for c in text if c.isalpha())
    if letters and len(_CJK.findall(text)) >= 0.2 * letters:
        return "zh"
    return "es" if len(_SPANISH.findall(text)) > len(_ENGLISH.findall(text)) else "en"


def sentences(text: str) -> list[Sentence]:
    """The text cut at sentence ends and line breaks, each with its place in the text."""
    found: list[Sentence] = []
    start = 0
    n = len(text)
    i = 0
    while i < n:
        c = text[i]
        end: int | None = None
        latin_end = c in ".!?;" and (i + 1 == n or text[i + 1].isspace() or text[i + 1] in "\"'”)")
        if c in "\n。！？；" or latin_end:
            end = i + 1
        if end is not None:
            _add(found, text, start, end)
            start = end
        i += 1
    _add(found, text, start, n)
    return found


def _add(found: list[Sentence], text: str, start: int, end: int) -> None:
    while start < end and text[start] in _BULLET:
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end - start >= 2:
        found.append(Sentence(start, end, text[start:end]))


def _negated(text: str, sentence: Sentence, at: int) -> bool:
    """A negation or condition just before `at`, in the same clause."""
    before = text[sentence.start : at]
    edges = list(_CLAUSE_EDGE.finditer(before))
    if edges:
        before = before[edges[-1].end() :]
    if _CJK.search(before[-6:]):
        window = before[-6:]
    else:
        words = _LATIN_WORD.findall(before)
        window = " ".join(words[-4:])
    return bool(_CTX["negation"].search(window))


_QUOTE_EDGE = re.compile(r"[,;](?=\s)|[，；、]")
"""Clause edges for quoting: a comma before a space (not the one in "$15,000"), or Chinese."""
SHORT_SENTENCE = 60
"""A sentence this short is quoted whole; a longer one by the clause that holds the sign.
Measured in `_width`, where a Chinese character counts as three letters (it says about as
much as a short word)."""
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _width(text: str) -> int:
    return len(text) + 2 * len(_HAN.findall(text))


def _quote(text: str, sentence: Sentence, start: int, end: int) -> str:
    """The sentence (short), else the clause holding [start, end), else a window of at most
    QUOTE_LIMIT characters around it cut at spaces: always a substring of `text`."""
    if _width(sentence.text) <= SHORT_SENTENCE:
        return sentence.text
    lo, hi = sentence.start, sentence.end
    for edge in _QUOTE_EDGE.finditer(text, sentence.start, sentence.end):
        if edge.end() <= start:
            lo = edge.end()
        elif edge.start() >= end:
            hi = edge.start()
            break
    clause = text[lo:hi].strip()
    if _width(clause) >= 8 and hi - lo < sentence.end - sentence.start:
        sentence = Sentence(lo, hi, text[lo:hi])
    if sentence.end - sentence.start <= QUOTE_LIMIT:
        return sentence.text.strip()
    room = max(0, (QUOTE_LIMIT - (end - start)) // 2)
    lo = max(sentence.start, start - room)
    hi = min(sentence.end, end + room)
    if lo > sentence.start:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    if hi < sentence.end:
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    return text[lo:hi].strip()


@dataclass
class _Reading:
    flags: dict[Flag, list[str]] = field(default_factory=dict)
    offer: str | None = None
    warns: bool = False

    def add(self, flag: Flag, quote: str) -> None:
        quotes = self.flags.setdefault(flag, [])
        if quote not in quotes and len(quotes) < QUOTES_PER_FLAG:
            quotes.append(quote)


def _signs_in(text: str, sentence: Sentence, reporting: bool) -> Iterable[tuple[Flag, str]]:
    payment_undone = bool(_CTX["free"].search(sentence.text))
    ethics = bool(_CTX["ethics"].search(sentence.text))
    for flag, pattern in _SIGN_RES.items():
        if reporting and flag != "payment":
            continue
        if (flag == "payment" and payment_undone) or (flag == "approval_claim" and ethics):
            continue
        for match in pattern.finditer(text, sentence.start, sentence.end):
            if not _negated(text, sentence, match.start()):
                yield flag, _quote(text, sentence, match.start(), match.end())
                break
    named = [m for m in (r.search(sentence.text) for r in _CONDITION_RES.values()) if m is not None]
    if not reporting and len(named) >= MANY:
        first = min(m.start() for m in named) + sentence.start
        last = max(m.end() for m in named) + sentence.start
        yield "many_conditions", _quote(text, sentence, first, last)


_OFFER_SIGNS: frozenset[Flag] = frozenset({"payment", "urgency", "travel_package"})
"""Signs that are themselves an offer: a price, "book now", flights and hotel."""


def _read(text: str) -> _Reading:
    reading = _Reading()
    for sentence in sentences(text):
        if sentence.question:
            continue
        if _CTX["warning"].search(sentence.text):
            reading.warns = True
            continue
        reporting = bool(_CTX["reporting"].search(sentence.text))
        found = list(_signs_in(text, sentence, reporting))
        if reading.offer is None:
            cue = None if reporting else _CTX["selling"].search(sentence.text)
            if cue is not None:
                start, end = sentence.start + cue.start(), sentence.start + cue.end()
                reading.offer = _quote(text, sentence, start, end)
            else:
                reading.offer = next((q for f, q in found if f in _OFFER_SIGNS), None)
        for flag, quote in found:
            reading.add(flag, quote)
    return reading


def check(text: str, language: str | None = None) -> ClaimCheck:
    """The claim check of `text`; `language` (en/es/zh) only names the answer's language, and
    is detected from the text when None or unknown."""
    lang: Language = language if language in ("en", "es", "zh") else detect_language(text)  # type: ignore[assignment]
    ids = find_ids(text)
    links = tuple(link for _, link in find_registry_links(text))
    reading = _read(text)
    sells = reading.offer is not None
    if sells and not ids and not links:
        assert reading.offer is not None
        reading.add("no_registry_id", reading.offer)
    warns = reading.warns and not sells
    if warns:
        reading.flags.clear()  # a warning article names the signs in order to warn against them
    red_flags = tuple(
        RedFlag(flag, quote) for flag in FLAGS for quote in reading.flags.get(flag, ())
    )
    return ClaimCheck(
        verdict=verdict_of(sells, {f.flag for f in red_flags}),
        red_flags=red_flags,
        registry_ids=tuple(ident for _, ident in ids),
        registry_links=links,
        sells=sells,
        offer_quote=reading.offer,
        language=lang,
        warns=warns,
        id_registries=tuple(ids),
    )


def verdict_of(sells: bool, flags: set[Flag]) -> Verdict:
    """ "warning": it sells and shows a sign beyond a missing registry number; "caution": some
    sign; else "no_red_flags"."""
    if sells and flags - {"no_registry_id"}:
        return "warning"
    return "caution" if flags else "no_red_flags"
