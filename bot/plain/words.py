"""Plain-language phrases built from the `alerts` catalog and the facts of a record.

Every function returns plain text (not HTML) made only of catalog wording and numbers, so
the renderer escapes it once. Nothing here copies registry prose: the registry's title and
criteria are jargon and can be hostile; what we cannot say in our own words is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import cache

from babel.dates import format_skeleton
from babel.numbers import format_decimal

from bot.i18n import Translator
from bot.plain import record
from jobs.facts import is_placebo
from trialbot.classification import Classification
from trialbot.countries import display_name
from trialbot.facts import Route, TrialFacts
from trialbot.model import OPEN_STATUSES, Site, Trial

BUCKET_ORDER = ("ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage")
_BABEL_LOCALE = {"en": "en", "es": "es", "zh": "zh_Hans"}


def locale_of(t: Translator) -> str:
    return _BABEL_LOCALE.get(t.lang, "en")


def number(value: float, t: Translator) -> str:
    """1148 -> "1,148" (en), "1.148" (es); 2.0 -> "2"."""
    if value == int(value):
        value = int(value)
    return str(format_decimal(value, locale=locale_of(t)))


def month(value: str | None, t: Translator) -> str | None:
    """A registry date as "September 2022" / "septiembre de 2022" / "2022年9月"."""
    if not value:
        return None
    parsed = record.parse_date(value)
    if parsed is None:
        return None
    if len(value) == 4:
        return str(parsed.year)
    return str(format_skeleton("yMMMM", parsed, locale=locale_of(t)))


def full_date(value: date, t: Translator) -> str:
    return str(format_skeleton("yMMMMd", value, locale=locale_of(t)))


@cache
def _country(code: str, lang: str) -> str:
    return display_name(code, lang)


def country_name(site: Site, t: Translator) -> str | None:
    if site.country:
        return _country(site.country, t.lang)
    return site.country_name


def distance(km: float, t: Translator) -> str:
    """Rounded the way people say it: "less than 1 km", "about 12 km", "about 340 km"."""
    if km < 1:
        return t("distance.under_one")
    step = 1 if km < 100 else 10 if km < 1000 else 100
    return t("distance.about", km=number(round(km / step) * step, t))


# --- title and what is tested ----------------------------------------------------------------


def _cell_key(trial: Trial, verdict: Classification) -> str:
    key = record.main_cell(verdict)
    if key is not None:
        return key
    kinds = [i.type for i in trial.interventions if i.type and not is_placebo(i.name)]
    kind = kinds[0].lower() if kinds and kinds[0].lower() in INTERVENTION_KINDS else "other"
    return f"kind.{kind}"


INTERVENTION_KINDS = frozenset(
    {
        "drug",
        "biological",
        "device",
        "procedure",
        "behavioral",
        "dietary_supplement",
        "radiation",
        "diagnostic_test",
        "genetic",
        "combination_product",
        "other",
    }
)


def stroke_words(verdict: Classification, t: Translator, form: str) -> str | None:
    """The stroke types a trial is for, joined with "or"; form "a" (title) or "who"."""
    buckets = [b for b in BUCKET_ORDER if b in verdict.buckets]
    if not buckets and "stroke_unspecified" in verdict.buckets:
        buckets = ["stroke_unspecified"]
    if not buckets:
        return None
    words = [t(f"stroke.{b}.{form}") for b in buckets]
    if len(words) == 1:
        return words[0]
    return t("join.or", a=t("list.sep").join(words[:-1]), b=words[-1])


ROUTE_KEYS: dict[Route, str] = {
    "intravenous": "iv",
    "intraarterial": "ia",
    "intracerebral": "intracerebral",
    "intracavitary": "intracavitary",
    "intraventricular": "intraventricular",
    "intrathecal": "intrathecal",
    "intranasal": "intranasal",
    "intramuscular": "intramuscular",
    "subcutaneous": "subcutaneous",
}
"""Each route's key in the `alerts` catalog (`route.<key>.title/.how/.way`)."""


def plain_title(trial: Trial, verdict: Classification, facts: TrialFacts, t: Translator) -> str:
    """Our title: what is given, how, and for whom; never the registry's title."""
    parts = [t(f"cell.{_cell_key(trial, verdict)}.name")]
    routes = facts.routes
    if len(routes) == 1:
        parts.append(t(f"route.{ROUTE_KEYS[routes[0]]}.title"))
    elif routes:
        parts.append(t("route.multiple.title" if facts.routes_together else "route.groups.title"))
    if facts.population == "newborns":
        parts.append(t("title.for.newborns"))
    elif stroke := stroke_words(verdict, t, "a"):
        window = facts.stroke_window_days
        if window is not None:  # the record's own window; the word "acute" alone is no window
            parts.append(t("title.for.window", window=window_words(window, t), stroke=stroke))
        else:
            parts.append(t("title.for.unspecified", stroke=stroke))
    return t("title.sep").join(parts)


def what_is_tested(
    trial: Trial, verdict: Classification, facts: TrialFacts, t: Translator
) -> list[str]:
    """What the product is (saying plainly when it is not, or only derived from, cells) and
    how it is given: several routes are "in more than one way at once" only when one group
    gets them together."""
    key = _cell_key(trial, verdict)
    lines = [t(f"cell.{key}.about")]
    if verdict.tier == "excluded" or not verdict.buckets:
        lines.append(t("tested.not_stroke_cells"))
    routes = [ROUTE_KEYS[r] for r in facts.routes]
    if len(routes) > 1:
        ways = [t(f"route.{r}.way") for r in routes]
        joined = t("join.and" if facts.routes_together else "join.or",
                   a=t("list.sep").join(ways[:-1]), b=ways[-1])  # fmt: skip
        lines.append(t("route.multiple.how" if facts.routes_together else "route.groups.how",
                       ways=joined))  # fmt: skip
    elif routes:
        lines.append(t(f"route.{routes[0]}.how"))
    else:
        lines.append(t("route.unknown.how"))
    return lines


# --- who can join --------------------------------------------------------------------------


def _years(value: float, t: Translator) -> str:
    return number(round(value, 1), t)


def age_line(facts: TrialFacts, t: Translator) -> str | None:
    low, high = facts.age_min_years, facts.age_max_years
    if low is not None and high is not None:
        return t("who.age.range", low=_years(low, t), high=_years(high, t))
    if low is not None and low > 0:
        return t("who.age.min", low=_years(low, t))
    if high is not None:
        return t("who.age.max", high=_years(high, t))
    return None


_HOURS_PER_DAY, _DAYS_PER_MONTH, _DAYS_PER_YEAR = 24.0, 30.44, 365.25


def _in_unit(days: float) -> tuple[float, str]:
    """A number of days in the unit a registry would have used: hours under two days when
    not whole days, months or years when it is a whole number of them, else days/weeks."""

    def whole(x: float) -> bool:
        return abs(x - round(x)) < 0.02

    years, months = days / _DAYS_PER_YEAR, days / _DAYS_PER_MONTH
    if days < 2 and not whole(days):
        return round(days * _HOURS_PER_DAY, 1), "hour"
    if whole(years) and years >= 2:
        return round(years), "year"
    if days >= 28 and whole(months):
        return round(months), "month"
    if whole(years) and years >= 1:
        return round(years), "year"
    if days >= 14 and whole(days / 7) and not whole(days):
        return round(days / 7), "week"
    return round(days, 1), "day"


def _unit(unit: str, count: float, t: Translator) -> str:
    return t.plural(f"unit.{unit}", 2 if count != 1 else 1)


def window_words(window: tuple[float, float | None], t: Translator) -> str:
    """ "6 to 24 months" / "up to 14 days" / "at least 6 months" / "6 months to 10 years"."""
    low, high = window
    if high is None:
        n, unit = _in_unit(low)
        return t("window.at_least", n=number(n, t), unit=_unit(unit, n, t))
    top, top_unit = _in_unit(high)
    if low == 0:
        return t("window.within", n=number(top, t), unit=_unit(top_unit, top, t))
    bottom, bottom_unit = _in_unit(low)
    months = (low / _DAYS_PER_MONTH, high / _DAYS_PER_MONTH)
    if bottom_unit == "month" and all(abs(m - round(m)) < 0.02 for m in months) and months[1] <= 36:
        bottom, top, top_unit = round(months[0]), round(months[1]), "month"  # "6 to 24 months"
    if bottom_unit == top_unit:
        return t(
            "window.range", low=number(bottom, t), high=number(top, t), unit=_unit(top_unit, top, t)
        )
    return t(
        "window.range_units",
        low=number(bottom, t),
        low_unit=_unit(bottom_unit, bottom, t),
        high=number(top, t),
        high_unit=_unit(top_unit, top, t),
    )


def when_line(verdict: Classification, facts: TrialFacts, t: Translator) -> str | None:
    """When after the stroke people join: the record's own window, else that it does not say
    (never a guess from the word "acute")."""
    if facts.stroke_window_days is not None:
        return t("who.when.window", window=window_words(facts.stroke_window_days, t))
    if not verdict.buckets or facts.population == "newborns":
        return None
    return t("who.when.unknown")


def who_can_join(
    trial: Trial, verdict: Classification, facts: TrialFacts, t: Translator
) -> list[str]:
    """Who the study is for, time since stroke, age, then up to three rules that decide most
    cases, each from the facts."""
    lines: list[str] = []
    if facts.population == "newborns":
        lines.append(t("who.newborns"))
    elif stroke := stroke_words(verdict, t, "who"):
        lines.append(t("who.stroke", stroke=stroke))
    for line in (when_line(verdict, facts, t), age_line(facts, t)):
        if line:
            lines.append(line)
    for criterion in facts.criteria:
        lines.append(t(criterion.key, **criterion.values) if criterion.values else t(criterion.key))
    lines.append(t("who.more") if lines else t("who.none"))
    return lines


# --- how far along -------------------------------------------------------------------------

_PHASE_KEYS: dict[tuple[str, ...], str] = {
    ("EARLY_PHASE1",): "early1",
    ("PHASE1",): "phase1",
    ("PHASE1", "PHASE2"): "phase1_2",
    ("PHASE2",): "phase2",
    ("PHASE2", "PHASE3"): "phase2_3",
    ("PHASE3",): "phase3",
    ("PHASE4",): "phase4",
}


LARGE_STUDY = 150
"""A late-stage (phase 3) study is called "large" only from this many people: the label alone
does not make 60 people at one centre a large test."""


def phase_line(trial: Trial, facts: TrialFacts, t: Translator) -> str:
    """The testing stage in words that follow the record's stated aims and size, not only its
    phase label."""
    phases = tuple(sorted(p for p in trial.phases if p != "NA"))
    key = _PHASE_KEYS.get(phases, "none" if not phases else "other")
    if key in ("early1", "phase1") and facts.efficacy_aim:
        key += ".efficacy"
    elif key in ("phase2_3", "phase3"):
        count = facts.enrollment_count
        key += ".large" if count is not None and count >= LARGE_STUDY else ".small" if count else ""
    return t(f"phase.{key}")


def _open_like(status: str | None) -> bool:
    return status in OPEN_STATUSES or status == "ACTIVE_NOT_RECRUITING"


def _end(trial: Trial) -> str | None:
    """The date the main results are (or were) due, else the study's end, as the registry
    writes it."""
    end = trial.dates.primary_completion or trial.dates.completion
    return end.date if end else None


def planned_end(trial: Trial) -> date | None:
    return record.parse_date(_end(trial))


def is_stale(trial: Trial, today: date) -> bool:
    """The registry still calls it open or running, but the record was last updated over two
    years ago or its planned end has passed: it may well have ended."""
    if not _open_like(trial.overall_status):
        return False
    updated = record.parse_date(trial.last_update)
    end = planned_end(trial)
    old = updated is not None and updated < record.years_before(today, 2)
    return old or (end is not None and end < today)


def status_line(trial: Trial, t: Translator, today: date) -> str:
    """Where the study stands, leading with doubt when the record is out of date."""
    status = (trial.overall_status or "").lower()
    updated = month(trial.last_update, t)
    if is_stale(trial, today) and updated:
        said = t(f"status.word.{status}")
        end = planned_end(trial)
        if end is not None and end < today:
            return t("status.end_passed", status=said, updated=updated, end=month(_end(trial), t))
        return t("status.stale", status=said, updated=updated)
    if status == "unknown" and updated:
        return t("status.unknown_since", updated=updated)
    key = f"status.{status}" if status in STATUSES else "status.other"
    return t(key)


def is_open(trial: Trial, today: date) -> bool:
    """People can join now or soon, as far as an up-to-date record says."""
    return trial.overall_status in OPEN_STATUSES and not is_stale(trial, today)


STATUSES = frozenset(
    {
        "recruiting",
        "not_yet_recruiting",
        "enrolling_by_invitation",
        "active_not_recruiting",
        "completed",
        "terminated",
        "suspended",
        "withdrawn",
        "unknown",
        "available",
        "no_longer_available",
        "temporarily_not_available",
        "approved_for_marketing",
    }
)


def people_line(facts: TrialFacts, t: Translator) -> str | None:
    """How many people, said as a plan, as those who took part, or as "the record lists" when
    the record does not say which (never a guess from the status)."""
    count = facts.enrollment_count
    if count is None or count == 0:
        return None
    kind = {True: "actual", False: "planned", None: "listed"}[facts.enrollment_actual]
    return t.plural(f"people.{kind}", count, n=number(count, t))


def design_lines(trial: Trial, facts: TrialFacts, t: Translator) -> list[str]:
    """Comparison group, chance allocation and blinding, each only when the record says."""
    lines: list[str] = []
    if facts.control is not None:
        lines.append(t(f"design.{facts.control}"))
    if facts.randomised and facts.control != "none":
        lines.append(t("design.randomized"))
    masking = trial.design.masking
    who = set(trial.design.who_masked)
    if masking == "NONE":
        lines.append(t("design.open"))
    elif masking == "BLINDED":  # ISRCTN: "Blinded (masking used)", without saying who
        lines.append(t("design.blind_some"))
    elif masking in ("SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"):
        patients = "PARTICIPANT" in who
        team = bool(who & {"INVESTIGATOR", "CARE_PROVIDER"})
        raters = "OUTCOMES_ASSESSOR" in who
        if not who:
            lines.append(t("design.blind_double" if masking != "SINGLE" else "design.blind_some"))
        elif patients and team:
            lines.append(t("design.blind_double"))
        elif patients:
            lines.append(t("design.blind_patients"))
        elif team or raters:
            lines.append(t("design.blind_raters"))
    return lines


def record_lines(trial: Trial, facts: TrialFacts, t: Translator, today: date) -> list[str]:
    """Who runs it, when it plans to end, and whether results are posted."""
    lines: list[str] = []
    if trial.sponsor and trial.sponsor.name.strip():
        lines.append(t("how.sponsor", sponsor=record.shorten(trial.sponsor.name, 120)))
    end = planned_end(trial)
    if end is not None and end >= today and _open_like(trial.overall_status):
        lines.append(t("how.planned_end", end=month(_end(trial), t)))
    updated = month(trial.last_update, t)
    if updated and not is_stale(trial, today) and trial.overall_status != "UNKNOWN":
        lines.append(t("how.updated", updated=updated))  # the stale line already says it
    if facts.results_posted:
        lines.append(t("how.results"))
    return lines


def how_far_along(trial: Trial, facts: TrialFacts, t: Translator, today: date) -> list[str]:
    lines = [status_line(trial, t, today), phase_line(trial, facts, t)]
    people = people_line(facts, t)
    if people:
        lines.append(people)
    return lines + design_lines(trial, facts, t) + record_lines(trial, facts, t, today)


def join_sentences(sentences: Sequence[str], t: Translator) -> str:
    """Sentences run together the way the language does it (a space, none in Chinese)."""
    text = ""
    for sentence in sentences:
        if sentence:
            text = t("sentence.join", a=text, b=sentence) if text else sentence
    return text
