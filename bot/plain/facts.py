"""Facts read from a trial record that both the wording and the caveat rules need.

Everything here is conservative: a fact is returned only when the record states it in a way
a simple pattern can read without guessing (a route named in the intervention text, one
time window in the inclusion criteria, a placebo arm). When the record is unclear the answer
is "unknown"/None and the alert says less rather than something wrong.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Literal

from jobs.classify import inclusion_criteria
from trialbot.classification import Classification
from trialbot.model import Trial

Route = Literal[
    "iv", "ia", "intracerebral", "intrathecal", "intranasal", "subcutaneous", "intramuscular"
]
Comparison = Literal["placebo", "sham", "usual_care", "active", "none", "unknown"]
Origin = Literal["donor", "own", "unknown"]

ROUTE_ORDER: tuple[Route, ...] = (
    "intracerebral",
    "ia",
    "intrathecal",
    "intranasal",
    "iv",
    "intramuscular",
    "subcutaneous",
)
"""Most invasive first: the order route texts are listed in."""
CELL_ROUTES: frozenset[Route] = frozenset(ROUTE_ORDER[:5])
"""The routes shared/domain.md 3.3 gives risk texts for (rule R10); the others are only
worded in "how it is given"."""

# --- text helpers --------------------------------------------------------------------------

_FOLDS = (
    (re.compile(r"(?<=h)a(?=em)", re.I), ""),  # haem-, ischaem- -> hem-, ischem-
    (re.compile("[\u2010-\u2015\u2212]"), "-"),
    (re.compile("[\u2018\u2019\u00b4]"), "'"),
)
_SEGMENTS = re.compile(r"\n+|(?<=[.;!?])\s+|(?<=[。；！？])")


def fold(text: str) -> str:
    """British spellings and typographic dashes/quotes folded, for matching only."""
    for pattern, repl in _FOLDS:
        text = pattern.sub(repl, text)
    return text


def segments(text: str) -> list[str]:
    """Sentences or bullet lines: the unit a negation or a context word must share."""
    return [s for s in _SEGMENTS.split(fold(text)) if s.strip()]


def clean(text: str) -> str:
    """Registry text made safe to show: no control characters or lone surrogates, one line."""
    kept = (
        " " if ch in "\t\r\n\v\f" else ch
        for ch in text
        if unicodedata.category(ch) not in ("Cc", "Cs", "Co") or ch in "\t\r\n\v\f"
    )
    return " ".join("".join(kept).split())


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word where possible (before any escaping)."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


_COMPARATOR_ARMS = frozenset({"PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION"})
_PLACEBO_NAME = re.compile(
    r"^\s*(?:placebo|sham|vehicle|(?:normal\s+)?saline|control|standard\s+(?:of\s+)?care"
    r"|usual\s+care|best\s+medical)\b",
    re.I,
)


def is_placebo(name: str) -> bool:
    """A placebo, sham or usual-care item rather than the treatment under test."""
    return _PLACEBO_NAME.match(name) is not None


def treatment_texts(trial: Trial) -> list[str]:
    """Names and descriptions of what is given, without placebo/sham/control items."""
    out: list[str] = []
    for iv in trial.interventions:
        if _PLACEBO_NAME.match(iv.name):
            continue
        out += [iv.name, *iv.other_names, iv.description or ""]
    for arm in trial.arms:
        if arm.type in _COMPARATOR_ARMS or _PLACEBO_NAME.match(arm.label):
            continue
        out += [arm.label, arm.description or ""]
    return [t for t in out if t]


def title_texts(trial: Trial) -> list[str]:
    return [t for t in (trial.brief_title, trial.official_title) if t]


def prose_texts(trial: Trial) -> list[str]:
    return [t for t in (trial.summary, trial.detailed_description) if t]


def exclusion_criteria(trial: Trial) -> str:
    """The eligibility text after the inclusion part (empty when there is no split)."""
    text = trial.eligibility.criteria or ""
    return text[len(inclusion_criteria(trial)) :]


# --- cells ---------------------------------------------------------------------------------

_CELL_REASON = re.compile(r"^cell:(\w+) |^mesh-intervention:\S+ '.*' \((\w+)\)$")
CELL_PRIORITY: tuple[str, ...] = (
    "esc_derived",
    "ipsc_derived",
    "sb623",
    "mapc",
    "muse",
    "nsc",
    "uc_msc",
    "cord_blood",
    "pl_msc",
    "bm_msc",
    "ad_msc",
    "other_msc",
    "bmmnc",
    "cd34",
    "msc",
    "svf",
    "epc",
    "other_cells",
    "ev",
    "gcsf",
    "stem_cell",
    "hsct",
)
"""Most specific first: the key that names the product best."""


def cell_keys(verdict: Classification) -> frozenset[str]:
    """The cell-type keys the classifier found (from its reasons)."""
    keys = set()
    for reason in verdict.reasons:
        m = _CELL_REASON.match(reason)
        if m:
            keys.add(m.group(1) or m.group(2))
    return frozenset(keys)


def main_cell(verdict: Classification) -> str | None:
    """The one cell key that best describes what is given, or None (no cells named)."""
    keys = cell_keys(verdict)
    if verdict.tier == "borderline":
        # The classifier demotes core words next to a cell-free product; follow it.
        for key in ("ev", "gcsf", "svf", "epc", "other_cells"):
            if key in keys:
                return key
    return next((k for k in CELL_PRIORITY if k in keys), None)


_OWN = re.compile(r"\bautologous\b|\bpatients?'?s?'? own\b|\btheir own\b|\bautólog", re.I)
_DONOR = re.compile(
    r"\ballogen(?:e)?ic\b|\bdonor\b|\bdonated\b|\bumbilical\b|\bcord blood\b|\bplacenta"
    r"|\bwharton|\boff[-\s]the[-\s]shelf\b|\balogénic",
    re.I,
)
_DONOR_KEYS = frozenset({"uc_msc", "cord_blood", "pl_msc", "mapc", "sb623", "esc_derived"})


def origin(trial: Trial, verdict: Classification) -> Origin:
    """Whose cells: a donor's, the patient's own, or not said (or both said)."""
    text = " ".join(treatment_texts(trial) + title_texts(trial))
    own = bool(_OWN.search(text))
    donor = bool(_DONOR.search(text)) or bool(cell_keys(verdict) & _DONOR_KEYS)
    if own == donor:
        return "unknown"
    return "own" if own else "donor"


_MARROW = re.compile(
    r"\bbone[-\s]?marrow\b|\bmarrow\b|\bBM[-\s]?MSCs?\b|\bBMMNCs?\b|\biliac\b", re.I
)
_FAT = re.compile(
    r"\badipose\b|\bfat\b|\bliposuction\b|\blipoaspirat\w*|\bAD[-\s]?MSCs?\b|\bADSCs?\b", re.I
)


def harvest_site(trial: Trial, verdict: Classification) -> Literal["marrow", "fat"] | None:
    """Where the patient's own cells are taken from, when the record says."""
    keys = cell_keys(verdict)
    text = " ".join(treatment_texts(trial) + title_texts(trial) + prose_texts(trial))
    if keys & {"bm_msc", "bmmnc"} or _MARROW.search(text):
        return "marrow"
    if keys & {"ad_msc", "svf"} or _FAT.search(text):
        return "fat"
    return None


# --- route ---------------------------------------------------------------------------------

_NOT_A_BLEED = r"(?!\s+(?:hemorrhag|hematom|bleed|infarct|lesion|pressure))"
_ROUTE_PATTERNS: dict[Route, str] = {
    "ia": r"\bintra[-\s]?arterial(?:ly)?\b|(?-i:\bIA\b)|\bintra[-\s]?carotid\b"
    r"|\b(?:infusion|injection|delivery)\s+(?:into|via|through)\s+the\s+(?:internal\s+carotid"
    r"|middle\s+cerebral|vertebral)\s+arter|\bsuper[-\s]?selective\b|\bcatheter\w*\b(?=.*arter)",
    "intracerebral": rf"\bintra[-\s]?cerebral(?:ly)?\b{_NOT_A_BLEED}"
    rf"|\bintra[-\s]?parenchymal(?:ly)?\b{_NOT_A_BLEED}|\bstereota(?:c|x)tic\w*"
    r"|\bburr[-\s]?holes?\b|\bimplant(?:s|ed|ation)?\b|\bputamen\b|\binto\s+the\s+brain\b"
    r"|\bintra[-\s]?cavitary\b|\bhematoma\s+cavity\b|\bbrain\s+transplant\w*"
    r"|\bperi[-\s]?infarct\b|\bintra[-\s]?lesional\b",
    "intrathecal": r"\bintra[-\s]?thecal(?:ly)?\b|\blumbar\s+puncture\b"
    rf"|\binto\s+the\s+(?:cerebro)?spinal\s+fluid\b|\bintra[-\s]?ventricular(?:ly)?\b{_NOT_A_BLEED}"
    r"|(?-i:\bICV\b)|\bsubarachnoid\s+(?:injection|space)\b",
    "intranasal": r"\bintra[-\s]?nasal(?:ly)?\b|\bnasal\s+(?:drops?|spray|administration"
    r"|delivery|route)\b|\bnose\s+drops\b",
    "subcutaneous": r"\bsub[-\s]?cutaneous(?:ly)?\b|\bunder\s+the\s+skin\b|(?-i:\bs\.?c\.)",
    "intramuscular": r"\bintra[-\s]?muscular(?:ly)?\b|\binto\s+the\s+muscles?\b",
    "iv": r"\bintra[-\s]?venous(?:ly)?\b|(?<![Pp]hase )(?<![Gg]rade )(?<![Tt]ype )(?<![Cc]lass )"
    r"(?-i:\bIV\b)|\bi\.\s?v\b\.?|\bforearm\s+vein\b|\bperipheral\s+vein\b"
    r"|\bvenous\s+(?:infusion|injection)\b|\bdrip\b",
}
_ROUTE_RES: dict[Route, re.Pattern[str]] = {
    route: re.compile(pattern, re.I) for route, pattern in _ROUTE_PATTERNS.items()
}
_INFUSION = re.compile(r"\binfus(?:ion|ions|ed)\b", re.I)


def _routes_in(texts: Iterable[str]) -> set[Route]:
    found: set[Route] = set()
    for text in texts:
        for segment in segments(text):
            found |= {route for route, rx in _ROUTE_RES.items() if rx.search(segment)}
    return found


def routes(trial: Trial) -> tuple[Route, ...]:
    """How the treatment is given, most invasive first.

    Read from what is given (interventions, arms) and the titles; the summary and the
    description only when those name no route (they may discuss other studies). A bare
    "infusion" counts as a drip only when nothing more specific is named ("intracavitary
    infusion" is not IV).
    """
    primary = treatment_texts(trial) + title_texts(trial)
    found = _routes_in(primary) or _routes_in(prose_texts(trial))
    if not found and any(_INFUSION.search(t) for t in primary):
        found = {"iv"}
    return tuple(r for r in ROUTE_ORDER if r in found)


# --- design --------------------------------------------------------------------------------

_SHAM = re.compile(r"\bsham\b|\bsimulated\s+(?:surgery|procedure)\b", re.I)
_PLACEBO = re.compile(r"\bplacebo\b|\bdummy\b|\bvehicle\s+control\b", re.I)
_USUAL = re.compile(
    r"\bstandard\s+(?:of\s+)?(?:care|treatment|therapy|medical)\b|\busual\s+care\b"
    r"|\bbest\s+medical\b|\bconventional\s+(?:treatment|therapy|care)\b|\bcontrol\s+group\b"
    r"|\bno\s+(?:intervention|treatment)\b",
    re.I,
)


def comparison(trial: Trial) -> Comparison:
    """What the treatment is compared with, as far as the record says."""
    arm_types = set(trial.design.arm_types) | {a.type for a in trial.arms if a.type}
    names = [iv.name for iv in trial.interventions] + [
        f"{a.label} {a.description or ''}" for a in trial.arms
    ]
    text = " ; ".join(names)
    if "SHAM_COMPARATOR" in arm_types or _SHAM.search(text):
        return "sham"
    if "PLACEBO_COMPARATOR" in arm_types or _PLACEBO.search(text):
        return "placebo"
    if "NO_INTERVENTION" in arm_types or _USUAL.search(text):
        return "usual_care"
    if "ACTIVE_COMPARATOR" in arm_types:
        return "active"
    design = trial.design
    if design.intervention_model == "SINGLE_GROUP" or design.allocation == "NA":
        return "none"
    if trial.arms and design.allocation == "NON_RANDOMIZED":
        return "none"
    if arm_types and arm_types <= {"EXPERIMENTAL"}:
        return "none"
    return "unknown"


RATED_SCALE = re.compile(
    r"\brankin\b|\bmRS\b|\bNIHSS\b|\bNIH\s+stroke\s+scale\b|\bbarthel\b|\bfugl[-\s]?meyer\b"
    r"|\bFMA\b|\bFMMS\b|\bmotor\s+(?:score|function)\b|\bmotricity\b",
    re.I,
)


def rated_primary_outcome(trial: Trial) -> bool:
    """The main outcome is a score someone rates (open to bias when unblinded)."""
    return any(RATED_SCALE.search(o) for o in trial.primary_outcomes)


# --- dates ---------------------------------------------------------------------------------


def parse_date(value: str | None) -> date | None:
    """`yyyy`, `yyyy-MM` or `yyyy-MM-dd`; a missing month or day is the 1st."""
    if not value:
        return None
    parts = value.split("-")
    try:
        nums = [int(p) for p in parts[:3]] + [1] * (3 - len(parts[:3]))
        return date(nums[0], nums[1], nums[2])
    except ValueError:
        return None


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- who can join --------------------------------------------------------------------------

TimeUnit = Literal["hour", "day", "week", "month", "year"]
_UNITS: dict[str, TimeUnit] = {"h": "hour", "d": "day", "w": "week", "m": "month", "y": "year"}
_UNIT_DAYS: dict[TimeUnit, float] = {
    "hour": 1 / 24,
    "day": 1,
    "week": 7,
    "month": 30.4,
    "year": 365.25,
}
_UNIT = r"(?P<{n}>hours?|hrs?|h|days?|weeks?|months?|years?)\b"
_NUM = r"\d{1,3}(?:\.\d)?"
_WINDOW = re.compile(
    rf"(?:between\s+)?(?P<a>{_NUM})\s*(?:{_UNIT.format(n='ua')})?\s*(?:-|to|and|~)\s*"
    rf"(?P<b>{_NUM})\s*{_UNIT.format(n='ub')}"
    rf"|(?:within|less\s+than|up\s+to|no\s+(?:more|later)\s+than|in\s+the\s+first|<=?|≤)\s*"
    rf"(?:the\s+)?(?P<w>{_NUM})\s*{_UNIT.format(n='uw')}"
    rf"|in\s+the\s+(?P<p>{_NUM})\s+(?:previous|preceding|last|past)\s+{_UNIT.format(n='up')}"
    rf"|(?:more\s+than|at\s+least|over|>=?|≥)\s*(?P<l>{_NUM})\s*{_UNIT.format(n='ul')}",
    re.I,
)
_STROKE_CONTEXT = re.compile(
    r"\bstroke\b|\bonset\b|\bictus\b|\binfarct\w*|\bhemorrhage\b|\bbleed\w*|\bsymptoms?\b"
    r"|\bpost[-\s]?stroke\b",
    re.I,
)
_NOT_A_WINDOW = re.compile(
    r"\bage[ds]?\b|\bold\b|\bfollow[-\s]?up\b|\bscore\b|\bmmHg\b|\bml\b|\bcm\b|\bkg\b", re.I
)


def _unit(word: str) -> TimeUnit:
    word = word.lower()
    return _UNITS["m" if word.startswith("mo") else word[0]]


@dataclass(frozen=True)
class Window:
    """One time-since-stroke window, in the registry's own numbers and unit."""

    kind: Literal["range", "within", "at_least"]
    unit: TimeUnit
    low: float | None
    high: float | None

    @property
    def phase(self) -> str:
        """The classifier's bucket for this window (acute / subacute / chronic / mixed)."""

        def of_upper(days: float) -> str:
            return "acute" if days <= 7 else "subacute" if days <= 183 else "chronic"

        def of_lower(days: float) -> str:
            return "acute" if days < 7 else "subacute" if days < 180 else "chronic"

        per = _UNIT_DAYS[self.unit]
        if self.kind == "within" and self.high is not None:
            return of_upper(self.high * per)
        if self.kind == "at_least" and self.low is not None:
            return "chronic" if of_lower(self.low * per) == "chronic" else "mixed"
        assert self.low is not None and self.high is not None
        lo, hi = of_lower(self.low * per), of_upper(self.high * per)
        return lo if lo == hi else "mixed"


def _windows_in(text: str) -> Iterator[Window]:
    for segment in segments(text):
        if not _STROKE_CONTEXT.search(segment):
            continue
        for m in _WINDOW.finditer(segment):
            around = segment[max(0, m.start() - 20) : m.end() + 15]
            if _NOT_A_WINDOW.search(around):
                continue
            if m.group("b"):
                unit = _unit(m.group("ub"))
                if m.group("ua") and _unit(m.group("ua")) != unit:
                    continue
                yield Window("range", unit, float(m.group("a")), float(m.group("b")))
            elif m.group("w"):
                yield Window("within", _unit(m.group("uw")), None, float(m.group("w")))
            elif m.group("p"):
                yield Window("within", _unit(m.group("up")), None, float(m.group("p")))
            else:
                yield Window("at_least", _unit(m.group("ul")), float(m.group("l")), None)


def stroke_window(trial: Trial, verdict: Classification) -> Window | None:
    """The one window the inclusion criteria (or the treatment text) give, when it is unique
    and agrees with the classifier's time bucket; None when unclear."""
    sources = [inclusion_criteria(trial), " \n".join(treatment_texts(trial))]
    for text in sources:
        found = list(dict.fromkeys(_windows_in(text)))
        if not found:
            continue
        if len(found) == 1 and found[0].phase == verdict.stroke_phase:
            return found[0]
        return None
    return None


def age_years(value: str | None) -> int | None:
    """ "18 Years" -> 18; other units (months, weeks) are not shown as years."""
    if not value:
        return None
    m = re.fullmatch(r"\s*(\d{1,3})\s*(?:years?|yrs?)?\s*", value, re.I)
    return int(m.group(1)) if m else None


# --- key eligibility rules -----------------------------------------------------------------

_PRE_STROKE = re.compile(
    r"\bprior\b|\bbefore\b|\bpre[-\s]?morbid|\bpre[-\s]?stroke|\bprevious"
    r"|\bhistory\b|\bpast\b|\bbaseline\b",
    re.I,
)
_NIHSS_RANGE = re.compile(r"\bNIHSS\b[^.;\n]{0,40}?\b(\d{1,2})\s*(?:-|to|and)\s*(\d{1,2})\b", re.I)
_NIHSS_MIN = re.compile(r"\bNIHSS\b[^.;\n]{0,25}?(>=|≥|>|at\s+least)\s*(\d{1,2})\b", re.I)
_MRS_RANGE = re.compile(
    r"(?:\brankin\b|\bmRS\b)[^.;\n]{0,30}?\b([0-5])\s*(?:-|to|or)\s*([0-5])\b", re.I
)
_FIRST_IN = re.compile(
    r"\bfirst[-\s](?:ever\s+)?(?:clinical\s+)?(?:\w+\s+)?stroke\b"
    r"|\bone\s+completed\s+(?:\w+\s+)?stroke\b",
    re.I,
)
_FIRST_OUT = re.compile(
    r"\b(?:previous|prior|more\s+than\s+(?:1|one)|repeated|recurrent)\s+(?:symptomatic\s+)?"
    r"(?:\w+\s+)?(?:stroke|cerebral\s+infarction)",
    re.I,
)
_WEAKNESS = re.compile(
    r"\bmotor\s+(?:neurological\s+)?(?:deficit|impairment)|\bhemipare\w*"
    r"|\bhemipleg\w*|\bparesis\b|\bweakness\b",
    re.I,
)
_LANGUAGE_IN = re.compile(
    r"\bcomprehend\b|\bfollow\s+(?:verbal\s+|spoken\s+|simple\s+)?"
    r"(?:commands|instructions)\b",
    re.I,
)
_LANGUAGE_OUT = re.compile(r"\baphasia\b", re.I)
_CANCER = re.compile(r"\bcancer\b|\bmalignan\w*|\bneoplas\w*", re.I)
_PREGNANT = re.compile(r"\bpregnan\w*|\blactat\w*|\bbreast[-\s]?feeding\b", re.I)
_SEIZURE = re.compile(r"\bseizures?\b|\bepilep\w*", re.I)

Criterion = tuple[str, dict[str, int]]


def _first(
    pattern: re.Pattern[str], text: str, skip: re.Pattern[str] | None = None
) -> re.Match[str] | None:
    for segment in segments(text):
        if skip is not None and skip.search(segment):
            continue
        m = pattern.search(segment)
        if m:
            return m
    return None


def key_criteria(trial: Trial, limit: int = 3) -> list[Criterion]:
    """Up to `limit` eligibility rules that rule many people in or out, as message keys with
    numbers; only rules a fixed pattern reads without doubt."""
    inc, exc = inclusion_criteria(trial), exclusion_criteria(trial)
    found: list[Criterion] = []
    sex = (trial.eligibility.sex or "").upper()
    if sex in ("FEMALE", "MALE"):
        found.append((f"who.sex.{sex.lower()}", {}))
    if m := _first(_NIHSS_RANGE, inc):
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        if high <= 42:
            found.append(("who.nihss.range", {"low": low, "high": high}))
    elif m := _first(_NIHSS_MIN, inc):
        n = int(m.group(2)) + (1 if m.group(1) == ">" else 0)
        found.append(("who.nihss.min", {"low": n}))
    if m := _first(_MRS_RANGE, inc, skip=_PRE_STROKE):
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        found.append(("who.mrs.range", {"low": low, "high": high}))
    if _first(_FIRST_IN, inc) or _first(_FIRST_OUT, exc):
        found.append(("who.first_stroke", {}))
    if _first(_WEAKNESS, inc):
        found.append(("who.weakness", {}))
    if _first(_LANGUAGE_IN, inc) or _first(_LANGUAGE_OUT, exc):
        found.append(("who.language", {}))
    if _first(_CANCER, exc):
        found.append(("who.no_cancer", {}))
    if _first(_PREGNANT, exc):
        found.append(("who.no_pregnancy", {}))
    if _first(_SEIZURE, exc):
        found.append(("who.no_seizures", {}))
    return found[:limit]
