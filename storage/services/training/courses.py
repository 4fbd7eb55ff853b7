"""Courses (/课程): an officer defines one for their unit (what completing it grants, for how long, its pass mark),
gives it material, lists, shows and retires it. Members see the courses of their teams' units and the units above.

Who sees a course: an officer whose units cover the course's unit (to change it), or whose own unit lies below it
(to use it: a session, /结业); a member of a team of the course's unit or a unit below it. Everyone else is answered
as for a course that does not exist (`training.no_such_course`), so a sibling unit learns nothing of its courses.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    Course,
    CourseCompletion,
    Member,
    MembershipStatus,
    MemberStatus,
    Task,
    TaskStatus,
    TaskTeam,
    TeamMembership,
    Unit,
    id_of,
    utcnow,
)
from storage.services.actors import Actor
from storage.services.numerals import with_digits
from storage.services.organisation import audit, members_of_units, officer_unit, units_of_member
from storage.services.people import Rights, is_plain_name, parse_tags, rights_of
from storage.services.photos import cleaned
from storage.services.retry import retry_on_conflict
from storage.services.training.attempts import passed_quiz, retry_from
from storage.services.training.qualifications import state_on
from storage.settings import settings

MAX_NAME = 30
MAX_DESCRIPTION = 500
MAX_MATERIAL = 2000
MAX_LINK = 500
MAX_GRANTS = 5
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_VALIDITY_MONTHS = 120
SHOWN_PEOPLE = 30
"""/课程 编号 names at most this many members completed and due; the rest are counted."""

VALIDITY = re.compile(r"^(?:有效期[:：]?)?(?:(\d{1,3})(年|个月|月)|(长期)(?:有效)?)$")
VALIDITY_LIKE = re.compile(r"^有效期")
"""A word meant as the validity (refused when it cannot be read, rather than kept as the description)."""
GRANTS = re.compile(r"^授予[:：](.+)$")
PASS_MARK = re.compile(r"^(?:及格|合格)[:：]?(\d{1,3})分?$")
PASS_MARK_LIKE = re.compile(r"^(?:及格[:：]?[\d.]|\S{0,3}\d{1,3}分$)")
"""A word meant as the pass mark, however mistyped (及各70分, 合格线70分)."""
VALIDITY_TYPO = re.compile(r"^\S{0,4}?\d{1,3}(?:\.\d)?(?:年|个月|月)$")
"""A word meant as the validity with its first word mistyped (有校期1年, 有效其2年)."""
COMMAND_START = ("/", "／")
UNIT = re.compile(r"^单位[:：](.+)$")
ONLINE_WORDS = ("线上", "在线")
YEARS = "年"
LINK = re.compile(r"^https?://\S+$")


@dataclass(frozen=True)
class CourseSpec:
    """What /课程 新建 says: name first, then in any order the validity, what it grants, the pass mark, 线上, the
    unit; any other words are its description."""

    name: str
    validity_months: int | None = None
    grants: tuple[str, ...] = ()
    pass_mark: int | None = None
    online: bool = False
    unit_text: str | None = None
    description: str = ""


def parse_course(words: list[str]) -> CourseSpec:
    cleaned_words = [unicodedata.normalize("NFKC", word).strip() for word in words if word.strip()]
    if not cleaned_words:
        raise DomainError("training.no_course_name")
    name = cleaned_words[0]
    if not 2 <= len(name) <= MAX_NAME or not any(ch.isalpha() for ch in name) or "[" in name or "<" in name:
        raise DomainError("training.bad_course_name", text=quoted(name), most=MAX_NAME)
    validity: int | None = None
    grants: list[str] = []
    pass_mark: int | None = None
    online = False
    unit_text: str | None = None
    rest: list[str] = []
    for typed in cleaned_words[1:]:
        if typed.startswith(COMMAND_START):  # several /课程 新建 lines in one message
            raise DomainError("training.one_course_at_a_time")
        word = with_digits(typed)  # 有效期两年, 及格八十分
        if found := VALIDITY.match(word):
            if found.group(3):
                validity = None
            else:
                months = int(found.group(1)) * (12 if found.group(2) == YEARS else 1)
                if not 1 <= months <= MAX_VALIDITY_MONTHS:
                    raise DomainError("training.bad_validity", text=quoted(word), most_years=MAX_VALIDITY_MONTHS // 12)
                validity = months
        elif VALIDITY_LIKE.match(word) or VALIDITY_TYPO.match(word):
            raise DomainError("training.bad_validity", text=quoted(typed), most_years=MAX_VALIDITY_MONTHS // 12)
        elif found := GRANTS.match(typed):
            try:
                tags = parse_tags(found.group(1))
            except DomainError as error:
                raise DomainError("training.bad_grants", text=quoted(typed)) from error
            if not all(is_plain_name(tag) for tag in tags):  # a task's 需要: names it: letters, not markup
                raise DomainError("training.bad_grants", text=quoted(typed))
            grants += tags
        elif found := PASS_MARK.match(word):
            pass_mark = int(found.group(1))
            if not 1 <= pass_mark <= 100:
                raise DomainError("training.bad_pass_mark", text=quoted(typed))
        elif PASS_MARK_LIKE.match(word):
            raise DomainError("training.bad_pass_mark", text=quoted(typed))
        elif typed in ONLINE_WORDS:
            online = True
        elif found := UNIT.match(typed):
            unit_text = found.group(1).strip()
        else:
            rest.append(typed)
    grants = list(dict.fromkeys(grants))
    if not grants:
        raise DomainError("training.no_grants")
    if len(grants) > MAX_GRANTS:
        raise DomainError("training.too_many_grants", most=MAX_GRANTS)
    description = " ".join(rest)
    if len(description) > MAX_DESCRIPTION:
        raise DomainError("training.description_too_long", most=MAX_DESCRIPTION)
    return CourseSpec(name, validity, tuple(grants), pass_mark, online, unit_text, description)


@dataclass(frozen=True)
class CourseView:
    id: int
    name: str
    unit: str
    """The unit's path."""
    description: str
    validity_months: int | None
    grants: tuple[str, ...]
    pass_mark: int
    online: bool
    questions: int
    has_material: bool
    retired: bool


def view_of(course: Course, unit: Unit) -> CourseView:
    return CourseView(
        id=id_of(course),
        name=course.name,
        unit=unit.path,
        description=course.description,
        validity_months=course.validity_months,
        grants=tuple(course.grants),
        pass_mark=course.pass_mark,
        online=course.online,
        questions=len(course.quiz),
        has_material=bool(course.material_text or course.material_link or course.material_photos),
        retired=course.retired_at is not None,
    )


# ---- who sees a course


def _above_or_same(course_unit: Unit, unit: Unit) -> bool:
    """Whether the course's unit is this unit or one above it."""
    return unit.path == course_unit.path or unit.path.startswith(course_unit.path + "/")


def officer_may_change(rights: Rights, unit: Unit) -> bool:
    return rights.covers_unit(unit)


def officer_may_use(rights: Rights, unit: Unit) -> bool:
    """An officer uses the courses of their units and below, and of the units above theirs (a city's course)."""
    return rights.is_admin or rights.covers_unit(unit) or any(_above_or_same(unit, own) for own in rights.officer_units)


async def _course_and_unit(db: AsyncSession, course_id: int) -> tuple[Course, Unit] | None:
    row = (
        await db.exec(
            select(Course, Unit).join(Unit, col(Unit.id) == col(Course.unit_id)).where(Course.id == course_id)
        )
    ).first()
    return (row[0], row[1]) if row is not None else None


async def course_for_officer(
    db: AsyncSession, rights: Rights, course_id: int, *, change: bool, retired_ok: bool = False
) -> tuple[Course, Unit]:
    """The course an officer changes (`change`: their units cover its unit) or uses; others, and a retired course
    unless `retired_ok`, as for no such course."""
    if not rights.is_officer:
        raise NotAllowed("training.officers_only")
    found = await _course_and_unit(db, course_id)
    if found is None:
        raise DomainError("training.no_such_course", course_id=course_id)
    course, unit = found
    usable = officer_may_use(rights, unit)
    if not usable or (course.retired_at is not None and not retired_ok):
        raise DomainError("training.no_such_course", course_id=course_id)
    if change and not officer_may_change(rights, unit):  # a city's course, seen from a station: it knows of it
        raise NotAllowed("training.course_of_unit_above", course_id=course_id, name=course.name, unit=unit.path)
    return course, unit


async def course_for_member(db: AsyncSession, member: Member, course_id: int) -> tuple[Course, Unit]:
    """The course an active member takes (/学习): one of a unit of their teams or above it, not retired; anything
    else is no such course."""
    found = await _course_and_unit(db, course_id)
    if found is None or found[0].retired_at is not None:
        raise DomainError("training.no_such_course", course_id=course_id)
    course, unit = found
    if not any(_above_or_same(unit, own) for own in await units_of_member(db, id_of(member))):
        raise DomainError("training.no_such_course", course_id=course_id)
    return course, unit


# ---- defining, listing, showing, retiring


@dataclass(frozen=True)
class CourseCreated:
    course: CourseView
    changed: bool
    """False: the same course was defined already (a double send)."""


@retry_on_conflict
async def create_course(caller: Actor, spec: CourseSpec) -> CourseCreated:
    """/课程 新建: a course of the officer's unit (or the one named with 单位:), audited."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("training.officers_only")
        unit = await officer_unit(db, rights, spec.unit_text, "create_course")
        same = (await db.exec(select(Course).where(Course.unit_id == unit.id, Course.name == spec.name))).first()
        pass_mark = spec.pass_mark if spec.pass_mark is not None else settings.pass_mark
        if same is not None:
            if same.retired_at is not None:
                raise DomainError("training.course_name_retired", name=spec.name, course_id=id_of(same))
            if (tuple(same.grants), same.validity_months, same.pass_mark, same.online) == (
                spec.grants,
                spec.validity_months,
                pass_mark,
                spec.online,
            ):
                return CourseCreated(view_of(same, unit), changed=False)
            raise DomainError("training.course_exists", name=spec.name, course_id=id_of(same))
        course = Course(
            unit_id=id_of(unit),
            name=spec.name,
            description=spec.description,
            validity_months=spec.validity_months,
            grants=list(spec.grants),
            pass_mark=pass_mark,
            online=spec.online,
            created_by=rights.member.id if rights.member else None,
        )
        db.add(course)
        await db.flush()
        await audit(
            db,
            caller,
            rights.member,
            "create_course",
            f"course:{course.id}",
            name=spec.name,
            unit=unit.path,
            grants=list(spec.grants),
            validity_months=spec.validity_months,
        )
        return CourseCreated(view_of(course, unit), changed=True)


@dataclass(frozen=True)
class CourseLine:
    course: CourseView
    holders: int
    """Members (within the caller's reach for an officer) holding a valid completion of it."""
    mine: date | bool | None = False
    """For a member: the last day their completion counts (None: for good), False when they have none valid."""


@dataclass(frozen=True)
class CourseList:
    lines: list[CourseLine]
    is_officer: bool


async def list_courses(caller: Actor, now: datetime | None = None) -> CourseList:
    """/课程: an officer's usable courses (their units', below and above), a member's courses to take."""
    today = _today(now)
    async with reading() as db:
        rights = await rights_of(db, caller)
        rows = (
            await db.exec(
                select(Course, Unit)
                .join(Unit, col(Unit.id) == col(Course.unit_id))
                .where(col(Course.retired_at).is_(None))
                .order_by(col(Course.id))
            )
        ).all()
        if rights.is_officer:
            usable = [(course, unit) for course, unit in rows if officer_may_use(rights, unit)]
            counts = await _holders(db, rights, [id_of(course) for course, _ in usable], today)
            lines = [CourseLine(view_of(course, unit), counts.get(id_of(course), 0)) for course, unit in usable]
            return CourseList(lines, is_officer=True)
        member = rights.member
        if member is None or member.status != MemberStatus.active:
            raise DomainError("organisation.not_in_team")
        own_units = await units_of_member(db, id_of(member))
        visible = [(c, u) for c, u in rows if any(_above_or_same(u, own) for own in own_units)]
        mine = await _own_completions(db, id_of(member), today)
        lines = [CourseLine(view_of(c, u), 0, mine.get(id_of(c), False)) for c, u in visible]
        return CourseList(lines, is_officer=False)


def _today(now: datetime | None) -> date:
    return (now or utcnow()).astimezone(settings.timezone).date()


def _counts_on(day: date):
    return (col(CourseCompletion.valid_until).is_(None)) | (col(CourseCompletion.valid_until) >= day)


async def _holders(db: AsyncSession, rights: Rights, course_ids: list[int], day: date) -> dict[int, int]:
    """How many members of the officer's units hold each course's completion valid on `day` (all members, for an
    administrator): a city course's count at a station is the station's."""
    if not course_ids:
        return {}
    statement = (
        select(CourseCompletion.course_id, func.count(func.distinct(CourseCompletion.member_id)))
        .join(Member, col(Member.id) == col(CourseCompletion.member_id))
        .where(
            col(CourseCompletion.course_id).in_(course_ids),
            _counts_on(day),
            col(Member.erased_at).is_(None),
            col(Member.status) != MemberStatus.left.value,
        )
        .group_by(col(CourseCompletion.course_id))
    )
    if not rights.is_admin:
        statement = statement.where(col(Member.id).in_(members_of_units(rights.officer_units)))
    rows = (await db.exec(statement)).all()
    return {course_id: count for course_id, count in rows}  # noqa: C416 (rows of two columns, typed)


async def _own_completions(db: AsyncSession, member_id: int, day: date) -> dict[int, date | None]:
    """The member's valid completions by course: the last day each counts (None: for good)."""
    rows = (
        await db.exec(
            select(CourseCompletion.course_id, col(CourseCompletion.valid_until)).where(
                CourseCompletion.member_id == member_id, _counts_on(day)
            )
        )
    ).all()
    best: dict[int, date | None] = {}
    for course_id, until in rows:
        if course_id not in best:
            best[course_id] = until
            continue
        known = best[course_id]
        if known is not None and (until is None or until > known):
            best[course_id] = until
    return best


@dataclass(frozen=True)
class Person:
    member_id: int
    name: str
    valid_until: date | None
    """The last day their completion counts (None: for good)."""


@dataclass(frozen=True)
class CourseDetail:
    course: CourseView
    material_text: str
    material_link: str
    photos: int
    sessions: int
    """Sessions (tasks linked to it) held or to come."""
    completed: list[Person]
    """Officers: members within their reach whose completion counts today and does not run out soon."""
    due: list[Person]
    """Officers: members whose completion runs out within 30 days or ran out and was not renewed."""
    more_completed: int
    more_due: int
    mine: date | bool | None = False
    """Members: the last day their completion counts (None: for good), False when they have none valid."""
    is_officer: bool = False
    may_change: bool = False
    """Officers whose units cover the course's unit (material, quiz, retiring); others use it only."""
    quiz_passed: bool = False
    """Members without a valid completion: they passed its quiz within a validity period (a session to go)."""
    retry_from: datetime | None = None
    """Members: their last attempt failed; the next may start then (None: now, or no attempt)."""


async def show_course(caller: Actor, course_id: int, now: datetime | None = None) -> CourseDetail:
    """/课程 编号: for an officer who may use it, who completed it and who is due to renew, among the members of
    their units; for a member who may take it, the course and their own completion."""
    today = _today(now)
    async with reading() as db:
        rights = await rights_of(db, caller)
        if rights.is_officer:
            course, unit = await course_for_officer(db, rights, course_id, change=False, retired_ok=True)
        else:
            member = rights.member
            if member is None or member.status != MemberStatus.active:
                raise DomainError("organisation.not_in_team")
            course, unit = await course_for_member(db, member, course_id)
        sessions_of_course = select(func.count()).select_from(Task).where(Task.course_id == course_id)
        view = view_of(course, unit)
        photos = len(course.material_photos)
        member = rights.member
        if not rights.is_officer and member is not None:
            # the sessions still to come that are for one of the member's teams: those they can sign up for
            to_come = sessions_of_course.where(
                Task.status == TaskStatus.open.value,
                col(Task.end_at) > (now or utcnow()),
                col(Task.id).in_(
                    select(TaskTeam.task_id).where(
                        col(TaskTeam.team_id).in_(
                            select(TeamMembership.team_id).where(
                                TeamMembership.member_id == id_of(member),
                                TeamMembership.status == MembershipStatus.active,
                            )
                        )
                    )
                ),
            )
            sessions = (await db.exec(to_come)).one()
            mine = (await _own_completions(db, id_of(member), today)).get(course_id, False)
            passed, retry_from = await _quiz_standing(db, course, id_of(member), now or utcnow())
            return CourseDetail(
                view,
                course.material_text,
                course.material_link,
                photos,
                sessions,
                [],
                [],
                0,
                0,
                mine=mine,
                quiz_passed=passed,
                retry_from=retry_from,
            )
        sessions = (await db.exec(sessions_of_course.where(Task.status != TaskStatus.cancelled.value))).one()
        completed, due = await _completed_and_due(db, rights, course_id, today)
        return CourseDetail(
            view,
            course.material_text,
            course.material_link,
            photos,
            sessions,
            completed=completed[:SHOWN_PEOPLE],
            due=due[:SHOWN_PEOPLE],
            more_completed=max(len(completed) - SHOWN_PEOPLE, 0),
            more_due=max(len(due) - SHOWN_PEOPLE, 0),
            is_officer=True,
            may_change=officer_may_change(rights, unit),
        )


async def _quiz_standing(
    db: AsyncSession, course: Course, member_id: int, now: datetime
) -> tuple[bool, datetime | None]:
    """Whether the member's pass of the course's quiz still counts, and when a failed last attempt lets them try
    again (None: now, or no attempt)."""
    if not course.quiz:
        return False, None
    passed = await passed_quiz(db, course, member_id, now.astimezone(settings.timezone).date())
    again = await retry_from(db, id_of(course), member_id)
    return passed, again if again is not None and again > now else None


async def _completed_and_due(
    db: AsyncSession, rights: Rights, course_id: int, today: date
) -> tuple[list[Person], list[Person]]:
    statement = (
        select(Member, col(CourseCompletion.valid_until))
        .join(CourseCompletion, col(CourseCompletion.member_id) == col(Member.id))
        .where(
            CourseCompletion.course_id == course_id,
            col(Member.erased_at).is_(None),
            col(Member.status) != MemberStatus.left.value,
        )
        .order_by(col(Member.id))
    )
    if not rights.is_admin:  # the members of teams of the officer's units, in the same statement however many
        statement = statement.where(col(Member.id).in_(members_of_units(rights.officer_units)))
    rows = (await db.exec(statement)).all()
    latest: dict[int, tuple[Member, date | None]] = {}
    for member, until in rows:
        known = latest.get(id_of(member))
        if known is None or (known[1] is not None and (until is None or until > known[1])):
            latest[id_of(member)] = (member, until)
    completed: list[Person] = []
    due: list[Person] = []
    for member, until in latest.values():
        person = Person(id_of(member), member.name, until)
        if state_on(until, today) != "valid":
            due.append(person)
        else:
            completed.append(person)
    due.sort(key=lambda person: person.valid_until or date.max)
    return completed, due


@dataclass(frozen=True)
class CourseRetired:
    course: CourseView
    changed: bool


@retry_on_conflict
async def retire_course(caller: Actor, course_id: int, now: datetime | None = None) -> CourseRetired:
    """/课程 停用 编号: no new sessions, quizzes or completions; what it granted stays valid until it runs out."""
    async with session() as db:
        rights = await rights_of(db, caller)
        course, unit = await course_for_officer(db, rights, course_id, change=True, retired_ok=True)
        if course.retired_at is not None:
            return CourseRetired(view_of(course, unit), changed=False)
        course.retired_at = now or utcnow()
        db.add(course)
        await audit(db, caller, rights.member, "retire_course", f"course:{course_id}", name=course.name)
        return CourseRetired(view_of(course, unit), changed=True)


# ---- material


@dataclass(frozen=True)
class Picture:
    data: bytes
    suffix: str = ".jpg"


@dataclass(frozen=True)
class MaterialSet:
    course: CourseView
    text: str
    link: str
    photos: int


@retry_on_conflict
async def set_material(caller: Actor, course_id: int, words: str, pictures: list[Picture]) -> MaterialSet:
    """/课程 资料 编号 文字 [链接] (pictures in the same message): what /学习 shows before the quiz, replacing the
    course's material; audited. Pictures are kept without their metadata."""
    text = unicodedata.normalize("NFKC", words).strip()
    parts = text.split()
    links = [part for part in parts if LINK.match(part)]
    if len(links) > 1:
        raise DomainError("training.one_link")
    link = links[0] if links else ""
    body = " ".join(part for part in parts if part != link) if link else text
    if not body and not link and not pictures:
        raise DomainError("training.no_material")
    if len(body) > MAX_MATERIAL:
        raise DomainError("training.material_too_long", most=MAX_MATERIAL)
    if len(link) > MAX_LINK:
        raise DomainError("training.material_too_long", most=MAX_LINK)
    if len(pictures) > MAX_PHOTOS:
        raise DomainError("training.too_many_pictures", most=MAX_PHOTOS)
    async with session() as db:
        rights = await rights_of(db, caller)
        course, unit = await course_for_officer(db, rights, course_id, change=True)
        stored = _store_pictures(course_id, pictures)
        course.material_text = body
        course.material_link = link
        course.material_photos = stored
        db.add(course)
        await audit(db, caller, rights.member, "set_material", f"course:{course_id}", link=link, photos=len(stored))
        return MaterialSet(view_of(course, unit), body, link, len(stored))


def _store_pictures(course_id: int, pictures: list[Picture]) -> list[str]:
    folder = settings.data_dir / "courses" / str(course_id)
    stored = []
    for picture in pictures:
        if len(picture.data) > MAX_PHOTO_BYTES:
            raise DomainError("training.picture_too_big", most_mb=MAX_PHOTO_BYTES // (1024 * 1024))
        data = cleaned(picture.data)
        if data is None:
            raise DomainError("training.picture_unreadable")
        suffix = picture.suffix if picture.suffix in (".jpg", ".jpeg", ".png", ".gif", ".webp") else ".jpg"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (hashlib.sha256(data).hexdigest()[:32] + suffix)
        if not path.exists():
            path.write_bytes(data)
        stored.append(str(path.relative_to(settings.data_dir)))
    return stored
