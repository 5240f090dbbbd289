"""The one clock the service reads "today" from, so end-to-end tests can move it.

Matching, the fan-out, the sender and the window job take `today`/`now` as arguments; the
service gets them from `clock_for(settings)`. In production that is the system clock. The
test-only setting TRIALBOT_FAKE_TODAY replaces the date (never the time of day, so leases,
retries and digests keep real time):

- an ISO date (`2026-12-04`): today is that date for the whole run;
- a path to a file holding an ISO date: read at every call, so a test moves the clock of a
  running service by rewriting the file (no monkeypatching, works across processes).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from trialbot.settings import Settings


@dataclass
class Clock:
    """Today's date and the current instant. `fixed`: a date set by a test in-process."""

    fixed: date | None = None
    file: Path | None = None

    def today(self) -> date:
        if self.fixed is not None:
            return self.fixed
        if self.file is not None:
            try:
                return date.fromisoformat(self.file.read_text(encoding="utf-8").strip())
            except (OSError, ValueError):
                pass  # a test's file being rewritten: fall back to the real date
        return datetime.now(UTC).date()

    def now(self) -> datetime:
        """The real instant, moved to the fake date when one is set."""
        real = datetime.now(UTC)
        day = self.today()
        if day == real.date():
            return real
        return datetime.combine(day, real.timetz())

    def set(self, day: date) -> None:
        """Move a test's clock (in-process tests)."""
        self.fixed = day


SYSTEM = Clock()


def clock_of(fake_today: str) -> Clock:
    """The clock a TRIALBOT_FAKE_TODAY value names ("" for the system clock)."""
    value = fake_today.strip()
    if not value:
        return SYSTEM
    try:
        return Clock(fixed=date.fromisoformat(value))
    except ValueError:
        return Clock(file=Path(value))


@cache
def _cached(fake_today: str) -> Clock:
    return clock_of(fake_today)


def clock_for(settings: Settings) -> Clock:
    """The service's clock, one per setting value (handlers, jobs and sender share it)."""
    return _cached(settings.trialbot_fake_today)
