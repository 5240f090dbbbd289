"""Country names as registries spell them -> ISO 3166-1 alpha-2.

Exact look-ups only. pycountry's fuzzy search maps "Republic of Korea" to North Korea and
"U.S." to the Virgin Islands, so anything pycountry cannot match exactly must be in the
explicit alias table below or stays unmapped (logged by the caller, never guessed).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pycountry

# Keys are folded with `_fold`. Add spellings here, never fuzzy matching.
ALIASES: dict[str, str] = {
    "usa": "US",
    "us": "US",
    "u s": "US",
    "u s a": "US",
    "united states of america": "US",
    "america": "US",
    "uk": "GB",
    "u k": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "south korea": "KR",
    "korea south": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "korea rep": "KR",
    "korea": "KR",
    "north korea": "KP",
    "korea democratic people s republic of": "KP",
    "turkey": "TR",
    "turkiye": "TR",
    "turkey turkiye": "TR",
    "turkiye turkey": "TR",
    "russia": "RU",
    "iran": "IR",
    "syria": "SY",
    "vietnam": "VN",
    "laos": "LA",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "moldova": "MD",
    "taiwan": "TW",
    "chinese taipei": "TW",
    "taiwan province of china": "TW",
    "hong kong": "HK",
    "hong kong sar": "HK",
    "macau": "MO",
    "macao": "MO",
    "czech republic": "CZ",
    "czechia": "CZ",
    "macedonia": "MK",
    "macedonia the former yugoslav republic of": "MK",
    "the former yugoslav republic of macedonia": "MK",
    "north macedonia": "MK",
    "libyan arab jamahiriya": "LY",
    "palestinian territory occupied": "PS",
    "palestinian territories": "PS",
    "palestine": "PS",
    "state of palestine": "PS",
    "kosovo": "XK",
    "ivory coast": "CI",
    "cote d ivoire": "CI",
    "congo the democratic republic of the": "CD",
    "democratic republic of the congo": "CD",
    "dr congo": "CD",
    "republic of the congo": "CG",
    "holland": "NL",
    "the netherlands": "NL",
    "swaziland": "SZ",
    "burma": "MM",
    "east timor": "TL",
    "cape verde": "CV",
    "vatican": "VA",
    "holy see vatican city state": "VA",
    "brunei": "BN",
    "micronesia": "FM",
    "federated states of micronesia": "FM",
    "uae": "AE",
    "emirates": "AE",
}


def _fold(name: str) -> str:
    """Lower-case, strip accents and punctuation, squeeze spaces."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    text = re.sub(r"[^\w]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


@lru_cache(maxsize=4096)
def to_iso2(name: str | None) -> str | None:
    """Map a registry's country name to ISO alpha-2, or None if it is not known exactly."""
    if not name or not name.strip():
        return None
    folded = _fold(name)
    if folded in ALIASES:
        return ALIASES[folded]
    try:
        country = pycountry.countries.lookup(name.strip())
    except LookupError:
        return _by_folded_name().get(folded)
    return str(country.alpha_2)


@lru_cache(maxsize=1)
def _by_folded_name() -> dict[str, str]:
    table: dict[str, str] = {}
    for country in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            value = getattr(country, attr, None)
            if value:
                table.setdefault(_fold(value), country.alpha_2)
    return table


def country_name(code: str) -> str:
    """English short name for an ISO code (for display)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    return str(getattr(country, "common_name", None) or country.name)
