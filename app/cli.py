"""The `trialbot` command.

Every command that touches the database first brings its schema up to date, so an upgraded
install never runs against old tables.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from jobs.changes import summarise
from jobs.registries.catalog import REGISTRY_NAMES
from trialbot import __version__
from trialbot.logs import configure_logging
from trialbot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from storage.tables import TrialSourceRow
    from storage.trials import TrialHistory
    from trialbot.model import Trial
    from trialbot.publications import Publication

log = logging.getLogger("trialbot")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trialbot", description=__doc__)
    parser.add_argument("--version", action="version", version=f"trialbot {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    poll = sub.add_parser("poll", help="fetch new and changed trials from the registries")
    poll.add_argument("--once", action="store_true", help="poll once and exit")
    poll.add_argument(
        "--refresh", action="store_true", help="also re-fetch every stored trial by id now"
    )
    poll.add_argument("--json", action="store_true", help="print the report as JSON")

    sub.add_parser("run", help="the service: the Telegram bot and the scheduled registry polls")

    trials = sub.add_parser("trials", help="list stored stem-cell stroke trials")
    trials.add_argument("--json", action="store_true", help="one JSON object per line")
    trials.add_argument("--all", action="store_true", help="include trials no longer relevant")

    show = sub.add_parser("show", help="one trial: the normalised record and its change history")
    show.add_argument("id", help="registry id, e.g. NCT03545607 or ctgov:NCT03545607")
    show.add_argument("--json", action="store_true")

    preview = sub.add_parser("preview", help="print a trial's alert exactly as it would be sent")
    preview.add_argument("id", help="registry id, e.g. NCT03545607 or ctgov:NCT03545607")
    preview.add_argument("--lang", choices=["en", "es", "zh"], default="en")
    preview.add_argument(
        "--change", action="store_true", help="the change alert for the latest stored version"
    )

    parse = sub.add_parser(
        "parse", help="print the records of a saved registry answer as they are read (no storing)"
    )
    parse.add_argument("file", help="a saved answer: JSON, XML, CSV or zip")
    parse.add_argument("--registry", required=True, choices=list(REGISTRY_NAMES))
    parse.add_argument("--json", action="store_true", help="one normalised record per line")

    check = sub.add_parser(
        "check", help="check a text (an advert, a page) for warning signs, as the bot does"
    )
    check.add_argument("file", help="a text file, or - for standard input")
    check.add_argument("--lang", choices=["en", "es", "zh"], default=None)
    check.add_argument(
        "--json", action="store_true", help="verdict, red_flags, registry_ids, trials"
    )
    check.add_argument(
        "--offline", action="store_true", help="no live registry look-ups (stored trials only)"
    )

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])

    papers = sub.add_parser(
        "publications",
        help="look for trials' results and papers now (one trial, or those whose look is due)",
    )
    papers.add_argument("id", nargs="?", help="registry id; without it, the due trials")
    papers.add_argument("--json", action="store_true")

    sub.add_parser(
        "doctor",
        help="check settings, database, migrations, the bot token and the registries; "
        "says what to fix (changes nothing)",
    )
    return parser


def _prepare_database(settings: Settings) -> None:
    from storage.migrate import upgrade

    if settings.database_url.startswith("sqlite"):
        from pathlib import Path

        from sqlalchemy.engine import make_url

        path = make_url(settings.database_url).database
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url)


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        payload = report.counts() | {
            "registry": report.registry,
            "error": report.error,
            "new_ids": report.new_ids,
            "changed": [
                {
                    "id": t.uid,
                    "title": t.title,
                    "version": t.version,
                    "changes": [c.model_dump(mode="json") for c in t.changes],
                }
                for t in report.changed_trials
            ],
        }
        payload["changed_count"] = report.changed
        print(json.dumps(payload, ensure_ascii=False))
        return
    mb = report.bytes_received / 1_000_000
    head = (
        f"{report.registry} {report.mode}: fetched {report.fetched}, new {report.new}, "
        f"changed {report.changed}, unchanged {report.unchanged}, rejected {report.rejected}, "
        f"errors {report.errors}"
    )
    if report.mode == "refresh":
        head += f", missing {report.missing}"
    if report.swept:
        head += f"; swept without the date filter (the registry matches {report.matching})"
    print(f"{head} ({report.requests} requests, {mb:.2f} MB, {report.seconds:.1f} s)")
    if report.error:
        print(f"  FAILED: {report.error}")
    for uid in report.new_ids:
        print(f"  new {uid}")
    for trial in report.changed_trials:
        notable = [c for c in trial.changes if c.notable]
        print(f"  changed {trial.uid} (version {trial.version}): {trial.title}")
        for change in notable or trial.changes:
            print(f"    - {summarise(change)}")
        if not notable:
            print("    (no change a patient would notice)")


async def _poll(settings: Settings, once: bool, refresh: bool, as_json: bool) -> int:
    from datetime import timedelta

    from jobs import poll as poller
    from jobs.registries.catalog import build_registries
    from storage.db import Database

    if not once:
        from jobs.scheduler import run_poller

        await run_poller(settings)
        return 0
    db = Database(settings.database_url)
    registries = build_registries(settings)
    failed = False
    try:
        for registry in registries:
            report = await poller.poll(db, registry)
            _print_report(report, as_json)
            failed |= not report.ok
            older = (
                timedelta(0) if refresh else timedelta(seconds=settings.refresh_interval_seconds)
            )
            again = await poller.refresh(
                db, registry, older_than=older, batch_size=settings.refresh_batch_size
            )
            if refresh or again.fetched or again.error:
                _print_report(again, as_json)
            failed |= not again.ok
    finally:
        for registry in registries:
            await registry.aclose()
        await db.dispose()
    return 1 if failed else 0


def _run(settings: Settings) -> int:
    """The service; see app/service.py."""
    from app.service import run_service

    settings.bot_token  # noqa: B018 - fail now, with one line, if the token is missing
    return run_service(settings)


def _trial_line(row: Any, sources: list[Any]) -> dict[str, Any]:
    """One trial for `trials --json`; `sources` lists every registry record, primary first."""
    return {
        "id": row.registry_id,
        "registry": row.registry_name,
        "sources": [
            {
                "registry": s.registry_name,
                "id": s.registry_id,
                "url": s.url,
                "last_update": s.last_update,
            }
            for s in sorted(sources, key=lambda s: s.registry_id != row.registry_id)
        ],
        "title": row.title,
        "stem_cell": row.stem_cell_tier,
        "conditions": row.buckets,
        "stroke_phase": row.classification.get("stroke_phase"),
        "status": row.overall_status,
        "countries": row.countries,
        "last_update": row.last_update,
        "versions": row.current_version,
        "relevant": row.relevant,
        "first_seen": row.first_seen_at.isoformat(),
        "last_seen": row.last_seen_at.isoformat(),
    } | ({"merged_into": row.merged_into} if row.merged_into else {})


async def _trials(settings: Settings, as_json: bool, include_all: bool) -> int:
    from storage import trials as store
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            rows = await store.list_trials(session, relevant_only=not include_all)
            sources = await store.sources_of(session, [r.id for r in rows if r.id is not None])
    finally:
        await db.dispose()
    for row in rows:
        line = _trial_line(row, sources.get(row.id or 0, []))
        if as_json:
            print(json.dumps(line, ensure_ascii=False))
        else:
            print(
                f"{line['id']:<12} {line['stem_cell']:<10} {','.join(line['conditions']):<28} "
                f"{line['status'] or '-':<22} {','.join(line['countries'])[:20]:<20} "
                f"v{line['versions']} {line['title'][:60]}"
            )
    if not as_json:
        print(f"{len(rows)} trials")
    return 0


async def _stored_history(
    settings: Settings, ident: str
) -> tuple[TrialHistory, list[TrialSourceRow], tuple[Publication, ...], bool] | None:
    """A stored trial with its versions and changes, its registry records, its stored
    publications and whether they have been looked for yet; or None (after saying so)."""
    from storage import publications as stored_publications
    from storage import trials as store
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        async with db.read() as session:
            row = await store.find_trial(session, ident)
            if row is None or row.id is None:
                print(f"No stored trial {ident!r}. Try `trialbot trials` for the list.")
                return None
            papers = await stored_publications.of_trials(session, [row.id])
            return (
                await store.history(session, row),
                await store.record_sources(session, row),
                papers.get(row.id, ()),
                row.id in await stored_publications.looked(session, [row.id]),
            )
    finally:
        await db.dispose()


def _publications_json(
    trial: Trial, publications: Sequence[Publication], looked: bool, settings: Settings
) -> dict[str, Any]:
    """`show --json`: the stored publications newest first, whether the registry has posted
    results, and the month the trial ended when it is overdue (R8's rule), else null."""
    from app.publications import publication_json
    from bot.caveats import overdue_end
    from storage.trials import known_of
    from trialbot.clock import clock_for
    from trialbot.publications import newest_first

    known = known_of(trial, publications, looked=looked)
    listed = [publication_json(p) for p in newest_first(publications)]
    return {
        "publications": listed,
        "results_on_registry": known.registry_results,
        "overdue_since": overdue_end(trial, known, clock_for(settings).today()),
    }


async def _show(settings: Settings, ident: str, as_json: bool) -> int:
    from jobs.facts import facts_of
    from storage.trials import field_change, stored_facts
    from trialbot.model import Trial

    found = await _stored_history(settings, ident)
    if found is None:
        return 1
    hist, sources, publications, looked = found
    row = hist.trial
    by_version = [(v, [c for c in hist.changes if c.version_id == v.id]) for v in hist.versions]
    latest = hist.versions[-1]
    record = latest.snapshot
    trial = Trial.model_validate(record)
    facts = facts_of(trial, stored_facts(latest))
    if as_json:
        history = [
            {
                "version": v.version,
                "seen_at": v.seen_at.isoformat(),
                "last_update": v.last_update,
                "fingerprint": v.fingerprint,
                "changes": [
                    {
                        "field": c.field,
                        "kind": c.kind,
                        "notable": c.notable,
                        "old": c.old,
                        "new": c.new,
                    }
                    for c in changes
                ],
            }
            for v, changes in by_version
        ]
        out = _trial_line(row, sources) | {
            "classification": row.classification,
            "facts": facts.to_json(),
            "record": record,
            "history": history,
        }
        out |= _publications_json(trial, publications, looked, settings)
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    print(f"{row.registry_name}:{row.registry_id}  {row.title}")
    print(f"  {record.get('url')}")
    for other in sources:
        if (other.registry_name, other.registry_id) != (row.registry_name, row.registry_id):
            print(f"  also {other.registry_name}:{other.registry_id}  {other.url}")
    phases = ", ".join(record.get("phases") or []) or "-"
    print(
        f"  status {row.overall_status}; stem-cell tier {row.stem_cell_tier}; "
        f"stroke {', '.join(row.buckets) or '-'}; phase {phases}"
    )
    print(f"  countries {', '.join(row.countries) or '-'}; sites {len(record.get('sites') or [])}")
    print(f"  why classified: {'; '.join(row.classification.get('reasons', [])[:6])}")
    print("  facts (what the record states, and where):")
    shown = facts.to_json()
    for key, evidence in facts.evidence.items():
        print(f"    {key}: {json.dumps(shown[key], ensure_ascii=False)}  <- {evidence}")
    print("  history:")
    for v, changes in by_version:
        print(
            f"    v{v.version} seen {v.seen_at.isoformat()[:19]} (registry update {v.last_update})"
        )
        for c in changes:
            print(f"      {'*' if c.notable else ' '} {summarise(field_change(c))}")
    return 0


def _rendered_lines(rendered: Any) -> str:
    """The HTML text, then one `[text](url or callback data)` line per button."""
    buttons = [f"[{b.text}]({b.url or b.callback_data})" for row in rendered.buttons for b in row]
    return "\n".join([rendered.text, "", *buttons]) if buttons else rendered.text


async def _preview(settings: Settings, ident: str, lang: str, change: bool) -> int:
    """The alert for a stored trial as an "anywhere" subscription would receive it."""
    from bot.render import render_change, render_new_trial
    from jobs.facts import facts_of
    from storage.trials import known_of, stored_trial
    from trialbot.matching import Match, SubscriptionFilter, sites_in_region

    found = await _stored_history(settings, ident)
    if found is None:
        return 1
    hist, _, publications, looked = found
    row = hist.trial
    latest = hist.versions[-1]
    stored = stored_trial(row, latest, (c for c in hist.changes if c.version_id == latest.id))
    trial, verdict = stored.trial, stored.verdict
    known = known_of(trial, publications, looked=looked)
    facts = facts_of(trial, stored.facts)
    anywhere = SubscriptionFilter(id=0)
    matches = [Match(anywhere, sites_in_region(trial.sites, anywhere))]
    if not change:
        rendered_new = render_new_trial(trial, verdict, matches, lang, facts=facts, known=known)
        print(_rendered_lines(rendered_new))
        return 0
    if len(hist.versions) < 2:
        print(f"{row.registry_id} has one stored version: nothing has changed yet.")
        return 0
    rendered = render_change(
        trial, verdict, stored.changes, matches, lang, facts=facts, known=known
    )
    if rendered is None:
        print(
            f"Version {latest.version} of {row.registry_id} has no change a patient would "
            "notice: no alert would be sent."
        )
        return 0
    print(_rendered_lines(rendered))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"trialbot: {exc}", file=sys.stderr)
        return 2
    secrets = [
        secret.get_secret_value()
        for secret in (
            settings.telegram_bot_token,
            settings.webhook_secret_token,
            settings.ncbi_api_key,
        )
        if secret is not None
    ]
    configure_logging(settings.log_level, settings.log_format, secrets)
    if settings.log_level != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        if args.command == "parse":  # reads a file only: no database
            from pathlib import Path

            from app.parse import parse_command

            return parse_command(Path(args.file), args.registry, args.json)
        if args.command == "check":  # reads a text; looks trials up, migrates nothing
            from app.check import check_command

            return check_command(settings, args.file, args.lang, args.json, args.offline)
        if args.command == "doctor":  # before the upgrade below: it reports migrations
            from app.doctor import doctor_command

            return doctor_command(settings)
        if args.command == "db":
            from storage.migrate import current_revision, head_revision

            if args.action == "upgrade":
                _prepare_database(settings)
            print(f"schema {current_revision(settings.database_url)} (head {head_revision()})")
            return 0
        if args.command == "run":
            settings.bot_token  # noqa: B018 - one clear line before touching the database
        _prepare_database(settings)
        if args.command == "run":
            return _run(settings)
        if args.command == "poll":
            return asyncio.run(_poll(settings, args.once, args.refresh, args.json))
        if args.command == "trials":
            return asyncio.run(_trials(settings, args.json, args.all))
        if args.command == "show":
            return asyncio.run(_show(settings, args.id, args.json))
        if args.command == "preview":
            return asyncio.run(_preview(settings, args.id, args.lang, args.change))
        if args.command == "publications":
            from app.publications import publications_command

            return asyncio.run(publications_command(settings, args.id, args.json))
    except SettingsError as exc:
        print(f"trialbot: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        log.exception("trialbot %s failed", args.command)
        print(f"trialbot: {args.command} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
