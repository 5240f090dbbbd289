"""Plain messages in a private chat: greetings, and sentences read as a proposed subscription.

"i had a stroke 2 years ago are there stem cell trials near columbus ohio" is read by
`bot.understand` and shown back in plain words with **Subscribe** and **Change**. Nothing is
saved until Subscribe is tapped: the proposal waits in `chat.pending` (flow "talk"), with a
number that its buttons carry, so a button of an older proposal cannot confirm a newer one.
The time since the stroke and the age are shown back and, on Subscribe, stored with the
subscription as the person's profile (a stroke date and a birth year, on the service's clock),
so trials the person could not join are left out.
"""

from __future__ import annotations

import contextlib
import secrets
from datetime import date
from typing import Any

from telegram import ReplyKeyboardRemove, Update
from telegram.error import TelegramError

from bot import callbacks
from bot.handlers import start, subscribe
from bot.handlers.common import Context, Deps, chat_of, echo, esc, is_private, keyboard, reply
from bot.handlers.describe import conditions_text, gazetteer, region_text
from bot.i18n import Translator
from bot.parsing import ALL, DEFAULT_RADIUS_KM
from bot.understand import Understood, understand
from storage.tables import ChatRow, SubscriptionRow
from trialbot.clock import clock_for
from trialbot.countries import display_name
from trialbot.geo import DOMINANT, Place
from trialbot.profile import ProfileError, birth_year_of_age, parse_stroke

TALK = callbacks.register("tk", 2)
"""tk:<ok|chg>:<proposal number> -> save the proposal, or change it with the buttons."""
TALK_PLACE = callbacks.register("tp", 2, numbers=True)
"""tp:<index>:<proposal number> -> the place meant, when a name is shared."""
HELP = callbacks.register("hlp", 0)


def _nonce() -> str:
    return str(secrets.randbelow(900_000) + 100_000)


def _draft_sub(proposal: dict[str, Any]) -> SubscriptionRow:
    """An unsaved row, to word the proposal exactly as /list will word the subscription."""
    place = proposal.get("place") or {}
    return SubscriptionRow(
        chat_id=0,
        conditions=proposal.get("cond") or sorted(ALL),
        countries=proposal.get("countries") or [],
        lat=place.get("lat"),
        lon=place.get("lon"),
        radius_km=(proposal.get("radius") or DEFAULT_RADIUS_KM) if place else None,
        radius_unit=(proposal.get("unit") or "km") if place and proposal.get("radius") else "km",
        place_name=place.get("name"),
    )


def _noted(proposal: dict[str, Any], t: Translator) -> list[str]:
    """The time since the stroke and the age, as said ("stroke about 2 years ago", "age 68")."""
    items = []
    since = proposal.get("since") or {}
    if since.get("year"):
        items.append(t("talk.since.in_year", year=since["year"]))
    elif since.get("n") and since.get("unit"):
        items.append(t.plural(f"talk.since.{since['unit']}", int(since["n"])))
    if proposal.get("age") is not None:
        items.append(t("talk.age", age=proposal["age"]))
    return items


def profile_values(proposal: dict[str, Any], today: date) -> dict[str, Any]:
    """The proposal's time since the stroke and age as stored values (`stroke`: ISO date,
    `born`: birth year), on `today`; what cannot be a real date is left out."""
    values: dict[str, Any] = {}
    since = proposal.get("since") or {}
    said = f"{since['n']} {since['unit']} ago" if since.get("n") and since.get("unit") else None
    if since.get("year"):
        said = str(since["year"])
    if said:
        with contextlib.suppress(ProfileError):  # a said year can't be a future date
            values["stroke"] = parse_stroke(said, today).isoformat()
    if proposal.get("age") is not None:
        values["born"] = birth_year_of_age(int(proposal["age"]), today)
    return values


def _proposal_of(understood: Understood) -> dict[str, Any]:
    radius = understood.radius
    return {
        "flow": "talk",
        "step": "confirm",
        "nonce": _nonce(),
        "cond": sorted(understood.conditions or ALL),
        "countries": list(understood.countries),
        "place": None,
        "radius": radius.km if radius else None,
        "unit": radius.unit if radius else "km",
        "since": understood.since.to_json() if understood.since else None,
        "age": understood.age,
    }


async def _show(
    update: Update, context: Context, chat: ChatRow, t: Translator, proposal: dict[str, Any]
) -> None:
    """The proposal in plain words, with Subscribe and Change; nothing saved yet."""
    proposal = proposal | {"step": "confirm"}
    await subscribe.set_pending(context, chat, proposal)
    sub = _draft_sub(proposal)
    what = conditions_text(sub.conditions, t) + t("talk.and") + region_text(sub, t)
    lines = [t("talk.proposal", what=what)]
    noted = _noted(proposal, t)
    if noted:
        items = t("talk.list_sep").join(noted)
        lines.append(t("talk.noted", items=items[:1].upper() + items[1:]))
    for note in proposal.get("notes") or []:
        lines.append(note)
    lines.append(t("talk.nothing_saved"))
    nonce = proposal["nonce"]
    rows = [
        [(t("button.subscribe"), callbacks.encode(TALK, "ok", nonce))],
        [(t("button.change"), callbacks.encode(TALK, "chg", nonce))],
    ]
    if update.effective_message and update.effective_message.location:
        await reply(update, t("location.received"), ReplyKeyboardRemove())
    await reply(update, "\n\n".join(lines), keyboard(rows))


async def _place_then_show(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    proposal: dict[str, Any],
    query: str,
) -> None:
    """Look the place up: one (or one far bigger than its namesakes) goes in the proposal,
    several get "which one?" buttons, none asks again."""
    found = gazetteer().find(query, limit=subscribe.MAX_PLACES)
    if not found and (suggestions := gazetteer().suggest(query)):
        text = t("place.unknown", place=echo(query)) + "\n" + t("place.did_you_mean")
        await _offer_places(update, context, chat, t, proposal, suggestions, text)
        return
    if not found:
        text = t("place.unknown", place=echo(query))
        await subscribe.set_pending(context, chat, proposal | {"step": "place"})
        markup = subscribe.prompt_markup(update, t, location=True)
        await reply(update, text + "\n" + t("place.try_again"), markup)
        return
    if len(found) == 1 or found[0].population >= DOMINANT * found[1].population:
        notes = list(proposal.get("notes") or [])
        if len(found) > 1:
            other = found[1].label(t.lang)
            notes.append(t("place.assumed", place=esc(found[0].label(t.lang)), other=esc(other)))
        place = subscribe.place_dict(found[0], t.lang)
        await _show(update, context, chat, t, proposal | {"place": place, "notes": notes})
        return
    await _offer_places(
        update, context, chat, t, proposal, found, t("talk.did_you_mean", place=echo(query))
    )


async def _offer_places(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    proposal: dict[str, Any],
    candidates: list[Place],
    text: str,
) -> None:
    """A button per candidate place (several namesakes, or close spellings of a typo); the
    tapped one goes into the proposal."""
    stored = gazetteer().choice_labels(candidates, subscribe.STORED_NAME_LANG)
    places = [
        subscribe.place_dict(p) | {"name": name} for p, name in zip(candidates, stored, strict=True)
    ]
    await subscribe.set_pending(context, chat, proposal | {"step": "choose", "places": places})
    nonce = proposal["nonce"]
    shown = gazetteer().choice_labels(candidates, t.lang)  # in the reader's language
    rows = [[(label[:60], callbacks.encode(TALK_PLACE, i, nonce))] for i, label in enumerate(shown)]
    rows.append([(t("button.cancel"), callbacks.encode(subscribe.CANCEL))])
    await reply(update, text, keyboard(rows))


def _understood_items(understood: Understood, t: Translator) -> list[str]:
    """What a message said that the bot could read, in words (for "here is what I read")."""
    items = []
    if understood.conditions:
        items.append(conditions_text(sorted(understood.conditions), t))
    if understood.place:
        found = gazetteer().find(understood.place, limit=1)
        items.append(esc(found[0].label(t.lang, with_admin1=True) if found else understood.place))
    if understood.countries:
        items.append(", ".join(esc(display_name(c, t.lang)) for c in understood.countries))
    if understood.radius:
        key = "radius.mi" if understood.radius.unit == "mi" else "radius.km"
        items.append(t(key, km=understood.radius.value, mi=understood.radius.value))
    proposal = {
        "since": understood.since.to_json() if understood.since else None,
        "age": understood.age,
    }
    return items + _noted(proposal, t)


async def on_pending(
    update: Update, context: Context, chat: ChatRow, t: Translator, text: str
) -> bool:
    """The typed answer to the talk flow's own question (which place?); False otherwise."""
    pending = chat.pending or {}
    if pending.get("flow") != "talk" or pending.get("step") != "place":
        return False
    understood = understand(text)
    if understood.wants_alerts and understood.conditions:
        return False  # a new request, not a place: typed.py closes the step and reads it anew
    await _place_then_show(update, context, chat, t, pending, text.strip()[:100])
    return True


async def answer_text(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    text: str,
    *,
    unclear: bool = True,
) -> bool:
    """A plain message in a private chat; True when answered. `unclear` False: a note has
    just closed a step for this text, so answer only if it asks for alerts."""
    if not is_private(update) or not text.strip():
        return False
    understood = understand(text)
    if understood.wants_alerts:
        await _propose(update, context, chat, t, understood)
        return True
    if not unclear:
        return False  # the closing note was the answer; only a real request adds to it
    if understood.thanks and not understood.anything:
        await reply(update, t("talk.welcome"))
        return True
    if understood.greeting and not understood.anything:
        await start.start(update, context)
        return True
    lines = []
    items = _understood_items(understood, t)
    if items:
        lines.append(t("talk.understood", items=t("talk.and").join(items)))
    else:
        lines.append(t("talk.unclear"))
    lines.append(t("talk.how"))
    rows = [
        [(t("button.subscribe"), callbacks.encode(start.START_SUBSCRIBE))],
        [(t("button.help"), callbacks.encode(HELP))],
    ]
    await reply(update, "\n\n".join(lines), keyboard(rows))
    return True


async def _propose(
    update: Update, context: Context, chat: ChatRow, t: Translator, understood: Understood
) -> None:
    proposal = _proposal_of(understood)
    if understood.bad_distance:
        proposal["notes"] = [
            t(
                "talk.bad_distance",
                value=echo(understood.bad_distance),
                km=DEFAULT_RADIUS_KM,
            )
        ]
    if understood.place:
        await _place_then_show(update, context, chat, t, proposal, understood.place)
    elif understood.near_me or understood.unknown_place:
        await subscribe.set_pending(context, chat, proposal | {"step": "place"})
        if understood.unknown_place:
            text = t("place.unknown", place=echo(understood.unknown_place))
        else:
            text = t("talk.ask_where", items=t("talk.and").join(_understood_items(understood, t)))
        await reply(
            update,
            text + "\n" + t("place.try_again"),
            subscribe.prompt_markup(update, t, location=True),
        )
    else:
        await _show(update, context, chat, t, proposal)


async def on_location(update: Update, context: Context, chat: ChatRow, t: Translator) -> bool:
    """A pin for a proposal waiting for its place; False when no proposal waits for one."""
    pending = chat.pending or {}
    message = update.effective_message
    if pending.get("flow") != "talk" or message is None or message.location is None:
        return False
    if pending.get("step") not in ("place", "choose", "confirm"):
        return False
    place = subscribe.pin_place(message.location.latitude, message.location.longitude, t.lang)
    proposal = {k: v for k, v in pending.items() if k != "places"}
    await _show(update, context, chat, t, proposal | {"place": place, "countries": []})
    return True


async def _drop_buttons(update: Update) -> None:
    """A proposal's buttons do their job once."""
    query = update.callback_query
    if query is None:
        return
    with contextlib.suppress(TelegramError):
        await query.edit_message_reply_markup(None)


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    """Subscribe / Change on a proposal, a place picked for it, and Help."""
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    if data.action == HELP:
        await query.answer()
        await reply(update, t("help.text"))
        return
    pending = chat.pending or {}
    nonce = data.args[-1]
    if pending.get("flow") != "talk" or pending.get("nonce") != nonce:
        await query.answer(t("button.stale"), show_alert=True)
        return
    if data.action == TALK_PLACE and pending.get("step") == "choose":
        places = pending.get("places") or []
        index = data.number(0)
        if index < len(places):
            await query.answer()
            await _drop_buttons(update)
            proposal = {k: v for k, v in pending.items() if k != "places"}
            await _show(update, context, chat, t, proposal | {"place": places[index]})
            return
    if data.action == TALK and pending.get("step") == "confirm" and data.args[0] == "ok":
        await query.answer()
        await _drop_buttons(update)
        if await subscribe.at_limit(context, chat, update, t):
            return
        place = pending.get("place")
        base = {"cond": pending.get("cond"), "unit": pending.get("unit") or "km"}
        base |= profile_values(pending, clock_for(Deps.of(context).settings).today())
        await subscribe.create(
            update,
            context,
            chat,
            t,
            base,
            countries=pending.get("countries") or [],
            place=place,
            radius=pending.get("radius"),
        )
        return
    if data.action == TALK and data.args[0] == "chg":
        await query.answer()
        await _drop_buttons(update)
        draft: dict[str, Any] = {"unit": pending.get("unit") or "km"}
        draft |= profile_values(pending, clock_for(Deps.of(context).settings).today())
        if pending.get("place"):
            draft["place"] = pending["place"]
        elif pending.get("countries"):
            draft["countries"] = pending["countries"]
        await subscribe.ask_condition(update, context, chat, t, draft=draft)
        return
    await query.answer(t("button.stale"), show_alert=True)
