"""Field-level differences between two stored snapshots of a trial.

Works on the JSON snapshots (`Trial.snapshot()`), so a version stored months ago diffs the
same way as a fresh one. The fields patients care about (status, sites, enrollment, phases,
key dates, results, why stopped, eligibility, title) are `notable`; every other content
change is recorded as not notable, so history is complete but alerts stay quiet. Contacts, the
study's and each site's, are such content: a new phone number is not news about the trial. So
are the publications a record lists (`references`): they get alerts of their own, not these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trialbot.facts import FACT_KEYS, TrialFacts
from trialbot.model import FINGERPRINT_EXCLUDED_DATES, ChangeKind, FieldChange

Snapshot = Mapping[str, Any]

NOTABLE_DATES = ("start", "primary_completion", "completion")
_SCALARS: dict[str, ChangeKind] = {
    "brief_title": "title",
    "overall_status": "status",
    "why_stopped": "why_stopped",
    "has_results": "results_posted",
    "enrollment": "enrollment",
}
_HANDLED = {
    *_SCALARS,
    "sites",
    "phases",
    "dates",
    "eligibility",
    "sources",
    "contacts",
    "references",
}


def _site_key(site: Mapping[str, Any]) -> str:
    parts = (site.get(k) or "" for k in ("facility", "city", "state", "country"))
    return " | ".join(str(p).strip().casefold() for p in parts)


def _site_view(site: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("facility", "city", "state", "country", "country_name", "lat", "lon", "status")
    return {k: site.get(k) for k in keys}


def _kept_site_change(
    field: str, kind: ChangeKind, notable: bool, was: Mapping[str, Any], now: Mapping[str, Any]
) -> FieldChange:
    """A change of a site listed before and after; a contacts change shows the contacts too."""

    def view(site: Mapping[str, Any]) -> dict[str, Any]:
        shown = _site_view(site)
        contacts = field == "sites.contacts"
        return {**shown, "contacts": site.get("contacts") or []} if contacts else shown

    return FieldChange(field=field, kind=kind, notable=notable, old=view(was), new=view(now))


def _diff_sites(old: list[Mapping[str, Any]], new: list[Mapping[str, Any]]) -> list[FieldChange]:
    before = {_site_key(s): s for s in old}
    after = {_site_key(s): s for s in new}
    changes: list[FieldChange] = []
    for key in sorted(after.keys() - before.keys()):
        changes.append(
            FieldChange(field="sites", kind="site_added", notable=True, new=_site_view(after[key]))
        )
    for key in sorted(before.keys() - after.keys()):
        changes.append(
            FieldChange(
                field="sites", kind="site_removed", notable=True, old=_site_view(before[key])
            )
        )
    for key in sorted(before.keys() & after.keys()):
        was, now = before[key], after[key]
        if was.get("status") != now.get("status"):
            changes.append(_kept_site_change("sites", "site_status", True, was, now))
        # a site's contacts: recorded, never a site change (a snapshot stored before contacts
        # were kept has none, which is no change from an empty list)
        if (was.get("contacts") or []) != (now.get("contacts") or []):
            changes.append(_kept_site_change("sites.contacts", "other", False, was, now))
    return changes


def _source_ids(snapshot: Snapshot) -> dict[tuple[str, str], Mapping[str, Any]]:
    """The trial's registry records; a one-registry trial lists none, so count it as itself."""
    refs = snapshot.get("sources") or [snapshot]
    return {(r.get("registry") or "", r.get("registry_id") or ""): r for r in refs}


def _diff_sources(old: Snapshot, new: Snapshot) -> list[FieldChange]:
    """A registry record joined or left the trial. Recorded, not alerted: what it adds that
    matters (a site, a status) shows up as its own change."""
    before, after = _source_ids(old), _source_ids(new)
    view = ("registry", "registry_id", "url")
    changes = [
        FieldChange(
            field="sources",
            kind="source_added",
            notable=False,
            new={k: after[key].get(k) for k in view},
        )
        for key in sorted(after.keys() - before.keys())
    ]
    changes += [
        FieldChange(
            field="sources",
            kind="source_removed",
            notable=False,
            old={k: before[key].get(k) for k in view},
        )
        for key in sorted(before.keys() - after.keys())
    ]
    return changes


def diff(old: Snapshot, new: Snapshot) -> list[FieldChange]:
    """Everything that differs, most important kinds first."""
    changes: list[FieldChange] = []
    for field, kind in _SCALARS.items():
        if old.get(field) != new.get(field):
            changes.append(
                FieldChange(
                    field=field, kind=kind, notable=True, old=old.get(field), new=new.get(field)
                )
            )
    if sorted(old.get("phases") or []) != sorted(new.get("phases") or []):
        changes.append(
            FieldChange(
                field="phases",
                kind="phases",
                notable=True,
                old=old.get("phases"),
                new=new.get("phases"),
            )
        )
    old_dates, new_dates = old.get("dates") or {}, new.get("dates") or {}
    for name in sorted(old_dates.keys() | new_dates.keys()):
        was, now = old_dates.get(name), new_dates.get(name)
        if name in FINGERPRINT_EXCLUDED_DATES or was == now:
            continue
        same_day = isinstance(was, dict) and isinstance(now, dict) and was["date"] == now["date"]
        changes.append(
            FieldChange(
                field=f"dates.{name}",
                kind="date",
                notable=name in NOTABLE_DATES and not same_day,
                old=old_dates.get(name),
                new=new_dates.get(name),
            )
        )
    old_elig, new_elig = old.get("eligibility") or {}, new.get("eligibility") or {}
    for name in sorted(old_elig.keys() | new_elig.keys()):
        if old_elig.get(name) != new_elig.get(name):
            changes.append(
                FieldChange(
                    field=f"eligibility.{name}",
                    kind="eligibility",
                    notable=True,
                    old=old_elig.get(name),
                    new=new_elig.get(name),
                )
            )
    changes.extend(_diff_sites(old.get("sites") or [], new.get("sites") or []))
    changes.extend(_diff_sources(old, new))
    was, now = old.get("contacts") or [], new.get("contacts") or []
    if was != now:  # the study's contacts: recorded, not alerted; "none" as before they were kept
        changes.append(FieldChange(field="contacts", kind="other", notable=False, old=was, new=now))
    was, now = _references(old), _references(new)
    if was != now:  # publications: recorded here, alerted by their own step
        changes.append(
            FieldChange(field="references", kind="other", notable=False, old=was, new=now)
        )
    for field in sorted((old.keys() | new.keys()) - _HANDLED):
        if old.get(field) != new.get(field):
            changes.append(
                FieldChange(
                    field=field, kind="other", notable=False, old=old.get(field), new=new.get(field)
                )
            )
    return changes


def _references(snapshot: Snapshot) -> list[Any]:
    """The record's references in a fixed order: a snapshot stored before they were kept has
    none, which is no change from an empty list, and a reordered list is no change."""
    refs = snapshot.get("references") or []
    return sorted(refs, key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False))


def _where(site: Mapping[str, Any]) -> str:
    return ", ".join(str(site.get(k)) for k in ("facility", "city", "country") if site.get(k))


def summarise(change: FieldChange, limit: int = 80) -> str:
    """A one-line plain description for logs and the CLI (alerts render their own)."""

    def short(value: Any) -> str:
        text = str(value)
        return text if len(text) <= limit else text[: limit - 1] + "…"

    # contacts are public, but only counted here: this line goes to logs
    if change.field == "contacts":
        return f"contacts: {len(change.old or [])} -> {len(change.new or [])}"
    if change.field == "references":
        return f"references: {len(change.old or [])} -> {len(change.new or [])}"
    if change.field == "sites.contacts":
        was, now = (len(v.get("contacts") or []) for v in (change.old, change.new))
        return f"site {_where(change.new)}: contacts {was} -> {now}"
    if change.kind.startswith("site_"):
        where = _where(change.new or change.old)
        if change.kind == "site_status":
            return f"site {where}: {change.old.get('status')} -> {change.new.get('status')}"
        return f"{change.kind.replace('_', ' ')}: {where}"
    if change.kind == "enrollment":
        old, new = change.old or {}, change.new or {}
        return f"enrollment {old.get('count')} -> {new.get('count')}"
    if change.kind == "date":
        old_date = (change.old or {}).get("date") if isinstance(change.old, dict) else change.old
        new_date = (change.new or {}).get("date") if isinstance(change.new, dict) else change.new
        return f"{change.field} {old_date} -> {new_date}"
    return f"{change.field}: {short(change.old)} -> {short(change.new)}"


NOTABLE_FACTS = ("stroke_window_days", "population", "age_min_years", "age_max_years", "routes")
"""Facts whose change changes who can join or what taking part means: alerted. The others
(design, sponsor, numbers) are recorded; their record fields carry their own changes."""


def diff_facts(old: TrialFacts, new: TrialFacts) -> list[FieldChange]:
    """The facts that differ between two versions, in JSON form (old and new values)."""
    before, after = old.to_json(), new.to_json()
    return [
        FieldChange(
            field=f"facts.{key}",
            kind="fact",
            notable=key in NOTABLE_FACTS,
            old=before[key],
            new=after[key],
        )
        for key in FACT_KEYS
        if before[key] != after[key] and key not in _OWN_CHANGE
    ]


_OWN_CHANGE = frozenset({"results_posted", "enrollment_count", "enrollment_actual", "contacts"})
"""Facts that are record fields read as they are: the record's own change already says it."""
