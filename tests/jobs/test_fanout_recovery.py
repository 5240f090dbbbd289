"""A crash between storing a change and queuing its alerts loses nothing and doubles nothing:
the change stays marked pending, and the next poll (or `fan_out_pending`) queues what is
missing, the outbox's (chat, version) key skipping what was already queued."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import func, select

import jobs.poll
from jobs.fanout import fan_out_pending
from jobs.poll import poll, refresh
from storage import chats, outbox
from storage import fanout as marks
from storage.db import Database
from storage.outbox import AlertIn
from storage.tables import OutboxRow, utcnow
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.jobs.helpers import client_for, loaded_fake

CHATS = range(1, 8)


@pytest.fixture
def fake() -> Iterator[FakeCtgov]:
    with loaded_fake([]) as server:
        yield server


async def _outbox(db: Database) -> list[tuple[int, int | None]]:
    async with db.read() as session:
        rows = (await session.exec(select(OutboxRow.chat_id, OutboxRow.version_id))).all()
    return sorted((c, v) for c, v in rows)


async def test_a_crash_before_the_alerts_are_queued_is_finished_once(
    db: Database, fake: FakeCtgov, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = study("NCT03629275__2019-03-02")  # recruiting, ischaemic
    fake.upsert(real)
    async with db.write() as session:
        for chat_id in CHATS:
            await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
            await chats.add_subscription(session, chat_id, conditions=["ischemic"])
    stopped = copy.deepcopy(real)
    stopped["protocolSection"]["statusModule"]["overallStatus"] = "SUSPENDED"

    async def crash(*_: Any, **__: Any) -> int:
        raise RuntimeError("killed between the store and the fan-out")

    async with client_for(fake) as registry:
        await poll(db, registry)
        fake.upsert(stopped)
        monkeypatch.setattr(jobs.poll, "fan_out", crash)
        crashed = await refresh(db, registry, older_than=timedelta(0))
        monkeypatch.undo()
    assert not crashed.ok  # the change itself was committed, marked pending
    async with db.read() as session:
        (pending,) = await marks.pending(session)
    version_id = pending.version_id
    assert pending.kind == "change" and pending.previous is not None
    assert await _outbox(db) == []

    # The first batch had made it before the crash: the second pass adds only the rest.
    async with db.write() as session:
        first = AlertIn(chat_id=1, trial_id=pending.trial_id, version_id=version_id, kind="change")
        assert await outbox.enqueue(session, [first], utcnow()) == 1
    assert await fan_out_pending(db, utcnow()) == len(CHATS) - 1
    assert await fan_out_pending(db, utcnow()) == 0
    assert await _outbox(db) == [(c, version_id) for c in CHATS]
    async with db.read() as session:
        assert await marks.pending_ids(session) == []
        assert (await session.exec(select(func.count()).select_from(OutboxRow))).one() == 7
