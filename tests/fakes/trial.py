"""One trial as every fake registry's `built_record` takes it.

Cross-registry tests serve the same trial from several fakes, each writing it in its own record
shape; this is the one description they all start from, so the builders cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Required, TypedDict

Site = tuple[str, str, str]
"""(facility, city, country name as the registry writes it)."""


class TrialFields(TypedDict, total=False):
    """The keyword arguments of `built_record` (beside the registry id)."""

    title: Required[str]
    condition: Required[str]
    intervention: Required[str]
    sites: Required[Sequence[Site]]
    secondary_ids: Sequence[str]
    last_updated: str
    status: str | None
    summary: str
    phase: str | None


@dataclass(frozen=True)
class Trial:
    """`TrialFields` with their defaults filled in. `status` and `phase` use the registry's
    own wording (None: the builder's default); `last_updated` is an ISO date."""

    registry_id: str
    title: str
    condition: str
    intervention: str
    sites: Sequence[Site]
    secondary_ids: Sequence[str] = ()
    last_updated: str = "2026-10-01"
    status: str | None = None
    summary: str = ""
    phase: str | None = None
