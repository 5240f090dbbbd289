"""The person's profile in conversation, with the real bot over the fake Bot API: typed
clauses in /subscribe (three languages), the skippable follow-up questions, /list showing and
editing them, and "Could I join?" for a trial that fits, one that does not, and one whose
record is silent.

Seeded trials used (their facts, from the stored sample records):
- NCT03629275: 6 to 12 months after a stroke, aged 35 to 75, adults, a contact in the record;
- NCT03545607: 18 to 36 hours after a stroke (an acute trial);
- NCT01716481: the record says nothing about the window, ages or population, and no contact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.bot.conftest import Bot
from trialbot.profile import BUTTON_DAYS, parse_clauses

ANA = 2001
ES = 2002
ZH = 2003
FAM = 2004
BAD = 2005


def today() -> date:
    """The bot's clock in these tests is the system clock (UTC)."""
    return datetime.now(UTC).date()


def labels(message: dict[str, Any]) -> list[str]:
    return [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]


def months_ago(n: int) -> date:
    return parse_clauses(f"stroke {n} months ago", today()).stroke_date or today()


async def test_typed_clauses_in_three_languages(bot: Bot) -> None:
    (done,) = await bot.says(
        ANA, "/subscribe hemorrhagic near Sevilla 100 km stroke 18 months ago age 50"
    )
    assert "Subscribed" in done["text"] and "within 100 km of Sevilla" in done["text"]
    assert "About the person: stroke about 18 months ago · age 50" in done["text"]
    assert "Add time since stroke and age" not in labels(done)  # nothing left to offer
    (done,) = await bot.says(ANA, "/subscribe Dad: any stroke 2 years ago age 72")
    assert "<b>Dad</b>" in done["text"] and "stroke about 2 years ago · age 72" in done["text"]
    sevilla, dad = await bot.subscriptions(ANA)
    assert sevilla.conditions == ["intracerebral_hemorrhage"] and sevilla.radius_km == 100
    assert (sevilla.stroke_date, sevilla.birth_year) == (months_ago(18), today().year - 50)
    assert dad.label == "Dad" and dad.birth_year == today().year - 72
    assert dad.stroke_date == today().replace(year=today().year - 2) or today().day == 29

    (hecho,) = await bot.says(
        ES, "/subscribe isquémico España ictus hace 2 años edad 68", language_code="es"
    )
    assert "ictus hace unos 2 años · edad 68" in hecho["text"]
    (sub,) = await bot.subscriptions(ES)
    assert sub.countries == ["ES"] and sub.birth_year == today().year - 68

    (zh,) = await bot.says(
        ZH, "/subscribe 出血北京附近100公里 中风 2024年3月 年龄 55", language_code="zh"
    )
    assert "订阅" in zh["text"] or "北京" in zh["text"]
    (sub,) = await bot.subscriptions(ZH)
    assert sub.radius_km == 100 and sub.stroke_date == date(2024, 3, 15)
    assert sub.birth_year == today().year - 55


async def test_impossible_values_get_a_clear_message_and_store_nothing(bot: Bot) -> None:
    future = today().year + 2
    (reply,) = await bot.says(BAD, f"/subscribe any stroke {future}-01")
    assert "would be in the future" in reply["text"]
    (reply,) = await bot.says(BAD, "/subscribe any in Spain age 150")
    assert "not an age I can use" in reply["text"]
    assert await bot.subscriptions(BAD) == []


async def test_the_follow_up_questions_and_list_editing(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Any stroke")
    (created,) = await bot.presses(ANA, "Anywhere")
    assert "Add the time since the stroke and age" in created["text"]
    assert "Add time since stroke and age" in labels(created)
    (ask,) = await bot.presses(ANA, "Add time since stroke and age")
    assert "When was the stroke?" in ask["text"]
    assert labels(ask)[:6] == [
        "In the last week",
        "1-4 weeks ago",
        "1-6 months ago",
        "6-12 months ago",
        "1-2 years ago",
        "Over 2 years ago",
    ]
    assert "Skip" in labels(ask) and "Clear the stroke date and age" not in labels(ask)
    (age,) = await bot.presses(ANA, "6-12 months ago")
    assert "How old is the person?" in age["text"] and labels(age) == ["Skip"]
    (saved,) = await bot.says(ANA, "68")
    assert "Saved for" in saved["text"] and "stroke about 9 months ago · age 68" in saved["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.stroke_date == today() - timedelta(days=BUTTON_DAYS["year"])
    assert sub.birth_year == today().year - 68

    (listing,) = await bot.says(ANA, "/list")
    assert "Any stroke · anywhere · stroke about 9 months ago · age 68" in listing["text"].replace(
        "Anywhere", "anywhere"
    )
    assert "Stroke/age 1" in labels(listing)
    (ask,) = await bot.presses(ANA, "Stroke/age 1")
    assert "Clear the stroke date and age" in labels(ask)
    await bot.presses(ANA, "Skip")
    (same,) = await bot.presses(ANA, "Skip")
    assert "Nothing changed" in same["text"]
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Stroke/age 1")
    (age,) = await bot.says(ANA, "March 2024")  # typed instead of a button
    assert "How old" in age["text"]
    (refused,) = await bot.says(ANA, "200")
    assert "not an age I can use" in refused["text"]
    (saved,) = await bot.says(ANA, "70")
    (sub,) = await bot.subscriptions(ANA)
    assert (sub.stroke_date, sub.birth_year) == (date(2024, 3, 15), today().year - 70)
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Stroke/age 1")
    (cleared,) = await bot.presses(ANA, "Clear the stroke date and age")
    assert "Cleared" in cleared["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert (sub.stroke_date, sub.birth_year) == (None, None)
    (mine,) = await bot.says(ANA, "/list")
    assert "stroke about" not in mine["text"]


async def test_a_sentence_that_is_no_answer_closes_the_question(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any in Spain")
    await bot.presses(ANA, "Add time since stroke and age")
    replies = await bot.says(ANA, "thank you!", n=1)
    assert "stopped asking" in replies[0]["text"]
    chat = await bot.chat(ANA)
    assert chat is not None and chat.pending is None


async def test_the_mydata_text_shows_the_profile(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any stroke 2024-03 age 68")
    replies = await bot.says(ANA, "/mydata", n=2)
    assert f"stroke date 2024-03-15 · birth year {today().year - 68}" in replies[0]["text"]


async def test_could_i_join_fits_does_not_fit_and_silent(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any stroke 8 months ago age 60")
    (card,) = await bot.says(ANA, "/trial NCT03629275")
    assert "Could I join?" in labels(card)
    (answer,) = await bot.presses(ANA, "Could I join?")  # the profile knows both: no question
    text = answer["text"]
    assert "✅ Time since the stroke: about 8 months" in text and "this fits" in text
    assert "✅ Age: about 60. This study takes people aged 35 to 75: this fits." in text
    assert "✅ This study is for adults: this fits." in text
    assert "Only the study team can say whether you can join." in text
    assert "Contact in the record:" in text
    assert "eligible" not in text.lower()
    await bot.fake.wait_for_async(
        lambda: "Could I join?" in labels(bot.fake.message(ANA, card["message_id"]))
    )

    await bot.says(ANA, "/trial NCT03545607")
    (answer,) = await bot.presses(ANA, "Could I join?")
    assert "❌ Time since the stroke: about 8 months" in answer["text"]
    assert "this does not fit" in answer["text"]
    assert "Only the study team can say whether you can join." in answer["text"]

    await bot.says(ANA, "/trial NCT01716481")
    (answer,) = await bot.presses(ANA, "Could I join?")
    text = answer["text"]
    assert "the record does not say how long after a stroke" in text.lower()
    assert "The record does not say what ages it takes." in text
    assert "The record gives no contact" in text
    assert "✅" not in text and "❌" not in text


async def test_could_i_join_asks_only_what_is_missing_and_saves_it(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any stroke 8 months ago")
    await bot.says(ANA, "/trial NCT03629275")
    (ask,) = await bot.presses(ANA, "Could I join?")
    assert "How old is the person?" in ask["text"]  # the stroke is known: not asked
    (answer,) = await bot.says(ANA, "80")
    assert (
        "❌ Age: about 80. This study takes people aged 35 to 75: this does not fit."
        in (answer["text"])
    )
    assert "Saved for" in answer["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.birth_year == today().year - 80


async def test_could_i_join_in_spanish_and_chinese_without_a_subscription(bot: Bot) -> None:
    await bot.says(ES, "/trial NCT03629275", language_code="es")
    (ask,) = await bot.presses(ES, "¿Podría participar?")
    assert "¿Cuándo fue el ictus?" in ask["text"]
    await bot.presses(ES, "Hace 6-12 meses")
    (answer,) = await bot.says(ES, "60")
    assert "esto encaja" in answer["text"]
    assert "Solo el equipo del estudio puede decir si puede participar." in answer["text"]
    assert await bot.subscriptions(ES) == []  # no alert: nothing to save into

    await bot.says(ZH, "/trial NCT03629275", language_code="zh")
    await bot.presses(ZH, "我能参加吗？")
    await bot.presses(ZH, "跳过")
    (answer,) = await bot.presses(ZH, "跳过")
    assert "卒中后时间：未提供" in answer["text"] and "年龄：未提供" in answer["text"]
    assert "只有研究团队才能判断您能否参加。" in answer["text"]


async def test_could_i_join_asks_whom_when_the_chat_has_several(bot: Bot) -> None:
    await bot.says(FAM, "/subscribe Dad: any stroke 8 months ago age 72")
    await bot.says(FAM, "/subscribe Mum: any stroke 10 months ago")
    await bot.says(FAM, "/trial NCT03629275")  # both match: the card is for both of them
    (which,) = await bot.presses(FAM, "Could I join?")
    assert "Whom is this for?" in which["text"]
    assert labels(which) == ["Dad", "Mum", "Someone else (nothing saved)"]
    (ask,) = await bot.presses(FAM, "Mum")
    assert "How old is the person?" in ask["text"]  # Mum's age is not known yet
    (answer,) = await bot.says(FAM, "66")
    assert "✅ Time since the stroke: about 10 months" in answer["text"]
    assert "✅ Age: about 66" in answer["text"] and "Saved for <b>Mum</b>" in answer["text"]
    await bot.says(FAM, "/trial NCT03545607")  # an acute trial: neither matches
    (which,) = await bot.presses(FAM, "Could I join?")
    (answer,) = await bot.presses(FAM, "Dad")
    assert "❌ Time since the stroke: about 8 months" in answer["text"]
