"""ISRCTN `<fullTrial>` XML (API format "default") -> the neutral `Trial`.

The raw record is a dict `{"isrctn": "ISRCTN12345678" | None, "xml": "<fullTrial ...>"}` as
built by `jobs.registries.isrctn.IsrctnClient`. Written for the shape documented in
shared/registries.md 2.3 and seen in public parsers (ctrdata, dl_isrctn, ToolUniverse):

* The namespace `http://www.67bricks.com/isrctn` may be present or absent: every look-up here
  goes by local element names.
* Fields the registrant left out are usually present but empty, or hold sentinels such as
  "Nil known", "N/A" or "Not provided at time of registration"; those count as missing.
* There is no overall status field. The status the registry's site shows is derived from the
  dates, and so it is here (`derive_status`): a `recruitmentStatusOverride` wins; otherwise
  before `recruitmentStart` -> NOT_YET_RECRUITING, up to `recruitmentEnd` -> RECRUITING, after it
  and up to `overallEndDate` -> ACTIVE_NOT_RECRUITING, after that -> COMPLETED; a
  `recruitmentStartStatusOverride` "Anticipated" keeps an open window NOT_YET_RECRUITING. The
  status therefore depends on `today`, which the caller passes (the client's injectable clock).
* Interventions have no name: the name is `drugNames` when given, else a short name taken from
  the description (`intervention_name`: its first sentence or clause, at most 80 characters;
  the type word "Mixed"/"Other" names nothing); the full text is kept as the description.
  ISRCTN has no arms: the control the design block states becomes `design.arm_types`.
* Sites: each `trialCentre`, plus a country-only site for every recruitment country that no
  centre covers, so that country subscriptions match records without centres.
* Field choices: `summary` = plainEnglishSummary, `detailed_description` = studyHypothesis,
  `conditions` = each line of each condition description, `keywords` = the registry's disease
  classes (diseaseClass1/2), `dates.start` = overallStartDate (else recruitmentStart),
  `dates.completion` = overallEndDate, `first_posted` = isrctn/@dateAssigned,
  `last_update_posted` = trial/@lastUpdated. No primary-completion date exists.
* Design (`_design`): current records carry `trialDesign/interventionalTrialDesign`
  (allocation, masking, control, assignment, purposes), read first; the older wording
  (`studyDesign`, `secondaryStudyDesign`: "randomised", "double-blind", "open-label") and
  `trialTypes` fill what it does not say.
* Enrolment (`_enrollment`): `totalFinalEnrolment` 0 is how ISRCTN says "not known yet"; while
  the trial still enrols, or when the final count is 0, the target is the count, planned.
* Sponsor class: `commercialStatus` Commercial -> INDUSTRY, Non-commercial -> OTHER (OTHER_GOV
  for a government sponsor); without it, `sponsorType`.
* Contacts: each public `<contact>` (title, forename and surname; its `contactTypes` as the
  role; `contactDetails` telephone and email) that can be reached. Trial centres list none.
* Secondary ids: every id in `externalRefs` (NCT, EudraCT, IRAS, protocol number and each
  typed `secondaryNumber`), verbatim, split on "," and ";", placeholders dropped, de-duplicated
  (the specific fields repeat in `secondaryNumbers`); a number written with its system's name
  ("CPMS: 49816") is that system's number (type CPMS); the record's own DOI is not an id.
* Unknown vocabulary (status overrides, phases, intervention types, designs) is logged once
  per value at WARNING and mapped to something sensible (see each mapping).
* References (`_references`), from the `<results>` block as the recorded answers show it:
  each line of `publicationDetails` is one reference, its citation the line as given. ISRCTN
  writes a line as "<year> <output type> in <address> (added dd/mm/yyyy)" ("2023 Abstract
  results in https://doi.org/10.1016/... (added 30/09/2026)"): the output type, upper-cased with
  `_`, is the type ("ABSTRACT_RESULTS" in the recorded answer; a results or protocol article
  line would give "RESULTS_ARTICLE" / "PROTOCOL_ARTICLE" the same way, and both are kept), the
  address the url (a doi.org or PubMed address also gives the DOI or PMID), and the "added" day
  the date (the day the registry listed it; the year stays in the citation). A line in another
  form is kept as a citation with its first address and no type or date. A `basicReport`
  ("Basic results see attached file ... (added 01/09/2026)") is a BASIC_RESULTS reference and a
  `plainEnglishReport` a PLAIN_ENGLISH_RESULTS one, the text as citation and the trial's page
  (which holds the file) as url. `<outputs>` elements, which no recorded answer shows filled,
  are not read for references (`_has_results` still counts them).
* DTDs and entity declarations are refused before parsing (a record is never expanded).
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from typing import Any

from jobs.registries import records
from jobs.registries.base import RawRecord, RecordError
from trialbot.countries import to_iso2
from trialbot.model import (
    Contact,
    Dates,
    Design,
    Eligibility,
    Enrollment,
    Intervention,
    KeyDate,
    Reference,
    SecondaryId,
    Site,
    Sponsor,
    Trial,
)

log = logging.getLogger(__name__)

REGISTRY = "isrctn"
NAMESPACE = "http://www.67bricks.com/isrctn"
TRIAL_URL = "https://www.isrctn.com/{}"
ISRCTN_RE = re.compile(r"^ISRCTN\d{8}$")
_DIGITS_RE = re.compile(r"^(?:ISRCTN)?\s*(\d{8})$", re.IGNORECASE)
_FORBIDDEN_XML = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_OUTPUT_LINE = re.compile(r"^(?:\d{4}\s+)?([A-Za-z][A-Za-z -]*?)\s+in:?\s+https?://", re.I)
_ADDED = re.compile(r"\(added\s+(\d{1,2})/(\d{1,2})/(\d{4})\)", re.I)
_REPORTS = (("basicReport", "BASIC_RESULTS"), ("plainEnglishReport", "PLAIN_ENGLISH_RESULTS"))
_DATE_PREFIX = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:$|T)")
_BR = re.compile(r"<\s*br\s*/?\s*>|&lt;\s*br\s*/?\s*&gt;|<\s*/?\s*p\s*>", re.IGNORECASE)
_CR = re.compile(r"&#x0*d;|&#0*13;", re.IGNORECASE)
_SPLIT_IDS = re.compile(r"\s*[,;]\s*")
_INT_RE = re.compile(r"^\s*(\d{1,8})\s*$")
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,2}[.)]|[-*\u2022\u2013])\s+")
"""A numbered or bulleted line's marker ("1. ", "2) ", "- ", "• ")."""

_SENTINELS = frozenset(
    {
        "",
        "-",
        "n/a",
        "na",
        "n.a.",
        "nil",
        "nil known",
        "none",
        "none known",
        "not applicable",
        "not known",
        "not specified",
        "not provided",
        "not provided at time of registration",
        "unknown",
    }
)
"""Values that mean "nothing was given" (compared case-insensitively, trailing dot ignored)."""

STATUS_OVERRIDES: dict[str, str] = {
    "stopped": "TERMINATED",
    "terminated": "TERMINATED",
    "suspended": "SUSPENDED",
    "withdrawn": "WITHDRAWN",
    "anticipated": "NOT_YET_RECRUITING",
    "not yet recruiting": "NOT_YET_RECRUITING",
    "recruiting": "RECRUITING",
    "ongoing": "RECRUITING",
    "completed": "COMPLETED",
}
"""`recruitmentStatusOverride` (folded) -> CT.gov status. "No longer recruiting" is handled by
`derive_status` (ACTIVE_NOT_RECRUITING until the overall end date, COMPLETED after). Unknown
overrides are logged and the status is derived from the dates as if there were none."""

PHASES: dict[str, tuple[str, ...]] = {
    "phase 0": ("EARLY_PHASE1",),
    "early phase i": ("EARLY_PHASE1",),
    "phase i": ("PHASE1",),
    "phase ii": ("PHASE2",),
    "phase iii": ("PHASE3",),
    "phase iv": ("PHASE4",),
    "phase i/ii": ("PHASE1", "PHASE2"),
    "phase ii/iii": ("PHASE2", "PHASE3"),
    "phase iii/iv": ("PHASE3", "PHASE4"),
    "not applicable": ("NA",),
}
"""ISRCTN phase wording (folded; arabic numerals are rewritten to roman first)."""
_PHASE_ORDER = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
_ARABIC = {"1": "i", "2": "ii", "3": "iii", "4": "iv"}

INTERVENTION_TYPES: dict[str, str | None] = {
    "drug": "DRUG",
    "biological/vaccine": "BIOLOGICAL",
    "biological": "BIOLOGICAL",
    "vaccine": "BIOLOGICAL",
    "cellular/gene therapy": "BIOLOGICAL",
    "genetic": "GENETIC",
    "device": "DEVICE",
    "procedure/surgery": "PROCEDURE",
    "procedure": "PROCEDURE",
    "surgery": "PROCEDURE",
    "behavioural": "BEHAVIORAL",
    "behavioral": "BEHAVIORAL",
    "supplement": "OTHER",
    "mixed": "OTHER",
    "other": "OTHER",
    "not specified": None,
}
"""ISRCTN `interventionType` (folded) -> CT.gov type; unknown types are logged and -> OTHER."""

STUDY_TYPES: dict[str, str] = {
    "interventional": "INTERVENTIONAL",
    "observational": "OBSERVATIONAL",
    "expanded access": "EXPANDED_ACCESS",
}

SEX: dict[str, str | None] = {
    "both": "ALL",
    "all": "ALL",
    "female": "FEMALE",
    "male": "MALE",
    "not specified": None,
}

_SECONDARY_TYPES: dict[str, tuple[str, str | None]] = {
    "nct": ("NCT", None),
    "clinicaltrials.gov": ("NCT", None),
    "eudract": ("EUDRACT_NUMBER", None),
    "ctis": ("CTIS", None),
    "isrctn": ("ISRCTN", None),
    "iras": ("OTHER", "IRAS"),
    "cpms": ("CPMS", None),
    "nihr": ("OTHER", "NIHR"),
}
"""`secondaryNumber/@numberType` (folded) -> (SecondaryId.type, domain); any other numberType
("Protocol serial number", "Grant Code", ...) becomes type OTHER with the numberType as domain,
unless the value itself is plainly an NCT, CTIS or EudraCT number."""

_LABELLED_ID = re.compile(
    r"^(?P<label>CPMS|IRAS|EudraCT|CTIS)"
    r"(?:\s*(?:number|no\.?|id))?\s*(?:[:#]\s*|\s+)(?P<value>\S*\d\S*)$",
    re.IGNORECASE,
)
"""A number written with its system's name in front ("CPMS: 49816", "IRAS 334455"), as
registrants do in `protocolSerialNumber`: the number is the value, the name its type, so it
matches the same number given again in `secondaryNumbers`. Only systems whose numbers do not
carry their own prefix (an NCT or ISRCTN number does, and is recognised as it stands)."""
_NCT_VALUE = re.compile(r"^NCT\d{8}$", re.IGNORECASE)
_CTIS_VALUE = re.compile(r"^20\d{2}-5\d{5}-\d{2}-\d{2}$")
_EUDRACT_VALUE = re.compile(r"^20\d{2}-0\d{5}-\d{2}$")
_TYPE_RANK = {
    "NCT": 0,
    "CTIS": 0,
    "EUDRACT_NUMBER": 0,
    "ISRCTN": 0,
    "CPMS": 0,
    "REGISTRY": 1,
    "OTHER": 2,
}

_warn_once = records.WarnOnce(log, "isrctn", note="; mapped leniently")


# -- XML helpers (namespace-agnostic) -------------------------------------------------------------


def local_name(tag: Any) -> str:
    """`{ns}name` or `name` -> `name` (comments/PIs have non-string tags -> "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def parse_xml(text: str | bytes) -> ET.Element:
    """Parse one XML document, refusing DTDs and entity declarations; ValueError if broken."""
    try:
        probe = text if isinstance(text, str) else text.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("XML that is not UTF-8 is refused") from None
    if _FORBIDDEN_XML.search(probe):
        raise ValueError("XML with a DOCTYPE or ENTITY declaration is refused")
    try:
        return ET.fromstring(text)
    except (ET.ParseError, LookupError, ValueError) as exc:
        raise ValueError(f"not well-formed XML ({exc})") from None


def _child(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    for sub in elem:
        if local_name(sub.tag) == name:
            return sub
    return None


def _children(elem: ET.Element | None, name: str) -> Iterator[ET.Element]:
    if elem is None:
        return
    for sub in elem:
        if local_name(sub.tag) == name:
            yield sub


def _path(elem: ET.Element | None, path: str) -> ET.Element | None:
    for part in path.split("/"):
        elem = _child(elem, part)
    return elem


def _raw_text(elem: ET.Element | None) -> str | None:
    if elem is None:
        return None
    return "".join(elem.itertext())


def clean_text(value: str | None) -> str | None:
    """Strip, turn leftover HTML breaks/entities into plain text; sentinels and empty -> None."""
    if value is None:
        return None
    text = records.unescape_html(_BR.sub("\n", _CR.sub("", value)), rounds=1)
    text = records.tidy_lines(records.plain_newlines(text), str.rstrip)
    if text.casefold().rstrip(".") in _SENTINELS:
        return None
    return text or None


def _text(elem: ET.Element | None, path: str | None = None) -> str | None:
    return clean_text(_raw_text(_path(elem, path) if path else elem))


def _iso_date(value: str | None) -> str | None:
    """`2021-03-04T10:11:12.123Z` -> `2021-03-04`; `yyyy`/`yyyy-MM` kept; anything else None."""
    if not value:
        return None
    match = _DATE_PREFIX.match(value.strip())
    if match is None:
        return None
    year, month, day = match.groups()
    if int(year) < 1:
        return None
    try:
        if day is not None:
            return date(int(year), int(month), int(day)).isoformat()
        if month is not None and not 1 <= int(month) <= 12:
            return None
    except ValueError:
        return None
    return "-".join(p for p in (year, month) if p)


def _as_day(value: str | None, *, last: bool) -> date | None:
    """A partial ISO date as the first (or last) day it covers."""
    if not value:
        return None
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return date(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        if not last:
            return date(parts[0], parts[1], 1)
        nxt = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return date(parts[0], 12, 31) if last else date(parts[0], 1, 1)


def _key_date(value: str | None) -> KeyDate | None:
    iso = _iso_date(value)
    return KeyDate(date=iso) if iso else None


def _fold(value: str) -> str:
    return re.sub(r"\s+", " ", value.strip().casefold())


# -- mappings --------------------------------------------------------------------------------


def derive_status(
    override: str | None,
    recruitment_start: str | None,
    recruitment_end: str | None,
    overall_end: str | None,
    today: date,
    record_id: str = "?",
    *,
    start_override: str | None = None,
) -> str | None:
    """The CT.gov status the registry's site would show on `today` (dates ISO, maybe partial).

    `override` is `recruitmentStatusOverride`; `start_override` is
    `recruitmentStartStatusOverride`, whose "Anticipated" (the start date is a plan, not a
    fact) turns RECRUITING into NOT_YET_RECRUITING - an assumption: how the site combines it
    with the dates could not be confirmed. None when the record gives neither an override nor
    any recruitment/end date.
    """
    status = _derive(override, recruitment_start, recruitment_end, overall_end, today, record_id)
    if (
        status == "RECRUITING"
        and not override
        and start_override is not None
        and _fold(start_override) == "anticipated"
    ):
        return "NOT_YET_RECRUITING"
    return status


def _derive(
    override: str | None,
    recruitment_start: str | None,
    recruitment_end: str | None,
    overall_end: str | None,
    today: date,
    record_id: str,
) -> str | None:
    start = _as_day(recruitment_start, last=False)
    end = _as_day(recruitment_end, last=True)
    final = _as_day(overall_end, last=True)
    if override:
        folded = _fold(override)
        if folded in STATUS_OVERRIDES:
            return STATUS_OVERRIDES[folded]
        if folded not in ("no longer recruiting", "closed"):
            _warn_once("recruitmentStatusOverride", override, record_id)
        else:
            return "COMPLETED" if final is not None and today > final else "ACTIVE_NOT_RECRUITING"
    if start is None and end is None:
        if final is not None and today > final:
            return "COMPLETED"
        return None
    if start is not None and today < start:
        return "NOT_YET_RECRUITING"
    if end is None or today <= end:
        return "RECRUITING"
    if final is None or today <= final:
        return "ACTIVE_NOT_RECRUITING"
    return "COMPLETED"


def map_phase(value: str | None, record_id: str = "?") -> tuple[str, ...]:
    """ISRCTN phase wording -> CT.gov phases; "Not Specified" and empty -> ()."""
    text = (value or "").strip()
    folded = _fold(text)
    if folded == "not applicable":
        return ("NA",)
    if folded.rstrip(".") in _SENTINELS:
        return ()
    folded = re.sub(r"\b([1-4])\b", lambda m: _ARABIC[m.group(1)], folded)
    folded = re.sub(r"\s*/\s*(?:phase\s+)?", "/", folded)
    if folded in PHASES:
        return PHASES[folded]
    _warn_once("phase", text, record_id)
    return (re.sub(r"\W+", "_", text.strip().upper()).strip("_"),)


def map_intervention_type(value: str | None, record_id: str = "?") -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    folded = _fold(text)
    if folded in INTERVENTION_TYPES:
        return INTERVENTION_TYPES[folded]
    _warn_once("interventionType", text, record_id)
    return "OTHER"


def _study_type(value: str | None, record_id: str) -> str | None:
    if value is None:
        return None
    folded = _fold(value)
    if folded in STUDY_TYPES:
        return STUDY_TYPES[folded]
    _warn_once("primaryStudyDesign", value, record_id)
    return re.sub(r"\W+", "_", value.strip().upper()).strip("_") or None


def _sex(value: str | None, record_id: str) -> str | None:
    if value is None:
        return None
    folded = _fold(value)
    if folded in SEX:
        return SEX[folded]
    _warn_once("gender", value, record_id)
    return re.sub(r"\W+", "_", value.strip().upper()).strip("_") or None


def _allocation(text: str) -> str | None:
    folded = _fold(text)
    if re.search(r"\bnon[-\s]?randomi[sz]", folded):
        return "NON_RANDOMIZED"
    if re.search(r"\brandomi[sz]", folded):
        return "RANDOMIZED"
    if re.search(r"\bsingle[-\s]?(?:arm|group)\b", folded):
        return "NA"
    return None


def _masking(text: str) -> str | None:
    folded = _fold(text)
    for pattern, value in (
        (r"\bquadruple[-\s]?(?:blind|mask)", "QUADRUPLE"),
        (r"\btriple[-\s]?(?:blind|mask)", "TRIPLE"),
        (r"\bdouble[-\s]?(?:blind|mask)", "DOUBLE"),
        (r"\bsingle[-\s]?(?:blind|mask)", "SINGLE"),
        (
            r"\bopen[-\s]label\b|\bunblinded\b|\bnon[-\s]?blinded\b|\bopen\s+(?:study|trial)\b"
            r"|^open\b|\bmasking not used\b|^none\b",
            "NONE",
        ),
        (r"\bblind(?:ed)?\b|\bmask(?:ed|ing used)\b", "BLINDED"),
    ):
        if re.search(pattern, folded):
            return value
    return None


CONTROLS: tuple[tuple[str, str | None], ...] = (
    (r"\bplacebo\b", "PLACEBO_COMPARATOR"),
    (r"\bsham\b", "SHAM_COMPARATOR"),
    (
        r"\b(?:standard|usual)\s+(?:of\s+)?care\b|\bno\s+(?:treatment|intervention)\b"
        r"|\btreatment\s+as\s+usual\b|\bwait(?:ing)?[-\s]?list\b",
        "NO_INTERVENTION",
    ),
    (r"\bactive\b", "ACTIVE_COMPARATOR"),
    (r"\bdose[-\s]+(?:comparison|response)\b", None),
    (r"\bhistorical\b|\buncontrolled\b|^none$|\bno\s+control\b", "UNCONTROLLED"),
    (r"^other$", None),
)
"""`interventionalTrialDesign/control` (folded) -> the CT.gov arm type of the comparison group,
which `jobs.facts` reads as the control. A dose comparison compares doses of the same treatment
(no control of another kind). "UNCONTROLLED" (historical controls, none) is no arm type: the
study gives everyone the treatment, said by its allocation and model. Unknown values are logged
and add nothing."""


def _control(text: str, record_id: str) -> str | None:
    folded = _fold(text)
    for pattern, value in CONTROLS:
        if re.search(pattern, folded):
            return value
    _warn_once("control", text, record_id)
    return None


ASSIGNMENTS: dict[str, str | None] = {
    "parallel": "PARALLEL",
    "crossover": "CROSSOVER",
    "cross-over": "CROSSOVER",
    "factorial": "FACTORIAL",
    "sequential": "SEQUENTIAL",
    "single": "SINGLE_GROUP",
    "single group": "SINGLE_GROUP",
    "single arm": "SINGLE_GROUP",
    "other": None,
}
"""`interventionalTrialDesign/assignment` (folded) -> CT.gov intervention model."""

PURPOSE_ORDER = (
    "TREATMENT",
    "PREVENTION",
    "DIAGNOSTIC",
    "SCREENING",
    "SUPPORTIVE_CARE",
    "BASIC_SCIENCE",
    "DEVICE_FEASIBILITY",
    "HEALTH_SERVICES_RESEARCH",
)
"""Which of several purposes is the primary one. ISRCTN lists a trial's purposes in alphabetical
order, not by importance ("Device feasibility", ..., "Treatment"), and the model holds one:
treating, then preventing, then the others; any other purpose comes after these."""


def _design(design: ET.Element | None, record_id: str) -> Design:
    """The trial design: the structured `interventionalTrialDesign` block where the record has
    one (allocation, masking, control, assignment, purposes), the older free-text fields
    (`studyDesign`, `secondaryStudyDesign`, `trialTypes`) for whatever it does not say."""
    block = _child(design, "interventionalTrialDesign")
    older = " ".join(
        t
        for t in (
            _text(design, "studyDesign"),
            _text(design, "secondaryStudyDesign"),
            _text(design, "trialDesign"),
        )
        if t
    )
    allocation_text = _text(block, "allocation")
    masking_text = _text(block, "masking")
    control_text = _text(block, "control")
    assignment_text = _text(block, "assignment")
    allocation = (_allocation(allocation_text) if allocation_text else None) or (
        _allocation(older) if older else None
    )
    if allocation_text and allocation is None:
        _warn_once("allocation", allocation_text, record_id)
    masking = _masking(masking_text) if masking_text else None
    if masking_text and masking is None:
        _warn_once("masking", masking_text, record_id)
    if masking is None and older:
        masking = _masking(older)
    elif masking == "BLINDED" and older:  # the older text may say how many are blinded
        level = _masking(older)
        masking = level if level in ("SINGLE", "DOUBLE", "TRIPLE", "QUADRUPLE") else masking
    model = None
    if assignment_text:
        folded = _fold(assignment_text)
        if folded in ASSIGNMENTS:
            model = ASSIGNMENTS[folded]
        else:
            _warn_once("assignment", assignment_text, record_id)
    control = _control(control_text, record_id) if control_text else None
    arm_types = (control,) if control and control != "UNCONTROLLED" else ()
    if control == "UNCONTROLLED":
        # No comparison group, everyone gets the treatment: nobody is allocated to one (CT.gov's
        # allocation NA, how the facts read "no control"). ISRCTN's allocation words name a
        # "controlled trial" even then ("Non-randomized controlled trial"); a randomised one
        # (between doses, say) stays randomised.
        model = model or "SINGLE_GROUP"
        allocation = allocation if allocation == "RANDOMIZED" else "NA"
    purposes = [t for e in _children(_child(block, "purposes"), "purpose") if (t := _text(e))]
    if not purposes:
        purposes = [
            t for e in _children(_child(design, "trialTypes"), "trialType") if (t := _text(e))
        ]
    return Design(
        study_type=_study_type(_text(design, "primaryStudyDesign"), record_id),
        allocation=allocation,
        intervention_model=model,
        primary_purpose=_purpose(purposes),
        masking=masking,
        arm_types=arm_types,
    )


def _agency_class(
    sponsor_type: str | None, commercial: str | None = None, record_id: str = "?"
) -> str | None:
    """CT.gov's sponsor class, as `trialbot.model.Sponsor.agency_class` (the CTIS adapter maps
    its commercial flag the same way).

    `commercialStatus` ("Commercial" / "Non-commercial") is the registry's own answer to "does
    a company pay": Commercial -> INDUSTRY; Non-commercial -> OTHER, or OTHER_GOV when the
    `sponsorType` says "Government". Without it, `sponsorType` alone: "Industry" -> INDUSTRY,
    "Government" -> OTHER_GOV, any other type -> OTHER; neither -> None.
    """
    kind = _fold(sponsor_type) if sponsor_type else None
    if commercial is not None:
        folded = re.sub(r"[^a-z]", "", commercial.casefold())
        if folded == "commercial":
            return "INDUSTRY"
        if folded == "noncommercial":
            return "OTHER_GOV" if kind == "government" else "OTHER"
        _warn_once("commercialStatus", commercial, record_id)
    if kind is None:
        return None
    if kind == "industry":
        return "INDUSTRY"
    if kind == "government":
        return "OTHER_GOV"
    return "OTHER"


_STILL_ENROLLING = frozenset({"NOT_YET_RECRUITING", "RECRUITING", "SUSPENDED"})
"""Statuses in which no final count can exist yet (a suspended trial may resume)."""


def _enrollment(final: int | None, target: int | None, status: str | None) -> Enrollment:
    """The final count when the record can have one, else the target as a plan.

    ISRCTN writes `totalFinalEnrolment` 0 on records whose final count is not in yet (seen on
    trials still recruiting), so 0 means "not known yet" - except on a withdrawn trial, which by
    definition enrolled nobody. While the trial is still enrolling (`_STILL_ENROLLING`) no
    count is final, whatever the field says: the target is the number, planned; a count with
    no target is kept without saying whether it is a plan. After recruitment (or when the
    status cannot be told) a positive count is the registrant's statement: actual. A target of
    0 is no plan.
    """
    if status in _STILL_ENROLLING:
        if target:
            return Enrollment(count=target, estimated=True)
        return Enrollment(count=final) if final else Enrollment()
    if final is not None and (final > 0 or status == "WITHDRAWN"):
        return Enrollment(count=final, estimated=False)
    if target:
        return Enrollment(count=target, estimated=True)
    return Enrollment()


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    match = _INT_RE.match(value)
    return int(match.group(1)) if match else None


def _age(elem: ET.Element | None) -> str | None:
    """`<lowerAgeLimit unit="years" value="18">18 Years</lowerAgeLimit>` -> "18 Years"."""
    if elem is None:
        return None
    text = clean_text(_raw_text(elem))
    if text is not None and not re.fullmatch(r"no (?:lower|upper) (?:age )?limit", _fold(text)):
        return text
    value, unit = elem.get("value"), elem.get("unit")
    if value and unit and re.fullmatch(r"\d+(?:\.\d+)?", value.strip()):
        return f"{value.strip()} {unit.strip().capitalize()}"
    return None


def _bool(value: str | None) -> bool | None:
    if value is None:
        return None
    folded = _fold(value)
    if folded in ("true", "yes"):
        return True
    if folded in ("false", "no"):
        return False
    return None


# -- sections --------------------------------------------------------------------------------


def _secondary_ids(refs: ET.Element | None, record_id: str) -> tuple[SecondaryId, ...]:
    found: list[tuple[str, str, str | None]] = []  # (id, type, domain)

    def add(raw: str | None, declared: str, domain: str | None) -> None:
        text = clean_text(raw)
        if text is None:
            return
        for piece in _SPLIT_IDS.split(text):
            value = piece.strip()
            if not value or value.casefold().rstrip(".") in _SENTINELS:
                continue
            kind, dom = declared, domain
            labelled = _LABELLED_ID.match(value)
            if labelled is not None:
                value = labelled.group("value")
                kind, dom = _SECONDARY_TYPES[_fold(labelled.group("label"))]
            if _NCT_VALUE.match(value):
                kind, dom = "NCT", None
            elif _CTIS_VALUE.match(value):
                kind, dom = "CTIS", None
            elif _EUDRACT_VALUE.match(value):
                kind, dom = "EUDRACT_NUMBER", None
            found.append((value, kind, dom))

    add(_raw_text(_child(refs, "clinicalTrialsGovNumber")), "NCT", None)
    add(_raw_text(_child(refs, "eudraCTNumber")), "EUDRACT_NUMBER", None)
    add(_raw_text(_child(refs, "irasNumber")), "OTHER", "IRAS")
    add(_raw_text(_child(refs, "protocolSerialNumber")), "OTHER", "Protocol serial number")
    for number in _children(_child(refs, "secondaryNumbers"), "secondaryNumber"):
        number_type = clean_text(number.get("numberType"))
        kind, domain = _SECONDARY_TYPES.get(_fold(number_type or ""), ("OTHER", number_type))
        add(_raw_text(number), kind, domain)
    best: dict[str, tuple[str, str, str | None]] = {}
    for value, kind, domain in found:
        key = value.casefold()
        held = best.get(key)
        if held is None or _TYPE_RANK.get(kind, 2) < _TYPE_RANK.get(held[1], 2):
            best[key] = (value, kind, domain)
    own = record_id.casefold()
    return tuple(
        SecondaryId(id=value, type=kind, domain=domain)
        for value, kind, domain in sorted(best.values(), key=lambda v: (v[0].casefold(), v[1]))
        if value.casefold() != own
    )


def _conditions(trial: ET.Element) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(condition descriptions, disease classes) - both de-duplicated and sorted.

    Registrants list several conditions in one `<description>`, one per line (a basket trial's
    cancers): each line is a condition of its own, so that each can be matched and diffed.
    """
    conditions: dict[str, str] = {}
    classes: dict[str, str] = {}
    for cond in _children(_child(trial, "conditions"), "condition"):
        for line in (_text(cond, "description") or "").split("\n"):
            text = _LIST_MARKER.sub("", line).strip()
            if text and text.casefold().rstrip(".") not in _SENTINELS:
                conditions.setdefault(text.casefold(), text)
        for name in ("diseaseClass1", "diseaseClass2"):
            value = _text(cond, name)
            if value:
                classes.setdefault(value.casefold(), value)
    return (
        tuple(sorted(conditions.values(), key=str.casefold)),
        tuple(sorted(classes.values(), key=str.casefold)),
    )


def _interventions(
    trial: ET.Element, record_id: str
) -> tuple[tuple[Intervention, ...], tuple[str, ...]]:
    interventions: list[Intervention] = []
    phases: set[str] = set()
    for item in _children(_child(trial, "interventions"), "intervention"):
        phases.update(map_phase(_raw_text(_child(item, "phase")), record_id))
        type_text = _text(item, "interventionType")
        drug_names = _text(item, "drugNames")
        description = _text(item, "description")
        if not (drug_names or description):
            continue
        interventions.append(
            Intervention(
                type=map_intervention_type(type_text, record_id),
                name=drug_names or intervention_name(description) or type_text or "Intervention",
                description=description,
            )
        )
    order = {p: i for i, p in enumerate(_PHASE_ORDER)}
    ordered = tuple(sorted(phases, key=lambda p: (order.get(p, len(order)), p)))
    return tuple(interventions), ordered


NAME_LIMIT = 80
"""Longest intervention name taken from a description (characters)."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")
_CLAUSE_END = re.compile(r"\s*(?:[,;]|\s[-\u2013\u2014])\s+")


_HEADING_WORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "arm",
        "arms",
        "current",
        "design",
        "details",
        "group",
        "groups",
        "intervention",
        "interventions",
        "method",
        "methodology",
        "methods",
        "of",
        "overview",
        "procedure",
        "procedures",
        "study",
        "the",
        "treatment",
        "treatments",
        "trial",
    }
)


def _heading(line: str) -> bool:
    """A line that introduces what follows rather than naming anything: it ends with a colon
    ("Current interventions as of 01/02/2020:") or is made only of generic words ("Study
    Methodology and Interventions")."""
    return line.endswith(":") or _generic(line)


def _generic(text: str) -> bool:
    """Only generic words, single letters and numbers ("Intervention group", "Arm 1")."""
    words = re.findall(r"[^\W\d_]+", text.casefold())
    return bool(words) and all(w in _HEADING_WORDS or len(w) == 1 for w in words)


def intervention_name(description: str | None) -> str | None:
    """A short name for an intervention that has no drug name, from its description.

    ISRCTN interventions have no name field, and the type word ("Mixed", "Other", "Device")
    names nothing. The name is the description's first line that is not a heading
    (`_heading`; the last line is kept even if it is one), without its list marker or a generic
    label ("Intervention group: "), cut to its first sentence. A sentence longer than
    `NAME_LIMIT` characters is cut after its last clause that fits ("The study will use a
    mixed-methods design, combining ..." -> "The study will use a mixed-methods design") when
    that keeps at least half of it, else at a word, with "…".
    The whole text stays the description.
    """
    if not description:
        return None
    lines = [_LIST_MARKER.sub("", line).strip() for line in description.split("\n")]
    lines = [line for line in lines if line]
    if not lines:
        return None
    useful = [line for line in lines[:-1] if not _heading(line)] + lines[-1:]
    text = useful[0]
    label, colon, rest = text.partition(":")
    if colon and rest.strip() and _heading(label + colon) and _generic(label):
        text = rest.strip()  # "Intervention group: 45 minutes of ..." -> "45 minutes of ..."
    text = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(" .;:,")
    if len(text) <= NAME_LIMIT:
        return text or None
    clauses = [m.start() for m in _CLAUSE_END.finditer(text) if m.start() <= NAME_LIMIT]
    if clauses and clauses[-1] >= NAME_LIMIT // 2:
        return text[: clauses[-1]].rstrip(" .;:,")
    cut = text[: NAME_LIMIT - 1]
    cut = cut[: cut.rfind(" ")] if " " in cut else cut
    return cut.rstrip(" .;:,(-") + "\u2026"


def _eligibility(participants: ET.Element | None, record_id: str) -> Eligibility:
    inclusion = _text(participants, "inclusion")
    exclusion = _text(participants, "exclusion")
    parts = []
    if inclusion:
        parts.append(f"Inclusion Criteria:\n{inclusion}")
    if exclusion:
        parts.append(f"Exclusion Criteria:\n{exclusion}")
    return Eligibility(
        criteria="\n\n".join(parts) or None,
        sex=_sex(_text(participants, "gender"), record_id),
        minimum_age=_age(_child(participants, "lowerAgeLimit")),
        maximum_age=_age(_child(participants, "upperAgeLimit")),
        healthy_volunteers=_bool(_text(participants, "healthyVolunteersAllowed")),
    )


def _site_key(site: Site) -> str:
    return site.key + f"|{site.country_name or ''}".casefold()


def _sites(participants: ET.Element | None, record_id: str) -> tuple[Site, ...]:
    sites: dict[str, Site] = {}
    for centre in _children(_child(participants, "trialCentres"), "trialCentre"):
        country_name = _text(centre, "country")
        site = Site(
            facility=_text(centre, "name"),
            city=_text(centre, "city"),
            state=_text(centre, "state"),
            country=_country(country_name, record_id),
            country_name=country_name,
        )
        if site.facility or site.city or site.country_name:
            sites.setdefault(_site_key(site), site)
    covered = {s.country or (s.country_name or "").casefold() for s in sites.values()}
    for elem in _children(_child(participants, "recruitmentCountries"), "country"):
        name = _text(elem)
        if not name:
            continue
        code = _country(name, record_id)
        if (code or name.casefold()) in covered:
            continue
        covered.add(code or name.casefold())
        site = Site(country=code, country_name=name)
        sites.setdefault(_site_key(site), site)
    return tuple(sorted(sites.values(), key=records.site_order))


def _country(name: str | None, record_id: str) -> str | None:
    if not name:
        return None
    code = to_iso2(name)
    if code is None:
        _warn_once("country", name, record_id)
    return code


def _sponsors(full: ET.Element, record_id: str) -> tuple[Sponsor | None, tuple[Sponsor, ...]]:
    sponsors = [
        Sponsor(
            name=name,
            agency_class=_agency_class(
                _text(s, "sponsorType"), _text(s, "commercialStatus"), record_id
            ),
        )
        for s in _children(full, "sponsor")
        if (name := _text(s, "organisation") or _text(s, "name"))
    ]
    lead = sponsors[0] if sponsors else None
    others: dict[str, Sponsor] = {}
    seen = {lead.name.casefold()} if lead else set()
    for sponsor in sponsors[1:]:
        if sponsor.name.casefold() not in seen:
            others.setdefault(sponsor.name.casefold(), sponsor)
    for funder in _children(full, "funder"):
        name = _text(funder, "name")
        if name and name.casefold() not in seen:
            others.setdefault(name.casefold(), Sponsor(name=name))
    return lead, tuple(sorted(others.values(), key=lambda s: s.name.casefold()))


def _contacts(full: ET.Element) -> tuple[Contact, ...]:
    """The `<contact>` siblings of `<trial>`, in the record's order ("Public" usually first).

    A contact whose `privacy` is set and is not "Public" is skipped: ISRCTN shows it to nobody
    (its phone and email are blanked in the answers seen anyway). One person may hold several
    `contactTypes` ("Scientific", "Public"): the role is all of them, in the record's order.
    Sponsors' and ethics committees' `contactDetails` are organisations' addresses, not people
    to ask about joining, and are not read.
    """
    found: list[Contact | None] = []
    for elem in _children(full, "contact"):
        privacy = _text(elem, "privacy")
        if privacy is not None and _fold(privacy) != "public":
            continue
        parts = (_text(elem, "title"), _text(elem, "forename"), _text(elem, "surname"))
        types = _children(_child(elem, "contactTypes"), "contactType")
        roles = dict.fromkeys(
            t for e in (*types, *_children(elem, "contactType")) if (t := _text(e))
        )
        details = _child(elem, "contactDetails")
        found.append(
            records.contact(
                " ".join(p for p in parts if p) or _text(elem, "name"),
                ", ".join(roles) or None,
                _text(details, "telephone"),
                _text(details, "email"),
            )
        )
    return records.unique_contacts(found)


def _outcomes(desc: ET.Element | None) -> tuple[str, ...]:
    measures = [
        text
        for m in _children(_child(desc, "primaryOutcomes"), "outcomeMeasure")
        if (text := _text(m, "variable") or _text(m, "method"))
    ]
    if measures:
        return tuple(measures)
    single = _text(desc, "primaryOutcome")
    return (single,) if single else ()


def _has_results(trial: ET.Element) -> bool:
    results = _child(trial, "results")
    if _text(results, "basicReport") or _text(results, "plainEnglishReport"):
        return True
    stage = _text(results, "publicationStage")
    if stage and _fold(stage) == "results":
        return True
    for output in _children(_child(trial, "outputs"), "output"):
        kind = _fold(output.get("outputType") or "")
        if "result" in kind:
            return True
    return False


def _added(text: str) -> str | None:
    """The "(added dd/mm/yyyy)" stamp ISRCTN puts after an output, as yyyy-mm-dd."""
    match = _ADDED.search(text)
    if match is None:
        return None
    day, month, year = (int(p) for p in match.groups())
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def _publication(line: str) -> Reference:
    """One line of `publicationDetails` (see the module notes for the form it is read in)."""
    urls = records.urls_in(line)
    url = urls[0] if urls else None
    pmid, doi = records.ids_from_url(url) if url else (None, None)
    match = _OUTPUT_LINE.match(line)
    kind = re.sub(r"\W+", "_", match.group(1).strip()).upper() if match else None
    return Reference(
        pmid=pmid,
        doi=doi,
        url=url,
        type=kind,
        citation=line,
        date=_added(line) if match else None,
    )


def _references(trial: ET.Element, record_id: str) -> tuple[Reference, ...]:
    results = _child(trial, "results")
    found = [
        _publication(records.squash_spaces(line))
        for line in (_text(results, "publicationDetails") or "").split("\n")
        if records.squash_spaces(line)
    ]
    for element, kind in _REPORTS:
        text = _text(results, element)
        if text:
            citation = records.squash_spaces(text)
            found.append(
                Reference(
                    type=kind,
                    url=TRIAL_URL.format(record_id),
                    citation=citation,
                    date=_added(citation),
                )
            )
    return records.sorted_references(found)


def _first_descendant(root: ET.Element, name: str) -> ET.Element | None:
    for elem in root.iter():
        if local_name(elem.tag) == name:
            return elem
    return None


def record_id_of(trial: ET.Element | None) -> str | None:
    """`ISRCTN` + 8 digits from `trial/isrctn`, or None when missing or malformed."""
    raw = _raw_text(_child(trial, "isrctn"))
    if raw is None:
        return None
    match = _DIGITS_RE.match(raw.strip())
    return f"ISRCTN{match.group(1)}" if match else None


# -- entry point -----------------------------------------------------------------------------


def normalise(raw: RawRecord, today: date | None = None) -> Trial:
    """One raw ISRCTN record -> Trial; RecordError when it has no usable id or title."""
    if not isinstance(raw, dict) or not isinstance(raw.get("xml"), str):
        raise RecordError("record is not a dict holding the fullTrial XML")
    try:
        full = parse_xml(raw["xml"])
    except ValueError as exc:
        raise RecordError(f"record XML refused: {exc}") from None
    if local_name(full.tag) != "fullTrial":
        raise RecordError(f"record root is <{local_name(full.tag)[:40]}>, not <fullTrial>")
    trial = _child(full, "trial")
    if trial is None:
        raise RecordError("record has no <trial> element")
    record_id = record_id_of(trial)
    if record_id is None:
        shown = (_raw_text(_child(trial, "isrctn")) or "").strip()[:40]
        raise RecordError(f"missing or malformed ISRCTN number: {shown!r}")
    desc = _child(trial, "trialDescription")
    title = _text(desc, "title") or _text(desc, "scientificTitle")
    if not title:
        raise RecordError(f"{record_id} has no title")
    when = today or datetime.now(UTC).date()

    design_elem = _child(trial, "trialDesign")
    participants = _child(trial, "participants")
    conditions, disease_classes = _conditions(trial)
    interventions, phases = _interventions(trial, record_id)
    recruitment_start = _iso_date(_text(participants, "recruitmentStart"))
    recruitment_end = _iso_date(_text(participants, "recruitmentEnd"))
    overall_start = _iso_date(_text(design_elem, "overallStartDate"))
    overall_end = _iso_date(_text(design_elem, "overallEndDate"))
    override_elem = _first_descendant(trial, "recruitmentStatusOverride")
    if override_elem is None:
        override_elem = _child(design_elem, "overallStatusOverride")
    status = derive_status(
        _text(override_elem),
        recruitment_start,
        recruitment_end,
        overall_end,
        when,
        record_id,
        start_override=_text(_first_descendant(trial, "recruitmentStartStatusOverride")),
    )
    sponsor, collaborators = _sponsors(full, record_id)
    isrctn_elem = _child(trial, "isrctn")
    title_acronym = _text(desc, "acronym")

    return Trial(
        registry=REGISTRY,
        registry_id=record_id,
        url=TRIAL_URL.format(record_id),
        secondary_ids=_secondary_ids(_child(trial, "externalRefs"), record_id),
        brief_title=title,
        official_title=_text(desc, "scientificTitle"),
        acronym=title_acronym,
        summary=_text(desc, "plainEnglishSummary"),
        detailed_description=_text(desc, "studyHypothesis"),
        conditions=conditions,
        keywords=disease_classes,
        interventions=interventions,
        phases=phases,
        enrollment=_enrollment(
            _int(_text(participants, "totalFinalEnrolment")),
            _int(_text(participants, "targetEnrolment")),
            status,
        ),
        design=_design(design_elem, record_id),
        eligibility=_eligibility(participants, record_id),
        primary_outcomes=_outcomes(desc),
        sponsor=sponsor,
        collaborators=collaborators,
        overall_status=status,
        dates=Dates(
            start=_key_date(overall_start or recruitment_start),
            completion=_key_date(overall_end),
            first_posted=_key_date(
                isrctn_elem.get("dateAssigned") if isrctn_elem is not None else None
            ),
            last_update_posted=_key_date(trial.get("lastUpdated")),
        ),
        has_results=_has_results(trial),
        contacts=_contacts(full),
        sites=_sites(participants, record_id),  # trialCentres carry no contacts
        references=_references(trial, record_id),
    )


def _purpose(purposes: Iterable[str]) -> str | None:
    """The primary purpose among ISRCTN's purposes or trial types ("Treatment", "Supportive
    care", "Quality of life") as an upper-case token, in `PURPOSE_ORDER`."""
    tokens = [t for v in purposes if (t := re.sub(r"\W+", "_", v.strip().upper()).strip("_"))]
    if not tokens:
        return None
    rank = {p: i for i, p in enumerate(PURPOSE_ORDER)}
    return min(tokens, key=lambda t: rank.get(t, len(rank)))
