"""The person's profile in conversation: the two questions, and "Could I join?".

Three doors lead to the same two skippable questions (time since the stroke, with buttons for
spans; the age, typed): the offer under a new alert's confirmation, the "Stroke/age N" button of
/list, and "Could I join?" on an alert or trial card, which asks only what the profile does not
know yet. Answers are saved into the subscription's profile (a relative answer becomes a date,
an age a birth year: `trialbot.profile`), so nobody is asked twice and matching can leave out
trials the person could not join.

"Could I join?" itself only asks or answers and stores nothing, so it is read-only (any member
may tap it, and it stays on the alert); the answer buttons save, so they are admin-only in
groups and do their job once. The answer goes criterion by criterion (fits / does not fit /
the record does not say), never "you are eligible", and always ends with "Only the study team
can say whether you can join" and the record's contact.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from telegram import Update

from bot import callbacks
from bot.handlers.common import (
    Context,
    Deps,
    chat_of,
    close_step,
    echo,
    esc,
    keyboard,
    reply,
)
from bot.handlers.describe import profile_of, profile_text, subscription_text
from bot.handlers.subscribe import set_pending
from bot.i18n import Translator, translator
from bot.plain import words
from bot.render import ages_words, ago_words
from jobs.facts import facts_of
from storage import chats as store
from storage import trials as trial_store
from storage.tables import ChatRow, SubscriptionRow
from trialbot.clock import clock_for
from trialbot.facts import TrialFacts
from trialbot.model import may_take_people
from trialbot.profile import (
    BUTTON_DAYS,
    Profile,
    ProfileError,
    StrokeAnswer,
    fit,
    parse_age,
    parse_clauses,
    parse_stroke,
    stroke_date_of_answer,
)

PROFILE = callbacks.PROFILE
STROKE = callbacks.register("ps", 1)
"""ps:<week|weeks|months|year|years|over2|skip|clear>: the answer to "when was the stroke?"."""
AGE = callbacks.register("pa", 1)
"""pa:skip: no age given."""
JOIN = callbacks.COULD_I_JOIN
SPANS: tuple[StrokeAnswer, ...] = tuple(BUTTON_DAYS)
_CONTACT = 80


def _today(context: Context) -> date:
    return clock_for(Deps.of(context).settings).today()


async def _subscription(context: Context, chat: ChatRow, sub_id: int) -> SubscriptionRow | None:
    async with Deps.of(context).db.read() as session:
        return await store.get_subscription(session, chat.chat_id, sub_id)


# -- the two questions ---------------------------------------------------------------------


async def ask_stroke(
    update: Update, context: Context, chat: ChatRow, t: Translator, pending: dict[str, Any]
) -> None:
    await set_pending(context, chat, pending | {"step": "stroke"})
    spans = [(t(f"profile.span.{code}"), callbacks.encode(STROKE, code)) for code in SPANS]
    rows = [spans[i : i + 2] for i in range(0, len(spans), 2)]
    rows.append([(t("button.skip"), callbacks.encode(STROKE, "skip"))])
    if pending.get("clearable"):
        rows.append([(t("profile.clear"), callbacks.encode(STROKE, "clear"))])
    await reply(update, t("profile.ask_stroke") + "\n" + t("profile.stroke_hint"), keyboard(rows))


async def ask_age(
    update: Update, context: Context, chat: ChatRow, t: Translator, pending: dict[str, Any]
) -> None:
    await set_pending(context, chat, pending | {"step": "age"})
    rows = [[(t("button.skip"), callbacks.encode(AGE, "skip"))]]
    await reply(update, t("profile.ask_age"), keyboard(rows))


async def start_edit(
    update: Update, context: Context, chat: ChatRow, t: Translator, sub: SubscriptionRow
) -> None:
    """The offer after a new alert and the /list button: both questions, each skippable; a
    profile already set can also be cleared."""
    pending = {"flow": "profile", "sub": sub.id, "clearable": not profile_of(sub).empty}
    await ask_stroke(update, context, chat, t, pending)


async def _after_stroke(
    update: Update, context: Context, chat: ChatRow, t: Translator, pending: dict[str, Any]
) -> None:
    """The age comes next, unless "Could I join?" already knows it from the profile."""
    if pending.get("trial") and pending.get("known_age"):
        await finish(update, context, chat, t, pending)
        return
    await ask_age(update, context, chat, t, pending)


async def finish(
    update: Update, context: Context, chat: ChatRow, t: Translator, pending: dict[str, Any]
) -> None:
    """Save what was given into the subscription (skipped answers leave it as it was), then
    answer "Could I join?" or say what was saved."""
    today = _today(context)
    changes: dict[str, Any] = {}
    if pending.get("stroke"):
        changes["stroke_date"] = date.fromisoformat(pending["stroke"])
    if pending.get("born"):
        changes["birth_year"] = int(pending["born"])
    sub: SubscriptionRow | None = None
    async with Deps.of(context).db.write() as session:
        if pending.get("sub"):
            sub = await store.get_subscription(session, chat.chat_id, int(pending["sub"]))
        if sub is not None and changes:
            store.update_subscription(session, sub, **changes)
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    chat.pending = None
    if pending.get("trial"):
        if sub is not None:
            profile = profile_of(sub)
        else:
            profile = Profile(changes.get("stroke_date"), changes.get("birth_year"))
        registry, ident = pending["trial"]
        saved = sub if sub is not None and changes else None
        await answer_join(update, context, t, registry, ident, profile, today, saved)
        return
    if sub is None:
        await reply(update, t("button.gone"))
        return
    if not changes:
        await reply(update, t("profile.unchanged"))
        return
    shown = profile_text(profile_of(sub), t, today) or ""
    await reply(
        update, t("profile.saved", subscription=subscription_text(sub, t), profile=esc(shown))
    )


async def _clear(
    update: Update, context: Context, chat: ChatRow, t: Translator, sub_id: int
) -> None:
    async with Deps.of(context).db.write() as session:
        sub = await store.get_subscription(session, chat.chat_id, sub_id)
        if sub is not None:
            store.update_subscription(session, sub, stroke_date=None, birth_year=None)
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    chat.pending = None
    if sub is None:
        await reply(update, t("button.gone"))
        return
    await reply(update, t("profile.cleared", subscription=subscription_text(sub, t)))


def _closed(t: Translator, text: str) -> str:
    return t("step.closed.profile", value=echo(text))


async def on_text(
    update: Update, context: Context, chat: ChatRow, t: Translator, text: str
) -> bool:
    """A typed time of the stroke ("March 2024", "2 years ago", "hace 3 semanas") or age;
    False when no question of this flow waits (or the text is no answer: the step closes)."""
    pending = chat.pending or {}
    if pending.get("flow") != "profile":
        return False
    today = _today(context)
    if pending.get("step") == "stroke":
        try:
            try:
                found: date | None = parse_stroke(text, today)
            except ProfileError as exc:
                if exc.key != "date":
                    raise
                found = parse_clauses(text, today).stroke_date  # "stroke 2 years ago"
        except ProfileError as exc:
            await reply(update, t(f"profile.error.{exc.key}", value=echo(text)))
            return True
        if found is None:
            return await close_step(update, context, chat, _closed(t, text))
        pending = pending | {"stroke": found.isoformat()}
        await _after_stroke(update, context, chat, t, pending)
        return True
    if pending.get("step") == "age":
        if not any(ch.isdigit() for ch in text):
            return await close_step(update, context, chat, _closed(t, text))
        try:
            born = parse_age(text, today)
        except ProfileError:
            await reply(update, t("profile.error.age", value=echo(text)))
            return True
        await finish(update, context, chat, t, pending | {"born": born})
        return True
    return False


# -- "Could I join?" -------------------------------------------------------------------------


async def _on_join(
    update: Update, context: Context, chat: ChatRow, t: Translator, data: callbacks.Callback
) -> None:
    """Whose profile to use: the alert's subscription, the chat's only one, or ask; then ask
    what it does not know, or answer at once."""
    query = update.callback_query
    assert query is not None
    registry, ident, target = data.args
    async with Deps.of(context).db.read() as session:
        stored = await trial_store.find_current_trial(session, ident)
        subs = await store.subscriptions(session, chat.chat_id)
    if stored is None:
        await query.answer(t("button.gone"), show_alert=True)
        return
    await query.answer()
    sub: SubscriptionRow | None = None
    if target.isdigit() and target != "0":
        sub = next((s for s in subs if s.id == int(target)), None)
    elif target == "0" and len(subs) == 1:
        sub = subs[0]
    elif target == "0" and len(subs) > 1:
        rows = []
        for number, s in enumerate(subs, start=1):
            name = s.label[:30] if s.label else t("join.which_n", n=number)
            rows.append([(name, callbacks.encode(JOIN, registry, ident, str(s.id)))])
        rows.append([(t("join.someone_else"), callbacks.encode(JOIN, registry, ident, "n"))])
        lines = [t("join.which")]
        lines += [f"{n}. {subscription_text(s, t)}" for n, s in enumerate(subs, start=1)]
        await reply(update, "\n".join(lines), keyboard(rows))
        return
    profile = profile_of(sub) if sub is not None else Profile()
    pending: dict[str, Any] = {
        "flow": "profile",
        "sub": sub.id if sub is not None else None,
        "trial": [registry, ident],
        "known_age": profile.birth_year is not None,
    }
    if profile.stroke_date is None:
        await ask_stroke(update, context, chat, t, pending)
    elif profile.birth_year is None:
        await ask_age(update, context, chat, t, pending)
    else:
        await answer_join(update, context, t, registry, ident, profile, _today(context), None)


def _criterion(
    key: str, verdict: str, record_says: bool, **values: str
) -> tuple[str, dict[str, str]]:
    """The catalog key for one criterion's line: what the person said against what the record
    says, or that one of them does not say."""
    if verdict == "profile_silent":
        return f"join.{key}.unknown" if record_says else f"join.{key}.unknown_silent", values
    return f"join.{key}.{verdict}", values


def join_text(
    title: str, facts: TrialFacts, profile: Profile, today: date, t: Translator
) -> list[str]:
    """The answer, criterion by criterion; the fixed ending is added by the caller."""
    ta = translator(t.lang, "alerts")
    result = fit(profile, facts, today)
    lines = [t("join.head", title=esc(title))]
    window = facts.stroke_window_days
    values = {"window": words.window_words(window, ta) if window else ""}
    if result.days_since_stroke is not None:
        values["ago"] = ago_words(result.days_since_stroke, ta)
    key, values = _criterion("window", result.window, window is not None, **values)
    lines.append(t(key, **values))
    ages = ages_words(facts, ta)
    values = {"ages": ages or ""}
    if result.ages is not None:
        values["age"] = words.number(result.ages[1], ta)
    if result.age == "fits" and ages is None:
        lines.append(t("join.age.fits_any", **values))
    else:
        key, values = _criterion("age", result.age, ages is not None, **values)
        lines.append(t(key, **values))
    if facts.population is None:
        lines.append(t("join.population.record_silent"))
    else:
        who = t(f"join.who.{facts.population}")
        key, values = _criterion("population", result.population, True, who=who)
        lines.append(t(key, **values))
    lines.append(t("join.other"))
    return lines


def contact_text(facts: TrialFacts, t: Translator) -> str:
    """The record's own contact for the study, or that it gives none."""
    for contact in facts.contacts:
        parts = [v[:_CONTACT] for v in (contact.name, contact.phone, contact.email) if v]
        if contact.phone or contact.email:
            return t("join.contact", who=esc(" · ".join(parts)))
    return t("join.no_contact")


async def answer_join(
    update: Update,
    context: Context,
    t: Translator,
    registry: str,
    ident: str,
    profile: Profile,
    today: date,
    saved: SubscriptionRow | None,
) -> None:
    async with Deps.of(context).db.read() as session:
        stored = await trial_store.find_current_trial(session, ident)
    if stored is None:
        await reply(update, t("trial.unknown", id=echo(ident)))
        return
    facts = facts_of(stored.trial, stored.facts)
    title = words.plain_title(stored.trial, stored.verdict, facts, translator(t.lang, "alerts"))
    lines = join_text(title, facts, profile, today, t)
    if not may_take_people(stored.trial.overall_status):  # an old button on a closed study
        lines.insert(1, t("join.closed"))
    lines += ["", t("join.end"), contact_text(facts, t)]
    if saved is not None:
        shown = profile_text(profile, t, today) or ""
        lines += ["", t("join.saved", subscription=subscription_text(saved, t), profile=esc(shown))]
    await reply(update, "\n".join(lines))


# -- buttons ---------------------------------------------------------------------------------


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    """ "Could I join?", the /list and follow-up "Stroke/age" button, and the answers."""
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    if data.action == JOIN:
        await _on_join(update, context, chat, t, data)
        return
    if data.action == PROFILE:
        sub = await _subscription(context, chat, data.number())
        if sub is None:
            await query.answer(t("button.gone"), show_alert=True)
            return
        await query.answer()
        await start_edit(update, context, chat, t, sub)
        return
    pending = chat.pending or {}
    step = pending.get("step") if pending.get("flow") == "profile" else None
    choice = data.args[0]
    if data.action == STROKE and step == "stroke" and (choice in SPANS or choice == "skip"):
        await query.answer()
        if choice != "skip":
            answer: StrokeAnswer = choice  # type: ignore[assignment]
            day = stroke_date_of_answer(answer, _today(context))
            pending = pending | {"stroke": day.isoformat()}
        await _after_stroke(update, context, chat, t, pending)
        return
    if data.action == STROKE and step == "stroke" and choice == "clear" and pending.get("sub"):
        await query.answer()
        await _clear(update, context, chat, t, int(pending["sub"]))
        return
    if data.action == AGE and step == "age" and choice == "skip":
        await query.answer()
        await finish(update, context, chat, t, pending)
        return
    await query.answer(t("button.stale"), show_alert=True)
