"""Results reach people: `trialbot run` as a real process against the fake Bot API, the fake
CT.gov and the fake E-utilities (all real HTTP servers on 127.0.0.1), a real SQLite file.

Two real trials, each given its news in the registry's own shape:
- NCT02448641 (SanBio's SB623, completed 2018): stored first as it was before its results were
  posted (derived below, visibly, from the real record that has them), then the real record
  with results: one "Results are out on the registry" change alert;
- NCT03545607 (MultiStem, recruiting): a later version says it completed (derived below), so
  its publication look is brought forward; PubMed holds a trial report published this month
  and a protocol: one "Results are out" alert for the report, none for the protocol.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from storage import chats
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import run_cli as trialbot
from tests.conftest import study
from tests.e2e.service_process import Service
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.fake_eutils import FakeEutils
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow
CHAT = 7001
SANBIO, MULTISTEM = "NCT02448641", "NCT03545607"


def before_results() -> dict[str, Any]:
    """SB623's real record with results, as it was before they were posted: no results
    section, no results date, an earlier update."""
    record = copy.deepcopy(study(f"{SANBIO}__2020-04-17"))
    record.pop("resultsSection", None)
    record["hasResults"] = False
    status = record["protocolSection"]["statusModule"]
    status.pop("resultsFirstPostDateStruct", None)
    status.pop("resultsFirstSubmitDate", None)
    status["lastUpdatePostDateStruct"] = {"date": "2019-06-01", "type": "ACTUAL"}
    return record


def completed(record: dict[str, Any]) -> dict[str, Any]:
    """MultiStem's real record as a later version saying the study has completed."""
    later = copy.deepcopy(record)
    status = later["protocolSection"]["statusModule"]
    status["overallStatus"] = "COMPLETED"
    status["completionDateStruct"] = {"date": "2020-05-01", "type": "ACTUAL"}
    status["primaryCompletionDateStruct"] = {"date": "2020-04-01", "type": "ACTUAL"}
    status["lastUpdatePostDateStruct"] = {"date": "2020-06-01", "type": "ACTUAL"}
    return later


async def _subscribe(url: str) -> None:
    db = Database(url)
    async with db.write() as session:
        chat = await chats.ensure_chat(session, CHAT, chat_type="private", language="en")
        chats.update_chat(session, chat, include_not_recruiting=True)  # follows closed studies
        await chats.add_subscription(session, CHAT, conditions=["ischemic"])
    await db.dispose()


@pytest.fixture
def world(
    tmp_path: Path,
) -> Iterator[tuple[FakeTelegram, FakeCtgov, FakeEutils, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    upgrade(url)
    with FakeTelegram() as telegram, loaded_fake() as registry, FakeEutils() as pubmed:
        registry.upsert(before_results())
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PTB_TIMEDELTA": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "CTGOV_API_URL": registry.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "PUBMED_API_URL": pubmed.base_url,
            "PUBLICATION_CHECK_INTERVAL_SECONDS": "1",
            "HTTP_MAX_RETRIES": "1",
            "DATABASE_URL": url,
            "POLL_INTERVAL_SECONDS": "3600",
            "HEALTH_PORT": "0",
            "LOG_LEVEL": "INFO",
        }
        done = trialbot(["poll", "--once"], env, tmp_path)  # the first backfill: no alerts
        assert done.returncode == 0, done.stderr
        asyncio.run(_subscribe(url))
        telegram.add_chat(CHAT)
        registry.upsert(study(f"{SANBIO}__2020-04-17"))  # the real record: results posted
        registry.upsert(completed(study(f"{MULTISTEM}__2019-08-13")))
        registry.set_data_timestamp("2020-06-02T09:00:00")
        yield telegram, registry, pubmed, env


def _texts(telegram: FakeTelegram) -> list[str]:
    return [str(m.get("plain") or m.get("text", "")) for m in telegram.sent_to(CHAT)]


def test_results_on_the_registry_and_in_a_paper_are_each_told_once(
    world: tuple[FakeTelegram, FakeCtgov, FakeEutils, dict[str, str]], tmp_path: Path
) -> None:
    telegram, _, pubmed, env = world
    this_month = date.today().strftime("%Y %b")
    pubmed.add_paper(
        "41100001",
        "Multipotent adult progenitor cells after ischaemic stroke: a randomised trial",
        "The Lancet. Neurology",
        this_month,
        ("Journal Article", "Randomized Controlled Trial"),
        doi="10.1016/S1474-4422(26)00002-2",
        si_ids=(f"ClinicalTrials.gov/{MULTISTEM}",),
    )
    pubmed.add_paper(
        "41100002",
        "Design of a trial of cells 18 to 36 hours after ischaemic stroke",
        "International journal of stroke",
        this_month,
        ("Journal Article", "Clinical Trial Protocol"),
        si_ids=(MULTISTEM,),
    )
    service = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: any(t.startswith("Results are out: Multipotent") for t in _texts(telegram)),
            timeout=90,
            what="the results paper's alert",
        )
        telegram.wait_for(
            lambda: any("Results are out on the registry" in t for t in _texts(telegram)),
            timeout=30,
            what="the registry results' change alert",
        )
        looks = len(pubmed.params("/esearch.fcgi"))
        time.sleep(4)  # several more runs of the job: nothing is told twice
    finally:
        service.proc.terminate()
        assert service.wait(timeout=30) == 0
    texts = _texts(telegram)
    paper = [t for t in texts if t.startswith("Results are out: ")]
    assert len(paper) == 1, texts
    assert "(The Lancet. Neurology, " in paper[0]
    assert "https://pubmed.ncbi.nlm.nih.gov/41100001/" in paper[0]
    assert "does not say what the paper found" in paper[0]
    assert "not medical advice" in paper[0]
    assert not any("Design of a trial" in t for t in texts)  # a protocol is not results
    registry = [t for t in texts if "Results are out on the registry" in t]
    assert len(registry) == 1
    assert "https://clinicaltrials.gov/study/NCT02448641?tab=results" in registry[0]
    assert looks >= 2  # [si] and [tiab] for the trial brought forward
    assert "publications: looked at" in service.output()


def test_a_dead_pubmed_stops_nothing_else(
    world: tuple[FakeTelegram, FakeCtgov, FakeEutils, dict[str, str]], tmp_path: Path
) -> None:
    telegram, _, _, env = world
    env = {**env, "PUBMED_API_URL": "http://127.0.0.1:9/entrez/eutils"}
    service = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: any("Results are out on the registry" in t for t in _texts(telegram)),
            timeout=60,
            what="the change alert, PubMed or not",
        )
        deadline = time.monotonic() + 30
        while "2 failed" not in service.output() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert service.proc.poll() is None  # still running
    finally:
        service.proc.terminate()
        assert service.wait(timeout=30) == 0
    log = service.output()
    assert "PubMed failed: pubmed GET /esearch.fcgi" in log
    # both trials brought forward (results posted; completed) were looked at, and failed alone
    assert "publications: looked at 2 trials, 2 failed" in log
    assert "Traceback" not in log
