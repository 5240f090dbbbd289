"""Offline places: city look-up, nearest city to a pin, time zones, distances and radii.

Cities come from the packaged GeoNames extract `trialbot/data/cities.tsv.gz` (built by
`tools/build_gazetteer.py`; see `trialbot/data/ATTRIBUTION.md`), so nothing here needs the
network or a heavy dependency. Matching is exact on folded names (case, accents, apostrophes,
hyphens ignored; alternate names such as "München" or "北京" included): a close spelling is
only ever offered through `suggest`, never accepted silently.
"""

from __future__ import annotations

import difflib
import functools
import gettext
import gzip
import math
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from typing import Final

import pycountry

from trialbot.countries import display_name, fold, parse_country

EARTH_RADIUS_KM: Final = 6371.0088
MIN_RADIUS_KM: Final = 1
MAX_RADIUS_KM: Final = 2000
DATA_PACKAGE: Final = "trialbot.data"
DATA_FILE: Final = "cities.tsv.gz"
# Cities considered for "did you mean" (difflib over all 34k names is slow and noisy).
SUGGEST_MIN_POPULATION: Final = 50_000
# Same-name places without an admin1 name get "near <bigger city>" within this distance.
NEAR_HINT_MAX_KM: Final = 200.0
DOMINANT: Final = 10
"""A place this many times bigger than every namesake is the one a bare name means ("Madrid");
otherwise the name alone does not say which place it is."""
# A stored place name is matched back to its gazetteer place within this distance of its point
# (a pin is named after a town up to 25 km away).
NAME_AT_POINT_KM: Final = 30.0

# Rings of 1-degree cells searched by `nearest` before it falls back to scanning every city.
_MAX_RINGS: Final = 20
_NEAR_WORD: Final = {"en": "near", "es": "cerca de", "zh": "靠近"}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (good to ~0.5%, plenty for trial-site radii)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def _lang_key(lang: str | None) -> str:
    key = (lang or "en").lower()[:2]
    return key if key in _NEAR_WORD else "en"


@dataclass(frozen=True, slots=True)
class Place:
    """One gazetteer city. `admin1` is the region's name when known (US states, UK nations,
    Canadian provinces, Australian states), else None; `admin1_code` is GeoNames' raw code."""

    id: int
    name: str
    country: str
    admin1: str | None
    lat: float
    lon: float
    population: int
    timezone: str
    admin1_code: str = ""
    zh: str = ""
    """The city's simplified-Chinese name when the gazetteer's alternate names give one."""

    def name_in(self, lang: str = "en") -> str:
        """The city's name for a reader of `lang`: the Chinese name for Chinese readers when
        known, else GeoNames' main name (the data carries no Spanish names as such)."""
        return self.zh if _lang_key(lang) == "zh" and self.zh else self.name

    def label(self, lang: str = "en", *, with_admin1: bool = False) -> str:
        """Text for buttons and messages, in the reader's language where the data allows:
        "Madrid, Spain", "Springfield, Illinois, United States", "哥伦布, 俄亥俄州, 美国"."""
        name = self.name_in(lang)
        parts = [name]
        if with_admin1 and self.admin1:
            region = region_name(self.country, self.admin1, lang)
            if fold(region) != fold(name):  # "New York, New York": the city says it
                parts.append(region)
        country = display_name(self.country, _lang_key(lang))
        if fold(country) not in {fold(name), fold(self.name)}:  # "Singapore", not twice
            parts.append(country)
        return ", ".join(parts)


def chinese_name(alternates: Iterable[str]) -> str:
    """The simplified-Chinese name among a city's alternate names, or "".

    GeoNames' alternate names here carry no language tags, and Chinese, Japanese and Korean
    names sit side by side. A simplified-Chinese name is written in Han characters only and
    fits GB 2312 (which has no traditional or Japanese-only forms: 马德里 does, 馬德里 and
    広州 do not). A name whose "X市" form is also listed is the city's own name (深圳 over
    the district 宝安); otherwise the first such name of two or more characters (the build
    keeps the most common first; one-character names are abbreviations such as 沪).
    """
    han = [a for a in alternates if a and all(_is_han(ch) for ch in a) and _gb2312(a)]
    names = set(han)
    for name in han:
        if not name.endswith("市") and name + "市" in names:
            return name
    return next((name for name in han if len(name) >= 2), "")


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF


def _gb2312(text: str) -> bool:
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


_REGION_CATALOGUE: Final = {"es": "es", "zh": "zh_CN"}


@functools.cache
def _region_translations(lang: str) -> gettext.NullTranslations:
    catalogue = _REGION_CATALOGUE.get(lang)
    if catalogue is None:
        return gettext.NullTranslations()
    try:
        return gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=[catalogue])
    except OSError:  # pragma: no cover - catalogue missing in a trimmed pycountry
        return gettext.NullTranslations()


@functools.cache
def _subdivision_names(country: str) -> dict[str, str]:
    """Folded English region name -> its ISO 3166-2 name (the catalogues' message id)."""
    subdivisions = pycountry.subdivisions.get(country_code=country) or []  # type: ignore[no-untyped-call]
    return {fold(str(s.name)): str(s.name) for s in subdivisions}


@functools.cache
def region_name(country: str, admin1: str, lang: str = "en") -> str:
    """A region's name in the reader's language ("Ohio" -> "俄亥俄州", "New York" -> "Nueva
    York") from the ISO 3166-2 catalogues pycountry ships; the gazetteer's name otherwise."""
    key = _lang_key(lang)
    iso_name = _subdivision_names(country).get(fold(admin1))
    if key == "en" or iso_name is None:
        return admin1
    translated = _region_translations(key).gettext(iso_name)
    return translated if translated and translated != iso_name else admin1


_COORDS: Final = re.compile(
    r"^\s*\(?\s*([-+]?\d{1,3}(?:\.\d+)?)\s*[,;\s]\s*([-+]?\d{1,3}(?:\.\d+)?)\s*\)?\s*$"
)


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """Read "40.4168,-3.7038" or "40.4168, -3.7038" as (lat, lon); None if bad or out of range."""
    match = _COORDS.match(text)
    if match is None:
        return None
    lat, lon = float(match.group(1)), float(match.group(2))
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
        return None
    return lat, lon


KM_PER_MILE: Final = 1.609344
UNITS: Final = ("km", "mi")
"""How a person gave a distance. Matching always uses km; the unit is kept to show it back."""


def km_from(value: int, unit: str) -> int:
    """A distance typed in `unit` as whole km (100 mi -> 161 km)."""
    return round(value * KM_PER_MILE) if unit == "mi" else int(value)


def in_unit(km: int, unit: str) -> int:
    """Whole km shown in `unit`: exact back for any whole number of miles km_from made
    (rounding to km moves a value by under a third of a mile)."""
    return round(km / KM_PER_MILE) if unit == "mi" else int(km)


_RADIUS_TEXT: Final = re.compile(r"^\+?(?:\d+|\d{1,3}(?:[.,\s\u00a0\u202f]\d{3})+)$")


def validate_radius_km(value: object) -> int:
    """A search radius as a whole number of km in 1..2000, or ValueError saying what is allowed.

    Typed text may carry "km" and thousands separators ("2.000", "2,000", "2 000" = 2000, as
    Spanish writes it); decimals are refused rather than guessed.
    """
    message = (
        f"The radius must be a whole number of kilometres from {MIN_RADIUS_KM} to {MAX_RADIUS_KM}."
    )
    if isinstance(value, bool):
        raise ValueError(message)
    if isinstance(value, str):
        text = value.strip().lower().removesuffix("km").strip()
        if not _RADIUS_TEXT.match(text):
            raise ValueError(message)
        number = float(re.sub(r"[^\d]", "", text))
    elif isinstance(value, int | float):
        number = float(value)
    else:
        raise ValueError(message)
    if not math.isfinite(number) or number != int(number):
        raise ValueError(message)
    if not MIN_RADIUS_KM <= number <= MAX_RADIUS_KM:
        raise ValueError(message)
    return int(number)


def _read_rows() -> Iterator[list[str]]:
    with (
        resources.files(DATA_PACKAGE).joinpath(DATA_FILE).open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8") as text,
    ):
        for line in text:
            yield line.rstrip("\n").split("\t")


class Gazetteer:
    """Cities with a folded-name index and a 1-degree grid for nearest-city queries."""

    def __init__(self, rows: Iterable[tuple[Place, list[str]]]) -> None:
        """Build from (place, alternate names); use `load()` for the packaged data."""
        self.places: list[Place] = []
        self._by_id: dict[int, Place] = {}
        primary: dict[str, list[int]] = {}
        alternate: dict[str, list[int]] = {}
        grid: dict[tuple[int, int], list[int]] = {}
        for place, alt_names in rows:
            i = len(self.places)
            self.places.append(place)
            self._by_id[place.id] = place
            main = fold(place.name)
            primary.setdefault(main, []).append(i)
            for key in {fold(alt) for alt in alt_names} - {main, ""}:
                alternate.setdefault(key, []).append(i)
            grid.setdefault(_cell(place.lat, place.lon), []).append(i)
        # Main names and alternate names are kept apart: "Valencia" should list the cities
        # called Valencia before Valence (France), whose Spanish name is also "Valencia".
        self._primary = {key: tuple(v) for key, v in primary.items()}
        self._alternate = {key: tuple(v) for key, v in alternate.items()}
        self._grid = {cell: tuple(v) for cell, v in grid.items()}
        self._suggest_keys: list[str] | None = None

    @classmethod
    def load(cls) -> Gazetteer:
        """Read the packaged gazetteer (under 1 s; call once, see `gazetteer()`)."""

        def rows() -> Iterator[tuple[Place, list[str]]]:
            for cols in _read_rows():
                pid, name, country, a1_code, a1_name, lat, lon, pop, tz, alts = cols
                alt_names = alts.split("|") if alts else []
                place = Place(
                    id=int(pid),
                    name=name,
                    country=sys.intern(country),
                    admin1=sys.intern(a1_name) if a1_name else None,
                    lat=float(lat),
                    lon=float(lon),
                    population=int(pop),
                    timezone=sys.intern(tz),
                    admin1_code=sys.intern(a1_code),
                    zh=chinese_name(alt_names),
                )
                yield place, alt_names

        return cls(rows())

    def __len__(self) -> int:
        return len(self.places)

    def get(self, place_id: int) -> Place | None:
        """Place by GeoNames id (what a choice button carries)."""
        return self._by_id.get(place_id)

    # -- look-up by name -------------------------------------------------------------------

    def _exact(self, name: str, keep: Callable[[Place], bool]) -> list[Place]:
        """Exact folded matches passing `keep`, biggest first; main-name matches lead, and
        alternate-name matches only join them when bigger than every main-name match."""
        key = fold(name)
        main = [p for i in self._primary.get(key, ()) if keep(p := self.places[i])]
        alts = [p for i in self._alternate.get(key, ()) if keep(p := self.places[i])]
        top = max((p.population for p in main), default=0)
        lead = main + [p for p in alts if p.population >= top]
        rest = [p for p in alts if p.population < top]
        return _by_size(lead) + _by_size(rest)

    def _split_qualifier(self, query: str) -> list[tuple[str, str | None, str | None]]:
        """Readings of `query` as (city, country code, admin1 text) to try in order."""
        readings: list[tuple[str, str | None, str | None]] = []
        if "," in query:
            city, _, qualifier = query.rpartition(",")
            code = parse_country(qualifier)
            if code is not None:
                readings.append((city, code, None))
            # "Springfield, Illinois" / "Springfield, IL" (IL is also Israel, tried first)
            readings.append((city, None, qualifier))
            return readings
        readings.append((query, None, None))
        words = query.split()
        for n in (1, 2, 3):  # "Valencia Venezuela", "Valencia Costa Rica"
            if len(words) > n and (code := parse_country(" ".join(words[-n:]))) is not None:
                readings.append((" ".join(words[:-n]), code, None))
                # "Columbus Ohio USA": a region between the city and the country
                readings.extend(
                    (" ".join(words[: -n - m]), code, " ".join(words[-n - m : -n]))
                    for m in (1, 2)
                    if len(words) > n + m
                )
        # "columbus ohio", "Springfield IL", "Portland Oregon": people write the region after
        # the city without a comma; a reading only finds places whose region has that name
        readings.extend(
            (" ".join(words[:-m]), None, " ".join(words[-m:])) for m in (1, 2) if len(words) > m
        )
        return readings

    def find(self, query: str, country: str | None = None, limit: int = 8) -> list[Place]:
        """Places exactly named `query` (folded), biggest first.

        Accepts "City, Country" ("Valencia, Venezuela", "Springfield, US"), "City, Region"
        ("Springfield, Illinois", "Springfield, IL"), "City, Region, Country", and the same
        without commas ("columbus ohio", "Columbus OH USA"). Returns []
        for an unknown name or qualifier; use `suggest` then.
        """
        if not query or not query.strip() or limit <= 0:
            return []
        outer_country: str | None = None
        if query.count(",") >= 2:
            head, _, tail = query.rpartition(",")
            outer_country = parse_country(tail)
            if outer_country is None:
                return []
            query = head
        for city, code, region in self._split_qualifier(query):
            wanted = {c for c in (country, code, outer_country) if c}
            if len(wanted) > 1:
                continue

            def keep(p: Place, wanted: set[str] = wanted, region: str | None = region) -> bool:
                return (not wanted or p.country in wanted) and (
                    region is None or _region_matches(p, region)
                )

            if found := self._exact(city, keep):
                return found[:limit]
        return []

    def locate(self, city: str, country: str, region: str | None = None) -> Place | None:
        """The one place a registry record means by its city, country and (if given) region;
        None when the gazetteer does not know it or several places could be meant.

        A region the gazetteer knows for that country must match ("Columbus" in Georgia is not
        Columbus, Ohio); in countries whose regions it does not name, the region is not used.
        """
        if not city.strip():
            return None

        def in_country(p: Place) -> bool:
            return p.country == country

        found = self._exact(city, in_country)
        if region and region.strip() and any(p.admin1 for p in found):
            found = [p for p in found if _region_matches(p, region)]
        if len(found) > 1 and found[0].population < DOMINANT * found[1].population:
            return None
        return found[0] if found else None

    def place_at(self, name: str, lat: float, lon: float) -> Place | None:
        """The gazetteer place a stored place name means: its first part names a place within
        NAME_AT_POINT_KM of the stored point (the nearest such). None for coordinates or a
        name the gazetteer does not know there.

        A subscription stores its point and the name it was given when created, in whatever
        language the chat had then; this finds the place again so it can be named in the
        reader's language today.
        """
        head = name.partition(",")[0].strip()
        near = [
            (haversine_km(lat, lon, p.lat, p.lon), p) for p in self._exact(head, lambda p: True)
        ]
        near = [(d, p) for d, p in near if d <= NAME_AT_POINT_KM]
        return min(near, key=lambda pair: (pair[0], pair[1].id))[1] if near else None

    def with_region(self, name: str, lat: float, lon: float, lang: str = "en") -> str:
        """A subscription's stored place name as the reader should see it: the place in the
        reader's language with its region ("Columbus, United States" -> "Columbus, Ohio,
        United States"; for a Chinese reader "哥伦布, 俄亥俄州, 美国").

        A name that names no known place near its point (coordinates, say) is kept as stored.
        """
        place = self.place_at(name, lat, lon)
        if place is None:
            return name
        if "," in name:
            return place.label(lang, with_admin1=True)
        # A bare stored name ("Getafe") stays short: the city and its region, no country.
        parts = [place.name_in(lang)]
        if place.admin1:
            parts.append(region_name(place.country, place.admin1, lang))
        return ", ".join(parts)

    def suggest(self, query: str, limit: int = 3) -> list[Place]:
        """Close spellings among populous cities, for "did you mean"; never auto-accept these.

        Only what looks like a typo of the name (`_typo_of`): "Madird" -> Madrid, but not
        "thank you!" -> Shankou, which would keep a question open for an answer to something
        else."""
        folded = fold(query.rpartition(",")[0] if "," in query else query)
        if not folded or limit <= 0:
            return []
        if self._suggest_keys is None:
            self._suggest_keys = sorted(
                {fold(p.name) for p in self.places if p.population >= SUGGEST_MIN_POPULATION}
            )
        keys = [
            key
            for key in difflib.get_close_matches(folded, self._suggest_keys, n=limit, cutoff=0.75)
            if _typo_of(folded, key)
        ]
        out: list[Place] = []
        for key in keys:
            for place in _by_size([self.places[i] for i in self._primary.get(key, ())]):
                if place not in out:
                    out.append(place)
                    break
        return out[:limit]

    def choice_labels(self, places: list[Place], lang: str = "en") -> list[str]:
        """Distinct button labels for same-name places: region when known, else "near X",
        else coordinates. Places whose plain label is already unique keep it."""
        base = [p.label(lang) for p in places]
        labels = list(base)
        for i, place in enumerate(places):
            if base.count(base[i]) == 1:
                continue
            if place.admin1:
                labels[i] = place.label(lang, with_admin1=True)
                continue
            bigger = self._nearest_bigger(place)
            if bigger is not None:
                near = _NEAR_WORD[_lang_key(lang)]
                country = display_name(place.country, _lang_key(lang))
                labels[i] = f"{place.name} ({near} {bigger.name}), {country}"
        repeated = {label for label in labels if labels.count(label) > 1}
        return [
            f"{label} ({p.lat:.2f}, {p.lon:.2f})" if label in repeated else label
            for label, p in zip(labels, places, strict=True)
        ]

    def _nearest_bigger(self, place: Place) -> Place | None:
        """Closest same-country city within NEAR_HINT_MAX_KM that is at least twice as big
        and has 100k people: a landmark the user will recognise."""
        best: Place | None = None
        best_km = NEAR_HINT_MAX_KM
        floor = max(2 * place.population, 100_000)
        reach = math.ceil(NEAR_HINT_MAX_KM / 111.0) + 1
        for other in self._around(place.lat, place.lon, reach):
            if (
                other.country == place.country
                and other.population >= floor
                and fold(other.name) != fold(place.name)
            ):
                d = haversine_km(place.lat, place.lon, other.lat, other.lon)
                if d <= best_km:
                    best, best_km = other, d
        return best

    # -- look-up by position ---------------------------------------------------------------

    def _ring(self, lat: float, lon: float, r: int) -> Iterator[Place]:
        ci, cj = _cell(lat, lon)
        seen: set[tuple[int, int]] = set()
        for di in range(-r, r + 1):
            i = ci + di
            if not -90 <= i <= 90:
                continue
            steps = range(-r, r + 1) if abs(di) == r else (-r, r)
            for dj in steps:
                cell = (i, (cj + dj + 180) % 360 - 180)
                if cell in seen:
                    continue
                seen.add(cell)
                for k in self._grid.get(cell, ()):
                    yield self.places[k]

    def _around(self, lat: float, lon: float, reach: int) -> Iterator[Place]:
        for r in range(reach + 1):
            yield from self._ring(lat, lon, r)

    def nearest(self, lat: float, lon: float, max_km: float | None = None) -> Place | None:
        """Nearest city to a point (for labelling a location pin), or None if none in max_km.

        Searches 1-degree cells ring by ring and stops once no unvisited cell can hold a
        closer city (a lower bound from the ring's latitude and longitude gaps).
        """
        best: Place | None = None
        best_km = math.inf
        for r in range(_MAX_RINGS + 1):
            for place in self._ring(lat, lon, r):
                d = haversine_km(lat, lon, place.lat, place.lon)
                if d < best_km:
                    best, best_km = place, d
            bound = _ring_lower_bound_km(lat, r)
            if best_km <= bound or (max_km is not None and bound > max_km):
                break
        else:  # near the poles or far out at sea: a full scan (~30 ms) is simpler and exact
            for place in self.places:
                d = haversine_km(lat, lon, place.lat, place.lon)
                if d < best_km:
                    best, best_km = place, d
        if best is None or (max_km is not None and best_km > max_km):
            return None
        return best

    def town_near(
        self, lat: float, lon: float, *, within_km: float = 25.0, min_population: int = 100_000
    ) -> Place | None:
        """The place a person would name for a pin: the biggest town close by.

        The nearest GeoNames entry in a big city is often a district ("Arganzuela" for a pin
        in central Madrid); people expect the city.
        """
        nearest = self.nearest(lat, lon)
        if nearest is None:
            return None
        big = [
            p
            for p in self._around(lat, lon, 1)
            if p.population >= max(min_population, nearest.population)
            and haversine_km(lat, lon, p.lat, p.lon) <= within_km
        ]
        return max(big, key=lambda p: p.population) if big else nearest

    def timezone_at(self, lat: float, lon: float) -> str:
        """IANA time zone of the nearest city within 1,500 km, else "UTC"."""
        place = self.nearest(lat, lon, max_km=1500.0)
        return place.timezone if place else "UTC"


def _typo_of(typed: str, name: str) -> bool:
    """A slip of the keyboard: the same first letter and at most one edit (a swap of two
    neighbours counts as one) per four letters of the name."""
    return (
        bool(typed and name)
        and typed[0] == name[0]
        and _edits(typed, name) <= max(1, len(name) // 4)
    )


def _edits(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein plus adjacent transpositions)."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def _by_size(places: list[Place]) -> list[Place]:
    return sorted(places, key=lambda p: (-p.population, p.id))


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat), (math.floor(lon) + 180) % 360 - 180


def _ring_lower_bound_km(lat: float, r: int) -> float:
    """Minimum distance from (lat, ·) to any point outside the cells within ring r."""
    if r == 0:
        return 0.0
    lat_gap = r * math.pi / 180 * EARTH_RADIUS_KM
    phi_max = math.radians(min(90.0, abs(lat) + r + 1))
    lon_gap = 2 * EARTH_RADIUS_KM * math.asin(math.cos(phi_max) * math.sin(math.radians(r) / 2))
    return min(lat_gap, lon_gap)


def _region_matches(place: Place, region: str) -> bool:
    key = fold(region)
    return bool(key) and (
        key == fold(place.admin1 or "")
        or (key == fold(place.admin1_code) and not place.admin1_code.isdigit())
    )


_lock = threading.Lock()
_default: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The packaged gazetteer, loaded once on first use (thread-safe)."""
    global _default
    if _default is None:
        with _lock:
            if _default is None:
                _default = Gazetteer.load()
    return _default


def find(query: str, country: str | None = None, limit: int = 8) -> list[Place]:
    """`Gazetteer.find` on the packaged gazetteer."""
    return gazetteer().find(query, country=country, limit=limit)


def suggest(query: str, limit: int = 3) -> list[Place]:
    """`Gazetteer.suggest` on the packaged gazetteer."""
    return gazetteer().suggest(query, limit=limit)


def nearest(lat: float, lon: float, max_km: float | None = None) -> Place | None:
    """`Gazetteer.nearest` on the packaged gazetteer."""
    return gazetteer().nearest(lat, lon, max_km=max_km)


def timezone_at(lat: float, lon: float) -> str:
    """IANA time zone for a point via the nearest city; "UTC" when nothing is near."""
    return gazetteer().timezone_at(lat, lon)
