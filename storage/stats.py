"""The figures behind the admins' /stats: counts of chats, subscriptions, trials, the outbox
backlog and each registry's poll state."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import outbox, poll_state
from storage.tables import ChatRow, PollStateRow, SubscriptionRow, TrialRow


@dataclass(frozen=True)
class Stats:
    chats_active: int
    chats_inactive: int
    subscriptions: int
    trials_relevant: int
    trials_total: int
    backlog: outbox.Backlog
    registries: list[PollStateRow]
    """One row per registry that has been polled."""


async def _count(session: AsyncSession, query: Any) -> int:
    return int((await session.exec(query)).one())


async def gather_stats(session: AsyncSession) -> Stats:
    chats = select(func.count()).select_from(ChatRow)
    trials = select(func.count()).select_from(TrialRow)
    return Stats(
        chats_active=await _count(session, chats.where(col(ChatRow.active).is_(True))),
        chats_inactive=await _count(session, chats.where(col(ChatRow.active).is_(False))),
        subscriptions=await _count(session, select(func.count()).select_from(SubscriptionRow)),
        trials_relevant=await _count(session, trials.where(col(TrialRow.relevant).is_(True))),
        trials_total=await _count(session, trials),
        backlog=await outbox.backlog(session),
        registries=sorted(await poll_state.all_states(session), key=lambda r: r.registry_name),
    )
