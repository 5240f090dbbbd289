"""The trial's fingerprint and snapshot when publications are kept (issue 16).

A trial whose record lists no publications must hash exactly as it did before they were kept,
or every stored trial would gain a version on the upgrade; a list in another order is the same
list. The expected hash below is the one the code before contacts and references stored for a
real recorded study that lists neither (tests/trialbot/test_model.py, commit e404ab3).
"""

from __future__ import annotations

from jobs.registries.ctgov_record import normalise
from tests.conftest import study
from trialbot.model import Reference, Trial, fingerprint_of

STORED_BEFORE = "801897fd3a641bf536a1e459c78cdbdaf8373b8b3ceb9e8a6dab9e076a07032b"  # NCT02210780


def test_a_trial_without_references_hashes_as_before() -> None:
    trial = normalise(study("NCT02210780"))
    assert trial.references == ()
    assert trial.fingerprint() == STORED_BEFORE
    snapshot = trial.snapshot()
    assert snapshot["references"] == []
    stored_before = {k: v for k, v in snapshot.items() if k != "references"}
    assert fingerprint_of(stored_before) == STORED_BEFORE


def test_a_snapshot_stored_before_references_reads_as_none() -> None:
    trial = normalise(study("NCT03475563"))
    old = {k: v for k, v in trial.snapshot().items() if k != "references"}
    assert Trial.model_validate(old).references == ()
    assert fingerprint_of(old) == trial.model_copy(update={"references": ()}).fingerprint()


def test_references_move_the_fingerprint_but_their_order_does_not() -> None:
    trial = normalise(study("NCT03475563"))
    assert len(trial.references) == 3
    without = trial.model_copy(update={"references": ()})
    assert trial.fingerprint() != without.fingerprint()
    reordered = trial.model_copy(update={"references": tuple(reversed(trial.references))})
    assert reordered.references != trial.references
    assert reordered.fingerprint() == trial.fingerprint()


def test_the_snapshot_carries_the_references_and_reads_back() -> None:
    trial = normalise(study("NCT03475563"))
    snapshot = trial.snapshot()  # what is stored and what `trialbot show --json` prints
    assert [r["pmid"] for r in snapshot["references"]] == ["25689548", "25828372", "26465375"]
    assert set(snapshot["references"][0]) == {
        "pmid",
        "doi",
        "url",
        "type",
        "citation",
        "title",
        "date",
    }
    assert Trial.model_validate(snapshot) == trial


def test_references_are_hashable_values() -> None:
    """Adapters de-duplicate references by value; frozen models make that possible."""
    one = Reference(pmid="1", type="RESULT")
    assert len({one, one.model_copy()}) == 1
