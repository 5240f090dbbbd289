"""Does a trial match a subscription, and at which sites?

One definition used everywhere: `/recent` and the count shown after subscribing, the "where"
section of an alert (the sites that matched, nearest first), and the fan-out of alerts.

Rules (docs/decisions.md, "Matching"):
- the trial must be relevant (stem-cell core, or borderline when the chat opted in);
- condition: the trial's stroke buckets meet the subscription's; a trial that only says
  "stroke" (type not given) matches every condition, because it may well include theirs;
- status: recruiting only, unless the chat opted in to trials not yet or no longer recruiting;
- region: anywhere; or a site in one of the countries; or a site within the radius of the
  point (great-circle distance). A site without coordinates is placed by its city (and region,
  when the record gives one) through the gazetteer when the caller supplies one. A site whose
  position stays unknown (no city, or a city the gazetteer cannot place) matches a radius
  subscription in the same country as the point, because the person may want to know of a
  site in their country; its SiteMatch says why it is unplaced and carries no distance, so
  nothing may call it near or "within N km".
- the person (issue 14): when the subscription has a profile (time of the stroke, birth year)
  and the caller passes the trial's facts and `today`, a trial whose time window, age range or
  population rules the person out today does not match; a record that does not say still
  matches, and the Match carries the Fit so the alert can say so. Without a profile, or
  without facts, matching is exactly what it was.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.geo import gazetteer, haversine_km
from trialbot.model import Site, Trial
from trialbot.profile import Fit, Profile, fit

ALL_CONDITIONS = frozenset({"ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage"})
RECRUITING = frozenset({"RECRUITING"})

Geocoder = Callable[[Site], tuple[float, float] | None]
"""A site without coordinates -> (lat, lon) from its city, region and country, or None."""
Unplaced = Literal["no_city", "unknown_city"]
"""Why a site's position is unknown: the record gives no city, or the gazetteer cannot place
the city it gives (unknown to it, or a name several places share)."""


@dataclass(frozen=True)
class SubscriptionFilter:
    """What a subscription asks for, plus the chat-wide options that affect matching."""

    id: int
    conditions: frozenset[str] = ALL_CONDITIONS
    countries: frozenset[str] = frozenset()
    lat: float | None = None
    lon: float | None = None
    radius_km: int | None = None
    point_country: str | None = None
    label: str | None = None
    place_name: str | None = None
    radius_unit: str = "km"
    """How the person gave the distance ("km" or "mi"), to show it back; matching uses km."""
    include_borderline: bool = False
    include_not_recruiting: bool = False
    stroke_date: date | None = None
    birth_year: int | None = None

    @property
    def profile(self) -> Profile:
        return Profile(self.stroke_date, self.birth_year)

    def without_stroke_date(self) -> SubscriptionFilter:
        """The same subscription as if the time of the stroke were unknown (the window job
        looks for trials that match in everything but the time window)."""
        return replace(self, stroke_date=None)

    @property
    def near(self) -> bool:
        return self.lat is not None and self.lon is not None and self.radius_km is not None

    @property
    def anywhere(self) -> bool:
        return not self.near and not self.countries


@dataclass(frozen=True)
class SiteMatch:
    site: Site
    distance_km: float | None = None
    """From the subscription's point; None without a point, or when the position is unknown."""
    unplaced: Unplaced | None = None
    """Set when a radius subscription matched the site by its country alone."""


@dataclass(frozen=True)
class Match:
    subscription: SubscriptionFilter
    sites: tuple[SiteMatch, ...] = field(default_factory=tuple)
    """The sites that put the trial in the subscription's region, nearest first."""
    fit: Fit | None = None
    """How the subscription's person fits the trial; None without a profile or facts."""

    @property
    def by_country_only(self) -> bool:
        """A radius subscription matched only by sites whose position is unknown: nothing
        says the trial is within its distance."""
        return self.subscription.near and bool(self.sites) and all(s.unplaced for s in self.sites)


def condition_matches(buckets: Iterable[str], wanted: frozenset[str]) -> bool:
    have = set(buckets)
    return bool(have & wanted) or "stroke_unspecified" in have


def status_matches(status: str | None, include_not_recruiting: bool) -> bool:
    return include_not_recruiting or status in RECRUITING


def _site_point(site: Site, geocode: Geocoder | None) -> tuple[float, float] | None:
    if site.lat is not None and site.lon is not None:
        return site.lat, site.lon
    if geocode is not None and site.city and site.city.strip() and site.country:
        return geocode(site)
    return None


def sites_in_region(
    sites: Sequence[Site], sub: SubscriptionFilter, geocode: Geocoder | None = None
) -> tuple[SiteMatch, ...]:
    """The sites inside the subscription's region (all sites for "anywhere")."""
    found: list[SiteMatch] = []
    for site in sites:
        if sub.near:
            assert sub.lat is not None and sub.lon is not None and sub.radius_km is not None
            point = _site_point(site, geocode)
            if point is not None:
                distance = haversine_km(sub.lat, sub.lon, point[0], point[1])
                if distance <= sub.radius_km:
                    found.append(SiteMatch(site, round(distance, 1)))
            elif site.country and site.country == sub.point_country:
                why: Unplaced = "unknown_city" if (site.city or "").strip() else "no_city"
                found.append(SiteMatch(site, None, why))
        elif sub.countries:
            if site.country in sub.countries:
                found.append(SiteMatch(site, None))
        else:
            found.append(SiteMatch(site, None))
    found.sort(key=lambda m: (m.distance_km is None, m.distance_km or 0.0))
    return tuple(found)


def match(
    trial: Trial,
    verdict: Classification,
    sub: SubscriptionFilter,
    geocode: Geocoder | None = None,
    *,
    facts: TrialFacts | None = None,
    today: date | None = None,
) -> Match | None:
    """The match, or None when the trial is not for this subscription.

    The person's fit is checked only when the subscription has a profile and both `facts`
    and `today` are given (callers always pass them; without them matching is as before)."""
    if not verdict.relevant:
        return None
    if verdict.tier == "borderline" and not sub.include_borderline:
        return None
    if not condition_matches(verdict.buckets, sub.conditions):
        return None
    if not status_matches(trial.overall_status, sub.include_not_recruiting):
        return None
    found: Fit | None = None
    if facts is not None and today is not None and not sub.profile.empty:
        found = fit(sub.profile, facts, today)
        if found.excluded:
            return None
    sites = sites_in_region(trial.sites, sub, geocode)
    if not sub.anywhere and not sites:
        return None
    return Match(sub, sites, found)


def matches(
    trial: Trial,
    verdict: Classification,
    subs: Iterable[SubscriptionFilter],
    geocode: Geocoder | None = None,
    *,
    facts: TrialFacts | None = None,
    today: date | None = None,
) -> tuple[Match, ...]:
    """The trial's match with each of these subscriptions that it matches, in their order."""
    return tuple(
        m for sub in subs if (m := match(trial, verdict, sub, geocode, facts=facts, today=today))
    )


def gazetteer_geocoder(site: Site) -> tuple[float, float] | None:
    """Place a site that has no coordinates by its city and region; None when the gazetteer
    does not know the city or cannot tell which of several places of that name it is."""
    place = gazetteer().locate(site.city or "", site.country or "", site.state)
    return (place.lat, place.lon) if place else None
