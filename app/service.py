"""`trialbot run`: the bot, the registry polls, the outbox sender and the digests in one process.

Lifecycle, in order: take the instance lock (one service per database), hand back the alerts a
dead instance had claimed (they go out again at once), initialise the bot
(getMe), start long polling, the scheduler (the first poll runs at once and catches up from
the stored watermark) and the sender. On SIGTERM or SIGINT: stop taking work, let the sender
finish the messages in flight and hand the rest back, cancel a running poll (its transaction
rolls back; the next run redoes it), stop polling Telegram, and exit 0, all within
SHUTDOWN_SECONDS. Another process polling the same bot token makes Telegram answer 409: the
service then stops with a clear message instead of fighting it.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from datetime import UTC, timedelta
from urllib.parse import urlsplit

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from telegram.error import Conflict, TelegramError

from app.health import HealthServer, start_health_server
from bot import digest
from bot.application import ALLOWED_UPDATES, build_application
from bot.handlers.admin import RegistryWatch, notify_admins
from bot.handlers.start import set_commands
from bot.sender import OutboxSender
from jobs.poll import PollReport
from jobs.publications.check import CheckReport
from jobs.publications.pubmed import PubMedClient
from jobs.registries.catalog import build_registries
from jobs.scheduler import (
    MISFIRE_GRACE_SECONDS,
    RunningJobs,
    add_poll_jobs,
    add_publications_job,
    add_window_job,
)
from jobs.windows import WindowReport
from storage import outbox, poll_state
from storage.db import Database
from storage.instance_lock import AlreadyRunning, InstanceLock
from trialbot.clock import clock_for
from trialbot.settings import Settings

log = logging.getLogger(__name__)

SHUTDOWN_SECONDS = 8.0
EXIT_OK, EXIT_ALREADY_RUNNING, EXIT_TOKEN_IN_USE = 0, 3, 4


class Service:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.exit_code = EXIT_OK
        self.db = Database(settings.database_url)
        self.clock = clock_for(settings)
        """The one clock (TRIALBOT_FAKE_TODAY); handlers read it with `clock_for(settings)`."""
        self.registries = build_registries(settings)
        self.papers = PubMedClient.from_settings(settings) if settings.pubmed_enabled else None
        """PubMed for the publications job; None when PUBMED_ENABLED is off."""
        self.app = build_application(settings, self.db)
        self.sender = OutboxSender(
            self.db,
            self.app.bot,
            paid=settings.telegram_paid_broadcast,
            lease=timedelta(seconds=settings.sender_lease_seconds),
            clock=self.clock,
        )
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.running = RunningJobs()
        self.watch = RegistryWatch.from_settings(settings)
        self.health: HealthServer | None = None

    async def after_poll(self, report: PollReport) -> None:
        if report.alerts_queued:
            self.sender.wake()
        try:
            async with self.db.read() as session:
                states = await poll_state.all_states(session)
            for alert in self.watch.check(states):
                await notify_admins(
                    self.app.bot, self.settings, alert.key, db=self.db, **alert.values
                )
        except Exception:
            log.exception("could not check registry health for admin alerts")

    def _polling_error(self, error: TelegramError) -> None:
        if isinstance(error, Conflict):
            log.error(
                "another process is polling Telegram with this bot token; stopping. "
                "Run one trialbot per bot token."
            )
            self.exit_code = EXIT_TOKEN_IN_USE
            self.stop.set()
        else:
            log.warning("Telegram polling: %s", error)

    async def _start_updates(self) -> None:
        """Long polling by default; a webhook when WEBHOOK_URL is set.

        In webhook mode PTB's server rejects (403) every request whose
        X-Telegram-Bot-Api-Secret-Token header does not match WEBHOOK_SECRET_TOKEN.
        """
        updater = self.app.updater
        assert updater is not None
        if not self.settings.webhook_url:
            await updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, error_callback=self._polling_error
            )
            return
        secret = self.settings.webhook_secret_token
        assert secret is not None
        await updater.start_webhook(
            listen=self.settings.webhook_listen,
            port=self.settings.webhook_port,
            url_path=urlsplit(self.settings.webhook_url).path.lstrip("/"),
            webhook_url=self.settings.webhook_url,
            secret_token=secret.get_secret_value(),
            allowed_updates=ALLOWED_UPDATES,
        )
        log.info(
            "receiving updates by webhook on %s:%s",
            self.settings.webhook_listen,
            self.settings.webhook_port,
        )

    def _schedule(self) -> None:
        add_poll_jobs(
            self.scheduler,
            self.db,
            self.registries,
            self.settings,
            after_poll=self.after_poll,
            running=self.running,
        )

        async def after_windows(report: WindowReport) -> None:
            if report.queued:
                self.sender.wake()

        add_window_job(
            self.scheduler,
            self.db,
            self.clock,
            after=after_windows,
            running=self.running,
            every_seconds=self.settings.window_check_seconds,
        )

        async def after_looks(report: CheckReport) -> None:
            if report.alerts_queued:
                self.sender.wake()

        add_publications_job(
            self.scheduler,
            self.db,
            self.papers,
            self.clock,
            after=after_looks,
            running=self.running,
            every_seconds=self.settings.publication_check_interval_seconds,
            batch=self.settings.publication_check_batch,
        )

        async def digests() -> None:
            sent = await digest.send_digests(self.db, self.app.bot, today=self.clock.today())
            if sent:
                log.info("sent %d digest(s)", sent)

        self.scheduler.add_job(
            self.running.track(digests),
            IntervalTrigger(minutes=5),
            id="digests",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_SECONDS,
            replace_existing=True,
        )

    async def _release_orphans(self) -> None:
        """Hand back what a dead instance had claimed, so its broadcast goes on at once.

        Safe only because this process holds the instance lock: no other sender is alive to
        own a lease, so waiting SENDER_LEASE_SECONDS for the leases to run out would only
        delay the rest of the broadcast."""
        async with self.db.write() as session:
            alerts, digest_rows = await outbox.release_orphans(session)
        if alerts or digest_rows:
            log.warning(
                "the last run stopped mid-send: %d alert(s) due again at once, %d digest "
                "alert(s) held again; those in flight at the crash may arrive twice",
                alerts,
                digest_rows,
            )

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop.set)
        await self._release_orphans()
        async with self.app:
            await set_commands(self.app)
            await self.app.start()
            await self._start_updates()
            self._schedule()
            self.scheduler.start()
            self.health = await start_health_server(
                self.settings, self.db, registries=[r.name for r in self.registries]
            )
            sender = asyncio.create_task(self.sender.run(self.stop), name="outbox-sender")
            log.info("trialbot is running")
            await self.stop.wait()
            log.info("stopping")
            await self._shutdown(sender)
        await self._close()
        log.info("stopped")
        return self.exit_code

    async def _shutdown(self, sender: asyncio.Task[None]) -> None:
        self.scheduler.shutdown(wait=False)
        await self.running.cancel(timeout=SHUTDOWN_SECONDS / 4)  # a running poll rolls back
        try:
            await asyncio.wait_for(sender, timeout=SHUTDOWN_SECONDS / 2)
        except TimeoutError:
            log.warning("sender did not finish in time; its leased alerts will be retried")
        assert self.app.updater is not None
        if self.app.updater.running:
            await asyncio.wait_for(self.app.updater.stop(), timeout=SHUTDOWN_SECONDS / 4)
        await asyncio.wait_for(self.app.stop(), timeout=SHUTDOWN_SECONDS / 4)

    async def _close(self) -> None:
        if self.health is not None:
            await self.health.close()
        for registry in self.registries:
            await registry.aclose()
        if self.papers is not None:
            await self.papers.aclose()
        await self.db.dispose()


def run_service(settings: Settings) -> int:
    try:
        lock = InstanceLock(settings.database_url).acquire()
    except AlreadyRunning as exc:
        log.error("%s; not starting a second one", exc)
        print(f"trialbot: {exc}; not starting a second one")
        return EXIT_ALREADY_RUNNING
    try:
        return asyncio.run(Service(settings).run())
    finally:
        lock.release()
