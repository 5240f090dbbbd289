"""The registry-neutral trial: what every registry adapter produces and every later step reads.

Values are kept close to ClinicalTrials.gov's vocabulary (status and phase enums as upper-case
strings) because it is the richest registry; other adapters map onto it. Unknown enum values
are kept as given (the adapter logs them) rather than dropped, so nothing the registry said
is lost. Lists whose order carries no meaning are sorted by the adapter, which keeps the
fingerprint stable when a registry merely reorders them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# Status values that mean "people can join now or soon".
OPEN_STATUSES = frozenset({"RECRUITING", "NOT_YET_RECRUITING", "ENROLLING_BY_INVITATION"})
STOPPED_STATUSES = frozenset({"TERMINATED", "WITHDRAWN", "SUSPENDED"})


def may_take_people(status: str | None) -> bool:
    """Whether the record leaves room to join: open, or a status the registry does not give
    or does not know. A completed, stopped or no-longer-recruiting study gets no "Could I
    join?" question, which would suggest it still takes people."""
    return status is None or status == "UNKNOWN" or status in OPEN_STATUSES


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KeyDate(_Model):
    """A registry date: `yyyy`, `yyyy-MM` or `yyyy-MM-dd`, and whether it is a plan."""

    date: str
    estimated: bool | None = None


class Dates(_Model):
    start: KeyDate | None = None
    primary_completion: KeyDate | None = None
    completion: KeyDate | None = None
    first_posted: KeyDate | None = None
    last_update_posted: KeyDate | None = None
    results_first_posted: KeyDate | None = None
    status_verified: str | None = None


class SecondaryId(_Model):
    id: str
    type: str | None = None
    domain: str | None = None


class Sponsor(_Model):
    name: str
    agency_class: str | None = None


class MeshTerm(_Model):
    """A MeSH descriptor. Ids are compared as integers: CT.gov pads them inconsistently."""

    id: int | None = None
    term: str


class Intervention(_Model):
    type: str | None = None
    name: str
    description: str | None = None
    other_names: tuple[str, ...] = ()


class Arm(_Model):
    label: str
    type: str | None = None
    description: str | None = None
    intervention_names: tuple[str, ...] = ()


class Enrollment(_Model):
    count: int | None = None
    estimated: bool | None = None


class Design(_Model):
    study_type: str | None = None
    allocation: str | None = None
    intervention_model: str | None = None
    primary_purpose: str | None = None
    masking: str | None = None
    who_masked: tuple[str, ...] = ()
    arm_types: tuple[str, ...] = ()


class Eligibility(_Model):
    criteria: str | None = None
    sex: str | None = None
    minimum_age: str | None = None
    maximum_age: str | None = None
    healthy_volunteers: bool | None = None


class Contact(_Model):
    """Someone the registry names for questions about the study or one site: how a reader can
    ask about joining.

    Public registry data, kept as the registry gives it, but never logged. Adapters keep a
    contact only when it can be reached (a phone or an email: a bare name cannot), once, in the
    registry's order (the first is the main contact). `role` is the registry's own word
    ("CONTACT", "PRINCIPAL_INVESTIGATOR", "Public", "Scientific"); `phone` keeps any extension
    ("+1 555 123 4567 ext 89").
    """

    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


class Site(_Model):
    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    """ISO 3166-1 alpha-2, or None when the registry's name could not be mapped."""
    country_name: str | None = None
    """The country exactly as the registry spelled it."""
    lat: float | None = None
    lon: float | None = None
    status: str | None = None
    """Site recruitment status; None means "see the overall status"."""
    contacts: tuple[Contact, ...] = ()
    """The site's own contacts (the study's are `Trial.contacts`)."""

    @property
    def key(self) -> str:
        """Identity of a site across versions (registries have no site ids)."""
        parts = (self.facility or "", self.city or "", self.state or "", self.country or "")
        return " | ".join(p.strip().casefold() for p in parts)


class SourceRef(_Model):
    """One registry record of a trial that several registries hold (see jobs/merge.py)."""

    registry: str
    registry_id: str
    url: str
    last_update: str | None = None


class Reference(_Model):
    """A publication or results document the registry record itself lists.

    `type` is the registry's own word, upper-cased (CT.gov "RESULT" / "BACKGROUND" / "DERIVED";
    an ISRCTN output type such as "ABSTRACT_RESULTS"; "RESULTS_LINK" for the WHO export's
    results link). `citation` is the registry's citation text as given (white space tidied);
    `title` only when the registry has a title field (never parsed out of a citation); `date`
    an ISO partial date (`yyyy`, `yyyy-MM`, `yyyy-MM-dd`) when the registry gives one. Adapters
    sort a record's references (`reference_order`), so a reordered list is no change.
    """

    pmid: str | None = None
    doi: str | None = None
    url: str | None = None
    type: str | None = None
    citation: str | None = None
    title: str | None = None
    date: str | None = None


def reference_order(ref: Reference) -> tuple[str, ...]:
    """Sort key of a record's references: by type, then identifiers, then text."""
    fields = (ref.type, ref.pmid, ref.doi, ref.url, ref.citation, ref.title, ref.date)
    return tuple(f or "" for f in fields)


class Trial(_Model):
    registry: str
    registry_id: str
    url: str
    aliases: tuple[str, ...] = ()
    secondary_ids: tuple[SecondaryId, ...] = ()
    brief_title: str
    official_title: str | None = None
    acronym: str | None = None
    summary: str | None = None
    detailed_description: str | None = None
    conditions: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    condition_mesh: tuple[MeshTerm, ...] = ()
    condition_mesh_ancestors: tuple[MeshTerm, ...] = ()
    intervention_mesh: tuple[MeshTerm, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    arms: tuple[Arm, ...] = ()
    phases: tuple[str, ...] = ()
    enrollment: Enrollment = Field(default_factory=Enrollment)
    design: Design = Field(default_factory=Design)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    primary_outcomes: tuple[str, ...] = ()
    sponsor: Sponsor | None = None
    collaborators: tuple[Sponsor, ...] = ()
    overall_status: str | None = None
    last_known_status: str | None = None
    why_stopped: str | None = None
    has_expanded_access: bool | None = None
    dates: Dates = Field(default_factory=Dates)
    has_results: bool = False
    contacts: tuple[Contact, ...] = ()
    """The study's central contacts: whom to ask about the whole study (sites have their own)."""
    sites: tuple[Site, ...] = ()
    references: tuple[Reference, ...] = ()
    """Publications and results documents the record lists, sorted (`reference_order`)."""
    sources: tuple[SourceRef, ...] = ()
    """Every registry record of this trial when there are several, primary first; empty when
    the trial is known from one registry only (adapters never fill it)."""

    @property
    def uid(self) -> str:
        """Registry-qualified id, unique across registries."""
        return f"{self.registry}:{self.registry_id}"

    @property
    def title(self) -> str:
        return self.brief_title

    @property
    def countries(self) -> list[str]:
        return sorted({s.country for s in self.sites if s.country})

    @property
    def last_update(self) -> str | None:
        d = self.dates.last_update_posted
        return d.date if d else None

    def snapshot(self) -> dict[str, Any]:
        """The JSON-able form stored with each version."""
        return self.model_dump(mode="json")

    def fingerprint(self) -> str:
        return fingerprint_of(self.snapshot())


FINGERPRINT_EXCLUDED_DATES = ("last_update_posted", "status_verified")


def fingerprint_of(snapshot: dict[str, Any]) -> str:
    """A hash over content, not bookkeeping.

    Dates that move without the study changing (the registry's own "last update posted" and
    "verified" stamps) are left out, so a re-post with nothing new is no new version. Fields
    added later are left out while empty, so a trial without them hashes as it did before they
    existed and an upgrade makes no new versions.
    """
    data = dict(snapshot)
    for added_later in ("contacts", "references"):
        if not data.get(added_later):
            data.pop(added_later, None)
    if data.get("references"):  # adapters sort them; a list in another order is the same list
        data["references"] = sorted(data["references"], key=_canonical)
    if data.get("sites"):
        data["sites"] = [_without_empty_contacts(site) for site in data["sites"]]
    dates = dict(data.get("dates") or {})
    for volatile in FINGERPRINT_EXCLUDED_DATES:
        dates.pop(volatile, None)
    data["dates"] = dates
    if not data.get("sources"):
        data.pop("sources", None)  # a one-registry trial hashes as it did before merging existed
    else:  # the records' own "last update" stamps are bookkeeping, like the dates above
        data["sources"] = [
            {k: v for k, v in ref.items() if k != "last_update"} for ref in data["sources"]
        ]
    return hashlib.sha256(_canonical(data).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _without_empty_contacts(site: Any) -> Any:
    if isinstance(site, dict) and "contacts" in site and not site["contacts"]:
        return {k: v for k, v in site.items() if k != "contacts"}
    return site


ChangeKind = Literal[
    "title",
    "status",
    "why_stopped",
    "results_posted",
    "enrollment",
    "phases",
    "date",
    "eligibility",
    "site_added",
    "site_removed",
    "site_status",
    "source_added",
    "source_removed",
    "fact",
    "other",
]
"""How to read a change's old and new values (the renderer has words for each). "fact": a
fact the record states (`trialbot.facts`) changed; the field is `facts.<key>`."""


class FieldChange(_Model):
    """One user-visible difference between two versions of a trial.

    `kind` says how to read old/new (e.g. "status", "site_added", "enrollment"); `notable`
    says whether a patient would care (a re-worded summary is recorded but not alerted).
    """

    field: str
    kind: ChangeKind
    notable: bool
    old: Any = None
    new: Any = None
