"""Which registry adapters this deployment polls (each one switched on or off in the settings).

Each adapter is polled, refreshed, health-checked and reported on its own, so one that fails
or changes its format never stops the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from jobs.registries.base import RawRecord, Registry
from trialbot.model import Trial
from trialbot.settings import Settings

REGISTRY_NAMES = ("ctgov", "ctis", "isrctn", "ictrp")


@dataclass(frozen=True)
class SavedAnswers:
    """How `trialbot parse` reads a registry answer saved to a file: the raw records in it
    (the format told by content, not by file name), and the adapter's own normaliser."""

    records: Callable[[Path], Iterator[RawRecord]]
    normalise: Callable[[RawRecord], Trial]


def saved_answers(registry: str) -> SavedAnswers:
    if registry == "ctgov":
        from jobs.registries import ctgov, ctgov_record

        return SavedAnswers(ctgov.read_saved, ctgov_record.normalise)
    if registry == "ctis":
        from jobs.registries import ctis, ctis_record

        return SavedAnswers(ctis.read_saved, ctis_record.normalise)
    if registry == "ictrp":
        from jobs.registries import ictrp, ictrp_record

        return SavedAnswers(ictrp.read_saved, ictrp_record.normalise)
    if registry == "isrctn":
        from jobs.registries import isrctn, isrctn_record

        return SavedAnswers(isrctn.read_saved, isrctn_record.normalise)
    raise ValueError(f"no reader for saved {registry} answers")


def build_registries(settings: Settings) -> list[Registry]:
    registries: list[Registry] = []
    if settings.ctgov_enabled:
        from jobs.registries.ctgov import CtgovClient

        registries.append(CtgovClient.from_settings(settings))
    if settings.ctis_enabled:
        from jobs.registries.ctis import CtisClient

        registries.append(CtisClient.from_settings(settings))
    if settings.isrctn_enabled:
        from jobs.registries.isrctn import IsrctnClient

        registries.append(IsrctnClient.from_settings(settings))
    if settings.ictrp_enabled:
        from jobs.registries.ictrp import IctrpExport

        registries.append(IctrpExport.from_settings(settings))
    return registries
