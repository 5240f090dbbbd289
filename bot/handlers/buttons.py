"""Every inline button lands here: parse, check rights, hand to the feature that owns it.

Unknown, stale or tampered data gets a polite answer and changes nothing. A button that
changes something does its job once: after it has been acted on (or found stale), the
message it sat on loses every button that changes something, keeping only the read-only ones
("See them", a trial's details). What comes next is always a new message with its own
buttons, so no handler needs to edit the tapped message itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler

from bot import callbacks
from bot.handlers import join, manage, privacy, settings, subscribe, talk, trials
from bot.handlers.common import Context, admins_only, chat_of

log = logging.getLogger(__name__)
Route = Callable[[Update, Context, callbacks.Callback], Coroutine[Any, Any, None]]

READ_ONLY = {trials.SEE_RECENT, callbacks.TRIAL_DETAILS, talk.HELP, join.JOIN}
"""Buttons that only show or ask something. "Could I join?" is one: it stores nothing itself
(the answers to its questions are other buttons, which save and are retired)."""
_FEATURES: dict[str, Route] = {
    "sub": subscribe.on_button,
    subscribe.PICK_CONDITION: subscribe.on_button,
    subscribe.PICK_WHERE: subscribe.on_button,
    subscribe.PICK_PLACE: subscribe.on_button,
    subscribe.PICK_RADIUS: subscribe.on_button,
    subscribe.PICK_RADIUS_MI: subscribe.on_button,
    subscribe.ADD_LABEL: subscribe.on_button,
    subscribe.CANCEL: subscribe.on_button,
    subscribe.NONE_OF_THESE: subscribe.on_button,
    manage.REMOVE: manage.on_button,
    manage.CHANGE_RADIUS: manage.on_button,
    settings.SETTING: settings.on_button,
    subscribe.PIN: subscribe.on_button,
    subscribe.UNDO_MOVE: subscribe.on_button,
    privacy.FORGET: privacy.on_button,
    talk.TALK: talk.on_button,
    talk.TALK_PLACE: talk.on_button,
    talk.HELP: talk.on_button,
    trials.SEE_RECENT: trials.on_button,
    callbacks.TRIAL_DETAILS: trials.on_button,
    join.JOIN: join.on_button,
    join.PROFILE: join.on_button,
    join.STROKE: join.on_button,
    join.AGE: join.on_button,
}


def _read_only(button: InlineKeyboardButton) -> bool:
    """A button that only shows something (or opens a link): it may be tapped again."""
    if button.callback_data is None:
        return True
    try:
        return callbacks.decode(str(button.callback_data)).action in READ_ONLY
    except callbacks.BadCallback:
        return False


async def retire_keyboard(query: CallbackQuery) -> None:
    """Take the buttons that change something off the tapped message (read-only ones stay)."""
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if message is None or not isinstance(markup, InlineKeyboardMarkup):
        return
    rows = [[b for b in row if _read_only(b)] for row in markup.inline_keyboard]
    kept = [row for row in rows if row]
    if sum(map(len, kept)) == sum(map(len, markup.inline_keyboard)):
        return
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup(kept) if kept else None)
    except TelegramError as exc:  # gone, too old to edit, or already changed: nothing to undo
        log.info("could not take the buttons off a tapped message: %s", exc)


def _once(route: Route) -> Route:
    """Run the feature, then retire the tapped keyboard (it has done its job)."""

    async def run(update: Update, context: Context, data: callbacks.Callback) -> None:
        await route(update, context, data)
        if update.callback_query is not None:
            await retire_keyboard(update.callback_query)

    return run


ROUTES = {
    action: route if action in READ_ONLY else admins_only(_once(route))
    for action, route in _FEATURES.items()
}
"""Every button but the read-only ones changes something: in groups, for admins only; and
once acted on, its keyboard is retired."""


async def on_callback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    _, t = await chat_of(update, context)
    try:
        data = callbacks.decode(query.data)
        route = ROUTES[data.action]
    except (callbacks.BadCallback, KeyError):
        log.info("rejected button data %r", (query.data or "")[:64])
        await query.answer(t("button.stale"), show_alert=True)
        await retire_keyboard(query)  # e.g. an old "Yes, delete it all" from before expiry
        return
    await route(update, context, data)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_callback))
