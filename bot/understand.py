"""A free sentence in English, Spanish or Chinese, read into what a subscription needs.

"i had a stroke 2 years ago are there stem cell trials near columbus ohio" -> any stroke
type, near Columbus (Ohio), a stroke about 2 years ago. Offline and deterministic: rule tables
per language and the packaged gazetteer, no language model. The result is only a proposal:
the handler shows it back and nothing is stored until the person confirms.

Why rules and not keyword spotting over everything: the people writing are stroke survivors
and families, and the words that matter come in a few fixed shapes (a stroke word, a place
after "near"/"in"/"cerca de"/"在…附近", a number with a unit, "N years ago", "I am N"). Words
that could be places anywhere ("Reading", "Mobile", "Of") are only taken after a place word,
or when the place is big; a lone "us" or "all" is not a country or a stroke type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.parsing import (
    ALL,
    DISTANCE,
    ICH,
    ISCHEMIC,
    SAH,
    STROKE,
    UNIT_WORDS,
    Radius,
    conditions_of,
    fold,
    make_radius,
)
from trialbot.countries import parse_country, parse_country_list
from trialbot.geo import gazetteer

BIG_CITY = 500_000
"""A place named without "near"/"in" is only taken when this big (single words like "Reading"
or "Mobile" are also English words)."""
AGE_RANGE = range(1, 121)

# -- stroke words ------------------------------------------------------------------------
_STROKE_TERMS: tuple[tuple[str, frozenset[str]], ...] = (
    # English
    ("stroke", STROKE),
    ("strokes", STROKE),
    ("cva", STROKE),
    ("brain attack", STROKE),
    ("cerebrovascular accident", STROKE),
    ("any stroke", ALL),
    ("any type", ALL),
    ("all types", ALL),
    ("any kind", ALL),
    ("ischemic", ISCHEMIC),
    ("ischaemic", ISCHEMIC),
    ("infarct", ISCHEMIC),
    ("cerebral infarction", ISCHEMIC),
    ("brain infarction", ISCHEMIC),
    ("thrombotic stroke", ISCHEMIC),
    ("embolic stroke", ISCHEMIC),
    ("hemorrhagic", ICH),
    ("haemorrhagic", ICH),
    ("brain bleed", ICH),
    ("bleed in the brain", ICH),
    ("bleed on the brain", ICH),
    ("bleeding in the brain", ICH),
    ("brain hemorrhage", ICH),
    ("brain haemorrhage", ICH),
    ("cerebral hemorrhage", ICH),
    ("cerebral haemorrhage", ICH),
    ("intracerebral hemorrhage", ICH),
    ("intracerebral haemorrhage", ICH),
    ("subarachnoid", SAH),
    ("subarachnoid hemorrhage", SAH),
    ("subarachnoid haemorrhage", SAH),
    ("ruptured aneurysm", SAH),
    ("ruptured brain aneurysm", SAH),
    # Spanish (folded: no accents)
    ("ictus", STROKE),
    ("acv", STROKE),
    ("a.c.v.", STROKE),
    ("accidente cerebrovascular", STROKE),
    ("accidente cerebro vascular", STROKE),
    ("derrame cerebral", STROKE),
    ("apoplejia", STROKE),
    ("cualquier tipo", ALL),
    ("todos los tipos", ALL),
    ("isquemico", ISCHEMIC),
    ("isquemica", ISCHEMIC),
    ("infarto cerebral", ISCHEMIC),
    ("trombosis cerebral", ISCHEMIC),
    ("embolia cerebral", ISCHEMIC),
    ("hemorragico", ICH),
    ("hemorragica", ICH),
    ("hemorragia cerebral", ICH),
    ("hemorragia intracerebral", ICH),
    ("sangrado cerebral", ICH),
    ("hemorragia subaracnoidea", SAH),
    ("subaracnoidea", SAH),
    ("aneurisma roto", SAH),
    # Chinese
    ("中风", STROKE),
    ("卒中", STROKE),
    ("脑卒中", STROKE),
    ("脑中风", STROKE),
    ("脑血管意外", STROKE),
    ("缺血", ISCHEMIC),
    ("缺血性", ISCHEMIC),
    ("脑梗", ISCHEMIC),
    ("脑梗死", ISCHEMIC),
    ("脑梗塞", ISCHEMIC),
    ("脑血栓", ISCHEMIC),
    ("脑栓塞", ISCHEMIC),
    ("出血", ICH),
    ("出血性", ICH),
    ("脑出血", ICH),
    ("脑溢血", ICH),
    ("蛛网膜下腔出血", SAH),
    ("任何类型", ALL),
    ("所有类型", ALL),
)
_CASED_TERMS = (
    (re.compile(r"(?<![\w])ICH(?![\w])"), ICH),
    (re.compile(r"(?<![\w])SAH(?![\w])"), SAH),
)
"""Abbreviations only in capitals ("ich" is German for "I")."""

# -- greetings, thanks, words about trials -----------------------------------------------
_GREETING = re.compile(
    r"^(?:hi+|hello+|hey+|hiya|howdy|yo|good (?:morning|afternoon|evening|day)|greetings|"
    r"hola+|buenas|buenos dias|buenas (?:tardes|noches|dias)|saludos|que tal|"
    r"你好|您好|嗨|哈喽|哈啰|早上好|下午好|晚上好|早安|大家好)(?![a-z])"
)
_THANKS = re.compile(
    r"^(?:thanks|thank you|thx|ty|cheers|many thanks|gracias|muchas gracias|mil gracias|"
    r"谢谢|多谢|感谢|谢了)(?![a-z])"
)
_TRIAL_WORDS = re.compile(
    r"(?<![a-z])(?:trials?|stud(?:y|ies)|research|stem[ -]?cells?|alerts?|notify|notifications?|"
    r"subscribe|let me know|tell me|updates?|ensayos?|estudios?|investigacion(?:es)?|"
    r"celulas? madres?|alertas?|avisame|avisar|avisen|suscribir(?:me)?|notificaciones)(?![a-z])"
    r"|试验|临床|研究|干细胞|提醒|订阅|通知"
)

# -- near me -------------------------------------------------------------------------------
_NEAR_ME = re.compile(
    r"(?<![a-z])(?:near(?: to)? me|close to me|near(?: to)? (?:my|our) (?:home|house|place)|"
    r"near where (?:i|we) live|nearby|near by|in my (?:area|city|town|region)|around me|"
    r"around here|near here|close by|cerca de (?:mi|casa|donde vivo|aqui)|por aqui|"
    r"en mi (?:zona|ciudad|pueblo|region)|cercanos?(?= a mi)|cerca(?= *$))(?![a-z])"
    r"|我(?:家)?附近|离我(?:家)?近|附近(?=的)|本地"
)

# -- numbers -------------------------------------------------------------------------------
_WORD_NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "un": 1, "una": 1, "uno": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12,
    "a couple of": 2, "a couple": 2, "couple of": 2, "un par de": 2,
}  # fmt: skip
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5,
              "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_NUM = r"\d{1,3}|" + "|".join(sorted(map(re.escape, _WORD_NUMBERS), key=len, reverse=True))
_CN_NUM = r"\d{1,3}|[零〇一二两三四五六七八九十百]{1,5}"


def chinese_number(text: str) -> int | None:
    """ "六十八" -> 68, "两" -> 2, "十二" -> 12, "一百" -> 100; digits as they are."""
    if text.isdigit():
        return int(text)
    total, digit = 0, None
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in "十百":
            total += (digit if digit is not None else 1) * (10 if char == "十" else 100)
            digit = None
        else:
            return None
    return total + (digit or 0)


def _number(text: str) -> int | None:
    text = text.strip()
    if text.isdigit():
        return int(text)
    return _WORD_NUMBERS.get(text) if text in _WORD_NUMBERS else chinese_number(text)


# -- time since the stroke -------------------------------------------------------------------
_UNITS = {
    "year": "year", "years": "year", "yr": "year", "yrs": "year", "month": "month",
    "months": "month", "mo": "month", "mos": "month", "week": "week", "weeks": "week",
    "wk": "week", "wks": "week", "day": "day", "days": "day",
    "ano": "year", "anos": "year", "mes": "month", "meses": "month", "semana": "week",
    "semanas": "week", "dia": "day", "dias": "day",
    "年": "year", "个月": "month", "月": "month", "周": "week", "个星期": "week", "星期": "week",
    "个礼拜": "week", "礼拜": "week", "天": "day",
}  # fmt: skip
_EN_UNIT = r"years?|yrs?|months?|mos?|weeks?|wks?|days?"
_ES_UNIT = r"anos?|mes(?:es)?|semanas?|dias?"
_SINCE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(
        rf"(?<![\w])(?:about |around |almost |nearly |over |more than |just over )?(?P<n>{_NUM}) "
        rf"(?P<u>{_EN_UNIT}) (?:ago|back|post[- ]?stroke|after (?:my|his|her|their|the) stroke|"
        r"since (?:my|his|her|their|the) stroke)"
    ),
    re.compile(
        rf"(?<![\w])hace (?:unos |unas |casi |mas de |cerca de |ya )?(?P<n>{_NUM}) "
        rf"(?P<u>{_ES_UNIT})(?![a-z])"
    ),
    re.compile(
        rf"(?P<n>{_CN_NUM})(?:多)?(?P<u>个月|年|个星期|星期|个礼拜|礼拜|周|天)(?:前|之前|以前)"
    ),
)
_SINCE_WORDS: tuple[tuple[re.Pattern[str], int, str], ...] = (
    (re.compile(r"(?<![a-z])last (year|month|week)(?![a-z])"), 1, ""),
    (re.compile(r"(?<![a-z])(?:el )?(ano|mes) pasado(?![a-z])"), 1, ""),
    (re.compile(r"(?<![a-z])(?:la )?(semana) pasada(?![a-z])"), 1, ""),
    (re.compile(r"(?<![a-z])(?:yesterday|ayer)(?![a-z])"), 1, "day"),
    (re.compile(r"去年"), 1, "year"),
    (re.compile(r"前年"), 2, "year"),
    (re.compile(r"上个?月"), 1, "month"),
    (re.compile(r"上(?:个)?(?:周|星期|礼拜)"), 1, "week"),
    (re.compile(r"昨天"), 1, "day"),
)
_SINCE_YEAR = re.compile(
    r"(?:(?<![a-z])(?:in|since|back in|en|desde|el)\s+|(?<!\d))((?:19|20)\d\d)(?:\s*年)?(?!\d)"
)

# -- age -------------------------------------------------------------------------------------
_PERSON = (
    r"i am|i'm|im|i’m|he is|he's|she is|she's|(?:my )?(?:dad|father|mom|mum|mother|husband|"
    r"wife|son|daughter|brother|sister|grandma|grandpa|grandmother|grandfather|partner) is"
)
_AGE_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![\w])(?P<n>\d{1,3})[ -]?(?:years?|yrs?|y)[ -]?(?:old|o)(?![a-z])"),
    re.compile(r"(?<![\w])(?P<n>\d{1,3}) ?y/o(?![a-z])"),
    re.compile(r"(?<![a-z])aged? :? ?(?P<n>\d{1,3})(?![\w])"),
    re.compile(
        rf"(?<![a-z])(?:{_PERSON}) (?:a |an )?(?P<n>\d{{1,3}})(?!\w|[.,]\d| ?(?:{_EN_UNIT}|km|mi|"
        r"miles?|kilomet\w*|%)(?![a-z]))"
    ),
    re.compile(r"(?<![a-z])(?:tengo|tiene|tenia|tiene ya|con|de) (?P<n>\d{1,3}) anos(?![a-z])"),
    re.compile(r"(?<![\w])(?P<n>\d{1,3}) anos de edad"),
    re.compile(r"(?<![a-z])edad :? ?(?P<n>\d{1,3})(?![\w])"),
    re.compile(rf"(?P<n>{_CN_NUM})(?:周)?岁"),
    re.compile(r"(?:年龄|年纪)(?:是|为|:|：)?\s*(?P<n>\d{1,3})"),
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# -- places -----------------------------------------------------------------------------------
_STRONG_MARKERS = (
    "near to", "near", "close to", "closer to", "around", "nearby to", "in and around",
    "cerca de", "cerca a", "alrededor de", "proximo a", "cercanos a", "cercano a", "cerca",
)  # fmt: skip
_WEAK_MARKERS = ("in", "at", "from", "en", "por", "desde", "de")
_MARKER = re.compile(
    r"(?<![\w])("
    + "|".join(sorted(map(re.escape, _STRONG_MARKERS + _WEAK_MARKERS), key=len, reverse=True))
    + r")(?![\w])"
)
_STOP_WORDS = _words(
    "a an and are as at be but by can could do does for from get had has have he her here his "
    "how i if in is it its just look looking me my near need of on or our please so some that "
    "the their them there they this to trial trials study studies stem cell cells want was we "
    "what when where which who will with within would you your any anyone all also about "
    "around after before ago year years month months old help thanks thank hello hi hey "
    "stroke y o el la los las un una unos unas de del en por para con que mi mis su sus es "
    "son hay algun alguna ensayo ensayos estudio estudios celulas madre ictus tengo tiene "
    "hace anos cerca gracias hola vivo busco quiero padre madre "
)
"""Words that end a place name after "near"/"in" and never start one alone."""
_ARTICLES = ("the ", "el ", "la ", "los ", "las ", "le ")
_TOKEN = re.compile(r"[^\W\d_][\w'’.\-]*|\d+|[,;.!?()\"]")


@dataclass(frozen=True)
class Since:
    """When the stroke was, as said: `amount` `unit`s ago, or in `year`."""

    amount: int | None = None
    unit: str | None = None
    year: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            k: v for k, v in (("n", self.amount), ("unit", self.unit), ("year", self.year)) if v
        }


@dataclass(frozen=True)
class Understood:
    """What a sentence says that a subscription can use. Empty fields: not said."""

    greeting: bool = False
    thanks: bool = False
    conditions: frozenset[str] = frozenset()
    """Stroke types named; every type for a generic "stroke". Empty: no stroke mentioned."""
    place: str | None = None
    """Text the gazetteer knows as a place ("columbus ohio"), to look up and offer."""
    unknown_place: str | None = None
    """Text after "near"/"cerca de" that names no place the gazetteer knows."""
    near_me: bool = False
    countries: tuple[str, ...] = ()
    radius: Radius | None = None
    bad_distance: str | None = None
    """A distance out of range, as typed ("5000 km")."""
    since: Since | None = None
    age: int | None = None
    about_trials: bool = False
    """The text asks about trials, studies, stem cells or alerts."""
    rest: tuple[str, ...] = field(default=())
    """Words left unexplained (to tell a request from unrelated chat)."""

    @property
    def where(self) -> bool:
        return bool(self.place or self.near_me or self.countries or self.unknown_place)

    @property
    def wants_alerts(self) -> bool:
        """Enough to propose a subscription: a stroke named, or a place and a reason to think
        the person asks about trials (a place alone in a longer sentence may be anything)."""
        if self.conditions:
            return True
        return self.where and (self.about_trials or not self.rest)

    @property
    def anything(self) -> bool:
        return bool(
            self.conditions or self.where or self.radius or self.since or self.age is not None
        )


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _take(pattern: re.Pattern[str], text: str) -> tuple[re.Match[str] | None, str]:
    found = pattern.search(text)
    return found, (_blank(text, found.start(), found.end()) if found else text)


def _conditions(original: str, text: str) -> tuple[frozenset[str], str]:
    found: list[frozenset[str]] = []
    for cased, buckets in _CASED_TERMS:
        if cased.search(original):
            found.append(buckets)
            text = re.sub(cased.pattern.lower(), lambda m: " " * len(m.group(0)), text)
    for term, buckets in sorted(_STROKE_TERMS, key=lambda tb: len(tb[0]), reverse=True):
        cjk = not term.isascii()
        pattern = re.escape(term) if cjk else rf"(?<![\w]){re.escape(term)}(?![\w])"
        for match in list(re.finditer(pattern, text)):
            found.append(buckets)
            text = _blank(text, match.start(), match.end())
    return conditions_of(found), text


def _since(text: str, stroke: bool) -> tuple[Since | None, str]:
    for pattern in _SINCE_PATTERNS:
        found, text2 = _take(pattern, text)
        if found and (n := _number(found.group("n"))) is not None and 0 < n <= 100:
            return Since(n, _UNITS[found.group("u")]), text2
    for pattern, n, unit in _SINCE_WORDS:
        found, text2 = _take(pattern, text)
        if found:
            return Since(n, unit or _UNITS[found.group(1)]), text2
    if stroke:  # "stroke in 2023", "2023年中风": a year only means the stroke when one is named
        found, text2 = _take(_SINCE_YEAR, text)
        if found:
            return Since(year=int(found.group(1))), text2
    return None, text


def _age(text: str) -> tuple[int | None, str]:
    for pattern in _AGE_PATTERNS:
        for found in pattern.finditer(text):
            n = _number(found.group("n"))
            if n is not None and n in AGE_RANGE:
                return n, _blank(text, found.start(), found.end())
    return None, text


def _distance(text: str) -> tuple[Radius | None, str | None, str]:
    found = DISTANCE.search(text)
    if not found:
        return None, None, text
    rest = _blank(text, found.start(), found.end())
    rest = re.sub(
        r"(?<![a-z])(?:within|a menos de|dentro de|radius|radio|de radio)(?![a-z])", " ", rest
    )
    try:
        return make_radius(found.group(1), UNIT_WORDS[found.group(2)]), None, rest
    except ValueError:
        return None, found.group(0), rest


def _phrase(tokens: list[str]) -> str:
    return " ".join(tokens).replace(" ,", ",").strip(" ,")


def _place_or_countries(phrase: str) -> tuple[str | None, tuple[str, ...]]:
    """A phrase as countries ("spain or portugal") or a place the gazetteer knows."""
    phrase = phrase.strip(" ,")
    for article in _ARTICLES:
        phrase = phrase.removeprefix(article)
    if not phrase or phrase in _STOP_WORDS:
        return None, ()
    codes, unknown = parse_country_list(phrase)
    if codes and not unknown:
        return None, tuple(codes)
    if gazetteer().find(phrase, limit=1):
        return phrase, ()
    return None, ()


def _after_marker(tokens: list[str]) -> list[str]:
    """The words after a place word, up to what cannot be part of a place name."""
    out: list[str] = []
    for token in tokens:
        if token in ';.!?()"' or token.isdigit() or _MARKER.fullmatch(token):
            break
        if token in _STOP_WORDS and token not in _ARTICLES_WORDS | _JOINERS:
            break
        out.append(token)
        if len(out) >= 6:
            break
    while out and out[0] in _ARTICLES_WORDS:
        out.pop(0)
    return out


_HOME = frozenset({"me", "mi", "here", "aqui", "casa", "home"})
_ARTICLES_WORDS = frozenset(a.strip() for a in _ARTICLES)
_JOINERS = frozenset({"and", "or", "y", "o", "e"})
_SETTING_WORDS = _words(
    "live lives living based located i'm im we're were we are vivo vive vivimos estoy estamos "
    "soy somos "
)
"""Words around a place that say where someone is: "I live in Columbus" still asks for it."""


def _places_latin(text: str) -> tuple[str | None, str | None, tuple[str, ...], str]:
    """(place, unknown place after a strong marker, countries, text with them blanked)."""
    place: str | None = None
    unknown: str | None = None
    countries: list[str] = []
    for marker in list(_MARKER.finditer(text)):
        tail = text[marker.end() :]
        tokens = _TOKEN.findall(tail)
        words = _after_marker(tokens)
        hit = False
        for n in range(len(words), 0, -1):
            phrase = _phrase(words[:n])
            found, codes = _place_or_countries(phrase)
            if found or codes:
                if found and place is None:
                    place = found
                countries.extend(c for c in codes if c not in countries)
                start = marker.start()
                end = marker.end() + tail.find(words[n - 1]) + len(words[n - 1])
                text = _blank(text, start, end)
                hit = True
                break
        strong = marker.group(1) in _STRONG_MARKERS
        if not hit and words and strong and unknown is None and words[0] not in _HOME:
            unknown = _phrase(words[:3])
    if place is None and not countries:
        place, found_countries, text = _unmarked_latin(text)
        countries.extend(found_countries)
    return place, (None if place or countries else unknown), tuple(countries), text


def _unmarked_latin(text: str) -> tuple[str | None, list[str], str]:
    """Places named without a place word: a city with its region or country
    ("columbus ohio"), a big city, or a country spelled out ("Spain", "USA")."""
    words = [w for w in _TOKEN.findall(text) if w not in ',;.!?()"']
    countries: list[str] = []
    for n in (4, 3, 2, 1):
        for i in range(len(words) - n + 1):
            gram = words[i : i + n]
            if any(w in _STOP_WORDS or w.isdigit() for w in gram):
                continue
            phrase = " ".join(gram)
            code = parse_country(phrase)
            if code is not None and (len(phrase) >= 4 or phrase in {"usa", "uk", "eeuu", "ee.uu."}):
                if code not in countries:
                    countries.append(code)
                continue
            found = gazetteer().find(phrase, limit=1)
            if found and (n >= 2 or found[0].population >= BIG_CITY):
                start = text.find(gram[0])
                return phrase, [], text if start < 0 else _blank(text, start, start + len(phrase))
    return None, countries, text


def _places_cjk(text: str) -> tuple[str | None, tuple[str, ...], str]:
    """Chinese has no spaces: the longest known place or country name in each run of text."""
    place: str | None = None
    countries: list[str] = []
    for run in re.finditer(r"[\u3400-\u9fff]+", text):
        chunk = run.group(0)
        i = 0
        while i < len(chunk):
            for size in range(min(8, len(chunk) - i), 1, -1):
                sub = chunk[i : i + size]
                code = parse_country(sub)
                if code is not None:
                    countries.append(code)
                    break
                if place is None and gazetteer().find(sub, limit=1):
                    place = sub
                    break
            else:
                i += 1
                continue
            text = text.replace(sub, " " * len(sub), 1)
            i += size
    return place, tuple(dict.fromkeys(countries)), text


def understand(message: str) -> Understood:
    """Read a plain message. Never raises; an empty result means nothing was understood."""
    original = " ".join(message.split())[:500]
    text = fold(original).replace("’", "'")
    greeting = bool(_GREETING.match(text.lstrip("¡¿ ")))
    thanks = bool(_THANKS.match(text.lstrip("¡¿ ")))
    conditions, without_types = _conditions(original, text)
    since, without_since = _since(text, bool(conditions))  # "6 months post-stroke"
    pairs = zip(without_types, without_since, strict=True)
    text = "".join(" " if " " in (a, b) else a for a, b in pairs)
    age, text = _age(text)
    radius, bad_distance, text = _distance(text)
    near_me_found, text = _take(_NEAR_ME, text)
    about_trials = bool(_TRIAL_WORDS.search(text))
    text = _TRIAL_WORDS.sub(" ", text)
    place_cjk, countries_cjk, text = _places_cjk(text)
    place, unknown, countries, text = _places_latin(text)
    place = place or place_cjk
    countries = tuple(dict.fromkeys(countries + countries_cjk))
    if re.search(r"附近|周边|周围|一带", text) and not (place or countries):
        near_me_found = near_me_found or re.search(r"附近", text)
    rest = tuple(
        w
        for w in _TOKEN.findall(_GREETING.sub(" ", _THANKS.sub(" ", text.strip())))
        if w not in ',;.!?()"'
        and w not in _STOP_WORDS | _SETTING_WORDS
        and not w.isdigit()
        and not re.search(r"[\u3400-\u9fff]", w)
    )
    rest_cjk = re.sub(r"[^\u3400-\u9fff]|我|住|在|的|了|附近|呢|吗", "", text)
    rest = rest + ((rest_cjk,) if len(rest_cjk) > 4 else ())
    return Understood(
        greeting=greeting,
        thanks=thanks,
        conditions=conditions,
        place=place,
        unknown_place=unknown,
        near_me=bool(near_me_found) and not place,
        countries=() if place else countries,
        radius=radius,
        bad_distance=bad_distance,
        since=since,
        age=age,
        about_trials=about_trials,
        rest=rest,
    )
