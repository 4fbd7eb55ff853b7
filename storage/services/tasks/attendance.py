"""Check-in (/签到) with an optional shared location, check-out (/签退), and the time served.

/签到 and /签退 are the evening peak's other commands: their statements are Core, like /报名's, and a refusal is a
code with values of the row already read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Row, and_, bindparam, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import run_transaction, session
from storage.errors import DomainError
from storage.models import Signup, SignupStatus, Task, TaskStatus, UTCDateTime, utcnow
from storage.services.actors import Actor
from storage.services.people import member_for
from storage.services.retry import retry_on_conflict
from storage.services.standing import refuse_if_suspended
from storage.services.tasks.queries import (
    DEFAULT_RADIUS_M,
    TaskHeading,
    aware,
    by_account,
    caller_params,
    identity_table,
    member_behind,
    member_table,
    signup_table,
    task_table,
)
from storage.services.totals import add_to_totals
from storage.settings import settings

CHECK_IN = "checkin"
CHECK_OUT = "checkout"
"""The two actions of attendance, as refusals name them (`action`)."""


@dataclass(frozen=True)
class CheckIn:
    task: TaskHeading
    changed: bool
    at: datetime
    task_has_coordinates: bool = False
    """Whether a location the member shares can be checked against the task's place."""


def _window_opens(start_at: datetime) -> datetime:
    return start_at - settings.checkin_opens_before


async def check_in(caller: Actor, task_id: int | None, now: datetime | None = None) -> CheckIn:
    """/签到: from a while before the start until the end; with no number, the caller's task open now."""
    return await run_transaction(_check_in_in_transaction, caller, task_id, now or utcnow())


def _check_in_in_transaction(connection: Connection, caller: Actor, task_id: int | None, now: datetime) -> CheckIn:
    try:
        found = _signup_for_attendance(connection, caller, task_id, now, CHECK_IN)
    except DomainError:
        # nothing to check in to: a suspended member (whose sign-ups /停用 cancelled) is still told why
        standing = connection.execute(_STANDING[by_account(caller)], caller_params(caller)).first()
        if standing is not None:
            refuse_if_suspended(standing.status, standing.status_reason)
        raise
    refuse_if_suspended(found.member_status, found.member_status_reason)
    task = TaskHeading(found.task_id, found.kind, found.place, found.start_at, found.end_at)
    if now < _window_opens(task.start_at):
        raise DomainError("tasks.checkin_not_open_yet", task_id=task.id, opens_at=_window_opens(task.start_at))
    if now > task.end_at or found.task_status != TaskStatus.open:
        raise DomainError("tasks.checkin_over", task_id=task.id)
    has_coordinates = found.latitude is not None and found.longitude is not None
    checked_in_at = found.checked_in_at
    if checked_in_at is None:
        # only the first of two check-ins at the same moment (a double click) sets the time
        if connection.execute(_CHECK_IN, {"signup_id": found.signup_id, "now": now}).rowcount == 1:
            return CheckIn(task=task, changed=True, at=now, task_has_coordinates=has_coordinates)
        checked_in_at = connection.execute(_CHECKED_IN_AT, {"signup_id": found.signup_id}).scalar_one()
    return CheckIn(task=task, changed=False, at=checked_in_at, task_has_coordinates=has_coordinates)


_STANDING = {
    True: core_select(member_table.c.status, member_table.c.status_reason)
    .join(identity_table, identity_table.c.member_id == member_table.c.id)
    .where(identity_table.c.platform == bindparam("platform"), identity_table.c.user_id == bindparam("user_id")),
    False: core_select(member_table.c.status, member_table.c.status_reason).where(
        member_table.c.id == bindparam("member_id")
    ),
}
"""The caller's status and its reason, by chat account (True) or member number (False): read only when there is
nothing to check in to, to tell a suspended member why."""
_CHECK_IN = (
    update(signup_table)
    .where(signup_table.c.id == bindparam("signup_id"), signup_table.c.checked_in_at.is_(None))
    .values(checked_in_at=bindparam("now", type_=UTCDateTime))
)
_CHECKED_IN_AT = core_select(signup_table.c.checked_in_at).where(signup_table.c.id == bindparam("signup_id"))
_ATTENDANCE_COLUMNS = (
    signup_table.c.id.label("signup_id"),
    signup_table.c.status.label("signup_status"),
    signup_table.c.checked_in_at,
    signup_table.c.checked_out_at,
    task_table.c.id.label("task_id"),
    task_table.c.kind,
    task_table.c.place,
    task_table.c.start_at,
    task_table.c.end_at,
    task_table.c.status.label("task_status"),
    task_table.c.latitude,
    task_table.c.longitude,
    member_table.c.status.label("member_status"),
    member_table.c.status_reason.label("member_status_reason"),
)


def _signups_open_now(through_account: bool):
    statement = (
        core_select(*_ATTENDANCE_COLUMNS)
        .join(task_table, task_table.c.id == signup_table.c.task_id)
        .join(member_table, member_table.c.id == signup_table.c.member_id)
    )
    if through_account:
        statement = statement.join(identity_table, identity_table.c.member_id == signup_table.c.member_id).where(
            identity_table.c.platform == bindparam("platform"), identity_table.c.user_id == bindparam("user_id")
        )
    else:
        statement = statement.where(signup_table.c.member_id == bindparam("member_id"))
    return statement.where(
        signup_table.c.status == SignupStatus.signed.value,
        task_table.c.status == TaskStatus.open.value,
        task_table.c.start_at <= bindparam("opens_by", type_=UTCDateTime),
        task_table.c.end_at >= bindparam("now", type_=UTCDateTime),
    ).order_by(task_table.c.start_at)


_SIGNUPS_OPEN_NOW = {True: _signups_open_now(True), False: _signups_open_now(False)}
"""The caller's sign-ups whose task is open and has started or starts soon, found through their chat account (True)
or by member number (False): /签到 and /签退 without a number."""


def _member_and_signup_for_task(through_account: bool):
    if through_account:
        member_id = identity_table.c.member_id
        statement = core_select(member_id, *_ATTENDANCE_COLUMNS).select_from(
            identity_table.join(member_table, member_table.c.id == identity_table.c.member_id)
        )
        whose = and_(
            identity_table.c.platform == bindparam("platform"), identity_table.c.user_id == bindparam("user_id")
        )
    else:
        member_id = member_table.c.id
        statement = core_select(member_id.label("member_id"), *_ATTENDANCE_COLUMNS).select_from(member_table)
        whose = member_table.c.id == bindparam("member_id")
    return (
        statement.outerjoin(task_table, task_table.c.id == bindparam("task_id"))
        .outerjoin(signup_table, and_(signup_table.c.task_id == task_table.c.id, signup_table.c.member_id == member_id))
        .where(whose)
    )


_MEMBER_AND_SIGNUP_FOR_TASK = {True: _member_and_signup_for_task(True), False: _member_and_signup_for_task(False)}
"""/签到 N and /签退 N: the caller's member (no row when unknown), task N (none when there is no such task) and the
member's sign-up for it (none when they never signed up)."""


def _signup_for_attendance(
    connection: Connection, caller: Actor, task_id: int | None, now: datetime, action: str
) -> Row:
    """The caller's sign-up to check in or out of (with its task's columns), or a DomainError that says why not."""
    who, through_account = caller_params(caller), by_account(caller)
    if task_id is not None:
        found = connection.execute(_MEMBER_AND_SIGNUP_FOR_TASK[through_account], {**who, "task_id": task_id}).first()
        if found is None:
            raise DomainError("organisation.not_in_team")
        if found.task_id is None or found.signup_status in (None, SignupStatus.cancelled):
            raise DomainError("tasks.not_signed_up", task_id=task_id, action=action)  # alike for a task that is not
        if found.signup_status not in (SignupStatus.signed, SignupStatus.attended):
            if found.signup_status == SignupStatus.waiting:
                raise DomainError("tasks.still_waiting", task_id=task_id, action=action)
            raise DomainError("tasks.not_signed_up", task_id=task_id, action=action)
        return found
    # the caller's sign-ups open now, found through their account in one query (the evening peak's check-ins)
    params = {**who, "opens_by": now + settings.checkin_opens_before, "now": now}
    rows = connection.execute(_SIGNUPS_OPEN_NOW[through_account], params).all()
    if not rows and connection.execute(member_behind(caller), who).first() is None:
        raise DomainError("organisation.not_in_team")  # someone not registered is told that first
    candidates = [row for row in rows if _window_opens(row.start_at) <= now <= row.end_at]
    if action == CHECK_OUT:
        candidates = [row for row in candidates if row.checked_in_at is not None and row.checked_out_at is None]
    if not candidates:
        raise DomainError("tasks.nothing_to_attend", action=action)
    if len(candidates) > 1:
        raise DomainError("tasks.several_to_attend", action=action, task_ids=tuple(row.task_id for row in candidates))
    return candidates[0]


@dataclass(frozen=True)
class LocationCheck:
    task: TaskHeading
    distance_m: int | None
    outside: bool


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> int:
    """Great-circle distance in metres."""
    radius = 6_371_000
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = math.radians(lat2 - lat1)
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return round(2 * radius * math.asin(math.sqrt(a)))


@retry_on_conflict
async def attach_location(
    caller: Actor, latitude: float, longitude: float, now: datetime | None = None
) -> LocationCheck | None:
    """A shared location within a minute of checking in is kept and checked against the task's place and radius.

    None when the caller has no such fresh check-in (the location is then not kept).
    """
    now = now or utcnow()
    async with session() as db:
        member = await member_for(db, caller)
        if member is None:
            return None
        statement = (
            select(Signup, Task)
            .join(Task, col(Task.id) == col(Signup.task_id))
            .where(
                Signup.member_id == member.id,
                col(Signup.checked_in_at) >= now - settings.location_window,
                col(Signup.checked_in_at) <= now,
                col(Signup.latitude).is_(None),
            )
            .order_by(col(Signup.checked_in_at).desc())
        )
        row = (await db.exec(statement)).first()
        if row is None:
            return None
        signup, task = row
        signup.latitude, signup.longitude = latitude, longitude
        distance = None
        if task.latitude is not None and task.longitude is not None:
            distance = distance_m(task.latitude, task.longitude, latitude, longitude)
            signup.distance_m = distance
            signup.outside_radius = distance > (task.radius_m or DEFAULT_RADIUS_M)
        db.add(signup)
        return LocationCheck(task=TaskHeading.of(task), distance_m=distance, outside=signup.outside_radius)


def minutes_served(task: Task | TaskHeading, checked_in: datetime, checked_out: datetime) -> int:
    """Between check-in (not earlier than the start) and check-out (not later than the end)."""
    begin = max(aware(checked_in), aware(task.start_at))
    finish = min(aware(checked_out), aware(task.end_at))
    return max(int((finish - begin).total_seconds() // 60), 0)


async def record_minutes_served(db: AsyncSession, task: Task | TaskHeading, signup: Signup) -> int:
    """Set the time served from check-in and check-out, and move the member's hours totals by the change only:
    closing a task recomputes what a check-out already counted. Returns the minutes served."""
    checked_in, checked_out = signup.checked_in_at, signup.checked_out_at
    assert checked_in is not None, "only a sign-up checked in has served"
    assert checked_out is not None, "only a sign-up checked out has served"
    minutes = minutes_served(task, checked_in, checked_out)
    change = minutes - (signup.minutes_served or 0)
    signup.minutes_served = minutes
    if change:
        await add_to_totals(db, signup.member_id, minutes=change, at=aware(checked_out))
    return minutes


@dataclass(frozen=True)
class CheckOut:
    task: TaskHeading
    changed: bool
    minutes: int


@retry_on_conflict
async def check_out(caller: Actor, task_id: int | None, now: datetime | None = None) -> CheckOut:
    """/签退: closes the caller's check-in; the time served counts only within the task's hours."""
    now = now or utcnow()
    async with session() as db:
        found = await db.run_sync(
            lambda sync_session: _signup_for_attendance(sync_session.connection(), caller, task_id, now, CHECK_OUT)
        )
        task = TaskHeading(found.task_id, found.kind, found.place, found.start_at, found.end_at)
        if found.checked_in_at is None:
            raise DomainError("tasks.not_checked_in", task_id=task.id)
        signup = await db.get(Signup, found.signup_id, with_for_update=True)
        assert signup is not None, "the sign-up was just read in this transaction"
        if signup.checked_out_at is not None:
            return CheckOut(task=task, changed=False, minutes=signup.minutes_served or 0)
        signup.checked_out_at = min(now, aware(task.end_at))
        minutes = await record_minutes_served(db, task, signup)
        db.add(signup)
        return CheckOut(task=task, changed=True, minutes=minutes)
