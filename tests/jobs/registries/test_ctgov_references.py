"""ClinicalTrials.gov: the publications a record lists (issue 16), on real recorded studies.

`protocolSection.referencesModule.references[]` -> Reference(pmid, type, citation, doi from an
explicit "doi: ..." in the citation). Variants are derived in code, never by editing a file.
"""

from __future__ import annotations

import copy
from collections import Counter

from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Reference


def test_the_three_result_publications_are_read_exactly() -> None:
    refs = normalise(study("NCT03475563")).references
    assert [(r.type, r.pmid, r.doi) for r in refs] == [
        ("RESULT", "25689548", "10.1111/joic.12180"),
        ("RESULT", "25828372", "10.1016/j.cjca.2014.12.024"),
        ("RESULT", "26465375", "10.4244/EIJY15M10_05"),
    ]
    first = next(r for r in refs if r.pmid == "25828372")
    assert first.citation is not None
    assert first.citation.startswith("Gil RJ, Bil J, Dzavik V, Vassilev D, Kern A")
    assert first.citation.endswith("doi: 10.1016/j.cjca.2014.12.024. Epub 2014 Dec 24.")
    assert all(r.url is None and r.title is None and r.date is None for r in refs)


def test_background_and_derived_publications_are_kept_with_their_type() -> None:
    refs = normalise(study("NCT03630471")).references
    assert Counter(r.type for r in refs) == {"BACKGROUND": 9, "DERIVED": 3}
    assert sum(r.pmid is None for r in refs) == 2  # two books, cited without a PMID
    # nine citations write "doi: ..."; the two books and one 1983 article do not
    assert sum(r.doi is not None for r in refs) == 9
    derived = {r.pmid: r.doi for r in refs if r.type == "DERIVED"}
    assert derived == {
        "31533783": "10.1186/s13063-019-3573-3",
        "32585185": "10.1016/S2352-4642(20)30173-5",
        "34582460": "10.1371/journal.pmed.1003778",
    }
    assert not any(r.doi and r.doi.endswith(".") for r in refs)


def test_see_also_links_are_not_publications() -> None:
    raw = study("NCT02552212")
    assert raw["protocolSection"]["referencesModule"]["seeAlsoLinks"]
    refs = normalise(raw).references
    assert Counter(r.type for r in refs) == {"RESULT": 2, "DERIVED": 2}
    assert all(r.url is None for r in refs)


def test_a_citation_without_a_written_doi_has_none() -> None:
    (ref,) = normalise(study("NCT03418623")).references
    assert ref == Reference(
        pmid="23032071", type="BACKGROUND", citation="Schacht JP, Anton RF, Voronin KE"
    )


def test_records_without_a_references_module_have_none() -> None:
    assert normalise(study("NCT02210780")).references == ()


def test_reordered_references_give_the_same_trial() -> None:
    raw = study("NCT03630471")
    reordered = copy.deepcopy(raw)  # derived in code: the registry lists them the other way
    reordered["protocolSection"]["referencesModule"]["references"].reverse()
    assert normalise(reordered) == normalise(raw)


def test_an_added_result_reference_derived_in_code_is_read() -> None:
    raw = copy.deepcopy(study("NCT03630471"))
    # derived in code: a RESULT entry with white space to tidy and a DOI ending the citation
    raw["protocolSection"]["referencesModule"]["references"].append(
        {
            "pmid": "40000001",
            "type": "RESULT",
            "citation": "  Example A,  Example B.\nA trial.  J Ex. 2030;1:1-2. doi: 10.1000/ex.1.",
        }
    )
    refs = normalise(raw).references
    (added,) = [r for r in refs if r.type == "RESULT"]
    assert added == Reference(
        pmid="40000001",
        doi="10.1000/ex.1",
        type="RESULT",
        citation="Example A, Example B. A trial. J Ex. 2030;1:1-2. doi: 10.1000/ex.1.",
    )
    assert len(refs) == 13
