"""The subscription generation moves with every write the fan-out's index reads, in the
writer's own transaction, and with nothing else (storage/generation.py), on a real SQLite
file and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import pytest
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import chats, outbox
from storage.db import Database
from storage.generation import generation
from storage.tables import ChatRow, SubscriptionRow

Write = Callable[[AsyncSession], Awaitable[object]]


async def _now(db: Database) -> int:
    async with db.read() as session:
        return await generation(session)


async def _setup(db: Database) -> int:
    """Chat 1 with one subscription, chat 2 with none; returns the subscription's id."""
    async with db.write() as session:
        await chats.ensure_chat(session, 1, chat_type="private", language="en")
        await chats.ensure_chat(session, 2, chat_type="group", language="es", title="G")
        row = await chats.add_subscription(session, 1, conditions=["ischemic"], countries=["ES"])
        assert row.id is not None
        return row.id


async def _chat(session: AsyncSession, chat_id: int = 1) -> ChatRow:
    row = await chats.get_chat(session, chat_id, for_update=True)
    assert row is not None
    return row


async def _sub(session: AsyncSession) -> SubscriptionRow:
    return (await chats.subscriptions(session, 1))[0]


MOVES: dict[str, Write] = {
    "add a subscription": lambda s: chats.add_subscription(s, 2, conditions=[]),
    "pause": lambda s: _set_chat(s, paused=True),
    "daily digest": lambda s: _set_chat(s, delivery="daily"),
    "borderline": lambda s: _set_chat(s, include_borderline=True),
    "not recruiting": lambda s: _set_chat(s, include_not_recruiting=True),
    "edit a subscription": lambda s: _set_sub(s, countries=["PT"]),
    "profile: stroke date": lambda s: _set_sub(s, stroke_date=date(2026, 1, 2)),
    "profile: birth year forgotten": lambda s: _set_sub(s, birth_year=None),
    "delete a subscription": lambda s: chats.delete_subscriptions(s, 1),
    "blocked the bot": lambda s: outbox.deactivate_chat(s, 1, "Forbidden: bot was blocked"),
    "became a supergroup": lambda s: outbox.migrate_chat(s, 1, 3),
    "/forget": lambda s: chats.forget(s, 1),
}


async def _set_chat(session: AsyncSession, **changes: object) -> None:
    chats.update_chat(session, await _chat(session), **changes)


async def _set_sub(session: AsyncSession, **changes: object) -> None:
    if "birth_year" in changes:  # forgetting needs something to forget
        chats.update_subscription(session, await _sub(session), birth_year=1950)
        await session.flush()
    chats.update_subscription(session, await _sub(session), **changes)


@pytest.mark.parametrize("write", list(MOVES), ids=list(MOVES))
async def test_every_write_matching_sees_moves_it(db: Database, write: str) -> None:
    await _setup(db)
    before = await _now(db)
    async with db.write() as session:
        await MOVES[write](session)
    assert await _now(db) > before


async def test_a_comeback_after_blocking_moves_it(db: Database) -> None:
    await _setup(db)
    async with db.write() as session:
        await outbox.deactivate_chat(session, 1, "blocked")
    before = await _now(db)
    async with db.write() as session:
        await chats.ensure_chat(session, 1, chat_type="private", language="en")
    assert await _now(db) > before


async def test_writes_matching_does_not_read_leave_it(db: Database) -> None:
    await _setup(db)
    before = await _now(db)
    async with db.write() as session:
        await _set_chat(session, pending={"step": "city"}, language="es", digest_hour=7)
        await chats.ensure_chat(session, 9, chat_type="private", language="en")  # no subscription
    async with db.write() as session:
        await chats.ensure_chat(session, 1, chat_type="private", language="en")  # unchanged
    assert await _now(db) == before


async def test_a_rolled_back_write_leaves_it(db: Database) -> None:
    await _setup(db)
    before = await _now(db)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            await _set_chat(session, paused=True)
            await session.flush()
            raise RuntimeError("the command failed after its change")
    assert await _now(db) == before
    async with db.write() as session:  # the session's mark did not leak into a later write
        await _set_chat(session, pending=None)
    assert await _now(db) == before
