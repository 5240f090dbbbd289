"""A running bot for conversation tests.

The real application (`bot.application.build_application`) long-polls the fake Bot API, a real HTTP
server on 127.0.0.1, and stores into a real database of each kind. Trials are seeded through
the real normaliser, classifier and storage. Nothing in the code under test is patched.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import select

from bot.application import build_application
from bot.handlers.start import set_commands
from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import trials as trial_store
from storage.db import Database
from storage.tables import ChatRow, SubscriptionRow
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import oldest_snapshots
from trialbot.settings import load_settings


@dataclass
class Bot:
    fake: FakeTelegram
    db: Database
    app: Any

    async def says(self, chat_id: int, text: str, n: int = 1, **kw: Any) -> list[dict[str, Any]]:
        """The user sends `text`; wait for `n` new bot messages in the chat and return them."""
        before = len(self.fake.sent_to(chat_id))
        self.fake.user_sends(chat_id, text, **kw)
        sent = await self.fake.wait_for_async(
            lambda: len(self.fake.sent_to(chat_id)) >= before + n and self.fake.sent_to(chat_id),
            timeout=10,
            what=f"{n} repl(ies) to {text!r}",
        )
        return list(sent[before:])

    async def presses(
        self, chat_id: int, label: str, n: int = 1, **kw: Any
    ) -> list[dict[str, Any]]:
        """Press a button by its label; wait for `n` new messages (0: wait for the answer)."""
        before = len(self.fake.sent_to(chat_id))
        answers = len(self.fake.callback_answers)
        self.fake.user_presses_button(chat_id, label, **kw)
        await self.fake.wait_for_async(
            lambda: len(self.fake.callback_answers) > answers, timeout=10, what="button answer"
        )
        if n:
            await self.fake.wait_for_async(
                lambda: len(self.fake.sent_to(chat_id)) >= before + n, timeout=10, what="reply"
            )
        return list(self.fake.sent_to(chat_id)[before:])

    async def press_data(self, chat_id: int, data: str) -> dict[str, Any]:
        """Press a button with raw (possibly forged) data on the bot's last message."""
        answers = len(self.fake.callback_answers)
        message = self.fake.last_message(chat_id)
        self.fake.user_presses(chat_id, message, data)
        await self.fake.wait_for_async(
            lambda: len(self.fake.callback_answers) > answers, timeout=10, what="button answer"
        )
        return dict(self.fake.callback_answers[-1])

    async def subscriptions(self, chat_id: int) -> list[SubscriptionRow]:
        async with self.db.read() as session:
            query = select(SubscriptionRow).where(SubscriptionRow.chat_id == chat_id)
            return list((await session.exec(query.order_by(SubscriptionRow.id))).all())  # type: ignore[arg-type]

    async def chat(self, chat_id: int) -> ChatRow | None:
        async with self.db.read() as session:
            return (await session.exec(select(ChatRow).where(ChatRow.chat_id == chat_id))).first()


async def seed_trials(db: Database) -> int:
    """Store the first snapshot of every reconstructed trial the classifier accepts."""
    stored = 0
    async with db.write() as session:
        for raw in oldest_snapshots():
            trial = normalise(raw)
            result = classify(trial)
            if result.relevant:
                await trial_store.insert_trial(session, trial, verdict_of(result))
                stored += 1
    return stored


@pytest.fixture
async def bot(db: Database) -> AsyncIterator[Bot]:
    with FakeTelegram(enforce_limits=False) as fake:
        settings = load_settings(
            telegram_bot_token=TOKEN,
            telegram_api_base_url=fake.base_url,
            database_url=db.url,
            operator_contact="the test team",
            # Registry lookups (a trial number in a message) must never leave this machine:
            # nothing listens on port 9, so a live lookup fails at once as "could not check".
            ctgov_api_url="http://127.0.0.1:9/api/v2",
            ctis_api_url="http://127.0.0.1:9/ctis",
            isrctn_api_url="http://127.0.0.1:9/isrctn",
        )
        app = build_application(settings, db)
        await seed_trials(db)
        async with app:
            await set_commands(app)  # what post_init does under run_polling
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            yield Bot(fake, db, app)
            await app.updater.stop()
            await app.stop()
