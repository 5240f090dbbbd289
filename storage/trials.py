"""Queries and writes for trials, their versions and field-level changes.

Callers hold the transaction (`Database.write()`); these functions never commit, so one poll
page, or one trial together with its alerts later on, is stored atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import publications as stored_publications
from storage.tables import (
    TrialChangeRow,
    TrialKeyRow,
    TrialRow,
    TrialSourceRow,
    TrialVersionRow,
    utcnow,
)
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.identifiers import canonical, link_keys
from trialbot.model import FieldChange, Trial, fingerprint_of
from trialbot.publications import KnownSoFar, Publication


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
    facts: DerivedFacts | None = None

    @classmethod
    def of(cls, trial: Trial, verdict: Verdict, facts: DerivedFacts | None = None) -> Observation:
        snapshot = trial.snapshot()
        return cls(trial, verdict, snapshot, fingerprint_of(snapshot), facts)


@dataclass(frozen=True)
class DerivedFacts:
    """The facts of one version as storage keeps them, with the rules' version."""

    facts: TrialFacts
    version: int


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


def _version(row: TrialRow, seen: Observation, now: datetime) -> TrialVersionRow:
    """The row's current version, as `seen`."""
    assert row.id is not None
    return TrialVersionRow(
        trial_id=row.id,
        version=row.current_version,
        fingerprint=seen.fingerprint,
        snapshot=seen.snapshot,
        last_update=seen.trial.last_update,
        seen_at=now,
        facts=seen.facts.facts.to_json() if seen.facts else None,
        facts_version=seen.facts.version if seen.facts else None,
    )


async def create_trials(
    session: AsyncSession, observed: Sequence[Observation], *, now: datetime | None = None
) -> list[tuple[TrialRow, TrialVersionRow]]:
    """Store trials seen for the first time, each as version 1 (one flush for the lot), without
    their records: a poll page adds those with the records that join existing trials."""
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
    versions = [_version(row, seen, now) for row, seen in zip(rows, observed, strict=True)]
    session.add_all(versions)
    await session.flush()
    return list(zip(rows, versions, strict=True))


async def insert_trials(
    session: AsyncSession, observed: Sequence[Observation], *, now: datetime | None = None
) -> list[tuple[TrialRow, TrialVersionRow]]:
    """Store trials seen for the first time, each as version 1 with its one record."""
    now = now or utcnow()
    created = await create_trials(session, observed, now=now)
    claims = [
        (row.id, link_keys(seen.trial))
        for (row, _), seen in zip(created, observed, strict=True)
        if row.id is not None
    ]
    session.add_all(
        new_source(trial_id, seen, sorted(keys), now)
        for (trial_id, keys), seen in zip(claims, observed, strict=True)
    )
    await session.flush()
    await claim_keys_many(session, claims)
    return created


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
    (version,) = await add_versions(session, [(row, seen, changes)], now=now)
    return version


async def add_versions(
    session: AsyncSession,
    moved: Sequence[tuple[TrialRow, Observation, Sequence[FieldChange]]],
    *,
    now: datetime | None = None,
) -> list[TrialVersionRow]:
    """`add_version` for several trials with one flush, as a poll page stores them."""
    now = now or utcnow()
    versions = []
    for row, seen, _ in moved:
        row.current_version += 1
        _apply(row, seen, now)
        versions.append(_version(row, seen, now))
    session.add_all(row for row, _, _ in moved)
    session.add_all(versions)
    await session.flush()
    session.add_all(
        TrialChangeRow(
            trial_id=version.trial_id,
            version_id=version.id,
            field=change.field,
            kind=change.kind,
            notable=change.notable,
            old=change.old,
            new=change.new,
            detected_at=now,
        )
        for (_, _, changes), version in zip(moved, versions, strict=True)
        if version.id is not None
        for change in changes
    )
    return versions


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
    """This registry's stored records not fetched since `fetched_before`, oldest first."""
    query = (
        select(TrialSourceRow.registry_id)
        .where(
            TrialSourceRow.registry_name == registry,
            TrialSourceRow.last_fetched_at < fetched_before,
        )
        .order_by(col(TrialSourceRow.last_fetched_at))
    )
    if limit:
        query = query.limit(limit)
    return list((await session.exec(query)).all())


async def find_trial(session: AsyncSession, ident: str) -> TrialRow | None:
    """Look a trial up by `registry:id`, by the bare id of any of its registry records
    (case-insensitive), or by any registry id it is known under however it is written
    (`jRCT2063200009` finds the WHO row `JPRN-jRCT2063200009`), so an old link or button still
    finds a trial that was merged."""
    registry, _, registry_id = ident.rpartition(":")
    query = select(TrialRow).where(func.upper(TrialRow.registry_id) == registry_id.upper())
    if registry:
        query = query.where(TrialRow.registry_name == registry)
    row = (await session.exec(query)).first()
    if row is not None and row.merged_into is None:
        return row
    via = select(TrialRow).join(TrialSourceRow, col(TrialSourceRow.trial_id) == col(TrialRow.id))
    via = via.where(func.upper(TrialSourceRow.registry_id) == registry_id.upper())
    if registry:
        via = via.where(TrialSourceRow.registry_name == registry)
    found = (await session.exec(via)).first()
    if found is None and (key := canonical(registry_id)) is not None:
        by_key = select(TrialRow).join(TrialKeyRow, col(TrialKeyRow.trial_id) == col(TrialRow.id))
        found = (await session.exec(by_key.where(TrialKeyRow.key == key))).first()
    return found or row


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


@dataclass(frozen=True)
class StoredTrial:
    """A stored trial as the layers above read it: the record of one version, the verdict it
    was stored with, the facts stored with that version (None when not derived yet), and the
    field changes that version brought (none for a first version, or when not asked)."""

    trial: Trial
    verdict: Classification
    changes: tuple[FieldChange, ...] = ()
    facts: DerivedFacts | None = None
    publications: tuple[Publication, ...] | None = None
    """The trial's stored publications; None when the caller did not load them."""
    looked: bool = False
    """Whether a look for its publications has finished (storage/publications.py)."""

    @property
    def known(self) -> KnownSoFar | None:
        """What is known of its results (None when publications were not loaded: a reader
        is then told nothing about results rather than something unchecked)."""
        if self.publications is None:
            return None
        return known_of(self.trial, self.publications, looked=self.looked)


def known_of(trial: Trial, publications: Sequence[Publication], *, looked: bool) -> KnownSoFar:
    """`looked`: whether the trial's publications have been looked for yet (before that only
    the registry's own results flag is known, and R8 says only that)."""
    registry = trial.has_results or trial.dates.results_first_posted is not None
    return KnownSoFar(registry_results=registry, publications=tuple(publications), looked=looked)


async def with_publications(
    session: AsyncSession, found: Sequence[tuple[int, StoredTrial]]
) -> list[StoredTrial]:
    """The stored trials (with their trial ids) with their publications loaded, and whether
    each has been looked for yet: one query for all."""
    ids = [trial_id for trial_id, _ in found]
    papers = await stored_publications.of_trials(session, ids)
    looked = await stored_publications.looked(session, ids)
    return [
        replace(stored, publications=papers.get(trial_id, ()), looked=trial_id in looked)
        for trial_id, stored in found
    ]


def field_change(row: TrialChangeRow) -> FieldChange:
    return FieldChange(
        field=row.field, kind=row.kind, notable=row.notable, old=row.old, new=row.new
    )


def stored_facts(version: TrialVersionRow) -> DerivedFacts | None:
    if version.facts is None or version.facts_version is None:
        return None
    try:
        return DerivedFacts(TrialFacts.from_json(version.facts), version.facts_version)
    except ValueError:  # written by rules whose shape has since changed: re-derived later
        return None


def stored_trial(
    row: TrialRow, version: TrialVersionRow, changes: Iterable[TrialChangeRow] = ()
) -> StoredTrial:
    """The one way a stored trial is rebuilt for rendering and matching."""
    return StoredTrial(
        Trial.model_validate(version.snapshot),
        Classification.from_json(row.classification),
        tuple(field_change(c) for c in changes),
        stored_facts(version),
    )


def _current_version_join() -> Any:
    return (col(TrialVersionRow.trial_id) == col(TrialRow.id)) & (
        col(TrialVersionRow.version) == col(TrialRow.current_version)
    )


async def current_trials(session: AsyncSession, *, relevant_only: bool = True) -> list[StoredTrial]:
    """Each trial as its current version describes it, for matching and listing: without its
    publications (`find_current_trial` loads them for a trial shown in full)."""
    query = select(TrialRow, TrialVersionRow).join(TrialVersionRow, _current_version_join())
    if relevant_only:
        query = query.where(col(TrialRow.relevant).is_(True))
    rows = await session.exec(query.order_by(col(TrialRow.id)))
    return [stored_trial(row, version) for row, version in rows.all()]


async def find_current_trial(session: AsyncSession, ident: str) -> StoredTrial | None:
    """The current version of the trial known under this id (any of its records' ids)."""
    row = await find_trial(session, ident)
    if row is None:
        return None
    query = select(TrialVersionRow).where(
        TrialVersionRow.trial_id == row.id, TrialVersionRow.version == row.current_version
    )
    version = (await session.exec(query)).first()
    if version is None or row.id is None:
        return None
    [stored] = await with_publications(session, [(row.id, stored_trial(row, version))])
    return stored


async def current_trial_by_id(session: AsyncSession, trial_id: int) -> StoredTrial | None:
    """The current version of a stored trial, with its publications (None when it is gone or
    was merged into another)."""
    row = await session.get(TrialRow, trial_id)
    if row is None or row.merged_into is not None:
        return None
    query = select(TrialVersionRow).where(
        TrialVersionRow.trial_id == trial_id, TrialVersionRow.version == row.current_version
    )
    version = (await session.exec(query)).first()
    if version is None:
        return None
    [stored] = await with_publications(session, [(trial_id, stored_trial(row, version))])
    return stored


async def versions_with_stale_facts(
    session: AsyncSession, facts_version: int, *, limit: int = 500
) -> list[TrialVersionRow]:
    """Current versions whose facts were never derived or were derived by older rules."""
    query = (
        select(TrialVersionRow)
        .join(TrialRow, _current_version_join())
        .where(
            col(TrialVersionRow.facts_version).is_(None)
            | (col(TrialVersionRow.facts_version) != facts_version)
        )
        .order_by(col(TrialVersionRow.id))
        .limit(limit)
    )
    return list((await session.exec(query)).all())


def set_facts(version: TrialVersionRow, derived: DerivedFacts) -> None:
    version.facts = derived.facts.to_json()
    version.facts_version = derived.version


# --- registry records of a trial (see jobs/merge.py) ----------------------------------------


def new_source(
    trial_id: int, seen: Observation, keys: Sequence[str], now: datetime
) -> TrialSourceRow:
    source = TrialSourceRow(
        trial_id=trial_id,
        registry_name=seen.trial.registry,
        registry_id=seen.trial.registry_id,
        fingerprint=seen.fingerprint,
        snapshot=seen.snapshot,
        link_keys=list(keys),
        first_seen_at=now,
    )
    update_source(source, seen, keys, now)
    return source


def update_source(
    source: TrialSourceRow, seen: Observation, keys: Sequence[str], now: datetime
) -> None:
    """Store what the record says now (or just that it was seen, when nothing moved)."""
    source.registry_id = seen.trial.registry_id
    source.url = seen.trial.url[:500]
    source.fingerprint = seen.fingerprint
    source.snapshot = seen.snapshot
    source.last_update = seen.trial.last_update
    source.relevant = seen.verdict.relevant
    source.link_keys = sorted(keys)
    source.last_seen_at = now
    source.last_fetched_at = now


async def get_sources(
    session: AsyncSession, registry: str, registry_ids: Iterable[str], *, for_update: bool = False
) -> dict[str, TrialSourceRow]:
    ids = list(registry_ids)
    if not ids:
        return {}
    query = select(TrialSourceRow).where(
        TrialSourceRow.registry_name == registry, col(TrialSourceRow.registry_id).in_(ids)
    )
    if for_update:
        query = query.with_for_update()
    return {row.registry_id: row for row in (await session.exec(query)).all()}


async def sources_of(
    session: AsyncSession, trial_ids: Iterable[int]
) -> dict[int, list[TrialSourceRow]]:
    """Each trial's records, oldest first (the order that breaks ties between registries)."""
    ids = sorted(set(trial_ids))
    found: dict[int, list[TrialSourceRow]] = {i: [] for i in ids}
    if not ids:
        return found
    query = (
        select(TrialSourceRow)
        .where(col(TrialSourceRow.trial_id).in_(ids))
        .order_by(col(TrialSourceRow.first_seen_at), col(TrialSourceRow.id))
    )
    for row in (await session.exec(query)).all():
        found[row.trial_id].append(row)
    return found


async def get_trials_by_id(
    session: AsyncSession, ids: Iterable[int], *, for_update: bool = False
) -> dict[int, TrialRow]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    query = select(TrialRow).where(col(TrialRow.id).in_(wanted)).order_by(col(TrialRow.id))
    if for_update:  # in id order, so two writers lock shared trials in the same order
        query = query.with_for_update()
    return {row.id: row for row in (await session.exec(query)).all() if row.id is not None}


async def key_owners(session: AsyncSession, keys: Iterable[str]) -> dict[str, int]:
    """Which trial each of these registry ids belongs to (ids no trial claims are left out)."""
    wanted = sorted(set(keys))
    owners: dict[str, int] = {}
    for start in range(0, len(wanted), 500):
        query = select(TrialKeyRow).where(col(TrialKeyRow.key).in_(wanted[start : start + 500]))
        owners.update((row.key, row.trial_id) for row in (await session.exec(query)).all())
    return owners


async def claim_keys_many(
    session: AsyncSession, claims: Sequence[tuple[int, Iterable[str]]]
) -> None:
    """Register ids for trials; an id another trial already holds stays with that trial (and
    within `claims`, the first claim wins)."""
    chosen: dict[str, int] = {}
    for trial_id, keys in claims:
        for key in keys:
            chosen.setdefault(key[:80], trial_id)
    values = [{"key": k, "trial_id": t} for k, t in sorted(chosen.items())]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    for start in range(0, len(values), 500):
        statement = insert(TrialKeyRow).values(values[start : start + 500])
        await session.exec(statement.on_conflict_do_nothing())


async def absorb(session: AsyncSession, keeper_id: int, absorbed: TrialRow) -> None:
    """`absorbed` turned out to be trial `keeper_id` registered elsewhere: hand over its records
    and ids.

    Its versions, changes and sent alerts stay with it as history; it stops being listed.
    """
    assert absorbed.id is not None
    await session.exec(
        update(TrialSourceRow)
        .where(col(TrialSourceRow.trial_id) == absorbed.id)
        .values(trial_id=keeper_id)
    )
    await session.exec(
        update(TrialKeyRow)
        .where(col(TrialKeyRow.trial_id) == absorbed.id)
        .values(trial_id=keeper_id)
    )
    absorbed.merged_into = keeper_id
    absorbed.relevant = False
    absorbed.registry_id = f"{absorbed.registry_id}@merged{keeper_id}"[:64]
    session.add(absorbed)


async def record_sources(session: AsyncSession, row: TrialRow) -> list[TrialSourceRow]:
    return (await sources_of(session, [row.id] if row.id is not None else []))[row.id or 0]
