"""Per-registry poll bookkeeping: the watermark to resume from and how the last polls went."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import PollStateRow, SeenRecordRow, utcnow

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


async def mark_seen(
    session: AsyncSession, registry: str, ids: Iterable[str], now: datetime | None = None
) -> None:
    """Remember record ids the registry's search gave us (already known ones are left)."""
    when = now or utcnow()
    values = [
        {"registry_name": registry, "registry_id": i, "first_seen_at": when}
        for i in sorted(set(ids))
        if i and len(i) <= 64
    ]
    if not values:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(values), 500):
        statement = (
            insert(SeenRecordRow)
            .values(values[start : start + 500])
            .on_conflict_do_nothing(index_elements=["registry_name", "registry_id"])
        )
        await session.exec(statement)


async def count_seen(session: AsyncSession, registry: str) -> int:
    query = select(func.count()).where(col(SeenRecordRow.registry_name) == registry)
    return int((await session.exec(query)).one())


async def record_sweep(session: AsyncSession, registry: str, now: datetime | None = None) -> None:
    row = await get(session, registry, for_update=True)
    row.last_sweep_at = now or utcnow()
    session.add(row)
