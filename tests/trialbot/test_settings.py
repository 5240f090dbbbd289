"""Settings: defaults, one clear line per wrong value, and the token never echoed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import run_cli
from tests.fakes.telegram_server import TOKEN as FAKE_TOKEN
from trialbot.settings import SettingsError, load_settings

TOKEN = FAKE_TOKEN


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.chdir(str(tmp_path))  # no stray .env
    for name in (
        "TELEGRAM_BOT_TOKEN",
        "DATABASE_URL",
        "POLL_INTERVAL_SECONDS",
        "ADMIN_CHAT_IDS",
        "LOG_LEVEL",
        "CTGOV_API_URL",
        "TELEGRAM_API_BASE_URL",
        "WEBHOOK_URL",
        "WEBHOOK_SECRET_TOKEN",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    s = load_settings()
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.ctgov_api_url == "https://clinicaltrials.gov/api/v2"
    assert s.database_url == "sqlite:///trialbot.db"
    assert s.admin_chat_ids == [] and s.log_level == "INFO"


def test_admin_ids_are_comma_separated_64_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_CHAT_IDS", "42, -1001234567890123")
    assert load_settings().admin_chat_ids == [42, -1001234567890123]


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("POLL_INTERVAL_SECONDS", "5", "POLL_INTERVAL_SECONDS"),
        ("POLL_INTERVAL_SECONDS", "often", "POLL_INTERVAL_SECONDS"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("ADMIN_CHAT_IDS", "42,bob", "ADMIN_CHAT_IDS"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL"),
        ("CTGOV_API_URL", "ftp://x", "CTGOV_API_URL"),
    ],
)
def test_wrong_value_names_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, words: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    message = str(info.value)
    assert words in message and "\n" not in message


def test_malformed_token_is_reported_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    bad = TOKEN[:-5] + "!!!!!"
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", bad)
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert "TELEGRAM_BOT_TOKEN" in str(info.value)
    assert bad not in str(info.value) and TOKEN.split(":")[1][:10] not in str(info.value)


def test_token_never_in_repr_or_dump(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    s = load_settings()
    assert s.bot_token == TOKEN
    assert TOKEN not in repr(s) and TOKEN not in str(s.model_dump())


def test_cli_start_up_stops_with_one_line(tmp_path: object) -> None:
    env = {"POLL_INTERVAL_SECONDS": "1", "TELEGRAM_BOT_TOKEN": TOKEN, "PATH": "/usr/bin:/bin"}
    done = run_cli(["trials"], env, str(tmp_path), timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "POLL_INTERVAL_SECONDS" in lines[0]
    assert TOKEN not in done.stderr + done.stdout


def test_log_records_never_show_the_token(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from trialbot.logs import configure_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        _log_twice(capsys, configure_logging)
    finally:
        root.handlers[:], root.level = saved[0], saved[1]


def _log_twice(capsys: pytest.CaptureFixture[str], configure_logging: Any) -> None:
    import logging

    for fmt in ("text", "json"):
        configure_logging("INFO", fmt, [TOKEN])
        log = logging.getLogger("trialbot.test")
        log.info("POST https://api.telegram.org/bot%s/getMe", TOKEN)
        try:
            raise RuntimeError(f"failed calling /bot{TOKEN}/sendMessage")
        except RuntimeError:
            log.exception("send failed")
        err = capsys.readouterr().err
        assert TOKEN not in err and "[REDACTED]" in err


def test_webhook_needs_https_and_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/hook")
    with pytest.raises(SettingsError) as missing:
        load_settings()
    assert "WEBHOOK_SECRET_TOKEN" in str(missing.value)
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", "short")
    with pytest.raises(SettingsError) as weak:
        load_settings()
    assert "WEBHOOK_SECRET_TOKEN" in str(weak.value) and "short" not in str(weak.value)
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", "a-long-enough_secret")
    assert load_settings().webhook_url == "https://bot.example.org/hook"
    monkeypatch.setenv("WEBHOOK_URL", "http://bot.example.org/hook")
    with pytest.raises(SettingsError) as plain:
        load_settings()
    assert "WEBHOOK_URL" in str(plain.value) and "https" in str(plain.value)
