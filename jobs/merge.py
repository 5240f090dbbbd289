"""One trial per trial: which registry records describe the same trial, and the merged view.

Linking (`trialbot.identifiers.link_keys`): a record is known by its own id and by every
other-registry id it names, in its secondary ids (trusted as given) or in its titles and
descriptions (only ids of a
*different* registry than its own: a CT.gov record that mentions another NCT number is about a
related study, such as a parent trial, far more often than about itself). Two records that
share a key are the same trial. Keys are canonical ids (trialbot.identifiers), or
`registry:id` for an id whose registry has no known pattern.

Merging (`merge`): the record of the most informative registry is the primary (CT.gov, then
CTIS, then ISRCTN, then the WHO export; among equals the one seen first). Text, status, phases,
dates and design come from it alone: mixing sentences from several records would produce a
description no registry wrote. What registries add without contradicting each other is
combined: conditions, keywords, secondary ids, the publications they list (and results count as
posted when any registry has them) and sites (a site in a city the primary already
lists is taken to be the same site, so differently spelled hospital names do not show as "new
sites"). Each site keeps its own record's contacts. The study's contacts are the primary
record's, or, when it lists none, those of the first other record that does: one registry's
list, never a mix, so the first contact stays the one that registry put first. `sources`
lists every record with its link, primary first.
"""

from __future__ import annotations

from collections.abc import Sequence

from trialbot.identifiers import canonical, own_key
from trialbot.model import Reference, SecondaryId, Site, SourceRef, Trial, reference_order

REGISTRY_PREFERENCE: tuple[str, ...] = ("ctgov", "ctis", "isrctn", "ictrp")
"""Richest structured record first."""


def preference(registry: str) -> int:
    try:
        return REGISTRY_PREFERENCE.index(registry)
    except ValueError:
        return len(REGISTRY_PREFERENCE)


def _merged_references(records: Sequence[Trial]) -> tuple[Reference, ...]:
    """Every publication any record lists, once (the first record's entry wins): papers are
    facts about the trial, not text, so combining them mixes no registry's words."""
    chosen: dict[tuple[str, str], Reference] = {}
    for trial in records:
        for ref in trial.references:
            ident = (
                ("pmid", ref.pmid)
                if ref.pmid
                else ("doi", ref.doi.casefold())
                if ref.doi
                else ("url", ref.url)
                if ref.url
                else ("citation", ref.citation or "")
            )
            chosen.setdefault(ident, ref)
    return tuple(sorted(chosen.values(), key=reference_order))


def _city_key(site: Site) -> tuple[str, str]:
    return ((site.city or "").strip().casefold(), site.country or site.country_name or "")


def _merged_sites(primary: Trial, others: Sequence[Trial]) -> tuple[Site, ...]:
    sites = list(primary.sites)
    cities = {_city_key(s) for s in sites}
    countries = {s.country or s.country_name for s in sites}
    for trial in others:
        for site in trial.sites:
            key = _city_key(site)
            if key in cities or (not key[0] and key[1] in countries):
                continue  # the same place, named by another registry
            sites.append(site)
            cities.add(key)
            countries.add(key[1])
    return tuple(sorted(sites, key=lambda s: (s.country or "", s.city or "", s.facility or "")))


def _union(values: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    seen: dict[str, str] = {}
    for group in values:
        for value in group:
            seen.setdefault(value.strip().casefold(), value)
    return tuple(sorted(seen.values(), key=str.casefold))


def ordered(records: Sequence[Trial]) -> list[Trial]:
    """Primary first; records are given oldest first, and that order breaks ties."""
    return sorted(records, key=lambda t: preference(t.registry))


def merge(records: Sequence[Trial]) -> Trial:
    """The trial as all its records together describe it; a single record is returned as is."""
    if not records:
        raise ValueError("merge() needs at least one record")
    if len(records) == 1:
        return records[0]
    primary, *others = ordered(records)
    own_ids = {own_key(t) for t in records}
    secondary: dict[str, SecondaryId] = {}
    for trial in (primary, *others):
        for sid in trial.secondary_ids:
            key = canonical(sid.id) or sid.id.strip()
            if key not in own_ids:
                secondary.setdefault(key, sid)
    for trial in others:  # the other records are secondary ids of the merged trial
        secondary.setdefault(
            own_key(trial),
            SecondaryId(id=trial.registry_id, type="REGISTRY", domain=trial.registry),
        )
    last_updates = [t.last_update for t in records if t.last_update]
    dates = primary.dates
    if last_updates and dates.last_update_posted is not None:
        newest = dates.last_update_posted.model_copy(update={"date": max(last_updates)})
        dates = dates.model_copy(update={"last_update_posted": newest})
    return primary.model_copy(
        update={
            "secondary_ids": tuple(sorted(secondary.values(), key=lambda s: s.id)),
            "conditions": _union([t.conditions for t in (primary, *others)]),
            "keywords": _union([t.keywords for t in (primary, *others)]),
            "interventions": primary.interventions
            or next((t.interventions for t in others if t.interventions), ()),
            "contacts": primary.contacts or next((t.contacts for t in others if t.contacts), ()),
            "sites": _merged_sites(primary, others),
            "references": _merged_references((primary, *others)),
            "has_results": any(t.has_results for t in records),
            "dates": dates,
            "sources": tuple(
                SourceRef(
                    registry=t.registry,
                    registry_id=t.registry_id,
                    url=t.url,
                    last_update=t.last_update,
                )
                for t in (primary, *others)
            ),
        }
    )
