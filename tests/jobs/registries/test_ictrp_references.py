"""WHO ICTRP: the results links a row gives (issue 16), on the real recorded answers.

`results_url_link` -> Reference(type="RESULTS_LINK", url, date = results_date_first_publication
or results_date_posted). The portal's "Export to XML" (95 trials) fills it for 24 trials; WHO's
COVID-19 CSV download has the column ("results url link") but no row fills it. Variants are
derived in code from a real row, never by editing a file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobs.registries.ictrp import read_saved
from jobs.registries.ictrp_record import normalise
from trialbot.model import Reference

RECORDED = Path(__file__).parents[2] / "fixtures" / "ictrp" / "recorded"
WHO_XML = RECORDED / "machado-t_ICTRP-Results-2024.xml"
WHO_CSV = RECORDED / "ebmdatalab_COVID19-927-trials_7Apr2020.csv"


def _rows(path: Path) -> dict[str, dict[str, Any]]:
    return {r["TrialID"].strip(): dict(r) for r in read_saved(path)}


def test_a_ctgov_results_link_is_read_with_its_posting_date() -> None:
    trial = normalise(_rows(WHO_XML)["NCT03862807"])
    assert trial.references == (
        Reference(
            url="https://clinicaltrials.gov/ct2/show/results/NCT03862807",
            type="RESULTS_LINK",
            date="2021-12-21",  # <results_date_posted>, dd/mm/yyyy
        ),
    )


def test_a_link_without_a_results_date_is_undated() -> None:
    (ref,) = normalise(_rows(WHO_XML)["DRKS00032447"]).references
    assert ref == Reference(
        url="http://drks.de/search/en/trial/DRKS00032447#studyResults", type="RESULTS_LINK"
    )


def test_every_filled_results_link_of_the_xml_export_is_one_reference() -> None:
    trials = [normalise(r) for r in _rows(WHO_XML).values()]
    linked = [t for t in trials if t.references]
    assert len(trials) == 95 and len(linked) == 24
    assert all(len(t.references) == 1 for t in linked)
    assert all(r.type == "RESULTS_LINK" and r.url for t in linked for r in t.references)
    eu = normalise(_rows(WHO_XML)["EUCTR2015-004318-14-DE"]).references
    assert [r.url for r in eu] == [
        "https://www.clinicaltrialsregister.eu/ctr-search/trial/2015-004318-14/results"
    ]


def test_the_csv_download_fills_no_results_link() -> None:
    rows = _rows(WHO_CSV)
    # read by the header's own spelling "results url link", as the export's column name
    assert len(rows) == 927 and all("results_url_link" in r for r in rows.values())
    assert not any(normalise(r).references for r in rows.values())


def test_several_links_with_a_first_publication_date_derived_in_code() -> None:
    row = _rows(WHO_CSV)["NCT04315948"]
    # derived in code: the real row given two links (";"-separated, a PubMed and a doi.org one)
    # and the full export's first-publication date, which wins over the posting date
    row["results_url_link"] = (
        "https://pubmed.ncbi.nlm.nih.gov/40000001/ ; https://doi.org/10.1000/EX.1"
    )
    row["results_date_posted"] = "03/04/2031"
    row["results_date_first_publication"] = "01/02/2031"
    refs = normalise(row).references
    assert [(r.pmid, r.doi, r.url, r.date) for r in refs] == [
        (None, "10.1000/EX.1", "https://doi.org/10.1000/EX.1", "2031-02-01"),
        ("40000001", None, "https://pubmed.ncbi.nlm.nih.gov/40000001/", "2031-02-01"),
    ]
    row["results url link"] = row.pop("results_url_link")  # a header's spelling reads too
    assert normalise(row).references == refs
    row["results url link"] = "https://doi.org/10.1000/EX.1 https://doi.org/10.1000/EX.1"
    (once,) = normalise(row).references  # space-separated, and the same link once
    assert once.doi == "10.1000/EX.1"
