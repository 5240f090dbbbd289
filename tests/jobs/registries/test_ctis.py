"""EU CTIS: the normaliser on the BUILT fixtures, and CtisClient against the fake CTIS over real
HTTP (no monkeypatching). Fixtures are built, not recorded (see tests/fixtures/ctis/README.md),
except one real recorded trial, used for contacts and for the codes, names and ids of the real
API (variants of it are derived in code).
Backoff is shrunk to milliseconds and spacing to 0 so the file runs in a few seconds.
"""

from __future__ import annotations

import copy
import json
import logging
import random
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from jobs.classify import classify
from jobs.registries.base import RawRecord, RecordError, Registry, RegistryError
from jobs.registries.ctis import (
    CELL_TERMS,
    CONDITION_TERMS,
    SEARCH_ROW_KEY,
    CtisClient,
    NotACtisAnswer,
    contain_any,
    read_saved,
    search_criteria,
)
from jobs.registries.ctis_record import normalise, parse_date, phases_from, status_from_words
from jobs.registries.http import HttpOptions
from tests.fakes.ctis_server import FakeCtis, built_record, search_row
from tests.jobs.helpers import FAST_HTTP
from trialbot import metrics
from trialbot.model import Contact, KeyDate, Trial
from trialbot.settings import Settings

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ctis"
POSITIVE = "2024-519001-21-00"
CROHN = "2023-508002-33-00"
TENECTEPLASE = "2024-513003-45-00"
SPARSE = "2025-521004-11-00"
MALFORMED = "2024-517005-09-00"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def positive() -> dict[str, Any]:
    return fixture("positive_adsc_ischaemic_stroke")


def stroke_cells(ct: str, last_updated: str = "2026-09-01", **kwargs: Any) -> dict[str, Any]:
    """A built stem-cell stroke record (found by the candidate search)."""
    options: dict[str, Any] = {
        "title": f"Mesenchymal stem cells after ischaemic stroke ({ct})",
        "condition": "Ischaemic stroke",
        "intervention": "Allogeneic mesenchymal stem cells, intravenous",
        "sites": [("Hospital Universitario La Paz", "Madrid", "Spain")],
        "last_updated": last_updated,
    }
    options.update(kwargs)
    return built_record(ct, **options)


def _client(fake: FakeCtis, http: HttpOptions = FAST_HTTP, **kwargs: Any) -> CtisClient:
    return CtisClient(fake.base_url, http=http, **kwargs)


async def _collect(pages: AsyncIterator[list[RawRecord]]) -> list[list[RawRecord]]:
    return [page async for page in pages]


def _flat(pages: list[list[RawRecord]]) -> list[RawRecord]:
    return [record for page in pages for record in page]


def _retrieved(fake: FakeCtis) -> list[str]:
    return [p.removeprefix("/retrieve/") for p in fake.paths() if p.startswith("/retrieve/")]


@pytest.fixture
def fake() -> Iterator[FakeCtis]:
    with FakeCtis() as server:
        for path in sorted(FIXTURES.glob("*.json")):
            if path.name != "search_page.json":
                assert server.load_file(path) == 1
        yield server


# -- normaliser: the built fixtures --------------------------------------------------------


def test_positive_fixture_fields() -> None:
    trial = normalise(positive())
    assert trial.registry == "ctis" and trial.registry_id == POSITIVE
    assert trial.url == (
        f"https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT={POSITIVE}"
    )
    assert trial.brief_title == "Regenerative Stem Cell Therapy for Stroke in Europe 1"
    # `shortTitle` is CTIS's protocol code, not an acronym (this built fixture used to expect
    # the acronym there: the real answers show sponsor codes such as "200925" in it).
    assert trial.acronym is None
    assert [(s.id, s.type) for s in trial.secondary_ids] == [
        ("NCT03570450", "NCT"),
        ("RESSTORE1", "OTHER"),
    ]
    assert trial.sources == () and trial.aliases == ()
    assert trial.conditions == ("Ischaemic stroke",)
    assert trial.keywords == ("Ischaemic stroke",)  # the MedDRA term
    cells, placebo = trial.interventions
    assert (cells.name, cells.type) == ("Adipose derived Stem Cell", "BIOLOGICAL")
    assert cells.other_names == ("ADSC", "Allogeneic adipose-derived mesenchymal stem cells")
    assert cells.description is not None
    assert "Advanced therapy medicinal product (ATMP)" in cells.description
    assert "Route: Intravenous use" in cells.description
    assert (placebo.name, placebo.type) == ("Placebo", "DRUG")
    assert trial.phases == ("PHASE1",)
    assert trial.overall_status == "RECRUITING"
    assert trial.design.study_type == "INTERVENTIONAL"
    assert trial.enrollment.count == 95
    assert trial.sponsor is not None
    assert trial.sponsor.name == "Centre Hospitalier Universitaire Grenoble Alpes"
    assert trial.sponsor.agency_class == "OTHER"
    assert [c.name for c in trial.collaborators] == ["Hospital Universitario La Paz"]
    assert trial.primary_outcomes == (
        "Number of serious adverse events related to the investigational product up to 6 months",
    )
    dates = trial.dates
    assert dates.start is not None and (dates.start.date, dates.start.estimated) == (
        "2024-05-20",
        False,
    )  # startDateEU given as dd/mm/yyyy
    assert dates.completion is not None
    assert (dates.completion.date, dates.completion.estimated) == ("2027-07-01", True)
    assert dates.first_posted is not None and dates.first_posted.date == "2024-03-18"
    assert trial.last_update == "2026-09-14"  # ISO datetime publishDate
    # Sites of every member state; the duplicated Grenoble site is listed once; La Paz's
    # country comes from its Part II because its address has none.
    assert [(s.facility, s.city, s.country, s.country_name, s.status) for s in trial.sites] == [
        ("Hospital Universitario La Paz", "Madrid", "ES", "Spain", None),
        (
            "Centre Hospitalier Universitaire Grenoble Alpes - Stroke Unit",
            "La Tronche",
            "FR",
            "France",
            None,
        ),
    ]
    assert trial.countries == ["ES", "FR"]
    elig = trial.eligibility
    assert (elig.sex, elig.minimum_age, elig.maximum_age) == ("ALL", "18 Years", None)
    assert elig.healthy_volunteers is False
    assert elig.criteria is not None
    inclusion, exclusion = elig.criteria.split("Exclusion Criteria:")
    assert inclusion.startswith("Inclusion Criteria:\n* Inclusion criteria are similar")
    assert inclusion.index("Male or female") < inclusion.index("NIHSS")  # by `number`
    assert "Pregnancy or breastfeeding" in exclusion and "Pregnancy" not in inclusion
    assert trial.summary is not None and "&lt;" not in trial.summary and "<br" not in trial.summary
    assert "families.\nBuilding on" in trial.summary
    # The built fixture's trial scope is code "1": Diagnosis in ctrdata's code list.
    assert trial.design.primary_purpose == "DIAGNOSTIC"
    assert trial.detailed_description == (
        "Scope: Diagnosis\n\n"
        "Secondary objectives:\n"
        "* To assess the tolerance of intravenous adipose-derived stem cells.\n"
        "* To explore the dose-effect relationship of the four cell doses on motor recovery."
    )
    assert trial.has_results is False


def test_search_row_last_updated_and_fallbacks() -> None:
    raw = positive()
    raw[SEARCH_ROW_KEY] = {"ctNumber": POSITIVE, "lastUpdated": "20/09/2026"}
    assert normalise(raw).last_update == "2026-09-20"  # the later of row and publishDate
    raw[SEARCH_ROW_KEY] = {"ctNumber": POSITIVE, "lastUpdated": "01/01/2025"}
    assert normalise(raw).last_update == "2026-09-14"
    untitled = positive()
    del untitled["authorizedApplication"]["authorizedPartI"]["trialDetails"]
    untitled[SEARCH_ROW_KEY] = {"ctNumber": POSITIVE, "ctTitle": "Title from the search row"}
    assert normalise(untitled).brief_title == "Title from the search row"


def test_negative_cells_not_stroke_fixture() -> None:
    trial = normalise(fixture("negative_cells_crohn_fistula"))
    assert trial.registry_id == CROHN
    assert [(s.type, s.id, s.domain) for s in trial.secondary_ids] == [
        ("EUDRACT_NUMBER", "2019-001234-17", None),
        ("ISRCTN", "ISRCTN12345678", None),
        ("REGISTRY", "DRKS00012345", "German Clinical Trials Register"),
        ("REGISTRY", "U1111-1234-5678", "WHO UTN"),
    ]
    assert trial.overall_status == "COMPLETED"
    assert trial.phases == ("PHASE3",)
    assert trial.interventions[0].type == "BIOLOGICAL"
    assert trial.interventions[0].other_names == ("Darvadstrocel", "eASC")
    assert trial.sponsor is not None and trial.sponsor.agency_class == "INDUSTRY"
    assert trial.has_results is True
    assert trial.dates.completion is not None and trial.dates.completion.estimated is False
    assert trial.countries == ["BE", "DE"]
    assert (trial.eligibility.minimum_age, trial.eligibility.maximum_age) == (
        "18 Years",
        "64 Years",
    )


def test_negative_stroke_without_cells_fixture() -> None:
    trial = normalise(fixture("negative_stroke_no_cells"))
    assert trial.phases == ("PHASE3",)  # numeric phase code 5
    assert trial.overall_status == "ACTIVE_NOT_RECRUITING"
    assert trial.last_update == "2026-08-05"  # publishDate as dd/mm/yyyy
    assert trial.dates.first_posted is not None and trial.dates.first_posted.date == "2024-02-01"
    assert [(i.name, i.type) for i in trial.interventions] == [
        ("Alteplase", "DRUG"),
        ("Tenecteplase", "DRUG"),
    ]
    assert trial.countries == ["CZ", "NL"]
    assert trial.eligibility.criteria is not None
    assert "Exclusion Criteria" not in trial.eligibility.criteria


def test_sparse_fixture() -> None:
    trial = normalise(fixture("sparse_numeric_status"))
    assert trial.registry_id == SPARSE
    assert trial.brief_title.startswith("Intracerebral implantation")
    # ctStatus 4 is "Ongoing, recruiting" (ctrdata's code list); this expectation used to be
    # UNKNOWN, from before the codes were decoded.
    assert trial.overall_status == "RECRUITING"
    assert trial.conditions == () and trial.interventions == () and trial.phases == ()
    assert trial.sponsor is None and trial.dates.start is None and trial.last_update is None
    assert trial.enrollment.count is None and trial.eligibility.criteria is None
    assert [(s.facility, s.city, s.country) for s in trial.sites] == [
        ("Ospedale Niguarda", None, "IT")
    ]


def test_malformed_records_raise_record_error() -> None:
    with pytest.raises(RecordError, match="no title"):
        normalise(fixture("malformed_no_title"))
    no_id = positive()
    del no_id["ctNumber"]
    with pytest.raises(RecordError, match="ctNumber"):
        normalise(no_id)
    bad_id = positive()
    bad_id["ctNumber"] = "NCT03570450"
    with pytest.raises(RecordError, match="ctNumber"):
        normalise(bad_id)
    with pytest.raises(RecordError):
        normalise([positive()])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Authorised, recruiting", "RECRUITING"),
        ("Ongoing, recruiting", "RECRUITING"),
        ("Ongoing, recruitment ended", "ACTIVE_NOT_RECRUITING"),
        ("Authorised, not started", "NOT_YET_RECRUITING"),
        ("Under evaluation", "NOT_YET_RECRUITING"),
        ("Halted", "SUSPENDED"),
        ("Temporarily halted", "SUSPENDED"),
        ("Suspended", "SUSPENDED"),
        ("Ended", "COMPLETED"),
        ("Ended early", "TERMINATED"),
        ("Withdrawn", "WITHDRAWN"),
        ("Revoked", "TERMINATED"),
        ("Not authorised", "WITHDRAWN"),
        ("Not authorized", "WITHDRAWN"),
        ("Expired", "WITHDRAWN"),
        ("Authorised", "NOT_YET_RECRUITING"),
    ],
)
def test_status_words(words: str, expected: str) -> None:
    assert status_from_words(words)[0] == expected
    raw = positive()
    raw["ctStatus"] = words
    del raw["ctPublicStatusCode"]  # the code wins over the words, as ctrdata reads them
    for part in raw["authorizedApplication"]["authorizedPartsII"]:
        part["mscInfo"].pop("trialStatus")
    assert normalise(raw).overall_status == expected


def test_unknown_status_is_kept_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    raw = positive()
    raw["ctStatus"] = "Paused for review 7731"
    del raw["ctPublicStatusCode"]  # else the code wins
    with caplog.at_level(logging.WARNING, logger="jobs.registries.ctis_record"):
        first, second = normalise(raw), normalise(raw)
    assert first.overall_status == second.overall_status == "PAUSED_FOR_REVIEW_7731"
    assert sum("Paused for review 7731" in r.getMessage() for r in caplog.records) == 1


def test_numeric_status_code_is_unknown_unless_member_states_say_more(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = positive()
    raw["ctStatus"] = raw["ctPublicStatusCode"] = 9871  # CTIS sends the same code in both
    for part in raw["authorizedApplication"]["authorizedPartsII"]:
        part["mscInfo"].pop("trialStatus")
    with caplog.at_level(logging.WARNING, logger="jobs.registries.ctis_record"):
        assert normalise(raw).overall_status == "UNKNOWN"
    assert any("9871" in r.getMessage() for r in caplog.records)
    parts = raw["authorizedApplication"]["authorizedPartsII"]
    parts[0]["mscInfo"]["trialStatus"] = "Ended"
    parts[1]["mscInfo"]["trialStatus"] = "Ongoing, recruiting"
    assert normalise(raw).overall_status == "RECRUITING"  # the most open member state
    parts[1]["mscInfo"]["trialStatus"] = "Ended"
    assert normalise(raw).overall_status == "COMPLETED"
    del raw["ctPublicStatusCode"]
    raw["ctStatus"] = "Authorised"  # vague: the member states say more
    assert normalise(raw).overall_status == "COMPLETED"
    raw["ctStatus"] = "Halted"  # specific: wins over the member states
    assert normalise(raw).overall_status == "SUSPENDED"


def test_dates_and_phases_parsing() -> None:
    assert parse_date("14/09/2026") == "2026-09-14"
    assert parse_date("2026-09-14T10:32:11.123Z") == "2026-09-14"
    assert parse_date("FR: 08/09/2026") == "2026-09-08"
    assert parse_date("2024-05") == "2024-05"
    assert parse_date("31/02/2024") is None and parse_date("yesterday") is None
    assert phases_from("Phase I and Phase II (Integrated) - Other", "x") == ("PHASE1", "PHASE2")
    assert phases_from("Therapeutic use (Phase IV)", "x") == ("PHASE4",)
    assert phases_from(4, "x") == ("PHASE2",)
    assert phases_from("Phase II/III", "x") == ("PHASE2", "PHASE3")


def test_reordered_lists_give_the_same_fingerprint() -> None:
    raw = positive()
    shuffled = copy.deepcopy(raw)
    app = shuffled["authorizedApplication"]
    rng = random.Random(7)
    for values in (
        app["authorizedPartsII"],
        app["authorizedPartI"]["products"],
        app["authorizedPartI"]["trialDetails"]["trialInformation"]["eligibilityCriteria"][
            "principalExclusionCriteria"
        ],
        app["authorizedPartsII"][0]["trialSites"],
    ):
        values.reverse()
        rng.shuffle(values)
    app["authorizedPartsII"].reverse()
    assert normalise(shuffled).fingerprint() == normalise(raw).fingerprint()


def test_wrong_types_everywhere_are_tolerated() -> None:
    raw = positive()
    part_i = raw["authorizedApplication"]["authorizedPartI"]
    part_i["products"].append("not a product")
    part_i["products"].append({"therapies": "x"})  # no name at all: skipped
    part_i["sponsors"] = {"primary": True}
    info = part_i["trialDetails"]["trialInformation"]
    info["populationOfTrialSubjects"] = ["x"]
    info["eligibilityCriteria"]["principalInclusionCriteria"].append({"number": "x"})
    info["trialDuration"] = {"estimatedRecruitmentStartDate": "2024-05", "estimatedEndDate": 1}
    raw["authorizedApplication"]["authorizedPartsII"][0]["trialSites"] += [1, "a", {}]
    raw["startDateEU"] = "someday"
    raw["events"] = []
    trial = normalise(raw)
    assert trial.sponsor is None
    assert len(trial.interventions) == 2 and len(trial.sites) == 2
    assert trial.dates.start == KeyDate(date="2024-05", estimated=True)
    assert trial.dates.completion is None


def test_classifier_verdicts_on_the_fixtures() -> None:
    verdict = classify(normalise(positive()))
    assert verdict.relevant is True and verdict.tier == "core"
    assert "ischemic" in verdict.buckets
    for name in ("negative_cells_crohn_fistula", "negative_stroke_no_cells"):
        assert classify(normalise(fixture(name))).relevant is False, name


def test_built_record_normalises_like_a_ctis_trial() -> None:
    raw = built_record(
        "2025-530001-11-00",
        title="Intravenous MSC after ischaemic stroke",
        condition="Ischaemic stroke",
        intervention="Allogeneic mesenchymal stem cells, intravenous",
        sites=[("Hospital A", "Madrid", "Spain"), ("Hospital B", "Lyon", "France")],
        secondary_ids=("NCT03545607", "2017-000123-45", "ISRCTN87654321", "JPRN-jRCT2053"),
        last_updated="2026-10-02",
        summary="Cells for stroke.",
    )
    trial = normalise(raw)
    assert trial.registry_id == "2025-530001-11-00"
    assert {(s.type, s.id) for s in trial.secondary_ids} == {
        ("NCT", "NCT03545607"),
        ("EUDRACT_NUMBER", "2017-000123-45"),
        ("ISRCTN", "ISRCTN87654321"),
        ("REGISTRY", "JPRN-jRCT2053"),
    }
    assert trial.overall_status == "RECRUITING" and trial.phases == ("PHASE2",)
    assert trial.countries == ["ES", "FR"] and trial.last_update == "2026-10-02"
    assert trial.interventions[0].type == "BIOLOGICAL"
    assert classify(trial).relevant is True
    ended = normalise(
        built_record(
            "2025-530002-11-00",
            title="t",
            condition="c",
            intervention="Tenecteplase",
            sites=[],
            status="Ended",
            phase="Therapeutic confirmatory (Phase III)",
        )
    )
    assert (ended.overall_status, ended.phases) == ("COMPLETED", ("PHASE3",))
    assert ended.interventions[0].type == "DRUG"


def test_fake_search_rows_have_the_documented_keys() -> None:
    documented = json.loads((FIXTURES / "search_page.json").read_text(encoding="utf-8"))
    row = search_row(positive())
    assert set(row) == set(documented["data"][0])
    assert row["lastUpdated"] == "14/09/2026" and row["decisionDateOverall"] == "18/03/2024"


# -- client against the fake ---------------------------------------------------------------


async def test_backfill_searches_candidates_and_retrieves_them(fake: FakeCtis) -> None:
    fake.upsert(
        stroke_cells(
            "2025-510001-10-00",
            condition="Ischaemic stroke; cerebral infarction",  # matched by two queries
        )
    )
    async with _client(fake) as client:
        pages = await _collect(client.changed_since(None))
    records = _flat(pages)
    # Found: stroke x cells. Not found: cells for Crohn's, stroke without cells, the sparse
    # record without a condition.
    assert sorted(r["ctNumber"] for r in records) == sorted(
        [POSITIVE, MALFORMED, "2025-510001-10-00"]
    )
    assert all(r[SEARCH_ROW_KEY]["ctNumber"] == r["ctNumber"] for r in records)
    bodies = fake.search_bodies()
    assert [b["searchCriteria"]["medicalCondition"] for b in bodies] == list(CONDITION_TERMS)
    for body in bodies:
        assert body["pagination"] == {"page": 1, "size": 100}
        assert body["sort"] == {"property": "decisionDate", "direction": "DESC"}
        assert body["searchCriteria"]["containAny"] == contain_any(CELL_TERMS)
    assert sorted(_retrieved(fake)) == sorted([POSITIVE, MALFORMED, "2025-510001-10-00"])
    assert client.last_candidates == 3 and client.last_kept == 3


async def test_incremental_keeps_rows_updated_on_or_after_since() -> None:
    with FakeCtis() as fake:
        fake.upsert(stroke_cells("2025-510001-10-00", "2026-01-01"))
        fake.upsert(stroke_cells("2025-510002-10-00", "2026-06-01"))
        fake.upsert(stroke_cells("2025-510003-10-00", "2026-09-01"))
        async with _client(fake, condition_terms=("stroke",)) as client:
            records = _flat(await _collect(client.changed_since(date(2026, 6, 1))))
            assert sorted(r["ctNumber"] for r in records) == [
                "2025-510002-10-00",
                "2025-510003-10-00",
            ]
            assert sorted(_retrieved(fake)) == ["2025-510002-10-00", "2025-510003-10-00"]
            assert client.last_candidates == 3 and client.last_kept == 2

            fake.clear_requests()
            fake.upsert(stroke_cells("2025-510001-10-00", "2026-10-05", status="Halted"))
            records = _flat(await _collect(client.changed_since(date(2026, 10, 1))))
            assert [r["ctNumber"] for r in records] == ["2025-510001-10-00"]
            assert _retrieved(fake) == ["2025-510001-10-00"]
            assert client.normalise(records[0]).overall_status == "SUSPENDED"


async def test_pagination_over_several_pages() -> None:
    ids = [f"2025-5200{n:02d}-10-00" for n in range(1, 6)]
    with FakeCtis() as fake:
        for n, ct in enumerate(ids):
            record = stroke_cells(ct)
            record["decisionDate"] = f"2025-0{n + 1}-15"
            fake.upsert(record)
        async with _client(
            fake, page_size=2, retrieve_batch=2, condition_terms=("stroke",)
        ) as client:
            pages = await _collect(client.changed_since(None))
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [r["ctNumber"] for r in _flat(pages)] == list(reversed(ids))  # decisionDate DESC
    assert [b["pagination"]["page"] for b in fake.search_bodies()] == [1, 2, 3]


async def test_page_zero_is_a_silent_empty_answer_the_client_never_asks_for() -> None:
    with FakeCtis(records=[stroke_cells("2025-510001-10-00")]) as fake:
        body: dict[str, Any] = {
            "pagination": {"page": 0, "size": 10},
            "sort": {"property": "decisionDate", "direction": "DESC"},
            "searchCriteria": search_criteria("stroke"),
        }
        answer = httpx.post(fake.base_url + "/search", json=body).json()
        assert answer["pagination"]["totalRecords"] == 0 and answer["data"] == []
        body["pagination"]["page"] = 1
        answer = httpx.post(fake.base_url + "/search", json=body).json()
        assert answer["pagination"]["totalRecords"] == 1
        fake.clear_requests()
        async with _client(fake) as client:
            assert len(_flat(await _collect(client.changed_since(None)))) == 1
    assert fake.search_bodies() and all(b["pagination"]["page"] == 1 for b in fake.search_bodies())


async def test_row_cap_stops_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with FakeCtis(max_rows=4) as fake:
        for n in range(1, 7):
            fake.upsert(stroke_cells(f"2025-5300{n:02d}-10-00"))
        async with _client(fake, page_size=2, max_rows=4, condition_terms=("stroke",)) as client:
            with caplog.at_level(logging.WARNING, logger="jobs.registries.ctis"):
                records = _flat(await _collect(client.changed_since(None)))
    assert len(records) == 4
    assert [b["pagination"]["page"] for b in fake.search_bodies()] == [1, 2]
    messages = [r.getMessage() for r in caplog.records]
    assert any("matches 6 trials" in m for m in messages)
    assert any("stopped after 4 rows" in m for m in messages)


async def test_fetch_ids(fake: FakeCtis, caplog: pytest.LogCaptureFixture) -> None:
    unknown = "2026-599999-99-00"
    async with _client(fake) as client:
        with caplog.at_level(logging.INFO, logger="jobs.registries.ctis"):
            pages = await _collect(
                client.fetch_ids([POSITIVE, unknown, "not-an-id", POSITIVE.lower(), CROHN])
            )
    assert sorted(r["ctNumber"] for r in _flat(pages)) == sorted([POSITIVE, CROHN])
    assert all(SEARCH_ROW_KEY not in r for r in _flat(pages))
    assert _retrieved(fake) == [POSITIVE, unknown, CROHN]  # once each; the malformed id never
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert unknown in messages and "not-an-id" in messages


async def test_retry_on_503_then_success(fake: FakeCtis) -> None:
    fake.fail_next(2, status=503, path="/search")
    fake.fail_next(1, status=429, retry_after=0, path="/retrieve/*")
    async with _client(fake, condition_terms=("stroke",)) as client:
        records = _flat(await _collect(client.changed_since(None)))
        assert sorted(r["ctNumber"] for r in records) == sorted([POSITIVE, MALFORMED])
        assert client.stats.retries == 3


async def test_registry_error_after_retries_are_exhausted(fake: FakeCtis) -> None:
    fake.fail_next(10, status=503)
    async with _client(fake, http=replace(FAST_HTTP, max_retries=2)) as client:
        with pytest.raises(RegistryError, match=r"ctis POST /search failed after 3 attempt"):
            await _collect(client.changed_since(None))
    assert len(fake.requests) == 3


async def test_garbage_bodies_raise_registry_error(fake: FakeCtis) -> None:
    fake.garbage_next(1, path="/search")
    async with _client(fake) as client:
        with pytest.raises(RegistryError, match="not valid JSON"):
            await _collect(client.changed_since(None))
    fake.garbage_next(1, path="/retrieve/*")
    async with _client(fake) as client:
        with pytest.raises(RegistryError, match="not valid JSON"):
            await _collect(client.fetch_ids([POSITIVE]))


@pytest.mark.parametrize(
    ("search_body", "message"),
    [
        ({"pagination": {"totalRecords": 1}, "data": "rows"}, "no 'data' list"),
        ({"data": []}, "no 'pagination'"),
        ({"pagination": {}, "data": [["not", "a", "row"]]}, "a row is not an object"),
        ([1, 2], "no 'data' list"),
    ],
)
async def test_wrong_shapes_raise_registry_error(search_body: Any, message: str) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/search"):
            return httpx.Response(200, json=search_body)
        return httpx.Response(200, json=["not", "a", "trial"])

    client = CtisClient(
        "https://ctis.invalid/ctis-public-api",
        http=HttpOptions(min_interval=0, transport=httpx.MockTransport(answer)),
    )
    async with client:
        with pytest.raises(RegistryError, match=message):
            await _collect(client.changed_since(None))
        with pytest.raises(RegistryError, match="not a trial object"):
            await client.fetch_one(POSITIVE)


async def test_empty_retrieve_answer_means_not_found() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"" if "521" in request.url.path else b"{}")

    client = CtisClient(
        "https://ctis.invalid/ctis-public-api",
        http=HttpOptions(min_interval=0, transport=httpx.MockTransport(answer)),
    )
    async with client:
        assert await client.fetch_one("2025-521004-11-00") is None
        assert await client.fetch_one(POSITIVE) is None
        assert await _collect(client.fetch_ids([POSITIVE])) == []


async def test_malformed_record_is_skipped_without_stopping_the_page(fake: FakeCtis) -> None:
    """As the poller does: each record normalised on its own, RecordError counted per record."""
    for n in range(1, 4):
        fake.upsert(stroke_cells(f"2025-5400{n:02d}-10-00"))
    trials: list[Trial] = []
    errors: list[str] = []
    async with _client(fake) as client:
        pages = await _collect(client.changed_since(None))
        pages += await _collect(client.fetch_ids([MALFORMED, POSITIVE]))
        for page in pages:
            for raw in page:
                try:
                    trials.append(client.normalise(raw))
                except RecordError as exc:
                    errors.append(str(exc))
    assert errors == [f"{MALFORMED} has no title"] * 2
    assert sorted({t.registry_id for t in trials}) == sorted(
        [POSITIVE, "2025-540001-10-00", "2025-540002-10-00", "2025-540003-10-00"]
    )


async def test_fake_rejects_what_it_does_not_evaluate(fake: FakeCtis) -> None:
    async with _client(fake, condition_terms=("stroke",)) as client:
        with pytest.raises(RegistryError, match="HTTP 400"):
            await _collect(client.search({"lastUpdatedFrom": "2026-01-01"}))
        with pytest.raises(RegistryError, match="HTTP 400"):
            await _collect(client.search({"noSuchKey": 1}))
        rows = _flat(await _collect(client.search({"number": CROHN})))
        assert [r["ctNumber"] for r in rows] == [CROHN]


async def test_probe_makes_one_real_search(fake: FakeCtis) -> None:
    async with _client(fake) as client:
        assert await client.probe() == "2 candidate trial(s) for 'stroke'"
    assert fake.search_bodies()[0]["pagination"] == {"page": 1, "size": 1}
    fake.fail_next(5, status=502)
    async with _client(fake, http=replace(FAST_HTTP, max_retries=1)) as client:
        with pytest.raises(RegistryError):
            await client.probe()


async def test_registry_protocol_settings_and_no_data_version() -> None:
    settings = Settings(
        ctis_api_url="https://euclinicaltrials.eu/ctis-public-api",
        ctis_min_interval_seconds=2.5,
        http_timeout_seconds=3,
        http_max_retries=4,
    )
    client = CtisClient.from_settings(settings)
    registry: Registry = client
    async with client:
        assert registry.name == "ctis"
        assert client.base_url == "https://euclinicaltrials.eu/ctis-public-api"
        assert (client.min_interval, client.max_retries) == (2.5, 4)
        assert await registry.data_version() is None
        assert client.stats.requests == 0
    with pytest.raises(ValueError):
        CtisClient("https://x.invalid", page_size=0)


# -- contacts (issue 11), on the real recorded record ------------------------------------------

GSK_CALL_CENTRE = Contact(
    name="EU GSK Clinical Trials Call Center",
    role="Public",
    phone="+442089904466",
    email="GSKClinicalSupportHD@gsk.com",
)


def recorded() -> dict[str, Any]:
    """The real CTIS trial 2024-510663-34-00 (tests/fixtures/ctis/README.md, "Recorded")."""
    path = FIXTURES / "recorded" / "ctrdata-demo_2024-510663-34-00.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _sponsor(raw: dict[str, Any]) -> dict[str, Any]:
    sponsor: dict[str, Any] = raw["authorizedApplication"]["authorizedPartI"]["sponsors"][0]
    return sponsor


def test_recorded_study_contacts_are_the_sponsors_public_then_scientific_ones() -> None:
    raw = recorded()
    trial = normalise(raw)
    # the scientific contact is the same call centre again: kept once, under its first role
    scientific = _sponsor(raw)["scientificContacts"][0]
    assert scientific["type"] == "Scientific" and scientific["telephone"] == "+442089904466"
    assert trial.contacts == (GSK_CALL_CENTRE,)


def test_recorded_site_contacts_are_each_sites_person() -> None:
    trial = normalise(recorded())
    by_city = {s.city: s.contacts for s in trial.sites}
    assert len(trial.sites) == 6 and all(len(c) == 1 for c in by_city.values())
    assert by_city["Esplugues De Llobregat"] == (
        Contact(
            name="Mónica Balaguer Gargallo",
            phone="+34932804000",
            email="mbalaguer@sjdhospitalbarcelona.org",
        ),
    )
    assert by_city["Madrid"][0].phone == "917277000"


def test_contacts_without_a_phone_or_email_or_with_placeholders_are_dropped() -> None:
    raw = copy.deepcopy(recorded())
    sponsor = _sponsor(raw)
    sponsor["publicContacts"][0].update(telephone="N/A", functionalEmailAddress="-")
    sponsor["scientificContacts"][0].update(telephone="", functionalEmailAddress=None)
    for part in raw["authorizedApplication"]["authorizedPartsII"]:
        for site in part["trialSites"]:
            site["personInfo"].update(telephone="none", email="Nil known")
            site["organisationAddressInfo"].update(phone="", email="")
    trial = normalise(raw)
    assert trial.contacts == () and all(s.contacts == () for s in trial.sites)


def test_records_without_contacts_have_none() -> None:
    raw = copy.deepcopy(recorded())
    for key in ("publicContacts", "scientificContacts"):
        del _sponsor(raw)[key]
    for part in raw["authorizedApplication"]["authorizedPartsII"]:
        for site in part["trialSites"]:
            del site["personInfo"], site["organisationAddressInfo"]["phone"]
            del site["organisationAddressInfo"]["email"]
    trial = normalise(raw)
    assert trial.contacts == () and all(s.contacts == () for s in trial.sites)
    for built in (positive(), fixture("sparse_numeric_status")):  # built: no contacts given
        assert normalise(built).contacts == ()


def test_the_lead_sponsors_contacts_come_first_and_a_site_falls_back_to_its_organisation() -> None:
    raw = copy.deepcopy(recorded())
    lead = _sponsor(raw)
    partner = {
        "primary": False,
        "organisation": {"name": "Partner university"},
        "publicContacts": [
            {"type": "Public", "functionalName": "Partner office", "telephone": "+39 06 1234"}
        ],
    }
    raw["authorizedApplication"]["authorizedPartI"]["sponsors"] = [partner, lead]
    site = raw["authorizedApplication"]["authorizedPartsII"][0]["trialSites"][0]
    site["personInfo"].update(telephone=None, email=None)
    trial = normalise(raw)
    assert [c.name for c in trial.contacts] == [GSK_CALL_CENTRE.name, "Partner office"]
    barcelona = next(s for s in trial.sites if s.city == "Esplugues De Llobregat")
    assert barcelona.contacts == (
        Contact(phone="+34932804000", email="mbalaguer@sjdhospitalbarcelona.org"),
    )


# -- real CTIS answers (issue 12): codes, names and ids, on the recorded record -----------------
# Every variant is the recorded file copied (`recorded()` reads it afresh) with the one change
# its comment names; the file itself is never edited.


def _part_i(raw: dict[str, Any]) -> dict[str, Any]:
    part_i: dict[str, Any] = raw["authorizedApplication"]["authorizedPartI"]
    return part_i


def _unknown_count(kind: str) -> float:
    value = metrics.REGISTRY.get_sample_value(
        "trialbot_unknown_values_total", {"registry": "ctis", "kind": kind}
    )
    return value or 0.0


def test_recorded_status_codes_are_decoded(caplog: pytest.LogCaptureFixture) -> None:
    raw = recorded()
    with caplog.at_level(logging.WARNING, logger="jobs.registries.ctis_record"):
        trial = normalise(raw)
    # ctStatus = ctPublicStatusCode = 4, "Ongoing, recruiting" (not the member states' vague
    # "Authorised", which read as NOT_YET_RECRUITING), and no "unknown status code" warning.
    assert trial.overall_status == "RECRUITING"
    assert not any("status code" in r.getMessage() for r in caplog.records)
    ended = recorded()
    ended["ctStatus"] = ended["ctPublicStatusCode"] = 5  # "Ongoing, recruitment ended"
    assert normalise(ended).overall_status == "ACTIVE_NOT_RECRUITING"
    only_states = recorded()
    del only_states["ctStatus"], only_states["ctPublicStatusCode"]  # member states' codes only
    assert normalise(only_states).overall_status == "RECRUITING"  # mscPublicStatusCode 4
    early = recorded()
    early["ctStatus"] = early["ctPublicStatusCode"] = 8  # "Ended" ...
    assert normalise(early).overall_status == "COMPLETED"
    for entry in early["events"]["trialEvents"]:  # ... early, in each member state
        entry["events"].append({"notificationType": "EARLY_TERMINATION", "date": "2025-10-01"})
    assert normalise(early).overall_status == "TERMINATED"


def test_an_unknown_status_code_is_logged_once_counted_and_not_guessed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    raw = recorded()
    raw["ctStatus"] = raw["ctPublicStatusCode"] = 77  # a code no source explains
    for state in raw["authorizedApplication"]["memberStatesConcerned"]:
        state["mscPublicStatusCode"] = 78  # nor this one
    before = _unknown_count("status code"), _unknown_count("member-state status code")
    with caplog.at_level(logging.WARNING, logger="jobs.registries.ctis_record"):
        first, second = normalise(raw), normalise(raw)
    # Only the member states' own words are left ("Authorised", vague).
    assert first.overall_status == second.overall_status == "NOT_YET_RECRUITING"
    assert sum("unknown status code 77" in r.getMessage() for r in caplog.records) == 1
    assert _unknown_count("status code") == before[0] + 2
    assert _unknown_count("member-state status code") == before[1] + 4  # 2 states, 2 reads


def test_recorded_age_group_codes_give_ages() -> None:
    # ageRanges[].ageRangeCategoryCode "2": 0-17 years (the search row says "0-17 years").
    trial = normalise(recorded())
    assert (trial.eligibility.minimum_age, trial.eligibility.maximum_age) == ("0 Years", "17 Years")
    adults = recorded()
    population = _part_i(adults)["trialDetails"]["trialInformation"]["populationOfTrialSubjects"]
    population["ageRanges"] = [  # adults and elderly instead
        {"ageRangeCategoryCode": "3", "ageRangeCategory": "3"},
        {"ageRangeCategoryCode": "4", "ageRangeCategory": "4"},
    ]
    population["ageRangeSecondaryIds"] = []
    adult = normalise(adults).eligibility
    assert (adult.minimum_age, adult.maximum_age) == ("18 Years", None)
    population["ageRanges"].append({"ageRangeCategoryCode": "9"})  # a code no source explains
    before = _unknown_count("age group code")
    unknown = normalise(adults).eligibility
    assert (unknown.minimum_age, unknown.maximum_age) == (None, None)
    assert _unknown_count("age group code") == before + 1


def test_recorded_trial_scopes_are_decoded() -> None:
    trial = normalise(recorded())
    assert trial.detailed_description == "Scope: Safety, Pharmacokinetic"  # codes 4 and 6
    assert trial.design.primary_purpose is None  # neither says what the trial is for
    therapy = recorded()
    scopes = _part_i(therapy)["trialDetails"]["trialInformation"]["trialObjective"]["trialScopes"]
    scopes.append({"code": "3", "trialScopeId": 1})  # Therapy added
    assert normalise(therapy).design.primary_purpose == "TREATMENT"


def test_recorded_product_characteristics_are_codes_and_an_atmp_is_seen() -> None:
    before = _unknown_count("product characteristic")
    (product,) = normalise(recorded()).interventions
    # Characteristic "4" has no known meaning: counted, not shown, not guessed.
    assert _unknown_count("product characteristic") == before + 1
    assert product.type == "DRUG" and product.description is not None
    assert "Characteristics" not in product.description and "4" not in product.description
    cells = recorded()
    item = _part_i(cells)["products"][0]
    item["characteristics"] = ["11"]  # "Other", described by otherMedicinalProduct
    item["otherMedicinalProduct"] = "chemical"
    item["therapies"] = [  # the advanced-therapy details of a cell product
        {
            "advancedTherapyType": "2",
            "cellTypeMoreInformation": "allogeneic mesenchymal stem cells",
            "isGmo": False,
        }
    ]
    (atmp,) = normalise(cells).interventions
    assert atmp.type == "BIOLOGICAL" and atmp.description is not None
    assert atmp.description.splitlines()[:3] == [
        "Advanced therapy medicinal product (ATMP)",
        "allogeneic mesenchymal stem cells",  # the bare type code "2" is not shown
        "Characteristics: Other: chemical",
    ]
    assert "chemical" not in (atmp.name, *atmp.other_names)


def test_recorded_product_names_have_no_placeholders_and_each_product_once() -> None:
    # The real record's activeSubstanceOtherDescriptiveName is "NA".
    (product,) = normalise(recorded()).interventions
    assert (product.name, product.other_names) == (
        "Dectova 10 mg/mL solution for infusion",
        ("zanamivir",),
    )
    unnamed = recorded()
    item = _part_i(unnamed)["products"][0]
    del item["productName"], item["productDictionaryInfo"]["prodName"]
    item["jsonActiveSubstanceNames"] = "n/a"  # placeholders where names were wanted
    item["productDictionaryInfo"]["activeSubstanceName"] = "N/A"
    item["otherMedicinalProduct"] = "chemical"
    (named,) = normalise(unnamed).interventions
    assert (named.name, named.other_names) == ("ZANAMIVIR", ())
    twice = recorded()
    products = _part_i(twice)["products"]
    again = copy.deepcopy(products[0])  # the same product listed again, another pack
    again["id"] = 415004
    again["routes"] = ["ORAL USE"]
    products.append(again)
    (once,) = normalise(twice).interventions
    assert once.name == "Dectova 10 mg/mL solution for infusion"
    assert once.description is not None
    assert "Route: INTRAVENOUS USE" in once.description and "Route: ORAL USE" in once.description


def test_recorded_protocol_code_is_an_id_not_an_acronym() -> None:
    trial = normalise(recorded())
    assert trial.acronym is None  # shortTitle "200925" is GSK's study number
    assert [(s.type, s.id, s.domain) for s in trial.secondary_ids] == [
        ("EUDRACT_NUMBER", "2019-001588-63", None),
        ("NCT", "NCT04494412", None),
        ("OTHER", "200925", "sponsor protocol code"),
    ]


def test_several_ind_numbers_in_one_field_are_several_ids() -> None:
    raw = recorded()
    numbers = _part_i(raw)["trialDetails"]["clinicalTrialIdentifiers"][
        "secondaryIdentifyingNumbers"
    ]
    # Two IND numbers in one field, as a real CTIS answer (another demo trial) has them; the
    # comma inside each groups digits.
    numbers["additionalRegistries"] = [
        {"id": 1, "number": "75,061; 125,097", "otherRegistryName": "IND", "ctRegistryCode": "6"}
    ]
    ids = [(s.type, s.id, s.domain) for s in normalise(raw).secondary_ids]
    assert ("REGISTRY", "75,061", "IND") in ids and ("REGISTRY", "125,097", "IND") in ids
    assert not any(";" in i for _, i, _ in ids)


def test_read_saved_tells_the_format_by_content(tmp_path: Path) -> None:
    path = FIXTURES / "recorded" / "ctrdata-demo_2024-510663-34-00.json"
    assert list(read_saved(path)) == [recorded()]  # ctrdata: retrieve with the row merged
    retrieve = recorded()
    for key in ("shortTitle", "trialCountries", "lastUpdated", "ageGroup", "trialPhase"):
        del retrieve[key]  # a bare GET /retrieve answer
    saved = tmp_path / "answer.txt"  # any name: the content tells
    saved.write_text(json.dumps(retrieve))
    assert [normalise(r).registry_id for r in read_saved(saved)] == ["2024-510663-34-00"]
    search = tmp_path / "retrieve.json"  # a search answer, whatever its name says
    search.write_bytes((FIXTURES / "search_page.json").read_bytes())
    rows = list(read_saved(search))
    assert [normalise(r).registry_id for r in rows] == [POSITIVE, TENECTEPLASE]
    for content in ('{"studies": []}', "<html>maintenance</html>", "[1, 2]"):
        saved.write_text(content)
        with pytest.raises(NotACtisAnswer, match=r"answer\.txt: not a CTIS"):
            list(read_saved(saved))
    assert issubclass(NotACtisAnswer, RegistryError)
