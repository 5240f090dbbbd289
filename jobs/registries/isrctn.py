"""Async client for the ISRCTN registry's public XML API (https://www.isrctn.com/api).

What the API offers (shared/registries.md 2.3, checked against public clients):
* `GET {base}/query/format/default?q=<query>&limit=<n>` answers
  `<allTrials xmlns="http://www.67bricks.com/isrctn" totalCount="N">` holding up to `limit`
  complete `<fullTrial>` records; `limit=0` answers the count alone.
* The query language is Lucene-like: `AND`/`OR` with parentheses, field tokens (`condition:`,
  `intervention:`, `title:`, ...), quoted phrases, and date comparisons such as
  `lastEdited GE 2021-04-01T00:00:00.000Z` (ctrdata's incremental term; `LT` is used by the
  dl_isrctn downloader). Plain words next to each other are ORed, so multi-word terms are
  quoted here.

Paging - there is none. No `offset` parameter could be confirmed: the knowledge_lookup ISRCTN
adapter notes (verified live 2026-10-09) say `offset`, `page`, `start`, `skip`, `from` and
`sort` are all silently ignored; ctrdata says "limit can be set to arbitrarily high number, no
pagination or batching"; dl_isrctn (steve-canham) pages by narrowing the `lastEdited` window.
Asking for `offset` would silently return the first records again, so this client pages
defensively by time window:

1. Count the window with `limit=0` (a tiny answer).
2. If the count is at most `page_size`, fetch the window in one request with `limit=count` and
   yield it as one page. If the answer holds more records than it says it has returned (records
   were edited into the window between the two requests), the window is split and redone.
3. Otherwise halve the window (`lastEdited GE lo AND lastEdited LT mid`, then `GE mid ...`) and
   repeat, oldest half first. The outermost window stays open-ended (no lower bound on a
   backfill, no upper bound ever), so no record can fall outside every window. A window of one
   second that still holds more than `page_size` records is fetched whole (`limit=count`, at
   most `MAX_LIMIT`).

A record edited during the poll can move to a later window; it is yielded once (the first
time). The next poll's overlap catches the newer version.

Other choices:
* `fetch_ids` searches for the ids themselves (`q=ISRCTN1 OR ISRCTN2 ...`) and keeps exact
  matches. The single-trial endpoint `/trial/ISRCTN.../format/default` is not used: for a
  well-formed id that does not exist it answers an HTML 500 (knowledge_lookup notes), which
  would be retried as an outage. A record that mentions a requested id in its own text is
  also returned by that search and is dropped here.
* Requests go through `PoliteHttp` (spacing, retries with backoff on 429/5xx/network errors,
  other 4xx fail at once). A broken body (not XML, a DTD, a root other than `<allTrials>`, no
  `totalCount`, fewer records than announced) raises RegistryError: the poll stores nothing
  from that answer.
* XML is parsed with the standard library after refusing any `<!DOCTYPE`/`<!ENTITY`
  (defusedxml is not installed), so no entity is ever expanded or fetched.
* The search is broad (jobs/search_terms.py: stroke vocabulary in `condition:` AND cell-therapy
  vocabulary in `intervention:` or `title:`); the classifier downstream decides what is relevant.
* ISRCTN has no data-snapshot marker: `data_version()` is None, every poll searches.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from jobs import search_terms
from jobs.registries import isrctn_record
from jobs.registries.base import RawRecord, RegistryError
from jobs.registries.http import DEFAULT_HTTP, HttpOptions, RegistryClient
from trialbot.model import Trial
from trialbot.settings import Settings

log = logging.getLogger(__name__)


class IsrctnError(RegistryError):
    """ISRCTN could not be read, or an answer (fetched or saved) is not an ISRCTN answer."""


ISRCTN_ID_RE = re.compile(r"^ISRCTN\d{8}$")
SEARCH_PATH = "query/format/default"

CONDITION_TERMS: tuple[str, ...] = search_terms.with_plurals(
    search_terms.without_longer_phrases(search_terms.with_british(search_terms.STROKE_TERMS))
)
"""Stroke vocabulary for `condition:` (ORed), British and US spellings and plurals: ISRCTN
records are mostly British, and no stemming or synonym expansion by the API could be confirmed.
A term holding a shorter one as whole words is left out (`condition:stroke` already finds
"haemorrhagic stroke"), which keeps the URL short."""

INTERVENTION_TERMS: tuple[str, ...] = search_terms.with_plurals(
    search_terms.with_british(search_terms.CELL_TERMS)
)
"""Cell-therapy vocabulary, searched in `intervention:` and `title:` (ORed), singular and plural
(phrase matching does not stem). The query is about 4,000 URL characters with a date window;
no ISRCTN limit is documented, and tests keep it under the 6,000 assumed for CT.gov."""

_PLAIN_TERM = re.compile(r"^[A-Za-z0-9]+$")
MAX_LIMIT = 2000
"""Most records ever asked for in one request (a one-second window that somehow holds more
is a broken answer, not something to download)."""
MAX_IDS_PER_REQUEST = 50
"""`ISRCTN12345678 OR ` costs ~22 URL characters, so 50 ids keep the URL near 1,100."""
_MAX_REQUESTS = 10_000
WINDOW_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)
"""Lower end used to halve an open-ended backfill window (ISRCTN started in 2000); the
oldest window itself stays open-ended."""
MIN_WINDOW = timedelta(seconds=1)


def field_or(field: str, terms: Iterable[str]) -> str:
    """`field:a OR field:"b c" ...`: multi-word or punctuated terms are quoted phrases."""
    return " OR ".join(f"{field}:{t}" if _PLAIN_TERM.match(t) else f'{field}:"{t}"' for t in terms)


CONDITION_QUERY = "(" + field_or("condition", CONDITION_TERMS) + ")"
INTERVENTION_QUERY = (
    "("
    + field_or("intervention", INTERVENTION_TERMS)
    + " OR "
    + field_or("title", INTERVENTION_TERMS)
    + ")"
)
SEARCH_QUERY = f"{CONDITION_QUERY} AND {INTERVENTION_QUERY}"


def api_time(moment: datetime) -> str:
    """The API's timestamp form, e.g. `2021-04-01T00:00:00.000Z` (UTC)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def last_edited_filter(lo: datetime | None, hi: datetime | None) -> str:
    """`lastEdited GE lo AND lastEdited LT hi` (either side may be open); "" if both are."""
    parts = []
    if lo is not None:
        parts.append(f"lastEdited GE {api_time(lo)}")
    if hi is not None:
        parts.append(f"lastEdited LT {api_time(hi)}")
    return " AND ".join(parts)


def with_window(query: str, lo: datetime | None, hi: datetime | None) -> str:
    """`(query) AND lastEdited ...`: parenthesised so a top-level OR cannot swallow the window."""
    window = last_edited_filter(lo, hi)
    return f"({query}) AND {window}" if window else query


def _utc_today() -> date:
    return datetime.now(UTC).date()


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class _Window:
    lo: datetime
    hi: datetime
    open_lo: bool
    open_hi: bool

    @property
    def query_lo(self) -> datetime | None:
        return None if self.open_lo else self.lo

    @property
    def query_hi(self) -> datetime | None:
        return None if self.open_hi else self.hi

    def splittable(self) -> bool:
        return self.hi - self.lo > MIN_WINDOW

    def halves(self) -> tuple[_Window, _Window]:
        mid = self.lo + (self.hi - self.lo) / 2
        mid = mid.replace(microsecond=0)
        if mid <= self.lo:
            mid = self.lo + MIN_WINDOW
        return (
            _Window(self.lo, mid, self.open_lo, False),
            _Window(mid, self.hi, False, self.open_hi),
        )


@dataclass(frozen=True)
class SearchPage:
    """One parsed `<allTrials>` answer."""

    total: int
    records: list[RawRecord]


def parse_search_page(body: bytes, where: str) -> SearchPage:
    """`<allTrials totalCount=N><fullTrial/>...</allTrials>` -> SearchPage, or RegistryError."""
    try:
        root = isrctn_record.parse_xml(body)
    except ValueError as exc:
        raise IsrctnError(f"isrctn {where}: body refused ({exc}; {len(body)} bytes)") from None
    name = isrctn_record.local_name(root.tag)
    if name != "allTrials":
        raise IsrctnError(f"isrctn {where}: answer root is <{name[:40]}>, not <allTrials>")
    raw_total = (root.get("totalCount") or "").strip()
    if not raw_total.isdigit():
        raise IsrctnError(f"isrctn {where}: answer has no usable totalCount ({raw_total[:20]!r})")
    records = [
        raw_record(child) for child in root if isrctn_record.local_name(child.tag) == "fullTrial"
    ]
    return SearchPage(total=int(raw_total), records=records)


def read_saved(path: Path) -> Iterator[RawRecord]:
    """The `<fullTrial>` records of an ISRCTN XML answer saved to a file: a search answer
    (`<allTrials>`, empty or not) or one `<fullTrial>`. The format is told by content, not by
    the file's name; anything else raises IsrctnError saying what the file holds instead."""
    try:
        root = isrctn_record.parse_xml(path.read_bytes())
    except ValueError as exc:
        raise IsrctnError(f"{path.name}: not an ISRCTN XML answer ({exc})") from None
    name = isrctn_record.local_name(root.tag)
    if name == "fullTrial":
        yield raw_record(root)
    elif name == "allTrials":
        yield from (
            raw_record(child)
            for child in root
            if isrctn_record.local_name(child.tag) == "fullTrial"
        )
    else:
        raise IsrctnError(
            f"{path.name}: root element is <{name[:40]}>; an ISRCTN answer is <allTrials> "
            "(a search) or <fullTrial> (one record)"
        )


def raw_record(full_trial: ET.Element) -> RawRecord:
    """One `<fullTrial>` element (consumed: its tags are rewritten) as the normaliser's dict.

    The XML keeps the registry namespace as a default `xmlns`, not as `ns0:` prefixes.
    """
    trial = next((c for c in full_trial if isrctn_record.local_name(c.tag) == "trial"), None)
    return {"isrctn": isrctn_record.record_id_of(trial), "xml": element_xml(full_trial)}


def element_xml(elem: ET.Element) -> str:
    """Serialise an element whose tags share one namespace with that namespace as default.

    (ElementTree's own `default_namespace=` refuses unqualified attribute names, which every
    ISRCTN record has.) Tags in another namespace keep their prefixed form.
    """
    tag = elem.tag if isinstance(elem.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else None
    if namespace:
        prefix = "{" + namespace + "}"
        for node in elem.iter():
            if isinstance(node.tag, str) and node.tag.startswith(prefix):
                node.tag = node.tag[len(prefix) :]
        elem.set("xmlns", namespace)
    return ET.tostring(elem, encoding="unicode")


def normalise_id(raw_id: str) -> str | None:
    """`isrctn 12345678` / `ISRCTN12345678` / `12345678` -> `ISRCTN12345678`; None if not one."""
    if not isinstance(raw_id, str):
        return None
    compact = re.sub(r"\s+", "", raw_id).upper()
    if re.fullmatch(r"\d{8}", compact):
        compact = "ISRCTN" + compact
    return compact if ISRCTN_ID_RE.match(compact) else None


class IsrctnClient(RegistryClient):
    """ISRCTN as a `Registry`: windowed broad search, id batches, derived status."""

    name = "isrctn"
    setting = "ISRCTN_API_URL"
    ids_per_fetch: int | None = None
    accept = "application/xml"

    def __init__(
        self,
        base_url: str,
        *,
        page_size: int = 100,
        http: HttpOptions = DEFAULT_HTTP,
        today: Callable[[], date] = _utc_today,
        now: Callable[[], datetime] = _utc_now,
        query: str = SEARCH_QUERY,
    ) -> None:
        if not 1 <= page_size <= MAX_LIMIT:
            raise ValueError(f"page_size must be 1..{MAX_LIMIT}")
        super().__init__(base_url, http)
        self.base_url = self._http.base_url
        self.page_size = page_size
        self.query = query
        self._today = today
        self._now = now
        self.last_total_count: int | None = None
        """Count of the whole `changed_since` search (its first, unsplit window)."""

    @classmethod
    def from_settings(cls, settings: Settings) -> IsrctnClient:
        """The production client, configured from the environment."""
        http = HttpOptions.from_settings(
            settings, min_interval=settings.isrctn_min_interval_seconds
        )
        return cls(settings.isrctn_api_url, http=http)

    # -- Registry API --------------------------------------------------------------------------

    async def data_version(self) -> str | None:
        """ISRCTN publishes no snapshot marker: never skip a poll."""
        return None

    async def probe(self) -> str | None:
        """One real count request (for `trialbot doctor`): how many records the broad search
        matches. Raises RegistryError when ISRCTN cannot be read."""
        total = (await self._search(self.query, 0)).total
        return f"{total} candidate trial(s) for the stroke x cell-therapy search"

    async def count_matching(self) -> int | None:
        """The broad search's count without a date window (one `limit=0` request)."""
        return (await self._search(self.query, 0)).total

    async def changed_since(self, since: date | None) -> AsyncIterator[list[RawRecord]]:
        """Pages of candidates edited on/after `since` (UTC midnight); None = backfill.

        `since` is used as given: the caller has already subtracted its overlap.
        """
        hi = max(self._now().astimezone(UTC), WINDOW_FLOOR) + timedelta(days=1)
        if since is None:
            first = _Window(WINDOW_FLOOR, hi, open_lo=True, open_hi=True)
        else:
            lo = datetime.combine(since, time(0), tzinfo=UTC)
            first = _Window(lo, max(hi, lo + MIN_WINDOW), open_lo=False, open_hi=True)
        self.last_total_count = None
        seen: set[str] = set()
        stack = [first]
        requests = 0
        while stack:
            window = stack.pop()
            query = with_window(self.query, window.query_lo, window.query_hi)
            count = (await self._search(query, 0)).total
            requests += 1
            if window is first:
                self.last_total_count = count
            if count == 0:
                continue
            if count > self.page_size and window.splittable():
                older, newer = window.halves()
                stack += [newer, older]
                continue
            if count > MAX_LIMIT:
                raise IsrctnError(
                    f"isrctn: {count} records edited within one second at "
                    f"{api_time(window.lo)}; refusing to download them in one answer"
                )
            page = await self._search(query, count)
            requests += 1
            if page.total > len(page.records) and window.splittable():
                log.info(
                    "isrctn: window grew while it was read (%d > %d); splitting", page.total, count
                )
                older, newer = window.halves()
                stack += [newer, older]
                continue
            if page.total > len(page.records):
                page = await self._search(query, min(page.total, MAX_LIMIT))
                requests += 1
            fresh = []
            for record in page.records:
                key = record.get("isrctn")
                if isinstance(key, str):
                    if key in seen:
                        log.debug("isrctn: %s seen in an earlier window; skipped", key)
                        continue
                    seen.add(key)
                fresh.append(record)
            yield fresh
            if requests > _MAX_REQUESTS:
                raise IsrctnError(f"isrctn: more than {_MAX_REQUESTS} requests; giving up")

    async def fetch_ids(self, ids: Sequence[str]) -> AsyncIterator[list[RawRecord]]:
        """Pages of full records for known ids; ids that no longer exist are logged and skipped."""
        wanted: list[str] = []
        for raw_id in ids:
            isrctn = normalise_id(raw_id)
            if isrctn is None:
                log.warning("isrctn: skipping malformed ISRCTN id %r", str(raw_id)[:40])
            elif isrctn not in wanted:
                wanted.append(isrctn)
        batch_size = min(self.page_size, MAX_IDS_PER_REQUEST)
        for start in range(0, len(wanted), batch_size):
            batch = wanted[start : start + batch_size]
            records = await self._by_ids(batch)
            missing = [i for i in batch if i not in records]
            if missing:
                log.info(
                    "isrctn: %d id(s) not returned (gone?): %s",
                    len(missing),
                    ", ".join(missing[:20]) + (" ..." if len(missing) > 20 else ""),
                )
            yield [records[i] for i in batch if i in records]

    async def fetch_one(self, isrctn_id: str) -> RawRecord | None:
        """One full record, or None if the registry does not have it."""
        isrctn = normalise_id(isrctn_id)
        if isrctn is None:
            raise ValueError(f"not an ISRCTN id: {isrctn_id[:40]!r}")
        return (await self._by_ids([isrctn])).get(isrctn)

    def normalise(self, raw: RawRecord) -> Trial:
        return isrctn_record.normalise(raw, self._today())

    # -- internals ---------------------------------------------------------------------------

    async def _by_ids(self, batch: list[str]) -> dict[str, RawRecord]:
        query = " OR ".join(batch)
        page = await self._search(query, len(batch) * 2)
        if page.total > len(page.records):  # other records mention these ids: ask for all
            if page.total > MAX_LIMIT:
                raise IsrctnError(f"isrctn: id search matched {page.total} records")
            page = await self._search(query, page.total)
        found: dict[str, RawRecord] = {}
        for record in page.records:
            key = record.get("isrctn")
            if isinstance(key, str) and key in batch and key not in found:
                found[key] = record
        return found

    async def _search(self, query: str, limit: int) -> SearchPage:
        params: Mapping[str, str] = {"q": query, "limit": str(limit)}
        response = await self._http.request("GET", SEARCH_PATH, params)
        where = f"GET /{SEARCH_PATH} (limit={limit})"
        page = parse_search_page(response.content, where)
        expected = min(limit, page.total)
        if len(page.records) < expected:
            raise IsrctnError(
                f"isrctn {where}: answer holds {len(page.records)} records, "
                f"expected {expected} of totalCount {page.total}"
            )
        if limit == 0 and page.records:
            log.debug("isrctn: a count request returned %d records", len(page.records))
        return page
