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

The client may attach the search row it came from under `_searchRow` (see ctis.py); its
`lastUpdated` ("dd/mm/yyyy") and a few fallbacks (title, phase, status) are read from it.

Expect unknown or missing keys anywhere (the portal changed structure in 2024): every getter
tolerates a missing key or a value of the wrong type. Dates come as ISO dates or datetimes,
or as `dd/mm/yyyy`. Unknown status words, status codes and phase values are logged once at
WARNING. Lists without meaning in their order are sorted so the fingerprint stays stable.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable
from typing import Any

from jobs.registries import records
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


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


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


def _status(
    raw: RawRecord, row: dict[str, Any], parts_ii: list[dict[str, Any]], ct: str
) -> str | None:
    value = raw.get("ctStatus")
    if value is None or (isinstance(value, str) and not value.strip()):
        value = row.get("ctStatus")
    overall: str | None = None
    vague = True
    if isinstance(value, str) and value.strip() and not value.strip().isdigit():
        mapped, vague = status_from_words(value)
        if mapped is None:
            _warn_once("status", value, ct)
            overall = _NON_WORD.sub("_", value.strip().upper()).strip("_") or None
            vague = False
        else:
            overall = mapped
    elif _int(value) is not None:
        _warn_once("status code", value, ct)
        overall = "UNKNOWN"
    if overall is not None and not vague:
        return overall
    per_msc = [
        status_from_words(s)[0]
        for s in (_text(dict_at(p, "mscInfo").get("trialStatus")) for p in parts_ii)
        if s
    ]
    known = [s for s in per_msc if s is not None]
    if known:
        return min(known, key=OPEN_ORDER.index)
    return overall


def phases_from(value: Any, ct: str) -> tuple[str, ...]:
    """CT.gov phases from a CTIS phase code or phrase ("Therapeutic exploratory (Phase II)")."""
    if isinstance(value, dict):
        value = value.get("name") or value.get("value") or value.get("code")
    code = _int(value)
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


def _secondary_ids(
    app: dict[str, Any], identifiers: dict[str, Any], ct: str
) -> tuple[SecondaryId, ...]:
    found: dict[tuple[str, str], SecondaryId] = {}

    def add(number: str | None, kind: str, domain: str | None = None) -> None:
        if not number or number.upper() == ct:
            return
        found.setdefault((kind, number.upper()), SecondaryId(id=number, type=kind, domain=domain))

    numbers = dict_at(identifiers, "secondaryIdentifyingNumbers")
    add(_number(numbers.get("nctNumber")), "NCT")
    add(_number(numbers.get("isrctnNumber")), "ISRCTN")
    add(_number(numbers.get("whoUniversalTrialNumber")), "REGISTRY", "WHO UTN")
    for extra in list_at(numbers, "additionalRegistries"):
        number = _number(extra) or (
            _text(extra.get("registryNumber")) if isinstance(extra, dict) else None
        )
        if not number:
            continue
        domain = (
            _first_text(extra.get("otherRegistryName"), extra.get("ctRegistryCode"))
            if isinstance(extra, dict)
            else None
        )
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
    for key in ("protocolCode", "sponsorProtocolCode"):
        add(_text(identifiers.get(key)), "OTHER", "sponsor protocol code")
    add(_text(dict_at(app, "eudraCt").get("eudraCtCode")), "EUDRACT_NUMBER")
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
    """(product, role name) pairs from `products[]` or, failing that, the role groups."""
    found: list[tuple[dict[str, Any], str | None]] = [(p, None) for p in _dicts(part_i, "products")]
    if not found:
        for group in _dicts(part_i, "productRoleGroupInfos"):
            role = _text(group.get("productRoleName"))
            found += [(p, role) for p in _dicts(group, "products")]
    return found


def _intervention(product: dict[str, Any], role: str | None) -> Intervention | None:
    info = dict_at(product, "productDictionaryInfo")
    substances = [
        _first_text(s.get("actSubstName"), s.get("substanceName"), s.get("nameOrg"))
        for s in _dicts(info, "productSubstances")
    ]
    names = [
        _text(product.get("productName")),
        _text(info.get("prodName")),
        _text(product.get("otherMedicinalProduct")),
        _text(product.get("jsonActiveSubstanceNames")),
        _text(info.get("activeSubstanceName")),
        *substances,
        _text(info.get("activeSubstanceOtherDescriptiveName")),
        _text(info.get("productOtherName")),
        _text(info.get("sponsorProductCode")),
    ]
    present = [n for n in names if n]
    if not present:
        return None
    name = present[0]
    other_names = _sorted_unique(n for n in present[1:] if n.casefold() != name.casefold())

    therapies = _dicts(product, "therapies")
    atmp_words: list[str] = []
    for therapy in therapies:
        atmp_words += [
            t
            for t in (
                _text(therapy.get("advancedTherapyType")),
                _text(therapy.get("cellTypeMoreInformation")),
                _text(therapy.get("cellTypeOtherSomatic")),
                _text(therapy.get("description")),
            )
            if t
        ]
    is_atmp = bool(therapies) or product.get("isAtmp") is True or info.get("isAtmp") is True
    characteristics = [t for t in (_text(c) for c in list_at(product, "characteristics")) if t]
    if any("advanced therap" in c.casefold() or "atmp" in c.casefold() for c in characteristics):
        is_atmp = True
    origins = " ".join(
        (_first_text(s.get("actSubstOrigin"), s.get("substanceOrigin")) or "").casefold()
        for s in _dicts(info, "productSubstances")
    )
    gene = any(_GENE_THERAPY.search(w) for w in atmp_words) or any(
        t.get("isGmo") is True for t in therapies
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
    routes = [t for t in (_text(r) for r in list_at(product, "routes")) if t]
    if routes:
        described.append("Route: " + ", ".join(sorted(set(routes))))
    form = _text(product.get("pharmaceuticalFormDisplay"))
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


def _criteria(info: dict[str, Any]) -> str | None:
    elig = dict_at(info, "eligibilityCriteria")

    def listed(key: str) -> list[str]:
        items = _dicts(elig, key)
        items.sort(key=lambda i: _int(i.get("number")) or 0)
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


def _ages(population: dict[str, Any]) -> tuple[str | None, str | None]:
    """CT.gov-style minimum/maximum age ("18 Years") from the age-range categories."""
    labels = [
        _first_text(r.get("ageRangeCategory"), r.get("ctAgeRange"))
        for r in _dicts(population, "ageRanges") + _dicts(population, "ageRangeSecondaryIds")
    ]
    lows: list[tuple[float, str]] = []
    highs: list[tuple[float, str]] = []
    open_ended = False
    for label in labels:
        if not label:
            continue
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
    counts = [_int(p.get("recruitmentSubjectCount")) for p in parts_ii]
    known = [c for c in counts if c is not None and c >= 0]
    total = sum(known) if known else _int(part_i.get("rowSubjectCount"))
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
    row = dict_at(raw, SEARCH_ROW_KEY)
    ct_value = raw.get("ctNumber") or row.get("ctNumber")
    ct = ct_value.strip().upper() if isinstance(ct_value, str) else ""
    if not CT_NUMBER_RE.match(ct):
        raise RecordError(f"missing or malformed ctNumber: {str(ct_value)[:40]!r}")
    app = dict_at(raw, "authorizedApplication") or dict_at(raw, "authorisedApplication")
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
        row.get("shortTitle"),
    )
    if not title:
        raise RecordError(f"{ct} has no title")

    objective = dict_at(info, "trialObjective")
    secondary_objectives = [
        t
        for t in (
            _text(o.get("secondaryObjective"))
            for o in sorted(
                _dicts(objective, "secondaryObjectives"), key=lambda o: _int(o.get("number")) or 0
            )
        )
        if t
    ]
    population = dict_at(info, "populationOfTrialSubjects")
    minimum_age, maximum_age = _ages(population)
    duration = dict_at(info, "trialDuration")
    category = dict_at(info, "trialCategory")
    phase_value = category.get("trialPhase")
    if phase_value is None or phase_value == "":
        phase_value = row.get("trialPhase")
    primary_endpoints = sorted(
        _dicts(dict_at(info, "endPoint"), "primaryEndPoints"),
        key=lambda e: _int(e.get("number")) or 0,
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
    interventions = sorted(
        (iv for iv in (_intervention(p, role) for p, role in _products(part_i)) if iv),
        key=lambda iv: (iv.name.casefold(), iv.description or ""),
    )

    started = _event_date(events, ("START_OF_TRIAL", "START_OF_RECRUITMENT", "TRIAL_START"))
    status = _status(raw, row, parts_ii, ct)

    return Trial(
        registry=REGISTRY,
        registry_id=ct,
        url=PUBLIC_URL.format(ct),
        secondary_ids=_secondary_ids(app, identifiers, ct),
        brief_title=title,
        official_title=_text(identifiers.get("fullTitle")),
        acronym=_text(identifiers.get("shortTitle")),
        summary=_text(objective.get("mainObjective")),
        detailed_description=(
            "Secondary objectives:\n" + "\n".join(f"* {t}" for t in secondary_objectives)
            if secondary_objectives
            else None
        ),
        conditions=_conditions(part_i, info),
        keywords=_meddra_terms(info),
        interventions=tuple(interventions),
        phases=phases_from(phase_value, ct),
        enrollment=_enrollment(part_i, parts_ii),
        design=Design(study_type="INTERVENTIONAL"),
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
                raw.get("decisionDate") or row.get("decisionDateOverall"),
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
