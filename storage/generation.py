"""The subscription generation: a counter in the database that moves whenever what matching
sees changes, so the fan-out keeps its subscription index in memory between polls and
reloads it only when the counter moved (jobs/fanout.py).

Every process writes through SQLAlchemy sessions (the bot's handlers, `trialbot poll --once`,
the sender deactivating a blocked chat), so the counter is kept by session events rather than
by each writer remembering to: a flush that adds, changes or deletes a subscription, or
changes a chat's matching settings (active, paused, delivery, borderline, not recruiting, its
id), and any bulk INSERT, UPDATE or DELETE statement on `subscription` or an UPDATE or DELETE
on `chat`, marks the session; its commit then bumps the counter as its last statement, in the
same transaction. A rollback drops the mark. Writes to other chat columns (a button flow's
pending step, the last digest time, the language) leave it alone: they change no match.

Bumping last keeps PostgreSQL from deadlocking on the counter's row: a transaction that
holds it waits for nothing else before it commits.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.tables import ChatRow, SubscriptionGenerationRow, SubscriptionRow

MATCHING_CHAT_FIELDS = frozenset(
    {"chat_id", "active", "paused", "delivery", "include_borderline", "include_not_recruiting"}
)
"""The chat's columns the subscription index reads (storage/chats.subscription_index)."""
_MARK = "trialbot_subscriptions_changed"
_TABLE = SubscriptionGenerationRow.__table__  # type: ignore[attr-defined]


async def generation(session: AsyncSession) -> int:
    """The counter as the session's transaction sees it (0 before the first bump)."""
    query = select(_TABLE.c.value).where(_TABLE.c.id == 1)
    value = (await session.exec(query)).first()  # type: ignore[call-overload]
    return int(value[0]) if value is not None else 0


def _bump(session: Session) -> None:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(_TABLE).values(id=1, value=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=[_TABLE.c.id], set_={"value": _TABLE.c.value + 1}
        )
    )


def _chat_settings_changed(row: ChatRow) -> bool:
    state = inspect(row)
    return any(state.attrs[name].history.has_changes() for name in MATCHING_CHAT_FIELDS)


@event.listens_for(Session, "before_flush")
def _on_flush(session: Session, _context: Any, _instances: Any) -> None:
    changed = (
        any(isinstance(row, SubscriptionRow) for row in session.new)
        or any(isinstance(row, SubscriptionRow | ChatRow) for row in session.deleted)
        or any(
            (isinstance(row, SubscriptionRow) and session.is_modified(row))
            or (isinstance(row, ChatRow) and _chat_settings_changed(row))
            for row in session.dirty
        )
    )
    if changed:
        session.info[_MARK] = True


@event.listens_for(Session, "do_orm_execute")
def _on_statement(state: ORMExecuteState) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name == SubscriptionRow.__tablename__ or (
        name == ChatRow.__tablename__ and not state.is_insert
    ):
        state.session.info[_MARK] = True


@event.listens_for(Session, "before_commit")
def _on_commit(session: Session) -> None:
    session.flush()  # the commit's own flush comes after this hook: mark its rows now
    if session.info.pop(_MARK, False):
        _bump(session)


@event.listens_for(Session, "after_rollback")
def _on_rollback(session: Session) -> None:
    session.info.pop(_MARK, None)
