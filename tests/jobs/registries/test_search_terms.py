"""Every registry's query, as sent, names every cell kind and stroke bucket the classifier knows.

jobs/search_terms.py is the one list the adapters derive their queries from. These tests read
what each adapter really sent to its fake registry (for ICTRP: which rows its pre-filter lets
through) and ask the classifier (jobs/classify.py, with jobs/vocabulary.py's tables) what each
sent term names. A sent term T counts for a cell kind when the classifier finds that kind in
T or in "T cells": every registry finds a phrase inside longer text, so "cord blood" finds the
"cord blood cells" the classifier wants. HSCT wording is left out: it is a stroke therapy only
in rare cases, and "stem cell" and "bone marrow" find it anyway.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from datetime import date
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

from jobs import search_terms
from jobs.classify import classify
from jobs.registries.base import RawRecord
from jobs.registries.ctgov import CtgovClient
from jobs.registries.ctis import CtisClient
from jobs.registries.ictrp import IctrpExport
from jobs.registries.isrctn import IsrctnClient
from jobs.vocabulary import CELL_TERMS, STROKE_TERMS
from tests.fakes.ctgov_server import FakeCtgov
from tests.fakes.ctis_server import FakeCtis
from tests.fakes.ictrp_server import built_record, write_export
from tests.fakes.isrctn_server import FakeIsrctn
from tests.jobs.helpers import FAST_HTTP
from trialbot.model import Intervention, Trial

CORE_CELLS = frozenset(key for key, kind, _ in CELL_TERMS if kind == "core")
OTHER_CELLS = frozenset(key for key, kind, _ in CELL_TERMS if kind in ("borderline", "cellfree"))
BUCKETS = frozenset(bucket for bucket, _ in STROKE_TERMS)
URL_LIMIT = 6000
"""What CT.gov's front end and common proxies accept (jobs/registries/ctgov.py); no registry
documents a lower one. Lengths are measured on the production URLs."""
CTGOV_SEARCH = "https://clinicaltrials.gov/api/v2/studies"
ISRCTN_SEARCH = "https://www.isrctn.com/api/query/format/default"


@cache
def cell_kinds(term: str) -> frozenset[str]:
    """The classifier's cell keys in an intervention named `term` or `term cells`."""
    found: set[str] = set()
    for name in (term, f"{term} cells"):
        trial = Trial(
            registry="test",
            registry_id=name,
            url="https://example.invalid",
            brief_title="A trial",
            conditions=("Stroke",),
            interventions=(Intervention(type="BIOLOGICAL", name=name),),
        )
        found |= {r.split()[0].removeprefix("cell:") for r in classify(trial).reasons}
    return frozenset(found)


@cache
def stroke_buckets(term: str) -> frozenset[str]:
    """The classifier's stroke buckets for a trial whose one condition is `term`."""
    trial = Trial(
        registry="test",
        registry_id=term,
        url="https://example.invalid",
        brief_title="A trial",
        conditions=(term,),
    )
    return frozenset(classify(trial).buckets)


def assert_covers(where: str, cell_terms: Iterable[str], stroke_terms: Iterable[str]) -> None:
    cells = set().union(*(cell_kinds(t) for t in cell_terms))
    buckets = set().union(*(stroke_buckets(t) for t in stroke_terms))
    assert not CORE_CELLS - cells, f"{where}: no term for core cells {sorted(CORE_CELLS - cells)}"
    assert not OTHER_CELLS - cells, f"{where}: no term for {sorted(OTHER_CELLS - cells)}"
    assert not BUCKETS - buckets, f"{where}: no term for strokes {sorted(BUCKETS - buckets)}"


async def _drain(pages: AsyncIterator[list[RawRecord]]) -> list[RawRecord]:
    return [record async for page in pages for record in page]


# -- the list itself ------------------------------------------------------------------------


def test_the_vocabulary_names_every_cell_kind_and_stroke_bucket() -> None:
    assert_covers("jobs.search_terms", search_terms.CELL_TERMS, search_terms.STROKE_TERMS)


def test_spelling_plural_and_phrase_helpers() -> None:
    assert search_terms.with_british(["brain ischemia", "stroke", "cerebral hemorrhage"]) == (
        "brain ischemia",
        "brain ischaemia",
        "stroke",
        "cerebral hemorrhage",
        "cerebral haemorrhage",
    )
    assert search_terms.with_plurals(["stem cell", "cell therapy", "iPSC", "CD34", "stroke"]) == (
        "stem cell",
        "stem cells",
        "cell therapy",
        "cell therapies",
        "iPSC",
        "iPSCs",
        "CD34",
        "stroke",
        "strokes",
    )
    assert search_terms.without_longer_phrases(
        ["stroke", "hemorrhagic stroke", "cerebral hemorrhage", "intracerebral hemorrhage"]
    ) == ("stroke", "cerebral hemorrhage", "intracerebral hemorrhage")
    assert search_terms.substrings(["Stem cell", "MSC", "BMSC"], ["stem-cell"]) == (
        "stem cell",
        "msc",
        "stem-cell",
    )


# -- each registry, as sent -----------------------------------------------------------------


def _essie_terms(expression: str) -> list[str]:
    """`(a OR "b c")` -> [a, b c]."""
    assert expression.startswith("(") and expression.endswith(")")
    return [t.strip('"') for t in expression[1:-1].split(" OR ")]


async def test_ctgov_sends_every_term_as_written() -> None:
    with FakeCtgov() as fake:
        async with CtgovClient(fake.base_url, http=FAST_HTTP) as client:
            await _drain(client.changed_since(date(2026, 1, 1)))
            await client.count_matching()
        searches = [params for path, params in fake.requests if path == "/studies"]
    assert len(searches) == 2
    for params in searches:
        conditions = _essie_terms(params["query.cond"])
        interventions = _essie_terms(params["query.intr"])
        assert conditions == list(search_terms.STROKE_TERMS)
        assert interventions == list(search_terms.CELL_TERMS)
        assert_covers("ctgov", interventions, conditions)
        assert len(f"{CTGOV_SEARCH}?{urlencode(params)}") < URL_LIMIT


async def test_ctis_searches_each_condition_with_every_cell_term() -> None:
    with FakeCtis() as fake:
        async with CtisClient(fake.base_url, http=FAST_HTTP) as client:
            await _drain(client.changed_since(None))
        bodies = fake.search_bodies()
    conditions = [b["searchCriteria"]["medicalCondition"] for b in bodies]
    cell_lists = {b["searchCriteria"]["containAny"] for b in bodies}
    assert len(cell_lists) == 1
    cells = cell_lists.pop().split(", ")
    assert cells == list(search_terms.CELL_TERMS)
    assert_covers("ctis", cells, conditions)
    # Both spellings; a condition holding a shorter one costs a search and finds nothing more.
    assert {"subarachnoid hemorrhage", "subarachnoid haemorrhage"} <= set(conditions)
    assert "hemorrhagic stroke" not in conditions and "stroke" in conditions
    assert len(conditions) == len(set(conditions))


_FIELD_TERM = re.compile(r'\b(condition|intervention|title):(?:"([^"]*)"|([^\s()"]+))')


async def test_isrctn_query_names_every_term_in_each_field() -> None:
    with FakeIsrctn() as fake:
        async with IsrctnClient(fake.base_url, http=FAST_HTTP) as client:
            await _drain(client.changed_since(date(2026, 1, 1)))
        (search,) = fake.searches()
    by_field: dict[str, list[str]] = {"condition": [], "intervention": [], "title": []}
    for field_name, phrase, word in _FIELD_TERM.findall(search["q"]):
        by_field[field_name].append(phrase or word)
    assert_covers("isrctn intervention:", by_field["intervention"], by_field["condition"])
    assert_covers("isrctn title:", by_field["title"], by_field["condition"])
    assert "stem cells" in by_field["intervention"] and "haemorrhage" in search["q"]
    split_window = search["q"] + " AND lastEdited LT 2026-01-02T00:00:00.000Z"  # the longest form
    assert len(f"{ISRCTN_SEARCH}?{urlencode({**search, 'q': split_window})}") < URL_LIMIT


async def test_ictrp_prefilter_lets_every_term_through(tmp_path: Path) -> None:
    rows: dict[str, tuple[str, str]] = {}
    for n, term in enumerate(search_terms.with_british(search_terms.CELL_TERMS)):
        rows[f"CELL{n:04d}"] = ("Stroke", term)
    for n, term in enumerate(search_terms.with_british(search_terms.STROKE_TERMS)):
        rows[f"STROKE{n:04d}"] = (term, "Stem cells")
    export = write_export(
        [
            built_record(
                trial_id,
                title="A trial",
                condition=condition,
                intervention=intervention,
                sites=[("Clinic", "Lyon", "France")],
            )
            for trial_id, (condition, intervention) in rows.items()
        ],
        tmp_path / "export.csv",
    )
    async with IctrpExport(export, http=FAST_HTTP) as registry:
        kept = {r["TrialID"].strip() for r in await _drain(registry.changed_since(None))}
    assert kept == set(rows), f"filtered out: {sorted(rows[i] for i in set(rows) - kept)}"
    assert_covers(
        "ictrp",
        [rows[i][1] for i in kept if i.startswith("CELL")],
        [rows[i][0] for i in kept if i.startswith("STROKE")],
    )
