"""Signing up for a task (/报名) and cancelling a sign-up (/取消报名): the waiting list, in order of arrival.

/报名 is the busiest write at the evening peak. Its statements are SQLAlchemy Core, built once and run on one
connection in one greenlet (storage.db.run_transaction): through the ORM each of them had cost several times the
CPU the database took to run it (bench/command_load.py). A refusal there is a code with values of the rows already
read: building it costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Connection, Integer, and_, bindparam, case, exists, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlalchemy.sql import ColumnElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import run_transaction, session
from storage.errors import DomainError
from storage.models import MembershipStatus, MemberStatus, Signup, SignupStatus, TaskStatus, UTCDateTime, utcnow
from storage.services import notices
from storage.services.actors import Actor
from storage.services.insurance import refuse_if_uninsured
from storage.services.outbox import enqueue_many
from storage.services.people import member_for, missing_tags
from storage.services.retry import retry_on_conflict
from storage.services.standing import refuse_if_suspended
from storage.services.tasks.queries import (
    TASK_BY_ID_LOCKED,
    GroupAddress,
    MemberAddress,
    TaskHeading,
    addresses,
    by_account,
    caller_params,
    groups_of,
    identity_table,
    member_behind,
    member_table,
    membership_table,
    privately,
    signup_table,
    task_lock,
    task_table,
    task_team_ids,
    task_team_table,
    to_groups,
)
from storage.services.training.qualifications import refuse_missing
from storage.settings import settings


@dataclass(frozen=True)
class SignupResult:
    task: TaskHeading
    status: str
    changed: bool
    position: int | None = None
    """Place on the waiting list (1 = next to move up)."""
    places_left: int = 0


async def signup_for_task(caller: Actor, task_id: int, now: datetime | None = None) -> SignupResult:
    """/报名: an active member of a target team signs up; past capacity they wait, in order of arrival."""
    async with task_lock(task_id):
        return await _signup(caller, task_id, now or utcnow())


@retry_on_conflict
async def _signup(caller: Actor, task_id: int, now: datetime) -> SignupResult:
    return await run_transaction(_signup_in_transaction, caller, task_id, now)


def _one_of(column: ColumnElement, *values: str) -> ColumnElement[bool]:
    # not IN (...): a list of values is rendered into the statement again at every execution
    return or_(*(column == value for value in values))


_own_signup = signup_table.alias("own_signup")
_other_signup = signup_table.alias("other_signup")
_other_task = task_table.alias("other_task")


def _task_and_member_signing_up(through_account: bool):
    statement = core_select(
        task_table.c.id,
        task_table.c.kind,
        task_table.c.place,
        task_table.c.start_at,
        task_table.c.end_at,
        task_table.c.signup_deadline,
        task_table.c.capacity,
        task_table.c.required_tags,
        task_table.c.status,
        member_table.c.id.label("member_id"),
        member_table.c.status.label("member_status"),
        member_table.c.status_reason.label("member_status_reason"),
        member_table.c.tags.label("member_tags"),
        member_table.c.verified_tags.label("member_verified_tags"),
        exists()
        .where(
            task_team_table.c.task_id == task_table.c.id,
            membership_table.c.team_id == task_team_table.c.team_id,
            membership_table.c.member_id == member_table.c.id,
            membership_table.c.status == MembershipStatus.active.value,
        )
        .label("in_a_team"),
        _own_signup.c.id.label("existing_id"),
        _own_signup.c.status.label("existing_status"),
        _own_signup.c.arrived_at.label("existing_arrived_at"),
        core_select(_other_signup.c.task_id)
        .join(_other_task, _other_task.c.id == _other_signup.c.task_id)
        .where(
            _other_signup.c.member_id == member_table.c.id,
            _other_signup.c.task_id != task_table.c.id,
            _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.waiting.value),
            _other_task.c.status == TaskStatus.open.value,
            _other_task.c.start_at < task_table.c.end_at,
            _other_task.c.end_at > task_table.c.start_at,
        )
        .order_by(_other_task.c.start_at)
        .limit(1)
        .scalar_subquery()
        .label("clash_id"),
    ).select_from(task_table)
    if through_account:
        statement = statement.outerjoin(
            identity_table,
            and_(identity_table.c.platform == bindparam("platform"), identity_table.c.user_id == bindparam("user_id")),
        ).outerjoin(member_table, member_table.c.id == identity_table.c.member_id)
    else:
        statement = statement.outerjoin(member_table, member_table.c.id == bindparam("member_id"))
    return (
        statement.outerjoin(
            _own_signup, and_(_own_signup.c.task_id == task_table.c.id, _own_signup.c.member_id == member_table.c.id)
        )
        .where(task_table.c.id == bindparam("task_id"))
        .with_for_update(of=task_table)
    )


_TASK_AND_MEMBER_SIGNING_UP = {True: _task_and_member_signing_up(True), False: _task_and_member_signing_up(False)}
"""By whether the caller is found through a chat account: the task, locked until the transaction ends, with
everything /报名 checks about the caller in the same row: the member behind the account or signed in (none when
unknown), whether they are active in one of the task's teams, their own sign-up for it if they ever had one, and
the first of their open sign-ups whose time overlaps it.

Places are not counted here: on PostgreSQL the row may have waited for the lock while a sign-up from another
process committed, which this statement would not see. The statement that writes the sign-up counts them."""

_SIGNED_NOW = (
    core_select(func.count())
    .select_from(_other_signup)
    .where(
        _other_signup.c.task_id == bindparam("for_task"),
        _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.attended.value),
    )
    .scalar_subquery()
)
_PLACE_OR_WAIT = case(
    (_SIGNED_NOW < bindparam("capacity"), SignupStatus.signed.value), else_=SignupStatus.waiting.value
)
"""Signed while the task has places left, counted by the statement that writes the sign-up, else waiting."""

_OTHERS_SIGNED = (
    core_select(func.count())
    .select_from(_other_signup)
    .where(
        _other_signup.c.task_id == bindparam("for_task"),
        _other_signup.c.member_id != bindparam("new_member"),
        _one_of(_other_signup.c.status, SignupStatus.signed.value, SignupStatus.attended.value),
    )
    .scalar_subquery()
)
"""Returned with the sign-up written: how many others hold a place, for the places left. (The others, because
SQLite's RETURNING sees the row written and PostgreSQL's does not.)"""

_NEW_SIGNUP = (
    insert(signup_table)
    .from_select(
        ["task_id", "member_id", "status", "arrived_at"],
        core_select(
            bindparam("for_task", type_=Integer),
            bindparam("new_member", type_=Integer),
            _PLACE_OR_WAIT,
            bindparam("arrived", type_=UTCDateTime),
        ),
    )
    .returning(signup_table.c.id, signup_table.c.status, _OTHERS_SIGNED)
)
_SIGNUP_AGAIN = (
    update(signup_table)
    .where(signup_table.c.id == bindparam("signup_id"))
    .values(status=_PLACE_OR_WAIT, arrived_at=bindparam("arrived", type_=UTCDateTime))
    .returning(signup_table.c.id, signup_table.c.status, _OTHERS_SIGNED)
)
"""A sign-up cancelled before comes back at the end of the line, like a new one."""

_AHEAD_IN_LINE = (
    core_select(func.count())
    .select_from(signup_table)
    .where(
        signup_table.c.task_id == bindparam("task_id"),
        signup_table.c.status == SignupStatus.waiting.value,
        or_(
            signup_table.c.arrived_at < bindparam("arrived_at", type_=UTCDateTime),
            and_(
                signup_table.c.arrived_at == bindparam("arrived_at", type_=UTCDateTime),
                signup_table.c.id < bindparam("signup_id"),
            ),
        ),
    )
)
_TASK_HEADING = core_select(
    task_table.c.id, task_table.c.kind, task_table.c.place, task_table.c.start_at, task_table.c.end_at
).where(task_table.c.id == bindparam("task_id"))


def _signup_in_transaction(connection: Connection, caller: Actor, task_id: int, now: datetime) -> SignupResult:
    who = caller_params(caller)
    found = connection.execute(_TASK_AND_MEMBER_SIGNING_UP[by_account(caller)], {"task_id": task_id, **who}).first()
    if found is None or found.member_id is None:
        # someone not registered is told that first, whether the task exists or not
        if found is None and connection.execute(member_behind(caller), who).first():
            raise DomainError("tasks.no_such_task", task_id=task_id)
        raise DomainError("organisation.not_in_team")
    task = TaskHeading(found.id, found.kind, found.place, found.start_at, found.end_at)
    if found.existing_status in (SignupStatus.signed, SignupStatus.waiting):
        position = None
        if found.existing_status == SignupStatus.waiting:
            position = _waiting_position(connection, task_id, found.existing_id, found.existing_arrived_at)
        return SignupResult(task=task, status=found.existing_status, changed=False, position=position)
    if not found.in_a_team:
        raise DomainError("tasks.no_such_task", task_id=task_id)  # not for the caller's teams: not theirs to see
    refuse_if_suspended(found.member_status, found.member_status_reason)
    if found.status != TaskStatus.open:
        ended = "tasks.signup_cancelled" if found.status == TaskStatus.cancelled else "tasks.signup_closed"
        raise DomainError(ended, task_id=task_id)
    if now > found.signup_deadline:
        raise DomainError("tasks.signup_deadline_passed", task_id=task_id, deadline=found.signup_deadline)
    if found.member_status != MemberStatus.active:
        raise DomainError("tasks.member_not_active")
    missing = missing_tags(found.required_tags, found.member_tags, found.member_verified_tags)
    if missing:  # a qualification valid on the task's day still counts
        refuse_missing(
            connection, task_id, found.member_id, missing, found.start_at.astimezone(settings.timezone).date()
        )
    if settings.require_insurance:
        refuse_if_uninsured(connection, found.id, found.member_id, found.start_at)
    if found.clash_id is not None:
        clash = connection.execute(_TASK_HEADING, {"task_id": found.clash_id}).one()
        raise DomainError(
            "tasks.clash", task_id=clash.id, kind=clash.kind, start_at=clash.start_at, end_at=clash.end_at
        )
    placing = {"for_task": task_id, "new_member": found.member_id, "capacity": found.capacity, "arrived": now}
    if found.existing_id is None:
        written = connection.execute(_NEW_SIGNUP, placing).one()
    else:
        written = connection.execute(_SIGNUP_AGAIN, {**placing, "signup_id": found.existing_id}).one()
    signup_id, status, others_signed = written
    if status == SignupStatus.waiting:
        return SignupResult(
            task=task, status=status, changed=True, position=_waiting_position(connection, task_id, signup_id, now)
        )
    return SignupResult(task=task, status=status, changed=True, places_left=max(found.capacity - others_signed - 1, 0))


def _waiting_position(connection: Connection, task_id: int, signup_id: int, arrived_at: datetime) -> int:
    """Place on the waiting list: 1 + those waiting who came earlier (by id when they came at the same moment)."""
    params = {"task_id": task_id, "signup_id": signup_id, "arrived_at": arrived_at}
    return connection.execute(_AHEAD_IN_LINE, params).scalar_one() + 1


@dataclass(frozen=True)
class MovedUpFromWaitingList:
    """Notice to the first one waiting: someone cancelled and the place is theirs."""

    name: str
    task: TaskHeading


@dataclass(frozen=True)
class CancelSignupResult:
    task: TaskHeading
    changed: bool
    was_waiting: bool
    promoted: MemberAddress | None = None
    groups: list[GroupAddress] = field(default_factory=list)


async def cancel_signup(caller: Actor, task_id: int, now: datetime | None = None) -> CancelSignupResult:
    """/取消报名: the place goes to the first one waiting, who is told."""
    async with task_lock(task_id):
        return await _cancel_signup(caller, task_id, now)


@retry_on_conflict
async def _cancel_signup(caller: Actor, task_id: int, now: datetime | None) -> CancelSignupResult:
    now = now or utcnow()
    async with session() as db:
        found = (await db.exec(TASK_BY_ID_LOCKED, params={"task_id": task_id})).first()
        if found is None:
            raise DomainError("tasks.nothing_to_cancel", task_id=task_id)  # as for a task one is not signed up for
        task = TaskHeading.of(found)
        member = await member_for(db, caller)
        signup = None
        if member is not None:
            signup = (
                await db.exec(select(Signup).where(Signup.task_id == task_id, Signup.member_id == member.id))
            ).first()
        if signup is None or signup.status == SignupStatus.cancelled:
            return CancelSignupResult(task=task, changed=False, was_waiting=False)
        if signup.status not in (SignupStatus.signed, SignupStatus.waiting) or found.status != TaskStatus.open:
            raise DomainError("tasks.cancel_signup_closed", task_id=task_id)
        if now >= found.start_at and signup.status == SignupStatus.signed:
            raise DomainError("tasks.cancel_signup_started", task_id=task_id)
        was_waiting = signup.status == SignupStatus.waiting
        promoted = await release_place(db, task, signup)
        groups = await groups_of(db, await task_team_ids(db, task_id))
        return CancelSignupResult(task=task, changed=True, was_waiting=was_waiting, promoted=promoted, groups=groups)


async def release_place(db: AsyncSession, task: TaskHeading, signup: Signup) -> MemberAddress | None:
    """Cancel a sign-up (signed or waiting) of a task locked in this transaction: a signed one's place goes to the
    first one waiting, who is told privately (or, without an account, in the task's groups). /取消报名 and /退出
    both cancel through here. Returns who moved up, if anyone did."""
    was_waiting = signup.status == SignupStatus.waiting
    signup.status = SignupStatus.cancelled
    db.add(signup)
    if was_waiting:
        await db.flush()
        return None
    first = (
        await db.exec(
            select(Signup)
            .where(Signup.task_id == task.id, Signup.status == SignupStatus.waiting)
            .order_by(col(Signup.arrived_at), col(Signup.id))
        )
    ).first()
    if first is None:
        await db.flush()
        return None
    first.status = SignupStatus.signed
    db.add(first)
    promoted = (await addresses(db, [first.member_id]))[0]
    await db.flush()
    # a member imported from a roster may have no account yet: then the team's groups hear it
    destinations = privately(promoted) or to_groups(await groups_of(db, await task_team_ids(db, task.id)))
    await enqueue_many(db, destinations, notices.render(MovedUpFromWaitingList(promoted.name, task)))
    return promoted
