"""Plain messages: typed answers to a waiting step, new messages, media, and location pins.

Conversation hygiene (issue 13): a step waits for one typed answer at a time.
- Any command closes the open step first (`close_on_command`, one handler for all commands).
- A typed answer the step cannot read, with nothing close to offer, closes the step with a
  short note; the text is then handled as a new message (`new_message`). A step only keeps
  waiting when the answer was close to something ("Did you mean" buttons) or it asked again
  on purpose ("None of these").
- Text that no step handler claims (a step of an older version, say) closes it silently.
"""

from __future__ import annotations

from telegram import MessageEntity, Update
from telegram.ext import Application, MessageHandler, filters

from bot.handlers import claims, join, settings, subscribe, talk
from bot.handlers.common import (
    Context,
    chat_of,
    clear_pending,
    guard,
    is_admin,
    is_private,
    reply,
)
from bot.i18n import Translator
from storage.tables import ChatRow


async def on_text(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    chat, t = await chat_of(update, context)
    if chat.pending:
        await answer_pending(update, context, chat, t, message.text)
        return
    await new_message(update, context, chat, t, message.text)


async def new_message(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    text: str,
    *,
    noted: bool = False,
) -> None:
    """Plain text that answers no open step. In groups the bot stays silent. `noted`: a
    closing note has just been sent, so no second "I did not understand" follows it."""
    if not is_private(update):
        return
    if await claims.answer_text(update, context, chat, t, text):
        return
    if await talk.answer_text(update, context, chat, t, text, unclear=not noted):
        return
    if not noted:
        await reply(update, t("text.no_pending"))


@guard(is_admin, refusal=None)
async def answer_pending(
    update: Update, context: Context, chat: ChatRow, t: Translator, typed: str
) -> None:
    """Typed text for the step the chat is at; in groups only admins answer (others: ignored)."""
    text = typed.strip()[:200]
    for handler in (talk.on_pending, join.on_text, subscribe.on_text, settings.on_text):
        if await handler(update, context, chat, t, text):
            return
    noted = chat.pending is None  # a step handler closed its step with a note
    await clear_pending(context, chat)
    await new_message(update, context, chat, t, typed, noted=noted)


async def close_on_command(update: Update, context: Context) -> None:
    """Runs before every command (in its own handler group, `HYGIENE_GROUP`): a typed
    command closes any open step, so "thank you!" after `/settings timezone Columbus` is not
    read as a time zone.

    Commands for another bot ("/start@otherbot") are left alone. In groups only an admin's
    command closes the step an admin opened (a member's /help must not cancel it)."""
    message = update.effective_message
    if message is None or not message.text or update.effective_chat is None:
        return
    entity = next(iter(message.parse_entities([MessageEntity.BOT_COMMAND])), None)
    command = message.parse_entity(entity) if entity is not None else ""
    _, _, addressee = command.partition("@")
    if addressee and addressee.lower() != (context.bot.username or "").lower():
        return
    chat, _ = await chat_of(update, context)
    if chat.pending is None:
        return
    if not is_private(update) and not await is_admin(update, context):
        return
    await clear_pending(context, chat)


async def on_media(update: Update, context: Context) -> None:
    """A voice note, sticker, video, photo or file without a caption: the bot reads text only,
    so it says what it can do with text (private chats; groups hear nothing)."""
    if not is_private(update):
        return
    _, t = await chat_of(update, context)
    await reply(update, t("media.text_only"))


async def on_location(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    if await talk.on_location(update, context, chat, t):
        return
    if await settings.on_location(update, context, chat, t):
        return
    await subscribe.on_location(update, context, chat, t)


MEDIA = (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO_NOTE
    | filters.Sticker.ALL
    | filters.ANIMATION
    | filters.VIDEO
    | filters.PHOTO
    | filters.Document.ALL
) & ~filters.CAPTION
"""Media the bot cannot read. With a caption the caption is text (the claims check reads a
photo's caption), so captioned media is not answered here."""


HYGIENE_GROUP = -10
"""A handler group of its own, before the default one: in a PTB group only the first matching
handler runs, so sharing one would silence another pre-command handler."""


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(
        MessageHandler(filters.COMMAND & ~filters.UpdateType.EDITED, close_on_command),
        group=HYGIENE_GROUP,
    )
    app.add_handler(
        MessageHandler(filters.TEXT & ~filters.COMMAND & ~filters.UpdateType.EDITED, on_text)
    )
    app.add_handler(MessageHandler(filters.LOCATION & ~filters.UpdateType.EDITED, on_location))
    app.add_handler(MessageHandler(MEDIA & ~filters.UpdateType.EDITED, on_media))
