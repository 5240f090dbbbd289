"""The conversations of issue 13 with a real `trialbot run` process over the fake Bot API.

Each chat below replays a situation found by trying the bot as a new user would, in the
language that user wrote in; what the service answers and what ends up in the database is
checked, not how the handlers are built. One service process serves every chat in a test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from storage import chats
from storage.db import Database
from storage.migrate import upgrade
from storage.tables import SubscriptionRow
from tests.conftest import run_cli
from tests.e2e.service_process import Service
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from tests.jobs.helpers import loaded_fake

pytestmark = pytest.mark.slow

WAIT = 30.0
"""Seconds to wait for an answer: generous, the machine may be busy with other tests."""


@dataclass
class Person:
    """One private chat with the running service."""

    fake: FakeTelegram
    chat_id: int
    language: str
    log: list[str] = field(default_factory=list)
    """The conversation as it went, for the test output (`pytest -s`)."""

    def says(self, text: str, n: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(self.chat_id))
        self.fake.user_sends(self.chat_id, text, language_code=self.language)
        self.log.append(f"USER: {text}")
        return self._new_messages(before, n, repr(text))

    def forwards(self, text: str, n: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(self.chat_id))
        self.fake.user_forwards(self.chat_id, text, language_code=self.language)
        self.log.append(f"USER (forwarded): {text}")
        return self._new_messages(before, n, "a forwarded message")

    def sends_media(self, kind: str, caption: str | None = None) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(self.chat_id))
        self.fake.user_sends_media(self.chat_id, kind, caption=caption, language_code=self.language)
        self.log.append(f"USER: ({kind}{': ' + caption if caption else ''})")
        return self._new_messages(before, 1, f"a {kind}")

    def shares_location(self, lat: float, lon: float, n: int = 1) -> list[dict[str, Any]]:
        before = len(self.fake.sent_to(self.chat_id))
        self.fake.user_shares_location(self.chat_id, lat, lon, language_code=self.language)
        self.log.append(f"USER: (location pin {lat}, {lon})")
        return self._new_messages(before, n, "a location pin")

    def presses(self, label: str, n: int = 1, message_id: int | None = None) -> list[Any]:
        """Press a button; returns the new messages, or the pop-up answer when n == 0."""
        before = len(self.fake.sent_to(self.chat_id))
        answers = len(self.fake.callback_answers)
        self.fake.user_presses_button(self.chat_id, label, message_id=message_id)
        self.log.append(f"USER taps [{label}]")
        self.fake.wait_for(
            lambda: len(self.fake.callback_answers) > answers, WAIT, f"answer to [{label}]"
        )
        if n == 0:
            popup = dict(self.fake.callback_answers[-1])
            self.log.append(f"BOT (pop-up): {popup.get('text', '')}")
            return [popup]
        return self._new_messages(before, n, f"[{label}]")

    def _new_messages(self, before: int, n: int, what: str) -> list[dict[str, Any]]:
        sent = self.fake.wait_for(
            lambda: (
                len(self.fake.sent_to(self.chat_id)) >= before + n
                and self.fake.sent_to(self.chat_id)
            ),
            WAIT,
            f"{n} repl(ies) to {what} in chat {self.chat_id}",
        )
        new = list(sent[before:])
        for message in new:
            keys = " ".join(f"[{label}]" for label in buttons(message))
            self.log.append(f"BOT: {message.get('text', '')} {keys}".rstrip())
        return new

    def show(self) -> None:
        print(f"\n--- chat {self.chat_id} ({self.language}) ---")
        print("\n".join(self.log))


def buttons(message: dict[str, Any]) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


def subscriptions(url: str, chat_id: int) -> list[SubscriptionRow]:
    async def read() -> list[SubscriptionRow]:
        db = Database(url)
        try:
            async with db.read() as session:
                return await chats.subscriptions(session, chat_id)
        finally:
            await db.dispose()

    return asyncio.run(read())


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[FakeTelegram, str]]:
    """A service with the sample trials stored, polling nothing more during the test."""
    url = f"sqlite:///{tmp_path / 'service.db'}"
    upgrade(url)
    with FakeTelegram(enforce_limits=False) as telegram, loaded_fake() as registry:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
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
        }
        stored = run_cli(["poll", "--once"], env, tmp_path)
        assert stored.returncode == 0, stored.stderr
        service = Service(env, tmp_path)
        try:
            yield telegram, url
        finally:
            service.proc.terminate()
            code = service.wait(20)
            assert code == 0, service.output()[-3000:]


def test_ohio_a_sentence_becomes_a_subscription_only_when_confirmed(
    running: tuple[FakeTelegram, str],
) -> None:
    telegram, url = running
    ohio = Person(telegram, 5001, "en")

    (hello,) = ohio.says("hi")
    assert "stem-cell" in hello["text"] and "Subscribe" in buttons(hello)

    (proposal,) = ohio.says(
        "i had a stroke 2 years ago are there stem cell trials near columbus ohio"
    )
    assert "Columbus, Ohio" in proposal["text"]
    assert {"Subscribe", "Change"} <= set(buttons(proposal))
    assert subscriptions(url, 5001) == []  # nothing saved before the tap

    (saved,) = ohio.presses("Subscribe")
    assert "Subscribed" in saved["text"] and "Columbus, Ohio" in saved["text"]
    (sub,) = subscriptions(url, 5001)
    assert sub.place_name is not None and sub.place_name.startswith("Columbus")

    (typed,) = ohio.says("/subscribe Columbus, OH 100 mi")
    assert "100 miles" in typed["text"]
    assert [s.radius_unit for s in subscriptions(url, 5001)] == ["km", "mi"]
    ohio.show()


def test_sevilla_a_pin_never_moves_a_named_alert_without_asking(
    running: tuple[FakeTelegram, str],
) -> None:
    telegram, url = running
    hija = Person(telegram, 5002, "es")

    (done,) = hija.says("/subscribe Papá: cualquiera cerca de Sevilla 100 km")
    assert "Suscrito" in done["text"] and "Sevilla" in done["text"]

    (question,) = hija.shares_location(40.4168, -3.7038)  # her own pin, in Madrid
    assert "Madrid, España" in question["text"]  # in her language
    assert any("Papá" in label for label in buttons(question))
    (papa,) = subscriptions(url, 5002)
    assert papa.label == "Papá" and papa.place_name and "Sevilla" in papa.place_name

    hija.presses("Aviso nuevo aquí", n=2)  # a new alert, and an offer of other distances
    places = sorted(s.place_name or "" for s in subscriptions(url, 5002))
    assert len(places) == 2 and "Madrid" in places[0] and "Sevilla" in places[1]

    (ictus,) = hija.says("ictus hemorrágico cerca de Sevilla")
    assert "Sevilla" in ictus["text"] and "Suscribirme" in buttons(ictus)
    hija.show()


def test_an_old_remove_button_cannot_remove_a_newer_alert(
    running: tuple[FakeTelegram, str],
) -> None:
    telegram, url = running
    carer = Person(telegram, 5003, "en")
    carer.says("/subscribe Dad: any in Spain")
    (old_list,) = carer.says("/list")
    carer.says("/unsubscribe all")
    carer.says("/subscribe Mum: any in Spain")

    (answer,) = carer.presses("Remove 1", n=0, message_id=old_list["message_id"])
    assert "no longer exists" in answer["text"]
    (mum,) = subscriptions(url, 5003)
    assert mum.label == "Mum"

    (again,) = carer.says("/subscribe Mum: any in Spain")
    assert "already have this alert" in again["text"]
    assert len(subscriptions(url, 5003)) == 1


def test_chinese_without_spaces_is_understood(running: tuple[FakeTelegram, str]) -> None:
    telegram, url = running
    reader = Person(telegram, 5004, "zh")
    (proposal,) = reader.says("缺血中国")
    assert "中国" in proposal["text"] and "订阅" in buttons(proposal)
    (saved,) = reader.presses("订阅")
    (sub,) = subscriptions(url, 5004)
    assert sub.conditions == ["ischemic"] and sub.countries == ["CN"]
    assert saved["text"]


ADVERTS = {
    "en": "Stem cell therapy in India for post-stroke recovery, 90% success, "
    "$15,000 package, book now",
    "es": "Terapia con células madre para el ictus en nuestra clínica: 90% de éxito, paquete "
    "de 15.000 dólares con hotel incluido. ¡Reserve ya!",
    "zh": "干细胞治疗中风，有效率高达90%，套餐价格15000美元，含酒店接送，立即预约！",
}
"""Adverts as people forward them (written here, after the clinic pages in tests/fixtures/
claims/), one per language."""


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
def test_a_forwarded_clinic_advert_gets_its_warning_signs_quoted(
    running: tuple[FakeTelegram, str], lang: str
) -> None:
    telegram, _ = running
    person = Person(telegram, 5100 + ["en", "es", "zh"].index(lang), lang)
    (answer,) = person.forwards(ADVERTS[lang])
    assert "90%" in answer["text"]  # the success-rate claim, quoted from the advert
    assert "15" in answer["text"] and "NCT" in answer["text"]  # price; what a real trial shows
    question = {"en": "is this legit??", "es": "¿es fiable?", "zh": "这可信吗？"}[lang]
    (follow_up,) = person.says(question)
    assert follow_up["text"] and follow_up["text"] != answer["text"]
    person.show()


def test_trial_numbers_and_links_are_answered_from_the_record(
    running: tuple[FakeTelegram, str],
) -> None:
    telegram, _ = running
    person = Person(telegram, 5200, "en")
    (card,) = person.says("NCT03545607")
    assert "NCT03545607" in card["text"] or "MultiStem" in card["text"] or buttons(card)
    (same,) = person.says("https://clinicaltrials.gov/study/NCT03545607?tab=history")
    assert same["text"] == card["text"]
    (unknown,) = person.says("what about NCT09999999")
    assert "NCT09999999" in unknown["text"] and "warning sign" in unknown["text"]
    person.show()


def test_media_mydata_and_an_open_question_that_gets_thanks(
    running: tuple[FakeTelegram, str],
) -> None:
    telegram, _ = running
    person = Person(telegram, 5300, "en")
    for kind in ("voice", "sticker", "photo"):
        (answer,) = person.sends_media(kind)
        assert "text" in answer["text"]
    person.says("/settings")
    person.presses("Set my time zone")
    (closed,) = person.says("thank you!")
    assert "stopped waiting" in closed["text"]
    person.says("/subscribe ischemic in Spain")
    text, document = person.says("/mydata", n=2)
    assert "Spain" in text["text"] and document["method"] == "sendDocument"

    chinese = Person(telegram, 5301, "zh")
    (help_text,) = chinese.says("/help")
    assert "/subscribe 缺血" in help_text["text"] or "/subscribe 出血" in help_text["text"]
    person.show()
