"""Which chats get an alert about a stored change, and about which of their subscriptions.

The poll stores a change and marks it pending in one transaction (storage/fanout.py); then
`fan_out` matches it against every active subscription through the index
(trialbot/match_index.py), outside any transaction, and queues the alerts in short write
transactions of BATCH rows, the last of which clears the mark. A crash in between leaves the
mark and `fan_out_pending` does it again: the outbox's (chat, version) key makes the second
pass add only what the first did not, so nothing is lost and nothing doubled, and no write lock
is held while 100,000 subscriptions are matched. `alerts_for` is the simple, one subscription
at a time definition the index is tested against.

One change gives one alert per chat however many of its subscriptions match; the
alert records which ones did. A change alert also goes to chats the trial matched *before*
the change (a trial that stops recruiting must reach the people who were following it).

A subscription with a profile (time of the stroke, age) is matched against the version's facts
on `today`, the caller's clock (trialbot/matching.py); the previous version with its own facts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from weakref import WeakKeyDictionary

from jobs import facts as derive
from storage import chats, outbox
from storage import fanout as marks
from storage.chats import ActiveSubscription, filter_of_values
from storage.db import Database
from storage.outbox import AlertIn
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.match_index import ChatMatches, SubscriptionIndex
from trialbot.matching import Geocoder, match
from trialbot.model import FieldChange, Trial

log = logging.getLogger(__name__)

BATCH = 2_000
"""Outbox rows per write transaction: short enough that a command's write waits well under a
second, long enough that 100,000 rows take few transactions."""
PAUSE = 0.1
"""Seconds between two batches. A command waiting for SQLite's write lock retries every
100 ms at most (its busy handler sleeps in between): a gap at least that long lets it in."""


@dataclass(frozen=True)
class StoredChange:
    trial: Trial
    verdict: Classification
    trial_id: int
    version_id: int
    kind: str
    """new or change."""
    changes: tuple[FieldChange, ...] = ()
    previous: Trial | None = None
    facts: TrialFacts | None = None
    """What this version states (for a profile's fit); None: the profile is not checked."""
    previous_facts: TrialFacts | None = None

    @property
    def worth_telling(self) -> bool:
        return self.kind == "new" or any(c.notable for c in self.changes)


def alerts_for(
    stored: Sequence[StoredChange],
    subscriptions: Sequence[ActiveSubscription],
    geocode: Geocoder | None = None,
    today: date | None = None,
) -> list[AlertIn]:
    """The alerts the stored changes cause; `today` dates the profiles' fit (no profile is
    checked without it)."""
    alerts: list[AlertIn] = []
    filters = [(s.chat_id, s.delivery, filter_of_values(s)) for s in subscriptions]
    for item in stored:
        if not item.worth_telling:
            continue
        matched: dict[int, list[int]] = {}
        held: dict[int, bool] = {}
        for chat_id, delivery, wanted in filters:
            hit = match(item.trial, item.verdict, wanted, geocode, facts=item.facts, today=today)
            if hit is None and item.previous is not None:
                before = item.previous_facts or item.facts
                hit = match(item.previous, item.verdict, wanted, geocode, facts=before, today=today)
            if hit is not None:
                matched.setdefault(chat_id, []).append(wanted.id)
                held[chat_id] = delivery != "instant"
        alerts.extend(
            AlertIn(
                chat_id=chat_id,
                trial_id=item.trial_id,
                version_id=item.version_id,
                kind=item.kind,
                subscription_ids=sorted(ids),
                held=held[chat_id],
            )
            for chat_id, ids in matched.items()
        )
    return alerts


def chat_matches(
    item: StoredChange,
    index: SubscriptionIndex,
    geocode: Geocoder | None = None,
    today: date | None = None,
) -> ChatMatches:
    """`alerts_for`'s answer for one change, through the index: the chats to alert and which
    of their subscriptions matched (before or after the change)."""
    found = index.matching(item.trial, item.verdict, geocode, facts=item.facts, today=today)
    if item.previous is not None:
        before = item.previous_facts or item.facts
        found |= index.matching(item.previous, item.verdict, geocode, facts=before, today=today)
    return index.chats(found)


def alerts_of(item: StoredChange, matched: ChatMatches, start: int, stop: int) -> list[AlertIn]:
    """Alerts start..stop of a change's matches (built a batch at a time: 100,000 at once
    would cost tens of megabytes)."""
    return [
        AlertIn(
            chat_id=chat_id,
            trial_id=item.trial_id,
            version_id=item.version_id,
            kind=item.kind,
            subscription_ids=ids,
            held=held,
        )
        for chat_id, held, ids in matched.part(start, stop)
    ]


_KEPT: WeakKeyDictionary[Database, tuple[int, SubscriptionIndex]] = WeakKeyDictionary()
"""Per database, the last index read and the subscription generation it reflects."""


async def current_index(db: Database) -> SubscriptionIndex:
    """Every active subscription, as the fan-out's index, kept in memory between pages and
    polls: reading it again costs one tiny query (the subscription generation, which every
    write matching sees moves, in any process: storage/generation.py) unless it moved."""
    async with db.read() as session:
        kept = await chats.current_subscription_index(session, _KEPT.get(db))
    _KEPT[db] = kept
    return kept[1]


async def fan_out(
    db: Database,
    stored: Sequence[StoredChange],
    now: datetime,
    geocode: Geocoder | None = None,
    today: date | None = None,
    *,
    index: SubscriptionIndex | None = None,
    batch: int = BATCH,
    pause: float = PAUSE,
) -> int:
    """Queue the alerts of changes already stored and marked pending; returns how many were
    queued. Uses the index kept in memory (`current_index`, unless given one), matches outside any
    transaction, writes BATCH rows per transaction and clears each change's mark with its
    last batch."""
    if not stored:
        return 0
    if index is None:
        index = await current_index(db)
    queued = 0
    for item in stored:
        matched = (
            chat_matches(item, index, geocode, today) if item.worth_telling else ChatMatches.empty()
        )
        starts = range(0, len(matched), batch) if len(matched) else range(1)
        for start in starts:
            alerts = alerts_of(item, matched, start, start + batch)
            async with db.write() as session:
                queued += await outbox.enqueue(session, alerts, now)
                if start + batch >= len(matched):
                    await marks.done(session, item.version_id)
            if len(matched) > batch:
                await asyncio.sleep(pause)
    return queued


async def fan_out_pending(
    db: Database, now: datetime, geocode: Geocoder | None = None, today: date | None = None
) -> int:
    """Finish the fan-out of every change a crash left marked (cheap when there is none)."""
    async with db.read() as session:
        if not await marks.pending_ids(session):
            return 0
        found = await marks.pending(session)
    stored = [_stored_change(p) for p in found]
    log.warning("finishing the fan-out of %d stored changes", len(stored))
    return await fan_out(db, stored, now, geocode, today)


def _stored_change(found: marks.Pending) -> StoredChange:
    version = found.stored
    return StoredChange(
        version.trial,
        version.verdict,
        found.trial_id,
        found.version_id,
        found.kind,
        version.changes,
        previous=found.previous,
        facts=version.facts.facts if version.facts is not None else derive.extract(version.trial),
        previous_facts=derive.extract(found.previous) if found.previous is not None else None,
    )
