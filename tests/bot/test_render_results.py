"""Issue 16 in the messages: the "Results are out" alert, the results line of a change alert,
"What is known so far" in the detail view, and a held results alert in a digest.

Trials are the real recorded CT.gov records (tests/fixtures/ctgov); publications are built
here, the way storage/publications.py hands them back. Nothing in a message may say what a
paper found: only what it is, how it is tied to the study, and where to read it.
"""

from __future__ import annotations

import re
from datetime import date
from functools import cache

import pytest

from bot.render import (
    BUDGET,
    DigestItem,
    Rendered,
    registry_results_url,
    render_change,
    render_detail,
    render_digest,
    render_results,
)
from bot.telegram_text import visible_length, visible_text
from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from storage.trials import known_of
from tests.bot.measure import fernandez_huerta, fk_grade
from tests.bot.test_render import assert_sendable
from tests.conftest import study
from trialbot.classification import Classification
from trialbot.matching import Match, SubscriptionFilter, sites_in_region
from trialbot.model import FieldChange, SourceRef, Trial
from trialbot.publications import KnownSoFar, Publication

TODAY = date(2026, 1, 15)
PISCES3 = "NCT03629275__2021-08-13"  # terminated March 2021, nothing posted
SB623 = "NCT02448641__2020-10-08"  # results posted on ClinicalTrials.gov
GCSF = "NCT00901381__2014-01-07"  # completed February 2009, nothing posted

PAPER = Publication(
    kind="results",
    reason="trial_type",
    found_by="pubmed_si",
    pmid="34000001",
    doi="10.1161/STROKEAHA.121.000001",
    title="Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES III trial",
    journal="Stroke",
    published="2021-11-02",
)
"""A PubMed results paper: typed as a trial report, the registry number in its [si] field."""
CITATION = Publication(
    kind="results",
    reason="registry_results",
    found_by="registry",
    registry_type="RESULT",
    citation="Muir KW, Bulters D, Willmot M, et al. Intracerebral implantation of human "
    "neural stem cells and motor recovery after stroke. J Neurol Neurosurg Psychiatry. 2020",
    url="https://clinicaltrials.gov/study/NCT03629275",
)
"""A CT.gov RESULT reference without a PMID: no title, the registry's citation."""
BARE_LINK = Publication(
    kind="results",
    reason="registry_results",
    found_by="registry",
    registry_type="RESULTS_LINK",
    url="https://www.reneuron.com/pisces-iii/results.pdf",
)
"""A results document the registry links to: nothing but the address."""

FINDINGS = re.compile(
    r"\b(positive|negative|effective|efficacy|improv\w*|benefit\w*|success\w*|fail\w*"
    r"|proved?|promising|better|worse|cure\w*)\b",
    re.IGNORECASE,
)


@cache
def record(name: str) -> tuple[Trial, Classification]:
    trial = normalise(study(name))
    return trial, classify(trial)


def results(pub: Publication, lang: str = "en", name: str = PISCES3, **kw: object) -> Rendered:
    trial, verdict = record(name)
    rendered = render_results(
        trial, verdict, pub, [], lang, today=TODAY, known=known_of(trial, (pub,), looked=True), **kw
    )  # type: ignore[arg-type]
    assert_sendable(rendered)
    return rendered


def lines_of(rendered: Rendered) -> list[str]:
    return visible_text(rendered.text).splitlines()


def buttons(rendered: Rendered) -> list[tuple[str, str | None]]:
    return [(b.text, b.url or b.callback_data) for row in rendered.buttons for b in row]


# --- the alert -----------------------------------------------------------------------------


def test_results_alert_for_a_pubmed_results_paper() -> None:
    rendered = results(PAPER)
    lines = lines_of(rendered)
    assert lines[0] == (
        "Results are out: Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES III "
        "trial (Stroke, November 2021)"
    )
    assert rendered.text.startswith("<b>Results are out: Intracerebral")
    assert lines[2] == (
        "PubMed lists it as a report of a study's results. "
        "PubMed links the paper to this study by its registry number."
    )
    assert lines[3].startswith(
        "It is linked to this study: Nerve stem cells grown in a lab, put into the brain"
    )
    assert (
        "This message does not say what the paper found. A doctor or the study team can "
        "explain it." in lines
    )
    assert "Read it here: https://pubmed.ncbi.nlm.nih.gov/34000001/" in lines
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/34000001/">' in rendered.text
    # the study's red flags stay; R8 does not fire: a results paper is known
    assert "Warning signs" in lines and "This study stopped early." in rendered.text
    assert "no results have been shared" not in rendered.text
    assert "You had an alert about this study before." in lines  # no subscription matches now
    assert lines[-1].startswith("This is not medical advice. No stem-cell treatment is approved")
    assert buttons(rendered)[0] == ("Open the paper", "https://pubmed.ncbi.nlm.nih.gov/34000001/")
    assert ("Details", "td:ctgov:NCT03629275") in buttons(rendered)
    assert "Could I join?" not in {text for text, _ in buttons(rendered)}  # it has ended


def test_results_alert_for_a_registry_citation_without_a_title() -> None:
    rendered = results(CITATION)
    lines = lines_of(rendered)
    assert lines[0] == (
        "Results are out: “Muir KW, Bulters D, Willmot M, et al. Intracerebral implantation "
        "of human neural stem cells and motor recovery after stroke. J Neurol Neurosurg "
        "Psychiatry. 2020”"
    )
    assert lines[2] == "The registry lists it as a paper with this study's results."
    assert "Read it here: https://clinicaltrials.gov/study/NCT03629275" in lines
    assert buttons(rendered)[0] == (
        "Open the paper",
        "https://clinicaltrials.gov/study/NCT03629275",
    )


def test_results_alert_for_a_bare_results_link() -> None:
    rendered = results(BARE_LINK)
    lines = lines_of(rendered)
    assert lines[0] == "Results are out: the registry links to a results document"
    assert lines[2] == "The registry lists it as a document with this study's results."
    assert "Read it here: https://www.reneuron.com/pisces-iii/results.pdf" in lines
    assert buttons(rendered)[0] == (
        "Open the document",
        "https://www.reneuron.com/pisces-iii/results.pdf",
    )


def test_a_citation_without_any_link_gets_no_link_and_no_paper_button() -> None:
    unlinked = Publication(
        kind="results", reason="registry_results", found_by="registry", citation="Muir KW. 2020"
    )
    rendered = results(unlinked)
    assert "Read it here" not in rendered.text
    assert buttons(rendered)[0][0] == "Open the registry record"


@pytest.mark.parametrize(
    ("journal", "published", "tail"),
    [
        ("Stroke", "2021", " (Stroke, 2021)"),
        ("Stroke", None, " (Stroke)"),
        (None, "2021-11", " (November 2021)"),
        (None, None, ""),
    ],
)
def test_the_headline_leaves_out_what_is_unknown(
    journal: str | None, published: str | None, tail: str
) -> None:
    pub = Publication(
        kind="results",
        reason="results_title",
        found_by="pubmed_si",
        pmid="1",
        title="Phase 2 results",
        journal=journal,
        published=published,
    )
    assert lines_of(results(pub))[0] == f"Results are out: Phase 2 results{tail}"


@pytest.mark.parametrize(
    ("reason", "found_by", "said"),
    [
        (
            "results_title",
            "pubmed_si",
            "Its title looks like a report of a trial. "
            "PubMed links the paper to this study by its registry number.",
        ),
        (
            "trial_type",
            "pubmed_tiab",
            "PubMed lists it as a report of a study's results. "
            "The paper gives this study's number only in its summary.",
        ),
        (
            "trial_type",
            "registry",
            "PubMed lists it as a report of a study's results. "
            "The study's registry record links to it.",
        ),
    ],
)
def test_what_kind_of_paper_it_is_comes_from_the_stored_evidence(
    reason: str, found_by: str, said: str
) -> None:
    pub = Publication(kind="results", reason=reason, found_by=found_by, pmid="2", title="A trial")  # type: ignore[arg-type]
    assert lines_of(results(pub))[2] == said


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
@pytest.mark.parametrize("pub", [PAPER, CITATION, BARE_LINK], ids=["paper", "citation", "link"])
def test_no_alert_words_findings(pub: Publication, lang: str) -> None:
    rendered = results(pub, lang)
    text = visible_text(rendered.text)
    if lang == "en":
        # everything but the study's own red flags (registry text quoted) and the disclaimer
        ours = text.split("Warning signs")[0]
        assert not FINDINGS.search(ours), FINDINGS.search(ours)
    assert pub.link is None or pub.link in text
    assert len(lines_of(rendered)[-1]) > 20  # the disclaimer closes every language


def test_spanish_and_chinese_mark_an_english_title_and_localise_the_month() -> None:
    es = lines_of(results(PAPER, "es"))[0]
    assert es == (
        "Ya hay resultados: «Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES "
        "III trial» (en inglés) (Stroke, noviembre de 2021)"
    )
    zh = lines_of(results(PAPER, "zh"))[0]
    assert zh.startswith("结果已发布：“Intracerebral") and zh.endswith(
        "（英文原文）（Stroke，2021年11月）"
    )


def test_a_very_long_title_is_shortened_never_the_disclaimer() -> None:
    long = Publication(
        kind="results",
        reason="trial_type",
        found_by="pubmed_si",
        pmid="3",
        title="Cells <b>&amp; " + "very long words " * 400,
        journal="J" * 500,
        published="2022-01",
    )
    rendered = results(long)
    assert visible_length(rendered.text) <= BUDGET
    head = lines_of(rendered)[0]
    assert "…" in head and len(head) < 450 and "<b>&amp;" in head  # escaped, shown as given
    assert "not medical advice" in lines_of(rendered)[-1]


def test_matched_subscriptions_are_named_as_in_other_alerts() -> None:
    trial, verdict = record(PISCES3)
    sub = SubscriptionFilter(id=7, label="Dad", include_not_recruiting=True)
    found = [Match(sub, sites_in_region(trial.sites, sub))]
    rendered = render_results(trial, verdict, PAPER, found, "en", today=TODAY)
    assert "You had an alert" not in rendered.text and "Why you got this" in rendered.text
    assert "Dad" in rendered.text


# --- the registry's own results, in a change alert ------------------------------------------

POSTED = FieldChange(field="has_results", kind="results_posted", notable=True, old=False, new=True)


def test_results_posted_on_ctgov_link_to_the_results_tab() -> None:
    trial, verdict = record(SB623)
    rendered = render_change(trial, verdict, [POSTED], [], "en", today=TODAY)
    assert rendered is not None
    assert (
        "• Results are out on the registry: "
        "https://clinicaltrials.gov/study/NCT02448641?tab=results" in visible_text(rendered.text)
    )


def test_results_posted_elsewhere_link_to_the_record() -> None:
    trial, _ = record(SB623)
    isrctn = trial.model_copy(
        update={
            "registry": "isrctn",
            "registry_id": "ISRCTN12345678",
            "url": "https://www.isrctn.com/ISRCTN12345678",
            "sources": (),
        }
    )
    assert registry_results_url(isrctn) == "https://www.isrctn.com/ISRCTN12345678"
    both = trial.model_copy(
        update={
            "registry": "isrctn",
            "url": "https://www.isrctn.com/ISRCTN12345678",
            "sources": (
                SourceRef(registry="isrctn", registry_id="ISRCTN12345678",
                          url="https://www.isrctn.com/ISRCTN12345678"),
                SourceRef(registry="ctgov", registry_id="NCT02448641",
                          url="https://clinicaltrials.gov/study/NCT02448641"),
            ),
        }
    )  # fmt: skip
    assert registry_results_url(both) == "https://clinicaltrials.gov/study/NCT02448641?tab=results"


# --- "What is known so far" in the detail view ----------------------------------------------


def known_section(rendered: Rendered) -> list[str]:
    text = visible_text(rendered.text)
    assert "What is known so far" in text
    section = text.split("What is known so far\n")[1].split("\n\nFrom the registry record")[0]
    return section.splitlines()


def detail(name: str, known: KnownSoFar | None, lang: str = "en") -> Rendered:
    trial, verdict = record(name)
    rendered = render_detail(trial, verdict, lang, today=TODAY, known=known)
    assert_sendable(rendered)
    return rendered


def paper(kind: str, published: str | None, title: str, pmid: str) -> Publication:
    reason = {"results": "trial_type", "protocol": "protocol_type", "background": "review_type"}
    return Publication(
        kind=kind,  # type: ignore[arg-type]
        reason=reason.get(kind, "no_evidence"),  # type: ignore[arg-type]
        found_by="pubmed_si",
        pmid=pmid,
        title=title,
        journal="Stroke",
        published=published,
    )


def test_detail_lists_three_papers_newest_first_protocols_last() -> None:
    trial, _ = record(PISCES3)
    papers = (
        paper("protocol", "2020-06", "PISCES III protocol", "11"),
        paper("background", "2016-08", "Earlier cell study", "12"),
        paper("results", "2021-11", "PISCES III results", "13"),
        paper("other", "2022-02", "A letter", "14"),
    )
    rendered = detail(PISCES3, known_of(trial, papers, looked=True))
    assert known_section(rendered) == [
        "• Other paper: A letter (Stroke, February 2022)",
        "• Results: PISCES III results (Stroke, November 2021)",
        "• Background: Earlier cell study (Stroke, August 2016)",
        "And 1 more paper.",
    ]
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/14/">A letter (Stroke, February 2022)</a>' in (
        rendered.text
    )
    assert "no results have been shared" not in rendered.text  # a results paper is known


def test_detail_says_when_nothing_is_known_and_when_it_is_overdue() -> None:
    trial, _ = record(GCSF)
    rendered = detail(GCSF, known_of(trial, (), looked=True))
    assert known_section(rendered) == [
        "No results or papers found yet.",
        "",
        "It ended in February 2009; no results have been shared since.",
    ]
    assert visible_text(rendered.text).count("no results have been shared") == 1  # not in risks


def test_a_protocol_alone_keeps_the_overdue_line() -> None:
    trial, _ = record(GCSF)
    protocol = paper("protocol", "2008", "G-CSF study protocol", "21")
    assert known_section(detail(GCSF, known_of(trial, (protocol,), looked=True))) == [
        "• Study plan (protocol): G-CSF study protocol (Stroke, 2008)",
        "",
        "It ended in February 2009; no results have been shared since.",
    ]


def test_detail_links_results_on_the_registry() -> None:
    trial, _ = record(SB623)
    rendered = detail(SB623, known_of(trial, (), looked=True))
    url = "https://clinicaltrials.gov/study/NCT02448641?tab=results"
    assert known_section(rendered) == [f"Results are posted on the registry: {url}"]
    assert f'<a href="{url}">{url}</a>' in rendered.text


def test_detail_without_publications_loaded_says_nothing_about_them() -> None:
    rendered = detail(GCSF, None)
    assert "What is known so far" not in rendered.text
    assert "no results have been shared" not in rendered.text


@pytest.mark.parametrize("lang", ["es", "zh"])
def test_detail_section_in_other_languages(lang: str) -> None:
    trial, _ = record(GCSF)
    text = visible_text(detail(GCSF, known_of(trial, (), looked=True), lang).text)
    said = {
        "es": ("Lo que se sabe hasta ahora", "Terminó en febrero de 2009"),
        "zh": ("目前已知的情况", "研究于2009年2月结束"),
    }[lang]
    assert all(s in text for s in said)


def test_many_long_papers_fit_and_keep_the_disclaimer() -> None:
    trial, _ = record(PISCES3)
    papers = tuple(paper("results", f"20{10 + i}", "Long title " * 300, str(i)) for i in range(9))
    rendered = detail(PISCES3, known_of(trial, papers, looked=True))
    assert visible_length(rendered.text) <= BUDGET
    assert "And 6 more papers." in rendered.text
    assert "not medical advice" in lines_of(rendered)[-1]


# --- a held results alert in a digest -------------------------------------------------------


def test_digest_block_for_a_results_alert() -> None:
    trial, verdict = record(PISCES3)
    item = DigestItem(
        trial, verdict, (), (), known=known_of(trial, (PAPER,), looked=True), publication=PAPER
    )
    (message,) = render_digest([item], "en", "daily", today=TODAY)
    assert_sendable(message)
    lines = lines_of(message)
    assert lines[2] == (
        "1. Results are out: Intracerebral CTX0E03 cells after ischaemic stroke: the PISCES III "
        "trial (Stroke, November 2021)"
    )
    assert lines[3].startswith("It is linked to this study: Nerve stem cells")
    assert "Read it here: https://pubmed.ncbi.nlm.nih.gov/34000001/" in lines
    assert ("Details 1", "td:ctgov:NCT03629275") in buttons(message)
    assert "not medical advice" in lines[-1]


@pytest.mark.parametrize("pub", [PAPER, CITATION, BARE_LINK], ids=["paper", "citation", "link"])
def test_results_alerts_read_as_plainly_as_the_others(pub: Publication) -> None:
    """The bounds of tests/bot/test_readability.py: English grade at most 8, Spanish
    Fernández-Huerta at least 60."""
    assert fk_grade(results(pub).text) <= 8
    assert fernandez_huerta(results(pub, "es").text) >= 60
