"""Queries and writes for trials, their versions and field-level changes.

Callers hold the transaction (`Database.write()`); these functions never commit, so one poll
page, or one trial together with its alerts later on, is stored atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import TrialChangeRow, TrialRow, TrialVersionRow, utcnow
from trialbot.model import FieldChange, Trial, fingerprint_of


@dataclass(frozen=True)
class Verdict:
    """What the classifier said, in the shape storage keeps."""

    tier: str
    buckets: Sequence[str]
    relevant: bool
    details: dict[str, Any]


@dataclass(frozen=True)
class Observation:
    """A trial as just fetched, with its snapshot and fingerprint computed once."""

    trial: Trial
    verdict: Verdict
    snapshot: dict[str, Any]
    fingerprint: str

    @classmethod
    def of(cls, trial: Trial, verdict: Verdict) -> Observation:
        snapshot = trial.snapshot()
        return cls(trial, verdict, snapshot, fingerprint_of(snapshot))


@dataclass
class TrialHistory:
    trial: TrialRow
    versions: list[TrialVersionRow]
    changes: list[TrialChangeRow]


async def get_trial(
    session: AsyncSession, registry: str, registry_id: str, *, for_update: bool = False
) -> TrialRow | None:
    query = select(TrialRow).where(
        TrialRow.registry_name == registry, TrialRow.registry_id == registry_id
    )
    if for_update:
        query = query.with_for_update()
    return (await session.exec(query)).first()


async def get_trials(
    session: AsyncSession, registry: str, registry_ids: Iterable[str], *, for_update: bool = False
) -> dict[str, TrialRow]:
    ids = list(registry_ids)
    if not ids:
        return {}
    query = select(TrialRow).where(
        TrialRow.registry_name == registry, col(TrialRow.registry_id).in_(ids)
    )
    if for_update:
        query = query.with_for_update()
    return {row.registry_id: row for row in (await session.exec(query)).all()}


async def current_snapshot(session: AsyncSession, row: TrialRow) -> dict[str, Any]:
    query = select(TrialVersionRow.snapshot).where(
        TrialVersionRow.trial_id == row.id, TrialVersionRow.version == row.current_version
    )
    snapshot = (await session.exec(query)).one()
    return dict(snapshot)


def _apply(row: TrialRow, seen: Observation, now: datetime) -> None:
    trial, verdict = seen.trial, seen.verdict
    row.title = trial.title
    row.overall_status = trial.overall_status
    row.stem_cell_tier = verdict.tier
    row.buckets = list(verdict.buckets)
    row.relevant = verdict.relevant
    row.classification = verdict.details
    row.countries = trial.countries
    row.last_update = trial.last_update
    row.fingerprint = seen.fingerprint
    row.last_seen_at = now
    row.last_fetched_at = now


async def insert_trials(
    session: AsyncSession, observed: Sequence[Observation], *, now: datetime | None = None
) -> list[tuple[TrialRow, TrialVersionRow]]:
    """Store trials seen for the first time, each as version 1 (one flush for the lot)."""
    now = now or utcnow()
    rows = []
    for seen in observed:
        row = TrialRow(
            registry_name=seen.trial.registry,
            registry_id=seen.trial.registry_id,
            title=seen.trial.title,
            stem_cell_tier=seen.verdict.tier,
            relevant=seen.verdict.relevant,
            fingerprint=seen.fingerprint,
            current_version=1,
            first_seen_at=now,
        )
        _apply(row, seen, now)
        rows.append(row)
    session.add_all(rows)
    await session.flush()
    versions = [
        TrialVersionRow(
            trial_id=row.id,
            version=1,
            fingerprint=seen.fingerprint,
            snapshot=seen.snapshot,
            last_update=seen.trial.last_update,
            seen_at=now,
        )
        for row, seen in zip(rows, observed, strict=True)
        if row.id is not None
    ]
    session.add_all(versions)
    await session.flush()
    return list(zip(rows, versions, strict=True))


async def insert_trial(
    session: AsyncSession, trial: Trial, verdict: Verdict, *, now: datetime | None = None
) -> TrialRow:
    ((row, _),) = await insert_trials(session, [Observation.of(trial, verdict)], now=now)
    return row


async def add_version(
    session: AsyncSession,
    row: TrialRow,
    seen: Observation,
    changes: Sequence[FieldChange],
    *,
    now: datetime | None = None,
) -> TrialVersionRow:
    """Store a new version of a known trial with the field changes that led to it."""
    now = now or utcnow()
    assert row.id is not None
    row.current_version += 1
    _apply(row, seen, now)
    version = TrialVersionRow(
        trial_id=row.id,
        version=row.current_version,
        fingerprint=seen.fingerprint,
        snapshot=seen.snapshot,
        last_update=seen.trial.last_update,
        seen_at=now,
    )
    session.add(row)
    session.add(version)
    await session.flush()
    assert version.id is not None
    session.add_all(
        TrialChangeRow(
            trial_id=row.id,
            version_id=version.id,
            field=change.field,
            kind=change.kind,
            notable=change.notable,
            old=change.old,
            new=change.new,
            detected_at=now,
        )
        for change in changes
    )
    return version


def touch(row: TrialRow, seen: Observation, *, now: datetime | None = None) -> None:
    """Seen again with the same content: refresh bookkeeping only."""
    _apply(row, seen, now or utcnow())


async def list_trials(
    session: AsyncSession, *, relevant_only: bool = True, registry: str | None = None
) -> list[TrialRow]:
    query = select(TrialRow)
    if relevant_only:
        query = query.where(col(TrialRow.relevant).is_(True))
    if registry:
        query = query.where(TrialRow.registry_name == registry)
    query = query.order_by(col(TrialRow.registry_name), col(TrialRow.registry_id))
    return list((await session.exec(query)).all())


async def ids_due_for_refresh(
    session: AsyncSession, registry: str, fetched_before: datetime, limit: int | None = None
) -> list[str]:
    """Stored trials not fetched since `fetched_before`, oldest first."""
    query = (
        select(TrialRow.registry_id)
        .where(TrialRow.registry_name == registry, TrialRow.last_fetched_at < fetched_before)
        .order_by(col(TrialRow.last_fetched_at))
    )
    if limit:
        query = query.limit(limit)
    return list((await session.exec(query)).all())


async def find_trial(session: AsyncSession, ident: str) -> TrialRow | None:
    """Look a trial up by `registry:id` or by the bare registry id (case-insensitive)."""
    registry, _, registry_id = ident.rpartition(":")
    query = select(TrialRow).where(func.upper(TrialRow.registry_id) == registry_id.upper())
    if registry:
        query = query.where(TrialRow.registry_name == registry)
    return (await session.exec(query)).first()


async def history(session: AsyncSession, row: TrialRow) -> TrialHistory:
    versions = await session.exec(
        select(TrialVersionRow)
        .where(TrialVersionRow.trial_id == row.id)
        .order_by(col(TrialVersionRow.version))
    )
    changes = await session.exec(
        select(TrialChangeRow)
        .where(TrialChangeRow.trial_id == row.id)
        .order_by(col(TrialChangeRow.version_id), col(TrialChangeRow.id))
    )
    return TrialHistory(trial=row, versions=list(versions.all()), changes=list(changes.all()))


async def count_trials(session: AsyncSession, *, relevant_only: bool = True) -> int:
    query = select(func.count()).select_from(TrialRow)
    if relevant_only:
        query = query.where(col(TrialRow.relevant).is_(True))
    return int((await session.exec(query)).one())


async def current_versions(
    session: AsyncSession, *, relevant_only: bool = True
) -> list[tuple[TrialRow, dict[str, Any]]]:
    """Each trial with the snapshot of its current version."""
    query = select(TrialRow, TrialVersionRow.snapshot).join(
        TrialVersionRow,
        (col(TrialVersionRow.trial_id) == col(TrialRow.id))
        & (col(TrialVersionRow.version) == col(TrialRow.current_version)),
    )
    if relevant_only:
        query = query.where(col(TrialRow.relevant).is_(True))
    rows = await session.exec(query.order_by(col(TrialRow.id)))
    return [(row, dict(snapshot)) for row, snapshot in rows.all()]
