"""A window that opens: tell a person the week they enter a recruiting trial's time window.

A trial that matches a subscription in everything but the time since the stroke (region,
stroke type, age, population, recruiting) is not alerted while the person is too early for
it. When they enter its window, one alert says so ("From this week you are inside this
study's time window"), once per trial and subscription (storage/windows.py).

The job runs every hour on the service's clock (`today` is an argument). It queues an alert
when the person's first day inside the window lies in the last 7 days, including today, and
came after the day we first saw the trial (before that, the new-trial alert already reached
them as someone inside). Pairs whose entry lies within the next 8 weeks are counted as
upcoming (logged), which is what a maintainer watches; nothing is stored for them until they
enter, so a stroke date corrected in between counts as corrected.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from jobs.facts import facts_of
from storage import chats, windows
from storage.db import Database
from storage.windows import WindowIn
from trialbot.matching import Geocoder, gazetteer_geocoder, match
from trialbot.profile import entry_day

log = logging.getLogger(__name__)

THIS_WEEK = timedelta(days=7)
HORIZON = timedelta(weeks=8)


@dataclass
class WindowReport:
    queued: int = 0
    upcoming: int = 0
    """Pairs whose person enters the window within the next 8 weeks."""


async def queue_window_alerts(
    db: Database,
    today: date,
    *,
    now: datetime | None = None,
    geocode: Geocoder | None = gazetteer_geocoder,
) -> WindowReport:
    """Queue the window alerts due on `today`; one transaction, so all or none."""
    report = WindowReport()
    async with db.write() as session:
        subs = [s for s in await chats.active_subscription_values(session) if s.stroke_date]
        if not subs:
            return report
        candidates = await windows.recruiting_trials(session)
        done = await windows.told(session)
        due: list[WindowIn] = []
        for candidate in candidates:
            stored = candidate.stored
            facts = facts_of(stored.trial, stored.facts)
            window = facts.stroke_window_days
            if window is None or entry_day(window) == 0:
                continue  # no window, or one open from the day of the stroke
            for sub in subs:
                if (sub.id, candidate.trial_id) in done:
                    continue
                assert sub.stroke_date is not None
                entered = sub.stroke_date + timedelta(days=entry_day(window))
                if entered > today + HORIZON or entered <= today - THIS_WEEK:
                    continue
                wanted = chats.filter_of_values(sub)
                if entered > today:
                    # Too early now: does it match in everything but the window?
                    if match(
                        stored.trial,
                        stored.verdict,
                        wanted.without_stroke_date(),
                        geocode,
                        facts=facts,
                        today=today,
                    ):
                        report.upcoming += 1
                    continue
                if entered <= candidate.first_seen:
                    continue  # inside when we first saw the trial: the new-trial alert told them
                hit = match(stored.trial, stored.verdict, wanted, geocode, facts=facts, today=today)
                if hit is None:
                    continue
                due.append(
                    WindowIn(
                        chat_id=sub.chat_id,
                        subscription_id=sub.id,
                        trial_id=candidate.trial_id,
                        entered_on=entered,
                        held=sub.delivery != "instant",
                    )
                )
        report.queued = await windows.enqueue(session, due, now)
    if report.queued or report.upcoming:
        log.info("window alerts: %d queued, %d upcoming", report.queued, report.upcoming)
    return report
