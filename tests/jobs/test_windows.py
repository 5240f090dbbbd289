"""The window that opens (issue 14): one alert, the week a person enters a recruiting trial's
time window, once per trial and subscription, on a clock the test moves."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlmodel import select

from bot.sender import render_alert
from jobs.classify import classify
from jobs.facts import FACTS_VERSION
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from jobs.windows import queue_window_alerts
from storage import chats, outbox
from storage import trials as trial_store
from storage.db import Database
from storage.tables import OutboxRow, TrialRow, TrialVersionRow, WindowAlertRow
from storage.trials import DerivedFacts
from tests.conftest import study
from trialbot.clock import Clock
from trialbot.facts import TrialFacts

TODAY = date(2026, 12, 4)
CHRONIC = TrialFacts(
    stroke_window_days=(180.0, 1826.25), age_min_years=18, age_max_years=80, population="adults"
)
DAD, MUM, YOUNG = 501, 502, 503


async def _world(db: Database) -> tuple[int, int]:
    """A recruiting chronic-stroke trial first seen 100 days ago, and three chats: Dad (stroke
    170 days ago, 72), Mum (same, told about this version already) and a 10-year-old."""
    trial = normalise(study("NCT04811651__2022-05-25"))
    first_seen = datetime.combine(TODAY - timedelta(days=100), datetime.min.time(), UTC)
    async with db.write() as session:
        row = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
        version = (await session.exec(select(TrialVersionRow))).one()
        trial_store.set_facts(version, DerivedFacts(CHRONIC, FACTS_VERSION))
        session.add(version)
        row.first_seen_at = first_seen
        session.add(row)
        stroke = TODAY - timedelta(days=170)
        for chat_id, birth in ((DAD, 1954), (MUM, 1954), (YOUNG, 2016)):
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
            await chats.add_subscription(
                session, chat_id, conditions=["ischemic"], stroke_date=stroke, birth_year=birth
            )
    assert row.id is not None and version.id is not None
    async with db.write() as session:
        await outbox.enqueue(session, [outbox.AlertIn(MUM, row.id, version.id, "new", [2])])
    return row.id, version.id


async def _window_rows(db: Database) -> list[OutboxRow]:
    async with db.read() as session:
        query = select(OutboxRow).where(OutboxRow.kind == "window").order_by(OutboxRow.chat_id)
        return list((await session.exec(query)).all())


async def test_the_window_alert_fires_once_when_the_person_enters(db: Database) -> None:
    trial_id, _ = await _world(db)
    clock = Clock(fixed=TODAY)
    report = await queue_window_alerts(db, clock.today(), geocode=None)
    assert (report.queued, report.upcoming) == (0, 2)  # Dad and Mum, in 10 days
    clock.set(TODAY + timedelta(days=9))
    assert (await queue_window_alerts(db, clock.today(), geocode=None)).queued == 0
    clock.set(TODAY + timedelta(days=10))  # 180 days after the stroke
    assert (await queue_window_alerts(db, clock.today(), geocode=None)).queued == 2
    for later in (10, 12, 16, 40):
        clock.set(TODAY + timedelta(days=later))
        assert (await queue_window_alerts(db, clock.today(), geocode=None)).queued == 0
    rows = await _window_rows(db)
    assert [(r.chat_id, r.version_id, r.trial_id) for r in rows] == [
        (DAD, None, trial_id),
        (MUM, None, trial_id),  # beside the earlier alert about the same version
    ]
    async with db.read() as session:
        assert len((await session.exec(select(OutboxRow))).all()) == 3
        told = (await session.exec(select(WindowAlertRow))).all()
    assert {w.entered_on for w in told} == {TODAY + timedelta(days=10)}


async def test_the_window_alert_says_so_and_names_the_fit(db: Database) -> None:
    await _world(db)
    day = TODAY + timedelta(days=11)
    await queue_window_alerts(db, day, geocode=None)
    (dad, _) = await _window_rows(db)
    async with db.read() as session:
        ctx = await outbox.alert_context(session, dad)
    assert ctx is not None
    rendered = render_alert(ctx, dad, day)
    assert rendered is not None
    assert "From this week you are inside this study's time window" in rendered.text
    assert "Your stroke was about 6 months ago" in rendered.text
    assert "You are about 72; this study takes people aged 18 to 80." in rendered.text
    # Later the trial stops recruiting: the queued alert has nothing left to say.
    async with db.write() as session:
        row = (await session.exec(select(TrialRow))).one()
        version = (await session.exec(select(TrialVersionRow))).one()
        version.snapshot = {**version.snapshot, "overall_status": "COMPLETED"}
        session.add(version)
    async with db.read() as session:
        ctx = await outbox.alert_context(session, dad)
    assert ctx is not None and row.id is not None
    assert render_alert(ctx, dad, day) is None


async def test_a_person_already_inside_when_the_trial_was_first_seen_gets_no_window_alert(
    db: Database,
) -> None:
    await _world(db)
    async with db.write() as session:
        row = (await session.exec(select(TrialRow))).one()
        row.first_seen_at = datetime.combine(TODAY + timedelta(days=11), datetime.min.time(), UTC)
        session.add(row)
    report = await queue_window_alerts(db, TODAY + timedelta(days=12), geocode=None)
    assert report.queued == 0
