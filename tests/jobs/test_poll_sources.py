"""One trial per trial, through the real poller: real clients over HTTP against the fake
registries, real databases.

The CT.gov records are real (MASTERS-2, NCT03545607, in `loaded_fake()`); the CTIS records of
the same trial are built with the CTIS fake's `built_record`, as CTIS would hold it, and the
WHO export rows with the ICTRP fake's.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from jobs.poll import poll
from jobs.registries.ctis import CtisClient
from jobs.registries.ictrp import IctrpExport
from storage import chats
from storage import trials as store
from storage.db import Database
from storage.tables import OutboxRow, TrialRow
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.ctis_server import FakeCtis, built_record
from tests.fakes.ictrp_server import built_record as ictrp_row
from tests.fakes.ictrp_server import write_export
from tests.jobs.helpers import EXPECTED_STORED, FAST_HTTP, client_for, loaded_fake

CTIS_ID = "2024-520423-88-00"
MADRID = ("Hospital Universitario La Paz", "Madrid", "Spain")
PHOENIX = ("Another spelling of a Phoenix hospital", "Phoenix", "United States")


@pytest.fixture
def ctgov() -> Iterator[FakeCtgov]:
    with loaded_fake() as running:
        yield running


@pytest.fixture
def ctis() -> Iterator[FakeCtis]:
    with FakeCtis() as running:
        yield running


def ctis_client(fake: FakeCtis) -> CtisClient:
    return CtisClient(
        fake.base_url, http=replace(FAST_HTTP, max_retries=1), condition_terms=("stroke",)
    )


def masters2_in_ctis(
    *sites: tuple[str, str, str],
    names_nct: bool = True,
    ct: str = CTIS_ID,
    updated: str = "2026-10-01",
) -> dict[str, object]:
    return built_record(
        ct,
        title="Multistem administration for emergent ischemic stroke (MASTERS-2)",
        condition="Ischaemic stroke",
        intervention="MultiStem (allogeneic multipotent adult progenitor cells), intravenous",
        sites=sites or (MADRID,),
        secondary_ids=("NCT03545607",) if names_nct else (),
        last_updated=date.today().isoformat(),
        summary="Allogeneic stem cells given within 18-36 hours of an ischaemic stroke.",
    )


async def _trials(db: Database) -> dict[str, TrialRow]:
    async with db.read() as session:
        return {r.registry_id: r for r in await store.list_trials(session)}


async def _sources(db: Database, registry_id: str) -> list[tuple[str, str]]:
    async with db.read() as session:
        row = await store.find_trial(session, registry_id)
        assert row is not None
        return [(s.registry_name, s.registry_id) for s in await store.record_sources(session, row)]


async def test_a_ctis_record_naming_an_nct_id_joins_that_trial(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    async with client_for(ctgov) as first:
        await poll(db, first)
    ctis.upsert(masters2_in_ctis(MADRID, PHOENIX))
    async with ctis_client(ctis) as second:
        report = await poll(db, second)
    assert report.ok and report.fetched == 1
    assert report.new == 0 and report.changed == 1 and report.rejected == 0
    trials = await _trials(db)
    assert len(trials) == len(EXPECTED_STORED) and CTIS_ID not in trials
    assert await _sources(db, "NCT03545607") == [("ctgov", "NCT03545607"), ("ctis", CTIS_ID)]
    assert await _sources(db, CTIS_ID) == await _sources(db, "NCT03545607")  # found by either id
    (changed,) = report.changed_trials
    kinds = sorted(c.kind for c in changed.changes)
    added = [c.new["city"] for c in changed.changes if c.kind == "site_added"]
    assert "source_added" in kinds and added == ["Madrid"]  # Phoenix was known already
    async with db.read() as session:
        hist = await store.history(session, trials["NCT03545607"])
    merged = hist.versions[-1].snapshot
    assert [s["registry"] for s in merged["sources"]] == ["ctgov", "ctis"]
    assert merged["registry_id"] == "NCT03545607"


async def test_ctgov_joining_a_trial_first_seen_in_ctis_becomes_its_primary_record(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    ctis.upsert(masters2_in_ctis(MADRID))
    async with ctis_client(ctis) as first:
        await poll(db, first)
    assert CTIS_ID in await _trials(db)
    async with client_for(ctgov) as second:
        report = await poll(db, second)
    assert "ctgov:NCT03545607" not in report.new_ids
    trials = await _trials(db)
    assert "NCT03545607" in trials and CTIS_ID not in trials
    assert trials["NCT03545607"].registry_name == "ctgov"
    assert trials["NCT03545607"].current_version == 2
    assert await _sources(db, CTIS_ID) == [("ctis", CTIS_ID), ("ctgov", "NCT03545607")]


async def test_a_record_that_later_names_another_trial_merges_the_two(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    async with client_for(ctgov) as first, ctis_client(ctis) as second:
        await poll(db, first)
        ctis.upsert(masters2_in_ctis(MADRID, names_nct=False))
        await poll(db, second)
        assert {"NCT03545607", CTIS_ID} <= set(await _trials(db))
        ctis.upsert(masters2_in_ctis(MADRID, names_nct=True))
        report = await poll(db, second)
    assert report.ok
    trials = await _trials(db)
    assert CTIS_ID not in trials and len(trials) == len(EXPECTED_STORED)
    async with db.read() as session:
        absorbed = (
            await session.exec(select(TrialRow).where(TrialRow.merged_into.is_not(None)))  # type: ignore[union-attr]
        ).one()
    assert absorbed.registry_id.startswith(CTIS_ID) and not absorbed.relevant
    assert await _sources(db, "NCT03545607") == [("ctgov", "NCT03545607"), ("ctis", CTIS_ID)]


async def test_two_registries_polled_at_once_both_reach_the_trial(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    """A CT.gov page and a CTIS page changing one trial at the same time: whichever commits
    second merges what the first stored (trials are locked before their records are read)."""
    async with client_for(ctgov) as first:
        await poll(db, first)
    ctgov.upsert(study("NCT03545607__2022-02-09"))  # new sites in Taiwan
    ctgov.set_data_timestamp("2022-02-10T09:00:00")
    ctis.upsert(masters2_in_ctis(MADRID))
    async with client_for(ctgov) as first, ctis_client(ctis) as second:
        reports = await asyncio.gather(poll(db, first), poll(db, second))
    assert all(r.ok for r in reports) and [r.changed for r in reports] == [1, 1]
    trials = await _trials(db)
    assert trials["NCT03545607"].current_version == 3
    assert await _sources(db, "NCT03545607") == [("ctgov", "NCT03545607"), ("ctis", CTIS_ID)]
    async with db.read() as session:
        latest = (await store.history(session, trials["NCT03545607"])).versions[-1].snapshot
    assert {"Madrid", "Taichung"} <= {site["city"] for site in latest["sites"]}


async def test_two_records_of_one_registry_are_never_one_trial(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    """An extension study in CTIS may name its parent's NCT number; the parent's own CTIS
    record names it too. Only one of them can be the same trial."""
    async with client_for(ctgov) as first:
        await poll(db, first)
    ctis.upsert(masters2_in_ctis(MADRID))
    ctis.upsert(masters2_in_ctis(MADRID, ct="2025-521111-11-00"))
    async with ctis_client(ctis) as second:
        await poll(db, second)
    trials = await _trials(db)
    assert len(await _sources(db, "NCT03545607")) == 2
    assert len(trials) == len(EXPECTED_STORED) + 1


async def test_subscribers_hear_once_about_a_trial_found_in_two_registries(
    db: Database, ctgov: FakeCtgov, ctis: FakeCtis
) -> None:
    async with db.write() as session:
        await chats.ensure_chat(session, 11, chat_type="private", language="en")
        await chats.add_subscription(session, 11, conditions=["ischemic"], countries=["US"])
    ctgov_record = copy.deepcopy(ctgov.study("NCT03545607"))
    assert ctgov_record is not None
    ctgov.remove("NCT03545607")
    # derived: posted after the first poll, so the next incremental poll finds it
    status = ctgov_record["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"] = {"date": "2020-01-02", "type": "ACTUAL"}
    async with client_for(ctgov) as first, ctis_client(ctis) as second:
        await poll(db, first)  # backfill without MASTERS-2: nothing is announced
        await poll(db, second)  # CTIS backfill: nothing in it yet
        ctgov.upsert(ctgov_record)
        ctgov.bump_data_timestamp()
        await poll(db, first)  # new in CT.gov: one alert
        ctis.upsert(masters2_in_ctis(PHOENIX))  # the same trial in CTIS, nothing new in it
        report = await poll(db, second)
    assert report.changed == 1 and report.alerts_queued == 0
    async with db.read() as session:
        alerts = (await session.exec(select(OutboxRow).where(OutboxRow.chat_id == 11))).all()
    assert [a.kind for a in alerts] == ["new"]


async def test_two_rows_of_one_page_that_name_each_other_make_one_new_trial(
    db: Database, tmp_path: Path
) -> None:
    """The WHO export holds a trial's ChiCTR and jRCT rows side by side; they arrive in one
    page and become one trial, announced once, its first version already the merged one."""
    rows = [
        ictrp_row(
            "ChiCTR2100041234",
            title="Umbilical cord mesenchymal stem cells for acute ischaemic stroke",
            condition="Acute ischaemic stroke",
            intervention="Intervention group: human umbilical cord mesenchymal stem cells",
            sites=[("", "", "China")],
            secondary_ids=["jRCT2063200009"],
            last_updated=date.today().isoformat(),
        ),
        ictrp_row(
            "JPRN-jRCT2063200009",
            title="Umbilical cord MSC for acute ischaemic stroke (Japanese sites)",
            condition="Cerebral infarction",
            intervention="Human umbilical cord mesenchymal stem cells, intravenous",
            sites=[("", "", "Japan")],
            last_updated=date.today().isoformat(),
        ),
    ]
    export = write_export(rows, tmp_path / "export.csv")
    async with IctrpExport(str(export)) as registry:
        report = await poll(db, registry)
    assert report.ok and report.fetched == 2 and report.new == 1 and report.changed == 0
    trials = await _trials(db)
    assert list(trials) == ["ChiCTR2100041234"]
    row = trials["ChiCTR2100041234"]
    assert row.current_version == 1 and set(row.countries) == {"CN", "JP"}
    assert await _sources(db, "jRCT2063200009") == [
        ("ictrp", "ChiCTR2100041234"),
        ("ictrp", "JPRN-jRCT2063200009"),
    ]
