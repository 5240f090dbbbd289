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
from bot.plain import facts
from trialbot.classification import Classification
from trialbot.countries import display_name
from trialbot.model import Site, Trial

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
    parsed = facts.parse_date(value)
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
    key = facts.main_cell(verdict)
    if key is not None:
        return key
    kinds = [i.type for i in trial.interventions if i.type and not facts.is_placebo(i.name)]
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


def plain_title(trial: Trial, verdict: Classification, t: Translator) -> str:
    """Our title: what is given, how, and for whom; never the registry's title."""
    parts = [t(f"cell.{_cell_key(trial, verdict)}.name")]
    found = facts.routes(trial)
    if found:
        parts.append(t("route.multiple.title" if len(found) > 1 else f"route.{found[0]}.title"))
    stroke = stroke_words(verdict, t, "a")
    if stroke:
        parts.append(t(f"title.for.{verdict.stroke_phase}", stroke=stroke))
    return t("title.sep").join(parts)


def what_is_tested(trial: Trial, verdict: Classification, t: Translator) -> list[str]:
    """What the product is (saying plainly when it is not, or only derived from, cells) and
    how it is given."""
    key = _cell_key(trial, verdict)
    lines = [t(f"cell.{key}.about")]
    if verdict.tier == "excluded" or not verdict.buckets:
        lines.append(t("tested.not_stroke_cells"))
    found = facts.routes(trial)
    if len(found) > 1:
        ways = [t(f"route.{r}.way") for r in found]
        lines.append(
            t("route.multiple.how", ways=t("join.and", a=t("list.sep").join(ways[:-1]), b=ways[-1]))
        )
    elif found:
        lines.append(t(f"route.{found[0]}.how"))
    else:
        lines.append(t("route.unknown.how"))
    return lines


# --- who can join --------------------------------------------------------------------------


def age_line(trial: Trial, t: Translator) -> str | None:
    low = facts.age_years(trial.eligibility.minimum_age)
    high = facts.age_years(trial.eligibility.maximum_age)
    if low is not None and high is not None:
        return t("who.age.range", low=low, high=high)
    if low is not None:
        return t("who.age.min", low=low)
    if high is not None:
        return t("who.age.max", high=high)
    return None


def _unit(unit: str, count: float, t: Translator) -> str:
    return t.plural(f"unit.{unit}", 2 if count != 1 else 1)


def window_words(window: facts.Window, t: Translator) -> str:
    """ "6 to 24 months" / "up to 14 days" / "at least 6 months" (no sentence around it)."""
    if window.kind == "range":
        assert window.low is not None and window.high is not None
        return t(
            "window.range",
            low=number(window.low, t),
            high=number(window.high, t),
            unit=_unit(window.unit, window.high, t),
        )
    if window.kind == "within":
        assert window.high is not None
        return t("window.within", n=number(window.high, t), unit=_unit(window.unit, window.high, t))
    assert window.low is not None
    return t("window.at_least", n=number(window.low, t), unit=_unit(window.unit, window.low, t))


def when_line(trial: Trial, verdict: Classification, t: Translator) -> str | None:
    window = facts.stroke_window(trial, verdict)
    if window is not None:
        return t("who.when.window", window=window_words(window, t))
    if verdict.stroke_phase == "unspecified" or not verdict.buckets:
        return None
    return t(f"who.when.{verdict.stroke_phase}")


def who_can_join(trial: Trial, verdict: Classification, t: Translator) -> list[str]:
    """Stroke type, time since stroke, age, then up to three rules that decide most cases."""
    lines: list[str] = []
    stroke = stroke_words(verdict, t, "who")
    if stroke:
        lines.append(t("who.stroke", stroke=stroke))
    for line in (when_line(trial, verdict, t), age_line(trial, t)):
        if line:
            lines.append(line)
    for key, values in facts.key_criteria(trial):
        lines.append(t(key, **values) if values else t(key))
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


def phase_line(trial: Trial, t: Translator) -> str:
    phases = tuple(sorted(p for p in trial.phases if p != "NA"))
    key = _PHASE_KEYS.get(phases, "none" if not phases else "other")
    return t(f"phase.{key}")


def status_line(trial: Trial, t: Translator) -> str:
    status = (trial.overall_status or "").lower()
    key = f"status.{status}" if status in STATUSES else "status.other"
    return t(key)


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


def people_line(trial: Trial, t: Translator) -> str | None:
    count = trial.enrollment.count
    if count is None or count == 0:
        return None
    estimated = trial.enrollment.estimated
    kind = "planned" if estimated else "actual" if estimated is False else "listed"
    return t.plural(f"people.{kind}", count, n=number(count, t))


def design_lines(trial: Trial, t: Translator) -> list[str]:
    """Comparison group, chance allocation and blinding, each only when the record says."""
    lines: list[str] = []
    compared = facts.comparison(trial)
    if compared != "unknown":
        lines.append(t(f"design.{compared}"))
    if compared not in ("none", "unknown") and trial.design.allocation == "RANDOMIZED":
        lines.append(t("design.randomized"))
    masking = trial.design.masking
    who = set(trial.design.who_masked)
    if masking == "NONE":
        lines.append(t("design.open"))
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


def how_far_along(trial: Trial, t: Translator) -> list[str]:
    lines = [status_line(trial, t), phase_line(trial, t)]
    people = people_line(trial, t)
    if people:
        lines.append(people)
    return lines + design_lines(trial, t)


def join_sentences(sentences: Sequence[str], t: Translator) -> str:
    """Sentences run together the way the language does it (a space, none in Chinese)."""
    text = ""
    for sentence in sentences:
        if sentence:
            text = t("sentence.join", a=text, b=sentence) if text else sentence
    return text
