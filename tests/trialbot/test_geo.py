"""Offline gazetteer: exact folded city look-up, choices, suggestions, nearest city, radii.

These run against the packaged data file (loaded once per test session, well under a second)
because what matters is that real names people type resolve to the right places.
"""

from __future__ import annotations

import math
import random

import pytest

from trialbot import geo
from trialbot.geo import (
    Gazetteer,
    Place,
    haversine_km,
    parse_coordinates,
    validate_radius_km,
)

MADRID = (40.4165, -3.70256)
BARCELONA = (41.38879, 2.15899)


@pytest.fixture(scope="module")
def gz() -> Gazetteer:
    return geo.gazetteer()


def test_packaged_gazetteer_loads_once(gz: Gazetteer) -> None:
    assert len(gz) > 30_000
    assert geo.gazetteer() is gz


def test_madrid_found_case_insensitively(gz: Gazetteer) -> None:
    places = gz.find("Madrid")
    assert places[0].country == "ES"
    assert places[0].timezone == "Europe/Madrid"
    assert [p.id for p in gz.find("madrid")] == [p.id for p in places]
    assert [p.id for p in gz.find("  MADRID ")] == [p.id for p in places]
    assert geo.find("Madrid")[0].id == places[0].id


def test_accents_are_ignored(gz: Gazetteer) -> None:
    assert gz.find("Sao Paulo")[0].id == gz.find("São Paulo")[0].id
    assert gz.find("sao paulo")[0].country == "BR"
    assert gz.find("Cordoba, Argentina")[0].name == "Córdoba"


def test_apostrophes_and_hyphens_are_ignored(gz: Gazetteer) -> None:
    antigua = gz.find("Saint John’s", country="AG")
    assert antigua and antigua[0].country == "AG"
    assert gz.find("saint john's", country="AG")[0].id == antigua[0].id
    assert gz.find("Saint Johns", country="AG")[0].id == antigua[0].id
    assert gz.find("aix en provence")[0].id == gz.find("Aix-en-Provence")[0].id


def test_alternate_names_latin_and_cjk(gz: Gazetteer) -> None:
    munich = gz.find("Munich")[0]
    assert munich.country == "DE"
    assert gz.find("MÜNCHEN")[0].id == munich.id
    assert gz.find("munchen")[0].id == munich.id
    beijing = gz.find("北京")[0]
    assert (beijing.name, beijing.country) == ("Beijing", "CN")
    assert gz.find("Peking")[0].id == beijing.id
    assert gz.find("東京")[0].name == "Tokyo"
    assert gz.find("서울")[0].name == "Seoul"


def test_valencia_offers_several_places_biggest_first(gz: Gazetteer) -> None:
    places = gz.find("Valencia")
    countries = [p.country for p in places]
    assert {"ES", "VE"} <= set(countries)
    named = [p for p in places if p.name == "Valencia"]
    assert [p.population for p in named] == sorted((p.population for p in named), reverse=True)
    assert countries.index("VE") < countries.index("ES")  # 1.6 M vs 0.8 M people
    labels = gz.choice_labels(places)
    assert len(set(labels)) == len(labels)
    assert "Valencia, Spain" in labels and "Valencia, Venezuela" in labels


@pytest.mark.parametrize(
    ("query", "country"),
    [
        ("Valencia, Venezuela", "VE"),
        ("Valencia, Spain", "ES"),
        ("Valencia, España", "ES"),
        ("valencia venezuela", "VE"),
    ],
)
def test_country_qualifier_narrows(gz: Gazetteer, query: str, country: str) -> None:
    places = gz.find(query)
    assert places
    assert {p.country for p in places} == {country}


def test_country_argument_narrows(gz: Gazetteer) -> None:
    assert {p.country for p in gz.find("Valencia", country="ES")} == {"ES"}
    assert gz.find("Valencia, Venezuela", country="ES") == []  # conflicting filters


def test_springfield_needs_a_choice(gz: Gazetteer) -> None:
    places = gz.find("Springfield")
    assert len(places) >= 5
    assert all(p.country == "US" for p in places)
    labels = gz.choice_labels(places)
    assert len(set(labels)) == len(labels)
    assert "Springfield, Illinois, United States" in labels
    assert gz.find("Springfield", limit=3) == places[:3]


@pytest.mark.parametrize(
    "query", ["Springfield, Illinois", "Springfield, IL", "Springfield, IL, USA", "springfield, il"]
)
def test_region_qualifier(gz: Gazetteer, query: str) -> None:
    places = gz.find(query)
    assert [(p.name, p.admin1) for p in places] == [("Springfield", "Illinois")]


def test_springfield_us_form(gz: Gazetteer) -> None:
    places = gz.find("Springfield, US")
    assert len(places) >= 5 and {p.country for p in places} == {"US"}


def test_main_names_come_before_alternate_name_matches(gz: Gazetteer) -> None:
    places = gz.find("Paris")
    assert places[0].country == "FR"
    main = [p for p in places if p.name == "Paris"]
    assert places[: len(main)] == main  # "Parys" (alternate name "Paris") comes after


def test_unknown_places(gz: Gazetteer) -> None:
    assert gz.find("Xyzzyville") == []
    assert gz.find("") == []
    assert gz.find("Valencia, Narnia") == []
    assert gz.find("Valencia, Spain, Narnia") == []
    assert gz.find("Madrid", country="VE") == []
    suggestions = gz.suggest("Xyzzyville")
    assert isinstance(suggestions, list)
    assert all(isinstance(p, Place) for p in suggestions)


def test_suggestions_for_typos(gz: Gazetteer) -> None:
    assert gz.suggest("Madird")[0].name == "Madrid"
    assert gz.suggest("Barcelonna")[0].name == "Barcelona"
    assert gz.suggest("Shenyng")[0].name == "Shenyang"
    assert gz.find("Madird") == []  # a suggestion is never a silent match
    assert len(geo.suggest("Valenca", limit=2)) <= 2


def test_same_name_places_without_region_get_distinct_labels(gz: Gazetteer) -> None:
    for query in ("San Fernando", "Santa Cruz", "San José", "Victoria"):
        places = gz.find(query)
        for lang in ("en", "es", "zh"):
            labels = gz.choice_labels(places, lang)
            assert len(set(labels)) == len(labels), (query, lang, labels)


def test_labels(gz: Gazetteer) -> None:
    madrid = gz.find("Madrid, Spain")[0]
    assert madrid.label() == "Madrid, Spain"
    assert madrid.label("es") == "Madrid, España"
    assert madrid.label("zh") == "马德里, 西班牙"
    springfield = gz.find("Springfield, Illinois")[0]
    assert springfield.label(with_admin1=True) == "Springfield, Illinois, United States"
    assert springfield.label() == "Springfield, United States"
    assert gz.find("Singapore")[0].label() == "Singapore"
    assert gz.get(madrid.id) == madrid
    assert gz.get(-1) is None


def test_nearest_and_timezone(gz: Gazetteer) -> None:
    place = gz.nearest(*MADRID)
    assert place is not None and place.name == "Madrid" and place.country == "ES"
    assert geo.timezone_at(*MADRID) == "Europe/Madrid"
    assert gz.timezone_at(40.7128, -74.0060) == "America/New_York"
    assert gz.timezone_at(35.68, 139.69) == "Asia/Tokyo"
    assert geo.nearest(*BARCELONA) is not None


def test_mid_ocean_and_poles(gz: Gazetteer) -> None:
    south_pacific = (-48.876, -123.393)  # Point Nemo
    assert gz.nearest(*south_pacific, max_km=500) is None
    far = gz.nearest(*south_pacific)
    assert far is not None
    assert haversine_km(*south_pacific, far.lat, far.lon) > 2000
    assert gz.timezone_at(*south_pacific) == "UTC"
    for lat, lon in ((89.9, 0.0), (-89.9, 10.0), (0.0, 180.0), (0.0, -180.0)):
        assert gz.nearest(lat, lon) is not None
        assert isinstance(gz.timezone_at(lat, lon), str)


def test_nearest_agrees_with_a_full_scan(gz: Gazetteer) -> None:
    rng = random.Random(20240611)
    points = [(rng.uniform(-85, 85), rng.uniform(-180, 180)) for _ in range(15)]
    points += [(rng.uniform(35, 55), rng.uniform(-10, 30)) for _ in range(10)]  # Europe: dense
    for lat, lon in points:
        got = gz.nearest(lat, lon)
        assert got is not None
        best = min(haversine_km(lat, lon, p.lat, p.lon) for p in gz.places)
        assert haversine_km(lat, lon, got.lat, got.lon) == pytest.approx(best)


def test_small_gazetteer() -> None:
    def place(pid: int, name: str, country: str, lat: float, lon: float, pop: int) -> Place:
        return Place(pid, name, country, None, lat, lon, pop, "UTC")

    small = Gazetteer(
        [
            (place(1, "Alpha", "ES", 10.0, 10.0, 1000), ["Beta"]),
            (place(2, "Beta", "ES", 10.5, 10.5, 500), []),
            (place(3, "Beta", "FR", 50.0, 179.9, 100), []),
        ]
    )
    # Alternate-name matches lead only when bigger than every main-name match.
    assert [p.id for p in small.find("beta")] == [1, 2, 3]
    assert small.nearest(50.0, -179.9) == small.get(3)  # across the date line
    assert small.nearest(-60.0, 0.0, max_km=100) is None
    assert Gazetteer([]).nearest(0.0, 0.0) is None
    assert Gazetteer([]).timezone_at(0.0, 0.0) == "UTC"


def test_haversine() -> None:
    assert haversine_km(*MADRID, *BARCELONA) == pytest.approx(505, abs=5)
    assert haversine_km(*MADRID, *MADRID) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * 6371.0088)
    assert haversine_km(0, 179.5, 0, -179.5) == pytest.approx(111.2, abs=0.2)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, 1),
        (2000, 2000),
        (50, 50),
        ("50", 50),
        (" 75 km", 75),
        ("100km", 100),
        (25.0, 25),
        ("2.000", 2000),  # Spanish thousands separator, not 2 km
        ("1,500 km", 1500),
        ("2 000", 2000),
    ],
)
def test_valid_radius(value: object, expected: int) -> None:
    assert validate_radius_km(value) == expected


@pytest.mark.parametrize(
    "value",
    [
        0,
        2001,
        -5,
        1.5,
        "abc",
        "",
        None,
        True,
        float("nan"),
        float("inf"),
        "1e9",
        "2.5",
        "-5",
        "2.0001",
    ],
)
def test_invalid_radius(value: object) -> None:
    with pytest.raises(ValueError, match="from 1 to 2000"):
        validate_radius_km(value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("40.4168,-3.7038", (40.4168, -3.7038)),
        ("40.4168, -3.7038", (40.4168, -3.7038)),
        (" (40.4168 , -3.7038) ", (40.4168, -3.7038)),
        ("-33.9 151.2", (-33.9, 151.2)),
        ("90,180", (90.0, 180.0)),
        ("+1.5,-2", (1.5, -2.0)),
    ],
)
def test_parse_coordinates(text: str, expected: tuple[float, float]) -> None:
    assert parse_coordinates(text) == expected


@pytest.mark.parametrize(
    "text", ["", "Madrid", "91,0", "0,181", "-90.1,0", "40.4", "40.4,-3.7,5", "1,2 km", "abc,def"]
)
def test_bad_coordinates(text: str) -> None:
    assert parse_coordinates(text) is None


def test_locate_places_a_registry_city_only_when_it_is_clear(gz: Gazetteer) -> None:
    """A record's city is placed by its region when given; a bare name several places share
    is not guessed."""
    ohio = gz.locate("Columbus", "US", "Ohio")
    georgia = gz.locate("Columbus", "US", "GA")
    assert ohio is not None and ohio.admin1 == "Ohio"
    assert georgia is not None and georgia.admin1 == "Georgia"
    assert gz.locate("Columbus", "US") is None  # Ohio's is not 10 times Georgia's
    assert gz.locate("Palo Alto", "US", "Ohio") is None  # only California has one
    assert gz.locate("", "US") is None
    madrid = gz.locate("Madrid", "ES", "Comunidad de Madrid")  # no region names for Spain
    assert madrid is not None and madrid.country == "ES"


def test_stored_place_names_get_their_region(gz: Gazetteer) -> None:
    columbus = gz.find("Columbus, Ohio")[0]
    here = (columbus.lat, columbus.lon)
    assert gz.with_region("Columbus, United States", *here) == "Columbus, Ohio, United States"
    # The name reads in the reader's language, whatever language it was stored in.
    assert gz.with_region("Columbus, Estados Unidos", *here) == "Columbus, Ohio, United States"
    assert gz.with_region("Columbus, United States", *here, "es") == (
        "Columbus, Ohio, Estados Unidos"
    )
    assert gz.with_region("Columbus, Ohio, United States", *here) == "Columbus, Ohio, United States"
    assert gz.with_region("Madrid, Spain", *MADRID) == "Madrid, Spain"
    assert gz.with_region("40.000, -83.000", 40.0, -83.0) == "40.000, -83.000"


def test_a_region_after_the_city_without_commas() -> None:
    from trialbot.geo import find

    for query in ("columbus ohio", "Columbus OH", "Columbus Ohio USA"):
        (place, *_) = find(query)
        assert (place.name, place.admin1) == ("Columbus", "Ohio"), query
    assert find("columbus georgia")[0].admin1 == "Georgia"  # the state, not the country
    assert find("columbus narnia") == []


def test_chinese_name_is_the_simplified_han_name() -> None:
    assert geo.chinese_name(["Madrid", "馬德里", "马德里", "마드리드", "マドリード"]) == "马德里"
    assert geo.chinese_name(["宝安", "寶安", "新安", "深圳", "심천", "深圳市"]) == "深圳"
    assert geo.chinese_name(["沪", "上海", "上海市"]) == "上海"
    assert geo.chinese_name(["東京", "東京都", "도쿄"]) == ""  # no simplified form given
    assert geo.chinese_name([]) == ""


def test_places_and_regions_in_the_readers_language() -> None:
    columbus = geo.find("columbus ohio")
    assert [p.admin1 for p in columbus] == ["Ohio"]
    (ohio,) = columbus
    assert ohio.label("zh", with_admin1=True) == "哥伦布, 俄亥俄州, 美国"
    assert ohio.label("es", with_admin1=True) == "Columbus, Ohio, Estados Unidos"
    assert geo.region_name("US", "New York", "es") == "Nueva York"
    assert geo.region_name("XX", "Nowhere", "zh") == "Nowhere"
    gz = geo.gazetteer()
    assert gz.with_region("Beijing, China", 39.9075, 116.3972, "zh") == "北京, 中国"
    assert gz.with_region("北京, 中国", 39.9075, 116.3972, "en") == "Beijing, China"
    assert gz.with_region("Columbus, United States", 39.96, -83.0) == (
        "Columbus, Ohio, United States"
    )
    assert gz.with_region("40.000, -3.000", 40.0, -3.0, "zh") == "40.000, -3.000"


def test_suggestions_are_typos_not_any_close_string() -> None:
    assert geo.suggest("thank you!") == [] and geo.suggest("hello") == []
    assert geo.suggest("Sevila")[0].name == "Sevilla"
