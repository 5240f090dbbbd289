"""Async client for the ClinicalTrials.gov Data API v2 (the bot's primary registry).

Why it looks like this (see shared/registries.md §1):
* CT.gov has no documented rate limit; its robots.txt asks for 1 request/s and the community ceiling
  is ~50/min, so requests are serialised and spaced by `min_interval` seconds (start to start).
* Transient trouble (429, 5xx, network errors, timeouts) is retried with exponential backoff and
  full jitter; a `Retry-After` header wins over the computed delay but is capped at
  `retry_after_cap` (default `backoff_max * 5` = 300 s) so one bad header cannot park a poll
  for hours.
* Any other 4xx is a bug on our side (CT.gov answers 400 text/plain naming the bad parameter) and
  fails at once. A broken body (not JSON, cut off, wrong shape) fails the whole poll: the caller
  must change nothing rather than act on half a page.
* The search is deliberately broad (see CONDITION_TERMS / INTERVENTION_TERMS); the classifier
  downstream decides what is really a stem-cell stroke trial.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import random
import re
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

import httpx

from jobs.registries import ctgov_record
from jobs.registries.base import RawRecord, RegistryError, RequestStats
from trialbot import __version__
from trialbot.model import Trial
from trialbot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = (
    f"trialbot/{__version__} (alerts for clinical trials of stem-cell therapy after stroke; "
    "polite poller: <=1 request/s, backs off on errors) "
    f"python-httpx/{httpx.__version__}"
)

NCT_ID_RE = re.compile(r"^NCT\d{8}$")

CONDITION_TERMS: tuple[str, ...] = (
    "stroke",
    "cerebral infarction",
    "brain infarction",
    "brain ischemia",
    "cerebral ischemia",
    "intracerebral hemorrhage",
    "cerebral hemorrhage",
    "hemorrhagic stroke",
    "intracranial hemorrhage",
    "subarachnoid hemorrhage",
    "basal ganglia hemorrhage",
    "basal ganglia hematoma",
    "cerebrovascular",
    "cerebrovascular accident",
    "CVA",
)
"""Condition vocabulary for `query.cond` (ORed). Broad on purpose: CT.gov adds synonyms itself."""

INTERVENTION_TERMS: tuple[str, ...] = (
    "stem cell",
    "stromal cell",
    "mesenchymal",
    "MSC",
    "mononuclear cell",
    "progenitor",
    "cell therapy",
    "cellular therapy",
    "cell transplantation",
    "cord blood",
    "umbilical cord",
    "adipose derived",
    "ADSC",
    "bone marrow",
    "MultiStem",
    "SB623",
    "CTX0E03",
    "NSI-566",
    "exosome",
    "extracellular vesicle",
    "secretome",
    "stromal vascular fraction",
    "G-CSF",
    "granulocyte colony-stimulating factor",
    "filgrastim",
    "CD34",
)
"""Intervention vocabulary for `query.intr` (ORed). Product codes are listed because several real
cell products carry no "stem" in their name (SB623, MultiStem, CTX0E03)."""

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


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` (delta-seconds or HTTP date); None if absent/bad."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now or datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth retrying."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class CtgovClient:
    """ClinicalTrials.gov API v2 as a `Registry`: paged broad search, id batches, single records."""

    name = "ctgov"

    def __init__(
        self,
        base_url: str,
        *,
        page_size: int = 1000,
        min_interval: float = 1.0,
        timeout: float = 30.0,
        max_retries: int = 5,
        transport: httpx.AsyncBaseTransport | None = None,
        user_agent: str = DEFAULT_USER_AGENT,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        retry_after_cap: float | None = None,
    ) -> None:
        if not 1 <= page_size <= 1000:
            raise ValueError("page_size must be 1..1000 (CT.gov silently cuts larger values)")
        if min_interval < 0 or max_retries < 0 or backoff_base < 0 or backoff_max < 0:
            raise ValueError("min_interval, max_retries and backoff values must be >= 0")
        self.base_url = base_url.rstrip("/")
        self.page_size = page_size
        self.min_interval = min_interval
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.retry_after_cap = backoff_max * 5 if retry_after_cap is None else retry_after_cap
        self.last_total_count: int | None = None
        """`totalCount` of the last `changed_since` search (first page, countTotal=true)."""
        self._client = httpx.AsyncClient(
            base_url=self.base_url + "/",
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=True,
            transport=transport,
        )
        self._lock = asyncio.Lock()
        self._last_start: float | None = None
        self._requests = 0
        self._bytes = 0
        self._retries = 0

    @classmethod
    def from_settings(cls, settings: Settings) -> CtgovClient:
        """The production client, configured from the environment."""
        return cls(
            settings.ctgov_api_url,
            page_size=settings.ctgov_page_size,
            min_interval=settings.ctgov_min_interval_seconds,
            timeout=settings.http_timeout_seconds,
            max_retries=settings.http_max_retries,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # -- stats -------------------------------------------------------------------------------

    @property
    def stats(self) -> RequestStats:
        """Cumulative HTTP requests (redirect hops included), body bytes received, retries."""
        return RequestStats(
            requests=self._requests, bytes_received=self._bytes, retries=self._retries
        )

    def reset_stats(self) -> None:
        self._requests = self._bytes = self._retries = 0

    # -- Registry API --------------------------------------------------------------------------

    async def data_version(self) -> str | None:
        """`dataTimestamp` from /version (UTC snapshot time); None if the answer lacks it."""
        body = await self._get_json("version", {})
        stamp = body.get("dataTimestamp") if isinstance(body, dict) else None
        if not isinstance(stamp, str) or not stamp:
            log.warning("ctgov /version answered without a dataTimestamp; poll cannot be skipped")
            return None
        return stamp

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
        response = await self._request(f"studies/{nct}", {}, allow_404=True)
        if response.status_code == 404:
            log.debug("ctgov: %s not found", nct)
            return None
        body = _decode(response, f"/studies/{nct}")
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
        response = await self._request(path, params)
        return _decode(response, "/" + path)

    async def _request(
        self, path: str, params: Mapping[str, str], *, allow_404: bool = False
    ) -> httpx.Response:
        """GET with spacing, retries and error mapping; returns a 2xx (or a 404 if allowed)."""
        attempt = 0
        while True:
            try:
                return await self._attempt(path, params, allow_404=allow_404)
            except _Retryable as failure:
                if attempt >= self.max_retries:
                    raise RegistryError(
                        f"ctgov GET /{path} failed after {attempt + 1} attempt(s): {failure.reason}"
                    ) from None
                attempt += 1
                self._retries += 1
                delay = self._backoff(attempt, failure.retry_after)
                log.warning(
                    "ctgov GET /%s: %s; retry %d/%d in %.2fs",
                    path,
                    failure.reason,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await asyncio.sleep(delay)

    async def _attempt(
        self, path: str, params: Mapping[str, str], *, allow_404: bool
    ) -> httpx.Response:
        async with self._lock:
            await self._space_out()
            try:
                response = await self._client.get(path, params=dict(params))
            except httpx.TransportError as exc:  # includes every httpx timeout
                self._requests += 1
                raise _Retryable(type(exc).__name__) from exc
            except httpx.RequestError as exc:  # redirect loop, undecodable content-encoding
                self._requests += 1
                raise RegistryError(f"ctgov GET /{path}: {type(exc).__name__}") from None
        self._requests += 1 + len(response.history)
        self._bytes += response.num_bytes_downloaded + sum(
            r.num_bytes_downloaded for r in response.history
        )
        status = response.status_code
        log.debug("ctgov GET /%s -> %d (%d bytes)", path, status, len(response.content))
        if 200 <= status < 300:
            return response
        if status == 429 or status >= 500:
            raise _Retryable(
                f"HTTP {status}", parse_retry_after(response.headers.get("Retry-After"))
            )
        if status == 404 and allow_404:
            return response
        detail = response.content[:800].decode("utf-8", "replace")[:200].strip()
        raise RegistryError(f"ctgov GET /{path}: HTTP {status}" + (f": {detail}" if detail else ""))

    async def _space_out(self) -> None:
        """Wait (holding the lock) until `min_interval` has passed since the previous start."""
        if self._last_start is not None and self.min_interval > 0:
            while (wait := self._last_start + self.min_interval - time.monotonic()) > 0:
                await asyncio.sleep(wait)  # loop: the event loop may wake a hair early
        self._last_start = time.monotonic()

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Retry-After (capped) if the server gave one, else full jitter on an exponential cap."""
        if retry_after is not None:
            if retry_after > self.retry_after_cap:
                log.warning(
                    "ctgov Retry-After %.1fs exceeds the cap; waiting %.1fs",
                    retry_after,
                    self.retry_after_cap,
                )
            return min(retry_after, self.retry_after_cap)
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return random.uniform(0, ceiling)


def _decode(response: httpx.Response, where: str) -> Any:
    """JSON body or RegistryError; never echoes more than a short prefix of a bad body."""
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        kind = response.headers.get("Content-Type", "?").split(";")[0]
        raise RegistryError(
            f"ctgov GET {where}: body is not valid JSON ({type(exc).__name__}, "
            f"{len(response.content)} bytes, {kind})"
        ) from None


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
