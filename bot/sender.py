"""The outbox sender: delivers queued alerts to Telegram, each exactly once where possible.

A loop claims due rows with a lease, sends them with bounded concurrency, and records each
outcome in its own short transaction; no transaction is open while a message is in flight.

Pace: the sender keeps itself below Telegram's ~30 messages/s (SEND_RATE_PER_SECOND, 25 by
default) so that replies to users' commands, which share the bot's budget, never queue behind
a broadcast. PTB's AIORateLimiter still guards the global and per-group limits; the sender
adds the per-chat one (one message a second to a chat).

Outcomes (telegram.md §3.9): blocked or chat not found -> chat deactivated, its queued alerts
cancelled; migrated to a supergroup -> chat id moved, sent again at once; 429 -> rescheduled
after retry_after while other chats go on; other 400s -> failed, counted, logged; timeouts and
network errors -> a few bounded retries (a timed-out send may still have arrived).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.markup import to_markup
from bot.ratelimit import NO_RETRY
from bot.render import Rendered, render_change, render_new_trial, render_window_open
from jobs.facts import facts_of
from storage import outbox
from storage.db import Database
from storage.tables import OutboxRow, utcnow
from trialbot import metrics
from trialbot.clock import SYSTEM, Clock
from trialbot.matching import gazetteer_geocoder, matches

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
GONE = (
    "chat not found",
    "user is deactivated",
    "bot was kicked",
    "bot was blocked",
    "have no rights to send",
    "not enough rights",
    "bot can't initiate",
)


@dataclass
class SenderStats:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    throttled: int = 0
    cancelled: int = 0


def render_alert(
    ctx: outbox.AlertContext, row: OutboxRow, today: date | None = None
) -> Rendered | None:
    """The alert as the chat should read it now (its language, its matched subscriptions, the
    fit of their profiles on `today`). A window alert whose person no longer fits the trial
    (it stopped recruiting, the profile changed) renders as None: nothing to say."""
    trial, verdict = ctx.stored.trial, ctx.stored.verdict
    facts = facts_of(trial, ctx.stored.facts)
    lang = ctx.chat.language or "en"
    day = today or SYSTEM.today()
    found = matches(trial, verdict, ctx.filters, gazetteer_geocoder, facts=facts, today=day)
    if row.kind == "new":
        return render_new_trial(trial, verdict, found, lang, facts=facts, today=day)
    if row.kind == "window":
        if not found:
            return None
        return render_window_open(trial, verdict, found, lang, facts=facts, today=day)
    return render_change(trial, verdict, ctx.stored.changes, found, lang, facts=facts, today=day)


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: ExtBot[Any],
        *,
        rate_per_second: float = 25.0,
        concurrency: int = 16,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=2),
        idle_seconds: float = 1.0,
        clock: Clock = SYSTEM,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bot = bot
        # Capacity 1: sends evenly spaced. A bucket of N per second lets N go at once and N more
        # within the same second, which is how one gets 429s at "25 per second".
        self.limiter = AsyncLimiter(1, 1.0 / max(1.0, rate_per_second))
        self.concurrency = concurrency
        self.batch = batch
        self.lease = lease
        self.idle_seconds = idle_seconds
        self.stats = SenderStats()
        self._last_to_chat: dict[int, float] = {}
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """New alerts were queued: look now instead of at the next idle tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish what is in flight and hand back the rest."""
        while not stop.is_set():
            try:
                done = await self.drain_once(stop)
            except Exception:
                log.exception("outbox sender: a round failed; retrying shortly")
                done = 0
            if done == 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        _first(stop.wait(), self._wake.wait()), timeout=self.idle_seconds
                    )

    async def drain_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch and send it; returns how many rows were handled."""
        async with self.db.write() as session:
            rows = await outbox.claim(session, limit=self.batch, lease=self.lease)
        if not rows:
            return 0
        gate = asyncio.Semaphore(self.concurrency)
        unsent: list[int] = []

        async def one(row: OutboxRow) -> None:
            async with gate:
                if stop is not None and stop.is_set():
                    assert row.id is not None
                    unsent.append(row.id)
                    return
                await self.deliver(row)

        await asyncio.gather(*(one(r) for r in rows))
        if unsent:
            async with self.db.write() as session:
                await outbox.release(session, unsent)
        return len(rows)

    async def _pace(self, chat_id: int) -> None:
        """At most one message a second to one chat."""
        last = self._last_to_chat.get(chat_id)
        if last is not None:
            wait = last + 1.0 - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        self._last_to_chat[chat_id] = time.monotonic()
        if len(self._last_to_chat) > 50_000:
            cutoff = time.monotonic() - 5
            self._last_to_chat = {c: t for c, t in self._last_to_chat.items() if t > cutoff}

    async def deliver(self, row: OutboxRow) -> None:
        assert row.id is not None
        async with self.db.read() as session:
            ctx = await outbox.alert_context(session, row)
        if ctx is None or not ctx.chat.active:
            await self._record(outbox.mark_cancelled, row.id, "chat inactive or trial gone")
            self.stats.cancelled += 1
            return
        try:
            rendered = render_alert(ctx, row, self.clock.today())
        except Exception as exc:
            log.exception("could not render alert %s", row.id)
            await self._record(outbox.mark_failed, row.id, f"render: {type(exc).__name__}: {exc}")
            self._failed("render")
            return
        if rendered is None:  # nothing a patient would care about after all
            await self._record(outbox.mark_cancelled, row.id, "nothing notable to say")
            self.stats.cancelled += 1
            return
        await self._pace(row.chat_id)
        async with self.limiter:
            await self._send(row, rendered)

    async def _send(self, row: OutboxRow, rendered: Rendered) -> None:
        assert row.id is not None
        try:
            message = await self.bot.send_message(
                row.chat_id,
                rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=to_markup(rendered),
                disable_web_page_preview=True,
                rate_limit_args=NO_RETRY,
            )
        except RetryAfter as exc:
            seconds = _seconds(exc.retry_after)
            self.stats.throttled += 1
            metrics.TELEGRAM_429.inc()
            metrics.ALERTS_RETRIED.labels("429").inc()
            await self._record(
                outbox.reschedule, row.id, utcnow() + timedelta(seconds=seconds), f"429: {seconds}s"
            )
            return
        except ChatMigrated as exc:
            log.info("chat %s moved to %s; resending there", row.chat_id, exc.new_chat_id)
            async with self.db.write() as session:
                await outbox.migrate_chat(session, row.chat_id, exc.new_chat_id)
                await outbox.reschedule(session, row.id, utcnow(), "chat migrated")
            metrics.ALERTS_RETRIED.labels("migrated").inc()
            return
        except Forbidden as exc:
            await self._gone(row, str(exc))
            return
        except TimedOut as exc:
            await self._retry_or_fail(row, f"timeout: {exc}")
            return
        except BadRequest as exc:
            if any(marker in str(exc).lower() for marker in GONE):
                await self._gone(row, str(exc))
                return
            log.error("alert %s to %s rejected: %s", row.id, row.chat_id, exc)
            await self._record(outbox.mark_failed, row.id, f"400: {exc}")
            self._failed("bad_request")
            return
        except TelegramError as exc:  # NetworkError and the rest: transient
            await self._retry_or_fail(row, f"{type(exc).__name__}: {exc}")
            return
        await self._record(outbox.mark_sent, row.id, message.message_id)
        self.stats.sent += 1
        metrics.ALERTS_SENT.inc()
        metrics.SEND_LATENCY.observe(max(0.0, (utcnow() - row.created_at).total_seconds()))

    async def _gone(self, row: OutboxRow, reason: str) -> None:
        log.info("chat %s is gone (%s); deactivating", row.chat_id, reason)
        async with self.db.write() as session:
            cancelled = await outbox.deactivate_chat(session, row.chat_id, reason)
        self.stats.cancelled += cancelled
        self._failed("blocked")

    async def _retry_or_fail(self, row: OutboxRow, reason: str) -> None:
        assert row.id is not None
        if row.attempts >= MAX_ATTEMPTS:
            await self._record(outbox.mark_failed, row.id, reason)
            self._failed("network")
            return
        delay = timedelta(seconds=10 * 2 ** (row.attempts - 1))
        await self._record(outbox.reschedule, row.id, utcnow() + delay, reason)
        self.stats.retried += 1
        metrics.ALERTS_RETRIED.labels("network").inc()

    def _failed(self, reason: str) -> None:
        self.stats.failed += 1
        metrics.ALERTS_FAILED.labels(reason).inc()

    async def _record(self, action: Any, outbox_id: int, *args: Any) -> None:
        async with self.db.write() as session:
            await action(session, outbox_id, *args)


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
