"""Publications per trial, and when each trial's are next looked for.

`record` stores what a check found and says which publications became results papers just
now: those, and only those, get a "Results are out" alert, queued in the same transaction
(storage/outbox.enqueue_results), so a crash neither loses nor doubles one. A publication
already stored is updated when a later look knows more (PubMed indexed it, the registry
re-typed it); its kind may move, but `results_since` is set once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import PublicationCheckRow, PublicationRow, TrialRow, utcnow
from trialbot.publications import FoundBy, Kind, Publication, Reason

MAX_ERROR = 500


def publication_of(row: PublicationRow) -> Publication:
    kind: Kind = row.kind  # type: ignore[assignment]
    reason: Reason = row.reason  # type: ignore[assignment]
    found_by: FoundBy = row.found_by  # type: ignore[assignment]
    return Publication(
        kind=kind,
        reason=reason,
        found_by=found_by,
        pmid=row.pmid,
        doi=row.doi,
        url=row.url,
        title=row.title,
        journal=row.journal,
        published=row.published,
        registry_type=row.registry_type,
        citation=row.citation,
    )


@dataclass(frozen=True)
class NewResults:
    """A publication that became a results paper in this `record` call."""

    publication_id: int
    publication: Publication


async def of_trials(
    session: AsyncSession, trial_ids: Iterable[int]
) -> dict[int, tuple[Publication, ...]]:
    """Every stored publication of the given trials, in the order they were first seen."""
    ids = sorted(set(trial_ids))
    if not ids:
        return {}
    rows = (
        await session.exec(
            select(PublicationRow)
            .where(col(PublicationRow.trial_id).in_(ids))
            .order_by(col(PublicationRow.id))
        )
    ).all()
    found: dict[int, list[Publication]] = {}
    for row in rows:
        found.setdefault(row.trial_id, []).append(publication_of(row))
    return {trial_id: tuple(found.get(trial_id, ())) for trial_id in ids}


async def looked(session: AsyncSession, trial_ids: Iterable[int]) -> set[int]:
    """The trials among these whose publications have been looked for at least once."""
    ids = sorted(set(trial_ids))
    if not ids:
        return set()
    rows = await session.exec(
        select(PublicationCheckRow.trial_id)
        .where(col(PublicationCheckRow.trial_id).in_(ids))
        .where(col(PublicationCheckRow.last_checked_at).is_not(None))
    )
    return set(rows.all())


async def get(session: AsyncSession, publication_id: int) -> PublicationRow | None:
    return await session.get(PublicationRow, publication_id)


def _apply(row: PublicationRow, pub: Publication, now: datetime) -> bool:
    """Copy what `pub` knows onto `row`; True when anything moved. A field the new look does
    not know keeps what an earlier look found (PubMed off now, on before)."""
    moved = False
    for name in (
        "pmid",
        "doi",
        "url",
        "title",
        "journal",
        "published",
        "registry_type",
        "citation",
    ):
        value = getattr(pub, name)
        if value is not None and getattr(row, name) != value:
            setattr(row, name, value)
            moved = True
    if (row.kind, row.reason) != (pub.kind, pub.reason) and _knows_more(row, pub):
        row.kind, row.reason = pub.kind, pub.reason
        moved = True
    if row.found_by == "pubmed_tiab" and pub.found_by != "pubmed_tiab":
        row.found_by = pub.found_by  # the stronger link wins: listed, or in the databank field
        moved = True
    if moved:
        row.updated_at = now
    return moved


def _knows_more(row: PublicationRow, pub: Publication) -> bool:
    """A later verdict replaces an earlier one unless it is the weaker "no evidence" one
    (PubMed unreachable or off this time: what was known stays)."""
    return pub.reason != "no_evidence" or row.reason == "no_evidence"


async def record(
    session: AsyncSession,
    trial_id: int,
    found: Sequence[Publication],
    pubtypes: dict[str, tuple[str, ...]] | None = None,
    now: datetime | None = None,
) -> list[NewResults]:
    """Store what one check found for a trial; the publications that are results papers
    for the first time are returned (their alerts are the caller's, in this transaction)."""
    now = now or utcnow()
    pubtypes = pubtypes or {}
    existing = {
        row.key: row
        for row in (
            await session.exec(select(PublicationRow).where(PublicationRow.trial_id == trial_id))
        ).all()
    }
    fresh: list[PublicationRow] = []
    for pub in _once(found):
        row = existing.get(pub.key)
        if row is None:
            row = PublicationRow(
                trial_id=trial_id,
                key=pub.key[:300],
                kind=pub.kind,
                reason=pub.reason,
                found_by=pub.found_by,
                first_seen_at=now,
                updated_at=now,
            )
            _apply(row, pub, now)
            session.add(row)
            existing[pub.key] = row
        else:
            _apply(row, pub, now)
        types = pubtypes.get(pub.key)
        if types is not None and list(types) != list(row.pubtypes):
            row.pubtypes = list(types)
        if row.kind == "results" and row.results_since is None:
            row.results_since = now
            fresh.append(row)
    await session.flush()
    return [NewResults(row.id, publication_of(row)) for row in fresh if row.id is not None]


def _once(found: Sequence[Publication]) -> list[Publication]:
    """One entry per key: the first one that is a results paper, else the first."""
    chosen: dict[str, Publication] = {}
    for pub in found:
        held = chosen.get(pub.key)
        if held is None or (pub.is_results and not held.is_results):
            chosen[pub.key] = pub
    return list(chosen.values())


# --- when each trial is looked at -----------------------------------------------------------


async def ensure_scheduled(
    session: AsyncSession, now: datetime, spread: timedelta, *, limit: int = 1_000
) -> int:
    """Give every relevant trial without a check row one, due somewhere in the next `spread`
    (by its id, so a thousand trials stored at once are not all looked at in one hour)."""
    rows = (
        await session.exec(
            select(TrialRow.id)
            .outerjoin(PublicationCheckRow, col(PublicationCheckRow.trial_id) == col(TrialRow.id))
            .where(TrialRow.relevant, col(TrialRow.merged_into).is_(None))
            .where(col(PublicationCheckRow.trial_id).is_(None))
            .limit(limit)
        )
    ).all()
    for trial_id in rows:
        if trial_id is not None:
            session.add(
                PublicationCheckRow(trial_id=trial_id, due_at=now + spread_offset(trial_id, spread))
            )
    await session.flush()
    return len(rows)


def spread_offset(trial_id: int, spread: timedelta) -> timedelta:
    """A fixed place for a trial within `spread` (a multiplicative hash of its id)."""
    seconds = max(int(spread.total_seconds()), 1)
    return timedelta(seconds=(trial_id * 2_654_435_761) % seconds)


async def never_checked(session: AsyncSession, trial_id: int) -> bool:
    """No look at this trial has finished yet (its first look is a baseline)."""
    row = await session.get(PublicationCheckRow, trial_id)
    return row is None or row.last_checked_at is None


async def due(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    """The trials whose look is due, most overdue first."""
    rows = (
        await session.exec(
            select(PublicationCheckRow.trial_id)
            .join(TrialRow, col(TrialRow.id) == PublicationCheckRow.trial_id)
            .where(col(PublicationCheckRow.due_at) <= now)
            .where(TrialRow.relevant, col(TrialRow.merged_into).is_(None))
            .order_by(col(PublicationCheckRow.due_at))
            .limit(limit)
        )
    ).all()
    return list(rows)


async def soon(session: AsyncSession, trial_ids: Iterable[int], when: datetime) -> None:
    """Bring the look at these trials forward to `when` (their status has just become
    completed or terminated, or their registry record lists something new)."""
    for trial_id in set(trial_ids):
        row = await session.get(PublicationCheckRow, trial_id)
        if row is None:
            session.add(PublicationCheckRow(trial_id=trial_id, due_at=when))
        elif row.due_at > when:
            row.due_at = when
    await session.flush()


async def checked(
    session: AsyncSession,
    trial_id: int,
    now: datetime,
    next_due: datetime,
    error: str | None = None,
) -> None:
    """Record how a look went and when the next one is due."""
    row = await session.get(PublicationCheckRow, trial_id)
    if row is None:
        row = PublicationCheckRow(trial_id=trial_id, due_at=next_due)
        session.add(row)
    row.due_at = next_due
    row.last_checked_at = now
    row.last_error = error[:MAX_ERROR] if error else None
    row.failures = row.failures + 1 if error else 0
    await session.flush()


@dataclass(frozen=True)
class CheckStats:
    """How the looks stand, for /healthz, /metrics and `trialbot doctor`."""

    trials_scheduled: int
    overdue: int
    failing: int
    last_checked_at: datetime | None
    publications: dict[str, int]


async def stats(session: AsyncSession, now: datetime, late: timedelta) -> CheckStats:
    """`overdue`: looks due for longer than `late` (the job is not keeping up)."""
    scheduled = (await session.exec(select(func.count()).select_from(PublicationCheckRow))).one()
    overdue = (
        await session.exec(
            select(func.count())
            .select_from(PublicationCheckRow)
            .where(col(PublicationCheckRow.due_at) < now - late)
        )
    ).one()
    failing = (
        await session.exec(
            select(func.count())
            .select_from(PublicationCheckRow)
            .where(col(PublicationCheckRow.failures) > 0)
        )
    ).one()
    last = (await session.exec(select(func.max(PublicationCheckRow.last_checked_at)))).one()
    kinds = (
        await session.exec(
            select(PublicationRow.kind, func.count()).group_by(col(PublicationRow.kind))
        )
    ).all()
    return CheckStats(
        trials_scheduled=int(scheduled),
        overdue=int(overdue),
        failing=int(failing),
        last_checked_at=last,
        publications={kind: int(n) for kind, n in kinds},
    )
