"""Facts are derived once at ingest, stored with each version, diffed like the record's fields,
and re-derived when stored without them or by older rules (fake CT.gov, real databases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import col, select, update

from jobs.facts import FACTS_VERSION, extract
from jobs.poll import poll, refresh_facts
from storage import trials as store
from storage.db import Database
from storage.tables import TrialRow, TrialVersionRow
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.jobs.helpers import client_for, loaded_fake
from trialbot.facts import TrialFacts
from trialbot.model import Trial


@pytest.fixture
def fake() -> Iterator[FakeCtgov]:
    with loaded_fake() as running:
        yield running


async def _current_facts(db: Database, nct_id: str) -> tuple[dict[str, object] | None, int | None]:
    async with db.read() as session:
        stored = await store.find_current_trial(session, nct_id)
    assert stored is not None
    if stored.facts is None:
        return None, None
    return stored.facts.facts.to_json(), stored.facts.version


async def test_each_stored_version_carries_the_facts_of_its_record(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
    facts, version = await _current_facts(db, "NCT03545607")
    assert version == FACTS_VERSION
    expected = extract(Trial.model_validate(_snapshot("NCT03545607__2019-08-13")))
    assert facts == expected.to_json()
    assert facts is not None and facts["stroke_window_days"] == [0.75, 1.5]


def _snapshot(name: str) -> dict[str, object]:
    from jobs.registries.ctgov_record import normalise

    return normalise(study(name)).snapshot()


async def test_a_changed_time_window_is_a_notable_change_of_its_own(
    db: Database, fake: FakeCtgov
) -> None:
    fake.upsert(study("NCT03629275__2019-03-02"))
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(study("NCT03629275__2021-08-13"))  # the real later record: 6-24 months
        fake.set_data_timestamp("2021-08-14T09:00:00")
        report = await poll(db, registry)
    (changed,) = [c for c in report.changed_trials if c.uid == "ctgov:NCT03629275"]
    window = [c for c in changed.changes if c.field == "facts.stroke_window_days"]
    assert len(window) == 1 and window[0].kind == "fact" and window[0].notable
    assert window[0].old == [182.64, 365.28] and window[0].new == [182.64, 730.56]
    facts, _ = await _current_facts(db, "NCT03629275")
    assert facts is not None and facts["enrollment_count"] == 15


async def test_versions_stored_without_facts_or_by_older_rules_are_derived_again(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
    async with db.write() as session:
        await session.exec(  # type: ignore[call-overload]
            update(TrialVersionRow).values(facts=None, facts_version=None)
        )
        first = (
            await session.exec(select(TrialVersionRow).order_by(col(TrialVersionRow.id)))
        ).first()
        assert first is not None
        first.facts, first.facts_version = TrialFacts().to_json(), FACTS_VERSION - 1
        session.add(first)
    async with db.read() as session:
        stale = await store.versions_with_stale_facts(session, FACTS_VERSION)
        trials = (await session.exec(select(TrialRow))).all()
    assert len(stale) == len(trials) > 0
    assert await refresh_facts(db, batch=3) == len(trials)
    async with db.read() as session:
        assert await store.versions_with_stale_facts(session, FACTS_VERSION) == []
    facts, version = await _current_facts(db, "NCT03545607")
    assert version == FACTS_VERSION and facts is not None and facts["routes"] == ["intravenous"]
    assert await refresh_facts(db) == 0
