"""A fake NCBI E-utilities (PubMed only): a real HTTP server on 127.0.0.1, standard library only.

Real HTTP (tests/fakes/http_fake.py) so the client's spacing, retries and keep-alive run as in
production, and a service started as a subprocess can be pointed at it
(`PUBMED_API_URL=fake.base_url`).

What it does like the real service (JSON, `retmode=json`):
* `GET|POST /entrez/eutils/esearch.fcgi?db=pubmed&term=...`: `{"header": {"type": "esearch",
  "version": "0.3"}, "esearchresult": {"count", "retmax", "retstart", "idlist",
  "translationset", "querytranslation"}}`, PMIDs newest (largest) first, `retmax` (default 20)
  and `retstart`. A term the fake cannot read, or an empty one, is NCBI's 200-with-error:
  `esearchresult.ERROR`. An id matching nothing is listed in `errorlist.phrasesnotfound`
  (and, when nothing matched at all, `warninglist.outputmessages: ["No items found."]`).
* The term grammar evaluated: `X[si]`, `"X"[si]`, `X[tiab]`, joined by `OR`, optionally inside
  one pair of parentheses. `[si]` matches a paper's `si_ids` exactly (any case); `[tiab]` a
  whole-word phrase in its title or abstract. `datetype=pdat&mindate=&maxdate=` (YYYY,
  YYYY/MM or YYYY/MM/DD; both or neither) keep papers whose publication date can fall inside.
* `esummary.fcgi?db=pubmed&id=1,2,3`: `{"header", "result": {"uids": [...], "<pmid>": {...}}}`
  with the document-summary fields of esummary version 1.0 (uid, pubdate, epubdate, source,
  authors, title, volume, issue, pages, lang, pubtype, recordstatus, pubstatus, articleids,
  fulljournalname, elocationid, sortpubdate, ...). An unknown PMID answers
  `{"uid": ..., "error": "cannot get document summary"}` in its place, as NCBI does.
* `einfo.fcgi?db=pubmed`: `einforesult.dbinfo` (a list of one, as NCBI answers today).
* Missing or wrong `db`, missing `term`/`id`, or `retmode` other than json: 400 with
  `{"error": ...}`. With `api_key=` set on the fake, a request with another key answers 400
  `{"error": "API key invalid", "api-key": <the key sent>, ...}`: NCBI echoes the key.

Test hooks: `requests` ((path below /entrez/eutils, params) of every request, faulted ones
too) and `request_times` (monotonic arrival times, parallel), `add_paper`, and the faults of
`FakeRegistryServer`: `fail_next(n, status=429)` answers NCBI's rate-limit body
`{"error":"API rate limit exceeded","api-key":"203.0.113.5","count":"11","limit":"10"}`
unless given another; `garbage_next(n, "esearch_error")` / `"summary_error"` answer NCBI's
200-with-error bodies.
"""

from __future__ import annotations

import calendar
import json
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Unpack
from urllib.parse import parse_qs

from tests.fakes.http_fake import Address, BadRequest, FakeRegistryServer, Reply, Request

API_PREFIX = "/entrez/eutils"
RATE_LIMIT_BODY = (
    '{"error":"API rate limit exceeded","api-key":"203.0.113.5","count":"11","limit":"10"}'
)
ESEARCH_ERROR_BODY = json.dumps(
    {
        "header": {"type": "esearch", "version": "0.3"},
        "esearchresult": {"ERROR": "Search Backend failed: Database is not supported: pubmed"},
    }
).encode()
SUMMARY_ERROR_BODY = json.dumps(
    {"header": {"type": "esummary", "version": "0.3"}, "error": "Invalid uid at position=0"}
).encode()
LAST_UPDATE = "2026/12/03 05:12"

_TERM_RE = re.compile(r'^(?:"(?P<quoted>[^"]+)"|(?P<plain>[^\s"\[\]()]+))\[(?P<field>si|tiab)\]$')
_LIMIT_RE = re.compile(r"^(\d{4})(?:/(\d{1,2})(?:/(\d{1,2}))?)?$")
_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}


@dataclass
class Paper:
    pmid: str
    title: str
    journal: str | None
    pubdate: str
    pubtypes: tuple[str, ...]
    doi: str | None = None
    si_ids: tuple[str, ...] = ()
    abstract: str = ""
    sortpubdate: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    """Raw esummary fields to add or replace; a None value removes the field."""

    def period(self) -> tuple[str, str] | None:
        """First and last day (YYYY/MM/DD) the publication date can be."""
        match = re.match(
            r"^\s*(\d{4})(?:\s+([A-Za-z]{3})[A-Za-z]*(?:\s+(\d{1,2})(?!\d))?)?", self.pubdate
        )
        if match is None:
            return None
        year = int(match.group(1))
        month = _MONTHS.get((match.group(2) or "").lower())
        rest = self.pubdate[match.end() :].strip()
        if month is None or rest.startswith("-"):
            return f"{year:04d}/01/01", f"{year:04d}/12/31"
        last = calendar.monthrange(year, month)[1]
        if match.group(3):
            day = int(match.group(3))
            return f"{year:04d}/{month:02d}/{day:02d}", f"{year:04d}/{month:02d}/{day:02d}"
        return f"{year:04d}/{month:02d}/01", f"{year:04d}/{month:02d}/{last:02d}"

    def summary(self) -> dict[str, Any]:
        """The esummary (version 1.0 JSON) document summary of this paper."""
        period = self.period()
        sortpubdate = f"{period[0]} 00:00" if period is not None else ""
        if self.sortpubdate is not None:
            sortpubdate = self.sortpubdate
        ids: list[dict[str, Any]] = [{"idtype": "pubmed", "idtypen": 1, "value": self.pmid}]
        if self.doi:
            ids.append({"idtype": "doi", "idtypen": 3, "value": self.doi})
        entry: dict[str, Any] = {
            "uid": self.pmid,
            "pubdate": self.pubdate,
            "epubdate": "",
            "source": self.journal or "",
            "authors": [{"name": "Doe J", "authtype": "Author", "clusterid": ""}],
            "lastauthor": "Doe J",
            "title": self.title,
            "sorttitle": self.title.lower(),
            "volume": "1",
            "issue": "1",
            "pages": "1-10",
            "lang": ["eng"],
            "nlmuniqueid": "0000000",
            "issn": "",
            "essn": "",
            "pubtype": list(self.pubtypes),
            "recordstatus": "PubMed - indexed for MEDLINE",
            "pubstatus": "4",
            "articleids": ids,
            "history": [],
            "references": [],
            "attributes": ["Has Abstract"] if self.abstract else [],
            "pmcrefcount": "",
            "fulljournalname": self.journal or "",
            "elocationid": f"doi: {self.doi}" if self.doi else "",
            "doctype": "citation",
            "srccontriblist": [],
            "booktitle": "",
            "medium": "",
            "edition": "",
            "publisherlocation": "",
            "publishername": "",
            "srcdate": "",
            "reportnumber": "",
            "availablefromurl": "",
            "locationlabel": "",
            "doccontriblist": [],
            "docdate": "",
            "bookname": "",
            "chapter": "",
            "sortpubdate": sortpubdate,
            "sortfirstauthor": "Doe J",
            "vernaculartitle": "",
        }
        for name, value in self.fields.items():
            if value is None:
                entry.pop(name, None)
            else:
                entry[name] = value
        return entry


class FakeEutils(FakeRegistryServer[tuple[str, dict[str, str]], Paper]):
    """In-memory PubMed behind E-utilities over real HTTP. Use as `with FakeEutils() as fake:`."""

    api_prefix = API_PREFIX
    label = "fake E-utilities"
    other_garbage: ClassVar[Mapping[str, tuple[bytes, str]]] = {
        "esearch_error": (ESEARCH_ERROR_BODY, "application/json"),
        "summary_error": (SUMMARY_ERROR_BODY, "application/json"),
    }

    def __init__(self, *, api_key: str | None = None, **address: Unpack[Address]) -> None:
        super().__init__(**address)
        self.api_key = api_key
        """When set, requests carrying another `api_key` are refused as NCBI does."""
        self.request_times: list[float] = []
        """`time.monotonic()` at each request's arrival, parallel to `requests`."""

    # -- data ----------------------------------------------------------------------------------

    def add_paper(
        self,
        pmid: str,
        title: str,
        journal: str | None,
        pubdate: str,
        pubtypes: Iterable[str],
        doi: str | None = None,
        si_ids: Iterable[str] = (),
        abstract: str = "",
        *,
        sortpubdate: str | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> str:
        """Add (or replace) a paper. `sortpubdate` defaults to NCBI's: the first day the
        `pubdate` can be ("2019 Dec" -> "2019/12/01 00:00"); `fields` adds or replaces raw
        esummary fields (None removes one, e.g. `{"fulljournalname": None}`)."""
        if not re.fullmatch(r"[1-9]\d{0,9}", pmid):
            raise ValueError(f"not a PMID: {pmid!r}")
        paper = Paper(
            pmid,
            title,
            journal,
            pubdate,
            tuple(pubtypes),
            doi,
            tuple(si_ids),
            abstract,
            sortpubdate,
            dict(fields or {}),
        )
        return self.upsert(paper)

    def _to_store(self, record: Paper) -> tuple[str, Paper]:
        if not isinstance(record, Paper):
            raise ValueError("FakeEutils stores Paper values (use add_paper)")
        return record.pmid, record

    # -- recording ------------------------------------------------------------------------------

    def clear_requests(self) -> None:
        with self._lock:
            super().clear_requests()
            self.request_times.clear()

    def params(self, path: str | None = None) -> list[dict[str, str]]:
        """The parameters of each recorded request (to `path` only, e.g. "/esearch.fcgi")."""
        with self._lock:
            return [q for p, q in self.requests if path is None or p == path]

    # -- faults ---------------------------------------------------------------------------------

    def fail_next(
        self,
        n: int = 1,
        status: int = 503,
        retry_after: str | float | None = None,
        body: str | None = None,
        *,
        path: str | None = None,
        method: str | None = None,
        after: int = 0,
    ) -> None:
        """As every fake (`n` requests, then `status`); a 429 carries NCBI's rate-limit body."""
        if n >= 100:
            raise ValueError(f"n={n}: the first argument is how many requests fail; status=?")
        if status == 429 and body is None:
            body = RATE_LIMIT_BODY
        super().fail_next(n, status, retry_after, body, path=path, method=method, after=after)

    def _error(self, status: int, message: str, headers: Iterable[tuple[str, str]] = ()) -> Reply:
        """NCBI answers errors as JSON: `{"error": ...}` (a body given whole is sent as is)."""
        if message.lstrip().startswith("{"):
            return Reply(status, message.encode(), "application/json", headers=tuple(headers))
        return Reply.json({"error": message}, status, headers=tuple(headers))

    # -- HTTP ----------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        rel = self._api_path(request)
        if rel is None:
            return self._error(404, "Not Found")
        params = dict(request.query)
        if request.method == "POST" and request.body:
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            params |= {name: values[-1] for name, values in form.items()}
        with self._lock:
            self.requests.append((rel, params))
            self.request_times.append(time.monotonic())
            fault = self._take_fault(request.method, rel)
            return self._answer(fault, lambda: self._api(request.method, rel, params))

    def _api(self, method: str, rel: str, params: dict[str, str]) -> Reply:
        if method not in ("GET", "POST"):
            return self._error(405, "Method Not Allowed")
        if rel not in ("/esearch.fcgi", "/esummary.fcgi", "/einfo.fcgi"):
            return self._error(404, "Not Found")
        if params.get("retmode", "xml") != "json":
            raise BadRequest("fake E-utilities only serves retmode=json")
        sent_key = params.get("api_key")
        if self.api_key is not None and sent_key is not None and sent_key != self.api_key:
            return Reply.json(
                {
                    "error": "API key invalid",
                    "api-key": sent_key,
                    "type": "invalid",
                    "status": "unknown",
                },
                400,
            )
        if rel == "/einfo.fcgi":
            return self._einfo(params)
        if params.get("db") != "pubmed":
            raise BadRequest(f"Invalid db name specified: {params.get('db', '')[:40]}")
        if rel == "/esearch.fcgi":
            return self._esearch(params)
        return self._esummary(params)

    def _einfo(self, params: dict[str, str]) -> Reply:
        db = params.get("db")
        if db is None:
            return Reply.json(
                {
                    "header": {"type": "einfo", "version": "0.3"},
                    "einforesult": {"dblist": ["pubmed"]},
                }
            )
        if db != "pubmed":
            raise BadRequest(f"Invalid db name specified: {db[:40]}")
        info = {
            "dbname": "pubmed",
            "menuname": "PubMed",
            "description": "PubMed bibliographic record",
            "dbbuild": "Build-2026.12.03.05.12",
            "count": str(len(self.ids)),
            "lastupdate": LAST_UPDATE,
            "fieldlist": [
                {"name": "SI", "fullname": "Secondary Source ID"},
                {"name": "TIAB", "fullname": "Title/Abstract"},
            ],
            "linklist": [],
        }
        return Reply.json(
            {"header": {"type": "einfo", "version": "0.3"}, "einforesult": {"dbinfo": [info]}}
        )

    def _esearch(self, params: dict[str, str]) -> Reply:
        if "term" not in params:
            raise BadRequest("term is required")
        term = params["term"].strip()
        header = {"type": "esearch", "version": "0.3"}
        parts = _split_term(term)
        if parts is None:
            why = "Empty term and query_key - nothing todo" if not term else "Invalid query"
            return Reply.json({"header": header, "esearchresult": {"ERROR": why}})
        window = _date_window(params)
        retmax = _number(params.get("retmax"), 20, "retmax")
        retstart = _number(params.get("retstart"), 0, "retstart")
        with self._lock:
            papers = list(self._records.values())
        matched: set[str] = set()
        not_found: list[str] = []
        for text, value, field_tag in parts:
            hits = {p.pmid for p in papers if _matches(p, value, field_tag)}
            if not hits:
                not_found.append(text)
            matched |= hits
        kept = [
            p.pmid
            for p in papers
            if p.pmid in matched and (window is None or _in_window(p, window))
        ]
        kept.sort(key=int, reverse=True)
        page = kept[retstart : retstart + min(retmax, 10_000)]
        result: dict[str, Any] = {
            "count": str(len(kept)),
            "retmax": str(len(page)),
            "retstart": str(retstart),
            "idlist": page,
            "translationset": [],
            "querytranslation": " OR ".join(t for t, _, _ in parts),
        }
        if not_found:
            result["errorlist"] = {"phrasesnotfound": not_found, "fieldsnotfound": []}
        if not matched:
            result["warninglist"] = {
                "phrasesignored": [],
                "quotedphrasesnotfound": [],
                "outputmessages": ["No items found."],
            }
        return Reply.json({"header": header, "esearchresult": result})

    def _esummary(self, params: dict[str, str]) -> Reply:
        raw = params.get("id", "")
        uids = [u.strip() for u in raw.split(",") if u.strip()]
        header = {"type": "esummary", "version": "0.3"}
        if not uids:
            raise BadRequest("id is required")
        for position, uid in enumerate(uids):
            if not uid.isdigit():
                return Reply.json(
                    {"header": header, "error": f"Invalid uid {uid[:20]} at position={position}"}
                )
        result: dict[str, Any] = {"uids": uids}
        with self._lock:
            for uid in uids:
                paper = self._records.get(uid)
                result[uid] = (
                    paper.summary()
                    if paper is not None
                    else {"uid": uid, "error": "cannot get document summary"}
                )
        return Reply.json({"header": header, "result": result})


def _split_term(term: str) -> list[tuple[str, str, str]] | None:
    """`(A[si] OR "B/C"[tiab])` -> [(text, value, field)]; None if the fake cannot read it."""
    if term.startswith("(") and term.endswith(")"):
        term = term[1:-1].strip()
    if not term or "(" in term or ")" in term:
        return None
    parts = []
    for text in re.split(r"\s+OR\s+", term):
        match = _TERM_RE.match(text.strip())
        if match is None:
            return None
        value = match.group("quoted") or match.group("plain")
        parts.append((text.strip(), value, match.group("field")))
    return parts


def _matches(paper: Paper, value: str, field_tag: str) -> bool:
    if field_tag == "si":
        # PubMed's [si] holds "ClinicalTrials.gov/NCT01234567"; the number alone finds it
        wanted = value.upper()
        return any(wanted in (s.upper(), s.upper().rsplit("/", 1)[-1]) for s in paper.si_ids)
    pattern = r"(?<![A-Za-z0-9])" + re.escape(value) + r"(?![A-Za-z0-9])"
    return re.search(pattern, f"{paper.title}\n{paper.abstract}", re.IGNORECASE) is not None


def _limit(value: str, name: str, *, end: bool) -> str:
    match = _LIMIT_RE.match(value.strip())
    if match is None:
        raise BadRequest(f"{name} must be YYYY, YYYY/MM or YYYY/MM/DD, got {value[:20]!r}")
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month is None:
        return f"{year}/12/31" if end else f"{year}/01/01"
    m = int(month)
    if day is None:
        last = calendar.monthrange(int(year), m)[1]
        return f"{year}/{m:02d}/{last:02d}" if end else f"{year}/{m:02d}/01"
    return f"{year}/{m:02d}/{int(day):02d}"


def _date_window(params: dict[str, str]) -> tuple[str, str] | None:
    lo, hi = params.get("mindate"), params.get("maxdate")
    if lo is None and hi is None:
        return None
    if lo is None or hi is None:
        raise BadRequest("mindate and maxdate go together")
    if params.get("datetype", "pdat") != "pdat":
        raise BadRequest("fake E-utilities filters by datetype=pdat only")
    return _limit(lo, "mindate", end=False), _limit(hi, "maxdate", end=True)


def _in_window(paper: Paper, window: tuple[str, str]) -> bool:
    period = paper.period()
    if period is None:
        return False
    first, last = period
    return last >= window[0] and first <= window[1]


def _number(value: str | None, default: int, name: str) -> int:
    if value is None or value == "":
        return default
    if not value.isdigit():
        raise BadRequest(f"{name} must be a whole number")
    return int(value)
