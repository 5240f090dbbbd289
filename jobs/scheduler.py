"""Periodic polling on APScheduler: the incremental poll often, the full re-check rarely.

APScheduler's default misfire grace of one second silently skips runs after any pause of the
event loop, so runs late by minutes still happen; `coalesce` folds a backlog into one run and
`max_instances=1` keeps a slow poll from overlapping the next. Durable state (watermarks)
lives in our tables, so the scheduler itself needs no job store.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs import poll as poller
from jobs import windows
from jobs.publications import check as publications
from jobs.publications.check import PaperIndex
from jobs.registries.base import Registry
from jobs.registries.catalog import build_registries
from storage.db import Database
from trialbot.clock import Clock, clock_for
from trialbot.settings import Settings

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

MISFIRE_GRACE_SECONDS = 600


class RunningJobs:
    """The job coroutines running now, so a stop can cancel them while the event loop and the
    database are still up.

    APScheduler's `shutdown(wait=False)` leaves running coroutine jobs alone; `asyncio.run`
    then cancels every task at once at exit, including the task SQLAlchemy shields to close a
    cancelled connection, and aiosqlite's (non-daemon) connection thread is left waiting: the
    process never exits. Cancelled here, the close completes and the transaction rolls back.
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def track(self, job: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[object, object, R]]:
        async def tracked(*args: P.args, **kwargs: P.kwargs) -> R:
            task = asyncio.current_task()
            if task is not None:
                self._tasks.add(task)
            try:
                return await job(*args, **kwargs)
            finally:
                if task is not None:
                    self._tasks.discard(task)

        return tracked

    async def cancel(self, timeout: float) -> None:
        """Cancel what runs and wait (at most `timeout`) for it to unwind."""
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)


def add_poll_jobs(
    scheduler: AsyncIOScheduler,
    db: Database,
    registries: list[Registry],
    settings: Settings,
    *,
    after_poll: Callable[[poller.PollReport], Awaitable[None]] | None = None,
    running: RunningJobs | None = None,
) -> None:
    """Register the poll and refresh jobs; the first poll runs at once to catch up.

    `after_poll` sees every report (the service wakes the sender and watches for failures);
    `running` tracks the jobs so a stop can cancel them cleanly.
    """
    running = running or RunningJobs()
    jitter = max(1, settings.poll_interval_seconds // 20)
    refresh_age = timedelta(seconds=settings.refresh_interval_seconds)

    clock = clock_for(settings)

    async def run_poll(registry: Registry) -> None:
        report = await poller.poll(db, registry, today=clock.today())
        log.info("poll %s: %s", registry.name, report.counts() | {"error": report.error})
        if after_poll is not None:
            await after_poll(report)

    async def run_refresh(registry: Registry) -> None:
        report = await poller.refresh(
            db,
            registry,
            older_than=refresh_age,
            batch_size=settings.refresh_batch_size,
            today=clock.today(),
        )
        log.info("refresh %s: %s", registry.name, report.counts() | {"error": report.error})
        if after_poll is not None:
            await after_poll(report)

    now = datetime.now(UTC)
    for registry in registries:
        common = {
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
            "replace_existing": True,
            "args": [registry],
        }
        scheduler.add_job(
            running.track(run_poll),
            IntervalTrigger(seconds=settings.poll_interval_seconds, jitter=jitter),
            id=f"poll:{registry.name}",
            next_run_time=now,
            **common,
        )
        scheduler.add_job(
            running.track(run_refresh),
            IntervalTrigger(seconds=max(3600, settings.refresh_interval_seconds // 24)),
            id=f"refresh:{registry.name}",
            next_run_time=now + timedelta(minutes=5),
            **common,
        )


def _every(
    scheduler: AsyncIOScheduler,
    job_id: str,
    job: Callable[[], Awaitable[None]],
    seconds: int,
    *,
    first_after: int,
) -> None:
    """A job every `seconds`, first after `first_after` (or `seconds`, if sooner); one run at
    a time, missed runs folded into one."""
    scheduler.add_job(
        job,
        IntervalTrigger(seconds=seconds),
        id=job_id,
        next_run_time=datetime.now(UTC) + timedelta(seconds=min(first_after, seconds)),
        coalesce=True,
        max_instances=1,
        misfire_grace_time=MISFIRE_GRACE_SECONDS,
        replace_existing=True,
    )


FIRST_WINDOW_CHECK_SECONDS = 120
"""The first check waits for the start-up poll a little, unless checks are more frequent."""


def add_window_job(
    scheduler: AsyncIOScheduler,
    db: Database,
    clock: Clock,
    *,
    after: Callable[[windows.WindowReport], Awaitable[None]] | None = None,
    running: RunningJobs | None = None,
    every_seconds: int = 3600,
) -> None:
    """Register the window job (jobs/windows.py) on the service's clock, every
    `every_seconds` (WINDOW_CHECK_SECONDS); `after` sees each report (the service wakes the
    sender when alerts were queued)."""
    running = running or RunningJobs()

    async def run_windows() -> None:
        report = await windows.queue_window_alerts(db, clock.today())
        if after is not None:
            await after(report)

    _every(
        scheduler,
        "windows",
        running.track(run_windows),
        every_seconds,
        first_after=FIRST_WINDOW_CHECK_SECONDS,
    )


FIRST_PUBLICATION_LOOK_SECONDS = 300
"""The first look waits for the start-up polls: they may bring a trial's look forward."""


def add_publications_job(
    scheduler: AsyncIOScheduler,
    db: Database,
    papers: PaperIndex | None,
    clock: Clock,
    *,
    after: Callable[[publications.CheckReport], Awaitable[None]] | None = None,
    running: RunningJobs | None = None,
    every_seconds: int = 3600,
    batch: int = 50,
) -> None:
    """Register the publications job (jobs/publications/check.py): every `every_seconds`
    (PUBLICATION_CHECK_INTERVAL_SECONDS) it looks at up to `batch` trials whose look is due.
    `papers` is PubMed, or None when PUBMED_ENABLED is off (registry lists only)."""
    running = running or RunningJobs()

    async def run_looks() -> None:
        report = await publications.check_due(
            db, papers, datetime.now(UTC), limit=batch, today=clock.today()
        )
        log.log(
            logging.INFO if report.looked else logging.DEBUG,
            "publications: looked at %d trials, %d failed, %d new results papers, %d alerts",
            report.looked,
            report.failed,
            report.new_results,
            report.alerts_queued,
        )
        if after is not None:
            await after(report)

    _every(
        scheduler,
        "publications",
        running.track(run_looks),
        every_seconds,
        first_after=FIRST_PUBLICATION_LOOK_SECONDS,
    )


async def run_poller(settings: Settings) -> None:
    """Poll until SIGINT/SIGTERM; `trialbot run` (the whole service) supersedes this later."""
    db = Database(settings.database_url)
    registries = build_registries(settings)
    scheduler = AsyncIOScheduler(timezone=UTC)
    running = RunningJobs()
    add_poll_jobs(scheduler, db, registries, settings, running=running)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    scheduler.start()
    log.info("polling every %ss; stop with Ctrl-C", settings.poll_interval_seconds)
    try:
        await stop.wait()
    finally:
        scheduler.shutdown(wait=False)
        await running.cancel(timeout=10)
        for registry in registries:
            await registry.aclose()
        await db.dispose()
