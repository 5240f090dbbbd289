"""EU CTIS full trial JSON (`GET /ctis-public-api/retrieve/{ctNumber}`) -> the neutral `Trial`.

The record shape follows the public portal as relaunched on 2024-06-17 (shared/registries.md
§2.1 and public clients of the same API): `ctNumber`, `ctStatus` (words, sometimes a numeric
code), `decisionDate`, `publishDate`, `startDateEU`/`endDateEU`, and under
`authorizedApplication`:

* `authorizedPartI.trialDetails.clinicalTrialIdentifiers` - `publicTitle`, `fullTitle`,
  `shortTitle`, `secondaryIdentifyingNumbers.{nctNumber,isrctnNumber,whoUniversalTrialNumber}
  .number` and `.additionalRegistries[].{number,otherRegistryName}`;
* `authorizedPartI.trialDetails.trialInformation` - `trialCategory.trialPhase` (words or a
  code), `medicalCondition.{partIMedicalConditions[].medicalCondition,meddraConditionTerms[]}`,
  `trialObjective.{mainObjective,secondaryObjectives[]}`, `eligibilityCriteria.principal
  {In,Ex}clusionCriteria[]`, `endPoint.primaryEndPoints[]`, `trialDuration`,
  `populationOfTrialSubjects`;
* `authorizedPartI.products[]` (or `productRoleGroupInfos[].products[]`) - `productName`,
  `productDictionaryInfo.{prodName,activeSubstanceName,productSubstances[]}`,
  `jsonActiveSubstanceNames`, `therapies[]` (advanced-therapy details: an ATMP), `routes[]`;
* `authorizedPartI.sponsors[]` (with `publicContacts[]`/`scientificContacts[]`
  `{type,functionalName,telephone,functionalEmailAddress}`), `authorizedPartI.medicalConditions[]`
  (older layout);
* `authorizedPartsII[]` - one per member state: `mscInfo.{countryName,mscName,trialStatus}`,
  `recruitmentSubjectCount`, `trialSites[].organisationAddressInfo.{organisation.name,
  address.{city,countryName},phone,email}`, `trialSites[].personInfo.{firstName,lastName,
  telephone,email}`;
* `eudraCt.eudraCtCode` for trials transitioned from EudraCT; `events.{trialEvents[],
  trialGlobalEndDate}`; `results`.

`results` sets `has_results` only: the one recorded answer holds it empty (`{}`), so the shape of
its summary and lay-person results documents is not known, and no `Trial.references` are read.

The client may attach the search row it came from under `_searchRow` (see ctis.py); ctrdata
stores it merged over the record's top level instead, and a bare search row is read the same
way. Its `lastUpdated` ("dd/mm/yyyy") and a few fallbacks (title, phase, status, age group,
protocol code) are read from it.

The current API answers with numeric codes (status, member-state status, age groups, trial
scopes, product characteristics): they are decoded with the tables of `ctis_codes.py`, where
each meaning cites its source; an unknown code is logged once and counted, never guessed.

Expect unknown or missing keys anywhere (the portal changed structure in 2024): every getter
tolerates a missing key or a value of the wrong type. Dates come as ISO dates or datetimes,
or as `dd/mm/yyyy`. Unknown status words, codes and phase values are logged once at WARNING
and counted. Lists without meaning in their order are sorted so the fingerprint stays stable.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable
from typing import Any

from jobs.registries import ctis_codes, records
from jobs.registries.base import RawRecord, RecordError
from jobs.registries.records import dict_at, list_at
from trialbot.countries import to_iso2
from trialbot.model import (
    Contact,
    Dates,
    Design,
    Eligibility,
    Enrollment,
    Intervention,
    KeyDate,
    SecondaryId,
    Site,
    Sponsor,
    Trial,
)

log = logging.getLogger(__name__)
_warn_once = records.WarnOnce(log, "ctis")

REGISTRY = "ctis"
PUBLIC_URL = "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={}"
CT_NUMBER_RE = re.compile(r"^\d{4}-\d{6}-\d{2}-\d{2}$")
"""A CTIS trial number, e.g. `2024-520423-88-00` (new trials have a 5 after the first dash)."""
EUDRACT_RE = re.compile(r"^\d{4}-\d{6}-\d{2}$")
NCT_RE = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
ISRCTN_RE = re.compile(r"^ISRCTN\d{8}$", re.IGNORECASE)
SEARCH_ROW_KEY = "_searchRow"

OPEN_ORDER: tuple[str, ...] = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "SUSPENDED",
    "COMPLETED",
    "TERMINATED",
    "WITHDRAWN",
)
"""How member-state statuses combine into one: the most open one wins (a trial recruiting in
one country is recruiting)."""

PHASE_CODES: dict[int, tuple[str, ...]] = {
    1: ("PHASE1",),  # Human pharmacology (Phase I) - first administration to humans
    2: ("PHASE1",),  # Human pharmacology (Phase I) - bioequivalence
    3: ("PHASE1",),  # Human pharmacology (Phase I) - other
    4: ("PHASE2",),  # Therapeutic exploratory (Phase II)
    5: ("PHASE3",),  # Therapeutic confirmatory (Phase III)
    6: ("PHASE4",),  # Therapeutic use (Phase IV)
    7: ("PHASE1", "PHASE2"),  # Phase I and Phase II (integrated) - first administration
    9: ("PHASE1", "PHASE2"),  # Phase I and Phase II (integrated) - other
}
"""`trialCategory.trialPhase` codes as calibrated by a public client against the search text;
codes it could not confirm (8, 10-12) are treated as unknown rather than guessed."""

_ROMAN = {"i": "1", "ii": "2", "iii": "3", "iv": "4", "1": "1", "2": "2", "3": "3", "4": "4"}
_PHASE_RUN = re.compile(r"phase\s*((?:iv|iii|ii|i|[1-4])(?:\s*/\s*(?:iv|iii|ii|i|[1-4]))*)\b")
_ISO_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$"
)
_EU_DATE = re.compile(r"(?<!\d)(\d{1,2})/(\d{1,2})/(\d{4})(?!\d)")
_BR = re.compile(r"<\s*br\s*/?\s*>|<\s*/?\s*p\s*>", re.IGNORECASE)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?\s*>")
_NON_WORD = re.compile(r"[^A-Z0-9]+")
_AGE_RANGE = re.compile(r"(\d+)\s*(?:-|to)\s*(\d+)\s*(year|month|week|day)s?", re.IGNORECASE)
_AGE_PLUS = re.compile(
    r"(\d+)\s*\+\s*(year|month|week|day)s?|(\d+)\s*(year|month|week|day)s?\s*(?:and|or)\s*(?:over|above|older)",
    re.IGNORECASE,
)

_GENE_THERAPY = re.compile(r"\bgene (?:therapy|transfer)\b", re.IGNORECASE)

# -- tolerant getters ----------------------------------------------------------------------


def _dicts(parent: Any, key: str) -> list[dict[str, Any]]:
    return [v for v in list_at(parent, key) if isinstance(v, dict)]


def _text(value: Any) -> str | None:
    """Registry text made plain: HTML line breaks and entities become text; empty -> None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    text = records.unescape_html(str(value), rounds=3)
    text = _TAG.sub("", _BR.sub("\n", text))
    return records.tidy_lines(records.plain_newlines(text)) or None


def _first_text(*values: Any) -> str | None:
    for value in values:
        text = _text(value)
        if text:
            return text
    return None


def _number(item: Any) -> str | None:
    """`{"number": "NCT..."}` or a bare string -> the id text."""
    if isinstance(item, dict):
        return _text(item.get("number"))
    return _text(item) if isinstance(item, str) else None


def _sorted_unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return tuple(sorted(seen.values(), key=lambda v: (v.casefold(), v)))


# -- dates ---------------------------------------------------------------------------------


def parse_date(value: Any) -> str | None:
    """`YYYY-MM-DD` (or `YYYY-MM`, `YYYY`) from an ISO date/datetime or a `dd/mm/yyyy` date.

    A value with a prefix, like the search rows' `"FR: 08/09/2026"`, gives its first date.
    Impossible dates give None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    if iso:
        year, month, day = iso.group(1), iso.group(2), iso.group(3)
        return _valid(int(year), int(month) if month else None, int(day) if day else None)
    eu = _EU_DATE.search(text)
    if eu:
        return _valid(int(eu.group(3)), int(eu.group(2)), int(eu.group(1)))
    return None


_ANY_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


def _earliest(value: Any) -> Any:
    """The earliest date of a per-country list ("ES: 24/04/2024, IT: 23/10/2024",
    "DE:2022-08-03") as `YYYY-MM-DD`; the value itself when it holds no such date."""
    if not isinstance(value, str):
        return value
    found = [
        d
        for d in (
            *(_valid(int(y), int(m), int(d)) for y, m, d in _ANY_ISO_DATE.findall(value)),
            *(_valid(int(y), int(m), int(d)) for d, m, y in _EU_DATE.findall(value)),
        )
        if d
    ]
    return min(found) if found else value


def _valid(year: int, month: int | None, day: int | None) -> str | None:
    if not 1900 <= year <= 2200:
        return None
    if month is None:
        return f"{year:04d}"
    if not 1 <= month <= 12:
        return None
    if day is None:
        return f"{year:04d}-{month:02d}"
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}"


def _key_date(value: Any, ct_number: str, field: str, *, estimated: bool | None) -> KeyDate | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse_date(value)
    if parsed is None:
        log.warning("ctis: unparseable %s date %r in %s; dropped", field, value, ct_number)
        return None
    return KeyDate(date=parsed, estimated=estimated)


# -- status and phase ------------------------------------------------------------------------


def status_from_words(text: str) -> tuple[str | None, bool]:
    """(CT.gov status, is_vague) for a CTIS status phrase; (None, False) if not recognised.

    "Vague" phrases ("Authorised", "Ongoing": the pre-2024 portal's words) say nothing about
    recruitment; the member-state statuses may then say more.
    """
    t = " ".join(text.casefold().replace("authorized", "authorised").split())
    if "not authorised" in t or "withdrawn" in t or "cancelled" in t or "expired" in t:
        return "WITHDRAWN", False
    if "revoked" in t:
        return "TERMINATED", False
    if "halt" in t or "suspended" in t:
        return "SUSPENDED", False
    if "recruitment ended" in t or "recruitment completed" in t or "not recruiting" in t:
        return "ACTIVE_NOT_RECRUITING", False
    if "ended" in t or "completed" in t or "terminated" in t or "finished" in t:
        early = "early" in t or "premature" in t or "terminated" in t
        return ("TERMINATED" if early else "COMPLETED"), False
    if "recruiting" in t:
        return "RECRUITING", False
    if "not started" in t or "under evaluation" in t or "submitted" in t or "pending" in t:
        return "NOT_YET_RECRUITING", False
    if t in ("authorised", "approved"):
        return "NOT_YET_RECRUITING", True
    if t in ("ongoing", "active"):
        return "ACTIVE_NOT_RECRUITING", True
    return None, False


def _status_of(value: Any, ct: str, kind: str) -> tuple[str | None, bool]:
    """(CT.gov status, is_vague) of one CTIS status value: a public status code (decoded with
    `ctis_codes.PUBLIC_STATUS`, then read as its words) or the words themselves. An unknown
    code or phrase is logged once and counted; (None, False) for a blank value."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None, False
    code = ctis_codes.code_of(value)
    if code is not None:
        words = ctis_codes.PUBLIC_STATUS.get(code)
        if words is None:
            _warn_once(f"{kind} code", value, ct)
            return "UNKNOWN", True  # the member states may say more
        return status_from_words(words)
    text = _text(value)
    if not text:
        return None, False
    mapped, vague = status_from_words(text)
    if mapped is None:
        _warn_once(kind, text, ct)
        return _NON_WORD.sub("_", text.upper()).strip("_") or None, False
    return mapped, vague


def _ended_early(events: dict[str, Any], member_states: int) -> bool:
    """Whether every member state notified an early termination, as ctrdata reads an "Ended"
    trial (`f_statusRecruitment.R`: CTIS's "Ended" includes ending early)."""
    ended = [
        entry
        for entry in _dicts(events, "trialEvents")
        if any(
            "EARLY_TERMINATION" in str(sub.get("notificationType", "")).upper()
            for sub in _dicts(entry, "events")
        )
    ]
    return bool(ended) and len(ended) >= max(member_states, 1)


def _status(
    raw: RawRecord,
    row: dict[str, Any],
    app: dict[str, Any],
    parts_ii: list[dict[str, Any]],
    events: dict[str, Any],
    ct: str,
) -> str | None:
    """The trial's status: its own public status (code or words) when it says something
    definite, else the most open of its member states' statuses (codes, then words)."""
    overall: str | None = None
    vague = True
    for value in (
        raw.get("ctPublicStatusCode"),
        raw.get("ctStatus"),
        row.get("ctPublicStatusCode"),
        row.get("ctStatus"),
    ):
        overall, vague = _status_of(value, ct, "status")
        if overall is not None:
            break
    concerned = _dicts(app, "memberStatesConcerned") or _dicts(raw, "memberStatesConcerned")
    if overall == "COMPLETED" and _ended_early(events, len(concerned) or len(parts_ii)):
        overall = "TERMINATED"
    if overall is not None and not vague:
        return overall
    per_msc: list[str | None] = [
        _status_of(m.get("mscPublicStatusCode"), ct, "member-state status")[0] for m in concerned
    ]
    known = [s for s in per_msc if s is not None and s != "UNKNOWN"]
    if not known:
        words = [_text(dict_at(p, "mscInfo").get("trialStatus")) for p in parts_ii] + [
            _text(m.get("trialStatus")) for m in concerned
        ]
        known = [s for s in (status_from_words(w)[0] for w in words if w) if s is not None]
    known = [s for s in known if s in OPEN_ORDER]
    if known:
        return min(known, key=OPEN_ORDER.index)
    return overall


def phases_from(value: Any, ct: str) -> tuple[str, ...]:
    """CT.gov phases from a CTIS phase code or phrase ("Therapeutic exploratory (Phase II)")."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("value") or value.get("code")
    code = ctis_codes.code_of(value)
    if code is not None:
        if code in PHASE_CODES:
            return PHASE_CODES[code]
        _warn_once("phase code", value, ct)
        return ()
    text = _text(value)
    if not text:
        return ()
    found: set[str] = set()
    for run in _PHASE_RUN.finditer(text.casefold()):
        for numeral in re.split(r"\s*/\s*", run.group(1)):
            found.add(f"PHASE{_ROMAN[numeral]}")
    if not found:
        if "not applicable" in text.casefold():
            return ("NA",)
        _warn_once("phase", text, ct)
    return tuple(sorted(found))


# -- parts ---------------------------------------------------------------------------------


_NUMBER_SEPARATOR = re.compile(r"\s*[;\n]\s*|,\s+|\s+and\s+", re.IGNORECASE)
"""Between several numbers typed into one field ("75,061; 125,097", "12345, 67890"). A comma
with no space after it stays: it groups digits ("75,061" is one IND number)."""


def _numbers(text: str | None) -> list[str]:
    """One registry-number field as its numbers; the text as it is if a part has no digit
    (then it is not a list of numbers)."""
    if not text:
        return []
    parts = [p.strip() for p in _NUMBER_SEPARATOR.split(text) if p.strip()]
    if len(parts) > 1 and all(any(ch.isdigit() for ch in p) for p in parts):
        return parts
    return [text]


def _secondary_ids(
    app: dict[str, Any], identifiers: dict[str, Any], row: dict[str, Any], ct: str
) -> tuple[SecondaryId, ...]:
    found: dict[tuple[str, str], SecondaryId] = {}

    def add(number: str | None, kind: str, domain: str | None = None) -> None:
        if not number or number.upper() == ct or records.is_placeholder(number):
            return
        found.setdefault((kind, number.upper()), SecondaryId(id=number, type=kind, domain=domain))

    numbers = dict_at(identifiers, "secondaryIdentifyingNumbers")
    add(_number(numbers.get("nctNumber")), "NCT")
    add(_number(numbers.get("isrctnNumber")), "ISRCTN")
    add(_number(numbers.get("whoUniversalTrialNumber")), "REGISTRY", "WHO UTN")
    for extra in list_at(numbers, "additionalRegistries"):
        field = _number(extra) or (
            _text(extra.get("registryNumber")) if isinstance(extra, dict) else None
        )
        domain = (
            _text(extra.get("otherRegistryName")) if isinstance(extra, dict) else None
        )  # its `ctRegistryCode` is not decoded: the name is given beside it
        for number in _numbers(field):
            if NCT_RE.match(number):
                add(number, "NCT", domain)
            elif ISRCTN_RE.match(number):
                add(number, "ISRCTN", domain)
            elif EUDRACT_RE.match(number):
                add(number, "EUDRACT_NUMBER", domain)
            elif CT_NUMBER_RE.match(number):
                add(number, "CTIS", domain)
            else:
                add(number, "REGISTRY", domain)
    # The sponsor's protocol code: CTIS keeps it in `shortTitle` (real answers hold "200925",
    # "MK-5592-127", "KIN001-204" there, and the search row repeats it as `shortTitle`).
    for value in (
        identifiers.get("shortTitle"),
        identifiers.get("protocolCode"),
        identifiers.get("sponsorProtocolCode"),
        row.get("shortTitle"),
    ):
        add(_text(value), "OTHER", "sponsor protocol code")
    eudract = dict_at(app, "eudraCt") or dict_at(app, "eudraCtInfo")
    add(_text(eudract.get("eudraCtCode")), "EUDRACT_NUMBER")
    return tuple(sorted(found.values(), key=lambda s: (s.type or "", s.id)))


def _conditions(part_i: dict[str, Any], info: dict[str, Any]) -> tuple[str, ...]:
    items = _dicts(dict_at(info, "medicalCondition"), "partIMedicalConditions")
    items += _dicts(part_i, "medicalConditions")
    names = (
        _first_text(i.get("medicalCondition"), *_translations(i, "medicalConditionTranslations"))
        for i in items
    )
    return _sorted_unique(n for n in names if n)


def _translations(item: dict[str, Any], key: str) -> list[Any]:
    return [t.get("attributeTranslation") for t in _dicts(item, key)]


def _meddra_terms(info: dict[str, Any]) -> tuple[str, ...]:
    terms = (
        _first_text(t.get("termName"), t.get("term"))
        for t in _dicts(dict_at(info, "medicalCondition"), "meddraConditionTerms")
    )
    return _sorted_unique(t for t in terms if t)


def _products(part_i: dict[str, Any]) -> list[tuple[dict[str, Any], str | None]]:
    """(product, role name) pairs from `products[]` or, failing that, the role groups.

    `products[]` carries no role name; the role group that lists the same product (by `id`)
    says it ("Test", "Placebo", "Comparator")."""
    roles: dict[Any, str] = {}
    grouped: list[tuple[dict[str, Any], str | None]] = []
    for group in _dicts(part_i, "productRoleGroupInfos"):
        role = _text(group.get("productRoleName"))
        for product in _dicts(group, "products"):
            grouped.append((product, role))
            if role and product.get("id") is not None:
                roles.setdefault(product["id"], role)
    found = [(p, roles.get(p.get("id"))) for p in _dicts(part_i, "products")]
    return found or grouped


_JUNK_NAMES = frozenset({"chemical", "biological", "biotechnological", "synthetic", "other"})
"""Words CTIS forms hold where a name was wanted: what kind of substance it is, not what it is
called."""


def _name(value: Any) -> str | None:
    """A product or substance name, or None for a placeholder ("NA", "n/a", "-", "chemical")."""
    text = _text(value)
    if not text or records.is_placeholder(text):
        return None
    return None if text.casefold().strip(" .") in _JUNK_NAMES else text


def _characteristics(product: dict[str, Any], ct: str) -> tuple[list[str], bool]:
    """The product's characteristics as words, and whether one says it is an advanced therapy.

    Codes are decoded with `ctis_codes.PRODUCT_CHARACTERISTICS` ("Other" with the product's
    `otherMedicinalProduct` text); an unknown code is logged once and counted, never shown.
    Words (older or other shapes, `{"name": ...}` items) are kept as they are."""
    described: list[str] = []
    atmp = False
    other = _text(product.get("otherMedicinalProduct"))
    for item in list_at(product, "characteristics"):
        value = item.get("name") or item.get("code") if isinstance(item, dict) else item
        code = ctis_codes.code_of(value)
        if code is not None:
            words = ctis_codes.PRODUCT_CHARACTERISTICS.get(code)
            if words is None:
                _warn_once("product characteristic", value, ct)
                continue
        else:
            words = _text(value)
            if not words:
                continue
        if words == "Other" and other:
            words = f"Other: {other}"
        atmp = atmp or "advanced therap" in words.casefold() or "atmp" in words.casefold()
        described.append(words)
    return described, atmp


def _intervention(product: dict[str, Any], role: str | None, ct: str) -> Intervention | None:
    info = dict_at(product, "productDictionaryInfo")
    substances = [
        _first_text(s.get("actSubstName"), s.get("substanceName"))
        for s in _dicts(info, "productSubstances")
    ]
    # Names only from name fields: `otherMedicinalProduct` describes the "Other"
    # characteristic ("chemical", "antidiabetic, antiinflammatory"), and `nameOrg` is the
    # company holding the product.
    names = [
        _name(product.get("productName")),
        _name(info.get("prodName")),
        _name(product.get("jsonActiveSubstanceNames")),
        _name(info.get("activeSubstanceName")),
        *(_name(s) for s in substances),
        _name(info.get("activeSubstanceOtherDescriptiveName")),
        _name(info.get("productOtherName")),
        _name(info.get("sponsorProductCode")),
        _name(product.get("sponsorProductCodeEdit")),
    ]
    present = [n for n in names if n]
    if not present:
        return None
    name = present[0]
    other_names = _sorted_unique(n for n in present[1:] if n.casefold() != name.casefold())

    # An ATMP is recognised by its advanced-therapy details (`therapies[]`); no
    # characteristics code is known to say it (ctis_codes).
    therapies = [t for t in _dicts(product, "therapies") if any(v for v in t.values())]
    atmp_words: list[str] = []
    for therapy in therapies:
        for key in (
            "advancedTherapyType",
            "cellTypeMoreInformation",
            "cellTypeOtherSomatic",
            "cellOriginSpeciesOfOrigin",
            "geneOfInterest",
            "description",
        ):
            value = therapy.get(key)
            if ctis_codes.code_of(value) is None:  # a bare code says nothing to a reader
                text = _text(value)
                if text:
                    atmp_words.append(text)
    characteristics, atmp_characteristic = _characteristics(product, ct)
    is_atmp = (
        bool(therapies)
        or atmp_characteristic
        or product.get("isAtmp") is True
        or info.get("isAtmp") is True
    )
    origins = " ".join(
        (_first_text(s.get("actSubstOrigin"), s.get("substanceOrigin")) or "").casefold()
        for s in _dicts(info, "productSubstances")
    )
    gene = any(_GENE_THERAPY.search(w) for w in atmp_words) or any(
        t.get("isGmo") is True or _text(t.get("geneOfInterest")) for t in therapies
    )
    kind = (
        "GENETIC"
        if is_atmp and gene
        else "BIOLOGICAL"
        if is_atmp or "biolog" in origins
        else "DRUG"
    )

    described: list[str] = []
    if is_atmp:
        described.append("Advanced therapy medicinal product (ATMP)")
    described += atmp_words
    if characteristics:
        described.append("Characteristics: " + "; ".join(dict.fromkeys(characteristics)))
    routes = [t for t in (_name(r) for r in list_at(product, "routes")) if t]
    if routes:
        described.append("Route: " + ", ".join(sorted(set(routes))))
    form = _name(product.get("pharmaceuticalFormDisplay"))
    if form:
        described.append(f"Form: {form}")
    role_text = role or _text(product.get("mpRoleInTrial"))
    if role_text and not role_text.isdigit():
        described.append(f"Role in trial: {role_text}")
    return Intervention(
        type=kind,
        name=name,
        description="\n".join(dict.fromkeys(described)) or None,
        other_names=other_names,
    )


_KIND_ORDER = ("GENETIC", "BIOLOGICAL", "DRUG")


def _first_of_each(lines: Iterable[str]) -> list[str]:
    """Non-empty lines in order, each once whatever its case."""
    kept: dict[str, str] = {}
    for line in lines:
        if line:
            kept.setdefault(line.casefold(), line)
    return list(kept.values())


def _interventions(part_i: dict[str, Any], ct: str) -> tuple[Intervention, ...]:
    """One intervention per product name: a product CTIS lists twice (two pack sizes or
    forms, the same product in two role groups) is one intervention, with the other names and
    descriptions of every listing."""
    merged: dict[str, Intervention] = {}
    for product, role in _products(part_i):
        item = _intervention(product, role, ct)
        if item is None:
            continue
        key = item.name.casefold()
        seen = merged.get(key)
        if seen is None:
            merged[key] = item
            continue
        kinds = [k for k in (seen.type, item.type) if k]
        lines = [*(seen.description or "").split("\n"), *(item.description or "").split("\n")]
        merged[key] = Intervention(
            type=min(kinds, key=lambda k: _KIND_ORDER.index(k) if k in _KIND_ORDER else 99)
            if kinds
            else None,
            name=seen.name,
            description="\n".join(_first_of_each(lines)) or None,
            other_names=_sorted_unique(
                n for n in (*seen.other_names, *item.other_names) if n.casefold() != key
            ),
        )
    return tuple(sorted(merged.values(), key=lambda iv: (iv.name.casefold(), iv.description or "")))


def _scopes(objective: dict[str, Any], ct: str) -> tuple[list[str], str | None]:
    """The trial's scopes as words, and its CT.gov primary purpose when exactly one scope says
    what the trial is for (diagnosis, prophylaxis or therapy). Unknown codes are logged once
    and counted."""
    words: list[str] = []
    purposes: set[str] = set()
    for item in _dicts(objective, "trialScopes"):
        value = item.get("code")
        code = ctis_codes.code_of(value)
        if code is None:
            text = _first_text(item.get("name"), value)
            if text:
                words.append(text)
            continue
        name = ctis_codes.TRIAL_SCOPES.get(code)
        if name is None:
            _warn_once("trial scope code", value, ct)
            continue
        other = _text(item.get("otherDescription")) if name == "Other" else None
        words.append(f"Other ({other})" if other else name)
        if code in ctis_codes.SCOPE_PURPOSES:
            purposes.add(ctis_codes.SCOPE_PURPOSES[code])
    purpose = next(iter(purposes)) if len(purposes) == 1 else None
    return list(dict.fromkeys(words)), purpose


def _criteria(info: dict[str, Any]) -> str | None:
    elig = dict_at(info, "eligibilityCriteria")

    def listed(key: str) -> list[str]:
        items = _dicts(elig, key)
        items.sort(key=lambda i: ctis_codes.code_of(i.get("number")) or 0)
        texts = (_first_text(i.get(key), *_translations(i, f"{key}Translations")) for i in items)
        return [t for t in texts if t]

    inclusion, exclusion = (
        listed("principalInclusionCriteria"),
        listed("principalExclusionCriteria"),
    )
    parts: list[str] = []
    if inclusion:
        parts.append("Inclusion Criteria:\n" + "\n".join(f"* {t}" for t in inclusion))
    if exclusion:
        parts.append("Exclusion Criteria:\n" + "\n".join(f"* {t}" for t in exclusion))
    return "\n\n".join(parts) or None


def _sex(population: dict[str, Any]) -> str | None:
    female, male = population.get("isFemaleSubjects"), population.get("isMaleSubjects")
    if female is True and male is True:
        return "ALL"
    if female is True:
        return "FEMALE"
    if male is True:
        return "MALE"
    return None


def _age_labels(population: dict[str, Any], row: dict[str, Any], ct: str) -> list[str] | None:
    """The trial's age groups as words ("18-64 years"); None when one cannot be read.

    Codes come from `ageRanges[]` (`ageRangeCategoryCode`, or `ageRangeCategory` when it is a
    number) and from the category each `ageRangeSecondaryIds[]` entry names, decoded with
    `ctis_codes.AGE_GROUPS`; older and built records give the words themselves. Without any,
    the search row's `ageGroup` ("65+ years, 18-64 years") is read.
    """
    labels: list[str] = []
    for item in _dicts(population, "ageRanges") + _dicts(population, "ageRangeSecondaryIds"):
        value = item.get("ageRangeCategoryCode")
        if ctis_codes.code_of(value) is None:
            value = item.get("ageRangeCategory")
        code = ctis_codes.code_of(value)
        if code is not None:
            label = ctis_codes.AGE_GROUPS.get(code)
            if label is None:
                _warn_once("age group code", value, ct)
                return None
            labels.append(label)
        else:
            fine = item.get("ctAgeRange")  # a sub-range code is not decoded (ctis_codes)
            text = _text(value) or (_text(fine) if ctis_codes.code_of(fine) is None else None)
            if text:
                labels.append(text)
    if not labels:
        group = _text(row.get("ageGroup"))
        labels = [part.strip() for part in (group or "").split(",") if part.strip()]
    return list(dict.fromkeys(labels))


def _ages(labels: list[str] | None) -> tuple[str | None, str | None]:
    """CT.gov-style minimum/maximum age ("18 Years") from the age groups' words."""
    lows: list[tuple[float, str]] = []
    highs: list[tuple[float, str]] = []
    open_ended = False
    for label in labels or []:
        ranged, plus = _AGE_RANGE.search(label), _AGE_PLUS.search(label)
        if ranged:
            unit = ranged.group(3).capitalize() + "s"
            scale = _UNIT_DAYS[unit]
            lows.append((int(ranged.group(1)) * scale, f"{ranged.group(1)} {unit}"))
            highs.append((int(ranged.group(2)) * scale, f"{ranged.group(2)} {unit}"))
        elif plus:
            number, unit_word = plus.group(1) or plus.group(3), plus.group(2) or plus.group(4)
            unit = unit_word.capitalize() + "s"
            lows.append((int(number) * _UNIT_DAYS[unit], f"{number} {unit}"))
            open_ended = True
        else:
            return None, None  # "In utero", "Preterm newborn": no honest bound
    minimum = min(lows)[1] if lows else None
    maximum = None if open_ended or not highs else max(highs)[1]
    return minimum, maximum


_UNIT_DAYS = {"Years": 365.0, "Months": 30.0, "Weeks": 7.0, "Days": 1.0}


def _healthy(population: dict[str, Any]) -> bool | None:
    groups = [
        _first_text(g.get("name"), g.get("code")) for g in _dicts(population, "clinicalTrialGroups")
    ]
    names = [g.casefold() for g in groups if g]
    if not names:
        return None
    return any("healthy" in n for n in names)


def _sponsor(item: dict[str, Any]) -> Sponsor | None:
    org = dict_at(item, "organisation")
    name = _first_text(org.get("name"), item.get("name"))
    if not name:
        return None
    commercial = item.get("isCommercial")
    if not isinstance(commercial, bool):
        commercial = org.get("commercial") if isinstance(org.get("commercial"), bool) else None
    if commercial is None and isinstance(item.get("commercial"), str):
        word = item["commercial"].casefold()
        commercial = False if "non" in word else True if "commercial" in word else None
    agency = None if commercial is None else ("INDUSTRY" if commercial else "OTHER")
    return Sponsor(name=name, agency_class=agency)


def _person(item: dict[str, Any]) -> str:
    return " ".join(p for p in (_text(item.get("firstName")), _text(item.get("lastName"))) if p)


def _study_contacts(sponsors: list[dict[str, Any]]) -> tuple[Contact, ...]:
    """Each sponsor's public, then scientific contacts (`functionalName`, `telephone`,
    `functionalEmailAddress`), the lead sponsor's first. The sponsors' `thirdParties` (contract
    research organisations) are not whom a patient asks about joining and are not read."""
    found: list[Contact | None] = []
    for sponsor in sponsors:
        for key, role in (("publicContacts", "Public"), ("scientificContacts", "Scientific")):
            found += [
                records.contact(
                    _first_text(item.get("functionalName")) or _person(item),
                    _first_text(item.get("type"), role),
                    _first_text(item.get("telephone"), item.get("phone")),
                    _first_text(item.get("functionalEmailAddress"), item.get("email")),
                )
                for item in _dicts(sponsor, key)
            ]
    return records.unique_contacts(found)


def _site_contacts(item: dict[str, Any]) -> tuple[Contact, ...]:
    """The site's contact person (`personInfo`); the site organisation's own phone and email
    (`organisationAddressInfo`), without a name, only when the person gives neither."""
    person, organisation = dict_at(item, "personInfo"), dict_at(item, "organisationAddressInfo")
    found = records.contact(
        _person(person),
        None,
        _first_text(person.get("telephone"), person.get("phone")),
        _text(person.get("email")),
    ) or records.contact(
        None, None, _text(organisation.get("phone")), _text(organisation.get("email"))
    )
    return records.unique_contacts([found])


def _site(item: dict[str, Any], fallback_country: str | None, ct: str) -> Site | None:
    info = dict_at(item, "organisationAddressInfo")
    org, address = dict_at(info, "organisation"), dict_at(info, "address")
    facility = _first_text(org.get("name"), item.get("organisationName"))
    department = _text(item.get("departmentName"))
    if facility and department and department.casefold() not in facility.casefold():
        facility = f"{facility} - {department}"
    facility = facility or department
    city = _first_text(address.get("city"), address.get("town"))
    country_name = _first_text(address.get("countryName"), fallback_country)
    if country_name is None and isinstance(address.get("country"), str):
        country_name = _text(address["country"])
    if not (facility or city):
        return None  # an empty entry; the member state is still counted (see _sites)
    code = to_iso2(country_name)
    if country_name and code is None:
        _warn_once("country", country_name, ct)
    return Site(
        facility=facility,
        city=city,
        country=code,
        country_name=country_name,
        contacts=_site_contacts(item),
    )


def _sites(parts_ii: list[dict[str, Any]], ct: str) -> tuple[Site, ...]:
    unique: dict[str, Site] = {}
    for part in parts_ii:
        msc = dict_at(part, "mscInfo")
        fallback = _first_text(msc.get("countryName"), msc.get("mscName"), part.get("mscName"))
        found = [s for s in (_site(i, fallback, ct) for i in _dicts(part, "trialSites")) if s]
        if not found and fallback:  # a member state without listed sites still runs the trial
            code = to_iso2(fallback)
            if code is None:
                _warn_once("country", fallback, ct)
            found = [Site(country=code, country_name=fallback)]
        for site in found:
            unique.setdefault(site.key, site)
    return tuple(sorted(unique.values(), key=records.site_order))


def _enrollment(part_i: dict[str, Any], parts_ii: list[dict[str, Any]]) -> Enrollment:
    counts = [ctis_codes.code_of(p.get("recruitmentSubjectCount")) for p in parts_ii]
    known = [c for c in counts if c is not None and c >= 0]
    total = sum(known) if known else ctis_codes.code_of(part_i.get("rowSubjectCount"))
    return Enrollment(count=total if total is not None and total >= 0 else None)


def _why_stopped(events: dict[str, Any]) -> str | None:
    reasons: list[str] = []
    for event in _dicts(events, "trialEvents"):
        reason = dict_at(event, "earlyTerminationReason")
        text = _first_text(reason.get("name"), reason.get("code"))
        if text:
            reasons.append(text)
    for halt in _dicts(events, "temporaryHaltList"):
        for reason in _dicts(halt, "reasonList"):
            text = _first_text(reason.get("name"), reason.get("code"))
            if text:
                reasons.append(text)
    return "; ".join(sorted(set(reasons))) or None


def _event_date(events: dict[str, Any], kinds: tuple[str, ...]) -> str | None:
    dates = [
        parsed
        for event in _dicts(events, "trialEvents")
        for sub in _dicts(event, "events")
        if str(sub.get("notificationType", "")).upper() in kinds
        and (parsed := parse_date(sub.get("date")))
    ]
    return min(dates) if dates else None


def _last_update(raw: RawRecord, row: dict[str, Any], ct: str) -> KeyDate | None:
    """The later of the search row's `lastUpdated` and the record's `publishDate`."""
    candidates = [
        d for d in (parse_date(row.get("lastUpdated")), parse_date(raw.get("publishDate"))) if d
    ]
    if not candidates:
        for value in (row.get("lastUpdated"), raw.get("publishDate")):
            if isinstance(value, str) and value.strip():
                log.warning("ctis: unparseable last-update date %r in %s", value, ct)
        return None
    return KeyDate(date=max(candidates))


def _has_results(raw: RawRecord) -> bool:
    results = raw.get("results")
    if isinstance(results, dict):
        return any(bool(v) for v in results.values() if isinstance(v, list | dict))
    return raw.get("hasResults") is True


# -- entry point ---------------------------------------------------------------------------


def normalise(raw: RawRecord) -> Trial:
    """One CTIS full record -> Trial. Raises RecordError without a usable ctNumber or title."""
    if not isinstance(raw, dict):
        raise RecordError("record is not a JSON object")
    # The search row: attached by our client, or merged over the record's top level (how
    # ctrdata stores it, and what a bare search row is).
    row = dict_at(raw, SEARCH_ROW_KEY) or raw
    ct_value = raw.get("ctNumber") or row.get("ctNumber")
    ct = ct_value.strip().upper() if isinstance(ct_value, str) else ""
    if not CT_NUMBER_RE.match(ct):
        raise RecordError(f"missing or malformed ctNumber: {str(ct_value)[:40]!r}")
    app = dict_at(raw, "authorizedApplication") or dict_at(raw, "authorisedApplication")
    if not app and isinstance(raw.get("authorizedPartI"), dict):
        app = raw  # the pre-2024 portal's record: Part I and Parts II at the top level
    part_i = dict_at(app, "authorizedPartI") or dict_at(app, "authorisedPartI")
    details = dict_at(part_i, "trialDetails")
    identifiers = dict_at(details, "clinicalTrialIdentifiers")
    info = dict_at(details, "trialInformation")
    parts_ii = _dicts(app, "authorizedPartsII") or _dicts(app, "authorisedPartsII")
    events = dict_at(raw, "events")

    title = _first_text(
        identifiers.get("publicTitle"),
        identifiers.get("fullTitle"),
        row.get("ctTitle"),
        raw.get("title"),
    )
    if not title:
        raise RecordError(f"{ct} has no title")

    objective = dict_at(info, "trialObjective")
    secondary_objectives = [
        t
        for t in (
            _text(o.get("secondaryObjective"))
            for o in sorted(
                _dicts(objective, "secondaryObjectives"),
                key=lambda o: ctis_codes.code_of(o.get("number")) or 0,
            )
        )
        if t
    ]
    scopes, purpose = _scopes(objective, ct)
    population = dict_at(info, "populationOfTrialSubjects")
    minimum_age, maximum_age = _ages(_age_labels(population, row, ct))
    duration = dict_at(info, "trialDuration")
    category = dict_at(info, "trialCategory")
    phase_value = category.get("trialPhase")
    if phase_value is None or phase_value == "":
        phase_value = row.get("trialPhase")
    primary_endpoints = sorted(
        _dicts(dict_at(info, "endPoint"), "primaryEndPoints"),
        key=lambda e: ctis_codes.code_of(e.get("number")) or 0,
    )
    sponsors = _dicts(part_i, "sponsors")
    lead_item = next(
        (s for s in sponsors if s.get("primary") is True), sponsors[0] if sponsors else None
    )
    lead = _sponsor(lead_item) if lead_item is not None else None
    if lead is None and _text(row.get("sponsor")):
        lead = Sponsor(name=_text(row.get("sponsor")) or "")
    collaborators = tuple(
        s for s in (_sponsor(i) for i in sponsors if i is not lead_item) if s is not None
    )
    interventions = _interventions(part_i, ct)

    started = _event_date(events, ("START_OF_TRIAL", "START_OF_RECRUITMENT", "TRIAL_START"))
    status = _status(raw, row, app, parts_ii, events, ct)

    return Trial(
        registry=REGISTRY,
        registry_id=ct,
        url=PUBLIC_URL.format(ct),
        secondary_ids=_secondary_ids(app, identifiers, row, ct),
        brief_title=title,
        official_title=_text(identifiers.get("fullTitle")),
        # No CTIS field is known to hold an acronym: `shortTitle` is the protocol code (a
        # secondary id above), so only an explicit `acronym` is read.
        acronym=_text(identifiers.get("acronym")),
        summary=_text(objective.get("mainObjective")),
        detailed_description="\n\n".join(
            part
            for part in (
                f"Scope: {', '.join(scopes)}" if scopes else "",
                "Secondary objectives:\n" + "\n".join(f"* {t}" for t in secondary_objectives)
                if secondary_objectives
                else "",
            )
            if part
        )
        or None,
        conditions=_conditions(part_i, info),
        keywords=_meddra_terms(info),
        interventions=interventions,
        phases=phases_from(phase_value, ct),
        enrollment=_enrollment(part_i, parts_ii),
        design=Design(study_type="INTERVENTIONAL", primary_purpose=purpose),
        eligibility=Eligibility(
            criteria=_criteria(info),
            sex=_sex(population),
            minimum_age=minimum_age,
            maximum_age=maximum_age,
            healthy_volunteers=_healthy(population),
        ),
        primary_outcomes=tuple(
            t for t in (_text(e.get("endPoint")) for e in primary_endpoints) if t
        ),
        sponsor=lead,
        collaborators=collaborators,
        overall_status=status,
        why_stopped=_why_stopped(events),
        dates=Dates(
            start=_key_date(raw.get("startDateEU"), ct, "start", estimated=False)
            or _key_date(started, ct, "start", estimated=False)
            or _key_date(
                duration.get("estimatedRecruitmentStartDate"), ct, "start", estimated=True
            ),
            completion=_key_date(raw.get("endDateEU"), ct, "end", estimated=False)
            or _key_date(events.get("trialGlobalEndDate"), ct, "end", estimated=False)
            or _key_date(
                duration.get("estimatedGlobalEndDate") or duration.get("estimatedEndDate"),
                ct,
                "end",
                estimated=True,
            ),
            first_posted=_key_date(
                row.get("decisionDateOverall") or _earliest(raw.get("decisionDate")),
                ct,
                "decision",
                estimated=None,
            ),
            last_update_posted=_last_update(raw, row, ct),
        ),
        has_results=_has_results(raw),
        contacts=_study_contacts(
            [lead_item, *(i for i in sponsors if i is not lead_item)] if lead_item else []
        ),
        sites=_sites(parts_ii, ct),
    )
