"""The Telegram application: one factory, so the service and the tests build the same bot."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot.errors import ErrorReporter
from bot.fairness import FairUpdateProcessor
from bot.handlers import (
    admin,
    buttons,
    claims,
    manage,
    privacy,
    settings,
    start,
    subscribe,
    trials,
    typed,
)
from bot.handlers.common import Deps
from bot.ratelimit import TrialbotRateLimiter
from storage.db import Database
from trialbot.settings import Settings

ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.MY_CHAT_MEMBER]


def file_url(base_url: str) -> str:
    """The Bot API file URL that goes with a base URL (`.../bot` -> `.../file/bot`)."""
    root = base_url.removesuffix("/bot")
    return f"{root}/file/bot" if root != base_url else base_url.rstrip("/") + "/file/bot"


def build_application(settings_: Settings, db: Database) -> Application:  # type: ignore[type-arg]
    """The bot with every handler, pointed at `TELEGRAM_API_BASE_URL`."""
    app = (
        ApplicationBuilder()
        .token(settings_.bot_token)
        .base_url(settings_.telegram_api_base_url)
        .base_file_url(file_url(settings_.telegram_api_base_url))
        .rate_limiter(
            TrialbotRateLimiter(rate_per_second=settings_.send_rate_per_second, max_retries=2)
        )
        .concurrent_updates(FairUpdateProcessor())
        .post_init(start.set_commands)
        .build()
    )
    app.bot_data["deps"] = Deps(db=db, settings=settings_)
    for feature in (
        start,
        admin,
        subscribe,
        manage,
        trials,
        settings,
        privacy,
        buttons,
        claims,
        typed,
    ):
        feature.register(app)
    start.register_fallbacks(app)
    app.add_error_handler(ErrorReporter().on_error)
    return app
