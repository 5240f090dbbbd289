"""The outbox sender: delivers queued alerts to Telegram, each exactly once where possible.

A feeder claims due rows with a lease and queues them; `concurrency` workers render and send
them and record each outcome; no transaction is open while a message is in flight. The
feeder claims the next batch while the last one is still being sent, so the pace never stops
at a batch boundary. Successful sends are recorded by group commit (`_SentBook`): a worker
waits until its row is marked sent, but all the rows that finished meanwhile share one
transaction, so the bookkeeping keeps up at 30 (or, paid, hundreds of) messages a second.

Pace: the bot's rate limiter (bot/ratelimit.py) spaces every message evenly just below
Telegram's ~30 a second (SEND_RATE_PER_SECOND) and lets replies to commands go before the next
alert, so a broadcast uses the whole budget and users still get answers at once. The limiter
also guards the per-group limit; the sender adds the per-chat one (one message a second to a
chat). With `paid` (TELEGRAM_PAID_BROADCAST) alerts carry `allow_paid_broadcast` and go at up
to 1,000 a second.

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
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.markup import to_markup
from bot.ratelimit import NO_RETRY
from bot.render import (
    AlertParts,
    Rendered,
    alert_parts,
    render_change,
    render_new_trial,
    render_results,
    render_window_open,
)
from jobs.facts import facts_of
from storage import outbox
from storage.db import Database
from storage.tables import OutboxRow, utcnow
from storage.trials import StoredTrial
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
    ctx: outbox.AlertContext,
    row: OutboxRow,
    today: date | None = None,
    parts: AlertParts | None = None,
) -> Rendered | None:
    """The alert as the chat should read it now (its language, its matched subscriptions, the
    fit of their profiles on `today`). A window alert whose person no longer fits the trial
    (it stopped recruiting, the profile changed) renders as None: nothing to say. A results
    alert is about `ctx.publication` (a row whose publication is gone has no context at all,
    like one whose trial is gone, and is cancelled by `deliver`). `parts`: the alert's
    chat-independent sections, made once for every chat of a broadcast (`Shared`)."""
    trial, verdict, known = ctx.stored.trial, ctx.stored.verdict, ctx.stored.known
    facts = facts_of(trial, ctx.stored.facts)
    lang = ctx.chat.language or "en"
    day = today or SYSTEM.today()
    found = matches(trial, verdict, ctx.filters, gazetteer_geocoder, facts=facts, today=day)
    if row.kind == "new":
        return render_new_trial(
            trial, verdict, found, lang, facts=facts, today=day, known=known, parts=parts
        )
    if row.kind == "window":
        if not found:
            return None
        return render_window_open(trial, verdict, found, lang, facts=facts, today=day, known=known)
    if row.kind == "results":
        if ctx.publication is None:
            return None
        return render_results(
            trial, verdict, ctx.publication, found, lang, facts=facts, today=day, known=known
        )
    return render_change(
        trial,
        verdict,
        ctx.stored.changes,
        found,
        lang,
        facts=facts,
        today=day,
        known=known,
        parts=parts,
    )


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Kept(Generic[K, V]):
    """The last few values by key, each for at most `seconds`: a broadcast reads one trial
    version and renders its common sections thousands of times; nothing is kept for long, so
    a trial classified again is rendered anew within `seconds`."""

    def __init__(self, size: int = 32, seconds: float = 60.0) -> None:
        self.size, self.seconds = size, seconds
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None or time.monotonic() - found[0] > self.seconds:
            return None
        self._items.move_to_end(key)
        return found[1]

    def put(self, key: K, value: V) -> None:
        self._items[key] = (time.monotonic(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)


class Shared:
    """What every chat of a broadcast shares: the trial version an alert is about (read from
    the database once, not once per chat) and the alert's chat-independent sections per
    (version, language, kind, day) (bot/render.AlertParts). Per chat, the sender still reads
    the chat and its subscriptions and renders where, how to ask, why it reached you (the
    subscription's name and its profile's fit), the changed lines and the buttons."""

    def __init__(self) -> None:
        self.versions: _Kept[tuple[int, int], StoredTrial] = _Kept()
        self.parts: _Kept[tuple[int, int, str, str, date], AlertParts] = _Kept()

    async def context(self, session: AsyncSession, row: OutboxRow) -> outbox.AlertContext | None:
        key = (row.trial_id, row.version_id) if row.version_id is not None else None
        stored = self.versions.get(key) if key is not None else None
        ctx = await outbox.alert_context(session, row, stored)
        if ctx is not None and key is not None and stored is None:
            self.versions.put(key, ctx.stored)
        return ctx

    def parts_of(self, ctx: outbox.AlertContext, row: OutboxRow, day: date) -> AlertParts | None:
        if row.version_id is None or row.kind not in ("new", "change"):
            return None  # window alerts are one person's, one at a time
        lang = ctx.chat.language or "en"
        key = (row.trial_id, row.version_id, lang, row.kind, day)
        parts = self.parts.get(key)
        if parts is None:
            trial = ctx.stored.trial
            parts = alert_parts(
                "new" if row.kind == "new" else "change",
                trial,
                ctx.stored.verdict,
                lang,
                changes=ctx.stored.changes,
                today=day,
                facts=facts_of(trial, ctx.stored.facts),
                known=ctx.stored.known,
            )
            self.parts.put(key, parts)
        return parts


class OutboxSender:
    def __init__(
        self,
        db: Database,
        bot: ExtBot[Any],
        *,
        paid: bool = False,
        concurrency: int | None = None,
        batch: int | None = None,
        lease: timedelta = timedelta(minutes=2),
        idle_seconds: float = 1.0,
        clock: Clock = SYSTEM,
    ) -> None:
        self.db = db
        self.clock = clock
        self.bot = bot
        self.paid = paid
        # Enough sends under way to keep the limiter's every slot taken (a send and its
        # bookkeeping take tens of ms; at 1,000/s that needs many more at once).
        self.concurrency = concurrency or (128 if paid else 16)
        self.batch = batch or (4 * self.concurrency if paid else 50)
        self.lease = lease
        self.idle_seconds = idle_seconds
        self.stats = SenderStats()
        self._last_to_chat: dict[int, float] = {}
        self._wake = asyncio.Event()
        self._book = _SentBook(db)
        self.shared = Shared()

    def wake(self) -> None:
        """New alerts were queued: look now instead of at the next idle tick."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish what is in flight and hand back the rest."""
        queue: asyncio.Queue[OutboxRow | None] = asyncio.Queue(maxsize=self.batch)
        unsent: list[int] = []
        workers = [
            asyncio.create_task(self._work(queue, stop, unsent), name=f"sender-{n}")
            for n in range(self.concurrency)
        ]
        try:
            await self._feed(queue, stop)
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            while not queue.empty():
                row = queue.get_nowait()
                if row is not None and row.id is not None:
                    unsent.append(row.id)
            if unsent:
                async with self.db.write() as session:
                    await outbox.release(session, unsent)

    async def _feed(self, queue: asyncio.Queue[OutboxRow | None], stop: asyncio.Event) -> None:
        """Claim batches and queue them; a full queue holds the feeder back."""
        while not stop.is_set():
            try:
                async with self.db.write() as session:
                    rows = await outbox.claim(session, limit=self.batch, lease=self.lease)
            except Exception:
                log.exception("outbox sender: claiming failed; retrying shortly")
                rows = []
            for row in rows:
                await queue.put(row)
            if not rows:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        _first(stop.wait(), self._wake.wait()), timeout=self.idle_seconds
                    )

    async def _work(
        self, queue: asyncio.Queue[OutboxRow | None], stop: asyncio.Event, unsent: list[int]
    ) -> None:
        while (row := await queue.get()) is not None:
            assert row.id is not None
            if stop.is_set():
                unsent.append(row.id)
                continue
            try:
                await self.deliver(row)
            except Exception:
                # Its lease runs out (or the next start hands it back): retried, not lost.
                log.exception("outbox sender: alert %s failed unexpectedly", row.id)

    async def drain_once(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch and send it; returns how many rows were handled (tests, tools)."""
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
            ctx = await self.shared.context(session, row)
        if ctx is None or not ctx.chat.active:
            await self._record(outbox.mark_cancelled, row.id, "chat inactive or trial gone")
            self.stats.cancelled += 1
            return
        try:
            day = self.clock.today()
            rendered = render_alert(ctx, row, day, self.shared.parts_of(ctx, row, day))
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
                allow_paid_broadcast=True if self.paid else None,
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
        await self._book.sent(row.id, message.message_id)
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


class _SentBook:
    """Group commit for sent alerts: each caller waits until its row is recorded, and every
    row that finished while the previous commit ran goes into the next one. Nothing waits on
    a timer, so the window in which a crash can repeat a send is one commit, as before."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._waiting: list[tuple[int, int | None, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def sent(self, outbox_id: int, message_id: int | None) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((outbox_id, message_id, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush(), name="outbox-sent-book")
        await future

    async def _flush(self) -> None:
        while self._waiting:
            group, self._waiting = self._waiting, []
            try:
                async with self.db.write() as session:
                    await outbox.mark_sent_many(session, [(i, m) for i, m, _ in group])
            except Exception as exc:
                for *_, future in group:
                    if not future.done():
                        future.set_exception(exc)
            else:
                for *_, future in group:
                    if not future.done():
                        future.set_result(None)


def _seconds(value: Any) -> float:
    return float(value.total_seconds()) if isinstance(value, timedelta) else float(value)


async def _first(*waits: Any) -> None:
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
