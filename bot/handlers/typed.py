"""Plain messages: typed answers to a waiting step, and location pins."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.handlers import claims, settings, subscribe, talk
from bot.handlers.common import Context, chat_of, guard, is_admin, is_private, reply
from bot.i18n import Translator
from storage.tables import ChatRow


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    chat, t = await chat_of(update, context)
    if not chat.pending:
        if is_private(update):
            text = message.text
            if await claims.answer_text(update, context, chat, t, text):
                return
            if not await talk.answer_text(update, context, chat, t, text):
                await reply(update, t("text.no_pending"))
        return
    await answer_pending(update, context, chat, t, message.text)


@guard(is_admin, refusal=None)
async def answer_pending(
    update: Update, context: Context, chat: ChatRow, t: Translator, typed: str
) -> None:
    """Typed text for the step the chat is at; in groups only admins answer (others: ignored)."""
    text = typed.strip()[:200]
    for handler in (subscribe.on_text, settings.on_text):
        if await handler(update, context, chat, t, text):
            return
    if is_private(update) and not await talk.answer_text(update, context, chat, t, text):
        await reply(update, t("text.no_pending"))


async def on_location(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    if await talk.on_location(update, context, chat, t):
        return
    if await settings.on_location(update, context, chat, t):
        return
    await subscribe.on_location(update, context, chat, t)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED, on_text)
    )
    app.add_handler(MessageHandler(filters.LOCATION & ~filters.UpdateType.EDITED, on_location))
