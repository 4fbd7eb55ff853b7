"""Completing a course, which grants its qualifications until the completion's last day.

A member completes a course
- by attending one of its sessions (a 培训 task posted with 课程:编号), at its close, once they have passed its
  quiz where it has one (passing later completes it then, counted from the session's day);
- by passing the quiz of an online course (线上);
- by an officer's /结业 (someone without a phone), audited.

A completion counts once a day per course and member: a second close or a double /结业 changes nothing. Its last
day is the day before the same date `validity_months` later (a course valid a year, completed on 5 June, counts
through 4 June of the next year); a course without a validity counts for good.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError
from storage.models import (
    CompletionSource,
    Course,
    CourseCompletion,
    Member,
    MemberStatus,
    Qualification,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor
from storage.services.membership import tell_deciders
from storage.services.organisation import audit, covers_member
from storage.services.outbox import tell_member
from storage.services.people import PersonRef, find_person, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.training.attempts import counts_from, passed_quiz
from storage.services.training.courses import course_for_officer
from storage.services.training.onboarding import applicant_of_officer, waiting_applications
from storage.settings import settings

MAX_AT_ONCE = 50
"""/结业 takes at most this many member numbers at once."""


def local_day(moment: datetime) -> date:
    return moment.astimezone(settings.timezone).date()


def last_day(course: Course, completed_on: date) -> date | None:
    """The last day a completion on `completed_on` counts (None: for good)."""
    if course.validity_months is None:
        return None
    return completed_on + relativedelta(months=course.validity_months) - timedelta(days=1)


@dataclass(frozen=True)
class Completed:
    course_id: int
    course_name: str
    member_id: int
    completed_on: date
    valid_until: date | None
    grants: tuple[str, ...]
    new: bool
    """False: the member had completed it that day already (nothing was changed)."""


@dataclass(frozen=True)
class CourseCompletedNotice:
    """To the member, privately: a course is completed and what it grants, until when."""

    course_id: int
    course_name: str
    grants: tuple[str, ...]
    valid_until: date | None
    source: str


@dataclass(frozen=True)
class QuizStillNeededNotice:
    """To a member who attended a session of a course with a quiz they have not passed: pass it to complete."""

    course_id: int
    course_name: str


async def complete(
    db: AsyncSession,
    course: Course,
    member_id: int,
    day: date,
    source: CompletionSource,
    *,
    task_id: int | None = None,
    recorded_by: int | None = None,
    tell: bool = True,
) -> Completed:
    """Record a completion on `day` with its qualifications, in the caller's transaction; once a day per course and
    member. The member is told privately (`tell`) when it is new."""
    course_id = id_of(course)
    existing = (
        await db.exec(
            select(CourseCompletion).where(
                CourseCompletion.course_id == course_id,
                CourseCompletion.member_id == member_id,
                CourseCompletion.completed_on == day,
            )
        )
    ).first()
    if existing is not None:
        return _completed(course, existing, new=False)
    row = CourseCompletion(
        course_id=course_id,
        member_id=member_id,
        completed_on=day,
        valid_until=last_day(course, day),
        source=source.value,
        task_id=task_id,
        recorded_by=recorded_by,
    )
    try:
        async with db.begin_nested():
            db.add(row)
            await db.flush()
    except IntegrityError:  # the same completion, committed meanwhile by another process
        again = (
            await db.exec(
                select(CourseCompletion).where(
                    CourseCompletion.course_id == course_id,
                    CourseCompletion.member_id == member_id,
                    CourseCompletion.completed_on == day,
                )
            )
        ).one()
        return _completed(course, again, new=False)
    for tag in course.grants:
        db.add(
            Qualification(
                member_id=member_id,
                tag=tag,
                course_id=course_id,
                completion_id=id_of(row),
                valid_until=row.valid_until,
            )
        )
    if tell:
        notice = CourseCompletedNotice(course_id, course.name, tuple(course.grants), row.valid_until, source.value)
        await tell_member(db, member_id, notices.render(notice))
    if settings.training_stage_on:
        await _tell_deciders_when_trained(db, course, member_id)
    return _completed(course, row, new=True)


@dataclass(frozen=True)
class OnboardingCompletedNotice:
    """To the deciders of a team, privately: an applicant completed the onboarding course; approval may follow."""

    name: str
    number: int
    """The application's number."""
    team: str
    course_name: str


async def _tell_deciders_when_trained(db: AsyncSession, course: Course, member_id: int) -> None:
    """The applications this completion lets through the stage "trained": their deciders are told."""
    waiting = await waiting_applications(db, member_id, course)
    member = await db.get(Member, member_id) if waiting else None
    for number, team, _ in waiting:
        notice = OnboardingCompletedNotice(member.name if member else "", number, team.name, course.name)
        await tell_deciders(db, team, notices.render(notice))


def _completed(course: Course, row: CourseCompletion, *, new: bool) -> Completed:
    return Completed(
        course_id=id_of(course),
        course_name=course.name,
        member_id=row.member_id,
        completed_on=row.completed_on,
        valid_until=row.valid_until,
        grants=tuple(course.grants),
        new=new,
    )


async def _attended_session(db: AsyncSession, course: Course, member_id: int, today: date) -> Task | None:
    """The member's latest closed session of the course they attended, within one validity period back."""
    statement = (
        select(Task)
        .join(Signup, col(Signup.task_id) == col(Task.id))
        .where(
            Task.course_id == id_of(course),
            Task.status == TaskStatus.closed.value,
            Signup.member_id == member_id,
            Signup.status == SignupStatus.attended.value,
        )
        .order_by(col(Task.start_at).desc())
    )
    since = counts_from(course, today)
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), settings.timezone)
        statement = statement.where(col(Task.start_at) >= start)
    return (await db.exec(statement.limit(1))).first()


async def complete_after_passing(
    db: AsyncSession, course: Course, member_id: int, now: datetime, *, tell: bool = True
) -> Completed | None:
    """A member just passed the course's quiz (in the transaction that records it): an online course is completed
    today; another one if they attended a session of it, from that session's day. None: a session is still to
    attend (the member is told how on the quiz's result). `tell`: also send the completion's notice (not needed
    where the quiz's result says it)."""
    today = local_day(now)
    if course.online:
        return await complete(db, course, member_id, today, CompletionSource.quiz, tell=tell)
    attended = await _attended_session(db, course, member_id, today)
    if attended is None:
        return None
    return await complete(
        db, course, member_id, local_day(attended.start_at), CompletionSource.session, task_id=attended.id, tell=tell
    )


@dataclass(frozen=True)
class SessionOutcome:
    """What a session's close did for its course."""

    course_id: int
    course_name: str
    completed: list[str]
    """Names of those who completed it at this close."""
    quiz_needed: list[str]
    """Names of those who attended and still have the quiz to pass."""
    retired: bool = False
    """The course was retired after the session was posted: nobody completes it (what /课程 停用 promises)."""
    too_short: list[str] = field(default_factory=list)
    """Names of those who attended less than half of it (checked in and out before it began, say)."""


async def complete_session(db: AsyncSession, task: Task) -> SessionOutcome | None:
    """At a session's close (in the closing transaction): who attended completes the course, from the session's
    day, once they have passed its quiz where it has one; the others are told to pass it. None: not a session, or
    its course is gone."""
    if task.course_id is None:
        return None
    course = await db.get(Course, task.course_id)
    if course is None:
        return None
    if course.retired_at is not None:
        return SessionOutcome(id_of(course), course.name, [], [], retired=True)
    day = local_day(task.start_at)
    rows = (
        await db.exec(
            select(Member, Signup.minutes_served)
            .join(Signup, col(Signup.member_id) == col(Member.id))
            .where(
                Signup.task_id == id_of(task),
                Signup.status == SignupStatus.attended.value,
                col(Member.erased_at).is_(None),
            )
            .order_by(col(Signup.id))
        )
    ).all()
    completed: list[str] = []
    quiz_needed: list[str] = []
    too_short: list[str] = []
    needed = present_for(task)
    for member, minutes in rows:
        member_id = id_of(member)
        if (minutes or 0) < needed:
            too_short.append(member.name)
            notice = TooShortNotice(id_of(course), course.name, minutes or 0)
            await tell_member(db, member_id, notices.render(notice))
            continue
        if course.quiz and not await passed_quiz(db, course, member_id, day):
            quiz_needed.append(member.name)
            await tell_member(db, member_id, notices.render(QuizStillNeededNotice(id_of(course), course.name)))
            continue
        done = await complete(db, course, member_id, day, CompletionSource.session, task_id=id_of(task))
        if done.new:
            completed.append(member.name)
    return SessionOutcome(id_of(course), course.name, completed, quiz_needed, too_short=too_short)


def present_for(task: Task) -> int:
    """The minutes of a session a member must have been there for it to count: half of it."""
    return max(int((task.end_at - task.start_at).total_seconds() // 120), 1)


@dataclass(frozen=True)
class TooShortNotice:
    """To a member who checked in and out of a session for less than half of it: no completion."""

    course_id: int
    course_name: str
    minutes: int


@dataclass(frozen=True)
class MarkedByHand:
    """/结业's result."""

    course_id: int
    course_name: str
    completed: list[tuple[int, str]]
    """Number and name of each member newly completed."""
    already: list[tuple[int, str]]
    """Completed today already (nothing changed)."""
    not_found: list[int]
    """Numbers that are no member of the officer's units (or not active): answered alike."""
    valid_until: date | None


@retry_on_conflict
async def complete_by_hand(
    caller: Actor, course_id: int, numbers: list[int], now: datetime | None = None
) -> MarkedByHand:
    """/结业 课程编号 成员号…: an officer marks members of their units as having completed a course they may use
    (someone who attended without a phone to check in), audited; each member is told privately."""
    if not numbers:
        raise DomainError("training.no_members")
    if len(numbers) > MAX_AT_ONCE:
        raise DomainError("training.too_many_members", most=MAX_AT_ONCE)
    today = local_day(now or utcnow())
    async with session() as db:
        rights = await rights_of(db, caller)
        course, _ = await course_for_officer(db, rights, course_id, change=False)
        if rights.member is None:
            raise DomainError("people.not_registered")
        done: list[tuple[int, str]] = []
        already: list[tuple[int, str]] = []
        not_found: list[int] = []
        for number in dict.fromkeys(numbers):
            member = await _member_of_officer(db, rights, number, course)
            if member is None:
                not_found.append(number)
                continue
            result = await complete(
                db, course, number, today, CompletionSource.manual, recorded_by=id_of(rights.member)
            )
            (done if result.new else already).append((number, member.name))
        if done:
            await audit(
                db,
                caller,
                rights.member,
                "complete_course",
                f"course:{course_id}",
                members=[number for number, _ in done],
                day=today.isoformat(),
            )
        return MarkedByHand(id_of(course), course.name, done, already, not_found, last_day(course, today))


async def _member_of_officer(db: AsyncSession, rights, number: int, course: Course) -> Member | None:
    """An active member of the officer's units; or, with the stage "trained", an applicant to a team of theirs
    whose onboarding course this is."""
    try:
        member = await find_person(db, PersonRef(member_number=number))
    except DomainError:
        return None
    if member.erased_at is not None or member.status not in (MemberStatus.active, MemberStatus.applied):
        return None
    if member.status == MemberStatus.active and await covers_member(db, rights, member):
        return member
    if settings.training_stage_on and await applicant_of_officer(db, rights, member, course):
        return member
    return None
