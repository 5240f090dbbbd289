"""An alert rendered from sections shared by every chat of a broadcast (bot/render.AlertParts,
what the sender keeps per version, language, kind and day) reads exactly as one rendered on its
own, for chats whose subscriptions differ in what the message says per chat: the place and
distance, the name, the profile's fit, several subscriptions at once."""

from __future__ import annotations

from datetime import date

import pytest

from bot.render import alert_parts, render_change, render_new_trial
from jobs.changes import diff
from jobs.classify import classify
from jobs.facts import extract
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.matching import SubscriptionFilter, gazetteer_geocoder, matches

TODAY = date(2026, 12, 4)
CHATS: dict[str, list[SubscriptionFilter]] = {
    "anywhere": [SubscriptionFilter(id=1)],
    "named, with a profile": [
        SubscriptionFilter(id=2, label="Mum", stroke_date=date(2024, 3, 1), birth_year=1950)
    ],
    "near a place, in miles": [
        SubscriptionFilter(
            id=3, lat=42.36, lon=-71.06, radius_km=1000, radius_unit="mi", place_name="Boston"
        )
    ],
    "countries": [SubscriptionFilter(id=4, countries=frozenset({"US", "TW"}))],
    "two people": [
        SubscriptionFilter(id=5, label="Dad", birth_year=1940),
        SubscriptionFilter(
            id=6, label="Me", stroke_date=date(2026, 11, 1), countries=frozenset({"US"})
        ),
    ],
}


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
def test_a_new_trial_alert_from_shared_parts_is_the_same(lang: str) -> None:
    trial = normalise(study("NCT03545607__2022-02-09"))
    verdict, facts = classify(trial), extract(trial)
    parts = alert_parts("new", trial, verdict, lang, today=TODAY, facts=facts)
    for _ in range(2):  # fitting one message must not shorten the shared sections
        for name, filters in CHATS.items():
            found = matches(trial, verdict, filters, gazetteer_geocoder, facts=facts, today=TODAY)
            alone = render_new_trial(trial, verdict, found, lang, today=TODAY, facts=facts)
            shared = render_new_trial(
                trial, verdict, found, lang, today=TODAY, facts=facts, parts=parts
            )
            assert shared == alone, name


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
def test_a_change_alert_from_shared_parts_is_the_same(lang: str) -> None:
    old = normalise(study("NCT03629275__2019-03-02"))
    trial = normalise(study("NCT03629275__2021-08-13"))
    verdict, facts = classify(trial), extract(trial)
    changes = diff(old.snapshot(), trial.snapshot())
    parts = alert_parts("change", trial, verdict, lang, changes=changes, today=TODAY, facts=facts)
    for name, filters in CHATS.items():
        found = matches(trial, verdict, filters, gazetteer_geocoder, facts=facts, today=TODAY)
        alone = render_change(trial, verdict, changes, found, lang, today=TODAY, facts=facts)
        shared = render_change(
            trial, verdict, changes, found, lang, today=TODAY, facts=facts, parts=parts
        )
        assert shared == alone, name
