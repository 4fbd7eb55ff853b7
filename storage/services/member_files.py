"""The member file (一人一档): one member's file as a fact (/档案).

Who sees what: a member their own file; an officer the members of teams in their units and below (audited); a
leader the members of their own team, without ID number, emergency contact and vetting notes, and with the policy
number masked (audited); anyone else a refusal that reads the same whether the member exists or not. Phones, ID
numbers and emergency contacts leave here masked (storage.services.people), always. An erased member
(/删除我的信息) is their number and nothing else, shown to the officers and leaders whose teams they were in before
the erasure left them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed
from storage.models import (
    Insurance,
    Member,
    MembershipStatus,
    MemberTotal,
    Role,
    RoleKind,
    Signup,
    SignupStatus,
    Team,
    TeamMembership,
    Unit,
    Vetting,
    id_of,
    utcnow,
)
from storage.services.actors import Actor
from storage.services.insurance import mask_policy
from storage.services.organisation import audit, covers_member
from storage.services.people import (
    Rights,
    Specialty,
    mask_contact,
    mask_id_number,
    mask_phone,
    rights_of,
    specialties_of,
)
from storage.services.totals import ALL_TIME, period_key
from storage.services.training.qualifications import Held, held_by
from storage.settings import settings


class View(str, Enum):
    """Whose eyes a file is read with."""

    own = "own"
    officer = "officer"
    leader = "leader"
    """Without ID number, emergency contact and vetting notes."""


@dataclass(frozen=True)
class VettingLine:
    result: str
    """The VettingResult."""
    checked_on: date
    officer: str | None
    """None in the member's own file."""
    note: str | None
    """None where the view does not show it (a leader's; the member's own unless the deployment allows it)."""


@dataclass(frozen=True)
class InsuranceLine:
    insurer: str
    policy_number: str
    """Masked in a leader's view."""
    valid_until: date


@dataclass(frozen=True)
class TeamLine:
    team: str
    unit_path: str
    status: str
    """The MembershipStatus."""
    is_leader: bool


@dataclass(frozen=True)
class Figures:
    minutes: int
    """Service minutes in all time (the running totals)."""
    tasks_attended: int
    tips_verified: int
    """Verified tips reported under the member's name."""
    points: int
    """Earned in all time, as the boards count them."""
    honours: int
    """Months the member was a team's 义警之星 (first by the monthly honours' order)."""
    balance: int | None
    """What the member can spend: in their own file only (it may hold anonymous rewards)."""


@dataclass(frozen=True)
class MemberFile:
    number: int
    view: View
    name: str
    status: str
    """The MemberStatus."""
    status_reason: str | None
    phone: str
    """Masked."""
    id_number: str | None
    """Masked; None where the view does not show it."""
    emergency_contact: str | None
    """Masked; None where the view does not show it."""
    area: str | None
    employer: str | None
    industry: str | None
    profession: str | None
    specialties: list[Specialty]
    joined_at: datetime | None
    vettings: list[VettingLine]
    insurance: InsuranceLine | None
    qualifications: list[Held]
    """Each qualification tag once: the one lasting longest, valid, running out or run out (storage/services/
    training/qualifications.py)."""
    teams: list[TeamLine]
    officer_units: list[str]
    figures: Figures


@dataclass(frozen=True)
class ErasedMember:
    """A member erased at their request: nothing of the person is left to show."""

    number: int


async def member_file(caller: Actor, number: int | None = None) -> MemberFile | ErasedMember:
    """/档案 (the caller's own file) or /档案 成员号 (an officer's or a leader's view, written to the audit log)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if rights.member is None and not (number is not None and rights.is_admin):  # an administrator may be no one
            raise DomainError("organisation.not_registered")
        member = rights.member if number is None else await db.get(Member, number)
        view = await _view_of(db, rights, member) if member is not None else None
        if member is None or view is None:
            raise NotAllowed("member_files.not_yours", number=number)
        member_id = id_of(member)
        if view != View.own:
            await audit(db, caller, rights.member, "view_member_file", f"member:{member_id}", view=view.value)
        if member.erased_at is not None:
            return ErasedMember(member_id)
        return await _read_file(db, member, view)


async def _view_of(db: AsyncSession, rights: Rights, member: Member) -> View | None:
    if rights.member is not None and rights.member.id == member.id:
        return View.own
    if member.erased_at is not None:
        return await _former_view(db, rights, id_of(member))
    if await covers_member(db, rights, member):
        return View.officer
    if rights.leader_team_ids and await _in_teams(db, id_of(member), rights.leader_team_ids):
        return View.leader
    return None


async def _former_view(db: AsyncSession, rights: Rights, member_id: int) -> View | None:
    """Whose an erased member was: the erasure left every place they had, so the places of any state count (the
    officers of those teams' units and the leaders of those teams see the number's label; anyone else is refused
    as for a number that does not exist)."""
    if rights.is_admin:
        return View.officer
    places = (
        await db.exec(
            select(Team, Unit)
            .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(TeamMembership.member_id == member_id)
        )
    ).all()
    if any(rights.covers_unit(unit) for _, unit in places):
        return View.officer
    if any(team.id in rights.leader_team_ids for team, _ in places):
        return View.leader
    return None


async def _in_teams(db: AsyncSession, member_id: int, team_ids: set[int]) -> bool:
    statement = select(TeamMembership.id).where(
        TeamMembership.member_id == member_id,
        TeamMembership.status == MembershipStatus.active,
        col(TeamMembership.team_id).in_(sorted(team_ids)),
    )
    return (await db.exec(statement)).first() is not None


async def _read_file(db: AsyncSession, member: Member, view: View) -> MemberFile:
    member_id = id_of(member)
    personal = view != View.leader
    checker = aliased(Member)
    vettings = (
        await db.exec(
            select(Vetting, checker.name)
            .outerjoin(checker, col(checker.id) == col(Vetting.officer_id))
            .where(Vetting.member_id == member_id)
            .order_by(col(Vetting.checked_on), col(Vetting.id))
        )
    ).all()
    policy = (
        await db.exec(
            select(Insurance)
            .where(Insurance.member_id == member_id)
            .order_by(col(Insurance.valid_until).desc(), col(Insurance.id).desc())
        )
    ).first()
    roles = (await db.exec(select(Role).where(Role.member_id == member_id))).all()
    led = {role.scope_id for role in roles if role.kind == RoleKind.leader}
    teams = (
        await db.exec(
            select(TeamMembership, Team, Unit)
            .join(Team, col(Team.id) == col(TeamMembership.team_id))
            .join(Unit, col(Unit.id) == col(Team.unit_id))
            .where(TeamMembership.member_id == member_id)
            .order_by(col(TeamMembership.id))
        )
    ).all()
    officer_units = (
        await db.exec(
            select(Unit.path)
            .join(Role, (col(Role.scope_id) == col(Unit.id)) & (col(Role.kind) == RoleKind.officer))
            .where(Role.member_id == member_id)
            .order_by(col(Unit.path))
        )
    ).all()
    return MemberFile(
        number=member_id,
        view=view,
        name=member.name,
        status=member.status,
        status_reason=member.status_reason,
        phone=mask_phone(member.phone),
        id_number=(mask_id_number(member.id_number) if member.id_number else None) if personal else None,
        emergency_contact=(mask_contact(member.emergency_contact) if member.emergency_contact else None)
        if personal
        else None,
        area=member.area,
        employer=member.employer,
        industry=member.industry,
        profession=member.profession,
        specialties=specialties_of(member),
        joined_at=member.joined_at,
        vettings=[_vetting_line(vetting, officer, view) for vetting, officer in vettings],
        insurance=_insurance_line(policy, view) if policy else None,
        qualifications=await held_by(db, member_id, utcnow().astimezone(settings.timezone).date()),
        teams=[
            TeamLine(team.name, unit.path, membership.status, id_of(team) in led) for membership, team, unit in teams
        ],
        officer_units=list(officer_units),
        figures=await _figures(db, member_id, view),
    )


def _insurance_line(policy: Insurance, view: View) -> InsuranceLine:
    """The policy number whole for the member and for the officers, who record and look policies up (/保险 成员号 is
    theirs alone); masked for a leader, who may not."""
    number = mask_policy(policy.policy_number) if view == View.leader else policy.policy_number
    return InsuranceLine(policy.insurer, number, policy.valid_until)


def _vetting_line(vetting: Vetting, officer: str | None, view: View) -> VettingLine:
    """A background check as this view shows it. The officers see the note and who checked; the member sees the
    result and day, the note only where the deployment tells applicants it (`[members] vetting_note_to_applicant`)
    and never the officer (as in /我的数据); a leader sees who checked, not the note."""
    if view == View.own:
        note = vetting.note if settings.vetting_note_to_applicant else None
        return VettingLine(vetting.result, vetting.checked_on, None, note or None)
    return VettingLine(vetting.result, vetting.checked_on, officer, vetting.note if view == View.officer else None)


async def _figures(db: AsyncSession, member_id: int, view: View) -> Figures:
    """Read from the running totals (storage.services.totals); only the attended tasks are counted here."""
    total = (
        await db.exec(select(MemberTotal).where(MemberTotal.member_id == member_id, MemberTotal.period == ALL_TIME))
    ).first()
    attended = (
        await db.exec(select(func.count()).where(Signup.member_id == member_id, Signup.status == SignupStatus.attended))
    ).one()
    return Figures(
        minutes=total.minutes if total else 0,
        tasks_attended=int(attended),
        tips_verified=total.tips if total else 0,
        points=total.points if total else 0,
        honours=await _honours(db, member_id),
        balance=(total.spendable if total else 0) if view == View.own else None,
    )


async def _honours(db: AsyncSession, member_id: int) -> int:
    """The (team, month) pairs, of months gone by, in which the member came first of a team they are in: most
    points, then more minutes, then who got there first (the order of the monthly honours' post, standings.py)."""
    mine, other = aliased(MemberTotal), aliased(MemberTotal)
    place, other_place = aliased(TeamMembership), aliased(TeamMembership)
    ahead = (
        select(other.id)
        .join(
            other_place,
            and_(
                col(other_place.member_id) == col(other.member_id),
                col(other_place.team_id) == col(place.team_id),
                col(other_place.status) == MembershipStatus.active,
            ),
        )
        .where(
            col(other.period) == col(mine.period),
            col(other.member_id) != col(mine.member_id),
            or_(
                col(other.points) > col(mine.points),
                and_(col(other.points) == col(mine.points), col(other.minutes) > col(mine.minutes)),
                and_(
                    col(other.points) == col(mine.points),
                    col(other.minutes) == col(mine.minutes),
                    or_(
                        col(other.points_at) < col(mine.points_at),
                        and_(col(other.points_at) == col(mine.points_at), col(other.member_id) < col(mine.member_id)),
                    ),
                ),
            ),
        )
    )
    statement = (
        select(func.count())
        .select_from(mine)
        .join(place, col(place.member_id) == col(mine.member_id))
        .where(
            col(mine.member_id) == member_id,
            col(place.status) == MembershipStatus.active,
            col(mine.period).startswith("m"),
            col(mine.period) < period_key("month", utcnow()),
            col(mine.points) > 0,
            ~ahead.exists(),
        )
    )
    return int((await db.exec(statement)).one())
