"""A change in the publications a record lists: recorded, never alerted here (issue 16).

Publications get alerts of their own ("Results are out"); the version history records them as
one non-notable change. Variants are derived in code from the real recorded NCT03475563.
"""

from __future__ import annotations

from jobs.changes import diff, summarise
from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Reference


def test_an_added_result_reference_is_one_change_that_is_not_notable() -> None:
    trial = normalise(study("NCT03475563"))
    # derived in code: the record gains a fourth RESULT reference
    added = Reference(pmid="99999999", type="RESULT", citation="Example A. Results. 2030.")
    later = trial.model_copy(update={"references": (*trial.references, added)})
    (change,) = diff(trial.snapshot(), later.snapshot())
    assert (change.field, change.kind, change.notable) == ("references", "other", False)
    assert len(change.old) == 3 and len(change.new) == 4
    assert added.model_dump(mode="json") in change.new
    assert summarise(change) == "references: 3 -> 4"


def test_reordered_references_are_no_change() -> None:
    trial = normalise(study("NCT03475563"))
    reordered = trial.model_copy(update={"references": tuple(reversed(trial.references))})
    assert diff(trial.snapshot(), reordered.snapshot()) == []


def test_a_snapshot_stored_before_references_were_kept_differs_only_by_them() -> None:
    trial = normalise(study("NCT03475563"))
    without = trial.model_copy(update={"references": ()})
    stored_before = {k: v for k, v in without.snapshot().items() if k != "references"}
    assert diff(stored_before, without.snapshot()) == []  # no key is the same as none
    (change,) = diff(stored_before, trial.snapshot())  # the upgrade records them once
    assert (change.field, change.notable, change.old) == ("references", False, [])
