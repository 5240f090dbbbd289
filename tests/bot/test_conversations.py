"""Conversations with the real bot over the fake Bot API: what users type and tap, what they
read back, and what ends up in the database."""

from __future__ import annotations

import asyncio
import json
import time

from sqlalchemy import inspect, text

from storage import chats
from storage.tables import metadata
from tests.bot.conftest import Bot

ANA = 1001  # a private chat (the chat id is the user's id)
GROUP = -1002003004005  # a supergroup, beyond 32 bits


async def test_start_explains_and_offers_one_tap(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/start")
    assert "stem-cell treatments for stroke" in reply["text"]
    assert "Not medical advice" in reply["text"] and "approved for stroke" in reply["text"]
    assert [b["text"] for row in reply["reply_markup"]["inline_keyboard"] for b in row] == [
        "Subscribe"
    ]
    commands = {c["command"] for c in bot.fake.commands()}
    assert {"subscribe", "list", "recent", "settings", "forget", "mydata"} <= commands
    assert bot.fake.commands(language_code="es")  # a menu in Spanish too


async def test_spanish_user_is_answered_in_spanish(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/start", language_code="es-ES")
    assert "ensayos clínicos" in reply["text"] and "no es un consejo médico" in reply["text"]
    chat = await bot.chat(ANA)
    assert chat is not None and chat.language == "es"


async def test_help_about_and_unknown_command(bot: Bot) -> None:
    (help_reply,) = await bot.says(ANA, "/help")
    assert "/subscribe ischemic in Spain, Portugal" in help_reply["text"]
    (about,) = await bot.says(ANA, "/about")
    assert "ClinicalTrials.gov" in about["text"] and "the test team" in about["text"]
    (unknown,) = await bot.says(ANA, "/frobnicate")
    assert "/help" in unknown["text"]


async def test_typed_shortcut_with_countries(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/subscribe ischemic in Spain, Portugal")
    assert (
        "Subscribed" in reply["text"] and "Spain" in reply["text"] and "Portugal" in reply["text"]
    )
    assert "match" in reply["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.conditions == ["ischemic"] and sub.countries == ["ES", "PT"]
    assert sub.radius_km is None


async def test_typed_shortcut_near_a_city(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/subscribe hemorrhagic near Madrid 300 km")
    assert "within 300 km of Madrid" in reply["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.conditions == ["intracerebral_hemorrhage"] and sub.radius_km == 300
    assert sub.lat is not None and abs(sub.lat - 40.42) < 0.1 and sub.point_country == "ES"


async def test_synonyms_and_coordinates(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe ICH near 40.4168,-3.7038 50 km")
    await bot.says(ANA, "/subscribe ischaemic in Türkiye")
    await bot.says(ANA, "/subscribe SAH in Republic of Korea")
    await bot.says(ANA, "/subscribe all in USA")
    subs = await bot.subscriptions(ANA)
    assert [s.conditions for s in subs] == [
        ["intracerebral_hemorrhage"],
        ["ischemic"],
        ["subarachnoid_hemorrhage"],
        ["intracerebral_hemorrhage", "ischemic", "subarachnoid_hemorrhage"],
    ]
    assert subs[0].radius_km == 50 and subs[1].countries == ["TR"]
    assert subs[2].countries == ["KR"] and subs[3].countries == ["US"]


async def test_button_flow_with_a_location_pin(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe")
    (where,) = await bot.presses(ANA, "Ischemic stroke")
    assert "Where" in where["text"]
    (ask,) = await bot.presses(ANA, "Near a place")
    keyboard = ask["reply_markup"]["keyboard"]
    assert keyboard[0][0]["request_location"] is True
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_shares_location(ANA, 40.4168, -3.7038)
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) > before)
    assert "How far" in bot.fake.last_text(ANA)
    replies = await bot.presses(ANA, "300 km", n=1)
    assert any("Subscribed" in r["text"] for r in replies)
    (sub,) = await bot.subscriptions(ANA)
    assert sub.radius_km == 300 and sub.conditions == ["ischemic"]
    assert sub.place_name and "Madrid" in sub.place_name


async def test_a_pin_alone_creates_then_moves_a_radius_subscription(bot: Bot) -> None:
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_shares_location(ANA, 41.3874, 2.1686)  # Barcelona
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) >= before + 3)
    (sub,) = await bot.subscriptions(ANA)
    assert sub.radius_km == 300 and sub.place_name and "Barcelona" in sub.place_name
    await bot.presses(ANA, "100 km", n=1)
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_shares_location(ANA, 37.3891, -5.9845)  # Seville
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) >= before + 3)
    (moved,) = await bot.subscriptions(ANA)
    assert moved.id == sub.id and moved.radius_km == 100
    assert moved.place_name and "Sevill" in moved.place_name


async def test_a_name_many_places_share_asks_which(bot: Bot) -> None:
    (choose,) = await bot.says(ANA, "/subscribe any near Valencia 100 km")
    labels = [b["text"] for row in choose["reply_markup"]["inline_keyboard"] for b in row]
    assert any("Spain" in label for label in labels) and any(
        "Venezuela" in label for label in labels
    )
    venezuela = next(label for label in labels if "Venezuela" in label)
    await bot.presses(ANA, venezuela)
    (sub,) = await bot.subscriptions(ANA)
    assert sub.point_country == "VE" and sub.radius_km == 100


async def test_nonsense_gets_a_clear_message_and_changes_nothing(bot: Bot) -> None:
    (country,) = await bot.says(ANA, "/subscribe ischemic in Narnia")
    assert (
        'country "Narnia"' in country["text"] and "/subscribe ischemic in Spain" in country["text"]
    )
    (typo,) = await bot.says(ANA, "/subscribe ischemic in Spian")
    assert "Did you mean" in typo["text"] and "Spain" in typo["text"]
    (place,) = await bot.says(ANA, "/subscribe any near Xyzzyville")
    assert 'place called "Xyzzyville"' in place["text"]
    (radius,) = await bot.says(ANA, "/subscribe any near Madrid 5000 km")
    assert "1 to 2000" in radius["text"]
    (kind,) = await bot.says(ANA, "/subscribe migraine")
    assert 'stroke type "migraine"' in kind["text"]
    assert await bot.subscriptions(ANA) == []


async def test_caregiver_keeps_labelled_subscriptions(bot: Bot) -> None:
    (mum,) = await bot.says(ANA, "/subscribe Mum: hemorrhagic in Spain")
    assert "<b>Mum</b>" in mum["text"]
    await bot.says(ANA, "/subscribe any near Sevilla 100 km")
    await bot.presses(ANA, "Add a name")
    await bot.says(ANA, "Dad")
    (listing,) = await bot.says(ANA, "/list")
    assert "1. <b>Mum</b>: Bleeding in the brain · in Spain" in listing["text"]
    assert "2. <b>Dad</b>: Any stroke · within 100 km of Sevill" in listing["text"]


async def test_list_remove_unsubscribe_pause_resume(bot: Bot) -> None:
    for line in ("ischemic in Spain", "hemorrhagic in France", "any in Italy"):
        await bot.says(ANA, f"/subscribe {line}")
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Remove 2")
    assert [s.countries for s in await bot.subscriptions(ANA)] == [["ES"], ["IT"]]
    (done,) = await bot.says(ANA, "/unsubscribe 2")
    assert "Removed 1 subscription" in done["text"]
    (usage,) = await bot.says(ANA, "/unsubscribe 7")
    assert "/unsubscribe N" in usage["text"]
    await bot.says(ANA, "/pause")
    chat = await bot.chat(ANA)
    assert chat is not None and chat.paused
    await bot.says(ANA, "/resume")
    chat = await bot.chat(ANA)
    assert chat is not None and not chat.paused
    await bot.says(ANA, "/unsubscribe all")
    assert await bot.subscriptions(ANA) == []


async def test_recent_lists_matching_trials(bot: Bot) -> None:
    (none,) = await bot.says(ANA, "/recent")
    assert "no subscriptions" in none["text"].lower()
    (confirm,) = await bot.says(ANA, "/subscribe any in USA")
    assert "See them" in str(confirm["reply_markup"])
    (recent,) = await bot.says(ANA, "/recent")
    assert "match your subscriptions" in recent["text"]
    assert "NCT03545607" in str(recent["reply_markup"])  # MultiStem, recruiting in the US


async def test_place_names_carry_their_region(bot: Bot) -> None:
    (reply,) = await bot.says(ANA, "/subscribe any near Columbus, Ohio 100 km")
    assert "within 100 km of Columbus, Ohio, United States" in reply["text"]
    (sub,) = await bot.subscriptions(ANA)
    assert sub.place_name == "Columbus, Ohio, United States"
    async with bot.db.write() as session:  # a subscription stored before names had regions
        await chats.add_subscription(
            session, ANA, conditions=["ischemic"], lat=sub.lat, lon=sub.lon, radius_km=50,
            place_name="Columbus, United States", point_country="US",
        )  # fmt: skip
    (listing,) = await bot.says(ANA, "/list")
    line = "2. Ischemic stroke (a clot) · within 50 km of Columbus, Ohio, United States"
    assert line in listing["text"]


async def test_recent_does_not_give_a_distance_it_does_not_know(bot: Bot) -> None:
    """NR1's only US site (Stanford Health Center) has no city: it is in the country of a
    radius around Columbus, but how far is not known."""
    await bot.says(ANA, "/subscribe any near Columbus, Ohio 100 km")
    await bot.says(ANA, "/settings recruiting all")
    (recent,) = await bot.says(ANA, "/recent")
    (line,) = [line for line in recent["text"].splitlines() if "Neural Stem Cells" in line]
    assert line.endswith(", distance unknown)") and "km" not in line


async def test_forged_and_stale_buttons_change_nothing(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe ischemic in Spain")
    other = 2002
    await bot.says(other, "/subscribe any in France")
    (theirs,) = await bot.subscriptions(other)
    await bot.says(ANA, "/list")
    for data in (
        f"rm:{theirs.id}",
        "rm:999999",
        "zz:1",
        "sr:300",
        "sc:q",
        "st:lang:xx",
        "rm:1:2:3",
        "x" * 70,
        "",
        "sp:5",
        "fg:maybe",
    ):
        answer = await bot.press_data(ANA, data)
        text = answer.get("text", "")
        assert answer.get("show_alert") is True
        assert "out of date" in text or "no longer exists" in text, (data, text)
    assert len(await bot.subscriptions(ANA)) == 1 and len(await bot.subscriptions(other)) == 1


async def test_group_admins_only_and_command_suffix(bot: Bot) -> None:
    bot.fake.set_admins(GROUP, [77])
    (refused,) = await bot.says(
        GROUP, "/subscribe any in Spain", user_id=88, chat_title="Stroke club"
    )
    assert "Only group admins" in refused["text"]
    (done,) = await bot.says(
        GROUP, "/subscribe@trialbot_test_bot any in Spain", user_id=77, chat_title="Stroke club"
    )
    assert "Subscribed" in done["text"]
    (listing,) = await bot.says(GROUP, "/list@trialbot_test_bot", user_id=88)
    assert "in Spain" in listing["text"]
    answer = await bot.press_data(
        GROUP, listing["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    )
    assert "Only group admins" in answer.get("text", "")
    assert len(await bot.subscriptions(GROUP)) == 1
    chat = await bot.chat(GROUP)
    assert chat is not None and chat.type == "supergroup" and chat.chat_id == GROUP


async def test_group_flow_uses_forced_replies(bot: Bot) -> None:
    bot.fake.set_admins(GROUP, [77])
    await bot.says(GROUP, "/subscribe", user_id=77)
    await bot.presses(GROUP, "Bleeding in the brain", user_id=77)
    (ask,) = await bot.presses(GROUP, "In some countries", user_id=77)
    assert ask["reply_markup"].get("force_reply") is True
    checks = len(bot.fake.calls_to("getChatMember"))
    bot.fake.user_sends(GROUP, "Spain, Portugal", user_id=88)  # not an admin: ignored
    await bot.fake.wait_for_async(lambda: len(bot.fake.calls_to("getChatMember")) > checks)
    assert await bot.subscriptions(GROUP) == []
    await bot.says(GROUP, "Spain, Portugal", user_id=77)
    (sub,) = await bot.subscriptions(GROUP)
    assert sub.countries == ["ES", "PT"] and sub.conditions == ["intracerebral_hemorrhage"]


async def test_settings_buttons_and_shortcuts(bot: Bot) -> None:
    await bot.says(ANA, "/settings")
    (spanish,) = await bot.presses(ANA, "Español")
    assert "Ajustes" in spanish["text"]
    await bot.says(ANA, "/settings avisos daily 9")
    await bot.says(ANA, "/settings zona Madrid")
    await bot.says(ANA, "/settings borderline on")
    await bot.says(ANA, "/settings recruiting all")
    chat = await bot.chat(ANA)
    assert chat is not None
    assert (chat.language, chat.delivery, chat.digest_hour, chat.timezone) == (
        "es",
        "daily",
        9,
        "Europe/Madrid",
    )
    assert chat.include_borderline and chat.include_not_recruiting
    (bad,) = await bot.says(ANA, "/settings zona Xyzzyville")
    assert "Xyzzyville" in bad["text"]
    await bot.says(ANA, "/settings")
    await bot.presses(ANA, "Poner mi zona horaria")
    before = len(bot.fake.sent_to(ANA))
    bot.fake.user_shares_location(ANA, 35.6762, 139.6503)  # Tokyo
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) > before)
    chat = await bot.chat(ANA)
    assert chat is not None and chat.timezone == "Asia/Tokyo"
    assert await bot.subscriptions(ANA) == []  # a pin for the time zone is not a subscription


async def test_mydata_and_forget_leave_no_row_about_the_chat(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Mum: ischemic in Spain")
    await bot.says(ANA, "/settings language es")
    (readable, file) = await bot.says(ANA, "/mydata", n=2)
    assert "<b>Mum</b>" in readable["text"] and file["method"] == "sendDocument"
    dump = json.loads(file["document"].data)
    assert dump["subscriptions"][0]["label"] == "Mum" and dump["subscriptions"][0]["countries"] == [
        "ES"
    ]
    await bot.says(ANA, "/forget")
    await bot.presses(ANA, "Sí, borrarlo todo")
    assert "borrado" in bot.fake.last_text(ANA)
    async with bot.db.read() as session:
        conn = await session.connection()
        tables = await conn.run_sync(
            lambda c: {
                t: [col["name"] for col in inspect(c).get_columns(t)]
                for t in inspect(c).get_table_names()
            }
        )
        for table in metadata.sorted_tables:
            assert table.name in tables
        leftovers = {}
        for name, columns in tables.items():
            if "chat_id" in columns:
                count = (
                    await conn.execute(
                        text(f'SELECT count(*) FROM "{name}" WHERE chat_id = :c'), {"c": ANA}
                    )
                ).scalar()
                leftovers[name] = count
    assert leftovers and all(count == 0 for count in leftovers.values()), leftovers


async def test_blocking_the_bot_deactivates_the_chat(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any in Spain")
    bot.fake.block(ANA)
    await bot.fake.wait_for_async(lambda: not bot.fake.pending_updates, timeout=5)
    for _ in range(50):
        chat = await bot.chat(ANA)
        if chat is not None and not chat.active:
            break
        await asyncio.sleep(0.05)
    assert chat is not None and not chat.active


async def test_a_throttled_reply_is_retried(bot: Bot) -> None:
    bot.fake.fail(
        method="sendMessage", chat_id=ANA, status=429, parameters={"retry_after": 1}, times=1
    )
    (reply,) = await bot.says(ANA, "/help")
    assert "What you can do" in reply["text"]


async def test_a_flooding_chat_is_slowed_not_served_first(bot: Bot) -> None:
    flooder, calm = 3003, 4004
    for _ in range(40):
        bot.fake.user_sends(flooder, "/help")
    started = time.monotonic()
    await bot.says(calm, "/help")
    calm_wait = time.monotonic() - started
    await asyncio.sleep(1.0)
    flooded = len(bot.fake.sent_to(flooder))
    assert calm_wait < 3.0
    assert flooded < 20  # burst served, the rest slowed down or dropped
