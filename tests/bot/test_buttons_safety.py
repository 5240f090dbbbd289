"""Buttons that cannot act on the wrong thing, and pins that cannot move someone else's alert
(issue 13), as users meet them: over the fake Bot API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot import callbacks
from bot.handlers.common import Deps
from bot.handlers.privacy import CONFIRM_MINUTES
from storage.tables import utcnow
from tests.bot.conftest import Bot

ANA = 1001  # a daughter looking out for her parents
LI = 1003  # a Chinese-speaking user
MADRID = (40.4168, -3.7038)
SEVILLA = (37.3891, -5.9845)


async def pin(bot: Bot, chat_id: int, point: tuple[float, float], n: int) -> list[dict[str, Any]]:
    """The user shares a location; wait for `n` new bot messages."""
    before = len(bot.fake.sent_to(chat_id))
    bot.fake.user_shares_location(chat_id, *point)
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(chat_id)) >= before + n)
    return bot.fake.sent_to(chat_id)[before:]


async def keyboard_gone(bot: Bot, chat_id: int, message: dict[str, Any]) -> None:
    """Wait until the message has lost its buttons (the bot edits it after answering)."""
    await bot.fake.wait_for_async(
        lambda: not bot.fake.buttons(chat_id, message["message_id"]), what="keyboard removed"
    )


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]


# -- ids are never reused ------------------------------------------------------------------


async def test_an_old_remove_button_never_removes_a_newer_alert(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Dad: any in Spain")
    (old_list,) = await bot.says(ANA, "/list")
    await bot.says(ANA, "/unsubscribe all")
    await bot.says(ANA, "/subscribe Mum: any in Spain")
    await bot.presses(ANA, "Remove 1", n=0, message_id=old_list["message_id"])
    answer = bot.fake.callback_answers[-1]
    assert answer["show_alert"] and "no longer exists" in answer["text"]
    (mum,) = await bot.subscriptions(ANA)
    assert mum.label == "Mum"
    await keyboard_gone(bot, ANA, old_list)


# -- a tapped keyboard is retired ----------------------------------------------------------


async def test_a_tapped_question_loses_its_buttons_and_read_only_ones_stay(bot: Bot) -> None:
    (question,) = await bot.says(ANA, "/subscribe")
    (where,) = await bot.presses(ANA, "Ischemic stroke")
    await keyboard_gone(bot, ANA, question)
    await bot.presses(ANA, "Anywhere")
    await keyboard_gone(bot, ANA, where)
    (created,) = await bot.subscriptions(ANA)
    (confirm,) = await bot.says(ANA, "/subscribe any in USA")
    assert labels(confirm) == [
        "See them",
        'Add a name (e.g. "Mum")',
        "Add time since stroke and age",
    ]
    await bot.presses(ANA, "Add a name")
    await bot.fake.wait_for_async(
        lambda: labels(bot.fake.message(ANA, confirm["message_id"])) == ["See them"]
    )
    await bot.says(ANA, "Ana")
    assert [s.label for s in await bot.subscriptions(ANA)] == [None, "Ana"]
    assert created.id is not None


async def test_after_a_removal_the_old_list_cannot_be_tapped_again(bot: Bot) -> None:
    for line in ("ischemic in Spain", "hemorrhagic in France"):
        await bot.says(ANA, f"/subscribe {line}")
    (listing,) = await bot.says(ANA, "/list")
    (after,) = await bot.presses(ANA, "Remove 1")
    assert "Removed" in after["text"] and "1. Bleeding in the brain" in after["text"]
    await keyboard_gone(bot, ANA, listing)
    assert labels(after)[0] == "Remove 1"  # the new list, numbered afresh


# -- destructive confirmations expire ------------------------------------------------------


async def test_an_old_yes_delete_it_all_deletes_nothing_and_offers_to_ask_again(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Mum: ischemic in Spain")
    (question,) = await bot.says(ANA, "/forget")
    assert f"{CONFIRM_MINUTES} minutes" in question["text"]
    deps = bot.app.bot_data["deps"]
    assert isinstance(deps, Deps)
    later = utcnow() + timedelta(minutes=CONFIRM_MINUTES + 1)
    deps.clock = lambda: later  # the user comes back to the question later
    (expired,) = await bot.presses(ANA, "Yes, delete it all")
    assert "nothing was deleted" in expired["text"]
    assert len(await bot.subscriptions(ANA)) == 1
    await keyboard_gone(bot, ANA, question)
    (again,) = await bot.presses(ANA, "Ask me again")
    assert "cannot be undone" in again["text"]
    await bot.presses(ANA, "Yes, delete it all")
    assert "deleted" in bot.fake.last_text(ANA)
    assert await bot.subscriptions(ANA) == []


async def test_forged_or_pre_expiry_forget_buttons_delete_nothing_in_spanish(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Mamá: isquémico en España", language_code="es-ES")
    (question,) = await bot.says(ANA, "/forget")
    old = callbacks.stamp(utcnow() - timedelta(minutes=CONFIRM_MINUTES + 5))
    before = len(bot.fake.sent_to(ANA))
    await bot.press_data(ANA, f"fg:yes:{old}")
    await bot.fake.wait_for_async(lambda: len(bot.fake.sent_to(ANA)) > before)
    assert "no se ha borrado nada" in bot.fake.last_text(ANA)
    for data in ("fg:yes", f"fg:yes:{callbacks.stamp(utcnow() + timedelta(hours=1))}"):
        await bot.press_data(ANA, data)  # a button from before expiry existed; a future one
    assert len(await bot.subscriptions(ANA)) == 1
    await keyboard_gone(bot, ANA, question)


# -- a pin never moves a named alert without asking ----------------------------------------


async def test_the_madrid_pin_does_not_move_papas_alert_in_sevilla(bot: Bot) -> None:
    """The story from the issue, in Spanish: her own pin from Madrid asks first."""
    (papa,) = await bot.says(
        ANA, "/subscribe Papá: cualquiera cerca de Sevilla 100 km", language_code="es-ES"
    )
    assert "Papá" in papa["text"]
    (question,) = await pin(bot, ANA, MADRID, 1)
    assert "Madrid" in question["text"] and "No cambia nada hasta que elija" in question["text"]
    assert "1. <b>Papá</b>" in question["text"]
    assert labels(question) == ["Aviso nuevo aquí", "Mover «Papá» aquí", "Cancelar"]
    (before,) = await bot.subscriptions(ANA)
    assert before.place_name and "Sevill" in before.place_name
    await bot.presses(ANA, "Aviso nuevo aquí", n=2)  # the new alert, then its distances
    await keyboard_gone(bot, ANA, question)
    papa_row, mine = await bot.subscriptions(ANA)
    assert papa_row.label == "Papá" and papa_row.place_name and "Sevill" in papa_row.place_name
    assert mine.label is None and mine.place_name and "Madrid" in mine.place_name


async def test_moving_papa_takes_a_tap_and_can_be_undone(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Papá: cualquiera cerca de Sevilla 100 km", language_code="es")
    await bot.says(ANA, "/subscribe Mamá: isquémico en España")
    (question,) = await pin(bot, ANA, MADRID, 1)
    assert labels(question) == ["Aviso nuevo aquí", "Mover «Papá» aquí", "Cancelar"]
    moved, _ = await bot.presses(ANA, "Mover «Papá»", n=2)
    assert "Antes era cerca de Sevill" in moved["text"] and "Deshacer" in labels(moved)
    papa, mama = await bot.subscriptions(ANA)
    assert papa.place_name and "Madrid" in papa.place_name and papa.radius_km == 100
    assert mama.countries == ["ES"]
    (undone,) = await bot.presses(ANA, "Deshacer", message_id=moved["message_id"])
    assert "Ha vuelto a donde estaba" in undone["text"]
    papa, _ = await bot.subscriptions(ANA)
    assert papa.place_name and "Sevill" in papa.place_name
    assert abs((papa.lat or 0) - SEVILLA[0]) < 0.1 and abs((papa.lon or 0) - SEVILLA[1]) < 0.1


async def test_one_unnamed_alert_moves_with_a_pin_and_says_so_with_undo(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe any near Sevilla 100 km")
    replies = await pin(bot, ANA, MADRID, 3)
    moved = next(r for r in replies if "Moved" in r["text"])
    assert "It was near Sevill" in moved["text"] and "Undo" in labels(moved)
    (sub,) = await bot.subscriptions(ANA)
    assert sub.place_name and "Madrid" in sub.place_name
    await bot.presses(ANA, "Undo", message_id=moved["message_id"])
    (sub,) = await bot.subscriptions(ANA)
    assert sub.place_name and "Sevill" in sub.place_name and sub.radius_km == 100


async def test_a_pin_with_an_alert_gone_meanwhile_moves_nothing(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Dad: any near Sevilla 100 km")
    (question,) = await pin(bot, ANA, MADRID, 1)
    await bot.says(ANA, "/unsubscribe all")
    await bot.presses(ANA, 'Move "Dad"', message_id=question["message_id"])
    assert "no longer exists" in bot.fake.last_text(ANA)
    assert await bot.subscriptions(ANA) == []


# -- duplicates are refused ----------------------------------------------------------------


async def test_the_same_alert_twice_is_refused_with_a_pointer(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe hemorrhagic in France")
    await bot.says(ANA, "/subscribe ischemic in Spain, Portugal")
    (again,) = await bot.says(ANA, "/subscribe ischaemic in Portugal, Spain")
    assert "You already have this alert: #2" in again["text"] and "/list" in again["text"]
    assert len(await bot.subscriptions(ANA)) == 2


async def test_a_caregiver_may_follow_the_same_trials_for_dad_and_mum(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Dad: any near Sevilla 100 km")
    (mum,) = await bot.says(ANA, "/subscribe Mum: any near Sevilla 100 km")
    assert "Subscribed" in mum["text"]
    (same_name,) = await bot.says(ANA, "/subscribe dad: any near Sevilla 100 km")
    assert "already have this alert: #1" in same_name["text"]
    (no_name,) = await bot.says(ANA, "/subscribe any near Sevilla 100 km")
    assert "already have this alert: #1" in no_name["text"]
    (wider,) = await bot.says(ANA, "/subscribe any near Sevilla 300 km")
    assert "Subscribed" in wider["text"]
    assert [s.label for s in await bot.subscriptions(ANA)] == ["Dad", "Mum", None]


async def test_a_duplicate_is_refused_in_chinese(bot: Bot) -> None:
    await bot.says(LI, "/subscribe 缺血 在 中国", language_code="zh-hans")
    (again,) = await bot.says(LI, "/subscribe 缺血 在 中国")
    assert "您已经有这条提醒：第 1 条" in again["text"]
    assert len(await bot.subscriptions(LI)) == 1


async def test_a_pin_asks_in_chinese_when_the_alert_has_a_name(bot: Bot) -> None:
    await bot.says(LI, "/subscribe 爸爸: any near Sevilla 100 km", language_code="zh-hans")
    (question,) = await pin(bot, LI, MADRID, 1)
    assert "在您选择之前什么都不会改变" in question["text"]
    assert labels(question) == ["在这里新建提醒", "把“爸爸”移到这里", "取消"]
    (sub,) = await bot.subscriptions(LI)
    assert sub.place_name and "Sevill" in sub.place_name


async def test_changing_an_alert_into_a_copy_of_another_is_refused(bot: Bot) -> None:
    await bot.says(ANA, "/subscribe Dad: any near Sevilla 100 km")
    await bot.says(ANA, "/subscribe any near Sevilla 300 km")
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Distance 2")
    (refused,) = await bot.presses(ANA, "100 km")
    assert "already have this alert: #1" in refused["text"]
    assert [s.radius_km for s in await bot.subscriptions(ANA)] == [100, 300]
    await bot.says(ANA, "/subscribe Mum: any near Sevilla 100 km")
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Name 3")
    (named,) = await bot.says(ANA, "  DAD ")
    assert "already have this alert: #1" in named["text"]
    await bot.says(ANA, "/list")
    await bot.presses(ANA, "Name 2")
    await bot.says(ANA, "Me")
    assert [s.label for s in await bot.subscriptions(ANA)] == ["Dad", "Me", "Mum"]
