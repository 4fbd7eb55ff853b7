"""Qualifications (资质): what completed courses grant, valid through their last day in the configured time zone.

A valid qualification always satisfies a task's or a call-out's `需要:` for its tag, whatever `[members]
required_tags_from` says of specialties (storage.services.people.missing_tags takes them). A member refused for a
missing requirement is told which course grants it, when one of their units' courses does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading
from storage.errors import DomainError
from storage.models import (
    Course,
    MembershipStatus,
    MemberStatus,
    Qualification,
    Team,
    TeamMembership,
    Unit,
    id_of,
    table_of,
    utcnow,
)
from storage.services.actors import Actor
from storage.services.people import rights_of
from storage.settings import TagSource, settings

EXPIRING_DAYS = 30
"""A qualification whose last day is at most this many days off runs out soon: /资质, /课程 编号 (due to renew),
/统计 and /导出 draw the line here, on the day the reminder says 还有30天."""


def state_on(valid_until: date | None, day: date) -> str:
    """ "valid", "expiring" (its last day within EXPIRING_DAYS of `day`) or "expired" (before `day`)."""
    if valid_until is None or (valid_until - day).days > EXPIRING_DAYS:
        return "valid"
    return "expiring" if valid_until >= day else "expired"


_qualification = table_of(Qualification)
_course = table_of(Course)
_unit = table_of(Unit)
_team = table_of(Team)
_membership = table_of(TeamMembership)


_QUALIFIED = (
    core_select(_qualification.c.tag)
    .where(
        _qualification.c.member_id == bindparam("member_id"),
        _qualification.c.tag.in_(bindparam("tags", expanding=True)),
        or_(_qualification.c.valid_until.is_(None), _qualification.c.valid_until >= bindparam("day")),
    )
    .distinct()
)


def qualified_tags(connection: Connection, member_id: int, tags: Iterable[str], day: date) -> set[str]:
    """Of these tags, those the member holds a qualification for that is valid on `day`."""
    wanted = list(tags)
    if not wanted:
        return set()
    return set(connection.execute(_QUALIFIED, {"member_id": member_id, "tags": wanted, "day": day}).scalars())


async def qualified_members(db: AsyncSession, member_ids: list[int], tags: list[str], day: date) -> dict[int, set[str]]:
    """By member, the tags among these they hold a valid qualification for on `day` (members holding none left out)."""
    if not member_ids or not tags:
        return {}
    rows = (
        await db.exec(
            select(Qualification.member_id, Qualification.tag).where(
                col(Qualification.member_id).in_(member_ids),
                col(Qualification.tag).in_(tags),
                or_(col(Qualification.valid_until).is_(None), col(Qualification.valid_until) >= day),
            )
        )
    ).all()
    held: dict[int, set[str]] = {}
    for member_id, tag in rows:
        held.setdefault(member_id, set()).add(tag)
    return held


_MEMBER_UNIT_PATHS = (
    core_select(_unit.c.path)
    .join(_team, _team.c.unit_id == _unit.c.id)
    .join(_membership, _membership.c.team_id == _team.c.id)
    .where(_membership.c.member_id == bindparam("member_id"), _membership.c.status == MembershipStatus.active.value)
)
_ACTIVE_COURSES = (
    core_select(_course.c.id, _course.c.name, _course.c.grants, _unit.c.path)
    .join(_unit, _unit.c.id == _course.c.unit_id)
    .where(_course.c.retired_at.is_(None))
    .order_by(_course.c.id)
)


@dataclass(frozen=True)
class CourseToTake:
    tag: str
    course_id: int
    course_name: str


def courses_granting(connection: Connection, member_id: int, tags: Iterable[str]) -> list[CourseToTake]:
    """For each tag, the first active course of the member's units (or the units above them) granting it."""
    wanted = list(tags)
    if not wanted:
        return []
    paths = list(connection.execute(_MEMBER_UNIT_PATHS, {"member_id": member_id}).scalars())
    found: dict[str, CourseToTake] = {}
    for course_id, name, grants, path in connection.execute(_ACTIVE_COURSES):
        if not any(own == path or own.startswith(path + "/") for own in paths):
            continue
        for tag in grants:
            if tag in wanted and tag not in found:
                found[tag] = CourseToTake(tag, course_id, name)
    return [found[tag] for tag in wanted if tag in found]


def refuse_missing(connection: Connection, task_id: int, member_id: int, missing: list[str], day: date) -> None:
    """/报名's last word on 需要:: the tags a member lacks as specialties but holds a valid qualification for count;
    any still missing refuse the sign-up (`tasks.missing_tags`), naming the courses that grant them."""
    held = qualified_tags(connection, member_id, missing, day)
    still = [tag for tag in missing if tag not in held]
    if still:
        courses = tuple(
            (course.tag, course.course_id, course.course_name)
            for course in courses_granting(connection, member_id, still)
        )
        only = settings.required_tags_from == TagSource.qualified
        raise DomainError(
            "tasks.missing_tags", task_id=task_id, tags=tuple(still), courses=courses, qualifications_only=only
        )


# ---- what a member holds


@dataclass(frozen=True)
class Held:
    tag: str
    course_name: str
    valid_until: date | None
    """The last day it counts (None: for good)."""
    state: str
    """"valid", "expiring" (within 30 days) or "expired" (and no valid one of the tag)."""
    retake: CourseToTake | None = None
    """For one running out or run out: the course that grants it again."""


async def held_by(db: AsyncSession, member_id: int, today: date) -> list[Held]:
    """Each of the member's qualification tags once: the one that lasts longest, with its state."""
    rows = (
        await db.exec(
            select(Qualification, Course)
            .join(Course, col(Course.id) == col(Qualification.course_id))
            .where(Qualification.member_id == member_id)
            .order_by(col(Qualification.tag), col(Qualification.id))
        )
    ).all()
    best: dict[str, tuple[Qualification, Course]] = {}
    for qualification, course in rows:
        known = best.get(qualification.tag)
        if known is None or _lasts_longer(qualification.valid_until, known[0].valid_until):
            best[qualification.tag] = (qualification, course)
    held: list[Held] = []
    renew: list[str] = []
    for tag, (qualification, course) in best.items():
        until = qualification.valid_until
        state = state_on(until, today)
        if state != "valid":
            renew.append(tag)
        held.append(Held(tag, course.name, until, state))
    if renew:
        connection = await db.connection()
        offered = await connection.run_sync(lambda sync: courses_granting(sync, member_id, renew))
        by_tag = {course.tag: course for course in offered}
        held = [Held(h.tag, h.course_name, h.valid_until, h.state, by_tag.get(h.tag)) for h in held]
    order = {"valid": 0, "expiring": 1, "expired": 2}
    return sorted(held, key=lambda h: (order[h.state], h.tag))


def _lasts_longer(until: date | None, than: date | None) -> bool:
    if than is None:
        return False
    return until is None or until > than


@dataclass(frozen=True)
class OwnQualifications:
    name: str
    held: list[Held]


async def my_qualifications(caller: Actor, now: datetime | None = None) -> OwnQualifications:
    """/资质: the member's qualifications, what runs out soon and what ran out, with the course to retake."""
    today = (now or utcnow()).astimezone(settings.timezone).date()
    async with reading() as db:
        rights = await rights_of(db, caller)
        member = rights.member
        if member is None or member.status == MemberStatus.left or member.erased_at is not None:
            raise DomainError("organisation.not_registered")
        return OwnQualifications(member.name, await held_by(db, id_of(member), today))
