"""Linking a poll page in memory: which record joins which trial, what is new, what merges.

No database: the stored side is built here as storage/poll_page.py would read it. Ids are made
up but written as each registry writes them, so they link the way real ones do.
"""

from __future__ import annotations

from jobs.linking import Member, Merge, Plan, Record, plan
from storage.poll_page import Stored
from storage.tables import TrialRow, TrialSourceRow
from tests.jobs.helpers import fetched
from trialbot.identifiers import link_keys

NCT, OTHER_NCT = "NCT01234567", "NCT07654321"
CTIS, OTHER_CTIS = "2024-512345-12-00", "2025-523456-23-00"
ISRCTN = "ISRCTN12345678"
CHICTR, JRCT = "ChiCTR2100041234", "JPRN-jRCT2063200009"


class Db:
    """The stored side: trials with their records; ids in the order they were added."""

    def __init__(self) -> None:
        self.trials: dict[int, TrialRow] = {}
        self.records: list[TrialSourceRow] = []

    def trial(self, *records: TrialSourceRow, merged_into: int | None = None) -> int:
        trial_id = len(self.trials) + 1
        primary = records[0]
        self.trials[trial_id] = TrialRow(
            id=trial_id,
            registry_name=primary.registry_name,
            registry_id=primary.registry_id,
            title=primary.registry_id,
            stem_cell_tier="core",
            relevant=merged_into is None,
            fingerprint=primary.fingerprint,
            merged_into=merged_into,
        )
        for record in records:
            record.trial_id = trial_id
            record.id = len(self.records) + 1
            self.records.append(record)
        return trial_id

    def stored(self, page: str, *records: Record) -> Stored:
        """What storage/poll_page.py reads for these records of a `page` registry page."""
        ids = {i for r in records for i in (r.trial.registry_id, *r.trial.aliases)}
        owners: dict[str, int] = {}
        for source in self.records:
            for key in source.link_keys:
                owners.setdefault(key, source.trial_id)
        wanted = {k for r in records for k in r.keys}
        return Stored(
            sources={
                s.registry_id: s
                for s in self.records
                if s.registry_name == page and s.registry_id in ids
            },
            owners={k: t for k, t in owners.items() if k in wanted},
            trials=dict(self.trials),
            records=list(self.records),
        )


def stored(registry: str, registry_id: str, *names: str) -> TrialSourceRow:
    """A stored record, as it was last fetched."""
    seen = fetched(registry, registry_id, *names).seen
    return TrialSourceRow(
        trial_id=0,
        registry_name=registry,
        registry_id=registry_id,
        fingerprint=seen.fingerprint,
        snapshot=seen.snapshot,
        link_keys=sorted(link_keys(seen.trial)),
    )


def _link(db: Db, registry: str, *records: Record) -> Plan:
    return plan(registry, records, db.stored(registry, *records))


def _members(linked: Plan) -> dict[int, list[str]]:
    """Each touched trial's records by id, oldest first; `+` marks one the page fetched."""
    return {ref: [_label(m) for m in members] for ref, members in linked.trials.items()}


def _label(member: Member) -> str:
    if member.record is not None:
        return f"+{member.record.trial.registry_id}"
    assert member.source is not None
    return member.source.registry_id


def test_a_record_linking_to_nothing_is_a_new_trial_if_relevant() -> None:
    kept = fetched("ctgov", NCT)
    dropped = fetched("ctgov", OTHER_NCT, relevant=False)
    linked = _link(Db(), "ctgov", kept, dropped)
    assert linked.new == {-1: kept} and linked.added == [(kept, -1)]
    assert linked.rejected == 1 and linked.unchanged == 0
    assert _members(linked) == {-1: [f"+{NCT}"]}
    assert linked.claims == {NCT: -1}
    assert not linked.seen_again and not linked.merges


def test_a_stored_record_fetched_again_stays_with_its_trial() -> None:
    db = Db()
    trial_id = db.trial(source := stored("ctgov", NCT))
    same, moved = fetched("ctgov", NCT), fetched("ctgov", NCT, ISRCTN)
    unchanged = _link(db, "ctgov", same)
    assert unchanged.seen_again == [(source, same)] and unchanged.unchanged == 1
    assert unchanged.trials == {trial_id: [Member(source, same)]}
    assert not unchanged.new and not unchanged.added and not unchanged.claims
    changed = _link(db, "ctgov", moved)
    assert changed.unchanged == 0 and changed.claims == {ISRCTN: trial_id}


def test_a_record_known_by_an_alias_is_the_record_stored_under_the_old_id() -> None:
    db = Db()
    trial_id = db.trial(source := stored("ctgov", NCT))
    renamed = fetched("ctgov", OTHER_NCT, aliases=(NCT,))
    linked = _link(db, "ctgov", renamed)
    assert linked.seen_again == [(source, renamed)] and not linked.new
    assert linked.rekeyed == [(NCT, OTHER_NCT)]
    assert linked.trials == {trial_id: [Member(source, renamed)]}


def test_a_record_naming_a_stored_trial_joins_it() -> None:
    db = Db()
    trial_id = db.trial(stored("ctgov", NCT))
    ctis = fetched("ctis", CTIS, NCT)
    linked = _link(db, "ctis", ctis)
    assert linked.added == [(ctis, trial_id)] and not linked.new and not linked.merges
    assert _members(linked) == {trial_id: [NCT, f"+{CTIS}"]}
    assert linked.claims == {CTIS: trial_id}  # the NCT key was the trial's already


def test_a_record_named_by_a_stored_trial_joins_it() -> None:
    db = Db()
    trial_id = db.trial(stored("ctis", CTIS, NCT))
    linked = _link(db, "ctgov", ctgov := fetched("ctgov", NCT))
    assert linked.added == [(ctgov, trial_id)]
    assert _members(linked) == {trial_id: [CTIS, f"+{NCT}"]}


def test_two_rows_of_one_page_that_name_each_other_make_one_new_trial() -> None:
    chictr, jrct = fetched("ictrp", CHICTR, JRCT), fetched("ictrp", JRCT)
    linked = _link(Db(), "ictrp", chictr, jrct)
    assert linked.new == {-1: chictr}
    assert linked.added == [(chictr, -1), (jrct, -1)]
    assert _members(linked) == {-1: [f"+{CHICTR}", f"+{JRCT}"]}


def test_two_records_of_one_registry_are_never_one_trial() -> None:
    """An extension study names its parent's NCT number, and so does the parent's own record
    in the same registry: only one of them can be that trial."""
    db = Db()
    trial_id = db.trial(stored("ctgov", NCT), stored("ctis", CTIS, NCT))
    extension = fetched("ctis", OTHER_CTIS, NCT)
    linked = _link(db, "ctis", extension)
    assert linked.new == {-1: extension} and _members(linked) == {-1: [f"+{OTHER_CTIS}"]}
    assert trial_id not in linked.trials
    # the same within one page: the second record is a trial of its own
    first, second = fetched("ctis", CTIS, NCT), fetched("ctis", OTHER_CTIS, NCT)
    alone = _link(Db(), "ctis", first, second)
    assert alone.new == {-1: first, -2: second}
    assert alone.claims[NCT] == -1  # the first record naming an id holds it


def test_a_record_linking_two_stored_trials_merges_them_into_the_richest() -> None:
    db = Db()
    ctis_only = db.trial(stored("ctis", CTIS))
    ctgov = db.trial(stored("ctgov", NCT))
    isrctn = fetched("isrctn", ISRCTN, NCT, CTIS)
    linked = _link(db, "isrctn", isrctn)
    assert linked.merges == [
        Merge(ctgov, ctis_only, (f"ctgov:{NCT}", f"ctis:{CTIS}"), f"isrctn:{ISRCTN}")
    ]
    assert linked.added == [(isrctn, ctgov)] and not linked.new
    assert _members(linked) == {ctgov: [CTIS, NCT, f"+{ISRCTN}"]}  # oldest first
    assert linked.claims == {ISRCTN: ctgov}


def test_of_two_stored_trials_of_equal_registries_the_older_keeps_the_other() -> None:
    db = Db()
    older = db.trial(stored("ictrp", CHICTR))
    newer = db.trial(stored("ictrp", "ChiCTR2100049999"))
    jrct = fetched("ictrp", JRCT, CHICTR, "ChiCTR2100049999")
    linked = _link(db, "ictrp", jrct)
    assert [(m.keeper, m.absorbed) for m in linked.merges] == [(older, newer)]
    assert list(linked.trials) == [older]


def test_a_new_trial_that_turns_out_to_be_a_stored_one_is_never_created() -> None:
    db = Db()
    trial_id = db.trial(stored("ctgov", NCT))
    chictr, jrct = fetched("ictrp", CHICTR), fetched("ictrp", JRCT, CHICTR, NCT)
    linked = _link(db, "ictrp", chictr, jrct)
    assert not linked.new and not linked.merges
    assert linked.added == [(chictr, trial_id), (jrct, trial_id)]
    assert _members(linked) == {trial_id: [NCT, f"+{CHICTR}", f"+{JRCT}"]}
    assert set(linked.claims.values()) == {trial_id}


def test_a_new_trial_from_a_richer_registry_keeps_the_stored_one() -> None:
    db = Db()
    elsewhere = db.trial(stored("other", "OTHER-1", CHICTR))  # a registry of no known rank
    chictr, jrct = (
        fetched("ictrp", "ChiCTR2100049999"),
        fetched("ictrp", JRCT, "ChiCTR2100049999", CHICTR),
    )
    linked = _link(db, "ictrp", chictr, jrct)
    assert linked.new == {-1: chictr}
    assert [(m.keeper, m.absorbed) for m in linked.merges] == [(-1, elsewhere)]
    assert _members(linked) == {-1: ["OTHER-1", "+ChiCTR2100049999", f"+{JRCT}"]}


def test_a_trial_merged_earlier_is_history_and_links_nothing() -> None:
    db = Db()
    keeper = db.trial(stored("ctgov", NCT))
    db.trial(stored("ctis", CTIS), merged_into=keeper)
    isrctn = fetched("isrctn", ISRCTN, CTIS)
    linked = _link(db, "isrctn", isrctn)
    assert linked.new == {-1: isrctn} and not linked.merges


def test_touched_trials_come_stored_first_by_id_then_new_in_page_order() -> None:
    db = Db()
    first, second = db.trial(stored("ctgov", NCT)), db.trial(stored("ctgov", OTHER_NCT))
    records = [
        fetched("isrctn", "ISRCTN11111111"),
        fetched("isrctn", ISRCTN, OTHER_NCT),
        fetched("isrctn", "ISRCTN22222222"),
        fetched("isrctn", "ISRCTN33333333", NCT),
    ]
    linked = _link(db, "isrctn", *records)
    assert list(linked.trials) == [first, second, -1, -2]
    assert linked.new == {-1: records[0], -2: records[2]}
