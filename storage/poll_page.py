"""What linking one poll page reads and writes: all it reads in one step, all it writes in another.

In between, jobs/linking.py decides in memory which trial each record belongs to, so a page
costs the same few statements however its records link up. The reads lock what the writes will
change (db.write(): BEGIN IMMEDIATE on SQLite; FOR UPDATE on PostgreSQL, trials in id order).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import tuple_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import trials
from storage.tables import TrialRow, TrialSourceRow, TrialVersionRow
from storage.trials import Observation
from trialbot.model import FieldChange


@dataclass
class Stored:
    """What is stored about a page's records and every trial they may belong to."""

    sources: dict[str, TrialSourceRow] = field(default_factory=dict)
    """This registry's stored records of the page, by the id or alias the page knows them by."""
    owners: dict[str, int] = field(default_factory=dict)
    """Each key of the page's records that a trial holds, and that trial."""
    trials: dict[int, TrialRow] = field(default_factory=dict)
    """Every trial that holds one of those records or keys, locked for the write."""
    records: list[TrialSourceRow] = field(default_factory=list)
    """All records of those trials, oldest first (the order that breaks ties between
    registries); each one the page did not fetch comes with its stored snapshot."""


async def load(
    session: AsyncSession, registry: str, ids: Collection[str], keys: Collection[str]
) -> Stored:
    """Everything linking a page needs: `ids` are the registry ids and aliases of its records,
    `keys` every key they can be found under."""
    sources = await trials.get_sources(session, registry, ids, for_update=True)
    owners = await trials.key_owners(session, keys)
    involved = {*owners.values(), *(s.trial_id for s in sources.values())}
    rows = await trials.get_trials_by_id(session, involved, for_update=True)
    others = await _records_of(session, rows, besides={s.id for s in sources.values()})
    records = sorted([*sources.values(), *others], key=lambda s: (s.first_seen_at, s.id or 0))
    return Stored(sources, owners, rows, records)


async def _records_of(
    session: AsyncSession, trial_ids: Iterable[int], *, besides: Collection[int | None]
) -> list[TrialSourceRow]:
    """The trials' records other than `besides` (those the page fetched again, already read)."""
    wanted = sorted(set(trial_ids))
    if not wanted:
        return []
    query = select(TrialSourceRow).where(col(TrialSourceRow.trial_id).in_(wanted))
    if skip := sorted(i for i in besides if i is not None):
        query = query.where(col(TrialSourceRow.id).not_in(skip))
    return list((await session.exec(query)).all())


async def current_snapshots(
    session: AsyncSession, rows: Iterable[TrialRow]
) -> dict[int, dict[str, Any]]:
    """The snapshot of each trial's current version, by trial id: one read for all the trials
    a page changed, to diff against."""
    wanted = sorted((row.id, row.current_version) for row in rows if row.id is not None)
    if not wanted:
        return {}
    version = tuple_(col(TrialVersionRow.trial_id), col(TrialVersionRow.version))
    query = select(TrialVersionRow.trial_id, TrialVersionRow.snapshot).where(version.in_(wanted))
    return {i: dict(snapshot) for i, snapshot in (await session.exec(query)).all()}


@dataclass
class PageWrite:
    """Everything a page stores, decided before the first write. A trial the page creates is
    named by a negative number (its place in `new_trials`) until it has an id."""

    new_trials: list[tuple[int, Observation]] = field(default_factory=list)
    """Trials seen for the first time, each with its version 1."""
    merges: list[tuple[int, TrialRow]] = field(default_factory=list)
    """(keeper, absorbed): a stored trial that turned out to be trial `keeper`, in the order
    found."""
    seen_sources: list[tuple[TrialSourceRow, Observation, Sequence[str]]] = field(
        default_factory=list
    )
    """Stored records fetched again, with what they say now and their keys."""
    new_sources: list[tuple[int, Observation, Sequence[str]]] = field(default_factory=list)
    """Records new to us: the trial each belongs to, what it says and its keys."""
    claims: Mapping[str, int] = field(default_factory=dict)
    """Keys no trial held, and the trial each now belongs to."""
    seen_trials: list[tuple[TrialRow, Observation]] = field(default_factory=list)
    """Stored trials whose merged view did not move."""
    moved_trials: list[tuple[TrialRow, Observation, Sequence[FieldChange]]] = field(
        default_factory=list
    )
    """Stored trials whose merged view moved, with the changes."""


@dataclass
class Written:
    """The ids a page's write gave out."""

    trial_ids: dict[int, int]
    """The id each new trial got, by its negative number."""
    first_versions: dict[int, int]
    """The id of each new trial's version 1, by its negative number."""
    versions: list[TrialVersionRow]
    """The new version of each of `moved_trials`, in that order."""


async def write(session: AsyncSession, page: PageWrite, *, now: datetime) -> Written:
    """Store a page: new trials in one batch, then merges, records, keys and versions."""
    created = await trials.create_trials(session, [seen for _, seen in page.new_trials], now=now)
    ids = {ref: row.id for (ref, _), (row, _) in zip(page.new_trials, created, strict=True)}
    first = {ref: v.id for (ref, _), (_, v) in zip(page.new_trials, created, strict=True)}

    def real(ref: int) -> int:
        found = ids.get(ref, ref)
        assert found is not None and found > 0, f"trial {ref} was not created"
        return found

    for keeper, absorbed in page.merges:
        await trials.absorb(session, real(keeper), absorbed)
    for source, seen, keys in page.seen_sources:
        trials.update_source(source, seen, keys, now)
    session.add_all(
        trials.new_source(real(ref), seen, keys, now) for ref, seen, keys in page.new_sources
    )
    await session.flush()  # merged trials give up their ids before a keeper takes one of them
    await trials.claim_keys_many(session, [(real(ref), [k]) for k, ref in page.claims.items()])
    for row, seen in page.seen_trials:
        trials.touch(row, seen, now=now)
        session.add(row)
    for row, seen in [*page.seen_trials, *((row, seen) for row, seen, _ in page.moved_trials)]:
        # a trial goes by the id of its primary record, which a new record may have replaced
        row.registry_name, row.registry_id = seen.trial.registry, seen.trial.registry_id
    versions = await trials.add_versions(session, page.moved_trials, now=now)
    return Written(
        {ref: real(ref) for ref in ids},
        {ref: i for ref, i in first.items() if i is not None},
        versions,
    )
