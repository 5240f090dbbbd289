"""One poll of one registry: fetch what changed, classify it, store new versions and diffs.

Each page of records is stored in its own write transaction, so a registry that dies on page
3 leaves pages 1-2 stored and everything older untouched. The watermark moves only after the
whole query succeeded; the next poll re-reads from the old watermark (minus an overlap), and
records already stored come back as "unchanged", so nothing falls into a gap.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from jobs.changes import diff
from jobs.classify import CLASSIFIER_VERSION, Classification, classify
from jobs.fanout import StoredChange, alerts_for
from jobs.match import gazetteer_geocoder
from jobs.merge import merge, preference
from jobs.registries.base import RawRecord, RecordError, Registry, RegistryError
from storage import chats, outbox, poll_state
from storage import trials as store
from storage.db import Database
from storage.tables import TrialSourceRow, utcnow
from trialbot import metrics
from trialbot.identifiers import link_keys, record_registry
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
    matching: int | None = None
    """The registry's own count of what its search matches, all dates (`count_matching`)."""
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
            "matching": self.matching,
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


MAX_VERSION_LENGTH = 64
"""poll_state.data_version's column width."""


def storable_version(version: str | None) -> str | None:
    """A data version that fits its column: a long one keeps its start (where a date, if any,
    is) and ends in a hash of the whole, so two different versions never compare equal."""
    if version is None or len(version) <= MAX_VERSION_LENGTH:
        return version
    digest = hashlib.sha256(version.encode("utf-8")).hexdigest()[:20]
    return f"{version[: MAX_VERSION_LENGTH - 21]}#{digest}"


def _data_date(version: str | None) -> date | None:
    """The day of a registry data snapshot, e.g. CT.gov's `2026-09-04T09:00:06`."""
    if not version:
        return None
    try:
        return datetime.fromisoformat(version[:19]).date()
    except ValueError:
        return None


def _storable(trial: Trial) -> Trial:
    """Refuse what the tables cannot hold, as a bad record rather than a failed page."""
    if len(trial.registry_id) > 64:
        raise RecordError(f"id longer than 64 characters: {trial.registry_id[:40]!r}...")
    if trial.last_update is not None and len(trial.last_update) > 10:
        raise RecordError(f"{trial.registry_id}: last update {trial.last_update!r} is not a date")
    return trial


def normalise_page(
    registry: Registry, page: list[RawRecord], report: PollReport
) -> list[tuple[Trial, Classification]]:
    """Normalise and classify; a bad record is logged, counted and skipped."""
    items: dict[str, tuple[Trial, Classification]] = {}
    for raw in page:
        report.fetched += 1
        try:
            trial = _storable(registry.normalise(raw))
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
    """Store one page atomically: each record as a source of its trial (a new trial, or one
    it names or is named by), each touched trial's merged view as a new version with its diff
    when it moved, and the alerts they cause, all in one transaction.

    `announce_new=False` (the very first backfill) stores new trials without alerting: on a
    fresh database every trial is "new" to us but not to the world.
    """
    if not items:
        return
    pending = PollReport(registry=registry_name)
    async with db.write() as session:
        page = _Page(session, registry_name, now)
        await page.load(items)
        for trial, result in items:
            await page.observe(trial, result, pending)
        stored = await page.rebuild(pending, announce_new=announce_new)
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


@dataclass(frozen=True)
class _Fresh:
    """A record as this page fetched it, classified and hashed once."""

    trial: Trial
    result: Classification
    seen: store.Observation


class _Page:
    """One page's work inside its transaction: attach records to trials, then rebuild those.

    New trials are inserted together (one flush for the page, as ingesting thousands of records
    needs); until then they own their ids under a placeholder, so a later record of the same
    page that names one of them still finds it.

    Records of one registry are never merged with each other: a registry that holds a trial
    twice says so itself (CT.gov aliases), and two records of one registry naming the same
    outside id are related studies (a parent trial and its extension), not one trial.
    """

    def __init__(self, session: AsyncSession, registry: str, now: datetime) -> None:
        self.session, self.registry, self.now = session, registry, now
        self.sources: dict[str, TrialSourceRow] = {}
        self.owners: dict[str, int] = {}
        """Registry id -> trial id; negative: a trial of this page not inserted yet."""
        self.keys: dict[str, set[str]] = {}
        self.fresh: dict[tuple[str, str], _Fresh] = {}
        self.unborn: list[tuple[int, store.Observation]] = []
        self.placeholders = 0
        self.claims: list[tuple[int, set[str]]] = []
        self.touched: set[int] = set()
        self.created: dict[int, tuple[str, int]] = {}
        """Trial id -> (uid of the record that created it, id of its version 1)."""

    async def load(self, items: list[tuple[Trial, Classification]]) -> None:
        wanted = [t.registry_id for t, _ in items] + [a for t, _ in items for a in t.aliases]
        self.sources = await store.get_sources(self.session, self.registry, wanted, for_update=True)
        self.keys = {t.registry_id: link_keys(t) for t, _ in items}
        self.owners = await store.key_owners(self.session, set().union(*self.keys.values()))

    async def observe(self, trial: Trial, result: Classification, pending: PollReport) -> None:
        seen = store.Observation.of(trial, verdict_of(result))
        keys = self.keys[trial.registry_id]
        self.fresh[(trial.registry, trial.registry_id)] = _Fresh(trial, result, seen)
        source = self.sources.get(trial.registry_id)
        if source is None:
            source = next((self.sources[a] for a in trial.aliases if a in self.sources), None)
            if source is not None:
                # The registry merged records: the stored id is now an alias.
                log.info("%s is now %s; re-keyed", source.registry_id, trial.registry_id)
        if source is not None:
            if source.fingerprint == seen.fingerprint and set(source.link_keys) == keys:
                pending.unchanged += 1
            store.update_source(source, seen, sorted(keys), self.now)
            self.session.add(source)
            trial_id = await self._join(trial, keys, source.trial_id)
            assert trial_id is not None
        else:
            found = await self._join(trial, keys, None)
            if found is None:
                if not result.relevant:
                    pending.rejected += 1
                    return
                self.placeholders -= 1
                self.unborn.append((self.placeholders, seen))
                self.owners.update((k, self.placeholders) for k in keys if k not in self.owners)
                return
            trial_id = found
            source = store.new_source(trial_id, seen, sorted(keys), self.now)
            self.session.add(source)
            log.info("%s is another record of trial %d", trial.uid, trial_id)
        self.claims.append((trial_id, keys))
        self.owners.update((k, trial_id) for k in keys if k not in self.owners)
        self.touched.add(trial_id)

    async def _born(self) -> None:
        """Insert the page's new trials (one batch) and swap their placeholders for ids."""
        if not self.unborn:
            return
        created = await store.insert_trials(
            self.session, [seen for _, seen in self.unborn], now=self.now
        )
        real: dict[int, int] = {}
        for (placeholder, seen), (row, version) in zip(self.unborn, created, strict=True):
            assert row.id is not None and version.id is not None
            real[placeholder] = row.id
            self.created[row.id] = (seen.trial.uid, version.id)
            self.touched.add(row.id)
        self.owners = {k: real.get(v, v) for k, v in self.owners.items()}
        self.unborn = []

    async def _join(self, trial: Trial, keys: set[str], current: int | None) -> int | None:
        """The trial a record belongs to: `current` (where it is stored, if it is) or a stored
        trial it names or is named by. Several such trials are one: they are merged."""
        others = {self.owners[k] for k in keys if k in self.owners} - {current}
        if not others:
            return current
        if any(other < 0 for other in others):
            await self._born()
            others = {self.owners[k] for k in keys if k in self.owners} - {current}
        await self.session.flush()
        held = await store.sources_of(self.session, others, snapshots=False)
        mine = record_registry(trial.registry, trial.registry_id)
        candidates = {
            trial_id
            for trial_id, records in held.items()
            if not any(record_registry(r.registry_name, r.registry_id) == mine for r in records)
        }
        if current is not None:
            candidates.add(current)
        rows = await store.get_trials_by_id(self.session, candidates, for_update=True)
        live = [r for r in rows.values() if r.merged_into is None]
        if not live:
            return current
        keeper = min(live, key=lambda r: (preference(r.registry_name), r.id or 0))
        assert keeper.id is not None
        for other in live:
            if other is keeper:
                continue
            log.warning(
                "%s:%s and %s:%s are one trial (linked by %s); merged",
                keeper.registry_name,
                keeper.registry_id,
                other.registry_name,
                other.registry_id,
                trial.uid,
            )
            await store.absorb(self.session, keeper.id, other)
            self.owners = {k: keeper.id if v == other.id else v for k, v in self.owners.items()}
            self.touched.discard(other.id or 0)
            self.created.pop(other.id or 0, None)
        self.touched.add(keeper.id)
        return keeper.id

    async def rebuild(self, pending: PollReport, *, announce_new: bool) -> list[StoredChange]:
        """Merge each touched trial's records and store the result if it moved."""
        await self._born()
        await store.claim_keys_many(self.session, self.claims)
        await self.session.flush()
        stored: list[StoredChange] = []
        rows = await store.get_trials_by_id(self.session, self.touched, for_update=True)
        records = await store.sources_of(self.session, rows, snapshots=False)
        stale = [s.id for sources in records.values() for s in sources if not self._fresh(s)]
        snapshots = await store.source_snapshots(self.session, (i for i in stale if i))
        for trial_id, row in sorted(rows.items()):
            if not records[trial_id]:
                continue
            merged, result, seen = self._merged(records[trial_id], snapshots)
            row.registry_name, row.registry_id = merged.registry, merged.registry_id
            if trial_id in self.created:
                uid, version_id = self.created[trial_id]
                if row.fingerprint != seen.fingerprint:
                    await store.replace_first_version(self.session, row, seen)
                pending.new += 1
                pending.new_ids.append(uid)
                if announce_new:
                    stored.append(StoredChange(merged, result, trial_id, version_id, "new"))
            elif row.fingerprint == seen.fingerprint:
                store.touch(row, seen, now=self.now)
                self.session.add(row)
            else:
                old = await store.current_snapshot(self.session, row)
                changes = diff(old, seen.snapshot)
                version = await store.add_version(self.session, row, seen, changes, now=self.now)
                assert version.id is not None
                stored.append(
                    StoredChange(
                        merged,
                        result,
                        trial_id,
                        version.id,
                        "change",
                        tuple(changes),
                        previous=Trial.model_validate(old),
                    )
                )
                pending.changed += 1
                pending.changed_trials.append(
                    TrialChanges(merged.uid, merged.title, version.version, changes)
                )
        return stored

    def _fresh(self, source: TrialSourceRow) -> _Fresh | None:
        return self.fresh.get((source.registry_name, source.registry_id))

    def _merged(
        self, sources: list[TrialSourceRow], snapshots: dict[int, dict[str, Any]]
    ) -> tuple[Trial, Classification, store.Observation]:
        """The trial as all its records describe it, classified and hashed (reusing the work
        done on a record this page fetched when it is the trial's only one). `snapshots` holds
        the stored records this page did not fetch."""
        if len(sources) == 1 and (fresh := self._fresh(sources[0])) is not None:
            return fresh.trial, fresh.result, fresh.seen
        trials = []
        for source in sources:
            fresh = self._fresh(source)
            trials.append(fresh.trial if fresh else Trial.model_validate(snapshots[source.id or 0]))
        merged = merge(trials)
        result = classify(merged)
        return merged, result, store.Observation.of(merged, verdict_of(result))


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
        version = storable_version(await registry.data_version())
        if version is not None and version == known_version and watermark is not None:
            report.skipped = True
            report.mode = "skipped"
        else:
            since = watermark - OVERLAP if watermark else None
            report.mode = "incremental" if since else "backfill"
            await _consume(
                db, registry, registry.changed_since(since), report, now, announce_new=bool(since)
            )
            _check_format(registry.name, report)
            report.matching = await registry.count_matching()
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


UNREADABLE_SHARE = 0.5
"""More than this share of a poll's records failing to normalise means the registry changed its
format: the poll counts as failed (what could be read is kept), so /healthz and the admins hear
of it and the watermark stays put until the adapter is fixed."""


def _check_format(registry: str, report: PollReport) -> None:
    if report.fetched >= 4 and report.errors > report.fetched * UNREADABLE_SHARE:
        raise RegistryError(
            f"{registry}: {report.errors} of {report.fetched} records could not be read; "
            "has the registry changed its format?"
        )


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
        # A registry read by scanning a file answers any number of ids for one scan.
        batch_size = registry.ids_per_fetch or batch_size
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
