"""Subscriptions and settings in words (for /list, confirmations and /settings)."""

from __future__ import annotations

from datetime import date

from bot.handlers.common import echo, esc
from bot.i18n import Translator
from storage.tables import ChatRow, SubscriptionRow
from trialbot.countries import display_name
from trialbot.geo import Place, gazetteer, in_unit
from trialbot.matching import ALL_CONDITIONS
from trialbot.profile import Profile, rounded_span

CONDITION_ORDER = ("ischemic", "intracerebral_hemorrhage", "subarachnoid_hemorrhage")

__all__ = [
    "conditions_text",
    "gazetteer",
    "place_text",
    "profile_of",
    "profile_text",
    "region_text",
    "settings_text",
    "subscription_text",
]


def conditions_text(conditions: list[str] | frozenset[str], t: Translator) -> str:
    if not conditions or set(conditions) >= ALL_CONDITIONS:
        return t("cond.any")
    return ", ".join(t(f"cond.{c}") for c in CONDITION_ORDER if c in conditions)


def place_text(sub: SubscriptionRow, lang: str) -> str:
    """A radius subscription's place in the reader's language, with its region, found again
    from the stored name and point (the stored text is in the language of its creation)."""
    if sub.lat is None or sub.lon is None:
        return sub.place_name or ""
    place = sub.place_name or f"{sub.lat:.3f}, {sub.lon:.3f}"
    return gazetteer().with_region(place, sub.lat, sub.lon, lang)


def region_text(sub: SubscriptionRow, t: Translator) -> str:
    if sub.radius_km is not None and sub.lat is not None and sub.lon is not None:
        place = sub.place_name or f"{sub.lat:.3f}, {sub.lon:.3f}"
        place = place_text(sub, t.lang)
        key = "region.near_mi" if sub.radius_unit == "mi" else "region.near"
        return t(key, radius=in_unit(sub.radius_km, sub.radius_unit), place=esc(place))
    if sub.countries:
        names = ", ".join(esc(display_name(c, t.lang)) for c in sub.countries)
        return t("region.countries", countries=names)
    return t("region.anywhere")


def subscription_text(sub: SubscriptionRow, t: Translator) -> str:
    body = f"{conditions_text(sub.conditions, t)} · {region_text(sub, t)}"
    return f"<b>{echo(sub.label)}</b>: {body}" if sub.label else body


def profile_of(sub: SubscriptionRow) -> Profile:
    return Profile(stroke_date=sub.stroke_date, birth_year=sub.birth_year)


def since_text(days: int, t: Translator) -> str:
    """ "stroke about 2 years ago": in the unit a person would use (as the alerts' fit line)."""
    if days < 1:
        return t("profile.stroke_today")
    n, unit = rounded_span(days)
    return t.plural(f"talk.since.{unit}", n)


def profile_text(profile: Profile, t: Translator, today: date) -> str | None:
    """ "stroke about 2 years ago · age 68" (what the profile knows today), None when empty.
    The age is the older possible one: what the person said ("age 68")."""
    items = []
    days = profile.days_since_stroke(today)
    if days is not None:
        items.append(since_text(days, t))
    ages = profile.ages(today)
    if ages is not None:
        items.append(t("talk.age", age=ages[1]))
    return " · ".join(items) or None


def settings_text(chat: ChatRow, t: Translator) -> str:
    delivery = t(f"settings.delivery.{chat.delivery}")
    if chat.delivery != "instant":
        delivery += " " + t(
            "settings.at_hour", hour=f"{chat.digest_hour:02d}:00", tz=esc(chat.timezone)
        )
        if chat.delivery == "weekly":
            delivery += " " + t("settings.on_day", day=t(f"day.{chat.digest_weekday}"))
    on, off = t("settings.on"), t("settings.off")
    return t(
        "settings.summary",
        language=t(f"lang.{chat.language or 'en'}"),
        delivery=delivery,
        borderline=on if chat.include_borderline else off,
        not_recruiting=on if chat.include_not_recruiting else off,
        paused=t("settings.paused") if chat.paused else "",
    )


def place_labels(places: list[Place], lang: str) -> list[str]:
    """Button labels for candidate places, each with its region where known ("Columbus, Ohio,
    United States"), in the reader's language; the gazetteer's distinct choice labels when
    two would read the same."""
    labels = [p.label(lang, with_admin1=True) for p in places]
    if len(set(labels)) < len(labels):
        labels = gazetteer().choice_labels(places, lang)
    return labels
