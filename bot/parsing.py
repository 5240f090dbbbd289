"""The typed shortcut of /subscribe, parsed into a request or a precise complaint.

Grammar (English, Spanish or Chinese keywords):
    /subscribe [<label>:] [<condition>...] [in <country>[, <country>...]]
               [near <city> | near <lat>,<lon> | <city>] [<N> km | <N> mi]
e.g. `/subscribe ischemic in Spain, Portugal`, `/subscribe Mum: hemorrhagic near Madrid 300 km`,
`/subscribe isquémico cerca de Sevilla 100 km`, `/subscribe stroke Columbus, OH 100 mi`,
`/subscribe 缺血中国`, `/subscribe 出血北京附近100公里`. A generic word ("stroke", "ictus",
"中风") means every stroke type unless a specific type is named too ("ischemic stroke").
Chinese is written without spaces, so known words are cut out of it first. Places are only
checked here when nothing else says the words are a place (a bare "columbus ohio"); the
handler looks them up (the gazetteer may offer several).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from trialbot.countries import parse_country_list
from trialbot.geo import find as find_places
from trialbot.geo import km_from, parse_coordinates, validate_radius_km

ISCHEMIC = frozenset({"ischemic"})
ICH = frozenset({"intracerebral_hemorrhage"})
SAH = frozenset({"subarachnoid_hemorrhage"})
ALL = ISCHEMIC | ICH | SAH
STROKE: frozenset[str] = frozenset()
"""A generic stroke word: every type, unless the text names a type too."""

CONDITION_WORDS: dict[str, frozenset[str]] = {}
for _words, _buckets in (
    (
        "ischemic ischaemic isquemico isquemica infarto infarction clot 缺血 缺血性 脑梗 脑梗死 "
        "脑梗塞 脑血栓",
        ISCHEMIC,
    ),
    (
        "hemorrhagic haemorrhagic hemorrhage haemorrhage ich bleed bleeding hemorragico "
        "hemorragica hemorragia intracerebral 出血 出血性 脑出血 脑溢血",
        ICH,
    ),
    ("subarachnoid sah subaracnoidea subaracnoideo 蛛网膜下腔出血 蛛网膜下腔", SAH),
    ("any all every anything todos todas cualquiera todo 全部 所有 任何", ALL),
    ("stroke strokes ictus acv cva apoplejia 中风 卒中 脑卒中 脑中风", STROKE),
):
    for _word in _words.split():
        CONDITION_WORDS[_word] = _buckets

PHRASES: dict[str, str] = {
    # several words that name one thing; folded, replaced by a single word before reading
    "subarachnoid hemorrhage": "sah",
    "subarachnoid haemorrhage": "sah",
    "subarachnoid bleed": "sah",
    "hemorragia subaracnoidea": "sah",
    "intracerebral hemorrhage": "ich",
    "intracerebral haemorrhage": "ich",
    "hemorragia intracerebral": "ich",
    "hemorragia cerebral": "ich",
    "brain bleed": "ich",
    "brain hemorrhage": "ich",
    "brain haemorrhage": "ich",
    "infarto cerebral": "ischemic",
    "accidente cerebrovascular": "stroke",
    "derrame cerebral": "stroke",
    "cerebrovascular accident": "stroke",
}
_CJK_WORDS = sorted(
    [w for w in CONDITION_WORDS if not w.isascii()] + ["在", "附近", "靠近", "周边", "周围"],
    key=len,
    reverse=True,
)

DEFAULT_RADIUS_KM = 300
_IN = r"(?:in|en|在)"
_NEAR = r"(?:near|around|cerca\s+de|cerca|alrededor\s+de|附近|靠近)"
_AFTER = r"(?:附近|周边|周围)"
UNIT_WORDS: dict[str, str] = {}
for _unit, _spellings in (
    (
        "km",
        "km kms kilometer kilometers kilometre kilometres kilómetro kilómetros kilometro "
        "kilometros 公里 千米",
    ),
    ("mi", "mi mile miles milla millas 英里"),
):
    for _spelling in _spellings.split():
        UNIT_WORDS[_spelling] = _unit
_UNIT = "|".join(sorted((re.escape(w) for w in UNIT_WORDS), key=len, reverse=True))
_NUMBER = r"\d{1,3}(?:[.,\u00a0\u202f ]\d{3})+|\d{1,6}"
DISTANCE = re.compile(rf"(?<![A-Za-z0-9_.,])({_NUMBER})\s*-?\s*({_UNIT})(?![A-Za-z])", re.I)
"""A number and its unit anywhere in a text: "100 miles", "100mi", "100-mile", "100公里"."""
_RADIUS = re.compile(rf"(?:^|\s)({_NUMBER})\s*({_UNIT})\s*$", re.I)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


@dataclass(frozen=True)
class Radius:
    """A distance as the person gave it: `value` in `unit` ("km" or "mi")."""

    value: int
    unit: str = "km"

    @property
    def km(self) -> int:
        return km_from(self.value, self.unit)


def make_radius(number: str | int, unit: str) -> Radius:
    """A validated distance (ValueError when it is not 1..2000 km once in km)."""
    value = int(re.sub(r"\D", "", number)) if isinstance(number, str) else int(number)
    validate_radius_km(km_from(value, unit))
    return Radius(value, unit)


def parse_radius(text: str, default_unit: str = "km") -> Radius | None:
    """A typed answer to "how far?": "160", "160 km", "100 miles", "100mi", "2.000 km".

    A bare number is in `default_unit` (the unit the person used before). None when the
    text is not one distance or the distance is out of range.
    """
    text = " ".join(text.split()).strip(" .!")
    found = re.fullmatch(
        rf"(?:within\s+|a\s+|dentro\s+de\s+)?({_NUMBER})\s*-?\s*({_UNIT})?", text, re.I
    )
    if not found:
        return None
    unit = UNIT_WORDS[fold(found.group(2))] if found.group(2) else default_unit
    try:
        return make_radius(found.group(1), unit)
    except ValueError:
        return None


@dataclass(frozen=True)
class SubscribeRequest:
    conditions: frozenset[str]
    label: str | None = None
    countries: tuple[str, ...] = ()
    place: str | None = None
    coordinates: tuple[float, float] | None = None
    radius_km: int | None = None
    radius_unit: str = "km"


@dataclass(frozen=True)
class ParseProblem:
    """What was wrong, as a message key and its values (the handler words it)."""

    key: str
    values: dict[str, str] = field(default_factory=dict)


def parse_condition(word: str) -> frozenset[str] | None:
    return CONDITION_WORDS.get(fold(word).strip(".,;"))


def conditions_of(found: list[frozenset[str]]) -> frozenset[str]:
    """Named types win over a generic "stroke": "ischemic stroke" is ischemic only."""
    named = frozenset().union(*found) if found else frozenset()
    return named or (ALL if found else frozenset())


def join_phrases(text: str) -> str:
    """Folded text with multi-word names made one word ("hemorragia subaracnoidea" -> sah)."""
    text = fold(text)
    for phrase, word in PHRASES.items():
        text = re.sub(rf"(?<!\w){re.escape(phrase)}(?!\w)", word, text)
    return text


def split_cjk(text: str) -> str:
    """Spaces around the known Chinese words and numbers, which Chinese writes without."""
    out: list[str] = []
    i = 0
    while i < len(text):
        word = next((w for w in _CJK_WORDS if text.startswith(w, i)), None)
        if word is not None:
            out.append(f" {word} ")
            i += len(word)
            continue
        out.append(text[i])
        i += 1
    spaced = "".join(out)
    spaced = re.sub(r"(?<=[^\x00-\x7f])(?=\d)|(?<=\d)(?=[^\x00-\x7f\d\s公千英])", " ", spaced)
    return " ".join(spaced.split())


def _is_condition_word(word: str) -> bool:
    return parse_condition(word) is not None or fold(word) in {"and", "y", "or", "o", "和", "或"}


def parse_subscribe(text: str) -> SubscribeRequest | ParseProblem:
    """Parse the arguments after `/subscribe` (the command itself already removed)."""
    text = " ".join(text.split()).replace("：", ":").replace("，", ",")  # full-width, as in Chinese
    if not text:
        return ParseProblem("sub.parse.empty")
    label = None
    head, sep, rest = text.partition(":")
    if sep and rest.strip() and not re.search(r"\d$", head) and len(head) <= 40:
        label, text = head.strip() or None, rest.strip()
    if not text.isascii():
        text = split_cjk(text)
    radius: Radius | None = None
    found = _RADIUS.search(text)
    if found:
        try:
            radius = make_radius(found.group(1), UNIT_WORDS[fold(found.group(2))])
        except ValueError:
            return ParseProblem("sub.parse.radius", {"value": found.group(0).strip()})
        text = text[: found.start()].strip()
    words = text.split()
    # leading stroke-type words (multi-word names joined first), then where
    taken: list[frozenset[str]] = []
    index = 0
    while index < len(words):
        joined = join_phrases(" ".join(words[index : index + 2]))
        if " " not in joined and parse_condition(joined) is not None and index + 1 < len(words):
            taken.append(parse_condition(joined) or frozenset())
            index += 2
            continue
        pieces = [p for p in re.split(r"[,/+]+", words[index]) if p]
        if not pieces or not all(_is_condition_word(p) for p in pieces):
            break
        taken.extend(b for p in pieces if (b := parse_condition(p)) is not None)
        index += 1
    rest = " ".join(words[index:])
    place: str | None = None
    countries: tuple[str, ...] = ()
    near = re.match(rf"{_NEAR}\s+(?P<place>.+)$", rest, re.I)
    after = re.match(rf"(?:{_IN}\s+)?(?P<place>.+?)\s*{_AFTER}$", rest, re.I)
    inside = re.match(rf"{_IN}\s+(?P<countries>.+)$", rest, re.I)
    if near:
        place = near.group("place").strip()
    elif after:
        place = after.group("place").strip()
    elif inside:
        codes, unknown = parse_country_list(inside.group("countries"))
        if unknown and find_places(inside.group("countries"), limit=1):
            place = inside.group("countries")  # "in columbus ohio": a city, not a country
        elif unknown:
            return ParseProblem("sub.parse.country", {"value": unknown[0]})
        else:
            countries = tuple(codes)
    elif rest:
        codes, unknown = parse_country_list(rest)
        marker = re.search(rf"(?:^|\s)(?:{_IN}|{_NEAR})\s", rest, re.I)
        if codes and not unknown:
            countries = tuple(codes)
        elif not marker and (
            taken or radius or "," in rest or not rest.isascii() or find_places(rest, limit=1)
        ):
            place = rest
        else:
            return ParseProblem("sub.parse.condition", {"value": rest.split()[0].strip(",")})
    if not taken and not place and not countries:
        return ParseProblem("sub.parse.condition", {"value": ""})
    conditions = conditions_of(taken) or ALL
    coordinates = parse_coordinates(place) if place else None
    if place and countries:
        return ParseProblem("sub.parse.both")
    if radius is not None and not place:
        return ParseProblem("sub.parse.radius_without_place")
    return SubscribeRequest(
        conditions=conditions,
        label=label,
        countries=countries,
        place=None if coordinates else place,
        coordinates=coordinates,
        radius_km=radius.km if radius else (DEFAULT_RADIUS_KM if place else None),
        radius_unit=radius.unit if radius else "km",
    )
