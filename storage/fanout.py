"""Changes whose alerts are still to be queued (the `fanout_pending` table).

A poll stores a version and marks it pending in one write transaction, matches subscribers
outside any transaction, queues the alerts in short batches and clears the mark with the last
batch (jobs/fanout.py). What a crash leaves marked is read back here and fanned out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import FanoutPendingRow, TrialChangeRow, TrialRow, TrialVersionRow, utcnow
from storage.trials import StoredTrial, stored_trial
from trialbot.model import Trial


@dataclass(frozen=True)
class Pending:
    """A marked change rebuilt from what was stored: the version with its changes and facts,
    and the version before it (for "did it match before the change")."""

    trial_id: int
    version_id: int
    kind: str
    stored: StoredTrial
    previous: Trial | None


async def mark(
    session: AsyncSession, changes: Sequence[tuple[int, int, str]], now: datetime | None = None
) -> None:
    """Mark (trial_id, version_id, kind) as waiting for its fan-out."""
    now = now or utcnow()
    session.add_all(
        FanoutPendingRow(trial_id=t, version_id=v, kind=k, created_at=now) for t, v, k in changes
    )
    await session.flush()


async def done(session: AsyncSession, version_id: int) -> None:
    """Every alert of this version is queued."""
    await session.exec(
        delete(FanoutPendingRow).where(col(FanoutPendingRow.version_id) == version_id)
    )


async def pending_ids(session: AsyncSession) -> list[int]:
    query = select(FanoutPendingRow.version_id).order_by(col(FanoutPendingRow.version_id))
    return list((await session.exec(query)).all())


async def pending(session: AsyncSession) -> list[Pending]:
    """Every marked change, oldest first, rebuilt for matching."""
    query = (
        select(FanoutPendingRow, TrialRow, TrialVersionRow)
        .join(TrialRow, col(TrialRow.id) == col(FanoutPendingRow.trial_id))
        .join(TrialVersionRow, col(TrialVersionRow.id) == col(FanoutPendingRow.version_id))
        .order_by(col(FanoutPendingRow.version_id))
    )
    found: list[Pending] = []
    for mark_row, trial, version in (await session.exec(query)).all():
        changes = (
            await session.exec(
                select(TrialChangeRow)
                .where(TrialChangeRow.version_id == version.id)
                .order_by(col(TrialChangeRow.id))
            )
        ).all()
        before = (
            await session.exec(
                select(TrialVersionRow.snapshot).where(
                    TrialVersionRow.trial_id == version.trial_id,
                    TrialVersionRow.version == version.version - 1,
                )
            )
        ).first()
        previous = (
            Trial.model_validate(before)
            if before is not None and mark_row.kind == "change"
            else None
        )
        found.append(
            Pending(
                mark_row.trial_id,
                mark_row.version_id,
                mark_row.kind,
                stored_trial(trial, version, changes),
                previous,
            )
        )
    return found
