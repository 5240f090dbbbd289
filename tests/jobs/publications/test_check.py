"""The publications job against the fake E-utilities (real HTTP) and a real database.

One recruiting trial (NCT04811651, started 2021-03) with three chats: one whose subscription
matches it, one that was alerted about it before but whose subscription no longer matches (a
follower), and one it never concerned. Papers are added to the fake as they would appear.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta

import pytest
from sqlmodel import select

from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.publications.check import check_due, check_trial, search_ids
from jobs.publications.pubmed import PubMedClient
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox
from storage import publications as stored
from storage import trials as trial_store
from storage.db import Database
from storage.tables import OutboxRow, PublicationCheckRow, PublicationRow, utcnow
from tests.conftest import study
from tests.fakes.fake_eutils import FakeEutils
from tests.jobs.helpers import FAST_HTTP
from trialbot.model import Reference

TODAY = date(2026, 12, 4)
NCT = "NCT04811651"
MATCHING, FOLLOWER, STRANGER = 101, 102, 103


@pytest.fixture
def fake() -> Iterator[FakeEutils]:
    with FakeEutils() as server:
        yield server


@pytest.fixture
async def pubmed(fake: FakeEutils) -> AsyncIterator[PubMedClient]:
    async with PubMedClient(fake.base_url, http=FAST_HTTP) as client:
        yield client


async def _world(db: Database, *references: Reference, has_results: bool = False) -> int:
    """The trial (with `references` added in code, as a record listing them would have), the
    three chats, and an earlier alert to the follower."""
    trial = normalise(study(f"{NCT}__2022-05-25"))
    trial = trial.model_copy(update={"references": tuple(references), "has_results": has_results})
    async with db.write() as session:
        row = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
        assert row.id is not None
        for chat_id in (MATCHING, FOLLOWER, STRANGER):
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
        await chats.add_subscription(session, MATCHING, conditions=["ischemic"])
        far = await chats.add_subscription(
            session, FOLLOWER, conditions=["ischemic"], countries=["JP"]
        )
        await chats.add_subscription(session, STRANGER, conditions=["ischemic"], countries=["JP"])
        version = await trial_store.current_trial_by_id(session, row.id)
        assert version is not None
        versions = (await session.exec(select(OutboxRow))).all()
        assert versions == []
    async with db.write() as session:
        from storage.tables import TrialVersionRow

        version_row = (
            await session.exec(select(TrialVersionRow).where(TrialVersionRow.trial_id == row.id))
        ).one()
        assert version_row.id is not None and far.id is not None
        await outbox.enqueue(
            session, [outbox.AlertIn(FOLLOWER, row.id, version_row.id, "new", [far.id])]
        )
        [sent] = (await session.exec(select(OutboxRow))).all()
        assert sent.id is not None
        await outbox.mark_sent(session, sent.id, 1)
        await stored.ensure_scheduled(session, utcnow(), timedelta(days=7))  # due within a week
    return row.id


async def _results_alerts(db: Database) -> list[tuple[int, int | None]]:
    async with db.read() as session:
        rows = (await session.exec(select(OutboxRow).where(OutboxRow.kind == "results"))).all()
    return sorted((r.chat_id, r.publication_id) for r in rows)


async def _look_again(db: Database, trial_id: int, pubmed: PubMedClient) -> int:
    async with db.write() as session:
        await stored.soon(session, [trial_id], utcnow())
    report = await check_due(db, pubmed, utcnow(), today=TODAY)
    assert report.looked == 1
    return report.alerts_queued


async def test_a_results_paper_found_later_is_told_once_to_matching_and_following_chats(
    db: Database, fake: FakeEutils, pubmed: PubMedClient
) -> None:
    trial_id = await _world(db)
    fake.add_paper(
        "31000001",
        "Intravenous stem cells after stroke: rationale and design of a phase 2 trial",
        "International journal of stroke",
        "2021 Sep",
        ("Journal Article",),
        si_ids=(f"ClinicalTrials.gov/{NCT}",),
    )
    # the first look is a baseline: the protocol is stored, nothing is told
    first = await check_due(db, pubmed, utcnow() + timedelta(days=8), today=TODAY)
    assert (first.looked, first.alerts_queued, first.new_results) == (1, 0, 0)
    assert await _results_alerts(db) == []

    fake.add_paper(
        "41000002",
        "Allogeneic cells in acute ischaemic stroke: a randomised, placebo-controlled trial",
        "The Lancet. Neurology",
        "2026 Oct",
        ("Journal Article", "Randomized Controlled Trial", "Clinical Trial, Phase II"),
        doi="10.1016/S1474-4422(26)00001-1",
        si_ids=(f"ClinicalTrials.gov/{NCT}",),
    )
    assert await _look_again(db, trial_id, pubmed) == 2
    alerts = await _results_alerts(db)
    assert [chat for chat, _ in alerts] == [MATCHING, FOLLOWER]
    async with db.read() as session:
        paper = await session.get(PublicationRow, alerts[0][1])
    assert paper is not None and paper.kind == "results" and paper.pmid == "41000002"
    assert paper.journal == "The Lancet. Neurology" and paper.published == "2026-10"

    # nothing new: nothing told; a protocol paper later: nothing told either
    assert await _look_again(db, trial_id, pubmed) == 0
    fake.add_paper(
        "41000003",
        "Statistical analysis plan for a trial of cells after stroke",
        "Trials",
        "2026 Nov",
        ("Journal Article", "Clinical Trial Protocol"),
        si_ids=(NCT,),
    )
    assert await _look_again(db, trial_id, pubmed) == 0
    assert len(await _results_alerts(db)) == 2
    async with db.read() as session:
        kinds = {p.pmid: p.kind for p in (await stored.of_trials(session, [trial_id]))[trial_id]}
    assert kinds == {"31000001": "protocol", "41000002": "results", "41000003": "protocol"}


async def test_a_recent_results_paper_is_news_even_on_the_first_look(
    db: Database, fake: FakeEutils, pubmed: PubMedClient
) -> None:
    await _world(db)
    fake.add_paper(
        "41000004",
        "Cells after stroke: a phase 1 trial",
        "Stroke",
        "2026 Nov 20",
        ("Clinical Trial, Phase I",),
        si_ids=(NCT,),
    )
    fake.add_paper(
        "39000005",
        "Cells after stroke: early results of a phase 1 trial",
        "Stroke",
        "2023 Jan",
        ("Clinical Trial, Phase I",),
        si_ids=(NCT,),
    )
    report = await check_due(db, pubmed, utcnow() + timedelta(days=8), today=TODAY)
    assert report.new_results == 1  # the 2023 paper was out before anyone looked
    assert {pub for _, pub in await _results_alerts(db)} == {await _publication_id(db, "41000004")}


async def _publication_id(db: Database, pmid: str) -> int | None:
    async with db.read() as session:
        row = (await session.exec(select(PublicationRow).where(PublicationRow.pmid == pmid))).one()
    return row.id


async def test_a_dead_pubmed_fails_the_look_alone(
    db: Database, fake: FakeEutils, pubmed: PubMedClient
) -> None:
    listed = Reference(
        pmid="35000006",
        type="RESULT",
        citation="Doe J. Cells after stroke. Stroke. 2022;53:1-9.",
    )
    trial_id = await _world(db, listed)
    fake.fail_next(20, 503)
    now = utcnow() + timedelta(days=8)
    report = await check_due(db, pubmed, now, today=TODAY)
    assert (report.looked, report.failed) == (1, 1)
    assert "pubmed" in report.errors[0]
    async with db.read() as session:
        check = await session.get(PublicationCheckRow, trial_id)
        papers = (await stored.of_trials(session, [trial_id]))[trial_id]
    # what the registry lists is stored anyway, and the next look comes in hours, not a week
    assert [(p.pmid, p.kind, p.reason) for p in papers] == [
        ("35000006", "results", "registry_results")
    ]
    assert check is not None and check.last_error and check.failures == 1
    assert check.due_at - now <= timedelta(hours=6)


async def test_without_pubmed_the_registry_list_is_read(db: Database) -> None:
    listed = (
        Reference(pmid="35000007", type="BACKGROUND", citation="Roe R. Stroke. 2010."),
        Reference(url="https://example.org/results.pdf", type="RESULTS_LINK", date="2026-11"),
    )
    trial_id = await _world(db, *listed)
    report = await check_trial(db, trial_id, None, utcnow(), today=TODAY)
    assert (report.looked, report.failed) == (1, 0)
    async with db.read() as session:
        papers = (await stored.of_trials(session, [trial_id]))[trial_id]
    assert sorted((p.key, p.kind) for p in papers) == [
        ("pmid:35000007", "background"),
        ("url:https://example.org/results.pdf", "results"),
    ]
    # a results link dated within 90 days is news even on the first look
    assert len(await _results_alerts(db)) == 2


async def test_a_registry_results_document_is_not_told_twice(db: Database) -> None:
    """Results posted on the registry reach people as the record's change; the registry's own
    report of them (no PMID, no DOI) is stored as results but not told again."""
    report_page = Reference(
        url="https://www.isrctn.com/ISRCTN00000000", type="BASIC_RESULTS", date="2026-11-20"
    )
    trial_id = await _world(db, report_page, has_results=True)
    await check_trial(db, trial_id, None, utcnow(), today=TODAY)
    async with db.read() as session:
        [paper] = (await stored.of_trials(session, [trial_id]))[trial_id]
    assert paper.kind == "results"
    assert await _results_alerts(db) == []


def test_search_ids_are_the_records_own_not_ids_in_its_prose() -> None:
    trial = normalise(study(f"{NCT}__2022-05-25"))
    prose = trial.model_copy(update={"summary": "Follows our earlier trial NCT01436487."})
    assert search_ids(prose) == [NCT]
