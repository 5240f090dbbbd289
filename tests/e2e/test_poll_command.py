"""`trialbot poll --once`, `trials --json` and `show` as a maintainer runs them.

The command runs as a real subprocess against the fake ClinicalTrials.gov (a real HTTP server
on 127.0.0.1) and a real database of each kind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from storage.migrate import head_revision
from tests.conftest import run_cli as trialbot
from tests.conftest import study
from tests.fakes.telegram_server import TOKEN as FAKE_TOKEN
from tests.jobs.helpers import EXPECTED_STORED, loaded_fake

pytestmark = pytest.mark.slow
TOKEN = FAKE_TOKEN


def test_poll_trials_and_show(database_url: str, tmp_path: Path) -> None:
    with loaded_fake() as fake:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": database_url,
            "CTGOV_API_URL": fake.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "PUBMED_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "CTGOV_PAGE_SIZE": "50",
            "HTTP_MAX_RETRIES": "3",
            "HTTP_TIMEOUT_SECONDS": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "LOG_LEVEL": "INFO",
        }
        # The registry throttles, then stalls past the timeout, then answers.
        fake.fail_next(1, status=429, retry_after=1, path="/studies")
        fake.delay_next(1, 2.5, path="/studies")
        first = trialbot(["poll", "--once"], env, tmp_path)
        assert first.returncode == 0, first.stderr
        head = first.stdout.splitlines()[0]
        stored = len(EXPECTED_STORED)
        assert head.startswith(
            f"ctgov backfill: fetched {len(fake.study_ids)}, new {stored}, changed 0, unchanged 0,"
        )
        assert f"rejected {len(fake.study_ids) - stored}, errors 0" in head
        assert "HTTP 429" in first.stderr and "ReadTimeout" in first.stderr  # retried, logged

        again = trialbot(["poll", "--once"], env, tmp_path)
        assert again.returncode == 0, again.stderr
        assert again.stdout.startswith("ctgov skipped: fetched 0, new 0, changed 0")
        assert "(1 requests," in again.stdout

        fake.upsert(study("NCT03629275__2021-08-13"))  # the real later snapshot: terminated
        fake.set_data_timestamp("2021-08-14T09:00:00")
        third = trialbot(["poll", "--once", "--json"], env, tmp_path)
        assert third.returncode == 0, third.stderr
        report = json.loads(third.stdout.splitlines()[0])
        assert report["changed_count"] == 1 and report["new"] == 0
        (changed,) = report["changed"]
        assert changed["id"] == "ctgov:NCT03629275" and changed["version"] == 2
        kinds = {c["kind"]: c for c in changed["changes"]}
        assert kinds["status"]["old"] == "RECRUITING" and kinds["status"]["new"] == "TERMINATED"
        assert kinds["why_stopped"]["new"].startswith("Strategic decision")

        listed = trialbot(["trials", "--json"], env, tmp_path)
        assert listed.returncode == 0, listed.stderr
        lines = [json.loads(line) for line in listed.stdout.splitlines()]
        assert {t["id"] for t in lines} == EXPECTED_STORED
        for line in lines:
            assert {
                "id",
                "registry",
                "title",
                "stem_cell",
                "conditions",
                "status",
                "countries",
                "last_update",
                "versions",
            } <= line.keys()
        pisces = next(t for t in lines if t["id"] == "NCT03629275")
        assert pisces["versions"] == 2 and pisces["status"] == "TERMINATED"
        assert pisces["stem_cell"] == "core" and pisces["conditions"] == ["ischemic"]
        assert pisces["countries"] == [] and pisces["registry"] == "ctgov"  # no sites listed
        masters = next(t for t in lines if t["id"] == "NCT03545607")
        assert masters["countries"] == ["US"] and masters["last_update"] == "2019-08-13"

        shown = trialbot(["show", "NCT03629275"], env, tmp_path)
        assert shown.returncode == 0, shown.stderr
        assert "RECRUITING -> TERMINATED" in shown.stdout and "v2 seen" in shown.stdout
        as_json = json.loads(
            trialbot(["show", "ctgov:NCT03629275", "--json"], env, tmp_path).stdout
        )
        assert [v["version"] for v in as_json["history"]] == [1, 2]
        assert as_json["record"]["overall_status"] == "TERMINATED"
        facts = as_json["facts"]  # the keys of the hand-checked FACTS labels, and the contacts
        assert {
            "routes", "population", "age_min_years", "age_max_years", "stroke_window_days",
            "randomised", "control", "sponsor_kind", "enrollment_count", "enrollment_actual",
            "results_posted", "contacts", "has_contact", "evidence",
        } <= facts.keys()  # fmt: skip
        assert facts["routes"] == ["intracerebral"] and facts["control"] == "sham"
        assert facts["stroke_window_days"] == [182.64, 730.56]
        assert facts["enrollment_count"] == 15 and facts["enrollment_actual"] is True
        assert "intracerebral injection of 20 million" in facts["evidence"]["routes"]
        assert "stroke_window_days: [182.64, 730.56]" in shown.stdout

        missing = trialbot(["show", "NCT00000000"], env, tmp_path)
        assert missing.returncode == 1 and "No stored trial" in missing.stdout

        everything = first.stdout + first.stderr + third.stdout + third.stderr
        assert TOKEN not in everything


def test_dead_registry_fails_the_poll_cleanly(database_url: str, tmp_path: Path) -> None:
    with loaded_fake() as fake:
        fake.fail_next(20, status=503)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "DATABASE_URL": database_url,
            "CTGOV_API_URL": fake.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "PUBMED_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "HTTP_MAX_RETRIES": "1",
        }
        done = trialbot(["poll", "--once"], env, tmp_path)
    assert done.returncode == 1
    assert "FAILED:" in done.stdout and "503" in done.stdout
    assert "Traceback" not in done.stderr


def test_db_upgrade_reports_the_schema(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": "sqlite:///data/t.db"}
    done = trialbot(["db", "upgrade"], env, tmp_path)
    assert done.returncode == 0, done.stderr
    head = head_revision()
    assert head is not None and done.stdout.strip() == f"schema {head} (head {head})"
    assert (tmp_path / "data" / "t.db").exists()
