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
None) of every API request, faulted ones too), `bytes_sent`, and the fault injection of
`tests.fakes.http_fake.FakeRegistryServer` (`fail_next`, `garbage_next`, `delay_next`,
`truncate_next`, each with an optional path filter: an exact relative path like "/search" or a
prefix ending in "*" like "/retrieve/*"). `built_record` makes a record of one trial in CTIS
shape for cross-registry tests.

Standalone: `python -m tests.fakes.ctis_server --dir DIR [--port N]` prints the base URL as its
first stdout line and serves until interrupted; steer it over HTTP with `/_control/...`.
"""

from __future__ import annotations

import copy
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Unpack

from tests.fakes.http_fake import (
    Address,
    BadRequest,
    FakeRegistryServer,
    Reply,
    Request,
)
from tests.fakes.trial import Trial, TrialFields
from trialbot.countries import to_iso2

API_PREFIX = "/ctis-public-api"
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

GARBAGE_HTML = (
    b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
    b"<body><h1>The CTIS public portal is temporarily unavailable</h1></body></html>"
)


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
        raise BadRequest(f"searchCriteria.{key} must be a string")
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
                raise BadRequest("searchCriteria.medicalCondition must be a string")
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
                raise BadRequest("searchCriteria.status must be a list of codes")
            if record.get("ctPublicStatusCode") not in value:
                return False
    return True


# -- HTTP ------------------------------------------------------------------------------------


class FakeCtis(FakeRegistryServer[tuple[str, str, Any], dict[str, Any]]):
    """In-memory CTIS public API over real HTTP. Use as `with FakeCtis() as fake:`.

    `requests` holds (method, path+query relative to /ctis-public-api, JSON body or None).
    """

    api_prefix = API_PREFIX
    label = "fake CTIS"
    maintenance_page = GARBAGE_HTML

    def __init__(
        self,
        *,
        records: Iterable[dict[str, Any]] = (),
        max_rows: int = MAX_ROWS,
        max_page_size: int = MAX_PAGE_SIZE,
        **address: Unpack[Address],
    ) -> None:
        super().__init__(**address)
        self.max_rows = max_rows
        self.max_page_size = max_page_size
        for record in records:
            self.upsert(record)

    # -- data ----------------------------------------------------------------------------------

    def _to_store(self, record: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """A full record is keyed by its ctNumber."""
        return ct_number_of(record), copy.deepcopy(record)

    def record(self, ct_number: str) -> dict[str, Any] | None:
        found = self._stored(ct_number)
        return copy.deepcopy(found) if found is not None else None

    def load_file(self, path: str | Path) -> int:
        """Upsert the record(s) in one JSON file (an object or an array); returns how many."""
        payload = json.loads(Path(path).read_text(encoding="utf-8"))
        items = payload if isinstance(payload, list) else [payload]
        return len(self.upsert_many(i for i in items if isinstance(i, dict)))

    # -- recording ------------------------------------------------------------------------------

    def paths(self) -> list[str]:
        with self._lock:
            return [p for _, p, _ in self.requests]

    def search_bodies(self) -> list[dict[str, Any]]:
        """The JSON body of every POST /search received, in order."""
        with self._lock:
            return [b for m, p, b in self.requests if m == "POST" and p == "/search"]

    # -- HTTP ----------------------------------------------------------------------------------

    def _error(self, status: int, message: str, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        """The portal gateway's JSON error body."""
        return Reply.json({"status": status, "error": message}, status, headers=headers)

    def _dispatch(self, request: Request) -> Reply:
        rel = self._api_path(request)
        if rel is None:
            return self._error(404, "Not Found")
        raw_query = request.raw_query
        parsed: Any = None
        body_error: str | None = None
        if request.body:
            try:
                parsed = json.loads(request.body)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                body_error = f"body is not JSON: {type(exc).__name__}"
                parsed = request.body.decode("utf-8", "replace")
        with self._lock:
            self.requests.append(
                (request.method, rel + (f"?{raw_query}" if raw_query else ""), parsed)
            )
            fault = self._take_fault(request.method, rel)
            return self._answer(fault, lambda: self._api(request.method, rel, parsed, body_error))

    def _api(self, method: str, rel: str, parsed: Any, body_error: str | None) -> Reply:
        if rel == "/search":
            if method != "POST":
                return self._error(405, "Method Not Allowed")
            if body_error is not None:
                raise BadRequest(body_error)
            return self._search(parsed)
        if rel.startswith("/retrieve/") and rel.count("/") == 2:
            if method != "GET":
                return self._error(405, "Method Not Allowed")
            return self._retrieve(rel.removeprefix("/retrieve/"))
        return self._error(404, "Not Found")

    def _retrieve(self, raw_id: str) -> Reply:
        ct = raw_id.strip().upper()
        if not CT_NUMBER_RE.match(ct):
            raise BadRequest(f"malformed ctNumber {raw_id[:40]!r}")
        record = self._records.get(ct)
        if record is None:
            return self._error(404, f"Clinical trial {ct} not found")
        return Reply.json({k: v for k, v in record.items() if not k.startswith("_")})

    def _search(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            raise BadRequest("the body must be a JSON object")
        pagination = body.get("pagination")
        if not isinstance(pagination, dict):
            raise BadRequest("pagination is required")
        page, size = pagination.get("page"), pagination.get("size")
        if not isinstance(page, int) or isinstance(page, bool) or page < 0:
            raise BadRequest(f"pagination.page must be an integer >= 0, got {page!r}")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 1 <= size <= self.max_page_size
        ):
            raise BadRequest(f"pagination.size must be 1..{self.max_page_size}, got {size!r}")
        sort = body.get("sort", {"property": "decisionDate", "direction": "DESC"})
        if not isinstance(sort, dict) or str(sort.get("direction", "")).upper() not in (
            "ASC",
            "DESC",
        ):
            raise BadRequest("sort must be {property, direction: ASC|DESC}")
        criteria = body.get("searchCriteria") or {}
        if not isinstance(criteria, dict):
            raise BadRequest("searchCriteria must be an object")
        for key, value in criteria.items():
            if key not in KNOWN_CRITERIA:
                raise BadRequest(f"unknown searchCriteria key {key!r}")
            if key not in EVALUATED_CRITERIA and not _empty(value):
                raise BadRequest(f"fake CTIS does not evaluate searchCriteria.{key}")
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
        return Reply.json(
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

    def _control(self, method: str, action: str, request: Request) -> Reply:
        """HTTP steering for a fake started in another process.

        GET  /_control/state | /_control/requests
        POST /_control/upsert (body: record or array) | /_control/remove?ctNumber=
             /_control/fault, /_control/reset: see `FakeRegistryServer._control`
        """
        if method == "GET" and action == "/state":
            return Reply.json({"records": self.ids})
        if method == "GET" and action == "/requests":
            with self._lock:
                return Reply.json(
                    [{"method": m, "path": p, "body": b} for m, p, b in self.requests]
                )
        if method == "POST" and action == "/upsert":
            payload = json.loads(request.body or b"null")
            items = payload if isinstance(payload, list) else [payload]
            upserted = self.upsert_many(i for i in items if isinstance(i, dict))
            return Reply.json({"upserted": upserted})
        if method == "POST" and action == "/remove":
            self.remove(request.query["ctNumber"])
            return Reply.json({"ok": True})
        return super()._control(method, action, request)


# -- building records -------------------------------------------------------------------------


def built_record(registry_id: str, **fields: Unpack[TrialFields]) -> dict[str, Any]:
    """A full CTIS record (the `retrieve` JSON this fake stores and serves) of one trial.

    `sites` are (facility, city, country name as CTIS writes it, e.g. "Spain"); one Part II
    per country. `secondary_ids` go where CTIS keeps them: an NCT number in
    `secondaryIdentifyingNumbers.nctNumber`, an ISRCTN in `isrctnNumber`, a EudraCT number in
    `eudraCt.eudraCtCode`, anything else in `additionalRegistries`. `status` is CTIS wording
    ("Ongoing, recruitment ended", "Ended", ...), default "Ongoing, recruiting"; `phase` CTIS
    wording or code, default "Therapeutic exploratory (Phase II)". An intervention that names
    cells is recorded as an advanced therapy (somatic cell therapy) product.
    """
    trial = Trial(registry_id, **fields)
    ct = registry_id.strip().upper()
    if not CT_NUMBER_RE.match(ct):
        raise ValueError(f"not a CTIS number: {registry_id!r}")
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", trial.last_updated):
        raise ValueError(f"last_updated must be YYYY-MM-DD, got {trial.last_updated!r}")
    numbers: dict[str, Any] = {
        "whoUniversalTrialNumber": None,
        "nctNumber": None,
        "isrctnNumber": None,
        "additionalRegistries": [],
    }
    eudract: str | None = None
    for n, raw in enumerate(trial.secondary_ids, start=1):
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
    for facility, city, country in trial.sites:
        by_country.setdefault(country, []).append((facility, city))
    parts_ii = [
        {
            "id": i,
            "mscId": i,
            "mscInfo": {
                "countryName": country,
                "mscName": country,
                "trialStatus": trial.status or DEFAULT_STATUS,
            },
            "decisionDate": f"{trial.last_updated}T00:00:00",
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
                "description": trial.intervention,
            }
        ]
        if _CELL_WORDS.search(trial.intervention)
        else []
    )
    return {
        "ctNumber": ct,
        "ctStatus": trial.status or DEFAULT_STATUS,
        "decisionDate": "2025-01-15",
        "publishDate": f"{trial.last_updated}T09:00:00",
        "startDateEU": None,
        "endDateEU": None,
        "authorizedApplication": {
            "authorizedPartI": {
                "trialDetails": {
                    "clinicalTrialIdentifiers": {
                        "publicTitle": trial.title,
                        "fullTitle": trial.title,
                        "shortTitle": None,
                        "secondaryIdentifyingNumbers": numbers,
                    },
                    "trialInformation": {
                        "trialCategory": {"trialPhase": trial.phase or DEFAULT_PHASE},
                        "medicalCondition": {
                            "partIMedicalConditions": [
                                {
                                    "id": 1,
                                    "medicalCondition": trial.condition,
                                    "isConditionRareDisease": False,
                                }
                            ]
                        },
                        "trialObjective": {"mainObjective": trial.summary or None},
                        "eligibilityCriteria": {
                            "principalInclusionCriteria": [
                                {
                                    "id": 1,
                                    "number": 1,
                                    "principalInclusionCriteria": f"Adults with {trial.condition}",
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
                        "productName": trial.intervention,
                        "mpRoleInTrial": "Test",
                        "productDictionaryInfo": {"prodName": trial.intervention},
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
    parser = FakeCtis.command_line(__doc__, dirs="folder of *.json records (object or array)")
    args = parser.parse_args(argv)
    fake = FakeCtis(host=args.host, port=args.port)
    loaded = sum(fake.load_dir(d, skip_unreadable=True) for d in args.dir)
    return fake.serve_until_signalled(lambda: f"fake CTIS: {loaded} records loaded")


if __name__ == "__main__":
    sys.exit(main())
