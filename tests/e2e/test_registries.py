"""Several registries at once, as a maintainer runs them: `trialbot poll --once` and
`trialbot run` as real processes against the fake CT.gov, CTIS and ISRCTN servers and a WHO
ICTRP export file.

MASTERS-2 is real in CT.gov (NCT03545607); its CTIS and ISRCTN records and its jRCT row in
the WHO export are built with each fake's `built_record`, naming the NCT number the way those
registries do. The CTIS-only and ChiCTR-only trials are built the same way.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from storage.migrate import upgrade
from tests.conftest import run_cli as trialbot
from tests.e2e.test_service import Service
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.ctis_server import FakeCtis
from tests.fakes.ctis_server import built_record as ctis_record
from tests.fakes.ictrp_server import built_record as ictrp_row
from tests.fakes.ictrp_server import write_export
from tests.fakes.isrctn_server import FakeIsrctn
from tests.fakes.isrctn_server import built_record as isrctn_record
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow

MASTERS2 = "Multistem administration for emergent ischemic stroke (MASTERS-2)"
MULTISTEM = "MultiStem (allogeneic multipotent adult progenitor cells), intravenous"
CTIS_ONLY = "2025-521234-56-00"


@pytest.fixture
def fakes(
    tmp_path: Path,
) -> Iterator[tuple[FakeTelegram, FakeCtgov, FakeCtis, FakeIsrctn, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    upgrade(url)
    with (
        FakeTelegram() as telegram,
        loaded_fake() as ctgov,
        FakeCtis() as ctis,
        FakeIsrctn() as isrctn,
    ):
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PTB_TIMEDELTA": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "CTGOV_API_URL": ctgov.base_url,
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "CTIS_API_URL": ctis.base_url,
            "CTIS_MIN_INTERVAL_SECONDS": "0",
            "ISRCTN_API_URL": isrctn.base_url,
            "ISRCTN_MIN_INTERVAL_SECONDS": "0",
            "HTTP_MAX_RETRIES": "1",
            "DATABASE_URL": url,
            "POLL_INTERVAL_SECONDS": "3600",
            "HEALTH_PORT": "0",
            "LOG_LEVEL": "INFO",
        }
        yield telegram, ctgov, ctis, isrctn, env


def ctis_only_trial() -> dict[str, Any]:
    """A trial registered in CTIS alone, recruiting in Seville, updated today."""
    return ctis_record(
        CTIS_ONLY,
        title="Intra-arterial autologous bone marrow mononuclear cells after ischaemic stroke",
        condition="Acute ischaemic stroke",
        intervention="Autologous bone marrow mononuclear cells, intra-arterial",
        sites=[("Hospital Universitario Virgen del Rocío", "Seville", "Spain")],
        last_updated=date.today().isoformat(),
        summary="Cells from the patient's own bone marrow, given 5 to 9 days after the stroke.",
    )


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_poll_once_polls_every_registry_and_lists_one_trial_with_all_its_sources(
    fakes: tuple[FakeTelegram, FakeCtgov, FakeCtis, FakeIsrctn, dict[str, str]], tmp_path: Path
) -> None:
    _, _, ctis, isrctn, env = fakes
    ctis.upsert(
        ctis_record(
            "2024-520423-88-00",
            title=MASTERS2,
            condition="Ischaemic stroke",
            intervention=MULTISTEM,
            sites=[("Hospital Universitario La Paz", "Madrid", "Spain")],
            secondary_ids=["NCT03545607"],
            last_updated=date.today().isoformat(),
        )
    )
    isrctn.upsert(
        isrctn_record(
            "ISRCTN90000012",
            title=MASTERS2,
            condition="Ischaemic stroke",
            intervention=MULTISTEM,
            sites=[("Royal Victoria Infirmary", "Newcastle", "United Kingdom")],
            secondary_ids=["NCT03545607", "2024-520423-88-00"],
            last_updated=date.today().isoformat(),
        )
    )
    today = date.today().isoformat()
    export = write_export(
        [
            ictrp_row(
                "JPRN-jRCT2063200001",
                title=MASTERS2,
                condition="Cerebral infarction",
                intervention=MULTISTEM,
                sites=[("", "", "Japan")],
                secondary_ids=["NCT03545607"],
                last_updated=today,
            ),
            ictrp_row(
                "ChiCTR2100041234",
                title="Umbilical cord mesenchymal stem cells for acute ischaemic stroke",
                condition="Acute ischaemic stroke",
                intervention="Intervention group: human umbilical cord mesenchymal stem cells",
                sites=[("", "", "China")],
                last_updated=today,
            ),
        ],
        tmp_path / "ICTRPFullExport.csv",
    )
    env = env | {"ICTRP_ENABLED": "true", "ICTRP_EXPORT": str(export)}
    polled = trialbot(["poll", "--once", "--json"], env, tmp_path)
    assert polled.returncode == 0, polled.stderr
    reports = {r["registry"]: r for r in _lines(polled.stdout) if r.get("mode") != "refresh"}
    assert set(reports) == {"ctgov", "ctis", "isrctn", "ictrp"}
    assert all(r["error"] is None for r in reports.values())
    assert reports["ctis"]["new"] == 0 and reports["isrctn"]["new"] == 0  # both joined MASTERS-2
    assert reports["ictrp"]["new"] == 1  # the ChiCTR trial; the jRCT row joined MASTERS-2
    listed = trialbot(["trials", "--json"], env, tmp_path)
    assert listed.returncode == 0, listed.stderr
    trials = {t["id"]: t for t in _lines(listed.stdout)}
    masters2 = trials["NCT03545607"]
    assert [(s["registry"], s["id"]) for s in masters2["sources"]] == [
        ("ctgov", "NCT03545607"),
        ("ctis", "2024-520423-88-00"),
        ("isrctn", "ISRCTN90000012"),
        ("ictrp", "JPRN-jRCT2063200001"),
    ]
    assert {"ES", "GB", "JP", "US"} <= set(masters2["countries"])
    assert not {"2024-520423-88-00", "ISRCTN90000012", "JPRN-jRCT2063200001"} & set(trials)
    assert trials["ChiCTR2100041234"]["sources"][0]["registry"] == "ictrp"
    shown = trialbot(["show", "ISRCTN90000012"], env, tmp_path)
    assert shown.returncode == 0 and shown.stdout.startswith("ctgov:NCT03545607")


def test_a_ctis_only_trial_reaches_a_subscriber_in_spain(
    fakes: tuple[FakeTelegram, FakeCtgov, FakeCtis, FakeIsrctn, dict[str, str]], tmp_path: Path
) -> None:
    telegram, _, ctis, _, env = fakes
    done = trialbot(["poll", "--once"], env, tmp_path)  # the backfill announces nothing
    assert done.returncode == 0, done.stderr
    madrid, paris = 5101, 5102
    for chat_id in (madrid, paris):
        telegram.add_chat(chat_id)
    service = Service(env, tmp_path)
    try:
        telegram.user_sends(madrid, "/subscribe ischemic in Spain")
        telegram.user_sends(paris, "/subscribe ischemic in France")
        for chat_id in (madrid, paris):
            telegram.wait_for(
                lambda c=chat_id: any("Subscribed" in m["text"] for m in telegram.sent_to(c)),
                timeout=30,
                what=f"chat {chat_id} subscribed",
            )
        service.proc.send_signal(signal.SIGTERM)
        assert service.wait(15) == 0
    finally:
        service.kill()
    # Published while the service was down: the restart catches up.
    ctis.upsert(ctis_only_trial())
    before = {c: len(telegram.sent_to(c)) for c in (madrid, paris)}
    again = Service(env, tmp_path)
    try:
        (alert,) = telegram.wait_for(
            lambda: telegram.sent_to(madrid)[before[madrid] :], timeout=60, what="the CTIS alert"
        )
        again.proc.send_signal(signal.SIGTERM)
        assert again.wait(15) == 0
    finally:
        again.kill()
    assert "Seville" in alert["text"] or "Sevilla" in alert["text"]
    assert "This is not medical advice." in alert["text"]
    buttons = [b for row in alert["reply_markup"]["inline_keyboard"] for b in row]
    assert any(CTIS_ONLY in b.get("url", "") for b in buttons)
    assert len(telegram.sent_to(paris)) == before[paris]


def test_a_dead_registry_fails_alone(
    fakes: tuple[FakeTelegram, FakeCtgov, FakeCtis, FakeIsrctn, dict[str, str]], tmp_path: Path
) -> None:
    _, _, ctis, isrctn, env = fakes
    isrctn.fail_next(50, status=503)
    ctis.upsert(ctis_only_trial())
    polled = trialbot(["poll", "--once", "--json"], env, tmp_path)
    assert polled.returncode == 1  # a registry failed, and says which
    reports = {r["registry"]: r for r in _lines(polled.stdout) if r.get("mode") != "refresh"}
    assert "503" in reports["isrctn"]["error"]
    assert reports["ctgov"]["error"] is None and reports["ctis"]["error"] is None
    assert reports["ctis"]["new"] == 1
    assert "Traceback" not in polled.stderr
