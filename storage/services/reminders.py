"""Reminders for tasks: derived from each task and the configured times, stored, and sent once through the outbox.

What is due lives in the database, so a restart loses nothing and several bot processes send each reminder once
(rows are claimed with SKIP LOCKED on PostgreSQL; SQLite has a single writer). A reminder found late, after
downtime, is still sent while it is useful (before the task starts); otherwise it is dropped on purpose and
counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.models import (
    GroupBinding,
    Member,
    PlatformIdentity,
    Priority,
    ReminderState,
    Signup,
    SignupStatus,
    Task,
    TaskReminder,
    TaskStatus,
    TaskTeam,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.outbox import Destination, Message, enqueue_all
from storage.settings import settings

BATCH = 200
"""Reminders turned into messages per transaction: small enough to keep the event loop responsive."""
CHECKIN = "checkin"
DEADLINE = "deadline"
BEFORE = "before"
SIGNUP_BUTTON = "报名"
"""The label of the button under a reminder with places left: the command's own name (/报名), as on task cards."""


def reminder_times(task: Task) -> dict[str, datetime]:
    """Every reminder this task should get, by kind, from the configured times."""
    start = task.start_at
    times = {f"{BEFORE}:{int(offset.total_seconds() // 60)}": start - offset for offset in settings.reminders_before}
    if settings.remind_at_checkin_open:
        times[CHECKIN] = start - settings.checkin_opens_before
    deadline = task.signup_deadline
    if settings.deadline_notice_before is not None and deadline < start:
        times[DEADLINE] = deadline - settings.deadline_notice_before
    return times


async def schedule_reminders(db: AsyncSession, task: Task, now: datetime | None = None) -> int:
    """(Re)derive a task's pending reminders; those whose time has passed already are not created."""
    now = now or utcnow()
    task_id = id_of(task)
    await db.exec(
        update(TaskReminder)
        .where(col(TaskReminder.task_id) == task_id, col(TaskReminder.state) == ReminderState.pending)
        .values(state=ReminderState.cancelled, done_at=now)
    )
    existing = {
        reminder.kind: reminder
        for reminder in (await db.exec(select(TaskReminder).where(TaskReminder.task_id == task_id))).all()
    }
    created = 0
    if task.status != TaskStatus.open:
        return created
    for kind, due in reminder_times(task).items():
        if due <= now:
            continue
        reminder = existing.get(kind) or TaskReminder(task_id=task_id, kind=kind, due_at=due)
        if reminder.state == ReminderState.sent:
            continue
        reminder.due_at = due
        reminder.state = ReminderState.pending
        reminder.done_at = None
        db.add(reminder)
        created += 1
    await db.flush()
    return created


async def cancel_reminders(db: AsyncSession, task_id: int, now: datetime | None = None) -> None:
    await db.exec(
        update(TaskReminder)
        .where(col(TaskReminder.task_id) == task_id, col(TaskReminder.state) == ReminderState.pending)
        .values(state=ReminderState.cancelled, done_at=now or utcnow())
    )


@dataclass
class ReminderRun:
    sent: int = 0
    dropped: int = 0
    cancelled: int = 0
    messages: int = 0


async def send_due_reminders(now: datetime | None = None, limit: int = BATCH) -> ReminderRun:
    """Turn due reminders into outbox messages for the tasks' groups, each reminder once.

    Works a batch at a time with a few set-based queries, so that thousands due at once (a city's tasks at the
    same hour) go to the outbox in seconds.
    """
    now = now or utcnow()
    run = ReminderRun()
    async with session() as db:
        statement = (
            select(TaskReminder)
            .where(TaskReminder.state == ReminderState.pending, col(TaskReminder.due_at) <= now)
            .order_by(col(TaskReminder.due_at), col(TaskReminder.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        due = list((await db.exec(statement)).all())
        if not due:
            return run
        task_ids = list({reminder.task_id for reminder in due})
        task_by_id = {task.id: task for task in (await db.exec(select(Task).where(col(Task.id).in_(task_ids)))).all()}
        sending: list[tuple[TaskReminder, Task]] = []
        for reminder in due:
            task = task_by_id.get(reminder.task_id)
            reminder.done_at = now
            if task is None or task.status != TaskStatus.open:
                reminder.state = ReminderState.cancelled
                run.cancelled += 1
            elif now >= task.start_at or (reminder.kind == DEADLINE and now >= task.signup_deadline):
                reminder.state = ReminderState.dropped  # found too late to help: dropped on purpose, and counted
                run.dropped += 1
            else:
                reminder.state = ReminderState.sent
                run.sent += 1
                sending.append((reminder, task))
            db.add(reminder)
        run.messages = await _enqueue_reminders(db, sending)
    return run


@dataclass(frozen=True)
class TaskReminderNotice:
    """A reminder posted to a task's groups: before it starts, when check-in opens, or before sign-up closes
    while places are left."""

    reminder: str
    """BEFORE, CHECKIN or DEADLINE."""
    minutes_ahead: int
    """For BEFORE: how long before the start."""
    task_id: int
    task_kind: str
    place: str
    start: datetime
    end: datetime
    signup_deadline: datetime
    signed: tuple[str, ...]
    """The names of those signed up, in the order they came."""
    places_left: int


def reminder_notice(reminder: TaskReminder, task: Task, names: list[str], places_left: int) -> TaskReminderNotice:
    kind, _, minutes = reminder.kind.partition(":")
    return TaskReminderNotice(
        reminder=kind,
        minutes_ahead=int(minutes) if kind == BEFORE else 0,
        task_id=id_of(task),
        task_kind=task.kind,
        place=task.place,
        start=task.start_at,
        end=task.end_at,
        signup_deadline=task.signup_deadline,
        signed=tuple(names),
        places_left=places_left,
    )


async def _enqueue_reminders(db: AsyncSession, due: list[tuple[TaskReminder, Task]]) -> int:
    if not due:
        return 0
    task_ids = list({id_of(task) for _, task in due})
    signed: dict[int, list[Member]] = {}
    rows = await db.exec(
        select(Signup.task_id, Member)
        .join(Member, col(Member.id) == col(Signup.member_id))
        .where(col(Signup.task_id).in_(task_ids), Signup.status == SignupStatus.signed)
        .order_by(col(Signup.arrived_at), col(Signup.id))
    )
    for task_id, member in rows.all():
        signed.setdefault(task_id, []).append(member)
    groups: dict[int, list[GroupBinding]] = {}
    bindings = await db.exec(
        select(TaskTeam.task_id, GroupBinding)
        .join(GroupBinding, col(GroupBinding.team_id) == col(TaskTeam.team_id))
        .where(col(TaskTeam.task_id).in_(task_ids))
        .order_by(col(GroupBinding.id))
    )
    for task_id, binding in bindings.all():
        groups.setdefault(task_id, []).append(binding)
    member_ids = list({id_of(member) for members in signed.values() for member in members})
    accounts: dict[tuple[int, str], list[str]] = {}
    if member_ids:
        identities = await db.exec(select(PlatformIdentity).where(col(PlatformIdentity.member_id).in_(member_ids)))
        for identity in identities.all():
            accounts.setdefault((identity.member_id, identity.platform), []).append(identity.user_id)
    messages: list[Message] = []
    for reminder, task in due:
        task_id = id_of(task)
        members = signed.get(task_id, [])
        places_left = max(task.capacity - len(members), 0)
        if reminder.kind == DEADLINE and places_left == 0:
            continue  # the reminder at the deadline is for places still free
        text = notices.render(reminder_notice(reminder, task, [member.name for member in members], places_left))
        for binding in groups.get(task_id, []):
            mentions = (
                []
                if reminder.kind == DEADLINE
                else [user_id for member in members for user_id in accounts.get((id_of(member), binding.platform), [])]
            )
            messages.append(
                Message(
                    destination=Destination(binding.platform, binding.group_id),
                    text=text,
                    priority=Priority.reminder,
                    mentions=mentions,
                    buttons=[(SIGNUP_BUTTON, f"/signup {task_id}")] if places_left else [],
                    dedupe_key=f"reminder:{reminder.id}:{binding.platform}:{binding.group_id}",
                )
            )
    return await enqueue_all(db, messages)
