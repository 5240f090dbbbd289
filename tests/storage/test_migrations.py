"""The schema comes from Alembic alone and round-trips on both databases."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from storage.db import is_sqlite, sync_url
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.tables import metadata


def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    assert current_revision(database_url) == head_revision()
    downgrade(database_url, "base")
    assert current_revision(database_url) is None
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    try:
        inspector = inspect(engine)
        for table in metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_telegram_ids_are_64_bit(database_url: str) -> None:
    engine = create_engine(sync_url(database_url))
    try:
        column = next(c for c in inspect(engine).get_columns("chat") if c["name"] == "chat_id")
        assert "BIGINT" in str(column["type"]).upper()
    finally:
        engine.dispose()


def test_sqlite_file_uses_wal(database_url: str) -> None:
    if not is_sqlite(database_url):
        return
    with sqlite3.connect(str(make_url(database_url).database)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
