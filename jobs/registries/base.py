"""The small interface every registry adapter implements.

The poller only knows this interface: it asks for pages of raw records (changed since a
watermark, or a batch of known ids), normalises each one, and never sees HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from trialbot.model import Trial

RawRecord = dict[str, Any]


class RegistryError(Exception):
    """The registry could not be read (down, throttled past our retries, or a broken answer).

    Raised by a client; the poll stops, records the reason, and leaves stored data as it was.
    """


class RecordError(ValueError):
    """One record cannot be normalised; it is skipped with this reason and counted."""


@dataclass(frozen=True)
class RequestStats:
    requests: int = 0
    bytes_received: int = 0
    retries: int = 0


class Registry(Protocol):
    name: str
    """Short stable key stored with every trial, e.g. "ctgov"."""
    setting: str
    """The setting that points at the registry (named by `trialbot doctor` when it fails)."""
    ids_per_fetch: int | None
    """How many ids `fetch_ids` is best given at once; None: REFRESH_BATCH_SIZE decides."""

    async def data_version(self) -> str | None:
        """An opaque marker of the registry's data snapshot, or None if it has none.

        When it equals the stored one, nothing can have changed and the poll is skipped.
        """
        ...

    def changed_since(self, since: date | None) -> AsyncIterator[list[RawRecord]]:
        """Pages of candidate records updated on or after `since` (None: everything)."""
        ...

    def fetch_ids(self, ids: Sequence[str]) -> AsyncIterator[list[RawRecord]]:
        """Pages of full records for known ids (for the slow full re-check)."""
        ...

    def normalise(self, raw: RawRecord) -> Trial:
        """Turn one raw record into the neutral model, or raise RecordError."""
        ...

    async def count_matching(self) -> int | None:
        """How many records the registry's search matches now, whatever their date; None if
        unknown. Asked after each poll that was not skipped: a search that matched hundreds
        and now matches nothing means the registry changed, and the admins are told."""
        ...

    async def probe(self) -> str | None:
        """One cheap real request (for `trialbot doctor`): a short description of what came
        back, e.g. the data version; raises RegistryError when the registry cannot be read."""
        ...

    @property
    def stats(self) -> RequestStats: ...

    async def aclose(self) -> None: ...
