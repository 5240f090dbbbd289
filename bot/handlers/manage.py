"""/list, /unsubscribe, /pause and /resume."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import (
    Context,
    Deps,
    admins_only,
    chat_of,
    command_args,
    esc,
    keyboard,
    reply,
)
from bot.handlers.describe import place_text, profile_of, profile_text, subscription_text
from bot.handlers.subscribe import ADD_LABEL, radius_rows, set_pending
from bot.i18n import Translator
from storage import chats as store
from storage.tables import ChatRow
from trialbot.clock import clock_for

REMOVE = callbacks.register("rm", 1, numbers=True)
CHANGE_RADIUS = callbacks.register("rr", 1, numbers=True)


async def list_text(
    context: Context, chat: ChatRow, t: Translator
) -> tuple[str, list[list[tuple[str, str]]]]:
    deps = Deps.of(context)
    async with deps.db.read() as session:
        subs = await store.subscriptions(session, chat.chat_id)
    if not subs:
        return t("list.empty"), []
    today = clock_for(deps.settings).today()
    lines = [t("list.head")]
    rows: list[list[tuple[str, str]]] = []
    for number, sub in enumerate(subs, start=1):
        assert sub.id is not None
        line = f"{number}. {subscription_text(sub, t)}"
        profile = profile_text(profile_of(sub), t, today)
        lines.append(f"{line} · {esc(profile)}" if profile else line)
        row = [
            (t("button.remove", n=number), callbacks.encode(REMOVE, sub.id)),
            (t("button.label", n=number), callbacks.encode(ADD_LABEL, sub.id)),
        ]
        if sub.radius_km is not None:
            row.append((t("button.radius", n=number), callbacks.encode(CHANGE_RADIUS, sub.id)))
        rows.append(row)
        rows.append([(t("button.profile", n=number), callbacks.encode(callbacks.PROFILE, sub.id))])
    if chat.paused:
        lines.append("\n" + t("list.paused"))
    return "\n".join(lines), rows


async def list_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    text, rows = await list_text(context, chat, t)
    await reply(update, text, keyboard(rows) if rows else None)


@admins_only
async def unsubscribe_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    arg = command_args(update).lower()
    deps = Deps.of(context)
    async with deps.db.write() as session:
        subs = await store.subscriptions(session, chat.chat_id)
        if arg in ("all", "todo", "todas", "todos", "全部"):
            removed = await store.delete_subscriptions(session, chat.chat_id)
        elif arg.isdigit() and 1 <= int(arg) <= len(subs):
            target = subs[int(arg) - 1]
            assert target.id is not None
            removed = await store.delete_subscriptions(session, chat.chat_id, [target.id])
        else:
            removed = -1
    if removed < 0:
        await reply(update, t("unsubscribe.usage", count=len(subs)))
        return
    await reply(update, t.plural("unsubscribe.done", removed))


@admins_only
async def set_paused(update: Update, context: Context, paused: bool) -> None:
    chat, t = await chat_of(update, context)
    async with Deps.of(context).db.write() as session:
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, paused=paused)
    await reply(update, t("pause.done" if paused else "resume.done"))


async def pause_command(update: Update, context: Context) -> None:
    await set_paused(update, context, True)


async def resume_command(update: Update, context: Context) -> None:
    await set_paused(update, context, False)


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    sub_id = data.number()
    async with Deps.of(context).db.write() as session:
        sub = await store.get_subscription(session, chat.chat_id, sub_id)
        if sub is not None and data.action == REMOVE:
            await store.delete_subscriptions(session, chat.chat_id, [sub_id])
    if sub is None:  # removed since (ids are never reused, so it is not someone else's)
        await query.answer(t("button.gone"), show_alert=True)
        return
    await query.answer()
    if data.action == REMOVE:
        text, rows = await list_text(context, chat, t)
        await reply(
            update,
            t("remove.done", subscription=subscription_text(sub, t)) + "\n\n" + text,
            keyboard(rows) if rows else None,
        )
        return
    await set_pending(context, chat, {"flow": "radius", "sub": sub_id, "unit": sub.radius_unit})
    question = t("radius.ask", place=esc(place_text(sub, t.lang))) + "\n" + t("radius.type_hint")
    await reply(update, question, keyboard(radius_rows(t, sub.radius_unit)))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("list", list_command))
    app.add_handler(CommandHandler("unsubscribe", unsubscribe_command))
    app.add_handler(CommandHandler("pause", pause_command))
    app.add_handler(CommandHandler("resume", resume_command))
