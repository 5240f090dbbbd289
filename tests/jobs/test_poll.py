"""The poller end to end below the CLI: real client, fake CT.gov over HTTP, real databases.

Changed versions are the real later snapshots from the samples, or are derived in code here.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import func, select

from jobs.poll import poll, refresh
from storage import chats, poll_state
from storage import trials as store
from storage.db import Database
from storage.tables import TrialRow, TrialVersionRow
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.jobs.helpers import EXPECTED_STORED, client_for, loaded_fake


@pytest.fixture
def fake() -> Iterator[FakeCtgov]:
    with loaded_fake() as running:
        yield running


async def _versions(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await store.list_trials(session, relevant_only=False)
    return {r.registry_id: r.current_version for r in rows}


async def test_first_poll_backfills_and_second_fetches_nothing(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        first = await poll(db, registry)
        second = await poll(db, registry)
    assert first.ok and first.mode == "backfill"
    assert set(first.new_ids) == {f"ctgov:{i}" for i in EXPECTED_STORED}
    assert first.fetched == len(fake.study_ids)
    assert first.rejected == first.fetched - first.new and first.errors == 0
    assert second.skipped and second.fetched == 0 and second.requests == 1
    async with db.read() as session:
        assert await store.count_trials(session) == len(EXPECTED_STORED)
        state = await poll_state.get(session, "ctgov")
    assert state.watermark == date(2020, 1, 1) and state.data_version == "2020-01-01T09:00:00"


async def test_a_changed_version_is_one_change_with_its_field_diff(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(study("NCT03545607__2022-02-09"))
        fake.set_data_timestamp("2022-02-10T09:00:00")
        fake.clear_requests()
        report = await poll(db, registry)
    assert report.ok and report.mode == "incremental"
    assert report.new == 0 and report.changed == 1
    (changed,) = report.changed_trials
    assert changed.uid == "ctgov:NCT03545607" and changed.version == 2
    added = sorted(c.new["city"] for c in changed.changes if c.kind == "site_added")
    assert added == ["Taichung", "Taipei City", "Taoyuan City"]
    dates = {c.field: (c.old, c.new) for c in changed.changes if c.kind == "date"}
    assert dates["dates.primary_completion"][1]["date"] == "2022-09"
    studies = [q for p, q in fake.requests if p == "/studies"]
    search, count = studies[:-1], studies[-1]  # the pages, then the all-dates count
    assert search and all(
        q["filter.advanced"] == "AREA[LastUpdatePostDate]RANGE[2019-12-30,MAX]" for q in search
    )
    assert "filter.advanced" not in count and count["pageSize"] == "1"
    assert report.matching == len(fake.study_ids)  # the fake's search matches every record
    assert (await _versions(db))["NCT03545607"] == 2


async def test_status_flip_without_new_post_date_is_caught_by_the_full_recheck(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(study("NCT01716481__2017-04-26__unknown"))
        fake.set_data_timestamp("2020-01-02T09:00:00")
        incremental = await poll(db, registry)
        recheck = await refresh(db, registry, older_than=timedelta(0), batch_size=4)
    assert incremental.changed == 0
    assert recheck.ok and recheck.changed == 1 and recheck.missing == 0
    assert recheck.fetched == len(EXPECTED_STORED)
    (changed,) = recheck.changed_trials
    status = next(c for c in changed.changes if c.kind == "status")
    assert (status.old, status.new) == ("RECRUITING", "UNKNOWN")


async def test_registry_dying_mid_poll_keeps_data_and_the_next_poll_leaves_no_gap(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake, page_size=2, max_retries=1) as registry:
        await poll(db, registry)
        before = await _versions(db)
        fake.upsert(study("NCT03545607__2022-02-09"))
        fake.upsert(study("NCT03629275__2021-08-13"))
        fake.set_data_timestamp("2022-02-10T09:00:00")
        fake.fail_next(10, status=503, path="/studies", after=1)
        broken = await poll(db, registry)
        fake.clear_faults()
        async with db.read() as session:
            state = await poll_state.get(session, "ctgov")
        after_failure = await _versions(db)
        healed = await poll(db, registry)
    assert broken.error is not None and "503" in broken.error
    assert state.watermark == date(2020, 1, 1) and state.consecutive_failures == 1
    assert state.last_failure_reason and "503" in state.last_failure_reason
    assert set(after_failure) == set(before)  # nothing lost
    assert healed.ok
    final = await _versions(db)
    assert final["NCT03545607"] == 2 and final["NCT03629275"] == 2
    assert broken.changed + healed.changed == 2
    assert {k: v for k, v in final.items() if k not in ("NCT03545607", "NCT03629275")} == {
        k: v for k, v in before.items() if k not in ("NCT03545607", "NCT03629275")
    }


@pytest.mark.parametrize("fault", ["garbage", "truncate"])
async def test_a_broken_answer_changes_nothing(db: Database, fake: FakeCtgov, fault: str) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(study("NCT03545607__2022-02-09"))
        fake.set_data_timestamp("2022-02-10T09:00:00")
        if fault == "garbage":
            fake.garbage_next(1, path="/studies")
        else:
            fake.truncate_next(1, path="/studies")
        before = await _versions(db)
        report = await poll(db, registry)
    assert report.error is not None
    assert await _versions(db) == before
    async with db.read() as session:
        count = (await session.exec(select(func.count()).select_from(TrialVersionRow))).one()
    assert count == len(before)


async def test_one_bad_record_is_skipped_and_counted(db: Database, fake: FakeCtgov) -> None:
    broken = copy.deepcopy(study("NCT04811651__2022-05-25"))
    ident = broken["protocolSection"]["identificationModule"]
    del ident["briefTitle"], ident["officialTitle"]  # derived here: a record with no title
    fake.upsert(broken)
    async with client_for(fake) as registry:
        report = await poll(db, registry)
    assert report.ok and report.errors == 1
    assert report.new == len(EXPECTED_STORED) - 1


async def test_a_registry_that_changed_its_format_fails_the_poll(
    db: Database, fake: FakeCtgov
) -> None:
    """Most records unreadable is not "a few bad records": the poll fails, so /healthz and the
    admins hear of it, and the watermark stays put for when the adapter is fixed."""
    async with client_for(fake) as registry:
        await poll(db, registry)
        for nct_id in fake.study_ids:
            record = copy.deepcopy(fake.study(nct_id))
            assert record is not None
            ident = record["protocolSection"]["identificationModule"]
            ident["briefTitle"] = {"text": ident.pop("briefTitle", "")}  # derived: a new shape
            ident.pop("officialTitle", None)
            status = record["protocolSection"]["statusModule"]
            status["lastUpdatePostDateStruct"] = {"date": "2020-01-02", "type": "ACTUAL"}
            fake.upsert(record)
        fake.set_data_timestamp("2020-01-03T09:00:00")
        report = await poll(db, registry)
    assert report.error is not None and "changed its format" in report.error
    async with db.read() as session:
        state = await poll_state.get(session, "ctgov")
    assert state.consecutive_failures == 1 and state.watermark == date(2020, 1, 1)


async def test_dead_registry_is_recorded_and_stores_nothing(db: Database, fake: FakeCtgov) -> None:
    fake.fail_next(10, status=503, path="/version")
    async with client_for(fake, max_retries=1) as registry:
        report = await poll(db, registry)
    assert report.error is not None
    async with db.read() as session:
        state = await poll_state.get(session, "ctgov")
        rows = (await session.exec(select(TrialRow))).all()
    assert rows == [] and state.watermark is None and state.last_failure_at is not None


async def test_a_merged_record_keeps_its_history(db: Database, fake: FakeCtgov) -> None:
    """CT.gov can merge a record into another; the old id then answers as an alias."""
    async with client_for(fake) as registry:
        await poll(db, registry)
        merged = copy.deepcopy(study("NCT04811651__2022-05-25"))
        ident = merged["protocolSection"]["identificationModule"]
        ident["nctId"], ident["nctIdAliases"] = "NCT09999999", ["NCT04811651"]
        fake.remove("NCT04811651")
        fake.upsert(merged)
        fake.add_alias("NCT04811651", "NCT09999999")
        report = await refresh(db, registry, older_than=timedelta(0))
    assert report.ok and report.missing == 0
    versions = await _versions(db)
    assert "NCT04811651" not in versions and versions["NCT09999999"] == 2


async def test_contacts_kept_after_the_upgrade_make_one_quiet_version(
    db: Database, fake: FakeCtgov
) -> None:
    """A stored trial whose record lists contacts gets one new version on its next fetch, with
    non-notable changes only: nobody is alerted. A status change later still is."""
    real = study("NCT03629275__2019-03-02")  # recruiting; one central contact
    as_before = copy.deepcopy(real)  # what a poll stored before contacts were kept
    del as_before["protocolSection"]["contactsLocationsModule"]["centralContacts"]
    fake.upsert(as_before)
    async with db.write() as session:
        await chats.ensure_chat(session, 1, chat_type="private", language="en")
        await chats.add_subscription(session, 1, conditions=["ischemic"])
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(real)
        upgraded = await refresh(db, registry, older_than=timedelta(0), batch_size=50)
        stopped = copy.deepcopy(real)
        stopped["protocolSection"]["statusModule"]["overallStatus"] = "SUSPENDED"
        fake.upsert(stopped)
        suspended = await refresh(db, registry, older_than=timedelta(0), batch_size=50)
    (changed,) = upgraded.changed_trials
    assert changed.uid == "ctgov:NCT03629275" and changed.version == 2
    assert [(c.field, c.kind, c.notable) for c in changed.changes] == [("contacts", "other", False)]
    assert changed.changes[0].new[0]["email"] == "info@reneuron.com"
    assert upgraded.alerts_queued == 0
    assert suspended.changed == 1 and suspended.alerts_queued == 1  # the chat does match


def _late_registration() -> dict[str, object]:
    """A real positive record registered under a new id whose "last update" is years older
    than the watermark: what a late-published registration looks like to the date filter."""
    late = copy.deepcopy(study("NCT04631406__2022-05-10"))
    protocol = late["protocolSection"]
    protocol["identificationModule"]["nctId"] = "NCT09000001"
    protocol["statusModule"]["lastUpdatePostDateStruct"] = {"date": "2018-03-01", "type": "ACTUAL"}
    return late


async def test_a_record_published_late_with_an_old_date_is_found_by_a_sweep(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(_late_registration())
        fake.set_data_timestamp("2020-01-02T09:00:00")
        found = await poll(db, registry)
        fake.set_data_timestamp("2020-01-03T09:00:00")
        after = await poll(db, registry)
    assert found.ok and found.swept and found.mode == "sweep"
    assert found.matching == len(fake.study_ids) and found.new_ids == ["ctgov:NCT09000001"]
    assert not after.swept and after.new_ids == []  # everything has reached us now
    async with db.read() as session:
        assert await poll_state.count_seen(session, "ctgov") == len(fake.study_ids)
        assert (await poll_state.get(session, "ctgov")).last_sweep_at is not None


async def test_no_sweep_while_everything_the_search_matches_has_reached_us(
    db: Database, fake: FakeCtgov
) -> None:
    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.set_data_timestamp("2020-01-02T09:00:00")
        report = await poll(db, registry)
    assert report.ok and not report.swept and report.mode == "incremental"
