"""A periodic job's run (a day's reminders, a month's list) claimed by one process: a Broadcast row of the kind and
period, added in the caller's transaction. A restart or a second process finds it and does nothing."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Broadcast, utcnow


async def claim_run(db: AsyncSession, kind: str, period: str) -> Broadcast | None:
    """The period's run, claimed in the caller's transaction; None when it is made or another process has it."""
    claimed = select(Broadcast.id).where(Broadcast.kind == kind, Broadcast.period == period)
    if (await db.exec(claimed)).first() is not None:
        return None
    run = Broadcast(kind=kind, period=period)
    try:
        async with db.begin_nested():
            db.add(run)
    except IntegrityError:
        return None  # another process has it
    return run


def finish_run(db: AsyncSession, run: Broadcast, queued: int) -> None:
    """Record what the run queued, and that it is over."""
    run.messages = queued
    run.finished_at = utcnow()
    db.add(run)
