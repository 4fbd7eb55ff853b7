"""Reminders before qualifications run out, through the outbox (modelled on the insurance reminders).

- To the member, `[training] reminder_days` before a qualification's last day (from `reminder_time`): the
  qualification, the course that grants it again and how to retake it. Not when they hold another qualification
  of the same tag lasting beyond that day (they renewed), not to members who left or were erased.
- On the first of a month (from the same time): to the officers of each unit, the qualifications of the members
  of that unit's teams that run out next month and were not renewed, by course. Nothing to a unit with none.

A day's run (a month's, for the officers' list) is claimed by one process with a Broadcast row in one
transaction, and each message has a dedupe key (qualification, reminder, account; unit, month, account), so a
restart or a second process sends nothing twice; a member's reminder missed while the bot was down goes the next
day, an officers' list missed on the first goes on a later day of the month's first week.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy import exists, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.models import (
    Course,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Priority,
    Qualification,
    Role,
    RoleKind,
    Team,
    TeamMembership,
    Unit,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.outbox import Destination, enqueue
from storage.services.retry import retry_on_conflict
from storage.services.runs import claim_run, finish_run
from storage.services.training.qualifications import courses_granting
from storage.settings import settings

REMINDER_KIND = "training"
"""Broadcast.kind of a day's reminders to members: one run a day, however many processes there are."""
MONTHLY_KIND = "training_month"
"""Broadcast.kind of a month's lists to the units' officers."""
MONTHLY_LATEST_DAY = 7
"""The officers' list goes on the first of the month, or (the bot down then) on a later day up to this one."""


@dataclass(frozen=True)
class QualificationExpiringNotice:
    """To the member, privately, some days before a qualification runs out."""

    tags: tuple[str, ...]
    """What one completion granted and runs out together: one message for them all."""
    valid_until: date
    days_left: int
    course_id: int | None
    """The course that grants it again (its own, or another of the member's units when that one is retired);
    None: no course does."""
    course_name: str = ""
    has_quiz: bool = False
    """Whether the course has a quiz (taken in private with /学习 编号)."""


@dataclass(frozen=True)
class Expiring:
    member_id: int
    name: str
    valid_until: date
    tags: tuple[str, ...]


@dataclass(frozen=True)
class CourseExpiring:
    course_id: int
    course_name: str
    people: tuple[Expiring, ...]
    """By last day, then member number."""


@dataclass(frozen=True)
class UnitExpiringNotice:
    """To each officer of a unit, privately, on the first of a month: what runs out next month, by course."""

    unit_name: str
    month: date
    """The first day of the month the qualifications run out in."""
    courses: tuple[CourseExpiring, ...]

    @property
    def people(self) -> int:
        return sum(len(course.people) for course in self.courses)


def local_now(now: datetime) -> datetime:
    return now.astimezone(settings.timezone)


def reminders_due(now: datetime) -> bool:
    """From the configured time of day on (`[training] reminder_time`)."""
    if settings.training_reminder_at is None:
        return False
    hour, minute = settings.training_reminder_at
    local = local_now(now)
    return local >= local.replace(hour=hour, minute=minute, second=0, microsecond=0)


def reminder_for(valid_until: date, day: date) -> int | None:
    """Which reminder a qualification is due on `day`: the nearest of the configured days before its end it has
    reached; None when it is further off or already over."""
    left = (valid_until - day).days
    if left < 0:
        return None
    reached = [days for days in settings.qualification_reminder_days if left <= days]
    return min(reached) if reached else None


_Renewal = aliased(Qualification)
_RENEWED = exists().where(
    col(_Renewal.member_id) == col(Qualification.member_id),
    col(_Renewal.tag) == col(Qualification.tag),
    or_(
        col(_Renewal.valid_until).is_(None),
        col(_Renewal.valid_until) > col(Qualification.valid_until),
        (col(_Renewal.valid_until) == col(Qualification.valid_until)) & (col(_Renewal.id) > col(Qualification.id)),
    ),
)
"""Another qualification of the member with the same tag lasting longer (or as long, recorded later): renewed."""
_STILL_HERE = (col(Member.status) != MemberStatus.left.value, col(Member.erased_at).is_(None))


@retry_on_conflict
async def send_expiry_reminders(now: datetime | None = None) -> int:
    """Once a day: each qualification not renewed that runs out within the configured days gets the reminder it
    has reached, to the member privately. Returns the messages queued."""
    now = now or utcnow()
    if not settings.qualification_reminder_days or not reminders_due(now):
        return 0
    day = local_now(now).date()
    async with session() as db:
        run = await claim_run(db, REMINDER_KIND, str(day))
        if run is None:
            return 0
        furthest = day + timedelta(days=max(settings.qualification_reminder_days))
        rows = (
            await db.exec(
                select(Qualification, Course)
                .join(Member, col(Member.id) == col(Qualification.member_id))
                .join(Course, col(Course.id) == col(Qualification.course_id))
                .where(
                    col(Qualification.valid_until) >= day,
                    col(Qualification.valid_until) <= furthest,
                    *_STILL_HERE,
                    ~_RENEWED,
                )
                .order_by(col(Qualification.id))
            )
        ).all()
        by_completion: dict[int, tuple[Course, list[Qualification]]] = {}
        for qualification, course in rows:
            by_completion.setdefault(qualification.completion_id, (course, []))[1].append(qualification)
        queued = 0
        for course, granted in by_completion.values():
            until = granted[0].valid_until
            days = reminder_for(until, day) if until is not None else None
            if days is not None:
                queued += await _remind(db, granted, course, days, (until - day).days)  # type: ignore[operator]
        finish_run(db, run, queued)
        return queued


async def _retake(db: AsyncSession, granted: list[Qualification], course: Course) -> Course | None:
    """The course that grants the qualifications again: their own while not retired, else the first active course
    of the member's units (or above) granting one of them."""
    if course.retired_at is None:
        return course
    connection = await db.connection()
    member_id, tags = granted[0].member_id, [qualification.tag for qualification in granted]
    offered = await connection.run_sync(lambda sync: courses_granting(sync, member_id, tags))
    return await db.get(Course, offered[0].course_id) if offered else None


async def _remind(db: AsyncSession, granted: list[Qualification], course: Course, days: int, left: int) -> int:
    """One private message for the qualifications one completion granted (they run out on the same day)."""
    first = granted[0]
    retake = await _retake(db, granted, course)
    notice = QualificationExpiringNotice(
        tags=tuple(qualification.tag for qualification in granted),
        valid_until=first.valid_until,  # type: ignore[arg-type]  # the query asks for one
        days_left=left,
        course_id=id_of(retake) if retake is not None else None,
        course_name=retake.name if retake is not None else "",
        has_quiz=bool(retake.quiz) if retake is not None else False,
    )
    text = notices.render(notice)
    accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == first.member_id))).all()
    queued = 0
    for account in accounts:
        key = f"{REMINDER_KIND}:{first.id}:{days}:{account.id}"  # the completion's first qualification
        destination = Destination(account.platform, account.user_id, private=True)
        queued += await enqueue(db, destination, text, priority=Priority.reminder, dedupe_key=key)
    return queued


def monthly_due(now: datetime) -> bool:
    """From the configured time on the first of the month, or later in its first week."""
    return local_now(now).day <= MONTHLY_LATEST_DAY and reminders_due(now)


@retry_on_conflict
async def send_monthly_lists(now: datetime | None = None) -> int:
    """Once a month: to the officers of each unit, what of its teams' members runs out next month and was not
    renewed. Returns the messages queued."""
    now = now or utcnow()
    if not monthly_due(now):
        return 0
    this_month = local_now(now).date().replace(day=1)
    first = this_month + relativedelta(months=1)
    last = first + relativedelta(months=1) - timedelta(days=1)
    async with session() as db:
        run = await claim_run(db, MONTHLY_KIND, f"{this_month:%Y-%m}")
        if run is None:
            return 0
        rows = (
            await db.exec(
                select(Qualification, Member.name, Course, Team.unit_id)
                .join(Member, col(Member.id) == col(Qualification.member_id))
                .join(Course, col(Course.id) == col(Qualification.course_id))
                .join(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
                .join(Team, col(Team.id) == col(TeamMembership.team_id))
                .where(
                    col(TeamMembership.status) == MembershipStatus.active.value,
                    col(Qualification.valid_until) >= first,
                    col(Qualification.valid_until) <= last,
                    *_STILL_HERE,
                    ~_RENEWED,
                )
                .order_by(col(Qualification.valid_until), col(Qualification.member_id), col(Qualification.id))
            )
        ).all()
        by_unit: dict[int, dict[int, tuple[Course, dict[tuple[int, date], Expiring]]]] = {}
        for qualification, name, course, unit_id in rows:
            courses = by_unit.setdefault(unit_id, {})
            _, people = courses.setdefault(id_of(course), (course, {}))
            until: date = qualification.valid_until  # type: ignore[assignment]  # the query asks for one
            key = (qualification.member_id, until)
            known = people.get(key)
            tags = (*known.tags, qualification.tag) if known is not None else (qualification.tag,)
            people[key] = Expiring(qualification.member_id, name, until, tuple(dict.fromkeys(tags)))
        queued = 0
        if by_unit:
            officers = (
                await db.exec(
                    select(Role.scope_id, PlatformIdentity)
                    .join(PlatformIdentity, col(PlatformIdentity.member_id) == col(Role.member_id))
                    .join(Member, col(Member.id) == col(Role.member_id))
                    .where(Role.kind == RoleKind.officer, col(Role.scope_id).in_(list(by_unit)), *_STILL_HERE)
                    .order_by(col(Role.scope_id), col(PlatformIdentity.id))
                )
            ).all()
            units = {
                id_of(unit): unit for unit in (await db.exec(select(Unit).where(col(Unit.id).in_(list(by_unit))))).all()
            }
            texts: dict[int, str] = {}
            for unit_id, account in officers:
                if unit_id not in texts:
                    courses = by_unit[unit_id]
                    notice = UnitExpiringNotice(
                        unit_name=units[unit_id].name,
                        month=first,
                        courses=tuple(
                            CourseExpiring(course_id, course.name, tuple(people.values()))
                            for course_id, (course, people) in sorted(courses.items())
                        ),
                    )
                    texts[unit_id] = notices.render(notice)
                key = f"{MONTHLY_KIND}:{unit_id}:{this_month:%Y-%m}:{account.id}"
                destination = Destination(account.platform, account.user_id, private=True)
                queued += await enqueue(db, destination, texts[unit_id], priority=Priority.reminder, dedupe_key=key)
        finish_run(db, run, queued)
        return queued
