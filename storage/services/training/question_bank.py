"""A course's questions (/题库): an officer who may change the course loads them (replacing the old ones), reads
them with their answers, or removes them; loading and removing are audited."""

from __future__ import annotations

from dataclasses import dataclass

from storage.db import reading, session
from storage.models import id_of
from storage.services.actors import Actor
from storage.services.organisation import audit
from storage.services.people import rights_of
from storage.services.retry import retry_on_conflict
from storage.services.training.courses import CourseView, course_for_officer, view_of
from storage.services.training.quiz import Kind, Question, counts_by_kind, from_json, parse_quiz


@dataclass(frozen=True)
class QuizLoaded:
    course: CourseView
    counts: dict[Kind, int]
    replaced: int
    """How many questions the course had before (0: none)."""
    changed: bool
    """False: the course had these very questions already (a double send)."""


@dataclass(frozen=True)
class QuizShown:
    course: CourseView
    questions: list[Question]


@dataclass(frozen=True)
class QuizCleared:
    course: CourseView
    removed: int
    """How many questions it had (0: none, nothing changed)."""


@retry_on_conflict
async def load_quiz(caller: Actor, course_id: int, text: str) -> QuizLoaded:
    """/题库 编号 + the questions: they replace the course's quiz, all or nothing (a refusal keeps the old one)."""
    questions = parse_quiz(text)
    items = [question.as_json() for question in questions]
    async with session() as db:
        rights = await rights_of(db, caller)
        course, unit = await course_for_officer(db, rights, course_id, change=True)
        before = len(course.quiz)
        if course.quiz == items:
            return QuizLoaded(view_of(course, unit), counts_by_kind(questions), before, changed=False)
        course.quiz = items
        db.add(course)
        counts = counts_by_kind(questions)
        await audit(
            db,
            caller,
            rights.member,
            "load_quiz",
            f"course:{id_of(course)}",
            questions=len(items),
            replaced=before,
            **counts,
        )
        return QuizLoaded(view_of(course, unit), counts, before, changed=True)


async def show_quiz(caller: Actor, course_id: int) -> QuizShown:
    """/题库 编号: the questions with their answers, for an officer who may change the course."""
    async with reading() as db:
        rights = await rights_of(db, caller)
        course, unit = await course_for_officer(db, rights, course_id, change=True)
        return QuizShown(view_of(course, unit), from_json(course.quiz))


@retry_on_conflict
async def clear_quiz(caller: Actor, course_id: int) -> QuizCleared:
    """/题库 编号 清空: the course has no quiz any more (attempts already made stay)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        course, unit = await course_for_officer(db, rights, course_id, change=True)
        before = len(course.quiz)
        if before:
            course.quiz = []
            db.add(course)
            await audit(db, caller, rights.member, "clear_quiz", f"course:{id_of(course)}", removed=before)
        return QuizCleared(view_of(course, unit), before)
