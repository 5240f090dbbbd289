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
(`fail_next`, `fail_path`, `delay_next`, `truncate_next`, `garbage_next`). Faults queue in order;
each API request consumes one unit of the first fault whose path filter matches (None = any API
path; an exact relative path like "/studies", or a prefix ending in "*" like "/studies/*").

Standalone: `python -m tests.fakes.ctgov_server --dir DIR [--dir DIR2] [--port N]` prints the
base URL as its first stdout line and serves until interrupted. A subprocess driver can then steer
it over HTTP with the `/_control/...` endpoints (see `_control`).
"""

from __future__ import annotations

import argparse
import calendar
import copy
import json
import re
import secrets
import signal
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.http_fake import Reply as _Reply

API_PREFIX = "/api/v2"
CONTROL_PREFIX = "/_control"
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

FaultKind = Literal["status", "delay", "truncate", "garbage"]
GARBAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
    b"<body><h1>ClinicalTrials.gov is undergoing maintenance</h1></body></html>"
)


class _BadRequest(Exception):
    """A request the real API would answer with 400 text/plain."""


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    path: str | None = None
    status: int = 503
    retry_after: str | None = None
    body: str | None = None
    seconds: float = 0.0
    cut_connection: bool = False
    after: int = 0
    """Let this many matching requests through before the fault starts."""

    def matches(self, rel_path: str) -> bool:
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return rel_path.startswith(self.path[:-1])
        return rel_path == self.path


@dataclass(frozen=True)
class _Cursor:
    signature: tuple[tuple[str, str], ...]
    ids: tuple[str, ...]
    offset: int


def _text(status: int, message: str, **extra: Any) -> _Reply:
    return _Reply(status, message.encode("utf-8"), **extra)


def _json(payload: Any, status: int = 200) -> _Reply:
    body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    return _Reply(status, body, "application/json")


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


class FakeCtgov(FakeHttpServer):
    """In-memory ClinicalTrials.gov v2 over real HTTP. Use as `with FakeCtgov() as fake:`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_timestamp: str = DEFAULT_DATA_TIMESTAMP,
        api_version: str = API_VERSION,
        studies: Iterable[dict[str, Any]] = (),
    ) -> None:
        super().__init__(host=host, port=port)
        self._lock = threading.RLock()
        self._studies: dict[str, dict[str, Any]] = {}
        self._aliases: dict[str, str] = {}
        self._tokens: dict[str, _Cursor] = {}
        self._faults: list[_Fault] = []
        self.data_timestamp = data_timestamp
        self.api_version = api_version
        self.requests: list[tuple[str, dict[str, str]]] = []
        """(path relative to /api/v2, query params) of every API request, faulted ones too."""
        self.request_headers: list[dict[str, str]] = []
        """Headers (lower-case names) of each request, parallel to `requests`."""
        self.bytes_sent = 0
        """Response body bytes written for API requests (headers not counted)."""
        for study in studies:
            self.upsert(study)

    @property
    def base_url(self) -> str:
        """What the client is configured with, e.g. http://127.0.0.1:PORT/api/v2."""
        return self.root_url + API_PREFIX

    # -- data ----------------------------------------------------------------------------------

    def upsert(self, study: dict[str, Any]) -> str:
        """Add or replace a study (keyed by nctId; keeps its place in the serving order)."""
        nct = _nct_id_of(study)
        with self._lock:
            self._studies[nct] = copy.deepcopy(study)
        return nct

    def upsert_many(self, studies: Iterable[dict[str, Any]]) -> list[str]:
        return [self.upsert(s) for s in studies]

    def remove(self, nct_id: str) -> None:
        with self._lock:
            self._studies.pop(nct_id.strip().upper(), None)

    def add_alias(self, alias_id: str, target_id: str) -> None:
        """Make GET /studies/{alias} answer 301 -> /api/v2/studies/{target}."""
        with self._lock:
            self._aliases[alias_id.strip().upper()] = target_id.strip().upper()

    def study(self, nct_id: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._studies.get(nct_id.strip().upper())
            return copy.deepcopy(found) if found is not None else None

    @property
    def study_ids(self) -> list[str]:
        with self._lock:
            return list(self._studies)

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

    def load_dir(self, directory: str | Path) -> int:
        """Upsert every *.json in `directory` in name order (later snapshots of an id win)."""
        return sum(self.load_file(p) for p in sorted(Path(directory).glob("*.json")))

    # -- recording and faults -----------------------------------------------------------------

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()
            self.request_headers.clear()
            self.bytes_sent = 0

    def paths(self) -> list[str]:
        with self._lock:
            return [p for p, _ in self.requests]

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        retry_after: str | float | None = None,
        body: str | None = None,
        *,
        path: str | None = None,
        after: int = 0,
    ) -> None:
        """Answer the next `n` matching requests with `status` (+ Retry-After, text body).

        `after` lets that many matching requests succeed first (e.g. fail on page 2).
        """
        self._add_fault(
            _Fault(
                "status",
                n,
                path,
                status=status,
                body=body,
                retry_after=None if retry_after is None else _ra(retry_after),
                after=after,
            )
        )

    def fail_path(
        self,
        path: str,
        n: int = 1,
        status: int = 503,
        retry_after: str | float | None = None,
        body: str | None = None,
    ) -> None:
        """`fail_next` restricted to one relative path ("/studies", "/version", "/studies/*")."""
        self.fail_next(n, status, retry_after, body, path=path)

    def delay_next(self, n: int, seconds: float, *, path: str | None = None) -> None:
        """Hold the next `n` answers for `seconds` before sending anything (client timeouts)."""
        self._add_fault(_Fault("delay", n, path, seconds=seconds))

    def truncate_next(
        self, n: int = 1, *, path: str | None = None, cut_connection: bool = False
    ) -> None:
        """Send only the first half of the next `n` bodies.

        Default: a complete, correct-looking 200 whose Content-Length matches the cut JSON (what a
        broken proxy produces; the client sees invalid JSON). `cut_connection=True` instead declares
        the full length and closes early (the client sees a transport error and may retry).
        """
        self._add_fault(_Fault("truncate", n, path, cut_connection=cut_connection))

    def garbage_next(self, n: int = 1, *, path: str | None = None, after: int = 0) -> None:
        """Answer the next `n` requests with 200 and an HTML maintenance page."""
        self._add_fault(_Fault("garbage", n, path, after=after))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _add_fault(self, fault: _Fault) -> None:
        if fault.remaining < 1:
            raise ValueError("n must be >= 1")
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, rel_path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.matches(rel_path):
                if fault.after > 0:
                    fault.after -= 1
                    continue
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def _count_sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    # -- HTTP ----------------------------------------------------------------------------------

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], body: bytes) -> _Reply:
        """Route one request (called from handler threads)."""
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        if parts.path.startswith(CONTROL_PREFIX + "/"):
            try:
                return self._control(method, parts.path[len(CONTROL_PREFIX) :], query, body)
            except (ValueError, KeyError, TypeError) as exc:
                return _text(400, f"control error: {exc}")
        if parts.path != API_PREFIX and not parts.path.startswith(API_PREFIX + "/"):
            return _text(404, "Not Found")
        rel = parts.path[len(API_PREFIX) :] or "/"
        with self._lock:
            self.requests.append((rel, query))
            self.request_headers.append(headers)
            fault = self._take_fault(rel)
            if fault is not None and fault.kind == "status":
                extra = [("Retry-After", fault.retry_after)] if fault.retry_after else []
                return _text(
                    fault.status, fault.body or f"fake: injected HTTP {fault.status}", headers=extra
                )
            if fault is not None and fault.kind == "garbage":
                return _Reply(200, GARBAGE_HTML, "text/html; charset=utf-8")
            if method not in ("GET", "HEAD"):
                reply = _text(405, "Method Not Allowed")
            else:
                try:
                    reply = self._api(rel, query, parts.query)
                except _BadRequest as exc:
                    reply = _text(400, str(exc))
                except Exception as exc:  # a bug in the fake or a malformed loaded study
                    reply = _text(500, f"fake CT.gov internal error: {exc!r}"[:500])
        if fault is not None and fault.kind == "delay":
            reply.delay = fault.seconds
        if fault is not None and fault.kind == "truncate":
            reply.send_bytes = max(1, len(reply.body) // 2)
            reply.cut_connection = fault.cut_connection
        return reply

    def _api(self, rel: str, query: dict[str, str], raw_query: str) -> _Reply:
        if rel == "/version":
            _reject_unknown(query, frozenset())
            return _json({"apiVersion": self.api_version, "dataTimestamp": self.data_timestamp})
        if rel == "/studies":
            return self._search(query)
        if rel.startswith("/studies/") and rel.count("/") == 2:
            return self._one(rel.removeprefix("/studies/"), query, raw_query)
        return _text(404, "Not Found")

    def _one(self, raw_id: str, query: dict[str, str], raw_query: str) -> _Reply:
        _reject_unknown(query, STUDY_PARAMS)
        _only_json(query)
        if not _NCT_PATH_RE.match(raw_id):
            raise _BadRequest(f"`nctId` {raw_id[:40]} does not match pattern ^(NCT|nct)\\d{{8}}$")
        nct = raw_id.upper()
        study = self._studies.get(nct)
        if study is not None:
            return _json(study)
        target = self._aliases.get(nct)
        if target is not None:
            location = f"{API_PREFIX}/studies/{target}" + (f"?{raw_query}" if raw_query else "")
            return _text(301, "Moved Permanently", headers=[("Location", location)])
        return _text(404, f"Study {nct} not found")

    def _search(self, query: dict[str, str]) -> _Reply:
        _reject_unknown(query, STUDY_PARAMS | STUDIES_PARAMS)
        _only_json(query)
        size = _page_size(query.get("pageSize"))
        signature = tuple(sorted((k, v) for k, v in query.items() if k not in _NOT_IN_TOKEN))
        token = query.get("pageToken")
        if token:
            cursor = self._tokens.get(token)
            if cursor is None:
                raise _BadRequest("`pageToken` is invalid or expired")
            if cursor.signature != signature:
                raise _BadRequest(
                    "`pageToken` does not belong to this query: repeat the first page's "
                    "parameters exactly"
                )
            ids, offset = cursor.ids, cursor.offset
        else:
            ids, offset = self._select(query), 0
        page_ids = ids[offset : offset + size]
        page: dict[str, Any] = {
            "studies": [self._studies[i] for i in page_ids if i in self._studies]
        }
        if not token and query.get("countTotal", "").lower() == "true":
            page["totalCount"] = len(ids)
        if offset + size < len(ids):
            next_token = secrets.token_urlsafe(24)
            self._tokens[next_token] = _Cursor(signature, ids, offset + size)
            page["nextPageToken"] = next_token
        return _json(page)

    def _select(self, query: dict[str, str]) -> tuple[str, ...]:
        ids = list(self._studies)
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
                    if self._studies[i]
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
                raise _BadRequest(f"`filter.ids` value {part.strip()[:40]} is not an NCT id")
            nct = nct if nct in self._studies else self._aliases.get(nct, nct)
            if nct in self._studies and nct not in requested:
                requested.append(nct)
        present = set(ids)
        return [i for i in requested if i in present]

    def _filter_range(self, ids: list[str], expression: str) -> list[str]:
        match = _RANGE_RE.match(expression)
        if match is None:
            raise _BadRequest(
                f"fake CT.gov only understands AREA[LastUpdatePostDate]RANGE[lo,hi] in "
                f"filter.advanced, got {expression[:80]!r}"
            )
        lo, hi = match.group(1).upper(), match.group(2).upper()
        for bound in (lo, hi):
            if bound not in ("MIN", "MAX") and not _DATE_RE.match(bound):
                raise _BadRequest(f"invalid RANGE bound {bound[:20]!r} (yyyy-MM-dd, MIN or MAX)")
        kept = []
        for nct in ids:
            value = _last_update(self._studies[nct])
            period = _period(value) if value else None
            if period is None:
                continue
            first, last = period
            if (lo == "MIN" or last >= lo) and (hi == "MAX" or first <= hi):
                kept.append(nct)
        return kept

    def _control(self, method: str, action: str, query: dict[str, str], body: bytes) -> _Reply:
        """HTTP steering for a fake started in another process (tests in-process use methods).

        GET  /_control/state | /_control/requests
        POST /_control/upsert (body: study, page or array) | /_control/remove?nctId=
             /_control/alias?alias=&target= | /_control/data-timestamp?value= | /_control/bump
             /_control/fault (JSON: kind, n, status, retry_after, body, seconds, path)
             /_control/reset (clears requests and faults)
        """
        if method == "GET" and action == "/state":
            with self._lock:
                return _json(
                    {
                        "studies": list(self._studies),
                        "aliases": dict(self._aliases),
                        "dataTimestamp": self.data_timestamp,
                    }
                )
        if method == "GET" and action == "/requests":
            with self._lock:
                return _json(
                    [
                        {"path": p, "query": q, "headers": h}
                        for (p, q), h in zip(self.requests, self.request_headers, strict=True)
                    ]
                )
        if method != "POST":
            return _text(405, "Method Not Allowed")
        if action == "/upsert":
            return _json({"upserted": self.upsert_many(studies_in(json.loads(body or b"null")))})
        if action == "/remove":
            self.remove(query["nctId"])
        elif action == "/alias":
            self.add_alias(query["alias"], query["target"])
        elif action == "/data-timestamp":
            self.set_data_timestamp(query["value"])
        elif action == "/bump":
            self.bump_data_timestamp(int(query.get("seconds", "86400")))
        elif action == "/fault":
            spec = json.loads(body or b"{}")
            self._add_fault(
                _Fault(
                    kind=spec.get("kind", "status"),
                    remaining=int(spec.get("n", 1)),
                    path=spec.get("path"),
                    status=int(spec.get("status", 503)),
                    retry_after=None
                    if spec.get("retry_after") is None
                    else _ra(spec["retry_after"]),
                    body=spec.get("body"),
                    seconds=float(spec.get("seconds", 0.0)),
                    cut_connection=bool(spec.get("cut_connection", False)),
                )
            )
        elif action == "/reset":
            self.clear_requests()
            self.clear_faults()
        else:
            return _text(404, f"unknown control action {action}")
        return _json({"ok": True, "dataTimestamp": self.data_timestamp})


def _ra(value: str | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _reject_unknown(query: dict[str, str], allowed: frozenset[str]) -> None:
    for name in query:
        if name not in allowed:
            raise _BadRequest(f"`{name}` is unknown parameter")


def _only_json(query: dict[str, str]) -> None:
    if query.get("format", "json") != "json":
        raise _BadRequest("fake CT.gov only serves format=json")


def _page_size(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_PAGE_SIZE
    if not re.fullmatch(r"\d+", value):
        raise _BadRequest(f"`pageSize` must be a non-negative integer, got {value[:20]}")
    size = int(value)
    return DEFAULT_PAGE_SIZE if size == 0 else min(size, MAX_PAGE_SIZE)


def main(argv: list[str] | None = None) -> int:
    """Serve studies from folders until SIGINT/SIGTERM; first stdout line is the base URL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dir",
        action="append",
        default=[],
        type=Path,
        help="folder of *.json studies (single study, page or array); repeatable",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    parser.add_argument("--data-timestamp", default=DEFAULT_DATA_TIMESTAMP)
    args = parser.parse_args(argv)
    fake = FakeCtgov(host=args.host, port=args.port, data_timestamp=args.data_timestamp)
    loaded = sum(fake.load_dir(d) for d in args.dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake:
        print(fake.base_url, flush=True)
        print(
            f"fake CT.gov: {loaded} studies loaded ({len(fake.study_ids)} distinct ids)",
            file=sys.stderr,
            flush=True,
        )
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
