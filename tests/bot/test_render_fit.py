""" "Why you got this" says the person's fit in one plain line per criterion, in en/es/zh."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.i18n import translator
from bot.render import fit_lines, render_new_trial
from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.facts import TrialFacts
from trialbot.matching import Match, SubscriptionFilter
from trialbot.profile import Profile, fit

TODAY = date(2026, 12, 4)
THREE_YEARS = Profile(TODAY - timedelta(days=1096), TODAY.year - 68)
CHRONIC = TrialFacts(stroke_window_days=(730.5, 1826.25), age_min_years=18, age_max_years=80)


def _match(facts: TrialFacts, profile: Profile = THREE_YEARS, label: str | None = None) -> Match:
    sub = SubscriptionFilter(
        id=1, label=label, stroke_date=profile.stroke_date, birth_year=profile.birth_year
    )
    return Match(sub, (), fit(profile, facts, TODAY))


@pytest.mark.parametrize(
    ("lang", "window", "age"),
    [
        (
            "en",
            "Your stroke was about 3 years ago; this study takes people 2 to 5 years after a"
            " stroke.",
            "You are about 68; this study takes people aged 18 to 80.",
        ),
        (
            "es",
            "Su ictus fue hace unos 3 años; este estudio admite a personas de 2 a 5 años después"
            " de un ictus.",
            "Tiene unos 68 años; este estudio admite a personas de 18 a 80 años.",
        ),
        (
            "zh",
            "您的中风大约在3年前；这项研究招募中风后2到5年的人。",
            "您大约68岁；这项研究招募18到80岁的人。",
        ),
    ],
)
def test_the_fit_in_one_line_each(lang: str, window: str, age: str) -> None:
    t = translator(lang, "alerts")
    assert fit_lines([_match(CHRONIC)], CHRONIC, t) == [window, age]


def test_a_record_that_does_not_say_is_said_so() -> None:
    silent = TrialFacts()
    lines = fit_lines([_match(silent)], silent, translator("en", "alerts"))
    assert lines == [
        "Your stroke was about 3 years ago; the record does not say how long after a stroke"
        " people can join.",
        "You are about 68; the record does not say what ages it takes.",
    ]
    es = fit_lines([_match(silent)], silent, translator("es", "alerts"))
    assert "el registro no dice cuánto tiempo" in es[0]
    zh = fit_lines([_match(silent)], silent, translator("zh", "alerts"))
    assert "登记记录没有说明中风后多久可以参加" in zh[0]


def test_recent_strokes_are_counted_in_days_and_weeks_and_several_people_are_named() -> None:
    t = translator("en", "alerts")
    acute = TrialFacts(stroke_window_days=(0.0, 7.0))
    days = fit_lines([_match(acute, Profile(TODAY - timedelta(days=2)))], acute, t)
    assert days == [
        "Your stroke was about 2 days ago; this study takes people up to 7 days after a stroke."
    ]
    both = [
        _match(CHRONIC, THREE_YEARS, "Dad"),
        _match(CHRONIC, Profile(birth_year=TODAY.year - 72), "Mum"),
    ]
    lines = fit_lines(both, CHRONIC, t)
    assert lines[0].startswith("For “Dad”: Your stroke") and lines[-1].startswith(
        "For “Mum”: You are about 72"
    )


def test_no_profile_no_fit_line_in_the_alert() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    plain = Match(SubscriptionFilter(id=1), ())
    rendered = render_new_trial(trial, classify(trial), [plain], "en", today=TODAY)
    assert "Your stroke was about" not in rendered.text and "You are about" not in rendered.text
    with_fit = render_new_trial(
        trial, classify(trial), [_match(CHRONIC)], "en", today=TODAY, facts=CHRONIC
    )
    assert "Your stroke was about 3 years ago" in with_fit.text
