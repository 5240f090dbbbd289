"""Window alerts: a subscription's person has just entered a recruiting trial's time window.

One per trial and subscription, ever: the `window_alert` row (unique on both) and its outbox
row are written in the caller's transaction, so a re-run or a crash never queues twice and a
queued alert is delivered like any other (never lost once queued). The outbox row has no
version (NULL `version_id`): it is about the trial as it is when sent, and so it coexists with
an earlier alert about the same version under the outbox's (chat, version) key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import OutboxRow, TrialRow, TrialVersionRow, WindowAlertRow, utcnow
from storage.trials import StoredTrial, stored_trial

WINDOW = "window"
"""The outbox kind."""


@dataclass(frozen=True)
class WindowIn:
    chat_id: int
    subscription_id: int
    trial_id: int
    entered_on: date
    held: bool = False
    """True for chats on a daily or weekly digest."""


@dataclass(frozen=True)
class Candidate:
    """A recruiting trial with a time window, as its current version describes it."""

    trial_id: int
    first_seen: date
    stored: StoredTrial


async def recruiting_trials(session: AsyncSession) -> list[Candidate]:
    """Relevant, recruiting trials with their current version (window or not: the caller
    reads the facts)."""
    query = (
        select(TrialRow, TrialVersionRow)
        .join(
            TrialVersionRow,
            (col(TrialVersionRow.trial_id) == col(TrialRow.id))
            & (col(TrialVersionRow.version) == col(TrialRow.current_version)),
        )
        .where(
            col(TrialRow.relevant).is_(True),
            col(TrialRow.overall_status) == "RECRUITING",
            col(TrialRow.merged_into).is_(None),
        )
        .order_by(col(TrialRow.id))
    )
    rows = (await session.exec(query)).all()
    found = []
    for row, version in rows:
        assert row.id is not None
        found.append(Candidate(row.id, row.first_seen_at.date(), stored_trial(row, version)))
    return found


async def told(session: AsyncSession) -> set[tuple[int, int]]:
    """(subscription, trial) pairs already given a window alert."""
    query = select(WindowAlertRow.subscription_id, WindowAlertRow.trial_id)
    return {(s, t) for s, t in (await session.exec(query)).all()}


async def enqueue(
    session: AsyncSession, alerts: Sequence[WindowIn], now: datetime | None = None
) -> int:
    """Record each window alert and queue it; ones already recorded are skipped. Returns how
    many were queued."""
    if not alerts:
        return 0
    now = now or utcnow()
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    queued = 0
    for alert in alerts:
        recorded = (
            await session.exec(
                insert(WindowAlertRow)
                .values(
                    subscription_id=alert.subscription_id,
                    trial_id=alert.trial_id,
                    chat_id=alert.chat_id,
                    entered_on=alert.entered_on,
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["subscription_id", "trial_id"])
                .returning(col(WindowAlertRow.trial_id))
            )
        ).all()
        if not recorded:
            continue
        values: dict[str, Any] = {
            "chat_id": alert.chat_id,
            "trial_id": alert.trial_id,
            "version_id": None,
            "kind": WINDOW,
            "subscription_ids": [alert.subscription_id],
            "status": "held" if alert.held else "pending",
            "attempts": 0,
            "not_before": now,
            "created_at": now,
        }
        await session.exec(insert(OutboxRow).values(values))
        queued += 1
    return queued
