"""Conversation hygiene (issue 13), against the fake Bot API with the real bot and database:
commands and unreadable answers close an open step, "Did you mean" has buttons, places are
named in the reader's language with their region, /mydata is readable with a JSON file,
media gets a one-line answer, and every language's examples are in that language."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from bot.handlers.settings import _parse
from bot.i18n import LANGUAGES, translator
from bot.parsing import ParseProblem, parse_subscribe
from storage import outbox
from storage.tables import TrialRow, TrialVersionRow
from tests.bot.conftest import Bot

ANA = 1001
GROUP = -1002003004005
LANG_CODES = {"en": "en", "es": "es-ES", "zh": "zh-hans"}


def labels(message: dict[str, object]) -> list[str]:
    markup = message.get("reply_markup") or {}
    assert isinstance(markup, dict)
    return [b["text"] for row in markup.get("inline_keyboard", []) for b in row]


# -- 1. a command or an unreadable answer closes the open step ------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_thank_you_after_the_timezone_question_closes_it(bot: Bot, lang: str) -> None:
    t = translator(lang)
    await bot.says(ANA, "/settings", language_code=LANG_CODES[lang])
    await bot.presses(ANA, t("settings.button.timezone"))
    (closed,) = await bot.says(ANA, "thank you!")
    assert closed["text"] == t("step.closed.timezone", value="thank you!")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None and chat.timezone == "UTC"
    # Nothing is waiting any more: the next text is a new message, not a time zone.
    (after,) = await bot.says(ANA, "thanks again")
    assert "time zone" not in after["text"] and after["text"] == t("talk.welcome")


async def test_a_typed_command_closes_the_open_step(bot: Bot) -> None:
    await bot.says(ANA, "/settings")
    await bot.presses(ANA, "Set my time zone")
    await bot.says(ANA, "/settings timezone Madrid")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None and chat.timezone == "Europe/Madrid"
    (reply,) = await bot.says(ANA, "thank you!")
    assert "time zone" not in reply["text"]
    # Any command, not only the one that asked: /help in the middle of /subscribe.
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Any stroke")
    await bot.presses(ANA, "Near a place")
    await bot.says(ANA, "/help")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None
    (reply,) = await bot.says(ANA, "Madrid")  # a new message now: a proposal, not an answer
    assert "How far" not in reply["text"] and "Nothing is saved until you tap" in reply["text"]
    assert await bot.subscriptions(ANA) == []


async def test_a_members_command_leaves_the_admins_step_open_in_a_group(bot: Bot) -> None:
    bot.fake.set_admins(GROUP, [77])
    await bot.says(GROUP, "/subscribe", user_id=77, chat_title="Stroke club")
    await bot.presses(GROUP, "Any stroke", user_id=77)
    await bot.presses(GROUP, "In some countries", user_id=77)
    await bot.says(GROUP, "/help", user_id=88)
    chat = await bot.chat(GROUP)
    assert chat is not None and chat.pending is not None
    await bot.says(GROUP, "/help", user_id=77)
    chat = await bot.chat(GROUP)
    assert chat is not None and chat.pending is None


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_an_unknown_place_with_nothing_close_closes_the_step(bot: Bot, lang: str) -> None:
    t = translator(lang)
    await bot.says(ANA, "/subscribe", language_code=LANG_CODES[lang])
    await bot.presses(ANA, t("cond.any"))
    await bot.presses(ANA, t("where.near"))
    (closed,) = await bot.says(ANA, "ok thanks bye")
    assert closed["text"] == t("step.closed.place", place="ok thanks bye")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None
    assert await bot.subscriptions(ANA) == []


# -- 2. "Did you mean" and same-name places offer buttons, with regions ---------------------


async def test_did_you_mean_has_a_button_per_place_and_none_of_these(bot: Bot) -> None:
    (offer,) = await bot.says(ANA, "/subscribe any near Madird 100 km")
    assert "Did you mean" in offer["text"]
    buttons = labels(offer)
    assert "Madrid, Spain" in buttons and buttons[-1] == "None of these"
    (created,) = await bot.presses(ANA, "Madrid, Spain")
    assert "Subscribed" in created["text"] and "Madrid" in created["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.radius_km == 100 and sub.point_country == "ES"


async def test_none_of_these_asks_again_and_a_typed_place_still_answers(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Any stroke")
    await bot.presses(ANA, "Near a place")
    (offer,) = await bot.says(ANA, "Madird")
    assert "None of these" in labels(offer)
    (again,) = await bot.presses(ANA, "None of these")
    assert "type the city again" in again["text"]
    (ask_radius,) = await bot.says(ANA, "columbus ohio")
    assert "Columbus, Ohio, United States" in ask_radius["text"]


async def test_same_name_places_are_shown_with_their_region(bot: Bot) -> None:
    (choose,) = await bot.says(ANA, "/subscribe any near Columbus 100 km")
    buttons = labels(choose)
    assert "Columbus, Ohio, United States" in buttons
    assert "Columbus, Georgia, United States" in buttons and buttons[-1] == "None of these"
    await bot.presses(ANA, "Columbus, Georgia, United States")
    (sub,) = await bot.subscriptions(ANA)
    assert sub.lat is not None and 32 < sub.lat < 33  # Georgia's, not Ohio's


async def test_timezone_of_a_shared_name_asks_which_with_buttons(bot: Bot) -> None:
    (choose,) = await bot.says(ANA, "/settings timezone Columbus")
    buttons = labels(choose)
    assert "Columbus, Mississippi, United States" in buttons and "None of these" in buttons
    await bot.presses(ANA, "Columbus, Mississippi, United States")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.timezone == "America/Chicago"
    (offer,) = await bot.says(ANA, "/settings timezone Madird")
    assert "Madrid, Spain" in labels(offer)
    await bot.presses(ANA, "Madrid, Spain")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.timezone == "Europe/Madrid"


# -- 3. place names in the reader's language ------------------------------------------------


async def test_a_place_is_named_in_the_readers_language_not_the_stored_one(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any near columbus ohio 100 km")
    (listing,) = await bot.says(ANA, "/list")
    assert "Columbus, Ohio, United States" in listing["text"]
    await bot.says(ANA, "/settings language zh")
    (listing,) = await bot.says(ANA, "/list")
    assert "哥伦布, 俄亥俄州, 美国" in listing["text"]
    await bot.says(ANA, "/settings language es")
    (listing,) = await bot.says(ANA, "/list")
    assert "Columbus, Ohio, Estados Unidos" in listing["text"]


async def test_a_place_typed_in_chinese_reads_in_english_for_an_english_reader(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe 全部 附近 北京 100 km", language_code="zh-hans")
    (listing,) = await bot.says(ANA, "/list")
    assert "北京, 中国" in listing["text"] and "Beijing" not in listing["text"]
    await bot.says(ANA, "/settings language en")
    (listing,) = await bot.says(ANA, "/list")
    assert "Beijing, China" in listing["text"] and "北京" not in listing["text"]


# -- 4. /mydata -----------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_mydata_is_readable_with_the_json_attached_and_queued_alerts(
    bot: Bot, lang: str
) -> None:
    t = translator(lang)
    await bot.says(ANA, "/subscribe Mum: ischemic in Spain", language_code=LANG_CODES[lang])
    (sub,) = await bot.subscriptions(ANA)
    async with bot.db.write() as session:
        trial = (await session.exec(select(TrialRow).order_by(TrialRow.id))).first()  # type: ignore[arg-type]
        assert trial is not None and trial.id is not None
        version = (
            await session.exec(select(TrialVersionRow).where(TrialVersionRow.trial_id == trial.id))
        ).first()
        assert version is not None and version.id is not None
        alert = outbox.AlertIn(ANA, trial.id, version.id, "new", [sub.id or 0], held=True)
        assert await outbox.enqueue(session, [alert]) == 1
    readable, attached = await bot.says(ANA, "/mydata", n=2)
    text = readable["text"]
    assert "<b>Mum</b>" in text and "{" not in text  # plain words, not JSON
    assert t.plural("mydata.queued", 1) in text and trial.registry_id in text
    assert attached["method"] == "sendDocument" and attached["document"].filename == "mydata.json"
    dump = json.loads(attached["document"].data)
    assert dump["subscriptions"][0]["label"] == "Mum"
    (queued,) = dump["alerts"]
    assert queued["registry_id"] == trial.registry_id and queued["unsent"] is True
    assert queued["status"] == "held"


# -- 5. media -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", ["voice", "sticker", "photo", "video", "document"])
async def test_media_gets_one_line_about_text(bot: Bot, lang: str, kind: str) -> None:
    await bot.says(ANA, "/help", language_code=LANG_CODES[lang])
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_sends_media(ANA, kind)
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) > before, what=kind)
    (answer,) = bot.fake.sent_to(ANA)[before:]
    assert answer["text"] == translator(lang)("media.text_only")
    assert "\n" not in answer["text"]


async def test_media_in_a_group_and_captioned_photos_get_no_answer(bot: Bot) -> None:
    await bot.says(GROUP, "/help", user_id=77, chat_title="Stroke club")
    bot.fake.user_sends_media(GROUP, "sticker", user_id=77)
    bot.fake.user_sends_media(ANA, "photo", caption="is this clinic legit?")
    await bot.says(ANA, "/help")  # updates are handled in order: the two above are done
    texts = [m["text"] for m in bot.fake.sent_to(ANA) + bot.fake.sent_to(GROUP)]
    assert translator("en")("media.text_only") not in texts


# -- 6. every language's examples are in that language and work ----------------------------

EXAMPLE = re.compile(r"<code>(/(?:subscribe|settings)\b[^<]*)</code>")
ENGLISH_WORDS = frozenset(
    [
        "in",
        "near",
        "any",
        "all",
        "ischemic",
        "hemorrhagic",
        "subarachnoid",
        "language",
        "alerts",
        "daily",
        "weekly",
        "instant",
        "timezone",
        "borderline",
        "recruiting",
        "on",
        "off",
        "hour",
        "day",
        "only",
    ]
)
EXAMPLE_KEYS = ("help.text", "sub.shortcut_help", "settings.usage", "step.closed.timezone")


def examples(lang: str) -> list[str]:
    t = translator(lang)
    found = [e for key in EXAMPLE_KEYS for e in EXAMPLE.findall(t._lookup(key, None))]
    assert len(found) >= 8, found
    return found


@pytest.mark.parametrize("lang", ["es", "zh"])
def test_every_example_is_in_its_language(lang: str) -> None:
    for example in examples(lang):
        words = example.replace(",", " ").replace(":", " ").lower().split()[1:]
        english = [w for w in words if w in ENGLISH_WORDS]
        assert not english, (lang, example, english)
        if lang == "zh":
            # Chinese words, numbers, units and coordinates only
            latin = [w for w in words if re.fullmatch(r"[a-z]+", w) and w != "km"]
            assert not latin, (example, latin)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_example_does_what_it_says(lang: str) -> None:
    for example in examples(lang):
        command, _, args = example.partition(" ")
        if command == "/subscribe":
            assert not isinstance(parse_subscribe(args), ParseProblem), example
        else:
            assert isinstance(_parse(args), dict), example


async def test_a_second_miss_after_did_you_mean_closes_the_step(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Any stroke")
    await bot.presses(ANA, "Near a place")
    (offer,) = await bot.says(ANA, "Madird")
    assert "Did you mean" in offer["text"]
    (closed,) = await bot.says(ANA, "Madird")
    assert closed["text"] == translator("en")("step.closed.place", place="Madird")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None
