"""Daily and weekly digests: a chat's held alerts folded into as few messages as fit.

A job runs every few minutes. A chat is due when its latest digest slot (its hour, in its
time zone, today or on its weekday) has passed and it has had no digest since that slot, so a
service that was down at 09:00 still sends the 09:00 digest when it comes back. A held
results alert becomes a "Results are out" item; one whose publication is gone is left out.
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date, datetime, timedelta
from typing import Literal

from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.markup import to_markup
from bot.render import DigestItem, render_digest
from jobs.facts import facts_of
from storage import chats, outbox
from storage.db import Database
from storage.tables import ChatRow, utcnow
from trialbot import metrics
from trialbot.matching import gazetteer_geocoder, matches

log = logging.getLogger(__name__)


def latest_slot(chat: ChatRow, now: datetime) -> datetime:
    """The most recent digest time at or before `now`, in UTC."""
    try:
        zone = zoneinfo.ZoneInfo(chat.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local = now.astimezone(zone)
    slot = local.replace(hour=chat.digest_hour, minute=0, second=0, microsecond=0)
    if chat.delivery == "weekly":
        slot -= timedelta(days=(slot.weekday() - chat.digest_weekday) % 7)
    if slot > local:
        slot -= timedelta(days=7 if chat.delivery == "weekly" else 1)
    return slot.astimezone(now.tzinfo)


def is_due(chat: ChatRow, oldest_held: datetime, now: datetime) -> bool:
    """A digest slot has passed since the oldest held alert was queued (or since the last
    digest, whichever is later)."""
    if chat.delivery == "instant":
        return True  # switched back to instant: flush what was held
    since = max(oldest_held, chat.last_digest_at) if chat.last_digest_at else oldest_held
    return latest_slot(chat, now) > since


async def send_digests(
    db: Database, bot: Bot, now: datetime | None = None, today: date | None = None
) -> int:
    """Send every due digest; returns how many chats got one. `today` (the service's clock)
    dates the subscribers' profiles; `now` the digest slots."""
    now = now or utcnow()
    day = today or now.date()
    async with db.read() as session:
        chat_ids = await outbox.held_chats(session)
    done = 0
    for chat_id in chat_ids:
        try:
            done += await _one(db, bot, chat_id, now, day)
        except Exception:
            log.exception("digest for chat %s failed; its alerts stay held", chat_id)
    return done


async def _one(db: Database, bot: Bot, chat_id: int, now: datetime, today: date) -> int:
    async with db.write() as session:
        chat = await chats.get_chat(session, chat_id, for_update=True)
        if chat is None or not chat.active or chat.paused:
            return 0
        oldest = await outbox.oldest_held(session, chat_id)
        if oldest is None or not is_due(chat, oldest, now):
            return 0
        rows = await outbox.take_held(session, chat_id)
        contexts = [(row, await outbox.alert_context(session, row)) for row in rows]
    items = []
    for row, ctx in contexts:
        if ctx is None:
            continue
        stored = ctx.stored
        facts = facts_of(stored.trial, stored.facts)
        found = matches(
            stored.trial, stored.verdict, ctx.filters, gazetteer_geocoder, facts=facts, today=today
        )
        if row.kind == "window" and not found:
            continue  # the person no longer fits: nothing to say
        if row.kind == "results" and ctx.publication is None:
            continue
        changes = stored.changes if row.kind == "change" else ()
        publication = ctx.publication if row.kind == "results" else None
        items.append(
            DigestItem(
                stored.trial, stored.verdict, changes, found, facts, stored.known, publication
            )
        )
    period: Literal["daily", "weekly"] = "weekly" if chat.delivery == "weekly" else "daily"
    messages = render_digest(items, chat.language or "en", period, today=today) if items else []
    try:
        for rendered in messages:
            await bot.send_message(
                chat_id,
                rendered.text,
                parse_mode=ParseMode.HTML,
                reply_markup=to_markup(rendered),
                disable_web_page_preview=True,
            )
    except Forbidden as exc:
        async with db.write() as session:
            await outbox.deactivate_chat(session, chat_id, str(exc))
        return 0
    except TelegramError as exc:
        log.warning("digest for %s not sent (%s); held again", chat_id, exc)
        async with db.write() as session:
            for row in rows:
                assert row.id is not None
                await outbox.hold_again(session, row.id, str(exc))
        return 0
    async with db.write() as session:
        for row in rows:
            assert row.id is not None
            await outbox.mark_sent(session, row.id, None, now)
        fresh = await chats.get_chat(session, chat_id, for_update=True)
        if fresh is not None:
            chats.update_chat(session, fresh, last_digest_at=now)
    metrics.ALERTS_SENT.inc(len(rows))
    return 1
