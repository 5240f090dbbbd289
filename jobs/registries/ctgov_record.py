"""ClinicalTrials.gov API v2 study JSON -> the neutral `Trial`.

Written for the quirks seen in real records: modules and keys are omitted rather than null,
dates may be `yyyy` or `yyyy-MM`, date structs may lack `type`, sites may lack `geoPoint`,
MeSH ids are zero-padded inconsistently, text carries markdown escapes (`\\<`, `10\\^6`), and
NLM reorders derived lists between re-derivations. Unknown enum values are kept and logged.

References: each `referencesModule.references[]` entry (`pmid`, `type` RESULT / BACKGROUND /
DERIVED, `citation`), white space tidied; the DOI only when the citation writes it out as
"doi: 10.xxx/yyy" (PubMed's style), never guessed. `seeAlsoLinks` (web sites) and `availIpds`
(data sets) are not publications and are left out.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from jobs.registries.base import RawRecord, RecordError
from jobs.registries.records import (
    contact,
    dict_at,
    list_at,
    site_order,
    sorted_references,
    squash_spaces,
    unique_contacts,
)
from trialbot.countries import to_iso2
from trialbot.model import (
    Arm,
    Contact,
    Dates,
    Design,
    Eligibility,
    Enrollment,
    Intervention,
    KeyDate,
    MeshTerm,
    Reference,
    SecondaryId,
    Site,
    Sponsor,
    Trial,
)

log = logging.getLogger(__name__)

REGISTRY = "ctgov"
STUDY_URL = "https://clinicaltrials.gov/study/{}"
NCT_RE = re.compile(r"^NCT\d{8}$")
_PARTIAL_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>^~|=])")
_CALLING_CODE = re.compile(r"(?:\+|00)\d{1,3}")
_CITED_DOI = re.compile(r"\bdoi:\s*(10\.\d{4,9}/\S+)", re.I)
_PMID = re.compile(r"^\d{1,9}$")

KNOWN_ENUMS: dict[str, frozenset[str]] = {
    "status": frozenset(
        {
            "ACTIVE_NOT_RECRUITING",
            "COMPLETED",
            "ENROLLING_BY_INVITATION",
            "NOT_YET_RECRUITING",
            "RECRUITING",
            "SUSPENDED",
            "TERMINATED",
            "WITHDRAWN",
            "AVAILABLE",
            "NO_LONGER_AVAILABLE",
            "TEMPORARILY_NOT_AVAILABLE",
            "APPROVED_FOR_MARKETING",
            "WITHHELD",
            "UNKNOWN",
        }
    ),
    "phase": frozenset({"NA", "EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4"}),
    "study_type": frozenset({"EXPANDED_ACCESS", "INTERVENTIONAL", "OBSERVATIONAL"}),
    "allocation": frozenset({"RANDOMIZED", "NON_RANDOMIZED", "NA"}),
    "masking": frozenset({"NONE", "SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE"}),
    "agency_class": frozenset(
        {"NIH", "FED", "OTHER_GOV", "INDIV", "INDUSTRY", "NETWORK", "AMBIG", "OTHER", "UNKNOWN"}
    ),
    "intervention_type": frozenset(
        {
            "BEHAVIORAL",
            "BIOLOGICAL",
            "COMBINATION_PRODUCT",
            "DEVICE",
            "DIAGNOSTIC_TEST",
            "DIETARY_SUPPLEMENT",
            "DRUG",
            "GENETIC",
            "PROCEDURE",
            "RADIATION",
            "OTHER",
        }
    ),
    "reference_type": frozenset({"BACKGROUND", "RESULT", "DERIVED"}),
    "arm_type": frozenset(
        {
            "EXPERIMENTAL",
            "ACTIVE_COMPARATOR",
            "PLACEBO_COMPARATOR",
            "SHAM_COMPARATOR",
            "NO_INTERVENTION",
            "OTHER",
        }
    ),
}


def _text(value: Any) -> str | None:
    """Clean registry markup text; empty becomes None."""
    if not isinstance(value, str):
        return None
    cleaned = _MD_ESCAPE.sub(r"\1", value).strip()
    return cleaned or None


def _enum(kind: str, value: Any, nct_id: str) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    upper = value.strip().upper()
    if upper not in KNOWN_ENUMS[kind]:
        log.warning("unknown %s value %r in %s; kept as given", kind, value, nct_id)
    return upper


def _strings(parent: Any, key: str) -> tuple[str, ...]:
    return tuple(t for t in (_text(v) for v in list_at(parent, key)) if t)


def _key_date(struct: Any, nct_id: str, field: str) -> KeyDate | None:
    if not isinstance(struct, dict) or not isinstance(struct.get("date"), str):
        return None
    value = struct["date"].strip()
    if not _PARTIAL_DATE.match(value):
        log.warning("unparseable %s date %r in %s; dropped", field, value, nct_id)
        return None
    kind = struct.get("type")
    estimated = None if kind is None else str(kind).upper() == "ESTIMATED"
    return KeyDate(date=value, estimated=estimated)


def _plain_date(value: Any) -> str | None:
    if isinstance(value, str) and _PARTIAL_DATE.match(value.strip()):
        return value.strip()
    return None


def _mesh(module: dict[str, Any], key: str) -> tuple[MeshTerm, ...]:
    terms: dict[tuple[int | None, str], MeshTerm] = {}
    for item in list_at(module, key):
        if not isinstance(item, dict) or not isinstance(item.get("term"), str):
            continue
        raw_id = item.get("id")
        mesh_id = None
        if isinstance(raw_id, str) and re.fullmatch(r"[A-Z]\d+", raw_id):
            mesh_id = int(raw_id[1:])
        terms[(mesh_id, item["term"])] = MeshTerm(id=mesh_id, term=item["term"])
    return tuple(sorted(terms.values(), key=lambda m: (m.id or 0, m.term)))


def _sponsor(value: Any, nct_id: str) -> Sponsor | None:
    if not isinstance(value, dict) or not _text(value.get("name")):
        return None
    return Sponsor(
        name=_text(value["name"]) or "",
        agency_class=_enum("agency_class", value.get("class"), nct_id),
    )


def _float(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def _phone(item: dict[str, Any]) -> str | None:
    """`phone` with its `phoneExt` ("617-643-7250 ext 110"). Some records put the country
    calling code in `phoneExt` ("917277223" + "+34"): that goes in front, not after "ext"."""
    phone, ext = _text(item.get("phone")), _text(item.get("phoneExt"))
    if phone is None or ext is None:
        return phone
    if _CALLING_CODE.fullmatch(ext):
        return f"{ext} {phone}"
    return f"{phone} ext {ext}"


def _contacts(items: list[Any]) -> tuple[Contact, ...]:
    return unique_contacts(
        contact(_text(c.get("name")), _text(c.get("role")), _phone(c), _text(c.get("email")))
        for c in items
        if isinstance(c, dict)
    )


def _site(item: dict[str, Any], nct_id: str) -> Site:
    geo = dict_at(item, "geoPoint")
    lat, lon = _float(geo.get("lat")), _float(geo.get("lon"))
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        log.warning("site coordinates out of range in %s; dropped", nct_id)
        lat = lon = None
    country_name = _text(item.get("country"))
    code = to_iso2(country_name)
    if country_name and code is None:
        log.warning("unknown country %r in %s; kept unmapped", country_name, nct_id)
    return Site(
        facility=_text(item.get("facility")),
        city=_text(item.get("city")),
        state=_text(item.get("state")),
        country=code,
        country_name=country_name,
        lat=lat,
        lon=lon,
        status=_enum("status", item.get("status"), nct_id),
        contacts=_contacts(list_at(item, "contacts")),
    )


def _reference(item: dict[str, Any], nct_id: str) -> Reference | None:
    raw_pmid = item.get("pmid")
    pmid = raw_pmid.strip() if isinstance(raw_pmid, str) and _PMID.match(raw_pmid.strip()) else None
    text = _text(item.get("citation"))
    citation = squash_spaces(text) if text else None
    if pmid is None and citation is None:
        return None
    doi = None
    if citation and (match := _CITED_DOI.search(citation)):
        doi = match.group(1).rstrip(".,;")
    return Reference(
        pmid=pmid,
        doi=doi,
        type=_enum("reference_type", item.get("type"), nct_id),
        citation=citation,
    )


def _references(module: dict[str, Any], nct_id: str) -> tuple[Reference, ...]:
    """The record's publications (`references`); its `seeAlsoLinks` are web sites, not these."""
    return sorted_references(
        _reference(item, nct_id) for item in list_at(module, "references") if isinstance(item, dict)
    )


def _sites(module: dict[str, Any], nct_id: str) -> tuple[Site, ...]:
    sites = [_site(i, nct_id) for i in list_at(module, "locations") if isinstance(i, dict)]
    unique = {s.key + f"|{s.lat}|{s.lon}|{s.status}": s for s in sites}
    return tuple(sorted(unique.values(), key=site_order))


def normalise(raw: RawRecord) -> Trial:
    """One v2 study object -> Trial. Raises RecordError when the record has no usable id/title."""
    if not isinstance(raw, dict):
        raise RecordError("record is not a JSON object")
    proto = dict_at(raw, "protocolSection")
    ident = dict_at(proto, "identificationModule")
    nct_id = ident.get("nctId")
    if not isinstance(nct_id, str) or not NCT_RE.match(nct_id.strip().upper()):
        raise RecordError(f"missing or malformed nctId: {str(nct_id)[:40]!r}")
    nct_id = nct_id.strip().upper()
    title = _text(ident.get("briefTitle")) or _text(ident.get("officialTitle"))
    if not title:
        raise RecordError(f"{nct_id} has no title")

    status = dict_at(proto, "statusModule")
    sponsors = dict_at(proto, "sponsorCollaboratorsModule")
    desc = dict_at(proto, "descriptionModule")
    conds = dict_at(proto, "conditionsModule")
    design_mod = dict_at(proto, "designModule")
    design_info = dict_at(design_mod, "designInfo")
    masking = dict_at(design_info, "maskingInfo")
    enrol = dict_at(design_mod, "enrollmentInfo")
    arms_mod = dict_at(proto, "armsInterventionsModule")
    elig = dict_at(proto, "eligibilityModule")
    outcomes = dict_at(proto, "outcomesModule")
    places = dict_at(proto, "contactsLocationsModule")
    derived = dict_at(raw, "derivedSection")

    arms = tuple(
        Arm(
            label=_text(a.get("label")) or "",
            type=_enum("arm_type", a.get("type"), nct_id),
            description=_text(a.get("description")),
            intervention_names=_strings(a, "interventionNames"),
        )
        for a in list_at(arms_mod, "armGroups")
        if isinstance(a, dict)
    )
    interventions = tuple(
        Intervention(
            type=_enum("intervention_type", i.get("type"), nct_id),
            name=_text(i.get("name")) or "",
            description=_text(i.get("description")),
            other_names=_strings(i, "otherNames"),
        )
        for i in list_at(arms_mod, "interventions")
        if isinstance(i, dict) and _text(i.get("name"))
    )
    count = enrol.get("count")
    enrollment = Enrollment(
        count=count
        if isinstance(count, int) and not isinstance(count, bool) and count >= 0
        else None,
        estimated=None if enrol.get("type") is None else str(enrol["type"]).upper() == "ESTIMATED",
    )
    expanded = dict_at(status, "expandedAccessInfo").get("hasExpandedAccess")
    healthy = elig.get("healthyVolunteers")

    return Trial(
        registry=REGISTRY,
        registry_id=nct_id,
        url=STUDY_URL.format(nct_id),
        aliases=_strings(ident, "nctIdAliases"),
        secondary_ids=tuple(
            SecondaryId(
                id=_text(s.get("id")) or "", type=s.get("type"), domain=_text(s.get("domain"))
            )
            for s in list_at(ident, "secondaryIdInfos")
            if isinstance(s, dict) and _text(s.get("id"))
        ),
        brief_title=title,
        official_title=_text(ident.get("officialTitle")),
        acronym=_text(ident.get("acronym")),
        summary=_text(desc.get("briefSummary")),
        detailed_description=_text(desc.get("detailedDescription")),
        conditions=_strings(conds, "conditions"),
        keywords=_strings(conds, "keywords"),
        condition_mesh=_mesh(dict_at(derived, "conditionBrowseModule"), "meshes"),
        condition_mesh_ancestors=_mesh(dict_at(derived, "conditionBrowseModule"), "ancestors"),
        intervention_mesh=_mesh(dict_at(derived, "interventionBrowseModule"), "meshes"),
        interventions=interventions,
        arms=arms,
        phases=tuple(
            p for p in (_enum("phase", v, nct_id) for v in list_at(design_mod, "phases")) if p
        ),
        enrollment=enrollment,
        design=Design(
            study_type=_enum("study_type", design_mod.get("studyType"), nct_id),
            allocation=_enum("allocation", design_info.get("allocation"), nct_id),
            intervention_model=_text(design_info.get("interventionModel")),
            primary_purpose=_text(design_info.get("primaryPurpose")),
            masking=_enum("masking", masking.get("masking"), nct_id),
            who_masked=_strings(masking, "whoMasked"),
            arm_types=tuple(sorted({a.type for a in arms if a.type})),
        ),
        eligibility=Eligibility(
            criteria=_text(elig.get("eligibilityCriteria")),
            sex=_text(elig.get("sex")),
            minimum_age=_text(elig.get("minimumAge")),
            maximum_age=_text(elig.get("maximumAge")),
            healthy_volunteers=healthy if isinstance(healthy, bool) else None,
        ),
        primary_outcomes=tuple(
            t
            for t in (
                _text(o.get("measure"))
                for o in list_at(outcomes, "primaryOutcomes")
                if isinstance(o, dict)
            )
            if t
        ),
        sponsor=_sponsor(sponsors.get("leadSponsor"), nct_id),
        collaborators=tuple(
            s for s in (_sponsor(c, nct_id) for c in list_at(sponsors, "collaborators")) if s
        ),
        overall_status=_enum("status", status.get("overallStatus"), nct_id),
        last_known_status=_enum("status", status.get("lastKnownStatus"), nct_id),
        why_stopped=_text(status.get("whyStopped")),
        has_expanded_access=expanded if isinstance(expanded, bool) else None,
        dates=Dates(
            start=_key_date(status.get("startDateStruct"), nct_id, "start"),
            primary_completion=_key_date(
                status.get("primaryCompletionDateStruct"), nct_id, "primary completion"
            ),
            completion=_key_date(status.get("completionDateStruct"), nct_id, "completion"),
            first_posted=_key_date(status.get("studyFirstPostDateStruct"), nct_id, "first posted"),
            last_update_posted=_key_date(
                status.get("lastUpdatePostDateStruct"), nct_id, "last update"
            ),
            results_first_posted=_key_date(
                status.get("resultsFirstPostDateStruct"), nct_id, "results posted"
            ),
            status_verified=_plain_date(status.get("statusVerifiedDate")),
        ),
        has_results=raw.get("hasResults") is True or "resultsSection" in raw,
        # overallOfficials are investigators; v2 gives them no phone or email, so they count
        # only if a record ever does
        contacts=_contacts(
            list_at(places, "centralContacts") + list_at(places, "overallOfficials")
        ),
        sites=_sites(places, nct_id),
        references=_references(dict_at(proto, "referencesModule"), nct_id),
    )
