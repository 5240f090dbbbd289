"""From a registry change to a Telegram message: poll -> outbox -> sender, in-process.

Real poller and client against the fake CT.gov, real databases, the real bot object (with
PTB's rate limiter) against the fake Bot API enforcing Telegram's limits. New trials are real
records re-registered under a new id, made here in code.
"""

from __future__ import annotations

import asyncio
import copy
import os
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlmodel import select

from bot.application import build_application
from bot.sender import OutboxSender
from jobs.poll import poll
from storage import chats, outbox
from storage.db import Database
from storage.tables import ChatRow, OutboxRow
from tests.conftest import study
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import client_for, loaded_fake
from trialbot.settings import load_settings

os.environ.setdefault("PTB_TIMEDELTA", "1")

NEW_ID = "NCT09000001"


def new_trial(nct_id: str = NEW_ID, day: str = "2020-01-05") -> dict[str, Any]:
    """MultiStem's record as if a new trial had just been posted (US sites, recruiting)."""
    record = copy.deepcopy(study("NCT03545607__2019-08-13"))
    ident = record["protocolSection"]["identificationModule"]
    ident["nctId"] = nct_id
    status = record["protocolSection"]["statusModule"]
    status["lastUpdatePostDateStruct"] = {"date": day, "type": "ACTUAL"}
    status["studyFirstPostDateStruct"] = {"date": day, "type": "ACTUAL"}
    return record


@pytest.fixture
def registry_fake() -> Iterator[FakeCtgov]:
    with loaded_fake() as fake:
        yield fake


@pytest.fixture
async def telegram(db: Database) -> AsyncIterator[tuple[FakeTelegram, Any]]:
    with FakeTelegram() as fake:
        settings = load_settings(
            telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url, database_url=db.url
        )
        app = build_application(settings, db)
        async with app:
            yield fake, app.bot


async def subscribe(db: Database, chat_id: int, **sub: Any) -> None:
    async with db.write() as session:
        await chats.ensure_chat(
            session, chat_id, chat_type="private" if chat_id > 0 else "group", language="en"
        )
        await chats.add_subscription(session, chat_id, **sub)


async def drain(sender: OutboxSender) -> None:
    while await sender.drain_once():
        pass


async def publish(db: Database, registry_fake: FakeCtgov, record: dict[str, Any]) -> int:
    async with client_for(registry_fake) as registry:
        first = await poll(db, registry)
        assert first.ok and first.alerts_queued == 0  # a backfill announces nothing
        registry_fake.upsert(record)
        registry_fake.set_data_timestamp("2020-01-06T09:00:00")
        second = await poll(db, registry)
    assert second.ok and second.new == 1
    return second.alerts_queued


async def test_a_new_trial_reaches_exactly_its_subscribers(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    for chat_id in (1, 2, 3, 4):
        fake_tg.add_chat(chat_id)
    await subscribe(db, 1, conditions=["ischemic"], countries=["US"])
    await subscribe(db, 1, conditions=["ischemic"])  # a second match: still one alert
    await subscribe(
        db, 2, conditions=["ischemic"], lat=42.36, lon=-71.06, radius_km=300, point_country="US"
    )  # Boston: near the US sites?
    await subscribe(db, 3, conditions=["intracerebral_hemorrhage"], countries=["US"])
    await subscribe(db, 4, conditions=["ischemic"], countries=["ES"])
    queued = await publish(db, registry_fake, new_trial())
    async with db.read() as session:
        rows = (await session.exec(select(OutboxRow))).all()
    by_chat = {r.chat_id: r for r in rows}
    assert 1 in by_chat and 3 not in by_chat and 4 not in by_chat
    assert len(by_chat[1].subscription_ids) == 2
    assert queued == len(rows)
    await drain(OutboxSender(db, bot))
    for chat_id in by_chat:
        (message,) = fake_tg.sent_to(chat_id)
        assert "MultiStem" in message["text"] or "bone marrow" in message["text"].lower()
        assert "not medical advice" in message["text"]
    assert fake_tg.sent_to(3) == [] and fake_tg.sent_to(4) == []
    async with db.read() as session:
        assert all(r.status == "sent" for r in (await session.exec(select(OutboxRow))).all())


async def test_rerunning_a_poll_never_queues_twice(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    await subscribe(db, 1, conditions=["ischemic"])
    assert await publish(db, registry_fake, new_trial()) == 1
    registry_fake.set_data_timestamp("2020-01-07T09:00:00")  # the same data again
    async with client_for(registry_fake) as registry:
        again = await poll(db, registry)
    assert again.ok and again.alerts_queued == 0 and again.new == 0
    async with db.read() as session:
        assert len((await session.exec(select(OutboxRow))).all()) == 1


async def test_blocked_chat_is_deactivated_after_one_attempt(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    fake_tg.add_chat(1)
    fake_tg.add_chat(2)
    fake_tg.block(2)
    for chat_id in (1, 2):
        await subscribe(db, chat_id, conditions=["ischemic"])
    await publish(db, registry_fake, new_trial())
    await drain(OutboxSender(db, bot))
    sends_to_blocked = [p for m, p in fake_tg.calls if m == "sendMessage" and p["chat_id"] == 2]
    assert len(sends_to_blocked) == 1
    async with db.read() as session:
        chat = await chats.get_chat(session, 2)
        rows = {r.chat_id: r.status for r in (await session.exec(select(OutboxRow))).all()}
    assert chat is not None and not chat.active
    assert rows == {1: "sent", 2: "cancelled"}


async def test_a_migrated_group_gets_its_alert_at_the_new_id(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    group, supergroup = -5005, -1001234505005
    fake_tg.add_chat(group)
    await subscribe(db, group, conditions=["ischemic"])
    fake_tg.migrate(group, supergroup, updates=False)
    await publish(db, registry_fake, new_trial())
    await drain(OutboxSender(db, bot))
    assert len(fake_tg.sent_to(supergroup)) == 1
    async with db.read() as session:
        chats_now = [c.chat_id for c in (await session.exec(select(ChatRow))).all()]
    assert chats_now == [supergroup]


async def test_throttling_reschedules_and_other_chats_go_on(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    for chat_id in (1, 2):
        fake_tg.add_chat(chat_id)
        await subscribe(db, chat_id, conditions=["ischemic"])
    fake_tg.fail(
        method="sendMessage", chat_id=1, status=429, parameters={"retry_after": 30}, times=5
    )
    await publish(db, registry_fake, new_trial())
    sender = OutboxSender(db, bot)
    await drain(sender)
    assert len(fake_tg.sent_to(2)) == 1 and fake_tg.sent_to(1) == []
    async with db.read() as session:
        rows = {r.chat_id: r for r in (await session.exec(select(OutboxRow))).all()}
        backlog = await outbox.backlog(session)
    assert rows[1].status == "pending" and rows[1].last_error and "429" in rows[1].last_error
    assert backlog.pending == 1 and sender.stats.throttled >= 1


async def test_digest_chats_get_one_message_at_their_hour(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from bot.digest import send_digests

    fake_tg, bot = telegram
    fake_tg.add_chat(7)
    await subscribe(db, 7, conditions=["ischemic"])
    async with db.write() as session:
        row = await chats.get_chat(session, 7, for_update=True)
        assert row is not None
        chats.update_chat(session, row, delivery="daily", digest_hour=9, timezone="Europe/Madrid")
    await publish(db, registry_fake, new_trial())
    registry_fake.upsert(new_trial("NCT09000002", "2020-01-07"))
    registry_fake.set_data_timestamp("2020-01-08T09:00:00")
    async with client_for(registry_fake) as registry:
        await poll(db, registry)
    await drain(OutboxSender(db, bot))
    assert fake_tg.sent_to(7) == []  # held for the digest
    madrid = ZoneInfo("Europe/Madrid")
    queued = datetime.now(UTC).astimezone(madrid)
    nine = queued.replace(hour=9, minute=0, second=0, microsecond=0)
    if nine <= queued:
        nine += timedelta(days=1)  # the next 09:00 in Madrid after the alerts were queued
    before = (nine - timedelta(minutes=30)).astimezone(UTC)
    assert await send_digests(db, bot, now=before) == 0  # next 09:00 not reached yet
    after = (nine + timedelta(minutes=5)).astimezone(UTC)
    assert await send_digests(db, bot, now=after) == 1
    assert await send_digests(db, bot, now=after) == 0  # once
    (digest,) = fake_tg.sent_to(7)  # two alerts folded into one message
    assert "not medical advice" in digest["text"]
    async with db.read() as session:
        assert {r.status for r in (await session.exec(select(OutboxRow))).all()} == {"sent"}


async def _broadcast(
    db: Database, registry_fake: FakeCtgov, fake_tg: FakeTelegram, chats_: range
) -> None:
    for chat_id in chats_:
        fake_tg.add_chat(chat_id)
        await subscribe(db, chat_id, conditions=["ischemic"])
    assert await publish(db, registry_fake, new_trial()) == len(chats_)


async def _statuses(db: Database) -> Counter[str]:
    async with db.read() as session:
        return Counter(r.status for r in (await session.exec(select(OutboxRow))).all())


async def test_the_running_sender_sends_paid_alerts_with_allow_paid_broadcast(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    await _broadcast(db, registry_fake, fake_tg, range(1, 41))
    stop = asyncio.Event()
    sender = OutboxSender(db, bot, paid=True, concurrency=4, batch=8)
    running = asyncio.create_task(sender.run(stop))
    await fake_tg.wait_for_async(lambda: len(fake_tg.sent) >= 40, timeout=30)
    stop.set()
    await running
    sends = [p for m, p in fake_tg.calls if m == "sendMessage"]
    assert Counter(p["chat_id"] for p in sends) == Counter(range(1, 41))
    assert all(p.get("allow_paid_broadcast") is True for p in sends)
    assert await _statuses(db) == Counter({"sent": 40})


async def test_a_stopped_sender_hands_back_what_it_had_not_sent(
    db: Database, registry_fake: FakeCtgov, telegram: tuple[FakeTelegram, Any]
) -> None:
    """Claimed ahead (the feeder keeps a batch queued) but unsent: pending again, not lost;
    what went out is recorded sent; nothing twice."""
    fake_tg, bot = telegram
    await _broadcast(db, registry_fake, fake_tg, range(1, 61))
    stop = asyncio.Event()
    sender = OutboxSender(db, bot, concurrency=2, batch=10)
    running = asyncio.create_task(sender.run(stop))
    await fake_tg.wait_for_async(lambda: len(fake_tg.sent) >= 5, timeout=30)
    stop.set()
    await running
    per_chat = Counter(m["chat_id"] for m in fake_tg.sent)
    statuses = await _statuses(db)
    assert max(per_chat.values()) == 1
    assert statuses["sent"] == len(per_chat) and statuses["sent"] + statuses["pending"] == 60
