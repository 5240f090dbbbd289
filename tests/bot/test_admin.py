"""Admin surface: when RegistryWatch speaks up (pure), /stats and notify_admins (real bot)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from telegram.ext import CommandHandler

from bot.handlers import admin
from bot.handlers.admin import EMPTY, FAILING, RECOVERED, AdminAlert, RegistryWatch
from bot.handlers.common import Deps
from bot.i18n import LANGUAGES, translator
from storage import poll_state
from tests.bot.conftest import Bot
from tests.bot.test_i18n import keys_of

T0 = datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
H = timedelta(hours=1)


@dataclass
class State:
    """A poll_state row as the poller leaves it."""

    registry_name: str = "ctgov"
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure_reason: str | None = None
    consecutive_failures: int = 0
    last_counts: dict[str, Any] = field(default_factory=dict)

    def success(
        self, at: datetime, matching: int = 5, skipped: bool = False, fetched: int = 0
    ) -> State:
        self.last_success_at, self.consecutive_failures = at, 0
        self.last_counts = {
            "mode": "skipped" if skipped else "incremental",
            "skipped": skipped,
            "fetched": fetched,
            "matching": matching,
        }
        return self

    def failure(self, at: datetime, reason: str = "ctgov GET /version: HTTP 503") -> State:
        self.last_failure_at, self.last_failure_reason = at, reason
        self.consecutive_failures += 1
        return self


def keys(alerts: list[AdminAlert]) -> list[str]:
    return [a.key for a in alerts]


def watch() -> RegistryWatch:
    return RegistryWatch(alert_after=3 * H)


def test_failing_alerts_once_after_the_threshold_then_recovers() -> None:
    w, s = watch(), State().success(T0)
    assert w.check([s]) == []
    assert w.check([s.failure(T0 + 6 * H)]) == []  # one failure: no evidence of hours yet
    assert w.check([s.failure(T0 + 7 * H)]) == []  # 1 h of failures
    (alert,) = w.check([s.failure(T0 + 9 * H, "ctgov GET /version: HTTP 502")])
    assert alert.key == FAILING and alert.registry == "ctgov"
    assert alert.values == {
        "registry": "ctgov",
        "since": "2026-03-01 06:00 UTC",
        "hours": "3.0",
        "failures": 3,
        "reason": "ctgov GET /version: HTTP 502",
    }
    assert w.check([s.failure(T0 + 12 * H)]) == []  # once per incident
    assert w.check([s]) == []  # checking again changes nothing
    (back,) = w.check([s.success(T0 + 13 * H)])
    assert back.key == RECOVERED and back.values["when"] == "2026-03-01 13:00 UTC"
    assert w.check([s]) == []


def test_a_new_incident_after_recovery_alerts_again() -> None:
    w, s = watch(), State().success(T0)
    w.check([s.failure(T0 + H)])
    assert keys(w.check([s.failure(T0 + 5 * H)])) == [FAILING]
    # Recovered and failed again between two checks: recovery, and a fresh streak.
    s.success(T0 + 6 * H)
    assert keys(w.check([s.failure(T0 + 7 * H)])) == [RECOVERED]
    assert w.check([s.failure(T0 + 8 * H)]) == []
    assert keys(w.check([s.failure(T0 + 10 * H)])) == [FAILING]


def test_short_blips_never_alert_and_recover_silently() -> None:
    w, s = watch(), State().success(T0)
    for hour in range(1, 30, 2):
        assert w.check([s.failure(T0 + hour * H)]) == []
        assert w.check([s.success(T0 + (hour + 1) * H)]) == []


def test_watch_started_mid_outage_dates_it_from_what_it_sees() -> None:
    s = State().success(T0).failure(T0 + H).failure(T0 + 2 * H).failure(T0 + 3 * H)
    w = watch()
    assert w.check([s]) == []  # restarted: the streak's start is unknown
    assert w.check([s.failure(T0 + 5 * H)]) == []
    assert keys(w.check([s.failure(T0 + 6 * H)])) == [FAILING]


def test_never_succeeded_registry_can_alert() -> None:
    w, s = watch(), State()
    w.check([s.failure(T0)])
    assert keys(w.check([s.failure(T0 + 4 * H)])) == [FAILING]


def test_suddenly_nothing_then_records_again() -> None:
    w, s = watch(), State()
    assert w.check([s.success(T0, matching=120, fetched=3)]) == []
    # an incremental poll that fetched nothing new, from a search that still matches: quiet
    assert w.check([s.success(T0 + 3 * H, matching=120, fetched=0)]) == []
    (alert,) = w.check([s.success(T0 + 6 * H, matching=0)])
    assert alert.key == EMPTY
    assert alert.values == {"registry": "ctgov", "previous": 120, "when": "2026-03-01 06:00 UTC"}
    assert w.check([s]) == []
    assert w.check([s.success(T0 + 12 * H, matching=0)]) == []  # once per incident
    assert w.check([s.success(T0 + 18 * H, skipped=True, matching=0)]) == []  # skipped: ignored
    assert keys(w.check([s.success(T0 + 24 * H, matching=4)])) == [RECOVERED]
    assert keys(w.check([s.success(T0 + 30 * H, matching=0)])) == [EMPTY]


def test_zero_rule_ignores_skipped_polls_and_zero_after_zero() -> None:
    w, s = watch(), State()
    assert w.check([s.success(T0, matching=0)]) == []  # nothing to compare with
    assert w.check([s.success(T0 + H, matching=0)]) == []  # 0 after 0
    assert w.check([s.success(T0 + 2 * H, matching=7)]) == []
    assert w.check([s.success(T0 + 3 * H, skipped=True, matching=0)]) == []
    assert keys(w.check([s.success(T0 + 4 * H, matching=0)])) == [EMPTY]  # compares with 7


def test_registries_are_watched_separately() -> None:
    w = watch()
    a, b = State("ctgov").success(T0), State("other").success(T0)
    w.check([a, b])
    w.check([a.failure(T0 + H), b])
    alerts = w.check([a.failure(T0 + 4 * H), b.success(T0 + 4 * H)])
    assert [(x.key, x.registry) for x in alerts] == [(FAILING, "ctgov")]


def test_from_settings_uses_admin_alert_after() -> None:
    from trialbot.settings import load_settings

    w = RegistryWatch.from_settings(load_settings(admin_alert_after_seconds=600))
    assert w.alert_after == timedelta(minutes=10)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_alert_key_renders_in_every_language(lang: str) -> None:
    t = translator(lang)
    samples: dict[str, dict[str, Any]] = {
        FAILING: {"registry": "r", "since": "s", "hours": "3.0", "failures": 2, "reason": "x"},
        EMPTY: {"registry": "r", "previous": 3, "when": "w"},
        RECOVERED: {"registry": "r", "when": "w"},
    }
    assert set(samples) == set(admin.ALERT_KEYS)
    for key, values in samples.items():
        assert key in keys_of(lang, "bot")
        text = t(key, **values)
        assert "{" not in text and "r" in text


def test_admin_keys_have_the_same_placeholders_in_every_language() -> None:
    en = {k for k in keys_of("en", "bot") if k.startswith("admin.")}
    assert len(en) >= 13
    for lang in LANGUAGES:
        assert {k for k in keys_of(lang, "bot") if k.startswith("admin.")} == en
        for key in en:
            holes = set(re.findall(r"\{\w+\}", translator(lang)(key)))
            assert holes == set(re.findall(r"\{\w+\}", translator("en")(key))), (lang, key)


# -- with the real bot over the fake Bot API ----------------------------------------------------

ADMIN = 7001
STRANGER = 7002


def make_admin(bot: Bot, *ids: int) -> None:
    deps = bot.app.bot_data["deps"]
    settings = deps.settings.model_copy(update={"admin_chat_ids": list(ids)})
    bot.app.bot_data["deps"] = Deps(db=deps.db, settings=settings)
    wired = any(
        isinstance(h, CommandHandler) and "stats" in h.commands
        for group in bot.app.handlers.values()
        for h in group
    )
    assert wired, "bot/application.py does not register /stats"


async def test_stats_for_admins_only(bot: Bot) -> None:
    make_admin(bot, ADMIN)
    async with bot.db.write() as session:
        await poll_state.record_success(
            session,
            "ctgov",
            watermark=None,
            data_version="v1",
            counts={"mode": "incremental", "skipped": False, "fetched": 3},
        )
        await poll_state.record_failure(session, "ctgov", "ctgov GET /version: HTTP 503 <oops>")
    (stranger,) = await bot.says(STRANGER, "/stats")
    assert stranger["text"] == translator("en")("unknown.command")
    (answer,) = await bot.says(ADMIN, "/stats")
    text = answer["text"]
    assert "trialbot status" in text
    assert "Chats: 2 active, 0 inactive" in text
    assert re.search(r"Stored trials: \d+ relevant, \d+ in all", text)
    assert "Alerts: 0 waiting, 0 held for digests, 0 being sent, 0 failed" in text
    assert "<b>ctgov</b>: last success" in text and "1 failures since" in text
    assert "last error: ctgov GET /version: HTTP 503 &lt;oops&gt;" in text  # escaped


async def test_stats_in_spanish(bot: Bot) -> None:
    make_admin(bot, ADMIN)
    (answer,) = await bot.says(ADMIN, "/stats", language_code="es")
    assert "Estado de trialbot" in answer["text"]
    assert "Todavía no se ha consultado ningún registro." in answer["text"]


async def test_notify_admins_in_their_language_and_survives_a_bad_id(bot: Bot) -> None:
    await bot.says(ADMIN, "/start", language_code="es")
    settings = bot.app.bot_data["deps"].settings.model_copy(
        update={"admin_chat_ids": [ADMIN, 9999]}  # 9999 never talked to the bot
    )
    sent = await admin.notify_admins(
        bot.app.bot, settings, RECOVERED, db=bot.db, registry="ctgov <x>", when="hoy"
    )
    assert sent == 1
    text = bot.fake.last_text(ADMIN)
    assert "ctgov <x>" in text and "vuelve a funcionar" in text
    assert await admin.notify_admins(bot.app.bot, settings, RECOVERED, registry="r", when="w") == 1
    assert "is working again" in bot.fake.last_text(ADMIN)  # no db: English
