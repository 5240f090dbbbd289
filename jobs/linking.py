"""Which trial each record of a poll page belongs to, decided in memory from one read.

A page is linked in three steps: storage/poll_page.py reads everything the page's records could
touch, `plan` decides here (no database) which record joins which trial, which trials are new
and which stored trials are one, and storage/poll_page.py writes the outcome. Deciding before
writing is what lets two rows of one page find each other before the page's new trials exist:
until the write, a new trial is a negative number.

The rules (docs/decisions.md, "Several registries"): a record belongs to the trial it is stored
with, or to the trial holding one of its keys (canonical ids, `trialbot.identifiers.link_keys`).
Several such trials are one: the one whose primary record is from the richest registry (the
oldest on a tie) keeps everything, the others are merged into it and kept as history. Two
records of one registry are never one trial: a registry that holds a trial twice says so
itself (CT.gov aliases), and two records of one registry naming the same outside id are related
studies (a parent trial and its extension). A record that links to nothing is a new trial when
it is relevant, and is not stored when it is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from jobs.merge import preference
from storage.poll_page import Stored
from storage.tables import TrialSourceRow
from storage.trials import Observation
from trialbot.identifiers import link_keys, record_registry
from trialbot.model import Trial

Ref = int
"""A trial: its id, or a negative number for a trial this page creates (-1 first)."""


@dataclass(frozen=True)
class Record:
    """A record this page fetched, as it will be stored, and the keys it can be found under."""

    seen: Observation
    keys: frozenset[str]

    @classmethod
    def of(cls, seen: Observation) -> Record:
        return cls(seen, frozenset(link_keys(seen.trial)))

    @property
    def trial(self) -> Trial:
        return self.seen.trial


@dataclass(frozen=True)
class Member:
    """One record of a trial: stored (`source`), fetched by this page (`record`), or both."""

    source: TrialSourceRow | None
    record: Record | None

    @property
    def issuer(self) -> str:
        """The registry that issued the record (for a WHO row, the one behind it)."""
        if self.record is not None:
            return record_registry(self.record.trial.registry, self.record.trial.registry_id)
        assert self.source is not None
        return record_registry(self.source.registry_name, self.source.registry_id)


@dataclass(frozen=True)
class Merge:
    """A stored trial that a record showed to be another one, kept from now on as history."""

    keeper: Ref
    absorbed: int
    """A stored trial: one the page creates is never stored when it turns out to be another."""
    names: tuple[str, str]
    by: str
    """The record that showed they are one."""


@dataclass
class Plan:
    """What a page does to the stored trials, decided before anything is written."""

    seen_again: list[tuple[TrialSourceRow, Record]] = field(default_factory=list)
    """Stored records the page fetched again (by their id, or an alias they are now known by)."""
    added: list[tuple[Record, Ref]] = field(default_factory=list)
    """Records new to us, in page order, and the trial each belongs to."""
    new: dict[Ref, Record] = field(default_factory=dict)
    """The trials the page creates, in order, and the record that created each."""
    rekeyed: list[tuple[str, str]] = field(default_factory=list)
    """Stored records the page fetched under a new id: the old id, the new one."""
    merges: list[Merge] = field(default_factory=list)
    claims: dict[str, Ref] = field(default_factory=dict)
    """Keys no trial held, and the trial each now belongs to (the first record naming it)."""
    trials: dict[Ref, list[Member]] = field(default_factory=dict)
    """Every trial the page touched (stored ones by id, then new ones in order) with all its
    records, oldest first: stored ones as they were stored, then the page's in page order."""
    unchanged: int = 0
    rejected: int = 0


def plan(registry: str, records: Sequence[Record], stored: Stored) -> Plan:
    """Link a page of `registry` records to the trials in `stored` (storage/poll_page.py)."""
    planner = _Planner(registry, stored)
    for place, record in enumerate(records):
        planner.observe(place, record)
    return planner.finish()


_Order = tuple[int, int]
"""Where a record stands among a trial's: (0, n) the n-th stored one, (1, n) the page's n-th."""


class _Planner:
    """Linking one page record by record, as its records would have been stored one by one."""

    def __init__(self, registry: str, stored: Stored) -> None:
        self.registry, self.stored = registry, stored
        self.plan = Plan()
        self.owners: dict[str, Ref] = dict(stored.owners)
        self.into: dict[Ref, Ref] = {}
        """Trials merged on this page, and the trial each was merged into."""
        self.members: dict[Ref, dict[_Order, Member]] = {}
        self.order: dict[int, _Order] = {}
        for n, source in enumerate(stored.records):
            assert source.id is not None
            self.order[source.id] = (0, n)
            self.members.setdefault(source.trial_id, {})[(0, n)] = Member(source, None)
        self.created = 0
        self.touched: set[Ref] = set()

    def observe(self, place: int, record: Record) -> None:
        trial = record.trial
        sources = self.stored.sources
        source = sources.get(trial.registry_id)
        if source is None:
            source = next((sources[a] for a in trial.aliases if a in sources), None)
            if source is not None:  # the registry merged records: the stored id is an alias
                self.plan.rekeyed.append((source.registry_id, trial.registry_id))
        if source is not None:
            assert source.id is not None
            same_keys = set(source.link_keys) == record.keys
            if same_keys and source.fingerprint == record.seen.fingerprint:
                self.plan.unchanged += 1
            self.plan.seen_again.append((source, record))
            current = self._find(source.trial_id)
            self.members[current][self.order[source.id]] = Member(source, record)
            joined = self._join(record, current)
            assert joined is not None
        else:
            found = self._join(record, None)
            if found is None and not record.seen.verdict.relevant:
                self.plan.rejected += 1
                return
            if found is None:
                self.created += 1
                found = -self.created
                self.plan.new[found] = record
            self.plan.added.append((record, found))
            self.members.setdefault(found, {})[(1, place)] = Member(None, record)
            joined = found
        for key in record.keys:
            self.owners.setdefault(key, joined)
        self.touched.add(joined)

    def _join(self, record: Record, current: Ref | None) -> Ref | None:
        """The trial a record belongs to: `current` (where it is stored, if it is) or a trial
        it names or is named by. Several such trials are one: they are merged."""
        others = {self._find(self.owners[k]) for k in record.keys if k in self.owners} - {current}
        if not others:
            return current
        mine = Member(None, record).issuer
        candidates = {
            other
            for other in others
            if all(m.issuer != mine for m in self.members.get(other, {}).values())
        }
        if current is not None:
            candidates.add(current)
        live = sorted(filter(self._live, candidates), key=self._seniority)
        if not live:
            return current
        keeper, *absorbed = live
        for other in absorbed:
            self._merge(keeper, other, record)
        return keeper

    def _merge(self, keeper: Ref, other: Ref, record: Record) -> None:
        self.into[other] = keeper
        self.members.setdefault(keeper, {}).update(self.members.pop(other, {}))
        self.touched.discard(other)
        if other < 0:  # created on this page: never stored, its records join the keeper
            del self.plan.new[other]
        else:
            names = (self._name(keeper), self._name(other))
            self.plan.merges.append(Merge(keeper, other, names, record.trial.uid))
        self.touched.add(keeper)

    def _find(self, ref: Ref) -> Ref:
        while ref in self.into:
            ref = self.into[ref]
        return ref

    def _live(self, ref: Ref) -> bool:
        if ref in self.into:
            return False
        if ref < 0:
            return True
        row = self.stored.trials.get(ref)
        return row is not None and row.merged_into is None

    def _seniority(self, ref: Ref) -> tuple[int, int, int]:
        """Richest registry first, then oldest: stored trials by id, then the page's."""
        if ref < 0:
            return (preference(self.registry), 1, -ref)
        return (preference(self.stored.trials[ref].registry_name), 0, ref)

    def _name(self, ref: Ref) -> str:
        if ref < 0:
            return self.plan.new[ref].trial.uid
        row = self.stored.trials[ref]
        return f"{row.registry_name}:{row.registry_id}"

    def finish(self) -> Plan:
        plan = self.plan
        plan.added = [(record, self._find(ref)) for record, ref in plan.added]
        plan.claims = {
            key: self._find(ref)
            for key, ref in self.owners.items()
            if key not in self.stored.owners
        }
        touched = {self._find(ref) for ref in self.touched}
        ordered = sorted(touched, key=lambda ref: (ref < 0, abs(ref)))
        plan.trials = {ref: [m for _, m in sorted(self.members[ref].items())] for ref in ordered}
        return plan
