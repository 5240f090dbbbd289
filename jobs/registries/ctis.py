"""Async client for the EU Clinical Trials Information System (CTIS) public portal API.

Why it looks like this (see shared/registries.md §2.1; the API is the portal's own,
undocumented JSON API, relaunched with a new structure on 2024-06-17):

* `POST {base}/search` with `{"pagination":{"page":P,"size":N},"sort":{...},
  "searchCriteria":{...}}` answers `{"pagination":{"totalRecords","totalPages","currentPage",
  "nextPage"},"data":[row, ...]}`. Pages are 1-based: page 0 answers 200 with totalRecords 0
  for every query, so this client never sends it and never trusts an empty first page of a
  request it did not make. A query serves at most 10,000 rows (ctrdata issue #59); beyond
  that the client logs a warning and stops that query instead of looping.
* `GET {base}/retrieve/{ctNumber}` answers the full record; the raw record this client yields
  per trial is that JSON, with the search row it came from attached under `_searchRow`
  (`fetch_ids` has no row to attach).
* Requests go through `PoliteHttp` (serialised, spaced by `min_interval`, retries with backoff
  on 429/5xx/network errors, `Retry-After` honoured up to a cap). A broken body (not JSON, no
  `data` list, a row that is not an object) fails the poll with `RegistryError`.

The search (documented choice):

* One query per stroke term in `CONDITION_TERMS` (from jobs/search_terms.py), each as
  `{"medicalCondition": <term>, "containAny": "<cell term>, <cell term>, ..."}`. The
  portal's `containAny` takes comma-separated alternatives (ctrdata documents it with a list of
  trial numbers), `medicalCondition` one phrase, and criteria combine with AND. CTIS is small
  (about 12,000 trials in 2026), so a dozen narrow queries of a page or two each are cheap, and
  a trial found by several of them is retrieved once. Deliberately broad: the classifier decides
  what is really a stem-cell stroke trial.
* Sort: `decisionDate` DESC, the only sort every public client sends and one public client
  reports the only one honoured (other properties and `lastUpdatedFrom`/`decisionDateFrom`
  criteria are silently ignored). Rows are therefore NOT in last-update order, so the client
  walks every page of every query and keeps rows whose `lastUpdated` (`dd/mm/yyyy`) is on or
  after `since` (all rows when `since` is None; rows with an unreadable date are kept). Only
  kept rows cost a `retrieve`.
* `data_version()` is None: CTIS has no snapshot marker.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from jobs import search_terms
from jobs.registries import ctis_record
from jobs.registries.base import RawRecord, RegistryError
from jobs.registries.http import DEFAULT_HTTP, HttpOptions, RegistryClient, decode_json
from trialbot.model import Trial
from trialbot.settings import Settings

log = logging.getLogger(__name__)

CT_NUMBER_RE = ctis_record.CT_NUMBER_RE
SEARCH_ROW_KEY = ctis_record.SEARCH_ROW_KEY

CONDITION_TERMS: tuple[str, ...] = search_terms.without_longer_phrases(
    search_terms.with_british(search_terms.STROKE_TERMS)
)
"""One `medicalCondition` search each, British and American spellings (CTIS records are written
by EU sponsors in either). A term holding a shorter one as whole words is not sent: it would
cost a search and find nothing more ("hemorrhagic stroke", "cerebrovascular accident")."""

CELL_TERMS: tuple[str, ...] = search_terms.CELL_TERMS
"""The `containAny` alternatives (comma-separated in one string)."""

SORT: dict[str, str] = {"property": "decisionDate", "direction": "DESC"}
MAX_ROWS_PER_QUERY = 10_000
"""CTIS serves at most this many search rows per query, whatever the page size."""
MAX_PAGE_SIZE = 100
"""The largest page size a public client reports as verified (Sep 2026)."""
RETRIEVE_BATCH = 20
"""Full records are ~120 KB each: yield them in pages of this many."""


def contain_any(terms: Sequence[str]) -> str:
    """`containAny` value: comma-separated alternatives."""
    return ", ".join(t.replace(",", " ").strip() for t in terms if t.strip())


def search_criteria(condition: str, cell_terms: Sequence[str] = CELL_TERMS) -> dict[str, Any]:
    """The `searchCriteria` of one candidate query."""
    return {"medicalCondition": condition, "containAny": contain_any(cell_terms)}


def row_last_updated(row: Mapping[str, Any]) -> str | None:
    """A search row's `lastUpdated` as `YYYY-MM-DD`, or None if absent/unreadable."""
    parsed = ctis_record.parse_date(row.get("lastUpdated"))
    return parsed if parsed is not None and len(parsed) == 10 else None


class CtisClient(RegistryClient):
    """EU CTIS as a `Registry`: candidate searches, then one `retrieve` per kept trial."""

    name = "ctis"
    setting = "CTIS_API_URL"
    ids_per_fetch: int | None = None

    def __init__(
        self,
        base_url: str,
        *,
        page_size: int = MAX_PAGE_SIZE,
        http: HttpOptions = DEFAULT_HTTP,
        condition_terms: Sequence[str] = CONDITION_TERMS,
        cell_terms: Sequence[str] = CELL_TERMS,
        retrieve_batch: int = RETRIEVE_BATCH,
        max_rows: int = MAX_ROWS_PER_QUERY,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        if retrieve_batch < 1:
            raise ValueError("retrieve_batch must be >= 1")
        if not condition_terms:
            raise ValueError("at least one condition term is needed")
        if max_rows < 1:
            raise ValueError("max_rows must be >= 1")
        super().__init__(base_url, http)
        self.base_url = self._http.base_url
        self.max_rows = max_rows
        """Rows CTIS serves per query (10,000); smaller only in tests."""
        self.page_size = page_size
        self.condition_terms = tuple(condition_terms)
        self.cell_terms = tuple(cell_terms)
        self.retrieve_batch = retrieve_batch
        self.last_candidates: int | None = None
        """Distinct trials the last `changed_since` searches returned (before the date filter)."""
        self.last_kept: int | None = None
        """Of those, how many were on/after `since` and were retrieved."""

    @classmethod
    def from_settings(cls, settings: Settings) -> CtisClient:
        """The production client, configured from the environment."""
        http = HttpOptions.from_settings(settings, min_interval=settings.ctis_min_interval_seconds)
        return cls(settings.ctis_api_url, http=http)

    # -- Registry API --------------------------------------------------------------------------

    async def data_version(self) -> str | None:
        """CTIS publishes no data snapshot marker, so a poll can never be skipped."""
        return None

    async def probe(self) -> str | None:
        """One real one-row search (for `trialbot doctor`): how many trials the first candidate
        query matches. Raises RegistryError when CTIS cannot be read."""
        term = self.condition_terms[0]
        body = await self._post_search(search_criteria(term, self.cell_terms), 1, size=1)
        total = body["pagination"].get("totalRecords")
        count = total if isinstance(total, int) and not isinstance(total, bool) else "?"
        return f"{count} candidate trial(s) for {term!r}"

    async def changed_since(self, since: date | None) -> AsyncIterator[list[RawRecord]]:
        """Full records of candidates whose search row says updated on/after `since`.

        `since` is used as given (the caller subtracts its overlap); None means a backfill.
        All searches run first (cheap), so a trial several queries return is retrieved once.
        """
        rows: dict[str, dict[str, Any]] = {}
        for term in self.condition_terms:
            async for page in self.search(search_criteria(term, self.cell_terms)):
                for row in page:
                    ct = _ct_number(row)
                    if ct is not None and ct not in rows:
                        rows[ct] = row
        cutoff = since.isoformat() if since is not None else None
        kept: list[tuple[str, dict[str, Any]]] = []
        for ct, row in rows.items():
            updated = row_last_updated(row)
            if cutoff is None or updated is None or updated >= cutoff:
                if cutoff is not None and updated is None:
                    log.info(
                        "ctis: %s has no readable lastUpdated %r; fetched anyway",
                        ct,
                        row.get("lastUpdated"),
                    )
                kept.append((ct, row))
        self.last_candidates, self.last_kept = len(rows), len(kept)
        log.info(
            "ctis: %d candidate trial(s), %d updated since %s",
            len(rows),
            len(kept),
            cutoff or "the beginning",
        )
        batch: list[RawRecord] = []
        for ct, row in kept:
            record = await self.fetch_one(ct)
            if record is None:
                log.warning("ctis: %s is in the search but retrieve found nothing; skipped", ct)
                continue
            record[SEARCH_ROW_KEY] = row
            batch.append(record)
            if len(batch) >= self.retrieve_batch:
                yield batch
                batch = []
        if batch:
            yield batch

    async def count_matching(self) -> int | None:
        """Distinct trials the searches of the latest `changed_since` returned (all dates: the
        searches carry no date, so this costs no request)."""
        return self.last_candidates

    async def fetch_ids(self, ids: Sequence[str]) -> AsyncIterator[list[RawRecord]]:
        """Full records for known ctNumbers; unknown (404) or malformed ids are logged, skipped."""
        wanted: list[str] = []
        for raw_id in ids:
            ct = raw_id.strip().upper() if isinstance(raw_id, str) else ""
            if not CT_NUMBER_RE.match(ct):
                log.warning("ctis: skipping malformed ctNumber %r", str(raw_id)[:40])
                continue
            if ct not in wanted:
                wanted.append(ct)
        batch: list[RawRecord] = []
        missing: list[str] = []
        for ct in wanted:
            record = await self.fetch_one(ct)
            if record is None:
                missing.append(ct)
                continue
            batch.append(record)
            if len(batch) >= self.retrieve_batch:
                yield batch
                batch = []
        if batch:
            yield batch
        if missing:
            log.info(
                "ctis: %d id(s) not found (gone?): %s",
                len(missing),
                ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""),
            )

    async def fetch_one(self, ct_number: str) -> RawRecord | None:
        """The full record of one trial; None when CTIS does not know it (404 or empty body)."""
        ct = ct_number.strip().upper()
        if not CT_NUMBER_RE.match(ct):
            raise ValueError(f"not a CTIS number: {ct_number[:40]!r}")
        path = f"retrieve/{ct}"
        response = await self._http.request("GET", path, allow_404=True)
        if response.status_code == 404:
            log.debug("ctis: %s not found", ct)
            return None
        if not response.content.strip():
            return None
        body = decode_json(response, self.name, f"GET /{path}")
        if body is None or body == {}:
            return None
        if not isinstance(body, dict):
            raise RegistryError(f"ctis GET /{path}: answer is not a trial object")
        got = body.get("ctNumber")
        if isinstance(got, str) and got.strip().upper() != ct:
            log.warning("ctis: retrieve %s answered ctNumber %r", ct, got[:40])
        return body

    async def search(self, criteria: Mapping[str, Any]) -> AsyncIterator[list[dict[str, Any]]]:
        """Every page of search rows for `criteria` (1-based pages, 10,000-row cap respected)."""
        max_pages = math.ceil(self.max_rows / self.page_size)
        page = 1
        while True:
            body = await self._post_search(criteria, page)
            pagination, rows = body["pagination"], body["data"]
            total = pagination.get("totalRecords")
            total = total if isinstance(total, int) and not isinstance(total, bool) else None
            if page == 1 and total is not None and total > self.max_rows:
                log.warning(
                    "ctis: query %s matches %d trials; CTIS serves only the first %d",
                    _describe(criteria),
                    total,
                    self.max_rows,
                )
            yield rows
            more = bool(rows) and _has_next(pagination, page, self.page_size, total)
            if page >= max_pages and (more or (total or 0) > page * self.page_size):
                log.warning(
                    "ctis: query %s stopped after %d rows (the CTIS cap); the rest is unreachable",
                    _describe(criteria),
                    page * self.page_size,
                )
                return
            if not more:
                return
            page += 1

    def normalise(self, raw: RawRecord) -> Trial:
        return ctis_record.normalise(raw)

    # -- internals ---------------------------------------------------------------------------

    async def _post_search(
        self, criteria: Mapping[str, Any], page: int, *, size: int | None = None
    ) -> dict[str, Any]:
        if page < 1:  # page 0 answers 200 with totalRecords 0: a silent empty result
            raise ValueError("CTIS search pages are 1-based")
        payload = {
            "pagination": {"page": page, "size": size or self.page_size},
            "sort": dict(SORT),
            "searchCriteria": dict(criteria),
        }
        response = await self._http.request("POST", "search", json_body=payload)
        body = decode_json(response, self.name, "POST /search")
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise RegistryError(f"ctis POST /search page {page}: no 'data' list")
        if not isinstance(body.get("pagination"), dict):
            raise RegistryError(f"ctis POST /search page {page}: no 'pagination' object")
        if not all(isinstance(row, dict) for row in body["data"]):
            raise RegistryError(f"ctis POST /search page {page}: a row is not an object")
        return body


class NotACtisAnswer(RegistryError):
    """A saved file that is not a CTIS answer (`trialbot parse --registry ctis`)."""


def read_saved(path: Path) -> Iterator[RawRecord]:
    """The trials in a saved CTIS answer, told by content: a `GET /retrieve/{ctNumber}` record
    (with or without the search row merged over its top level, as ctrdata stores it), a
    `POST /search` answer (`{"pagination": ..., "data": [row, ...]}`: each row read as the
    normaliser reads a record that has only its row), or a JSON list of either."""
    try:
        data = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise NotACtisAnswer(f"{path.name}: not a CTIS JSON answer ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        items: list[Any] = data["data"]
    elif isinstance(data, dict):
        items = [data]
    elif isinstance(data, list):
        items = data
    else:
        items = []
    trials = [i for i in items if isinstance(i, dict) and isinstance(i.get("ctNumber"), str)]
    if not trials and not (isinstance(data, dict) and data.get("data") == []):
        raise NotACtisAnswer(
            f"{path.name}: not a CTIS retrieve record, search answer or list of records "
            "(no object with a ctNumber)"
        )
    yield from trials


def _ct_number(row: Mapping[str, Any]) -> str | None:
    value = row.get("ctNumber")
    ct = value.strip().upper() if isinstance(value, str) else ""
    if not CT_NUMBER_RE.match(ct):
        log.warning("ctis: search row without a usable ctNumber (%r); skipped", str(value)[:40])
        return None
    return ct


def _describe(criteria: Mapping[str, Any]) -> str:
    """A short form of a query for logs (the cell-term list is long)."""
    text = ", ".join(f"{k}={v!r}" for k, v in criteria.items())
    return text if len(text) <= 100 else text[:97] + "..."


def _has_next(pagination: Mapping[str, Any], page: int, size: int, total: int | None) -> bool:
    """`nextPage` when CTIS sends it, else whether `totalRecords` reaches past this page."""
    flag = pagination.get("nextPage")
    if isinstance(flag, bool):
        return flag
    pages = pagination.get("totalPages")
    if isinstance(pages, int) and not isinstance(pages, bool):
        return page < pages
    return total is not None and page * size < total
