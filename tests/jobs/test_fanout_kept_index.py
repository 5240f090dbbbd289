"""The fan-out keeps its subscription index between pages and polls and reads it again only
when the subscription generation moved: a change written by another process (a command to the
bot, `trialbot poll --once`) is seen by the next fan-out, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

from jobs import facts
from jobs.classify import classify
from jobs.fanout import StoredChange, chat_matches, current_index
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox
from storage.db import Database
from tests.conftest import study

TODAY = date(2026, 12, 4)


def _change() -> StoredChange:
    trial = normalise(study("NCT03629275__2019-03-02"))  # recruiting, ischaemic
    return StoredChange(
        trial, classify(trial), trial_id=1, version_id=1, kind="new", facts=facts.extract(trial)
    )


async def _alerted(db: Database) -> dict[int, list[int]]:
    matched = chat_matches(_change(), await current_index(db), today=TODAY)
    return dict(zip(matched.chat_ids, matched.subscription_ids, strict=True))


async def test_the_index_is_kept_until_a_write_moves_the_generation(
    db: Database, database_url: str
) -> None:
    async with db.write() as session:
        for chat_id in (1, 2):
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
        first = await chats.add_subscription(session, 1, conditions=["ischemic"])
    kept = await current_index(db)
    assert await current_index(db) is kept  # nothing changed: not read again
    assert await _alerted(db) == {1: [first.id]}

    other = Database(database_url)  # another process writing through storage/chats
    try:
        async with other.write() as session:
            row = await chats.get_chat(session, 1)
            assert row is not None
            chats.update_chat(session, row, pending={"step": "city"})
        assert await current_index(db) is kept  # a write matching does not read
        async with other.write() as session:
            second = await chats.add_subscription(session, 2, conditions=[])
        assert await _alerted(db) == {1: [first.id], 2: [second.id]}

        async with other.write() as session:
            row = await chats.get_chat(session, 1)
            assert row is not None
            chats.update_chat(session, row, paused=True)
        assert await _alerted(db) == {2: [second.id]}

        async with other.write() as session:
            assert second.id is not None
            sub = await chats.get_subscription(session, 2, second.id)
            assert sub is not None
            chats.update_subscription(session, sub, conditions=["subarachnoid_hemorrhage"])
        assert await _alerted(db) == {}

        async with other.write() as session:
            row = await chats.get_chat(session, 1)
            assert row is not None
            chats.update_chat(session, row, paused=False, delivery="daily")
        matched = chat_matches(_change(), await current_index(db), today=TODAY)
        assert matched.chat_ids == [1] and matched.held == [True]

        async with other.write() as session:
            await outbox.deactivate_chat(session, 1, "Forbidden: bot was blocked by the user")
        assert await _alerted(db) == {}
    finally:
        await other.dispose()
