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


def _above_or_same(path: str, below: str) -> bool:
    return below == path or below.startswith(path + "/")


async def onboarding_course(db: AsyncSession, team: Team) -> Course | None:
    """The onboarding course for applicants to this team: in its unit or the nearest above; None when none is
    defined (or the stage is off)."""
    if not settings.training_stage_on or not settings.onboarding_course:
        return None
    unit = await db.get(Unit, team.unit_id)
    if unit is None:
        return None
    rows = (
        await db.exec(
            select(Course, Unit.path)
            .join(Unit, col(Unit.id) == col(Course.unit_id))
            .where(Course.name == settings.onboarding_course, col(Course.retired_at).is_(None))
        )
    ).all()
    above = [(path, course) for course, path in rows if _above_or_same(path, unit.path)]
    return max(above, key=lambda found: len(found[0]))[1] if above else None


async def completed(db: AsyncSession, course: Course, member_id: int, today: date) -> bool:
    """Whether the member holds a completion of the course that counts today."""
    found = await db.exec(
        select(CourseCompletion.id)
        .where(
            CourseCompletion.course_id == id_of(course),
            CourseCompletion.member_id == member_id,
            (col(CourseCompletion.valid_until).is_(None)) | (col(CourseCompletion.valid_until) >= today),
        )
        .limit(1)
    )
    return found.first() is not None


async def _applied_teams(db: AsyncSession, member_id: int) -> list[tuple[Team, Unit]]:
    rows = await db.exec(
        select(Team, Unit)
        .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.applied)
    )
    return [(team, unit) for team, unit in rows.all()]


async def is_onboarding_course_of(db: AsyncSession, member: Member, course: Course) -> bool:
    """Whether the course is the onboarding course of a team the member applied to (and waits for)."""
    for team, _ in await _applied_teams(db, id_of(member)):
        found = await onboarding_course(db, team)
        if found is not None and found.id == course.id:
            return True
    return False


async def applicant_of_officer(db: AsyncSession, rights: Rights, member: Member, course: Course) -> bool:
    """Whether an officer may mark this applicant as having completed the course: it is the onboarding course of a
    team of the officer's units the applicant applied to."""
    for team, unit in await _applied_teams(db, id_of(member)):
        if not rights.covers_unit(unit):
            continue
        found = await onboarding_course(db, team)
        if found is not None and found.id == course.id:
            return True
    return False
