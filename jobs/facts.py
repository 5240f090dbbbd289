"""Read the facts a reader decides on from a trial record, each with the text it came from.

Rules, in order of importance:
* Only what the record says about this study. The summary and description often review earlier
  work ("intravenous MSCs improved ... in rats"), so they are read only for sentences that
  speak of this study in the future or present ("this study", "will", "researchers will").
  How the treatment is given, who can join and when are read from the interventions, arms,
  eligibility criteria, titles and structured fields.
* When the record is unclear (two readings, a bare "infusion", only the word "acute"), the
  fact is None and the alert says less.
* Every value carries its evidence: the exact words of the record, or `field = value`.

FACTS_VERSION is stored with the facts; bump it when a rule changes so stored facts are
re-derived (`jobs.poll.refresh_facts`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from jobs import vocabulary as vocab
from jobs.classify import inclusion_criteria, names_cells
from storage.trials import DerivedFacts
from trialbot.facts import (
    NOT_STATED,
    ContactFact,
    Control,
    Criterion,
    Population,
    Route,
    SponsorKind,
    TrialFacts,
)
from trialbot.model import OPEN_STATUSES, Trial

FACTS_VERSION = 1

# --- text helpers --------------------------------------------------------------------------

_FOLDS = (
    (re.compile(r"(?<=h)a(?=em)", re.I), ""),  # haem-, ischaem- -> hem-, ischem-
    (re.compile("[\u2010-\u2015\u2212]"), "-"),
    (re.compile("[\u2018\u2019\u00b4]"), "'"),
)
_SEGMENTS = re.compile(r"\n+|(?<=[.;!?])\s+|(?<=[。；！？])")


def fold(text: str) -> str:
    """British spellings and typographic dashes/quotes folded, for matching only. Lengths are
    kept except for the "a" of haem-, so quotes are taken from the original text by words."""
    for pattern, repl in _FOLDS:
        text = pattern.sub(repl, text)
    return text


def segments(text: str) -> list[str]:
    """Sentences or bullet lines of the original text: the unit a context word must share."""
    return [s.strip() for s in _SEGMENTS.split(text) if s.strip()]


def quote(text: str, limit: int = 200) -> str:
    """The record's own words, on one line, cut at a word when long."""
    one_line = " ".join(text.split())
    if len(one_line) <= limit:
        return one_line
    cut = one_line[:limit]
    return cut[: cut.rfind(" ")] if " " in cut else cut


_COMPARATOR_ARMS = frozenset({"PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION"})
_NOT_TREATMENT = re.compile(
    r"^\s*(?:placebo|sham|vehicle|(?:normal\s+)?saline|control|standard\s+(?:of\s+)?care"
    r"|usual\s+care|best\s+medical|conventional)\b",
    re.I,
)


def is_placebo(name: str) -> bool:
    """A placebo, sham or usual-care item rather than the treatment under test."""
    return _NOT_TREATMENT.match(name) is not None


def _given(trial: Trial) -> list[list[str]]:
    """The texts of each intervention and arm under test (one list per item), without
    placebo/sham/control items and without procedures every group has (a clot removal is not
    how cells are given)."""
    items: list[list[str]] = []
    for iv in trial.interventions:
        if is_placebo(iv.name) or (iv.type or "").upper() == "PROCEDURE":
            continue
        items.append([iv.name, *iv.other_names, iv.description or ""])
    for arm in trial.arms:
        if arm.type in _COMPARATOR_ARMS or is_placebo(arm.label):
            continue
        items.append([arm.label, arm.description or ""])
    return [[t for t in item if t] for item in items]


def treatment_texts(trial: Trial) -> list[str]:
    """Names and descriptions of what is given (see `_given`)."""
    return [t for item in _given(trial) for t in item]


def product_texts(trial: Trial) -> list[str]:
    """The texts of the items that name the cells or cell-free product, when some do and the
    record gives more than one thing: a co-treatment's route is not the cells'."""
    items = _given(trial)
    product = [item for item in items if any(names_cells(t) for t in item)]
    chosen = product if product and len(trial.interventions) > 1 else items
    return [t for item in chosen for t in item]


def title_texts(trial: Trial) -> list[str]:
    return [t for t in (trial.brief_title, trial.official_title) if t]


_THIS_STUDY = re.compile(
    r"\b(?:this|the\s+present|the\s+current|our)\s+(?:study|trial|research)\b|\bwill\b"
    r"|\bresearchers\s+(?:will|want|are)\b|\bparticipants\s+will\b|\bpatients\s+will\b"
    r"|^(?:an?\s+|the\s+)?(?:[\w-]+,?\s+){0,4}(?:study|trial)\s+(?:of|to|evaluating|assessing"
    r"|investigating|testing|comparing)\b",
    re.I,
)
_PAST_WORK = re.compile(
    r"\bprevious\w*|\bprior\s+(?:stud|trial|work)\w*|\bearlier\b|\banimals?\b|\brats?\b"
    r"|\bmice\b|\bmouse\b|\bpre[-\s]?clinical\b|\bha(?:ve|s)\s+(?:been\s+)?(?:shown|demonstrated"
    r"|reported|proven)|\bshowed\b|\bdemonstrated\b|\breported\b|\bliterature\b",
    re.I,
)


def study_sentences(trial: Trial) -> list[str]:
    """Sentences of the summary and description that speak of this study, not of earlier
    work (which alerts must never present as this study's facts)."""
    return [
        s
        for text in (trial.summary, trial.detailed_description)
        if text
        for s in segments(text)
        if _THIS_STUDY.search(s) and not _PAST_WORK.search(s)
    ]


# --- routes --------------------------------------------------------------------------------

_NOT_A_BLEED = r"(?!\s+(?:hemorrhag|haemorrhag|hematom|haematom|bleed|infarct|lesion|pressure))"
_ROUTE_PATTERNS: dict[Route, str] = {
    "intracavitary": r"\bintra[-\s]?cavitary\b|\binto\s+the\s+(?:hematoma|haematoma|lesion)"
    r"\s+cavity\b|\b(?:hematoma|haematoma)\s+cavity\b",
    "intracerebral": rf"\bintra[-\s]?cerebral(?:ly)?\b{_NOT_A_BLEED}"
    rf"|\bintra[-\s]?parenchymal(?:ly)?\b{_NOT_A_BLEED}"
    r"|\bintra[-\s]?cranial(?:ly)?\s+(?:injection|implantation|transplantation|administration)"
    r"|\bstereota(?:c|x)(?:tic|is|ic)(?:ally)?[\s,]+(?:\w+\s+){0,2}?"
    r"(?:injection|implantation|transplantation|administration|delivery)"
    r"|\bburr[-\s]?holes?\b|\bbrain\s+(?:transplant\w*|injection|implant\w*)"
    r"|\b(?:into|in)\s+the\s+brain\b|\binto\s+brain\b|\bputamen\b|\bperi[-\s]?infarct\w*"
    r"|\bintra[-\s]?lesional\b",
    "intraventricular": rf"\bintra[-\s]?ventricular(?:ly)?\b{_NOT_A_BLEED}|(?-i:\bICV\b)"
    r"|\binto\s+the\s+(?:lateral\s+)?ventricles?\b",
    "intrathecal": r"\bintra[-\s]?thecal(?:ly)?\b|\blumbar\s+puncture\b"
    r"|\binto\s+the\s+(?:cerebro)?spinal\s+fluid\b|\bsubarachnoid\s+(?:injection|space)\b",
    "intraarterial": r"\bintra[-\s]?arterial(?:ly)?\b|\bintra[-\s]?carotid\b"
    r"|(?-i:\bIA\b)(?=\s+(?:infusion|injection|administration|delivery|route))"
    r"|\b(?:infusion|injection|delivery)\s+(?:into|via|through)\s+the\s+(?:internal\s+carotid"
    r"|middle\s+cerebral|vertebral|basilar)\s+arter|\bsuper[-\s]?selective\b",
    "intranasal": r"\bintra[-\s]?nasal(?:ly)?\b|\bnasal\s+(?:drops?|spray|administration"
    r"|delivery|route)\b|\bnose\s+drops\b",
    "subcutaneous": r"\bsub[-\s]?cutaneous(?:ly)?\b|\bunder\s+the\s+skin\b|(?-i:\bs\.c\.)",
    "intramuscular": r"\bintra[-\s]?muscular(?:ly)?\b|\binto\s+the\s+muscles?\b",
    "intravenous": r"\bintra[-\s]?venous(?:ly)?\b|(?<![Pp]hase )(?<![Gg]rade )(?<![Tt]ype )"
    r"(?<![Cc]lass )(?<![Ss]tage )(?-i:\bIV\b)(?![-\s]?[a-z])|\bi\.\s?v\b\.?"
    r"|\b(?:forearm|peripheral|arm)\s+vein\b|\bvenous\s+(?:infusion|injection)\b|\bdrip\b",
}
_ROUTE_RES: dict[Route, re.Pattern[str]] = {
    route: re.compile(pattern, re.I) for route, pattern in _ROUTE_PATTERNS.items()
}
ROUTE_ORDER: tuple[Route, ...] = tuple(_ROUTE_PATTERNS)
"""Most invasive first."""


def _routes_together(trial: Trial) -> bool:
    """Some one intervention or arm names two routes (cells into an artery and a vein at
    once); several routes each in its own group are not "together"."""
    for item in _given(trial):
        text = fold(" ".join(item))
        if sum(1 for rx in _ROUTE_RES.values() if rx.search(text)) > 1:
            return True
    return False


def _routes(trial: Trial) -> tuple[tuple[Route, ...], str]:
    """Read from what is given (the interventions and arms that name the cells or cell-free
    product when some do: a co-treatment's route is not the cells'), and the titles; else from
    sentences about this study. A bare "infusion" or "injection" says nothing about where."""
    found: dict[Route, str] = {}
    for texts in (product_texts(trial) + title_texts(trial), study_sentences(trial)):
        for text in texts:
            for segment in segments(fold(text)):
                for route, rx in _ROUTE_RES.items():
                    if route not in found and rx.search(segment):
                        found[route] = quote(segment)
        if found:
            break
    ordered = tuple(r for r in ROUTE_ORDER if r in found)
    if ordered and "intracavitary" in found:
        ordered = tuple(r for r in ordered if r != "intracerebral" or _own_route(found, r))
    evidence = " | ".join(dict.fromkeys(found[r] for r in ordered)) or NOT_STATED
    return ordered, evidence


def _own_route(found: dict[Route, str], route: Route) -> bool:
    """Into the clot's cavity is also "into the brain": keep intracerebral only when some text
    says it without naming the cavity."""
    return found[route] != found["intracavitary"]


# --- who can join: ages and population -----------------------------------------------------

_AGE_FIELD = re.compile(
    r"^\s*(\d{1,3}(?:\.\d+)?)\s*(years?|yrs?|months?|weeks?|days?|hours?)?\s*$", re.I
)
_PER_YEAR = {"y": 1.0, "m": 12.0, "w": 52.1775, "d": 365.25, "h": 8766.0}


def age_in_years(value: str | None) -> float | None:
    """ "18 Years" -> 18; "6 Months" -> 0.5; anything else -> None."""
    if not value:
        return None
    m = _AGE_FIELD.match(value)
    if not m:
        return None
    unit = (m.group(2) or "years").lower()[0]
    years = float(m.group(1)) / _PER_YEAR[unit]
    return float(int(years)) if years == int(years) else round(years, 2)


_YEARS = r"(?:years?|yrs?|y)(?:\s+old|\s+of\s+age|[-\s]old)?"
_AGE_RANGE = re.compile(
    rf"\bage[ds]?\b[^.;\n\d]{{0,20}}?(\d{{1,2}})\s*(?:{_YEARS})?\s*(?:-|–|to|and|~)\s*"
    rf"(\d{{2,3}})\s*(?:{_YEARS})?",
    re.I,
)
_AGE_RANGE_AFTER = re.compile(
    rf"\b(\d{{1,2}})\s*(?:-|–|to|and)\s*(\d{{2,3}})\s*{_YEARS}\b(?:\s+of\s+age|\s+old)?", re.I
)
_AGE_MIN = re.compile(
    r"(?:\bage[ds]?\b[^.;\n\d]{0,15}?)?(?:>=?|≥|\bover\b|\bolder\s+than\b|\bat\s+least\b)\s*"
    r"(\d{1,2})\s*[-\s]?(?:years?|yrs?)[-\s]?(?:old|of\s+age)?"
    r"|\b(\d{1,2})\s*(?:years?|yrs?)(?:\s+of\s+age)?\s+(?:or|and)\s+(?:older|over|above)\b",
    re.I,
)
_ADULTS = re.compile(r"\badults?\b", re.I)
_NEWBORNS = re.compile(
    r"\bneonat\w*|\bnewborns?\b|\bnew[-\s]born\w*|\binfants?\b|\bgestational\s+age\b"
    r"|\bpreterm\b|\bperinatal\b",
    re.I,
)
_CHILDREN = re.compile(r"\bchild(?:ren)?\b|\bpaediatric\b|\bpediatric\b", re.I)


def _ages(trial: Trial) -> tuple[float | None, float | None, str, str]:
    """Minimum and maximum age: the structured fields, else (a record with neither) the
    inclusion criteria."""
    elig = trial.eligibility
    low, high = age_in_years(elig.minimum_age), age_in_years(elig.maximum_age)
    low_ev = f"eligibility.minimum_age = {elig.minimum_age}" if low is not None else NOT_STATED
    high_ev = f"eligibility.maximum_age = {elig.maximum_age}" if high is not None else NOT_STATED
    if low is not None or high is not None:
        return low, high, low_ev, high_ev  # a missing bound in a structured record: no limit
    for segment in segments(inclusion_criteria(trial)):
        if _NEWBORNS.search(segment):
            continue
        rng = _AGE_RANGE.search(segment) or _AGE_RANGE_AFTER.search(segment)
        if rng and int(rng.group(1)) < int(rng.group(2)) <= 120:
            low, low_ev = float(rng.group(1)), quote(segment)
            high, high_ev = float(rng.group(2)), quote(segment)
            break
        least = _AGE_MIN.search(segment)
        if least:
            low, low_ev = float(least.group(1) or least.group(2)), quote(segment)
            break
    return low, high, low_ev, high_ev


def _population(
    trial: Trial, low: float | None, high: float | None
) -> tuple[Population | None, str]:
    """Newborns when the record is about them (neonatal conditions, gestational criteria);
    adults when the ages or the title, conditions or criteria say so."""
    named = title_texts(trial) + list(trial.conditions)
    for text in named + segments(inclusion_criteria(trial)):
        if _NEWBORNS.search(text):
            return "newborns", quote(text)
    if low is not None and low >= 18:
        return "adults", f"eligibility.minimum_age = {trial.eligibility.minimum_age or low}"
    if high is not None and high < 18:
        return "children", f"eligibility.maximum_age = {trial.eligibility.maximum_age or high}"
    if low is not None and low < 18:
        return None, NOT_STATED  # children and adults: say the ages instead
    for text in named + segments(inclusion_criteria(trial)) + study_sentences(trial):
        if _ADULTS.search(text) and not _CHILDREN.search(text):
            return "adults", quote(text)
    return None, NOT_STATED


# --- when after the stroke -----------------------------------------------------------------

_N = (
    r"(?:\d{1,3}(?:[.,]\d{1,2})?|"
    + "|".join(sorted(vocab.NUMBER_WORDS, key=len, reverse=True))
    + ")"
)
_U = r"(?:hours?|hrs?|h|days?|d|weeks?|wks?|months?|mos?|years?|yrs?)(?![a-z])"
_WINDOW = re.compile(
    rf"(?:between|from)?\s*(?P<a>{_N})\s*(?P<ua>{_U})?\s*(?:-|–|~|to|and|until)\s*"
    rf"(?P<b>{_N})\s*(?P<ub>{_U})"
    rf"|(?:within|during|less\s+than|fewer\s+than|up\s+to|no\s+(?:more|later)\s+than|in\s+the\s+first"
    rf"|under|before|<=?|≤)\s*(?:the\s+)?(?:first\s+)?(?P<w>{_N})\s*(?P<uw>{_U})"
    rf"|\bin\s+the\s+(?:(?P<p>{_N})\s+)?(?:previous|preceding|last|past)\s+(?P<p2>{_N})?\s*"
    rf"(?P<up>{_U})"
    rf"|(?:more\s+than|at\s+least|over|longer\s+than|beyond|>=?|≥)\s*(?P<l>{_N})\s*(?P<ul>{_U})"
    rf"|(?P<l2>{_N})\s*(?P<ul2>{_U})\s+or\s+(?:more|longer|later)",
    re.I,
)
_STROKE_CONTEXT = re.compile(
    r"\bstroke\b|\bictus\b|(?<!myocardial )\binfarct\w*|\bhemorrhage\b"
    r"|\bonset\b(?!\s+of\s+(?!(?:the\s+)?(?:stroke|symptoms?|ictus|hemorrhage|bleed\w*|deficits?"
    r"|neurological)))"
    r"|\bhematoma\b|\bbleed\w*|\bsymptoms?\b|\bpost[-\s]?stroke\b|\blast\s+(?:known|seen)\s+well",
    re.I,
)
_NOT_A_WINDOW = re.compile(
    r"\bage[ds]?\b|\byears?\s+old\b|\byear[-\s]old\b|\bof\s+age\b|\bfollow[-\s]?up\b|\bscore\b"
    r"|\bmmHg\b|\bml\b|\bcm\b|\bkg\b|\bmyocardial\b|\bpregnan\w*|\blife\s+expectancy\b"
    r"|\bsurvival\b|\bprognosis\b|\bafter\s+(?:the\s+)?(?:treatment|infusion|injection|surgery"
    r"|transplantation|randomi[sz]ation)\b",
    re.I,
)
_NOT_THE_JOIN = re.compile(
    r"\badmit\w*|\badmission\b|\barriv\w*|\bhospitali[sz]\w*|\bpresent(?:ed|ation)?\s+to\b"
    r"|\bthromboly\w*|\bthrombectom\w*|\brevasculari[sz]\w*|\brecanali[sz]\w*|\bstent\w*"
    r"|\b(?:rt-?)?tPA\b|\balteplase\b|\btenecteplase\b|\bIVT\b|\bEVT\b|\breperfusion\b",
    re.I,
)
"""Arrival at hospital, or a clot-busting treatment given early, is not when people can join
the study."""


def _number(text: str) -> float:
    text = text.lower().replace(",", ".")
    return float(vocab.NUMBER_WORDS[text]) if text in vocab.NUMBER_WORDS else float(text)


def _days(number: str, unit: str) -> float:
    unit = unit.lower()
    key = "mo" if unit.startswith("mo") else unit[0]
    return round(_number(number) * vocab.UNIT_DAYS[key], 2)


_GAP_REJECT = re.compile(
    r"\bevaluat\w*|\bassess\w*|\brecord\w*|\bmeasur\w*|\bvisits?\b|\bfollow[-\s]?ups?\b"
    r"|\btreatment\s+(?:period|duration)|\bdose\b",
    re.I,
)


def _tied_to_stroke(folded: str, m: re.Match[str]) -> bool:
    """A stroke/onset word close to the window, with nothing between them that makes the
    window about something else (an assessment schedule, a dose)."""
    for c in _STROKE_CONTEXT.finditer(folded):
        if c.end() <= m.start() and m.start() - c.end() <= 110:
            gap = folded[c.end() : m.start()]
        elif c.start() >= m.end() and c.start() - m.end() <= 60:
            gap = folded[m.end() : c.start()]
        elif c.start() < m.end() and m.start() < c.end():
            gap = ""
        else:
            continue
        if not _GAP_REJECT.search(gap):
            return True
    return False


def _window_in(segment: str) -> Iterator[tuple[float, float | None]]:
    folded = fold(segment)
    for m in _WINDOW.finditer(folded):
        around = folded[max(0, m.start() - 25) : m.end() + 20]
        before = folded[max(0, m.start() - 45) : m.start()]
        if _NOT_A_WINDOW.search(around) or _NOT_THE_JOIN.search(before):
            continue
        if not _tied_to_stroke(folded, m):
            continue
        if m.group("b"):
            unit_b = m.group("ub")
            low = _days(m.group("a"), m.group("ua") or unit_b)
            high = _days(m.group("b"), unit_b)
            if low < high:
                yield low, high
        elif m.group("w"):
            yield 0.0, _days(m.group("w"), m.group("uw"))
        elif m.group("up"):
            count = m.group("p") or m.group("p2")
            if count:
                yield 0.0, _days(count, m.group("up"))
        elif m.group("l"):
            yield _days(m.group("l"), m.group("ul")), None
        elif m.group("l2"):
            yield _days(m.group("l2"), m.group("ul2")), None


def _stroke_window(trial: Trial) -> tuple[tuple[float, float | None] | None, str]:
    """The time since the stroke at which people join: from the inclusion criteria, else from
    how the treatment is given ("single infusion 1-2 days following stroke"), else from
    sentences about this study. Several windows in one place (groups by time) are joined."""
    sources = [
        segments(inclusion_criteria(trial)),
        [s for t in treatment_texts(trial) for s in segments(t)],
        study_sentences(trial),
    ]
    for source in sources:
        windows: list[tuple[float, float | None]] = []
        quotes: list[str] = []
        for segment in source:
            found = list(_window_in(segment))
            if found:
                windows += found
                quotes.append(quote(segment))
        if windows:
            low = min(w[0] for w in windows)
            highs = [w[1] for w in windows]
            high = None if any(h is None for h in highs) else max(h for h in highs if h is not None)
            return (low, high), " | ".join(dict.fromkeys(quotes))
    return None, NOT_STATED


# --- design --------------------------------------------------------------------------------

_RANDOM = re.compile(r"\brandomi[sz](?:ed|ation|e)\b|\brandomly\s+(?:assigned|allocated)\b", re.I)
_NOT_RANDOM = re.compile(r"\bnon[-\s]?randomi[sz]ed\b|\bnot\s+randomi[sz]ed\b", re.I)


def _randomised(trial: Trial) -> tuple[bool | None, str]:
    design = trial.design
    if design.allocation == "RANDOMIZED":
        return True, "design.allocation = RANDOMIZED"
    if design.allocation in ("NON_RANDOMIZED", "NA"):
        return False, f"design.allocation = {design.allocation}"
    if design.intervention_model == "SINGLE_GROUP":
        return False, "design.intervention_model = SINGLE_GROUP"
    texts = title_texts(trial) + segments(trial.eligibility.criteria or "")
    texts += [t for arm in trial.arms for t in (arm.label, arm.description or "")]
    texts += study_sentences(trial)
    for text in texts:
        if _NOT_RANDOM.search(text):
            return False, quote(text)
    for text in texts:
        if _RANDOM.search(text):
            return True, quote(text)
    return None, NOT_STATED


_SHAM = re.compile(r"\bsham\b|\bsimulated\s+(?:surgery|procedure)\b", re.I)
_PLACEBO = re.compile(r"\bplacebo\b|\bdummy\b|\bvehicle[-\s]control", re.I)
_USUAL = re.compile(
    r"\bstandard\s+(?:of\s+)?(?:care|treatment|therapy|medical)\b|\busual\s+care\b"
    r"|\bbest\s+medical\b|\bconventional\s+(?:treatment|therapy|care)\b"
    r"|\bno\s+(?:intervention|treatment)\b",
    re.I,
)


_NEGATED = re.compile(r"\b(?:no|without|not|non)[-\s]+(?:\w+\s+)?$", re.I)


def _says(rx: re.Pattern[str], text: str) -> bool:
    """The word is there and not negated ("no placebo", "without sham surgery")."""
    return any(not _NEGATED.search(text[: m.start()]) for m in rx.finditer(text))


def _control(trial: Trial, randomised: bool | None) -> tuple[Control | None, str]:
    """What the treatment is compared with, read from the arms, interventions and titles.
    Standard care counts as the comparison only where a control arm or an intervention's
    name says so ("cells in addition to standard care" is what everyone gets)."""
    design = trial.design
    arm_types = {a.type for a in trial.arms if a.type} | set(design.arm_types)
    labelled = [iv.name for iv in trial.interventions] + [
        t for a in trial.arms for t in (a.label, a.description or "")
    ]
    texts = [t for t in labelled + title_texts(trial) + study_sentences(trial) if t]
    for arm_type, rx, value in (
        ("SHAM_COMPARATOR", _SHAM, "sham"),
        ("PLACEBO_COMPARATOR", _PLACEBO, "placebo"),
    ):
        if arm_type in arm_types:
            return value, f"arm type = {arm_type}"  # type: ignore[return-value]
        if hit := next((t for t in texts if _says(rx, t)), None):
            return value, quote(hit)  # type: ignore[return-value]
    if "NO_INTERVENTION" in arm_types:
        return "usual_care", "arm type = NO_INTERVENTION"
    control_arms = [
        t
        for a in trial.arms
        if a.type not in ("EXPERIMENTAL", "ACTIVE_COMPARATOR")
        for t in (a.label, a.description or "")
    ]
    names = [iv.name for iv in trial.interventions] + control_arms
    if hit := next((t for t in names if _says(_USUAL, t)), None):
        return "usual_care", quote(hit)
    if "ACTIVE_COMPARATOR" in arm_types:
        return "active", "arm type = ACTIVE_COMPARATOR"
    if design.intervention_model == "SINGLE_GROUP":
        return "none", "design.intervention_model = SINGLE_GROUP"
    if randomised is False and design.allocation == "NA":
        return "none", "design.allocation = NA"
    return None, NOT_STATED


# --- sponsor -------------------------------------------------------------------------------

_COMPANY = re.compile(
    r"\b(?:inc|incorporated|corp|corporation|co|company|ltd|limited|llc|l\.l\.c|plc|gmbh|ag"
    r"|s\.?a|s\.?a\.?s|s\.?r\.?l|s\.?p\.?a|b\.?v|n\.?v|k\.?k|pty|oy|ab|a/s|bio(?:tech|technology"
    r"|pharma|sciences?|logics)|pharmaceuticals?|pharma|therapeutics|laborator(?:y|ies)"
    r"|株式会社|有限公司|股份)(?:\b|\.|$)",
    re.I,
)
_NON_COMPANY = re.compile(
    r"\buniversit\w*|\bhospital\w*|\bmedical\s+(?:center|centre|college|school|university)"
    r"|\binstitut\w*|\bcollege\b|\bclinic\b|\bfoundation\b|\bministry\b|\bcouncil\b"
    r"|\b(?:center|centre)\b|\bschool\b|\bacademy\b|\bnational\b|\bhealth\b|\bNHS\b|\btrust\b"
    r"|\bassociation\b|\bsociety\b|\bgovernment\b|\bdepartment\b|\bagency\b|\bfederal\b"
    r"|\bcommission\b|\bnetwork\b|\bconsortium\b|\bresearch\s+(?:council|fund)\b|大学|医院",
    re.I,
)
_PERSON = re.compile(
    r"^(?:Dr\.?\s+|Prof\.?\s+)?[A-Z][a-z'-]+(?:\s+[A-Z]\.?)?(?:\s+[A-Z][a-z'-]+){1,2}$"
)
_PUBLIC_CLASSES = frozenset({"NIH", "FED", "OTHER_GOV", "NETWORK", "INDIV", "OTHER", "AMBIG"})


def _sponsor_kind(trial: Trial) -> tuple[SponsorKind | None, str]:
    """A company pays, or not. A company's name beats the registry's class: CT.gov files many
    companies (Co., Ltd., K.K., Limited) under OTHER or under no class at all."""
    sponsor = trial.sponsor
    if sponsor is None or not sponsor.name.strip():
        return None, NOT_STATED
    name, klass = sponsor.name.strip(), (sponsor.agency_class or "").upper()
    named = f"sponsor = {name}"
    if klass == "INDUSTRY":
        return "company", f"sponsor class = INDUSTRY | {named}"
    if _COMPANY.search(name) and not _NON_COMPANY.search(name):
        return "company", named
    if _NON_COMPANY.search(name):
        return "non_company", named
    if klass in _PUBLIC_CLASSES:
        return "non_company", f"sponsor class = {klass} | {named}"
    if _PERSON.match(name):
        return "non_company", f"{named} (a person: an investigator's own study)"
    return None, NOT_STATED


# --- how big, how many places, what it looks at ---------------------------------------------

_MULTI = re.compile(
    r"\bmulti[-\s]?(?:cent(?:er|re|ric)|site|national|institutional)\w*|\bseveral\s+(?:centers"
    r"|centres|sites|hospitals)\b|\b\d+\s+(?:centers|centres|sites|hospitals)\b",
    re.I,
)
_SINGLE = re.compile(
    r"\bsingle[-\s]?(?:cent(?:er|re|ric)|site|institution)\w*|\bmono[-\s]?cent\w*", re.I
)


def _multicentre(trial: Trial) -> tuple[bool | None, str]:
    """The record's words first (a record often lists only the lead site), then its sites."""
    for text in title_texts(trial) + study_sentences(trial) + [trial.summary or ""]:
        for segment in segments(text):
            if _MULTI.search(segment) and not _PAST_WORK.search(segment):
                return True, quote(segment)
            if _SINGLE.search(segment) and not _PAST_WORK.search(segment):
                return False, quote(segment)
    places = {(s.facility or s.key).strip().casefold() for s in trial.sites}
    if len(places) > 1:
        return True, f"sites = {len(places)} places"
    return None, NOT_STATED


_EFFICACY = re.compile(
    r"\befficacy\b|\beffectiveness\b|\beffective\b|\bwhether\b[^.;]{0,60}\b(?:works?|helps?"
    r"|improves?)\b|\bimprove\w*\s+(?:recovery|function|outcomes?|motor|neurologic\w*)"
    r"|\bbenefit\w*|\bclinical\s+effect|\beffects?\s+of\b[^.;]{0,90}\bon\s+(?:[\w-]+\s+){0,2}"
    r"(?:function\w*|recovery|outcomes?|disability|deficits?|impairment)",
    re.I,
)


def _efficacy_aim(trial: Trial) -> tuple[bool, str]:
    """The record's titles, or its sentences about this study, name an efficacy aim."""
    for text in title_texts(trial) + study_sentences(trial):
        if _EFFICACY.search(text) and not _says_not(text):
            return True, quote(text)
    return False, NOT_STATED


def _says_not(text: str) -> bool:
    return re.search(r"\bnot\s+(?:\w+\s+){0,3}(?:efficacy|effectiveness)\b", text, re.I) is not None


# --- key eligibility rules -----------------------------------------------------------------

_PRE_STROKE = re.compile(
    r"\bprior\b|\bbefore\b|\bpre[-\s]?morbid|\bpre[-\s]?stroke|\bprevious"
    r"|\bhistory\b|\bpast\b|\bbaseline\b",
    re.I,
)
_NIHSS_RANGE = re.compile(
    r"\bNIHSS\b[^.;\n]{0,40}?\b(\d{1,2})\s*(?:-|–|to|and)\s*(\d{1,2})\b", re.I
)
_NIHSS_MIN = re.compile(
    r"\bNIHSS\b[^.;\n]{0,25}?(>=|≥|>|at\s+least|>\s*or\s+equal\s+to)\s*(\d{1,2})\b", re.I
)
_MRS_LIST = re.compile(
    r"(?:\brankin\b|\bmRS\b)[^.;\n\d]{0,30}?\b([0-5](?:\s*(?:,|-|–|to|or|and)\s*[0-5])+)\b", re.I
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
_ALTERNATIVE = re.compile(
    r"\bor\b|\band/or\b|\beither\b|\bsuch\s+as\b|\be\.g\.|\bfor\s+example\b|\bany\s+of\b", re.I
)
_LANGUAGE_IN = re.compile(
    r"\bcomprehend\b|\bfollow\s+(?:verbal\s+|spoken\s+|simple\s+)?(?:commands|instructions)\b",
    re.I,
)
_LANGUAGE_OUT = re.compile(r"\baphasia\b", re.I)
_CANCER = re.compile(r"\bcancer\b|\bmalignan\w*|\bneoplas\w*", re.I)
_PREGNANT = re.compile(r"\bpregnan\w*|\blactat\w*|\bbreast[-\s]?feeding\b", re.I)
_SEIZURE = re.compile(r"\bseizures?\b|\bepilep\w*", re.I)


def _first(
    pattern: re.Pattern[str], text: str, skip: re.Pattern[str] | None = None
) -> tuple[re.Match[str], str] | None:
    for segment in segments(text):
        if skip is not None and skip.search(segment):
            continue
        m = pattern.search(segment)
        if m:
            return m, segment
    return None


def _required_alone(m: re.Match[str], segment: str) -> bool:
    """The rule is required, not one of several alternatives ("speech problems or limb
    weakness" does not require weakness)."""
    return _ALTERNATIVE.search(segment) is None


def _criteria(trial: Trial, limit: int = 3) -> tuple[Criterion, ...]:
    """Up to `limit` eligibility rules that rule many people in or out (after the sex), each
    read only when a fixed pattern reads it without doubt."""
    inc = inclusion_criteria(trial)
    exc = (trial.eligibility.criteria or "")[len(inc) :]
    found: list[Criterion] = []
    sex = (trial.eligibility.sex or "").upper()
    if sex in ("FEMALE", "MALE"):
        found.append(Criterion(key=f"who.sex.{sex.lower()}", evidence=f"eligibility.sex = {sex}"))
    if hit := _first(_NIHSS_RANGE, inc):
        m, segment = hit
        low, high = sorted((int(m.group(1)), int(m.group(2))))
        if high <= 42:
            found.append(
                Criterion(
                    key="who.nihss.range",
                    values={"low": low, "high": high},
                    evidence=quote(segment),
                )
            )
    elif hit := _first(_NIHSS_MIN, inc):
        m, segment = hit
        n = int(m.group(2)) + (1 if m.group(1) == ">" else 0)
        found.append(Criterion(key="who.nihss.min", values={"low": n}, evidence=quote(segment)))
    if hit := _first(_MRS_LIST, inc, skip=_PRE_STROKE):
        m, segment = hit
        scores = [int(d) for d in re.findall(r"[0-5]", m.group(1))]
        found.append(
            Criterion(
                key="who.mrs.range",
                values={"low": min(scores), "high": max(scores)},
                evidence=quote(segment),
            )
        )
    checks: tuple[tuple[str, re.Pattern[str], str, bool], ...] = (
        ("who.first_stroke", _FIRST_IN, inc, False),
        ("who.first_stroke", _FIRST_OUT, exc, False),
        ("who.weakness", _WEAKNESS, inc, True),
        ("who.language", _LANGUAGE_IN, inc, False),
        ("who.language", _LANGUAGE_OUT, exc, False),
        ("who.no_cancer", _CANCER, exc, False),
        ("who.no_pregnancy", _PREGNANT, exc, False),
        ("who.no_seizures", _SEIZURE, exc, False),
    )
    for key, pattern, text, alone in checks:
        if any(c.key == key for c in found):
            continue
        if (hit := _first(pattern, text)) and (not alone or _required_alone(*hit)):
            found.append(Criterion(key=key, evidence=quote(hit[1])))
    return tuple(found[: limit + (1 if sex in ("FEMALE", "MALE") else 0)])


# --- numbers, results, contacts -------------------------------------------------------------


def _enrollment(trial: Trial) -> tuple[int | None, bool | None, str, str]:
    count, estimated = trial.enrollment.count, trial.enrollment.estimated
    if count is None:
        return None, None, NOT_STATED, NOT_STATED
    count_ev = f"enrollment.count = {count}"
    if estimated is not None:
        return count, not estimated, count_ev, f"enrollment.estimated = {estimated}"
    status = trial.overall_status or ""
    if status in OPEN_STATUSES:
        # Still recruiting: the number can only be a plan.
        return count, False, count_ev, f"overall_status = {status}"
    return count, None, count_ev, NOT_STATED


def _results(trial: Trial) -> tuple[bool, str]:
    if trial.has_results:
        return True, "has_results = true"
    if trial.dates.results_first_posted is not None:
        return True, f"dates.results_first_posted = {trial.dates.results_first_posted.date}"
    return False, "has_results = false"


def _contacts(trial: Trial) -> tuple[tuple[ContactFact, ...], str]:
    found = tuple(
        dict.fromkeys(
            ContactFact(name=c.name, phone=c.phone, email=c.email)
            for c in trial.contacts
            if c.phone or c.email
        )
    )
    if not found:
        return (), NOT_STATED
    first = found[0]
    return found, "contacts[0] = " + " | ".join(
        v for v in (first.name, first.phone, first.email) if v
    )


# --- all of them ---------------------------------------------------------------------------


def extract(trial: Trial) -> TrialFacts:
    """Every fact of the trial with its evidence (pure: no I/O, same record -> same facts)."""
    routes, routes_ev = _routes(trial)
    low, high, low_ev, high_ev = _ages(trial)
    population, population_ev = _population(trial, low, high)
    window, window_ev = _stroke_window(trial)
    randomised, randomised_ev = _randomised(trial)
    control, control_ev = _control(trial, randomised)
    sponsor, sponsor_ev = _sponsor_kind(trial)
    count, actual, count_ev, actual_ev = _enrollment(trial)
    results, results_ev = _results(trial)
    contacts, contacts_ev = _contacts(trial)
    multicentre, multicentre_ev = _multicentre(trial)
    efficacy, efficacy_ev = _efficacy_aim(trial)
    return TrialFacts(
        routes=routes,
        population=population,
        age_min_years=low,
        age_max_years=high,
        stroke_window_days=window,
        randomised=randomised,
        control=control,
        sponsor_kind=sponsor,
        enrollment_count=count,
        enrollment_actual=actual,
        results_posted=results,
        contacts=contacts,
        routes_together=_routes_together(trial),
        multicentre=multicentre,
        efficacy_aim=efficacy,
        criteria=_criteria(trial),
        evidence={
            "routes": routes_ev,
            "population": population_ev,
            "age_min_years": low_ev,
            "age_max_years": high_ev,
            "stroke_window_days": window_ev,
            "randomised": randomised_ev,
            "control": control_ev,
            "sponsor_kind": sponsor_ev,
            "enrollment_count": count_ev,
            "enrollment_actual": actual_ev,
            "results_posted": results_ev,
            "contacts": contacts_ev,
            "multicentre": multicentre_ev,
            "efficacy_aim": efficacy_ev,
        },
    )


def derive(trial: Trial) -> DerivedFacts:
    """The facts as stored with a version: with the rules' version, so newer rules re-derive."""
    return DerivedFacts(extract(trial), FACTS_VERSION)


def facts_of(trial: Trial, stored: DerivedFacts | None) -> TrialFacts:
    """The facts to say: those stored with the version when today's rules wrote them, else
    derived now (a version stored before an upgrade, until `refresh_facts` has run)."""
    if stored is not None and stored.version == FACTS_VERSION:
        return stored.facts
    return extract(trial)
