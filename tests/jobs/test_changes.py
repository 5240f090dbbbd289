"""Field-level diffs on real version pairs, and on changes derived from them in code."""

from __future__ import annotations

from typing import Any

from jobs.changes import diff, summarise
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Contact, Site, Trial


def _pair(old: str, new: str) -> list[tuple[str, str, bool]]:
    a, b = normalise(study(old)), normalise(study(new))
    return [(c.field, c.kind, c.notable) for c in diff(a.snapshot(), b.snapshot())]


def test_rederived_mesh_is_no_change() -> None:
    a = normalise(study("NCT02552212"))
    b = normalise(study("NCT02552212__versionHolder-2024-01-03__aact-file-NCT02278341"))
    assert diff(a.snapshot(), b.snapshot()) == []


def test_status_flipped_to_unknown_without_a_new_post_date() -> None:
    changes = _pair("NCT01716481__2017-04-26__recruiting", "NCT01716481__2017-04-26__unknown")
    assert ("overall_status", "status", True) in changes


def test_terminated_trial_reports_status_reason_and_enrollment() -> None:
    a = normalise(study("NCT03629275__2019-03-02"))
    b = normalise(study("NCT03629275__2021-08-13"))
    changes = {c.kind: c for c in diff(a.snapshot(), b.snapshot())}
    assert changes["status"].old == "RECRUITING" and changes["status"].new == "TERMINATED"
    assert changes["why_stopped"].new.startswith("Strategic decision")
    assert changes["enrollment"].new == {"count": 15, "estimated": False}


def test_new_sites_are_reported_one_by_one() -> None:
    a = normalise(study("NCT03545607__2019-08-13"))
    b = normalise(study("NCT03545607__2022-02-09"))
    added = [c for c in diff(a.snapshot(), b.snapshot()) if c.kind == "site_added"]
    assert sorted(c.new["city"] for c in added) == ["Taichung", "Taipei City", "Taoyuan City"]
    assert all(c.new["country"] == "TW" for c in added)


def test_site_status_change_and_removal_derived_in_code() -> None:
    trial = normalise(study("NCT03545607__2022-02-09"))
    first, *rest = trial.sites
    closed = first.model_copy(update={"status": "COMPLETED"})
    changed = trial.model_copy(update={"sites": (closed, *rest[1:])})
    changes = diff(trial.snapshot(), changed.snapshot())
    kinds = sorted(c.kind for c in changes)
    assert kinds == ["site_removed", "site_status"]
    status = next(c for c in changes if c.kind == "site_status")
    assert status.new["status"] == "COMPLETED" and "->" in summarise(status)


def test_date_becoming_actual_is_recorded_but_not_notable() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    assert trial.dates.primary_completion is not None
    actual = trial.dates.primary_completion.model_copy(update={"estimated": False})
    moved = trial.model_copy(
        update={"dates": trial.dates.model_copy(update={"primary_completion": actual})}
    )
    (change,) = diff(trial.snapshot(), moved.snapshot())
    assert change.kind == "date" and not change.notable


def test_rewording_the_summary_is_not_notable() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    reworded = trial.model_copy(update={"summary": (trial.summary or "") + " (typo fixed)"})
    (change,) = diff(trial.snapshot(), reworded.snapshot())
    assert change.field == "summary" and not change.notable
    assert trial.fingerprint() != reworded.fingerprint()


def test_repost_without_content_change_keeps_the_fingerprint() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    assert trial.dates.last_update_posted is not None
    later = trial.dates.last_update_posted.model_copy(update={"date": "2023-01-01"})
    reposted = trial.model_copy(
        update={
            "dates": trial.dates.model_copy(
                update={"last_update_posted": later, "status_verified": "2023-01"}
            )
        }
    )
    assert reposted.fingerprint() == trial.fingerprint()
    assert diff(trial.snapshot(), reposted.snapshot()) == []


def test_site_identity_ignores_case() -> None:
    site = Site(facility="Hospital A", city="Madrid", country="ES")
    assert site.key == Site(facility="HOSPITAL A", city="madrid", country="ES").key


# -- contacts (issue 11): recorded, never alerted ---------------------------------------------


def _as_stored_before_contacts(trial: Trial) -> dict[str, Any]:
    """The snapshot a version stored before contacts were kept has: no contacts keys at all."""
    snapshot = {k: v for k, v in trial.snapshot().items() if k != "contacts"}
    snapshot["sites"] = [{k: v for k, v in s.items() if k != "contacts"} for s in snapshot["sites"]]
    return snapshot


def test_contacts_appearing_after_the_upgrade_are_not_notable() -> None:
    trial = normalise(study("NCT01949129"))  # recorded: central contacts and 119 sites with some
    changes = diff(_as_stored_before_contacts(trial), trial.snapshot())
    assert changes and all(c.kind == "other" and not c.notable for c in changes)
    assert {c.field for c in changes} == {"contacts", "sites.contacts"}
    central = next(c for c in changes if c.field == "contacts")
    assert central.old == [] and central.new == [c.model_dump() for c in trial.contacts]
    with_site_contacts = sum(1 for s in trial.sites if s.contacts)
    assert sum(1 for c in changes if c.field == "sites.contacts") == with_site_contacts


def test_a_site_whose_only_change_is_its_contacts_is_no_site_change() -> None:
    trial = normalise(study("NCT01949129"))
    index, site = next((i, s) for i, s in enumerate(trial.sites) if s.contacts)
    extra = Contact(name="Study nurse", role="CONTACT", phone="+43 1 40170 ext 9")
    sites = list(trial.sites)
    sites[index] = site.model_copy(update={"contacts": (*site.contacts, extra)})
    moved = trial.model_copy(update={"sites": tuple(sites)})
    (change,) = diff(trial.snapshot(), moved.snapshot())
    assert (change.field, change.kind, change.notable) == ("sites.contacts", "other", False)
    assert change.new["city"] == site.city and len(change.new["contacts"]) == len(site.contacts) + 1
    assert trial.fingerprint() != moved.fingerprint()
    closed = sites[index].model_copy(update={"status": "COMPLETED"})
    both = trial.model_copy(update={"sites": (*sites[:index], closed, *sites[index + 1 :])})
    kinds = {c.kind: c for c in diff(trial.snapshot(), both.snapshot())}
    assert set(kinds) == {"site_status", "other"} and kinds["site_status"].notable
    assert "contacts" not in kinds["site_status"].new  # a site change shows the site only


def test_a_reordered_or_changed_central_contact_is_not_notable() -> None:
    trial = normalise(study("NCT01949129"))
    assert len(trial.contacts) == 2
    swapped = trial.model_copy(update={"contacts": trial.contacts[::-1]})
    (change,) = diff(trial.snapshot(), swapped.snapshot())
    assert (change.field, change.kind, change.notable) == ("contacts", "other", False)


def test_no_contacts_is_no_change_from_a_snapshot_stored_before_contacts() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    assert trial.contacts == () and all(not s.contacts for s in trial.sites)
    reworded = trial.model_copy(update={"summary": (trial.summary or "") + " (typo fixed)"})
    (change,) = diff(_as_stored_before_contacts(trial), reworded.snapshot())
    assert change.field == "summary"


def test_the_change_summary_counts_contacts_but_never_writes_them_out() -> None:
    trial = normalise(study("NCT01949129"))
    lines = [summarise(c) for c in diff(_as_stored_before_contacts(trial), trial.snapshot())]
    contacts = [*trial.contacts, *(c for s in trial.sites for c in s.contacts)]
    for line in lines:
        assert "@" not in line
        assert not any(c.phone and c.phone in line for c in contacts)
    assert f"contacts: 0 -> {len(trial.contacts)}" in lines
