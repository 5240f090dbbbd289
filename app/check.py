"""`trialbot check FILE|-`: the bot's answer to a text (an advert, a page, a forwarded message),
from the command line; `--json` for the machine-readable form.

Trials the text names are looked up like the bot does: in the configured database when it is
there (a missing SQLite file is not created, an unreachable server is skipped), then live in
the registries unless `--offline`.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import sys
from pathlib import Path
from typing import Any

from bot.handlers.claims import render_check
from jobs.lookup import TrialLookup, look_up
from jobs.registries.base import Registry
from jobs.registries.catalog import build_registries
from storage.db import Database, is_sqlite
from trialbot.claims import ClaimCheck, check
from trialbot.settings import Settings

_TAG = re.compile(r"<[^>]+>")


def as_json(result: ClaimCheck, lookups: list[TrialLookup]) -> dict[str, Any]:
    """Exactly the documented shape: verdict, red_flags, registry_ids, trials."""
    return {
        "verdict": result.verdict,
        "red_flags": [{"flag": f.flag, "quote": f.quote} for f in result.red_flags],
        "registry_ids": list(result.registry_ids),
        "trials": [{"id": t.id, "found": t.found, "status": t.status} for t in lookups],
    }


def plain(answer: str) -> str:
    """The bot's HTML answer as terminal text."""
    return html.unescape(_TAG.sub("", answer))


def _database(settings: Settings) -> Database | None:
    url = settings.database_url
    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if not path or path == ":memory:" or not Path(path).expanduser().exists():
            return None
    return Database(url)


async def _lookups(settings: Settings, ids: list[str], offline: bool) -> list[TrialLookup]:
    if not ids:
        return []
    db = _database(settings)
    registries: list[Registry] = [] if offline else build_registries(settings)
    try:
        return await look_up(ids, db, registries)
    finally:
        for registry in registries:
            await registry.aclose()
        if db is not None:
            await db.dispose()


def check_command(
    settings: Settings, source: str, lang: str | None, as_json_output: bool, offline: bool
) -> int:
    """0 when the text was read and checked, 1 when it could not be read."""
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        print(f"trialbot: cannot read {source}: {exc}", file=sys.stderr)
        return 1
    result = check(text, lang)
    lookups = asyncio.run(_lookups(settings, list(result.registry_ids), offline))
    if as_json_output:
        print(json.dumps(as_json(result, lookups), ensure_ascii=False))
    else:
        print(plain(render_check(result, lookups, lang or result.language)))
    return 0
