"""The merged view of a trial held by several registries.

The CT.gov record is real (MASTERS-2); its records in other registries are derived from it in
code, visibly, as those registries would hold the same trial.
"""

from __future__ import annotations

from jobs.merge import merge, ordered
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Contact, SecondaryId, Site, Trial


def _ctgov() -> Trial:
    return normalise(study("NCT03545607__2019-08-13"))


def _elsewhere(ctgov: Trial, registry: str, registry_id: str, sites: tuple[Site, ...]) -> Trial:
    return ctgov.model_copy(
        update={
            "registry": registry,
            "registry_id": registry_id,
            "url": f"https://example.org/{registry}/{registry_id}",
            "brief_title": f"{ctgov.brief_title} ({registry} wording)",
            "secondary_ids": (SecondaryId(id=ctgov.registry_id, type="NCT"),),
            "sites": sites,
            "conditions": ("Ischaemic stroke",),
        }
    )


def test_one_record_is_its_own_merge_and_keeps_its_fingerprint() -> None:
    trial = _ctgov()
    assert merge([trial]) is trial
    assert "sources" not in trial.snapshot() or trial.snapshot()["sources"] == []


def test_ctgov_is_primary_whatever_order_the_records_came_in() -> None:
    ctgov = _ctgov()
    first_city = ctgov.sites[0]
    same_city = Site(
        facility="Another spelling of the hospital",
        city=first_city.city,
        country=first_city.country,
        country_name=first_city.country_name,
    )
    madrid = Site(
        facility="Hospital Universitario La Paz", city="Madrid", country="ES", country_name="Spain"
    )
    ctis = _elsewhere(ctgov, "ctis", "2024-520423-88-00", (same_city, madrid))
    merged = merge([ctis, ctgov])
    assert [t.registry for t in ordered([ctis, ctgov])] == ["ctgov", "ctis"]
    assert merged.registry == "ctgov" and merged.brief_title == ctgov.brief_title
    assert [(s.registry, s.registry_id) for s in merged.sources] == [
        ("ctgov", "NCT03545607"),
        ("ctis", "2024-520423-88-00"),
    ]
    # the site in a city CT.gov already lists is the same site; Madrid is new
    assert len(merged.sites) == len(ctgov.sites) + 1
    assert any(s.city == "Madrid" for s in merged.sites)
    assert "Ischaemic stroke" in merged.conditions
    assert any(s.id == "2024-520423-88-00" for s in merged.secondary_ids)
    assert not any(s.id == "NCT03545607" for s in merged.secondary_ids)


def test_the_merged_fingerprint_ignores_each_records_update_stamp() -> None:
    ctgov = _ctgov()
    ctis = _elsewhere(ctgov, "ctis", "2024-520423-88-00", ())
    later = ctis.model_copy(
        update={"dates": ctis.dates.model_copy(update={"last_update_posted": None})}
    )
    assert merge([ctgov, ctis]).sources[1].last_update is not None
    assert merge([ctgov, later]).sources[1].last_update is None
    assert merge([ctgov, ctis]).fingerprint() == merge([ctgov, later]).fingerprint()


def test_contacts_are_the_primarys_else_the_next_records_never_mixed() -> None:
    ctgov = _ctgov()
    office = Contact(name="Trial office", role="Public", phone="+34 91 000 0000")
    nurse = Contact(name="Research nurse", role="CONTACT", email="nurse@example.org")
    madrid = Site(
        facility="Hospital Universitario La Paz",
        city="Madrid",
        country="ES",
        country_name="Spain",
        contacts=(office,),
    )
    ctis = _elsewhere(ctgov, "ctis", "2024-520423-88-00", (madrid,))
    ctis = ctis.model_copy(update={"contacts": (office,)})
    assert ctgov.contacts == ()  # the reconstructed MASTERS-2 record lists none
    merged = merge([ctgov, ctis])
    assert merged.contacts == (office,)
    assert next(s for s in merged.sites if s.city == "Madrid").contacts == (office,)
    with_own = ctgov.model_copy(update={"contacts": (nurse,)})
    assert merge([ctis, with_own]).contacts == (nurse,)
    isrctn = _elsewhere(ctgov, "isrctn", "ISRCTN90000001", ())
    isrctn = isrctn.model_copy(update={"contacts": (nurse,)})
    assert merge([isrctn, ctis, ctgov]).contacts == (office,)  # CTIS ranks above ISRCTN
