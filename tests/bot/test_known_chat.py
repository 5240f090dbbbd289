"""The /trial card's "What is known so far" (issue 16), through the running bot.

The real application against the fake Bot API and a real database of each kind; the trials
are the seeded real records (tests/bot/conftest.py), their publications stored through
`storage.publications.record` as the publications job does.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storage import publications as stored_publications
from storage import trials as trial_store
from storage.tables import utcnow
from tests.bot.conftest import Bot
from trialbot.publications import Publication

ANA = 161


def paper(kind: str, reason: str, published: str, title: str, pmid: str) -> Publication:
    return Publication(
        kind=kind,  # type: ignore[arg-type]
        reason=reason,  # type: ignore[arg-type]
        found_by="pubmed_si",
        pmid=pmid,
        title=title,
        journal="Stroke",
        published=published,
    )


async def store_papers(bot: Bot, ident: str, papers: list[Publication]) -> None:
    async with bot.db.write() as session:
        row = await trial_store.find_trial(session, ident)
        assert row is not None and row.id is not None
        await stored_publications.record(session, row.id, papers)


def section(card: dict[str, Any]) -> list[str]:
    text = card["plain"]
    return (
        text.split("What is known so far\n")[1].split("\n\nFrom the registry record")[0].split("\n")
    )


async def test_trial_card_shows_three_papers_newest_first(bot: Bot) -> None:
    await store_papers(
        bot,
        "NCT03629275",
        [
            paper("protocol", "protocol_type", "2020-06", "PISCES III: protocol", "31"),
            paper("background", "review_type", "2016-08", "Cell therapy for stroke", "32"),
            paper("results", "trial_type", "2021-11", "PISCES III: a randomised trial", "33"),
            paper("other", "note_type", "2022-02", "Letter on PISCES III", "34"),
        ],
    )
    (card,) = await bot.says(ANA, "/trial NCT03629275")
    assert "<b>What is known so far</b>" in card["text"]
    assert section(card) == [
        "• Other paper: Letter on PISCES III (Stroke, February 2022)",
        "• Results: PISCES III: a randomised trial (Stroke, November 2021)",
        "• Background: Cell therapy for stroke (Stroke, August 2016)",
        "And 1 more paper.",
    ]
    assert '<a href="https://pubmed.ncbi.nlm.nih.gov/33/">' in card["text"]
    assert "not medical advice" in card["plain"].splitlines()[-1]


async def test_trial_card_says_nothing_is_known_and_since_when(bot: Bot) -> None:
    # before any look for papers, only the registry's results flag is known: it says only that
    (card,) = await bot.says(ANA, "/trial NCT01436487")  # completed December 2015
    assert section(card) == [
        "We have not looked for papers about it yet. We look once a week.",
        "",
        "It ended in December 2015; no results are posted on the registry.",
    ]
    async with bot.db.write() as session:
        row = await trial_store.find_trial(session, "NCT01436487")
        assert row is not None and row.id is not None
        now = utcnow()
        await stored_publications.checked(session, row.id, now, now + timedelta(days=7))
    (card,) = await bot.says(ANA, "/trial NCT01436487")
    assert section(card) == [
        "No results or papers found yet.",
        "",
        "It ended in December 2015; no results have been shared since.",
    ]
    assert card["plain"].count("no results have been shared since") == 1


async def test_trial_card_links_the_registry_results(bot: Bot) -> None:
    (card,) = await bot.says(ANA, "/trial NCT02448641")  # results posted on CT.gov
    url = "https://clinicaltrials.gov/study/NCT02448641?tab=results"
    assert section(card) == [f"Results are posted on the registry: {url}"]
    assert "no results have been shared" not in card["plain"]
