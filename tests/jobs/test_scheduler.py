"""Stopping cancels running jobs while the loop and the database are still up."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from jobs.scheduler import RunningJobs
from storage.db import Database


async def test_a_stop_cancels_a_job_inside_a_write_and_the_database_closes(db: Database) -> None:
    running = RunningJobs()
    entered = asyncio.Event()

    async def job() -> None:
        async with db.write() as session:
            await session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            entered.set()
            await asyncio.sleep(30)  # a slow page: cancelled mid-transaction

    task = asyncio.create_task(running.track(job)())
    await asyncio.wait_for(entered.wait(), timeout=10)
    await running.cancel(timeout=5)
    assert task.cancelled()
    async with db.write() as session:  # the write lock was given back
        assert (await session.exec(text("SELECT 2"))).one()[0] == 2  # type: ignore[call-overload]
    await asyncio.wait_for(db.dispose(), timeout=5)


async def test_a_finished_job_is_not_tracked() -> None:
    running = RunningJobs()

    async def job(x: int) -> int:
        return x + 1

    assert await running.track(job)(1) == 2
    await running.cancel(timeout=1)  # nothing left to cancel
