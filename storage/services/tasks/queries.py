"""What the task services share: the facts they return about a task, where to tell people, and the lookups.

The Core tables behind the models are here too, for the statements of the evening peak's commands (/报名, /签到,
/签退), which run on one connection without the ORM (storage.db.run_transaction).
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Row, bindparam, func
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.errors import DomainError, NotAllowed
from storage.models import (
    GroupBinding,
    Member,
    MembershipStatus,
    PlatformIdentity,
    Signup,
    SignupStatus,
    Task,
    TaskTeam,
    Team,
    TeamMembership,
    Unit,
    id_of,
    table_of,
)
from storage.services.actors import Actor, ChatAccount, ChatGroup, Where
from storage.services.outbox import Destination
from storage.services.people import Rights, member_for

DEFAULT_RADIUS_M = 500


@dataclass(frozen=True)
class TaskFacts:
    """A task as saved: what a card, a notice or a summary says about it."""

    id: int
    kind: str
    place: str
    start_at: datetime
    end_at: datetime
    signup_deadline: datetime
    capacity: int
    points: int
    required_tags: list[str]
    repeat_weekly: bool
    status: str
    cancel_reason: str | None
    course_id: int | None = None
    """A session of this course (课程:编号)."""

    @classmethod
    def of(cls, task: Task | Row) -> TaskFacts:
        """From a Task, or from a Core row of the task table's columns (statements that load no models)."""
        return cls(
            id=task.id if isinstance(task, Row) else id_of(task),
            kind=task.kind,
            place=task.place,
            start_at=task.start_at,
            end_at=task.end_at,
            signup_deadline=task.signup_deadline,
            capacity=task.capacity,
            points=task.points,
            required_tags=list(task.required_tags),
            repeat_weekly=task.repeat_weekly,
            status=task.status,
            cancel_reason=task.cancel_reason,
            course_id=task.course_id,
        )

    @classmethod
    def of_labelled(cls, values: Mapping[Any, Any], prefix: str) -> TaskFacts:
        """From a row whose task columns are labelled with a prefix (task_kind, …): a task read beside other rows."""
        return cls(**{name: values[prefix + name] for name in _TASK_FACT_FIELDS})


_TASK_FACT_FIELDS = tuple(field.name for field in fields(TaskFacts))


@dataclass(frozen=True)
class TaskHeading:
    """What a reply about a task names: its number, kind, place and time."""

    id: int
    kind: str
    place: str
    start_at: datetime
    end_at: datetime

    @classmethod
    def of(cls, task: Task) -> TaskHeading:
        return cls(id_of(task), task.kind, task.place, task.start_at, task.end_at)


@dataclass(frozen=True)
class TaskView:
    """A task with its teams and how many have signed up or wait."""

    task: TaskFacts
    team_names: list[str]
    signed: int
    waiting: int

    @property
    def places_left(self) -> int:
        return max(self.task.capacity - self.signed, 0)


@dataclass(frozen=True)
class GroupAddress:
    platform: str
    group_id: str


@dataclass(frozen=True)
class MemberAddress:
    member_id: int
    name: str
    accounts: tuple[tuple[str, str], ...]


task_table = table_of(Task)
signup_table = table_of(Signup)
member_table = table_of(Member)
identity_table = table_of(PlatformIdentity)
task_team_table = table_of(TaskTeam)
membership_table = table_of(TeamMembership)

ACCOUNT = core_select(identity_table.c.member_id).where(
    identity_table.c.platform == bindparam("platform"), identity_table.c.user_id == bindparam("user_id")
)
"""The member behind an account (no row when the account is unknown)."""
SIGNED_IN = core_select(member_table.c.id.label("member_id")).where(member_table.c.id == bindparam("member_id"))
"""The member signed in (no row when there is no such member)."""


def by_account(caller: Actor) -> bool:
    """Whether the Core statements find the caller's member through a chat account (else by member number)."""
    return isinstance(caller, ChatAccount)


def caller_params(caller: Actor) -> dict[str, object]:
    """The values the Core statements find the caller's member by: platform and user id, or member number."""
    if isinstance(caller, ChatAccount):
        return {"platform": caller.platform, "user_id": caller.user_id}
    return {"member_id": caller.member_id}


def member_behind(caller: Actor):
    """ACCOUNT or SIGNED_IN, for `caller_params(caller)`."""
    return ACCOUNT if by_account(caller) else SIGNED_IN


TASK_BY_ID = select(Task).where(col(Task.id) == bindparam("task_id"))
TASK_BY_ID_LOCKED = TASK_BY_ID.with_for_update()
"""Built once: /任务 N, /取消任务, /取消报名 and closing read a task by number (locked: until the transaction ends)."""


_task_locks: weakref.WeakValueDictionary[int, asyncio.Lock] = weakref.WeakValueDictionary()


def task_lock(task_id: int) -> asyncio.Lock:
    """Sign-ups for one task are taken one at a time, in the order they arrived (asyncio's locks are FIFO).

    The database lock (FOR UPDATE on PostgreSQL, the single writer on SQLite) keeps capacity exact across
    processes; this one keeps arrival order within a process and spares SQLite retries.
    """
    lock = _task_locks.get(task_id)
    if lock is None:
        lock = asyncio.Lock()
        _task_locks[task_id] = lock
    return lock


def aware(moment: datetime) -> datetime:
    """A moment read back from SQLite may come without its (UTC) offset."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


async def task_or_refuse(db: AsyncSession, task_id: int, *, lock: bool = False) -> Task:
    statement = TASK_BY_ID_LOCKED if lock else TASK_BY_ID
    task = (await db.exec(statement, params={"task_id": task_id})).first()
    if task is None:
        raise DomainError("tasks.no_such_task", task_id=task_id)
    return task


def officer_check(rights: Rights, unit: Unit | None, task_id: int) -> None:
    """An officer acts on the tasks of their units; for any other task the answer is the one for no task at all."""
    if unit is None or not rights.covers_unit(unit):
        raise NotAllowed("tasks.no_such_task", task_id=task_id)


async def registered_member(db: AsyncSession, caller: Actor) -> Member:
    member = await member_for(db, caller)
    if member is None:
        raise DomainError("organisation.not_in_team")
    return member


async def task_team_ids(db: AsyncSession, task_id: int) -> list[int]:
    return list((await db.exec(select(TaskTeam.team_id).where(TaskTeam.task_id == task_id))).all())


async def member_team_ids(db: AsyncSession, member_id: int) -> list[int]:
    statement = select(TeamMembership.team_id).where(
        TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.active
    )
    return list((await db.exec(statement)).all())


COUNTED_AS_SIGNED = (SignupStatus.signed, SignupStatus.attended, SignupStatus.no_show)
"""The sign-ups that take a place (a no-show took one too)."""


def _signups_of_the_task(statuses: tuple[SignupStatus, ...]):
    """How many of the task's sign-ups have one of these statuses: a subquery beside each row of Task."""
    return (
        select(func.count())
        .select_from(Signup)
        .where(col(Signup.task_id) == col(Task.id), col(Signup.status).in_(statuses))
        .correlate(Task)
        .scalar_subquery()
    )


SIGNED_COUNT = _signups_of_the_task(COUNTED_AS_SIGNED)
WAITING_COUNT = _signups_of_the_task((SignupStatus.waiting,))
"""Columns to select beside Task: its places taken and its waiting list, in the statement that reads the tasks."""


async def team_names_of(db: AsyncSession, task_ids: list[int]) -> dict[int, list[str]]:
    """The names of each task's teams (in the order they were given), for many tasks in one statement."""
    names: dict[int, list[str]] = {task_id: [] for task_id in task_ids}
    if not task_ids:
        return names
    rows = await db.exec(
        select(TaskTeam.task_id, Team.name)
        .join(Team, col(Team.id) == col(TaskTeam.team_id))
        .where(col(TaskTeam.task_id).in_(task_ids))
        .order_by(col(TaskTeam.id))
    )
    for task_id, name in rows.all():
        names[task_id].append(name)
    return names


async def views_with_counts(db: AsyncSession, rows: Sequence[tuple[Task, int, int]]) -> list[TaskView]:
    """The views of tasks read with SIGNED_COUNT and WAITING_COUNT beside them: their teams in one statement more."""
    names = await team_names_of(db, [id_of(task) for task, _, _ in rows])
    return [
        TaskView(task=TaskFacts.of(task), team_names=names[id_of(task)], signed=signed, waiting=waiting)
        for task, signed, waiting in rows
    ]


async def view_of(db: AsyncSession, task: Task) -> TaskView:
    counts = (await db.exec(select(SIGNED_COUNT, WAITING_COUNT).select_from(Task).where(col(Task.id) == task.id))).one()
    return (await views_with_counts(db, [(task, counts[0], counts[1])]))[0]


async def groups_of(db: AsyncSession, team_ids: list[int]) -> list[GroupAddress]:
    if not team_ids:
        return []
    bindings = (
        await db.exec(
            select(GroupBinding).where(col(GroupBinding.team_id).in_(team_ids)).order_by(col(GroupBinding.id))
        )
    ).all()
    return [GroupAddress(binding.platform, binding.group_id) for binding in bindings]


async def addresses(db: AsyncSession, member_ids: list[int]) -> list[MemberAddress]:
    if not member_ids:
        return []
    members = {m.id: m for m in (await db.exec(select(Member).where(col(Member.id).in_(member_ids)))).all()}
    identities = (await db.exec(select(PlatformIdentity).where(col(PlatformIdentity.member_id).in_(member_ids)))).all()
    accounts: dict[int, list[tuple[str, str]]] = {}
    for identity in identities:
        accounts.setdefault(identity.member_id, []).append((identity.platform, identity.user_id))
    return [
        MemberAddress(member_id=mid, name=members[mid].name, accounts=tuple(accounts.get(mid, ())))
        for mid in member_ids
        if mid in members
    ]


def to_groups(groups: list[GroupAddress]) -> list[Destination]:
    return [Destination(group.platform, group.group_id) for group in groups]


def except_here(groups: list[GroupAddress], where: Where | None) -> list[Destination]:
    """The groups to post to: all of them but the group chat the command came from (which gets the reply)."""
    here = (where.platform, where.group_id) if isinstance(where, ChatGroup) else None
    return to_groups([group for group in groups if (group.platform, group.group_id) != here])


def privately(member: MemberAddress) -> list[Destination]:
    return [Destination(platform, user_id, private=True) for platform, user_id in member.accounts]
