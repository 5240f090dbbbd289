"""Which registry adapters this deployment polls."""

from __future__ import annotations

from jobs.registries.base import Registry
from trialbot.settings import Settings


def build_registries(settings: Settings) -> list[Registry]:
    from jobs.registries.ctgov import CtgovClient

    return [CtgovClient.from_settings(settings)]
