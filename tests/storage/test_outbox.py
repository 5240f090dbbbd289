"""The outbox on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlmodel import select

from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox
from storage import trials as trial_store
from storage.db import Database
from storage.tables import OutboxRow, SubscriptionRow, TrialVersionRow, utcnow
from tests.conftest import study


async def _world(db: Database, chat_ids: list[int]) -> tuple[int, int]:
    """Chats with one subscription each, and one stored trial version; returns (trial, version)."""
    trial = normalise(study("NCT04811651__2022-05-25"))
    async with db.write() as session:
        row = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
        for chat_id in chat_ids:
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
            await chats.add_subscription(session, chat_id, conditions=["ischemic"])
        version = (await session.exec(select(TrialVersionRow))).one()
    assert row.id is not None and version.id is not None
    return row.id, version.id


def _alerts(chat_ids: list[int], trial_id: int, version_id: int) -> list[outbox.AlertIn]:
    return [outbox.AlertIn(c, trial_id, version_id, "new", [1]) for c in chat_ids]


async def test_enqueue_is_idempotent(db: Database) -> None:
    trial_id, version_id = await _world(db, [1, 2, 3])
    async with db.write() as session:
        assert await outbox.enqueue(session, _alerts([1, 2, 3], trial_id, version_id)) == 3
    async with db.write() as session:
        assert await outbox.enqueue(session, _alerts([1, 2, 3, 3], trial_id, version_id)) == 0
    async with db.read() as session:
        assert len((await session.exec(select(OutboxRow))).all()) == 3


async def test_claim_leases_and_an_expired_lease_is_claimed_again(db: Database) -> None:
    trial_id, version_id = await _world(db, [1, 2])
    async with db.write() as session:
        await outbox.enqueue(session, _alerts([1, 2], trial_id, version_id))
    now = utcnow()
    async with db.write() as session:
        first = await outbox.claim(session, limit=10, lease=timedelta(minutes=2), now=now)
    async with db.write() as session:
        again = await outbox.claim(session, limit=10, lease=timedelta(minutes=2), now=now)
    assert len(first) == 2 and again == [] and all(r.status == "sending" for r in first)
    later = now + timedelta(minutes=3)  # the sender died holding them
    async with db.write() as session:
        reclaimed = await outbox.claim(session, limit=10, lease=timedelta(minutes=2), now=later)
    assert {r.id for r in reclaimed} == {r.id for r in first}
    assert all(r.attempts == 2 for r in reclaimed)


async def test_concurrent_claimers_never_share_a_row(db: Database) -> None:
    ids = list(range(100, 160))
    trial_id, version_id = await _world(db, ids)
    async with db.write() as session:
        await outbox.enqueue(session, _alerts(ids, trial_id, version_id))

    async def claimer() -> list[int]:
        got: list[int] = []
        while True:
            async with db.write() as session:
                rows = await outbox.claim(session, limit=7, lease=timedelta(minutes=2))
            if not rows:
                return got
            got += [r.id for r in rows if r.id is not None]
            await asyncio.sleep(0)

    results = await asyncio.gather(*(claimer() for _ in range(4)))
    claimed = [i for r in results for i in r]
    assert len(claimed) == len(ids) and len(set(claimed)) == len(ids)


async def test_outcomes_blocked_chat_and_migration(db: Database) -> None:
    group, supergroup = -4001, -1004001
    trial_id, version_id = await _world(db, [1, group])
    async with db.write() as session:
        await outbox.enqueue(session, _alerts([1, group], trial_id, version_id))
    async with db.write() as session:
        rows = await outbox.claim(session, limit=10, lease=timedelta(minutes=2))
    by_chat = {r.chat_id: r for r in rows}
    async with db.write() as session:
        cancelled = await outbox.deactivate_chat(session, 1, "Forbidden: bot was blocked")
    async with db.write() as session:
        await outbox.migrate_chat(session, group, supergroup)
        await outbox.reschedule(session, by_chat[group].id or 0, utcnow(), "migrated")
    async with db.read() as session:
        user = await chats.get_chat(session, 1)
        moved = await chats.get_chat(session, supergroup)
        subs = (await session.exec(select(SubscriptionRow))).all()
        rows_now = {r.chat_id: r for r in (await session.exec(select(OutboxRow))).all()}
    assert cancelled == 1 and user is not None and not user.active
    assert rows_now[1].status == "cancelled"
    assert moved is not None and moved.type == "supergroup"
    assert {s.chat_id for s in subs} == {1, supergroup}  # subscriptions followed the chat
    assert rows_now[supergroup].status == "pending"


async def test_release_and_backlog(db: Database) -> None:
    trial_id, version_id = await _world(db, [1, 2, 3])
    async with db.write() as session:
        await outbox.enqueue(session, _alerts([1, 2], trial_id, version_id))
        await outbox.enqueue(
            session, [outbox.AlertIn(3, trial_id, version_id, "new", [1], held=True)]
        )
    async with db.write() as session:
        rows = await outbox.claim(session, limit=10, lease=timedelta(minutes=2))
        await outbox.release(session, [r.id for r in rows if r.id is not None])
    async with db.read() as session:
        counts = await outbox.backlog(session)
        statuses = [r.attempts for r in (await session.exec(select(OutboxRow))).all()]
    assert (counts.pending, counts.held, counts.sending) == (2, 1, 0)
    assert statuses == [0, 0, 0]


async def test_a_restart_hands_back_what_a_dead_sender_held(db: Database) -> None:
    """Leased alerts are due again at once (no waiting for the lease); a digest that was
    being sent is held again; sent rows stay sent."""
    trial_id, version_id = await _world(db, [1, 2, 3, 4])
    async with db.write() as session:
        await outbox.enqueue(session, _alerts([1, 2, 3], trial_id, version_id))
        await outbox.enqueue(
            session, [outbox.AlertIn(4, trial_id, version_id, "new", [1], held=True)]
        )
    async with db.write() as session:
        leased = await outbox.claim(session, limit=10, lease=timedelta(minutes=2))
        await outbox.take_held(session, 4)
        await outbox.mark_sent_many(session, [(leased[0].id or 0, 77)])
    async with db.write() as session:
        assert await outbox.release_orphans(session) == (2, 1)
    async with db.write() as session:
        again = await outbox.claim(session, limit=10, lease=timedelta(minutes=2))
        assert await outbox.release_orphans(session) == (2, 0)  # the claim above, released
    assert {r.id for r in again} == {r.id for r in leased[1:]}
    async with db.read() as session:
        rows = {r.chat_id: r for r in (await session.exec(select(OutboxRow))).all()}
    sent = rows[leased[0].chat_id]
    assert (sent.status, sent.message_id, sent.lease_until) == ("sent", 77, None)
    assert sent.sent_at is not None
    assert rows[4].status == "held"


async def test_mark_sent_many_records_each_message_id(db: Database) -> None:
    trial_id, version_id = await _world(db, [1, 2, 3])
    async with db.write() as session:
        await outbox.enqueue(session, _alerts([1, 2, 3], trial_id, version_id))
        rows = await outbox.claim(session, limit=10, lease=timedelta(minutes=2))
        await outbox.mark_sent_many(session, [(r.id or 0, 100 + r.chat_id) for r in rows[:2]])
    async with db.read() as session:
        got = {r.chat_id: (r.status, r.message_id) for r in (await session.exec(select(OutboxRow)))}
    chats_sent = {r.chat_id for r in rows[:2]}
    assert {c: got[c] for c in chats_sent} == {c: ("sent", 100 + c) for c in chats_sent}
    (rest,) = set(got) - chats_sent
    assert got[rest] == ("sending", None)
