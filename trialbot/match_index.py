"""Matching one trial against every active subscription at once (the fan-out's fast path).

`trialbot.matching.match` is the definition and stays the reference; this module gives exactly
its answer for many subscriptions at a time, so a change costs what its matches cost, not
what the subscribers it rejects cost (issue 15; a property test compares the two).

The subscriptions are held column by column in numpy arrays (a few dozen bytes each), and the
values many subscriptions share (stroke types, country lists, a point's country) are stored
once and referred to by a small code, so a rule is decided once per distinct value and spread
to every subscription with one array lookup. A radius is tested with unit vectors: a site is
within r km when the cosine of the angle to it is at least cos(r / R). Cases within 1e-12 of
that threshold (a few metres) are decided again by the reference `haversine_km`, so a site
exactly on the edge gets the same answer as the simple path.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.geo import EARTH_RADIUS_KM, haversine_km
from trialbot.matching import (
    ALL_CONDITIONS,
    RECRUITING,
    Geocoder,
    condition_matches,
)
from trialbot.model import Trial
from trialbot.profile import ADULT_AGE

H = TypeVar("H", bound=Hashable)
Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

SLACK = 1e-12
"""Cosine band around a radius's threshold decided by the reference haversine instead: far
wider than either computation's rounding (about 1e-15), a few metres on the ground."""
NO_DAY = np.iinfo(np.int64).min
"""The stroke-day column's value for "no stroke date"."""


def coded(values: Sequence[H]) -> tuple[list[int], list[H]]:
    """Dictionary-encode a column: (a code per value, the distinct values in order of first
    appearance). Storage decodes each distinct JSON text once instead of once per row."""
    distinct = list(dict.fromkeys(values))
    position = {v: i for i, v in enumerate(distinct)}
    return list(map(position.__getitem__, values)), distinct


Column = Sequence[Any] | npt.NDArray[Any]
"""A column as a sequence or as a numpy array (storage reads rows in chunks straight into
arrays; a float array stands for an optional number, nan for None)."""


@dataclass(frozen=True)
class SubscriptionColumns:
    """Active subscriptions as columns, one entry per subscription (any order).

    `conditions`, `countries` and `point_country` are codes into their `*_values` lists;
    `conditions_values` holds what the subscription stored (empty: every stroke type)."""

    chat_id: Column
    subscription_id: Column
    held: Column
    """The chat takes a daily or weekly digest."""
    include_borderline: Column
    include_not_recruiting: Column
    conditions: Column
    conditions_values: Sequence[frozenset[str]]
    countries: Column
    countries_values: Sequence[frozenset[str]]
    lat: Column
    lon: Column
    radius_km: Column
    point_country: Column
    point_country_values: Sequence[str | None]
    stroke_day: Column
    """`date.toordinal()` of the stroke, or None (nan)."""
    birth_year: Column
    """None (nan) when not given."""


def _floats(values: Column) -> Floats:
    return np.asarray(values, dtype=np.float64)  # None -> nan


def _known(values: Column) -> Bools:
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return ~np.isnan(values)
    if isinstance(values, np.ndarray):
        return np.ones(len(values), dtype=np.bool_)
    return np.array([v is not None for v in values], dtype=np.bool_)


def _ints(values: Column, missing: int) -> Ints:
    if isinstance(values, np.ndarray):
        if values.dtype.kind == "f":
            known = ~np.isnan(values)
            return np.where(known, np.nan_to_num(values), missing).astype(np.int64)
        return values.astype(np.int64, copy=False)
    return np.array([missing if v is None else v for v in values], dtype=np.int64)


class ChatMatches:
    """One change's alerts: per chat (in id order), whether it takes a digest and the ids of
    its subscriptions that matched, sorted. Held as arrays: 100,000 chats as Python lists
    would cost tens of megabytes at once; `part` makes the lists of a batch at a time."""

    def __init__(self, chat_ids: Ints, held: Bools, ids: Ints, starts: Ints) -> None:
        self._chats, self._held, self._ids = chat_ids, held, ids
        self._bounds = np.append(starts, len(ids))

    @classmethod
    def empty(cls) -> ChatMatches:
        none = np.zeros(0, dtype=np.int64)
        return cls(none, np.zeros(0, dtype=np.bool_), none, none)

    def __len__(self) -> int:
        return len(self._chats)

    def part(self, start: int, stop: int) -> list[tuple[int, bool, list[int]]]:
        """Chats start..stop as (chat id, held, matched subscription ids)."""
        bounds = self._bounds[start : min(stop, len(self)) + 1].tolist()
        ids = self._ids[bounds[0] : bounds[-1]].tolist() if bounds else []
        first = bounds[0] if bounds else 0
        return [
            (chat, held, ids[a - first : b - first])
            for chat, held, (a, b) in zip(
                self._chats[start:stop].tolist(),
                self._held[start:stop].tolist(),
                pairwise(bounds),
                strict=True,
            )
        ]

    @property
    def chat_ids(self) -> list[int]:
        return list(self._chats.tolist())

    @property
    def held(self) -> list[bool]:
        return list(self._held.tolist())

    @property
    def subscription_ids(self) -> list[list[int]]:
        return [ids for _, _, ids in self.part(0, len(self))]


class SubscriptionIndex:
    """Every active subscription, sorted by chat and id, ready to be matched against trials."""

    def __init__(self, columns: SubscriptionColumns) -> None:
        chat = np.asarray(columns.chat_id, dtype=np.int64)
        sid = np.asarray(columns.subscription_id, dtype=np.int64)
        order = np.lexsort((sid, chat))
        self.chat_id: Ints = chat[order]
        self.subscription_id: Ints = sid[order]
        self.held: Bools = np.asarray(columns.held, dtype=np.bool_)[order]
        self.borderline: Bools = np.asarray(columns.include_borderline, dtype=np.bool_)[order]
        self.not_recruiting: Bools = np.asarray(columns.include_not_recruiting, dtype=np.bool_)[
            order
        ]
        self.conditions: Ints = np.asarray(columns.conditions, dtype=np.int64)[order]
        self.conditions_values = [v or ALL_CONDITIONS for v in columns.conditions_values]
        self.countries: Ints = np.asarray(columns.countries, dtype=np.int64)[order]
        self.countries_values = list(columns.countries_values)
        self.point_country: Ints = np.asarray(columns.point_country, dtype=np.int64)[order]
        self.point_country_values = list(columns.point_country_values)
        self.lat: Floats = _floats(columns.lat)[order]
        self.lon: Floats = _floats(columns.lon)[order]
        self.radius: Floats = _floats(columns.radius_km)[order]
        self.stroke_day: Ints = _ints(columns.stroke_day, int(NO_DAY))[order]
        self.birth_year: Ints = _ints(columns.birth_year, 0)[order]
        self.has_birth_year: Bools = _known(columns.birth_year)[order]
        self.near: Bools = ~(np.isnan(self.lat) | np.isnan(self.lon) | np.isnan(self.radius))
        has_countries = np.array([bool(v) for v in self.countries_values], dtype=np.bool_)
        self.by_country: Bools = ~self.near & has_countries[self.countries]
        self.anywhere: Bools = ~self.near & ~self.by_country
        with np.errstate(invalid="ignore"):
            lat, lon = np.radians(self.lat), np.radians(self.lon)
            self.unit = np.stack(
                [np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)]
            )
            angle = np.clip(self.radius / EARTH_RADIUS_KM, 0.0, math.pi)
            self.cos_radius: Floats = np.cos(angle)

    def __len__(self) -> int:
        return len(self.chat_id)

    def matching(
        self,
        trial: Trial,
        verdict: Classification,
        geocode: Geocoder | None = None,
        *,
        facts: TrialFacts | None = None,
        today: date | None = None,
    ) -> Bools:
        """Which subscriptions `trialbot.matching.match` would match (a mask in index order)."""
        n = len(self)
        if not verdict.relevant:
            return np.zeros(n, dtype=np.bool_)
        ok = np.ones(n, dtype=np.bool_)
        if verdict.tier == "borderline":
            ok &= self.borderline
        wanted = [condition_matches(verdict.buckets, v) for v in self.conditions_values]
        ok &= np.array(wanted, dtype=np.bool_)[self.conditions]
        if trial.overall_status not in RECRUITING:
            ok &= self.not_recruiting
        if facts is not None and today is not None:
            ok &= ~self._excluded(facts, today)
        return ok & self._in_region(trial, geocode, ok)

    def _excluded(self, facts: TrialFacts, today: date) -> Bools:
        """`trialbot.profile.fit(...).excluded` for every subscription (False without a
        profile: each criterion needs the part of the profile it reads)."""
        out = np.zeros(len(self), dtype=np.bool_)
        if facts.stroke_window_days is not None:
            low, high = facts.stroke_window_days
            has_day = self.stroke_day != NO_DAY
            days = np.maximum(0, today.toordinal() - np.where(has_day, self.stroke_day, 0))
            inside = days + 1 > low
            if high is not None:
                inside &= days - 1 < high
            out |= has_day & ~inside
        older = np.maximum(0, today.year - self.birth_year)
        younger = np.maximum(0, today.year - self.birth_year - 1)
        low_age, high_age = facts.age_min_years, facts.age_max_years
        if low_age is not None or high_age is not None:
            inside = np.zeros(len(self), dtype=np.bool_)
            for age in (younger, older):
                fits = np.ones(len(self), dtype=np.bool_)
                if low_age is not None:
                    fits &= age >= low_age
                if high_age is not None:
                    fits &= age <= high_age
                inside |= fits
            out |= self.has_birth_year & ~inside
        if facts.population is not None:
            if facts.population in ("children", "newborns"):
                out |= self.has_birth_year & (younger >= ADULT_AGE)
            else:
                out |= self.has_birth_year & (older < ADULT_AGE)
        return out

    def _in_region(self, trial: Trial, geocode: Geocoder | None, candidates: Bools) -> Bools:
        """`sites_in_region` is not empty, or the subscription is "anywhere"."""
        site_countries = {site.country for site in trial.sites}
        region = self.anywhere.copy()
        if site_countries and self.by_country.any():
            meets = [not v.isdisjoint(site_countries) for v in self.countries_values]
            region |= self.by_country & np.array(meets, dtype=np.bool_)[self.countries]
        near = self.near & candidates
        if not trial.sites or not near.any():
            return region
        points: list[tuple[float, float]] = []
        unplaced: set[str] = set()
        for site in trial.sites:
            if site.lat is not None and site.lon is not None:
                points.append((site.lat, site.lon))
            elif geocode is not None and site.city and site.city.strip() and site.country:
                point = geocode(site)
                if point is not None:
                    points.append(point)
                elif site.country:
                    unplaced.add(site.country)
            elif site.country:
                unplaced.add(site.country)
        hit = np.zeros(len(self), dtype=np.bool_)
        if unplaced:
            same = [v in unplaced for v in self.point_country_values]
            hit |= near & np.array(same, dtype=np.bool_)[self.point_country]
        todo = np.flatnonzero(near & ~hit)
        for lat, lon in dict.fromkeys(points):
            if not len(todo):
                break
            found = self._within(todo, lat, lon)
            hit[found] = True
            todo = np.setdiff1d(todo, found, assume_unique=True)
        return region | hit

    def _within(self, rows: Ints, lat: float, lon: float) -> Ints:
        """The rows whose radius reaches the point, as `haversine_km(...) <= radius_km`."""
        p, q = math.radians(lat), math.radians(lon)
        point = np.array([math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p)])
        cosine = point @ self.unit[:, rows]
        threshold = self.cos_radius[rows]
        sure = rows[cosine >= threshold + SLACK]
        edge = rows[(cosine >= threshold - SLACK) & (cosine < threshold + SLACK)]
        exact = [
            int(i)
            for i in edge.tolist()
            if haversine_km(float(self.lat[i]), float(self.lon[i]), lat, lon)
            <= float(self.radius[i])
        ]
        return np.concatenate([sure, np.array(exact, dtype=np.int64)]) if exact else sure

    def chats(self, mask: Bools) -> ChatMatches:
        """Group matched subscriptions by chat (chats in id order, their ids sorted)."""
        rows = np.flatnonzero(mask)
        if not len(rows):
            return ChatMatches.empty()
        chats = self.chat_id[rows]
        starts = np.flatnonzero(np.r_[True, chats[1:] != chats[:-1]])
        return ChatMatches(
            chats[starts], self.held[rows[starts]], self.subscription_id[rows], starts
        )
