"""/trial and /recent: stored trials in plain words, and which ones match this chat now."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import Context, Deps, chat_of, command_args, echo, esc, keyboard, reply
from bot.markup import to_markup
from bot.render import Rendered, render_detail
from jobs.facts import facts_of
from storage import chats as store
from storage import trials as trial_store
from storage.chats import filter_of
from storage.tables import ChatRow, SubscriptionRow
from trialbot.classification import Classification
from trialbot.clock import clock_for
from trialbot.matching import Match, SubscriptionFilter, matches
from trialbot.matching import gazetteer_geocoder as geocode
from trialbot.model import Trial

SEE_RECENT = callbacks.register("rc", 0)
RECENT_LIMIT = 10


@dataclass(frozen=True)
class Found:
    trial: Trial
    verdict: Classification
    matches: tuple[Match, ...]


async def matching(deps: Deps, filters: list[SubscriptionFilter]) -> list[Found]:
    """Stored trials matching any of the filters on the service's clock: those that fit every
    profile criterion first, then those whose record does not say; newest first within each."""
    today = clock_for(deps.settings).today()
    async with deps.db.read() as session:
        current = await trial_store.current_trials(session)
    found = []
    for stored in current:
        facts = facts_of(stored.trial, stored.facts)
        hits = matches(stored.trial, stored.verdict, filters, geocode, facts=facts, today=today)
        if hits:
            found.append(Found(stored.trial, stored.verdict, hits))
    found.sort(key=lambda f: f.trial.last_update or "", reverse=True)
    found.sort(key=lambda f: min(m.fit.rank if m.fit else 0 for m in f.matches))
    return found


async def count_matches(deps: Deps, chat: ChatRow, sub: SubscriptionRow) -> int:
    return len(await matching(deps, [filter_of(chat, sub)]))


async def send_rendered(update: Update, rendered: Rendered) -> None:
    chat = update.effective_chat
    assert chat is not None
    await chat.send_message(
        rendered.text,
        parse_mode=ParseMode.HTML,
        reply_markup=to_markup(rendered),
        disable_web_page_preview=True,
    )


async def trial_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    ident = command_args(update).split()[0] if command_args(update) else ""
    if not ident:
        await reply(update, t("trial.usage"))
        return
    await show_trial(update, context, chat, ident)


async def show_trial(update: Update, context: Context, chat: ChatRow, ident: str) -> None:
    _, t = await chat_of(update, context)
    deps = Deps.of(context)
    async with deps.db.read() as session:
        stored = await trial_store.find_current_trial(session, ident[:80])
        subs = await store.subscriptions(session, chat.chat_id)
    if stored is None:
        await reply(update, t("trial.unknown", id=echo(ident)))
        return
    facts = facts_of(stored.trial, stored.facts)
    today = clock_for(deps.settings).today()
    filters = [filter_of(chat, s) for s in subs]
    found = matches(stored.trial, stored.verdict, filters, geocode, facts=facts, today=today)
    rendered = render_detail(
        stored.trial,
        stored.verdict,
        chat.language or "en",
        matches=found,
        facts=facts,
        today=today,
        known=stored.known,  # find_current_trial loads its publications
    )
    await send_rendered(update, rendered)


async def recent_command(update: Update, context: Context) -> None:
    chat, _ = await chat_of(update, context)
    await show_recent(update, context, chat)


async def show_recent(update: Update, context: Context, chat: ChatRow) -> None:
    _, t = await chat_of(update, context)
    deps = Deps.of(context)
    async with deps.db.read() as session:
        subs = await store.subscriptions(session, chat.chat_id)
    if not subs:
        await reply(update, t("recent.no_subscriptions"))
        return
    found = await matching(deps, [filter_of(chat, s) for s in subs])
    if not found:
        await reply(update, t("recent.none"))
        return
    lines = [t.plural("recent.head", len(found))]
    rows = []
    for number, item in enumerate(found[:RECENT_LIMIT], start=1):
        trial = item.trial
        status = t(f"status.{(trial.overall_status or 'UNKNOWN').lower()}")
        nearest = min(
            (s.distance_km for m in item.matches for s in m.sites if s.distance_km is not None),
            default=None,
        )
        if nearest is not None:
            where = t("recent.km", km=round(nearest))
        elif any(m.by_country_only for m in item.matches):
            where = t("recent.unplaced")  # in the country of a radius, position unknown
        else:
            where = ""
        lines.append(f"{number}. {esc(trial.title)} ({status}{where})")
        rows.append(
            [
                (
                    f"{number}. {trial.registry_id}",
                    callbacks.encode(callbacks.TRIAL_DETAILS, trial.registry, trial.registry_id),
                )
            ]
        )
    if len(found) > RECENT_LIMIT:
        lines.append(t("recent.more", count=len(found) - RECENT_LIMIT))
    await reply(update, "\n".join(lines), keyboard(rows))


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    query = update.callback_query
    assert query is not None
    chat, _ = await chat_of(update, context)
    await query.answer()
    if data.action == SEE_RECENT:
        await show_recent(update, context, chat)
    elif data.action == callbacks.TRIAL_DETAILS:
        await show_trial(update, context, chat, f"{data.args[0]}:{data.args[1]}")


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("trial", trial_command))
    app.add_handler(CommandHandler("recent", recent_command))
