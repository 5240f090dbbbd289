"""The person's profile: typed clauses in three languages, button answers, and the fit of
time since the stroke, age and population, at both bounds, on a clock that moves on."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from trialbot.facts import TrialFacts
from trialbot.profile import (
    BUTTON_DAYS,
    Profile,
    ProfileError,
    entry_day,
    fit,
    parse_age,
    parse_clauses,
    parse_stroke,
    stroke_date_of_answer,
    window_fits,
)

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize(
    ("text", "stroke", "birth"),
    [
        ("stroke 2024-03", date(2024, 3, 15), None),
        ("stroke March 2024", date(2024, 3, 15), None),
        ("stroke 2 years ago", date(2024, 12, 4), None),
        ("stroke 3 weeks ago", date(2026, 11, 13), None),
        ("stroke 18 months ago", date(2025, 6, 4), None),
        ("stroke yesterday", date(2026, 12, 3), None),
        ("stroke 2024-03-02", date(2024, 3, 2), None),
        ("age 68", None, 1958),
        ("ictus hace 2 años", date(2024, 12, 4), None),
        ("ictus hace 18 meses", date(2025, 6, 4), None),
        ("ictus marzo 2024", date(2024, 3, 15), None),
        ("ictus marzo de 2024", date(2024, 3, 15), None),
        ("ictus ayer", date(2026, 12, 3), None),
        ("edad 68", None, 1958),
        ("中风 2年前", date(2024, 12, 4), None),
        ("中风 2024年3月", date(2024, 3, 15), None),
        ("中风3周前", date(2026, 11, 13), None),
        ("年龄 68", None, 1958),
        ("年龄 68岁", None, 1958),
    ],
)
def test_clauses_in_three_languages(text: str, stroke: date | None, birth: int | None) -> None:
    parsed = parse_clauses(text, TODAY)
    assert (parsed.stroke_date, parsed.birth_year, parsed.rest) == (stroke, birth, "")


def test_clauses_come_out_of_the_line_in_any_order() -> None:
    line = "hemorrhagic near Sevilla 100 km stroke 18 months ago age 50"
    parsed = parse_clauses(line, TODAY)
    assert parsed.rest == "hemorrhagic near Sevilla 100 km"
    assert (parsed.stroke_date, parsed.birth_year) == (date(2025, 6, 4), 1976)
    parsed = parse_clauses("Dad: any age 72 stroke 2 years ago", TODAY)
    assert parsed.rest == "Dad: any" and parsed.birth_year == 1954
    parsed = parse_clauses("缺血 中国 中风 2年前 年龄 68", TODAY)
    assert parsed.rest == "缺血 中国" and parsed.stroke_date == date(2024, 12, 4)


def test_the_word_stroke_without_a_time_is_not_a_clause() -> None:
    for line in ("any stroke in Spain", "ischemic stroke near Madrid 100 km"):
        assert parse_clauses(line, TODAY).rest == line
        assert parse_clauses(line, TODAY).stroke_date is None


def test_impossible_values_are_refused() -> None:
    with pytest.raises(ProfileError):
        parse_clauses("stroke 2027-05", TODAY)
    with pytest.raises(ProfileError):
        parse_clauses("age 130", TODAY)
    with pytest.raises(ProfileError):
        parse_stroke("next tuesday", TODAY)
    with pytest.raises(ProfileError):
        parse_age("sixty", TODAY)
    assert parse_stroke("2026-12", TODAY) == TODAY  # this month: not the future
    assert parse_age("68 años", TODAY) == 1958


def test_button_answers_stand_for_the_middle_of_their_span() -> None:
    assert [stroke_date_of_answer(a, TODAY) for a in ("week", "over2")] == [
        TODAY - timedelta(days=3),
        TODAY - timedelta(days=1096),
    ]
    assert list(BUTTON_DAYS.values()) == sorted(BUTTON_DAYS.values())


def test_a_relative_answer_keeps_working_after_the_clock_moves_on() -> None:
    """Given as "3 weeks ago" and stored as a date: two months later it is 11 weeks ago, and a
    window of 1 to 2 months that fit then no longer fits."""
    stroke = parse_clauses("stroke 3 weeks ago", TODAY).stroke_date
    birth = parse_clauses("age 68", TODAY).birth_year
    profile = Profile(stroke, birth)
    facts = TrialFacts(stroke_window_days=(14.0, 60.88), age_min_years=18, age_max_years=80)
    assert fit(profile, facts, TODAY).window == "fits"
    later = TODAY + timedelta(days=56)
    assert profile.days_since_stroke(later) == 77
    assert fit(profile, facts, later).window == "does_not_fit"
    assert profile.ages(TODAY + timedelta(days=365)) == (68, 69)  # the age grows too


def test_windows_at_both_bounds() -> None:
    window = (180.0, 1826.25)  # 6 months (as a registry says it) to 5 years
    assert entry_day(window) == 180
    stroke = TODAY - timedelta(days=180)
    assert window_fits(180, window) and not window_fits(179, window)
    assert window_fits(1826, window) and window_fits(1827, window)  # 1826.25 < 1827 - 1 + 1
    assert not window_fits(1828, window)
    facts = TrialFacts(stroke_window_days=window)
    assert fit(Profile(stroke), facts, TODAY).window == "fits"
    assert fit(Profile(stroke + timedelta(days=1)), facts, TODAY).window == "does_not_fit"
    hours = (0.75, 1.5)  # 18 to 36 hours: a stroke today, yesterday or the day before
    assert window_fits(0, hours) and window_fits(1, hours) and window_fits(2, hours)
    assert not window_fits(3, hours)  # at least 48 hours ago
    open_ended = (180.0, None)
    assert window_fits(10_000, open_ended) and not window_fits(178, open_ended)


def test_ages_at_both_bounds() -> None:
    facts = TrialFacts(age_min_years=18, age_max_years=80)
    year = TODAY.year
    assert fit(Profile(birth_year=year - 18), facts, TODAY).age == "fits"  # 17 or 18
    assert fit(Profile(birth_year=year - 17), facts, TODAY).age == "does_not_fit"  # 16 or 17
    assert fit(Profile(birth_year=year - 81), facts, TODAY).age == "fits"  # 80 or 81
    assert fit(Profile(birth_year=year - 82), facts, TODAY).age == "does_not_fit"  # 81 or 82
    assert fit(Profile(birth_year=year - 60), TrialFacts(), TODAY).age == "record_silent"
    assert fit(Profile(), facts, TODAY).age == "profile_silent"
    only_min = TrialFacts(age_min_years=50)
    assert fit(Profile(birth_year=year - 49), only_min, TODAY).age == "does_not_fit"


def test_a_trial_in_children_or_newborns_never_fits_an_adult() -> None:
    adult = Profile(birth_year=TODAY.year - 68)
    for population in ("children", "newborns"):
        facts = TrialFacts(population=population)  # type: ignore[arg-type]
        verdict = fit(adult, facts, TODAY)
        assert verdict.population == "does_not_fit" and verdict.excluded
    assert (
        fit(
            Profile(birth_year=TODAY.year - 18), TrialFacts(population="children"), TODAY
        ).population
        == "fits"
    )  # 17 or 18
    assert fit(adult, TrialFacts(population="adults"), TODAY).population == "fits"
    assert fit(Profile(), TrialFacts(population="children"), TODAY).population == "profile_silent"


def test_the_record_silent_and_the_profile_silent_are_told_apart() -> None:
    verdict = fit(Profile(stroke_date=TODAY - timedelta(days=30)), TrialFacts(), TODAY)
    assert (verdict.window, verdict.age, verdict.population) == (
        "record_silent",
        "profile_silent",
        "record_silent",
    )
    assert not verdict.excluded and verdict.rank == 1
