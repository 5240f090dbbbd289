"""Which registry adapters this deployment polls (each one switched on or off in the settings).

Each adapter is polled, refreshed, health-checked and reported on its own, so one that fails
or changes its format never stops the others.
"""

from __future__ import annotations

from jobs.registries.base import Registry
from trialbot.settings import Settings


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
