"""One row of the WHO ICTRP export (CSV, or a `<Trial>` of the portal's XML) -> `Trial`.

The row is a mapping of column name -> cell text, as `jobs.registries.ictrp` reads it from the
export, whichever format (or as `tests.fakes.ictrp_server.built_record` builds it). Column
names are matched case- and punctuation-insensitively, with the spellings of the other WHO
exports accepted too ("web address", "Date enrollement", "Last Refreshed on", the SQL Server
"(No column name)", the XML's `Secondary_Sponsor`), so a header that differs only in spelling
still reads; missing columns give None/empty.

Quirks of the export handled here (shared/registries.md 2.4, and the public importers of the
full export: ecrin-github/mdrmine-bio-sources WhoConverter, worcjamessmith/COVID-trial-
characteristics):
* every cell but the first is wrapped in a second pair of double quotes (three quote marks on
  each side in the file, one after CSV parsing); some quotes inside text are backslash-escaped;
* text carries leftover HTML: `<br>`, `&lt;br&gt;`, `&#x0D;`, `&amp;`;
* multi-valued cells are `;`-separated (countries, conditions, interventions, secondary ids);
* dates come as dd/mm/yyyy (most registries), yyyy-mm-dd (ChiCTR, IRCT, KCT), dd-mm-yyyy (CTRI),
  yyyy/mm/dd (JPRN), "d Month yyyy" (Last_Refreshed_on), "Month d, yyyy" (CT.gov enrolment),
  yyyymmdd; a slashed date is read day-first unless only month-first is possible;
* statuses, phases, study types and sexes are free text in each source registry's own words;
  they are mapped onto the CT.gov vocabulary, and a value not understood is logged once at
  WARNING (status -> UNKNOWN, phase -> none, study type -> upper-cased as given).

The export has no summary/description column, no per-site list (only country names) and no
arm table: sites are one per country without a city (and without contacts; regions such as
"Europe" make none), and labelled interventions ("Intervention group: ...; control gorup A: ...")
become both an intervention (without its label) and an arm. The study's contacts come from the
public and scientific contact columns (`_contacts`).

References (`_references`): each http(s) address in `results_url_link` (one in every recorded
row; several, `;`- or space-separated, are read too) is a RESULTS_LINK reference, dated
`results_date_first_publication`, else `results_date_posted`; a PubMed or doi.org address also
gives the PMID or DOI. The export lists no other publications.
"""

from __future__ import annotations

import calendar
import logging
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any, Final
from urllib.parse import quote

from jobs.registries.base import RecordError
from jobs.registries.records import (
    WarnOnce,
    contact,
    ids_from_url,
    sorted_references,
    squash_spaces,
    tidy_lines,
    unescape_html,
    unique_contacts,
    urls_in,
)
from trialbot.countries import is_region, split_registry_places, to_iso2
from trialbot.model import (
    Arm,
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

REGISTRY: Final = "ictrp"
TRIAL_PAGE_URL: Final = "https://trialsearch.who.int/Trial2.aspx?TrialID={}"
"""The ICTRP portal page of a record, used when the row has no link to its source registry."""

COLUMNS: Final[tuple[str, ...]] = (
    "TrialID",
    "Last_Refreshed_on",
    "SecondaryIDs",
    "public_title",
    "Scientific_title",
    "url",
    "Public_Contact_Firstname",
    "Public_Contact_Lastname",
    "Public_Contact_Address",
    "Public_Contact_Email",
    "Public_Contact_Tel",
    "Public_Contact_Affiliation",
    "Scientific_Contact_Firstname",
    "Scientific_Contact_Lastname",
    "Scientific_Contact_Address",
    "Scientific_Contact_Email",
    "Scientific_Contact_Tel",
    "Scientific_Contact_Affiliation",
    "study_type",
    "study_design",
    "phase",
    "Date_registration",
    "Date_enrollement",
    "Target_size",
    "Recruitment_status",
    "Primary_sponsor",
    "Secondary_sponsors",
    "Source_Support",
    "Countries",
    "Conditions",
    "Interventions",
    "Agemin",
    "Agemax",
    "Gender",
    "Inclusion_Criteria",
    "Exclusion_Criteria",
    "Primary_Outcome",
    "Secondary_Outcomes",
    "Bridging_flag",
    "Bridged_type",
    "Childs",
    "type_enrolment",
    "Retrospective_flag",
    "results_actual_enrollment",
    "results_url_link",
    "results_summary",
    "results_date_posted",
    "results_date_first_publication",
    "results_baseline_char",
    "results_participant_flow",
    "results_adverse_events",
    "results_outcome_measures",
    "results_url_protocol",
    "results_IPD_plan",
    "results_IPD_description",
    "results_date_completed",
    "results_yes_no",
    "Ethics_Status",
    "Ethics_Approval_Date",
    "Ethics_Contact_Name",
    "Ethics_Contact_Address",
    "Ethics_Contact_Phone",
    "Ethics_Contact_Email",
)
"""The 63 columns of the full export, in file order. WHO's field list (ICTRP_export_datafields.txt,
2018-2020) names 62 of them; the file has one more, second, unnamed column holding the record's
last refresh date (named `last_updated` by the MDR importers, `Last_Refreshed_on` in the portal's
XML export). The file itself has no header row."""

_EXTRA_ALIASES: Final[dict[str, str]] = {
    "lastupdated": "Last_Refreshed_on",
    "lastrefreshed": "Last_Refreshed_on",
    "nocolumnname": "Last_Refreshed_on",
    "secondaryid": "SecondaryIDs",
    "secondaryids": "SecondaryIDs",
    "webaddress": "url",
    "dateenrollment": "Date_enrollement",
    "dateenrolment": "Date_enrollement",
    "condition": "Conditions",
    "intervention": "Interventions",
    "inclusionagemin": "Agemin",
    "inclusionagemax": "Agemax",
    "inclusiongender": "Gender",
    "secondaryoutcome": "Secondary_Outcomes",
    "primaryoutcomes": "Primary_Outcome",
    "bridgingflagtruefalse": "Bridging_flag",
    "targetsamplesize": "Target_size",
    # the portal's downloads name it in the singular ("Secondary Sponsor", <Secondary_Sponsor>)
    "secondarysponsor": "Secondary_sponsors",
    # not a column of the full export, but of the portal's CSV and XML downloads
    "acronym": "Acronym",
    # the portal's downloads (CSV with a header, "Export to XML") have one set of contact
    # columns instead of the full export's public and scientific ones
    "contactfirstname": "Contact_Firstname",
    "contactlastname": "Contact_Lastname",
    "contactaddress": "Contact_Address",
    "contactemail": "Contact_Email",
    "contacttel": "Contact_Tel",
    "contactaffiliation": "Contact_Affiliation",
}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")


def _fold_name(name: str) -> str:
    return _NON_ALNUM.sub("", name.casefold())


_CANONICAL: Final[dict[str, str]] = {_fold_name(c): c for c in COLUMNS} | _EXTRA_ALIASES


def canonical_column(name: str) -> str:
    """The export's own name for a header cell ("Public title" -> "public_title"), else as given."""
    cleaned = name.replace("\ufeff", "").strip().strip('"').strip()
    return _CANONICAL.get(_fold_name(cleaned), cleaned)


# --- text --------------------------------------------------------------------------------------

_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9a-f]{1,6}|[a-z][a-z0-9]{1,30});", re.I)
_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:p|div|li|ul|ol|tr|table|h[1-6])(?:\s[^<>]{0,200})?\s*/?>", re.I
)
_INLINE_TAG = re.compile(
    r"<\s*/?\s*(?:b|i|u|em|strong|sup|sub|span|font|td|th|tbody|thead)(?:\s[^<>]{0,200})?\s*/?>",
    re.I,
)
_CARRIAGE = re.compile(r"\r+\n?")


def clean_text(value: Any) -> str | None:
    """One cell as plain text: export quoting and HTML leftovers removed; empty -> None."""
    if value is None:
        return None
    text = str(value).replace("\x00", "").strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    text = text.replace('\\"', '"')
    text = unescape_html(text, rounds=2, needed=_ENTITY.search)
    text = _CARRIAGE.sub("\n", text)  # "&#x0D;" then CRLF is one line break, not two
    text = _BR.sub("\n", text)
    text = _BLOCK_TAG.sub("\n", text)
    text = _INLINE_TAG.sub("", text)
    text = tidy_lines(text, squash_spaces)
    if not text or text.upper() == "NULL":
        return None
    return text


def split_items(value: Any) -> list[str]:
    """A `;`- or line-separated cell as its items, cleaned, empty ones dropped, order kept."""
    text = clean_text(value)
    if not text:
        return []
    items = (" ".join(part.split()).strip(" ,.") for part in re.split(r"[;\n]+", text))
    return [i for i in items if i]


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = item.casefold()
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


_warn_once = WarnOnce(log, "ictrp")


# --- dates -------------------------------------------------------------------------------------

_MONTHS: Final[dict[str, int]] = (
    {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
    | {name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name}
    | {"sept": 9}
)

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T].*)?$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})(?:[ T].*)?$")
_D_MONTH_Y = re.compile(
    r"^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})(?:\s.*)?$", re.I
)
_MONTH_D_Y = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})(?:\s.*)?$", re.I)
_MONTH_Y = re.compile(r"^([a-z]+)\.?,?\s+(\d{4})$", re.I)
_YEAR = re.compile(r"^(\d{4})$")
_CJK = re.compile(r"^(\d{4})年(\d{1,2})月(?:(\d{1,2})日)?")


def _ymd(year: int, month: int, day: int | None) -> str | None:
    if not 1900 <= year <= 2200:
        return None
    try:
        if day is None:
            date(year, month, 1)
            return f"{year:04d}-{month:02d}"
        return date(year, month, day).isoformat()
    except ValueError:
        return None


def parse_date(value: Any) -> str | None:
    """An export date as `yyyy-mm-dd` (`yyyy-mm` / `yyyy` when that is all it says), else None."""
    text = clean_text(value)
    if not text:
        return None
    text = text.strip().rstrip(".")
    if m := _ISO.match(text):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := _COMPACT.match(text):
        return _ymd(int(m[1]), int(m[2]), int(m[3]))
    if m := _DMY.match(text):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        if first <= 12 < second:  # only month-first fits (e.g. an American 12/31/2020)
            return _ymd(year, first, second)
        return _ymd(year, second, first)
    if m := _D_MONTH_Y.match(text):
        month = _MONTHS.get(m[2].casefold())
        return _ymd(int(m[3]), month, int(m[1])) if month else None
    if m := _MONTH_D_Y.match(text):
        month = _MONTHS.get(m[1].casefold())
        return _ymd(int(m[3]), month, int(m[2])) if month else None
    if m := _MONTH_Y.match(text):
        month = _MONTHS.get(m[1].casefold())
        return _ymd(int(m[2]), month, None) if month else None
    if m := _ISO_MONTH.match(text):
        return _ymd(int(m[1]), int(m[2]), None)
    if m := _YEAR.match(text):
        return text if 1900 <= int(text) <= 2200 else None
    if m := _CJK.match(text):
        return _ymd(int(m[1]), int(m[2]), int(m[3]) if m[3] else None)
    return None


def refreshed_on(value: Any) -> date | None:
    """Last_Refreshed_on as a date (full dates only), for the export's date filter."""
    parsed = parse_date(value)
    if parsed is None or len(parsed) != 10:
        return None
    return date.fromisoformat(parsed)


def _key_date(
    value: Any, trial_id: str, field: str, estimated: bool | None = None
) -> KeyDate | None:
    text = clean_text(value)
    if not text:
        return None
    parsed = parse_date(text)
    if parsed is None:
        log.debug("ictrp: unparseable %s date %r in %s; dropped", field, text[:40], trial_id)
        return None
    return KeyDate(date=parsed, estimated=estimated)


# --- vocabularies ------------------------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(re.sub(r"[^a-z]+", " ", text.casefold()).split())


_STATUS: Final[dict[str, str]] = {
    "recruiting": "RECRUITING",
    "open to recruitment": "RECRUITING",
    "recruiting ongoing": "RECRUITING",
    "not yet recruiting": "NOT_YET_RECRUITING",
    "pending": "NOT_YET_RECRUITING",
    "not recruiting yet": "NOT_YET_RECRUITING",
    "preinitiation": "NOT_YET_RECRUITING",
    "before recruiting": "NOT_YET_RECRUITING",
    "enrolling by invitation": "ENROLLING_BY_INVITATION",
    "not recruiting": "ACTIVE_NOT_RECRUITING",
    "active not recruiting": "ACTIVE_NOT_RECRUITING",
    "recruitment completed": "ACTIVE_NOT_RECRUITING",
    "recruitment complete": "ACTIVE_NOT_RECRUITING",
    "closed to recruitment of participants": "ACTIVE_NOT_RECRUITING",
    "closed follow up continuing": "ACTIVE_NOT_RECRUITING",
    "no longer recruiting": "ACTIVE_NOT_RECRUITING",
    "ongoing": "ACTIVE_NOT_RECRUITING",
    "active": "ACTIVE_NOT_RECRUITING",
    "completed": "COMPLETED",
    "complete": "COMPLETED",
    "closed follow up complete": "COMPLETED",
    "main results already published": "COMPLETED",
    "suspended": "SUSPENDED",
    "temporarily halted": "SUSPENDED",
    "temporarily closed": "SUSPENDED",
    "temporary halt": "SUSPENDED",
    "terminated": "TERMINATED",
    "stopped": "TERMINATED",
    "stopped early": "TERMINATED",
    "prematurely ended": "TERMINATED",
    "withdrawn": "WITHDRAWN",
    "cancelled": "WITHDRAWN",
    "canceled": "WITHDRAWN",
    "withdrawn prior to recruitment": "WITHDRAWN",
    "unknown": "UNKNOWN",
    "unknown status": "UNKNOWN",
    "authorised": "UNKNOWN",
    "authorized": "UNKNOWN",
    "authorised recruitment may be ongoing or finished": "UNKNOWN",
    "not available": "UNKNOWN",
}
"""ICTRP recruitment statuses (normalised by `_key`) -> CT.gov overall status.
"Not recruiting" is ICTRP's catch-all for "closed" and maps to ACTIVE_NOT_RECRUITING; EU CTR's
"Authorised - recruitment may be ongoing or finished" says nothing about recruitment: UNKNOWN.
A bare "Ongoing" (or "Active") says the study is running, not that it takes people: it is
ACTIVE_NOT_RECRUITING, never announced as open to join, as the CTIS adapter reads the same word
(docs/decisions.md, "Real registry answers")."""


def map_status(value: Any, trial_id: str = "?") -> str | None:
    text = clean_text(value)
    if not text:
        return None
    key = _key(text)
    if key in _STATUS:
        return _STATUS[key]
    _warn_once("recruitment status", text, trial_id)
    return "UNKNOWN"


_PHASE_NUM = r"(?:iv|iii|ii|i|[0-4])[ab]?"
_PHASE_CHAIN = re.compile(
    rf"phase\s*[-:]?\s*(?P<chain>{_PHASE_NUM}(?:\s*(?:/|-|\+|&|,|and|or|to)\s*(?:phase\s*)?"
    rf"{_PHASE_NUM})*)(?![a-z0-9])",
    re.I,
)
_BARE_CHAIN = re.compile(
    rf"^\s*(?P<chain>{_PHASE_NUM}(?:\s*(?:/|-|\+|&|,|and)\s*{_PHASE_NUM})*)\s*$", re.I
)
_PHASE_TOKEN = re.compile(r"(iv|iii|ii|i|[0-4])[ab]?", re.I)
_VERBOSE_PHASE = re.compile(r"\(phase\s*(iv|iii|ii|i)\)\s*:\s*(yes|no)", re.I)
_BARE_ZERO = re.compile(r"^\s*0\s*$")
"""A bare "0" is ChiCTR's phase field for studies that have no phase: in the recorded WHO download
it is on 208 of 581 ChiCTR rows, observational, diagnostic and basic-science studies among them,
and curators of this data read it as not applicable. So it is NA, not an exploratory phase-0 drug
study; a spelled-out "Phase 0" still is EARLY_PHASE1 (docs/decisions.md, "Real registry
answers")."""
_PHASE_VALUES: Final[dict[str, str]] = {
    "0": "EARLY_PHASE1",
    "i": "PHASE1",
    "1": "PHASE1",
    "ii": "PHASE2",
    "2": "PHASE2",
    "iii": "PHASE3",
    "3": "PHASE3",
    "iv": "PHASE4",
    "4": "PHASE4",
}
_PHASE_ORDER: Final = ("EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA")
_NOT_APPLICABLE = re.compile(r"not\s+applicable|\bn/?a\b|^none$", re.I)
_NOT_GIVEN = re.compile(
    r"^(?:not\s+(?:specified|selected|stated|given|provided)|unknown|-+)$", re.I
)


def map_phases(value: Any, trial_id: str = "?") -> tuple[str, ...]:
    """Phase wording -> CT.gov phases, in order; unknown wording -> () (logged once).

    "Phase 1/Phase 2", "Phase I/II", "2-3", "Early Phase 1", "Phase 0", "Not Applicable", and EU
    CTR's "(Phase I): yes" lines are understood; a bare "0" (ChiCTR) is NA.
    """
    text = clean_text(value)
    if not text:
        return ()
    if _BARE_ZERO.match(text):
        return ("NA",)
    found: set[str] = set()
    verbose = _VERBOSE_PHASE.findall(text)
    if verbose:
        found = {_PHASE_VALUES[n.lower()] for n, yes in verbose if yes.lower() == "yes"}
    elif re.search(r"early\s+phase\s*(?:1|i)\b", text, re.I):
        found = {"EARLY_PHASE1"}
    else:
        chains = [m["chain"] for m in _PHASE_CHAIN.finditer(text)]
        if not chains and (bare := _BARE_CHAIN.match(text)):
            chains = [bare["chain"]]
        for chain in chains:
            found |= {_PHASE_VALUES[t.lower()] for t in _PHASE_TOKEN.findall(chain)}
        if not found:
            if re.search(r"post[-\s]?marketing|post[-\s]?market", text, re.I):
                found = {"PHASE4"}
            elif _NOT_APPLICABLE.search(text):
                found = {"NA"}
            elif _NOT_GIVEN.match(text):
                return ()
            else:
                _warn_once("phase", text, trial_id)
                return ()
    return tuple(p for p in _PHASE_ORDER if p in found)


def map_study_type(value: Any, trial_id: str = "?") -> str | None:
    text = clean_text(value)
    if not text:
        return None
    lower = text.casefold()
    if "expanded access" in lower:
        return "EXPANDED_ACCESS"
    if lower.startswith(("intervention", "ba/be", "treatment", "prevention", "therapeutic")):
        return "INTERVENTIONAL"
    if lower.startswith(("observation", "epidemiolog", "cohort", "case control", "case-control")):
        return "OBSERVATIONAL"
    _warn_once("study type", text, trial_id)
    return "_".join(_key(text).upper().split()) or None


def map_sex(value: Any, trial_id: str = "?") -> str | None:
    """Gender ("Both", "Male and Female", "F", EU CTR's "Female: yes / Male: no") -> ALL/...."""
    text = clean_text(value)
    if not text:
        return None
    lower = text.casefold()
    structured = re.findall(r"\b(female|male)\s*:\s*(yes|no)\b", lower)
    if structured:
        flags = {sex for sex, yes in structured if yes == "yes"}
        female, male = "female" in flags, "male" in flags
    elif re.search(r"\b(?:both|all|any|either)\b", lower):
        return "ALL"
    else:
        female = re.search(r"\b(?:female|females|women|woman|f)\b", lower) is not None
        male = re.search(r"\b(?:male|males|men|man|m)\b", lower) is not None
    if female and male:
        return "ALL"
    if female:
        return "FEMALE"
    if male:
        return "MALE"
    if not re.fullmatch(r"[-\s/]*|not\s+\w+|unknown", lower):
        _warn_once("gender", text, trial_id)
    return None


_AGE_UNIT_WORDS: Final[dict[str, str]] = {
    "year": "Years",
    "years": "Years",
    "yr": "Years",
    "yrs": "Years",
    "y": "Years",
    "age": "Years",  # jRCT ">= 20age old"
    "歳": "Years",
    "岁": "Years",
    "周岁": "Years",
    "month": "Months",
    "months": "Months",
    "mo": "Months",
    "mos": "Months",
    "m": "Months",
    "个月": "Months",
    "か月": "Months",
    "ヶ月": "Months",
    "カ月": "Months",
    "week": "Weeks",
    "weeks": "Weeks",
    "wk": "Weeks",
    "wks": "Weeks",
    "w": "Weeks",
    "週": "Weeks",
    "周": "Weeks",
    "day": "Days",
    "days": "Days",
    "d": "Days",
    "日": "Days",
    "天": "Days",
    "hour": "Hours",
    "hours": "Hours",
    "hr": "Hours",
    "hrs": "Hours",
    "h": "Hours",
}
"""Age units as the source registries spell them -> the model's unit ("18 Years", as CT.gov)."""
_UNIT_ALTERNATIVES = "|".join(re.escape(u) for u in sorted(_AGE_UNIT_WORDS, key=len, reverse=True))
_AGE = re.compile(
    r"^(?:>=|=>|<=|=<|>|<|≥|≤|at\s+least|up\s+to|over|above|under|below)?\s*"
    r"(\d{1,3}(?:\.\d+)?)\s*"
    # the unit, bare or in brackets ("20 Years", "19(Year)", "18.00 Year(s)", "20years-old")
    rf"(?:[(\[]\s*)?(?P<unit>{_UNIT_ALTERNATIVES})?(?:\s*\(s\))?(?:\s*[)\]])?"
    r"(?:[\s-]*old|\s+of\s+age)?"
    r"\s*(?:and\s+(?:over|older|above|under|younger|below)|or\s+(?:more|older|less|younger)"
    r"|over|above|under|below|以上|以下)?\s*\.?$",
    re.I,
)
_NO_AGE_LIMIT = re.compile(
    r"^(?:no(?:\s+(?:age|max(?:imum)?|min(?:imum)?))*(?:\s+age)?\s+limit(?:ation)?s?"
    r"|no\s+(?:max(?:imum)?|min(?:imum)?)(?:\s+age)?|none|nil|n/?a|not\s+\w+(?:\s+\w+)?"
    r"|unlimited|-+|/|0|不限|制限なし)$",
    re.I,
)
"""Cells that say there is no bound ("No limit", "N/A", "no maximum age", "-", "/", "0")."""


def map_age(value: Any, trial_id: str = "?") -> str | None:
    """An age bound in the model's form: "18 Years", "18Y", ">= 20age old", "20years-old",
    "19(Year)" -> "<n> Years" (or Months, Weeks, Days, Hours); "No limit" -> None.

    A cell that reads as neither ("??", "ND", "65+": a maximum of 65 or no maximum?) is None,
    logged once: a bound is never guessed, nor kept as raw text where a bound is expected.
    """
    text = clean_text(value)
    if not text or _NO_AGE_LIMIT.match(text):
        return None
    m = _AGE.match(text)
    if m is None:
        _warn_once("age", text, trial_id)
        return None
    number = float(m[1])
    shown = str(int(number)) if number.is_integer() else m[1]
    unit = _AGE_UNIT_WORDS.get((m["unit"] or "years").casefold(), "Years")
    return f"{shown} {unit}"


_ZERO_CAN_BE_ACTUAL: Final = frozenset({"WITHDRAWN", "TERMINATED"})
"""Statuses under which "0 people took part" can be the final count. Elsewhere WHO's
results_actual_enrollment "0" is an empty field (seen on trials not yet recruiting): not known
yet."""


def _enrollment(row: Mapping[str, Any], status: str | None) -> Enrollment:
    """The actual count once the record gives one, else the target size as a plan.

    A zero actual count on a trial that did not stop early means "not known yet", not that
    nobody joined: the target size is the truth we have. A zero target says nothing either.
    """
    actual = clean_text(row.get("results_actual_enrollment"))
    if (
        actual
        and actual.isdigit()
        and int(actual) < 10**8
        and (int(actual) > 0 or status in _ZERO_CAN_BE_ACTUAL)
    ):
        return Enrollment(count=int(actual), estimated=False)
    target = clean_text(row.get("Target_size"))
    if not target:
        return Enrollment()
    count: int | None = None
    if target.isdigit():
        count = int(target)
    elif groups := re.findall(r":\s*(\d+)\s*(?:;|$)", target):  # ChiCTR "Case:50;Control:50;"
        count = sum(int(g) for g in groups)
    elif m := re.match(r"^\s*(\d+)\b", target):
        count = int(m[1])
    if count is None or count == 0 or count >= 10**8:
        return Enrollment()
    return Enrollment(count=count, estimated=True)


# --- interventions -----------------------------------------------------------------------------

_TYPE_PREFIX = re.compile(
    r"^\s*(drug|biologicals?|biologic|genetic|gene\s+therapy|procedure(?:/surgery)?|surgery|device"
    r"|behaviou?ral|radiation|dietary\s+supplement|combination\s+product|diagnostic\s+test"
    r"|other)\s*:\s*(\S.*)$",
    re.I | re.S,
)
_TYPES: Final[dict[str, str]] = {
    "drug": "DRUG",
    "biological": "BIOLOGICAL",
    "biologicals": "BIOLOGICAL",
    "biologic": "BIOLOGICAL",
    "genetic": "GENETIC",
    "gene therapy": "GENETIC",
    "procedure": "PROCEDURE",
    "procedure/surgery": "PROCEDURE",
    "surgery": "PROCEDURE",
    "device": "DEVICE",
    "behavioral": "BEHAVIORAL",
    "behavioural": "BEHAVIORAL",
}
_LABELLED = re.compile(r"^\s*(?P<label>[^:：\n]{1,80}?)\s*[:：]\s*(?P<rest>.*)$", re.S)
"""An item "label: text" (ChiCTR writes every intervention as "group name:text;")."""
_GROUP_WORD = re.compile(
    # "group" and its misspellings in real records (gorup, grup, goup, gloup, groupe, grupo)
    r"\bg[rolu]{2,4}p(?:e|o)?s?\b|\barms?\b|\bcohorts?\b|\bsubgroups?\b|组|組|群|队列|アーム",
    re.I,
)
_LABEL_WORDS = re.compile(
    r"^(?:the\s+)?(?:intervention|experimental|experiment|treatment|treament|therapy|control"
    r"|comparator|placebo|sham|study|test|active|reference|case\s+series|case|index\s+test"
    r"|gold\s+standard|observation|exposure|single\s+arm)"
    r"(?:\s*(?:group|arm|cohort|agent|intervention|condition))?(?:\s*[a-z0-9]{1,3})?$",
    re.I,
)
"""Labels without a group word: "Control:", "Intervention 1:", "Case series:", "Index test:"."""
_POPULATION_LABEL = re.compile(
    r"\b(?:patients?|population|cases|participants|subjects|volunteers|controls)\s*"
    r"(?:\([^()]*\))?$",
    re.I,
)
"""Labels naming who is in the group ("COVID-19 patients:", "General population:")."""
_SHORT_LABEL = re.compile(r"^[a-z]?\d{0,2}[a-z]?$", re.I)
"""Bare arm codes ("A:", "B1:", "2:")."""
_NOT_A_LABEL = re.compile(r"(?<!\bvs)(?<!\bno)\.\s|[;。]")
"""A sentence break: the text before the colon is prose, not a label ("vs." and "No." are not)."""
_MAX_LABEL_WORDS: Final = 8
_NUMBERED_ITEM = re.compile(r"(?<=[.;])\s+(?=(?:intervention|group|arm)\s*\d{1,2}\s*[:：])", re.I)
"""IRCT writes all its arms in one item ("Intervention 1: ... . Intervention 2: ..."): split."""
_LIST_MARKER = re.compile(r"^\s*\d{1,2}[.)]\s+")
"""A list number before an item ("1. Chloroquine arm: ..."): not part of any name."""
_NO_INTERVENTION = re.compile(
    r"^(?:n/?a|nil|none|no|null|not\s+applicable|no\s+intervention|-+|/)\.?$", re.I
)
"""The text after a label when the group gets nothing ("Case series:Nil", "control group:No")."""


def _arm_label(item: str) -> tuple[str, str] | None:
    """(label, rest) when the item starts with an arm or group label, else None.

    Told by the label's words, not by a list of exact labels, so the spellings of real records
    ("control gorup A:", "Hydroxychloroquine sulfate gloup:", "Arm A:", "Group 1:", "对照组：",
    "control group (mild patients):") all come off, while a type prefix ("Drug:") or an EU CTR
    line ("Product Name:") is not a group.
    """
    m = _LABELLED.match(item)
    if m is None:
        return None
    label = " ".join(m["label"].split())
    if _NOT_A_LABEL.search(label) or len(label.split()) > _MAX_LABEL_WORDS:
        return None  # a sentence ("Treatment group which received X, tds. Intervention 2")
    if (
        _GROUP_WORD.search(label)
        or _LABEL_WORDS.match(label)
        or _POPULATION_LABEL.search(label)
        or (_SHORT_LABEL.match(label) and not m["rest"][:1].isdigit())  # not "1:1 ratio"
    ):
        return label, m["rest"].strip()
    return None


def _interventions(value: Any) -> tuple[tuple[Intervention, ...], tuple[Arm, ...]]:
    interventions: dict[tuple[str | None, str], Intervention] = {}
    arms: dict[str, tuple[str, list[str]]] = {}
    items = (part for item in split_items(value) for part in _NUMBERED_ITEM.split(item))
    for item in items:
        item = _LIST_MARKER.sub("", item).strip()
        label: str | None = None
        kind: str | None = None
        rest = item
        for _ in range(3):  # "Intervention 1: Intervention group: Drug: ..." (IRCT)
            if kind is None and (t := _TYPE_PREFIX.match(rest)):
                kind = _TYPES.get(" ".join(t[1].casefold().split()), "OTHER")
                rest = t[2].strip()
            if found := _arm_label(rest):
                label, rest = label or found[0], found[1]
        if _NO_INTERVENTION.match(rest):
            rest = ""
        if label is not None:
            _, names = arms.setdefault(label.casefold(), (label, []))
            if rest and rest not in names:
                names.append(rest)
        if rest:
            interventions.setdefault((kind, rest.casefold()), Intervention(type=kind, name=rest))
    arm_list = tuple(
        Arm(label=shown, description="; ".join(names) or None, intervention_names=tuple(names))
        for shown, names in arms.values()
    )
    return tuple(interventions.values()), arm_list


# --- design ------------------------------------------------------------------------------------


def _design(row: Mapping[str, Any], trial_id: str) -> Design:
    text = (clean_text(row.get("study_design")) or "").casefold()
    allocation = None
    if re.search(r"non[-\s]?randomi[sz]", text):
        allocation = "NON_RANDOMIZED"
    elif re.search(r"randomi[sz]", text):
        allocation = "RANDOMIZED"
    elif re.search(r"single[-\s](?:arm|group)", text):
        allocation = "NA"
    model = None
    for pattern, name in (
        (r"single[-\s](?:arm|group)", "SINGLE_GROUP"),
        (r"parallel", "PARALLEL"),
        (r"cross[-\s]?over", "CROSSOVER"),
        (r"factorial", "FACTORIAL"),
        (r"sequential", "SEQUENTIAL"),
    ):
        if re.search(pattern, text):
            model = name
            break
    masking = None
    m = re.search(r"(quadruple|triple|double|single)[-\s]*(?:blind|mask)", text) or re.search(
        r"masking\s*:\s*(quadruple|triple|double|single|none)", text
    )
    if m:
        masking = m[1].upper()
    elif re.search(r"open[-\s]label|\bopen\s*\(masking not used\)|no masking|unblinded", text):
        masking = "NONE"
    purpose = None
    if m := re.search(
        r"(?:primary\s+)?purpose(?:\s+of\s+the\s+study)?\s*:\s*([a-z][a-z ]{2,40})", text
    ):
        purpose = "_".join(m[1].split()).upper()
    return Design(
        study_type=map_study_type(row.get("study_type"), trial_id),
        allocation=allocation,
        intervention_model=model,
        primary_purpose=purpose,
        masking=masking,
    )


def _criteria(row: Mapping[str, Any]) -> str | None:
    inclusion = clean_text(row.get("Inclusion_Criteria"))
    exclusion = clean_text(row.get("Exclusion_Criteria"))
    if exclusion:
        exclusion = re.sub(r"^\s*exclusion\s+criteria\s*[:：.]?\s*", "", exclusion, flags=re.I)
    parts = [inclusion] if inclusion else []
    if exclusion:
        parts.append(f"Exclusion Criteria:\n{exclusion}")
    return "\n\n".join(parts) or None


# --- ids, sites, sponsors ----------------------------------------------------------------------

_LOOKS_LIKE_ID = re.compile(r"[A-Za-z].*\d|\d.*[A-Za-z]|\d{4,}")


def _secondary_ids(row: Mapping[str, Any], trial_id: str) -> tuple[SecondaryId, ...]:
    found: dict[str, SecondaryId] = {}
    for raw in split_items(row.get("SecondaryIDs")):
        if raw.casefold() != trial_id.casefold():
            found.setdefault(raw.casefold(), SecondaryId(id=raw, type=None))
    for column in ("Bridging_flag", "Childs"):
        for raw in split_items(row.get(column)):
            if raw.casefold() in ("true", "false", "yes", "no") or not _LOOKS_LIKE_ID.search(raw):
                continue
            if raw.casefold() != trial_id.casefold():
                found.setdefault(
                    raw.casefold(),
                    SecondaryId(id=raw, type=None, domain="WHO ICTRP bridged record"),
                )
    return tuple(sorted(found.values(), key=lambda s: (s.id.casefold(), s.id)))


def _sites(row: Mapping[str, Any], trial_id: str) -> tuple[Site, ...]:
    """One site per country the record names. Lists joined by ";" or "," are split; a region
    ("Europe", "Asia except Japan": jRCT/UMIN's choices) is no country and makes no site, so
    no trial is ever placed in a country the record does not name (the model has no place
    for regions; they are logged at debug level)."""
    sites: dict[str, Site] = {}
    for name in split_registry_places(clean_text(row.get("Countries"))):
        if is_region(name):
            log.debug("ictrp: region %r in the countries of %s; not a country", name, trial_id)
            continue
        code = to_iso2(name)
        if code is None:
            _warn_once("country", name, trial_id)
        sites.setdefault(code or name.casefold(), Site(country=code, country_name=name))
    return tuple(sorted(sites.values(), key=lambda s: (s.country or "~", s.country_name or "")))


_CONTACT_COLUMNS: Final = (
    ("Public_Contact_", "Public"),
    ("Scientific_Contact_", "Scientific"),
    ("Contact_", None),
)


def _contacts(row: Mapping[str, Any]) -> tuple[Contact, ...]:
    """The public, then the scientific contact (or the downloads' single contact columns).

    A cell may list several people, `;`-separated and aligned across the name, email and tel
    cells (CT.gov rows: "A, MD;B, MD" with "a@x;b@y"); they are split by position. When the
    cells do not split into the same number of parts ("Huang Luqi; Li Zhiqiang" with one
    email) nobody can tell whose phone is whose, so the cells stay whole, as one contact.
    Affiliation and address are places, not ways to reach someone, and are not kept; neither
    are the ethics committee's contact columns.
    """
    found: list[Contact | None] = []
    for prefix, role in _CONTACT_COLUMNS:
        cells = [
            clean_text(row.get(prefix + name)) or ""
            for name in ("Firstname", "Lastname", "Email", "Tel")
        ]
        parts = [cell.split(";") if cell else [] for cell in cells]
        if len({len(p) for p in parts if p}) > 1:
            parts = [[cell] if cell else [] for cell in cells]
        for i in range(max(map(len, parts))):
            first, last, email, tel = (p[i] if i < len(p) else "" for p in parts)
            name = " ".join(n for n in (squash_spaces(first), squash_spaces(last)) if n)
            found.append(contact(name, role, tel, email))
    return unique_contacts(found)


def _sponsors(row: Mapping[str, Any]) -> tuple[Sponsor | None, tuple[Sponsor, ...]]:
    primary = split_items(row.get("Primary_sponsor"))
    lead = Sponsor(name=primary[0]) if primary else None
    others = _unique([*primary[1:], *split_items(row.get("Secondary_sponsors"))])
    if lead is not None:
        others = [o for o in others if o.casefold() != lead.name.casefold()]
    return lead, tuple(Sponsor(name=o) for o in sorted(others, key=str.casefold))


def _acronym(row: Mapping[str, Any]) -> str | None:
    """The study's short name as the record gives it; placeholders ("N/A", "-", "Nil") -> None."""
    text = clean_text(row.get("Acronym"))
    if not text or not any(ch.isalnum() for ch in text) or _NOT_GIVEN.match(text):
        return None
    if text.casefold().rstrip(".") in ("n/a", "na", "nil", "none", "no", "null"):
        return None
    return " ".join(text.split())


def _url(row: Mapping[str, Any], trial_id: str) -> str:
    given = clean_text(row.get("url"))
    if given and re.match(r"^https?://\S+$", given, re.I):
        return given
    return TRIAL_PAGE_URL.format(quote(trial_id, safe=""))


def _references(row: Mapping[str, Any]) -> tuple[Reference, ...]:
    """The results links the row gives (`results_url_link`), as RESULTS_LINK references."""
    text = clean_text(row.get("results_url_link"))
    if not text:
        return ()
    when = parse_date(row.get("results_date_first_publication")) or parse_date(
        row.get("results_date_posted")
    )
    found = []
    for url in urls_in(text):
        pmid, doi = ids_from_url(url)
        found.append(Reference(pmid=pmid, doi=doi, url=url, type="RESULTS_LINK", date=when))
    return sorted_references(found)


def canonical_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row with its keys renamed to the export's own column names (see `canonical_column`)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        name = canonical_column(str(key))
        if name not in out or clean_text(out[name]) is None:
            out[name] = value
    return out


def trial_id_of(row: Mapping[str, Any]) -> str | None:
    """The row's TrialID as given (stripped), or None."""
    text = clean_text(canonical_row(row).get("TrialID"))
    return " ".join(text.split()) if text else None


# --- the normaliser ----------------------------------------------------------------------------


def normalise(raw: Mapping[str, Any]) -> Trial:
    """One export row -> Trial. Raises RecordError when the row has no TrialID or no title."""
    if not isinstance(raw, Mapping):
        raise RecordError("record is not a row of the ICTRP export")
    row = canonical_row(raw)
    trial_id = trial_id_of(row)
    if not trial_id:
        raise RecordError("row has no TrialID")
    public_title = clean_text(row.get("public_title"))
    scientific_title = clean_text(row.get("Scientific_title"))
    title = public_title or scientific_title
    if not title:
        raise RecordError(f"{trial_id} has no title")

    interventions, arms = _interventions(row.get("Interventions"))
    status = map_status(row.get("Recruitment_status"), trial_id)
    sponsor, collaborators = _sponsors(row)
    enrolment_type = (clean_text(row.get("type_enrolment")) or "").casefold()
    start_estimated = (
        True
        if enrolment_type.startswith(("anticipated", "estimated", "planned"))
        else False
        if enrolment_type.startswith("actual")
        else None
    )
    results = (clean_text(row.get("results_yes_no")) or "").casefold()
    results_posted = _key_date(row.get("results_date_posted"), trial_id, "results posted")
    completed = _key_date(row.get("results_date_completed"), trial_id, "completion", False)

    return Trial(
        registry=REGISTRY,
        registry_id=trial_id,
        url=_url(row, trial_id),
        secondary_ids=_secondary_ids(row, trial_id),
        brief_title=title,
        official_title=scientific_title,
        acronym=_acronym(row),
        conditions=tuple(sorted(_unique(split_items(row.get("Conditions"))), key=str.casefold)),
        interventions=interventions,
        arms=arms,
        phases=map_phases(row.get("phase"), trial_id),
        enrollment=_enrollment(row, status),
        design=_design(row, trial_id),
        eligibility=Eligibility(
            criteria=_criteria(row),
            sex=map_sex(row.get("Gender"), trial_id),
            minimum_age=map_age(row.get("Agemin"), trial_id),
            maximum_age=map_age(row.get("Agemax"), trial_id),
        ),
        primary_outcomes=tuple(_unique(split_items(row.get("Primary_Outcome")))),
        sponsor=sponsor,
        collaborators=collaborators,
        overall_status=status,
        dates=Dates(
            start=_key_date(row.get("Date_enrollement"), trial_id, "enrolment", start_estimated),
            completion=completed,
            first_posted=_key_date(row.get("Date_registration"), trial_id, "registration"),
            last_update_posted=_key_date(row.get("Last_Refreshed_on"), trial_id, "last refresh"),
            results_first_posted=results_posted,
        ),
        has_results=results in ("yes", "true", "1", "y") or results_posted is not None,
        contacts=_contacts(row),
        sites=_sites(row, trial_id),  # one per country: the export lists no sites to contact
        references=_references(row),
    )
