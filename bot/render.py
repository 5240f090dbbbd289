"""Telegram messages for trials: the new-trial alert, the change alert, the "Results are out"
alert, the detail view and the digest.

Messages are Telegram HTML built from the `alerts` catalog (`bot/locales/*/alerts.po`) and the
plain-language blocks in `bot.plain`; caveats come from `bot.caveats`. Rules that keep them
safe to send:

- every piece of registry or user text is cleaned (control characters, lone surrogates),
  shortened before escaping and escaped with `html.escape`, so no tag or entity is ever cut;
- only `<b>`, `<i>` and `<a href>` are produced;
- a message is assembled from sections and, when it would pass the budget (4,096 visible
  UTF-16 units less a margin), shortened at section boundaries: long lists lose their last
  items behind an "and N more" line, then optional sections go; the title, the first three
  risks (red flags come first) and the disclaimer always stay.

"What could go wrong" lists every caveat rule that fires except C0 and C1, which are the
disclaimer line that ends every message. Change alerts and digests repeat only red flags.

Results (issue 16): a "Results are out" alert is built only from the stored publication (its
title, journal and month as given, or the registry's citation, or that the registry links to
a document), the evidence that made it a results paper (`Publication.reason`, `found_by`) and
where to read it; it never says what a paper found. The detail view's "What is known so far"
lists results on the registry, up to three publications and R8's sentence. Both need the
trial's publications (`StoredTrial.known`); a caller without them passes `known=None` and
nothing is said about results (R8 stays quiet).

Registry prose that a message quotes (the reason a study stopped, the registry's title in the
detail view, the hype word of R13) goes through `registry_quote`: in the language's quotation
marks, inside a sentence that says it is the registry's words, and, for a Spanish or Chinese
reader, with "(en inglés)" / "（英文原文）" when the text is plainly English (`plainly_english`).
Names (sites, places, sponsors, conditions) are not quoted.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from bot import callbacks
from bot.caveats import ALWAYS, Caveat, evaluate
from bot.i18n import Translator, translator
from bot.plain import record, words
from bot.telegram_text import visible_length
from jobs.facts import extract
from trialbot.classification import Classification
from trialbot.countries import fold
from trialbot.facts import TrialFacts
from trialbot.geo import gazetteer, in_unit
from trialbot.identifiers import source_registry_of
from trialbot.matching import Match, SiteMatch, SubscriptionFilter
from trialbot.model import STOPPED_STATUSES, FieldChange, Site, SourceRef, Trial, may_take_people
from trialbot.profile import Fit, rounded_span
from trialbot.publications import KnownSoFar, Publication

MAX_LENGTH = 4096
"""Telegram's limit on message text after entity parsing."""
BUDGET = 3900
"""What we allow ourselves: a margin for clients that count differently."""
SITES_IN_ALERT = 5
SITES_IN_DETAIL = 12
SITE_CHANGES_SHOWN = 3
ALERTS_NAMED = 4
DIGEST_ITEMS_PER_MESSAGE = 10
_FACILITY, _CITY, _LABEL, _REGISTRY_TITLE, _SPONSOR = 90, 50, 40, 300, 120
_PAPER_TITLE, _PAPER_LISTED, _CITATION, _JOURNAL = 300, 160, 160, 80
PAPERS_SHOWN = 3


@dataclass(frozen=True)
class Button:
    text: str
    url: str | None = None
    callback_data: str | None = None


@dataclass(frozen=True)
class Rendered:
    text: str
    """Telegram HTML."""
    buttons: tuple[tuple[Button, ...], ...] = ()


@dataclass(frozen=True)
class DigestItem:
    trial: Trial
    verdict: Classification
    changes: tuple[FieldChange, ...]
    """Empty for a new trial."""
    matches: tuple[Match, ...]
    facts: TrialFacts | None = None
    """The version's stored facts; derived from the trial when None."""
    known: KnownSoFar | None = None
    """What is known of its results (`StoredTrial.known`); None when not loaded."""
    publication: Publication | None = None
    """Set for a "Results are out" item (a held `results` alert)."""


def esc(text: str) -> str:
    """Text node escaping for Telegram HTML (`<`, `>`, `&`)."""
    return html.escape(text, quote=False)


# --- sections and fitting ------------------------------------------------------------------


@dataclass
class _Section:
    """A block of the message: an optional bold heading and lines (already HTML)."""

    lines: list[str]
    heading: str | None = None
    more: Callable[[int], str] | None = None
    """Plain text for "and N more" when list items are hidden; None: not shortenable."""
    hidden: int = 0
    keep: int = 1
    drop_rank: int | None = None
    """Optional sections are dropped lowest rank first when shortening lists is not enough."""

    def html(self) -> str:
        lines = list(self.lines)
        if self.hidden and self.more is not None:
            lines.append(esc(self.more(self.hidden)))
        head = [f"<b>{esc(self.heading)}</b>"] if self.heading else []
        return "\n".join(head + lines)


def _assemble(sections: Sequence[_Section]) -> str:
    return "\n\n".join(s.html() for s in sections if s.lines or s.hidden)


def _fit(sections: list[_Section], budget: int = BUDGET) -> str:
    """Shorten at section boundaries until the message fits."""
    text = _assemble(sections)
    while (excess := visible_length(text) - budget) > 0:
        lists = [s for s in sections if s.more is not None and len(s.lines) > s.keep]
        optional = [s for s in sections if s.drop_rank is not None]
        if lists:
            longest = max(lists, key=lambda s: sum(len(line) for line in s.lines))
            while excess > 0 and len(longest.lines) > longest.keep:
                excess -= visible_length(longest.lines.pop()) + 1
                longest.hidden += 1
        elif optional:
            sections.remove(min(optional, key=lambda s: s.drop_rank or 0))
        else:
            raise ValueError("message cannot be shortened below the limit")
        text = _assemble(sections)
    return text


def _bullets(lines: Sequence[str]) -> list[str]:
    return [f"• {esc(line)}" for line in lines]


# --- shared pieces -------------------------------------------------------------------------

_ENGLISH_WORDS = frozenset(
    {
        "the", "and", "to", "with", "from", "because", "since", "been", "has", "have", "had",
        "were", "would", "could", "should", "cannot", "not", "nor", "this", "that", "these",
        "those", "it", "its", "their", "our", "which", "who", "what", "when", "than", "then",
        "other", "others", "any", "more", "some", "such", "only", "there", "here", "out", "up",
        "new", "about", "into", "after", "study", "studies", "trial", "trials", "sponsor",
        "sponsors", "enrollment", "enrolment", "recruitment", "recruiting", "funding", "lack",
        "slow", "low", "poor", "decision", "business", "reason", "reasons", "company",
        "investigator", "safety", "team", "stopped", "terminated", "withdrawn", "suspended",
        "cure", "cures", "cured", "curing", "miracle", "miracles", "miraculous", "guarantee",
        "guaranteed", "breakthrough", "revolutionary", "success", "improve", "improved",
        "improvement", "recover", "recovered", "stroke", "strokes", "stem", "cell", "cells",
        "blood", "bone", "marrow", "cord", "brain", "treatment", "treatments", "therapy",
        "efficacy", "tolerability", "feasibility", "randomized", "randomised", "controlled",
        "clinical", "acute", "chronic", "ischemic", "ischaemic", "hemorrhage", "haemorrhage",
        "hemorrhagic", "haemorrhagic", "intravenous", "autologous", "allogeneic", "derived",
        "subjects", "healthy", "year", "years", "two", "during", "following",
    }
)  # fmt: skip
"""Common English words and words of trial titles, leaving out those that are also everyday
words in Spanish, French, Italian, Portuguese, German or Dutch ("a", "of", "in", "is",
"was", "due", "data", "patients", "neural", "injection", "transplantation")."""
_WORDS = re.compile(r"[^\W\d_]+")


def plainly_english(text: str) -> bool:
    """Whether quoted registry text is plainly English, for saying so to a reader of another
    language. Records carry no language field, so the rule is simple and errs towards naming
    no language: every letter is an ASCII letter (no accent, no other script) and at least one
    word is a common English word ("Lack of funding", "Others", "cured"). Spanish written
    without accents ("Falta de fondos"), German, Chinese, mixed text or text without words
    ("COVID-19") is quoted as the registry's words without naming a language."""
    words = _WORDS.findall(text)
    if not words or not all(word.isascii() for word in words):
        return False
    return any(word.lower() in _ENGLISH_WORDS for word in words)


def registry_quote(text: str, t: Translator) -> str:
    """Registry text in the reader's quotation marks (`quote.registry`); plainly English text
    is `quote.english`, which in Spanish and Chinese adds "(en inglés)" / "（英文原文）" and in
    English adds nothing. The catalog sentence around the quote says whose words they are
    ("The registry gives this reason: ...", "Title in the registry: ...")."""
    key = "quote.english" if plainly_english(text) else "quote.registry"
    return t(key, text=text)


_QUOTED_PARAMS = frozenset({"reason", "word"})
"""Caveat parameters that carry registry text (R9's stopping reason, R13's hype word)."""
_DATE_PARAMS = frozenset({"month_year"})
"""Caveat parameters that carry a registry date (`yyyy` or `yyyy-MM`: R8's end)."""


def _caveat_param(name: str, value: str | int, t: Translator) -> str | int:
    if name in _QUOTED_PARAMS and isinstance(value, str):
        return registry_quote(value, t)
    if name in _DATE_PARAMS and isinstance(value, str):
        return words.month(value, t) or value
    return value


def _caveat_text(caveat: Caveat, t: Translator) -> str:
    params = {name: _caveat_param(name, value, t) for name, value in caveat.params.items()}
    if caveat.count is not None:
        return t.plural(caveat.key, caveat.count, n=words.number(caveat.count, t), **params)
    return t(caveat.key, **params) if params else t(caveat.key)


def _risk_lines(caveats: Sequence[Caveat], t: Translator) -> list[str]:
    return [
        f"{'⚠️' if c.severity == 'H' else '•'} {esc(_caveat_text(c, t))}"
        for c in caveats
        if c.rule not in ALWAYS
    ]


def _disclaimer(t: Translator) -> _Section:
    line = words.join_sentences((t("disclaimer.advice"), t("caveat.c0"), t("caveat.c1")), t)
    return _Section([f"<i>{esc(line)}</i>"], keep=1)


def _place(site: Site, t: Translator) -> str:
    """City, region and country as the record gives them ("Columbus, Ohio, United States")."""
    country = words.country_name(site, t) or ""
    parts = [
        record.shorten(site.city or "", _CITY),
        record.shorten(_site_region(site, country), _CITY),
        record.shorten(country, _CITY),
    ]
    return t("place.sep").join(p for p in parts if p)


def _site_region(site: Site, country: str) -> str:
    """The record's state or region, unless it only repeats the city or the country
    ("New York, New York", "Taipei, Taipei City", "Singapore, Singapore")."""
    region, city = fold(site.state or ""), fold(site.city or "")
    same = {fold(country), fold(site.country_name or "")}
    if (
        not region
        or region in same
        or (city and (region.startswith(city) or city.startswith(region)))
    ):
        return ""
    return (site.state or "").strip()


def _sub_place(sub: SubscriptionFilter, lang: str) -> str:
    """The subscription's place in the reader's language, with its region ("Columbus, Ohio,
    ..."; "哥伦布, 俄亥俄州, ..."), not in the language it was stored in."""
    if sub.place_name and sub.lat is not None and sub.lon is not None:
        return gazetteer().with_region(sub.place_name, sub.lat, sub.lon, lang)
    return sub.place_name or ""


def _site_text(sm: SiteMatch, t: Translator, origin: str | None) -> str:
    site, km = sm.site, sm.distance_km
    parts = [record.shorten(site.facility or "", _FACILITY), _place(site, t)]
    text = t("place.sep").join(p for p in parts if p) or t("where.unnamed")
    if km is not None:
        away = words.distance(km, t)
        text = (
            t("where.distance.from", site=text, distance=away, place=origin)
            if origin
            else (t("where.distance.away", site=text, distance=away))
        )
    elif sm.unplaced:
        text = t(f"where.unplaced.{sm.unplaced}", site=text)
    status = (site.status or "").lower()
    suffix = t(f"where.status.{status}") if status in _SITE_STATUSES else ""
    return t("where.site", site=text, status=suffix).strip()


_SITE_STATUSES = frozenset(
    {
        "recruiting",
        "not_yet_recruiting",
        "enrolling_by_invitation",
        "active_not_recruiting",
        "completed",
        "terminated",
        "suspended",
        "withdrawn",
    }
)


def _merged_sites(
    trial: Trial, matches: Sequence[Match], lang: str
) -> list[tuple[SiteMatch, str | None]]:
    """Matched sites of all subscriptions, each once with its shortest distance, nearest
    first; every site of the trial when no subscription placed any (detail view)."""
    if not any(m.sites for m in matches):
        return [(SiteMatch(site, None), None) for site in trial.sites]
    best: dict[str, tuple[SiteMatch, str | None]] = {}
    for m in matches:
        for sm in m.sites:
            known = best.get(sm.site.key)
            if known is None or _shown_before(sm, known[0]):
                best[sm.site.key] = (sm, _sub_place(m.subscription, lang))
    ranked = sorted(
        enumerate(best.values()),
        key=lambda item: (item[1][0].distance_km is None, item[1][0].distance_km or 0, item[0]),
    )
    return [pair for _, pair in ranked]


def _shown_before(new: SiteMatch, old: SiteMatch) -> bool:
    """Which of two matches of one site the alert shows: the shorter known distance; with
    none, the one that says the site's position is unknown."""
    if new.distance_km is not None:
        return old.distance_km is None or new.distance_km < old.distance_km
    return old.distance_km is None and bool(new.unplaced) and not old.unplaced


def _where(
    trial: Trial, matches: Sequence[Match], t: Translator, shown: int, today: date
) -> _Section:
    sites = _merged_sites(trial, matches, t.lang)
    if not sites:
        # "not yet" only while people may still join
        key = "where.none" if words.is_open(trial, today) else "where.none_closed"
        return _Section([esc(t(key))], heading=t("section.where"))
    lines = [
        "• " + esc(_site_text(sm, t, record.shorten(origin or "", _CITY)))
        for sm, origin in sites[:shown]
    ]
    return _Section(
        lines,
        heading=t("section.where"),
        more=lambda n: t.plural("where.more", n, n=words.number(n, t)),
        hidden=max(0, len(sites) - shown),
    )


def _contact_section(
    trial: Trial, facts: TrialFacts, matches: Sequence[Match], t: Translator, today: date
) -> _Section:
    """How to ask about joining, for a study people can join: the nearest matching site's
    contact, else the study's own contact, as public in the registry."""
    if not words.is_open(trial, today):
        return _Section([])
    contact: tuple[str | None, str | None, str | None, str | None] | None = None
    for sm, _ in _merged_sites(trial, matches, t.lang):
        reachable = [c for c in sm.site.contacts if c.phone or c.email]
        if reachable:
            first = reachable[0]
            contact = (first.name, first.phone, first.email, _place(sm.site, t))
            break
    if contact is None and facts.contacts:
        first_fact = facts.contacts[0]
        contact = (first_fact.name, first_fact.phone, first_fact.email, None)
    if contact is None:
        return _Section([esc(t("contact.none"))], heading=t("section.contact"), drop_rank=2)
    name, phone, email, place = contact
    parts = [record.shorten(v, 80) for v in (name, phone, email) if v]
    line = t("contact.site" if place else "contact.study", who=" · ".join(parts), place=place or "")
    return _Section([esc(line), esc(t("contact.ask"))], heading=t("section.contact"), drop_rank=2)


def _region(m: Match, t: Translator) -> str:
    sub = m.subscription
    if sub.near:
        place = record.shorten(_sub_place(sub, t.lang), _CITY) or t("why.region.your_place")
        key = "why.region.near_by_country" if m.by_country_only else "why.region.near"
        if sub.radius_unit == "mi":
            key += "_mi"  # shown back in the unit the person used; matching is in km
        return t(key, place=place, km=words.number(in_unit(sub.radius_km or 0, sub.radius_unit), t))
    if sub.countries:
        names = sorted(words.country_name(Site(country=c), t) or c for c in sub.countries)
        return t("why.region.countries", countries=t("list.sep").join(names))
    return t("why.region.anywhere")


def _alert_name(m: Match, t: Translator) -> str:
    label = record.shorten(m.subscription.label or "", _LABEL)
    region = _region(m, t)
    return t("why.alert.labelled", label=label, region=region) if label else region


def _why(matches: Sequence[Match], t: Translator, facts: TrialFacts | None = None) -> _Section:
    names = list(dict.fromkeys(_alert_name(m, t) for m in matches))
    if not names:
        return _Section([])
    shown = names[:ALERTS_NAMED]
    if len(names) > len(shown):
        shown.append(t.plural("why.more", len(names) - len(shown), n=len(names) - len(shown)))
    listed = shown[0] if len(shown) == 1 else t("join.and", a="; ".join(shown[:-1]), b=shown[-1])
    line = t.plural("why.matches", len(names), alerts=listed)
    lines = [esc(line)]
    if facts is not None:
        lines += [esc(f) for f in fit_lines(matches, facts, t)]
    return _Section(lines, heading=t("section.why"), drop_rank=1)


def ago_words(days: int, t: Translator) -> str:
    """ "2 years" / "8 months" / "3 weeks" / "2 days": the time since the stroke as the fit
    line says it (also used by "Could I join?")."""
    n, unit = rounded_span(max(1, days))
    return t("fit.span", n=words.number(n, t), unit=t.plural(f"unit.{unit}", n))


def ages_words(facts: TrialFacts, t: Translator) -> str | None:
    """The ages a record takes ("aged 18 to 80"), None when it gives none."""
    return _ages(facts, t)


def _age(years: float, t: Translator) -> str:
    return words.number(round(years, 1), t)


def _ages(facts: TrialFacts, t: Translator) -> str | None:
    low, high = facts.age_min_years, facts.age_max_years
    if low is not None and low > 0 and high is not None:
        return t("fit.ages.range", low=_age(low, t), high=_age(high, t))
    if low is not None and low > 0:
        return t("fit.ages.min", low=_age(low, t))
    if high is not None:
        return t("fit.ages.max", high=_age(high, t))
    return None


def fit_line(fit: Fit, facts: TrialFacts, t: Translator) -> list[str]:
    """One plain line per criterion the profile knows: time since the stroke, then age; each
    says what the record takes, or that it does not say."""
    lines = []
    if fit.days_since_stroke is not None and fit.window in ("fits", "record_silent"):
        ago = ago_words(fit.days_since_stroke, t)
        if fit.window == "fits" and facts.stroke_window_days is not None:
            window = words.window_words(facts.stroke_window_days, t)
            lines.append(t("fit.window", ago=ago, window=window))
        else:
            lines.append(t("fit.window.silent", ago=ago))
    if fit.ages is not None and fit.age in ("fits", "record_silent"):
        age = words.number(fit.ages[1], t)
        ages = _ages(facts, t) if fit.age == "fits" else None
        lines.append(t("fit.age", age=age, ages=ages) if ages else t("fit.age.silent", age=age))
    return lines


def fit_lines(matches: Sequence[Match], facts: TrialFacts, t: Translator) -> list[str]:
    """The fit of each matched subscription that has a profile, labelled when several do."""
    with_fit = [m for m in matches if m.fit is not None][:ALERTS_NAMED]
    lines = []
    for m in with_fit:
        assert m.fit is not None
        label = record.shorten(m.subscription.label or "", _LABEL)
        for line in fit_line(m.fit, facts, t):
            lines.append(
                t("fit.labelled", label=label, line=line) if label and len(with_fit) > 1 else line
            )
    return lines


def _buttons(
    trial: Trial, t: Translator, details: bool = True, matches: Sequence[Match] = ()
) -> tuple[tuple[Button, ...], ...]:
    """The registry link, the details, and "Could I join?" (its own row: it is the question a
    reader has). `matches`: the subscriptions the message is for, so "Could I join?" asks
    about that person when there is exactly one."""
    row: list[Button] = []
    if trial.url.startswith(("https://", "http://")):
        row.append(Button(t("button.registry"), url=trial.url))
    if details:
        data = _details_data(trial)
        if data:
            row.append(Button(t("button.details"), callback_data=data))
    rows = [tuple(row)] if row else []
    join = join_data(trial, matches) if may_take_people(trial.overall_status) else None
    if join:
        rows.append((Button(t("button.could_i_join"), callback_data=join),))
    return tuple(rows)


def join_data(trial: Trial, matches: Sequence[Match] = (), sub: str | None = None) -> str | None:
    """The "Could I join?" payload: for the one subscription the message is about, else "0"
    (the handler asks whom it is for when the chat has several)."""
    ids = {m.subscription.id for m in matches}
    target = sub or (str(next(iter(ids))) if len(ids) == 1 else "0")
    try:
        return callbacks.encode(callbacks.COULD_I_JOIN, trial.registry, trial.registry_id, target)
    except ValueError:  # an id with characters a button cannot carry
        return None


def _details_data(trial: Trial) -> str | None:
    try:
        return callbacks.encode(callbacks.TRIAL_DETAILS, trial.registry, trial.registry_id)
    except ValueError:
        return None


REGISTRY_NAMES = {"ctgov": "ClinicalTrials.gov", "ctis": "EU CTIS", "isrctn": "ISRCTN"}


def registry_label(ref: SourceRef, t: Translator) -> str:
    """ "EU CTIS 2024-520423-88-00"; a WHO-export record names the registry behind it."""
    if ref.registry == "ictrp":
        behind = source_registry_of(ref.registry_id)
        name = "WHO ICTRP" if behind == "WHO ICTRP" else t("record.via_ictrp", registry=behind)
    else:
        name = REGISTRY_NAMES.get(ref.registry, ref.registry)
    return f"{name} {record.shorten(ref.registry_id, _CITY)}"


def _source_links(trial: Trial, t: Translator) -> str | None:
    """Every registry record of a trial registered in several, each a link; None for one."""
    if len(trial.sources) < 2:
        return None
    links = []
    for ref in trial.sources:
        label = esc(registry_label(ref, t))
        if ref.url.startswith(("https://", "http://")):
            links.append(f'<a href="{html.escape(ref.url, quote=True)}">{label}</a>')
        else:
            links.append(label)
    return esc(t("record.sources", links="\x00")).replace("\x00", " · ".join(links))


def _sources_section(trial: Trial, t: Translator) -> _Section:
    line = _source_links(trial, t)
    return _Section([line] if line else [], drop_rank=3)


def _title(
    prefix_key: str | None,
    trial: Trial,
    verdict: Classification,
    facts: TrialFacts,
    t: Translator,
    **extra: str,
) -> str:
    title = words.plain_title(trial, verdict, facts, t)
    text = t(prefix_key, title=title, **extra) if prefix_key else title
    return f"<b>{esc(text)}</b>"


def _new_headline(trial: Trial, today: date, t: Translator) -> tuple[str, dict[str, str]]:
    """What the alert is: a new study people can join, or one new on our list that has ended,
    is on hold, takes no new people, or whose record is out of date."""
    status = trial.overall_status or ""
    if words.is_open(trial, today):
        return "title.new", {}
    if words.is_stale(trial, today) or status == "UNKNOWN":
        updated = record.parse_date(trial.last_update)
        if updated is not None:
            return "title.new.old", {"year": str(updated.year)}
    if status in ("COMPLETED", "TERMINATED", "WITHDRAWN"):
        end = trial.dates.completion or trial.dates.primary_completion
        ended = record.parse_date(end.date) if end else None
        if ended is not None and ended <= today:
            return "title.new.ended", {"year": str(ended.year)}
        return "title.new.ended_undated", {}
    if status == "SUSPENDED":
        return "title.new.paused", {}
    if status == "ACTIVE_NOT_RECRUITING":
        return "title.new.closed", {}
    return "title.new", {}


@dataclass(frozen=True)
class AlertParts:
    """The sections of an alert that every chat reading it in one language on one day gets
    alike: the title, what is tested, who can join, how far along, the risks (or, for a change,
    the flags), the sources and the disclaimer. Where, how to ask, why it reached you, the
    changed lines and the buttons depend on the chat's matched subscriptions and are made per
    chat. The sender builds these once per (version, language, kind, day) and renders 5,000
    alerts from them (bot/sender.py); each render copies them, as fitting shortens lists."""

    kind: str
    lang: str
    today: date
    title: _Section
    body: dict[str, _Section]
    sources: _Section
    disclaimer: _Section

    def copy(self, name: str) -> _Section:
        return replace(self.body[name], lines=list(self.body[name].lines))

    def copy_title(self) -> _Section:
        return replace(self.title, lines=list(self.title.lines))

    def copy_sources(self) -> _Section:
        return replace(self.sources, lines=list(self.sources.lines))

    def copy_disclaimer(self) -> _Section:
        return replace(self.disclaimer, lines=list(self.disclaimer.lines))


def alert_parts(
    kind: Literal["new", "window", "change"],
    trial: Trial,
    verdict: Classification,
    lang: str,
    *,
    changes: Sequence[FieldChange] = (),
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
) -> AlertParts:
    """The chat-independent sections of a new-trial, window or change alert. `known`: what is
    known of its results (`StoredTrial.known`), for caveat R8; None says nothing of results."""
    t = translator(lang, "alerts")
    day = today or date.today()
    facts = facts or extract(trial)
    body: dict[str, _Section]
    if kind == "change":
        title = _Section([_title("title.update", trial, verdict, facts, t)])
        status_shown = any(c.kind == "status" and c.notable for c in changes)
        flags = [
            c
            for c in evaluate(trial, verdict, day, facts, known)
            if c.severity == "H" and not (status_shown and c.rule == "R9")
        ]
        body = {"flags": _Section(_risk_lines(flags, t), heading=t("section.flags"), drop_rank=2)}
    else:
        if kind == "window":
            title = _Section([_title("title.window", trial, verdict, facts, t)])
        else:
            headline, extra = _new_headline(trial, day, t)
            title = _Section([_title(headline, trial, verdict, facts, t, **extra)])
        body = _common_sections(trial, verdict, facts, t, day, known)
    return AlertParts(kind, lang, day, title, body, _sources_section(trial, t), _disclaimer(t))


def _common_sections(
    trial: Trial,
    verdict: Classification,
    facts: TrialFacts,
    t: Translator,
    today: date,
    known: KnownSoFar | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> dict[str, _Section]:
    """`leave_out`: caveat rules another section already says."""
    risks = [c for c in evaluate(trial, verdict, today, facts, known) if c.rule not in leave_out]
    return {
        "what": _Section(
            [esc(words.join_sentences(words.what_is_tested(trial, verdict, facts, t), t))],
            heading=t("section.what"),
        ),
        "who": _Section(
            _bullets(words.who_can_join(trial, verdict, facts, t)),
            heading=t("section.who"),
            more=lambda n: t("who.more"),
            keep=2,
        ),
        "progress": _Section(
            [esc(words.join_sentences(words.how_far_along(trial, facts, t, today), t))],
            heading=t("section.progress"),
        ),
        "risks": _Section(
            _risk_lines(risks, t),
            heading=t("section.risks"),
            more=lambda n: t("risks.more"),
            keep=3,
        ),
    }


def _body_sections(
    trial: Trial,
    verdict: Classification,
    facts: TrialFacts,
    matches: Sequence[Match],
    t: Translator,
    today: date,
    sites_shown: int,
    common: dict[str, _Section] | None = None,
    known: KnownSoFar | None = None,
    leave_out: frozenset[str] = frozenset(),
) -> list[_Section]:
    """The sections every full description has: what is tested, who can join, where, how far
    along (leading with doubt when the record is out of date), how to ask, what could go
    wrong, why it reached you. `common`: the chat-independent ones, already made (copied
    here: fitting shortens them); else made with `known` and without the caveat rules in
    `leave_out` (another section already says them)."""
    made = common or _common_sections(trial, verdict, facts, t, today, known, leave_out)
    shared = {name: replace(section, lines=list(section.lines)) for name, section in made.items()}
    return [
        shared["what"],
        shared["who"],
        _where(trial, matches, t, sites_shown, today),
        shared["progress"],
        _contact_section(trial, facts, matches, t, today),
        shared["risks"],
        _why(matches, t, facts),
    ]


# --- the four messages ---------------------------------------------------------------------


def render_new_trial(
    trial: Trial,
    verdict: Classification,
    matches: Sequence[Match],
    lang: str,
    *,
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
    parts: AlertParts | None = None,
) -> Rendered:
    """The alert for a trial a subscription sees for the first time. `known`: what is known
    of its results (`StoredTrial.known`), for caveat R8; None says nothing about results.
    `parts`: its chat-independent sections, made once for many chats (`alert_parts("new",
    ...)`, given the same `known`)."""
    t = translator(lang, "alerts")
    facts = facts or extract(trial)
    parts = _parts_for(parts, "new", trial, verdict, lang, (), today, facts, known)
    sections = [
        parts.copy_title(),
        *_body_sections(trial, verdict, facts, matches, t, parts.today, SITES_IN_ALERT, parts.body),
        parts.copy_sources(),
        parts.copy_disclaimer(),
    ]
    return Rendered(_fit(sections), _buttons(trial, t, matches=matches))


def render_window_open(
    trial: Trial,
    verdict: Classification,
    matches: Sequence[Match],
    lang: str,
    *,
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
    parts: AlertParts | None = None,
) -> Rendered:
    """The alert for a person who has just entered a recruiting trial's time window: the full
    description, under a headline that says so."""
    t = translator(lang, "alerts")
    facts = facts or extract(trial)
    parts = _parts_for(parts, "window", trial, verdict, lang, (), today, facts, known)
    opened = []
    if facts.stroke_window_days is not None:
        opened.append(esc(t("window.open", window=words.window_words(facts.stroke_window_days, t))))
    sections = [
        parts.copy_title(),
        _Section(opened),
        *_body_sections(trial, verdict, facts, matches, t, parts.today, SITES_IN_ALERT, parts.body),
        parts.copy_sources(),
        parts.copy_disclaimer(),
    ]
    return Rendered(_fit(sections), _buttons(trial, t, matches=matches))


def render_change(
    trial: Trial,
    verdict: Classification,
    changes: Sequence[FieldChange],
    matches: Sequence[Match],
    lang: str,
    *,
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
    parts: AlertParts | None = None,
) -> Rendered | None:
    """What changed, in plain words; None when nothing a patient would care about changed."""
    t = translator(lang, "alerts")
    facts = facts or extract(trial)
    lines = change_lines(trial, verdict, changes, matches, t)
    if not lines:
        return None
    parts = _parts_for(parts, "change", trial, verdict, lang, changes, today, facts, known)
    changed = _Section(
        _bullets(lines),
        heading=t("section.changed"),
        more=lambda n: t.plural("change.more", n, n=words.number(n, t)),
    )
    sections = [
        parts.copy_title(),
        changed,
        parts.copy("flags"),
        _why(matches, t, facts),
        parts.copy_sources(),
        parts.copy_disclaimer(),
    ]
    return Rendered(_fit(sections), _buttons(trial, t, matches=matches))


def _parts_for(
    parts: AlertParts | None,
    kind: Literal["new", "window", "change"],
    trial: Trial,
    verdict: Classification,
    lang: str,
    changes: Sequence[FieldChange],
    today: date | None,
    facts: TrialFacts,
    known: KnownSoFar | None,
) -> AlertParts:
    if parts is not None:
        assert parts.kind == kind and parts.lang == lang, (parts.kind, parts.lang, kind, lang)
        return parts
    return alert_parts(
        kind, trial, verdict, lang, changes=changes, today=today, facts=facts, known=known
    )


def render_detail(
    trial: Trial,
    verdict: Classification,
    lang: str,
    *,
    matches: Sequence[Match] = (),
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
) -> Rendered:
    """The `/trial` view (also the "Details" button): the full description, what is known so
    far of its results, and the registry's own facts. With `known` None (publications not
    loaded) the "What is known so far" section is left out and R8 does not fire; with it, R8's
    sentence is said in that section rather than twice."""
    t = translator(lang, "alerts")
    facts = facts or extract(trial)
    day = today or date.today()
    body = _body_sections(
        trial,
        verdict,
        facts,
        matches,
        t,
        day,
        SITES_IN_DETAIL,
        known=known,
        leave_out=frozenset({"R8"}),
    )
    sections = [
        _Section([_title(None, trial, verdict, facts, t)]),
        *body,
        *_known_sections(trial, verdict, facts, known, t, day),
        _record_section(trial, t),
        _disclaimer(t),
    ]
    return Rendered(_fit(sections), _buttons(trial, t, details=False, matches=matches))


def render_results(
    trial: Trial,
    verdict: Classification,
    publication: Publication,
    matches: Sequence[Match],
    lang: str,
    *,
    today: date | None = None,
    facts: TrialFacts | None = None,
    known: KnownSoFar | None = None,
) -> Rendered:
    """The "Results are out" alert for one stored results publication of a trial: what it is
    (title, journal, month), why it counts as results and how it is tied to the study, which
    study, that the message does not say what was found, the link, the study's red flags,
    why it reached the chat, and the disclaimer. It never words findings."""
    t = translator(lang, "alerts")
    day = today or date.today()
    facts = facts or extract(trial)
    flags = [c for c in evaluate(trial, verdict, day, facts, known) if c.severity == "H"]
    about = [
        paper_kind_line(publication, t),
        t("results.study", title=words.plain_title(trial, verdict, facts, t)),
    ]
    link = publication.link
    linked = link if link and link.startswith(("https://", "http://")) else None
    sections = [
        _Section([f"<b>{esc(results_headline(publication, t))}</b>"]),
        _Section([esc(line) for line in about if line]),
        _Section([esc(t("results.no_summary"))]),
        _Section([_url_line(t("results.link", link="\x00"), linked)] if linked else []),
        _Section(_risk_lines(flags, t), heading=t("section.flags"), drop_rank=2),
        _why(matches, t)
        if matches
        else _Section([esc(t("why.followed"))], heading=t("section.why"), drop_rank=1),
        _sources_section(trial, t),
        _disclaimer(t),
    ]
    buttons = _buttons(trial, t, matches=matches)
    if linked:
        label = t("button.document" if _is_document(publication) else "button.paper")
        buttons = ((Button(label, url=linked),), *buttons)
    return Rendered(_fit(sections), buttons)


def _record_section(trial: Trial, t: Translator) -> _Section:
    lines = [
        t(
            "record.title",
            title=registry_quote(record.shorten(trial.brief_title, _REGISTRY_TITLE), t),
        ),
        t("record.id", id=record.shorten(trial.registry_id, _CITY)),
    ]
    if trial.sponsor:
        lines.append(t("record.sponsor", sponsor=record.shorten(trial.sponsor.name, _SPONSOR)))
    start = words.month(trial.dates.start.date if trial.dates.start else None, t)
    end_date = trial.dates.primary_completion or trial.dates.completion
    end = words.month(end_date.date if end_date else None, t)
    if start:
        lines.append(t("record.start", date=start))
    if end:
        lines.append(t("record.end", date=end))
    updated = words.month(trial.last_update, t)
    if updated:
        lines.append(t("record.updated", date=updated))
    html_lines = [esc(line) for line in lines]
    links = _source_links(trial, t)
    if links:
        html_lines.append(links)
    return _Section(html_lines, heading=t("section.record"), drop_rank=0)


# --- what is known of the results ----------------------------------------------------------


def registry_results_url(trial: Trial) -> str | None:
    """Where the registry shows a trial's posted results: ClinicalTrials.gov's results tab
    (`<record>?tab=results`, of the trial's CT.gov record when it has one), else the record
    itself; None without a web address."""
    for ref in trial.sources:
        if ref.registry == "ctgov" and ref.url.startswith(("https://", "http://")):
            return ref.url.split("#")[0].split("?")[0] + "?tab=results"
    if not trial.url.startswith(("https://", "http://")):
        return None
    if trial.registry == "ctgov":
        return trial.url.split("#")[0].split("?")[0] + "?tab=results"
    return trial.url


def _anchor(url: str | None, label_html: str) -> str:
    """`label_html` (already escaped) as a link when `url` is a web address."""
    if url and url.startswith(("https://", "http://")):
        return f'<a href="{html.escape(url, quote=True)}">{label_html}</a>'
    return label_html


def _url_line(text: str, url: str) -> str:
    """A catalog line with a NUL character where the link goes: the URL shown and linked."""
    return esc(text).replace("\x00", _anchor(url, esc(url)))


def _paper_title(text: str, t: Translator) -> str:
    """A paper's own title as given; for a Spanish or Chinese reader in quotation marks,
    with "(en inglés)" / "（英文原文）" when it is plainly English."""
    key = "quote.paper_english" if plainly_english(text) else "quote.paper"
    return t(key, text=text)


def paper_name(pub: Publication, t: Translator, limit: int = _PAPER_TITLE) -> str | None:
    """ "<title> (<journal>, <month year>)" from the stored publication, leaving out what is
    not known ("(Stroke)", "(2021)" or nothing); the registry's citation, shortened and quoted
    as the registry's words, stands in for a missing title. None when there is neither."""
    if pub.title and record.clean(pub.title):
        name = _paper_title(record.shorten(pub.title, limit), t)
    elif pub.citation and record.clean(pub.citation):
        return registry_quote(record.shorten(pub.citation, _CITATION), t)
    else:
        return None
    journal = record.shorten(pub.journal or "", _JOURNAL)
    when = words.month(pub.published, t)
    if journal and when:
        source = t("paper.source", journal=journal, date=when)
    else:
        source = journal or when or ""
    return t("paper.with_source", title=name, source=source) if source else name


def results_headline(pub: Publication, t: Translator) -> str:
    """ "Results are out: <title> (<journal>, <month year>)"; for a bare registry link,
    "Results are out: the registry links to a results document"."""
    name = paper_name(pub, t)
    if name:
        return t("title.results", paper=name)
    if pub.found_by == "registry":
        return t("title.results.link")
    return t("title.results.untitled")


def _is_document(pub: Publication) -> bool:
    """A results document the registry links to, not a paper (no PMID, DOI, title, citation)."""
    return not (pub.pmid or pub.doi or pub.title or pub.citation)


def paper_kind_line(pub: Publication, t: Translator) -> str:
    """Why it counts as results, and how it is tied to this study, from the stored evidence
    (`Publication.reason` and `found_by`); nothing about what it found."""
    sentences = []
    if pub.reason == "registry_results":
        key = "results.kind.registry_document" if _is_document(pub) else "results.kind.registry"
        sentences.append(t(key))
    elif pub.reason in ("trial_type", "results_title"):
        sentences.append(t(f"results.kind.{pub.reason}"))
    if pub.found_by in ("pubmed_si", "pubmed_tiab"):
        sentences.append(t(f"results.found.{pub.found_by}"))
    elif pub.reason != "registry_results":
        sentences.append(t("results.found.registry"))
    return words.join_sentences(sentences, t)


def _listed_paper(pub: Publication, t: Translator) -> str:
    """One line of "What is known so far": its kind, then its name linked (HTML)."""
    name = paper_name(pub, t, _PAPER_LISTED) or t("paper.document")
    line = esc(t("known.paper", kind=t(f"known.kind.{pub.kind}"), paper="\x00"))
    return "• " + line.replace("\x00", _anchor(pub.link, esc(name)))


def _known_sections(
    trial: Trial,
    verdict: Classification,
    facts: TrialFacts,
    known: KnownSoFar | None,
    t: Translator,
    today: date,
) -> list[_Section]:
    """ "What is known so far": results on the registry (linked), up to three publications
    (newest first, protocols last), and R8's sentence when it fires (a paragraph of its own,
    so shortening drops papers, never it). Nothing without `known` (not loaded)."""
    if known is None:
        return []
    lines: list[str] = []
    if known.registry_results:
        url = registry_results_url(trial)
        lines.append(
            _url_line(t("known.registry", link="\x00"), url)
            if url
            else esc(t("known.registry.no_link"))
        )
    head = len(lines)
    shown = known.shown(PAPERS_SHOWN)
    lines += [_listed_paper(pub, t) for pub in shown]
    if not lines:
        lines.append(esc(t("known.nothing" if known.looked else "known.not_looked")))
    listed = _Section(
        lines,
        heading=t("section.known"),
        more=lambda n: t.plural("known.more", n, n=words.number(n, t)),
        hidden=len(known.publications) - len(shown),
        keep=min(len(lines), head + 1),
    )
    overdue = [c for c in evaluate(trial, verdict, today, facts, known) if c.rule == "R8"]
    return [listed, _Section([esc(_caveat_text(c, t)) for c in overdue])]


@dataclass(frozen=True)
class _Block:
    number: int
    html: str
    trial: Trial


def render_digest(
    items: Sequence[DigestItem],
    lang: str,
    period: Literal["daily", "weekly"],
    *,
    today: date | None = None,
) -> list[Rendered]:
    """Many alerts folded into as few messages as fit, each with its own disclaimer."""
    t = translator(lang, "alerts")
    day = today or date.today()
    blocks: list[_Block] = []
    for item in items:
        html_block = _digest_block(item, t, day, len(blocks) + 1)
        if html_block is not None:
            blocks.append(_Block(len(blocks) + 1, html_block, item.trial))
    if not blocks:
        return []
    disclaimer = _disclaimer(t).html()
    reserve = visible_length(disclaimer) + 120  # the heading, with "(part n of m)"
    pages: list[list[_Block]] = [[]]
    used = 0
    for block in blocks:
        size = visible_length(block.html) + 2
        if pages[-1] and (
            used + size > BUDGET - reserve or len(pages[-1]) >= DIGEST_ITEMS_PER_MESSAGE
        ):
            pages.append([])
            used = 0
        pages[-1].append(block)
        used += size
    out = []
    for number, page in enumerate(pages, start=1):
        head = t.plural(f"digest.{period}", len(blocks), n=words.number(len(blocks), t))
        if len(pages) > 1:
            head = words.join_sentences([head, t("digest.part", part=number, parts=len(pages))], t)
        text = "\n\n".join([f"<b>{esc(head)}</b>", *(b.html for b in page), disclaimer])
        out.append(Rendered(text, _digest_buttons(page, t)))
    return out


def _digest_block(item: DigestItem, t: Translator, today: date, number: int) -> str | None:
    trial, verdict = item.trial, item.verdict
    facts = item.facts or extract(trial)
    title = words.plain_title(trial, verdict, facts, t)
    if item.publication is not None:
        pub = item.publication
        head = t("digest.results", n=number, headline=results_headline(pub, t))
        body = [esc(line) for line in (t("results.study", title=title), paper_kind_line(pub, t))]
        body.append(esc(t("results.no_summary")))
        if pub.link and pub.link.startswith(("https://", "http://")):
            body.append(_url_line(t("results.link", link="\x00"), pub.link))
    elif item.changes:
        lines = change_lines(trial, verdict, item.changes, item.matches, t)
        if not lines:
            return None
        head = t("digest.update", n=number, title=title)
        body = _bullets(lines[:SITE_CHANGES_SHOWN])
    else:
        head = t("digest.new", n=number, title=title)
        body = [
            esc(
                words.join_sentences(
                    [words.status_line(trial, t, today), words.phase_line(trial, facts, t)], t
                )
            )
        ]
        sites = _merged_sites(trial, item.matches, t.lang)
        if sites:
            sm, origin = sites[0]
            first = _site_text(sm, t, record.shorten(origin or "", _CITY))
            key = "digest.nearest" if sm.distance_km is not None else "digest.site"
            body.append(esc(t(key, site=first)))
            if len(sites) > 1:
                body.append(
                    esc(t.plural("where.more", len(sites) - 1, n=words.number(len(sites) - 1, t)))
                )
    flags = [c for c in evaluate(trial, verdict, today, facts, item.known) if c.severity == "H"]
    body += _risk_lines(flags, t)
    links = _source_links(trial, t)
    if links:
        body.append(links)
    elif trial.url.startswith(("https://", "http://")):
        link = html.escape(trial.url, quote=True)
        body.append(f'<a href="{link}">{esc(t("button.registry"))}</a>')
    return "\n".join([f"<b>{esc(head)}</b>", *body])


def _digest_buttons(page: Sequence[_Block], t: Translator) -> tuple[tuple[Button, ...], ...]:
    """A details button per item, numbered like the items, three to a row."""
    buttons = []
    for block in page:
        data = _details_data(block.trial)
        if data:
            buttons.append(Button(t("button.details_n", n=block.number), callback_data=data))
    return tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))


# --- what changed --------------------------------------------------------------------------


def change_lines(
    trial: Trial,
    verdict: Classification,
    changes: Sequence[FieldChange],
    matches: Sequence[Match],
    t: Translator,
) -> list[str]:
    """Plain sentences for the changes a patient would care about (none for the rest). When the
    same update stops or ends the study, changes to who can join and where are left out: they
    no longer help anyone decide to join."""
    notable = [c for c in changes if c.notable]
    if any(c.kind == "status" and str(c.new) in _CLOSED for c in notable):
        notable = [c for c in notable if c.kind not in _JOINING]
    lines: list[str] = []
    kinds: set[str] = {c.kind for c in notable}
    for change in notable:
        wording = _CHANGE_WORDS.get(change.kind)
        line = wording(change, trial, verdict, t, kinds) if wording else None
        if line:
            lines.append(line)
    sites, elsewhere = _site_change_lines(
        [c for c in notable if c.kind.startswith("site_")], matches, t
    )
    lines += sites
    if elsewhere and lines:
        lines.append(t.plural("change.site.elsewhere", elsewhere, n=words.number(elsewhere, t)))
    return list(dict.fromkeys(lines))


ChangeWords = Callable[[FieldChange, Trial, Classification, Translator, set[str]], str | None]
_CLOSED = frozenset({"COMPLETED", "TERMINATED", "WITHDRAWN", "SUSPENDED"})
_JOINING = frozenset({"eligibility", "fact", "site_added", "site_status"})


def _status_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    status = str(change.new or "").lower()
    if not status:
        return None
    line = t(f"change.status.{status}") if status in words.STATUSES else t("change.status.other")
    if str(change.new) in STOPPED_STATUSES and trial.why_stopped:
        reason = registry_quote(record.shorten(trial.why_stopped, 160), t)
        line = words.join_sentences([line, t("change.reason", reason=reason)], t)
    return line


def _why_stopped_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    if "status" in kinds or not change.new:
        return None
    return t("change.reason_now", reason=registry_quote(record.shorten(str(change.new), 160), t))


def _results_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    """ "Results are out on the registry: <its results page>" (plain text: the address is the
    link, so the line stays one line in a list and in a digest)."""
    if change.new is not True:
        return None
    url = registry_results_url(trial)
    return t("change.results", link=url) if url else t("change.results.no_link")


def _count(value: Any) -> int | None:
    count = value.get("count") if isinstance(value, dict) else None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _enrollment_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    old, new = _count(change.old), _count(change.new)
    if new is None or new == old:
        return None
    flag = change.new.get("estimated") if isinstance(change.new, dict) else None
    n = words.number(new, t)
    if flag is None:  # the record does not say whether it is a plan or the final count
        return t.plural("change.enrollment.listed", new, n=n)
    estimated = flag is True
    if old is None:
        key = "change.enrollment.first" if estimated else "change.enrollment.final"
        return t.plural(key, new, n=n)
    key = "change.enrollment.planned" if estimated else "change.enrollment.actual"
    return t.plural(key, new, n=n, old=words.number(old, t))


def _phase_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    old = {p for p in change.old or [] if p != "NA"}
    new = {p for p in change.new or [] if p != "NA"}
    if old == new or not new:
        return None
    return t("change.phases", phase=words.phase_line(trial, extract(trial), t))


def _date_value(value: Any) -> str | None:
    return value.get("date") if isinstance(value, dict) else None


def _date_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    name = change.field.removeprefix("dates.")
    if name not in ("start", "primary_completion", "completion"):
        return None
    old, new = words.month(_date_value(change.old), t), words.month(_date_value(change.new), t)
    if new is None or old == new:
        return None
    actual = isinstance(change.new, dict) and change.new.get("estimated") is False
    if name == "primary_completion" and actual:
        return t("change.date.primary_completion.actual", new=new)
    if old is None:
        return t(f"change.date.{name}.new", new=new)
    return t(f"change.date.{name}", old=old, new=new)


def _eligibility_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    field_name = change.field.removeprefix("eligibility.")
    if field_name == "healthy_volunteers":
        return None
    if field_name == "sex":
        sex = str(change.new or "").lower()
        if sex in ("female", "male"):
            return t(f"who.sex.{sex}")
        was = str(change.old or "").lower()
        return t("change.sex.all") if sex == "all" and was in ("female", "male") else None
    if field_name == "criteria" and not change.old:
        return t("change.criteria.new")
    if field_name in ("minimum_age", "maximum_age"):
        ages = words.age_line(extract(trial), t)
        return t("change.ages", ages=ages) if ages else t("change.criteria")
    if "fact" in kinds:
        return None  # what changed in the criteria is said by the facts it changed
    return t("change.criteria")


def _fact_change(
    change: FieldChange, trial: Trial, verdict: Classification, t: Translator, kinds: set[str]
) -> str | None:
    """A fact the record states changed: said from the old and new values themselves."""
    key = change.field.removeprefix("facts.")
    if key == "stroke_window_days":
        new, old = _window(change.new), _window(change.old)
        if new is None:
            return t("change.criteria")
        if old is None:
            return t("who.when.window", window=words.window_words(new, t))
        return t("change.window", new=words.window_words(new, t), old=words.window_words(old, t))
    if key in ("age_min_years", "age_max_years"):
        ages = words.age_line(extract(trial), t)
        return t("change.ages", ages=ages) if ages else None
    if key == "population":
        return t("change.fact.population")
    if key == "routes":
        how = words.what_is_tested(trial, verdict, extract(trial), t)[-1]
        return t("change.fact.routes", how=how)
    return None


def _window(value: Any) -> tuple[float, float | None] | None:
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    low, high = value
    if not isinstance(low, int | float) or not (high is None or isinstance(high, int | float)):
        return None
    return float(low), None if high is None else float(high)


_CHANGE_WORDS: dict[str, ChangeWords] = {
    "status": _status_change,
    "why_stopped": _why_stopped_change,
    "results_posted": _results_change,
    "enrollment": _enrollment_change,
    "phases": _phase_change,
    "date": _date_change,
    "eligibility": _eligibility_change,
    "fact": _fact_change,
}
"""Title changes are left out on purpose: our title is our own, and registry title edits are
mostly typo fixes."""


def _site_of(value: Any) -> Site | None:
    if not isinstance(value, dict):
        return None
    try:
        return Site.model_validate({k: v for k, v in value.items() if k in Site.model_fields})
    except ValueError:
        return None


def _site_change_lines(
    changes: Sequence[FieldChange], matches: Sequence[Match], t: Translator
) -> tuple[list[str], int]:
    """Site changes inside the subscriptions' regions, nearest first, and how many changes
    were elsewhere (those alone never make an alert)."""
    anywhere = not matches or any(m.subscription.anywhere for m in matches)
    matched = {
        sm.site.key: (sm, _sub_place(m.subscription, t.lang)) for m in matches for sm in m.sites
    }
    near: list[tuple[float, str]] = []
    elsewhere = 0
    for change in changes:
        site = _site_of(change.new if change.kind != "site_removed" else change.old)
        if site is None:
            continue
        found = matched.get(site.key)
        if found is None and not anywhere:
            elsewhere += 1
            continue
        sm = found[0] if found else SiteMatch(site)
        origin = record.shorten(found[1] or "", _CITY) if found else ""
        line = _site_change_line(change, site, sm, origin, t)
        km = sm.distance_km
        if line:
            near.append((km if km is not None else float("inf"), line))
    near.sort(key=lambda pair: pair[0])
    lines = [line for _, line in near[:SITE_CHANGES_SHOWN]]
    if len(near) > SITE_CHANGES_SHOWN:
        hidden = len(near) - SITE_CHANGES_SHOWN
        lines.append(t.plural("change.site.more", hidden, n=words.number(hidden, t)))
    return lines, elsewhere


def _site_change_line(
    change: FieldChange, site: Site, sm: SiteMatch, origin: str, t: Translator
) -> str | None:
    """`site` as the change gives it; `sm` says how far it is, or why that is not known."""
    place = _place(site, t) or record.shorten(site.facility or "", _FACILITY) or t("where.unnamed")
    if sm.distance_km is not None:
        away = words.distance(sm.distance_km, t)
        place = (
            t("change.site.from", place=place, distance=away, origin=origin)
            if origin
            else t("change.site.away", place=place, distance=away)
        )
    elif sm.unplaced:
        place = t(f"where.unplaced.{sm.unplaced}", site=place)
    if change.kind == "site_added":
        return t("change.site.added", place=place)
    if change.kind == "site_removed":
        return t("change.site.removed", place=place)
    old = _site_of(change.old)
    was = old.status if old else None
    if site.status == "RECRUITING":
        return t("change.site.recruiting", place=place)
    if was == "RECRUITING":
        return t("change.site.stopped", place=place)
    return None


__all__ = [
    "MAX_LENGTH",
    "AlertParts",
    "Button",
    "DigestItem",
    "Rendered",
    "alert_parts",
    "change_lines",
    "render_change",
    "render_detail",
    "render_digest",
    "render_new_trial",
    "render_results",
]
