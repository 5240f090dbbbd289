"""Decide whether a trial tests stem cells for stroke, which stroke types, and how long after.

Input is the registry-neutral `Trial`; output a `Classification` that is stored with the
CLASSIFIER_VERSION that produced it. Rules follow /work/shared/domain.md sections 1 and 2; the
term tables live in `jobs.vocabulary`. Everything is word-boundary regex on text with British
spellings folded, compiled once at import (thousands of records per poll).

Stem-cell tier (what is given):
* Evidence is read per intervention (name, other names, description) and per arm (label,
  description; placebo/sham/no-intervention arms and "Placebo"-named interventions are skipped),
  plus intervention MeSH. A CORE term there makes the tier "core"; otherwise a BORDERLINE cell
  (EPC, SVF, olfactory ensheathing/Schwann cells) or a cell-free product (exosomes/EVs,
  secretome, G-CSF and other stem-cell mobilisers) makes it "borderline".
* A cell-free product outranks a core word next to it: in a name or title any cell-free term
  demotes the core words ("G-CSF for Stem Cells Therapy", "MSC-derived exosomes"); in longer
  text only a core term within a few words of it (its source) is demoted.
* Titles count only when the record lists no interventions/arms at all (sparse registry
  excerpts) or when an intervention is plainly a cell product (mentions cells, transplantation,
  implantation, a cell dose) without naming the cells. Summary/description wording alone never
  makes a record a stem-cell trial: background paragraphs talk about stem cells freely.
* Blood-forming transplant wording (HSCT, BMT, peripheral-blood stem cells) counts as core only
  when stroke is a target and no blood disease is.
* Excluded afterwards: observational studies (unless expanded access), and any trial whose
  target conditions or title name a blood disease (leukaemia, lymphoma, myeloma, MDS, sickle
  cell disease, thalassaemia, GVHD, ...): there the cells treat the blood disease, and stroke is
  at most a complication or outcome. "brainstem" never matches (no bare `stem`), and
  platelet-rich plasma or erythropoietin are simply not stem-cell terms.

Stroke buckets (what is treated):
* Primary evidence: each condition entry, condition MeSH `meshes[]` (never ancestors on their
  own: "Brain Ischemia" is an ancestor of neonatal HIE), titles and keywords. An exclusion pass
  first blanks TIA, neonatal HIE, myocardial infarction, limb ischaemia, traumatic bleeds/TBI,
  subdural/epidural haematoma, "stroke volume", "heat stroke", haemorrhagic transformation.
* Specific buckets (ischemic, ICH, SAH) beat a plain "stroke". "Hemorrhagic stroke" is ICH
  unless the same text says "subarachnoid". A plain "stroke" is upgraded from the inclusion
  part of the eligibility criteria (text before "Exclusion Criteria", with negated mentions
  blanked), then from the summary/description ("chronic non-hemorrhagic stroke"), then from
  condition MeSH ancestors; otherwise it stays `stroke_unspecified`.
* Stroke as one of many conditions: when a record lists at least 8 conditions, fewer than a
  quarter of them are stroke conditions, and neither title nor keywords name a stroke, the
  condition-derived buckets are dropped. Umbrella registrations ("cells for 30 diseases") and
  patient registries list stroke as one item among many; stroke is then not the target. The
  record can still be relevant if the title makes stroke the subject.

Time since stroke (domain.md 2.2): numeric windows ("6-24 hours", "within 14 days", "between
6 and 60 months", "> 6 months") found in a sentence/bullet that mentions the stroke/onset are
bucketed by their upper bound (acute <= 7 days, subacute <= 6 months, chronic beyond); a
window whose lower bound falls in an earlier bucket, or several windows in different buckets,
give "mixed". Sources in order, first hit wins: inclusion criteria; intervention/arm
descriptions, summary, titles; keywords such as "chronic", "recovery phase", "sequelae" in
titles/conditions/inclusion; numeric windows in the detailed description; keywords in the
summary/description. Ages, follow-up periods and dosing schedules are rejected.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import cast

from jobs import vocabulary as vocab
from trialbot.classification import (
    BUCKETS,
    Classification,
    StemCellTier,
    StrokeBucket,
    StrokePhase,
)
from trialbot.model import MeshTerm, Trial

CLASSIFIER_VERSION = 2
"""Bump whenever a rule or term table changes; stored with each result so old ones can be
re-run."""

_SPECIFIC: frozenset[str] = frozenset(BUCKETS) - {"stroke_unspecified"}

# --- compiled tables ------------------------------------------------------------------------

_FOLDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?<=h)a(?=em)", re.I), ""),  # haem-, ischaem- -> hem-, ischem-
    (re.compile(r"(?<=[cklnrt])a(?=emi)", re.I), ""),  # leukaemia, anaemia, -glycaemia
    (re.compile(r"(?<=mobil)is", re.I), "iz"),
    (re.compile(r"(?<=tum)ou(?=r)", re.I), "o"),
    (re.compile("[\u2010-\u2015\u2212]"), "-"),
    (re.compile("[\u2018\u2019\u00b4]"), "'"),
    (re.compile("[\u00ae\u2122]"), ""),
    (re.compile("[ \t\u00a0]{2,}"), " "),
)


def _norm(text: str) -> str:
    """Fold British spellings, dashes and trademark signs so tables spell one form."""
    for pattern, repl in _FOLDS:
        text = pattern.sub(repl, text)
    return text


def _blank(match: re.Match[str]) -> str:
    """Replacement that keeps offsets: masked text becomes spaces."""
    return " " * len(match.group())


def _alternation(
    groups: Iterable[tuple[str, tuple[str, ...]]],
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One regex with a named group per pattern; returns it and group name -> label."""
    parts: list[str] = []
    labels: dict[str, str] = {}
    for label, patterns in groups:
        for pattern in patterns:
            name = f"g{len(labels)}"
            labels[name] = label
            parts.append(f"(?P<{name}>{pattern})")
    return re.compile("|".join(parts), re.I), labels


_CELL_KIND: dict[str, vocab.CellKind] = {key: kind for key, kind, _ in vocab.CELL_TERMS}
_CELL_RE, _CELL_GROUP = _alternation((key, pats) for key, _, pats in vocab.CELL_TERMS)
_CELL_NEUTRAL_RE = re.compile("|".join(vocab.CELL_NEUTRAL), re.I)
_HAEM_RE = re.compile(vocab.HAEM_CONDITION, re.I)
_STROKE_MASK_RE = re.compile("|".join(vocab.STROKE_MASK), re.I)
_STROKE_RE, _STROKE_GROUP = _alternation((bucket, pats) for bucket, pats in vocab.STROKE_TERMS)
_UPGRADE_NEG_RE = re.compile(vocab.UPGRADE_NEGATION, re.I)
_HEMORRHAGIC_RE = re.compile(r"hemorrhagic", re.I)
_BOTH_RE = re.compile(vocab.STROKE_BOTH, re.I)
_SUBARACHNOID_RE = re.compile(r"subarachnoid", re.I)
_PLACEBO_RE = re.compile(
    r"^\s*(?:placebo|sham|vehicle|(?:normal\s+)?saline|control|standard\s+(?:of\s+)?care"
    r"|usual\s+care|best\s+medical)\b",
    re.I,
)
_SKIPPED_ARM_TYPES = frozenset({"PLACEBO_COMPARATOR", "SHAM_COMPARATOR", "NO_INTERVENTION"})
_CELL_CUE_RE = re.compile(
    r"\bcells?\b|\bcellular\b|\btransplant\w*|\bimplant\w*|/kg\b|10\s*\^\s*\d|\bmillion\b"
    r"|\bbillion\b",
    re.I,
)
_SOURCE_GAP = re.compile(r"[^.;\n]{0,25}")
_EXCLUSION_SPLIT = re.compile(
    r"\b(?:key\s+|main\s+|primary\s+|major\s+)?exclusion\s+criteria\b"
    r"|\bnon[-\s]inclusion\s+criteria\b|^\s*exclusions?\s*:",
    re.I | re.M,
)

_SEGMENT_SPLIT = re.compile(r"\n+|(?<=[.;!?])\s+")
_MANY_CONDITIONS = 8
_STROKE_SHARE = 0.25


def _mesh_uid(term: MeshTerm) -> str:
    """Display id. MeSH switched to 9-digit UIs for descriptors added from ~2016 (D0000xxxxx);
    older ones keep the 6-digit form the guide quotes (D045164)."""
    if term.id is None:
        return "D?"
    return f"D{term.id:09d}" if term.id >= 66000 else f"D{term.id:06d}"


def _quote(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- stem-cell evidence --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Hit:
    key: str
    kind: vocab.CellKind
    text: str
    start: int
    end: int


def _has_cell_trigger(text: str) -> bool:
    lower = text.lower()
    return any(t in lower for t in vocab.CELL_TRIGGERS) or any(
        t in text for t in vocab.CELL_TRIGGERS_CASED
    )


def _cell_hits(text: str, short: bool) -> list[_Hit]:
    """Cell terms in one field, with cell-free products demoting the core words they name.

    Long text is cut into sentences first and only sentences holding a trigger substring
    reach the big alternation; a product and its source are always in one sentence.
    """
    folded = _norm(text)
    if not _has_cell_trigger(folded):
        return []
    if short or len(folded) < 400:
        return _sentence_cell_hits(folded, short)
    return [
        h
        for sentence in _SEGMENT_SPLIT.split(folded)
        if _has_cell_trigger(sentence)
        for h in _sentence_cell_hits(sentence, short)
    ]


def names_cells(text: str) -> bool:
    """The text names a stem-cell, cell or cell-free product the classifier counts (core or
    borderline): how the facts tell the product from co-treatments."""
    return bool(_cell_hits(text, short=False))


def _sentence_cell_hits(folded: str, short: bool) -> list[_Hit]:
    masked = _CELL_NEUTRAL_RE.sub(_blank, folded)
    hits = []
    for m in _CELL_RE.finditer(masked):
        key = _CELL_GROUP[m.lastgroup or ""]
        hits.append(_Hit(key, _CELL_KIND[key], m.group(), m.start(), m.end()))
    cellfree = [h for h in hits if h.kind == "cellfree"]
    if not cellfree:
        return hits
    if short:
        return [h for h in hits if h.kind != "core"]
    return [
        h for h in hits if h.kind != "core" or not any(_adjacent(masked, h, c) for c in cellfree)
    ]


def _adjacent(text: str, a: _Hit, b: _Hit) -> bool:
    """Within a few words of each other in one sentence ("MSC-derived exosomes")."""
    lo, hi = (a.end, b.start) if a.end <= b.start else (b.end, a.start)
    return hi >= lo and _SOURCE_GAP.fullmatch(text[lo:hi]) is not None


@dataclass
class _CellEvidence:
    """Hits per place, as (hit, where) pairs, plus the facts the tier rule needs."""

    interventions: list[tuple[_Hit, str]] = field(default_factory=list)
    titles: list[tuple[_Hit, str]] = field(default_factory=list)
    has_interventions: bool = False
    cell_cue: bool = False

    def kinds(self, place: list[tuple[_Hit, str]]) -> set[str]:
        return {h.kind for h, _ in place}


def _collect_cells(trial: Trial) -> _CellEvidence:
    ev = _CellEvidence()
    for iv in trial.interventions:
        ev.has_interventions = True
        if _PLACEBO_RE.match(iv.name):
            continue
        where = f"intervention '{_quote(iv.name)}'"
        name_hits = _cell_hits(" ; ".join((iv.name, *iv.other_names)), short=True)
        hits = list(name_hits)
        if not any(h.kind == "cellfree" for h in name_hits) and iv.description:
            hits += _cell_hits(iv.description, short=False)
        ev.interventions += [(h, where) for h in hits]
        if _CELL_CUE_RE.search(" ".join((iv.name, *iv.other_names, iv.description or ""))):
            ev.cell_cue = True
    for arm in trial.arms:
        ev.has_interventions = True
        if arm.type in _SKIPPED_ARM_TYPES or _PLACEBO_RE.match(arm.label):
            continue
        where = f"arm '{_quote(arm.label)}'"
        label_hits = _cell_hits(arm.label, short=True)
        hits = list(label_hits)
        if not any(h.kind == "cellfree" for h in label_hits) and arm.description:
            hits += _cell_hits(arm.description, short=False)
        ev.interventions += [(h, where) for h in hits]
        if _CELL_CUE_RE.search(f"{arm.label} {arm.description or ''}"):
            ev.cell_cue = True
    for term in trial.intervention_mesh:
        found = vocab.INTERVENTION_MESH_TERMS.get(term.term.casefold())
        if found is None and term.id is not None:
            found = vocab.INTERVENTION_MESH_IDS.get(term.id)
        if found is not None:
            key, kind = found
            hit = _Hit(key, kind, term.term, 0, 0)
            ev.interventions.append((hit, f"mesh-intervention:{_mesh_uid(term)} '{term.term}'"))
    for title in (trial.brief_title, trial.official_title, trial.acronym):
        if title:
            ev.titles += [(h, f"title '{_quote(title)}'") for h in _cell_hits(title, short=True)]
    return ev


def _cell_reason(hit: _Hit, where: str) -> str:
    if where.startswith("mesh-"):
        return f"{where} ({hit.key})"
    return f"cell:{hit.key} '{_quote(hit.text, 60)}' in {where}"


def _pick(place: list[tuple[_Hit, str]], kinds: set[str]) -> list[str]:
    """One reason per (key, place), in order of appearance."""
    seen: set[tuple[str, str]] = set()
    out = []
    for hit, where in place:
        if hit.kind in kinds and (hit.key, where) not in seen:
            seen.add((hit.key, where))
            out.append(_cell_reason(hit, where))
    return out


# --- stroke buckets ------------------------------------------------------------------------


def _stroke_hits(text: str) -> list[tuple[str, str]]:
    """(bucket, matched text) in one piece of text, after the exclusion pass."""
    folded = _norm(text)
    lower = folded.lower()
    if not any(t in lower for t in vocab.STROKE_TRIGGERS):
        return []
    masked = _STROKE_MASK_RE.sub(_blank, folded)
    subarachnoid = _SUBARACHNOID_RE.search(masked) is not None
    out = []
    for m in _BOTH_RE.finditer(masked):
        out += [("ischemic", m.group()), ("intracerebral_hemorrhage", m.group())]
    for m in _STROKE_RE.finditer(masked):
        bucket = _STROKE_GROUP[m.lastgroup or ""]
        if (
            bucket == "intracerebral_hemorrhage"
            and subarachnoid
            and _HEMORRHAGIC_RE.search(m.group())
        ):
            bucket = "subarachnoid_hemorrhage"  # "hemorrhagic stroke" unless "subarachnoid"
        out.append((bucket, m.group()))
    return out


def _specific_in(text: str) -> list[tuple[str, str]]:
    """Specific buckets in free text, negated mentions ("no hemorrhage") blanked."""
    cleaned = _UPGRADE_NEG_RE.sub(_blank, _STROKE_MASK_RE.sub(_blank, _norm(text)))
    return [(b, t) for b, t in _stroke_hits(cleaned) if b in _SPECIFIC]


def inclusion_criteria(trial: Trial) -> str:
    """The part of the eligibility text before the exclusion list (which names hemorrhage,
    prior stroke, etc. as reasons to exclude)."""
    text = trial.eligibility.criteria or ""
    m = _EXCLUSION_SPLIT.search(text)
    return text[: m.start()] if m else text


def _buckets(trial: Trial, reasons: list[str]) -> tuple[StrokeBucket, ...]:
    cond_hits: list[tuple[str, str, str]] = []  # (bucket, matched, where)
    stroke_conditions = 0
    for cond in trial.conditions:
        found = _stroke_hits(cond)
        stroke_conditions += bool(found)
        cond_hits += [(b, t, f"condition '{_quote(cond)}'") for b, t in found]
    for term in trial.condition_mesh:
        bucket = vocab.CONDITION_MESH_TERMS.get(term.term.casefold())
        if bucket is None and term.id is not None:
            bucket = vocab.CONDITION_MESH_IDS.get(term.id)
        if bucket is not None:
            cond_hits.append((bucket, term.term, f"mesh-condition {_mesh_uid(term)}"))
    other_hits: list[tuple[str, str, str]] = []
    for title in (trial.brief_title, trial.official_title, trial.acronym):
        if title:
            other_hits += [(b, t, f"title '{_quote(title)}'") for b, t in _stroke_hits(title)]
    for kw in trial.keywords:
        other_hits += [(b, t, f"keyword '{_quote(kw)}'") for b, t in _stroke_hits(kw)]

    n = len(trial.conditions)
    if (
        cond_hits
        and n >= _MANY_CONDITIONS
        and stroke_conditions < _STROKE_SHARE * n
        and not other_hits
    ):
        reasons.append(
            f"stroke:ignored, {stroke_conditions} of {n} listed conditions and not "
            "named in the title or keywords"
        )
        cond_hits = []

    hits = cond_hits + other_hits
    specific = [h for h in hits if h[0] in _SPECIFIC]
    if specific:
        chosen = specific
    elif hits:
        chosen = _upgrade(trial) or hits
    else:
        return ()
    seen: set[tuple[str, str]] = set()
    for label, matched, where in chosen:
        if (label, where) not in seen:
            seen.add((label, where))
            reasons.append(
                f"stroke:{label} from {where}"
                + ("" if matched.casefold() in where.casefold() else f" ('{_quote(matched, 60)}')")
            )
    return cast(tuple[StrokeBucket, ...], tuple(sorted({b for b, _, _ in chosen})))


def _upgrade(trial: Trial) -> list[tuple[str, str, str]]:
    """Refine a plain "stroke" from inclusion criteria, then summary, then MeSH ancestors."""
    sources = (
        ("inclusion criteria", inclusion_criteria(trial)),
        ("summary", " \n".join(t for t in (trial.summary, trial.detailed_description) if t)),
    )
    for where, text in sources:
        found = _specific_in(text) if text else []
        if found:
            return [(b, t, f"{where} (upgraded plain 'stroke')") for b, t in found]
    for term in trial.condition_mesh_ancestors:
        bucket = vocab.ANCESTOR_TIEBREAK.get(term.term.casefold())
        if bucket is not None:
            return [
                (bucket, term.term, f"mesh-ancestor {_mesh_uid(term)} (upgraded plain 'stroke')")
            ]
    return []


# --- time since stroke ---------------------------------------------------------------------

_NUM = r"\d+(?:\.\d+)?"
_UNIT = r"(?:hours?|hrs?|h|days?|d|weeks?|wks?|months?|mos?|years?|yrs?)\b"
_WINDOW_RE = re.compile(
    rf"(?:between\s+)?(?P<a>{_NUM})\s*(?P<ua>{_UNIT})?\s*(?:-|to|and|~|through|until)\s*"
    rf"(?P<b>{_NUM})\s*(?P<ub>{_UNIT})"
    rf"|(?:(?:within|(?:less|fewer|shorter)\s+than|up\s+to|(?:no|not)\s+(?:more|later)\s+than"
    rf"|under|in\s+the\s+(?:first|previous|past|last|preceding)|during(?:\s+the)?"
    rf"(?:\s+first)?)\s+|<=?\s*|≤\s*)(?:the\s+)?(?:first\s+)?(?P<un>{_NUM})\s*(?P<uu>{_UNIT})"
    rf"|in\s+the\s+(?P<pn>{_NUM})\s+(?:previous|preceding|last|past)\s+(?P<pu>{_UNIT})"
    rf"|(?:within|in|during)\s+the\s+first\s+(?P<fu>hour|day|week|month|year)\b"
    rf"|(?:(?:(?:more|greater|longer)\s+than|at\s+least|over|beyond|(?:a\s+)?minimum\s+of)"
    rf"\s+|>=?\s*|≥\s*)(?P<ln>{_NUM})\s*(?P<lu>{_UNIT})"
    rf"|(?P<pt>{_NUM})\s*(?P<ptu>{_UNIT})\s*(?:after|post|following|from|since)[-\s]+"
    rf"(?:the\s+|their\s+|index\s+|qualifying\s+|symptom\s+)*(?:stroke|onset|ictus|infarct"
    rf"|hemorrhage|bleed|event|symptom)",
    re.I,
)
_REJECT_AFTER = re.compile(
    r"\s*(?:of\s+age|old\b|of\s+follow|follow[-\s]?up\b|followed\b|of\s+(?:treatment|therapy)|study\s+period"
    r"|apart|interval|before\s+(?:the\s+)?(?:first\s+)?(?:treatment|transplant\w*|infusion"
    r"|injection|implant\w*|surgery|operation|dosing|dose|administration|procedure)"
    r"|after\s+(?:the\s+)?(?:first\s+)?(?:treatment|transplant\w*"
    r"|infusion|injection|implant\w*|surgery|operation|randomi\w+|enrol\w+|administration"
    r"|dosing|dose|procedure|inclusion|screening|baseline|intervention)|prior\s+to\s+(?!"
    r"(?:the\s+)?(?:stroke|onset|index|qualifying)))",
    re.I,
)
_REJECT_BEFORE = re.compile(
    r"(?:\bages?d?|follow[-\s]?up|followed(?:\s+up)?|\bfor|\bevery|\beach|\bover\s+the"
    r"|\bduration|\bperiod|\bper)\W*(?:of\s+)?(?:between\s+)?$",
    re.I,
)
_CONTEXT_RE = re.compile(rf"\b(?:{vocab.PHASE_CONTEXT})\b", re.I)
_NUMBER_WORD_RE = re.compile(
    r"\b(" + "|".join(sorted(vocab.NUMBER_WORDS, key=len, reverse=True)) + r")"
    r"(?:[-\s](one|two|three|four|five|six|seven|eight|nine))?\b",
    re.I,
)
_PHASE_KW: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (phase, re.compile(pattern, re.I)) for phase, pattern in vocab.PHASE_KEYWORDS
)
_PATIENTS_RE = re.compile(
    r"\b(?:patients?|subjects?|participants?|people|persons?|adults?|individuals?|survivors?"
    r"|volunteers?)\b",
    re.I,
)
_ACUTE_MAX, _SUBACUTE_MAX, _CHRONIC_MIN = 7.0, 183.0, 180.0


def _words_to_numbers(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        value = vocab.NUMBER_WORDS[m.group(1).lower()]
        if m.group(2) and value >= 20:
            value += vocab.NUMBER_WORDS[m.group(2).lower()]
        elif m.group(2):
            return f"{value} {m.group(2)}"
        return str(value)

    return _NUMBER_WORD_RE.sub(repl, text)


def _unit_days(unit: str) -> float:
    u = unit.lower()
    key = "mo" if u.startswith("mo") else u[0]
    return vocab.UNIT_DAYS[key]


def _phase_of_upper(days: float) -> str:
    return "acute" if days <= _ACUTE_MAX else "subacute" if days <= _SUBACUTE_MAX else "chronic"


def _phase_of_lower(days: float) -> str:
    return "acute" if days < _ACUTE_MAX else "subacute" if days < _CHRONIC_MIN else "chronic"


def _window_phases(m: re.Match[str]) -> set[str]:
    """Phase buckets one matched window spans."""
    g = m.group
    if g("b"):
        unit_b = _unit_days(g("ub"))
        lo = float(g("a")) * (_unit_days(g("ua")) if g("ua") else unit_b)
        hi = float(g("b")) * unit_b
        lo, hi = min(lo, hi), max(lo, hi)
        return {_phase_of_lower(lo), _phase_of_upper(hi)}
    if g("un"):
        return {_phase_of_upper(float(g("un")) * _unit_days(g("uu")))}
    if g("pn"):
        return {_phase_of_upper(float(g("pn")) * _unit_days(g("pu")))}
    if g("fu"):
        return {_phase_of_upper(_unit_days(g("fu")))}
    if g("ln"):
        return {_phase_of_lower(float(g("ln")) * _unit_days(g("lu"))), "chronic"}
    return {_phase_of_lower(float(g("pt")) * _unit_days(g("ptu")))}


def _windows(texts: Iterable[str]) -> tuple[set[str], list[str]]:
    """Phases from numeric windows in sentences that mention the stroke; and the snippets."""
    phases: set[str] = set()
    snippets: list[str] = []
    for text in texts:
        for segment in _SEGMENT_SPLIT.split(_words_to_numbers(_norm(text))):
            if not _CONTEXT_RE.search(segment):
                continue
            for m in _WINDOW_RE.finditer(segment):
                if _REJECT_AFTER.match(segment, m.end()) or _REJECT_BEFORE.search(
                    segment[max(0, m.start() - 25) : m.start()]
                ):
                    continue
                phases |= _window_phases(m)
                snippets.append(_quote(m.group(), 40))
    return phases, snippets


def _keywords(texts: Iterable[str]) -> tuple[set[str], list[str]]:
    """Phase words anywhere (titles, conditions, keywords, inclusion criteria)."""
    return _keyword_scan(texts, about_patients=False)


def _patient_keywords(texts: Iterable[str]) -> tuple[set[str], list[str]]:
    """Phase words in prose, counted only when they describe the people enrolled ("patients
    with chronic stroke"), not a lab step ("serum obtained at the acute phase") or
    background ("thrombolysis treats acute stroke")."""
    return _keyword_scan(texts, about_patients=True)


def _keyword_scan(texts: Iterable[str], about_patients: bool) -> tuple[set[str], list[str]]:
    phases: set[str] = set()
    snippets: list[str] = []
    for text in texts:
        folded = _norm(text)
        for phase, pattern in _PHASE_KW:
            for m in pattern.finditer(folded):
                if about_patients and not _PATIENTS_RE.search(
                    folded, max(0, m.start() - 60), m.start()
                ):
                    continue
                phases.add(phase)
                snippets.append(_quote(m.group(), 40))
    return phases, snippets


def _phase(trial: Trial, reasons: list[str]) -> StrokePhase:
    inclusion = inclusion_criteria(trial)
    titles = [t for t in (trial.brief_title, trial.official_title) if t]
    middle = [
        *(iv.description for iv in trial.interventions if iv.description),
        *(arm.description for arm in trial.arms if arm.description),
        *([trial.summary] if trial.summary else []),
        *titles,
    ]
    structured = [*titles, *trial.conditions, *trial.keywords, inclusion]
    description = [trial.detailed_description] if trial.detailed_description else []
    finders: tuple[
        tuple[str, Callable[[Iterable[str]], tuple[set[str], list[str]]], list[str]], ...
    ] = (
        ("inclusion criteria", _windows, [inclusion]),
        ("interventions/summary", _windows, middle),
        ("wording in titles/conditions/inclusion", _keywords, structured),
        ("detailed description", _windows, description),
        ("wording in summary/description", _patient_keywords, [trial.summary or "", *description]),
    )
    for where, finder, texts in finders:
        phases, snippets = finder(texts)
        if phases:
            phase = cast(StrokePhase, phases.pop() if len(phases) == 1 else "mixed")
            shown = ", ".join(f"'{s}'" for s in dict.fromkeys(snippets))
            reasons.append(f"phase:{phase} from {where} ({_quote(shown, 120)})")
            return phase
    return "unspecified"


# --- the verdict ---------------------------------------------------------------------------


def _haem_condition(trial: Trial) -> str | None:
    """The first target condition (or title) naming a blood disease."""
    texts = [
        *trial.conditions,
        *(m.term for m in trial.condition_mesh),
        trial.brief_title,
        trial.official_title or "",
    ]
    for text in texts:
        if text and _HAEM_RE.search(_norm(text)):
            return text
    return None


def classify(trial: Trial) -> Classification:
    """Classify one trial (pure, no I/O)."""
    reasons: list[str] = []
    stroke_reasons: list[str] = []
    buckets = _buckets(trial, stroke_reasons)
    ev = _collect_cells(trial)
    int_kinds = ev.kinds(ev.interventions)
    title_kinds = ev.kinds(ev.titles)
    titles_count = not ev.has_interventions or ev.cell_cue

    tier: StemCellTier
    hsct_only = False
    if "core" in int_kinds:
        tier = "core"
        reasons += _pick(ev.interventions, {"core"})
    elif int_kinds & {"borderline", "cellfree"}:
        tier = "borderline"
        reasons += _pick(ev.interventions, {"borderline", "cellfree"})
        if "cellfree" in int_kinds:
            reasons.append("borderline:cell-free or stem-cell-mobilising product, no cells given")
    elif "hsct" in int_kinds:
        tier, hsct_only = "core", True
        reasons += _pick(ev.interventions, {"hsct"})
    elif titles_count and "core" in title_kinds:
        tier = "core"
        reasons += _pick(ev.titles, {"core"})
        reasons.append(
            "cell: named in the title only"
            + (
                " (record lists no interventions)"
                if not ev.has_interventions
                else " (intervention is an unnamed cell product)"
            )
        )
    elif titles_count and title_kinds & {"borderline", "cellfree"}:
        tier = "borderline"
        reasons += _pick(ev.titles, {"borderline", "cellfree"})
    elif titles_count and "hsct" in title_kinds:
        tier, hsct_only = "core", True
        reasons += _pick(ev.titles, {"hsct"})
    else:
        tier = "excluded"
        reasons.append("exclude:no stem-cell or cell-derived intervention found")

    haem = _haem_condition(trial)
    if tier != "excluded" and haem is not None:
        tier = "excluded"
        what = "hsct" if hsct_only or "hsct" in int_kinds | title_kinds else "cells"
        reasons.append(f"exclude:{what} for haematological disease '{_quote(haem)}'")
    elif hsct_only and not buckets:
        tier = "excluded"
        reasons.append("exclude:hsct without a stroke target")
    if (
        tier != "excluded"
        and trial.design.study_type == "OBSERVATIONAL"
        and not (trial.has_expanded_access)
    ):
        tier = "excluded"
        reasons.append("exclude:observational study (no treatment given)")

    reasons += stroke_reasons
    phase: StrokePhase = _phase(trial, reasons) if buckets else "unspecified"
    if not buckets:
        reasons.append("stroke:none (no stroke condition, title or keyword)")
    return Classification(
        tier=tier, buckets=buckets, stroke_phase=phase, reasons=tuple(dict.fromkeys(reasons))
    )
