"""The words every registry is searched with: one list, each adapter sends it in its own form.

`jobs.vocabulary` says what the classifier counts as a stem-cell stroke trial; this module says
what is fetched for it to judge. Each adapter used to keep its own lists and they drifted apart
(the ICTRP pre-filter knew iPSC and Muse cells, the CT.gov query did not), so the lists live here
and the adapters only change their form (tests/jobs/registries/test_search_terms.py checks
that each registry's query, as sent, still names every core cell kind and every stroke bucket
of `jobs.vocabulary`):

* CT.gov (`query.cond`, `query.intr`): as written, ORed, phrases quoted.
* CTIS (`medicalCondition`, one search each; `containAny`, one comma-separated list): British
  spellings added; a condition that contains a shorter one as whole words is not sent, because
  it would cost a search and find nothing more ("hemorrhagic stroke" after "stroke").
* ISRCTN (`condition:`, `intervention:`, `title:`): British spellings and plurals added,
  because no stemming or spelling folding by the API could be confirmed; phrases quoted.
* WHO ICTRP (a substring pre-filter over 700,000 rows): lower-cased, British spellings added,
  plus `*_SUBSTRINGS`: word stems, spelling variants and other languages that only a substring
  test can use (too broad, or not words, for a search engine).

Terms are spelled the US way (the classifier folds British spellings the same way). Adding a
term changes what is fetched, not what is alerted: the classifier still decides.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Final

STROKE_TERMS: Final[tuple[str, ...]] = (
    "stroke",
    "cerebral infarction",
    "brain infarction",
    "brain ischemia",
    "cerebral ischemia",
    "intracerebral hemorrhage",
    "cerebral hemorrhage",
    "hemorrhagic stroke",
    "intracranial hemorrhage",
    "subarachnoid hemorrhage",
    "basal ganglia hemorrhage",
    "basal ganglia hematoma",
    "cerebrovascular",
    "cerebrovascular accident",
    "CVA",
)
"""Conditions: every stroke bucket of `jobs.vocabulary.STROKE_TERMS` is named, broad on purpose."""

CELL_TERMS: Final[tuple[str, ...]] = (
    "stem cell",
    "stromal cell",
    "mesenchymal",
    "MSC",
    "mononuclear",
    "progenitor",
    "cell therapy",
    "cellular therapy",
    "cell transplantation",
    "somatic cell",
    "advanced therapy",
    "ATMP",
    "cord blood",
    "umbilical cord",
    "Wharton's jelly",
    "adipose",
    "ADSC",
    "bone marrow",
    "BMSC",
    "BMMNC",
    "PMSC",
    "DPSC",
    "hESC",
    "iPSC",
    "Muse cell",
    "MultiStem",
    "SB623",
    "CTX0E03",
    "NSI-566",
    "CD34",
    "CD133",
    "endothelial progenitor",
    "olfactory ensheathing",
    "exosome",
    "extracellular vesicle",
    "secretome",
    "stromal vascular fraction",
    "G-CSF",
    "granulocyte colony-stimulating factor",
    "filgrastim",
)
"""Interventions: broad words, plus a name for every cell kind of `jobs.vocabulary.CELL_TERMS`
(core, borderline and cell-free) in words the classifier knows (abbreviations where records
use them: BMSC, iPSC, DPSC...), plus product codes, because several real cell products carry no
"stem" in their name (SB623, MultiStem, CTX0E03). "Advanced therapy", "ATMP" and "somatic
cell" are how EU sponsors (CTIS) name cell products."""

STROKE_SUBSTRINGS: Final[tuple[str, ...]] = (
    "cerebr",  # cerebral, cerebrovascular, cerebrum
    "infarct",
    "ischemic",
    "brain ischemi",  # not bare "ischemi": limb and myocardial ischemia are no stroke
    "hemorrhag",
    "hemorrag",  # Spanish/Portuguese
    "hematoma",
    "subarachnoid",
    "apoplex",
    "ictus",
    "卒中",
    "中风",
    "脑梗",
    "脑出血",
    "脳梗塞",
    "脳卒中",
)
"""Stroke word stems and other languages, for the ICTRP substring pre-filter only."""

CELL_SUBSTRINGS: Final[tuple[str, ...]] = (
    "stem-cell",
    "stemcell",
    "neural stem",
    "stromal",
    "cell therap",
    "cellular therap",
    "cell transplant",
    "cell-based",
    "cell based",
    "cell injection",
    "cell infusion",
    "umbilical",
    "marrow-derived",
    "pluripotent",
    "granulocyte colony",
    "autologous",
    "allogeneic",
    "allogenic",
    "干细胞",
    "幹細胞",
)
"""Cell-therapy stems and other languages, for the ICTRP substring pre-filter only ("autologous"
is far too broad for a search engine, but cheap next to a stroke word in the same row)."""

_BRITISH: Final = ((re.compile(r"\bhem(?=[ao])"), "haem"), (re.compile(r"ischem"), "ischaem"))
_PLURAL_WORDS: Final = {
    "cell": "cells",
    "therapy": "therapies",
    "exosome": "exosomes",
    "vesicle": "vesicles",
    "stroke": "strokes",
}
_ABBREVIATED_CELLS: Final = re.compile(r"^[A-Za-z]*(?:SC|MNC)$")
_WORD: Final = re.compile(r"\w+")


def with_british(terms: Iterable[str]) -> tuple[str, ...]:
    """Each term followed by its British spelling when it has one ("haemorrhage")."""
    out: list[str] = []
    for term in terms:
        british = term
        for pattern, replacement in _BRITISH:
            british = pattern.sub(replacement, british)
        out += [term, british] if british != term else [term]
    return tuple(dict.fromkeys(out))


def with_plurals(terms: Iterable[str]) -> tuple[str, ...]:
    """Each term followed by its plural when it names a countable thing ("stem cells",
    "MSCs"), for a registry that matches whole words without stemming."""
    out: list[str] = []
    for term in terms:
        head, _, last = term.rpartition(" ")
        plural = _PLURAL_WORDS.get(last)
        if plural is not None:
            out += [term, f"{head} {plural}".strip()]
        elif _ABBREVIATED_CELLS.match(term):
            out += [term, term + "s"]
        else:
            out.append(term)
    return tuple(dict.fromkeys(out))


def without_longer_phrases(terms: Iterable[str]) -> tuple[str, ...]:
    """The terms that do not contain another term as whole words: a registry that finds a
    phrase anywhere in a field finds everything "hemorrhagic stroke" finds with "stroke"."""
    listed = tuple(dict.fromkeys(terms))
    words = {term: [w.casefold() for w in _WORD.findall(term)] for term in listed}

    def contains(longer: list[str], shorter: list[str]) -> bool:
        size = len(shorter)
        return len(longer) > size and any(
            longer[i : i + size] == shorter for i in range(len(longer) - size + 1)
        )

    return tuple(t for t in listed if not any(contains(words[t], words[o]) for o in listed))


def substrings(terms: Iterable[str], extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Lower-case substrings for a pre-filter: the terms (both spellings) and `extra`, without
    any that contains another (it could only match where the shorter one already does)."""
    lowered = dict.fromkeys(t.lower() for t in with_british((*terms, *extra)))
    return tuple(t for t in lowered if not any(o != t and o in t for o in lowered))
