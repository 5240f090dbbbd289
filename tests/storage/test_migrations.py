"""The schema comes from Alembic alone and round-trips on both databases."""

from __future__ import annotations

import ast
import importlib.util
import sqlite3
from pathlib import Path
from types import ModuleType

import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy import text as sql_text
from sqlalchemy.engine import make_url

import storage
from jobs.registries.ctgov_record import normalise
from storage.db import configure_sqlite, is_sqlite, sync_url
from storage.migrate import current_revision, downgrade, head_revision, upgrade
from storage.tables import metadata
from tests.conftest import all_recorded_studies, study
from trialbot.identifiers import link_keys
from trialbot.model import SecondaryId


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


MIGRATIONS = Path(storage.__file__).parent / "migrations" / "versions"
PROJECT_PACKAGES = {"trialbot", "storage", "jobs", "bot", "app"}


def _migration(stem: str) -> ModuleType:
    path = MIGRATIONS / f"{stem}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("*.py")), ids=lambda p: p.stem)
def test_migrations_import_no_live_project_code(path: Path) -> None:
    """Replaying a migration on an old database must give the same data whatever the live
    code has become since, so a migration carries its own copy of what it needs."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
    assert not imported & PROJECT_PACKAGES, f"{path.name} imports {imported & PROJECT_PACKAGES}"


_IDS_IN_TEXT = (
    "NCT03545607 ISRCTN-12345678 EUCTR2015-001234-12-GB 2024-520423-88-00 JPRN-jRCTb050190051 "
    "ChiCTR-IOR-17012345 ChiCTR2000031319 CTRI/2020/01/022345 ACTRN12620000123456 "
    "DRKS00012345 JPRN-UMIN000012345 KCT0001234 IRCT20200101045678N1"
)


def test_the_frozen_link_keys_of_0004_agree_with_todays_rules() -> None:
    """Checked while both exist: migration 0004's copy gives what `link_keys` gives today, on
    every recorded record and on records naming every kind of id in every place."""
    frozen = _migration("0004_trial_sources_and_keys")._link_keys
    trials = [normalise(raw) for _, raw in all_recorded_studies()]
    base = normalise(study("NCT03545607__2019-08-13"))
    for text in _IDS_IN_TEXT.split():
        trials.append(
            base.model_copy(
                update={
                    "summary": f"Follows {_IDS_IN_TEXT}.",
                    "official_title": f"Also known as {text}",
                    "aliases": (text,),
                    "secondary_ids": (SecondaryId(id=text), SecondaryId(id="local-7")),
                }
            )
        )
        trials.append(base.model_copy(update={"registry": "ictrp", "registry_id": text}))
    assert len(trials) > 200
    for trial in trials:
        assert frozen(trial.snapshot()) == link_keys(trial), trial.registry_id


def _rows(url: str, sql: str, **params: object) -> list[tuple[object, ...]]:
    engine = create_engine(sync_url(url))
    if is_sqlite(url):
        configure_sqlite(engine)  # foreign keys on, as the service runs
    try:
        with engine.begin() as conn:
            result = conn.execute(sql_text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def _add(url: str, chat_id: int, label: str) -> int:
    (row,) = _rows(
        url,
        "INSERT INTO subscription (chat_id, label, conditions, countries, created_at, updated_at)"
        " VALUES (:c, :l, '[\"ischemic\"]', '[\"ES\"]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
        " RETURNING id",
        c=chat_id,
        l=label,
    )
    return int(str(row[0]))


def test_0007_keeps_every_subscription_and_never_hands_an_id_out_again(database_url: str) -> None:
    """Dad (id 1) is deleted before the upgrade, Mum after it: neither id comes back, and the
    rows that were there keep their ids, data and chat."""
    downgrade(database_url, "0006")
    _rows(
        database_url,
        "INSERT INTO chat (chat_id, type, active, created_at, paused, delivery, digest_hour,"
        " digest_weekday, timezone, include_borderline, include_not_recruiting, updated_at)"
        " VALUES (:c, 'private', true, CURRENT_TIMESTAMP, false, 'instant', 9, 0, 'UTC',"
        " false, false, CURRENT_TIMESTAMP)",
        c=5_000_000_001,
    )
    kept = [_add(database_url, 5_000_000_001, name) for name in ("Ana", "Luis", "Dad")]
    dad = kept.pop()
    _rows(database_url, "DELETE FROM subscription WHERE id = :i", i=dad)
    upgrade(database_url)
    assert current_revision(database_url) == head_revision()
    rows = _rows(database_url, "SELECT id, chat_id, label FROM subscription ORDER BY id")
    assert rows == [(kept[0], 5_000_000_001, "Ana"), (kept[1], 5_000_000_001, "Luis")]
    mum = _add(database_url, 5_000_000_001, "Mum")
    assert mum > dad
    _rows(database_url, "DELETE FROM subscription WHERE id = :i", i=mum)
    assert _add(database_url, 5_000_000_001, "Papá") > mum
    # the foreign key survived the rebuild: deleting the chat takes its subscriptions
    _rows(database_url, "DELETE FROM chat WHERE chat_id = :c", c=5_000_000_001)
    assert _rows(database_url, "SELECT id FROM subscription") == []
    if is_sqlite(database_url):
        (autoincrement,) = _rows(
            database_url, "SELECT sql FROM sqlite_master WHERE name = 'subscription'"
        )
        assert "AUTOINCREMENT" in str(autoincrement[0]).upper()
