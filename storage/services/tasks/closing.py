"""Closing a task (/结束任务, or on its own after the end): no-shows, final attendance, points once, a summary for
its groups, and a weekly task's next occurrence; the queries that find what is due for closing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    LedgerReason,
    Member,
    Priority,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TaskTeam,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, Where
from storage.services.ledger import record_points
from storage.services.organisation import audit
from storage.services.outbox import enqueue_many
from storage.services.people import rights_of
from storage.services.reminders import cancel_reminders, schedule_reminders
from storage.services.retry import retry_on_conflict
from storage.services.tasks.attendance import record_minutes_served
from storage.services.tasks.posting import announce
from storage.services.tasks.queries import (
    GroupAddress,
    TaskView,
    aware,
    except_here,
    groups_of,
    officer_check,
    task_lock,
    task_or_refuse,
    task_team_ids,
    view_of,
)
from storage.services.training.completions import SessionOutcome, complete_session
from storage.settings import settings

ATTENDANCE_NOTE = "任务{task_id} {kind}"
NO_SHOW_NOTE = "任务{task_id} 未到"
"""The notes of the ledger entries closing records (kept in the ledger as written, shown with the entries)."""


@dataclass(frozen=True)
class ClosedTask:
    view: TaskView
    changed: bool
    served: list[tuple[str, int]]
    """Names and minutes of those who served."""
    absent: list[str]
    points_awarded: int
    groups: list[GroupAddress]
    next_task: TaskView | None = None
    training: SessionOutcome | None = None
    """A course's session: who completed the course at this close, who still has its quiz to pass."""


@dataclass(frozen=True)
class TaskClosed:
    """Notice to a task's other groups: the closing summary."""

    closed: ClosedTask


async def close_task(
    caller: Actor | None, task_id: int, now: datetime | None = None, where: Where | None = None
) -> ClosedTask:
    """/结束任务 (or automatically after the end): no-shows, final attendance, points once, a summary."""
    async with task_lock(task_id):
        return await _close_task(caller, task_id, now, where)


@retry_on_conflict
async def _close_task(caller: Actor | None, task_id: int, now: datetime | None, where: Where | None) -> ClosedTask:
    now = now or utcnow()
    async with session() as db:
        rights = await rights_of(db, caller) if caller is not None else None
        if rights is not None and not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="close_task")
        task = await task_or_refuse(db, task_id, lock=True)
        if rights is not None:
            officer_check(rights, await db.get(Unit, task.unit_id), task_id)
        if task.status == TaskStatus.cancelled:
            raise DomainError("tasks.close_cancelled", task_id=task_id)
        if task.status == TaskStatus.open and now < task.start_at:
            raise DomainError("tasks.close_not_started", task_id=task_id)
        changed = task.status == TaskStatus.open
        awarded = 0
        training = None
        if changed:
            actor = id_of(rights.member) if rights and rights.member else None
            awarded = await _settle_attendance(db, task, now, actor)
            training = await complete_session(db, task)
            task.status = TaskStatus.closed
            task.closed_at = now
            db.add(task)
            await cancel_reminders(db, task_id, now)
            if rights is not None:
                await audit(db, caller, rights.member, "close_task", f"task:{task_id}")
        next_view = await _schedule_next_week(db, task) if changed and task.repeat_weekly else None
        rows = (
            await db.exec(
                select(Signup, Member)
                .join(Member, col(Member.id) == col(Signup.member_id))
                .where(Signup.task_id == task_id, col(Signup.status).in_([SignupStatus.attended, SignupStatus.no_show]))
                .order_by(col(Signup.arrived_at), col(Signup.id))
            )
        ).all()
        closed = ClosedTask(
            view=await view_of(db, task),
            changed=changed,
            served=[(m.name, s.minutes_served or 0) for s, m in rows if s.status == SignupStatus.attended],
            absent=[m.name for s, m in rows if s.status == SignupStatus.no_show],
            points_awarded=awarded,
            groups=await groups_of(db, await task_team_ids(db, task_id)),
            next_task=next_view,
            training=training,
        )
        if changed:
            elsewhere = except_here(closed.groups, where)
            if elsewhere:
                await enqueue_many(db, elsewhere, notices.render(TaskClosed(closed)), priority=Priority.digest)
            if next_view is not None:
                await announce(db, except_here(closed.groups, None), next_view)
        return closed


async def _settle_attendance(db: AsyncSession, task: Task, now: datetime, actor: int | None) -> int:
    """Attended or no-show for every sign-up, open check-ins closed at the end, points recorded once each."""
    task_id = id_of(task)
    awarded = 0
    signups = (
        await db.exec(
            select(Signup).where(Signup.task_id == task_id, Signup.status == SignupStatus.signed).with_for_update()
        )
    ).all()
    for signup in signups:
        if signup.checked_in_at is None:
            signup.status = SignupStatus.no_show
            if settings.no_show_penalty:
                await record_points(
                    db,
                    signup.member_id,
                    -settings.no_show_penalty,
                    LedgerReason.no_show,
                    "task",
                    task_id,
                    actor_member_id=actor,
                    note=NO_SHOW_NOTE.format(task_id=task_id),
                )
        else:
            if signup.checked_out_at is None:
                signup.checked_out_at = min(aware(now), aware(task.end_at))
                signup.checkout_automatic = True
            minutes = await record_minutes_served(db, task, signup)
            signup.status = SignupStatus.attended
            amount = task.points + settings.points_per_hour * minutes // 60
            if amount and await record_points(
                db,
                signup.member_id,
                amount,
                LedgerReason.attendance,
                "task",
                task_id,
                actor_member_id=actor,
                note=ATTENDANCE_NOTE.format(task_id=task_id, kind=task.kind),
            ):
                awarded += amount
        db.add(signup)
    await db.flush()
    return awarded


async def _schedule_next_week(db: AsyncSession, task: Task) -> TaskView | None:
    """A weekly task posts its next occurrence when it closes (once: the series and start are checked)."""
    task_id = id_of(task)
    week = timedelta(days=7)
    start = aware(task.start_at) + week
    existing = (
        await db.exec(select(Task).where(Task.series_id == (task.series_id or task_id), Task.start_at == start))
    ).first()
    if existing is not None:
        return None
    team_ids = await task_team_ids(db, task_id)
    following = Task(
        kind=task.kind,
        place=task.place,
        start_at=start,
        end_at=aware(task.end_at) + week,
        signup_deadline=aware(task.signup_deadline) + week,
        capacity=task.capacity,
        points=task.points,
        required_tags=list(task.required_tags),
        latitude=task.latitude,
        longitude=task.longitude,
        radius_m=task.radius_m,
        repeat_weekly=True,
        course_id=task.course_id,
        series_id=task.series_id or task_id,
        unit_id=task.unit_id,
        created_by=task.created_by,
    )
    db.add(following)
    await db.flush()
    for team_id in team_ids:
        db.add(TaskTeam(task_id=id_of(following), team_id=team_id))
    await db.flush()
    await schedule_reminders(db, following)
    return await view_of(db, following)


async def tasks_due_for_closing(now: datetime | None = None) -> list[int]:
    """Open tasks whose end lies further back than the automatic close delay."""
    now = now or utcnow()
    async with session() as db:
        statement = select(Task.id).where(
            Task.status == TaskStatus.open, col(Task.end_at) <= now - settings.close_after
        )
        return [
            task_id for task_id in (await db.exec(statement.order_by(col(Task.end_at)))).all() if task_id is not None
        ]


@retry_on_conflict
async def close_open_checkins(now: datetime | None = None) -> int:
    """Check-ins still open when their task has ended are closed at the end. Returns how many."""
    now = now or utcnow()
    async with session() as db:
        statement = (
            select(Signup, Task)
            .join(Task, col(Task.id) == col(Signup.task_id))
            .where(
                col(Task.end_at) <= now,
                col(Signup.checked_in_at).is_not(None),
                col(Signup.checked_out_at).is_(None),
            )
        )
        rows = (await db.exec(statement)).all()
        for signup, task in rows:
            signup.checked_out_at = aware(task.end_at)
            signup.checkout_automatic = True
            await record_minutes_served(db, task, signup)
            db.add(signup)
        return len(rows)
