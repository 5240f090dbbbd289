"""Async client for PubMed through NCBI's E-utilities (esearch, esummary, einfo), JSON only.

What it is for: finding the results papers and other publications of a trial already known,
by the registry ids it carries. PubMed indexes a trial's registration number in the
"secondary source ID" field (`NCT01234567[si]`) when the journal deposited it, and many
abstracts quote it in the text (`[tiab]`), so both fields are offered.

What NCBI asks of a client (E-utilities usage guidelines) and how this one complies:
* At most 3 requests a second without an API key, 10 with one (`NCBI_API_KEY`). Requests go
  through `PoliteHttp`, serialised and spaced by `min_interval` (0.34 s, or 0.1 s with a key),
  and retried with backoff on 429 and 5xx. An over-limit answer is HTTP 429 with a JSON body
  such as `{"error":"API rate limit exceeded","api-key":"203.0.113.5","count":"11",
  "limit":"10"}`; it is retried like any 429.
* Every request names the tool (`tool=trialbot`) and, when set, an e-mail address NCBI may
  write to (`email=`, `NCBI_EMAIL`), so NCBI contacts the operator before blocking the tool.
* The API key is a secret: it travels only as the `api_key` parameter. Errors never quote it
  (NCBI's answer to a wrong key echoes the key; it is redacted here), and httpx's request log
  line, which holds the URL, has it replaced by `[REDACTED]`.

NCBI answers some failures with HTTP 200 and an error in the body: a top-level `"error"`, an
`"ERROR"` inside `esearchresult`/`einforesult`, and per search term an `errorlist`
(`phrasesnotfound`: that id is simply not in PubMed, so fewer results; `fieldsnotfound`: the
field tag is unknown, an error). Errors raise `PubMedError` (a `RegistryError` naming
"pubmed"); a phrase not found is logged at debug level only.
"""

from __future__ import annotations

import calendar
import html
import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Final, Literal

from pydantic import SecretStr

from jobs.registries.base import RegistryError
from jobs.registries.http import HttpOptions, RegistryClient, decode_json
from trialbot.settings import Settings

log = logging.getLogger(__name__)

TOOL: Final = "trialbot"
MIN_INTERVAL: Final = 0.34
"""Seconds between requests without an API key: at most 3 a second, as NCBI asks."""
MIN_INTERVAL_WITH_KEY: Final = 0.1
"""Seconds between requests with an API key: at most 10 a second."""
SEARCH_RETMAX: Final = 100
"""Most PMIDs one search returns (a trial has a handful of papers, never a hundred)."""
SUMMARY_CHUNK: Final = 200
"""Most PMIDs per esummary request (NCBI suggests POST above 200; GET stays short here)."""

SearchField = Literal["si", "tiab"]
_FIELDS: Final = frozenset({"si", "tiab"})
_ID_RE = re.compile(r"^[A-Za-z0-9/-]{1,64}$")
_PLAIN_ID_RE = re.compile(r"^[A-Za-z0-9]+$")
_PMID_RE = re.compile(r"^[1-9]\d{0,9}$")
_TAG_RE = re.compile(r"<[^<>]{0,200}>")
_SORT_DATE_RE = re.compile(r"^\s*(\d{4})/(\d{2})/(\d{2})(?:\s+\d{2}:\d{2})?\s*$")
_PUBDATE_RE = re.compile(
    r"^\s*(?P<year>\d{4})(?:\s+(?P<month>[A-Za-z]+)\.?(?:\s+(?P<day>\d{1,2})(?!\d))?)?(?P<rest>.*)$"
)
_MONTHS: Final = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}


class PubMedError(RegistryError):
    """PubMed could not be read, or answered with an error (its text never holds the key)."""


@dataclass(frozen=True)
class PubMedSummary:
    """One PubMed record as esummary describes it."""

    pmid: str
    title: str
    """As given, whitespace-normalised, HTML tags (`<i>`, `<sup>`) removed."""
    journal: str | None
    """The journal's full name, else its abbreviation (`source`)."""
    published: str | None
    """ISO date as precise as PubMed states it: "2020-04-17", "2019-12" or "2019"."""
    pubtypes: tuple[str, ...]
    """PubMed publication types, e.g. ("Journal Article", "Randomized Controlled Trial")."""
    doi: str | None


def min_interval_for(api_key: SecretStr | str | None) -> float:
    """NCBI's spacing: 3 requests a second, or 10 with an API key."""
    return MIN_INTERVAL_WITH_KEY if api_key else MIN_INTERVAL


# -- secrets in httpx's log line ---------------------------------------------------------------


class _RedactKeys(logging.Filter):
    """On the "httpx" logger: its INFO line quotes the request URL, which holds `api_key`."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: set[str] = set()
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        keys = self.keys
        if not keys:
            return True
        text = record.getMessage()
        if any(key in text for key in keys):
            for key in keys:
                text = text.replace(key, "[REDACTED]")
            record.msg, record.args = text, None
        return True


_HTTPX_REDACTION = _RedactKeys()


def _redact_in_httpx_log(key: str) -> None:
    with _HTTPX_REDACTION.lock:
        _HTTPX_REDACTION.keys = _HTTPX_REDACTION.keys | {key}
        httpx_log = logging.getLogger("httpx")
        if _HTTPX_REDACTION not in httpx_log.filters:
            httpx_log.addFilter(_HTTPX_REDACTION)


# -- parsing ------------------------------------------------------------------------------------


def search_term(ids: Sequence[str], field: SearchField) -> str | None:
    """`(NCT01234567[si] OR "CTRI/2020/01/012345"[si])`, or None when no id is usable.

    Ids may hold only letters, digits, "-" and "/"; others are logged and skipped, so nothing
    from outside can change the query's meaning. An id with "-" or "/" is a quoted phrase.
    """
    if field not in _FIELDS:
        raise ValueError(f"field must be one of {sorted(_FIELDS)}, not {field!r}")
    parts: list[str] = []
    for raw in ids:
        value = raw.strip() if isinstance(raw, str) else ""
        if not _ID_RE.match(value):
            log.warning("pubmed: skipping id %r: not letters, digits, '-' and '/'", str(raw)[:40])
            continue
        part = f"{value}[{field}]" if _PLAIN_ID_RE.match(value) else f'"{value}"[{field}]'
        if part not in parts:
            parts.append(part)
    if not parts:
        return None
    return "(" + " OR ".join(parts) + ")"


def clean_title(value: Any) -> str:
    """Tags such as `<i>` removed, entities decoded, runs of whitespace made one space."""
    if not isinstance(value, str):
        return ""
    return " ".join(html.unescape(_TAG_RE.sub("", value)).split())


@dataclass(frozen=True)
class _Partial:
    year: int
    month: int | None = None
    day: int | None = None

    def iso(self) -> str:
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


def _valid(year: int, month: int | None, day: int | None) -> bool:
    if not 1000 <= year <= 9999:
        return False
    if month is None:
        return day is None
    if not 1 <= month <= 12:
        return False
    return day is None or 1 <= day <= calendar.monthrange(year, month)[1]


def parse_pubdate(value: Any) -> _Partial | None:
    """PubMed's display date as far as it is certain: "2020 Apr 17" -> 2020-04-17,
    "2019 Dec" -> 2019-12, "2023" -> 2023, "2019 Winter" -> 2019 (a season is no month),
    "2020 Jan-Feb" -> 2020 (a range has no one month), "2020 Apr 17-23" -> 2020-04."""
    if not isinstance(value, str):
        return None
    match = _PUBDATE_RE.match(value)
    if match is None:
        return None
    year = int(match["year"])
    month_word, day_text, rest = match["month"], match["day"], match["rest"].strip()
    month = _MONTHS.get(month_word[:3].lower()) if month_word else None
    if month_word and (month is None or len(month_word) < 3):
        month = None  # a season ("Winter", "Spring") or something unknown
    day = int(day_text) if day_text and month is not None else None
    if rest.startswith("-"):  # a range: keep only what both ends share
        if day is not None:
            day = None
        elif month is not None:
            month = None
    elif rest:
        month = day = None  # "2019 Dec 2020 Jan", "2020 Apr 17 Suppl": only the year is sure
    if not _valid(year, month, day):
        return _Partial(year) if _valid(year, None, None) else None
    return _Partial(year, month, day)


def _parse_sortpubdate(value: Any) -> tuple[int, int, int] | None:
    if not isinstance(value, str):
        return None
    match = _SORT_DATE_RE.match(value)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    return (year, month, day) if _valid(year, month, day) else None


def published_date(sortpubdate: Any, pubdate: Any) -> str | None:
    """The publication date as an ISO partial date, never more precise than PubMed states it.

    `sortpubdate` ("2018/08/09 00:00") is always a whole date, but NCBI fills a part it does
    not know with 01 ("2019 Dec" sorts as 2019/12/01). So its day is kept only when `pubdate`
    states the same day or the day is not 01 (not a fill), its month likewise; otherwise the
    date is cut to what `pubdate` confirms. Without a usable `sortpubdate`, `pubdate` alone.
    """
    pub = parse_pubdate(pubdate)
    sort = _parse_sortpubdate(sortpubdate)
    if sort is None:
        return pub.iso() if pub is not None else None
    year, month, day = sort
    same_month = pub is not None and pub.year == year and pub.month == month
    if day != 1 or (same_month and pub is not None and pub.day == day):
        return _Partial(year, month, day).iso()
    if same_month:
        return _Partial(year, month).iso()
    return _Partial(year).iso()


def _doi(entry: Mapping[str, Any]) -> str | None:
    ids = entry.get("articleids")
    if isinstance(ids, list):
        for item in ids:
            if isinstance(item, dict) and str(item.get("idtype", "")).lower() == "doi":
                value = str(item.get("value") or "").strip()
                if value:
                    return value
    location = entry.get("elocationid")
    if isinstance(location, str):
        match = re.search(r"\bdoi:\s*(10\.\S+)", location)
        if match:
            return match.group(1).rstrip(".")
    return None


def parse_summary(pmid: str, entry: Mapping[str, Any]) -> PubMedSummary:
    """One esummary entry (version 1.0 JSON) as a `PubMedSummary`."""
    title = clean_title(entry.get("title")) or clean_title(entry.get("booktitle"))
    journal = None
    for key in ("fulljournalname", "source"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            journal = " ".join(value.split())
            break
    pubtypes_raw = entry.get("pubtype")
    pubtypes = (
        tuple(" ".join(p.split()) for p in pubtypes_raw if isinstance(p, str) and p.strip())
        if isinstance(pubtypes_raw, list)
        else ()
    )
    return PubMedSummary(
        pmid=pmid,
        title=title,
        journal=journal,
        published=published_date(entry.get("sortpubdate"), entry.get("pubdate")),
        pubtypes=pubtypes,
        doi=_doi(entry),
    )


# -- the client ---------------------------------------------------------------------------------


class PubMedClient(RegistryClient):
    """PubMed through E-utilities: `search` ids, `summaries` of PMIDs, `probe` for the doctor."""

    name = "pubmed"
    setting = "PUBMED_API_URL"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: SecretStr | str | None = None,
        email: str | None = None,
        http: HttpOptions | None = None,
    ) -> None:
        """`http` None: NCBI's spacing for the key (3 or 10 requests a second) and the
        default retries. Tests pass their own (short backoff, their own spacing)."""
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        key = key.strip() if key else None
        super().__init__(base_url, http or HttpOptions(min_interval=min_interval_for(key)))
        self.base_url = self._http.base_url
        self._api_key = SecretStr(key) if key else None
        self.email = email.strip() if email and email.strip() else None
        self.skipped_summaries = 0
        """PMIDs whose esummary entry was an error (or missing), since this client started."""
        if key:
            _redact_in_httpx_log(key)

    @classmethod
    def from_settings(cls, settings: Settings) -> PubMedClient:
        """The production client: NCBI's spacing for the key, the deployment's retries."""
        key = settings.ncbi_api_key
        http = HttpOptions.from_settings(settings, min_interval=min_interval_for(key))
        return cls(settings.pubmed_api_url, api_key=key, email=settings.ncbi_email, http=http)

    @property
    def has_api_key(self) -> bool:
        return self._api_key is not None

    def __repr__(self) -> str:
        key = "set" if self._api_key is not None else "none"
        return f"PubMedClient({self.base_url!r}, api_key={key}, email={self.email!r})"

    # -- API -----------------------------------------------------------------------------------

    async def search(self, ids: Sequence[str], field: SearchField, since: date | None) -> list[str]:
        """PMIDs of records naming any of `ids` in `field` ("si": the secondary source ID, the
        registry number the journal deposited; "tiab": title or abstract), published on or
        after `since` when given. One request; at most `SEARCH_RETMAX` PMIDs, newest first.
        No usable id: [] without a request."""
        term = search_term(ids, field)
        if term is None:
            return []
        params = {"db": "pubmed", "term": term, "retmax": str(SEARCH_RETMAX)}
        if since is not None:
            params |= {
                "datetype": "pdat",
                "mindate": since.strftime("%Y/%m/%d"),
                "maxdate": "3000",
            }
        body = await self._get("esearch.fcgi", params)
        result = _part(body, "esearchresult", "esearch")
        _raise_for_errors(result, "esearch")
        idlist = result.get("idlist")
        if not isinstance(idlist, list) or not all(
            isinstance(p, str) and _PMID_RE.match(p) for p in idlist
        ):
            raise PubMedError("pubmed esearch: answer has no list of PMIDs (idlist)")
        count = result.get("count")
        if isinstance(count, str) and count.isdigit() and int(count) > len(idlist):
            log.info("pubmed: %s matched %s records; kept the newest %d", term, count, len(idlist))
        return list(dict.fromkeys(idlist))

    async def summaries(self, pmids: Sequence[str]) -> list[PubMedSummary]:
        """esummary of each PMID, in the order given, in requests of up to `SUMMARY_CHUNK`.

        A PMID that is not a number is skipped with a warning; one whose entry is an error
        ("cannot get document summary") or missing is logged, counted in `skipped_summaries`
        and left out."""
        wanted: list[str] = []
        for raw in pmids:
            value = raw.strip() if isinstance(raw, str) else ""
            if not _PMID_RE.match(value):
                log.warning("pubmed: skipping %r: not a PMID", str(raw)[:40])
            elif value not in wanted:
                wanted.append(value)
        found: list[PubMedSummary] = []
        for start in range(0, len(wanted), SUMMARY_CHUNK):
            chunk = wanted[start : start + SUMMARY_CHUNK]
            body = await self._get("esummary.fcgi", {"db": "pubmed", "id": ",".join(chunk)})
            result = _part(body, "result", "esummary")
            for pmid in chunk:
                entry = result.get(pmid)
                if not isinstance(entry, dict):
                    self._skip(pmid, "not in the answer")
                elif "error" in entry:
                    self._skip(pmid, str(entry.get("error"))[:100])
                else:
                    found.append(parse_summary(pmid, entry))
        return found

    async def probe(self) -> str | None:
        """One small real request (for `trialbot doctor`): PubMed's size and last update."""
        body = await self._get("einfo.fcgi", {"db": "pubmed"})
        result = _part(body, "einforesult", "einfo")
        info = result.get("dbinfo")
        if isinstance(info, list):
            info = info[0] if info else None
        if not isinstance(info, dict):
            raise PubMedError("pubmed einfo: answer has no dbinfo")
        count = str(info.get("count") or "?")[:20]
        updated = str(info.get("lastupdate") or "?")[:40]
        return f"{count} records, last update {updated}"

    # -- internals -----------------------------------------------------------------------------

    def _skip(self, pmid: str, why: str) -> None:
        self.skipped_summaries += 1
        log.warning("pubmed: no summary for PMID %s (%s); skipped", pmid, why)

    def _params(self, params: Mapping[str, str]) -> dict[str, str]:
        full = {**params, "retmode": "json", "tool": TOOL}
        if self.email:
            full["email"] = self.email
        if self._api_key is not None:
            full["api_key"] = self._api_key.get_secret_value()
        return full

    def _redact(self, text: str) -> str:
        if self._api_key is None:
            return text
        return text.replace(self._api_key.get_secret_value(), "[REDACTED]")

    async def _get(self, path: str, params: Mapping[str, str]) -> dict[str, Any]:
        """GET with NCBI's common parameters; any failure a PubMedError without the key."""
        try:
            response = await self._http.request("GET", path, self._params(params))
            body = decode_json(response, self.name, f"GET /{path}")
        except PubMedError:
            raise
        except RegistryError as exc:
            raise PubMedError(self._redact(str(exc))) from None
        if not isinstance(body, dict):
            raise PubMedError(f"pubmed GET /{path}: answer is not a JSON object")
        error = body.get("error")
        if error:
            raise PubMedError(self._redact(f"pubmed GET /{path}: {str(error)[:200]}"))
        return body


def _part(body: Mapping[str, Any], key: str, what: str) -> dict[str, Any]:
    part = body.get(key)
    if not isinstance(part, dict):
        raise PubMedError(f"pubmed {what}: answer has no {key}")
    error = part.get("ERROR")
    if error:
        raise PubMedError(f"pubmed {what}: {str(error)[:200]}")
    return part


def _raise_for_errors(result: Mapping[str, Any], what: str) -> None:
    """`errorlist`: a phrase not found only means fewer results; an unknown field is an error.
    `warninglist` (phrases ignored, "No items found.") is logged."""
    errors = result.get("errorlist")
    if isinstance(errors, dict):
        fields = [str(f) for f in errors.get("fieldsnotfound") or [] if f]
        if fields:
            raise PubMedError(f"pubmed {what}: unknown field(s) {', '.join(fields)[:200]}")
        phrases = [str(p) for p in errors.get("phrasesnotfound") or [] if p]
        if phrases:
            log.debug("pubmed %s: not in PubMed: %s", what, ", ".join(phrases)[:300])
    warnings = result.get("warninglist")
    if isinstance(warnings, dict):
        notes = [
            str(w)
            for name in ("phrasesignored", "quotedphrasesnotfound", "outputmessages")
            for w in warnings.get(name) or []
            if w
        ]
        if notes:
            log.debug("pubmed %s: %s", what, "; ".join(notes)[:300])
