"""Every inline button lands here: parse, check rights, hand to the feature that owns it.

Unknown, stale or tampered data gets a polite answer and changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot import callbacks
from bot.handlers import manage, privacy, settings, subscribe, trials
from bot.handlers.common import Context, admins_only, chat_of

log = logging.getLogger(__name__)
Route = Callable[[Update, Context, callbacks.Callback], Coroutine[Any, Any, None]]

READ_ONLY = {trials.SEE_RECENT, callbacks.TRIAL_DETAILS}
_FEATURES: dict[str, Route] = {
    "sub": subscribe.on_button,
    subscribe.PICK_CONDITION: subscribe.on_button,
    subscribe.PICK_WHERE: subscribe.on_button,
    subscribe.PICK_PLACE: subscribe.on_button,
    subscribe.PICK_RADIUS: subscribe.on_button,
    subscribe.ADD_LABEL: subscribe.on_button,
    subscribe.CANCEL: subscribe.on_button,
    subscribe.NONE_OF_THESE: subscribe.on_button,
    manage.REMOVE: manage.on_button,
    manage.CHANGE_RADIUS: manage.on_button,
    settings.SETTING: settings.on_button,
    privacy.FORGET: privacy.on_button,
    trials.SEE_RECENT: trials.on_button,
    callbacks.TRIAL_DETAILS: trials.on_button,
}
ROUTES = {
    action: route if action in READ_ONLY else admins_only(route)
    for action, route in _FEATURES.items()
}
"""Every button but the read-only ones changes something: in groups, for admins only."""


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
        return
    await route(update, context, data)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(on_callback))
