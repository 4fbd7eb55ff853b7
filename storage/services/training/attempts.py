"""Quiz attempts as the rules read them: whether a member's pass still counts towards completing a course, and when
a failed attempt lets them try again. /学习 (study), a session's close (completions) and /课程 编号 (courses) ask
here."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import Course, QuizAttempt, id_of
from storage.settings import settings


def counts_from(course: Course, today: date) -> date | None:
    """The earliest day a session attended or a quiz passed still counts towards completing the course today: one
    validity period back (None: any day)."""
    if course.validity_months is None:
        return None
    return today - relativedelta(months=course.validity_months) + timedelta(days=1)


async def passed_quiz(db: AsyncSession, course: Course, member_id: int, today: date) -> bool:
    """Whether the member passed the course's quiz within one validity period back."""
    statement = select(QuizAttempt.id).where(
        QuizAttempt.course_id == id_of(course), QuizAttempt.member_id == member_id, col(QuizAttempt.passed)
    )
    since = counts_from(course, today)
    if since is not None:
        start = datetime.combine(since, datetime.min.time(), settings.timezone)
        statement = statement.where(col(QuizAttempt.created_at) >= start)
    return (await db.exec(statement.limit(1))).first() is not None


async def retry_from(db: AsyncSession, course_id: int, member_id: int) -> datetime | None:
    """When the member may try again: `[training] retry_after_hours` after their last attempt, if it failed; None
    after a pass or none."""
    last = (
        await db.exec(
            select(QuizAttempt)
            .where(QuizAttempt.course_id == course_id, QuizAttempt.member_id == member_id)
            .order_by(col(QuizAttempt.created_at).desc(), col(QuizAttempt.id).desc())
            .limit(1)
        )
    ).first()
    if last is None or last.passed:
        return None
    return last.created_at + settings.quiz_retry_after
