"""What every handler needs: the database, the chat's row and language, and permissions."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Concatenate, ParamSpec

from telegram import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardRemove,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from bot.i18n import Translator, pick_language, translator
from storage import chats as store
from storage.db import Database
from storage.tables import ChatRow, utcnow
from trialbot.settings import Settings

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE
Markup = InlineKeyboardMarkup | ReplyKeyboardRemove | ForceReply | None


@dataclass
class Deps:
    """Long-lived objects the handlers share, kept in `application.bot_data`."""

    db: Database
    settings: Settings
    clock: Callable[[], datetime] = field(default=utcnow)
    """Now, for buttons that expire; one place a test can set the time."""

    @staticmethod
    def of(context: Context) -> Deps:
        deps = context.application.bot_data["deps"]
        assert isinstance(deps, Deps)
        return deps


def esc(value: Any) -> str:
    return html.escape(str(value), quote=False)


ECHO_LIMIT = 100
"""The most characters of a user's own input that a reply quotes back."""


def echo(typed: Any, limit: int = ECHO_LIMIT) -> str:
    """Something the user typed, quoted in a reply: cut to `limit` characters, HTML-escaped.

    Every reply that repeats input goes through here. Unbounded, a 4,990-character /subscribe
    made an error reply longer than Telegram's 4096 characters; Telegram refused it and the
    user heard nothing. The cut comes before escaping so no `&amp;` is split.
    """
    text = str(typed)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return esc(text)


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == ChatType.PRIVATE


_MEMO = "_chat_row"


async def chat_of(update: Update, context: Context) -> tuple[ChatRow, Translator]:
    """The chat's row (created on first contact, language from the user's client) and texts.

    One write transaction per update: the row is kept in PTB's chat_data, tagged with the
    update id, so the dispatcher and the handlers it calls share it. Handlers that change the
    row change this same object.
    """
    chat = update.effective_chat
    assert chat is not None
    memo = context.chat_data.get(_MEMO) if context.chat_data is not None else None
    if memo is not None and memo[0] == update.update_id:
        row: ChatRow = memo[1]
        return row, translator(row.language, "bot")
    user = update.effective_user
    deps = Deps.of(context)
    async with deps.db.write() as session:
        row = await store.ensure_chat(
            session,
            chat.id,
            chat_type=chat.type,
            language=pick_language(user.language_code if user else None),
            title=chat.title,
        )
    if context.chat_data is not None:
        context.chat_data[_MEMO] = (update.update_id, row)
    return row, translator(row.language, "bot")


def language_of(update: Update, context: Context) -> str:
    """The chat's language without touching the database (for when something has failed):
    the chat's row as this process last saw it, else the user's Telegram client."""
    memo = context.chat_data.get(_MEMO) if context.chat_data is not None else None
    if memo is not None and memo[1].language:
        return str(memo[1].language)
    user = update.effective_user
    return pick_language(user.language_code if user else None)


async def is_admin(update: Update, context: Context) -> bool:
    """In groups only administrators may change what the group receives."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return False
    if chat.type == ChatType.PRIVATE:
        return True
    if user.id == 1087968824:  # GroupAnonymousBot: an anonymous group admin
        return True
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as exc:
        log.warning("could not check admin rights in %s: %s", chat.id, exc)
        return False
    return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


P = ParamSpec("P")
Check = Callable[[Update, Context], Awaitable[bool]]
Handler = Callable[Concatenate[Update, Context, P], Coroutine[Any, Any, None]]


def guard(
    check: Check, refusal: str | None = "group.admins_only"
) -> Callable[[Handler[P]], Handler[P]]:
    """Run the handler only if `check(update, context)` passes; else refuse and change nothing.

    The one place that says who may do what, so no handler writes the check (and its answer)
    out again. The refusal is a catalog key: an alert on the button for a button press, a
    reply otherwise; `None` refuses silently (a button press is still answered).
    """

    def decorate(handler: Handler[P]) -> Handler[P]:
        @functools.wraps(handler)
        async def guarded(
            update: Update, context: Context, /, *args: P.args, **kwargs: P.kwargs
        ) -> None:
            if await check(update, context):
                await handler(update, context, *args, **kwargs)
                return
            query = update.callback_query
            if refusal is None:
                if query is not None:
                    await query.answer()
                return
            _, t = await chat_of(update, context)
            if query is not None:
                await query.answer(t(refusal), show_alert=True)
            else:
                await reply(update, t(refusal))

        return guarded

    return decorate


admins_only = guard(is_admin)
"""For handlers that change what a chat receives: in groups only its administrators may."""


async def reply(update: Update, text: str, markup: Markup = None) -> Message | None:
    """Answer in the chat the update came from (HTML, no link previews)."""
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.effective_message
    quote = None
    if chat.type != ChatType.PRIVATE and message is not None and not update.callback_query:
        quote = message.message_id  # in a busy group, say which command this answers
    return await chat.send_message(
        text,
        parse_mode=ParseMode.HTML,
        reply_markup=markup,
        disable_web_page_preview=True,
        reply_to_message_id=quote,
    )


async def edit_or_reply(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the message a button sat on; fall back to a new message if it can't be edited."""
    try:
        await query.edit_message_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
        )
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return
        if query.message is not None:
            await query.message.chat.send_message(
                text, parse_mode=ParseMode.HTML, reply_markup=markup, disable_web_page_preview=True
            )


def keyboard(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    """Inline keyboard from (label, callback data) pairs."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def command_args(update: Update) -> str:
    """Everything after the command (works with `/cmd@botname`)."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    _, _, rest = text.partition(" ")
    return rest.strip()


async def clear_pending(context: Context, chat: ChatRow) -> None:
    """Close the chat's open step (if any): nothing typed later is read as its answer."""
    if chat.pending is None:
        return
    async with Deps.of(context).db.write() as session:
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    chat.pending = None


async def close_step(update: Update, context: Context, chat: ChatRow, note: str) -> bool:
    """A typed answer the open step cannot read: close the step with a short note (what was
    not understood, how to ask again) instead of asking the same question in a loop.

    Returns False, so a step handler can `return await close_step(...)` and the dispatcher
    goes on to treat the text as a new message (see `bot.handlers.typed`).
    """
    await clear_pending(context, chat)
    await reply(update, note, ReplyKeyboardRemove() if is_private(update) else None)
    return False
