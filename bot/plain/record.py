"""What the wording needs from a record beyond its facts (`jobs.facts`): registry text made
safe to show, the product (cell type, whose cells, where they are taken from), dates.

Everything here is conservative: when the record is unclear the answer is "unknown"/None and
the alert says less rather than something wrong.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from typing import Literal

from jobs.classify import inclusion_criteria
from jobs.facts import title_texts, treatment_texts
from trialbot.classification import Classification
from trialbot.model import Trial
from trialbot.publications import parse_partial

Origin = Literal["donor", "own", "unknown"]


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


# --- design --------------------------------------------------------------------------------

RATED_SCALE = re.compile(
    r"\brankin\b|\bmRS\b|\bNIHSS\b|\bNIH\s+stroke\s+scale\b|\bbarthel\b|\bfugl[-\s]?meyer\b"
    r"|\bFMA\b|\bFMMS\b|\bmotor\s+(?:score|function)\b|\bmotricity\b",
    re.I,
)


def rated_primary_outcome(trial: Trial) -> bool:
    """The main outcome is a score someone rates (open to bias when unblinded)."""
    return any(RATED_SCALE.search(o) for o in trial.primary_outcomes)


# --- dates ---------------------------------------------------------------------------------


parse_date = parse_partial
"""`yyyy`, `yyyy-MM` or `yyyy-MM-dd`; a missing month or day is the 1st (one parser for
registry dates and publication dates)."""


def years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
