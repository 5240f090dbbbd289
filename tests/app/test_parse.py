"""`trialbot parse`: a saved registry answer read as the adapter reads it, nothing stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import main
from jobs.registries import ctis_record, isrctn, isrctn_record
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


CTIS = Path(__file__).resolve().parents[1] / "fixtures" / "ctis"
CTIS_RECORDED = CTIS / "recorded" / "ctrdata-demo_2024-510663-34-00.json"


def test_a_recorded_ctis_answer_as_json_is_the_normalised_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["parse", str(CTIS_RECORDED), "--registry", "ctis", "--json"]) == 0
    out = capsys.readouterr()
    (line,) = out.out.splitlines()
    assert json.loads(line) == ctis_record.normalise(load_json(CTIS_RECORDED)).snapshot()
    assert json.loads(line)["overall_status"] == "RECRUITING"  # ctStatus code 4
    assert "1 records read, 0 skipped" in out.err


ICTRP_RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "ictrp" / "recorded"


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("positive_adsc_ischaemic_stroke.json", 1),
        ("negative_cells_crohn_fistula.json", 1),
        ("negative_stroke_no_cells.json", 1),
        ("sparse_numeric_status.json", 1),
        ("search_page.json", 2),  # a search answer: each row as a record
    ],
)
def test_built_ctis_fixtures_as_json_are_the_normalised_records(
    name: str, records: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CTIS / name
    data = load_json(path)
    raws = data.get("data", [data])
    assert main(["parse", str(path), "--registry", "ctis", "--json"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert len(lines) == len(raws) == records
    assert [json.loads(line) for line in lines] == [
        ctis_record.normalise(raw).snapshot() for raw in raws
    ]
    assert f"{records} records read, 0 skipped" in out.err


def test_ctis_text_output_and_what_is_not_a_ctis_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["parse", str(CTIS_RECORDED), "--registry", "ctis"]) == 0
    out = capsys.readouterr().out
    assert "ctis:2024-510663-34-00" in out and "status RECRUITING" in out
    assert "ages 0 Years to 17 Years" in out and "classifier: " in out
    assert main(["parse", str(CTIS / "malformed_no_title.json"), "--registry", "ctis"]) == 0
    assert "0 records read, 1 skipped" in capsys.readouterr().err
    ctgov_study = CTGOV / "reconstructed" / "NCT03629275__2021-08-13.json"
    assert main(["parse", str(ctgov_study), "--registry", "ctis"]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "records"),
    [
        ("ebmdatalab_COVID19-927-trials_7Apr2020.csv", 927),  # WHO CSV download, header row
        ("machado-t_ICTRP-Results-2024.xml", 95),  # the portal's "Export to XML"
    ],
)
def test_an_ictrp_answer_as_json_is_each_normalised_record(
    capsys: pytest.CaptureFixture[str], name: str, records: int
) -> None:
    from jobs.registries import ictrp, ictrp_record

    path = ICTRP_RECORDED / name
    assert main(["parse", str(path), "--registry", "ictrp", "--json"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    expected = [ictrp_record.normalise(raw).snapshot() for raw in ictrp.read_saved(path)]
    assert len(lines) == len(expected) == records
    assert [json.loads(line) for line in lines] == expected
    assert f"{records} records read, 0 skipped" in out.err


def test_an_ictrp_export_in_plain_words_has_a_verdict_per_record(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = ICTRP_RECORDED / "machado-t_ICTRP-Results-2024.xml"
    assert main(["parse", str(path), "--registry", "ictrp"]) == 0
    out = capsys.readouterr()
    blocks = [b for b in out.out.split("\n\n") if b.strip()]
    assert len(blocks) == 95
    assert all("classifier: " in b for b in blocks)
    assert "ictrp:JPRN-jRCT2080224769" in out.out
    assert "ages 18 Years to 85 Years" in out.out  # ">= 18age old", "<= 85age old"


def test_a_file_that_is_no_ictrp_answer_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "answer.xml"
    path.write_text("<?xml version='1.0'?><allTrials/>")
    assert main(["parse", str(path), "--registry", "ictrp"]) == 1
    err = capsys.readouterr().err
    assert "cannot read" in err and "not the ICTRP portal's export" in err


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
