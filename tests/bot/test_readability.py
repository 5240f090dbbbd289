"""The reading-level bound over every sample record (shared/domain.md 4.3).

Every new-trial alert (each record as if an "anywhere" subscription matched it) and every
change alert for the reconstructed version pairs is scored on what the reader sees, with
registry ids and URLs stripped: English Flesch-Kincaid grade at most 8 for each alert and at
most 7 at the median; Spanish Fernández-Huerta at least 60 for each alert. When a sample
fails, fix the wording, never the measurement.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from functools import cache

import pytest

from bot.render import render_change, render_new_trial
from bot.telegram_text import visible_length
from jobs.changes import diff
from jobs.classify import classify
from jobs.registries.ctgov_record import normalise
from tests.bot.measure import fernandez_huerta, fk_grade, scored_text
from tests.conftest import CTGOV, all_recorded_studies, load_json
from trialbot.matching import Match, SubscriptionFilter, sites_in_region

TODAY = date(2026, 1, 15)
ANYWHERE = SubscriptionFilter(id=1)


@cache
def alerts(lang: str) -> tuple[tuple[str, str], ...]:
    return tuple(_alerts(lang))


def _alerts(lang: str) -> Iterator[tuple[str, str]]:
    """(name, Telegram HTML) for every sample alert in one language."""
    reconstructed = sorted((CTGOV / "reconstructed").glob("NCT*.json"))
    records = [(p.stem, load_json(p)) for p in reconstructed] + all_recorded_studies()
    for name, raw in records:
        trial = normalise(raw)
        matches = [Match(ANYWHERE, sites_in_region(trial.sites, ANYWHERE))]
        yield name, render_new_trial(trial, classify(trial), matches, lang, today=TODAY).text
    pairs: dict[str, list[str]] = defaultdict(list)
    for path in reconstructed:
        pairs[path.name.split("__")[0]].append(path.name)
    for nct, names in sorted(pairs.items()):
        if len(names) < 2:
            continue
        # "__recruiting" sorts after "__unknown" but came first; otherwise names sort by date.
        older, newer = sorted(names, key=lambda n: (n.split("__")[1], "unknown" in n))[:2]
        old, new = (normalise(load_json(CTGOV / "reconstructed" / n)) for n in (older, newer))
        matches = [Match(ANYWHERE, sites_in_region(new.sites, ANYWHERE))]
        changes = diff(old.snapshot(), new.snapshot())
        rendered = render_change(new, classify(new), changes, matches, lang, today=TODAY)
        assert rendered is not None, nct
        yield f"{nct} change", rendered.text


@cache
def scores(lang: str) -> dict[str, float]:
    measure = fk_grade if lang == "en" else fernandez_huerta
    return {name: measure(text) for name, text in alerts(lang)}


def test_every_sample_is_scored() -> None:
    assert len(scores("en")) == len(all_recorded_studies()) + 28 + 7


def test_english_grade_at_most_8_and_median_at_most_7() -> None:
    grades = scores("en")
    worst = max(grades, key=grades.__getitem__)
    assert grades[worst] <= 8, f"{worst}: FK {grades[worst]:.1f}"
    assert statistics.median(grades.values()) <= 7


def test_spanish_fernandez_huerta_at_least_60_for_every_alert() -> None:
    ease = scores("es")
    worst = min(ease, key=ease.__getitem__)
    assert ease[worst] >= 60, f"{worst}: Fernández-Huerta {ease[worst]:.1f}"


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
def test_every_sample_alert_is_within_telegrams_limit(lang: str) -> None:
    for name, text in alerts(lang):
        assert visible_length(text) <= 4096, name


def test_ids_and_urls_are_not_scored() -> None:
    html = '<a href="https://x.org/NCT01234567">NCT01234567</a> See https://x.org now.'
    assert scored_text(html).split() == ["See", "now."]
