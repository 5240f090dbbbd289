"""A fake ISRCTN XML API: a real HTTP server on 127.0.0.1, standard library only.

Real HTTP (like tests/fakes/ctgov_server.py) so the client's spacing, retries, timeouts and byte
counting run as in production, and so a service started as a subprocess can be pointed at it
(`ISRCTN_API_URL=fake.base_url`, or run this module standalone).

What it does like the real API (shared/registries.md 2.3; jobs/registries/isrctn.py docstring):
* `GET /api/query/format/default?q=<query>&limit=<n>` ->
  `<allTrials xmlns="http://www.67bricks.com/isrctn" totalCount="N">` with the first `limit`
  matching `<fullTrial>` records; `limit=0` answers the count alone. No paging: `offset`,
  `page`, `start`, `skip`, `from` and `sort` are accepted and IGNORED, as the real API ignores
  them (a client relying on them gets the same records again). Records are served most
  recently registered first (`isrctn/@dateAssigned`), then in load order. A missing `limit` is
  taken as 10 (an assumption: every known client sends one).
* The query is evaluated, so a client that sends the wrong query gets the wrong records:
  `AND`, `OR` (also implied between adjacent terms, as on the real API), parentheses, quoted
  phrases, field terms `condition:` (condition description and disease classes),
  `intervention:` (intervention description, drug names, type), `drugName:`, `title:` (public
  and scientific title, acronym), `phase:`, `gender:`, `recruitmentCountry:`,
  `primaryStudyDesign:`; other field names match nothing (the real `sponsor:` gives 0 hits).
  Terms match whole words, case-insensitively, without stemming; a phrase matches consecutive
  words within one field value. A bare term searches all text of the record; a bare
  `ISRCTN12345678` also matches that record's own number. Date comparisons
  `lastEdited|dateApplied|overallStartDate GE|GT|LE|LT <yyyy-MM-dd[THH:mm:ss[.SSS]][Z]>`
  compare with `trial/@lastUpdated`, `isrctn/@dateAssigned` and `trialDesign/overallStartDate`;
  a record without that date never matches. A malformed query (unbalanced parentheses or
  quotes, a dangling operator, an unknown date field or an unparseable date) answers 400
  text/plain - what the real API does there is unknown; failing loudly keeps tests honest.
* `GET /api/trial/ISRCTN12345678/format/default` -> the `<fullTrial>` document; an unknown
  well-formed id -> HTTP 500 HTML (as observed on the real API); a malformed id -> 400.
* Only `format/default` exists here; other formats answer 404.

Records are stored in the form the client passes to its normaliser:
`{"isrctn": "ISRCTN12345678" | None, "xml": "<fullTrial ...>...</fullTrial>"}` (`built_record`
returns that form; `upsert` also takes the bare XML string). A record whose number is missing
or malformed is stored under a synthetic key, so a malformed record can be served in a page.

Test hooks: `requests` ((method, path+query, body) of every API request, faulted ones too),
`searches()` (the decoded q/limit of each search), `bytes_sent`, and the faults of
`tests.fakes.http_fake.FakeRegistryServer`, which queue in order: `fail_next(n, status=503,
retry_after=None)`, `garbage_next(n, kind)` (a 200 with a broken body, see GARBAGE_BODIES),
`delay_next(n, seconds)`, `truncate_next(n)`.

Standalone: `python -m tests.fakes.isrctn_server --dir DIR [--port N]` prints the base URL as
its first stdout line and serves the *.xml records of DIR until interrupted.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Unpack
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

from tests.fakes.http_fake import (
    Address,
    BadRequest,
    FakeRegistryServer,
    Reply,
    Request,
)
from tests.fakes.trial import Trial, TrialFields

API_PREFIX = "/api"
NAMESPACE = "http://www.67bricks.com/isrctn"
DEFAULT_LIMIT = 10

GARBAGE_BODIES: dict[str, bytes] = {
    "html": (
        b"<!DOCTYPE html><html><head><title>Service Unavailable</title></head>"
        b"<body><h1>ISRCTN is undergoing maintenance</h1></body></html>"
    ),
    "truncated": (
        b'<?xml version="1.0" encoding="UTF-8"?><allTrials xmlns="' + NAMESPACE.encode() + b'" '
        b'totalCount="3"><fullTrial><trial lastUpdated="2026-01-01T00:00:00.000Z"><isrctn>1'
    ),
    "wrong_root": b'<?xml version="1.0"?><error><message>Internal error</message></error>',
}
"""Broken 200 bodies: a maintenance page, an answer cut mid-record, a valid XML of the wrong
shape."""

UNKNOWN_TRIAL_HTML = (
    b"<!DOCTYPE html><html><head><title>Error</title></head>"
    b"<body><h1>Something went wrong</h1></body></html>"
)

_ID_PATH_RE = re.compile(r"^/trial/([^/]+)/format/([^/]+)$")
_ISRCTN_RE = re.compile(r"^ISRCTN\d{8}$")
_DIGITS_RE = re.compile(r"^(?:ISRCTN)?\s*(\d{8})$", re.IGNORECASE)
_WORD_RE = re.compile(r"[a-z0-9]+")
_TOKEN_RE = re.compile(r'\s*(?:(\()|(\))|("[^"]*")|([^\s()"]+))')
_DATE_LITERAL_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?(Z|[+-]\d{2}:\d{2})?$"
)
_COMPARATORS = frozenset({"GE", "GT", "LE", "LT"})
_DATE_FIELDS = frozenset({"lastEdited", "dateApplied", "overallStartDate"})


def local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _children(elem: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if elem is None else [c for c in elem if local_name(c.tag) == name]


def _child(elem: ET.Element | None, name: str) -> ET.Element | None:
    found = _children(elem, name)
    return found[0] if found else None


def _text(elem: ET.Element | None) -> str:
    return "" if elem is None else "".join(elem.itertext())


def parse_moment(value: str | None) -> datetime | None:
    """A registry/API timestamp or date -> aware UTC datetime; None if absent or unparseable."""
    if not value:
        return None
    match = _DATE_LITERAL_RE.match(value.strip())
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")),
            tzinfo=UTC,
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment


# -- stored records ---------------------------------------------------------------------------


@dataclass
class _Stored:
    key: str
    raw: dict[str, Any]
    order: int
    fields: dict[str, list[list[str]]]
    """Field name -> the word lists of each value (for phrase matching)."""
    everything: list[list[str]]
    own_id: str | None
    dates: dict[str, datetime | None]


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


def _index(raw: dict[str, Any], key: str, order: int) -> _Stored:
    root = ET.fromstring(raw["xml"])
    trial = _child(root, "trial")
    desc = _child(trial, "trialDescription")
    participants = _child(trial, "participants")
    design = _child(trial, "trialDesign")
    conditions = _children(_child(trial, "conditions"), "condition")
    interventions = _children(_child(trial, "interventions"), "intervention")

    def values(elems: Iterable[ET.Element | None]) -> list[list[str]]:
        return [w for e in elems if (w := _words(_text(e)))]

    fields = {
        "condition": values(
            _child(c, n)
            for c in conditions
            for n in ("description", "diseaseClass1", "diseaseClass2")
        ),
        "intervention": values(
            _child(i, n)
            for i in interventions
            for n in ("description", "drugNames", "interventionType")
        ),
        "drugname": values(_child(i, "drugNames") for i in interventions),
        "title": values(_child(desc, n) for n in ("title", "scientificTitle", "acronym")),
        "phase": values(_child(i, "phase") for i in interventions),
        "gender": values([_child(participants, "gender")]),
        "recruitmentcountry": values(
            _children(_child(participants, "recruitmentCountries"), "country")
        ),
        "primarystudydesign": values([_child(design, "primaryStudyDesign")]),
    }
    everything = [w for e in root.iter() for w in [_words(e.text or "")] if w]
    everything += [w for e in root.iter() for v in e.attrib.values() if (w := _words(v))]
    isrctn = _child(trial, "isrctn")
    match = _DIGITS_RE.match(_text(isrctn).strip())
    return _Stored(
        key=key,
        raw=raw,
        order=order,
        fields=fields,
        everything=everything,
        own_id=f"ISRCTN{match.group(1)}" if match else None,
        dates={
            "lastEdited": parse_moment(trial.get("lastUpdated") if trial is not None else None),
            "dateApplied": parse_moment(isrctn.get("dateAssigned") if isrctn is not None else None),
            "overallStartDate": parse_moment(_text(_child(design, "overallStartDate")).strip()),
        },
    )


def _has_phrase(values: list[list[str]], phrase: list[str]) -> bool:
    if not phrase:
        return False
    size = len(phrase)
    return any(
        words[i : i + size] == phrase for words in values for i in range(len(words) - size + 1)
    )


# -- query language ---------------------------------------------------------------------------

Predicate = Callable[[_Stored], bool]


def _tokens(query: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    query = query.strip()
    while pos < len(query):
        match = _TOKEN_RE.match(query, pos)
        if match is None or match.end() == pos:
            raise BadRequest(
                f"cannot parse query near {query[pos : pos + 30]!r} (unbalanced quote?)"
            )
        tokens.append(next(g for g in match.groups() if g is not None))
        pos = match.end()
        while pos < len(query) and query[pos].isspace():
            pos += 1
    return tokens


class _Parser:
    """or := and (("OR")? and)* ; and := unary ("AND" unary)* ; unary := "(" or ")" | cmp | term"""

    def __init__(self, query: str) -> None:
        self.tokens = _tokens(query)
        self.pos = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            return lambda _record: True
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise BadRequest(f"unexpected {self.tokens[self.pos]!r} in query")
        return predicate

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        token = self._peek()
        if token is None:
            raise BadRequest("query ends too early (dangling operator or open parenthesis)")
        self.pos += 1
        return token

    def _or(self) -> Predicate:
        parts = [self._and()]
        while (token := self._peek()) is not None and token != ")":
            if token == "OR":
                self.pos += 1
            parts.append(self._and())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def _and(self) -> Predicate:
        parts = [self._unary()]
        while self._peek() == "AND":
            self.pos += 1
            parts.append(self._unary())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)

    def _unary(self) -> Predicate:
        token = self._take()
        if token == "(":
            inner = self._or()
            if self._take() != ")":
                raise BadRequest("missing ')' in query")
            return inner
        if token in (")", "AND", "OR"):
            raise BadRequest(f"unexpected {token!r} in query")
        if self._peek() in _COMPARATORS and not token.startswith('"') and ":" not in token:
            return self._comparison(token, self._take(), self._take())
        if token.startswith('"'):
            return self._term(None, token[1:-1])
        field_name, sep, value = token.partition(":")
        if sep and field_name and re.fullmatch(r"[A-Za-z]+", field_name):
            if not value:
                nxt = self._take()
                if not nxt.startswith('"'):
                    raise BadRequest(f"field {field_name}: needs a value")
                value = nxt[1:-1]
            elif value.startswith('"'):
                raise BadRequest(f"unbalanced quote after {field_name}:")
            return self._term(field_name, value)
        return self._term(None, token)

    @staticmethod
    def _comparison(name: str, op: str, literal: str) -> Predicate:
        if name not in _DATE_FIELDS:
            raise BadRequest(f"unknown date field {name!r}")
        bound = parse_moment(literal)
        if bound is None:
            raise BadRequest(f"unparseable date {literal[:40]!r} after {name} {op}")

        def check(record: _Stored) -> bool:
            value = record.dates.get(name)
            if value is None:
                return False
            return {
                "GE": value >= bound,
                "GT": value > bound,
                "LE": value <= bound,
                "LT": value < bound,
            }[op]

        return check

    @staticmethod
    def _term(field_name: str | None, value: str) -> Predicate:
        phrase = _words(value)
        if field_name is None:
            wanted_id = value.strip().upper()

            def anywhere(record: _Stored) -> bool:
                return record.own_id == wanted_id or _has_phrase(record.everything, phrase)

            return anywhere
        key = field_name.casefold()
        return lambda record: _has_phrase(record.fields.get(key, []), phrase)


def compile_query(query: str) -> Predicate:
    """The fake's reading of an ISRCTN query (raises BadRequest when malformed)."""
    return _Parser(query).parse()


# -- HTTP -------------------------------------------------------------------------------------


class FakeIsrctn(FakeRegistryServer[tuple[str, str, str], _Stored]):
    """In-memory ISRCTN XML API over real HTTP. Use as `with FakeIsrctn() as fake:`.

    `requests` holds (method, path + query as received, body) of every API request.
    """

    api_prefix = API_PREFIX
    label = "fake ISRCTN"
    record_files = "*.xml"
    maintenance_page = GARBAGE_BODIES["html"]
    other_garbage: ClassVar[Mapping[str, tuple[bytes, str]]] = {
        kind: (body, "application/xml") for kind, body in GARBAGE_BODIES.items() if kind != "html"
    }

    def __init__(
        self,
        *,
        records: Iterable[dict[str, Any] | str] = (),
        **address: Unpack[Address],
    ) -> None:
        super().__init__(**address)
        self._counter = 0
        for record in records:
            self.upsert(record)

    # -- data ----------------------------------------------------------------------------------

    def _to_store(self, record: dict[str, Any] | str) -> tuple[str, _Stored]:
        """Keyed by its ISRCTN number; a replaced record keeps its place.

        Takes `{"isrctn": ..., "xml": "<fullTrial>..."}` or the bare XML. A record without a
        usable number is stored under `record["isrctn"]` if given, else a synthetic key.
        """
        raw: dict[str, Any] = (
            {"isrctn": None, "xml": record} if isinstance(record, str) else dict(record)
        )
        xml = raw.get("xml")
        if not isinstance(xml, str):
            raise ValueError("record must hold its <fullTrial> XML under 'xml'")
        root = ET.fromstring(xml)
        if local_name(root.tag) != "fullTrial":
            raise ValueError(f"record root is <{local_name(root.tag)}>, not <fullTrial>")
        self._counter += 1
        stored = _index(raw, "", self._counter)
        stored.key = str(stored.own_id or raw.get("isrctn") or f"unnumbered-{self._counter}")
        held = self._records.get(stored.key)
        if held is not None:
            stored.order = held.order
        return stored.key, stored

    def _normal_key(self, key: str) -> str:
        return key.strip()

    def record(self, key: str) -> dict[str, Any] | None:
        held = self._stored(key)
        return dict(held.raw) if held is not None else None

    @property
    def record_ids(self) -> list[str]:
        return self.ids

    def load_file(self, path: str | Path) -> int:
        """Upsert the <fullTrial> records of one file (a fullTrial or an allTrials document)."""
        root = ET.fromstring(Path(path).read_text(encoding="utf-8"))
        if local_name(root.tag) == "fullTrial":
            trials = [root]
        else:
            trials = [c for c in root if local_name(c.tag) == "fullTrial"]
        for trial in trials:
            self.upsert(_serialise(trial))
        return len(trials)

    # -- recording ------------------------------------------------------------------------------

    def searches(self) -> list[dict[str, str]]:
        """The decoded parameters of each search request, in order."""
        with self._lock:
            found = []
            for _method, target, _body in self.requests:
                parts = urlsplit(target)
                if parts.path.endswith("/query/format/default"):
                    query = parse_qs(parts.query, keep_blank_values=True)
                    found.append({k: v[-1] for k, v in query.items()})
            return found

    # -- serving -------------------------------------------------------------------------------

    def _dispatch(self, request: Request) -> Reply:
        rel = self._api_path(request)
        if rel is None:
            return self._error(404, "Not Found")
        with self._lock:
            self.requests.append(
                (request.method, request.target, request.body.decode("utf-8", "replace"))
            )
            fault = self._take_fault(request.method, rel)
            if request.method != "GET":
                return self._answer(fault, lambda: self._error(405, "Method Not Allowed"))
            return self._answer(fault, lambda: self._api(rel, request.query))

    def _api(self, rel: str, query: dict[str, str]) -> Reply:
        if rel == "/query/format/default":
            return self._search(query)
        if rel.startswith("/query/format/"):
            return self._error(404, "fake ISRCTN serves format/default only")
        match = _ID_PATH_RE.match(rel)
        if match is not None:
            if match.group(2) != "default":
                return self._error(404, "fake ISRCTN serves format/default only")
            return self._one(match.group(1))
        return self._error(404, "Not Found")

    def _search(self, query: dict[str, str]) -> Reply:
        raw_limit = query.get("limit")
        if raw_limit is None or raw_limit == "":
            limit = DEFAULT_LIMIT
        elif re.fullmatch(r"\d{1,9}", raw_limit):
            limit = int(raw_limit)
        else:
            raise BadRequest(f"limit must be a non-negative integer, got {raw_limit[:20]!r}")
        predicate = compile_query(query.get("q", ""))
        matches = [r for r in self._records.values() if predicate(r)]
        matches.sort(key=lambda r: (-(_stamp(r.dates.get("dateApplied"))), r.order))
        chosen = matches[:limit]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<allTrials xmlns="{NAMESPACE}" totalCount="{len(matches)}">'
            + "".join(_strip_declaration(r.raw["xml"]) for r in chosen)
            + "</allTrials>"
        )
        return Reply(200, body.encode("utf-8"), "application/xml;charset=UTF-8")

    def _one(self, raw_id: str) -> Reply:
        if not _ISRCTN_RE.match(raw_id):
            raise BadRequest(f"malformed ISRCTN id {raw_id[:40]!r}")
        held = self._records.get(raw_id)
        if held is None:
            return Reply(500, UNKNOWN_TRIAL_HTML, "text/html")
        body = '<?xml version="1.0" encoding="UTF-8"?>' + _strip_declaration(held.raw["xml"])
        return Reply(200, body.encode("utf-8"), "application/xml;charset=UTF-8")


def _stamp(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


def _strip_declaration(xml: str) -> str:
    return re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", xml)


def _serialise(full_trial: ET.Element) -> dict[str, Any]:
    tag = full_trial.tag if isinstance(full_trial.tag, str) else ""
    namespace = tag[1:].split("}", 1)[0] if tag.startswith("{") else None
    if namespace:  # keep the namespace as the default, not as ns0: prefixes
        prefix = "{" + namespace + "}"
        for node in full_trial.iter():
            if isinstance(node.tag, str) and node.tag.startswith(prefix):
                node.tag = node.tag[len(prefix) :]
        full_trial.set("xmlns", namespace)
    xml = ET.tostring(full_trial, encoding="unicode")
    trial = _child(full_trial, "trial")
    match = _DIGITS_RE.match(_text(_child(trial, "isrctn")).strip())
    return {"isrctn": f"ISRCTN{match.group(1)}" if match else None, "xml": xml}


# -- builder ----------------------------------------------------------------------------------

_NCT = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
_CTIS = re.compile(r"^20\d{2}-5\d{5}-\d{2}-\d{2}$")
_EUDRACT = re.compile(r"^20\d{2}-\d{6}-\d{2}$")


def _el(name: str, text: str | None = None, **attrs: str) -> str:
    attributes = "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items())
    if text is None or text == "":
        return f"<{name}{attributes}/>"
    return f"<{name}{attributes}>{escape(text)}</{name}>"


def built_record(registry_id: str, **fields: Unpack[TrialFields]) -> dict[str, Any]:
    """One ISRCTN record in the form the fake stores and serves (and the client yields).

    Returns `{"isrctn": "ISRCTN12345678", "xml": "<fullTrial xmlns=...>...</fullTrial>"}`.

    * `registry_id`: `ISRCTN12345678` (or the 8 digits).
    * `condition`, `intervention`: one condition and one intervention; the intervention text is
      its drug name and description; its type is Biological/Vaccine when it mentions cells,
      else Other.
    * `sites`: (facility, city, country as ISRCTN writes it, e.g. "United Kingdom",
      "United States of America"); recruitment countries are their distinct countries.
    * `secondary_ids`: NCT numbers go to `clinicalTrialsGovNumber` (the first) and typed
      secondary numbers; EudraCT and CTIS numbers likewise; anything else is a
      "Protocol serial number".
    * `status`: ISRCTN has no status field, so the status is made the way the registry makes
      it: None or "Recruiting" -> recruitment dates around today (start a year before
      `last_updated`, end 2045-12-31); "Not yet recruiting"/"Anticipated" -> recruitment starts
      2040-01-01; "No longer recruiting" -> recruitment ended 30 days before `last_updated`,
      overall end 2045-12-31; "Completed" -> both ended before `last_updated`; any other value
      (e.g. "Suspended", "Stopped", "Withdrawn") is written as `recruitmentStatusOverride` with
      recruiting dates.
    * `phase`: ISRCTN wording ("Phase II", "Phase I/II", "Not Applicable").
    """
    trial = Trial(registry_id, **fields)
    digits = _DIGITS_RE.match(registry_id.strip())
    if digits is None:
        raise ValueError(f"not an ISRCTN id: {registry_id!r}")
    isrctn = f"ISRCTN{digits.group(1)}"
    updated = date.fromisoformat(trial.last_updated)
    stamp = f"{updated.isoformat()}T09:30:00.000Z"
    day = timedelta(days=1)

    def iso(d: date) -> str:
        return f"{d.isoformat()}T00:00:00.000Z"

    start, end, overall_end = updated - 365 * day, date(2045, 12, 31), date(2046, 12, 31)
    override = None
    folded = (trial.status or "recruiting").strip().casefold()
    if folded in ("not yet recruiting", "anticipated"):
        start, end = date(2040, 1, 1), date(2045, 12, 31)
    elif folded == "no longer recruiting":
        end = updated - 30 * day
    elif folded == "completed":
        start, end, overall_end = updated - 730 * day, updated - 60 * day, updated - 30 * day
    elif folded != "recruiting":
        override = trial.status

    nct = [s for s in trial.secondary_ids if _NCT.match(s.strip())]
    eudract = [s for s in trial.secondary_ids if _EUDRACT.match(s.strip())]
    numbers = []
    for value in trial.secondary_ids:
        value = value.strip()
        if _NCT.match(value):
            kind = "nct"
        elif _CTIS.match(value):
            kind = "ctis"
        elif _EUDRACT.match(value):
            kind = "eudract"
        else:
            kind = "Protocol serial number"
        numbers.append(_el("secondaryNumber", value, numberType=kind))

    countries: list[str] = []
    for _facility, _city, country in trial.sites:
        if country not in countries:
            countries.append(country)
    centres = "".join(
        "<trialCentre>"
        + _el("name", facility)
        + _el("address")
        + _el("city", city)
        + _el("state")
        + _el("country", country)
        + _el("zip")
        + "</trialCentre>"
        for facility, city, country in trial.sites
    )
    intervention_type = (
        "Biological/Vaccine" if re.search(r"\bcells?\b", trial.intervention, re.I) else "Other"
    )
    xml = (
        f'<fullTrial xmlns="{NAMESPACE}">'
        f'<trial lastUpdated="{stamp}" version="3" isPublished="true">'
        + _el("isrctn", digits.group(1), dateAssigned=iso(updated - 400 * day))
        + "<trialDescription>"
        + _el("title", trial.title)
        + _el("scientificTitle", trial.title)
        + _el("acronym")
        + _el("studyHypothesis")
        + _el("plainEnglishSummary", trial.summary)
        + "</trialDescription>"
        + "<externalRefs>"
        + _el("doi", f"10.1186/{isrctn}")
        + _el("eudraCTNumber", eudract[0] if eudract else "Nil known")
        + _el("irasNumber")
        + _el("clinicalTrialsGovNumber", nct[0] if nct else "Nil known")
        + _el("protocolSerialNumber")
        + "<secondaryNumbers>"
        + "".join(numbers)
        + "</secondaryNumbers></externalRefs>"
        + "<trialDesign>"
        + _el("primaryStudyDesign", "Interventional")
        + _el("secondaryStudyDesign", "Randomised controlled trial")
        + _el("overallStartDate", iso(start))
        + _el("overallEndDate", iso(overall_end))
        + "</trialDesign>"
        + "<participants>"
        + "<recruitmentCountries>"
        + "".join(_el("country", c) for c in countries)
        + "</recruitmentCountries>"
        + f"<trialCentres>{centres}</trialCentres>"
        + _el("gender", "Both")
        + _el("recruitmentStart", iso(start))
        + _el("recruitmentEnd", iso(end))
        + (_el("recruitmentStatusOverride", override) if override else "")
        + "</participants>"
        + "<conditions><condition>"
        + _el("description", trial.condition)
        + _el("diseaseClass1")
        + "</condition></conditions>"
        + "<interventions><intervention>"
        + _el("description", trial.intervention)
        + _el("interventionType", intervention_type)
        + _el("phase", trial.phase or "Not Specified")
        + _el("drugNames", trial.intervention)
        + "</intervention></interventions>"
        + "</trial>"
        + "</fullTrial>"
    )
    return {"isrctn": isrctn, "xml": xml}


def main(argv: list[str] | None = None) -> int:
    """Serve the *.xml records of folders until SIGINT/SIGTERM; first stdout line: base URL."""
    parser = FakeIsrctn.command_line(__doc__, dirs="folder of *.xml records; repeatable")
    args = parser.parse_args(argv)
    fake = FakeIsrctn(host=args.host, port=args.port)
    loaded = sum(fake.load_dir(d) for d in args.dir)
    return fake.serve_until_signalled(lambda: f"fake ISRCTN: {loaded} records loaded")


if __name__ == "__main__":
    sys.exit(main())
