"""The /subscribe shortcut grammar, in English and Spanish, with its complaints."""

from __future__ import annotations

import pytest

from bot.parsing import ParseProblem, SubscribeRequest, parse_radius, parse_subscribe
from trialbot.geo import in_unit

ISCH, ICH, SAH = "ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage"


@pytest.mark.parametrize(
    ("text", "conditions", "countries", "place", "radius"),
    [
        ("ischemic in Spain, Portugal", {ISCH}, ("ES", "PT"), None, None),
        ("hemorrhagic near Madrid 300 km", {ICH}, (), "Madrid", 300),
        ("ischaemic in U.K.", {ISCH}, ("GB",), None, None),
        ("ICH in South Korea", {ICH}, ("KR",), None, None),
        ("haemorrhagic in Korea, Republic of", {ICH}, ("KR",), None, None),
        ("SAH near Boston", {SAH}, (), "Boston", 300),
        ("all", {ISCH, ICH, SAH}, (), None, None),
        ("ischemic and SAH in USA", {ISCH, SAH}, ("US",), None, None),
        ("isquémico en España y Portugal", {ISCH}, ("ES", "PT"), None, None),
        ("hemorrágico cerca de Sevilla 100 km", {ICH}, (), "Sevilla", 100),
        ("cualquiera en Türkiye", {ISCH, ICH, SAH}, ("TR",), None, None),
        ("缺血 在 中国", {ISCH}, ("CN",), None, None),
    ],
)
def test_valid_shortcuts(
    text: str,
    conditions: set[str],
    countries: tuple[str, ...],
    place: str | None,
    radius: int | None,
) -> None:
    parsed = parse_subscribe(text)
    assert isinstance(parsed, SubscribeRequest), parsed
    assert parsed.conditions == frozenset(conditions)
    assert parsed.countries == countries
    assert parsed.place == place and parsed.radius_km == radius


def test_label_and_coordinates() -> None:
    parsed = parse_subscribe("Mum: any near 40.4168,-3.7038 50 km")
    assert isinstance(parsed, SubscribeRequest)
    assert parsed.label == "Mum" and parsed.coordinates == (40.4168, -3.7038)
    assert parsed.place is None and parsed.radius_km == 50


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "sub.parse.empty"),
        ("migraine", "sub.parse.condition"),
        ("ischemic in Narnia", "sub.parse.country"),
        ("ischemic in Republic of Narnia, Spain", "sub.parse.country"),
        ("any near Madrid 0 km", "sub.parse.radius"),
        ("any near Madrid 2001 km", "sub.parse.radius"),
        ("any 300 km", "sub.parse.radius_without_place"),
    ],
)
def test_complaints(text: str, key: str) -> None:
    parsed = parse_subscribe(text)
    assert isinstance(parsed, ParseProblem) and parsed.key == key


def test_republic_of_korea_is_never_north_korea() -> None:
    parsed = parse_subscribe("any in Republic of Korea, Democratic People's Republic of Korea")
    assert isinstance(parsed, SubscribeRequest) and parsed.countries == ("KR", "KP")


ALL3 = {ISCH, ICH, SAH}


@pytest.mark.parametrize(
    ("text", "conditions", "countries", "place", "radius", "unit"),
    [
        ("stroke in Spain", ALL3, ("ES",), None, None, "km"),
        ("any stroke near Madrid", ALL3, (), "Madrid", 300, "km"),
        ("ischemic stroke near Boston 100 miles", {ISCH}, (), "Boston", 161, "mi"),
        ("ictus en España", ALL3, ("ES",), None, None, "km"),
        ("ictus hemorrágico cerca de Sevilla", {ICH}, (), "Sevilla", 300, "km"),
        ("ictus isquémico en España y Portugal", {ISCH}, ("ES", "PT"), None, None, "km"),
        ("hemorragia subaracnoidea en México", {SAH}, ("MX",), None, None, "km"),
        ("中风 在 中国", ALL3, ("CN",), None, None, "km"),
        ("脑卒中中国", ALL3, ("CN",), None, None, "km"),
        ("缺血中国", {ISCH}, ("CN",), None, None, "km"),
        ("缺血 中国", {ISCH}, ("CN",), None, None, "km"),
        ("出血北京附近100公里", {ICH}, (), "北京", 100, "km"),
        ("蛛网膜下腔出血 上海附近 50英里", {SAH}, (), "上海", 80, "mi"),
        ("Columbus, OH 100 mi", ALL3, (), "Columbus, OH", 161, "mi"),
        ("stroke columbus ohio 100mi", ALL3, (), "columbus ohio", 161, "mi"),
        ("any near Madrid 100 millas", ALL3, (), "Madrid", 161, "mi"),
        ("any in columbus ohio", ALL3, (), "columbus ohio", 300, "km"),
        ("Spain", ALL3, ("ES",), None, None, "km"),
    ],
)
def test_generic_words_chinese_and_miles(
    text: str,
    conditions: set[str],
    countries: tuple[str, ...],
    place: str | None,
    radius: int | None,
    unit: str,
) -> None:
    parsed = parse_subscribe(text)
    assert isinstance(parsed, SubscribeRequest), parsed
    assert parsed.conditions == frozenset(conditions)
    assert parsed.countries == countries
    assert parsed.place == place
    assert (parsed.radius_km, parsed.radius_unit) == (radius, unit)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("any near Madrid 1300 miles", "sub.parse.radius"),
        ("ischemik", "sub.parse.condition"),
        ("stroke 100 mi", "sub.parse.radius_without_place"),
    ],
)
def test_more_complaints(text: str, key: str) -> None:
    parsed = parse_subscribe(text)
    assert isinstance(parsed, ParseProblem) and parsed.key == key


@pytest.mark.parametrize(
    ("text", "default", "expected"),
    [
        ("160", "km", (160, "km")),
        ("160", "mi", (160, "mi")),
        ("160 km", "mi", (160, "km")),
        ("100 miles", "km", (100, "mi")),
        ("100 mi", "km", (100, "mi")),
        ("100mi", "km", (100, "mi")),
        ("2.000 km", "km", (2000, "km")),
        ("60 millas", "km", (60, "mi")),
        ("100公里", "km", (100, "km")),
        ("0", "km", None),
        ("1300 miles", "km", None),
        ("far", "km", None),
    ],
)
def test_typed_distances(text: str, default: str, expected: tuple[int, str] | None) -> None:
    radius = parse_radius(text, default)
    assert (None if radius is None else (radius.value, radius.unit)) == expected


def test_miles_round_trip_to_the_mile() -> None:
    for miles in range(1, 1243):
        radius = parse_radius(f"{miles} miles")
        assert radius is not None and in_unit(radius.km, "mi") == miles
