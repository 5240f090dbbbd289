"""subscription ids are never reused

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 08:00:00.000000

A subscription id goes into buttons ("Remove 1") and into queued alerts; SQLite without
AUTOINCREMENT hands the id of a deleted last row to the next one, so an old button removed
someone else's alert. SQLite cannot add AUTOINCREMENT to a table: the table is rebuilt (rows,
index and foreign key kept) and its counter is seeded above every id this database can still
know about, plus a margin for ids handed out and deleted before we could count them.
PostgreSQL's serial sequence never goes back: nothing to do there.
"""

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARGIN = 1000
"""Ids above the highest we can see that may have been handed out and deleted since."""


def _highest_known_id(bind: Any) -> int:
    """The highest subscription id in the table or named by a queued or sent alert."""
    highest = int(bind.execute(sa.text("SELECT COALESCE(MAX(id), 0) FROM subscription")).scalar())
    for (raw,) in bind.execute(sa.text("SELECT subscription_ids FROM outbox")):
        ids = _json_list(raw)
        highest = max([highest, *(int(v) for v in ids if str(v).isdigit())])
    return highest


def _json_list(raw: Any) -> list[Any]:
    """A JSON array column as Python (SQLite gives the text, PostgreSQL the list)."""
    if isinstance(raw, list):
        return raw
    try:
        value = json.loads(raw) if raw else []
    except (TypeError, ValueError):
        return []
    return value if isinstance(value, list) else []


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    seed = _highest_known_id(bind) + MARGIN
    with op.batch_alter_table(
        "subscription", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    # Copying the rows set the counter to the highest id copied; raise it above all we know.
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'subscription'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('subscription', :seq)"),
        {"seq": seed},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "subscription", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
