"""Country names as registries spell them and as people type them -> ISO 3166-1 alpha-2.

Exact look-ups only. pycountry's fuzzy search maps "Republic of Korea" to North Korea and
"U.S." to the Virgin Islands, so anything that is not an exact (folded) name in English,
Spanish or Chinese, nor in the explicit alias table below, stays unmapped. Close matches
are only ever offered as suggestions (`suggest_countries`) for the user to confirm.

Two entry points on purpose:

* `to_iso2` is for registry data (CT.gov and friends): ISO short names win, so the ISO name
  "Congo" means the Republic of the Congo (CG), as it does in CT.gov.
* `parse_country` / `parse_country_list` are for what users type: names that real people use
  for two countries ("Congo", "Virgin Islands") are refused and answered with suggestions.
  "Korea" alone is taken as South Korea (KR): that is what people asking about trials mean,
  and North Korea runs no registered trials; "North Korea" and the DPRK's names still map to KP.
"""

from __future__ import annotations

import difflib
import gettext
import re
import unicodedata
from functools import lru_cache
from typing import Final

import pycountry

# Natural spellings; keys are folded with `fold` at import. These override every generated
# name. Add spellings here, never fuzzy matching.
ALIASES: Final[dict[str, str]] = {
    # United States
    "USA": "US",
    "US": "US",
    "U.S.": "US",
    "U.S.A.": "US",
    "United States of America": "US",
    "America": "US",
    "EE. UU.": "US",
    "EEUU": "US",
    "EUA": "US",
    "Estados Unidos de América": "US",
    "美国": "US",
    "美國": "US",
    # United Kingdom
    "UK": "GB",
    "U.K.": "GB",
    "Great Britain": "GB",
    "Britain": "GB",
    "England": "GB",
    "Scotland": "GB",
    "Wales": "GB",
    "Northern Ireland": "GB",
    "Gran Bretaña": "GB",
    "Inglaterra": "GB",
    "Escocia": "GB",
    "Gales": "GB",
    "Irlanda del Norte": "GB",
    "英國": "GB",
    "英格兰": "GB",
    # Korea: "Korea" alone means South Korea (see module docstring).
    "South Korea": "KR",
    "Korea (South)": "KR",
    "Korea, South": "KR",
    "Republic of Korea": "KR",
    "Korea, Republic of": "KR",
    "Korea, Rep.": "KR",
    "Korea": "KR",
    "Corea": "KR",
    "Corea del Sur": "KR",
    "República de Corea": "KR",
    "韩国": "KR",
    "韓國": "KR",
    "南韩": "KR",
    "南韓": "KR",
    "大韩民国": "KR",
    "North Korea": "KP",
    "Korea (North)": "KP",
    "Korea, North": "KP",
    "Korea, Democratic People's Republic of": "KP",
    "Democratic People's Republic of Korea": "KP",
    "DPRK": "KP",
    "Corea del Norte": "KP",
    "朝鲜": "KP",
    "北韩": "KP",
    "北韓": "KP",
    # Türkiye
    "Turkey": "TR",
    "Turkiye": "TR",
    "Turkey (Türkiye)": "TR",
    "Türkiye (Turkey)": "TR",
    "Turquía": "TR",
    # Long-form or legacy registry names and common short forms
    "Russia": "RU",
    "Rusia": "RU",
    "俄国": "RU",
    "Iran": "IR",
    "Syria": "SY",
    "Siria": "SY",
    "Vietnam": "VN",
    "Laos": "LA",
    "Bolivia": "BO",
    "Venezuela": "VE",
    "Tanzania": "TZ",
    "Moldova": "MD",
    "Taiwan": "TW",
    "Taiwán": "TW",
    "Chinese Taipei": "TW",
    "Taiwan, Province of China": "TW",
    "台湾": "TW",
    "臺灣": "TW",
    "台灣": "TW",
    "中国台湾": "TW",
    "玻利维亚": "BO",
    "中华民国": "TW",
    "Hong Kong": "HK",
    "Hong Kong SAR": "HK",
    "Hong Kong, China": "HK",
    "香港": "HK",
    "中国香港": "HK",
    "Macau": "MO",
    "Macao": "MO",
    "澳门": "MO",
    "澳門": "MO",
    "中国": "CN",
    "中國": "CN",
    "中国大陆": "CN",
    "Mainland China": "CN",
    "People's Republic of China": "CN",
    "China (Mainland)": "CN",
    "日本": "JP",
    "Czech Republic": "CZ",
    "Czechia": "CZ",
    "República Checa": "CZ",
    "Macedonia": "MK",
    "Macedonia, The Former Yugoslav Republic of": "MK",
    "The Former Yugoslav Republic of Macedonia": "MK",
    "North Macedonia": "MK",
    "Libyan Arab Jamahiriya": "LY",
    "Palestinian Territory, occupied": "PS",
    "Palestinian Territories": "PS",
    "Palestine": "PS",
    "State of Palestine": "PS",
    "Palestina": "PS",
    "Kosovo": "XK",
    "科索沃": "XK",
    "Ivory Coast": "CI",
    "Cote d'Ivoire": "CI",
    "Costa de Marfil": "CI",
    "Congo, The Democratic Republic of the": "CD",
    "Congo, Democratic Republic of the": "CD",
    "Democratic Republic of the Congo": "CD",
    "Democratic Republic of Congo": "CD",
    "DR Congo": "CD",
    "DRC": "CD",
    "Congo (Kinshasa)": "CD",
    "República Democrática del Congo": "CD",
    "Republic of the Congo": "CG",
    "Republic of Congo": "CG",
    "Congo (Brazzaville)": "CG",
    "Congo-Brazzaville": "CG",
    "República del Congo": "CG",
    "Holland": "NL",
    "The Netherlands": "NL",
    "Holanda": "NL",
    "Swaziland": "SZ",
    "Burma": "MM",
    "East Timor": "TL",
    "Cape Verde": "CV",
    "Vatican": "VA",
    "Vatican City": "VA",
    "Holy See (Vatican City State)": "VA",
    "Vaticano": "VA",
    "Brunei": "BN",
    "Micronesia": "FM",
    "Federated States of Micronesia": "FM",
    "UAE": "AE",
    "Emirates": "AE",
    "Great Britain and Northern Ireland": "GB",
    "British Virgin Islands": "VG",
    "US Virgin Islands": "VI",
    "Islas Vírgenes Británicas": "VG",
    "Islas Vírgenes de EE. UU.": "VI",
    "Islas Vírgenes de los Estados Unidos": "VI",
    "Comoras": "KM",
    "Ciudad del Vaticano": "VA",
    "U.S. Virgin Islands": "VI",
}

# Names that people use for more than one country: never mapped for users, only suggested.
# (to_iso2 still maps the ISO short name "Congo" to CG for registry data.)
AMBIGUOUS: Final[dict[str, tuple[str, ...]]] = {
    "Congo": ("CD", "CG"),
    "刚果": ("CD", "CG"),
    "剛果": ("CD", "CG"),
    "Virgin Islands": ("VG", "VI"),
    "Islas Vírgenes": ("VG", "VI"),
    "Saint Martin": ("MF", "SX"),
    "St Martin": ("MF", "SX"),
    "San Martín": ("MF", "SX"),
}

# Generated names (English/Spanish/Chinese) that fold to the same text for two codes are left
# out of the table. Each known case is listed with the reason; a new one (after a pycountry
# upgrade) raises at import so that nobody silently gets the wrong country.
KNOWN_GENERATED_COLLISIONS: Final[dict[str, frozenset[str]]] = {}

# Short, neutral display names where the ISO short name is a long or inverted form.
_DISPLAY: Final[dict[str, dict[str, str]]] = {
    "en": {
        "CD": "DR Congo",
        "CG": "Republic of the Congo",
        "FM": "Micronesia",
        "PS": "Palestine",
        "RU": "Russia",
        "VA": "Vatican City",
        "VG": "British Virgin Islands",
        "VI": "U.S. Virgin Islands",
        "XK": "Kosovo",
        "TW": "Taiwan",
        "KR": "South Korea",
        "KP": "North Korea",
    },
    "es": {
        "CD": "República Democrática del Congo",
        "CG": "República del Congo",
        "FM": "Micronesia",
        "KM": "Comoras",
        "PS": "Palestina",
        "RU": "Rusia",
        "SY": "Siria",
        "LA": "Laos",
        "VA": "Ciudad del Vaticano",
        "VG": "Islas Vírgenes Británicas",
        "VI": "Islas Vírgenes de EE. UU.",
        "XK": "Kosovo",
        "TW": "Taiwán",
    },
    "zh": {
        "BO": "玻利维亚",
        "CG": "刚果共和国",
        "KR": "韩国",
        "KP": "朝鲜",
        "TW": "台湾",
        "XK": "科索沃",
    },
}

# Languages whose pycountry gettext catalogues feed the exact-name table.
_CATALOGUES: Final[tuple[str, ...]] = ("es", "zh_CN", "zh_TW")

_SPECIAL_LETTERS: Final = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "Ø": "o",
        "ł": "l",
        "Ł": "l",
        "đ": "d",
        "Đ": "d",
        "ð": "d",
        "Ð": "d",
        "æ": "ae",
        "Æ": "ae",
        "œ": "oe",
        "Œ": "oe",
        "þ": "th",
        "Þ": "th",
        "ı": "i",
    }
)
# Apostrophe-like marks are dropped (not spaced) so "Saint John's" == "Saint Johns".
_APOSTROPHES: Final = re.compile(r"['’‘ʼʻ`´′]")
_NON_WORD: Final = re.compile(r"[\W_]+")


def fold(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key, shared by countries and the gazetteer.

    Only Latin combining accents are stripped; NFC then recomposes what NFKD split in other
    scripts (Japanese voiced kana, Hangul syllables) before punctuation becomes spaces.
    """
    text = unicodedata.normalize("NFKD", text.translate(_SPECIAL_LETTERS))
    text = "".join(ch for ch in text if not 0x300 <= ord(ch) <= 0x36F)
    text = unicodedata.normalize("NFC", text).casefold()
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def _fold_table(table: dict[str, str], what: str) -> dict[str, str]:
    """Fold a hand table's keys, failing loudly if two spellings fold together differently."""
    folded: dict[str, str] = {}
    for key, code in table.items():
        k = fold(key)
        if folded.get(k, code) != code:
            raise ValueError(f"{what}: {key!r} folds to {k!r}, already mapped to {folded[k]}")
        folded[k] = code
    return folded


_ALIASES_FOLDED: Final[dict[str, str]] = _fold_table(ALIASES, "ALIASES")
_AMBIGUOUS_FOLDED: Final[dict[str, tuple[str, ...]]] = {fold(k): v for k, v in AMBIGUOUS.items()}
if clash := set(_AMBIGUOUS_FOLDED) & set(_ALIASES_FOLDED):
    raise ValueError(f"names both ambiguous and aliased: {sorted(clash)}")


def _translator(lang: str) -> gettext.NullTranslations:
    try:
        return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except OSError:  # pragma: no cover - catalogue missing in a trimmed pycountry
        return gettext.NullTranslations()


def _names_of(country: object) -> list[str]:
    return [
        str(value)
        for attr in ("name", "official_name", "common_name")
        if (value := getattr(country, attr, None))
    ]


@lru_cache(maxsize=1)
def _generated() -> dict[str, str]:
    """English, Spanish and Chinese ISO names (folded) -> code, collisions left out."""
    candidates: dict[str, set[str]] = {}
    translators = [_translator(lang) for lang in _CATALOGUES]
    for country in pycountry.countries:
        code = str(country.alpha_2)
        for name in _names_of(country):
            spellings = [name] + [t.gettext(name) for t in translators]
            for spelling in spellings:
                if key := fold(spelling):
                    candidates.setdefault(key, set()).add(code)
    table: dict[str, str] = {}
    for key, codes in candidates.items():
        if len(codes) == 1:
            table[key] = next(iter(codes))
        elif KNOWN_GENERATED_COLLISIONS.get(key) != frozenset(codes) and key not in _ALIASES_FOLDED:
            raise ValueError(f"country name {key!r} folds to several codes {sorted(codes)}")
    return table


@lru_cache(maxsize=1)
def _exact_table() -> dict[str, str]:
    """Every exact spelling we accept: generated names overridden by the alias table."""
    table = dict(_generated())
    table.update(_ALIASES_FOLDED)
    return table


@lru_cache(maxsize=4096)
def to_iso2(name: str | None) -> str | None:
    """Map a registry's country name to ISO alpha-2, or None if it is not known exactly."""
    if not name or not name.strip():
        return None
    folded = fold(name)
    if folded in _ALIASES_FOLDED:
        return _ALIASES_FOLDED[folded]
    try:
        country = pycountry.countries.lookup(name.strip())
    except LookupError:
        return _exact_table().get(folded)
    return str(country.alpha_2)


def parse_country(text: str | None) -> str | None:
    """Map one country as a user typed it to ISO alpha-2; None if unknown or ambiguous.

    Codes are accepted only when typed in capitals ("ES", "DEU") so that ordinary words such
    as "in" or "no" are never read as India or Norway.
    """
    if not text or not text.strip():
        return None
    folded = fold(text)
    if folded in _AMBIGUOUS_FOLDED:
        return None
    if folded in _ALIASES_FOLDED:
        return _ALIASES_FOLDED[folded]
    stripped = text.strip()
    if stripped.isascii() and stripped.isalpha() and stripped.isupper():
        country = None
        if len(stripped) == 2:
            country = pycountry.countries.get(alpha_2=stripped)
        elif len(stripped) == 3:
            country = pycountry.countries.get(alpha_3=stripped)
        if country is not None:
            return str(country.alpha_2)
    return _exact_table().get(folded)


@lru_cache(maxsize=1)
def _suggestion_keys() -> tuple[list[str], dict[str, str]]:
    table = _exact_table()
    return sorted(table), table


def suggest_countries(text: str, limit: int = 3) -> list[str]:
    """ISO codes of names close to `text`, best first: for "did you mean", never auto-accepted."""
    folded = fold(text)
    if not folded or limit <= 0:
        return []
    found: list[str] = list(_AMBIGUOUS_FOLDED.get(folded, ()))
    keys, table = _suggestion_keys()
    close = difflib.get_close_matches(folded, keys, n=limit * 4, cutoff=0.72)
    prefixed = [k for k in keys if len(folded) >= 3 and k.startswith(folded)]
    prefixed.sort(key=len)
    for key in close + prefixed:
        code = table[key]
        if code not in found:
            found.append(code)
    return found[:limit]


# Hard separators always split; soft ones (commas, "and", "y", "和"...) may belong to a name
# such as "Korea, Republic of" or "Bosnia and Herzegovina", so pieces are re-joined greedily.
_HARD_SPLIT: Final = re.compile(r"[;\n|/、；，]+")
_SOFT_SPLIT: Final = re.compile(
    r"(\s*,\s*|\s+(?:and|y|e|und|et|or|o)\s+|\s*[&+]\s*|和|与|及)", re.IGNORECASE
)
_MAX_PIECES_PER_NAME: Final = 4


def parse_country_list(text: str) -> tuple[list[str], list[str]]:
    """Split "Spain, Portugal and France" / "España y Portugal" into (codes, unknown parts).

    Codes are unique and in the order given; unknown parts are returned as typed so the
    caller can answer with `suggest_countries` for each.
    """
    codes: list[str] = []
    unknown: list[str] = []
    for chunk in _HARD_SPLIT.split(text):
        parts = _SOFT_SPLIT.split(chunk)
        pieces, seps = parts[0::2], parts[1::2]
        i = 0
        while i < len(pieces):
            if not pieces[i].strip():
                i += 1
                continue
            last = min(len(pieces), i + _MAX_PIECES_PER_NAME) - 1
            for j in range(last, i - 1, -1):
                tail = zip(seps[i:j], pieces[i + 1 : j + 1], strict=True)
                candidate = pieces[i] + "".join(sep + piece for sep, piece in tail)
                code = parse_country(candidate)
                if code is not None:
                    if code not in codes:
                        codes.append(code)
                    i = j + 1
                    break
            else:
                unknown.append(pieces[i].strip())
                i += 1
    return codes, unknown


# World regions as registries write them where a country is expected (jRCT/UMIN's "Asia except
# Japan", "Asia(except Japan)", "Europe", "North America", ...). A region names no country:
# mapping "Europe" to a list of countries would invent sites the record does not give.
REGIONS: Final[frozenset[str]] = frozenset(
    {
        "Africa",
        "Sub-Saharan Africa",
        "North Africa",
        "Asia",
        "Asia except Japan",
        "Asia(except Japan)",
        "Asia (except Japan)",
        "Asia excluding Japan",
        "East Asia",
        "South Asia",
        "Southeast Asia",
        "South-East Asia",
        "Central Asia",
        "Western Asia",
        "Asia Pacific",
        "Asia-Pacific",
        "Middle East",
        "Europe",
        "Western Europe",
        "Eastern Europe",
        "Northern Europe",
        "Southern Europe",
        "Central Europe",
        "European Union",
        "EU",
        "EEA",
        "Scandinavia",
        "Nordic countries",
        "Americas",
        "North America",
        "South America",
        "Central America",
        "Latin America",
        "Caribbean",
        "Oceania",
        "Australasia",
        "Worldwide",
        "International",
        "Multinational",
        "Global",
        "欧州",
        "アジア",
        "北米",
        "南米",
        "オセアニア",
        "アフリカ",
        "欧洲",
        "亚洲",
        "北美",
        "南美",
        "大洋洲",
        "非洲",
    }
)
"""Region names, folded with `fold` when compared. Bare "America" is not one: registries (and
people) use it for the United States (an alias in `ALIASES`)."""

_REGIONS_FOLDED: Final[frozenset[str]] = frozenset(fold(r) for r in REGIONS)
_REGISTRY_HARD_SPLIT: Final = re.compile(r"[;\n、；，]+")
_REGISTRY_SOFT_SPLIT: Final = re.compile(r"\s*,\s*")


def is_region(name: str | None) -> bool:
    """Whether a registry's place name is a world region ("Europe", "Asia except Japan")."""
    return bool(name) and fold(name or "") in _REGIONS_FOLDED


def split_registry_places(text: str | None) -> list[str]:
    """A registry's country cell as its place names, in order, each once (case-insensitive).

    Semicolons, line breaks and CJK list marks always separate; a comma separates unless it
    belongs to a name ("Korea, Republic of", "Iran, Islamic Republic of"): pieces are re-joined
    greedily, longest known name first, as in `parse_country_list`. Each name is either a
    country (`to_iso2`), a region (`is_region`) or unknown; the caller decides what to keep.
    """
    names: list[str] = []
    seen: set[str] = set()

    def add(name: str) -> None:
        cleaned = " ".join(name.split()).strip(" .")
        if cleaned and cleaned.casefold() not in seen:
            seen.add(cleaned.casefold())
            names.append(cleaned)

    for chunk in _REGISTRY_HARD_SPLIT.split(text or ""):
        if not chunk.strip():
            continue
        if to_iso2(chunk) is not None or is_region(chunk):
            add(chunk)
            continue
        pieces = _REGISTRY_SOFT_SPLIT.split(chunk)
        i = 0
        while i < len(pieces):
            last = min(len(pieces), i + _MAX_PIECES_PER_NAME)
            for j in range(last, i + 1, -1):
                candidate = ", ".join(pieces[i:j])
                if to_iso2(candidate) is not None:
                    add(candidate)
                    i = j
                    break
            else:
                add(pieces[i])
                i += 1
    return names


def country_name(code: str) -> str:
    """English short name for an ISO code (for display)."""
    return display_name(code, "en")


@lru_cache(maxsize=1024)
def display_name(code: str, lang: str = "en") -> str:
    """Country name for display: "es" -> Spanish, "zh*" -> simplified Chinese, else English."""
    code = code.upper()
    lang_key = lang.lower()[:2] if lang.lower()[:2] in ("es", "zh") else "en"
    if override := _DISPLAY[lang_key].get(code):
        return override
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    common = getattr(country, "common_name", None)
    english = str(common or country.name)
    if lang_key == "en":
        return english
    translator = _translator("es" if lang_key == "es" else "zh_CN")
    official = translator.gettext(str(country.name))
    if common:
        # Prefer the translated common name ("Corea del Sur"), also when it is spelt as in
        # English ("Bolivia") and the ISO name is an inverted long form.
        short = translator.gettext(str(common))
        if short != common or "," in official:
            return short
    return official
