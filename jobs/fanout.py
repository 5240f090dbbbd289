"""Which chats get an alert about a stored change, and about which of their subscriptions.

Runs inside the transaction that stored the version, so the alerts and the change commit
together. One change gives one alert per chat however many of its subscriptions match; the
alert records which ones did. A change alert also goes to chats the trial matched *before*
the change (a trial that stops recruiting must reach the people who were following it).

A subscription with a profile (time of the stroke, age) is matched against the version's facts
on `today`, the caller's clock (trialbot/matching.py); the previous version with its own facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from storage.chats import ActiveSubscription, filter_of_values
from storage.outbox import AlertIn
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.matching import Geocoder, match
from trialbot.model import FieldChange, Trial


@dataclass(frozen=True)
class StoredChange:
    trial: Trial
    verdict: Classification
    trial_id: int
    version_id: int
    kind: str
    """new or change."""
    changes: tuple[FieldChange, ...] = ()
    previous: Trial | None = None
    facts: TrialFacts | None = None
    """What this version states (for a profile's fit); None: the profile is not checked."""
    previous_facts: TrialFacts | None = None

    @property
    def worth_telling(self) -> bool:
        return self.kind == "new" or any(c.notable for c in self.changes)


def alerts_for(
    stored: Sequence[StoredChange],
    subscriptions: Sequence[ActiveSubscription],
    geocode: Geocoder | None = None,
    today: date | None = None,
) -> list[AlertIn]:
    """The alerts the stored changes cause; `today` dates the profiles' fit (no profile is
    checked without it)."""
    alerts: list[AlertIn] = []
    filters = [(s.chat_id, s.delivery, filter_of_values(s)) for s in subscriptions]
    for item in stored:
        if not item.worth_telling:
            continue
        matched: dict[int, list[int]] = {}
        held: dict[int, bool] = {}
        for chat_id, delivery, wanted in filters:
            hit = match(item.trial, item.verdict, wanted, geocode, facts=item.facts, today=today)
            if hit is None and item.previous is not None:
                before = item.previous_facts or item.facts
                hit = match(item.previous, item.verdict, wanted, geocode, facts=before, today=today)
            if hit is not None:
                matched.setdefault(chat_id, []).append(wanted.id)
                held[chat_id] = delivery != "instant"
        alerts.extend(
            AlertIn(
                chat_id=chat_id,
                trial_id=item.trial_id,
                version_id=item.version_id,
                kind=item.kind,
                subscription_ids=sorted(ids),
                held=held[chat_id],
            )
            for chat_id, ids in matched.items()
        )
    return alerts
