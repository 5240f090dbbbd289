"""Subscribing: the button flow, the typed shortcut, typed places, and location pins.

The flow's state lives in `chat.pending` (a small JSON object), not in memory, so it survives
a restart and works with concurrent updates. Every button names the step it belongs to; a
button from an older step (or a forged one) is answered politely and changes nothing.
"""

from __future__ import annotations

from typing import Any

from telegram import (
    ForceReply,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import Application, CommandHandler

from bot import callbacks
from bot.handlers.common import (
    Context,
    Deps,
    admins_only,
    chat_of,
    close_step,
    command_args,
    echo,
    esc,
    is_private,
    keyboard,
    reply,
)
from bot.handlers.describe import gazetteer, place_labels, subscription_text
from bot.handlers.trials import SEE_RECENT, count_matches
from bot.i18n import Translator
from bot.parsing import DEFAULT_RADIUS_KM, ParseProblem, parse_subscribe
from storage import chats as store
from storage.tables import ChatRow, SubscriptionRow
from trialbot.countries import display_name, parse_country_list, suggest_countries
from trialbot.geo import DOMINANT, Place, parse_coordinates, validate_radius_km
from trialbot.matching import ALL_CONDITIONS

PICK_CONDITION = callbacks.register("sc", 1)
PICK_WHERE = callbacks.register("sw", 1)
PICK_PLACE = callbacks.register("sp", 1, numbers=True)
PICK_RADIUS = callbacks.register("sr", 1, numbers=True)
ADD_LABEL = callbacks.register("lb", 1, numbers=True)
CANCEL = callbacks.register("cx", 0)
NONE_OF_THESE = callbacks.register("sn", 0)

CONDITION_CODES: dict[str, frozenset[str]] = {
    "i": frozenset({"ischemic"}),
    "h": frozenset({"intracerebral_hemorrhage"}),
    "s": frozenset({"subarachnoid_hemorrhage"}),
    "a": ALL_CONDITIONS,
}
RADII = (25, 50, 100, 300, 1000)
MAX_PLACES = 6


STORED_NAME_LANG = "en"
"""Place names are stored in one language, with their region ("Columbus, Ohio, United
States"); readers see them in their own language, found again from the name and the point
(`describe.place_text`)."""


def place_dict(place: Place, lang: str = STORED_NAME_LANG) -> dict[str, Any]:
    """What a radius subscription stores: the name carries its region ("Columbus, Ohio")."""
    name = place.label(STORED_NAME_LANG, with_admin1=True)
    return {"name": name, "lat": place.lat, "lon": place.lon, "country": place.country}


def pin_place(lat: float, lon: float, lang: str = STORED_NAME_LANG) -> dict[str, Any]:
    """A shared location, named after the nearest town (with its region) for display."""
    nearest = gazetteer().town_near(lat, lon)
    name = nearest.label(STORED_NAME_LANG, with_admin1=True) if nearest else f"{lat:.3f}, {lon:.3f}"
    return {"name": name, "lat": lat, "lon": lon, "country": nearest.country if nearest else None}


def shown_place(place: dict[str, Any], lang: str) -> str:
    """A place of the flow (a `place_dict`) as the reader should see it."""
    return gazetteer().with_region(str(place["name"]), place["lat"], place["lon"], lang)


async def set_pending(context: Context, chat: ChatRow, pending: dict[str, Any] | None) -> None:
    async with Deps.of(context).db.write() as session:
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=pending)
    chat.pending = pending


def prompt_markup(update: Update, t: Translator, *, location: bool = False) -> Any:
    """Typed answers: a location button in private chats, a forced reply in groups
    (with privacy mode on, the bot only sees replies to its own messages)."""
    if not is_private(update):
        return ForceReply(selective=True, input_field_placeholder=t("prompt.placeholder"))
    if location:
        return ReplyKeyboardMarkup(
            [[KeyboardButton(t("button.share_location"), request_location=True)]],
            one_time_keyboard=True,
            resize_keyboard=True,
        )
    return None


async def ask_condition(update: Update, context: Context, chat: ChatRow, t: Translator) -> None:
    await set_pending(context, chat, {"flow": "sub", "step": "cond"})
    rows = [
        [(t("cond.ischemic"), callbacks.encode(PICK_CONDITION, "i"))],
        [(t("cond.intracerebral_hemorrhage"), callbacks.encode(PICK_CONDITION, "h"))],
        [(t("cond.subarachnoid_hemorrhage"), callbacks.encode(PICK_CONDITION, "s"))],
        [(t("cond.any"), callbacks.encode(PICK_CONDITION, "a"))],
    ]
    await reply(update, t("sub.ask_condition"), keyboard(rows))


@admins_only
async def subscribe_command(update: Update, context: Context) -> None:
    chat, t = await chat_of(update, context)
    if await _at_limit(context, chat, update, t):
        return
    args = command_args(update)
    if not args:
        await ask_condition(update, context, chat, t)
        return
    parsed = parse_subscribe(args)
    if isinstance(parsed, ParseProblem):
        await reply(update, _problem_text(parsed, t))
        return
    base = {"flow": "sub", "cond": sorted(parsed.conditions), "label": parsed.label}
    if parsed.coordinates:
        place = pin_place(*parsed.coordinates, t.lang)
        await create(update, context, chat, t, base, place=place, radius=parsed.radius_km)
    elif parsed.place:
        await resolve_place(update, context, chat, t, base, parsed.place, parsed.radius_km)
    else:
        await create(update, context, chat, t, base, countries=parsed.countries)


def _problem_text(problem: ParseProblem, t: Translator) -> str:
    values = {k: echo(v) for k, v in problem.values.items()}
    text = t(problem.key, **values)
    if problem.key == "sub.parse.country":
        codes = suggest_countries(problem.values.get("value", ""))
        if codes:
            text += "\n" + t(
                "suggest.countries", names=", ".join(esc(display_name(c, t.lang)) for c in codes)
            )
    return text + "\n\n" + t("sub.shortcut_help")


async def _at_limit(context: Context, chat: ChatRow, update: Update, t: Translator) -> bool:
    async with Deps.of(context).db.read() as session:
        count = await store.count_subscriptions(session, chat.chat_id)
    if count >= store.MAX_SUBSCRIPTIONS:
        await reply(update, t("sub.too_many", limit=store.MAX_SUBSCRIPTIONS))
        return True
    return False


async def resolve_place(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    base: dict[str, Any],
    query: str,
    radius: int | None,
    *,
    answering: bool = False,
) -> bool:
    """Look a typed place up: one match goes on, several ask which with a button each, a
    close spelling asks "Did you mean" with a button each; neither closes the step when it
    was `answering` an open question (returns False: the text is then a new message)."""
    coordinates = parse_coordinates(query)
    if coordinates:
        place = pin_place(*coordinates, t.lang)
        await _after_place(update, context, chat, t, base, place, radius)
        return True
    found = gazetteer().find(query, limit=MAX_PLACES)
    if not found:
        # One round of "Did you mean" per question: a second miss closes the step.
        offered = answering and base.get("step") == "choose"
        suggestions = [] if offered else gazetteer().suggest(query)
        if suggestions:
            text = t("place.unknown", place=echo(query)) + "\n" + t("place.did_you_mean")
            await _offer_places(update, context, chat, t, base, suggestions, radius, text)
            return True
        if answering:
            return await close_step(
                update, context, chat, t("step.closed.place", place=echo(query))
            )
        await set_pending(context, chat, base | {"step": "place", "radius": radius})
        await reply(
            update,
            t("place.unknown", place=echo(query)) + "\n" + t("place.try_again"),
            prompt_markup(update, t, location=True),
        )
        return True
    if len(found) == 1 or found[0].population >= DOMINANT * found[1].population:
        if len(found) > 1:
            other = found[1].label(t.lang, with_admin1=True)
            place_ = found[0].label(t.lang, with_admin1=True)
            note = t("place.assumed", place=esc(place_), other=esc(other))
            base = base | {"note": note}
        await _after_place(update, context, chat, t, base, place_dict(found[0]), radius)
        return True
    text = t("place.choose", place=echo(query))
    await _offer_places(update, context, chat, t, base, found, radius, text)
    return True


async def _offer_places(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    base: dict[str, Any],
    candidates: list[Place],
    radius: int | None,
    text: str,
) -> None:
    """A button per candidate place (with its region) and "None of these"; tapping one goes
    on as if its name had been typed exactly. Typing another place still answers."""
    places = [place_dict(p) for p in candidates]
    await set_pending(context, chat, base | {"step": "choose", "places": places, "radius": radius})
    labels = place_labels(candidates, t.lang)
    rows = [[(label[:60], callbacks.encode(PICK_PLACE, i))] for i, label in enumerate(labels)]
    rows.append([(t("button.none_of_these"), callbacks.encode(NONE_OF_THESE))])
    await reply(update, text, keyboard(rows))


async def _after_place(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    base: dict[str, Any],
    place: dict[str, Any],
    radius: int | None,
) -> None:
    if radius is not None:
        await create(update, context, chat, t, base, place=place, radius=radius)
        return
    note = base.get("note")
    base = {k: v for k, v in base.items() if k != "note"}
    await set_pending(context, chat, base | {"step": "radius", "place": place})
    rows = [[(t("radius.km", km=km), callbacks.encode(PICK_RADIUS, km)) for km in RADII]]
    question = t("radius.ask", place=esc(shown_place(place, t.lang)))
    await reply(update, f"{note}\n\n{question}" if note else question, keyboard(rows))


async def create(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    base: dict[str, Any],
    *,
    countries: tuple[str, ...] | list[str] = (),
    place: dict[str, Any] | None = None,
    radius: int | None = None,
) -> None:
    """Store the subscription, then say what it is and how many trials match today."""
    deps = Deps.of(context)
    async with deps.db.write() as session:
        if await store.count_subscriptions(session, chat.chat_id) >= store.MAX_SUBSCRIPTIONS:
            sub = None
        else:
            sub = await store.add_subscription(
                session,
                chat.chat_id,
                conditions=base.get("cond") or sorted(ALL_CONDITIONS),
                countries=list(countries),
                lat=place["lat"] if place else None,
                lon=place["lon"] if place else None,
                radius_km=(radius or DEFAULT_RADIUS_KM) if place else None,
                place_name=place["name"] if place else None,
                point_country=place.get("country") if place else None,
                label=base.get("label"),
            )
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    if sub is None:
        await reply(update, t("sub.too_many", limit=store.MAX_SUBSCRIPTIONS))
        return
    await confirm(update, context, chat, t, sub, "sub.created", note=base.get("note"))


async def confirm(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    sub: SubscriptionRow,
    key: str,
    *,
    note: str | None = None,
) -> None:
    assert sub.id is not None
    count = await count_matches(Deps.of(context), chat, sub)
    text = t(key, subscription=subscription_text(sub, t)) + "\n" + t.plural("sub.count", count)
    if note:
        text += "\n\n" + note
    buttons = []
    if count:
        buttons.append([(t("button.see_them"), callbacks.encode(SEE_RECENT))])
    if not sub.label:
        buttons.append([(t("button.add_label"), callbacks.encode(ADD_LABEL, sub.id))])
    if is_private(update) and update.effective_message and update.effective_message.location:
        await reply(update, t("location.received"), ReplyKeyboardRemove())
    await reply(update, text, keyboard(buttons) if buttons else None)


# -- buttons -------------------------------------------------------------------------------


async def on_button(update: Update, context: Context, data: callbacks.Callback) -> None:
    """Buttons of the subscribe flow (dispatched from bot.handlers.buttons)."""
    query = update.callback_query
    assert query is not None
    chat, t = await chat_of(update, context)
    pending = chat.pending or {}
    if data.action == "sub":
        await query.answer()
        if await _at_limit(context, chat, update, t):
            return
        await ask_condition(update, context, chat, t)
        return
    if data.action == CANCEL:
        await query.answer(t("flow.cancelled"))
        await set_pending(context, chat, None)
        return
    if data.action == NONE_OF_THESE and (pending.get("flow"), pending.get("step")) == (
        "sub",
        "choose",
    ):
        await query.answer()
        await set_pending(context, chat, pending | {"step": "place", "places": None})
        await reply(update, t("place.type_again"), prompt_markup(update, t, location=True))
        return
    if data.action == ADD_LABEL:
        sub_id = data.number()
        async with Deps.of(context).db.read() as session:
            sub = await store.get_subscription(session, chat.chat_id, sub_id)
        if sub is None:
            await query.answer(t("button.stale"), show_alert=True)
            return
        await query.answer()
        await set_pending(context, chat, {"flow": "label", "sub": sub_id})
        await reply(update, t("label.ask"), prompt_markup(update, t))
        return
    step = pending.get("step") if pending.get("flow") == "sub" else None
    if data.action == PICK_CONDITION and step == "cond" and data.args[0] in CONDITION_CODES:
        await query.answer()
        cond = sorted(CONDITION_CODES[data.args[0]])
        await set_pending(context, chat, {"flow": "sub", "step": "where", "cond": cond})
        rows = [
            [(t("where.anywhere"), callbacks.encode(PICK_WHERE, "any"))],
            [(t("where.countries"), callbacks.encode(PICK_WHERE, "cty"))],
            [(t("where.near"), callbacks.encode(PICK_WHERE, "near"))],
        ]
        await reply(update, t("sub.ask_where"), keyboard(rows))
        return
    if data.action == PICK_WHERE and step == "where" and data.args[0] in ("any", "cty", "near"):
        await query.answer()
        if data.args[0] == "any":
            await create(update, context, chat, t, pending)
        elif data.args[0] == "cty":
            await set_pending(context, chat, pending | {"step": "countries"})
            await reply(update, t("countries.ask"), prompt_markup(update, t))
        else:
            await set_pending(context, chat, pending | {"step": "place", "radius": None})
            key = "place.ask_private" if is_private(update) else "place.ask_group"
            await reply(update, t(key), prompt_markup(update, t, location=True))
        return
    if data.action == PICK_PLACE and step == "choose":
        places = pending.get("places") or []
        index = data.number()
        if index < len(places):
            await query.answer()
            await _after_place(
                update, context, chat, t, pending, places[index], pending.get("radius")
            )
            return
    if data.action == PICK_RADIUS:
        km = data.number()
        if km in RADII and step == "radius":
            await query.answer()
            await create(update, context, chat, t, pending, place=pending["place"], radius=km)
            return
        if km in RADII and pending.get("flow") == "radius":
            await query.answer()
            await _set_radius(update, context, chat, t, int(pending["sub"]), km)
            return
    await query.answer(t("button.stale"), show_alert=True)


async def _set_radius(
    update: Update, context: Context, chat: ChatRow, t: Translator, sub_id: int, km: int
) -> None:
    async with Deps.of(context).db.write() as session:
        sub = await store.get_subscription(session, chat.chat_id, sub_id)
        if sub is not None:
            store.update_subscription(session, sub, radius_km=km)
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    if sub is None:
        await reply(update, t("button.stale"))
        return
    await confirm(update, context, chat, t, sub, "sub.updated")


# -- typed answers and locations -----------------------------------------------------------


async def on_text(
    update: Update, context: Context, chat: ChatRow, t: Translator, text: str
) -> bool:
    """Typed input for a waiting step of these flows; False if none was waiting."""
    pending = chat.pending or {}
    if pending.get("flow") == "label":
        label = " ".join(text.split())[:40]
        async with Deps.of(context).db.write() as session:
            sub = await store.get_subscription(session, chat.chat_id, int(pending["sub"]))
            if sub is not None:
                store.update_subscription(session, sub, label=label or None)
            row = await store.get_chat(session, chat.chat_id, for_update=True)
            if row is not None:
                store.update_chat(session, row, pending=None)
        if sub is not None:
            await reply(update, t("label.saved", subscription=subscription_text(sub, t)))
        return True
    if pending.get("flow") != "sub":
        return False
    step = pending.get("step")
    if step == "countries":
        codes, unknown = parse_country_list(text)
        if unknown or not codes:
            value = unknown[0] if unknown else text
            if not suggest_countries(value):
                return await close_step(
                    update, context, chat, t("step.closed.countries", value=echo(value))
                )
            problem = ParseProblem("sub.parse.country", {"value": value})
            await reply(
                update,
                _problem_text(problem, t).split("\n\n")[0] + "\n" + t("countries.ask"),
                prompt_markup(update, t),
            )
            return True
        await create(update, context, chat, t, pending, countries=codes)
        return True
    if step in ("place", "choose"):
        return await resolve_place(
            update, context, chat, t, pending, text, pending.get("radius"), answering=True
        )
    if step == "radius":
        digits = "".join(ch for ch in text if ch.isdigit())
        try:
            km = validate_radius_km(int(digits)) if digits else None
        except ValueError:
            km = None
        if km is None:
            await reply(update, t("radius.invalid", value=echo(text)))
            return True
        await create(update, context, chat, t, pending, place=pending["place"], radius=km)
        return True
    return False


@admins_only
async def on_location(update: Update, context: Context, chat: ChatRow, t: Translator) -> None:
    """A pin: the answer to a waiting step, or else a radius subscription around it."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    lat, lon = message.location.latitude, message.location.longitude
    place = pin_place(lat, lon, t.lang)
    pending = chat.pending or {}
    if pending.get("flow") == "sub" and pending.get("step") in ("place", "choose"):
        await _after_place(update, context, chat, t, pending, place, pending.get("radius"))
        return
    if pending.get("flow") not in (None, "sub"):
        return
    async with Deps.of(context).db.write() as session:
        subs = await store.subscriptions(session, chat.chat_id)
        near = [s for s in subs if s.radius_km is not None]
        if len(near) == 1:
            sub: SubscriptionRow | None = near[0]
            assert sub is not None
            store.update_subscription(
                session,
                sub,
                lat=lat,
                lon=lon,
                place_name=place["name"],
                point_country=place["country"],
            )
            key = "sub.moved"
        elif len(subs) >= store.MAX_SUBSCRIPTIONS:
            sub, key = None, ""
        else:
            sub = await store.add_subscription(
                session,
                chat.chat_id,
                conditions=sorted(ALL_CONDITIONS),
                lat=lat,
                lon=lon,
                radius_km=DEFAULT_RADIUS_KM,
                place_name=place["name"],
                point_country=place["country"],
            )
            key = "sub.created"
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None and sub is not None:
            store.update_chat(session, row, pending={"flow": "radius", "sub": sub.id})
    if sub is None:
        await reply(update, t("sub.too_many", limit=store.MAX_SUBSCRIPTIONS))
        return
    await confirm(update, context, chat, t, sub, key)
    rows = [[(t("radius.km", km=km), callbacks.encode(PICK_RADIUS, km)) for km in RADII]]
    await reply(update, t("radius.adjust"), keyboard(rows))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("subscribe", subscribe_command))
