"""Field-level diffs on real version pairs, and on changes derived from them in code."""

from __future__ import annotations

from jobs.changes import diff, summarise
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Site


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
