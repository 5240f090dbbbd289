"""/settings: language, instant or digest delivery and its hour, time zone, and filters."""

from __future__ import annotations

import zoneinfo
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import (
    Context,
    Deps,
    admins_only,
    chat_of,
    close_step,
    command_args,
    echo,
    keyboard,
    reply,
)
from bot.handlers.describe import gazetteer, place_labels, settings_text
from bot.handlers.subscribe import MAX_PLACES, prompt_markup, set_pending
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, translator
from storage import chats as store
from storage.tables import ChatRow
from trialbot.geo import DOMINANT, Place, timezone_at

SETTING = callbacks.register("st", 2)
TZ_PLACE = "tzp"
"""st:tzp:<GeoNames id> sets the time zone of that place; st:tzp:none asks for a city again."""
HOURS = (7, 9, 12, 18, 21)
DELIVERY = ("instant", "daily", "weekly")
ON = ("on", "yes", "si", "sí", "true", "1", "开", "是")
OFF = ("off", "no", "false", "0", "关", "否")
DAY_NAMES = (
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"),
    ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
    ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"),
)
DAY_WORDS = {word: i for names in DAY_NAMES for i, word in enumerate(names)}
KEYWORDS: dict[str, tuple[str, ...]] = {
    "language": ("language", "lang", "idioma", "语言"),
    "alerts": ("alerts", "delivery", "avisos", "提醒"),
    "hour": ("hour", "hora", "时间"),
    "day": ("day", "dia", "día", "星期"),
    "borderline": ("borderline", "similares", "类似产品"),
    "recruiting": ("recruiting", "reclutamiento", "招募"),
    "timezone": ("timezone", "tz", "zona", "时区"),
}
"""`/settings <keyword> <value>`, each keyword in English, Spanish and Chinese, so every
language's examples are typed in that language."""
DELIVERY_WORDS = {
    **{d: d for d in ("instant", "daily", "weekly")},
    **{"inmediato": "instant", "diario": "daily", "diaria": "daily", "semanal": "weekly"},
    **{"即时": "instant", "每日": "daily", "每天": "daily", "每周": "weekly"},
}
LANGUAGE_WORDS = {
    **{lang: lang for lang in LANGUAGES},
    **{"english": "en", "spanish": "es", "chinese": "zh"},
    **{"inglés": "en", "ingles": "en", "español": "es", "espanol": "es", "chino": "zh"},
    **{"英文": "en", "英语": "en", "西班牙语": "es", "西班牙文": "es", "中文": "zh"},
}
RECRUITING_WORDS = {
    "all": True,
    "todos": True,
    "全部": True,
    "only": False,
    "solo": False,
    "仅": False,
}


def settings_keyboard(chat: ChatRow, t: Translator) -> list[list[tuple[str, str]]]:
    def mark(selected: bool, label: str) -> str:
        return f"• {label}" if selected else label

    rows = [
        [
            (
                mark(chat.language == lang, LANGUAGE_NAMES[lang]),
                callbacks.encode(SETTING, "lang", lang),
            )
            for lang in LANGUAGES
        ],
        [
            (
                mark(chat.delivery == d, t(f"settings.delivery.{d}")),
                callbacks.encode(SETTING, "del", d),
            )
            for d in DELIVERY
        ],
    ]
    if chat.delivery != "instant":
        rows.append(
            [
                (mark(chat.digest_hour == h, f"{h:02d}:00"), callbacks.encode(SETTING, "hour", h))
                for h in HOURS
            ]
        )
    if chat.delivery == "weekly":
        rows.append(
            [
                (
                    mark(chat.digest_weekday == d, t(f"day.short.{d}")),
                    callbacks.encode(SETTING, "day", d),
                )
                for d in range(7)
            ]
        )
    rows.append([(t("settings.button.timezone"), callbacks.encode(SETTING, "tz", "set"))])
    flip = "off" if chat.include_borderline else "on"
    rows.append([(t(f"settings.button.borderline.{flip}"), callbacks.encode(SETTING, "bl", flip))])
    flip = "off" if chat.include_not_recruiting else "on"
    rows.append([(t(f"settings.button.recruiting.{flip}"), callbacks.encode(SETTING, "nr", flip))])
    return rows


async def show(update: Update, context: Context, chat: ChatRow, prefix: str = "") -> None:
    t = translator(chat.language, "bot")
    text = (prefix + "\n\n" if prefix else "") + settings_text(chat, t)
    await reply(update, text, keyboard(settings_keyboard(chat, t)))


async def apply(context: Context, chat: ChatRow, **changes: Any) -> ChatRow:
    async with Deps.of(context).db.write() as session:
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        assert row is not None
        store.update_chat(session, row, **changes)
    for name, value in changes.items():  # the row chat_of() shares for this update
        setattr(chat, name, value)
    return row


def _parse(args: str) -> dict[str, Any] | str:
    """Typed settings, e.g. `language es`, `alerts daily 9`, `borderline on` (or the Spanish
    and Chinese words: `avisos diario 9`, `提醒 每天 9`); or an error key."""
    words = args.lower().split()
    if not words:
        return "settings.usage"
    key = next((k for k, names in KEYWORDS.items() if words[0] in names), None)
    values = words[1:]
    if not values:
        return "settings.usage"
    first = values[0]
    if key == "language" and (first in LANGUAGE_WORDS or first[:2] in LANGUAGES):
        return {"language": LANGUAGE_WORDS.get(first, first[:2])}
    if key == "alerts" and first in DELIVERY_WORDS:
        changes: dict[str, Any] = {"delivery": DELIVERY_WORDS[first]}
        if (
            len(values) > 1
            and values[1].split(":")[0].isdigit()
            and int(values[1].split(":")[0]) < 24
        ):
            changes["digest_hour"] = int(values[1].split(":")[0])
        return changes
    if key == "hour" and first.split(":")[0].isdigit():
        hour = int(first.split(":")[0])
        return {"digest_hour": hour} if 0 <= hour <= 23 else "settings.bad_hour"
    day = first.replace("é", "e").replace("á", "a")
    if key == "day" and day in DAY_WORDS:
        return {"digest_weekday": DAY_WORDS[day]}
    if key == "borderline" and first in ON + OFF:
        return {"include_borderline": first in ON}
    if key == "recruiting" and first in RECRUITING_WORDS:
        return {"include_not_recruiting": RECRUITING_WORDS[first]}
    if key == "timezone":
        return {"timezone": " ".join(args.split()[1:])}
    return "settings.usage"


def _timezone_from(text: str) -> tuple[str | None, list[Place], bool]:
    """What a typed time zone answer means: (zone, [], _) when it names one zone (an IANA name
    as typed, "Europe/Madrid", or a city's); (None, places, close) when several places by that
    name lie in different zones (`close` False) or a close spelling exists (`close` True), to
    ask which with buttons; (None, [], False) when nothing matches."""
    candidate = text.strip()
    if "/" in candidate:
        try:
            zoneinfo.ZoneInfo(candidate)
            return candidate, [], False
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return None, [], False
    found = gazetteer().find(candidate, limit=MAX_PLACES)
    if found:
        if (
            len({p.timezone for p in found}) == 1
            or found[0].population >= DOMINANT * found[1].population
        ):
            return found[0].timezone, [], False
        return None, found, False
    return None, gazetteer().suggest(candidate), True


async def _ask_which_zone(
    update: Update, t: Translator, typed: str, places: list[Place], close: bool
) -> None:
    """A button per candidate place (with its region) and "None of these"."""
    key = "place.unknown" if close else "place.choose"
    text = t(key, place=echo(typed)) + ("\n" + t("place.did_you_mean") if close else "")
    rows = [
        [(label[:60], callbacks.encode(SETTING, TZ_PLACE, p.id))]
        for p, label in zip(places, place_labels(places, t.lang), strict=True)
    ]
    rows.append([(t("button.none_of_these"), callbacks.encode(SETTING, TZ_PLACE, "none"))])
    await reply(update, text, keyboard(rows))


async def settings_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    args = command_args(update)
    if not args:
        await show(update, context, chat)
        return
    await change_settings(update, context, chat, t, args)


@admins_only
async def change_settings(
    update: Update, context: Context, chat: ChatRow, t: Translator, args: str
) -> None:
    """`/settings <what> <value>`: anyone may look, in groups only admins may change."""
    parsed = _parse(args)
    if isinstance(parsed, str):
        await reply(update, t(parsed))
        return
    if "timezone" in parsed:
        zone, places, close = _timezone_from(parsed["timezone"])
        if zone is None and places:
            await _ask_which_zone(update, t, parsed["timezone"], places, close)
            return
        if zone is None:
            await reply(update, t("settings.bad_timezone", value=echo(parsed["timezone"])))
            return
        parsed["timezone"] = zone
    chat = await apply(context, chat, **parsed)
    await show(update, context, chat, translator(chat.language, "bot")("settings.saved"))


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    key, value = data.args
    changes: dict[str, Any] | None = None
    if key == "lang" and value in LANGUAGES:
        changes = {"language": value}
    elif key == "del" and value in DELIVERY:
        changes = {"delivery": value}
    elif key == "hour" and value.isdigit() and int(value) in HOURS:
        changes = {"digest_hour": int(value)}
    elif key == "day" and value.isdigit() and int(value) < 7:
        changes = {"digest_weekday": int(value)}
    elif key in ("bl", "nr") and value in ("on", "off"):
        name = "include_borderline" if key == "bl" else "include_not_recruiting"
        changes = {name: value == "on"}
    elif key == "tz" and value == "set":
        await query.answer()
        await set_pending(context, chat, {"flow": "tz"})
        await reply(update, t("settings.ask_timezone"), prompt_markup(update, t, location=True))
        return
    elif key == TZ_PLACE and value == "none":
        await query.answer()
        await set_pending(context, chat, {"flow": "tz"})
        await reply(update, t("place.type_again"), prompt_markup(update, t, location=True))
        return
    elif key == TZ_PLACE and value.isdigit() and (place := gazetteer().get(int(value))):
        changes = {"timezone": place.timezone, "pending": None}
    if changes is None:
        await query.answer(t("button.stale"), show_alert=True)
        return
    await query.answer()
    chat = await apply(context, chat, **changes)
    await show(update, context, chat, translator(chat.language, "bot")("settings.saved"))


async def on_text(
    update: Update, context: Context, chat: ChatRow, t: Translator, text: str
) -> bool:
    pending = chat.pending or {}
    if pending.get("flow") != "tz":
        return False
    zone, places, close = _timezone_from(text)
    if zone is None and places and not (close and pending.get("offered")):
        # One round of "Did you mean" per question: a second miss closes the step.
        if close:
            await set_pending(context, chat, {"flow": "tz", "offered": True})
        await _ask_which_zone(update, t, text, places, close)
        return True
    if zone is None:
        return await close_step(update, context, chat, t("step.closed.timezone", value=echo(text)))
    chat = await apply(context, chat, timezone=zone, pending=None)
    await show(update, context, chat, t("settings.saved"))
    return True


async def on_location(update: Update, context: Context, chat: ChatRow, t: Translator) -> bool:
    message = update.effective_message
    if (chat.pending or {}).get("flow") != "tz" or message is None or message.location is None:
        return False
    zone = timezone_at(message.location.latitude, message.location.longitude)
    chat = await apply(context, chat, timezone=zone, pending=None)
    await show(update, context, chat, t("settings.saved"))
    return True


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("settings", settings_command))
