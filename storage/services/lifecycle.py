"""A member's life in the programme after joining: leaving a team (/退出), suspension and reinstatement by an
officer (/停用, /恢复). History is kept: a membership left stays as a row with status left, sign-ups cancelled stay
cancelled, the ledger and attendance stay; the audit log records each officer's decision.

Which sign-ups leaving a team cancels: those to open tasks targeted at that team that have not started yet,
unless the task is also targeted at another team the member remains active in (they may still serve on it through
that team). A task already under way keeps its sign-up (the member may be on the spot).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import reading, session
from storage.errors import DomainError
from storage.models import (
    Member,
    MembershipStatus,
    MemberStatus,
    Role,
    RoleKind,
    Signup,
    SignupStatus,
    Task,
    TaskStatus,
    TaskTeam,
    Team,
    TeamMembership,
    id_of,
    utcnow,
)
from storage.services import notices
from storage.services.actors import Actor, Where
from storage.services.organisation import audit, member_for_officer, team_at
from storage.services.outbox import tell_member
from storage.services.people import PersonRef, rights_of
from storage.services.retry import retry_on_conflict
from storage.services.tasks.queries import MemberAddress, TaskHeading, task_lock
from storage.services.tasks.signup import release_place

MAX_REASON = 100


# ---- leaving a team


@dataclass(frozen=True)
class Leaving:
    """What /退出 would do, asked before it is done: the team, and the sign-ups it would cancel."""

    team: str
    tasks: tuple[TaskHeading, ...]


@dataclass(frozen=True)
class Left:
    team: str
    cancelled: tuple[TaskHeading, ...]
    moved_up: tuple[MemberAddress, ...]
    """Who took a place the member gave up (each was told)."""
    changed: bool
    """False when the member had left the team already (a second 确认)."""


@dataclass(frozen=True)
class MemberLeftNotice:
    """To the team's leaders: a member left the team."""

    member_id: int
    member_name: str
    team: str
    cancelled: tuple[int, ...]
    """The tasks whose sign-ups were cancelled with it."""


async def _team_to_leave(
    db: AsyncSession, member: Member, where: Where | None, team_name: str | None
) -> tuple[TeamMembership, Team]:
    """The team a member leaves: the one named, else the one of this group when they are in it, else their only
    team."""
    rows = (
        await db.exec(
            select(TeamMembership, Team)
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .where(TeamMembership.member_id == member.id, TeamMembership.status == MembershipStatus.active)
            .order_by(col(Team.id))
        )
    ).all()
    if not rows:
        raise DomainError("lifecycle.in_no_team")
    if team_name:
        named = [(membership, team) for membership, team in rows if team.name == team_name.strip()]
        if not named:
            raise DomainError("lifecycle.not_in_that_team", names=tuple(team.name for _, team in rows))
        return named[0]
    if len(rows) == 1:
        return rows[0]
    here = await team_at(db, where) if where is not None else None
    if here is not None:
        for membership, team in rows:
            if team.id == here.team.id:
                return membership, team
    raise DomainError("lifecycle.which_team", names=tuple(team.name for _, team in rows))


async def _signups_to_cancel(
    db: AsyncSession, member_id: int, team_id: int | None, now: datetime, *, lock: bool
) -> list[tuple[Signup, Task]]:
    """The member's sign-ups (signed or waiting) to open tasks not yet started; with a team, only the team's tasks
    that are not also for another team the member stays in."""
    statement = (
        select(Signup, Task)
        .join(Task, col(Task.id) == col(Signup.task_id))
        .where(
            Signup.member_id == member_id,
            col(Signup.status).in_((SignupStatus.signed, SignupStatus.waiting)),
            Task.status == TaskStatus.open,
            col(Task.start_at) > now,
        )
        .order_by(col(Task.id))
    )
    if team_id is not None:
        staying = select(TeamMembership.team_id).where(
            TeamMembership.member_id == member_id,
            TeamMembership.status == MembershipStatus.active,
            TeamMembership.team_id != team_id,
        )
        also_theirs = select(TaskTeam.task_id).where(col(TaskTeam.team_id).in_(staying))
        statement = statement.join(TaskTeam, col(TaskTeam.task_id) == col(Task.id)).where(
            TaskTeam.team_id == team_id, col(Task.id).not_in(also_theirs)
        )
    if lock:
        statement = statement.with_for_update(of=Task)  # type: ignore[arg-type]
    return list((await db.exec(statement)).all())


async def _cancel_signups(
    db: AsyncSession, member_id: int, team_id: int | None, now: datetime
) -> tuple[list[TaskHeading], list[MemberAddress]]:
    """Cancel what _signups_to_cancel finds (its tasks locked), each place going to the first one waiting, who is
    told; returns the tasks and who moved up."""
    cancelled: list[TaskHeading] = []
    moved_up: list[MemberAddress] = []
    for signup, task in await _signups_to_cancel(db, member_id, team_id, now, lock=True):
        heading = TaskHeading.of(task)
        cancelled.append(heading)
        if (promoted := await release_place(db, heading, signup)) is not None:
            moved_up.append(promoted)
    return cancelled, moved_up


async def leaving(caller: Actor, where: Where | None, team_name: str | None, now: datetime | None = None) -> Leaving:
    """/退出 [队伍名], asked first: which team, and which sign-ups leaving it would cancel. Changes nothing."""
    now = now or utcnow()
    async with reading() as db:
        member = (await rights_of(db, caller)).member
        if member is None:
            raise DomainError("organisation.not_registered")
        membership, team = await _team_to_leave(db, member, where, team_name)
        found = await _signups_to_cancel(db, id_of(member), membership.team_id, now, lock=False)
        return Leaving(team=team.name, tasks=tuple(TaskHeading.of(task) for _, task in found))


async def leave_team(caller: Actor, where: Where | None, team_name: str | None, now: datetime | None = None) -> Left:
    """/退出 confirmed: the membership ends (status left), the sign-ups `leaving` named are cancelled and each place
    goes to the first one waiting (as /取消报名 does it), the member's leadership of the team ends, and the team's
    leaders are told. Leaving one's last team makes the member's status left (a suspension stays)."""
    now = now or utcnow()
    preview = await leaving(caller, where, team_name, now)
    async with AsyncExitStack() as locks:
        for task in sorted(preview.tasks, key=lambda heading: heading.id):  # the sign-up locks, in one order
            await locks.enter_async_context(task_lock(task.id))
        return await _leave(caller, where, preview.team, now)


@retry_on_conflict
async def _leave(caller: Actor, where: Where | None, team_name: str, now: datetime) -> Left:
    async with session() as db:
        member = (await rights_of(db, caller)).member
        if member is None:
            raise DomainError("organisation.not_registered")
        try:
            membership, team = await _team_to_leave(db, member, where, team_name)
        except DomainError as error:
            if error.code in ("lifecycle.in_no_team", "lifecycle.not_in_that_team"):
                return Left(team=team_name, cancelled=(), moved_up=(), changed=False)  # left a moment ago
            raise
        member_id, team_id = id_of(member), id_of(team)
        cancelled, moved_up = await _cancel_signups(db, member_id, team_id, now)
        membership.status = MembershipStatus.left  # the row stays: who applied, who approved, when
        db.add(membership)
        await audit(
            db,
            caller,
            member,
            "leave_team",
            f"member:{member_id}",
            team=team.name,
            cancelled=[task.id for task in cancelled],
        )
        for role in (
            await db.exec(
                select(Role).where(Role.member_id == member_id, Role.kind == RoleKind.leader, Role.scope_id == team_id)
            )
        ).all():
            await db.delete(role)
        await db.flush()
        still_in = (
            await db.exec(
                select(TeamMembership.id).where(
                    TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.active
                )
            )
        ).first()
        if still_in is None and member.status == MemberStatus.active:
            member.status = MemberStatus.left
            db.add(member)
        notice = MemberLeftNotice(member_id, member.name, team.name, tuple(task.id for task in cancelled))
        leaders = (
            await db.exec(
                select(Role.member_id).where(
                    Role.kind == RoleKind.leader, Role.scope_id == team_id, Role.member_id != member_id
                )
            )
        ).all()
        for leader_id in leaders:
            await tell_member(db, leader_id, notices.render(notice))
        return Left(team=team.name, cancelled=tuple(cancelled), moved_up=tuple(moved_up), changed=True)


# ---- suspension


@dataclass(frozen=True)
class StandingChanged:
    member: Member
    changed: bool
    """False when the member was suspended already (for /停用) or not suspended (for /恢复)."""
    told: bool
    cancelled: tuple[TaskHeading, ...] = ()
    """/停用: the member's sign-ups to tasks not yet started, cancelled (their places went to those waiting)."""


@dataclass(frozen=True)
class SuspendedNotice:
    """To the member, privately: an officer suspended them, and why."""

    reason: str
    cancelled: tuple[int, ...] = ()
    """The tasks whose sign-ups the suspension cancelled."""


@dataclass(frozen=True)
class ReinstatedNotice:
    """To the member, privately: an officer lifted their suspension."""


def check_reason(text: str | None) -> str:
    reason = " ".join((text or "").split())
    if not reason:
        raise DomainError("lifecycle.reason_needed")
    if len(reason) > MAX_REASON:
        raise DomainError("lifecycle.reason_too_long", most=MAX_REASON)
    return reason


async def _member_for_officer(db: AsyncSession, caller: Actor, target: PersonRef, act: str) -> tuple[Member, Member]:
    """organisation.member_for_officer, and not oneself: an officer does not suspend or reinstate themself."""
    member, officer = await member_for_officer(db, caller, target, refusals="lifecycle", act=act)
    if member.id == officer.id:
        raise DomainError("lifecycle.not_yourself", act=act)
    return member, officer


@retry_on_conflict
async def suspend(caller: Actor, target: PersonRef, reason: str | None, now: datetime | None = None) -> StandingChanged:
    """/停用 成员号 理由: an officer of the member's units suspends them; audited, and they are told the reason.
    A suspended member cannot sign up, check in or redeem (storage/services/standing.py); their sign-ups to tasks
    not yet started are cancelled (a place they could not take up goes to the first one waiting, who is told),
    those under way stay (they may check out)."""
    reason_text = check_reason(reason)
    now = now or utcnow()
    async with session() as db:
        member, officer = await _member_for_officer(db, caller, target, "suspend")
        if member.status == MemberStatus.suspended:
            return StandingChanged(member=member, changed=False, told=False)
        member.status = MemberStatus.suspended
        member.status_reason = reason_text
        db.add(member)
        cancelled, _ = await _cancel_signups(db, id_of(member), None, now)
        task_ids = tuple(task.id for task in cancelled)
        await audit(
            db, caller, officer, "suspend_member", f"member:{member.id}", reason=reason_text, cancelled=list(task_ids)
        )
        told = await tell_member(db, id_of(member), notices.render(SuspendedNotice(reason_text, task_ids)))
        return StandingChanged(member=member, changed=True, told=told > 0, cancelled=tuple(cancelled))


@retry_on_conflict
async def reinstate(caller: Actor, target: PersonRef) -> StandingChanged:
    """/恢复 成员号: an officer of the member's units lifts the suspension; audited, and the member is told."""
    async with session() as db:
        member, officer = await _member_for_officer(db, caller, target, "reinstate")
        if member.status != MemberStatus.suspended:
            return StandingChanged(member=member, changed=False, told=False)
        member.status = MemberStatus.active
        member.status_reason = None
        db.add(member)
        await audit(db, caller, officer, "reinstate_member", f"member:{member.id}")
        told = await tell_member(db, id_of(member), notices.render(ReinstatedNotice()))
        return StandingChanged(member=member, changed=True, told=told > 0)
