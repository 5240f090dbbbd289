"""Country names -> ISO codes: exact only, registry spellings and what users type.

The dangerous case is a fuzzy match accepted silently ("Republic of Korea" -> North Korea),
so every ambiguous or unknown name must come back as None plus suggestions.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trialbot.countries import (
    ALIASES,
    AMBIGUOUS,
    country_name,
    display_name,
    fold,
    is_region,
    parse_country,
    parse_country_list,
    split_registry_places,
    suggest_countries,
    to_iso2,
)

CTGOV = Path(__file__).resolve().parents[1] / "fixtures" / "ctgov"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("South Korea", "KR"),
        ("Korea, Republic of", "KR"),
        ("Republic of Korea", "KR"),
        ("republic of korea", "KR"),
        ("Korea (South)", "KR"),
        ("Korea", "KR"),  # documented choice: people mean South Korea
        ("North Korea", "KP"),
        ("Democratic People's Republic of Korea", "KP"),
        ("Korea, Democratic People's Republic of", "KP"),
        ("USA", "US"),
        ("U.S.", "US"),
        ("U.S.A.", "US"),
        ("United States", "US"),
        ("U.K.", "GB"),
        ("UK", "GB"),
        ("England", "GB"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("turkiye", "TR"),
        ("TÜRKIYE", "TR"),
        ("Turkey (Türkiye)", "TR"),
        ("España", "ES"),
        ("espana", "ES"),
        ("Estados Unidos", "US"),
        ("EE. UU.", "US"),
        ("EEUU", "US"),
        ("Reino Unido", "GB"),
        ("Corea del Sur", "KR"),
        ("Alemania", "DE"),
        ("Francia", "FR"),
        ("Italia", "IT"),
        ("Países Bajos", "NL"),
        ("Japón", "JP"),
        ("México", "MX"),
        ("Brasil", "BR"),
        ("Turquía", "TR"),
        ("Suiza", "CH"),
        ("Suecia", "SE"),
        ("Bélgica", "BE"),
        ("中国", "CN"),
        ("美国", "US"),
        ("英国", "GB"),
        ("韩国", "KR"),
        ("南韩", "KR"),
        ("日本", "JP"),
        ("台湾", "TW"),
        ("香港", "HK"),
        ("德国", "DE"),
        ("Taiwan", "TW"),
        ("Hong Kong", "HK"),
        ("Russia", "RU"),
        ("Côte d'Ivoire", "CI"),
        ("Cote d’Ivoire", "CI"),
        ("Democratic Republic of the Congo", "CD"),
        ("Republic of the Congo", "CG"),
        ("Kosovo", "XK"),
        ("ES", "ES"),
        ("DEU", "DE"),
    ],
)
def test_user_spellings_map_exactly(text: str, code: str) -> None:
    assert parse_country(text) == code
    assert to_iso2(text) == code


@pytest.mark.parametrize("text", ["Republic of Korea", "Korea, Republic of", "South Korea", "韩国"])
def test_south_korea_never_becomes_north_korea(text: str) -> None:
    assert parse_country(text) == "KR"
    assert to_iso2(text) == "KR"


@pytest.mark.parametrize("text", ["Narnia", "Atlantis", "", "   ", "xx"])
def test_unknown_names_are_none_with_suggestion_list(text: str) -> None:
    assert parse_country(text) is None
    suggestions = suggest_countries(text)
    assert isinstance(suggestions, list)
    assert len(suggestions) <= 3


def test_lower_case_words_are_not_read_as_codes() -> None:
    assert parse_country("in") is None  # not India
    assert parse_country("no") is None  # not Norway
    assert parse_country("IN") == "IN"


def test_congo_alone_is_ambiguous_for_users() -> None:
    assert parse_country("Congo") is None
    assert suggest_countries("Congo")[:2] == ["CD", "CG"]
    assert suggest_countries("刚果")[:2] == ["CD", "CG"]
    # Registry data follows ISO: the short name "Congo" is the Republic of the Congo.
    assert to_iso2("Congo") == "CG"
    assert to_iso2("Congo, The Democratic Republic of the") == "CD"


def test_suggestions_catch_typos_but_are_not_accepted() -> None:
    assert parse_country("Spian") is None
    assert suggest_countries("Spian")[0] == "ES"
    assert suggest_countries("Germny")[0] == "DE"
    assert suggest_countries("Portgual")[0] == "PT"
    assert suggest_countries("Spian", limit=0) == []


@pytest.mark.parametrize(
    ("text", "codes", "unknown"),
    [
        ("Spain, Portugal", ["ES", "PT"], []),
        ("Spain, Portugal and France", ["ES", "PT", "FR"], []),
        ("Spain; Portugal", ["ES", "PT"], []),
        ("Spain & Portugal", ["ES", "PT"], []),
        ("España y Portugal", ["ES", "PT"], []),
        ("España e Italia", ["ES", "IT"], []),
        ("中国、美国和日本", ["CN", "US", "JP"], []),
        ("Korea, Republic of and Spain", ["KR", "ES"], []),
        ("Bosnia and Herzegovina, Trinidad and Tobago", ["BA", "TT"], []),
        ("Antigua y Barbuda", ["AG"], []),
        ("Spain, Narnia", ["ES"], ["Narnia"]),
        ("Congo, Spain", ["ES"], ["Congo"]),
        ("Spain, spain, ESPAÑA", ["ES"], []),
        ("", [], []),
    ],
)
def test_parse_country_list(text: str, codes: list[str], unknown: list[str]) -> None:
    assert parse_country_list(text) == (codes, unknown)


def test_display_names() -> None:
    assert display_name("ES", "es") == "España"
    assert display_name("KR", "es") == "Corea del Sur"
    assert display_name("BO", "es") == "Bolivia"
    assert display_name("US", "zh") == "美国"
    assert display_name("KR", "zh-TW") == "韩国"  # simplified Chinese for every zh variant
    assert display_name("KR", "en") == "South Korea"
    assert display_name("KR", "fr") == "South Korea"  # unknown language -> English
    assert display_name("XK", "en") == "Kosovo"
    assert display_name("ZZ", "en") == "ZZ"
    assert country_name("GB") == "United Kingdom"


def test_every_country_has_a_display_name_in_each_language() -> None:
    import pycountry

    for country in pycountry.countries:
        for lang in ("en", "es", "zh"):
            name = display_name(country.alpha_2, lang)
            assert name and name != country.alpha_2
            # Each display name reads back to its own code (no accidental collisions).
            assert parse_country(name) == country.alpha_2, (lang, name)


def test_hand_tables_are_consistent() -> None:
    folded_aliases = {fold(k) for k in ALIASES}
    assert not folded_aliases & {fold(k) for k in AMBIGUOUS}
    for codes in AMBIGUOUS.values():
        assert len(codes) > 1


def test_fold() -> None:
    assert fold("Saint John’s") == fold("saint john's") == fold("SAINT JOHNS")
    assert fold("São Paulo") == "sao paulo"
    assert fold("Aix-en-Provence") == "aix en provence"
    assert fold("Łódź") == "lodz"
    assert fold("Straße") == "strasse"
    assert fold("서울") == "서울"  # Hangul survives NFKD/NFC
    assert fold("ブ") != fold("フ")  # kana voicing marks are not "accents"


def _walk_countries(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        module = node.get("contactsLocationsModule")
        if isinstance(module, dict):
            for location in module.get("locations") or []:
                if isinstance(location, dict) and "country" in location:
                    yield location["country"]
        for value in node.values():
            yield from _walk_countries(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk_countries(value)


def _fixture_countries() -> set[str]:
    names: set[str] = set()
    for path in sorted(CTGOV.rglob("*.json")):
        names.update(_walk_countries(json.loads(path.read_text(encoding="utf-8"))))
    return names


def test_every_registry_spelling_in_the_fixtures_maps() -> None:
    names = _fixture_countries()
    assert len(names) >= 40  # the walk really found the locations
    unmapped = sorted(name for name in names if to_iso2(name) is None)
    assert unmapped == []
    spot = {
        "Korea, Republic of": "KR",
        "South Korea": "KR",
        "Turkey (Türkiye)": "TR",
        "Turkey": "TR",
        "Russian Federation": "RU",
        "Czechia": "CZ",
        "Taiwan": "TW",
        "Hong Kong": "HK",
        "United Kingdom": "GB",
        "United States": "US",
        "Guam": "GU",
    }
    for name, code in spot.items():
        assert name in names
        assert to_iso2(name) == code


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Iran, Islamic Republic of", "IR"),
        ("Macedonia, The Former Yugoslav Republic of", "MK"),
        ("Libyan Arab Jamahiriya", "LY"),
        ("Palestinian Territory, occupied", "PS"),
        ("Viet Nam", "VN"),
        ("Chinese Taipei", "TW"),
        ("Hong Kong SAR", "HK"),
        ("Macau", "MO"),
        ("Scotland", "GB"),
        ("Türkiye", "TR"),
        ("中华人民共和国", "CN"),
        (None, None),
        ("", None),
        ("Narnia", None),
    ],
)
def test_registry_legacy_names(name: str | None, code: str | None) -> None:
    assert to_iso2(name) == code


def test_registry_country_cells_split_without_breaking_names() -> None:
    # real cells of WHO answers (tests/fixtures/ictrp/recorded/)
    assert split_registry_places("Japan,Asia(except Japan),Australia,Europe") == [
        "Japan",
        "Asia(except Japan)",
        "Australia",
        "Europe",
    ]
    assert split_registry_places("Korea, Republic of;Iran, Islamic Republic of;France;France") == [
        "Korea, Republic of",
        "Iran, Islamic Republic of",
        "France",
    ]
    assert split_registry_places("Congo, The Democratic Republic of the") == [
        "Congo, The Democratic Republic of the"
    ]
    assert split_registry_places("") == [] and split_registry_places(None) == []


def test_regions_are_not_countries() -> None:
    for region in ("Europe", "Asia except Japan", "Asia(except Japan)", "North America", "Oceania"):
        assert is_region(region) and to_iso2(region) is None
    assert not is_region("America")  # the United States, as registries and people use it
    assert not is_region("Japan") and not is_region(None)
