"""The onboarding course (`[members] stages = ["trained"]`, `onboarding_course = "新队员培训"`): an applicant completes
it between applying and approval, and /通过 waits for it.

The course is the one of that name, not retired, in the applicant's team's unit or the nearest unit above it (a
station may have its own; a city's serves every station that has none). An applicant completes it as a member
does, without being one yet: by passing its quiz in private (/学习, when the course is 线上), or by an officer of
the team's unit marking them (/结业), for someone who attended a session of it. Applicants cannot sign up for
tasks, so a session's attendance reaches them through /结业.
"""

from __future__ import annotations

from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import (
    Course,
    CourseCompletion,
    Member,
    MembershipStatus,
    Team,
    TeamMembership,
    Unit,
    id_of,
)
from storage.services.people import Rights
from storage.settings import settings


def _nearest(candidates: list[tuple[Course, str]], unit_path: str) -> Course | None:
    """Of the courses of the name (with their units' paths), the one of this unit or the nearest unit above it."""
    above = [(path, course) for course, path in candidates if unit_path == path or unit_path.startswith(path + "/")]
    return max(above, key=lambda found: len(found[0]))[1] if above else None


async def _candidates(db: AsyncSession) -> list[tuple[Course, str]]:
    """Every course, not retired, named as the onboarding course, with its unit's path."""
    rows = await db.exec(
        select(Course, Unit.path)
        .join(Unit, col(Unit.id) == col(Course.unit_id))
        .where(Course.name == settings.onboarding_course, col(Course.retired_at).is_(None))
    )
    return [(course, path) for course, path in rows.all()]


def _stage_on() -> bool:
    return settings.training_stage_on and bool(settings.onboarding_course)


async def onboarding_course(db: AsyncSession, team: Team) -> Course | None:
    """The onboarding course for applicants to this team: in its unit or the nearest above; None when none is
    defined (or the stage is off)."""
    unit = await db.get(Unit, team.unit_id) if _stage_on() else None
    return _nearest(await _candidates(db), unit.path) if unit is not None else None


async def onboarding_courses(db: AsyncSession, teams: list[Team]) -> dict[int, Course | None]:
    """onboarding_course for each of these teams, in two statements however many there are."""
    if not _stage_on() or not teams:
        return {id_of(team): None for team in teams}
    paths = dict(
        (await db.exec(select(Unit.id, Unit.path).where(col(Unit.id).in_({team.unit_id for team in teams})))).all()
    )
    candidates = await _candidates(db)
    return {id_of(team): _nearest(candidates, paths[team.unit_id]) for team in teams}


def _counts_on(today: date):
    return (col(CourseCompletion.valid_until).is_(None)) | (col(CourseCompletion.valid_until) >= today)


async def completed(db: AsyncSession, course: Course, member_id: int, today: date) -> bool:
    """Whether the member holds a completion of the course that counts today."""
    return (id_of(course), member_id) in await completed_pairs(db, [(id_of(course), member_id)], today)


async def completed_pairs(db: AsyncSession, pairs: list[tuple[int, int]], today: date) -> set[tuple[int, int]]:
    """Of these (course, member) pairs, those with a completion that counts today, in one statement."""
    if not pairs:
        return set()
    rows = await db.exec(
        select(CourseCompletion.course_id, CourseCompletion.member_id).where(
            col(CourseCompletion.course_id).in_({course_id for course_id, _ in pairs}),
            col(CourseCompletion.member_id).in_({member_id for _, member_id in pairs}),
            _counts_on(today),
        )
    )
    return set(rows.all()) & set(pairs)


async def waiting_applications(db: AsyncSession, member_id: int, course: Course) -> list[tuple[int, Team, Unit]]:
    """The member's applications (number, team, unit) whose onboarding course this is."""
    rows = (
        await db.exec(
            select(TeamMembership.id, Team, Unit)
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.applied)
        )
    ).all()
    if not rows or not _stage_on():
        return []
    candidates = await _candidates(db)
    return [
        (number or 0, team, unit)
        for number, team, unit in rows
        if (found := _nearest(candidates, unit.path)) is not None and found.id == course.id
    ]


async def is_onboarding_course_of(db: AsyncSession, member: Member, course: Course) -> bool:
    """Whether the course is the onboarding course of a team the member applied to (and waits for)."""
    return bool(await waiting_applications(db, id_of(member), course))


async def applicant_of_officer(db: AsyncSession, rights: Rights, member: Member, course: Course) -> bool:
    """Whether an officer may mark this applicant as having completed the course: it is the onboarding course of a
    team of the officer's units the applicant applied to."""
    return any(rights.covers_unit(unit) for _, _, unit in await waiting_applications(db, id_of(member), course))
