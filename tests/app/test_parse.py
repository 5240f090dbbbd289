"""`trialbot parse`: a saved registry answer read as the adapter reads it, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from jobs.registries import isrctn, isrctn_record
from jobs.registries.ctgov_record import normalise
from tests.conftest import CTGOV, load_json


@pytest.fixture(autouse=True)
def _no_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database URL that must stay untouched: parse reads files only."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'never.db'}")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)


def test_one_study_as_json_is_the_normalised_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CTGOV / "reconstructed" / "NCT03629275__2021-08-13.json"
    assert main(["parse", str(path), "--registry", "ctgov", "--json"]) == 0
    out = capsys.readouterr()
    (line,) = out.out.splitlines()
    assert json.loads(line) == normalise(load_json(path)).snapshot()
    assert "1 records read, 0 skipped" in out.err
    assert not (tmp_path / "never.db").exists()


def test_a_download_reads_every_study_with_the_classifiers_verdict(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = CTGOV / "downloads" / "dgg32_graph_bigquery_ctg-studies.json"
    assert main(["parse", str(path), "--registry", "ctgov"]) == 0
    out = capsys.readouterr()
    blocks = [b for b in out.out.split("\n\n") if b.strip()]
    assert len(blocks) == len(load_json(path)) > 50
    assert all("classifier: " in b for b in blocks)
    assert "ctgov:NCT05756322" in out.out


def test_a_file_that_is_not_a_registry_answer_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "page.html"
    path.write_text("<html>maintenance</html>")
    assert main(["parse", str(path), "--registry", "ctgov"]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["parse", str(path), "--registry", "clinicaltrials"])


ISRCTN_RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "isrctn" / "recorded"


@pytest.mark.parametrize(
    ("name", "ids"),
    [
        ("search_mecfs.xml", ["ISRCTN15375673", "ISRCTN16025168", "ISRCTN16132141"]),
        ("record_cpms_nct.xml", ["ISRCTN62918594"]),
        ("empty_result.xml", []),
    ],
)
def test_each_recorded_isrctn_answer_as_json_is_the_normalised_records(
    name: str, ids: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    path = ISRCTN_RECORDED / name
    assert main(["parse", str(path), "--registry", "isrctn", "--json"]) == 0
    out = capsys.readouterr()
    printed = [json.loads(line) for line in out.out.splitlines()]
    assert printed == [isrctn_record.normalise(raw).snapshot() for raw in isrctn.read_saved(path)]
    assert [p["registry_id"] for p in printed] == ids
    assert f"{len(ids)} records read, 0 skipped" in out.err


def test_a_recorded_isrctn_answer_as_text_says_design_enrolment_and_sponsor_class(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["parse", str(ISRCTN_RECORDED / "search_mecfs.xml"), "--registry", "isrctn"]) == 0
    blocks = [b for b in capsys.readouterr().out.split("\n\n") if b.strip()]
    assert len(blocks) == 3 and all("classifier: " in b for b in blocks)
    recruiting = next(b for b in blocks if "isrctn:ISRCTN16025168" in b)
    assert "status RECRUITING" in recruiting and "enrolment 210 (planned)" in recruiting
    assert "allocation RANDOMIZED, masking NONE" in recruiting
    assert "(OTHER)" in recruiting  # Non-commercial sponsor


def test_a_file_that_is_not_an_isrctn_answer_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "study.xml"
    path.write_text("<html>maintenance</html>")
    assert main(["parse", str(path), "--registry", "isrctn"]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "root element is <html>" in err
