"""Every class of untrue or misleading sentence found by reading alerts against their records
(issue 11), each checked on a real record or a variant derived from one in code. The alerts
are read as a person reads them: the visible text."""

from __future__ import annotations

from datetime import date
from functools import cache

import pytest

from bot.render import render_change, render_new_trial
from bot.telegram_text import visible_text
from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.classification import Classification
from trialbot.matching import Match, SubscriptionFilter, sites_in_region
from trialbot.model import (
    Arm,
    Contact,
    Eligibility,
    Enrollment,
    FieldChange,
    Intervention,
    Site,
    Trial,
)

TODAY = date(2026, 12, 4)
ANYWHERE = SubscriptionFilter(id=1)


@cache
def record(name: str) -> tuple[Trial, Classification]:
    trial = normalise(study(name))
    return trial, classify(trial)


def alert(trial: Trial, verdict: Classification | None = None, lang: str = "en") -> str:
    verdict = verdict or classify(trial)
    matches = [Match(ANYWHERE, sites_in_region(trial.sites, ANYWHERE))]
    return visible_text(render_new_trial(trial, verdict, matches, lang, today=TODAY).text)


def section(text: str, heading: str) -> str:
    return text.split(f"{heading}\n", 1)[1].split("\n\n", 1)[0]


def plain(name: str = "NCT01287936__2016-12-21") -> Trial:
    """A real record without its summary and description."""
    trial, _ = record(name)
    return trial.model_copy(update={"summary": None, "detailed_description": None})


def given(description: str, trial: Trial | None = None) -> Trial:
    product = Intervention(
        type="BIOLOGICAL", name="Mesenchymal stem cells", description=description
    )
    return (trial or plain()).model_copy(update={"interventions": (product,), "arms": ()})


# --- how it is given ------------------------------------------------------------------------


def test_no_route_from_background_prose() -> None:
    background = "Earlier studies gave intravenous stem cells to rats and showed recovery."
    trial = given("a single infusion").model_copy(update={"summary": background})
    what = section(alert(trial), "What is tested")
    assert "drip" not in what and "does not say clearly how the treatment is given" in what


def test_into_the_brains_fluid_spaces_is_not_a_spinal_injection() -> None:
    text = alert(given("intraventricular injection of the cells"))
    assert "fluid-filled spaces inside the brain" in text and "spine" not in text


@pytest.mark.parametrize("description", ["brain injection of the cells", "stereotaxis injection"])
def test_brain_injection_and_stereotaxis_are_into_the_brain(description: str) -> None:
    assert "put into the brain" in section(alert(given(description)), "What is tested")


def test_each_group_with_its_own_route_is_not_more_than_one_way_at_once() -> None:
    arms = (
        Arm(label="IV", type="EXPERIMENTAL", description="cells given intravenously"),
        Arm(label="IA", type="EXPERIMENTAL", description="intra-arterial cells"),
    )
    text = alert(plain().model_copy(update={"arms": arms}))
    assert "Different groups get it in different ways" in text
    assert "at once" not in text


def test_cells_into_the_cavity_after_a_clot_removal_every_group_has() -> None:
    text = alert(record("NCT04074408__2020-05-26__recruiting")[0])
    assert "put into the space the bleed left in the brain" in text
    assert "during surgery" not in text and "This needs brain surgery" not in text


# --- who can join ---------------------------------------------------------------------------


def test_a_newborn_trial_is_for_newborns_with_no_time_window() -> None:
    trial, _ = record("NCT04261335__2023-10-03")
    criteria = "Inclusion Criteria:\n\n* Gestational age of 36 weeks or more\n* Within 6 hours"
    trial = trial.model_copy(update={"eligibility": Eligibility(criteria=criteria)})
    who = section(alert(trial), "Who can join")
    assert "newborn babies" in who and "had a stroke" not in who and "You join" not in who
    assert "after a stroke" not in alert(trial)


def test_acute_alone_is_no_first_week() -> None:
    criteria = "Inclusion Criteria:\n\n* Acute ischemic stroke"
    text = alert(plain().model_copy(update={"eligibility": Eligibility(criteria=criteria)}))
    assert "first week" not in text
    assert "does not say how long after the stroke people can join" in text


def test_numbers_written_as_words() -> None:
    criteria = "Inclusion Criteria:\n\n* Ischemic stroke within two weeks of onset"
    text = alert(plain().model_copy(update={"eligibility": Eligibility(criteria=criteria)}))
    assert "You join up to 14 days after the stroke." in text


def test_enrolment_a_day_or_two_after_the_stroke_is_not_the_first_week() -> None:
    who = section(alert(record("NCT03570450__2023-07-27")[0]), "Who can join")
    assert "You join 1 to 2 days after the stroke." in who and "first week" not in who


def test_one_of_several_deficits_is_not_a_weakness_rule_and_scores_keep_their_range() -> None:
    who = section(alert(record("NCT04074408__2020-05-26__recruiting")[0]), "Who can join")
    assert "weakness" not in who
    criteria = "Inclusion Criteria:\n\n* Modified Rankin Scale score of 2, 3 or 4"
    text = alert(plain().model_copy(update={"eligibility": Eligibility(criteria=criteria)}))
    assert "Your disability score must be 2 to 4" in text


# --- is it still running --------------------------------------------------------------------


def test_an_out_of_date_recruiting_record_leads_with_the_doubt() -> None:
    text = alert(record("NCT03545607__2019-08-13")[0])
    progress = section(text, "How far along it is")
    assert progress.startswith("The registry last said it was recruiting in August 2019")
    assert "It is looking for people now" not in text
    assert text.startswith("New on our list: a study last updated in 2019: ")
    assert "How to ask about joining" not in text


@pytest.mark.parametrize(
    ("name", "headline"),
    [
        ("NCT03629275__2021-08-13", "New on our list: a study that ended in 2021: "),
        ("NCT00875654__2017-10-30", "New on our list: a study that has ended: "),
        ("NCT07197606__2025-09-29", "New study: "),
    ],
)
def test_the_headline_says_what_the_alert_is(name: str, headline: str) -> None:
    assert alert(record(name)[0]).startswith(headline)


def test_a_closed_trial_without_sites_lists_none_rather_than_none_yet() -> None:
    where = section(alert(record("NCT03629275__2021-08-13")[0]), "Where")
    assert where == "The record lists no study sites."


# --- how early and how big ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["NCT01287936__2016-12-21", "NCT04631406__2022-05-10", "NCT03176498__2023-04-13"]
)
def test_an_early_trial_with_stated_efficacy_aims_is_not_only_safety(name: str) -> None:
    assert "not whether it helps" not in alert(record(name)[0])


def test_sixty_people_at_one_centre_is_not_a_large_test() -> None:
    text = alert(record("NCT01716481__2017-04-26__recruiting")[0])
    assert "large test" not in text and "but a small one" in text


def test_chance_allocation_is_said_even_when_no_comparison_group_is_named() -> None:
    assert "Chance decides who is in which group" in alert(record("NCT00875654__2017-10-30")[0])


# --- who pays, where it runs ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["NCT07197606__2025-09-29", "NCT03176498__2023-04-13", "NCT03629275__2021-08-13"]
)
def test_a_company_sponsor_filed_under_other_or_no_class_is_said(name: str) -> None:
    assert "A company pays for this study" in alert(record(name)[0])


def test_a_multicentre_study_listing_one_site_is_not_one_hospital() -> None:
    trial, _ = record("NCT04631406__2022-05-10")
    single = alert(trial)
    multi = alert(trial.model_copy(update={"official_title": "A Multicenter Study of NR1"}))
    assert "The record lists only one study site" in single
    assert "one study site" not in multi and "Only one hospital" not in multi


# --- numbers --------------------------------------------------------------------------------


def test_a_count_without_its_flag_is_neither_a_plan_nor_who_took_part() -> None:
    trial, _ = record("NCT01716481__2017-04-26__unknown")
    trial = trial.model_copy(update={"enrollment": Enrollment(count=12)})
    text = alert(trial)
    assert "The record lists only 12 people" in text and "The record lists 12 people" in text
    assert "took part" not in text and "plans to include" not in text


def test_a_final_count_without_its_flag_after_the_end_is_not_a_plan() -> None:
    trial, verdict = record("NCT00875654__2017-10-30")
    changes = [
        FieldChange(field="overall_status", kind="status", notable=True, old="RECRUITING",
                    new="COMPLETED"),
        FieldChange(field="enrollment", kind="enrollment", notable=True,
                    old={"count": 30, "estimated": True}, new={"count": 19}),
    ]  # fmt: skip
    rendered = render_change(trial, verdict, changes, [], "en", today=TODAY)
    assert rendered is not None
    text = visible_text(rendered.text)
    assert "The record now lists 19 people." in text and "plans" not in text


# --- change alerts --------------------------------------------------------------------------


def test_no_new_joining_window_in_the_update_that_stops_the_trial() -> None:
    trial, verdict = record("NCT03629275__2021-08-13")
    changes = [
        FieldChange(field="overall_status", kind="status", notable=True, old="RECRUITING",
                    new="TERMINATED"),
        FieldChange(field="facts.stroke_window_days", kind="fact", notable=True,
                    old=[182.64, 365.28], new=[182.64, 730.56]),
    ]  # fmt: skip
    rendered = render_change(trial, verdict, changes, [], "en", today=TODAY)
    assert rendered is not None
    assert "You can now join" not in visible_text(rendered.text)


def test_a_changed_window_alone_is_said_with_both_windows() -> None:
    trial, verdict = record("NCT03629275__2019-03-02")
    change = FieldChange(field="facts.stroke_window_days", kind="fact", notable=True,
                         old=[182.64, 365.28], new=[182.64, 730.56])  # fmt: skip
    rendered = render_change(trial, verdict, [change], [], "en", today=TODAY)
    assert rendered is not None
    assert "You can now join 6 to 24 months after the stroke. Before, it was 6 to 12 months." in (
        visible_text(rendered.text)
    )


def test_the_main_results_date_is_called_planned_only_while_it_is_a_plan() -> None:
    trial, verdict = record("NCT03545607__2022-02-09")
    planned = FieldChange(field="dates.primary_completion", kind="date", notable=True,
                          old={"date": "2020-12", "estimated": True},
                          new={"date": "2022-09", "estimated": True})  # fmt: skip
    actual = planned.model_copy(update={"new": {"date": "2022-09", "estimated": False}})
    texts = [
        visible_text(r.text)
        for c in (planned, actual)
        if (r := render_change(trial, verdict, [c], [], "en", today=TODAY)) is not None
    ]
    assert (
        "The planned date for the main results moved from December 2020 to September 2022."
        in (texts[0])
    )
    assert "The main results were collected by September 2022." in texts[1]


# --- what was missing -----------------------------------------------------------------------


def test_how_to_ask_names_the_nearest_matching_sites_contact_else_the_studys() -> None:
    trial, verdict = record("NCT07197606__2025-09-29")
    central = Contact(name="Study desk", phone="+86 21 5555 0000", email="desk@example.org")
    text = alert(trial.model_copy(update={"contacts": (central,)}), verdict)
    ask = section(text, "How to ask about joining")
    assert "Study contact: Study desk · +86 21 5555 0000 · desk@example.org" in ask
    assert "not a clinic that sells treatment" in ask
    nurse = Contact(name="Trial nurse", email="nurse@example.org")
    site = Site(facility="Huashan Hospital", city="Shanghai", country="CN", contacts=(nurse,))
    with_site = trial.model_copy(update={"contacts": (central,), "sites": (site,)})
    ask = section(alert(with_site, verdict), "How to ask about joining")
    assert "Study team at Shanghai, China: Trial nurse · nurse@example.org" in ask


def test_results_posted_sponsor_last_update_and_planned_end_are_said() -> None:
    with_results = alert(record("NCT02448641__2020-10-08")[0])
    assert "Results are posted on the registry" in with_results
    assert "It is run by SanBio, Inc." in with_results
    recruiting = alert(record("NCT07197606__2025-09-29")[0])
    assert "It plans to finish in December 2027." in recruiting
    assert "The record was last updated in September 2025." in recruiting


def test_isrctn_blinded_without_who_says_some_people_do_not_know() -> None:
    # ISRCTN says "Blinded (masking used)" without who: the adapter's BLINDED (issue 12).
    trial = plain()
    blinded = trial.model_copy(
        update={"design": trial.design.model_copy(update={"masking": "BLINDED", "who_masked": ()})}
    )
    assert "Some people in the study do not know who gets what." in alert(blinded)
