"""A "Results are out" alert from the outbox to Telegram, in-process (issue 16).

Real databases, the real bot object against the fake Bot API, the real sender and digest.
The trial is a real recorded CT.gov record stored through the real classifier and storage;
its publication is stored by `storage.publications.record` and its alert queued by
`storage.outbox.enqueue_results`, as the publications job does.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.application import build_application
from bot.digest import send_digests
from bot.sender import OutboxSender
from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox
from storage import publications as stored_publications
from storage import trials as trial_store
from storage.db import Database
from storage.tables import OutboxRow, PublicationRow, utcnow
from tests.conftest import study
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from trialbot.publications import Publication
from trialbot.settings import load_settings

os.environ.setdefault("PTB_TIMEDELTA", "1")

PISCES3 = "NCT03629275__2021-08-13"  # terminated March 2021
PAPER = Publication(
    kind="results",
    reason="trial_type",
    found_by="pubmed_si",
    pmid="34000001",
    title="Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES III trial",
    journal="Stroke",
    published="2021-11",
)
HEADLINE = (
    "Results are out: Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES III trial "
    "(Stroke, November 2021)"
)


@pytest.fixture
async def telegram(db: Database) -> AsyncIterator[tuple[FakeTelegram, Any]]:
    with FakeTelegram() as fake:
        settings = load_settings(
            telegram_bot_token=TOKEN, telegram_api_base_url=fake.base_url, database_url=db.url
        )
        app = build_application(settings, db)
        async with app:
            yield fake, app.bot


async def queue_results(db: Database, chat_id: int, *, held: bool = False) -> int:
    """Store PISCES III, a chat, the paper, and the chat's results alert; the trial's id."""
    trial = normalise(study(PISCES3))
    async with db.write() as session:
        await chats.ensure_chat(session, chat_id, chat_type="private", language="en")
        if held:
            row = await chats.get_chat(session, chat_id, for_update=True)
            assert row is not None
            chats.update_chat(session, row, delivery="daily", digest_hour=9, timezone="UTC")
        stored = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
        assert stored.id is not None
        (fresh,) = await stored_publications.record(session, stored.id, [PAPER])
        alert = outbox.ResultsAlertIn(chat_id, stored.id, fresh.publication_id, held=held)
        assert await outbox.enqueue_results(session, [alert]) == 1
        assert await outbox.enqueue_results(session, [alert]) == 0  # one per chat and paper
        return stored.id


async def drain(sender: OutboxSender) -> None:
    while await sender.drain_once():
        pass


async def statuses(db: Database) -> list[str]:
    async with db.read() as session:
        return [r.status for r in (await session.exec(select(OutboxRow))).all()]


def markup_of(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message["reply_markup"]
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        (b["text"], b.get("url") or b.get("callback_data"))
        for row in markup["inline_keyboard"]
        for b in row
    ]


async def test_a_queued_results_alert_is_sent(
    db: Database, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    fake_tg.add_chat(5)
    await queue_results(db, 5)
    await drain(OutboxSender(db, bot))
    (message,) = fake_tg.sent_to(5)
    assert message["text"].startswith(f"<b>{HEADLINE}</b>")
    assert message["plain"].splitlines()[0] == HEADLINE
    assert "This message does not say what the paper found." in message["plain"]
    assert "Read it here: https://pubmed.ncbi.nlm.nih.gov/34000001/" in message["plain"]
    assert "not medical advice" in message["plain"]
    buttons = markup_of(message)
    assert buttons[0] == ("Open the paper", "https://pubmed.ncbi.nlm.nih.gov/34000001/")
    assert ("Details", "td:ctgov:NCT03629275") in buttons
    assert await statuses(db) == ["sent"]


async def test_a_results_alert_whose_paper_is_gone_is_not_sent(
    db: Database, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    fake_tg.add_chat(6)
    await queue_results(db, 6)
    async with db.write() as session:
        for row in (await session.exec(select(PublicationRow))).all():
            await session.delete(row)
    await drain(OutboxSender(db, bot))
    assert fake_tg.sent_to(6) == []
    assert set(await statuses(db)) <= {"cancelled"}  # cancelled, or gone with its paper


async def test_a_held_results_alert_shows_in_the_digest(
    db: Database, telegram: tuple[FakeTelegram, Any]
) -> None:
    fake_tg, bot = telegram
    fake_tg.add_chat(7)
    await queue_results(db, 7, held=True)
    await drain(OutboxSender(db, bot))
    assert fake_tg.sent_to(7) == []  # held for the digest
    assert await send_digests(db, bot, now=utcnow() + timedelta(days=2)) == 1
    (digest,) = fake_tg.sent_to(7)
    lines = digest["plain"].splitlines()
    assert f"1. {HEADLINE}" in lines
    assert "Read it here: https://pubmed.ncbi.nlm.nih.gov/34000001/" in lines
    assert ("Details 1", "td:ctgov:NCT03629275") in markup_of(digest)
    assert "not medical advice" in lines[-1]
    assert await statuses(db) == ["sent"]
