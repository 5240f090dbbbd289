"""Where a trial is, for a radius subscription: placed sites have a distance, sites whose
position is unknown match by country and say why, and nothing guesses a place.

The trial is NR1 (NCT04631406), a real record whose one US site is "Stanford Health Center"
with no city and no coordinates; other sites are derived from it by changing its location.
"""

from __future__ import annotations

from functools import cache

from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.classification import Classification
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
