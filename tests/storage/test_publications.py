"""Publications and their looks on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox
from storage import publications as stored
from storage import trials as trial_store
from storage.db import Database
from storage.tables import ChatRow, OutboxRow, PublicationRow, utcnow
from tests.conftest import study
from trialbot.publications import Publication


async def _trial(db: Database) -> int:
    trial = normalise(study("NCT04811651__2022-05-25"))
    async with db.write() as session:
        row = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
    assert row.id is not None
    return row.id


def _paper(kind: str, reason: str = "trial_type", pmid: str = "111", **more: str) -> Publication:
    return Publication(kind=kind, reason=reason, found_by="pubmed_si", pmid=pmid, **more)  # type: ignore[arg-type]


async def test_a_results_paper_is_new_once_and_updates_keep_what_was_known(db: Database) -> None:
    trial_id = await _trial(db)
    now = utcnow()
    untyped = _paper("other", "no_evidence", title="Cells after stroke", journal="Stroke")
    async with db.write() as session:
        assert await stored.record(session, trial_id, [untyped], now=now) == []
    # PubMed indexed it as a trial report: it becomes results, and is new exactly now
    typed = _paper("results", published="2026-10")
    async with db.write() as session:
        fresh = await stored.record(
            session, trial_id, [typed], {typed.key: ("Randomized Controlled Trial",)}, now
        )
    assert [f.publication.kind for f in fresh] == ["results"]
    assert fresh[0].publication.title == "Cells after stroke"  # kept from the first look
    # a later look without PubMed ("no evidence") neither demotes it nor makes it new again
    async with db.write() as session:
        assert await stored.record(session, trial_id, [untyped], now=now) == []
    async with db.read() as session:
        row = (await session.exec(select(PublicationRow))).one()
        papers = await stored.of_trials(session, [trial_id])
    assert row.kind == "results" and row.pubtypes == ["Randomized Controlled Trial"]
    assert row.results_since is not None
    assert [p.key for p in papers[trial_id]] == ["pmid:111"]


async def test_one_entry_per_key_within_one_look(db: Database) -> None:
    trial_id = await _trial(db)
    same = [_paper("other", "no_evidence"), _paper("results")]
    async with db.write() as session:
        fresh = await stored.record(session, trial_id, same)
    assert len(fresh) == 1
    async with db.read() as session:
        assert len((await session.exec(select(PublicationRow))).all()) == 1


async def test_results_alerts_are_once_per_chat_and_publication(db: Database) -> None:
    trial_id = await _trial(db)
    async with db.write() as session:
        for chat_id in (1, 2):
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
        fresh = await stored.record(session, trial_id, [_paper("results")])
        alerts = [outbox.ResultsAlertIn(c, trial_id, fresh[0].publication_id, [1]) for c in (1, 2)]
        assert await outbox.enqueue_results(session, alerts) == 2
    async with db.write() as session:
        assert await outbox.enqueue_results(session, alerts) == 0
    async with db.read() as session:
        rows = (await session.exec(select(OutboxRow))).all()
    assert {(r.kind, r.version_id, r.status) for r in rows} == {("results", None, "pending")}


async def test_followers_are_active_unpaused_chats_told_before(db: Database) -> None:
    trial_id = await _trial(db)
    async with db.write() as session:
        for chat_id in (1, 2, 3):
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
        fresh = await stored.record(session, trial_id, [_paper("results")])
        pub_id = fresh[0].publication_id
        await outbox.enqueue_results(
            session, [outbox.ResultsAlertIn(c, trial_id, pub_id, [c * 10]) for c in (1, 2, 3)]
        )
        paused = await session.get(ChatRow, 2)
        assert paused is not None
        paused.paused = True
        digest = await session.get(ChatRow, 3)
        assert digest is not None
        digest.delivery = "daily"
    async with db.read() as session:
        found = await outbox.followers(session, trial_id)
    assert found == {1: (False, [10]), 3: (True, [30])}


async def test_looks_are_spread_brought_forward_and_recorded(db: Database) -> None:
    trial_id = await _trial(db)
    now = utcnow()
    week = timedelta(days=7)
    async with db.write() as session:
        assert await stored.ensure_scheduled(session, now, week) == 1
        assert await stored.ensure_scheduled(session, now, week) == 0
    async with db.read() as session:
        assert await stored.never_checked(session, trial_id)
        due_now = await stored.due(session, now, 10)
        due_later = await stored.due(session, now + week, 10)
    offset = stored.spread_offset(trial_id, week)
    assert due_later == [trial_id] and due_now == ([trial_id] if not offset else [])
    async with db.write() as session:
        await stored.soon(session, [trial_id], now)
    async with db.read() as session:
        assert await stored.due(session, now, 10) == [trial_id]
    async with db.write() as session:
        await stored.checked(session, trial_id, now, now + week, "pubmed: HTTP 503")
    async with db.read() as session:
        assert not await stored.never_checked(session, trial_id)
        assert await stored.due(session, now, 10) == []
        health = await stored.stats(session, now, timedelta(days=1))
    assert (health.trials_scheduled, health.failing, health.overdue) == (1, 1, 0)
