"""The typed shortcut of /subscribe, parsed into a request or a precise complaint.

Grammar (English or Spanish keywords):
    /subscribe [<label>:] <condition> [in <country>[, <country>...]]
               [near <city> | near <lat>,<lon>] [<N> km]
e.g. `/subscribe ischemic in Spain, Portugal`, `/subscribe Mum: hemorrhagic near Madrid 300 km`,
`/subscribe isquémico cerca de Sevilla 100 km`. Places are not looked up here (the gazetteer
may offer several); this only splits the text and validates what it can on its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from trialbot.countries import parse_country_list
from trialbot.geo import parse_coordinates, validate_radius_km

CONDITION_WORDS: dict[str, frozenset[str]] = {}
_ALL = frozenset({"ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage"})
for _words, _buckets in (
    (
        "ischemic ischaemic isquemico isquemica infarto infarction clot 缺血 缺血性 脑梗 脑梗死",
        frozenset({"ischemic"}),
    ),
    (
        "hemorrhagic haemorrhagic hemorrhage haemorrhage ich bleed bleeding hemorragico "
        "hemorragica hemorragia intracerebral 出血 出血性 脑出血",
        frozenset({"intracerebral_hemorrhage"}),
    ),
    (
        "subarachnoid sah subaracnoidea subaracnoideo 蛛网膜下腔出血 蛛网膜下腔",
        frozenset({"subarachnoid_hemorrhage"}),
    ),
    ("any all every anything todos todas cualquiera todo 全部 所有 任何", _ALL),
):
    for _word in _words.split():
        CONDITION_WORDS[_word] = _buckets

DEFAULT_RADIUS_KM = 300
_IN = r"(?:in|en|在)"
_NEAR = r"(?:near|cerca\s+de|cerca|附近|靠近)"
_RADIUS = re.compile(
    r"(?:^|\s)(\d{1,6})\s*(?:km|kms|kilometers|kilometres|kilómetros|kilometros|公里)\s*$", re.I
)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if not unicodedata.combining(c)).casefold().strip()


@dataclass(frozen=True)
class SubscribeRequest:
    conditions: frozenset[str]
    label: str | None = None
    countries: tuple[str, ...] = ()
    place: str | None = None
    coordinates: tuple[float, float] | None = None
    radius_km: int | None = None


@dataclass(frozen=True)
class ParseProblem:
    """What was wrong, as a message key and its values (the handler words it)."""

    key: str
    values: dict[str, str] = field(default_factory=dict)


def parse_condition(word: str) -> frozenset[str] | None:
    return CONDITION_WORDS.get(fold(word).strip(".,;"))


def parse_subscribe(text: str) -> SubscribeRequest | ParseProblem:
    """Parse the arguments after `/subscribe` (the command itself already removed)."""
    text = " ".join(text.split()).replace("：", ":")  # full-width colon, as typed in Chinese
    if not text:
        return ParseProblem("sub.parse.empty")
    label = None
    head, sep, rest = text.partition(":")
    if sep and rest.strip() and not re.search(r"\d$", head) and len(head) <= 40:
        label, text = head.strip() or None, rest.strip()
    radius = None
    found = _RADIUS.search(text)
    if found:
        try:
            radius = validate_radius_km(int(found.group(1)))
        except ValueError:
            return ParseProblem("sub.parse.radius", {"value": found.group(1)})
        text = text[: found.start()].strip()
    near = re.search(rf"(?:^|\s){_NEAR}\s+(?P<place>.+)$", text, re.I)
    place = None
    if near:
        place = near.group("place").strip()
        text = text[: near.start()].strip()
    inside = re.search(rf"(?:^|\s){_IN}\s+(?P<countries>.+)$", text, re.I)
    countries: tuple[str, ...] = ()
    if inside:
        codes, unknown = parse_country_list(inside.group("countries"))
        if unknown:
            return ParseProblem("sub.parse.country", {"value": unknown[0]})
        countries = tuple(codes)
        text = text[: inside.start()].strip()
    words = [w for w in re.split(r"[\s,/+]+", text) if w and fold(w) not in {"and", "y", "or", "o"}]
    if not words:
        return ParseProblem("sub.parse.condition", {"value": ""})
    conditions: set[str] = set()
    for word in words:
        buckets = parse_condition(word)
        if buckets is None:
            return ParseProblem("sub.parse.condition", {"value": word})
        conditions |= buckets
    coordinates = parse_coordinates(place) if place else None
    if place and countries:
        return ParseProblem("sub.parse.both")
    if radius is not None and not place:
        return ParseProblem("sub.parse.radius_without_place")
    return SubscribeRequest(
        conditions=frozenset(conditions),
        label=label,
        countries=countries,
        place=None if coordinates else place,
        coordinates=coordinates,
        radius_km=radius if radius is not None else (DEFAULT_RADIUS_KM if place else None),
    )
