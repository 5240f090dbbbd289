"""The /subscribe shortcut grammar, in English and Spanish, with its complaints."""

from __future__ import annotations

import pytest

from bot.parsing import ParseProblem, SubscribeRequest, parse_subscribe

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
