"""One poll page's read and write (storage/poll_page.py) on a real SQLite file and PostgreSQL."""

from __future__ import annotations

from sqlmodel import select

from storage import poll_page
from storage import trials as store
from storage.db import Database
from storage.tables import TrialKeyRow, TrialRow, TrialSourceRow, TrialVersionRow
from tests.jobs.helpers import fetched

NCT, CTIS, ISRCTN = "NCT01234567", "2024-512345-12-00", "ISRCTN12345678"
CHICTR, OTHER = "ChiCTR2100041234", "OTHER-1"


async def test_load_reads_the_page_records_their_trials_and_the_trials_other_records(
    db: Database,
) -> None:
    ctgov, ctis = fetched("ctgov", NCT, ISRCTN), fetched("ctis", CTIS, NCT)
    async with db.write() as session:
        await store.insert_trials(session, [ctgov.seen])
    async with db.write() as session:
        stored = await poll_page.load(session, "ctis", [CTIS], ctis.keys)
    assert stored.sources == {} and stored.owners == {NCT: 1}
    assert list(stored.trials) == [1]
    (record,) = stored.records
    assert (record.registry_id, record.snapshot) == (NCT, ctgov.seen.snapshot)
    async with db.write() as session:
        again = await poll_page.load(session, "ctgov", [NCT], ctgov.keys)
    assert list(again.sources) == [NCT] and again.owners == {NCT: 1, ISRCTN: 1}
    assert again.records == [again.sources[NCT]]


async def test_a_page_write_creates_merges_links_and_versions_in_one_go(db: Database) -> None:
    """A new trial that keeps a stored one (the stored one's registry ranks below the page's),
    a record joining it, a stored trial that moved."""
    elsewhere, moved = fetched("other", OTHER, CHICTR), fetched("ctgov", NCT)
    async with db.write() as session:
        await store.insert_trials(session, [elsewhere.seen, moved.seen])
    chictr, jrct = fetched("ictrp", CHICTR), fetched("ictrp", "JPRN-jRCT2063200009", CHICTR)
    now_moved = fetched("ctgov", NCT, ISRCTN)
    async with db.write() as session:
        stored = await poll_page.load(session, "ictrp", [], {CHICTR, NCT})
        (absorbed, row) = stored.trials.values()
        page = poll_page.PageWrite(
            new_trials=[(-1, chictr.seen)],
            merges=[(-1, absorbed)],
            new_sources=[(-1, chictr.seen, sorted(chictr.keys)), (-1, jrct.seen, [])],
            claims={"jRCT2063200009": -1},
            moved_trials=[(row, now_moved.seen, [])],
        )
        written = await poll_page.write(session, page, now=row.last_seen_at)
        snapshots = await poll_page.current_snapshots(session, [row])
    assert snapshots == {row.id: now_moved.seen.snapshot}
    new_id = written.trial_ids[-1]
    async with db.read() as session:
        trials = {t.id: t for t in (await session.exec(select(TrialRow))).all()}
        records = (await session.exec(select(TrialSourceRow))).all()
        keys = {k.key: k.trial_id for k in (await session.exec(select(TrialKeyRow))).all()}
        first = await session.get(TrialVersionRow, written.first_versions[-1])
    assert trials[absorbed.id].merged_into == new_id
    assert trials[absorbed.id].registry_id == f"{OTHER}@merged{new_id}"
    assert sorted(r.registry_id for r in records if r.trial_id == new_id) == [
        "ChiCTR2100041234",
        "JPRN-jRCT2063200009",
        OTHER,
    ]
    assert keys[CHICTR] == keys["jRCT2063200009"] == new_id
    assert first is not None and first.snapshot == chictr.seen.snapshot
    assert trials[row.id].current_version == 2
    assert [v.version for v in written.versions] == [2]
