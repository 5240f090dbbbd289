"""A fake ClinicalTrials.gov Data API v2: a real HTTP server on 127.0.0.1, standard library only.

Real HTTP (not an httpx mock transport) so the client's timeouts, redirects, keep-alive and
byte counting are exercised as in production, and so a service started as a subprocess can be
pointed at it (`CTGOV_API_URL=fake.base_url`, or run this module standalone).

What it does like the real API (shared/registries.md §1):
* `GET /api/v2/version` -> `{"apiVersion": "2.0.5", "dataTimestamp": ...}`.
* `GET /api/v2/studies`: `pageSize` (default 10, 0 = default, cut to 1000), opaque `pageToken`s,
  `countTotal=true` answered on the first page only, no `nextPageToken` on the last page, unknown
  parameters -> 400 text/plain "`x` is unknown parameter".
  Evaluated filters: `filter.ids` (aliases resolve to the current record),
  `filter.overallStatus` and `filter.advanced` of the form
  `AREA[LastUpdatePostDate]RANGE[lo,hi]` (lo/hi `yyyy-MM-dd` or MIN/MAX; a partial record date
  like `2023-04` matches if any day of it is in range; records without the date only appear when
  there is no such filter). `postFilter.*` behave like `filter.*`.
  Accepted and recorded but NOT evaluated: `query.*`, `fields`, `sort`, `filter.geo`,
  `aggFilters`, ... The fake serves whatever was loaded, in load order; deciding relevance is the
  classifier's job. Any other `filter.advanced` expression answers 400 (so a test cannot silently
  pass on it).
* Page tokens: each page issues a fresh random token bound to the query (all params except
  `pageToken`, `pageSize`, `countTotal`), the result list snapshotted at page 1, and the next
  offset.
  Tokens stay valid for the server's life (a retried page may reuse one); reuse with other query
  params, or an unknown token, -> 400 text/plain.
* `GET /api/v2/studies/{nctId}` -> the study, a 301 to `/api/v2/studies/{target}` for an alias,
  404 text/plain when unknown, 400 when the id is malformed.

Test hooks: `requests`/`request_headers` recording, `bytes_sent`, and fault injection
(`fail_next`, `fail_path`, `delay_next`, `truncate_next`, `garbage_next`), all from
`tests.fakes.http_fake.FakeRegistryServer`: faults queue in order; each API request consumes one
unit of the first fault whose path filter matches (None = any API path; an exact relative path
like "/studies", or a prefix ending in "*" like "/studies/*").

Standalone: `python -m tests.fakes.ctgov_server --dir DIR [--dir DIR2] [--port N]` prints the
base URL as its first stdout line and serves until interrupted. A subprocess driver can then steer
it over HTTP with the `/_control/...` endpoints (see `_control`).
"""

from __future__ import annotations

import calendar
import copy
import json
import re
import secrets
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Unpack

from tests.fakes.http_fake import (
    Address,
    BadRequest,
    FakeRegistryServer,
    Reply,
    Request,
)

API_PREFIX = "/api/v2"
API_VERSION = "2.0.5"
DEFAULT_DATA_TIMESTAMP = "2026-01-05T09:00:06"
DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 1000

_NCT_PATH_RE = re.compile(r"^(NCT|nct)\d{8}$")
_NCT_RE = re.compile(r"^NCT\d{8}$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_RANGE_RE = re.compile(
    r"^\s*AREA\[LastUpdatePostDate\]\s*RANGE\[\s*([^,\]\s]+)\s*,\s*([^\]\s]+)\s*\]\s*$"
)

_FILTERS = ("ids", "overallStatus", "advanced", "geo", "synonyms")
STUDIES_PARAMS = frozenset(
    {
        "format",
        "markupFormat",
        "fields",
        "sort",
        "countTotal",
        "pageSize",
        "pageToken",
        "aggFilters",
        "geoDecay",
    }
    | {
        f"query.{a}"
        for a in (
            "cond",
            "term",
            "locn",
            "titles",
            "intr",
            "outc",
            "spons",
            "lead",
            "id",
            "patient",
        )
    }
    | {f"filter.{f}" for f in _FILTERS}
    | {f"postFilter.{f}" for f in _FILTERS}
)
"""Parameter names GET /studies accepts (OpenAPI ctg-oas-v2.yaml)."""
STUDY_PARAMS = frozenset({"format", "markupFormat", "fields"})
"""Parameter names GET /studies/{nctId} accepts."""
_NOT_IN_TOKEN = frozenset({"pageToken", "pageSize", "countTotal"})

GARBAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>ClinicalTrials.gov is undergoing maintenance</h1></body></html>"
)


@dataclass(frozen=True)
class _Cursor:
    signature: tuple[tuple[str, str], ...]
    ids: tuple[str, ...]
    offset: int


def _nct_id_of(study: Any) -> str:
    try:
        nct = study["protocolSection"]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        raise ValueError("study has no protocolSection.identificationModule.nctId") from None
    if not isinstance(nct, str) or not _NCT_RE.match(nct.strip().upper()):
        raise ValueError(f"malformed nctId {nct!r}")
    return nct.strip().upper()


def _period(value: str) -> tuple[str, str] | None:
    """First and last day (ISO) covered by a partial date `yyyy`, `yyyy-MM` or `yyyy-MM-dd`."""
    value = value.strip()
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-01-01", f"{value}-12-31"
    if re.fullmatch(r"\d{4}-\d{2}", value):
        year, month = int(value[:4]), int(value[5:])
        if not 1 <= month <= 12:
            return None
        return f"{value}-01", f"{value}-{calendar.monthrange(year, month)[1]:02d}"
    if _DATE_RE.match(value):
        return value, value
    return None


def _last_update(study: dict[str, Any]) -> str | None:
    struct = (
        study.get("protocolSection", {}).get("statusModule", {}).get("lastUpdatePostDateStruct", {})
    )
    value = struct.get("date") if isinstance(struct, dict) else None
    return value if isinstance(value, str) else None


def studies_in(payload: Any) -> list[dict[str, Any]]:
    """Study objects in a file's JSON: one study, a page `{"studies": [...]}`, or an array."""
    if isinstance(payload, dict) and isinstance(payload.get("studies"), list):
        items: list[Any] = payload["studies"]
    elif isinstance(payload, dict):
        items = [payload]
    elif isinstance(payload, list):
        items = payload
    else:
        items = []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("protocolSection"), dict)]


class FakeCtgov(FakeRegistryServer[tuple[str, dict[str, str]], dict[str, Any]]):
    """In-memory ClinicalTrials.gov v2 over real HTTP. Use as `with FakeCtgov() as fake:`.

    `requests` holds (path relative to /api/v2, query params) of every API request.
    """

    api_prefix = API_PREFIX
    label = "fake CT.gov"
    maintenance_page = GARBAGE_HTML

    def __init__(
        self,
        *,
        data_timestamp: str = DEFAULT_DATA_TIMESTAMP,
        api_version: str = API_VERSION,
        studies: Iterable[dict[str, Any]] = (),
        **address: Unpack[Address],
    ) -> None:
        super().__init__(**address)
        self._aliases: dict[str, str] = {}
        self._tokens: dict[str, _Cursor] = {}
        self.data_timestamp = data_timestamp
        self.api_version = api_version
        self.request_headers: list[dict[str, str]] = []
        """Headers (lower-case names) of each request, parallel to `requests`."""
        for study in studies:
            self.upsert(study)

    # -- data ----------------------------------------------------------------------------------

    def _to_store(self, study: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A study is keyed by its nctId and keeps its place in the serving order."""
        return _nct_id_of(study), copy.deepcopy(study)

    def add_alias(self, alias_id: str, target_id: str) -> None:
        """Make GET /studies/{alias} answer 301 -> /api/v2/studies/{target}."""
        with self._lock:
            self._aliases[alias_id.strip().upper()] = target_id.strip().upper()

    def study(self, nct_id: str) -> dict[str, Any] | None:
        found = self._stored(nct_id)
        return copy.deepcopy(found) if found is not None else None

    @property
    def study_ids(self) -> list[str]:
        return self.ids

    def set_data_timestamp(self, value: str) -> None:
        with self._lock:
            self.data_timestamp = value

    def bump_data_timestamp(self, seconds: int = 86400) -> str:
        """Advance dataTimestamp (default: one day, a nightly refresh); returns the new value."""
        with self._lock:
            current = datetime.strptime(self.data_timestamp, "%Y-%m-%dT%H:%M:%S")
            self.data_timestamp = (current + timedelta(seconds=seconds)).strftime(
                "%Y-%m-%dT%H:%M:%S"
            )
            return self.data_timestamp

    def load_file(self, path: str | Path) -> int:
        """Upsert every study in one JSON file (study, page or array); returns how many."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        return len(self.upsert_many(studies_in(payload)))

    # -- recording ------------------------------------------------------------------------------

    def clear_requests(self) -> None:
        with self._lock:
            super().clear_requests()
            self.request_headers.clear()

    def paths(self) -> list[str]:
        with self._lock:
            return [p for p, _ in self.requests]

    # -- HTTP ----------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        rel = self._api_path(request)
        if rel is None:
            return self._error(404, "Not Found")
        query = request.query
        with self._lock:
            self.requests.append((rel, query))
            self.request_headers.append(request.headers)
            fault = self._take_fault(request.method, rel)
            return self._answer(fault, lambda: self._api(request.method, rel, query, request))

    def _api(self, method: str, rel: str, query: dict[str, str], request: Request) -> Reply:
        if method not in ("GET", "HEAD"):
            return self._error(405, "Method Not Allowed")
        if rel == "/version":
            _reject_unknown(query, frozenset())
            return Reply.json(
                {"apiVersion": self.api_version, "dataTimestamp": self.data_timestamp}
            )
        if rel == "/studies":
            return self._search(query)
        if rel.startswith("/studies/") and rel.count("/") == 2:
            return self._one(rel.removeprefix("/studies/"), query, request.raw_query)
        return self._error(404, "Not Found")

    def _one(self, raw_id: str, query: dict[str, str], raw_query: str) -> Reply:
        _reject_unknown(query, STUDY_PARAMS)
        _only_json(query)
        if not _NCT_PATH_RE.match(raw_id):
            raise BadRequest(f"`nctId` {raw_id[:40]} does not match pattern ^(NCT|nct)\\d{{8}}$")
        nct = raw_id.upper()
        study = self._records.get(nct)
        if study is not None:
            return Reply.json(study)
        target = self._aliases.get(nct)
        if target is not None:
            location = f"{API_PREFIX}/studies/{target}" + (f"?{raw_query}" if raw_query else "")
            return self._error(301, "Moved Permanently", [("Location", location)])
        return self._error(404, f"Study {nct} not found")

    def _search(self, query: dict[str, str]) -> Reply:
        _reject_unknown(query, STUDY_PARAMS | STUDIES_PARAMS)
        _only_json(query)
        size = _page_size(query.get("pageSize"))
        signature = tuple(sorted((k, v) for k, v in query.items() if k not in _NOT_IN_TOKEN))
        token = query.get("pageToken")
        if token:
            cursor = self._tokens.get(token)
            if cursor is None:
                raise BadRequest("`pageToken` is invalid or expired")
            if cursor.signature != signature:
                raise BadRequest(
                    "`pageToken` does not belong to this query: repeat the first page's "
                    "parameters exactly"
                )
            ids, offset = cursor.ids, cursor.offset
        else:
            ids, offset = self._select(query), 0
        page_ids = ids[offset : offset + size]
        page: dict[str, Any] = {
            "studies": [self._records[i] for i in page_ids if i in self._records]
        }
        if not token and query.get("countTotal", "").lower() == "true":
            page["totalCount"] = len(ids)
        if offset + size < len(ids):
            next_token = secrets.token_urlsafe(24)
            self._tokens[next_token] = _Cursor(signature, ids, offset + size)
            page["nextPageToken"] = next_token
        return Reply.json(page)

    def _select(self, query: dict[str, str]) -> tuple[str, ...]:
        ids = list(self._records)
        for prefix in ("filter.", "postFilter."):
            wanted = query.get(prefix + "ids")
            if wanted is not None:
                ids = self._filter_ids(ids, wanted)
            statuses = query.get(prefix + "overallStatus")
            if statuses is not None:
                allowed = {s.strip().upper() for s in re.split(r"[,|]", statuses) if s.strip()}
                ids = [
                    i
                    for i in ids
                    if self._records[i]
                    .get("protocolSection", {})
                    .get("statusModule", {})
                    .get("overallStatus")
                    in allowed
                ]
            advanced = query.get(prefix + "advanced")
            if advanced is not None and advanced.strip():
                ids = self._filter_range(ids, advanced)
        return tuple(ids)

    def _filter_ids(self, ids: list[str], wanted: str) -> list[str]:
        requested: list[str] = []
        for part in re.split(r"[,|]", wanted):
            nct = part.strip().upper()
            if not nct:
                continue
            if not _NCT_RE.match(nct):
                raise BadRequest(f"`filter.ids` value {part.strip()[:40]} is not an NCT id")
            nct = nct if nct in self._records else self._aliases.get(nct, nct)
            if nct in self._records and nct not in requested:
                requested.append(nct)
        present = set(ids)
        return [i for i in requested if i in present]

    def _filter_range(self, ids: list[str], expression: str) -> list[str]:
        match = _RANGE_RE.match(expression)
        if match is None:
            raise BadRequest(
                f"fake CT.gov only understands AREA[LastUpdatePostDate]RANGE[lo,hi] in "
                f"filter.advanced, got {expression[:80]!r}"
            )
        lo, hi = match.group(1).upper(), match.group(2).upper()
        for bound in (lo, hi):
            if bound not in ("MIN", "MAX") and not _DATE_RE.match(bound):
                raise BadRequest(f"invalid RANGE bound {bound[:20]!r} (yyyy-MM-dd, MIN or MAX)")
        kept = []
        for nct in ids:
            value = _last_update(self._records[nct])
            period = _period(value) if value else None
            if period is None:
                continue
            first, last = period
            if (lo == "MIN" or last >= lo) and (hi == "MAX" or first <= hi):
                kept.append(nct)
        return kept

    def _control(self, method: str, action: str, request: Request) -> Reply:
        """HTTP steering for a fake started in another process (tests in-process use methods).

        GET  /_control/state | /_control/requests
        POST /_control/upsert (body: study, page or array) | /_control/remove?nctId=
             /_control/alias?alias=&target= | /_control/data-timestamp?value= | /_control/bump
             /_control/fault, /_control/reset: see `FakeRegistryServer._control`
        """
        query = request.query
        if method == "GET" and action == "/state":
            with self._lock:
                return Reply.json(
                    {
                        "studies": list(self._records),
                        "aliases": dict(self._aliases),
                        "dataTimestamp": self.data_timestamp,
                    }
                )
        if method == "GET" and action == "/requests":
            with self._lock:
                return Reply.json(
                    [
                        {"path": p, "query": q, "headers": h}
                        for (p, q), h in zip(self.requests, self.request_headers, strict=True)
                    ]
                )
        if method == "POST" and action == "/upsert":
            studies = studies_in(json.loads(request.body or b"null"))
            return Reply.json({"upserted": self.upsert_many(studies)})
        if method == "POST" and action == "/remove":
            self.remove(query["nctId"])
        elif method == "POST" and action == "/alias":
            self.add_alias(query["alias"], query["target"])
        elif method == "POST" and action == "/data-timestamp":
            self.set_data_timestamp(query["value"])
        elif method == "POST" and action == "/bump":
            self.bump_data_timestamp(int(query.get("seconds", "86400")))
        else:
            return super()._control(method, action, request)
        return Reply.json({"ok": True, "dataTimestamp": self.data_timestamp})


def _reject_unknown(query: dict[str, str], allowed: frozenset[str]) -> None:
    for name in query:
        if name not in allowed:
            raise BadRequest(f"`{name}` is unknown parameter")


def _only_json(query: dict[str, str]) -> None:
    if query.get("format", "json") != "json":
        raise BadRequest("fake CT.gov only serves format=json")


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"\d+", value):
        raise BadRequest(f"`pageSize` must be a non-negative integer, got {value[:20]}")
    size = int(value)
    return DEFAULT_PAGE_SIZE if size == 0 else min(size, MAX_PAGE_SIZE)


def main(argv: list[str] | None = None) -> int:
    """Serve studies from folders until SIGINT/SIGTERM; first stdout line is the base URL."""
    parser = FakeCtgov.command_line(
        __doc__, dirs="folder of *.json studies (single study, page or array); repeatable"
    )
    parser.add_argument("--data-timestamp", default=DEFAULT_DATA_TIMESTAMP)
    args = parser.parse_args(argv)
    fake = FakeCtgov(host=args.host, port=args.port, data_timestamp=args.data_timestamp)
    loaded = sum(fake.load_dir(d) for d in args.dir)
    note = f"fake CT.gov: {loaded} studies loaded ({len(fake.study_ids)} distinct ids)"
    return fake.serve_until_signalled(lambda: note)


if __name__ == "__main__":
    sys.exit(main())
