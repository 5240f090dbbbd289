"""CTIS: no publications are read (issue 16).

The one real recorded answer (tests/fixtures/ctis/recorded/) holds `results` empty (`{}`), so
the shape of CTIS's summary and lay-person results documents is not known; `results` only sets
`has_results`, and a CTIS trial lists no references.
"""

from __future__ import annotations

from pathlib import Path

from jobs.registries.ctis_record import normalise
from tests.conftest import load_json

RECORDED = (
    Path(__file__).parents[2] / "fixtures" / "ctis" / "recorded"
) / "ctrdata-demo_2024-510663-34-00.json"


def test_the_recorded_answer_has_empty_results_and_no_references() -> None:
    raw = load_json(RECORDED)
    assert raw["results"] == {}
    trial = normalise(raw)
    assert trial.references == () and trial.has_results is False
