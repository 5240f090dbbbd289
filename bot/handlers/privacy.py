"""/mydata and /forget: a chat can see, and erase, everything stored about it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from telegram import InputFile, Update
from telegram.constants import ChatType
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import Context, Deps, admins_only, chat_of, esc, keyboard, reply
from bot.handlers.describe import settings_text, subscription_text
from bot.i18n import Translator
from storage import chats as store
from storage.tables import ChatRow, SubscriptionRow

FORGET = callbacks.register("fg", 2)
"""fg:<yes|no|ask>:<stamp>: the answer and the minute the question was asked."""
CONFIRM_MINUTES = 10
"""A "Yes, delete it all" older than this deletes nothing: it is asked again instead."""
SHOWN_ALERTS = 20
"""Queued alerts listed in the /mydata text; the attached file has all of them."""
FILE_NAME = "mydata.json"


def _when(value: str | None) -> str:
    """A stored UTC time as "2025-06-01 09:30 UTC"."""
    if not value:
        return ""
    return datetime.fromisoformat(value).strftime("%Y-%m-%d %H:%M UTC")


def mydata_text(
    row: ChatRow, subs: list[SubscriptionRow], alerts: list[dict[str, Any]], t: Translator
) -> str:
    """/mydata in plain words: the settings, each subscription, alerts not sent yet with their
    trial ids and when they were queued, and a step the bot is waiting on. `alerts` are the
    `alerts` of `storage.chats.export`."""
    lines = [t("mydata.head"), "", settings_text(row, t), ""]
    if subs:
        lines.append(t.plural("mydata.subscriptions", len(subs)))
        for i, sub in enumerate(subs, 1):
            since = t("mydata.since", when=_when(sub.created_at.isoformat()))
            line = f"{i}. {subscription_text(sub, t)} ({since})"
            if sub.stroke_date is not None:
                line += " · " + t("mydata.stroke_date", date=sub.stroke_date.isoformat())
            if sub.birth_year is not None:
                line += " · " + t("mydata.birth_year", year=sub.birth_year)
            lines.append(line)
    else:
        lines.append(t("mydata.no_subscriptions"))
    unsent = [a for a in alerts if a.get("unsent")]
    lines.append("")
    if unsent:
        lines.append(t.plural("mydata.queued", len(unsent)))
        for alert in unsent[:SHOWN_ALERTS]:
            kind = (
                t("mydata.kind.change") if alert.get("kind") == "change" else t("mydata.kind.new")
            )
            values = {
                "id": esc(alert.get("registry_id", "")),
                "kind": kind,
                "when": _when(alert.get("created_at")),
            }
            held = alert.get("status") == "held"
            lines.append(
                t("mydata.alert.held", **values) if held else t("mydata.alert.queued", **values)
            )
        if len(unsent) > SHOWN_ALERTS:
            lines.append(t("mydata.more", n=len(unsent) - SHOWN_ALERTS))
    else:
        lines.append(t("mydata.no_queued"))
    if row.pending:
        lines += ["", t("mydata.pending")]
    lines += ["", t("mydata.file", file=FILE_NAME)]
    return "\n".join(lines)


@admins_only
async def mydata_command(update: Update, context: Context) -> None:
    """Readable text, then the full record as a JSON file (a message could not hold it)."""
    chat, t = await chat_of(update, context)
    async with Deps.of(context).db.read() as session:
        data = await store.export(session, chat.chat_id)
        subs = await store.subscriptions(session, chat.chat_id)
    await reply(update, mydata_text(chat, subs, data["alerts"], t))
    dump = json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")
    target = update.effective_chat
    if target is not None:
        message = update.effective_message
        quote = message.message_id if message and target.type != ChatType.PRIVATE else None
        await target.send_document(
            InputFile(dump, filename=FILE_NAME),
            caption=t("mydata.caption"),
            reply_to_message_id=quote,
        )


@admins_only
async def forget_command(update: Update, context: Context) -> None:
    await ask(update, context)


async def ask(update: Update, context: Context) -> None:
    """The question, its buttons stamped with the minute it was asked."""
    _, t = await chat_of(update, context)
    issued = callbacks.stamp(Deps.of(context).clock())
    rows = [
        [
            (t("forget.yes"), callbacks.encode(FORGET, "yes", issued)),
            (t("forget.no"), callbacks.encode(FORGET, "no", issued)),
        ]
    ]
    await reply(update, t("forget.confirm", minutes=CONFIRM_MINUTES), keyboard(rows))


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    answer, issued = data.args
    if answer == "no":
        await query.answer()
        await reply(update, t("forget.kept"))
        return
    if answer == "ask":
        await query.answer()
        await ask(update, context)
        return
    if answer != "yes":
        await query.answer(t("button.stale"), show_alert=True)
        return
    age = callbacks.minutes_since(issued, Deps.of(context).clock())
    if age is None or age > CONFIRM_MINUTES:
        await query.answer()
        again = callbacks.encode(FORGET, "ask", callbacks.stamp(Deps.of(context).clock()))
        await reply(
            update,
            t("confirm.expired", minutes=CONFIRM_MINUTES),
            keyboard([[(t("button.ask_again"), again)]]),
        )
        return
    async with Deps.of(context).db.write() as session:
        await store.forget(session, chat.chat_id)
    await query.answer()
    chat_obj = update.effective_chat
    if chat_obj is not None:
        # Not through reply(): that would create the chat's row again.
        await chat_obj.send_message(t("forget.done"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("mydata", mydata_command))
    app.add_handler(CommandHandler("forget", forget_command))
