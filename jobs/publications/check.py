"""Look for each stored trial's publications, store them, and tell its people when results appear.

A look gathers what the trial's registry records list (`Trial.references`) and, when PubMed is
on, what PubMed finds under the trial's registry numbers: first in its databank field
(`[si]`, where journals put the number of the trial a paper reports), then in titles and
abstracts (`[tiab]`), published since the trial started. Each is given a kind by
`trialbot.publications.kind_of` and stored once (storage/publications.py).

A publication that becomes a results paper is alerted once per chat, to the chats the trial
matches now and to those it was ever alerted to (storage/outbox.followers), queued in the
transaction that stores it. The first look at a trial is a baseline: what it finds was out
before we looked, and is stored without alerts (as a fresh database's first poll stores
trials without announcing them), except a results paper published in the last 90 days.

Looks are spread: every trial once a week at its own time (`spread_offset`), brought forward
when its record says it ended or lists something new (`bring_forward`, called by the poll).
A dead PubMed fails the look alone: what the registry lists is still stored, the trial is
looked at again later, and nothing else waits for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal, Protocol

from jobs.fanout import current_index
from jobs.publications.pubmed import PubMedSummary
from jobs.registries.base import RegistryError
from storage import outbox
from storage import publications as stored
from storage import trials as trial_store
from storage.db import Database
from storage.outbox import ResultsAlertIn
from storage.publications import NewResults
from storage.trials import StoredTrial
from trialbot import metrics
from trialbot.identifiers import canonical, own_key
from trialbot.matching import Geocoder
from trialbot.model import Reference, Trial
from trialbot.publications import (
    FoundBy,
    PaperEvidence,
    Publication,
    kind_of,
    parse_partial,
    registry_ids_for_search,
)

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
RETRY_AFTER_FAILURE = timedelta(hours=6)


class PaperIndex(Protocol):
    """What a look needs of PubMed (jobs/publications/pubmed.PubMedClient; a test's fake)."""

    async def search(
        self, ids: Sequence[str], field: Literal["si", "tiab"], since: date | None
    ) -> list[str]: ...

    async def summaries(self, pmids: Sequence[str]) -> list[PubMedSummary]: ...


@dataclass
class CheckReport:
    """What one run of the job did (logged, counted, and printed by `trialbot publications`)."""

    looked: int = 0
    failed: int = 0
    found: int = 0
    new_results: int = 0
    alerts_queued: int = 0
    errors: list[str] = field(default_factory=list)


def search_ids(trial: Trial) -> list[str]:
    """The registry numbers a paper about this trial would carry: the record's own, its
    aliases, its typed secondary ids and its other registries' records. Never numbers found
    in its descriptions: those are often other, related studies."""
    keys = [own_key(trial), *(canonical(a) or "" for a in trial.aliases)]
    keys += [canonical(s.id) or "" for s in trial.secondary_ids]
    keys += [canonical(ref.registry_id) or "" for ref in trial.sources]
    return registry_ids_for_search([k for k in keys if k and ":" not in k])


def start_of(trial: Trial) -> date | None:
    start = trial.dates.start
    return parse_partial(start.date) if start else None


def from_registry(ref: Reference, start: date | None) -> Publication | None:
    """A publication the record lists, as the registry alone describes it."""
    if not (ref.pmid or ref.doi or ref.url):
        return None
    evidence = PaperEvidence(
        title=ref.title,
        registry_type=ref.type,
        published=ref.date,
        found_by="registry",
        citation=ref.citation,
    )
    kind, reason = kind_of(evidence, start)
    return Publication(
        kind=kind,
        reason=reason,
        found_by="registry",
        pmid=ref.pmid,
        doi=ref.doi,
        url=ref.url,
        title=ref.title,
        published=ref.date,
        registry_type=ref.type,
        citation=ref.citation,
    )


def from_pubmed(
    summary: PubMedSummary, found_by: FoundBy, start: date | None, listed: Reference | None
) -> Publication:
    """A publication PubMed describes (and the registry may also list: its word counts)."""
    evidence = PaperEvidence(
        title=summary.title or None,
        pubtypes=summary.pubtypes,
        registry_type=listed.type if listed else None,
        published=summary.published,
        found_by=found_by,
        citation=listed.citation if listed else None,
    )
    kind, reason = kind_of(evidence, start)
    return Publication(
        kind=kind,
        reason=reason,
        found_by=found_by,
        pmid=summary.pmid,
        doi=summary.doi or (listed.doi if listed else None),
        url=listed.url if listed else None,
        title=summary.title or None,
        journal=summary.journal,
        published=summary.published,
        registry_type=listed.type if listed else None,
        citation=listed.citation if listed else None,
    )


async def gather(
    trial: Trial, papers: PaperIndex | None
) -> tuple[list[Publication], dict[str, tuple[str, ...]]]:
    """Every publication found for one trial, and PubMed's types per publication key.
    Raises RegistryError when PubMed fails (the caller stores the registry's list anyway)."""
    start = start_of(trial)
    listed = {ref.pmid: ref for ref in trial.references if ref.pmid}
    found = [p for ref in trial.references if (p := from_registry(ref, start))]
    if papers is None:
        return found, {}
    ids = search_ids(trial)
    in_databank = await papers.search(ids, "si", start) if ids else []
    in_text = await papers.search(ids, "tiab", start) if ids else []
    how: dict[str, FoundBy] = {pmid: "registry" for pmid in listed}
    for pmid in in_text:
        how.setdefault(pmid, "pubmed_tiab")
    for pmid in in_databank:
        if how.get(pmid) != "registry":
            how[pmid] = "pubmed_si"
    summaries = await papers.summaries(sorted(how)) if how else []
    types: dict[str, tuple[str, ...]] = {}
    by_pmid = {p.pmid: p for p in found if p.pmid}
    for summary in summaries:
        pub = from_pubmed(
            summary, how.get(summary.pmid, "pubmed_tiab"), start, listed.get(summary.pmid)
        )
        if summary.pmid in by_pmid:
            found.remove(by_pmid[summary.pmid])
        found.append(pub)
        types[pub.key] = summary.pubtypes
    return found, types


async def check_trial(
    db: Database,
    trial_id: int,
    papers: PaperIndex | None,
    now: datetime,
    *,
    geocode: Geocoder | None = None,
    today: date | None = None,
    report: CheckReport | None = None,
) -> CheckReport:
    """Look once at one trial: store what is found, queue the alerts of new results papers,
    and set the next look (a week on, or sooner after a failure)."""
    report = report or CheckReport()
    async with db.read() as session:
        current = await trial_store.current_trial_by_id(session, trial_id)
        first_look = await stored.never_checked(session, trial_id)
    if current is None:
        async with db.write() as session:
            await stored.checked(session, trial_id, now, now + WEEK, "the trial is gone")
        return report
    error: str | None = None
    try:
        found, types = await gather(current.trial, papers)
    except RegistryError as exc:
        error = str(exc)
        found, types = await gather(current.trial, None)
    # matched outside the write, and only when the look found a results paper at all (most
    # weekly looks find nothing new: no index read for them)
    matched: Matched = (
        await _chats_matching(db, current, geocode, today or now.date())
        if any(pub.is_results for pub in found)
        else {}
    )
    async with db.write() as session:
        fresh = await stored.record(session, trial_id, found, types, now)
        fresh = [new for new in fresh if _a_paper_or_new_document(new.publication, current)]
        if first_look:
            fresh = [new for new in fresh if _news(new.publication, today or now.date())]
        queued = 0
        if fresh:
            followers = await outbox.followers(session, trial_id)
            queued = await outbox.enqueue_results(
                session, _alerts(trial_id, fresh, matched, followers), now
            )
        next_due = now + (RETRY_AFTER_FAILURE if error else WEEK)
        await stored.checked(session, trial_id, now, next_due, error)
    report.looked += 1
    report.found += len(found)
    report.new_results += len(fresh)
    report.alerts_queued += queued
    if error:
        report.failed += 1
        report.errors.append(error)
        log.warning("publication look at trial %d: PubMed failed: %s", trial_id, error)
    metrics.PUBLICATION_LOOKS.labels("failed" if error else "ok").inc()
    if fresh:
        metrics.RESULTS_FOUND.inc(len(fresh))
    return report


Matched = dict[int, tuple[bool, list[int]]]


def _a_paper_or_new_document(pub: Publication, current: StoredTrial) -> bool:
    """A registry's own results document (ISRCTN's basic report, a results link without a
    PMID or DOI) is the same news as its results being posted, which the trial's change alert
    already told: it is stored, and counts as results, but is not told a second time."""
    if pub.found_by != "registry" or pub.pmid or pub.doi:
        return True
    known = current.known
    return not (known is not None and known.registry_results)

FIRST_LOOK_NEWS = timedelta(days=90)


def _news(pub: Publication, today: date) -> bool:
    """On a trial's first look, only a results paper published in the last FIRST_LOOK_NEWS
    is news; older ones (and undated ones) were out before we looked."""
    published = parse_partial(pub.published)
    return published is not None and published >= today - FIRST_LOOK_NEWS


async def _chats_matching(
    db: Database, current: StoredTrial, geocode: Geocoder | None, today: date
) -> Matched:
    """The chats whose subscriptions match the trial as it is now (held: on a digest)."""
    index = await current_index(db)  # the fan-out's, kept in memory
    facts = current.facts.facts if current.facts is not None else None
    found = index.chats(
        index.matching(current.trial, current.verdict, geocode, facts=facts, today=today)
    )
    return {
        chat_id: (held, list(ids))
        for chat_id, held, ids in zip(
            found.chat_ids, found.held, found.subscription_ids, strict=True
        )
    }


def _alerts(
    trial_id: int, fresh: Sequence[NewResults], matched: Matched, followers: Matched
) -> list[ResultsAlertIn]:
    chats_to_tell = dict(followers)
    for chat_id, (held, ids) in matched.items():
        before = chats_to_tell.get(chat_id)
        merged = sorted(set(ids) | set(before[1] if before else ()))
        chats_to_tell[chat_id] = (held, merged)
    return [
        ResultsAlertIn(chat_id, trial_id, new.publication_id, ids, held)
        for new in fresh
        for chat_id, (held, ids) in sorted(chats_to_tell.items())
    ]


async def check_due(
    db: Database,
    papers: PaperIndex | None,
    now: datetime,
    *,
    limit: int = 50,
    geocode: Geocoder | None = None,
    today: date | None = None,
) -> CheckReport:
    """One run of the job: schedule trials never scheduled, then look at up to `limit` due ones."""
    report = CheckReport()
    async with db.write() as session:
        await stored.ensure_scheduled(session, now, WEEK)
    async with db.read() as session:
        due = await stored.due(session, now, limit)
    for trial_id in due:
        try:
            await check_trial(
                db, trial_id, papers, now, geocode=geocode, today=today, report=report
            )
        except Exception as exc:  # one trial's trouble (a database error) never stops the rest
            report.failed += 1
            report.errors.append(f"{type(exc).__name__}: {exc}")
            log.exception("publication look at trial %d failed", trial_id)
    return report
