"""`trialbot doctor` against the fake Bot API, the fake CT.gov and real SQLite files."""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.doctor import Check, exit_code, format_checks, run_doctor
from storage.migrate import current_revision, head_revision, upgrade
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.ctis_server import FakeCtis
from tests.fakes.fake_eutils import FakeEutils
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from trialbot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
OTHER_TOKEN = "987654321:" + "Z" * 35


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "ADMIN_CHAT_IDS",
        "OPERATOR_CONTACT",
        "HEALTH_HOST",
        "NCBI_API_KEY",
        "NCBI_EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def fakes() -> Iterator[tuple[FakeTelegram, FakeCtgov]]:
    with FakeTelegram() as telegram, FakeCtgov() as ctgov:
        yield telegram, ctgov


@pytest.fixture
def migrated(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'trialbot.db'}"
    upgrade(url)
    return url


def settings_for(url: str, fakes: tuple[FakeTelegram, FakeCtgov], **extra: Any) -> Settings:
    telegram, ctgov = fakes
    values: dict[str, Any] = {
        "database_url": url,
        "telegram_bot_token": TOKEN,
        "telegram_api_base_url": telegram.base_url,
        "ctgov_api_url": ctgov.base_url,
        "admin_chat_ids": "42",
        "operator_contact": "ops@example.org",
        "ctgov_min_interval_seconds": 0,
        "ctis_enabled": False,
        "isrctn_enabled": False,
        "pubmed_enabled": False,
    }
    return load_settings(**(values | extra))


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_all_green(migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]) -> None:
    checks = await run_doctor(settings_for(migrated, fakes))
    assert all(c.ok and not c.warning for c in checks), format_checks(checks)
    names = by_name(checks)
    assert set(names) == {
        "settings",
        "database",
        "migrations",
        "disk",
        "telegram",
        "registry ctgov",
        "pubmed",
    }
    assert names["pubmed"].detail.startswith("skipped: PUBMED_ENABLED=false")
    assert "@trialbot_test_bot" in names["telegram"].detail
    assert "2026-01-05T09:00:06" in names["registry ctgov"].detail
    report = format_checks(checks)
    assert report.endswith("All checks passed: ready to run.")
    assert report.count("✓") == len(checks) and exit_code(checks) == 0


async def test_unset_optional_settings_are_warnings(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    settings = settings_for(migrated, fakes, admin_chat_ids="", operator_contact="")
    checks = await run_doctor(settings)
    names = by_name(checks)
    assert names["ADMIN_CHAT_IDS"].ok and names["ADMIN_CHAT_IDS"].warning
    assert names["OPERATOR_CONTACT"].warning
    assert exit_code(checks) == 0
    report = format_checks(checks)
    assert "! ADMIN_CHAT_IDS: not set" in report
    assert report.endswith("Ready to run, with 2 warnings.")


async def test_rejected_token_says_botfather_and_never_shows_it(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    checks = await run_doctor(settings_for(migrated, fakes, telegram_bot_token=OTHER_TOKEN))
    telegram = by_name(checks)["telegram"]
    assert not telegram.ok
    assert "token was rejected" in telegram.detail and "@BotFather" in telegram.fix
    report = format_checks(checks)
    assert "✗ telegram:" in report and exit_code(checks) == 1
    assert OTHER_TOKEN not in report and OTHER_TOKEN.split(":")[1] not in report
    assert "1 problem, 0 warnings" in report


async def test_unreachable_telegram_names_the_host_only(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    host = f"127.0.0.1:{free_port()}"
    settings = settings_for(migrated, fakes, telegram_api_base_url=f"http://{host}/bot")
    telegram = by_name(await run_doctor(settings))["telegram"]
    assert not telegram.ok and telegram.detail.startswith(f"cannot reach {host}")
    assert TOKEN not in telegram.detail + telegram.fix


async def test_missing_token(migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]) -> None:
    telegram = by_name(await run_doctor(settings_for(migrated, fakes, telegram_bot_token="")))[
        "telegram"
    ]
    assert not telegram.ok and "TELEGRAM_BOT_TOKEN" in telegram.detail
    assert "@BotFather" in telegram.fix


async def test_dead_registry_fails(migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]) -> None:
    dead = f"http://127.0.0.1:{free_port()}/api/v2"
    checks = await run_doctor(settings_for(migrated, fakes, ctgov_api_url=dead))
    registry = by_name(checks)["registry ctgov"]
    assert not registry.ok and dead in registry.detail
    assert "CTGOV_API_URL" in registry.fix
    assert by_name(checks)["telegram"].ok and exit_code(checks) == 1


async def test_registry_answering_errors_fails(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    _, ctgov = fakes
    ctgov.fail_next(5, status=500, path="/version")
    try:
        checks = await run_doctor(
            settings_for(migrated, fakes, http_max_retries=0, ctgov_min_interval_seconds=0)
        )
    finally:
        ctgov.clear_faults()
    registry = by_name(checks)["registry ctgov"]
    assert not registry.ok and "HTTP 500" in registry.detail


async def test_unmigrated_database(tmp_path: Path, fakes: tuple[FakeTelegram, FakeCtgov]) -> None:
    path = tmp_path / "empty.db"
    sqlite3.connect(path).close()
    url = f"sqlite:///{path}"
    checks = await run_doctor(settings_for(url, fakes))
    migrations = by_name(checks)["migrations"]
    assert by_name(checks)["database"].ok
    assert not migrations.ok and "no schema" in migrations.detail
    assert "trialbot db upgrade" in migrations.fix
    assert current_revision(url) is None  # the doctor changed nothing

    upgrade(url, "0002")
    migrations = by_name(await run_doctor(settings_for(url, fakes)))["migrations"]
    assert not migrations.ok
    assert migrations.detail == f"the database is at 0002, code expects {head_revision()}"


async def test_missing_sqlite_file_is_not_created(
    tmp_path: Path, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    path = tmp_path / "nowhere.db"
    checks = await run_doctor(settings_for(f"sqlite:///{path}", fakes))
    names = by_name(checks)
    assert not names["database"].ok and "trialbot db upgrade" in names["database"].fix
    assert not names["migrations"].ok and "unreachable" in names["migrations"].detail
    assert not path.exists()


def test_cli_doctor_reports_without_migrating(
    tmp_path: Path, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    telegram, ctgov = fakes
    path = tmp_path / "cli.db"
    sqlite3.connect(path).close()
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{path}",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": telegram.base_url,
        "CTGOV_API_URL": ctgov.base_url,
        "CTIS_ENABLED": "false",
        "ISRCTN_ENABLED": "false",
        "PUBMED_ENABLED": "false",
        "ADMIN_CHAT_IDS": "42",
        "OPERATOR_CONTACT": "ops@example.org",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "doctor"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 1, out
    assert "✗ migrations: the database has no schema" in done.stdout
    assert "fix: run `trialbot db upgrade`" in done.stdout
    assert "✓ telegram: token accepted: @trialbot_test_bot" in done.stdout
    assert "✓ registry ctgov" in done.stdout
    assert "✓ pubmed: skipped: PUBMED_ENABLED=false" in done.stdout
    assert TOKEN not in out and TOKEN.split(":")[1] not in out
    assert current_revision(f"sqlite:///{path}") is None


async def test_low_disk_is_a_warning(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "app.doctor.shutil.disk_usage", lambda _: shutil._ntuple_diskusage(10**12, 0, 10**8)
    )
    checks = await run_doctor(settings_for(migrated, fakes))
    disk = by_name(checks)["disk"]
    assert disk.ok and disk.warning and "0.1 GB free" in disk.detail
    assert exit_code(checks) == 0


async def test_every_enabled_registry_is_probed_and_a_dead_one_named(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov], tmp_path: Path
) -> None:
    with FakeCtis() as ctis:
        dead = f"http://127.0.0.1:{free_port()}/api"
        settings = settings_for(
            migrated,
            fakes,
            ctis_enabled=True,
            ctis_api_url=ctis.base_url,
            ctis_min_interval_seconds=0,
            isrctn_enabled=True,
            isrctn_api_url=dead,
            ictrp_enabled=True,
            ictrp_export=str(tmp_path / "missing.csv"),
            http_max_retries=0,
        )
        checks = by_name(await run_doctor(settings))
    assert checks["registry ctgov"].ok and checks["registry ctis"].ok
    assert not checks["registry isrctn"].ok and "ISRCTN_API_URL" in checks["registry isrctn"].fix
    assert not checks["registry ictrp"].ok and "ICTRP_EXPORT" in checks["registry ictrp"].fix


NCBI_KEY = "0123456789abcdef0123456789abcdef0123"


async def test_pubmed_reachable_is_reported_like_a_registry(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    with FakeEutils(api_key=NCBI_KEY) as eutils:
        eutils.add_paper("30049711", "A trial's results", "Stroke", "2020 Apr 17", ())
        settings = settings_for(
            migrated,
            fakes,
            pubmed_enabled=True,
            pubmed_api_url=eutils.base_url,
            ncbi_api_key=NCBI_KEY,
            ncbi_email="ops@example.org",
        )
        checks = await run_doctor(settings)
        [params] = eutils.params()
        url = eutils.base_url
    pubmed = by_name(checks)["pubmed"]
    assert pubmed.ok and not pubmed.warning, format_checks(checks)
    assert pubmed.detail == (
        f"reachable at {url} with NCBI_API_KEY; 1 records, last update 2026/12/03 05:12"
    )
    assert params["tool"] == "trialbot" and params["email"] == "ops@example.org"
    assert exit_code(checks) == 0 and NCBI_KEY not in format_checks(checks)


async def test_pubmed_failing_names_its_setting_and_never_the_key(
    migrated: str, fakes: tuple[FakeTelegram, FakeCtgov]
) -> None:
    with FakeEutils(api_key="f" * 36) as eutils:  # NCBI answers 400 and echoes a wrong key
        settings = settings_for(
            migrated,
            fakes,
            pubmed_enabled=True,
            pubmed_api_url=eutils.base_url,
            ncbi_api_key=NCBI_KEY,
            http_max_retries=0,
        )
        checks = await run_doctor(settings)
        url = eutils.base_url
    pubmed = by_name(checks)["pubmed"]
    assert not pubmed.ok and url in pubmed.detail
    assert "HTTP 400" in pubmed.detail and "API key invalid" in pubmed.detail
    assert "PUBMED_API_URL" in pubmed.fix and "NCBI_API_KEY" in pubmed.fix
    report = format_checks(checks)
    assert "✗ pubmed:" in report and exit_code(checks) == 1
    assert NCBI_KEY not in report

    dead = f"http://127.0.0.1:{free_port()}/entrez/eutils"
    settings = settings_for(
        migrated, fakes, pubmed_enabled=True, pubmed_api_url=dead, http_max_retries=0
    )
    pubmed = by_name(await run_doctor(settings))["pubmed"]
    assert not pubmed.ok and dead in pubmed.detail and "PUBMED_API_URL" in pubmed.fix
