"""One service per database: a second `trialbot run` stops instead of fighting the first.

PostgreSQL: a session-level advisory lock held on a dedicated connection for the life of the
process. SQLite: an exclusive `flock` on `<database>.lock` beside the file. Both vanish when the
process dies, even by kill -9, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO, Any

import psycopg
from sqlalchemy.engine import make_url

from storage.db import is_sqlite

LOCK_KEY = 0x7472_6961_6C62  # "trialb"


class AlreadyRunning(RuntimeError):
    """Another instance holds the lock; the message says which database."""


class InstanceLock:
    def __init__(self, url: str) -> None:
        self.url = url
        self._file: IO[str] | None = None
        self._conn: Any = None

    def acquire(self) -> InstanceLock:
        parsed = make_url(self.url)
        if is_sqlite(parsed):
            path = Path(parsed.database or "trialbot.db").expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(f"{path}.lock", "a+")  # noqa: SIM115 - held for the process lifetime
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                raise AlreadyRunning(
                    f"another trialbot is already running on {path} (lock {path}.lock)"
                ) from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n")
            handle.flush()
            self._file = handle
            return self
        conn = psycopg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            autocommit=True,
        )
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        if not got or not got[0]:
            conn.close()
            where = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
            raise AlreadyRunning(f"another trialbot is already running on database {where}")
        self._conn = conn
        return self

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> InstanceLock:
        return self.acquire()

    def __exit__(self, *_: object) -> None:
        self.release()
