"""An alert about a trial held by several registries links every record of it.

MASTERS-2's CT.gov record is real; its CTIS record and a WHO-export (jRCT) row are derived
from it in code, as those registries would hold the same trial.
"""

from __future__ import annotations

import html
from datetime import date

import pytest

from bot.render import render_change, render_detail, render_new_trial
from jobs.changes import diff
from jobs.classify import classify
from jobs.merge import merge
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.matching import Match, SubscriptionFilter, sites_in_region
from trialbot.model import SecondaryId, Site, Trial

TODAY = date(2026, 11, 22)


def _records() -> tuple[Trial, Trial, Trial]:
    ctgov = normalise(study("NCT03545607__2019-08-13"))
    ctis = ctgov.model_copy(
        update={
            "registry": "ctis",
            "registry_id": "2024-520423-88-00",
            "url": "https://euclinicaltrials.eu/search-for-clinical-trials/?lang=en&EUCT=2024-520423-88-00",
            "secondary_ids": (SecondaryId(id="NCT03545607", type="NCT"),),
            "sites": (Site(facility="La Paz", city="Madrid", country="ES", country_name="Spain"),),
        }
    )
    who = ctgov.model_copy(
        update={
            "registry": "ictrp",
            "registry_id": "JPRN-jRCT2063200001",
            "url": "https://jrct.niph.go.jp/latest-detail/jRCT2063200001",
            "secondary_ids": (SecondaryId(id="NCT03545607"),),
            "sites": (Site(country="JP", country_name="Japan"),),
        }
    )
    return ctgov, ctis, who


def _anywhere(trial: Trial) -> list[Match]:
    everywhere = SubscriptionFilter(id=1)
    return [Match(everywhere, sites_in_region(trial.sites, everywhere))]


@pytest.mark.parametrize("lang", ["en", "es", "zh"])
def test_a_new_trial_alert_links_each_registry_record(lang: str) -> None:
    merged = merge(list(_records()))
    rendered = render_new_trial(merged, classify(merged), _anywhere(merged), lang, today=TODAY)
    for ref in merged.sources:
        assert f'href="{html.escape(ref.url)}"' in rendered.text
    assert "jRCT" in rendered.text and "ICTRP" in rendered.text
    assert rendered.text.count("EU CTIS 2024-520423-88-00") == 1


def test_a_one_registry_trial_shows_no_list_of_records() -> None:
    ctgov, _, _ = _records()
    rendered = render_new_trial(ctgov, classify(ctgov), _anywhere(ctgov), "en", today=TODAY)
    assert "Registered in" not in rendered.text


def test_a_record_joining_adds_a_site_alert_and_the_links() -> None:
    ctgov, ctis, _ = _records()
    merged = merge([ctgov, ctis])
    changes = diff(ctgov.snapshot(), merged.snapshot())
    assert {c.kind for c in changes} >= {"site_added", "source_added"}
    rendered = render_change(
        merged, classify(merged), changes, _anywhere(merged), "en", today=TODAY
    )
    assert rendered is not None
    assert "Madrid" in rendered.text and "Registered in:" in rendered.text
    detail = render_detail(merged, classify(merged), "en", today=TODAY)
    assert "ClinicalTrials.gov NCT03545607" in detail.text
