"""The health endpoint over real HTTP against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from app import health
from app.health import HealthServer, health_report, start_health_server
from jobs.classify import classify
from jobs.poll import verdict_of
from jobs.registries.ctgov_record import normalise
from storage import chats, outbox, poll_state
from storage import trials as trial_store
from storage.db import Database
from tests.conftest import aiosqlite_threads_stopped
from tests.jobs.helpers import oldest_snapshots
from trialbot.settings import Settings, load_settings


def make_settings(db: Database, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db.url,
        "poll_interval_seconds": 3600,
        "outbox_max_age_seconds": 1800,
    }
    return load_settings(**(values | overrides))


@pytest.fixture
async def server(db: Database) -> AsyncIterator[HealthServer]:
    started = await start_health_server(make_settings(db), db, registries=["ctgov"], port=0)
    assert started is not None
    yield started
    await started.close()


async def get(server: HealthServer, path: str, method: str = "GET") -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        return await client.request(method, path)


async def raw(server: HealthServer, data: bytes, *, close: bool = True) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(data)
    await writer.drain()
    if close:
        writer.write_eof()
    answer = await asyncio.wait_for(reader.read(), timeout=10)
    writer.close()
    return answer


async def succeed(db: Database, at: datetime, fetched: int = 3) -> None:
    async with db.write() as session:
        await poll_state.record_success(
            session,
            "ctgov",
            watermark=at.date(),
            data_version="v",
            counts={"mode": "incremental", "skipped": False, "fetched": fetched},
            now=at,
        )


async def queue_alert(db: Database, created: datetime) -> None:
    """A pending alert created at `created`, for a real chat and a real stored trial."""
    trial = normalise(oldest_snapshots()[0])
    result = classify(trial)
    async with db.write() as session:
        await chats.ensure_chat(session, 42, chat_type="private", language="en")
        ((row, version),) = await trial_store.insert_trials(
            session, [trial_store.Observation.of(trial, verdict_of(result))]
        )
        assert row.id is not None and version.id is not None
        queued = await outbox.enqueue(
            session, [outbox.AlertIn(42, row.id, version.id, "new")], now=created
        )
        assert queued == 1


async def test_fresh_install_is_healthy_during_the_grace_period(server: HealthServer) -> None:
    answer = await get(server, "/healthz")
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "ok" and body["database"] == {"ok": True}
    assert body["registries"]["ctgov"] == {
        "last_success": None,
        "age_seconds": None,
        "consecutive_failures": 0,
        "last_failure_reason": None,
        "ok": True,
    }
    assert body["outbox"] == {
        "pending": 0,
        "held": 0,
        "sending": 0,
        "failed": 0,
        "oldest_pending_seconds": None,
        "ok": True,
    }


async def test_healthy_then_stale_poll_then_old_outbox(server: HealthServer, db: Database) -> None:
    now = datetime.now(UTC)
    await succeed(db, now - timedelta(minutes=10))
    body = (await get(server, "/healthz")).json()
    assert body["status"] == "ok"
    assert 590 < body["registries"]["ctgov"]["age_seconds"] < 700

    # Older than max(3 x 1 h, 1 h) = 3 h, with a failure on top: unhealthy, and says why.
    await succeed(db, now - timedelta(hours=4))
    async with db.write() as session:
        await poll_state.record_failure(session, "ctgov", "ctgov GET /version: HTTP 503")
    answer = await get(server, "/healthz")
    assert answer.status_code == 503
    entry = answer.json()["registries"]["ctgov"]
    assert entry["ok"] is False and entry["consecutive_failures"] == 1
    assert entry["last_failure_reason"] == "ctgov GET /version: HTTP 503"
    assert entry["last_success"].startswith((now - timedelta(hours=4)).date().isoformat())

    await succeed(db, now)
    assert (await get(server, "/healthz")).status_code == 200

    await queue_alert(db, now - timedelta(hours=1))  # limit in these settings: 30 minutes
    answer = await get(server, "/healthz")
    assert answer.status_code == 503
    box = answer.json()["outbox"]
    assert box["pending"] == 1 and box["ok"] is False
    assert box["oldest_pending_seconds"] > 3500
    assert answer.json()["registries"]["ctgov"]["ok"] is True


async def test_young_pending_alert_is_fine_and_updates_the_gauges(
    server: HealthServer, db: Database
) -> None:
    now = datetime.now(UTC)
    await succeed(db, now)
    await queue_alert(db, now - timedelta(minutes=1))
    answer = await get(server, "/healthz")
    assert answer.status_code == 200 and answer.json()["outbox"]["pending"] == 1
    metrics = (await get(server, "/metrics")).text
    assert 'trialbot_outbox_backlog{status="pending"} 1.0' in metrics


async def test_never_polled_registry_turns_unhealthy_after_the_grace_period(
    db: Database,
) -> None:
    now = datetime.now(UTC)
    settings = make_settings(db)
    long_ago = now - timedelta(hours=health.stale_after(settings) / 3600 + 1)
    healthy, body = await health_report(settings, db, ["ctgov"], started_at=long_ago)
    assert not healthy and body["registries"]["ctgov"]["ok"] is False
    healthy, _ = await health_report(settings, db, ["ctgov"], started_at=now)
    assert healthy


async def test_unreachable_database_is_503(tmp_path: Any) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "x.db"
    db = Database(f"sqlite:///{missing}")
    settings = load_settings(database_url=db.url)
    server = await start_health_server(settings, db, registries=["ctgov"], port=0)
    assert server is not None
    try:
        answer = await get(server, "/healthz")
        assert answer.status_code == 503
        body = answer.json()
        assert body["status"] == "unhealthy" and body["database"]["ok"] is False
        assert body["database"]["error"]
        assert body["registries"]["ctgov"]["ok"] is False
        # /metrics still answers without the database.
        assert (await get(server, "/metrics")).status_code == 200
    finally:
        await server.close()
        await db.dispose()
        await aiosqlite_threads_stopped()


async def test_metrics_in_prometheus_format(server: HealthServer) -> None:
    answer = await get(server, "/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    text = answer.text
    for name in (
        "# TYPE trialbot_polls_total counter",
        "# TYPE trialbot_alerts_sent_total counter",
        "# TYPE trialbot_send_latency_seconds histogram",
        "# TYPE trialbot_outbox_backlog gauge",
        "trialbot_telegram_429_total",
    ):
        assert name in text


async def test_unknown_paths_and_methods(server: HealthServer) -> None:
    assert (await get(server, "/")).status_code == 404
    assert (await get(server, "/healthz/../etc")).status_code == 404
    assert (await get(server, "/healthz?verbose=1")).status_code in (200, 503)
    answer = await get(server, "/healthz", method="POST")
    assert answer.status_code == 405 and answer.headers["allow"] == "GET"
    assert (await get(server, "/metrics", method="DELETE")).status_code == 405


async def test_garbage_oversized_and_vanishing_clients_do_not_kill_it(
    server: HealthServer,
) -> None:
    assert (await raw(server, b"\x16\x03\x01\x02\x00garbage\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    assert (await raw(server, b"GET /healthz\r\n\r\n")).startswith(b"HTTP/1.1 400 ")
    huge = b"GET /healthz HTTP/1.1\r\n" + b"X-Pad: " + b"a" * 20_000 + b"\r\n\r\n"
    assert (await raw(server, huge)).startswith(b"HTTP/1.1 431 ")
    many = b"GET /healthz HTTP/1.1\r\n" + b"X-Pad: aaaaaaaaaa\r\n" * 1000 + b"\r\n"
    assert (await raw(server, many)).startswith(b"HTTP/1.1 431 ")
    assert await raw(server, b"") == b""  # connects and says nothing
    assert await raw(server, b"GET /hea") == b""  # hangs up mid-request
    # Disconnect without reading the answer.
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /metrics HTTP/1.1\r\n\r\n")
    writer.close()
    # A bare-LF request (netcat style) is fine.
    assert (await raw(server, b"GET /metrics HTTP/1.0\n\n")).startswith(b"HTTP/1.1 200 ")
    assert (await get(server, "/healthz")).status_code == 200


async def test_slow_client_is_dropped_and_close_is_prompt(
    server: HealthServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "REQUEST_TIMEOUT_SECONDS", 0.2)
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(b"GET /healthz HTTP/1.1\r\n")  # never finishes the headers
    assert await asyncio.wait_for(reader.read(), timeout=5) == b""
    writer.close()
    idle = await asyncio.open_connection("127.0.0.1", server.port)
    await asyncio.sleep(0.05)
    await asyncio.wait_for(server.close(), timeout=2)
    idle[1].close()


async def test_port_zero_setting_turns_it_off(db: Database) -> None:
    settings = make_settings(db, health_port=0)
    assert await start_health_server(settings, db, registries=["ctgov"]) is None


async def test_publication_looks_are_reported_and_never_make_the_service_unhealthy(
    server: HealthServer, db: Database
) -> None:
    from storage import publications
    from trialbot.publications import Publication

    now = datetime.now(UTC)
    await succeed(db, now - timedelta(minutes=10))
    trial = normalise(oldest_snapshots()[0])
    async with db.write() as session:
        ((row, _),) = await trial_store.insert_trials(
            session, [trial_store.Observation.of(trial, verdict_of(classify(trial)))]
        )
        assert row.id is not None
        await publications.record(
            session,
            row.id,
            [Publication(kind="results", reason="trial_type", found_by="pubmed_si", pmid="1")],
        )
        await publications.checked(session, row.id, now, now + timedelta(days=7))
    body = (await get(server, "/healthz")).json()
    section = body["publications"]
    assert section["trials_scheduled"] == 1 and section["papers"] == {"results": 1}
    assert (section["looks_overdue"], section["last_look_failed"], section["ok"]) == (0, 0, True)

    # PubMed failing, and a look two days late: reported, the service stays healthy
    async with db.write() as session:
        await publications.checked(
            session, row.id, now, now - timedelta(days=2), "pubmed GET /esearch.fcgi: HTTP 503"
        )
    answer = await get(server, "/healthz")
    section = answer.json()["publications"]
    assert (section["looks_overdue"], section["last_look_failed"], section["ok"]) == (1, 1, False)
    assert answer.status_code == 200 and answer.json()["status"] == "ok"
    metrics_text = (await get(server, "/metrics")).text
    assert "trialbot_publication_looks_overdue 1.0" in metrics_text
