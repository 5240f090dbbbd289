"""Migration 0009 (issue 14) on both databases: subscriptions gain an empty profile, the
outbox takes window alerts (no version), and the window_alert table comes and goes."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

from storage.db import sync_url
from storage.migrate import downgrade, upgrade

BEFORE = "0008"


def _run(url: str, *statements: str) -> list[tuple[object, ...]]:
    engine = create_engine(sync_url(url))
    try:
        with engine.begin() as conn:
            result: list[tuple[object, ...]] = []
            for statement in statements:
                cursor = conn.execute(text(statement))
                if cursor.returns_rows:
                    result = [tuple(r) for r in cursor.all()]
            return result
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> dict[str, bool]:
    engine = create_engine(sync_url(url))
    try:
        return {c["name"]: c["nullable"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


NOW = "'2026-12-04 10:00:00'"


def test_0009_keeps_the_data_and_adds_an_empty_profile(database_url: str) -> None:
    downgrade(database_url, BEFORE)
    _run(
        database_url,
        f"INSERT INTO chat (chat_id, type, active, created_at, paused, delivery, digest_hour,"
        f" digest_weekday, timezone, include_borderline, include_not_recruiting, updated_at)"
        f" VALUES (5000000001, 'private', true, {NOW}, false, 'instant', 9, 0, 'UTC', false,"
        f" false, {NOW})",
        f"INSERT INTO subscription (id, chat_id, conditions, countries, created_at, updated_at)"
        f" VALUES (1, 5000000001, '[\"ischemic\"]', '[]', {NOW}, {NOW})",
    )
    upgrade(database_url, "0009")
    subscription = _columns(database_url, "subscription")
    assert subscription["stroke_date"] and subscription["birth_year"]  # nullable
    assert _columns(database_url, "outbox")["version_id"]
    assert set(_columns(database_url, "window_alert")) == {
        "subscription_id",
        "trial_id",
        "chat_id",
        "entered_on",
        "created_at",
    }
    rows = _run(database_url, "SELECT id, stroke_date, birth_year FROM subscription")
    assert rows == [(1, None, None)]
    upgrade(database_url)  # back to the newest, which later migrations moved past 0009


def test_0009_downgrades_dropping_window_alerts_only(database_url: str) -> None:
    _run(
        database_url,
        f"INSERT INTO chat (chat_id, type, active, created_at, paused, delivery, digest_hour,"
        f" digest_weekday, timezone, include_borderline, include_not_recruiting, updated_at)"
        f" VALUES (5000000002, 'private', true, {NOW}, false, 'instant', 9, 0, 'UTC', false,"
        f" false, {NOW})",
        f"INSERT INTO trial (id, registry_name, registry_id, title, stem_cell_tier, buckets,"
        f" relevant, classification, countries, fingerprint, current_version, first_seen_at,"
        f" last_seen_at, last_fetched_at) VALUES (1, 'ctgov', 'NCT1', 't', 'core', '[]', true,"
        f" '{{}}', '[]', 'f', 1, {NOW}, {NOW}, {NOW})",
        f"INSERT INTO outbox (chat_id, trial_id, version_id, kind, subscription_ids, status,"
        f" attempts, not_before, created_at) VALUES (5000000002, 1, NULL, 'window', '[1]',"
        f" 'pending', 0, {NOW}, {NOW})",
    )
    downgrade(database_url, BEFORE)
    assert not _columns(database_url, "outbox")["version_id"]
    assert _run(database_url, "SELECT count(*) FROM outbox") == [(0,)]
    assert "stroke_date" not in _columns(database_url, "subscription")
    upgrade(database_url)
