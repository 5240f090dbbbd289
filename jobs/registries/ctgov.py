"""Async client for the ClinicalTrials.gov Data API v2 (the bot's primary registry).

Why it looks like this (see shared/registries.md §1):
* CT.gov has no documented rate limit; its robots.txt asks for 1 request/s and the community ceiling
  is ~50/min, so requests go through `PoliteHttp` (jobs/registries/http.py): serialised, spaced
  by `min_interval` seconds, retried with backoff, `Retry-After` honoured up to a cap.
* Any other 4xx is a bug on our side (CT.gov answers 400 text/plain naming the bad parameter) and
  fails at once. A broken body (not JSON, cut off, wrong shape) fails the whole poll: the caller
  must change nothing rather than act on half a page.
* The search is deliberately broad (jobs/search_terms.py, sent as written: about 1,300 URL
  characters with a date filter, far from the ~6,000 CT.gov's front end accepts); the classifier
  downstream decides what is really a stem-cell stroke trial.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jobs import search_terms
from jobs.registries import ctgov_record
from jobs.registries.base import RawRecord, RegistryError
from jobs.registries.http import DEFAULT_HTTP, HttpOptions, RegistryClient, decode_json
from trialbot.model import Trial
from trialbot.settings import Settings

log = logging.getLogger(__name__)

NCT_ID_RE = re.compile(r"^NCT\d{8}$")

CONDITION_TERMS: tuple[str, ...] = search_terms.STROKE_TERMS
"""`query.cond` (ORed), as jobs.search_terms spells them: CT.gov adds synonyms itself."""

INTERVENTION_TERMS: tuple[str, ...] = search_terms.CELL_TERMS
"""`query.intr` (ORed), as jobs.search_terms spells them."""

_PLAIN_TERM = re.compile(r"^[A-Za-z0-9]+$")
_MAX_PAGES = 10_000
MAX_IDS_PER_REQUEST = 300
"""An id costs 14 URL characters (`NCT12345678%2C`), so 300 ids keep the URL near 4,300 chars,
under the ~6,000 that proxies and CT.gov's front end accept."""


def essie_or(terms: Iterable[str]) -> str:
    """`(a OR "b c" OR ...)`: multi-word or punctuated terms are quoted as Essie phrases."""
    parts = [t if _PLAIN_TERM.match(t) else f'"{t}"' for t in terms]
    return "(" + " OR ".join(parts) + ")"


CONDITION_QUERY = essie_or(CONDITION_TERMS)
INTERVENTION_QUERY = essie_or(INTERVENTION_TERMS)


def last_update_filter(since: date) -> str:
    """The `filter.advanced` expression selecting records posted as updated on/after `since`."""
    return f"AREA[LastUpdatePostDate]RANGE[{since:%Y-%m-%d},MAX]"


class CtgovClient(RegistryClient):
    """ClinicalTrials.gov API v2 as a `Registry`: paged broad search, id batches, single records."""

    name = "ctgov"
    setting = "CTGOV_API_URL"
    ids_per_fetch: int | None = None

    def __init__(
        self, base_url: str, *, page_size: int = 1000, http: HttpOptions = DEFAULT_HTTP
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be 1..1000 (CT.gov silently cuts larger values)")
        super().__init__(base_url, http)
        self.base_url = self._http.base_url
        self.page_size = page_size
        self.last_total_count: int | None = None
        """`totalCount` of the last `changed_since` search (first page, countTotal=true)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> CtgovClient:
        """The production client, configured from the environment."""
        http = HttpOptions.from_settings(settings, min_interval=settings.ctgov_min_interval_seconds)
        return cls(settings.ctgov_api_url, page_size=settings.ctgov_page_size, http=http)

    # -- Registry API --------------------------------------------------------------------------

    async def data_version(self) -> str | None:
        """`dataTimestamp` from /version (UTC snapshot time); None if the answer lacks it."""
        body = await self._get_json("version", {})
        stamp = body.get("dataTimestamp") if isinstance(body, dict) else None
        if not isinstance(stamp, str) or not stamp:
            log.warning("ctgov /version answered without a dataTimestamp; poll cannot be skipped")
            return None
        return stamp

    async def probe(self) -> str | None:
        return await self.data_version()

    async def count_matching(self) -> int | None:
        """`totalCount` of the broad search without a date filter (one small request)."""
        params = {
            "query.cond": CONDITION_QUERY,
            "query.intr": INTERVENTION_QUERY,
            "countTotal": "true",
            "pageSize": "1",
            "fields": "NCTId",
        }
        body = await self._get_json("studies", params)
        total = body.get("totalCount") if isinstance(body, dict) else None
        return total if isinstance(total, int) else None

    async def changed_since(self, since: date | None) -> AsyncIterator[list[RawRecord]]:
        """Pages of candidates from the broad stroke x cell-therapy search.

        `since` is used as given: the caller has already subtracted the overlap (2 days) that
        guards against posting delays and time zones. None means a full backfill.
        """
        params: dict[str, str] = {
            "query.cond": CONDITION_QUERY,
            "query.intr": INTERVENTION_QUERY,
        }
        if since is not None:
            params["filter.advanced"] = last_update_filter(since)
        self.last_total_count = None
        async for page in self._pages(params, count_total=True):
            yield page

    async def fetch_ids(self, ids: Sequence[str]) -> AsyncIterator[list[RawRecord]]:
        """Pages of full records for known ids; ids that no longer exist are logged and skipped."""
        wanted: list[str] = []
        seen: set[str] = set()
        for raw_id in ids:
            nct = raw_id.strip().upper() if isinstance(raw_id, str) else ""
            if not NCT_ID_RE.match(nct):
                log.warning("ctgov: skipping malformed NCT id %r", str(raw_id)[:40])
                continue
            if nct not in seen:
                seen.add(nct)
                wanted.append(nct)
        batch_size = min(self.page_size, MAX_IDS_PER_REQUEST)
        yielded: set[str] = set()  # an old alias and its current id must not give 2 copies
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            returned: set[str] = set()
            async for page in self._pages({"filter.ids": ",".join(batch)}, count_total=False):
                fresh: list[RawRecord] = []
                for study in page:
                    ids_here = _ids_of(study)
                    returned.update(ids_here)
                    key = _nct_of(study)
                    if key is None or key not in yielded:
                        fresh.append(study)
                        if key is not None:
                            yielded.add(key)
                yield fresh
            missing = [i for i in batch if i not in returned]
            if missing:
                log.info(
                    "ctgov: %d id(s) not returned (gone?): %s",
                    len(missing),
                    ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""),
                )

    async def fetch_one(self, nct_id: str) -> RawRecord | None:
        """One full record (aliases are followed via CT.gov's 301); None if it does not exist."""
        nct = nct_id.strip().upper()
        if not NCT_ID_RE.match(nct):
            raise ValueError(f"not an NCT id: {nct_id[:40]!r}")
        response = await self._http.request("GET", f"studies/{nct}", allow_404=True)
        if response.status_code == 404:
            log.debug("ctgov: %s not found", nct)
            return None
        body = decode_json(response, self.name, f"GET /studies/{nct}")
        if not isinstance(body, dict) or not isinstance(body.get("protocolSection"), dict):
            raise RegistryError(f"ctgov /studies/{nct}: answer is not a study object")
        return body

    def normalise(self, raw: RawRecord) -> Trial:
        return ctgov_record.normalise(raw)

    # -- internals ---------------------------------------------------------------------------

    async def _pages(
        self, params: Mapping[str, str], *, count_total: bool
    ) -> AsyncIterator[list[RawRecord]]:
        """Follow `nextPageToken`, repeating the same params; the first page may ask countTotal."""
        base = {**params, "pageSize": str(self.page_size)}
        token: str | None = None
        tokens_seen: set[str] = set()
        for page_no in range(_MAX_PAGES):
            query = dict(base)
            if token is not None:
                query["pageToken"] = token
            elif count_total:
                query["countTotal"] = "true"
            body = await self._get_json("studies", query)
            if not isinstance(body, dict) or not isinstance(body.get("studies"), list):
                raise RegistryError(f"ctgov /studies page {page_no + 1}: no 'studies' list")
            studies = body["studies"]
            if not all(isinstance(s, dict) for s in studies):
                raise RegistryError(f"ctgov /studies page {page_no + 1}: a study is not an object")
            if page_no == 0 and count_total:
                total = body.get("totalCount")
                self.last_total_count = total if isinstance(total, int) else None
            yield studies
            next_token = body.get("nextPageToken")
            if not isinstance(next_token, str) or not next_token:
                return
            if next_token in tokens_seen:
                raise RegistryError("ctgov /studies: the same nextPageToken came back twice")
            tokens_seen.add(next_token)
            token = next_token
        raise RegistryError(f"ctgov /studies: more than {_MAX_PAGES} pages; giving up")

    async def _get_json(self, path: str, params: Mapping[str, str]) -> Any:
        return await self._http.get_json(path, params)


def _nct_of(study: RawRecord) -> str | None:
    proto = study.get("protocolSection")
    ident = proto.get("identificationModule") if isinstance(proto, dict) else None
    nct = ident.get("nctId") if isinstance(ident, dict) else None
    return nct.strip().upper() if isinstance(nct, str) else None


def _ids_of(study: RawRecord) -> set[str]:
    """The record's nctId and its aliases (a requested alias comes back under the new id)."""
    proto = study.get("protocolSection")
    ident = proto.get("identificationModule") if isinstance(proto, dict) else None
    if not isinstance(ident, dict):
        return set()
    ids = {ident.get("nctId")}
    aliases = ident.get("nctIdAliases")
    if isinstance(aliases, list):
        ids.update(aliases)
    return {i.upper() for i in ids if isinstance(i, str)}


def read_saved(path: Path) -> Iterator[RawRecord]:
    """The study objects in a saved CT.gov answer: one study (`GET /studies/{id}`), a search
    page (`{"studies": [...]}`) or a JSON list of studies (a bulk download)."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise RegistryError(f"{path.name}: not a CT.gov JSON answer ({exc})") from exc
    studies: object = None
    if isinstance(data, list):
        studies = data
    elif isinstance(data, dict):
        studies = data.get("studies", [data])
    if not isinstance(studies, list):
        raise RegistryError(f"{path.name}: not a CT.gov study, search page or list of studies")
    yield from (s for s in studies if isinstance(s, dict))
