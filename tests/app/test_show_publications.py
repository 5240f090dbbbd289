"""`trialbot show ID --json` lists what is known of a trial's results (issue 16): its stored
publications newest first, whether the registry posted results, and since when it is overdue.

In-process `app.cli.main` against a real database of each kind; the trials are real recorded
CT.gov records stored through the real classifier and storage.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.cli import main
from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import publications as stored_publications
from storage import trials as trial_store
from storage.db import Database
from tests.conftest import study
from trialbot.publications import Publication

GCSF = "NCT00901381__2014-01-07"  # completed February 2009, nothing posted
SB623 = "NCT02448641__2020-10-08"  # results posted on ClinicalTrials.gov

PROTOCOL = Publication(
    kind="protocol",
    reason="protocol_type",
    found_by="pubmed_si",
    pmid="41",
    title="G-CSF in stroke: protocol",
    journal="Trials",
    published="2008-03",
)
RESULTS_LINK = Publication(
    kind="results",
    reason="registry_results",
    found_by="registry",
    registry_type="RESULTS_LINK",
    url="https://example.org/gcsf-results.pdf",
)
BACKGROUND = Publication(
    kind="background",
    reason="review_type",
    found_by="pubmed_tiab",
    doi="10.1000/xyz",
    title="A review",
    published="2012",
)


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")


async def _store(url: str, name: str, papers: list[Publication]) -> None:
    db = Database(url)
    try:
        trial = normalise(study(name))
        async with db.write() as session:
            row = await trial_store.insert_trial(session, trial, verdict_of(classify(trial)))
            assert row.id is not None
            await stored_publications.record(session, row.id, papers)
    finally:
        await db.dispose()


def show(ident: str, capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["show", ident, "--json"]) == 0
    out: dict[str, object] = json.loads(capsys.readouterr().out)
    return out


def test_show_json_lists_publications_newest_first_and_the_overdue_month(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_store(database_url, GCSF, [PROTOCOL, BACKGROUND]))
    out = show("NCT00901381", capsys)
    assert out["results_on_registry"] is False
    assert out["overdue_since"] == "2009-02"  # only a protocol and a review: still overdue
    assert out["publications"] == [
        {
            "pmid": None,
            "doi": "10.1000/xyz",
            "url": None,
            "title": "A review",
            "journal": None,
            "published": "2012",
            "kind": "background",
            "reason": "review_type",
            "found_by": "pubmed_tiab",
            "registry_type": None,
            "link": "https://doi.org/10.1000/xyz",
        },
        {
            "pmid": "41",
            "doi": None,
            "url": None,
            "title": "G-CSF in stroke: protocol",
            "journal": "Trials",
            "published": "2008-03",
            "kind": "protocol",
            "reason": "protocol_type",
            "found_by": "pubmed_si",
            "registry_type": None,
            "link": "https://pubmed.ncbi.nlm.nih.gov/41/",
        },
    ]


def test_show_json_a_results_document_ends_the_overdue(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_store(database_url, GCSF, [RESULTS_LINK]))
    out = show("NCT00901381", capsys)
    assert out["overdue_since"] is None
    (listed,) = out["publications"]  # type: ignore[misc]
    assert listed["kind"] == "results" and listed["link"] == "https://example.org/gcsf-results.pdf"


def test_show_json_registry_results_and_no_publications(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    asyncio.run(_store(database_url, SB623, []))
    out = show("NCT02448641", capsys)
    assert out["publications"] == []
    assert out["results_on_registry"] is True and out["overdue_since"] is None
