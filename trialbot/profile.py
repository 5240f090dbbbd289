"""The person a subscription is about: when their stroke was and how old they are.

Both are optional and stored as values that age by themselves: the date of the stroke (a
relative answer such as "2 years ago" becomes a date the day it is given) and a birth year
(an age becomes a birth year). Everything here is pure and takes `today` as an argument, so
matching, the window job and the tests all run on a clock the caller controls.

Rules (docs/decisions.md, "Issue 14: profile and fit"):
- A birth year gives two possible ages on a day (before and after the birthday). A person
  fits an age range when either possible age does, so nobody is wrongly excluded; an adult is
  someone whose younger possible age is 18 or more.
- "age 68" is stored as birth year `today.year - 68` (possible ages today: 67 or 68).
- A stroke date is known to the day at best, so a person fits a window when any moment of
  that day could be inside it: the elapsed time lies in (days - 1, days + 1). On whole-day
  windows this is simply `low <= days <= high`.
- A month ("stroke March 2024") is its 15th; a year alone is its 1 July; "N years ago" is the
  same day N years back; the buttons stand for the middle of their span (BUTTON_DAYS).
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from trialbot.facts import TrialFacts

ADULT_AGE = 18
MAX_AGE = 120
DAYS_PER_MONTH, DAYS_PER_YEAR = 30.44, 365.25
"""The same units as the facts (trialbot/facts.py)."""


def rounded_span(days: int) -> tuple[int, str]:
    """A time since the stroke in the unit a person would use: (2, "year"), (8, "month"),
    (3, "week") or (5, "day"). One rounding for every message that says it."""
    if days < 14:
        return days, "day"
    if days < 56:
        return round(days / 7), "week"
    if days < 730:
        return round(days / DAYS_PER_MONTH), "month"
    return round(days / DAYS_PER_YEAR), "year"


@dataclass(frozen=True)
class Profile:
    """What a subscription knows about the person: both optional."""

    stroke_date: date | None = None
    birth_year: int | None = None

    @property
    def empty(self) -> bool:
        return self.stroke_date is None and self.birth_year is None

    def days_since_stroke(self, today: date) -> int | None:
        """Whole days from the stroke to `today` (0 on the day itself)."""
        if self.stroke_date is None:
            return None
        return max(0, (today - self.stroke_date).days)

    def ages(self, today: date) -> tuple[int, int] | None:
        """The two possible ages on `today` (younger, older): a birth year cannot tell
        whether this year's birthday has passed."""
        if self.birth_year is None:
            return None
        older = today.year - self.birth_year
        return max(0, older - 1), max(0, older)


# --- the fit ---------------------------------------------------------------------------------

Verdict = Literal["fits", "does_not_fit", "record_silent", "profile_silent"]


@dataclass(frozen=True)
class Fit:
    """How a person fits a trial, criterion by criterion, on one day."""

    window: Verdict
    age: Verdict
    population: Verdict
    days_since_stroke: int | None = None
    ages: tuple[int, int] | None = None

    @property
    def excluded(self) -> bool:
        """Some criterion the record states rules the person out."""
        return "does_not_fit" in (self.window, self.age, self.population)

    @property
    def excluded_by_window_only(self) -> bool:
        return self.window == "does_not_fit" and "does_not_fit" not in (self.age, self.population)

    @property
    def rank(self) -> int:
        """0 when everything the profile knows fits, 1 when the record is silent on some of
        it, 2 when excluded: `/recent` lists the trials that fit first."""
        if self.excluded:
            return 2
        return 1 if "record_silent" in (self.window, self.age) else 0


def window_fits(days: int, window: tuple[float, float | None]) -> bool:
    """Whether a stroke `days` whole days ago can be inside the window (see the module doc)."""
    low, high = window
    return days + 1 > low and (high is None or days - 1 < high)


def entry_day(window: tuple[float, float | None]) -> int:
    """The first whole day after the stroke on which `window_fits` holds."""
    return max(0, math.floor(window[0]))


def _window_verdict(profile: Profile, facts: TrialFacts, today: date) -> Verdict:
    days = profile.days_since_stroke(today)
    if days is None:
        return "profile_silent"
    if facts.stroke_window_days is None:
        return "record_silent"
    return "fits" if window_fits(days, facts.stroke_window_days) else "does_not_fit"


def _age_verdict(ages: tuple[int, int] | None, facts: TrialFacts) -> Verdict:
    if ages is None:
        return "profile_silent"
    low, high = facts.age_min_years, facts.age_max_years
    if low is None and high is None:
        return "record_silent"
    inside = any((low is None or a >= low) and (high is None or a <= high) for a in ages)
    return "fits" if inside else "does_not_fit"


def _population_verdict(ages: tuple[int, int] | None, facts: TrialFacts) -> Verdict:
    if facts.population is None:
        return "record_silent"
    if ages is None:
        return "profile_silent"
    adult = ages[0] >= ADULT_AGE
    if facts.population in ("children", "newborns"):
        return "does_not_fit" if adult else "fits"
    return "fits" if ages[1] >= ADULT_AGE else "does_not_fit"


def fit(profile: Profile, facts: TrialFacts, today: date) -> Fit:
    """The person against the time window, the age range and the population of the record."""
    ages = profile.ages(today)
    return Fit(
        window=_window_verdict(profile, facts, today),
        age=_age_verdict(ages, facts),
        population=_population_verdict(ages, facts),
        days_since_stroke=profile.days_since_stroke(today),
        ages=ages,
    )


# --- the button answers ----------------------------------------------------------------------

StrokeAnswer = Literal["week", "weeks", "months", "year", "years", "over2"]
BUTTON_DAYS: dict[StrokeAnswer, int] = {
    "week": 3,  # in the last week
    "weeks": 17,  # 1-4 weeks: 2.5 weeks
    "months": 106,  # 1-6 months: 3.5 months
    "year": 274,  # 6-12 months: 9 months
    "years": 548,  # 1-2 years: 18 months
    "over2": 1096,  # over 2 years: 3 years
}
"""Each button's representative time since the stroke, in days: the middle of its span (3
years for "over 2 years"). Someone near the edge of a span may be placed a little wrong; a
typed date is exact."""


def stroke_date_of_answer(answer: StrokeAnswer, today: date) -> date:
    return today - timedelta(days=BUTTON_DAYS[answer])


def birth_year_of_age(age: int, today: date) -> int:
    """The stored form of a typed age (possible ages today: age - 1 or age)."""
    return today.year - age


# --- typed clauses ---------------------------------------------------------------------------


class ProfileError(ValueError):
    """A clause names the stroke or the age but its value cannot be read (or is impossible)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        """`future`, `too_old`, `age`, `date`."""


@dataclass(frozen=True)
class Parsed:
    """The clauses found in a line, and the line without them."""

    stroke_date: date | None
    birth_year: int | None
    rest: str


MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "january jan enero ene",
        "february feb febrero",
        "march mar marzo",
        "april apr abril abr",
        "may mayo",
        "june jun junio",
        "july jul julio",
        "august aug agosto ago",
        "september sep sept septiembre setiembre",
        "october oct octubre",
        "november nov noviembre",
        "december dec diciembre dic",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

_UNITS = {
    "day": "d",
    "days": "d",
    "dia": "d",
    "dias": "d",
    "天": "d",
    "日": "d",
    "week": "w",
    "weeks": "w",
    "semana": "w",
    "semanas": "w",
    "周": "w",
    "星期": "w",
    "个星期": "w",
    "礼拜": "w",
    "个礼拜": "w",
    "month": "m",
    "months": "m",
    "mes": "m",
    "meses": "m",
    "月": "m",
    "个月": "m",
    "year": "y",
    "years": "y",
    "ano": "y",
    "anos": "y",
    "年": "y",
}

_NUM = r"\d{1,4}"
_UNIT = (
    r"days?|weeks?|months?|years?|dias?|semanas?|meses|mes|anos?"
    r"|个月|个星期|个礼拜|星期|礼拜|天|日|周|月|年"
)

_STROKE_VALUE = re.compile(
    rf"(?P<ago_n>{_NUM})\s*(?P<ago_u>{_UNIT})\s*(?:ago|以前|之前|前)"
    rf"|hace\s+(?P<hace_n>{_NUM})\s*(?P<hace_u>{_UNIT})"
    r"|(?P<y1>\d{4})-(?P<m1>\d{1,2})(?:-(?P<d1>\d{1,2}))?"
    r"|(?P<zy>\d{4})\s*年\s*(?:(?P<zm>\d{1,2})\s*月\s*(?:(?P<zd>\d{1,2})\s*[日号])?)?"
    r"|(?:(?:in|en)\s+)?(?P<mn>[a-z]{3,10})\s+(?:(?:de|of)\s+)?(?P<my>\d{4})"
    r"|(?:(?:in|en)\s+)?(?P<yy>\d{4})"
    r"|(?P<day>yesterday|today|ayer|hoy|昨天|今天)"
)
_STROKE = re.compile(
    r"(?:(?:^|(?<=[\s,;:]))(?:(?:a|my|mi|el)\s+)?(?:stroke|ictus)|脑卒中|卒中|中风)\s*[:,：]?\s*"
)
_AGE = re.compile(
    r"(?:(?:^|(?<=[\s,;:]))(?:age|aged|edad)|年龄|岁数)\s*[:,：]?\s*"
    r"(?P<age>\d{1,3})(?:\s*(?:岁|years?|anos?))?(?=$|[\s,;.，。])"
)


def _fold(text: str) -> str:
    """Lower case, accents off (años -> anos), full-width digits as ASCII, one character for
    one character, so positions found in the folded line are positions in the typed one."""
    out = []
    for ch in text:
        plain = unicodedata.normalize("NFKC", ch)
        plain = "".join(
            c for c in unicodedata.normalize("NFD", plain) if not unicodedata.combining(c)
        )
        out.append(plain.lower() if len(plain.lower()) == 1 else ch)
    return "".join(out)


def _shift_months(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    year, month0 = divmod(total, 12)
    following = date(year + (month0 == 11), (month0 + 1) % 12 + 1, 1)
    last = (following - timedelta(days=1)).day
    return date(year, month0 + 1, min(day.day, last))


def _ago(number: int, unit: str, today: date) -> date:
    kind = _UNITS[unit]
    if kind == "d":
        return today - timedelta(days=number)
    if kind == "w":
        return today - timedelta(weeks=number)
    try:
        return _shift_months(today, number if kind == "m" else 12 * number)
    except ValueError as exc:  # before year 1
        raise ProfileError("too_old") from exc


def _calendar(year: int, month: int | None, day: int | None) -> date:
    try:
        if month is None:
            return date(year, 7, 1)
        return date(year, month, day or 15)
    except ValueError as exc:
        raise ProfileError("date") from exc


def _int(value: str | None) -> int | None:
    return int(value) if value else None


def _stroke_value(m: re.Match[str], today: date) -> date:
    g = m.groupdict()
    if g["ago_n"]:
        return _ago(int(g["ago_n"]), g["ago_u"], today)
    if g["hace_n"]:
        return _ago(int(g["hace_n"]), g["hace_u"], today)
    if g["y1"]:
        return _calendar(int(g["y1"]), int(g["m1"]), _int(g["d1"]))
    if g["zy"]:
        return _calendar(int(g["zy"]), _int(g["zm"]), _int(g["zd"]))
    if g["mn"]:
        month = MONTHS.get(g["mn"])
        if month is None:
            raise ProfileError("date")
        return _calendar(int(g["my"]), month, None)
    if g["yy"]:
        return _calendar(int(g["yy"]), None, None)
    return today - timedelta(days=1) if g["day"] in ("yesterday", "ayer", "昨天") else today


def _checked(found: date, today: date) -> date:
    if found > today:
        if found.year == today.year and found.month >= today.month:
            return today  # this month or this year, whose middle lies ahead: today at most
        raise ProfileError("future")
    if found.year < today.year - MAX_AGE:
        raise ProfileError("too_old")
    return found


def parse_stroke(value: str, today: date) -> date:
    """A typed time of the stroke alone ("March 2024", "2 years ago", "hace 3 semanas",
    "2年前") as a date; ProfileError when it cannot be read or lies in the future."""
    m = _STROKE_VALUE.fullmatch(_fold(value.strip()))
    if m is None:
        raise ProfileError("date")
    return _checked(_stroke_value(m, today), today)


def parse_age(value: str, today: date) -> int:
    """A typed age ("68", "68 years", "68岁") as a birth year."""
    m = re.fullmatch(r"\s*(\d{1,3})\s*(?:岁|years?|anos?)?\s*", _fold(value))
    if m is None or int(m.group(1)) > MAX_AGE:
        raise ProfileError("age")
    return birth_year_of_age(int(m.group(1)), today)


def _ends_word(text: str, end: int) -> bool:
    """The value ends at a word's end (a value may take the space after it: "2024年3月 年龄")."""
    return (
        end == len(text)
        or text[end - 1].isspace()
        or not text[end].isalnum()
        or not text[end - 1].isascii()
    )


def parse_clauses(text: str, today: date) -> Parsed:
    """Find `stroke ...` and `age N` clauses anywhere in a line (English, Spanish, Chinese)
    and take them out; what is left is for the subscription parser.

    A stroke word not followed by a time ("any stroke in Spain") is left in place: it is not a
    clause. A clause whose value is impossible (a future date, an age over 120) raises
    ProfileError, so the reply can say what is wrong instead of storing it."""
    folded = _fold(text)
    spans: list[tuple[int, int]] = []
    stroke: date | None = None
    birth: int | None = None
    for head in _STROKE.finditer(folded):
        value = _STROKE_VALUE.match(folded, head.end())
        if value is None or not _ends_word(folded, value.end()):
            continue
        stroke = _checked(_stroke_value(value, today), today)
        spans.append((head.start(), value.end()))
    for m in _AGE.finditer(folded):
        age = int(m.group("age"))
        if age > MAX_AGE:
            raise ProfileError("age")
        birth = birth_year_of_age(age, today)
        spans.append((m.start(), m.end()))
    rest = text
    for start, end in sorted(spans, reverse=True):
        rest = rest[:start] + " " + rest[end:]
    return Parsed(stroke, birth, " ".join(rest.split()))


def years_and_months(days: int) -> tuple[int, int]:
    """Whole years and remaining months in a number of days (for "about 2 years ago")."""
    months = int(days / DAYS_PER_MONTH + 0.5)
    return divmod(months, 12)
