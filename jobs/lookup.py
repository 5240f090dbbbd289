"""What is known about registry ids someone sent: the stored trial, else what the registry says.

Used by the bot (a message that names a trial number) and by `trialbot check`. A number that
no registry we can reach knows is itself a warning sign, so "not found" must mean the registry
answered without it; a registry that fails or is slow gives "could not check now" (found None),
and a registry we have no live adapter for says so (found False, reason "no_live_registry").
Never raises: a message that names ten numbers still gets an answer about the first few.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from jobs.registries.base import Registry
from storage import trials as trial_store
from storage.db import Database
from trialbot.identifiers import canonical, link_keys, registry_of
from trialbot.model import Trial

log = logging.getLogger(__name__)

MAX_IDS = 5
"""The most ids looked up for one message (the rest are named, not looked up)."""
TIMEOUT_SECONDS = 20.0
"""The most one live look-up may take (the adapters' own retries included)."""

LIVE_ADAPTERS: dict[str, str] = {
    "ClinicalTrials.gov": "ctgov",
    "EU CTIS": "ctis",
    "ISRCTN": "isrctn",
}
"""Registry (display name, as `identifiers` names it) -> the adapter that can fetch one of its
records by id. The WHO export adapter (ChiCTR, CTRI, jRCT...) reads a whole export file, which
is not a look-up for one message: those registries are checked in stored trials only."""

Where = Literal["stored", "registry"]
Reason = Literal["not_found", "no_live_registry", "unavailable"]


@dataclass(frozen=True)
class TrialLookup:
    id: str
    registry: str
    """The display name of the registry that issues this id ("ClinicalTrials.gov", "ChiCTR")."""
    found: bool | None
    """True: stored or found live; False: the registry answered without it, or we cannot ask
    it (see `reason`); None: the registry could not be asked now."""
    where: Where | None = None
    status: str | None = None
    title: str | None = None
    url: str | None = None
    reason: Reason | None = None


async def look_up(
    ids: Sequence[str], db: Database | None, registries: Sequence[Registry]
) -> list[TrialLookup]:
    """One answer per id (the first MAX_IDS, canonical, without repeats), in order."""
    wanted: list[str] = []
    for raw in ids:
        ident = canonical(raw) or raw.strip()
        if ident and ident not in wanted:
            wanted.append(ident)
    return [await _one(ident, db, registries) for ident in wanted[:MAX_IDS]]


async def _one(ident: str, db: Database | None, registries: Sequence[Registry]) -> TrialLookup:
    registry = registry_of(ident) or "?"
    stored = await _stored(ident, db)
    if stored is not None:
        return _answer(ident, registry, stored, "stored")
    adapter_name = LIVE_ADAPTERS.get(registry)
    adapter = next((r for r in registries if r.name == adapter_name), None)
    if adapter is None:
        return TrialLookup(ident, registry, found=False, reason="no_live_registry")
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            trial = await _fetch(adapter, ident)
    except Exception as exc:  # any failure is "could not check now", never a crash
        log.warning("lookup of %s in %s failed: %s", ident, adapter.name, exc)
        return TrialLookup(ident, registry, found=None, reason="unavailable")
    if trial is None:
        return TrialLookup(ident, registry, found=False, reason="not_found")
    return _answer(ident, registry, trial, "registry")


async def _stored(ident: str, db: Database | None) -> Trial | None:
    if db is None:
        return None
    try:
        async with db.read() as session:
            found = await trial_store.find_current_trial(session, ident)
    except Exception as exc:  # an unreachable database means "not stored"
        log.warning("lookup of %s in the database failed: %s", ident, exc)
        return None
    return found.trial if found is not None else None


async def _fetch(adapter: Registry, ident: str) -> Trial | None:
    """The record the registry returns for `ident` (itself, or the record that names it)."""
    async for page in adapter.fetch_ids([ident]):
        for raw in page:
            trial = adapter.normalise(raw)
            if ident in link_keys(trial):
                return trial
    return None


def _answer(ident: str, registry: str, trial: Trial, where: Where) -> TrialLookup:
    return TrialLookup(
        ident,
        registry,
        found=True,
        where=where,
        status=trial.overall_status,
        title=trial.title,
        url=trial.url,
    )
