"""/start, /help, /about, and what happens with anything the bot does not understand."""

from __future__ import annotations

from telegram import BotCommand, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    Application,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import callbacks
from bot.handlers.common import Context, Deps, chat_of, keyboard, reply
from bot.i18n import LANGUAGES, translator
from storage import chats as store
from storage.tables import utcnow

START_SUBSCRIBE = callbacks.register("sub", 0)

COMMANDS = (
    "start",
    "subscribe",
    "list",
    "recent",
    "trial",
    "settings",
    "pause",
    "resume",
    "unsubscribe",
    "mydata",
    "forget",
    "help",
    "about",
)


async def start(update: Update, context: Context) -> None:
    """What the bot does and does not do, the disclaimer, and one tap to subscribe."""
    _, t = await chat_of(update, context)
    await reply(
        update,
        t("start.intro") + "\n\n" + t("disclaimer"),
        keyboard([[(t("button.subscribe"), callbacks.encode(START_SUBSCRIBE))]]),
    )


async def help_command(update: Update, context: Context) -> None:
    _, t = await chat_of(update, context)
    await reply(update, t("help.text"))


async def about(update: Update, context: Context) -> None:
    _, t = await chat_of(update, context)
    settings = Deps.of(context).settings
    hours = max(1, round(settings.poll_interval_seconds / 3600))
    operator = settings.operator_contact or t("about.operator_unknown")
    polled = (
        (settings.ctgov_enabled, "about.registry.ctgov"),
        (settings.ctis_enabled, "about.registry.ctis"),
        (settings.isrctn_enabled, "about.registry.isrctn"),
        (settings.ictrp_enabled, "about.registry.ictrp"),
    )
    registries = "; ".join(t(key) for on, key in polled if on) or "-"
    await reply(update, t("about.text", hours=hours, operator=operator, registries=registries))


async def unknown_command(update: Update, context: Context) -> None:
    _, t = await chat_of(update, context)
    await reply(update, t("unknown.command"))


async def membership(update: Update, context: Context) -> None:
    """The bot was blocked, kicked, or added: keep `chat.active` true to reality."""
    change = update.my_chat_member
    if change is None:
        return
    status = change.new_chat_member.status
    deps = Deps.of(context)
    if status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
        async with deps.db.write() as session:
            row = await store.get_chat(session, change.chat.id, for_update=True)
            if row is not None:
                store.update_chat(
                    session,
                    row,
                    active=False,
                    deactivated_at=utcnow(),
                    deactivation_reason=f"bot {status} by the user or group",
                )
        return
    if status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR) and (
        change.chat.type != ChatType.PRIVATE
    ):
        _, t = await chat_of(update, context)
        await change.chat.send_message(t("group.welcome"))


async def set_commands(app: Application) -> None:  # type: ignore[type-arg]
    """The command menu, in each language the bot speaks."""
    for lang in LANGUAGES:
        t = translator(lang, "bot")
        commands = [BotCommand(name, t(f"menu.{name}")) for name in COMMANDS]
        await app.bot.set_my_commands(commands, language_code=None if lang == "en" else lang)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("about", about))
    app.add_handler(ChatMemberHandler(membership, ChatMemberHandler.MY_CHAT_MEMBER))


def register_fallbacks(app: Application) -> None:  # type: ignore[type-arg]
    """Registered after every other handler: a command nobody handled points to /help."""
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
