"""Building blocks for poll tests: the sample trials loaded into a fake CT.gov, and records
made up in code for linking them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from typing import Any

from jobs.linking import Record
from jobs.registries.ctgov import CtgovClient
from jobs.registries.http import HttpOptions
from storage.trials import Observation, Verdict
from tests.conftest import CTGOV, load_json
from tests.fakes.ctgov_server import FakeCtgov
from trialbot.model import SecondaryId, Trial

RECONSTRUCTED = CTGOV / "reconstructed"
LABELS: list[dict[str, Any]] = load_json(RECONSTRUCTED / "LABELS.json")
EXPECTED_STORED = {
    label["nctId"] for label in LABELS if label["category"] in ("positive", "borderline")
}
FAST_HTTP = HttpOptions(
    min_interval=0.0,
    timeout=5.0,
    max_retries=3,
    backoff_base=0.01,
    backoff_max=0.05,
    retry_after_cap=5.0,
)
"""Polite HTTP shrunk for tests against the fakes: no spacing, millisecond backoff."""


def oldest_snapshots() -> list[dict[str, Any]]:
    """The first snapshot of each reconstructed trial (file names sort oldest first)."""
    by_id: dict[str, list[str]] = defaultdict(list)
    for path in sorted(RECONSTRUCTED.glob("NCT*.json")):
        by_id[path.name.split("__")[0]].append(path.name)
    return [load_json(RECONSTRUCTED / names[0]) for names in by_id.values()]


def recorded_negatives() -> list[dict[str, Any]]:
    studies = [load_json(p) for p in sorted((CTGOV / "studies").glob("*.json"))]
    hsct: list[dict[str, Any]] = load_json(
        CTGOV / "downloads" / "dgg32_graph_bigquery_ctg-studies.json"
    )
    return studies + hsct


def loaded_fake(data_timestamp: str = "2020-01-01T09:00:00") -> FakeCtgov:
    fake = FakeCtgov(data_timestamp=data_timestamp)
    fake.upsert_many(oldest_snapshots())
    fake.upsert_many(recorded_negatives())
    return fake


def client_for(fake: FakeCtgov, page_size: int = 25, max_retries: int = 2) -> CtgovClient:
    return CtgovClient(
        fake.base_url, page_size=page_size, http=replace(FAST_HTTP, max_retries=max_retries)
    )


def _trial(
    registry: str, registry_id: str, names: tuple[str, ...], aliases: tuple[str, ...]
) -> Trial:
    return Trial(
        registry=registry,
        registry_id=registry_id,
        url=f"https://example.org/{registry_id}",
        brief_title=f"Stem cells after stroke ({registry_id})",
        secondary_ids=tuple(SecondaryId(id=name) for name in names),
        aliases=aliases,
    )


def fetched(
    registry: str,
    registry_id: str,
    *names: str,
    aliases: tuple[str, ...] = (),
    relevant: bool = True,
) -> Record:
    """A record as a page fetched it, naming `names` in its secondary ids."""
    verdict = Verdict(
        tier="core" if relevant else "none", buckets=(), relevant=relevant, details={}
    )
    return Record.of(Observation.of(_trial(registry, registry_id, names, aliases), verdict))
