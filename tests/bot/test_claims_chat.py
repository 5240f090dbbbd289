"""Conversations about claims and trial numbers, against the fake Bot API and a fake
ClinicalTrials.gov: a forwarded advert, "is this legit??", a bare NCT number, its registry
link, a number no registry knows, a photo with a caption; in English, Spanish and Chinese."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.application import build_application
from bot.handlers.start import set_commands
from storage.db import Database
from tests.bot.conftest import Bot, seed_trials
from tests.conftest import CTGOV, load_json
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.telegram_server import TOKEN, FakeTelegram
from trialbot.settings import load_settings

ADVERT = (
    "Stem cell therapy in India for post-stroke recovery, 90% success, $15,000 package, book now"
)
NOT_STORED = "NCT00763412"  # a recorded study the classifier rejects: only the registry has it


@pytest.fixture
def ctgov() -> Iterator[FakeCtgov]:
    with FakeCtgov(studies=[load_json(CTGOV / "studies" / f"{NOT_STORED}.json")]) as fake:
        yield fake


@pytest.fixture
async def bot(db: Database, ctgov: FakeCtgov) -> AsyncIterator[Bot]:
    with FakeTelegram(enforce_limits=False) as fake:
        settings = load_settings(
            telegram_bot_token=TOKEN,
            telegram_api_base_url=fake.base_url,
            database_url=db.url,
            operator_contact="the test team",
            ctgov_api_url=ctgov.base_url,
            ctis_enabled=False,
            isrctn_enabled=False,
            ictrp_enabled=False,
        )
        app = build_application(settings, db)
        await seed_trials(db)
        async with app:
            await set_commands(app)
            await app.start()
            assert app.updater is not None
            await app.updater.start_polling(poll_interval=0, timeout=1)
            yield Bot(fake, db, app)
            await app.updater.stop()
            await app.stop()


async def _wait(bot: Bot, chat: int, before: int, n: int = 1) -> list[str]:
    sent = await bot.fake.wait_for_async(
        lambda: len(bot.fake.sent_to(chat)) >= before + n and bot.fake.sent_to(chat),
        timeout=15,
        what="claims answer",
    )
    return [m["text"] for m in sent[before:]]


async def test_a_forwarded_advert_gets_its_warning_signs_quoted_then_is_this_legit(
    bot: Bot,
) -> None:
    chat = 7101
    before = len(bot.fake.sent_to(chat))
    bot.fake.user_forwards(chat, ADVERT, from_channel="Stem Cell Travel Deals")
    (answer,) = await _wait(bot, chat, before)
    assert "It offers a treatment" in answer
    assert "Promises of success or cure" in answer and "90% success" in answer
    assert "You pay (price, package, financing)" in answer and "$15,000 package" in answer
    assert "Pushes you to decide fast" in answer and "No trial registration number" in answer
    assert "This looks like an offer of an unproven treatment" in answer
    assert "Questions to ask" in answer and "I only understand commands" not in answer
    (follow,) = [m["text"] for m in await bot.says(chat, "is this legit??")]
    assert "About the text you sent just before" in follow
    assert "This looks like an offer of an unproven treatment" in follow


async def test_is_this_legit_with_the_text_pasted_in_spanish(bot: Bot) -> None:
    chat = 7102
    text = (
        "¿es esto legítimo? Dice: Terapia con células madre en Cancún, 85% de los pacientes "
        "mejoran, paquete con hotel, reserve ahora"
    )
    (answer,) = [m["text"] for m in await bot.says(chat, text, language_code="es")]
    assert "Señales de alarma" in answer and "85% de los pacientes" in answer
    assert "Viaje organizado" in answer and "Preguntas que hacer" in answer


async def test_is_this_legit_alone_asks_for_the_text(bot: Bot) -> None:
    (answer,) = [m["text"] for m in await bot.says(7103, "is this legit??")]
    assert "Forward me the message" in answer and "Questions to ask" in answer


async def test_a_bare_number_and_its_registry_link_get_the_stored_trial_card(bot: Bot) -> None:
    chat = 7104
    (card,) = await bot.says(chat, "/trial NCT03545607")
    (bare,) = await bot.says(chat, "NCT03545607")
    (link,) = await bot.says(chat, "https://clinicaltrials.gov/study/NCT03545607?tab=history")
    assert bare["text"] == card["text"] == link["text"]
    assert "NCT03545607" in bare["text"]


async def test_a_number_only_the_registry_has_and_one_no_registry_knows(
    bot: Bot, ctgov: FakeCtgov
) -> None:
    chat = 7105
    (live,) = [m["text"] for m in await bot.says(chat, f"what about {NOT_STORED}")]
    assert f"{NOT_STORED}:" in live and "as the registry says now" in live
    assert f"https://clinicaltrials.gov/study/{NOT_STORED}" in live
    (unknown,) = [m["text"] for m in await bot.says(chat, "NCT09999999")]
    assert "not in ClinicalTrials.gov" in unknown and "warning sign" in unknown
    assert any(NOT_STORED in str(request) for request in ctgov.requests)


async def test_a_photo_with_a_chinese_caption_is_checked_from_its_caption(bot: Bot) -> None:
    chat = 7106
    before = len(bot.fake.sent_to(chat))
    bot.fake.user_sends_photo(
        chat, "干细胞治疗中风，有效率高达90%，无副作用！名额有限，立即预约！", language_code="zh"
    )
    (answer,) = await _wait(bot, chat, before)
    assert "我只读了图片的说明文字" in answer
    assert "承诺有效或治愈" in answer and "有效率高达90%" in answer
    assert "声称没有风险" in answer and "可以问的问题" in answer


async def test_a_warning_article_is_not_flagged(bot: Bot) -> None:
    chat = 7107
    before = len(bot.fake.sent_to(chat))
    bot.fake.user_forwards(
        chat,
        "Beware of clinics that charge $20,000 for stem cells and promise a 90% success rate. "
        "Testimonials are not scientific evidence.",
    )
    (answer,) = await _wait(bot, chat, before)
    assert "It warns about unproven treatments" in answer
    assert "Warning signs</b>" not in answer and "No usual warning signs found" in answer


async def test_plain_chat_without_numbers_or_claims_is_left_to_the_next_reader(bot: Bot) -> None:
    (answer,) = await bot.says(7108, "thank you")
    assert "Warning signs" not in answer["text"] and "What this text says" not in answer["text"]
    assert "welcome" in answer["text"]  # the plain-message reader answered it
