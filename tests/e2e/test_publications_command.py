"""`trialbot publications` as a maintainer runs it: a real process, the fake CT.gov and the
fake E-utilities (real HTTP on 127.0.0.1), a real database of each kind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_cli as trialbot
from tests.fakes.fake_eutils import FakeEutils
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow
NCT = "NCT03545607"  # MultiStem in acute ischaemic stroke, started 2018-07


def test_one_trial_looked_at_now(database_url: str, tmp_path: Path) -> None:
    with loaded_fake() as registry, FakeEutils() as pubmed:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": database_url,
            "CTGOV_API_URL": registry.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "PUBMED_API_URL": pubmed.base_url,
            "HTTP_MAX_RETRIES": "1",
            "LOG_LEVEL": "INFO",
        }
        assert trialbot(["poll", "--once"], env, tmp_path).returncode == 0
        pubmed.add_paper(
            "30000101",
            "Rationale and design of a phase 2/3 trial of cells after ischaemic stroke",
            "International journal of stroke",
            "2019 Mar",
            ("Journal Article",),
            si_ids=(f"ClinicalTrials.gov/{NCT}",),
        )
        pubmed.add_paper(
            "30000102",
            "Cells given 18 to 36 hours after ischaemic stroke: a randomised controlled trial",
            "Stroke",
            "2024 Feb 10",
            ("Journal Article", "Randomized Controlled Trial"),
            doi="10.1161/STROKEAHA.000.000",
            abstract=f"Registration: {NCT}.",
        )
        done = trialbot(["publications", NCT, "--json"], env, tmp_path)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout.splitlines()[-1])
        assert (report["looked"], report["failed"], report["alerts_queued"]) == (1, 0, 0)
        papers = {p["pmid"]: p for p in report["publications"]}
        assert papers["30000102"]["kind"] == "results"
        assert papers["30000102"]["found_by"] == "pubmed_tiab"
        assert papers["30000102"]["link"] == "https://pubmed.ncbi.nlm.nih.gov/30000102/"
        assert papers["30000101"]["kind"] == "protocol"
        assert [p["pmid"] for p in report["publications"]] == ["30000102", "30000101"]
        assert {p["params"].get("tool") for p in _requests(pubmed)} == {"trialbot"}

        # PubMed down: the look fails alone, with a clear line and a non-zero exit
        pubmed.fail_next(10, 503)
        failed = trialbot(["publications", NCT], env, tmp_path)
        assert failed.returncode == 1
        assert "1 failed" in failed.stdout and "FAILED: " in failed.stdout
        assert "Traceback" not in failed.stderr

        missing = trialbot(["publications", "NCT00000000"], env, tmp_path)
        assert missing.returncode == 1 and "no stored trial" in missing.stdout


def _requests(pubmed: FakeEutils) -> list[dict[str, dict[str, str]]]:
    return [{"params": params} for params in pubmed.params()]
