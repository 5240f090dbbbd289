"""The sameness rule that refuses a duplicate subscription (storage.chats.duplicate_of)."""

from __future__ import annotations

from typing import Any

from storage.chats import duplicate_of, same_filters
from storage.tables import SubscriptionRow
from trialbot.matching import ALL_CONDITIONS

SEVILLA = {"lat": 37.3891, "lon": -5.9845, "radius_km": 100, "place_name": "Sevilla"}


def sub(id: int | None = None, **values: Any) -> SubscriptionRow:
    fields: dict[str, Any] = {"chat_id": 1, "conditions": ["ischemic"], "countries": []}
    return SubscriptionRow(id=id, **(fields | values))


def test_same_filters_ignores_order_names_and_a_few_metres() -> None:
    a = sub(countries=["PT", "ES"], conditions=["ischemic", "intracerebral_hemorrhage"])
    b = sub(countries=["ES", "PT"], conditions=["intracerebral_hemorrhage", "ischemic"])
    assert same_filters(a, b)
    assert same_filters(sub(conditions=[]), sub(conditions=sorted(ALL_CONDITIONS)))
    here = sub(**SEVILLA)
    assert same_filters(here, sub(**SEVILLA | {"lat": 37.3921, "place_name": "Seville, Spain"}))


def test_different_filters_are_different() -> None:
    here = sub(**SEVILLA)
    assert not same_filters(here, sub(**SEVILLA | {"radius_km": 300}))
    assert not same_filters(here, sub(**SEVILLA | {"lat": 40.4168, "lon": -3.7038}))  # Madrid
    assert not same_filters(here, sub(countries=["ES"]))
    assert not same_filters(sub(countries=["ES"]), sub(countries=["ES", "PT"]))
    assert not same_filters(sub(), sub(conditions=["subarachnoid_hemorrhage"]))


def test_a_copy_is_refused_unless_it_names_someone_else() -> None:
    dad = sub(1, label="Papá", **SEVILLA)
    plain = sub(2, countries=["ES"])
    existing = [dad, plain]
    assert duplicate_of(existing, sub(label=" papá ", **SEVILLA)) is dad
    assert duplicate_of(existing, sub(**SEVILLA)) is dad  # no name adds nothing
    assert duplicate_of(existing, sub(label="Mamá", **SEVILLA)) is None  # a caregiver's two
    assert duplicate_of(existing, sub(countries=["ES"])) is plain
    assert duplicate_of(existing, sub(label="Yo", countries=["ES"])) is None
    assert duplicate_of(existing, sub(countries=["FR"])) is None
    assert duplicate_of(existing, dad) is None  # a row is not its own duplicate
