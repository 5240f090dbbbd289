"""How a publication is told apart: results, protocol, background, other; and "overdue"."""

from __future__ import annotations

from datetime import date

import pytest

from trialbot.model import FieldChange
from trialbot.publications import (
    KnownSoFar,
    PaperEvidence,
    Publication,
    kind_of,
    overdue_since,
    worth_an_early_look,
)

START = date(2016, 3, 8)


def _kind(**evidence: object) -> tuple[str, str]:
    return kind_of(PaperEvidence(**evidence), START)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("evidence", "expected"),
    [
        # PubMed's own types
        (
            {
                "pubtypes": ("Journal Article", "Randomized Controlled Trial"),
                "published": "2019-05",
                "found_by": "pubmed_si",
            },
            ("results", "trial_type"),
        ),
        (
            {
                "pubtypes": ("Clinical Trial, Phase II",),
                "published": "2019",
                "found_by": "pubmed_tiab",
            },
            ("results", "trial_type"),
        ),
        (
            {
                "pubtypes": ("Journal Article", "Clinical Trial Protocol"),
                "published": "2017-02",
                "found_by": "pubmed_si",
            },
            ("protocol", "protocol_type"),
        ),
        (
            {
                "pubtypes": ("Journal Article", "Review"),
                "published": "2020",
                "found_by": "pubmed_tiab",
            },
            ("background", "review_type"),
        ),
        (
            {"pubtypes": ("Comment", "Letter"), "published": "2020", "found_by": "pubmed_si"},
            ("other", "note_type"),
        ),
        # a protocol says so in its title even when PubMed has not typed it
        (
            {
                "title": "Rationale and design of the PISCES III trial",
                "pubtypes": ("Journal Article",),
                "published": "2017",
                "found_by": "pubmed_si",
            },
            ("protocol", "protocol_title"),
        ),
        (
            {
                "title": "Study protocol for a randomised trial of stem cells after stroke",
                "pubtypes": ("Randomized Controlled Trial",),
                "found_by": "pubmed_si",
            },
            ("protocol", "protocol_title"),
        ),
        # the registry's word
        (
            {"registry_type": "RESULT", "citation": "Smith J. Cells after stroke. Stroke. 2019."},
            ("results", "registry_results"),
        ),
        (
            {"registry_type": "BACKGROUND", "citation": "Jones K. Stroke. 2010."},
            ("background", "registry_background"),
        ),
        ({"registry_type": "DERIVED"}, ("other", "no_evidence")),
        ({"registry_type": "PROTOCOLARTICLE"}, ("protocol", "protocol_registry")),
        # a sponsor lists its earlier studies as "results": published before this one started
        ({"registry_type": "RESULT", "published": "2015-05"}, ("background", "before_start")),
        ({"registry_type": "RESULT", "published": "2016-03"}, ("results", "registry_results")),
        # a new paper PubMed has not indexed yet: its title, only with the number in [si]
        (
            {
                "title": "Safety and efficacy of intravenous cells: a phase 2 randomized trial",
                "pubtypes": ("Journal Article",),
                "published": "2026-11",
                "found_by": "pubmed_si",
            },
            ("results", "results_title"),
        ),
        (
            {
                "title": "Safety and efficacy of intravenous cells: a phase 2 randomized trial",
                "pubtypes": ("Journal Article",),
                "published": "2026-11",
                "found_by": "pubmed_tiab",
            },
            ("other", "no_evidence"),
        ),
        (
            {
                "title": "Cell therapy trials after stroke: a review of outcomes",
                "pubtypes": ("Journal Article",),
                "published": "2026-11",
                "found_by": "pubmed_si",
            },
            ("other", "no_evidence"),
        ),
    ],
)
def test_kind_rules(evidence: dict[str, object], expected: tuple[str, str]) -> None:
    assert _kind(**evidence) == expected


def _paper(kind: str, published: str | None = None, pmid: str = "1") -> Publication:
    return Publication(
        kind=kind,
        reason="trial_type",
        found_by="pubmed_si",
        pmid=pmid,  # type: ignore[arg-type]
        published=published,
    )


TODAY = date(2026, 12, 4)


def test_overdue_after_a_year_without_results() -> None:
    none = KnownSoFar(registry_results=False)
    assert overdue_since("COMPLETED", "2024-03", False, none, TODAY) == date(2024, 3, 1)
    assert overdue_since("TERMINATED", "2025-11-30", None, none, TODAY) == date(2025, 11, 30)


@pytest.mark.parametrize(
    ("status", "ended", "estimated", "known"),
    [
        ("COMPLETED", "2024-03", False, KnownSoFar(registry_results=True)),
        ("COMPLETED", "2024-03", False, KnownSoFar(False, (_paper("results"),))),
        ("COMPLETED", "2026-01", False, KnownSoFar(False)),  # under a year
        ("COMPLETED", "2024-03", True, KnownSoFar(False)),  # the end is still a plan
        ("WITHDRAWN", "2020-03", False, KnownSoFar(False)),  # nobody took part
        ("RECRUITING", "2020-03", False, KnownSoFar(False)),
        ("COMPLETED", None, False, KnownSoFar(False)),
    ],
)
def test_not_overdue(status: str, ended: str | None, estimated: bool, known: KnownSoFar) -> None:
    assert overdue_since(status, ended, estimated, known, TODAY) is None


def test_a_protocol_paper_is_not_results() -> None:
    known = KnownSoFar(False, (_paper("protocol"), _paper("background", pmid="2")))
    assert not known.any_results
    assert overdue_since("COMPLETED", "2023-06", False, known, TODAY) == date(2023, 6, 1)


def test_shown_newest_first_protocols_last_at_most_three() -> None:
    papers = (
        _paper("protocol", "2025-01", "1"),
        _paper("results", "2021-05", "2"),
        _paper("background", None, "3"),
        _paper("results", "2024-02-10", "4"),
        _paper("other", "2022", "5"),
    )
    shown = KnownSoFar(False, papers).shown(3)
    assert [p.pmid for p in shown] == ["4", "5", "2"]
    assert [p.pmid for p in KnownSoFar(False, papers).shown(5)] == ["4", "5", "2", "3", "1"]


def test_keys_and_links() -> None:
    assert _paper("results", pmid="123").key == "pmid:123"
    assert _paper("results", pmid="123").link == "https://pubmed.ncbi.nlm.nih.gov/123/"
    doi = Publication(kind="other", reason="no_evidence", found_by="registry", doi="10.1/AbC")
    assert doi.key == "doi:10.1/abc" and doi.link == "https://doi.org/10.1/AbC"
    url = Publication(
        kind="results", reason="registry_results", found_by="registry", url="https://example.org/r"
    )
    assert url.key == "url:https://example.org/r" and url.link == "https://example.org/r"


def test_early_look_after_an_end_or_new_listing() -> None:
    ended = FieldChange(
        field="overall_status", kind="status", notable=True, old="RECRUITING", new="COMPLETED"
    )
    recruiting = FieldChange(
        field="overall_status",
        kind="status",
        notable=True,
        old="NOT_YET_RECRUITING",
        new="RECRUITING",
    )
    listed = FieldChange(field="references", kind="other", notable=False, old=[], new=[{}])
    posted = FieldChange(
        field="has_results", kind="results_posted", notable=True, old=False, new=True
    )
    assert worth_an_early_look([recruiting, ended])
    assert worth_an_early_look([listed]) and worth_an_early_look([posted])
    assert not worth_an_early_look([recruiting])
