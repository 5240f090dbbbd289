"""Where a trial is, for a radius subscription: placed sites have a distance, sites whose
position is unknown match by country and say why, and nothing guesses a place.

The trial is NR1 (NCT04631406), a real record whose one US site is "Stanford Health Center"
with no city and no coordinates; other sites are derived from it by changing its location.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.geo import gazetteer
from trialbot.matching import SubscriptionFilter, gazetteer_geocoder, match, sites_in_region
from trialbot.model import Site, Trial

COLUMBUS_OHIO = gazetteer().find("Columbus, Ohio")[0]
NEAR_COLUMBUS = SubscriptionFilter(
    id=1,
    lat=COLUMBUS_OHIO.lat,
    lon=COLUMBUS_OHIO.lon,
    radius_km=100,
    point_country="US",
    place_name="Columbus, United States",
)


@cache
def nr1() -> tuple[Trial, Classification]:
    trial = normalise(study("NCT04631406__2022-05-10"))
    return trial, classify(trial)


def with_site(**site: str | float | None) -> Trial:
    """NR1 with its one site replaced."""
    return nr1()[0].model_copy(update={"sites": (Site(status="RECRUITING", **site),)})  # type: ignore[arg-type]


def test_a_site_with_no_city_matches_by_country_and_says_so() -> None:
    trial, verdict = nr1()
    (site,) = trial.sites
    assert site.city is None and site.lat is None and site.country == "US"
    found = match(trial, verdict, NEAR_COLUMBUS, gazetteer_geocoder)
    assert found is not None
    (sm,) = found.sites
    assert sm.distance_km is None and sm.unplaced == "no_city"
    assert found.by_country_only


def test_a_city_the_gazetteer_cannot_place_is_unplaced_not_guessed() -> None:
    unknown = with_site(facility="Clinic", city="Xyzzyville", state="Ohio", country="US")
    (sm,) = sites_in_region(unknown.sites, NEAR_COLUMBUS, gazetteer_geocoder)
    assert sm.distance_km is None and sm.unplaced == "unknown_city"
    shared = with_site(facility="Clinic", city="Springfield", country="US")  # which one?
    (sm,) = sites_in_region(shared.sites, NEAR_COLUMBUS, gazetteer_geocoder)
    assert sm.unplaced == "unknown_city"


def test_the_record_s_state_decides_which_namesake_it_is() -> None:
    georgia = with_site(facility="Clinic", city="Columbus", state="Georgia", country="US")
    assert sites_in_region(georgia.sites, NEAR_COLUMBUS, gazetteer_geocoder) == ()
    ohio = with_site(facility="Clinic", city="Columbus", state="Ohio", country="US")
    (sm,) = sites_in_region(ohio.sites, NEAR_COLUMBUS, gazetteer_geocoder)
    assert sm.distance_km is not None and sm.distance_km < 1 and sm.unplaced is None


def test_a_placed_site_keeps_its_distance() -> None:
    newark = with_site(facility="Clinic", city="Newark", country="US", lat=40.0581, lon=-82.4013)
    found = match(newark, nr1()[1], NEAR_COLUMBUS, gazetteer_geocoder)
    assert found is not None and not found.by_country_only
    (sm,) = found.sites
    assert sm.distance_km is not None and 60 > sm.distance_km > 45 and sm.unplaced is None


def test_an_unplaced_site_in_another_country_does_not_match() -> None:
    abroad = with_site(facility="Clinic", country="CA")
    assert match(abroad, nr1()[1], NEAR_COLUMBUS, gazetteer_geocoder) is None


def test_country_subscriptions_need_no_position() -> None:
    in_us = SubscriptionFilter(id=2, countries=frozenset({"US"}))
    (sm,) = sites_in_region(nr1()[0].sites, in_us, gazetteer_geocoder)
    assert sm.unplaced is None and sm.distance_km is None


# --- the person's profile (issue 14) ---------------------------------------------------------

TODAY = date(2026, 12, 4)
ANYWHERE = SubscriptionFilter(id=7, include_not_recruiting=True)


def _recruiting() -> tuple[Trial, Classification]:
    trial, verdict = nr1()
    return trial.model_copy(update={"overall_status": "RECRUITING"}), verdict


def test_a_window_that_cannot_include_the_person_today_does_not_match() -> None:
    trial, verdict = _recruiting()
    chronic = TrialFacts(stroke_window_days=(182.64, 1826.25), age_min_years=18, age_max_years=80)
    two_days = replace(ANYWHERE, stroke_date=TODAY - timedelta(days=2), birth_year=1958)
    three_years = replace(two_days, stroke_date=TODAY - timedelta(days=1096))
    assert match(trial, verdict, two_days, facts=chronic, today=TODAY) is None
    found = match(trial, verdict, three_years, facts=chronic, today=TODAY)
    assert found is not None and found.fit is not None and found.fit.window == "fits"
    assert found.fit.age == "fits"


def test_a_record_that_does_not_say_still_matches_and_the_match_says_so() -> None:
    trial, verdict = _recruiting()
    sub = replace(ANYWHERE, stroke_date=TODAY - timedelta(days=2), birth_year=1958)
    found = match(trial, verdict, sub, facts=TrialFacts(), today=TODAY)
    assert found is not None and found.fit is not None
    assert (found.fit.window, found.fit.age) == ("record_silent", "record_silent")
    assert found.fit.rank == 1


def test_a_children_s_trial_never_matches_an_adult() -> None:
    trial, verdict = _recruiting()
    sub = replace(ANYWHERE, birth_year=1958)
    assert match(trial, verdict, sub, facts=TrialFacts(population="children"), today=TODAY) is None
    assert match(trial, verdict, sub, facts=TrialFacts(population="adults"), today=TODAY)


def test_the_window_job_s_filter_ignores_only_the_time_of_the_stroke() -> None:
    trial, verdict = _recruiting()
    sub = replace(ANYWHERE, stroke_date=TODAY - timedelta(days=2), birth_year=TODAY.year - 10)
    facts = TrialFacts(stroke_window_days=(180.0, None), age_min_years=18)
    assert match(trial, verdict, sub.without_stroke_date(), facts=facts, today=TODAY) is None


_windows = st.one_of(
    st.none(),
    st.tuples(st.floats(0, 3000), st.one_of(st.none(), st.floats(0, 5000))),
)


@settings(max_examples=200, deadline=None)
@given(
    window=_windows,
    low=st.one_of(st.none(), st.floats(0, 100)),
    high=st.one_of(st.none(), st.floats(0, 120)),
    population=st.sampled_from([None, "adults", "children", "newborns"]),
    status=st.sampled_from(["RECRUITING", "COMPLETED", None]),
    offset=st.integers(-5000, 5000),
    borderline=st.booleans(),
    not_recruiting=st.booleans(),
)
def test_without_a_profile_matching_is_exactly_what_it_was(
    window: tuple[float, float | None] | None,
    low: float | None,
    high: float | None,
    population: str | None,
    status: str | None,
    offset: int,
    borderline: bool,
    not_recruiting: bool,
) -> None:
    trial, verdict = nr1()
    trial = trial.model_copy(update={"overall_status": status})
    facts = TrialFacts(
        stroke_window_days=window,
        age_min_years=low,
        age_max_years=high,
        population=population,  # type: ignore[arg-type]
    )
    for sub in (
        replace(ANYWHERE, include_borderline=borderline, include_not_recruiting=not_recruiting),
        replace(NEAR_COLUMBUS, include_not_recruiting=not_recruiting),
    ):
        today = TODAY + timedelta(days=offset)
        before = match(trial, verdict, sub, gazetteer_geocoder)
        after = match(trial, verdict, sub, gazetteer_geocoder, facts=facts, today=today)
        assert after == before
        assert after is None or after.fit is None
