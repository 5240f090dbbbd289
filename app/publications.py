"""`trialbot publications`: look for trials' results and papers now, as the job does.

With an id, that one trial is looked at whatever its schedule, and what is known of it is
printed; without, one round of the job runs (the trials whose look is due). Alerts a look
queues are sent by the running service, as the job's are.
"""

from __future__ import annotations

import json
from typing import Any

from jobs.publications.check import CheckReport, check_due, check_trial
from jobs.publications.pubmed import PubMedClient
from storage import trials as trial_store
from storage.db import Database
from storage.tables import utcnow
from trialbot.clock import clock_for
from trialbot.matching import gazetteer_geocoder
from trialbot.publications import Publication, newest_first
from trialbot.settings import Settings


def publication_json(pub: Publication) -> dict[str, Any]:
    return {
        "pmid": pub.pmid,
        "doi": pub.doi,
        "url": pub.url,
        "title": pub.title,
        "journal": pub.journal,
        "published": pub.published,
        "kind": pub.kind,
        "reason": pub.reason,
        "found_by": pub.found_by,
        "registry_type": pub.registry_type,
        "link": pub.link,
    }


async def publications_command(settings: Settings, ident: str | None, as_json: bool) -> int:
    db = Database(settings.database_url)
    papers = PubMedClient.from_settings(settings) if settings.pubmed_enabled else None
    today = clock_for(settings).today()
    try:
        now = utcnow()
        if ident is None:
            report = await check_due(
                db,
                papers,
                now,
                limit=settings.publication_check_batch,
                geocode=gazetteer_geocoder,
                today=today,
            )
            _print(report, None, as_json)
            return 1 if report.failed else 0
        async with db.read() as session:
            row = await trial_store.find_trial(session, ident[:80])
        if row is None or row.id is None:
            print(f"trialbot: no stored trial {ident!r}")
            return 1
        report = await check_trial(db, row.id, papers, now, geocode=gazetteer_geocoder, today=today)
        async with db.read() as session:
            current = await trial_store.current_trial_by_id(session, row.id)
        found = newest_first(current.publications or ()) if current else []
        _print(report, found, as_json)
        return 1 if report.failed else 0
    finally:
        if papers is not None:
            await papers.aclose()
        await db.dispose()


def _print(report: CheckReport, found: list[Publication] | None, as_json: bool) -> None:
    if as_json:
        payload: dict[str, Any] = {
            "looked": report.looked,
            "failed": report.failed,
            "new_results": report.new_results,
            "alerts_queued": report.alerts_queued,
            "errors": report.errors,
        }
        if found is not None:
            payload["publications"] = [publication_json(p) for p in found]
        print(json.dumps(payload, ensure_ascii=False))
        return
    print(
        f"looked at {report.looked} trial(s): {report.failed} failed, "
        f"{report.new_results} new results paper(s), {report.alerts_queued} alert(s) queued"
    )
    for error in report.errors:
        print(f"  FAILED: {error}")
    for pub in found or ():
        title = pub.title or pub.citation or pub.link or "?"
        print(f"  {pub.kind:<10} {pub.published or '-':<10} {title[:90]}")
        print(f"             {pub.link or '-'}  ({pub.reason}, found by {pub.found_by})")
