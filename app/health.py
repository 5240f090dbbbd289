"""`/healthz` and `/metrics` over plain HTTP, for monitors and Prometheus.

A few dozen lines on `asyncio.start_server` instead of a web framework: two GET routes do not
justify a dependency, and the server shares the service's event loop and database engine.
It listens on HEALTH_HOST:HEALTH_PORT (127.0.0.1:8080 by default; HEALTH_PORT=0 turns it off)
because the answers describe the deployment; put a proxy in front to expose it.

`/healthz` answers 200 when healthy and 503 when not, always with a JSON body saying why.
Unhealthy means any of:
- the database cannot be reached (within DB_TIMEOUT_SECONDS);
- a registry's last successful poll is older than `stale_after()`, i.e.
  max(3 x POLL_INTERVAL_SECONDS, 1 hour). A registry never polled successfully gets the same
  grace period counted from the server's start, so a fresh install or a restart is not
  reported unhealthy before its first poll could have run;
- the oldest alert waiting to be sent (status `pending`) is older than OUTBOX_MAX_AGE_SECONDS.
  Alerts held for a digest wait on purpose and do not count.

Both routes refresh the `trialbot_outbox_backlog` and `trialbot_last_poll_success_timestamp_seconds`
gauges from the database. The server never
lets a client hurt the service: requests are capped at MAX_REQUEST_BYTES and
REQUEST_TIMEOUT_SECONDS, garbage gets a 400, a client that goes away is ignored, and at most
MAX_CONNECTIONS are served at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from trialbot import metrics
from trialbot.logs import error_line
from trialbot.settings import Settings

if TYPE_CHECKING:  # trialbot/ imports storage/ only lazily (docs/decisions.md, Layout)
    from sqlmodel.ext.asyncio.session import AsyncSession

    from storage.db import Database
    from storage.outbox import Backlog
    from storage.tables import PollStateRow

log = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 8192
"""Request line plus headers; a GET needs far less."""
REQUEST_TIMEOUT_SECONDS = 5.0
DB_TIMEOUT_SECONDS = 5.0
MAX_CONNECTIONS = 32
MIN_STALE_SECONDS = 3600
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    431: "Request Header Fields Too Large",
    503: "Service Unavailable",
}
_JSON = "application/json; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"


def stale_after(settings: Settings) -> float:
    """Seconds after which a registry's last successful poll makes the service unhealthy."""
    return float(max(3 * settings.poll_interval_seconds, MIN_STALE_SECONDS))


async def _read_state(session: AsyncSession, now: datetime) -> tuple[list[PollStateRow], Backlog]:
    """Poll state and outbox backlog, also copied into the gauges.

    LAST_POLL_SUCCESS is set from the database too, so a restarted service reports it before
    its first poll.
    """
    from storage import outbox, poll_state

    states = await poll_state.all_states(session)
    backlog = await outbox.backlog(session, now)
    for status in ("pending", "held", "sending", "failed"):
        metrics.OUTBOX_BACKLOG.labels(status).set(getattr(backlog, status))
    for state in states:
        if state.last_success_at is not None:
            metrics.LAST_POLL_SUCCESS.labels(state.registry_name).set(
                state.last_success_at.timestamp()
            )
    return states, backlog


async def health_report(
    settings: Settings,
    db: Database,
    registries: list[str],
    *,
    started_at: datetime,
    now: datetime | None = None,
) -> tuple[bool, dict[str, Any]]:
    """(healthy, JSON body) as /healthz serves it; also refreshes the backlog gauges."""
    now = now or datetime.now(UTC)
    limit = stale_after(settings)
    body: dict[str, Any] = {"status": "ok", "checked_at": now.isoformat()}
    try:
        async with asyncio.timeout(DB_TIMEOUT_SECONDS):
            await db.ping()
            async with db.read() as session:
                rows, backlog = await _read_state(session, now)
    except Exception as exc:
        error = error_line(exc)
        log.warning("health check: database unreachable: %s", error)
        body["status"] = "unhealthy"
        body["database"] = {"ok": False, "error": error}
        body["registries"] = {
            name: {
                "last_success": None,
                "age_seconds": None,
                "consecutive_failures": None,
                "last_failure_reason": None,
                "ok": False,
            }
            for name in registries
        }
        body["outbox"] = {"ok": False}
        return False, body
    states = {row.registry_name: row for row in rows}
    healthy = True
    body["database"] = {"ok": True}
    body["registries"] = {}
    for name in registries:
        state = states.get(name)
        success = state.last_success_at if state is not None else None
        age = (now - success).total_seconds() if success is not None else None
        # Never polled successfully: healthy for the same grace period from our start.
        ok = (age if age is not None else (now - started_at).total_seconds()) <= limit
        healthy &= ok
        body["registries"][name] = {
            "last_success": success.isoformat() if success is not None else None,
            "age_seconds": round(age, 1) if age is not None else None,
            "consecutive_failures": state.consecutive_failures if state is not None else 0,
            "last_failure_reason": state.last_failure_reason if state is not None else None,
            "ok": ok,
        }
    oldest = backlog.oldest_pending_seconds
    outbox_ok = oldest is None or oldest <= settings.outbox_max_age_seconds
    healthy &= outbox_ok
    body["outbox"] = {
        "pending": backlog.pending,
        "held": backlog.held,
        "sending": backlog.sending,
        "failed": backlog.failed,
        "oldest_pending_seconds": round(oldest, 1) if oldest is not None else None,
        "ok": outbox_ok,
    }
    body["publications"] = await _publications(settings, db, now)
    body["status"] = "ok" if healthy else "unhealthy"
    return healthy, body


PUBLICATIONS_LATE = timedelta(days=1)


async def _publications(settings: Settings, db: Database, now: datetime) -> dict[str, Any]:
    """How the publications job keeps up. Reported, never part of the overall status: a dead
    PubMed delays the "Results are out" news but stops nothing else (the job retries it)."""
    from storage import publications

    try:
        async with db.read() as session:
            found = await publications.stats(session, now, PUBLICATIONS_LATE)
    except Exception as exc:
        return {"ok": False, "error": error_line(exc)}
    metrics.PUBLICATION_LOOKS_OVERDUE.set(found.overdue)
    if found.last_checked_at is not None:
        metrics.LAST_PUBLICATION_LOOK.set(found.last_checked_at.timestamp())
    return {
        "pubmed_enabled": settings.pubmed_enabled,
        "trials_scheduled": found.trials_scheduled,
        "looks_overdue": found.overdue,
        "last_look_failed": found.failing,
        "last_look_at": found.last_checked_at.isoformat() if found.last_checked_at else None,
        "papers": found.publications,
        "ok": found.overdue == 0 and found.failing == 0,
    }


class HealthServer:
    """The running endpoint; `close()` stops listening and drops open connections."""

    def __init__(
        self, settings: Settings, db: Database, registries: list[str], started_at: datetime
    ) -> None:
        self.settings = settings
        self.db = db
        self.registries = list(registries)
        self.started_at = started_at
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.Task[Any]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None and self._server.sockets
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(
            self._serve, host, port, limit=MAX_REQUEST_BYTES, reuse_address=True
        )

    async def close(self) -> None:
        if self._server is None:
            return
        self._server.close()
        for task in list(self._clients):
            task.cancel()
        if self._clients:
            await asyncio.gather(*self._clients, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._server.wait_closed()
        self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        busy = len(self._clients) >= MAX_CONNECTIONS
        if task is not None:
            self._clients.add(task)
        try:
            if busy:
                await _respond(writer, 503, _TEXT, b"busy\n")
                return
            status, content_type, payload, extra = await self._answer(reader)
            if status:
                await _respond(writer, status, content_type, payload, extra)
            if status in (400, 431):
                await _discard_input(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away; nothing to tell it
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("health endpoint: request failed")
            with contextlib.suppress(Exception):
                await _respond(writer, 503, _TEXT, b"internal error\n")
        finally:
            if task is not None:
                self._clients.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, str, bytes, dict[str, str]]:
        """Read one request and route it; status 0 means close without answering."""
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):
                lines = await _read_head(reader)
        except TimeoutError:
            return 0, "", b"", {}
        except ValueError:  # a line longer than the stream limit
            return 431, _TEXT, b"request too large\n", {}
        if lines is None:
            return 0, "", b"", {}
        if isinstance(lines, int):
            return lines, _TEXT, b"request too large\n", {}
        parts = lines[0].decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            return 400, _TEXT, b"bad request\n", {}
        method, target = parts[0], parts[1]
        path = urlsplit(target).path
        if path not in ("/healthz", "/metrics"):
            return 404, _TEXT, b"not found\n", {}
        if method != "GET":
            return 405, _TEXT, b"method not allowed\n", {"Allow": "GET"}
        if path == "/metrics":
            await self._refresh_gauges()
            return 200, CONTENT_TYPE_LATEST, generate_latest(metrics.REGISTRY), {}
        healthy, body = await health_report(
            self.settings, self.db, self.registries, started_at=self.started_at
        )
        payload = json.dumps(body, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"
        return (200 if healthy else 503), _JSON, payload, {}

    async def _refresh_gauges(self) -> None:
        """Gauges kept in the database are read at scrape time; a dead database is skipped."""
        try:
            async with asyncio.timeout(DB_TIMEOUT_SECONDS), self.db.read() as session:
                await _read_state(session, datetime.now(UTC))
        except Exception as exc:
            log.warning("metrics: could not read the outbox backlog: %s", error_line(exc))


async def _read_head(reader: asyncio.StreamReader) -> list[bytes] | int | None:
    """Request line and header lines; None if the client sent nothing, 431 if too large."""
    lines: list[bytes] = []
    total = 0
    while True:
        line = await reader.readline()
        if not line:
            return None  # EOF before the blank line: nothing worth answering
        total += len(line)
        if total > MAX_REQUEST_BYTES:
            return 431
        if line in (b"\r\n", b"\n"):
            return lines if lines else None
        lines.append(line)


async def _discard_input(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Read (briefly, boundedly) what a rejected client is still sending before closing.

    Closing a socket with unread input makes the kernel reset the connection, and the client
    may then lose the error answer it was just sent.
    """
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(1.0):
            for _ in range(16):
                if not await reader.read(65536):
                    break


async def _respond(
    writer: asyncio.StreamWriter,
    status: int,
    content_type: str,
    payload: bytes,
    extra: dict[str, str] | None = None,
) -> None:
    headers = {
        "Content-Type": content_type,
        "Content-Length": str(len(payload)),
        "Cache-Control": "no-store",
        "Connection": "close",
        **(extra or {}),
    }
    head = f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    writer.write(head.encode("latin-1") + b"\r\n" + payload)
    await writer.drain()


async def start_health_server(
    settings: Settings,
    db: Database,
    *,
    registries: list[str],
    port: int | None = None,
) -> HealthServer | None:
    """Start serving on HEALTH_HOST:HEALTH_PORT; None when HEALTH_PORT is 0 (turned off).

    `port` overrides the setting (tests pass 0 for any free port). A port already in use
    raises OSError: the service should stop with that message rather than run unmonitored.
    """
    if port is None:
        if settings.health_port == 0:
            log.info("health endpoint off (HEALTH_PORT=0)")
            return None
        port = settings.health_port
    server = HealthServer(settings, db, registries, datetime.now(UTC))
    await server.start(settings.health_host, port)
    log.info(
        "health endpoint on http://%s:%d/healthz and /metrics", settings.health_host, server.port
    )
    return server
