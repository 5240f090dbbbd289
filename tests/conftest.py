"""Shared fixtures: real databases (a SQLite file and PostgreSQL) and the recorded samples.

PostgreSQL: a database `trialbot_test_<pid>` is created on the server named by
TEST_POSTGRES_URL (default: the local one CI switches on) and dropped at the end. Without a
server the PostgreSQL variants are skipped, unless TRIALBOT_REQUIRE_POSTGRES=1 (set by CI),
which turns that into a failure so CI can never go green without them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from storage.db import Database
from storage.migrate import upgrade
from storage.tables import metadata

FIXTURES = Path(__file__).parent / "fixtures"
CTGOV = FIXTURES / "ctgov"
PG_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("TRIALBOT_REQUIRE_POSTGRES") == "1"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Code under test may reconfigure logging (the CLI does); undo it after each test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def study(name: str) -> dict[str, Any]:
    """A recorded or reconstructed study by file stem, e.g. 'NCT03545607__2019-08-13'."""
    for folder in ("reconstructed", "studies", "versions"):
        path = CTGOV / folder / f"{name}.json"
        if path.exists():
            data: dict[str, Any] = load_json(path)
            return data
    raise FileNotFoundError(name)


def all_recorded_studies() -> list[tuple[str, dict[str, Any]]]:
    """Every real (recorded, not reconstructed) study object in the fixtures."""
    found: list[tuple[str, dict[str, Any]]] = []
    for path in sorted(CTGOV.rglob("*.json")):
        if "reconstructed" in path.parts:
            continue
        data = load_json(path)
        items = data if isinstance(data, list) else data.get("studies", [data])
        found += [(f"{path.name}#{i}", item) for i, item in enumerate(items)]
    return found


def run_cli(
    args: list[str], env: dict[str, str], cwd: Path | str, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`trialbot ARGS` as a real process, the way a maintainer runs it."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={"PYTHONPATH": str(Path(__file__).resolve().parents[1])} | env,
        cwd=str(cwd),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _admin(url: str) -> psycopg.Connection[Any]:
    parsed = make_url(url)
    return psycopg.connect(
        host=parsed.host,
        port=parsed.port or 5432,
        user=parsed.username,
        dbname=parsed.database,
        autocommit=True,
        connect_timeout=3,
    )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    try:
        admin = _admin(PG_SERVER)
    except psycopg.OperationalError as exc:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL required but unreachable at {PG_SERVER}: {exc}")
        pytest.skip(f"no PostgreSQL at {PG_SERVER}")
    name = f"trialbot_test_{os.getpid()}"
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = make_url(PG_SERVER).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with _admin(PG_SERVER) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _truncate(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with _admin(url) as conn:
        conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'trialbot.db'}"
        upgrade(url)
        return url
    url = str(request.getfixturevalue("postgres_url"))
    _truncate(url)
    return url


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


async def aiosqlite_threads_stopped(timeout: float = 5.0) -> None:
    """Wait for aiosqlite's worker threads to end before the test's event loop closes.

    When a connection attempt fails, aiosqlite stops its thread without awaiting the stop
    (`Connection._connect` -> `stop()`): the thread later hands the result to the loop, and if
    the test's loop has closed by then the thread raises "Event loop is closed", which pytest
    reports against whichever test runs next. A service's loop outlives its threads; a test's
    does not.
    """
    deadline = time.monotonic() + timeout
    while any(
        "_connection_worker_thread" in thread.name and thread.is_alive()
        for thread in threading.enumerate()
    ):
        if time.monotonic() > deadline:
            return
        await asyncio.sleep(0.01)
