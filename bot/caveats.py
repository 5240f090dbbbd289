"""Safety caveats: the rule table of shared/domain.md section 3, as data plus small predicates.

Each rule has an id (C0, C1, R1 ... R16), a severity (A always shown, H red flag, M medium,
I information) and a message key in the `alerts` catalog; its predicate looks at one trial,
the classifier's verdict and today's date and says whether it fires, with which wording
variant and parameters. Rules never reword registry text except to quote it (R9 quotes the
sponsor's reason for stopping, R13 the hype word), and quotes are shortened, never edited.

R14 ("the same product registered for many unrelated diseases") needs a sponsor's other
registrations, which one record does not hold; what one record can show is implemented: the
record itself lists a cell product for several unrelated groups of diseases (umbrella
registrations do exactly that). The cross-record version would need a query over the store.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Literal

from bot.plain import record
from bot.plain.words import ROUTE_KEYS
from jobs.classify import inclusion_criteria
from jobs.facts import extract, fold, segments, title_texts, treatment_texts
from trialbot.classification import Classification
from trialbot.facts import TrialFacts
from trialbot.model import Trial
from trialbot.publications import KnownSoFar, overdue_since

Severity = Literal["A", "H", "M", "I"]
SEVERITY_RANK: Mapping[Severity, int] = {"A": 0, "H": 1, "M": 2, "I": 3}


@dataclass(frozen=True)
class Caveat:
    """One fired rule, ready to word: `key` in the alerts catalog, filled with `params`
    (registry text in params is raw; the renderer escapes it); `count` selects a plural."""

    rule: str
    severity: Severity
    key: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    count: int | None = None


@dataclass(frozen=True)
class Hit:
    """What a predicate returns when its rule fires: a variant of the rule's wording."""

    variant: str = ""
    params: Mapping[str, str | int] = field(default_factory=dict)
    severity: Severity | None = None
    count: int | None = None


class Context:
    """The inputs of every predicate, with the facts several rules share computed once."""

    def __init__(
        self,
        trial: Trial,
        verdict: Classification,
        today: date,
        facts: TrialFacts,
        known: KnownSoFar | None = None,
    ) -> None:
        self.trial, self.verdict, self.today, self.facts = trial, verdict, today, facts
        self.known = known

    @cached_property
    def main_cell(self) -> str | None:
        return record.main_cell(self.verdict)

    @cached_property
    def is_cell_product(self) -> bool:
        """Cells or a cell-derived product are given (what R1b/R14 are about)."""
        return self.verdict.tier != "excluded" or self.main_cell is not None

    @cached_property
    def pay(self) -> str | None:
        """The first pay-to-take-part wording that no negation cancels (R6)."""
        t = self.trial
        texts = [
            *title_texts(t),
            *record.prose_texts(t),
            t.eligibility.criteria or "",
            *(a.description or "" for a in t.arms),
            *(i.description or "" for i in t.interventions),
        ]
        return _first_unnegated(texts, _PAY, _PAY_NEG)

    @cached_property
    def hype(self) -> str | None:
        """The first hype word in the sponsor's own descriptions (R13)."""
        t = self.trial
        texts = [*title_texts(t), *record.prose_texts(t), *treatment_texts(t)]
        return _first_unnegated(texts, _HYPE, None)


Predicate = Callable[[Context], Iterable[Hit]]


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    """The usual severity; a hit may raise it (R5 with fees, R10 for invasive routes)."""
    key: str
    check: Predicate
    why: str


# --- regexes for registry wording (English, Spanish, Chinese) ------------------------------

_PAY = re.compile(
    # English (shared/domain.md 3.2)
    r"\b(?:patient[-\s]funded|self[-\s]funded|self[-\s]pay(?:ing)?|out[-\s]of[-\s]pocket"
    r"|at\s+(?:their|the\s+patient'?s|own)\s+(?:own\s+)?(?:cost|expense)"
    r"|(?:treatment|procedure|therapy|participation)\s+(?:fee|cost|charge)s?"
    r"|fees?\s+(?:will|must|are\s+to)\s+be\s+paid|paid\s+by\s+(?:the\s+)?(?:patient|participant)s?"
    r"|cost\s+(?:of|for)\s+(?:the\s+)?(?:treatment|therapy|cells)|package\s+price"
    r"|US\$\s?\d|USD\s?\d)|\$\s?\d{3,}"
    # Spanish
    r"|\ba\s+cargo\s+de(?:l|\s+los)\s+(?:paciente|participante)s?\b"
    r"|\bpagad[oa]s?\s+por\s+(?:el|los)\s+(?:paciente|participante)s?\b|\bautofinanciad[oa]s?\b"
    r"|\b(?:el|los)\s+pacientes?\s+(?:debe|deben|deberá|deberán|tendrá|tendrán)\s+(?:que\s+)?"
    r"pagar\b|\b(?:costo|coste|precio|tarifa|cuota)s?\s+del\s+(?:tratamiento|procedimiento"
    r"|paquete|programa)\b|\bcopago\b"
    # Chinese
    r"|自费|自付|费用由患者(?:自行)?承担|患者(?:需|须)?(?:自行)?承担(?:全部|相关)?费用"
    r"|(?<![不免无])收费|需(?:缴纳|支付)(?:治疗)?费用",
    re.I,
)
_PAY_NEG = re.compile(
    r"\b(?:free\s+of\s+charge|at\s+no\s+(?:cost|charge)|no\s+(?:cost|charge|fee)s?\b"
    r"|will\s+not\s+be\s+charged|not\s+be\s+charged|covered\s+by\s+the\s+(?:study|sponsor)"
    r"|without\s+(?:any\s+)?(?:cost|charge)|free\s+for\s+(?:patients|participants))"
    r"|\bgratuit[oa]s?\b|\bgratis\b|\bsin\s+(?:ningún\s+)?(?:costo|coste|cargo)\b"
    r"|\bno\s+(?:tendrá|tendrán|supondrá)\s+(?:ningún\s+)?(?:costo|coste)\b"
    r"|\bno\s+(?:pagará|pagarán|tendrá\s+que\s+pagar)\b"
    r"|\bcubiert[oa]s?\s+por\s+el\s+(?:estudio|promotor|patrocinador)\b"
    r"|免费|不收取|无需(?:支付|缴纳|承担|付费)|不收费|由(?:申办方|研究方|项目)(?:承担|支付)",
    re.I,
)
_HYPE = re.compile(
    r"\b(?:cure[sd]?|curing|miracle\w*|guarantee[sd]?|breakthrough(?!\s+(?:seizure|bleed"
    r"|pain|infection))|success\s+rate|revolutionary"
    r"|\d{2,3}\s?%\s+(?:of\s+)?(?:(?:the\s+)?(?:patients|people)\s+)?(?:improv|recover|success"
    r"|respond)\w*)"
    r"|\b(?:cura(?:r|ción|ciones|n)?|milagros[oa]s?|milagros?|garantizad[oa]s?|garantiza(?:mos|n)?"
    r"|revolucionari[oa]s?|tasa\s+de\s+éxito)\b"
    r"|\b\d{2,3}\s?%\s+de\s+(?:los\s+)?(?:pacientes\s+)?(?:mejor|se\s+recuper|éxito)\w*"
    r"|治愈|根治|神奇|奇迹|保证(?:有效|治愈|康复)|突破性|有效率(?:高达|达)?\s?\d{2,3}\s?%|成功率",
    re.I,
)
_NEGATOR = re.compile(
    r"(?:\b(?:no|not|without|cannot|can't|nor|never|lack\s+of|unlikely\s+to|sin|ni|nunca)\b"
    r"[^.;:]{0,25}|(?:无法|不能|尚无|没有|无|未|不)\S{0,3})$",
    re.I,
)


def _first_unnegated(
    texts: Iterable[str], pattern: re.Pattern[str], cancel: re.Pattern[str] | None
) -> str | None:
    """The first match not cancelled in its sentence: by a cancelling phrase anywhere in it
    ("free of charge"), or by a negation word just before it ("no treatment fee")."""
    for text in texts:
        for segment in segments(fold(text)):
            if cancel is not None and cancel.search(segment):
                continue
            for m in pattern.finditer(segment):
                if not _NEGATOR.search(segment[: m.start()]):
                    return m.group().strip()
    return None


_IMMUNO = re.compile(
    r"\btacrolimus\b|\bcyclosporin\w*|\bciclosporin\w*|\bimmuno-?suppress\w*|\bmycophenol\w*"
    r"|\bsirolimus\b|\bprograf\b|免疫抑制|他克莫司|环孢素",
    re.I,
)
_EXCLUDED = re.compile(r"\bexclu\w*", re.I)
_CELL_LINE = re.compile(r"\bcell[-\s]line\b|\bimmortali[sz]ed\b", re.I)
_GROUPS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern, re.I))
    for name, pattern in (
        (
            "stroke",
            r"stroke|cerebrovascular|cerebral\s+infarct|brain\s+infarct|intracerebral"
            r"|subarachnoid|brain\s+isch",
        ),
        (
            "neurodegenerative",
            r"parkinson|alzheimer|dementia|amyotrophic|\bALS\b"
            r"|multiple\s+sclerosis|huntington|ataxia|neuropath",
        ),
        ("injury", r"spinal\s+cord|brain\s+injur|\bTBI\b|cerebral\s+palsy"),
        ("developmental", r"autis|down\s+syndrome|developmental"),
        ("heart", r"heart|cardi|myocard|coronary"),
        ("metabolic", r"diabet|obes|metabolic"),
        ("joints", r"arthritis|osteo|cartilage|\bknee|joint|tendon|ligament|\bbone\b"),
        ("lung", r"lung|pulmonary|\bCOPD\b|asthma|respiratory|covid"),
        ("liver_kidney", r"liver|hepat|cirrho|kidney|renal"),
        ("autoimmune", r"lupus|rheumat|crohn|colitis|psoria|scleroderma|autoimmun"),
        ("eye", r"retin|macular|\beye|vision|optic|glaucoma"),
        ("skin_aging", r"\bskin|wound|burn|\baging|ageing|alopecia|\bhair\b"),
        ("sexual", r"erectile|infertil|incontinence"),
        ("limb", r"limb\s+isch|peripheral\s+arter"),
    )
)
_MANY_GROUPS = 4


# --- predicates ----------------------------------------------------------------------------


def _always(c: Context) -> Iterable[Hit]:
    return (Hit(),)


def _r1_early(c: Context) -> Iterable[Hit]:
    """Phase 1 checks safety and dose; say "not whether it helps" only when the record states
    no efficacy aim and is not also phase 2."""
    phases = set(c.trial.phases)
    if phases & {"EARLY_PHASE1", "PHASE1"}:
        yield Hit(".looks" if c.facts.efficacy_aim or "PHASE2" in phases else "")


def _r1b_no_phase(c: Context) -> Iterable[Hit]:
    phases = set(c.trial.phases)
    if c.is_cell_product and phases <= {"NA"} and c.trial.design.study_type != "EXPANDED_ACCESS":
        yield Hit()


def _r2_small(c: Context) -> Iterable[Hit]:
    count = c.facts.enrollment_count
    if count is not None and 0 < count < 50:
        kind = {True: ".actual", False: ".planned", None: ".listed"}[c.facts.enrollment_actual]
        yield Hit(kind, {}, count=count)


def _r3_no_control(c: Context) -> Iterable[Hit]:
    compared = c.facts.control
    if compared == "none":
        # "after a stroke" only where the study is about stroke
        stroke = bool(c.verdict.buckets) and c.facts.population != "newborns"
        yield Hit("" if stroke else ".general")
    elif c.facts.randomised is False and compared is not None:
        yield Hit(".nonrandom")


def _r3b_open_label(c: Context) -> Iterable[Hit]:
    if c.trial.design.masking == "NONE" and record.rated_primary_outcome(c.trial):
        yield Hit()


def _r4_single_site(c: Context) -> Iterable[Hit]:
    """Only what the record shows: it says one centre, or lists one place and does not say
    it is multicentre."""
    if c.facts.multicentre is False:
        yield Hit()
        return
    places = {(s.facility or s.key).strip().casefold() for s in c.trial.sites}
    if c.facts.multicentre is None and len(places) == 1:
        yield Hit(".listed")


def _r5_sponsor(c: Context) -> Iterable[Hit]:
    sponsor = c.trial.sponsor.name if c.trial.sponsor else ""
    if c.facts.sponsor_kind == "company":
        yield Hit(".industry", {"sponsor": record.shorten(sponsor, 80)})
    elif c.facts.sponsor_kind == "non_company" and c.pay is not None:
        yield Hit(".private_pay", severity="H")


def _r6_pay(c: Context) -> Iterable[Hit]:
    if c.pay is not None:
        yield Hit()


def _r7_expanded(c: Context) -> Iterable[Hit]:
    if c.trial.design.study_type == "EXPANDED_ACCESS" or c.trial.has_expanded_access:
        yield Hit()


def overdue_end(trial: Trial, known: KnownSoFar, today: date) -> str | None:
    """The record's end (`yyyy-MM`, or `yyyy` when it gives only a year) when the trial ended
    (completed or terminated) over a year ago and nothing of its results is known since: none
    posted on the registry, no results paper stored (`trialbot.publications.overdue_since`).
    The end is the record's completion date, else its primary completion; a date the record
    still marks as estimated is no end. None otherwise."""
    end = trial.dates.completion or trial.dates.primary_completion
    ended = end.date if end else None
    estimated = end.estimated if end else None
    if not ended or overdue_since(trial.overall_status, ended, estimated, known, today) is None:
        return None
    return ended[:4] if len(ended) == 4 else ended[:7]


def _r8_no_results(c: Context) -> Iterable[Hit]:
    """`overdue_end`, only when the caller loaded the trial's publications (`known`): without
    them nothing is said, rather than something unchecked."""
    if c.known is None:
        return
    ended = overdue_end(c.trial, c.known, c.today)
    if ended is not None:  # worded as a month (or year) by the renderer
        # before any look for papers, only the registry's own results flag is known
        yield Hit("" if c.known.looked else ".registry", {"month_year": ended})


_STOPPED_VARIANTS = {"TERMINATED": ".stopped", "SUSPENDED": ".paused", "WITHDRAWN": ".withdrawn"}


def _r9_stopped(c: Context) -> Iterable[Hit]:
    variant = _STOPPED_VARIANTS.get(c.trial.overall_status or "")
    if variant is None:
        return
    reason = record.shorten(c.trial.why_stopped or "", 160)
    if reason:
        yield Hit(variant + ".reason", {"reason": reason})
    else:
        yield Hit(variant)


_ROUTE_RISKS = frozenset(
    {"iv", "ia", "intracerebral", "intracavitary", "intraventricular", "intrathecal", "intranasal"}
)
"""The routes shared/domain.md 3.3 gives risk texts for (rule R10), by their catalog key; the
others are only worded in "how it is given"."""
_INVASIVE = frozenset({"ia", "intracerebral", "intracavitary", "intraventricular", "intrathecal"})


def _r10_route(c: Context) -> Iterable[Hit]:
    found = [k for r in c.facts.routes if (k := ROUTE_KEYS[r]) in _ROUTE_RISKS]
    for route in found:
        yield Hit(f".{route}", {"route": route}, severity="H" if route in _INVASIVE else "M")
    if len(found) > 1 and c.facts.routes_together:
        yield Hit(".multiple")


def _r11_cell_line(c: Context) -> Iterable[Hit]:
    keys = record.cell_keys(c.verdict)
    text = " ".join(treatment_texts(c.trial))
    if keys & {"esc_derived", "ipsc_derived", "nsc"} or _CELL_LINE.search(text):
        yield Hit()


def _r12_immune(c: Context) -> Iterable[Hit]:
    t = c.trial
    texts = [*treatment_texts(t), *record.prose_texts(t), inclusion_criteria(t)]
    for text in texts:
        for segment in segments(fold(text)):
            if _EXCLUDED.search(segment):
                continue
            m = _IMMUNO.search(segment)
            if m and not _NEGATOR.search(segment[: m.start()]):
                yield Hit()
                return


def _r13_hype(c: Context) -> Iterable[Hit]:
    if c.hype is not None:
        yield Hit(params={"word": record.shorten(c.hype, 40)})


def _r14_many_diseases(c: Context) -> Iterable[Hit]:
    if not c.is_cell_product:
        return
    names = [*c.trial.conditions, *(m.term for m in c.trial.condition_mesh)]
    groups = {g for g, rx in _GROUPS for n in names if rx.search(n)}
    if len(groups) >= _MANY_GROUPS:
        yield Hit()


def _r15_donor(c: Context) -> Iterable[Hit]:
    if c.main_cell not in (None, "ev", "gcsf") and record.origin(c.trial, c.verdict) == "donor":
        yield Hit()


def _r16_harvest(c: Context) -> Iterable[Hit]:
    if c.main_cell in (None, "ev", "gcsf") or record.origin(c.trial, c.verdict) != "own":
        return
    site = record.harvest_site(c.trial, c.verdict)
    yield Hit(f".{site}" if site else ".own")


RULES: tuple[Rule, ...] = (
    Rule("C0", "A", "caveat.c0", _always, "no stem-cell treatment is approved for stroke"),
    Rule("C1", "A", "caveat.c1", _always, "a registry listing is not an endorsement"),
    Rule("R1", "M", "caveat.r1", _r1_early, "phase 1 checks safety and dose"),
    Rule("R1b", "M", "caveat.r1b", _r1b_no_phase, "a cell product without a testing phase"),
    Rule("R2", "M", "caveat.r2", _r2_small, "fewer than 50 people"),
    Rule("R3", "H", "caveat.r3", _r3_no_control, "no comparison group: natural recovery"),
    Rule("R3b", "M", "caveat.r3b", _r3b_open_label, "unblinded rating of a subjective scale"),
    Rule("R4", "I", "caveat.r4", _r4_single_site, "one site only"),
    Rule("R5", "I", "caveat.r5", _r5_sponsor, "who pays; a private sponsor that charges"),
    Rule("R6", "H", "caveat.r6", _r6_pay, "patients may be asked to pay"),
    Rule("R7", "M", "caveat.r7", _r7_expanded, "expanded access is not a trial"),
    Rule("R8", "M", "caveat.r8", _r8_no_results, "ended over a year ago, no results since"),
    Rule("R9", "H", "caveat.r9", _r9_stopped, "stopped early; the sponsor's reason"),
    Rule("R10", "M", "caveat.r10", _r10_route, "risks of the way it is given"),
    Rule("R11", "M", "caveat.r11", _r11_cell_line, "cell lines: unwanted growths"),
    Rule("R12", "M", "caveat.r12", _r12_immune, "immune-suppressing drugs"),
    Rule("R13", "H", "caveat.r13", _r13_hype, "hype words are not evidence"),
    Rule("R14", "M", "caveat.r14", _r14_many_diseases, "one product, many diseases"),
    Rule("R15", "I", "caveat.r15", _r15_donor, "donor cells: immune reaction"),
    Rule("R16", "I", "caveat.r16", _r16_harvest, "own cells: harvest procedure"),
)
RULES_BY_ID: Mapping[str, Rule] = {rule.id: rule for rule in RULES}
ALWAYS: frozenset[str] = frozenset({"C0", "C1"})
"""Shown in every message's disclaimer line rather than in the list of risks."""


def evaluate(
    trial: Trial,
    verdict: Classification,
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
) -> list[Caveat]:
    """Every rule that fires, red flags first (A and H, then M, then I), table order within.
    `facts` are the stored facts of this version (derived from the trial when not given).
    `known` is what is known of the trial's results (`StoredTrial.known`); R8 ("no results
    since it ended") needs it and stays quiet when it is None (publications not loaded)."""
    context = Context(trial, verdict, today or date.today(), facts or extract(trial), known)
    fired: list[tuple[int, int, Caveat]] = []
    for index, rule in enumerate(RULES):
        for hit in rule.check(context):
            severity = hit.severity or rule.severity
            caveat = Caveat(rule.id, severity, rule.key + hit.variant, hit.params, hit.count)
            fired.append((SEVERITY_RANK[severity], index, caveat))
    fired.sort(key=lambda item: item[:2])
    return [caveat for _, _, caveat in fired]
