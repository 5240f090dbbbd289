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
from typing import Any, NamedTuple

from sqlmodel.ext.asyncio.session import AsyncSession

from jobs import facts, linking
from jobs.changes import diff, diff_facts
from jobs.classify import CLASSIFIER_VERSION, classify
from jobs.fanout import StoredChange, fan_out, fan_out_pending
from jobs.merge import merge
from jobs.registries.base import RawRecord, RecordError, Registry, RegistryError
from storage import fanout as marks
from storage import poll_page, poll_state
from storage import publications as stored_publications
from storage import trials as store
from storage.db import Database
from storage.tables import utcnow
from trialbot import metrics
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.matching import gazetteer_geocoder
from trialbot.model import FieldChange, Trial
from trialbot.publications import worth_an_early_look

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
    swept: bool = False
    """This poll also read everything without the date filter (`_sweep_if_missing`)."""
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
            "swept": self.swept,
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


def observe(trial: Trial, result: Classification) -> store.Observation:
    """A trial ready to store: its snapshot, fingerprint, verdict and facts, computed once."""
    return store.Observation.of(trial, verdict_of(result), facts.derive(trial))


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
    today: date | None = None,
) -> None:
    """Store one page atomically: each record as a source of its trial (a new trial, or one
    it names or is named by), each touched trial's merged view as a new version with its diff
    when it moved, and a pending mark on each change worth telling, in one transaction; then
    queue the alerts they cause (jobs/fanout.py: matched outside the transaction, queued in
    short batches, the mark cleared with the last; a crash in between is finished by the
    next poll, so an alert is never lost nor doubled).

    The page is read in one step, linked in memory (jobs/linking.py) and written in one step,
    so it costs the same few statements however its records link up.

    `announce_new=False` (the very first backfill) stores new trials without alerting: on a
    fresh database every trial is "new" to us but not to the world. `today` (the service's
    clock; `now`'s date by default) dates the subscribers' time since the stroke and age.
    """
    if not items:
        return
    pending = PollReport(registry=registry_name)
    records = [linking.Record.of(observe(t, r)) for t, r in items]
    results = {t.registry_id: r for t, r in items}
    ids = [t.registry_id for t, _ in items] + [a for t, _ in items for a in t.aliases]
    keys = set().union(*(r.keys for r in records))
    async with db.write() as session:
        await poll_state.mark_seen(session, registry_name, (t.registry_id for t, _ in items), now)
        stored = await poll_page.load(session, registry_name, ids, keys)
        plan = linking.plan(registry_name, records, stored)
        views = {ref: _merged(members, results) for ref, members in plan.trials.items()}
        old = await _moved_from(session, stored, views)
        page = _page_write(plan, stored, views, old)
        written = await poll_page.write(session, page, now=now)
        _log_links(plan, written)
        changes = _outcome(plan, views, page, old, written, pending)
        if not announce_new:
            changes = [c for c in changes if c.kind != "new"]
        told = [c for c in changes if c.worth_telling]
        await marks.mark(session, [(c.trial_id, c.version_id, c.kind) for c in told], now)
        ended = [c.trial_id for c in changes if worth_an_early_look(c.changes)]
        if ended:  # results may be near, or newly listed: look for them now, not in a week
            await stored_publications.soon(session, ended, now)
    pending.alerts_queued = await fan_out(db, told, now, gazetteer_geocoder, today or now.date())
    # Only count what was committed.
    report.new += pending.new
    report.unchanged += pending.unchanged
    report.changed += pending.changed
    report.rejected += pending.rejected
    report.alerts_queued += pending.alerts_queued
    report.new_ids += pending.new_ids
    report.changed_trials += pending.changed_trials


class _View(NamedTuple):
    """A trial as all its records describe it, classified and hashed."""

    trial: Trial
    result: Classification
    seen: store.Observation

    @property
    def fingerprint(self) -> str:
        return self.seen.fingerprint


def _merged(members: list[linking.Member], results: dict[str, Classification]) -> _View:
    """Merge, classify and hash a trial's records (reusing the work done on a record this page
    fetched when it is the trial's only one)."""
    if len(members) == 1 and (record := members[0].record) is not None:
        return _View(record.trial, results[record.trial.registry_id], record.seen)
    trials = []
    for member in members:
        if member.record is not None:
            trials.append(member.record.trial)
        else:
            assert member.source is not None
            trials.append(Trial.model_validate(member.source.snapshot))
    merged = merge(trials)
    result = classify(merged)
    return _View(merged, result, observe(merged, result))


async def _moved_from(
    session: AsyncSession, stored: poll_page.Stored, views: dict[linking.Ref, _View]
) -> dict[int, dict[str, Any]]:
    """The current version of each stored trial whose merged view moved, to diff against."""
    moved = [r for r, v in views.items() if r > 0 and stored.trials[r].fingerprint != v.fingerprint]
    found = await poll_page.current_snapshots(session, (stored.trials[r] for r in moved))
    return {ref: found[ref] for ref in moved}


def _page_write(
    plan: linking.Plan,
    stored: poll_page.Stored,
    views: dict[linking.Ref, _View],
    old: dict[int, dict[str, Any]],
) -> poll_page.PageWrite:
    """What the page stores: the plan, and each touched trial's view, diffed against `old`
    when it moved (the current version of each stored trial whose view is not the stored one)."""
    rows = {ref: stored.trials[ref] for ref in views if ref > 0}
    return poll_page.PageWrite(
        new_trials=[(ref, views[ref].seen) for ref in plan.new],
        merges=[(m.keeper, stored.trials[m.absorbed]) for m in plan.merges],
        seen_sources=[(s, r.seen, sorted(r.keys)) for s, r in plan.seen_again],
        new_sources=[(ref, r.seen, sorted(r.keys)) for r, ref in plan.added],
        claims=plan.claims,
        seen_trials=[(row, views[ref].seen) for ref, row in rows.items() if ref not in old],
        moved_trials=[
            (row, views[ref].seen, _changes(old[ref], views[ref].seen))
            for ref, row in rows.items()
            if ref in old
        ],
    )


def _changes(old: dict[str, Any], seen: store.Observation) -> list[FieldChange]:
    """What changed in the record, then in what it states (the facts of the old version are
    derived again with today's rules, so a rule change alone never reads as a change)."""
    changes = diff(old, seen.snapshot)
    if seen.facts is not None:
        before = facts.extract(Trial.model_validate(old))
        changes += diff_facts(before, seen.facts.facts)
    return changes


def _outcome(
    plan: linking.Plan,
    views: dict[linking.Ref, _View],
    page: poll_page.PageWrite,
    old: dict[int, dict[str, Any]],
    written: poll_page.Written,
    pending: PollReport,
) -> list[StoredChange]:
    """Count what the page stored, and list its new trials and changes (in trial order)."""
    pending.unchanged, pending.rejected = plan.unchanged, plan.rejected
    versions = {
        row.id: (version, changes)
        for (row, _, changes), version in zip(page.moved_trials, written.versions, strict=True)
    }
    told = []
    for ref, view in views.items():
        if ref < 0:
            trial_id, version_id = written.trial_ids[ref], written.first_versions[ref]
            told.append(
                StoredChange(
                    view.trial, view.result, trial_id, version_id, "new", facts=_facts(view)
                )
            )
            pending.new += 1
            pending.new_ids.append(plan.new[ref].trial.uid)
        elif ref in versions:
            version, changes = versions[ref]
            assert version.id is not None
            previous = Trial.model_validate(old[ref])
            told.append(
                StoredChange(
                    view.trial,
                    view.result,
                    ref,
                    version.id,
                    "change",
                    tuple(changes),
                    previous=previous,
                    facts=_facts(view),
                    previous_facts=facts.extract(previous),
                )
            )
            pending.changed += 1
            pending.changed_trials.append(
                TrialChanges(view.trial.uid, view.trial.title, version.version, list(changes))
            )
    return told


def _facts(view: _View) -> TrialFacts:
    """The facts stored with the view's version (derived now when it carries none)."""
    return view.seen.facts.facts if view.seen.facts is not None else facts.extract(view.trial)


def _log_links(plan: linking.Plan, written: poll_page.Written) -> None:
    for old_id, new_id in plan.rekeyed:
        log.info("%s is now %s; re-keyed", old_id, new_id)
    for m in plan.merges:
        log.warning("%s and %s are one trial (linked by %s); merged", *m.names, m.by)
    for record, ref in plan.added:
        if plan.new.get(ref) is not record:
            trial_id = written.trial_ids.get(ref, ref)
            log.info("%s is another record of trial %d", record.trial.uid, trial_id)


async def _consume(
    db: Database,
    registry: Registry,
    pages: AsyncIterator[list[RawRecord]],
    report: PollReport,
    now: datetime,
    *,
    announce_new: bool,
    today: date | None = None,
) -> None:
    async for page in pages:
        items = normalise_page(registry, page, report)
        await store_page(
            db, registry.name, items, report, now, announce_new=announce_new, today=today
        )


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


async def poll(
    db: Database, registry: Registry, *, now: datetime | None = None, today: date | None = None
) -> PollReport:
    """Fetch what changed since the stored watermark (everything on the first run); `today`
    is the clock's date for the subscribers' profiles (`now`'s date by default)."""
    now = now or utcnow()
    report = PollReport(registry=registry.name)
    started, before = time.monotonic(), registry.stats
    try:
        await refresh_facts(db)
        report.alerts_queued += await fan_out_pending(
            db, now, gazetteer_geocoder, today or now.date()
        )
        async with db.write() as session:
            await poll_state.record_attempt(session, registry.name, now)
            state = await poll_state.get(session, registry.name)
            watermark, known_version = state.watermark, state.data_version
            last_sweep = state.last_sweep_at
        version = storable_version(await registry.data_version())
        if version is not None and version == known_version and watermark is not None:
            report.skipped = True
            report.mode = "skipped"
        else:
            since = watermark - OVERLAP if watermark else None
            report.mode = "incremental" if since else "backfill"
            await _consume(
                db,
                registry,
                registry.changed_since(since),
                report,
                now,
                announce_new=bool(since),
                today=today,
            )
            _check_format(registry.name, report)
            report.matching = await registry.count_matching()
            if since is not None:
                await _sweep_if_missing(db, registry, report, now, last_sweep, today)
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


SWEEP_EVERY = timedelta(hours=20)
"""At most one full sweep a day per registry: a record that cannot be read at all (no id to
remember) would otherwise keep the count short and sweep at every poll."""


async def _sweep_if_missing(
    db: Database,
    registry: Registry,
    report: PollReport,
    now: datetime,
    last: datetime | None,
    today: date | None = None,
) -> None:
    """The safety net: the registry says its search matches more records than have ever
    reached us (stored or rejected), so some record appeared with an older "last update"
    than the watermark (a late-published registration, a registry clock fix) and the
    incremental query will never return it. Read everything once, without the date filter;
    what is new is announced like any new trial."""
    if report.matching is None or (last is not None and now - last < SWEEP_EVERY):
        return
    async with db.read() as session:
        seen = await poll_state.count_seen(session, registry.name)
    if report.matching <= seen:
        return
    log.warning(
        "%s: the search matches %d records but %d have reached us; sweeping without the date",
        registry.name,
        report.matching,
        seen,
    )
    report.swept = True
    report.mode = "sweep"
    await _consume(
        db, registry, registry.changed_since(None), report, now, announce_new=True, today=today
    )
    _check_format(registry.name, report)
    async with db.write() as session:
        await poll_state.record_sweep(session, registry.name, now)
    metrics.SWEEPS.labels(registry=registry.name).inc()


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


async def refresh_facts(db: Database, *, batch: int = 200) -> int:
    """Derive the facts of current versions stored without them or by older rules (after an
    upgrade, or a FACTS_VERSION bump). The record did not change, so no alert follows."""
    done = 0
    while True:
        async with db.read() as session:  # most polls find nothing: take no write lock then
            if not await store.versions_with_stale_facts(session, facts.FACTS_VERSION, limit=1):
                break
        async with db.write() as session:
            stale = await store.versions_with_stale_facts(session, facts.FACTS_VERSION, limit=batch)
            for version in stale:
                try:
                    derived = facts.derive(Trial.model_validate(version.snapshot))
                except ValueError:
                    log.warning("version %s: stored snapshot no longer reads", version.id)
                    version.facts, version.facts_version = None, facts.FACTS_VERSION
                    continue
                store.set_facts(version, derived)
            session.add_all(stale)
        done += len(stale)
        if len(stale) < batch:
            break
    if done:
        log.info("derived the facts of %d stored trial versions", done)
    return done


async def refresh(
    db: Database,
    registry: Registry,
    *,
    older_than: timedelta,
    batch_size: int = 100,
    now: datetime | None = None,
    today: date | None = None,
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
                await store_page(db, registry.name, items, report, now, today=today)
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
