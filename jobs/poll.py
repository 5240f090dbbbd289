"""One poll of one registry: fetch what changed, classify it, store new versions and diffs.

Each page of records is stored in its own write transaction, so a registry that dies on page
3 leaves pages 1-2 stored and everything older untouched. The watermark moves only after the
whole query succeeded; the next poll re-reads from the old watermark (minus an overlap), and
records already stored come back as "unchanged", so nothing falls into a gap.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from jobs.changes import diff
from jobs.classify import CLASSIFIER_VERSION, Classification, classify
from jobs.fanout import StoredChange, alerts_for
from jobs.match import gazetteer_geocoder
from jobs.registries.base import RawRecord, RecordError, Registry, RegistryError
from storage import chats, outbox, poll_state
from storage import trials as store
from storage.db import Database
from storage.tables import utcnow
from trialbot import metrics
from trialbot.model import FieldChange, Trial

log = logging.getLogger(__name__)

OVERLAP = timedelta(days=2)
"""Re-read this far behind the watermark: post dates are day-precise and posting can lag."""


@dataclass
class TrialChanges:
    uid: str
    title: str
    version: int
    changes: list[FieldChange]


@dataclass
class PollReport:
    registry: str
    mode: str = "incremental"
    skipped: bool = False
    fetched: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    rejected: int = 0
    errors: int = 0
    missing: int = 0
    requests: int = 0
    bytes_received: int = 0
    seconds: float = 0.0
    error: str | None = None
    alerts_queued: int = 0
    new_ids: list[str] = field(default_factory=list)
    changed_trials: list[TrialChanges] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None

    def counts(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "skipped": self.skipped,
            "fetched": self.fetched,
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "errors": self.errors,
            "missing": self.missing,
            "alerts_queued": self.alerts_queued,
            "requests": self.requests,
            "bytes": self.bytes_received,
            "seconds": round(self.seconds, 3),
        }


def verdict_of(result: Classification) -> store.Verdict:
    details = result.to_json()
    details["classifier_version"] = CLASSIFIER_VERSION
    return store.Verdict(
        tier=result.tier, buckets=result.buckets, relevant=result.relevant, details=details
    )


def _data_date(version: str | None) -> date | None:
    """The day of a registry data snapshot, e.g. CT.gov's `2026-09-04T09:00:06`."""
    if not version:
        return None
    try:
        return datetime.fromisoformat(version[:19]).date()
    except ValueError:
        return None


def normalise_page(
    registry: Registry, page: list[RawRecord], report: PollReport
) -> list[tuple[Trial, Classification]]:
    """Normalise and classify; a bad record is logged, counted and skipped."""
    items: dict[str, tuple[Trial, Classification]] = {}
    for raw in page:
        report.fetched += 1
        try:
            trial = registry.normalise(raw)
        except RecordError as exc:
            report.errors += 1
            log.warning("skipped a %s record: %s", registry.name, exc)
            continue
        except Exception:  # a parser bug must not abort the poll
            report.errors += 1
            log.exception("skipped a %s record: normaliser failed", registry.name)
            continue
        items[trial.registry_id] = (trial, classify(trial))
    return list(items.values())


async def store_page(
    db: Database,
    registry_name: str,
    items: list[tuple[Trial, Classification]],
    report: PollReport,
    now: datetime,
    *,
    announce_new: bool = True,
) -> None:
    """Store one page atomically: new trials, new versions with diffs, or a touch, and
    queue the alerts they cause in the same transaction.

    `announce_new=False` (the very first backfill) stores new trials without alerting: on a
    fresh database every trial is "new" to us but not to the world.
    """
    if not items:
        return
    pending = PollReport(registry=registry_name)
    async with db.write() as session:
        wanted = [t.registry_id for t, _ in items] + [a for t, _ in items for a in t.aliases]
        rows = await store.get_trials(session, registry_name, wanted, for_update=True)
        fresh: list[store.Observation] = []
        verdicts: dict[str, Classification] = {}
        stored: list[StoredChange] = []
        for trial, result in items:
            seen = store.Observation.of(trial, verdict_of(result))
            verdicts[trial.registry_id] = result
            row = rows.get(trial.registry_id)
            if row is None:
                row = next((rows[a] for a in trial.aliases if a in rows), None)
                if row is not None:
                    # The registry merged records: the stored id is now an alias.
                    log.info("%s is now %s; re-keyed", row.registry_id, trial.registry_id)
                    row.registry_id = trial.registry_id
            if row is None:
                if result.relevant:
                    fresh.append(seen)
                    pending.new_ids.append(trial.uid)
                else:
                    pending.rejected += 1
            elif row.fingerprint == seen.fingerprint:
                store.touch(row, seen, now=now)
                session.add(row)
                pending.unchanged += 1
            else:
                old = await store.current_snapshot(session, row)
                changes = diff(old, seen.snapshot)
                version = await store.add_version(session, row, seen, changes, now=now)
                assert row.id is not None and version.id is not None
                stored.append(
                    StoredChange(
                        trial,
                        result,
                        row.id,
                        version.id,
                        "change",
                        tuple(changes),
                        previous=Trial.model_validate(old),
                    )
                )
                pending.changed += 1
                pending.changed_trials.append(
                    TrialChanges(trial.uid, trial.title, version.version, changes)
                )
        if fresh:
            for row, version in await store.insert_trials(session, fresh, now=now):
                assert row.id is not None and version.id is not None
                if announce_new:
                    trial = next(s.trial for s in fresh if s.trial.registry_id == row.registry_id)
                    stored.append(
                        StoredChange(trial, verdicts[row.registry_id], row.id, version.id, "new")
                    )
            pending.new = len(fresh)
        if any(s.worth_telling for s in stored):
            subscriptions = await chats.active_subscription_values(session)
            alerts = alerts_for(stored, subscriptions, gazetteer_geocoder)
            pending.alerts_queued = await outbox.enqueue(session, alerts, now)
    # Only count what was committed.
    report.new += pending.new
    report.unchanged += pending.unchanged
    report.changed += pending.changed
    report.rejected += pending.rejected
    report.alerts_queued += pending.alerts_queued
    report.new_ids += pending.new_ids
    report.changed_trials += pending.changed_trials


async def _consume(
    db: Database,
    registry: Registry,
    pages: AsyncIterator[list[RawRecord]],
    report: PollReport,
    now: datetime,
    *,
    announce_new: bool,
) -> None:
    async for page in pages:
        items = normalise_page(registry, page, report)
        await store_page(db, registry.name, items, report, now, announce_new=announce_new)


async def _finish(
    db: Database, registry: Registry, report: PollReport, started: float, before: Any
) -> None:
    stats = registry.stats
    report.requests = stats.requests - before.requests
    report.bytes_received = stats.bytes_received - before.bytes_received
    report.seconds = time.monotonic() - started


async def _record_failure(db: Database, registry: str, reason: str) -> None:
    try:
        async with db.write() as session:
            await poll_state.record_failure(session, registry, reason)
    except Exception:
        log.exception("could not record the failed %s poll", registry)


async def poll(db: Database, registry: Registry, *, now: datetime | None = None) -> PollReport:
    """Fetch what changed since the stored watermark (everything on the first run)."""
    now = now or utcnow()
    report = PollReport(registry=registry.name)
    started, before = time.monotonic(), registry.stats
    try:
        async with db.write() as session:
            await poll_state.record_attempt(session, registry.name, now)
            state = await poll_state.get(session, registry.name)
            watermark, known_version = state.watermark, state.data_version
        version = await registry.data_version()
        if version is not None and version == known_version and watermark is not None:
            report.skipped = True
            report.mode = "skipped"
        else:
            since = watermark - OVERLAP if watermark else None
            report.mode = "incremental" if since else "backfill"
            await _consume(
                db, registry, registry.changed_since(since), report, now, announce_new=bool(since)
            )
        await _finish(db, registry, report, started, before)
        async with db.write() as session:
            await poll_state.record_success(
                session,
                registry.name,
                watermark=_data_date(version) or now.date(),
                data_version=version,
                counts=report.counts(),
                now=now,
            )
    except RegistryError as exc:
        report.error = str(exc)
        log.warning("%s poll failed: %s", registry.name, exc)
    except Exception as exc:  # database trouble (disk full, connection lost) included
        report.error = f"{type(exc).__name__}: {exc}"
        log.exception("%s poll failed", registry.name)
    if report.error is not None:
        await _finish(db, registry, report, started, before)
        await _record_failure(db, registry.name, report.error)
    _count(report, now)
    return report


def _count(report: PollReport, now: datetime) -> None:
    outcome = "failed" if report.error else ("skipped" if report.skipped else "ok")
    metrics.POLLS.labels(report.registry, report.mode, outcome).inc()
    metrics.RECORDS_FETCHED.labels(report.registry).inc(report.fetched)
    metrics.CHANGES.labels(report.registry, "new").inc(report.new)
    metrics.CHANGES.labels(report.registry, "changed").inc(report.changed)
    metrics.ALERTS_QUEUED.inc(report.alerts_queued)
    if report.error is None and report.mode != "refresh":
        metrics.LAST_POLL_SUCCESS.labels(report.registry).set(now.timestamp())


async def refresh(
    db: Database,
    registry: Registry,
    *,
    older_than: timedelta,
    batch_size: int = 100,
    now: datetime | None = None,
) -> PollReport:
    """Re-fetch stored trials by id and diff them the same way.

    Some real changes never move the registry's "last update" date (CT.gov flips a stale
    record to UNKNOWN on its own), so the incremental poll alone would miss them.
    """
    now = now or utcnow()
    report = PollReport(registry=registry.name, mode="refresh")
    started, before = time.monotonic(), registry.stats
    try:
        async with db.read() as session:
            ids = await store.ids_due_for_refresh(session, registry.name, now - older_than)
        seen: set[str] = set()
        for start in range(0, len(ids), batch_size):
            batch = ids[start : start + batch_size]
            async for page in registry.fetch_ids(batch):
                items = normalise_page(registry, page, report)
                seen.update(t.registry_id for t, _ in items)
                seen.update(a for t, _ in items for a in t.aliases)
                await store_page(db, registry.name, items, report, now)
        gone = [i for i in ids if i not in seen]
        report.missing = len(gone)
        if gone:
            log.warning(
                "%s: %d stored trials not returned: %s", registry.name, len(gone), gone[:20]
            )
        await _finish(db, registry, report, started, before)
        async with db.write() as session:
            await poll_state.record_refresh(session, registry.name, now)
    except RegistryError as exc:
        report.error = str(exc)
        log.warning("%s refresh failed: %s", registry.name, exc)
    except Exception as exc:
        report.error = f"{type(exc).__name__}: {exc}"
        log.exception("%s refresh failed", registry.name)
    if report.error is not None:
        await _finish(db, registry, report, started, before)
        await _record_failure(db, registry.name, f"refresh: {report.error}")
    _count(report, now)
    return report
