"""The claim check: warning signs quoted from the text, and a verdict that tells an advert
from a warning article or a report of a registered trial, in English, Spanish and Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialbot.claims import FLAGS, QUOTE_LIMIT, check, detect_language, sentences

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "claims"

# (text, expected verdict, flags that must be found, flags that must not be)
CASES: list[tuple[str, str, set[str], set[str]]] = [
    # -- adverts ---------------------------------------------------------------------------
    (
        "Stem cell therapy in India for post-stroke recovery, 90% success, $15,000 package, "
        "book now",
        "warning",
        {"success_rate", "payment", "urgency", "no_registry_id"},
        set(),
    ),
    (
        "Regain your life after stroke! Our clinic offers umbilical cord stem cells with no side "
        "effects. All-inclusive package: flights, hotel and airport pickup. Contact us on "
        "WhatsApp.",
        "warning",
        {"no_risk", "travel_package", "payment", "no_registry_id"},
        set(),
    ),
    (
        "We treat stroke, autism, Parkinson's, diabetes and knee arthritis with our patented "
        "stem cell protocol. FDA registered lab. Watch our patient testimonials!",
        "warning",
        {"many_conditions", "proprietary", "approval_claim", "testimonials", "no_registry_id"},
        set(),
    ),
    (
        "Only 3 places left this month. Financing available. Our specialists have treated over "
        "2,000 patients.",
        "warning",
        {"urgency", "payment", "no_registry_id"},
        set(),
    ),
    (
        "Join our stem cell study for stroke survivors (NCT01234567). Participation fee: "
        "$8,000, which covers the cells and follow-up.",
        "warning",
        {"payment"},
        {"no_registry_id"},
    ),
    (
        "Terapia con células madre para secuelas de ictus en Cancún. 85% de los pacientes "
        "mejoran. Paquete todo incluido con hotel y traslado al aeropuerto. ¡Reserve ahora, "
        "plazas limitadas!",
        "warning",
        {"success_rate", "travel_package", "urgency", "no_registry_id"},
        set(),
    ),
    (
        "Nuestra clínica ofrece un tratamiento natural y 100% seguro, sin efectos secundarios, "
        "aprobado por COFEPRIS. Precio desde 6,000 dólares. Contáctenos.",
        "warning",
        {"no_risk", "approval_claim", "payment", "no_registry_id"},
        set(),
    ),
    (
        "Nuestros pacientes cuentan que volvieron a caminar. Técnica patentada. Tratamos "
        "ictus, autismo, Parkinson y diabetes.",
        "warning",
        {"testimonials", "proprietary", "many_conditions", "no_registry_id"},
        set(),
    ),
    (
        "干细胞治疗中风后遗症，有效率高达90%，无副作用！治疗套餐12万元，含机票和酒店。名额有限，立即预约！",
        "warning",
        {"success_rate", "no_risk", "payment", "travel_package", "urgency", "no_registry_id"},
        set(),
    ),
    (
        "我院采用独家专利干细胞技术，国家认证，已成功治疗3000余例患者，可治疗脑瘫、自闭症、帕金森、糖尿病等多种疾病。",
        "warning",
        {"proprietary", "approval_claim", "many_conditions", "no_registry_id"},
        set(),
    ),
    # -- warning articles: they name the signs to warn against them ------------------------
    (
        "Beware of clinics that charge $20,000 for stem cells and promise a 90% success rate. "
        "Testimonials are not scientific evidence. Ask whether the treatment is part of a "
        "registered trial.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "The FDA warns that stem cell products sold by clinics are unapproved. Some clinics "
        "advertise packages with flights and hotels. There is no proof it is safe.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "No se deje engañar: algunas clínicas cobran miles de dólares y prometen resultados "
        "garantizados. Los testimonios no son pruebas. Desconfíe de quien diga que no tiene "
        "efectos secundarios.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "警惕所谓的干细胞治疗收费骗局。一些机构宣称有效率90%、无副作用，这些都是未经证实的说法。",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    # -- reports of registered trials -------------------------------------------------------
    (
        "This study is free, registered as NCT03545607. Participants do not pay for the cells "
        "or the follow-up visits.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "In the MASTERS-2 trial, researchers found that 40% of participants who received the "
        "cells recovered well, compared with 30% on placebo. The study is funded by a $20 "
        "million grant.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "The trial, approved by the hospital's ethics committee, will test whether the cells are "
        "safe and effective. There is no approved stem cell treatment for stroke.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "El ensayo, registrado como ISRCTN12345678, no tiene costo para los participantes. Los "
        "investigadores compararán las células con un placebo.",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    (
        "该研究已在中国临床试验注册中心注册（注册号ChiCTR2000031319），受试者免费参加，研究人员将观察安全性。",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    # -- questions from patients -----------------------------------------------------------
    (
        "My father had a stroke two years ago. Is stem cell therapy worth trying? How much does "
        "it cost?",
        "no_red_flags",
        set(),
        set(FLAGS),
    ),
    ("¿Es seguro el tratamiento con células madre? ¿Cuánto cuesta?", "no_red_flags", set(), set()),
    ("干细胞治疗中风有用吗？费用是多少？", "no_red_flags", set(), set()),
    (
        "is this legit?? They say 90% of patients walk again, treatment package $12,000, "
        "hotel included",
        "warning",
        {"success_rate", "payment", "travel_package"},
        set(),
    ),
    # -- negation ----------------------------------------------------------------------------
    ("It is not FDA approved and there is no cure for stroke.", "no_red_flags", set(), set()),
    (
        "The treatment is without side effects. Book your consultation.",
        "warning",
        {"no_risk"},
        set(),
    ),
    ("No surgery, no side effects, no waiting list. Call us today.", "warning", {"no_risk"}, set()),
    ("这种疗法未经国家批准，也不能治愈中风。", "no_red_flags", set(), set()),
]


@pytest.mark.parametrize(("text", "verdict", "present", "absent"), CASES)
def test_verdict_and_signs(text: str, verdict: str, present: set[str], absent: set[str]) -> None:
    result = check(text)
    found = set(result.flags)
    assert result.verdict == verdict, (result.verdict, result.red_flags)
    assert present <= found, (present - found, result.red_flags)
    assert not (absent & found), (absent & found, result.red_flags)


@pytest.mark.parametrize(("text", "_v", "_p", "_a"), CASES)
def test_every_quote_is_an_exact_bounded_substring(text: str, _v: str, _p: set, _a: set) -> None:
    for flag in check(text).red_flags:
        assert flag.flag in FLAGS
        assert flag.quote and flag.quote in text
        assert len(flag.quote) <= QUOTE_LIMIT


def test_the_two_clinic_pages_are_warnings_and_the_trial_summary_is_not() -> None:
    india = check((FIXTURES / "clinic-advert-stroke-india.txt").read_text(encoding="utf-8"))
    assert india.verdict == "warning"
    assert {"success_rate", "no_registry_id"} <= set(india.flags)
    assert any("80% reported improvement rate" in f.quote for f in india.red_flags)
    antigua = check((FIXTURES / "clinic-article-stroke-antigua.txt").read_text(encoding="utf-8"))
    assert antigua.verdict == "warning"
    assert {"proprietary", "many_conditions", "no_registry_id"} <= set(antigua.flags)
    trial = check((FIXTURES / "trial-summary-page-NCT07635758.txt").read_text(encoding="utf-8"))
    assert trial.verdict == "no_red_flags"
    assert trial.registry_ids == ("NCT07635758",)
    assert not trial.sells


def test_registry_ids_and_links_are_found_and_stop_no_registry_id() -> None:
    text = (
        "Our clinic offers stem cells after stroke, registered at "
        "https://clinicaltrials.gov/study/NCT03545607 and jRCTb050190070, and "
        "https://www.anzctr.org.au/Trial/Registration/TrialReview.aspx?id=385146."
    )
    result = check(text)
    assert result.registry_ids == ("NCT03545607", "jRCTb050190070")
    assert any("anzctr.org.au" in link for link in result.registry_links)
    assert "no_registry_id" not in result.flags
    assert check("注册号NCT03545607。").registry_ids == ("NCT03545607",)


def test_a_long_sentence_is_quoted_around_the_sign() -> None:
    filler = "word " * 80
    text = f"{filler}with a 95% success rate {filler}. Book a consultation."
    (quote,) = [f.quote for f in check(text).red_flags if f.flag == "success_rate"]
    assert "95% success rate" in quote and len(quote) <= QUOTE_LIMIT and quote in text


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Stem cell therapy for stroke, book now", "en"),
        ("Terapia con células madre para el ictus, reserve ahora", "es"),
        ("干细胞治疗中风", "zh"),
    ],
)
def test_language_is_detected(text: str, lang: str) -> None:
    assert detect_language(text) == lang
    assert check(text).language == lang
    assert check(text, "es").language == "es"


def test_sentences_keep_their_place_in_the_text() -> None:
    text = "First one. 第二句。Third?\n• Fourth"
    assert [s.text for s in sentences(text)] == ["First one.", "第二句。", "Third?", "Fourth"]
    assert all(text[s.start : s.end] == s.text for s in sentences(text))


def test_chinese_signs_are_quoted_by_their_clause_not_the_whole_sentence() -> None:
    text = "干细胞治疗中风，有效率高达90%，套餐价格15000美元，含酒店接送，立即预约！"
    quotes = {f.flag: f.quote for f in check(text, "zh").red_flags}
    assert quotes["success_rate"] == "有效率高达90%"
    assert quotes["payment"] == "套餐价格15000美元"
    assert quotes["travel_package"] == "含酒店接送"
    assert all(quote in text for quote in quotes.values())
