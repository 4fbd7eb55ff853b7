"""/学习: a member studies a course's material and takes its quiz, in private.

`start_study` checks that the member may take it now and returns the material and the questions to ask; the chat
face asks them one at a time and keeps the answers in memory only. `finish_study` scores them and records the
attempt, in one transaction with the completion a pass brings (`completions.complete_after_passing`): an online
course is completed then, a session course once a session of it was attended. A quiz left unfinished records
nothing.

Retries: after a failed attempt the next one waits `settings.quiz_retry_after`; after a pass the quiz can be
taken again at any time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, session
from storage.errors import DomainError
from storage.models import Course, Member, MemberStatus, QuizAttempt, Unit, id_of, utcnow
from storage.services.actors import Actor
from storage.services.people import Rights, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.training.attempts import retry_from
from storage.services.training.completions import complete_after_passing
from storage.services.training.courses import CourseView, course_for_member, course_for_officer, view_of
from storage.services.training.onboarding import is_onboarding_course_of
from storage.services.training.quiz import Question, from_json, is_right, score
from storage.settings import settings


@dataclass(frozen=True)
class StudyStart:
    course: CourseView
    material_text: str
    material_link: str
    photos: tuple[str, ...]
    """The material's pictures: paths relative to the data directory."""
    questions: list[Question]
    """Empty: the course has material only."""


@dataclass(frozen=True)
class Wrong:
    number: int
    """The question's place in the quiz, from 1."""
    question: Question
    chosen: tuple[int, ...]


@dataclass(frozen=True)
class StudyResult:
    course: CourseView
    correct: int
    questions: int
    score: int
    pass_mark: int
    passed: bool
    wrong: list[Wrong]
    granted: tuple[str, ...] = ()
    """A pass that completed the course: the qualifications it grants (held already when it was completed today)."""
    valid_until: date | None = None
    completed: bool = False
    session_needed: bool = False
    """Passed, and the course is completed by attending a session of it (none attended yet)."""
    retry_from: datetime | None = None
    """Failed: when the next attempt may start."""


async def _member(db: AsyncSession, caller: Actor) -> Member:
    return _active((await rights_of(db, caller)).member)


def _active(member: Member | None) -> Member:
    """A member, or an applicant (who may take their onboarding course only: _course_to_take)."""
    if member is None or member.status not in (MemberStatus.active, MemberStatus.applied):
        raise DomainError("organisation.not_in_team")
    return member


async def _course_to_take(db: AsyncSession, member: Member, course_id: int) -> tuple[Course, Unit]:
    """A course of the member's teams' units or above; for an applicant, the onboarding course of a team they
    applied to (the stage "trained"); anything else is no such course."""
    if member.status == MemberStatus.active:
        try:
            return await course_for_member(db, member, course_id)
        except DomainError:
            if not settings.training_stage_on:
                raise
    course = await db.get(Course, course_id)
    unit = await db.get(Unit, course.unit_id) if course is not None else None
    if course is None or unit is None or course.retired_at is not None:
        raise DomainError("training.no_such_course", course_id=course_id)
    if not await is_onboarding_course_of(db, member, course):
        raise DomainError("training.no_such_course", course_id=course_id)
    return course, unit


async def _officer_may_see(db: AsyncSession, rights: Rights, course_id: int) -> bool:
    try:
        await course_for_officer(db, rights, course_id, change=False)
    except DomainError:
        return False
    return True


def _check_retry(retry_from: datetime | None, now: datetime, course_id: int) -> None:
    if retry_from is not None and now < retry_from:
        raise DomainError("training.retry_later", course_id=course_id, at=retry_from)


async def start_study(caller: Actor, course_id: int, now: datetime | None = None) -> StudyStart:
    """/学习 编号: the material and the questions of a course the member may take; refused while a failed attempt is
    too recent, and when there is nothing to study."""
    now = now or utcnow()
    async with reading() as db:
        rights = await rights_of(db, caller)
        try:
            member = _active(rights.member)
            course, unit = await _course_to_take(db, member, course_id)
        except DomainError:
            if rights.is_officer and await _officer_may_see(db, rights, course_id):
                raise DomainError("training.study_is_for_members", course_id=course_id) from None
            raise
        questions = from_json(course.quiz)
        if not questions and not (course.material_text or course.material_link or course.material_photos):
            raise DomainError("training.nothing_to_study", course_id=course_id, name=course.name)
        if questions:
            _check_retry(await retry_from(db, course_id, id_of(member)), now, course_id)
        return StudyStart(
            view_of(course, unit),
            course.material_text,
            course.material_link,
            tuple(course.material_photos),
            questions,
        )


@retry_on_conflict
async def finish_study(
    caller: Actor,
    course_id: int,
    asked: list[Question],
    answers: list[tuple[int, ...]],
    now: datetime | None = None,
) -> StudyResult:
    """The last question answered: score the answers to the questions `asked` and record the attempt, with the
    completion a pass brings, in one transaction. Refused (nothing recorded) when the course's questions changed
    meanwhile, it was retired, or another attempt failed meanwhile."""
    now = now or utcnow()
    async with session() as db:
        member = await _member(db, caller)
        retired = await db.get(Course, course_id)
        if retired is not None and retired.retired_at is not None:
            raise DomainError("training.retired_meanwhile", course_id=course_id, name=retired.name)
        course, unit = await _course_to_take(db, member, course_id)
        member_id = id_of(member)
        if [question.as_json() for question in asked] != course.quiz or len(answers) != len(asked):
            raise DomainError("training.quiz_changed", course_id=course_id)
        _check_retry(await retry_from(db, course_id, member_id), now, course_id)
        correct, points = score(asked, answers)
        passed = points >= course.pass_mark
        db.add(
            QuizAttempt(
                course_id=course_id,
                member_id=member_id,
                score=points,
                correct=correct,
                questions=len(asked),
                passed=passed,
                created_at=now,
            )
        )
        wrong = [
            Wrong(number, question, chosen)
            for number, (question, chosen) in enumerate(zip(asked, answers, strict=True), start=1)
            if not is_right(question, chosen)
        ]
        result = StudyResult(view_of(course, unit), correct, len(asked), points, course.pass_mark, passed, wrong)
        if not passed:
            return _failed(result, now)
        return await _passed(db, course, member_id, now, result)


def _failed(result: StudyResult, now: datetime) -> StudyResult:
    return replace(result, retry_from=now + settings.quiz_retry_after)


async def _passed(db: AsyncSession, course: Course, member_id: int, now: datetime, result: StudyResult) -> StudyResult:
    done = await complete_after_passing(db, course, member_id, now, tell=False)
    if done is None:
        return replace(result, session_needed=True)
    return replace(result, completed=True, granted=done.grants, valid_until=done.valid_until)
