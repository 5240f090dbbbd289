"""Per-registry poll bookkeeping: the watermark to resume from and how the last polls went."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import PollStateRow, utcnow

MAX_REASON = 500


async def get(session: AsyncSession, registry: str, *, for_update: bool = False) -> PollStateRow:
    """The registry's state row, created empty on first use."""
    query = select(PollStateRow).where(PollStateRow.registry_name == registry)
    if for_update:
        query = query.with_for_update()
    row = (await session.exec(query)).first()
    if row is None:
        row = PollStateRow(registry_name=registry)
        session.add(row)
        await session.flush()
    return row


async def all_states(session: AsyncSession) -> list[PollStateRow]:
    return list((await session.exec(select(PollStateRow))).all())


async def record_attempt(session: AsyncSession, registry: str, now: datetime | None = None) -> None:
    row = await get(session, registry, for_update=True)
    row.last_attempt_at = now or utcnow()
    session.add(row)


async def record_success(
    session: AsyncSession,
    registry: str,
    *,
    watermark: date | None,
    data_version: str | None,
    counts: dict[str, Any],
    now: datetime | None = None,
) -> None:
    row = await get(session, registry, for_update=True)
    if watermark is not None and (row.watermark is None or watermark > row.watermark):
        row.watermark = watermark
    if data_version is not None:
        row.data_version = data_version
    row.last_success_at = now or utcnow()
    row.consecutive_failures = 0
    row.last_counts = counts
    session.add(row)


async def record_failure(
    session: AsyncSession, registry: str, reason: str, now: datetime | None = None
) -> None:
    row = await get(session, registry, for_update=True)
    row.last_failure_at = now or utcnow()
    row.last_failure_reason = reason[:MAX_REASON]
    row.consecutive_failures += 1
    session.add(row)


async def record_refresh(session: AsyncSession, registry: str, now: datetime | None = None) -> None:
    row = await get(session, registry, for_update=True)
    row.last_refresh_at = now or utcnow()
    session.add(row)
