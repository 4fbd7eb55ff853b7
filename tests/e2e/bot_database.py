"""The running bot's database, opened by the test beside the bot (SQLite or PostgreSQL alike), to arrange what
a scenario cannot wait for in real time: moving a task's or a call-out's times back, or the day's insurance
reminder run to the day before, as if time had passed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import db
from storage.models import Alert, Broadcast, Signup, Task
from storage.services.insurance import REMINDER_KIND


@asynccontextmanager
async def bot_database(url: str) -> AsyncIterator[AsyncSession]:
    """A session on the bot's database, committed at the end."""
    engine = db.create_engine(url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
            await session.commit()
    finally:
        await engine.dispose()


async def let_task_time_pass(url: str, task_id: int, passed: timedelta) -> None:
    """A task's times and its check-ins moved back by `passed`."""
    async with bot_database(url) as session:
        task = await session.get(Task, task_id)
        assert task is not None, f"no task {task_id}"
        task.start_at -= passed
        task.end_at -= passed
        task.signup_deadline -= passed
        session.add(task)
        for signup in (await session.exec(select(Signup).where(Signup.task_id == task_id))).all():
            if signup.checked_in_at is not None:
                signup.checked_in_at -= passed
                session.add(signup)


async def let_alert_time_pass(url: str, alert_id: int, passed: timedelta) -> None:
    """A call-out raised `passed` earlier than it was."""
    async with bot_database(url) as session:
        alert = await session.get(Alert, alert_id)
        assert alert is not None, f"no call-out {alert_id}"
        alert.created_at -= passed
        session.add(alert)


async def let_a_day_pass_for_insurance_reminders(url: str, today: date) -> None:
    """The insurance reminders run once a day (a Broadcast row of the day claims the run): today's run, if the
    bot made it already, becomes yesterday's, so the next tick makes today's again as it would tomorrow."""
    async with bot_database(url) as session:
        runs = await session.exec(
            select(Broadcast).where(Broadcast.kind == REMINDER_KIND, Broadcast.period == str(today))
        )
        for run in runs.all():
            run.period = str(today - timedelta(days=1))
            session.add(run)
