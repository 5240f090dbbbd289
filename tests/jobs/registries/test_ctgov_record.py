"""The CT.gov normaliser on real records, and on bad input derived from them in code."""

from __future__ import annotations

import copy
import logging
from typing import Any

import pytest

from jobs.registries.base import RecordError
from jobs.registries.ctgov_record import normalise
from tests.conftest import CTGOV, all_recorded_studies, load_json, study
from trialbot.model import Contact


def test_every_recorded_and_reconstructed_record_normalises() -> None:
    records = all_recorded_studies()
    records += [(p.name, load_json(p)) for p in (CTGOV / "reconstructed").glob("NCT*.json")]
    assert len(records) >= 270
    for name, raw in records:
        trial = normalise(raw)
        assert trial.registry_id.startswith("NCT"), name
        assert trial.url == f"https://clinicaltrials.gov/study/{trial.registry_id}"


def test_1148_sites_with_four_lacking_coordinates() -> None:
    trial = normalise(study("NCT04267848"))
    assert len(trial.sites) == 1148
    assert sum(1 for s in trial.sites if s.lat is None) == 4
    assert all(s.country for s in trial.sites)


def test_fields_of_a_reconstructed_positive() -> None:
    trial = normalise(study("NCT04811651__2022-05-25"))
    assert trial.brief_title == "Umbilical Cord-derived Mesenchymal Stem Cells for Ischemic Stroke"
    assert trial.phases == ("PHASE2",)
    assert trial.enrollment.count == 200 and trial.enrollment.estimated is True
    assert trial.design.allocation == "RANDOMIZED" and trial.design.masking == "QUADRUPLE"
    assert trial.design.arm_types == ("EXPERIMENTAL",)
    assert trial.sponsor is not None and trial.sponsor.agency_class == "OTHER"
    assert trial.dates.start is not None and trial.dates.start.estimated is False
    assert trial.overall_status == "RECRUITING"


def test_registry_country_spellings_map_to_iso() -> None:
    codes = {
        s.country_name: s.country for _, raw in all_recorded_studies() for s in normalise(raw).sites
    }
    assert codes.get("Korea, Republic of") == "KR"
    assert codes.get("United States") == "US"
    unmapped = {name for name, code in codes.items() if name and code is None}
    assert unmapped == set()


def test_mesh_order_and_padding_do_not_change_the_fingerprint() -> None:
    a = normalise(study("NCT02552212"))
    b = normalise(study("NCT02552212__versionHolder-2024-01-03__aact-file-NCT02278341"))
    assert a.fingerprint() == b.fingerprint()
    raw = copy.deepcopy(study("NCT02552212"))
    meshes = raw["derivedSection"]["conditionBrowseModule"]["meshes"]
    for mesh in meshes:  # the same ids, zero-padded the other way
        mesh["id"] = "D" + mesh["id"][1:].lstrip("0").zfill(9)
    meshes.reverse()
    assert normalise(raw).fingerprint() == a.fingerprint()


def test_partial_dates_missing_modules_and_unknown_enums(caplog: pytest.LogCaptureFixture) -> None:
    raw: dict[str, Any] = copy.deepcopy(study("NCT04811651__2022-05-25"))
    proto = raw["protocolSection"]
    proto["statusModule"]["startDateStruct"] = {"date": "2007-06"}
    proto["statusModule"]["completionDateStruct"] = {"date": "June 2007"}
    proto["statusModule"]["overallStatus"] = "PAUSED_FOR_AUDIT"
    del proto["eligibilityModule"], proto["designModule"]
    with caplog.at_level(logging.WARNING):
        trial = normalise(raw)
    assert trial.dates.start is not None and trial.dates.start.date == "2007-06"
    assert trial.dates.start.estimated is None
    assert trial.dates.completion is None
    assert trial.overall_status == "PAUSED_FOR_AUDIT"
    assert trial.phases == () and trial.eligibility.criteria is None
    assert "PAUSED_FOR_AUDIT" in caplog.text and "June 2007" in caplog.text


def test_markdown_escapes_are_removed_from_text() -> None:
    raw = copy.deepcopy(study("NCT04811651__2022-05-25"))
    raw["protocolSection"]["descriptionModule"]["briefSummary"] = "1 x 10\\^6 cells \\<b\\> \\[x\\]"
    assert normalise(raw).summary == "1 x 10^6 cells <b> [x]"


@pytest.mark.parametrize(
    "mutate",
    [
        lambda r: r["protocolSection"]["identificationModule"].pop("nctId"),
        lambda r: r["protocolSection"]["identificationModule"].update(nctId="NCT123"),
        lambda r: r["protocolSection"].pop("identificationModule"),
        lambda r: r["protocolSection"]["identificationModule"].update(
            briefTitle="", officialTitle=None
        ),
    ],
)
def test_records_without_id_or_title_are_rejected(mutate: Any) -> None:
    raw = copy.deepcopy(study("NCT04811651__2022-05-25"))
    mutate(raw)
    with pytest.raises(RecordError):
        normalise(raw)


def test_non_object_is_rejected() -> None:
    with pytest.raises(RecordError):
        normalise(["not", "a", "study"])  # type: ignore[arg-type]


# -- contacts (issue 11) ----------------------------------------------------------------------


def _downloaded(nct_id: str) -> dict[str, Any]:
    """One study of the recorded website downloads (tests/fixtures/ctgov/downloads)."""
    for path in sorted((CTGOV / "downloads").glob("*.json")):
        for item in load_json(path):
            if item["protocolSection"]["identificationModule"]["nctId"] == nct_id:
                return dict(item)
    raise LookupError(nct_id)


def _places(raw: dict[str, Any]) -> dict[str, Any]:
    module: dict[str, Any] = raw["protocolSection"]["contactsLocationsModule"]
    return module


def test_central_and_site_contacts_of_a_recorded_study() -> None:
    raw = load_json(CTGOV / "search-pages" / "aact_single_study_page_NCT03281889.json")
    trial = normalise(raw["studies"][0])
    mgh = Contact(
        name="Shannon MacDonald, MD",
        role="CONTACT",
        phone="617-643-7250",
        email="smacdonald@mgh.harvard.edu",
    )
    # the overall official (a name, affiliation and role) cannot be reached: not a contact
    assert trial.contacts == (mgh,)
    by_city = {s.city: s.contacts for s in trial.sites}
    # each site's PRINCIPAL_INVESTIGATOR entry has a name only: dropped
    assert by_city["Boston"] == (mgh,)
    assert by_city["Houston"] == (
        Contact(name="Susan McGovern, MD", role="CONTACT", email="slmcgove@mdanderson.org"),
    )


def test_phone_extensions_are_kept_and_a_calling_code_goes_in_front() -> None:
    nursing = normalise(_downloaded("NCT03466944"))
    assert nursing.contacts[1] == Contact(
        name="Katherine May, BSc",
        role="CONTACT",
        phone="0208 642 6011 ext 4109",
        email="katherine.may@rmh.nhs.uk",
    )
    madrid = normalise(_downloaded("NCT05304754"))  # phone "917277223", phoneExt "+34"
    assert madrid.contacts[0].phone == "+34 917277223"


def test_name_only_contacts_are_dropped_and_nameless_reachable_ones_kept() -> None:
    trial = normalise(_downloaded("NCT05756322"))  # each site's only contact is {"name": "PI"}
    assert trial.sites and all(s.contacts == () for s in trial.sites)
    assert [c.name for c in trial.contacts] == ["Lin BioScience Clinical Operations"]
    leiden = normalise(study("NCT01949129"))  # one site contact is an email without a name
    assert Contact(role="CONTACT", email="A.Lankester@lumc.nl") in {
        c for s in leiden.sites for c in s.contacts
    }


def test_a_study_without_contacts_has_none() -> None:
    trial = normalise(study("NCT02210780"))
    assert "centralContacts" not in _places(study("NCT02210780"))
    assert trial.contacts == () and all(s.contacts == () for s in trial.sites)


def test_contact_placeholders_order_duplicates_and_reachable_officials() -> None:
    """Variations of a real record, made here: placeholders, a repeated entry, an official
    that does give an email, and a contact listed again under another role."""
    raw = copy.deepcopy(study("NCT01949129"))
    places = _places(raw)
    first, second = places["centralContacts"]
    places["centralContacts"] = [
        {"name": "Trial office", "role": "CONTACT", "phone": "N/A", "email": "none"},
        second,
        first,
        dict(second),
        {**first, "role": "PRINCIPAL_INVESTIGATOR"},
        {"name": "Nil known", "role": "CONTACT", "phone": " - ", "email": "office@example.org"},
    ]
    official = places["overallOfficials"][0]
    places["overallOfficials"][0] = {**official, "email": "chair@example.org"}
    trial = normalise(raw)
    assert [(c.name, c.role) for c in trial.contacts] == [
        (second["name"], "CONTACT"),
        (first["name"], "CONTACT"),
        (None, "CONTACT"),
        (official["name"], official["role"]),
    ]
    assert trial.contacts[2].phone is None and trial.contacts[2].email == "office@example.org"
