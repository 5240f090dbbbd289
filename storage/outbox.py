"""The outbox: alerts waiting to be sent, claimed with a lease, and what became of each.

Enqueueing happens in short batches after the transaction that stores a trial's new version
and marks it pending (jobs/fanout.py), and the unique (chat, version) key makes it idempotent.
A sender claims due rows with a lease, sends outside any transaction, and records each
outcome in its own short transaction. Rows whose lease ran out (the sender crashed mid-send)
become due again, so at most the messages in flight at a crash can go out twice.
Since only one service runs on a database (storage/instance_lock.py), a starting service hands
back every leased row at once (`release_orphans`) instead of waiting for the dead process's
leases to run out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import publications as stored_publications
from storage.chats import filter_of
from storage.tables import (
    ChatRow,
    OutboxRow,
    SubscriptionRow,
    TrialChangeRow,
    TrialRow,
    TrialVersionRow,
    utcnow,
)
from storage.trials import StoredTrial, stored_trial, with_publications
from trialbot.matching import SubscriptionFilter
from trialbot.publications import Publication

ACTIVE = ("pending", "held", "sending")
MAX_ERROR = 500


@dataclass(frozen=True)
class AlertIn:
    chat_id: int
    trial_id: int
    version_id: int
    kind: str
    subscription_ids: list[int] = field(default_factory=list)
    held: bool = False
    """True for chats on a daily or weekly digest."""


async def enqueue(
    session: AsyncSession, alerts: Sequence[AlertIn], now: datetime | None = None
) -> int:
    """Queue alerts; ones already queued for the same chat and version are skipped.

    Returns how many were new. Uses INSERT .. ON CONFLICT DO NOTHING RETURNING (rowcount is
    not reliable across drivers for this statement).
    """
    if not alerts:
        return 0
    now = now or utcnow()
    values = [
        _row(a.chat_id, a.trial_id, a.kind, a.subscription_ids, a.held, now)
        | {"version_id": a.version_id}
        for a in alerts
    ]
    return await _insert_new(session, values, ["chat_id", "version_id"])


def _row(
    chat_id: int,
    trial_id: int,
    kind: str,
    subscription_ids: Sequence[int],
    held: bool,
    now: datetime,
) -> dict[str, Any]:
    return {
        "chat_id": chat_id,
        "trial_id": trial_id,
        "kind": kind,
        "subscription_ids": list(subscription_ids),
        "status": "held" if held else "pending",
        "attempts": 0,
        "not_before": now,
        "created_at": now,
    }


async def _insert_new(session: AsyncSession, values: list[dict[str, Any]], key: list[str]) -> int:
    """Insert the rows whose `key` is not queued yet; how many were new. INSERT .. ON CONFLICT
    DO NOTHING RETURNING (rowcount is not reliable across drivers for this statement), as one
    executemany: SQLAlchemy batches it into multi-row INSERTs ("insertmanyvalues") without
    compiling a statement per batch, which a VALUES list would."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(OutboxRow).on_conflict_do_nothing(index_elements=key).returning(col(OutboxRow.id))
    )
    result = await session.exec(statement, params=values)
    return len(result.all())


@dataclass(frozen=True)
class ResultsAlertIn:
    """A "Results are out" alert: one chat, one publication of a trial."""

    chat_id: int
    trial_id: int
    publication_id: int
    subscription_ids: list[int] = field(default_factory=list)
    held: bool = False


async def enqueue_results(
    session: AsyncSession, alerts: Sequence[ResultsAlertIn], now: datetime | None = None
) -> int:
    """Queue results alerts; one already queued for the same chat and publication is skipped
    (the (chat, publication) key). Returns how many were new."""
    if not alerts:
        return 0
    now = now or utcnow()
    values = [
        _row(a.chat_id, a.trial_id, "results", a.subscription_ids, a.held, now)
        | {"version_id": None, "publication_id": a.publication_id}
        for a in alerts
    ]
    return await _insert_new(session, values, ["chat_id", "publication_id"])


async def followers(session: AsyncSession, trial_id: int) -> dict[int, tuple[bool, list[int]]]:
    """Active, unpaused chats that were told about this trial before (an alert queued, held or
    sent): the people who "matched" it once. Per chat: whether it is on a digest, and the
    subscriptions those alerts were for."""
    rows = (
        await session.exec(
            select(OutboxRow.chat_id, ChatRow.delivery, OutboxRow.subscription_ids)
            .join(ChatRow, col(ChatRow.chat_id) == col(OutboxRow.chat_id))
            .where(col(OutboxRow.trial_id) == trial_id)
            .where(col(ChatRow.active).is_(True), col(ChatRow.paused).is_(False))
            .where(col(OutboxRow.status).in_(("pending", "held", "sending", "sent")))
        )
    ).all()
    found: dict[int, tuple[bool, set[int]]] = {}
    for chat_id, delivery, subscription_ids in rows:
        _, ids = found.setdefault(chat_id, (delivery != "instant", set()))
        ids.update(subscription_ids or [])
    return {chat_id: (held, sorted(ids)) for chat_id, (held, ids) in found.items()}


def _due(now: datetime) -> Any:
    return or_(
        and_(col(OutboxRow.status) == "pending", col(OutboxRow.not_before) <= now),
        and_(col(OutboxRow.status) == "sending", col(OutboxRow.lease_until) < now),
    )


async def claim(
    session: AsyncSession, *, limit: int, lease: timedelta, now: datetime | None = None
) -> list[OutboxRow]:
    """Take up to `limit` due rows (oldest first) and lease them to the caller."""
    now = now or utcnow()
    due = (
        select(OutboxRow.id)
        .where(_due(now))
        .order_by(col(OutboxRow.not_before), col(OutboxRow.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(OutboxRow)
        .where(col(OutboxRow.id).in_(due.scalar_subquery()))
        .values(status="sending", lease_until=now + lease, attempts=OutboxRow.attempts + 1)
        .returning(OutboxRow)
    )
    rows = (await session.exec(statement)).scalars().all()
    return sorted(rows, key=lambda r: (r.not_before, r.id))


async def _set(session: AsyncSession, outbox_id: int, **values: Any) -> None:
    await session.exec(update(OutboxRow).where(col(OutboxRow.id) == outbox_id).values(**values))


async def mark_sent(
    session: AsyncSession, outbox_id: int, message_id: int | None, now: datetime | None = None
) -> None:
    await _set(
        session,
        outbox_id,
        status="sent",
        message_id=message_id,
        sent_at=now or utcnow(),
        lease_until=None,
        last_error=None,
    )


async def mark_sent_many(
    session: AsyncSession, sent: Sequence[tuple[int, int | None]], now: datetime | None = None
) -> None:
    """`mark_sent` for many rows in one statement (executemany): one commit for a whole group
    of sends, so the bookkeeping keeps up with the send rate."""
    if not sent:
        return
    table: Table = OutboxRow.__table__  # type: ignore[attr-defined]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values(
            status="sent",
            message_id=bindparam("message"),
            sent_at=now or utcnow(),
            lease_until=None,
            last_error=None,
        )
    )
    connection = await session.connection()
    await connection.execute(statement, [{"row_id": i, "message": m} for i, m in sent])


async def reschedule(
    session: AsyncSession, outbox_id: int, not_before: datetime, reason: str
) -> None:
    await _set(
        session,
        outbox_id,
        status="pending",
        not_before=not_before,
        lease_until=None,
        last_error=reason[:MAX_ERROR],
    )


async def mark_failed(session: AsyncSession, outbox_id: int, reason: str) -> None:
    await _set(session, outbox_id, status="failed", lease_until=None, last_error=reason[:MAX_ERROR])


async def mark_cancelled(session: AsyncSession, outbox_id: int, reason: str) -> None:
    """Not to be sent, and not a failure (the chat left, or nothing worth saying remained)."""
    await _set(
        session, outbox_id, status="cancelled", lease_until=None, last_error=reason[:MAX_ERROR]
    )


async def hold_again(session: AsyncSession, outbox_id: int, reason: str) -> None:
    """A digest could not be sent: keep its alerts for the next try."""
    await _set(session, outbox_id, status="held", last_error=reason[:MAX_ERROR])


async def release(session: AsyncSession, ids: Sequence[int]) -> None:
    """Give leased rows back (a clean shutdown): due again at once, attempt not counted."""
    if ids:
        await session.exec(
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(list(ids)), col(OutboxRow.status) == "sending")
            .values(status="pending", lease_until=None, attempts=OutboxRow.attempts - 1)
        )


async def release_orphans(session: AsyncSession) -> tuple[int, int]:
    """At start-up, with the instance lock held: every row still 'sending' belonged to a dead
    process. Leased alerts become due at once (the dead process may have sent some of them:
    those in flight at the crash go out twice, no more); digest rows, which carry no lease,
    are held again for the next digest. Returns (alerts, digest rows) handed back."""
    leased = await session.exec(
        update(OutboxRow)
        .where(col(OutboxRow.status) == "sending", col(OutboxRow.lease_until).is_not(None))
        .values(status="pending", lease_until=None)
        .returning(col(OutboxRow.id))
    )
    alerts = len(leased.all())
    held = await session.exec(
        update(OutboxRow)
        .where(col(OutboxRow.status) == "sending", col(OutboxRow.lease_until).is_(None))
        .values(status="held")
        .returning(col(OutboxRow.id))
    )
    return alerts, len(held.all())


async def deactivate_chat(session: AsyncSession, chat_id: int, reason: str) -> int:
    """The chat blocked the bot or is gone: stop, and cancel everything still queued for it."""
    await session.exec(
        update(ChatRow)
        .where(col(ChatRow.chat_id) == chat_id)
        .values(active=False, deactivated_at=utcnow(), deactivation_reason=reason[:255])
    )
    result = await session.exec(
        update(OutboxRow)
        .where(col(OutboxRow.chat_id) == chat_id, col(OutboxRow.status).in_(ACTIVE))
        .values(status="cancelled", lease_until=None, last_error=reason[:MAX_ERROR])
        .returning(col(OutboxRow.id))
    )
    return len(result.all())


async def migrate_chat(session: AsyncSession, old_id: int, new_id: int) -> None:
    """A group became a supergroup: move the chat (and, by cascade, its rows) to the new id."""
    existing = (await session.exec(select(ChatRow).where(ChatRow.chat_id == new_id))).first()
    if existing is not None:
        # The new id already talked to us; keep the old chat's subscriptions and alerts.
        await session.exec(delete(ChatRow).where(col(ChatRow.chat_id) == new_id))
    await session.exec(
        update(ChatRow)
        .where(col(ChatRow.chat_id) == old_id)
        .values(chat_id=new_id, type="supergroup", updated_at=utcnow())
    )


@dataclass(frozen=True)
class Backlog:
    pending: int
    held: int
    sending: int
    failed: int
    oldest_pending_seconds: float | None


async def backlog(session: AsyncSession, now: datetime | None = None) -> Backlog:
    now = now or utcnow()
    counts = dict(
        (
            await session.exec(
                select(OutboxRow.status, func.count()).group_by(col(OutboxRow.status))
            )
        ).all()
    )
    oldest = (
        await session.exec(
            select(func.min(OutboxRow.created_at)).where(col(OutboxRow.status) == "pending")
        )
    ).one()
    age = (now - oldest).total_seconds() if oldest is not None else None
    return Backlog(
        pending=int(counts.get("pending", 0)),
        held=int(counts.get("held", 0)),
        sending=int(counts.get("sending", 0)),
        failed=int(counts.get("failed", 0)),
        oldest_pending_seconds=age,
    )


async def held_chats(session: AsyncSession) -> list[int]:
    """Chats with alerts waiting for their digest."""
    query = select(OutboxRow.chat_id).where(col(OutboxRow.status) == "held").distinct()
    return list((await session.exec(query)).all())


async def oldest_held(session: AsyncSession, chat_id: int) -> datetime | None:
    query = select(func.min(OutboxRow.created_at)).where(
        col(OutboxRow.chat_id) == chat_id, col(OutboxRow.status) == "held"
    )
    oldest: datetime | None = (await session.exec(query)).one()
    return oldest


async def take_held(session: AsyncSession, chat_id: int) -> list[OutboxRow]:
    """A chat's held alerts, marked sending (the digest is built from them)."""
    query = (
        select(OutboxRow)
        .where(col(OutboxRow.chat_id) == chat_id, col(OutboxRow.status) == "held")
        .order_by(col(OutboxRow.id))
        .with_for_update()
    )
    rows = list((await session.exec(query)).all())
    for row in rows:
        row.status, row.attempts = "sending", row.attempts + 1
        session.add(row)
    return rows


@dataclass
class AlertContext:
    """Everything needed to render one queued alert: the chat, the trial version with its
    changes, and the match filters of the subscriptions it was queued for."""

    chat: ChatRow
    stored: StoredTrial
    filters: list[SubscriptionFilter]
    publication: Publication | None = None
    """What a `results` alert is about."""


async def alert_context(
    session: AsyncSession, row: OutboxRow, stored: StoredTrial | None = None
) -> AlertContext | None:
    """The chat, the trial version, its changes and the matched subscriptions (None if gone).
    `stored`: the version as an earlier read of the same row's (trial, version) gave it (the
    sender keeps a few: a broadcast reads one version thousands of times); the chat and its
    subscriptions are always read."""
    chat = (await session.exec(select(ChatRow).where(ChatRow.chat_id == row.chat_id))).first()
    if chat is None:
        return None
    if stored is None:
        stored = await alert_version(session, row)
        if stored is None:
            return None
    subs = (
        await session.exec(
            select(SubscriptionRow).where(
                col(SubscriptionRow.id).in_(row.subscription_ids or [-1]),
                SubscriptionRow.chat_id == row.chat_id,
            )
        )
    ).all()
    publication = None
    if row.publication_id is not None:
        found = await stored_publications.get(session, row.publication_id)
        if found is None:
            return None
        publication = stored_publications.publication_of(found)
    return AlertContext(chat, stored, [filter_of(chat, s) for s in subs], publication)


async def alert_version(session: AsyncSession, row: OutboxRow) -> StoredTrial | None:
    """The trial version an alert is about, with its changes and the trial's publications (a
    window or results alert: the trial as it is now); None if the trial is gone."""
    trial = (await session.exec(select(TrialRow).where(TrialRow.id == row.trial_id))).first()
    if trial is None:
        return None
    if row.version_id is None:  # a window or results alert: the trial as it is now
        version_query = select(TrialVersionRow).where(
            TrialVersionRow.trial_id == trial.id,
            TrialVersionRow.version == trial.current_version,
        )
    else:
        version_query = select(TrialVersionRow).where(TrialVersionRow.id == row.version_id)
    version = (await session.exec(version_query)).first()
    if version is None:
        return None
    changes = (
        (
            await session.exec(
                select(TrialChangeRow)
                .where(TrialChangeRow.version_id == row.version_id)
                .order_by(col(TrialChangeRow.id))
            )
        ).all()
        if row.version_id is not None
        else []
    )
    [stored] = await with_publications(
        session, [(trial.id or 0, stored_trial(trial, version, changes))]
    )
    return stored
