"""Looking up the ids someone sent: stored first, then the registry live, never a crash."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from jobs.classify import classify
from jobs.lookup import MAX_IDS, TrialLookup, look_up
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import trials as trial_store
from storage.db import Database
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.jobs.helpers import client_for


@pytest.fixture
def fake() -> Iterator[FakeCtgov]:
    with FakeCtgov(studies=[study("NCT03545607__2022-02-09")]) as running:
        yield running


async def _store(db: Database, name: str) -> None:
    trial = normalise(study(name))
    async with db.write() as session:
        await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))


async def test_a_stored_trial_is_answered_from_the_database_without_asking_the_registry(
    db: Database, fake: FakeCtgov
) -> None:
    await _store(db, "NCT03545607__2019-08-13")
    async with client_for(fake) as registry:
        (found,) = await look_up(["nct 03545607"], db, [registry])
    assert found.found is True and found.where == "stored"
    assert found.id == "NCT03545607" and found.registry == "ClinicalTrials.gov"
    assert found.title and found.status
    assert fake.requests == []


async def test_a_trial_not_stored_is_read_live_and_an_unknown_one_is_not_found(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        known, unknown = await look_up(["NCT03545607", "NCT09999999"], db, [registry])
    assert known.found is True and known.where == "registry"
    assert known.status == normalise(study("NCT03545607__2022-02-09")).overall_status
    assert known.url and "NCT03545607" in known.url
    assert unknown == TrialLookup(
        "NCT09999999", "ClinicalTrials.gov", found=False, reason="not_found"
    )


async def test_a_failing_registry_is_could_not_check_now_and_others_are_not_reachable(
    db: Database, fake: FakeCtgov
) -> None:
    fake.fail_next(10, status=503)
    async with client_for(fake, max_retries=1) as registry:
        failed, chinese, eudract = await look_up(
            ["NCT03545607", "ChiCTR2000031319", "2015-001234-12"], db, [registry]
        )
    assert failed.found is None and failed.reason == "unavailable"
    assert chinese.found is False and chinese.reason == "no_live_registry"
    assert chinese.registry == "ChiCTR"
    assert eudract.found is False and eudract.reason == "no_live_registry"


async def test_no_database_and_no_registry_still_answers_and_the_count_is_bounded() -> None:
    ids = [f"NCT0{n:07d}" for n in range(1, 12)]
    answers = await look_up(ids + ids, None, [])
    assert len(answers) == MAX_IDS
    assert all(a.found is False and a.reason == "no_live_registry" for a in answers)


async def test_an_unreachable_database_is_not_a_crash(fake: FakeCtgov) -> None:
    broken = Database("postgresql://nobody@127.0.0.1:1/none")
    try:
        async with client_for(fake) as registry:
            (found,) = await look_up(["NCT03545607"], broken, [registry])
    finally:
        await broken.dispose()
    assert found.found is True and found.where == "registry"
