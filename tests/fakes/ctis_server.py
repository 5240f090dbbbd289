"""A fake EU CTIS public API: a real HTTP server on 127.0.0.1, standard library only.

Real HTTP (not an httpx mock transport) so the client's timeouts, retries and byte counting are
exercised as in production, and so a service started as a subprocess can be pointed at it
(`CTIS_API_URL=fake.base_url`, or run this module standalone).

It stores full trial records (the JSON of `GET /retrieve/{ctNumber}`, e.g. from `built_record`
or tests/fixtures/ctis/) and serves, under `/ctis-public-api` (shared/registries.md §2.1):

* `POST /search` with a JSON body `{"pagination":{"page":P,"size":N},"sort":{...},
  "searchCriteria":{...}}` -> `{"pagination":{"page","size","totalRecords","totalPages",
  "currentPage","nextPage","previousPage"},"data":[row, ...]}`. Rows are built from the stored
  records in the documented row shape (`ctNumber`, `ctStatus`, `ctTitle`, `shortTitle`,
  `conditions`, `product`, `sponsor`, `trialPhase`, `trialCountries` ["France:2"],
  `decisionDateOverall`/`lastUpdated` as `dd/mm/yyyy`, ...); `lastUpdated` comes from the
  record's `publishDate`.
  - Pages are 1-based. Page 0 answers 200 with `totalRecords: 0` and no rows, as the real one
    does; a negative page, a size outside 1..`max_page_size`, a body that is not a JSON object
    or lacks `pagination` answer 400.
  - Rows are ordered by `decisionDate` (the direction is honoured, any other sort property is
    ignored, as reported for the real API), ties by ctNumber.
  - At most `max_rows` (10,000) rows are reachable per query: later pages come back empty with
    `nextPage: false` while `totalRecords` still gives the full count.
  - Evaluated criteria: `medicalCondition` (case-insensitive substring of one of the record's
    conditions), `containAll` / `containAny` / `containNot` (comma-separated terms, each a
    case-insensitive substring of the record's text = every string value in it), `title`,
    `number` (exact ctNumber), `productName`, `status` (list of `ctPublicStatusCode`s). Other
    known keys are accepted only when null/empty; an unknown key, or a known one this fake does
    not evaluate given a value, answers 400 (stricter than the real API, which ignores them,
    so a test cannot silently pass on a filter nobody evaluates). There is no date filter: the
    real API ignores `lastUpdatedFrom`/`decisionDateFrom`, clients filter on `lastUpdated`.
* `GET /retrieve/{ctNumber}` -> the stored record; 404 when unknown, 400 when the number is
  malformed.

Test hooks: `requests` ((method, path+query relative to the API root, parsed JSON body or
None) of every API request, faulted ones too), fault injection (`fail_next`, `garbage_next`,
each with an optional path filter: an exact relative path like "/search" or a prefix ending in
"*" like "/retrieve/*"). `built_record` makes a record of one trial in CTIS shape for
cross-registry tests.

Standalone: `python -m tests.fakes.ctis_server --dir DIR [--port N]` prints the base URL as its
first stdout line and serves until interrupted; steer it over HTTP with `/_control/...`.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import math
import re
import signal
import sys
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from tests.fakes.http_fake import FakeHttpServer
from tests.fakes.http_fake import Reply as _Reply
from trialbot.countries import to_iso2

API_PREFIX = "/ctis-public-api"
CONTROL_PREFIX = "/_control"
MAX_ROWS = 10_000
MAX_PAGE_SIZE = 1000
DEFAULT_STATUS = "Ongoing, recruiting"
DEFAULT_PHASE = "Therapeutic exploratory (Phase II)"

CT_NUMBER_RE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}$")
_NCT_RE = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
_ISRCTN_RE = re.compile(r"^ISRCTN\d{8}$", re.IGNORECASE)
_EUDRACT_RE = re.compile(r"^\d{4}-\d{6}-\d{2}$")
_CELL_WORDS = re.compile(r"\bcells?\b|stem|stromal|mesenchymal|progenitor", re.IGNORECASE)

EVALUATED_CRITERIA = frozenset(
    {
        "containAll",
        "containAny",
        "containNot",
        "title",
        "number",
        "medicalCondition",
        "productName",
        "status",
    }
)
KNOWN_CRITERIA = EVALUATED_CRITERIA | frozenset(
    {
        "sponsor",
        "endPoint",
        "productRole",
        "populationType",
        "orphanDesignation",
        "msc",
        "ageGroupCode",
        "therapeuticAreaCode",
        "trialPhaseCode",
        "sponsorTypeCode",
        "gender",
        "protocolCode",
        "rareDisease",
        "pip",
        "haveOrphanDesignation",
        "hasStudyResults",
        "hasClinicalStudyReport",
        "isLowIntervention",
        "hasSeriousBreach",
        "hasUnexpectedEvent",
        "hasUrgentSafetyMeasure",
        "isTransitioned",
        "eudraCtCode",
        "trialRegion",
        "vulnerablePopulation",
        "mscStatus",
        "eeaStartDateFrom",
        "eeaStartDateTo",
        "eeaEndDateFrom",
        "eeaEndDateTo",
        "lastUpdatedFrom",
        "lastUpdatedTo",
        "decisionDateFrom",
        "decisionDateTo",
    }
)
"""searchCriteria keys public clients send (ctrdata's generator, the portal's own template)."""

FaultKind = Literal["status", "garbage"]
GARBAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
    b"<body><h1>The CTIS public portal is temporarily unavailable</h1></body></html>"
)


class _BadRequest(Exception):
    """A request the fake answers with 400 (JSON error body, like the portal's gateway)."""


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    path: str | None = None
    status: int = 503
    retry_after: str | None = None
    body: str | None = None
    after: int = 0

    def matches(self, rel_path: str) -> bool:
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return rel_path.startswith(self.path[:-1])
        return rel_path == self.path


JSON = "application/json"


def _json(payload: Any, status: int = 200) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), JSON)


def _error(status: int, message: str, **extra: Any) -> _Reply:
    payload = {"status": status, "error": message}
    return _Reply(status, json.dumps(payload).encode("utf-8"), JSON, **extra)


# -- reading stored records (tolerant: fixtures include deliberately broken ones) -------------


def _d(parent: Any, *keys: str) -> dict[str, Any]:
    node = parent
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _l(parent: Any, key: str) -> list[dict[str, Any]]:
    value = parent.get(key) if isinstance(parent, dict) else None
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _s(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def ct_number_of(record: Any) -> str:
    """The record's ctNumber, upper-cased; ValueError when missing or malformed."""
    value = record.get("ctNumber") if isinstance(record, dict) else None
    ct = value.strip().upper() if isinstance(value, str) else ""
    if not CT_NUMBER_RE.match(ct):
        raise ValueError(f"record has no usable ctNumber: {str(value)[:40]!r}")
    return ct


def _part_i(record: dict[str, Any]) -> dict[str, Any]:
    return _d(record, "authorizedApplication", "authorizedPartI")


def _conditions(record: dict[str, Any]) -> list[str]:
    part_i = _part_i(record)
    items = _l(
        _d(part_i, "trialDetails", "trialInformation", "medicalCondition"), "partIMedicalConditions"
    ) + _l(part_i, "medicalConditions")
    return [c for c in (_s(i.get("medicalCondition")) for i in items) if c]


def _titles(record: dict[str, Any]) -> list[str]:
    ids = _d(_part_i(record), "trialDetails", "clinicalTrialIdentifiers")
    return [t for t in (_s(ids.get(k)) for k in ("fullTitle", "publicTitle", "shortTitle")) if t]


def _products(record: dict[str, Any]) -> list[str]:
    names: list[str] = []
    for product in _l(_part_i(record), "products"):
        info = _d(product, "productDictionaryInfo")
        for value in (
            product.get("productName"),
            info.get("prodName"),
            product.get("jsonActiveSubstanceNames"),
            info.get("activeSubstanceName"),
        ):
            text = _s(value)
            if text and text not in names:
                names.append(text)
    return names


def _strings(node: Any) -> Iterable[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for key, value in node.items():
            if not str(key).startswith("_"):
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _iso(value: Any) -> str | None:
    """`YYYY-MM-DD` from an ISO date(time) or `dd/mm/yyyy`."""
    text = _s(value)
    if text is None:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return text[:10]
    m = re.search(r"(\d{2})/(\d{2})/(\d{4})", text)
    return f"{m.group(3)}-{m.group(2)}-{m.group(1)}" if m else None


def _eu(iso: str | None) -> str | None:
    return f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}" if iso else None


def search_row(record: dict[str, Any]) -> dict[str, Any]:
    """The `/search` row CTIS shows for a stored record (documented row keys)."""
    part_i = _part_i(record)
    ids = _d(part_i, "trialDetails", "clinicalTrialIdentifiers")
    phase = _d(part_i, "trialDetails", "trialInformation", "trialCategory").get("trialPhase")
    sponsors = _l(part_i, "sponsors")
    lead = next((s for s in sponsors if s.get("primary") is True), sponsors[0] if sponsors else {})
    per_country: dict[str, int] = {}
    enrolled = 0
    for part in _l(record.get("authorizedApplication"), "authorizedPartsII"):
        msc = _d(part, "mscInfo")
        country = _s(msc.get("countryName")) or _s(msc.get("mscName"))
        for site in _l(part, "trialSites"):
            name = _s(_d(site, "organisationAddressInfo", "address").get("countryName")) or country
            if name:
                per_country[name] = per_country.get(name, 0) + 1
        count = part.get("recruitmentSubjectCount")
        enrolled += count if isinstance(count, int) else 0
    decided = _iso(record.get("decisionDate"))
    code = record.get("ctPublicStatusCode")
    return {
        "ctNumber": record.get("ctNumber"),
        "ctStatus": code if isinstance(code, int) else None,
        "ctTitle": _s(ids.get("fullTitle")) or _s(ids.get("publicTitle")),
        "shortTitle": _s(ids.get("shortTitle")),
        "conditions": ", ".join(_conditions(record)) or None,
        "product": ", ".join(_products(record)) or None,
        "sponsor": _s(_d(lead, "organisation").get("name")),
        "sponsorType": _s(_d(lead, "organisation").get("type")),
        "trialPhase": phase if isinstance(phase, str) else None,
        "trialCountries": [f"{name}:{n}" for name, n in sorted(per_country.items())],
        "decisionDateOverall": _eu(decided),
        "decisionDate": ", ".join(
            f"{to_iso2(name) or name}: {_eu(decided)}" for name in sorted(per_country)
        )
        if decided
        else None,
        "therapeuticAreas": [],
        "totalNumberEnrolled": enrolled or None,
        "lastUpdated": _eu(_iso(record.get("publishDate"))),
        "lastPublicationUpdate": None,
        "trialRegion": 1,
    }


def _terms(value: Any, key: str) -> list[str]:
    if not isinstance(value, str):
        raise _BadRequest(f"searchCriteria.{key} must be a string")
    return [t.strip().casefold() for t in value.split(",") if t.strip()]


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def matches(record: dict[str, Any], criteria: dict[str, Any]) -> bool:
    """Whether a stored record answers `searchCriteria` (see the module docstring)."""
    text = "\n".join(_strings(record)).casefold()
    for key, value in criteria.items():
        if _empty(value):
            continue
        if key == "containAll" and not all(t in text for t in _terms(value, key)):
            return False
        if key == "containAny":
            terms = _terms(value, key)
            if terms and not any(t in text for t in terms):
                return False
        if key == "containNot" and any(t in text for t in _terms(value, key)):
            return False
        if key == "medicalCondition":
            if not isinstance(value, str):
                raise _BadRequest("searchCriteria.medicalCondition must be a string")
            wanted = value.strip().casefold()
            if not any(wanted in c.casefold() for c in _conditions(record)):
                return False
        if key == "title":
            wanted = str(value).strip().casefold()
            if not any(wanted in t.casefold() for t in _titles(record)):
                return False
        if key == "number" and str(value).strip().upper() != str(record.get("ctNumber")).upper():
            return False
        if key == "productName":
            wanted = str(value).strip().casefold()
            if not any(wanted in p.casefold() for p in _products(record)):
                return False
        if key == "status":
            if not isinstance(value, list) or not all(isinstance(v, int) for v in value):
                raise _BadRequest("searchCriteria.status must be a list of codes")
            if record.get("ctPublicStatusCode") not in value:
                return False
    return True


# -- HTTP ------------------------------------------------------------------------------------


class FakeCtis(FakeHttpServer):
    """In-memory CTIS public API over real HTTP. Use as `with FakeCtis() as fake:`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        records: Iterable[dict[str, Any]] = (),
        max_rows: int = MAX_ROWS,
        max_page_size: int = MAX_PAGE_SIZE,
    ) -> None:
        super().__init__(host=host, port=port)
        self._lock = threading.RLock()
        self._records: dict[str, dict[str, Any]] = {}
        self._faults: list[_Fault] = []
        self.max_rows = max_rows
        self.max_page_size = max_page_size
        self.requests: list[tuple[str, str, Any]] = []
        """(method, path+query relative to /ctis-public-api, JSON body or None) per request."""
        for record in records:
            self.upsert(record)

    # -- lifecycle -----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """What `CTIS_API_URL` takes, e.g. http://127.0.0.1:PORT/ctis-public-api."""
        return self.root_url + API_PREFIX

    # -- data ----------------------------------------------------------------------------------

    def upsert(self, record: dict[str, Any]) -> str:
        """Add or replace a full record (keyed by ctNumber); returns the ctNumber."""
        ct = ct_number_of(record)
        with self._lock:
            self._records[ct] = copy.deepcopy(record)
        return ct

    def upsert_many(self, records: Iterable[dict[str, Any]]) -> list[str]:
        return [self.upsert(r) for r in records]

    def remove(self, ct_number: str) -> None:
        with self._lock:
            self._records.pop(ct_number.strip().upper(), None)

    def record(self, ct_number: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._records.get(ct_number.strip().upper())
            return copy.deepcopy(found) if found is not None else None

    @property
    def ids(self) -> list[str]:
        with self._lock:
            return list(self._records)

    def load_file(self, path: str | Path) -> int:
        """Upsert the record(s) in one JSON file (an object or an array); returns how many."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        items = payload if isinstance(payload, list) else [payload]
        return len(self.upsert_many(i for i in items if isinstance(i, dict)))

    # -- recording and faults -----------------------------------------------------------------

    def clear_requests(self) -> None:
        with self._lock:
            self.requests.clear()

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self.requests]

    def search_bodies(self) -> list[dict[str, Any]]:
        """The JSON body of every POST /search received, in order."""
        with self._lock:
            return [b for m, p, b in self.requests if m == "POST" and p == "/search"]

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
        """Answer the next `n` matching requests with `status` (+ Retry-After).

        `after` lets that many matching requests succeed first (e.g. fail on page 2).
        """
        retry = None if retry_after is None else _ra(retry_after)
        self._add_fault(_Fault("status", n, path, status, retry, body, after))

    def garbage_next(self, n: int = 1, *, path: str | None = None, after: int = 0) -> None:
        """Answer the next `n` matching requests with 200 and an HTML maintenance page."""
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

    # -- HTTP ----------------------------------------------------------------------------------

    def _dispatch(
        self, method: str, raw_path: str, request_headers: dict[str, str], body: bytes
    ) -> _Reply:
        """Route one request (called from handler threads)."""
        parts = urlsplit(raw_path)
        if parts.path.startswith(CONTROL_PREFIX + "/"):
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            try:
                return self._control(method, parts.path[len(CONTROL_PREFIX) :], query, body)
            except (ValueError, KeyError, TypeError) as exc:
                return _error(400, f"control error: {exc}")
        if not parts.path.startswith(API_PREFIX + "/"):
            return _error(404, "Not Found")
        rel = parts.path[len(API_PREFIX) :]
        rel_with_query = rel + (f"?{parts.query}" if parts.query else "")
        parsed: Any = None
        body_error: str | None = None
        if body:
            try:
                parsed = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                body_error = f"body is not JSON: {type(exc).__name__}"
                parsed = body.decode("utf-8", "replace")
        with self._lock:
            self.requests.append((method, rel_with_query, parsed))
            fault = self._take_fault(rel)
            if fault is not None and fault.kind == "status":
                extra = [("Retry-After", fault.retry_after)] if fault.retry_after else []
                return _error(
                    fault.status, fault.body or f"fake: injected HTTP {fault.status}", headers=extra
                )
            if fault is not None and fault.kind == "garbage":
                return _Reply(200, GARBAGE_HTML, "text/html; charset=utf-8")
            try:
                if rel == "/search":
                    if method != "POST":
                        return _error(405, "Method Not Allowed")
                    if body_error is not None:
                        raise _BadRequest(body_error)
                    return self._search(parsed)
                if rel.startswith("/retrieve/") and rel.count("/") == 2:
                    if method != "GET":
                        return _error(405, "Method Not Allowed")
                    return self._retrieve(rel.removeprefix("/retrieve/"))
                return _error(404, "Not Found")
            except _BadRequest as exc:
                return _error(400, str(exc))
            except Exception as exc:  # a bug in the fake
                return _error(500, f"fake CTIS internal error: {exc!r}"[:500])

    def _retrieve(self, raw_id: str) -> _Reply:
        ct = raw_id.strip().upper()
        if not CT_NUMBER_RE.match(ct):
            raise _BadRequest(f"malformed ctNumber {raw_id[:40]!r}")
        record = self._records.get(ct)
        if record is None:
            return _error(404, f"Clinical trial {ct} not found")
        return _json({k: v for k, v in record.items() if not k.startswith("_")})

    def _search(self, body: Any) -> _Reply:
        if not isinstance(body, dict):
            raise _BadRequest("the body must be a JSON object")
        pagination = body.get("pagination")
        if not isinstance(pagination, dict):
            raise _BadRequest("pagination is required")
        page, size = pagination.get("page"), pagination.get("size")
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise _BadRequest(f"pagination.page must be an integer >= 0, got {page!r}")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 1 <= size <= self.max_page_size
        ):
            raise _BadRequest(f"pagination.size must be 1..{self.max_page_size}, got {size!r}")
        sort = body.get("sort", {"property": "decisionDate", "direction": "DESC"})
        if not isinstance(sort, dict) or str(sort.get("direction", "")).upper() not in (
            "ASC",
            "DESC",
        ):
            raise _BadRequest("sort must be {property, direction: ASC|DESC}")
        criteria = body.get("searchCriteria") or {}
        if not isinstance(criteria, dict):
            raise _BadRequest("searchCriteria must be an object")
        for key, value in criteria.items():
            if key not in KNOWN_CRITERIA:
                raise _BadRequest(f"unknown searchCriteria key {key!r}")
            if key not in EVALUATED_CRITERIA and not _empty(value):
                raise _BadRequest(f"fake CTIS does not evaluate searchCriteria.{key}")
        hits = [r for r in self._records.values() if matches(r, criteria)]
        descending = str(sort["direction"]).upper() == "DESC"
        dated = sorted(
            (r for r in hits if _iso(r.get("decisionDate"))),
            key=lambda r: (_iso(r.get("decisionDate")) or "", str(r.get("ctNumber"))),
            reverse=descending,
        )
        undated = sorted(
            (r for r in hits if not _iso(r.get("decisionDate"))),
            key=lambda r: str(r.get("ctNumber")),
        )
        ordered = dated + undated
        total = 0 if page == 0 else len(ordered)
        reachable = ordered[: self.max_rows] if page > 0 else []
        start = (page - 1) * size
        rows = [search_row(r) for r in reachable[start : start + size]] if page > 0 else []
        return _json(
            {
                "pagination": {
                    "page": page,
                    "size": size,
                    "totalRecords": total,
                    "totalPages": math.ceil(total / size),
                    "currentPage": page,
                    "nextPage": page > 0 and page * size < len(reachable),
                    "previousPage": page > 1,
                },
                "data": rows,
            }
        )

    def _control(self, method: str, action: str, query: dict[str, str], body: bytes) -> _Reply:
        """HTTP steering for a fake started in another process.

        GET  /_control/state | /_control/requests
        POST /_control/upsert (body: record or array) | /_control/remove?ctNumber=
             /_control/fault (JSON: kind status|garbage, n, status, retry_after, path, after)
             /_control/reset (clears requests and faults)
        """
        if method == "GET" and action == "/state":
            return _json({"records": self.ids})
        if method == "GET" and action == "/requests":
            with self._lock:
                return _json([{"method": m, "path": p, "body": b} for m, p, b in self.requests])
        if method != "POST":
            return _error(405, "Method Not Allowed")
        if action == "/upsert":
            payload = json.loads(body or b"null")
            items = payload if isinstance(payload, list) else [payload]
            return _json({"upserted": self.upsert_many(i for i in items if isinstance(i, dict))})
        if action == "/remove":
            self.remove(query["ctNumber"])
        elif action == "/fault":
            spec = json.loads(body or b"{}")
            kind = spec.get("kind", "status")
            if kind == "garbage":
                self.garbage_next(
                    int(spec.get("n", 1)), path=spec.get("path"), after=int(spec.get("after", 0))
                )
            else:
                self.fail_next(
                    int(spec.get("n", 1)),
                    int(spec.get("status", 503)),
                    spec.get("retry_after"),
                    spec.get("body"),
                    path=spec.get("path"),
                    after=int(spec.get("after", 0)),
                )
        elif action == "/reset":
            self.clear_requests()
            self.clear_faults()
        else:
            return _error(404, f"unknown control action {action}")
        return _json({"ok": True})


def _ra(value: str | float) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


# -- building records -------------------------------------------------------------------------


def built_record(
    registry_id: str,
    *,
    title: str,
    condition: str,
    intervention: str,
    sites: Sequence[tuple[str, str, str]],
    secondary_ids: Sequence[str] = (),
    last_updated: str = "2026-10-01",
    status: str | None = None,
    summary: str = "",
    phase: str | None = None,
) -> dict[str, Any]:
    """A full CTIS record (the `retrieve` JSON this fake stores and serves) of one trial.

    `sites` are (facility, city, country name as CTIS writes it, e.g. "Spain"); one Part II
    per country. `secondary_ids` go where CTIS keeps them: an NCT number in
    `secondaryIdentifyingNumbers.nctNumber`, an ISRCTN in `isrctnNumber`, a EudraCT number in
    `eudraCt.eudraCtCode`, anything else in `additionalRegistries`. `status` is CTIS wording
    ("Ongoing, recruitment ended", "Ended", ...), default "Ongoing, recruiting"; `phase` CTIS
    wording or code, default "Therapeutic exploratory (Phase II)". An intervention that names
    cells is recorded as an advanced therapy (somatic cell therapy) product.
    """
    ct = registry_id.strip().upper()
    if not CT_NUMBER_RE.match(ct):
        raise ValueError(f"not a CTIS number: {registry_id!r}")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", last_updated):
        raise ValueError(f"last_updated must be YYYY-MM-DD, got {last_updated!r}")
    numbers: dict[str, Any] = {
        "whoUniversalTrialNumber": None,
        "nctNumber": None,
        "isrctnNumber": None,
        "additionalRegistries": [],
    }
    eudract: str | None = None
    for n, raw in enumerate(secondary_ids, start=1):
        number = raw.strip()
        if _NCT_RE.match(number) and numbers["nctNumber"] is None:
            numbers["nctNumber"] = {"id": n, "number": number}
        elif _ISRCTN_RE.match(number) and numbers["isrctnNumber"] is None:
            numbers["isrctnNumber"] = {"id": n, "number": number}
        elif _EUDRACT_RE.match(number) and eudract is None:
            eudract = number
        else:
            numbers["additionalRegistries"].append(
                {
                    "id": n,
                    "number": number,
                    "otherRegistryName": "Other registry",
                    "ctRegistryCode": None,
                }
            )
    by_country: dict[str, list[tuple[str, str]]] = {}
    for facility, city, country in sites:
        by_country.setdefault(country, []).append((facility, city))
    parts_ii = [
        {
            "id": i,
            "mscId": i,
            "mscInfo": {
                "countryName": country,
                "mscName": country,
                "trialStatus": status or DEFAULT_STATUS,
            },
            "decisionDate": f"{last_updated}T00:00:00",
            "recruitmentSubjectCount": 20,
            "trialSites": [
                {
                    "id": i * 100 + j,
                    "departmentName": None,
                    "organisationAddressInfo": {
                        "organisation": {"name": facility},
                        "address": {"city": city, "countryName": country},
                    },
                }
                for j, (facility, city) in enumerate(places, start=1)
            ],
        }
        for i, (country, places) in enumerate(by_country.items(), start=1)
    ]
    therapies = (
        [
            {
                "id": 1,
                "advancedTherapyType": "Somatic cell therapy medicinal product",
                "description": intervention,
            }
        ]
        if _CELL_WORDS.search(intervention)
        else []
    )
    return {
        "ctNumber": ct,
        "ctStatus": status or DEFAULT_STATUS,
        "decisionDate": "2025-01-15",
        "publishDate": f"{last_updated}T09:00:00",
        "startDateEU": None,
        "endDateEU": None,
        "authorizedApplication": {
            "authorizedPartI": {
                "trialDetails": {
                    "clinicalTrialIdentifiers": {
                        "publicTitle": title,
                        "fullTitle": title,
                        "shortTitle": None,
                        "secondaryIdentifyingNumbers": numbers,
                    },
                    "trialInformation": {
                        "trialCategory": {"trialPhase": phase or DEFAULT_PHASE},
                        "medicalCondition": {
                            "partIMedicalConditions": [
                                {
                                    "id": 1,
                                    "medicalCondition": condition,
                                    "isConditionRareDisease": False,
                                }
                            ]
                        },
                        "trialObjective": {"mainObjective": summary or None},
                        "eligibilityCriteria": {
                            "principalInclusionCriteria": [
                                {
                                    "id": 1,
                                    "number": 1,
                                    "principalInclusionCriteria": f"Adults with {condition}",
                                }
                            ],
                            "principalExclusionCriteria": [],
                        },
                        "populationOfTrialSubjects": {
                            "isFemaleSubjects": True,
                            "isMaleSubjects": True,
                        },
                    },
                },
                "products": [
                    {
                        "id": 1,
                        "productName": intervention,
                        "mpRoleInTrial": "Test",
                        "productDictionaryInfo": {"prodName": intervention},
                        "therapies": therapies,
                        "routes": [],
                    }
                ],
                "sponsors": [
                    {
                        "id": 1,
                        "primary": True,
                        "organisation": {"name": "Test sponsor"},
                        "isCommercial": False,
                    }
                ],
            },
            "authorizedPartsII": parts_ii,
            "eudraCt": {"isTransitioned": eudract is not None, "eudraCtCode": eudract},
            "memberStatesConcerned": [{"mscName": c} for c in by_country],
        },
        "events": {"trialEvents": [], "trialGlobalEndDate": None},
        "results": {},
    }


def main(argv: list[str] | None = None) -> int:
    """Serve records from folders until SIGINT/SIGTERM; first stdout line is the base URL."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--dir",
        action="append",
        default=[],
        type=Path,
        help="folder of *.json records (object or array); repeatable",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = pick a free port")
    args = parser.parse_args(argv)
    fake = FakeCtis(host=args.host, port=args.port)
    loaded = 0
    for folder in args.dir:
        for path in sorted(Path(folder).glob("*.json")):
            with contextlib.suppress(ValueError):
                loaded += fake.load_file(path)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with fake:
        print(fake.base_url, flush=True)
        print(f"fake CTIS: {loaded} records loaded", file=sys.stderr, flush=True)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
