"""Rendered messages: golden texts for real records, Telegram's HTML and length rules for
any registry text (hypothesis), the 1,148-site record, change alerts for the real version
pairs, digests, the detail view, the catalogs and `trialbot preview`.

Goldens live in tests/bot/golden/*.html (the text as sent, then one line per button); run
with UPDATE_GOLDENS=1 to rewrite them after a deliberate wording change, and read the diff.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Sequence
from datetime import date
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import render
from bot.i18n import LANGUAGES, catalog_path
from bot.render import (
    MAX_LENGTH,
    DigestItem,
    Rendered,
    render_change,
    render_detail,
    render_digest,
    render_new_trial,
)
from bot.telegram_text import visible_length
from jobs.changes import diff, diff_facts
from jobs.classify import classify
from jobs.facts import extract
from jobs.registries.ctgov_record import normalise
from tests.conftest import CTGOV, study
from trialbot.classification import Classification
from trialbot.matching import Match, SubscriptionFilter, gazetteer_geocoder, sites_in_region
from trialbot.model import Arm, Eligibility, FieldChange, Intervention, Site, Trial

GOLDEN = Path(__file__).parent / "golden"
TODAY = date(2026, 1, 15)
UPDATE = os.environ.get("UPDATE_GOLDENS") == "1"


@cache
def record(name: str) -> tuple[Trial, Classification]:
    trial = normalise(study(name))
    return trial, classify(trial)


def matched(trial: Trial, sub: SubscriptionFilter) -> list[Match]:
    return [Match(sub, sites_in_region(trial.sites, sub))]


def as_sent(rendered: Rendered) -> str:
    """What `trialbot preview` prints: the HTML, then the buttons."""
    buttons = [f"[{b.text}]({b.url or b.callback_data})" for row in rendered.buttons for b in row]
    return "\n".join([rendered.text, "", *buttons])


def check_golden(name: str, rendered: Rendered) -> None:
    path = GOLDEN / f"{name}.html"
    text = as_sent(rendered) + "\n"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


# --- Telegram HTML validity ----------------------------------------------------------------

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
}  # fmt: skip
_ENTITY = re.compile(r"&(?!(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)")


class _TelegramHTML(HTMLParser):
    """Checks the tags Telegram accepts, their attributes and their nesting."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"tag <{tag}>")
        names = {name for name, _ in attrs}
        if tag == "a" and (names != {"href"} or not str(dict(attrs)["href"]).startswith("http")):
            self.problems.append(f"link attributes {attrs}")
        elif tag != "a" and tag != "span" and attrs:
            self.problems.append(f"attributes on <{tag}>")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.problems.append(f"unbalanced </{tag}>")

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            self.problems.append(f"entity &{name};")


def assert_telegram_html(text: str) -> None:
    checker = _TelegramHTML()
    checker.feed(text)
    checker.close()
    assert not checker.problems, checker.problems
    assert not checker.stack, f"unclosed {checker.stack}"
    without_tags = re.sub(r"</?[a-z-]+(?:\s+[a-z-]+=\"[^\"<>]*\")*>", "", text)
    assert "<" not in without_tags and ">" not in without_tags
    assert not _ENTITY.search(text), "bare & outside an entity"
    assert 0 < visible_length(text) <= MAX_LENGTH


def assert_sendable(rendered: Rendered) -> None:
    assert_telegram_html(rendered.text)
    for row in rendered.buttons:
        for button in row:
            assert button.text and (button.url or button.callback_data)
            if button.callback_data:
                assert len(button.callback_data.encode()) <= 64


# --- goldens -------------------------------------------------------------------------------

DAD_IN_TAIWAN = SubscriptionFilter(id=1, label="Dad", countries=frozenset({"TW"}))
MUM_ANYWHERE = SubscriptionFilter(id=2, label="Mum")
MAMA_ANYWHERE = SubscriptionFilter(id=3, label="Mamá")


def test_golden_new_trial_masters2_english() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    rendered = render_new_trial(trial, verdict, matched(trial, DAD_IN_TAIWAN), "en", today=TODAY)
    assert_sendable(rendered)
    check_golden("masters2_new_en", rendered)


def test_golden_new_trial_pisces3_spanish() -> None:
    trial, verdict = record("NCT03629275__2021-08-13")
    rendered = render_new_trial(trial, verdict, matched(trial, MAMA_ANYWHERE), "es", today=TODAY)
    assert_sendable(rendered)
    check_golden("pisces3_new_es", rendered)


def test_golden_change_pisces3_english() -> None:
    old, _ = record("NCT03629275__2019-03-02")
    trial, verdict = record("NCT03629275__2021-08-13")
    changes = diff(old.snapshot(), trial.snapshot())
    rendered = render_change(
        trial, verdict, changes, matched(trial, MUM_ANYWHERE), "en", today=TODAY
    )
    assert rendered is not None
    assert_sendable(rendered)
    check_golden("pisces3_change_en", rendered)


def test_golden_detail_nr1_chinese() -> None:
    trial, verdict = record("NCT04631406__2022-05-10")
    rendered = render_detail(trial, verdict, "zh", today=TODAY)
    assert_sendable(rendered)
    check_golden("nr1_detail_zh", rendered)


# --- the sections, in the issue's order ----------------------------------------------------


def test_new_trial_sections_in_order_with_buttons() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    rendered = render_new_trial(trial, verdict, matched(trial, DAD_IN_TAIWAN), "en", today=TODAY)
    headings = re.findall(r"<b>([^<]+)</b>\n", rendered.text)
    assert headings[1:] == [
        "What is tested",
        "Who can join",
        "Where",
        "How far along it is",
        "What could go wrong",
        "Why you got this",
    ]
    assert rendered.text.startswith("<b>New on our list: a study last updated in 2022: ")
    assert trial.brief_title not in rendered.text
    assert rendered.text.splitlines()[-1].startswith("<i>This is not medical advice.")
    assert "“Dad” (in Taiwan)" in rendered.text
    ((registry, details), (join,)) = rendered.buttons
    assert registry.url == "https://clinicaltrials.gov/study/NCT03545607"
    assert details.callback_data == "td:ctgov:NCT03545607"
    assert join.text == "Could I join?" and join.callback_data == "cj:ctgov:NCT03545607:1"


def test_where_lists_nearest_sites_first_with_rounded_distances() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    madrid = Site(facility="Hospital La Paz", city="Madrid", country="ES", lat=40.4168, lon=-3.7038)
    seville = Site(facility="Virgen del Rocío", city="Sevilla", country="ES", lat=37.39, lon=-5.98)
    trial = trial.model_copy(update={"sites": (*trial.sites, seville, madrid)})
    getafe = SubscriptionFilter(
        id=4, lat=40.3057, lon=-3.7329, radius_km=600, point_country="ES", place_name="Getafe"
    )
    text = render_new_trial(trial, verdict, matched(trial, getafe), "en", today=TODAY).text
    where = text.split("<b>Where</b>\n")[1].split("\n\n")[0].splitlines()
    assert where == [
        "• Hospital La Paz, Madrid, Spain, about 13 km from Getafe.",
        "• Virgen del Rocío, Sevilla, Spain, about 380 km from Getafe.",
    ]
    assert "near Getafe (within 600 km)" in text


# --- where: a site whose position is unknown is never "within N km" -------------------------

COLUMBUS = SubscriptionFilter(  # as stored before place names carried their region
    id=6,
    lat=39.9612,
    lon=-82.9988,
    radius_km=100,
    point_country="US",
    place_name="Columbus, United States",
)


def where_lines(text: str, heading: str = "Where") -> list[str]:
    return text.split(f"<b>{heading}</b>\n")[1].split("\n\n")[0].splitlines()


def near_columbus(trial: Trial) -> list[Match]:
    return [Match(COLUMBUS, sites_in_region(trial.sites, COLUMBUS, gazetteer_geocoder))]


def test_a_site_with_no_city_is_not_said_to_be_near() -> None:
    """NR1's only US site is "Stanford Health Center" with no city and no coordinates."""
    trial, verdict = record("NCT04631406__2022-05-10")
    text = render_new_trial(trial, verdict, near_columbus(trial), "en", today=TODAY).text
    (line,) = where_lines(text)
    assert line == (
        "• Stanford Health Center, United States (the record gives no city, so we cannot tell "
        "how far away it is). It is recruiting."
    )
    assert "near Columbus, Ohio, United States (within 100 km; by country only" in text
    assert "km from" not in text and "km away" not in text
    digest = render_digest([DigestItem(trial, verdict, (), tuple(near_columbus(trial)))], "en",
                           "daily", today=TODAY)[0].text  # fmt: skip
    assert "Nearest site" not in digest
    assert "Site: Stanford Health Center, United States (the record gives no city" in digest
    for lang, heading, says in (
        ("es", "Dónde", "Estados Unidos (el registro no indica la ciudad, así que no sabemos"),
        ("zh", "在哪里", "美国（记录没有写明城市，所以我们无法知道它有多远）"),
    ):
        other = render_new_trial(trial, verdict, near_columbus(trial), lang, today=TODAY).text
        (line,) = where_lines(other, heading)
        assert says in line and "km" not in line and "公里" not in line


def test_a_city_we_cannot_place_says_so() -> None:
    trial, verdict = record("NCT04631406__2022-05-10")
    unknown = Site(facility="Clinic", city="Xyzzyville", state="Ohio", country="US")
    trial = trial.model_copy(update={"sites": (unknown,)})
    text = render_new_trial(trial, verdict, near_columbus(trial), "en", today=TODAY).text
    assert where_lines(text) == [
        "• Clinic, Xyzzyville, Ohio, United States (we could not find this city on our map, so "
        "we cannot tell how far away it is)."
    ]


def test_a_placed_site_shows_its_distance_and_region() -> None:
    trial, verdict = record("NCT04631406__2022-05-10")
    osu = Site(facility="Wexner Medical Center", city="Columbus", state="Ohio", country="US",
               status="RECRUITING")  # fmt: skip
    trial = trial.model_copy(update={"sites": (*trial.sites, osu)})
    text = render_new_trial(trial, verdict, near_columbus(trial), "en", today=TODAY).text
    assert where_lines(text) == [
        "• Wexner Medical Center, Columbus, Ohio, United States, less than 1 km from Columbus, "
        "Ohio, United States. It is recruiting.",
        "• Stanford Health Center, United States (the record gives no city, so we cannot tell "
        "how far away it is). It is recruiting.",
    ]
    assert "near Columbus, Ohio, United States (within 100 km)." in text


def test_a_new_site_with_no_city_is_not_said_to_be_near() -> None:
    trial, verdict = record("NCT04631406__2022-05-10")
    (site,) = trial.sites
    change = FieldChange(field="sites", kind="site_added", notable=True,
                         new=site.model_dump(mode="json"))  # fmt: skip
    rendered = render_change(trial, verdict, [change], near_columbus(trial), "en", today=TODAY)
    assert rendered is not None
    assert (
        "• A new site opened in United States (the record gives no city, so we cannot tell how "
        "far away it is)." in rendered.text
    )


def test_a_region_that_repeats_the_city_or_country_is_left_out() -> None:
    trial, verdict = record("NCT04631406__2022-05-10")
    sites = (
        Site(facility="A", city="New York", state="New York", country="US"),
        Site(facility="B", city="Taipei", state="Taipei City", country="TW"),
        Site(facility="C", city="Springfield", state="Illinois", country="US"),
    )
    trial = trial.model_copy(update={"sites": sites})
    text = render_new_trial(trial, verdict, [], "en", today=TODAY).text
    assert where_lines(text) == [
        "• A, New York, United States.",
        "• B, Taipei, Taiwan.",
        "• C, Springfield, Illinois, United States.",
    ]


def test_borderline_products_say_they_are_not_cells() -> None:
    trial, verdict = record("NCT00901381__2014-01-07")  # G-CSF
    text = render_new_trial(trial, verdict, [], "en", today=TODAY).text
    assert "This is not a cell treatment." in text
    exosomes = Intervention(type="BIOLOGICAL", name="MSC-derived exosomes")
    trial = trial.model_copy(update={"interventions": (exosomes,), "arms": ()})
    text = render_new_trial(trial, classify(trial), [], "en", today=TODAY).text
    assert "tiny particles" in text and "This is not a cell treatment." in text


def test_no_promotional_words_in_any_catalog() -> None:
    for lang in LANGUAGES:
        text = catalog_path(lang, "alerts").read_text(encoding="utf-8").lower()
        for word in ("promising", "breakthrough", "miracle", "cure", "prometedor", "突破"):
            assert word not in text.replace("“{word}”", ""), (lang, word)


# --- any registry text: valid HTML within the limit ----------------------------------------

HOSTILE = st.sampled_from(
    [
        "<b>bold</b>",
        "</i><script>alert(1)</script>",
        "&amp; &lt; & &#x27; &nbsp;",
        "10\\^6 cells \\<50\\>",
        '" onclick="x',
        "\u202eevil\u200d",
        "🧠" * 300,
        "a" * 5000,
        "{title} {0} %s",
        "<a href='javascript:alert(1)'>x</a>",
    ]
)
TEXT = st.one_of(HOSTILE, st.text(max_size=600))


@st.composite
def hostile_trials(draw: st.DrawFn) -> Trial:
    base, _ = record("NCT03629275__2021-08-13")
    sites = tuple(
        Site(
            facility=draw(TEXT),
            city=draw(TEXT),
            country_name=draw(TEXT),
            status=draw(st.sampled_from([None, "RECRUITING", "NOT_YET_RECRUITING", "BOGUS"])),
        )
        for _ in range(draw(st.integers(0, 40)))
    )
    return base.model_copy(
        update={
            "brief_title": draw(TEXT) or "x",
            "official_title": draw(TEXT),
            "summary": draw(TEXT),
            "why_stopped": draw(TEXT),
            "eligibility": Eligibility(criteria=draw(TEXT), minimum_age=draw(TEXT)),
            "interventions": (Intervention(name=draw(TEXT) or "x", description=draw(TEXT)),),
            "arms": (Arm(label=draw(TEXT), description=draw(TEXT)),),
            "conditions": tuple(draw(st.lists(TEXT, max_size=6))),
            "sites": sites,
            "registry_id": draw(st.sampled_from(["NCT03629275", "ChiCTR/2000<x>"])),
        }
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trial=hostile_trials(), label=TEXT, place=TEXT, lang=st.sampled_from(LANGUAGES))
def test_any_registry_text_renders_valid_telegram_html(
    trial: Trial, label: str, place: str, lang: str
) -> None:
    verdict = classify(trial)
    sub = SubscriptionFilter(id=9, label=label, place_name=place)
    matches = matched(trial, sub)
    assert_sendable(render_new_trial(trial, verdict, matches, lang, today=TODAY))
    assert_sendable(render_detail(trial, verdict, lang, matches=matches, today=TODAY))
    site = trial.sites[0].model_dump() if trial.sites else {"facility": label}
    changes = [
        FieldChange(field="overall_status", kind="status", notable=True, old="X", new="TERMINATED"),
        FieldChange(field="why_stopped", kind="why_stopped", notable=True, new=trial.why_stopped),
        FieldChange(field="sites", kind="site_added", notable=True, new=site),
    ]
    changed = render_change(trial, verdict, changes, matches, lang, today=TODAY)
    assert changed is not None
    assert_sendable(changed)
    item = DigestItem(trial, verdict, tuple(changes), tuple(matches))
    for message in render_digest([item] * 12, lang, "daily", today=TODAY):
        assert_sendable(message)


# --- the 1,148-site record -----------------------------------------------------------------

BIG = "NCT04267848"


def test_the_1148_site_record_shows_five_and_counts_the_rest() -> None:
    trial, verdict = record(BIG)
    assert len(trial.sites) == 1148
    sub = SubscriptionFilter(id=1)
    rendered = render_new_trial(trial, verdict, matched(trial, sub), "en", today=TODAY)
    assert_sendable(rendered)
    where = rendered.text.split("<b>Where</b>\n")[1].split("\n\n")[0].splitlines()
    assert len(where) == 6 and where[-1] == "And 1,143 more sites."


def test_a_long_alert_is_shortened_at_section_boundaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(render, "SITES_IN_ALERT", 5000)  # try to list every site
    trial, verdict = record(BIG)
    sub = SubscriptionFilter(id=1)
    for lang in LANGUAGES:
        rendered = render_new_trial(trial, verdict, matched(trial, sub), lang, today=TODAY)
        assert_sendable(rendered)
        assert visible_length(rendered.text) <= render.BUDGET
        where = rendered.text.split("\n\n")[3].splitlines()
        shown = [line for line in where if line.startswith("• ")]
        more = int(re.sub(r"\D", "", where[-1]))
        assert len(shown) > 5 and len(shown) + more == 1148
        assert "<b>" in rendered.text.split("\n\n")[5]  # the risks are still there
        assert rendered.text.splitlines()[-1].startswith("<i>")


# --- change alerts -------------------------------------------------------------------------

PAIRS = {
    "NCT00875654": ("2014-07-15", "2017-10-30", ["The study has ended.", "31 people took part."]),
    "NCT01716481": (
        "2017-04-26__recruiting",
        "2017-04-26__unknown",
        ["The record has not been updated in over two years. The study may have ended."],
    ),
    "NCT02448641": (
        "2020-04-17",
        "2020-10-08",
        ["The record now says who can join. Check the details."],
    ),
    "NCT03176498": (
        "2020-10-28",
        "2023-04-13",
        ["The end date moved from December 2021 to December 2024."],
    ),
    "NCT03545607": (
        "2019-08-13",
        "2022-02-09",
        [
            "The planned date for the main results moved from December 2020 to September 2022.",
            "A new site opened in Taipei City, Taiwan.",
        ],
    ),
    "NCT03629275": (
        "2019-03-02",
        "2021-08-13",
        [
            "It stopped early. The registry gives this reason: “Strategic decision to progress "
            "stroke disability programme through regional partnerships”.",
        ],
    ),
    "NCT04074408": (
        "2020-05-26__recruiting",
        "2020-05-26__unknown",
        ["The record has not been updated in over two years. The study may have ended."],
    ),
}


def change_for(nct: str, lang: str = "en") -> Rendered | None:
    before, after, _ = PAIRS[nct]
    old, _ = record(f"{nct}__{before}")
    trial, verdict = record(f"{nct}__{after}")
    changes = diff(old.snapshot(), trial.snapshot()) + diff_facts(extract(old), extract(trial))
    return render_change(trial, verdict, changes, matched(trial, MUM_ANYWHERE), lang, today=TODAY)


def test_every_version_pair_is_covered() -> None:
    stems = sorted(p.name.split("__")[0] for p in (CTGOV / "reconstructed").glob("NCT*__*.json"))
    assert {s for s in stems if stems.count(s) > 1} == set(PAIRS)


@pytest.mark.parametrize("nct", sorted(PAIRS))
def test_change_alerts_for_the_real_pairs(nct: str) -> None:
    rendered = change_for(nct)
    assert rendered is not None
    assert_sendable(rendered)
    assert rendered.text.startswith("<b>Update: ")
    for line in PAIRS[nct][2]:
        assert f"• {line}" in rendered.text.replace("&amp;", "&")
    for lang in ("es", "zh"):
        other = change_for(nct, lang)
        assert other is not None
        assert_sendable(other)


def test_the_issue_examples() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    madrid = {"facility": "Hospital La Paz", "city": "Madrid", "country": "ES", "lat": 40.4168,
              "lon": -3.7038, "status": "RECRUITING"}  # fmt: skip
    trial = trial.model_copy(update={"sites": (*trial.sites, Site(**madrid))})  # type: ignore[arg-type]
    getafe = SubscriptionFilter(id=4, lat=40.3057, lon=-3.7329, radius_km=50, point_country="ES")
    changes = [
        FieldChange(field="overall_status", kind="status", notable=True, old="NOT_YET_RECRUITING",
                    new="RECRUITING"),
        FieldChange(field="sites", kind="site_added", notable=True, new=madrid),
        FieldChange(field="has_results", kind="results_posted", notable=True, old=False, new=True),
        FieldChange(field="enrollment", kind="enrollment", notable=True,
                    old={"count": 24, "estimated": True}, new={"count": 60, "estimated": True}),
    ]  # fmt: skip
    rendered = render_change(trial, verdict, changes, matched(trial, getafe), "en", today=TODAY)
    assert rendered is not None
    lines = rendered.text.split("<b>What changed</b>\n")[1].split("\n\n")[0].splitlines()
    assert lines == [
        "• It is now recruiting.",
        "• Results are out on the registry: https://clinicaltrials.gov/study/NCT03545607?tab=results",
        "• It now plans 60 people instead of 24.",
        "• A new site opened in Madrid, Spain, about 13 km away.",
    ]


def test_sites_outside_the_area_are_only_counted() -> None:
    old, _ = record("NCT03545607__2019-08-13")
    trial, verdict = record("NCT03545607__2022-02-09")
    changes = diff(old.snapshot(), trial.snapshot())
    us_only = SubscriptionFilter(id=5, countries=frozenset({"US"}))
    rendered = render_change(trial, verdict, changes, matched(trial, us_only), "en", today=TODAY)
    assert rendered is not None
    assert "Taiwan" not in rendered.text
    assert "3 sites outside your area also changed." in rendered.text


NOT_FOR_PATIENTS = [
    [FieldChange(field="keywords", kind="other", notable=False, old=["a"], new=["b"])],
    [FieldChange(field="condition_mesh", kind="other", notable=False, old=[], new=[{"id": 1}])],
    [FieldChange(field="brief_title", kind="title", notable=True, old="Stem Cels",
                 new="Stem Cells")],
    [FieldChange(field="dates.start", kind="date", notable=True, old={"date": "2020-09-01"},
                 new={"date": "2020-09-15"})],
    [FieldChange(field="eligibility.sex", kind="eligibility", notable=True, old=None, new="ALL")],
    [FieldChange(field="sites", kind="site_status", notable=True, old={"city": "X", "status": None},
                 new={"city": "X", "status": "ACTIVE_NOT_RECRUITING"})],
]  # fmt: skip


@pytest.mark.parametrize("changes", NOT_FOR_PATIENTS)
def test_nothing_is_sent_for_changes_patients_do_not_care_about(
    changes: Sequence[FieldChange],
) -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    assert render_change(trial, verdict, changes, [], "en", today=TODAY) is None


def test_mesh_rederivation_of_a_real_record_sends_nothing() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    rederived = trial.snapshot() | {
        "condition_mesh": [{"id": 20521, "term": "Stroke"}],
        "condition_mesh_ancestors": [{"id": 2561, "term": "Cerebrovascular Disorders"}],
    }
    changes = diff(trial.snapshot(), rederived)
    assert changes and render_change(trial, verdict, changes, [], "en", today=TODAY) is None


# --- digest and detail view ----------------------------------------------------------------


def test_digest_folds_many_alerts_into_few_messages() -> None:
    items = []
    for nct, (before, after, _) in sorted(PAIRS.items()):
        old, _ = record(f"{nct}__{before}")
        trial, verdict = record(f"{nct}__{after}")
        m = tuple(matched(trial, MUM_ANYWHERE))
        items.append(DigestItem(trial, verdict, tuple(diff(old.snapshot(), trial.snapshot())), m))
        items.append(DigestItem(trial, verdict, (), m))
    messages = render_digest(items * 3, "en", "weekly", today=TODAY)
    assert 2 <= len(messages) <= 5
    assert messages[0].text.startswith("<b>Your weekly summary: 42 studies (part 1 of ")
    numbers = [int(n) for m in messages for n in re.findall(r"<b>(\d+)\. ", m.text)]
    assert numbers == list(range(1, 43))
    for message in messages:
        assert_sendable(message)
        assert message.text.splitlines()[-1].startswith("<i>This is not medical advice.")
    assert messages[0].buttons[0][0].text == "Details 1"


def test_digest_is_empty_when_nothing_matters() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    quiet = DigestItem(trial, verdict, tuple(NOT_FOR_PATIENTS[0]), ())
    assert render_digest([quiet], "en", "daily", today=TODAY) == []
    assert render_digest([], "es", "weekly", today=TODAY) == []


def test_detail_view_adds_the_registry_facts_escaped() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    trial = trial.model_copy(update={"brief_title": "MultiStem® <Study> & \\[more\\]"})
    rendered = render_detail(trial, verdict, "en", today=TODAY)
    assert_sendable(rendered)
    assert "Title in the registry: “MultiStem® &lt;Study&gt; &amp; \\[more\\]”" in rendered.text
    assert "Registry number: NCT03545607" in rendered.text
    assert "Run by: Athersys, Inc" in rendered.text
    assert [b.text for row in rendered.buttons for b in row] == [
        "Open the registry record",
        "Could I join?",
    ]


# --- catalogs ------------------------------------------------------------------------------


def _catalog(lang: str) -> dict[str, tuple[str, ...]]:
    with catalog_path(lang, "alerts").open("rb") as handle:
        catalog = read_po(handle)
    out = {}
    for message in catalog:
        if message.id:
            key = message.id if isinstance(message.id, str) else message.id[0]
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            out[str(key)] = tuple(str(s) for s in strings)
    return out


def test_catalogs_have_the_same_keys_and_placeholders() -> None:
    english = _catalog("en")
    for lang in ("es", "zh"):
        other = _catalog(lang)
        assert other.keys() == english.keys(), lang
        for key, texts in other.items():
            assert all(texts), (lang, key)
            wanted = set(re.findall(r"\{\w+\}", " ".join(english[key])))
            for text in texts:
                assert set(re.findall(r"\{\w+\}", text)) == wanted, (lang, key)


def test_catalogs_hold_no_markup() -> None:
    for lang in LANGUAGES:
        for texts in _catalog(lang).values():
            assert not any(c in text for text in texts for c in "<>&"), texts


# --- trialbot preview ----------------------------------------------------------------------


def test_preview_prints_the_alert_as_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import cli
    from jobs.poll import verdict_of
    from storage import trials as store
    from storage.db import Database
    from storage.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'preview.db'}"
    upgrade(url)
    old, old_verdict = record("NCT03629275__2019-03-02")
    new, new_verdict = record("NCT03629275__2021-08-13")

    async def store_versions() -> None:
        db = Database(url)
        async with db.write() as session:
            row = await store.insert_trial(session, old, verdict_of(old_verdict))
            seen = store.Observation.of(new, verdict_of(new_verdict))
            await store.add_version(session, row, seen, diff(old.snapshot(), new.snapshot()))
        await db.dispose()

    asyncio.run(store_versions())
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    assert cli.main(["preview", "NCT03629275"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "<b>New on our list: a study that ended in 2021: Nerve stem cells grown in a lab, put"
    )
    assert out.rstrip().endswith(
        "[Open the registry record](https://clinicaltrials.gov/study/NCT03629275)\n"
        "[Details](td:ctgov:NCT03629275)"
    )
    assert "Could I join?" not in out  # it stopped early: no question that suggests joining
    assert cli.main(["preview", "ctgov:NCT03629275", "--lang", "es", "--change"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<b>Novedad: ") and "Se paró antes de tiempo." in out
    assert cli.main(["preview", "NCT00000000"]) == 1
    assert "No stored trial" in capsys.readouterr().out


def test_why_you_got_this_in_the_unit_the_person_used() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    madrid = Site(facility="Hospital La Paz", city="Madrid", country="ES", lat=40.4168, lon=-3.7038)
    trial = trial.model_copy(update={"sites": (*trial.sites, madrid)})
    getafe = SubscriptionFilter(
        id=4,
        lat=40.3057,
        lon=-3.7329,
        radius_km=161,
        radius_unit="mi",
        point_country="ES",
        place_name="Getafe",
    )
    text = render_new_trial(trial, verdict, matched(trial, getafe), "en", today=TODAY).text
    assert "near Getafe (within 100 miles)" in text and "161" not in text
    text = render_new_trial(trial, verdict, matched(trial, getafe), "es", today=TODAY).text
    assert "a menos de 100 millas" in text


def test_could_i_join_is_offered_only_where_the_record_leaves_room_to_join() -> None:
    trial, verdict = record("NCT03629275__2019-03-02")  # recruiting
    closed, closed_verdict = record("NCT03629275__2021-08-13")  # stopped early
    labels = [b.text for row in render_new_trial(trial, verdict, [], "en").buttons for b in row]
    assert "Could I join?" in labels
    rendered = render_new_trial(closed, closed_verdict, [], "en")
    assert "Could I join?" not in [b.text for row in rendered.buttons for b in row]
