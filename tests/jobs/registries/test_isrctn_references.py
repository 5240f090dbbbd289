"""ISRCTN: the publications and results a record lists (issue 16), on the real recorded answers.

What the recorded answers show (tests/fixtures/isrctn/recorded/) is the `<results>` block:
`publicationDetails` with one output per line ("2023 Abstract results in https://doi.org/...
(added 30/09/2026)"), `basicReport` naming an attached results file, `plainEnglishReport`
(empty in every recorded record). No recorded record fills `<outputs>`, so it is not read for
references. Variants are derived in code from a real record, never by editing the file.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from jobs.registries.base import RawRecord
from jobs.registries.isrctn import parse_search_page
from jobs.registries.isrctn_record import normalise
from trialbot.model import Reference, Trial

RECORDED = Path(__file__).parents[2] / "fixtures" / "isrctn" / "recorded"
TODAY = date(2026, 11, 22)
LINE_1873 = (
    "2023 Abstract results in https://doi.org/10.1016/j.annonc.2023.09.1873 (added 30/09/2026)"
)
LINE_1874 = (
    "2023 Abstract results in https://doi.org/10.1016/j.annonc.2023.09.1874 (added 30/09/2026)"
)


def _records(name: str, xml_edit: tuple[str, str] | None = None) -> list[RawRecord]:
    xml = (RECORDED / name).read_text(encoding="utf-8")
    if xml_edit is not None:
        old, new = xml_edit
        assert xml.count(old) == 1
        xml = xml.replace(old, new)
    return parse_search_page(xml.encode("utf-8"), name).records


def _trial(name: str, xml_edit: tuple[str, str] | None = None) -> Trial:
    (raw,) = _records(name, xml_edit)
    return normalise(raw, today=TODAY)


def test_the_recorded_abstracts_and_basic_results_are_read_exactly() -> None:
    trial = _trial("record_cpms_nct.xml")
    assert trial.registry_id == "ISRCTN62918594" and trial.has_results
    assert trial.references == (
        Reference(
            doi="10.1016/j.annonc.2023.09.1873",
            url="https://doi.org/10.1016/j.annonc.2023.09.1873",
            type="ABSTRACT_RESULTS",
            citation="2023 Abstract results in https://doi.org/10.1016/j.annonc.2023.09.1873"
            " (added 30/09/2026)",
            date="2026-09-30",
        ),
        Reference(
            doi="10.1016/j.annonc.2023.09.1874",
            url="https://doi.org/10.1016/j.annonc.2023.09.1874",
            type="ABSTRACT_RESULTS",
            citation="2023 Abstract results in https://doi.org/10.1016/j.annonc.2023.09.1874"
            " (added 30/09/2026)",
            date="2026-09-30",
        ),
        Reference(
            url="https://www.isrctn.com/ISRCTN62918594",
            type="BASIC_RESULTS",
            citation="Basic results see attached file ISRCTN62918594_BasicResults_12Aug2026.pdf"
            " (added 01/09/2026)",
            date="2026-09-01",
        ),
    )


def test_records_with_an_empty_results_block_list_none() -> None:
    trials = [normalise(r, today=TODAY) for r in _records("search_mecfs.xml")]
    assert len(trials) == 3
    assert all(t.references == () for t in trials)


def test_a_pubmed_results_line_derived_in_code_gives_its_pmid() -> None:
    # derived in code: the real record's second publication line replaced by a PubMed one
    derived = "2025 Results article in https://pubmed.ncbi.nlm.nih.gov/40000001/ (added 02/03/2026)"
    trial = _trial("record_cpms_nct.xml", (LINE_1874, derived))
    (article,) = [r for r in trial.references if r.type == "RESULTS_ARTICLE"]
    assert (article.pmid, article.doi, article.date) == ("40000001", None, "2026-03-02")
    assert article.url == "https://pubmed.ncbi.nlm.nih.gov/40000001/"


def test_a_line_in_another_form_is_kept_as_a_citation_without_type() -> None:
    # derived in code: a free-text line (a form the recorded answers do not show)
    trial = _trial("record_cpms_nct.xml", (LINE_1874, "Results presented at a meeting, 2024."))
    (free,) = [r for r in trial.references if r.type is None]
    assert free == Reference(citation="Results presented at a meeting, 2024.")
    assert len(trial.references) == 3


def test_reordered_publication_lines_give_the_same_trial() -> None:
    one, two = LINE_1873, LINE_1874
    swapped = _trial("record_cpms_nct.xml", (f"{one}\n{two}", f"{two}\n{one}"))
    assert swapped == _trial("record_cpms_nct.xml")
