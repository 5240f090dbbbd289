"""Trials, versions and changes on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from jobs.changes import diff
from jobs.registries.ctgov_record import normalise
from storage import poll_state
from storage import trials as store
from storage.db import Database
from storage.tables import ChatRow, TrialChangeRow, TrialVersionRow
from tests.conftest import study

VERDICT = store.Verdict(
    tier="core", buckets=["ischemic"], relevant=True, details={"reasons": ["test"]}
)


async def test_insert_then_new_version_keeps_history(db: Database) -> None:
    old = normalise(study("NCT03545607__2019-08-13"))
    new = normalise(study("NCT03545607__2022-02-09"))
    async with db.write() as session:
        await store.insert_trial(session, old, VERDICT)
    async with db.write() as session:
        row = await store.get_trial(session, "ctgov", "NCT03545607", for_update=True)
        assert row is not None and row.fingerprint == old.fingerprint()
        snapshot = await store.current_snapshot(session, row)
        changes = diff(snapshot, new.snapshot())
        await store.add_version(session, row, store.Observation.of(new, VERDICT), changes)
    async with db.read() as session:
        row = await store.find_trial(session, "nct03545607")
        assert row is not None
        hist = await store.history(session, row)
    assert [v.version for v in hist.versions] == [1, 2]
    assert hist.versions[0].snapshot == old.snapshot()
    assert hist.versions[1].snapshot == new.snapshot()
    assert row.countries == ["TW", "US"]
    kinds = sorted(c.kind for c in hist.changes if c.notable)
    assert kinds == ["date", "date", "site_added", "site_added", "site_added"]
    assert all(c.version_id == hist.versions[1].id for c in hist.changes)


async def test_failed_write_leaves_stored_data_intact(db: Database) -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    async with db.write() as session:
        await store.insert_trial(session, trial, VERDICT)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            row = await store.get_trial(session, "ctgov", "NCT04811651", for_update=True)
            assert row is not None
            await store.add_version(session, row, store.Observation.of(trial, VERDICT), [])
            raise RuntimeError("disk full")
    async with db.read() as session:
        versions = (await session.exec(select(TrialVersionRow))).all()
        row = await store.get_trial(session, "ctgov", "NCT04811651")
    assert len(versions) == 1 and row is not None and row.current_version == 1


async def test_concurrent_writers_lose_no_update(db: Database) -> None:
    """Read-modify-write in parallel transactions: every increment must survive."""
    async with db.write() as session:
        await poll_state.get(session, "ctgov")

    async def fail_once() -> None:
        async with db.write() as session:
            row = await poll_state.get(session, "ctgov", for_update=True)
            seen = row.consecutive_failures
            await asyncio.sleep(0.01)
            row.consecutive_failures = seen + 1
            session.add(row)

    await asyncio.gather(*(fail_once() for _ in range(8)))
    async with db.read() as session:
        assert (await poll_state.get(session, "ctgov")).consecutive_failures == 8


async def test_chat_ids_beyond_32_bits_round_trip(db: Database) -> None:
    supergroup = -1001234567890123
    async with db.write() as session:
        session.add(ChatRow(chat_id=supergroup, type="supergroup"))
    async with db.read() as session:
        row = (await session.exec(select(ChatRow))).one()
    assert row.chat_id == supergroup


async def test_poll_state_success_and_failure(db: Database) -> None:
    from datetime import date

    async with db.write() as session:
        await poll_state.record_failure(session, "ctgov", "HTTP 503 " + "x" * 1000)
    async with db.write() as session:
        await poll_state.record_success(
            session, "ctgov", watermark=date(2026, 9, 4), data_version="v1", counts={"new": 1}
        )
    async with db.write() as session:
        # An older watermark never moves it back.
        await poll_state.record_success(
            session, "ctgov", watermark=date(2026, 1, 1), data_version="v2", counts={}
        )
    async with db.read() as session:
        state = await poll_state.get(session, "ctgov")
    assert state.watermark == date(2026, 9, 4)
    assert state.data_version == "v2"
    assert state.consecutive_failures == 0
    assert state.last_failure_reason is not None and len(state.last_failure_reason) == 500


async def test_deleting_a_trial_cascades(db: Database) -> None:
    trial = normalise(study("NCT03629275__2019-03-02"))
    newer = normalise(study("NCT03629275__2021-08-13"))
    async with db.write() as session:
        row = await store.insert_trial(session, trial, VERDICT)
        changes = diff(trial.snapshot(), newer.snapshot())
        await store.add_version(session, row, store.Observation.of(newer, VERDICT), changes)
    async with db.write() as session:
        stored = await store.get_trial(session, "ctgov", "NCT03629275")
        await session.delete(stored)
    async with db.read() as session:
        assert (await session.exec(select(TrialChangeRow))).all() == []
        assert (await session.exec(select(TrialVersionRow))).all() == []
