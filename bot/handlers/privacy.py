"""/mydata and /forget: a chat can see, and erase, everything stored about it."""

from __future__ import annotations

import json

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import Context, Deps, admins_only, chat_of, esc, keyboard, reply
from storage import chats as store

FORGET = callbacks.register("fg", 2)
"""fg:<yes|no|ask>:<stamp>: the answer and the minute the question was asked."""
CHUNK = 3500
CONFIRM_MINUTES = 10
"""A "Yes, delete it all" older than this deletes nothing: it is asked again instead."""


@admins_only
async def mydata_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    async with Deps.of(context).db.read() as session:
        data = await store.export(session, chat.chat_id)
    dump = json.dumps(data, ensure_ascii=False, indent=1)
    await reply(update, t("mydata.head"))
    for start in range(0, len(dump), CHUNK):
        await reply(update, f"<pre>{esc(dump[start : start + CHUNK])}</pre>")


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
