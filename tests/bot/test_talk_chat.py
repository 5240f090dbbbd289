"""Plain messages with the real bot over the fake Bot API: greetings, sentences read into a
proposed subscription that is only saved on Subscribe, miles, and typed distances."""

from __future__ import annotations

from typing import Any

from tests.bot.conftest import Bot

ANA = 1001
OHIO = 1002
ES = 1003
ZH = 1004


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


async def test_the_ohio_conversation(bot: Bot) -> None:
    (hello,) = await bot.says(OHIO, "hi")
    assert "stem-cell treatments for stroke" in hello["text"] and labels(hello) == ["Subscribe"]
    (proposal,) = await bot.says(
        OHIO, "i had a stroke 2 years ago are there stem cell trials near columbus ohio"
    )
    text = proposal["text"]
    assert "Any stroke" in text and "Columbus, Ohio, United States" in text
    assert "Stroke about 2 years ago: used to pick trials you could join" in text
    assert "Nothing is saved" in text
    assert labels(proposal) == ["Subscribe", "Change"]
    assert await bot.subscriptions(OHIO) == []  # nothing saved before the tap
    replies = await bot.presses(OHIO, "Subscribe")
    assert (
        "Subscribed" in replies[-1]["text"]
        and "within 300 km of Columbus, Ohio" in (replies[-1]["text"])
    )
    (sub,) = await bot.subscriptions(OHIO)
    assert sub.radius_km == 300 and sub.radius_unit == "km" and sub.point_country == "US"
    assert sub.lat is not None and abs(sub.lat - 39.96) < 0.1
    assert sub.stroke_date is not None and sub.birth_year is None  # stored on Subscribe
    chat = await bot.chat(OHIO)
    assert chat is not None and chat.pending is None


async def test_a_sentence_with_miles_and_an_age(bot: Bot) -> None:
    (proposal,) = await bot.says(
        OHIO, "I'm 68, ischemic stroke last year. Trials within 100 miles of Columbus, OH?"
    )
    assert "within 100 miles of Columbus, Ohio" in proposal["text"]
    assert "Stroke about 1 year ago, age 68: used to pick trials" in proposal["text"]
    await bot.presses(OHIO, "Subscribe")
    (sub,) = await bot.subscriptions(OHIO)
    assert sub.conditions == ["ischemic"]
    assert (sub.radius_km, sub.radius_unit) == (161, "mi")
    (listing,) = await bot.says(OHIO, "/list")
    assert "within 100 miles of Columbus, Ohio" in listing["text"]


async def test_typed_shortcut_with_a_state_and_miles(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/subscribe Columbus, OH 100 mi")
    assert "Subscribed" in reply["text"]
    assert "within 100 miles of Columbus, Ohio, United States" in reply["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.radius_unit == "mi" and sub.radius_km == 161


async def test_spanish_sentence_near_sevilla(bot: Bot) -> None:
    (proposal,) = await bot.says(ES, "ictus hemorrágico cerca de Sevilla", language_code="es")
    assert "Sevilla" in proposal["text"] and "España" in proposal["text"]
    assert labels(proposal) == ["Suscribirme", "Cambiar"]
    replies = await bot.presses(ES, "Suscribirme")
    assert "Sevilla" in replies[-1]["text"]
    (sub,) = await bot.subscriptions(ES)
    assert sub.conditions == ["intracerebral_hemorrhage"] and sub.point_country == "ES"


async def test_chinese_without_spaces(bot: Bot) -> None:
    (proposal,) = await bot.says(ZH, "缺血中国", language_code="zh-hans")
    assert "中国" in proposal["text"] and labels(proposal) == ["订阅", "修改"]
    await bot.presses(ZH, "订阅")
    (sub,) = await bot.subscriptions(ZH)
    assert sub.conditions == ["ischemic"] and sub.countries == ["CN"]
    (reply,) = await bot.says(ZH, "/subscribe 出血北京附近100公里")
    assert "北京" in reply["text"] or "Beijing" in reply["text"]
    subs = await bot.subscriptions(ZH)
    assert subs[1].conditions == ["intracerebral_hemorrhage"] and subs[1].radius_km == 100


async def test_typing_a_distance_after_tapping_distance(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any near Madrid 300 km")
    await bot.says(ANA, "/list")
    (ask,) = await bot.presses(ANA, "Distance 1")
    assert "How far" in ask["text"] and "100 miles" in ask["text"]
    (done,) = await bot.says(ANA, "160")
    assert "Updated" in done["text"] and "within 160 km of Madrid" in done["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.radius_km == 160 and sub.radius_unit == "km"
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Distance 1")
    (done,) = await bot.says(ANA, "100 miles")
    assert "within 100 miles of Madrid" in done["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert (sub.radius_km, sub.radius_unit) == (161, "mi")
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Distance 1")
    (refused,) = await bot.says(ANA, "5000 km")
    assert "not a distance I can use" in refused["text"]


async def test_typed_miles_in_the_button_flow(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    await bot.presses(ANA, "Any stroke")
    await bot.presses(ANA, "Near a place")
    (ask,) = await bot.says(ANA, "Madrid")
    assert "How far" in ask["text"]
    (done,) = await bot.says(ANA, "100 miles")
    assert "within 100 miles of Madrid" in done["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert (sub.radius_km, sub.radius_unit) == (161, "mi")


async def test_change_opens_the_buttons_with_the_place_kept(bot: Bot) -> None:
    await bot.says(OHIO, "stroke trials within 100 miles of columbus ohio")
    (kind,) = await bot.presses(OHIO, "Change")
    assert "Ischemic stroke (a clot)" in labels(kind)
    (where,) = await bot.presses(OHIO, "Ischemic stroke")
    assert labels(where)[0].startswith("Near Columbus, Ohio")
    (far,) = await bot.presses(OHIO, "Near Columbus")
    assert "60 mi" in labels(far)
    await bot.presses(OHIO, "60 mi")
    (sub,) = await bot.subscriptions(OHIO)
    assert sub.conditions == ["ischemic"] and sub.radius_unit == "mi" and sub.radius_km == 97


async def test_a_shared_name_asks_which_with_buttons(bot: Bot) -> None:
    (choose,) = await bot.says(OHIO, "any stroke trials near Columbus?")
    assert "Did you mean" in choose["text"]
    assert any("Georgia" in label for label in labels(choose))
    (proposal,) = await bot.presses(OHIO, "Columbus, Georgia")
    assert "Columbus, Georgia" in proposal["text"]
    await bot.presses(OHIO, "Subscribe")
    (sub,) = await bot.subscriptions(OHIO)
    assert sub.place_name and "Georgia" in sub.place_name


async def test_near_me_asks_for_a_pin(bot: Bot) -> None:
    (ask,) = await bot.says(ANA, "stroke trials near me")
    assert ask["reply_markup"]["keyboard"][0][0]["request_location"] is True
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_shares_location(ANA, 40.4168, -3.7038)
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) >= before + 2)
    assert "Madrid" in bot.fake.last_text(ANA) and "Nothing is saved" in bot.fake.last_text(ANA)
    assert await bot.subscriptions(ANA) == []
    await bot.presses(ANA, "Subscribe")
    (sub,) = await bot.subscriptions(ANA)
    assert sub.place_name and "Madrid" in sub.place_name


async def test_what_it_cannot_read_gets_buttons_not_a_subscription(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "what is a stem cell?")
    assert "could not read" in reply["text"] and labels(reply) == ["Subscribe", "Help"]
    (helped,) = await bot.presses(ANA, "Help")
    assert "/subscribe" in helped["text"]
    (reply,) = await bot.says(ANA, "what's the weather in London")
    assert "London" in reply["text"] and labels(reply) == ["Subscribe", "Help"]
    (thanks,) = await bot.says(ANA, "thank you!")
    assert "welcome" in thanks["text"]
    assert await bot.subscriptions(ANA) == []


async def test_an_older_proposal_cannot_be_confirmed(bot: Bot) -> None:
    (first,) = await bot.says(ANA, "stroke trials in Spain")
    await bot.says(ANA, "stroke trials in France")
    old = next(
        b["callback_data"]
        for row in first["reply_markup"]["inline_keyboard"]
        for b in row
        if b["text"] == "Subscribe"
    )
    answers = len(bot.fake.callback_answers)
    bot.fake.user_presses(ANA, first, old)  # the Subscribe button on the first proposal
    await bot.fake.wait_for_async(
        lambda: len(bot.fake.callback_answers) > answers, timeout=10, what="button answer"
    )
    assert "out of date" in bot.fake.callback_answers[-1].get("text", "")
    assert await bot.subscriptions(ANA) == []
    await bot.presses(ANA, "Subscribe")
    (sub,) = await bot.subscriptions(ANA)
    assert sub.countries == ["FR"]
