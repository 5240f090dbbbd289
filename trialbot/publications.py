"""What is known so far about a trial's results: the papers and result documents found for it,
what kind each one is, and whether a trial that ended long ago has shared anything.

A paper is told apart by evidence, never by hope (docs/publications.md has the rules and why):

- protocol first: PubMed's "Clinical Trial Protocol" type, a registry listing it as a protocol,
  or a title that says protocol / design / rationale / statistical analysis plan. A protocol
  says what a study will do, not what it found, so it never counts as results, whatever else
  is said about it;
- published before the trial started: background, whatever the registry calls it (sponsors
  list their earlier studies as "results" references);
- reviews, meta-analyses: background; comments, editorials, letters, news, errata,
  retractions: other;
- results: the registry itself lists it as a results paper or results document, or PubMed
  types it as a report of a trial (Clinical Trial, its phases, Randomized Controlled Trial,
  Controlled/Pragmatic/Adaptive/Equivalence Trial, Clinical Study, Observational Study), or
  (only when it carries the trial's registry number in PubMed's databank field and PubMed
  has not typed it beyond "Journal Article" yet, as with every new paper before indexing)
  its title describes a trial's findings;
- anything else: other.

Only results count against "no results have been shared"; only results are alerted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from trialbot.model import FieldChange

Kind = Literal["results", "protocol", "background", "other"]
KINDS: tuple[Kind, ...] = ("results", "protocol", "background", "other")

FoundBy = Literal["registry", "pubmed_si", "pubmed_tiab"]
"""Where a publication was found: listed by a registry record, or by PubMed searching the
trial's registry numbers in its databank field ([si]) or in titles and abstracts ([tiab])."""

Reason = Literal[
    "protocol_type",
    "protocol_registry",
    "protocol_title",
    "before_start",
    "review_type",
    "note_type",
    "registry_background",
    "registry_results",
    "trial_type",
    "results_title",
    "no_evidence",
]
"""Why a publication got its kind (worded for readers by the bot; listed in show --json)."""

PROTOCOL_TYPES = frozenset({"clinical trial protocol"})
REVIEW_TYPES = frozenset(
    {
        "review",
        "systematic review",
        "meta-analysis",
        "scoping review",
        "practice guideline",
        "guideline",
        "consensus development conference",
    }
)
NOTE_TYPES = frozenset(
    {
        "comment",
        "editorial",
        "letter",
        "news",
        "newspaper article",
        "published erratum",
        "retraction of publication",
        "retracted publication",
        "expression of concern",
        "interview",
        "biography",
        "historical article",
        "congress",
        "lecture",
    }
)
TRIAL_TYPES = frozenset(
    {
        "clinical trial",
        "clinical trial, phase i",
        "clinical trial, phase ii",
        "clinical trial, phase iii",
        "clinical trial, phase iv",
        "randomized controlled trial",
        "controlled clinical trial",
        "pragmatic clinical trial",
        "adaptive clinical trial",
        "equivalence trial",
        "clinical study",
        "observational study",
    }
)
"""PubMed publication types that say the paper reports a study's own participants."""
UNTYPED = frozenset({"journal article", "preprint", "english abstract"})
"""What PubMed says of a paper it has not indexed yet (or says besides the real type)."""

_PROTOCOL_TITLE = re.compile(
    r"\b(protocol|study design|design and rationale|rationale and design|rationale, design"
    r"|statistical analysis plan|design of (a|an|the)\b|methods of (a|an|the)\b)",
    re.IGNORECASE,
)
_REVIEW_TITLE = re.compile(
    r"\b(review|meta-?analysis|overview|perspective|commentary|editorial|viewpoint"
    r"|consensus|guideline|lessons learned)\b",
    re.IGNORECASE,
)
_RESULTS_TITLE = re.compile(
    r"\b(results?|outcomes?|follow-up|randomi[sz]ed|phase\s*(1|2|3|i{1,3}|iv|1/2|i/ii)\b"
    r"|trial|first-in-(hu)?man|safety and (efficacy|feasibility|tolerability))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PaperEvidence:
    """What is known about one publication when its kind is decided."""

    title: str | None = None
    pubtypes: tuple[str, ...] = ()
    """PubMed's publication types; empty when PubMed was not asked."""
    registry_type: str | None = None
    """The registry's own word for it (CT.gov RESULT/BACKGROUND/DERIVED, ISRCTN output types,
    RESULTS_LINK, SUMMARY_RESULTS ...), upper case; None when the registry does not list it."""
    published: str | None = None
    """ISO partial date (yyyy, yyyy-MM or yyyy-MM-dd)."""
    found_by: FoundBy = "registry"
    citation: str | None = None
    """The registry's citation text, read for protocol words when there is no title."""


def kind_of(evidence: PaperEvidence, trial_start: date | None) -> tuple[Kind, Reason]:
    """The kind of one publication and the rule that decided it (module docstring)."""
    types = {t.strip().casefold() for t in evidence.pubtypes}
    words = evidence.title or evidence.citation or ""
    registry = (evidence.registry_type or "").upper()
    if types & PROTOCOL_TYPES:
        return "protocol", "protocol_type"
    if "PROTOCOL" in registry:
        return "protocol", "protocol_registry"
    if _PROTOCOL_TITLE.search(words):
        return "protocol", "protocol_title"
    published = parse_partial(evidence.published)
    if published is not None and trial_start is not None and _before(published, trial_start):
        return "background", "before_start"
    if types & REVIEW_TYPES:
        return "background", "review_type"
    if types & NOTE_TYPES:
        return "other", "note_type"
    if "BACKGROUND" in registry:
        return "background", "registry_background"
    if "RESULT" in registry:
        return "results", "registry_results"
    if types & TRIAL_TYPES:
        return "results", "trial_type"
    if (
        evidence.found_by == "pubmed_si"
        and types <= UNTYPED
        and evidence.title
        and _RESULTS_TITLE.search(evidence.title)
        and not _REVIEW_TITLE.search(evidence.title)
    ):
        return "results", "results_title"
    return "other", "no_evidence"


def _before(published: date, start: date) -> bool:
    """Published before the trial's start month (a month-only date is not held against it)."""
    return (published.year, published.month) < (start.year, start.month)


def parse_partial(value: str | None) -> date | None:
    """`yyyy`, `yyyy-MM` or `yyyy-MM-dd`; a missing month or day is the 1st."""
    if not value:
        return None
    parts = value.split("-")[:3]
    try:
        nums = [int(p) for p in parts] + [1] * (3 - len(parts))
        return date(nums[0], nums[1], nums[2])
    except ValueError:
        return None


@dataclass(frozen=True)
class Publication:
    """One publication of a trial, as stored: identified by PMID, else DOI, else URL."""

    kind: Kind
    reason: Reason
    found_by: FoundBy
    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    title: str | None = None
    journal: str | None = None
    published: str | None = None
    registry_type: str | None = None
    citation: str | None = None

    @property
    def key(self) -> str:
        """The identity of a publication within its trial."""
        if self.pmid:
            return f"pmid:{self.pmid}"
        if self.doi:
            return f"doi:{self.doi.casefold()}"
        return f"url:{self.url or ''}"

    @property
    def link(self) -> str | None:
        """Where a reader can open it: PubMed, else the DOI, else the registry's link."""
        if self.pmid:
            return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"
        if self.doi:
            return f"https://doi.org/{self.doi}"
        return self.url

    @property
    def is_results(self) -> bool:
        return self.kind == "results"


def newest_first(publications: Iterable[Publication]) -> list[Publication]:
    """Dated ones newest first, undated ones after them (in the given order)."""
    items = list(publications)
    dated = [p for p in items if parse_partial(p.published) is not None]
    undated = [p for p in items if parse_partial(p.published) is None]
    dated.sort(key=lambda p: parse_partial(p.published) or date.min, reverse=True)
    return dated + undated


ENDED_STATUSES = frozenset({"COMPLETED", "TERMINATED"})
"""Statuses after which results are due. A withdrawn study never took anyone: nothing is due."""
OVERDUE_AFTER = timedelta(days=365)


@dataclass(frozen=True)
class KnownSoFar:
    """What the bot knows of a trial's results: posted on a registry, and papers found."""

    registry_results: bool
    publications: tuple[Publication, ...] = ()
    looked: bool = True
    """Whether papers were looked for yet; before the first look only the registry's own
    results flag is known, and a reader is told only that."""

    @property
    def results_papers(self) -> list[Publication]:
        return [p for p in self.publications if p.is_results]

    @property
    def any_results(self) -> bool:
        return self.registry_results or bool(self.results_papers)

    def shown(self, limit: int = 3) -> list[Publication]:
        """Up to `limit` publications for a reader, newest first; protocol papers come only
        after results and background ones, since they say nothing of what was found."""
        ranked = newest_first(self.publications)
        ranked.sort(key=lambda p: p.kind == "protocol")
        return ranked[:limit]


def overdue_since(
    status: str | None,
    ended: str | None,
    ended_estimated: bool | None,
    known: KnownSoFar,
    today: date,
) -> date | None:
    """The month a trial ended when that was over a year ago and nothing of its results is
    known since; None otherwise. `ended` is the record's completion date (or primary
    completion): a date the record still marks as estimated is not held as an end."""
    if status not in ENDED_STATUSES or known.any_results or ended_estimated:
        return None
    end = parse_partial(ended)
    if end is None or end > today - OVERDUE_AFTER:
        return None
    return end


def registry_ids_for_search(ids: Sequence[str]) -> list[str]:
    """The ids worth asking PubMed about, once each, in the given order."""
    seen: set[str] = set()
    out: list[str] = []
    for ident in ids:
        clean = ident.strip()
        if clean and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9/-]{4,40}", clean) and clean not in seen:
            seen.add(clean)
            out.append(clean)
    return out


def worth_an_early_look(changes: Iterable[FieldChange]) -> bool:
    """A change after which results may be near or newly listed: the study ended, results
    were posted, or the record lists new publications (the poll then brings the trial's
    publication look forward instead of waiting for its weekly turn)."""
    for change in changes:
        if change.kind == "status" and change.new in ENDED_STATUSES:
            return True
        if change.kind == "results_posted" or change.field == "references":
            return True
    return False
