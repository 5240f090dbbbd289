"""The Spanish and Chinese alerts say what the English says, no more and no less (issue 11,
item 6), and text quoted from the registry is marked as the registry's words.

Most checks render the real sample records (every new-trial alert, detail view, change alert
and a digest) rather than reading the catalogs, so they see what a reader sees: the catalog
wording as the renderer puts it together.
"""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from functools import cache

import pytest
from babel.messages.pofile import read_po

from bot import render
from bot.i18n import LANGUAGES, catalog_path, translator
from bot.parsing import SubscribeRequest, parse_subscribe
from bot.render import DigestItem, render_change, render_detail, render_digest, render_new_trial
from bot.telegram_text import visible_text
from jobs.changes import diff
from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.conftest import CTGOV, all_recorded_studies, load_json, study
from trialbot.classification import Classification
from trialbot.matching import Match, SubscriptionFilter, sites_in_region
from trialbot.model import Eligibility, Trial

TODAY = date(2026, 1, 15)
ANYWHERE = SubscriptionFilter(id=1)
PISCES3_OLD, PISCES3 = "NCT03629275__2019-03-02", "NCT03629275__2021-08-13"
"""PISCES III: terminated, its reason in English; cells into the brain; 6 to 24 months."""
CHRONIC = "NCT02813512__2018-12-07"
"""A trial for people whose stroke was more than 6 months ago."""
UC_MSC = "NCT04811651__2022-05-25"
ISCHAEMIC = "NCT00875654__2017-10-30"


@cache
def record(name: str) -> tuple[Trial, Classification]:
    trial = normalise(study(name))
    return trial, classify(trial)


def _anywhere(trial: Trial) -> list[Match]:
    return [Match(ANYWHERE, sites_in_region(trial.sites, ANYWHERE))]


@cache
def messages(lang: str) -> tuple[tuple[str, str], ...]:
    """(name, visible text) of every message the samples make in one language."""
    reconstructed = sorted((CTGOV / "reconstructed").glob("NCT*.json"))
    records = [(p.stem, load_json(p)) for p in reconstructed] + all_recorded_studies()
    out: list[tuple[str, str]] = []
    for name, raw in records:
        trial = normalise(raw)
        verdict = classify(trial)
        new = render_new_trial(trial, verdict, _anywhere(trial), lang, today=TODAY)
        detail = render_detail(trial, verdict, lang, today=TODAY)
        out += [(f"{name} new", new.text), (f"{name} detail", detail.text)]
    pairs: dict[str, list[str]] = defaultdict(list)
    for path in reconstructed:
        pairs[path.name.split("__")[0]].append(path.name)
    items = []
    for nct, names in sorted(pairs.items()):
        if len(names) < 2:
            continue
        older, newer = sorted(names, key=lambda n: (n.split("__")[1], "unknown" in n))[:2]
        old, new_trial = (normalise(load_json(CTGOV / "reconstructed" / n)) for n in (older, newer))
        changes = diff(old.snapshot(), new_trial.snapshot())
        verdict = classify(new_trial)
        matches = _anywhere(new_trial)
        changed = render_change(new_trial, verdict, changes, matches, lang, today=TODAY)
        if changed is not None:
            out.append((f"{nct} change", changed.text))
        items.append(DigestItem(new_trial, verdict, tuple(changes), tuple(matches)))
    # Enough items for a digest in several parts: "(part 1 of 2)" is joined to its heading.
    for number, page in enumerate(render_digest(items * 4, lang, "daily", today=TODAY)):
        out.append((f"digest part {number + 1}", page.text))
    return tuple((name, visible_text(text)) for name, text in out)


def _section(text: str, heading: str) -> str:
    return text.split(f"{heading}\n", 1)[1].split("\n\n", 1)[0]


# --- Chinese -------------------------------------------------------------------------------


def test_no_space_after_a_chinese_full_stop_in_any_rendered_message() -> None:
    spaced = re.compile(r"[。！？：；，）] | [（“]")
    bad = [(name, m.group()) for name, text in messages("zh") if (m := spaced.search(text))]
    assert not bad, bad[:5]


def test_chinese_sentences_of_a_reason_run_together() -> None:
    old, _ = record(PISCES3_OLD)
    trial, verdict = record(PISCES3)
    changes = diff(old.snapshot(), trial.snapshot())
    rendered = render_change(trial, verdict, changes, _anywhere(trial), "zh", today=TODAY)
    assert rendered is not None
    assert "研究提前停止了。登记记录给出的原因：“Strategic decision" in rendered.text


def test_chinese_window_of_at_least_six_months_says_at_least() -> None:
    trial, verdict = record(CHRONIC)
    criteria = "Inclusion Criteria:\n\n* Stroke at least 6 months before enrolment"
    trial = trial.model_copy(update={"eligibility": Eligibility(criteria=criteria)})
    text = visible_text(render_new_trial(trial, verdict, [], "zh", today=TODAY).text)
    assert "• 中风后至少6个月可以参加。" in text.splitlines()
    for _, text in messages("zh"):
        assert "中风发生在6个月以前" not in text


def test_chinese_early_phases_are_an_early_stage_not_the_first_human_trial_ever() -> None:
    said = "\n".join(text for _, text in messages("zh"))
    for claim in ("首次在人身上", "最早在人身上"):
        assert claim not in said
    assert "这是人体试验的第一阶段，主要检查安全性和剂量。" in said
    assert "这是最早阶段的人体试验。" in said


def test_chinese_main_part_end_date_is_not_called_expected() -> None:
    trial, verdict = record(PISCES3)  # terminated: its dates are what happened
    text = visible_text(render_detail(trial, verdict, "zh", today=TODAY).text)
    assert "主要部分结束：2020年9月。" in text and "预计" not in text


def test_chinese_ischaemic_stroke_uses_the_medical_term_the_bot_uses() -> None:
    trial, verdict = record(ISCHAEMIC)
    text = visible_text(render_new_trial(trial, verdict, [], "zh", today=TODAY).text)
    assert "（缺血性卒中）" in text and "缺血性中风" not in text


def test_no_chinese_catalog_string_has_a_space_after_a_full_stop() -> None:
    for domain in ("bot", "alerts"):
        with catalog_path("zh", domain).open("rb") as handle:
            for message in read_po(handle):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for string in strings:
                    assert not re.search(r"[。！？] ", string or ""), (message.id, string)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_subscribe_example_in_the_help_parses(lang: str) -> None:
    """The Chinese help showed its third example in English ("Mum: any near ...")."""
    t = translator(lang)
    examples = [
        example
        for key in ("help.text", "sub.shortcut_help")
        for example in re.findall(r"<code>/subscribe ([^<]+)</code>", t(key))
    ]
    assert len(examples) == 5
    for example in examples:
        assert isinstance(parse_subscribe(example), SubscribeRequest), example
    if lang == "zh":
        assert not any("Mum" in example or "any" in example for example in examples)


# --- Spanish -------------------------------------------------------------------------------


def test_spanish_ischaemic_stroke_is_a_blocked_blood_vessel_not_a_glass_of_blood() -> None:
    for name, text in messages("es"):
        assert "vaso de sangre" not in text and "vasos de sangre" not in text, name
    trial, verdict = record(ISCHAEMIC)
    text = visible_text(render_new_trial(trial, verdict, [], "es", today=TODAY).text)
    assert "• Personas que han tenido un ictus por un vaso sanguíneo obstruido" in text


def test_spanish_intrathecal_risk_says_linked_to_not_joined_to() -> None:
    said = "\n".join(text for _, text in messages("es"))
    assert "se ha unido a" not in said
    assert "esto se ha relacionado con crecimientos anormales" in said


def test_spanish_disclaimer_does_not_read_as_nobody_checked() -> None:
    for name, text in messages("es"):
        assert "que nadie haya revisado" not in text, name
        assert "no quiere decir que alguien haya revisado el estudio" in text, name


def test_spanish_titles_say_how_long_ago_the_stroke_was() -> None:
    trial, verdict = record(CHRONIC)
    text = visible_text(render_new_trial(trial, verdict, [], "es", today=TODAY).text)
    assert "para personas de 6 meses a 10 años después de un ictus" in text.splitlines()[0]


def test_spanish_addresses_the_reader_as_usted_throughout() -> None:
    """A guard: the catalogs say usted ("Debe tener", "su médico"), never tú."""
    informal = re.compile(
        r"\b(?:tú|tu|tus|te|ti|tienes|puedes|debes|quieres|sabes|estás|eres|recibes|necesitas)\b",
        re.I,
    )
    for domain in ("bot", "alerts"):
        with catalog_path("es", domain).open("rb") as handle:
            for message in read_po(handle):
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                for string in strings:
                    assert not informal.search(re.sub(r"<code>.*?</code>", "", string or "")), (
                        message.id,
                        string,
                    )


# --- how it is given: no "it" that could be the cells --------------------------------------


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("en", "These are stem cells from the umbilical cord, taken after a baby is born. "
               "The treatment is given by drip into a vein."),
        ("es", "Son células madre del cordón umbilical, que se toman tras el parto. "
               "El tratamiento se da por goteo en una vena."),
    ],
)  # fmt: skip
def test_how_it_is_given_names_the_treatment(lang: str, said: str) -> None:
    trial, verdict = record(UC_MSC)
    text = visible_text(render_new_trial(trial, verdict, [], lang, today=TODAY).text)
    assert _section(text, {"en": "What is tested", "es": "Qué se prueba"}[lang]) == said


def test_no_what_is_tested_sentence_starts_with_an_ambiguous_it() -> None:
    ambiguous = re.compile(r"(?:^|\. )(?:It is given|It is put|It goes|It is not a stem)")
    for name, text in messages("en"):
        if "What is tested\n" in text:
            what = _section(text, "What is tested")
            assert not ambiguous.search(what), (name, what)
            assert "how it is given" not in what, (name, what)


# --- registry text is quoted as the registry's words, in its language ----------------------


def _pisces3_change(lang: str, why_stopped: str | None = None) -> str:
    old, _ = record(PISCES3_OLD)
    trial, verdict = record(PISCES3)
    if why_stopped is not None:
        trial = trial.model_copy(update={"why_stopped": why_stopped})
    changes = diff(old.snapshot(), trial.snapshot())
    rendered = render_change(trial, verdict, changes, _anywhere(trial), lang, today=TODAY)
    assert rendered is not None
    return visible_text(rendered.text)


def _pisces3_new(lang: str, **update: object) -> str:
    trial, verdict = record(PISCES3)
    trial = trial.model_copy(update=update)
    return visible_text(render_new_trial(trial, verdict, [], lang, today=TODAY).text)


REASON = "Strategic decision to progress stroke disability programme through regional partnerships"


@pytest.mark.parametrize(
    ("lang", "marked"),
    [
        ("en", f"The registry gives this reason: “{REASON}”"),
        ("es", f"El registro da este motivo: «{REASON}» (en inglés)"),
        ("zh", f"登记记录给出的原因：“{REASON}”（英文原文）"),
    ],
)
def test_stopping_reason_is_marked_as_the_registrys_english_words(lang: str, marked: str) -> None:
    assert marked in _pisces3_change(lang)  # change alert
    assert marked in _pisces3_new(lang)  # the R9 red flag


@pytest.mark.parametrize("reason", ["Falta de financiación", "Falta de fondos", "因经费不足停止"])
def test_a_reason_not_plainly_english_is_the_registrys_words_in_no_named_language(
    reason: str,
) -> None:
    assert f"The registry gives this reason: “{reason}”" in _pisces3_new("en", why_stopped=reason)
    es = _pisces3_new("es", why_stopped=reason)
    assert f"El registro da este motivo: «{reason}»" in es and "(en inglés)" not in es
    zh = _pisces3_new("zh", why_stopped=reason)
    assert f"登记记录给出的原因：“{reason}”" in zh and "英文原文" not in zh
    assert f"El registro da este motivo: «{reason}»" in _pisces3_change("es", why_stopped=reason)


@pytest.mark.parametrize(
    ("lang", "marked"),
    [
        ("en", "Title in the registry: “Investigation of Neural Stem Cells"),
        ("es", "Título en el registro: «Investigation of Neural Stem Cells"),
        ("zh", "登记记录中的标题：“Investigation of Neural Stem Cells"),
    ],
)
def test_registry_title_in_the_detail_view_is_quoted_with_its_language(
    lang: str, marked: str
) -> None:
    trial, verdict = record(PISCES3)
    text = visible_text(render_detail(trial, verdict, lang, today=TODAY).text)
    line = next(line for line in text.splitlines() if line.startswith(marked))
    assert line.endswith({"en": "”", "es": "» (en inglés)", "zh": "”（英文原文）"}[lang])


@pytest.mark.parametrize(
    ("lang", "marked"),
    [
        ("en", "The record uses the word “cure”."),
        ("es", "El registro usa la palabra «cure» (en inglés)."),
        ("zh", "登记记录中用了这个词：“cure”（英文原文）。"),
    ],
)
def test_hype_word_is_quoted_with_its_language(lang: str, marked: str) -> None:
    text = _pisces3_new(lang, summary="This treatment can cure stroke.")
    assert marked in text


@pytest.mark.parametrize(
    ("text", "english"),
    [
        ("Strategic decision to progress stroke disability programme", True),
        ("Others", True),
        ("Sponsor's decision – lack of funding", True),
        ("cured", True),
        ("Falta de fondos", False),
        ("Falta de financiación", False),
        ("Studie abgebrochen", False),
        ("因经费不足停止", False),
        ("Lack of funding (资金不足)", False),
        ("COVID-19", False),
        ("", False),
    ],
)
def test_plainly_english_rule(text: str, english: bool) -> None:
    assert render.plainly_english(text) is english
