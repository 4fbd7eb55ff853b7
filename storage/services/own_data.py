"""/我的数据: everything the bot holds about the member who asks, for them alone (PIPL's right of access).

Their own file is theirs, so nothing in it is masked. What others did about them is there without who did it:
no officer who decided, vetted, recorded, awarded or answered is named; an officer's note on their background
check only where the deployment tells applicants it (`[members] vetting_note_to_applicant`), as the notice does,
and an officer's note on verifying their tip not at all (OFFICERS_WORDS).
The face lays it out as a workbook, a sheet per kind (plugins/_texts/own_data.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from storage.db import session
from storage.errors import DomainError
from storage.models import (
    AlertResponse,
    AuditLog,
    Course,
    CourseCompletion,
    Insurance,
    JoinRequest,
    Member,
    PlatformIdentity,
    PointEntry,
    Qualification,
    QuizAttempt,
    Redemption,
    Reward,
    Role,
    RoleKind,
    Signup,
    Task,
    Team,
    TeamMembership,
    Tip,
    TipEntry,
    TipStatus,
    Unit,
    Vetting,
    id_of,
    utcnow,
)
from storage.services.actors import Actor
from storage.services.organisation import audit
from storage.services.people import member_for
from storage.settings import settings

ONCE_IN = timedelta(hours=1)
"""At most one file per member in this time: it is a whole file, and cannot be used to flood the chat."""
OFFICERS_WORDS = frozenset({TipStatus.verified.value})
"""Tip history entries whose words are the officers' own: the note an officer writes when verifying a tip (/核实
编号 积分 备注: what was found, often about other people) is never told to the reporter, so it is not here either;
a question or a dismissal's reason was told to them, and is."""
ACTION = "own_data"
"""The audit log's action for a file sent (its time is what the limit reads)."""


@dataclass(frozen=True)
class TeamPlace:
    team: str
    unit: str
    status: str
    applied_at: datetime
    decided_at: datetime | None
    reason: str | None


@dataclass(frozen=True)
class RolePlace:
    kind: str
    scope: str
    """The unit's path, the team's name, or "" for an administrator."""
    granted_at: datetime


@dataclass(frozen=True)
class SignupLine:
    task_id: int
    kind: str
    place: str
    start_at: datetime
    signup: Signup


@dataclass(frozen=True)
class TipLine:
    tip: Tip
    unit: str
    entries: tuple[tuple[datetime, str, str, list[str]], ...]
    """(when, kind, text, photos) of its history, in order: no officer is named."""


@dataclass(frozen=True)
class RedemptionLine:
    redemption: Redemption
    reward: str


@dataclass(frozen=True)
class VettingLine:
    result: str
    checked_on: date
    note: str | None
    """The officer's note only where the deployment tells applicants it (`[members] vetting_note_to_applicant`)."""


@dataclass(frozen=True)
class CompletionLine:
    course_id: int
    course: str
    completion: CourseCompletion
    qualifications: tuple[str, ...]
    """What it granted (each valid through the completion's valid_until)."""


@dataclass(frozen=True)
class QuizLine:
    course_id: int
    course: str
    attempt: QuizAttempt


@dataclass(frozen=True)
class AuditLine:
    at: datetime
    action: str
    target: str
    detail: dict[str, Any]
    by_them: bool
    """Whether they made it; entries about them made by others do not say by whom."""


@dataclass(frozen=True)
class OwnData:
    member: Member
    accounts: Sequence[PlatformIdentity]
    teams: list[TeamPlace]
    roles: list[RolePlace]
    applications: Sequence[JoinRequest]
    signups: list[SignupLine]
    ledger: Sequence[PointEntry]
    tips: list[TipLine]
    redemptions: list[RedemptionLine]
    responses: Sequence[AlertResponse]
    vettings: list[VettingLine]
    insurance: Sequence[Insurance]
    completions: list[CompletionLine]
    quizzes: list[QuizLine]
    audit: list[AuditLine]
    made_at: datetime


async def own_data(caller: Actor, now: datetime | None = None) -> OwnData:
    """The caller's data, at most once in ONCE_IN (refused with when the next may be asked)."""
    now = now or utcnow()
    async with session() as db:
        member = await member_for(db, caller)
        if member is None:
            raise DomainError("own_data.not_a_member")
        member_id = id_of(member)
        member = await db.get(Member, member_id, with_for_update=True, populate_existing=True)
        assert member is not None
        last = (
            await db.exec(
                select(AuditLog.at)
                .where(AuditLog.actor_member_id == member_id, AuditLog.action == ACTION)
                .order_by(col(AuditLog.at).desc())
            )
        ).first()
        if last is not None and now - last < ONCE_IN:
            raise DomainError("own_data.too_soon", next_at=last + ONCE_IN)

        accounts = (await db.exec(select(PlatformIdentity).where(PlatformIdentity.member_id == member_id))).all()
        keys = [f"{account.platform}:{account.user_id}" for account in accounts]
        places = (
            await db.exec(
                select(TeamMembership, Team.name, Unit.path)
                .join(Team, col(Team.id) == col(TeamMembership.team_id))
                .join(Unit, col(Unit.id) == col(Team.unit_id))
                .where(TeamMembership.member_id == member_id)
                .order_by(col(TeamMembership.id))
            )
        ).all()
        teams = [
            TeamPlace(team, unit, place.status, place.applied_at, place.decided_at, place.reason)
            for place, team, unit in places
        ]
        roles = []
        for role in (await db.exec(select(Role).where(Role.member_id == member_id).order_by(col(Role.id)))).all():
            scope = ""
            if role.kind == RoleKind.officer and (unit := await db.get(Unit, role.scope_id)) is not None:
                scope = unit.path
            elif role.kind == RoleKind.leader and (team := await db.get(Team, role.scope_id)) is not None:
                scope = team.name
            roles.append(RolePlace(role.kind, scope, role.created_at))
        applications = []
        for account in accounts:
            applications += (
                await db.exec(
                    select(JoinRequest).where(
                        JoinRequest.platform == account.platform, JoinRequest.user_id == account.user_id
                    )
                )
            ).all()
        signups = [
            SignupLine(task.id or 0, task.kind, task.place, task.start_at, signup)
            for signup, task in (
                await db.exec(
                    select(Signup, Task)
                    .join(Task, col(Task.id) == col(Signup.task_id))
                    .where(Signup.member_id == member_id)
                    .order_by(col(Task.start_at))
                )
            ).all()
        ]
        ledger = (
            await db.exec(
                select(PointEntry).where(PointEntry.member_id == member_id).order_by(col(PointEntry.created_at))
            )
        ).all()
        tips = []
        for tip, unit in (
            await db.exec(
                select(Tip, Unit.path)
                .join(Unit, col(Unit.id) == col(Tip.unit_id))
                .where(Tip.reporter_id == member_id)
                .order_by(col(Tip.id))
            )
        ).all():
            entries = (
                await db.exec(select(TipEntry).where(TipEntry.tip_id == tip.id).order_by(col(TipEntry.id)))
            ).all()
            history = tuple(
                (entry.at, entry.kind, "" if entry.kind in OFFICERS_WORDS else entry.text, list(entry.photos))
                for entry in entries
            )
            tips.append(TipLine(tip, unit, history))
        redemptions = [
            RedemptionLine(redemption, reward)
            for redemption, reward in (
                await db.exec(
                    select(Redemption, Reward.name)
                    .join(Reward, col(Reward.id) == col(Redemption.reward_id))
                    .where(Redemption.member_id == member_id)
                    .order_by(col(Redemption.id))
                )
            ).all()
        ]
        responses = (await db.exec(select(AlertResponse).where(AlertResponse.member_id == member_id))).all()
        notes_shown = settings.vetting_note_to_applicant
        vettings = [
            VettingLine(vetting.result, vetting.checked_on, (vetting.note or None) if notes_shown else None)
            for vetting in (
                await db.exec(select(Vetting).where(Vetting.member_id == member_id).order_by(col(Vetting.id)))
            ).all()
        ]
        insurance = (await db.exec(select(Insurance).where(Insurance.member_id == member_id))).all()
        granted: dict[int, list[str]] = {}
        for completion_id, tag in (
            await db.exec(
                select(Qualification.completion_id, Qualification.tag)
                .where(Qualification.member_id == member_id)
                .order_by(col(Qualification.id))
            )
        ).all():
            granted.setdefault(completion_id, []).append(tag)
        completions = [
            CompletionLine(course.id or 0, course.name, completion, tuple(granted.get(id_of(completion), ())))
            for completion, course in (
                await db.exec(
                    select(CourseCompletion, Course)
                    .join(Course, col(Course.id) == col(CourseCompletion.course_id))
                    .where(CourseCompletion.member_id == member_id)
                    .order_by(col(CourseCompletion.completed_on), col(CourseCompletion.id))
                )
            ).all()
        ]
        quizzes = [
            QuizLine(course.id or 0, course.name, attempt)
            for attempt, course in (
                await db.exec(
                    select(QuizAttempt, Course)
                    .join(Course, col(Course.id) == col(QuizAttempt.course_id))
                    .where(QuizAttempt.member_id == member_id)
                    .order_by(col(QuizAttempt.created_at), col(QuizAttempt.id))
                )
            ).all()
        ]
        about = (col(AuditLog.actor_member_id) == member_id) | (col(AuditLog.target) == f"member:{member_id}")
        if keys:
            about = about | col(AuditLog.actor).in_(keys)
        entries = (await db.exec(select(AuditLog).where(about).order_by(col(AuditLog.at), col(AuditLog.id)))).all()
        audit_lines = []
        for entry in entries:
            by_them = entry.actor_member_id == member_id or entry.actor in keys
            detail = dict(entry.detail)
            if not by_them and entry.action == "record_vetting" and not notes_shown:
                detail.pop("note", None)  # the officer's note on their background check, as in the vetting sheet
            audit_lines.append(AuditLine(entry.at, entry.action, entry.target, detail, by_them=by_them))
        (await audit(db, caller, member, ACTION, f"member:{member_id}")).at = now
        return OwnData(
            member=member,
            accounts=accounts,
            teams=teams,
            roles=roles,
            applications=applications,
            signups=signups,
            ledger=ledger,
            tips=tips,
            redemptions=redemptions,
            responses=responses,
            vettings=vettings,
            insurance=insurance,
            completions=completions,
            quizzes=quizzes,
            audit=audit_lines,
            made_at=now,
        )
