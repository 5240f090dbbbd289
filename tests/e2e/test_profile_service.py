"""Issue 14 end to end: a real `trialbot run` process, the fake Bot API and the fake registry,
on a clock the test moves (TRIALBOT_FAKE_TODAY names a file the test rewrites).

Chats subscribe by typing profile clauses; new trials are then published to the registry and
each chat must get exactly those whose time window and ages include its person. The trials
are variants of stored sample records, made visibly below (new ids, recruiting, ages changed):
an acute trial (18 to 36 hours), a chronic one (6 months to 5 years, aged 18 to 75), one whose
record states no window or ages, and chronic ones whose age bounds sit exactly at 68.
"""

from __future__ import annotations

import copy
import os
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.migrate import upgrade
from tests.conftest import run_cli, study
from tests.e2e.service_process import Service
from tests.e2e.test_conversations_service import WAIT, Person, subscriptions
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow

DAY0 = date(2026, 12, 4)
ACUTE, CHRONIC, NONE = 6001, 6002, 6003


def variant(base: str, nct: str, *, min_age: str | None = None, max_age: str | None = None) -> Any:
    """A sample record under a new id, recruiting and just updated; ages replaced if given."""
    record = copy.deepcopy(study(base))
    section = record["protocolSection"]
    section["identificationModule"]["nctId"] = nct
    status = section["statusModule"]
    status["overallStatus"] = "RECRUITING"
    status["lastUpdatePostDateStruct"] = {"date": "2020-01-05", "type": "ACTUAL"}
    eligibility = section.setdefault("eligibilityModule", {})
    if min_age is not None:
        eligibility["minimumAge"] = min_age
    if max_age is not None:
        eligibility["maximumAge"] = max_age
    return record


TRIALS = {
    # 18 to 36 hours after the stroke, aged 18 or over
    "NCT09100001": variant("NCT03545607__2019-08-13", "NCT09100001"),
    # 6 months to 5 years after, aged 18 to 75
    "NCT09100002": variant("NCT04631406__2022-05-10", "NCT09100002"),
    # no window, no ages in the record
    "NCT09100003": variant("NCT01716481__2017-04-26__recruiting", "NCT09100003"),
    # the chronic trial with its age bounds at 68: upper bound 68, lower bound 68, lower 69
    "NCT09100004": variant("NCT04631406__2022-05-10", "NCT09100004", max_age="68 Years"),
    "NCT09100005": variant("NCT04631406__2022-05-10", "NCT09100005", min_age="68 Years"),
    "NCT09100006": variant("NCT04631406__2022-05-10", "NCT09100006", min_age="69 Years"),
}
EXPECTED = {
    # stroke yesterday, age 68: the acute trial and the silent one
    ACUTE: {"NCT09100001", "NCT09100003"},
    # stroke 2 years ago, age 68 (possible ages 67 or 68): not the acute one, not "69 or over"
    CHRONIC: {"NCT09100002", "NCT09100003", "NCT09100004", "NCT09100005"},
    # no profile: every one of them
    NONE: set(TRIALS),
}


def alerted(telegram: FakeTelegram, chat_id: int) -> set[str]:
    """The trials of the alerts a chat received, by their "Could I join?" button."""
    found = set()
    for message in telegram.sent_to(chat_id):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith("cj:ctgov:"):
                    found.add(data.split(":")[2])
    return found


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[FakeTelegram, FakeCtgov, dict[str, str], Path]]:
    url = f"sqlite:///{tmp_path / 'service.db'}"
    upgrade(url)
    clock = tmp_path / "today.txt"
    clock.write_text(DAY0.isoformat())
    with FakeTelegram(enforce_limits=False) as telegram, loaded_fake() as registry:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PTB_TIMEDELTA": "1",
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": telegram.base_url,
            "CTGOV_API_URL": registry.base_url,
            "CTIS_ENABLED": "false",
            "ISRCTN_ENABLED": "false",
            "PUBMED_ENABLED": "false",
            "CTGOV_MIN_INTERVAL_SECONDS": "0",
            "DATABASE_URL": url,
            "POLL_INTERVAL_SECONDS": "3600",
            "HEALTH_PORT": "0",
            "LOG_LEVEL": "INFO",
            "TRIALBOT_FAKE_TODAY": str(clock),
        }
        backfill = run_cli(["poll", "--once"], env, tmp_path)
        assert backfill.returncode == 0, backfill.stderr
        yield telegram, registry, env, clock


def stop(service: Service) -> None:
    service.proc.terminate()
    code = service.wait(20)
    assert code == 0, service.output()[-3000:]


def wait_for_alerts(telegram: FakeTelegram, chat_id: int, wanted: set[str]) -> None:
    telegram.wait_for(lambda: alerted(telegram, chat_id) >= wanted, WAIT * 2, f"alerts {wanted}")


def test_each_profile_gets_exactly_the_trials_it_could_join(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str], Path], tmp_path: Path
) -> None:
    telegram, registry, env, clock = world
    people = {
        ACUTE: Person(telegram, ACUTE, "en"),
        CHRONIC: Person(telegram, CHRONIC, "es"),
        NONE: Person(telegram, NONE, "en"),
    }
    service = Service(env, tmp_path)
    try:
        (done,) = people[ACUTE].says("/subscribe ischemic stroke yesterday age 68")
        assert "stroke 1 day ago · age 68" in done["text"]
        (done,) = people[CHRONIC].says("/subscribe isquémico ictus hace 2 años edad 68")
        assert "ictus hace unos 2 años · edad 68" in done["text"]
        people[NONE].says("/subscribe ischemic")
    finally:
        stop(service)
    (acute,) = subscriptions(env["DATABASE_URL"], ACUTE)
    assert (acute.stroke_date, acute.birth_year) == (DAY0 - timedelta(days=1), 1958)

    registry.upsert_many(list(TRIALS.values()))
    registry.set_data_timestamp("2020-01-06T09:00:00")
    service = Service(env, tmp_path)  # polls at start: the new trials fan out
    try:
        wait_for_alerts(telegram, NONE, EXPECTED[NONE])
        wait_for_alerts(telegram, CHRONIC, EXPECTED[CHRONIC])
        wait_for_alerts(telegram, ACUTE, EXPECTED[ACUTE])
        time.sleep(3)  # anything wrongly queued would have arrived by now
        for chat_id, wanted in EXPECTED.items():
            assert alerted(telegram, chat_id) == wanted, chat_id
    finally:
        stop(service)

    # Ten days on: the stored date says the acute person is now 11 days out.
    clock.write_text((DAY0 + timedelta(days=10)).isoformat())
    registry.upsert(variant("NCT03545607__2019-08-13", "NCT09100007"))
    registry.set_data_timestamp("2020-01-07T09:00:00")
    service = Service(env, tmp_path)
    try:
        wait_for_alerts(telegram, NONE, EXPECTED[NONE] | {"NCT09100007"})
        time.sleep(3)
        assert "NCT09100007" not in alerted(telegram, ACUTE)
        (listing,) = people[ACUTE].says("/list")
        assert "stroke 11 days ago · age 68" in listing["text"]
    finally:
        stop(service)


def window_alerts(telegram: FakeTelegram, chat_id: int) -> list[str]:
    """The trials of the window-opening alerts a chat received (one entry per alert)."""
    found = []
    for message in telegram.sent_to(chat_id):
        if "inside this study's time window" not in message.get("text", ""):
            continue
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                data = str(button.get("callback_data", ""))
                if data.startswith("cj:ctgov:"):
                    found.append(data.split(":")[2])
    return found


def test_the_window_opening_alert_comes_once_when_the_person_enters_it(
    world: tuple[FakeTelegram, FakeCtgov, dict[str, str], Path], tmp_path: Path
) -> None:
    """170 days after the stroke the chronic trial (from about 183 days) is not for this person
    yet; 15 days later they are inside its window: one alert, however often the job runs."""
    telegram, registry, env, clock = world
    env = env | {"WINDOW_CHECK_SECONDS": "2"}
    chronic = "NCT09200001"
    registry.upsert(variant("NCT04631406__2022-05-10", chronic))
    registry.set_data_timestamp("2020-01-06T09:00:00")
    person = Person(telegram, 6100, "en")
    service = Service(env, tmp_path)  # polls at start: the trial is stored, nobody matches yet
    try:
        (done,) = person.says("/subscribe ischemic stroke 170 days ago")
        assert "Subscribed" in done["text"]
        time.sleep(6)  # three window checks: too early for this person
        assert window_alerts(telegram, 6100) == []
        assert chronic not in alerted(telegram, 6100)
    finally:
        stop(service)

    clock.write_text((DAY0 + timedelta(days=15)).isoformat())
    service = Service(env, tmp_path)
    try:
        telegram.wait_for(
            lambda: chronic in window_alerts(telegram, 6100), WAIT * 2, "the window alert"
        )
        time.sleep(6)  # three more checks: nothing more may come
    finally:
        stop(service)
    service = Service(env, tmp_path)  # and a restart does not send it again
    try:
        time.sleep(6)
    finally:
        stop(service)
    opened = window_alerts(telegram, 6100)
    # Every recruiting sample trial whose window opens at about 6 months tells this person
    # once, the new one among them; none twice, however often the job ran.
    assert chronic in opened and len(opened) == len(set(opened))
