"""`trialbot doctor`: check an installation end to end and say what to fix.

Each check is independent and bounded in time, so one broken part (a dead registry, an
unreachable database) never hides the others. The doctor changes nothing: it does not run
migrations (it reports them) and does not create a missing SQLite file. The bot token and the
NCBI API key are never printed: Telegram errors are reported by host only, and every line is
scrubbed of both.

Exit code 0 when nothing failed (warnings allowed), 1 otherwise.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url

from trialbot.logs import error_line
from trialbot.settings import Settings, SettingsError

log = logging.getLogger(__name__)

MIN_FREE_BYTES = 500 * 1024 * 1024
DB_TIMEOUT_SECONDS = 10.0
NETWORK_TIMEOUT_SECONDS = 15.0
UPGRADE = "run `trialbot db upgrade` (the service also upgrades at start-up)"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False
    """ok but worth attention: shown with "!", does not change the exit code."""


def _fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, False, detail, fix)


def _warn(name: str, detail: str, fix: str) -> Check:
    return Check(name, True, detail, fix, warning=True)


def _sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for PostgreSQL or an in-memory database."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_settings(settings: Settings) -> list[Check]:
    """Settings parsed (else the CLI stopped earlier) and the optional ones left unset."""
    shown_db = make_url(settings.database_url).render_as_string(hide_password=True)
    hours = settings.poll_interval_seconds / 3600
    health = (
        "off"
        if settings.health_port == 0
        else f"http://{settings.health_host}:{settings.health_port}/healthz"
    )
    checks = [
        Check(
            "settings",
            True,
            f"database {shown_db}; polls every {hours:g} h; health endpoint {health}",
        )
    ]
    if not settings.admin_chat_ids:
        checks.append(
            _warn(
                "ADMIN_CHAT_IDS",
                "not set: nobody can use /stats or hears that a registry is failing",
                "set ADMIN_CHAT_IDS to your Telegram chat id (comma-separated for several)",
            )
        )
    if not settings.operator_contact:
        checks.append(
            _warn(
                "OPERATOR_CONTACT",
                "not set: /about tells users there is no contact",
                "set OPERATOR_CONTACT to how users can reach whoever runs this bot",
            )
        )
    if settings.health_port and not _is_loopback(settings.health_host):
        checks.append(
            _warn(
                "HEALTH_HOST",
                f"{settings.health_host}: /healthz and /metrics are reachable from other machines",
                "set HEALTH_HOST=127.0.0.1 and expose them through a proxy if needed",
            )
        )
    return checks


async def check_database(settings: Settings) -> Check:
    from storage.db import Database

    url = settings.database_url
    path = _sqlite_path(url)
    if path is None and make_url(url).get_backend_name() == "sqlite":
        return _warn(
            "database",
            "in-memory SQLite: nothing survives a restart",
            "set DATABASE_URL to a file (sqlite:///trialbot.db) or PostgreSQL",
        )
    if path is not None and not path.exists():
        return _fail("database", f"no SQLite file at {path}", f"{UPGRADE} to create it")
    db = Database(url)
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            await db.ping()
    except Exception as exc:
        where = str(path) if path is not None else "the PostgreSQL server"
        return _fail(
            "database",
            f"cannot connect to {where}: {error_line(exc)}",
            "check DATABASE_URL, that the server is running and accepts this user and host"
            if path is None
            else "check that the file is a SQLite database and readable by this user",
        )
    finally:
        await db.dispose()
    backend = "SQLite" if path is not None else "PostgreSQL"
    return Check("database", True, f"{backend} reachable")


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    from storage.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return {rev.revision for rev in script.walk_revisions()}


async def check_migrations(settings: Settings, database_ok: bool) -> Check:
    from storage.migrate import current_revision, head_revision

    if not database_ok:
        return _fail("migrations", "not checked: the database is unreachable", "fix it first")
    head = head_revision()
    try:
        current = await asyncio.to_thread(current_revision, settings.database_url)
    except Exception as exc:
        return _fail("migrations", f"cannot read the schema version: {error_line(exc)}", UPGRADE)
    if current == head:
        return Check("migrations", True, f"schema at head ({head})")
    if current is None:
        return _fail("migrations", f"the database has no schema (code expects {head})", UPGRADE)
    if current not in _known_revisions():
        return _fail(
            "migrations",
            f"the database is at {current}, which this trialbot does not know (head {head})",
            "a newer trialbot upgraded it: install that version again",
        )
    return _fail("migrations", f"the database is at {current}, code expects {head}", UPGRADE)


def check_disk(settings: Settings) -> Check | None:
    """Free space where the SQLite file grows (PostgreSQL's disk is not ours to see)."""
    path = _sqlite_path(settings.database_url)
    if path is None or not path.parent.exists():
        return None
    folder = path.parent.resolve()
    free = shutil.disk_usage(folder).free
    detail = f"{free / 1024**3:.1f} GB free in {folder}"
    if free < MIN_FREE_BYTES:
        return _warn("disk", detail, "free some space: SQLite stops writing when the disk fills")
    return Check("disk", True, detail)


async def check_telegram(settings: Settings) -> Check:
    """getMe with the configured token; errors name the host, never the token."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError
    from telegram.request import HTTPXRequest

    try:
        token = settings.bot_token
    except SettingsError:
        return _fail(
            "telegram",
            "TELEGRAM_BOT_TOKEN is not set",
            "ask @BotFather for a token and set TELEGRAM_BOT_TOKEN",
        )
    host = urlsplit(settings.telegram_api_base_url).netloc
    custom = settings.telegram_api_base_url != "https://api.telegram.org/bot"
    timeout = min(settings.http_timeout_seconds, NETWORK_TIMEOUT_SECONDS)
    request = HTTPXRequest(connect_timeout=timeout, read_timeout=timeout)
    bot = Bot(token, base_url=settings.telegram_api_base_url, request=request)
    try:
        async with asyncio.timeout(timeout * 2):
            me = await bot.get_me()
    except InvalidToken:
        also = " and that TELEGRAM_API_BASE_URL points at a Bot API server" if custom else ""
        return _fail(
            "telegram",
            f"the token was rejected by {host}",
            f"ask @BotFather for the bot's current token (/token){also}",
        )
    except (NetworkError, TimeoutError, OSError) as exc:
        return _fail(
            "telegram",
            f"cannot reach {host}: {error_line(exc)}",
            "check this machine's network access (and TELEGRAM_API_BASE_URL)",
        )
    except TelegramError as exc:
        return _fail("telegram", f"{host} answered: {error_line(exc)}", "try again later")
    finally:
        await request.shutdown()
    return Check("telegram", True, f"token accepted: @{me.username} (id {me.id})")


async def check_registries(settings: Settings) -> list[Check]:
    """Ask each registry for the smallest real answer it gives (`Registry.probe`), with one
    retry instead of the service's many."""
    from jobs.registries.catalog import build_registries

    quick = settings.model_copy(
        update={
            "http_max_retries": min(settings.http_max_retries, 1),
            "http_timeout_seconds": min(settings.http_timeout_seconds, NETWORK_TIMEOUT_SECONDS),
        }
    )
    checks = []
    for registry in build_registries(quick):
        name = f"registry {registry.name}"
        where = str(getattr(registry, "base_url", "")) or registry.name
        setting = registry.setting
        try:
            async with asyncio.timeout(NETWORK_TIMEOUT_SECONDS * 3):
                version = await registry.probe()
        except Exception as exc:
            checks.append(
                _fail(
                    name,
                    f"cannot read {where}: {error_line(exc)}",
                    f"check {setting} and this machine's network access; if the registry "
                    "itself is down, the service keeps retrying on its own",
                )
            )
            continue
        finally:
            await registry.aclose()
        checks.append(Check(name, True, f"reachable at {where}; data version {version or '-'}"))
    return checks


async def check_pubmed(settings: Settings) -> Check:
    """PubMed (results and publications of trials) like a registry: one small real answer
    (einfo), with one retry; a clear skipped line when PUBMED_ENABLED is false."""
    if not settings.pubmed_enabled:
        return Check(
            "pubmed",
            True,
            "skipped: PUBMED_ENABLED=false, so no trial's results or publications are looked up",
        )
    from jobs.publications.pubmed import PubMedClient

    quick = settings.model_copy(
        update={
            "http_max_retries": min(settings.http_max_retries, 1),
            "http_timeout_seconds": min(settings.http_timeout_seconds, NETWORK_TIMEOUT_SECONDS),
        }
    )
    client = PubMedClient.from_settings(quick)
    where = client.base_url
    try:
        async with asyncio.timeout(NETWORK_TIMEOUT_SECONDS * 3):
            info = await client.probe()
    except Exception as exc:
        also = " and NCBI_API_KEY" if settings.ncbi_api_key is not None else ""
        return _fail(
            "pubmed",
            f"cannot read {where}: {error_line(exc)}",
            f"check {client.setting}{also} and this machine's network access; if PubMed itself "
            "is down, the service keeps retrying on its own",
        )
    finally:
        await client.aclose()
    key = "with NCBI_API_KEY" if client.has_api_key else "without NCBI_API_KEY (3 requests/s)"
    return Check("pubmed", True, f"reachable at {where} {key}; {info or '-'}")


async def run_doctor(settings: Settings) -> list[Check]:
    """Every check, in the order an operator would fix them."""
    checks = check_settings(settings)
    database = await check_database(settings)
    checks.append(database)
    checks.append(await check_migrations(settings, database.ok and not database.warning))
    disk = check_disk(settings)
    if disk is not None:
        checks.append(disk)
    checks.append(await check_telegram(settings))
    checks.extend(await check_registries(settings))
    checks.append(await check_pubmed(settings))
    secrets = [
        secret.get_secret_value()
        for secret in (settings.telegram_bot_token, settings.ncbi_api_key)
        if secret is not None and secret.get_secret_value()
    ]
    for secret in secrets:
        checks = [
            replace(
                c,
                detail=c.detail.replace(secret, "[REDACTED]"),
                fix=c.fix.replace(secret, "[REDACTED]"),
            )
            for c in checks
        ]
    return checks


def format_checks(checks: list[Check]) -> str:
    """One line per check (✓ ok, ! warning, ✗ failed), the fix under it, then a summary."""
    lines = []
    for check in checks:
        mark = "✗" if not check.ok else ("!" if check.warning else "✓")
        lines.append(f"{mark} {check.name}: {check.detail}")
        if check.fix and (not check.ok or check.warning):
            lines.append(f"    fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    warned = sum(c.ok and c.warning for c in checks)
    warnings = f"{warned} warning{'s' if warned != 1 else ''}"
    if failed:
        problems = f"{failed} problem{'s' if failed != 1 else ''}"
        lines.append(
            f"\n{problems}, {warnings}: fix the ✗ lines, then run `trialbot doctor` again."
        )
    elif warned:
        lines.append(f"\nReady to run, with {warnings}.")
    else:
        lines.append("\nAll checks passed: ready to run.")
    return "\n".join(lines)


def exit_code(checks: list[Check]) -> int:
    return 0 if all(c.ok for c in checks) else 1


def doctor_command(settings: Settings) -> int:
    """What `trialbot doctor` runs: print the report, exit 1 if anything failed."""
    if settings.log_level != "DEBUG":
        logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    checks = asyncio.run(run_doctor(settings))
    print(format_checks(checks))
    return exit_code(checks)
