"""Subscribing: the button flow, the typed shortcut, typed places, and location pins.

The flow's state lives in `chat.pending` (a small JSON object), not in memory, so it survives
a restart and works with concurrent updates. Every button names the step it belongs to; a
button from an older step (or a forged one) is answered politely and changes nothing.
"""

from __future__ import annotations

import math
from datetime import date
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
from bot.handlers.describe import (
    gazetteer,
    place_labels,
    profile_of,
    profile_text,
    subscription_text,
)
from bot.handlers.trials import SEE_RECENT, count_matches
from bot.i18n import Translator
from bot.parsing import DEFAULT_RADIUS_KM, ParseProblem, Radius, parse_radius, parse_subscribe
from storage import chats as store
from storage.tables import ChatRow, SubscriptionRow
from trialbot.clock import clock_for
from trialbot.countries import display_name, parse_country_list, suggest_countries
from trialbot.geo import DOMINANT, Place, km_from, parse_coordinates
from trialbot.matching import ALL_CONDITIONS
from trialbot.profile import ProfileError, parse_clauses

PICK_CONDITION = callbacks.register("sc", 1)
PICK_WHERE = callbacks.register("sw", 1)
PICK_PLACE = callbacks.register("sp", 1, numbers=True)
PICK_RADIUS = callbacks.register("sr", 1, numbers=True)
PICK_RADIUS_MI = callbacks.register("sm", 1, numbers=True)
ADD_LABEL = callbacks.register("lb", 1, numbers=True)
CANCEL = callbacks.register("cx", 0)
PIN = callbacks.register("pn", 3)
"""pn:<new|subscription id>:<lat>:<lon>: a pin becomes a new alert, or moves one."""
UNDO_MOVE = callbacks.register("mu", 3)
"""mu:<subscription id>:<lat>:<lon>: put a moved alert back where it was."""
NONE_OF_THESE = callbacks.register("sn", 0)

CONDITION_CODES: dict[str, frozenset[str]] = {
    "i": frozenset({"ischemic"}),
    "h": frozenset({"intracerebral_hemorrhage"}),
    "s": frozenset({"subarachnoid_hemorrhage"}),
    "a": ALL_CONDITIONS,
}
RADII = (25, 50, 100, 300, 1000)
RADII_MI = (15, 30, 60, 200, 600)
"""The distance buttons for someone who gave miles (about the same distances as RADII)."""


def radius_rows(t: Translator, unit: str = "km") -> list[list[tuple[str, str]]]:
    """Distance buttons in the unit the person uses; a typed distance works too."""
    if unit == "mi":
        return [[(t("radius.mi", mi=mi), callbacks.encode(PICK_RADIUS_MI, mi)) for mi in RADII_MI]]
    return [[(t("radius.km", km=km), callbacks.encode(PICK_RADIUS, km)) for km in RADII]]


MAX_PLACES = 6
PROFILE_KEYS = ("stroke", "born")
"""The profile in a flow's pending state: the stroke's ISO date and the birth year (JSON)."""
WHERE_CHOICES = ("any", "cty", "near", "kept")


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


async def ask_condition(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    draft: dict[str, Any] | None = None,
) -> None:
    """The first step of the button flow; `draft`: a place and distance already given (a
    proposal being changed), offered again at the "where" step."""
    pending: dict[str, Any] = {"flow": "sub", "step": "cond"}
    if draft:
        pending["draft"] = draft
        pending |= {k: draft[k] for k in PROFILE_KEYS if draft.get(k)}  # kept to the end
    await set_pending(context, chat, pending)
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
    if await at_limit(context, chat, update, t):
        return
    args = command_args(update)
    if not args:
        await ask_condition(update, context, chat, t)
        return
    try:  # "stroke 2 years ago", "age 68" anywhere after the region: the person's profile
        clauses = parse_clauses(args, clock_for(Deps.of(context).settings).today())
    except ProfileError as exc:
        text = t(f"profile.error.{exc.key}", value=echo(args))
        await reply(update, text + "\n\n" + t("sub.shortcut_help"))
        return
    parsed = parse_subscribe(clauses.rest or "any")
    if isinstance(parsed, ParseProblem):
        await reply(update, _problem_text(parsed, t))
        return
    base = {
        "flow": "sub",
        "cond": sorted(parsed.conditions),
        "label": parsed.label,
        "unit": parsed.radius_unit,
        "stroke": clauses.stroke_date.isoformat() if clauses.stroke_date else None,
        "born": clauses.birth_year,
    }
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


async def at_limit(context: Context, chat: ChatRow, update: Update, t: Translator) -> bool:
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
    rows = radius_rows(t, base.get("unit") or "km")
    question = t("radius.ask", place=esc(shown_place(place, t.lang))) + "\n" + t("radius.type_hint")
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
) -> SubscriptionRow | None:
    """Store the subscription, then say what it is and how many trials match today.

    One that would do what an existing one does is not stored: the answer points to it.
    Returns the new row, or None if nothing was stored.
    """
    candidate = SubscriptionRow(
        chat_id=chat.chat_id,
        conditions=sorted(set(base.get("cond") or ALL_CONDITIONS)),
        countries=sorted(set(countries)),
        lat=place["lat"] if place else None,
        lon=place["lon"] if place else None,
        radius_km=(radius or DEFAULT_RADIUS_KM) if place else None,
        radius_unit=(base.get("unit") or "km") if place and radius else "km",
        place_name=place["name"] if place else None,
        point_country=place.get("country") if place else None,
        label=base.get("label"),
        stroke_date=date.fromisoformat(base["stroke"]) if base.get("stroke") else None,
        birth_year=base.get("born"),
    )
    sub: SubscriptionRow | None = None
    deps = Deps.of(context)
    async with deps.db.write() as session:
        existing = await store.subscriptions(session, chat.chat_id)
        same = store.duplicate_of(existing, candidate)
        if same is None and len(existing) < store.MAX_SUBSCRIPTIONS:
            sub = await store.add_subscription(
                session,
                chat.chat_id,
                conditions=candidate.conditions,
                countries=candidate.countries,
                lat=candidate.lat,
                lon=candidate.lon,
                radius_km=candidate.radius_km,
                radius_unit=candidate.radius_unit,
                place_name=candidate.place_name,
                point_country=candidate.point_country,
                label=candidate.label,
                stroke_date=candidate.stroke_date,
                birth_year=candidate.birth_year,
            )
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    chat.pending = None
    if same is not None:
        await reply(update, duplicate_text(t, existing, same))
        return None
    if sub is None:
        await reply(update, t("sub.too_many", limit=store.MAX_SUBSCRIPTIONS))
        return None
    await confirm(update, context, chat, t, sub, "sub.created", note=base.get("note"))
    return sub


def _as_if(sub: SubscriptionRow, **changes: Any) -> SubscriptionRow:
    """A detached copy of `sub` with `changes`, to ask whether the change makes a duplicate."""
    fields = ("id", "chat_id", "label", "conditions", "countries", "lat", "lon", "radius_km")
    return SubscriptionRow(**({name: getattr(sub, name) for name in fields} | changes))


def duplicate_text(t: Translator, subs: list[SubscriptionRow], same: SubscriptionRow) -> str:
    """ "You already have this alert", with its /list number."""
    number = next(i for i, s in enumerate(subs, start=1) if s.id == same.id)
    return t("sub.duplicate", n=number, subscription=subscription_text(same, t))


async def confirm(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    sub: SubscriptionRow,
    key: str,
    *,
    note: str | None = None,
    extra: list[list[tuple[str, str]]] | None = None,
    **values: str,
) -> None:
    assert sub.id is not None
    count = await count_matches(Deps.of(context), chat, sub)
    text = t(key, subscription=subscription_text(sub, t), **values)
    profile = profile_text(profile_of(sub), t, clock_for(Deps.of(context).settings).today())
    if profile:
        text += "\n" + t("profile.line", profile=esc(profile))
    text += "\n" + t.plural("sub.count", count)
    if note:
        text += "\n\n" + note
    offer = key == "sub.created" and not profile
    if offer:  # the optional follow-up: the new alert is saved already
        text += "\n\n" + t("profile.offer")
    buttons = list(extra or [])
    if count:
        buttons.append([(t("button.see_them"), callbacks.encode(SEE_RECENT))])
    if not sub.label:
        buttons.append([(t("button.add_label"), callbacks.encode(ADD_LABEL, sub.id))])
    if offer:
        buttons.append([(t("button.add_profile"), callbacks.encode(callbacks.PROFILE, sub.id))])
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
        if await at_limit(context, chat, update, t):
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
            await query.answer(t("button.gone"), show_alert=True)
            return
        await query.answer()
        await set_pending(context, chat, {"flow": "label", "sub": sub_id})
        await reply(update, t("label.ask"), prompt_markup(update, t))
        return
    if data.action in (PIN, UNDO_MOVE):
        await _on_pin_button(update, context, chat, t, data)
        return
    step = pending.get("step") if pending.get("flow") == "sub" else None
    if data.action == PICK_CONDITION and step == "cond" and data.args[0] in CONDITION_CODES:
        await query.answer()
        cond = sorted(CONDITION_CODES[data.args[0]])
        draft = pending.get("draft") or {}
        after = {"flow": "sub", "step": "where", "cond": cond}
        after |= {k: pending[k] for k in PROFILE_KEYS if pending.get(k)}
        await set_pending(context, chat, after | ({"draft": draft} if draft else {}))
        rows = [
            [(t("where.anywhere"), callbacks.encode(PICK_WHERE, "any"))],
            [(t("where.countries"), callbacks.encode(PICK_WHERE, "cty"))],
            [(t("where.near"), callbacks.encode(PICK_WHERE, "near"))],
        ]
        if draft.get("place"):  # the place a proposal had, one tap away
            near = t("where.kept", place=shown_place(draft["place"], t.lang))[:60]
            rows.insert(0, [(near, callbacks.encode(PICK_WHERE, "kept"))])
        elif draft.get("countries"):
            names = ", ".join(display_name(c, t.lang) for c in draft["countries"])
            rows.insert(
                0,
                [
                    (
                        t("where.kept_countries", countries=names)[:60],
                        callbacks.encode(PICK_WHERE, "kept"),
                    )
                ],
            )
        await reply(update, t("sub.ask_where"), keyboard(rows))
        return
    if data.action == PICK_WHERE and step == "where" and data.args[0] in WHERE_CHOICES:
        await query.answer()
        draft = pending.get("draft") or {}
        pending = {k: v for k, v in pending.items() if k != "draft"}
        if data.args[0] == "kept" and draft.get("place"):
            unit = draft.get("unit") or "km"
            await _after_place(
                update, context, chat, t, pending | {"unit": unit}, draft["place"], None
            )
        elif data.args[0] == "kept" and draft.get("countries"):
            await create(update, context, chat, t, pending, countries=draft["countries"])
        elif data.args[0] == "any":
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
    if data.action in (PICK_RADIUS, PICK_RADIUS_MI):
        unit = "mi" if data.action == PICK_RADIUS_MI else "km"
        value = data.number()
        km = km_from(value, unit)
        if value in (RADII_MI if unit == "mi" else RADII) and step == "radius":
            await query.answer()
            await create(
                update,
                context,
                chat,
                t,
                pending | {"unit": unit},
                place=pending["place"],
                radius=km,
            )
            return
        if value in (RADII_MI if unit == "mi" else RADII) and pending.get("flow") == "radius":
            await query.answer()
            await _set_radius(update, context, chat, t, int(pending["sub"]), km, unit)
            return
    await query.answer(t("button.stale"), show_alert=True)


async def _typed_distance(update: Update, t: Translator, text: str, unit: str) -> Radius | bool:
    """The distance typed in answer to "how far?" (a bare number is in `unit`).

    False: the text has no number in it ("thanks", "ictus cerca de Sevilla"), so it is a new
    message, not an answer, and the question closes (typed.py) rather than answering "that is
    not a distance" to a new question. True: a number that is no usable distance, already
    answered with the reason."""
    if not any(ch.isdigit() for ch in text):
        return False
    radius = parse_radius(text, unit)
    if radius is None:
        await reply(update, t("radius.invalid", value=echo(text)))
        return True
    return radius


async def _set_radius(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    sub_id: int,
    km: int,
    unit: str = "km",
) -> None:
    async with Deps.of(context).db.write() as session:
        subs = await store.subscriptions(session, chat.chat_id)
        sub = next((s for s in subs if s.id == sub_id), None)
        same = store.duplicate_of(subs, _as_if(sub, radius_km=km)) if sub is not None else None
        if sub is not None and same is None:
            store.update_subscription(session, sub, radius_km=km, radius_unit=unit)
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        if row is not None:
            store.update_chat(session, row, pending=None)
    if sub is None:
        await reply(update, t("button.gone"))
        return
    if same is not None:
        await reply(update, duplicate_text(t, subs, same))
        return
    await confirm(update, context, chat, t, sub, "sub.updated")


# -- typed answers and locations -----------------------------------------------------------


async def on_text(
    update: Update, context: Context, chat: ChatRow, t: Translator, text: str
) -> bool:
    """Typed input for a waiting step of these flows; False if none was waiting."""
    pending = chat.pending or {}
    if pending.get("flow") == "label":
        label = " ".join(text.split())[:40] or None
        async with Deps.of(context).db.write() as session:
            subs = await store.subscriptions(session, chat.chat_id)
            sub = next((s for s in subs if s.id == int(pending["sub"])), None)
            same = store.duplicate_of(subs, _as_if(sub, label=label)) if sub else None
            if sub is not None and same is None:
                store.update_subscription(session, sub, label=label)
            row = await store.get_chat(session, chat.chat_id, for_update=True)
            if row is not None:
                store.update_chat(session, row, pending=None)
        if same is not None:
            await reply(update, duplicate_text(t, subs, same))
        elif sub is not None:
            await reply(update, t("label.saved", subscription=subscription_text(sub, t)))
        return True
    if pending.get("flow") == "radius":  # after "Distance N" or a pin: a typed distance
        radius = await _typed_distance(update, t, text, pending.get("unit") or "km")
        if isinstance(radius, bool):
            return radius
        await _set_radius(update, context, chat, t, int(pending["sub"]), radius.km, radius.unit)
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
        radius = await _typed_distance(update, t, text, pending.get("unit") or "km")
        if isinstance(radius, bool):
            return radius
        await create(
            update,
            context,
            chat,
            t,
            pending | {"unit": radius.unit},
            place=pending["place"],
            radius=radius.km,
        )
        return True
    return False


def _coordinates(lat: str, lon: str) -> tuple[float, float] | None:
    """Coordinates from button data, or None if they are not a point on Earth."""
    try:
        point = float(lat), float(lon)
    except ValueError:
        return None
    if not all(map(math.isfinite, point)) or abs(point[0]) > 90 or abs(point[1]) > 180:
        return None
    return point


def _point(lat: float, lon: float) -> tuple[str, str]:
    return f"{lat:.5f}", f"{lon:.5f}"


@admins_only
async def on_location(update: Update, context: Context, chat: ChatRow, t: Translator) -> None:
    """A pin: the answer to a waiting step; else a new alert around it, or a question.

    A pin never changes a named alert, nor one of several, without asking: a caregiver's
    own position is not her father's. Only a chat whose one alert is unnamed and near a
    place has it moved at once, and is told so with an Undo button.
    """
    message = update.effective_message
    if message is None or message.location is None:
        return
    lat, lon = message.location.latitude, message.location.longitude
    place = pin_place(lat, lon, t.lang)
    pending = chat.pending or {}
    if pending.get("flow") == "sub" and pending.get("step") in ("place", "choose"):
        await _after_place(update, context, chat, t, pending, place, pending.get("radius"))
        return
    if pending.get("flow") not in (None, "sub", "radius"):
        return
    async with Deps.of(context).db.read() as session:
        subs = await store.subscriptions(session, chat.chat_id)
    movable = [s for s in subs if s.radius_km is not None]
    if not movable:
        await _new_from_pin(update, context, chat, t, place)
    elif len(subs) == 1 and not subs[0].label:
        assert subs[0].id is not None
        await _move(update, context, chat, t, subs[0].id, place)
    else:
        await _ask_new_or_move(update, t, subs, place)


async def _ask_new_or_move(
    update: Update, t: Translator, subs: list[SubscriptionRow], place: dict[str, Any]
) -> None:
    point = _point(place["lat"], place["lon"])
    lines = [t("pin.ask", place=esc(shown_place(place, t.lang)))]
    rows = [[(t("pin.new"), callbacks.encode(PIN, "new", *point))]]
    for number, sub in enumerate(subs, start=1):
        lines.append(f"{number}. {subscription_text(sub, t)}")
        if sub.radius_km is None:
            continue
        if sub.label:
            text = t("pin.move_named", label=sub.label[:30])
        else:
            town = (sub.place_name or "").split(",")[0][:30]
            text = t("pin.move_n", n=number, place=town)
        rows.append([(text, callbacks.encode(PIN, str(sub.id), *point))])
    rows.append([(t("button.cancel"), callbacks.encode(CANCEL))])
    await reply(update, "\n".join(lines), keyboard(rows))


async def _new_from_pin(
    update: Update, context: Context, chat: ChatRow, t: Translator, place: dict[str, Any]
) -> None:
    """Any stroke type within the default distance of the pin; then offer other distances."""
    sub = await create(update, context, chat, t, {"flow": "sub"}, place=place)
    if sub is not None:
        await _offer_radius(update, context, chat, t, sub)


async def _offer_radius(
    update: Update, context: Context, chat: ChatRow, t: Translator, sub: SubscriptionRow
) -> None:
    await set_pending(context, chat, {"flow": "radius", "sub": sub.id, "unit": sub.radius_unit})
    rows = radius_rows(t, sub.radius_unit)
    await reply(update, t("radius.adjust") + "\n" + t("radius.type_hint"), keyboard(rows))


async def _move(
    update: Update,
    context: Context,
    chat: ChatRow,
    t: Translator,
    sub_id: int,
    place: dict[str, Any],
) -> None:
    """Move one alert to the pin, saying where it was and offering to put it back."""
    async with Deps.of(context).db.write() as session:
        subs = await store.subscriptions(session, chat.chat_id)
        sub = next((s for s in subs if s.id == sub_id and s.radius_km is not None), None)
        same = None
        if sub is not None:
            same = store.duplicate_of(subs, _as_if(sub, lat=place["lat"], lon=place["lon"]))
        if sub is not None and same is None:
            old = (sub.lat, sub.lon, sub.place_name or "")
            store.update_subscription(
                session,
                sub,
                lat=place["lat"],
                lon=place["lon"],
                place_name=place["name"],
                point_country=place["country"],
            )
    if sub is None:
        await reply(update, t("button.gone"))
        return
    if same is not None:
        await reply(update, duplicate_text(t, subs, same))
        return
    assert old[0] is not None and old[1] is not None
    undo = callbacks.encode(UNDO_MOVE, sub_id, *_point(old[0], old[1]))
    await confirm(
        update,
        context,
        chat,
        t,
        sub,
        "sub.moved_from",
        extra=[[(t("button.undo"), undo)]],
        old=esc(old[2]),
    )
    await _offer_radius(update, context, chat, t, sub)


async def _on_pin_button(
    update: Update, context: Context, chat: ChatRow, t: Translator, data: callbacks.Callback
) -> None:
    """New alert / Move "Papá" (the question after a pin), and Undo after a move."""
    query = update.callback_query
    assert query is not None
    target, lat_text, lon_text = data.args
    point = _coordinates(lat_text, lon_text)
    if point is None or not (target == "new" or target.isdigit()):
        await query.answer(t("button.stale"), show_alert=True)
        return
    place = pin_place(*point, t.lang)
    if data.action == PIN and target == "new":
        await query.answer()
        await _new_from_pin(update, context, chat, t, place)
        return
    if data.action == PIN:
        await query.answer()
        await _move(update, context, chat, t, int(target), place)
        return
    sub_id = int(target) if target.isdigit() else -1
    async with Deps.of(context).db.write() as session:
        sub = await store.get_subscription(session, chat.chat_id, sub_id)
        if sub is not None:
            store.update_subscription(
                session,
                sub,
                lat=point[0],
                lon=point[1],
                place_name=place["name"],
                point_country=place["country"],
            )
        row = await store.get_chat(session, chat.chat_id, for_update=True)
        waiting = (row.pending or {}) if row is not None else {}
        if row is not None and waiting.get("flow") == "radius" and waiting.get("sub") == sub_id:
            store.update_chat(session, row, pending=None)  # its distance question is moot
            chat.pending = None
    if sub is None:
        await query.answer(t("button.gone"), show_alert=True)
        return
    await query.answer()
    await reply(update, t("sub.move_undone", subscription=subscription_text(sub, t)))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("subscribe", subscribe_command))
