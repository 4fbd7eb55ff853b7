"""The member file (一人一档): one member's file as a fact (/档案), and a team's members (/队员).

Who sees what: a member their own file; an officer the members of teams in their units and below (audited); a
leader the members of their own team, without ID number and emergency contact (audited); anyone else a refusal
that reads the same whether the member exists or not. Phones, ID numbers and emergency contacts leave here
masked (storage.services.people), always. An erased member (/删除我的信息) is their number and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from sqlalchemy import and_, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed, quoted
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
from storage.services.actors import Actor, ChatGroup, InTeam, Where
from storage.services.organisation import GroupTeam, audit, covers_member, team_at
from storage.services.people import (
    Rights,
    Specialty,
    mask_contact,
    mask_id_number,
    mask_phone,
    parse_tags,
    rights_of,
    specialties_of,
)
from storage.services.totals import ALL_TIME, period_key


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
    note: str | None
    """None where the view does not show it (a leader's)."""


@dataclass(frozen=True)
class InsuranceLine:
    insurer: str
    policy_number: str
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
    if await covers_member(db, rights, member):
        return View.officer
    if rights.leader_team_ids and await _in_teams(db, id_of(member), rights.leader_team_ids):
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
        vettings=[
            VettingLine(vetting.result, vetting.checked_on, officer, vetting.note if personal else None)
            for vetting, officer in vettings
        ],
        insurance=InsuranceLine(policy.insurer, policy.policy_number, policy.valid_until) if policy else None,
        teams=[
            TeamLine(team.name, unit.path, membership.status, id_of(team) in led) for membership, team, unit in teams
        ],
        officer_units=list(officer_units),
        figures=await _figures(db, member_id, view),
    )


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


# --- /队员: a team's members -------------------------------------------------------------------------------------

ROSTER_PAGE = 15
"""Members per page of /队员: a screen of a phone."""


@dataclass(frozen=True)
class RosterLine:
    number: int
    name: str
    phone: str | None
    """Masked; None in a group."""
    specialties: list[Specialty]
    is_leader: bool


@dataclass(frozen=True)
class Roster:
    team: str
    unit_path: str
    tag: str | None
    lines: list[RosterLine]
    page: int
    pages: int
    total: int
    """Members matching (all pages)."""
    phones_shown: bool
    team_named: bool
    """Whether the team was named in the command (the next page's command names it again)."""


async def team_roster(caller: Actor, where: Where | None, words: list[str], page: int = 1) -> Roster:
    """/队员 [队伍名] [特长]: the active members of a team, for its leaders and the officers of its unit and above.

    One word is the team when a team of that name is the caller's to see, else a specialty to filter by; two are
    the team and the specialty. Without a team: the team of the group it is sent in, or the one team the caller
    leads. Phones are shown (masked) in private only: a group holds people who are not the leader, and even a
    masked phone gives 7 of its 11 digits beside a name. A list is not written to the audit log (a file is): it
    shows no more than the team's leader and group know, but the masked phones in private."""
    if len(words) > 2:
        raise DomainError("member_files.roster_usage")
    async with session() as db:
        rights = await rights_of(db, caller)
        if not (rights.is_officer or rights.leader_team_ids):
            raise NotAllowed("member_files.roster_not_allowed")
        team_name, tag = (words[0], words[1]) if len(words) == 2 else (None, words[0] if words else None)
        located = None
        if team_name is None and tag is not None:
            located = await _visible_team(db, rights, tag)
            if located is not None:
                team_name, tag = tag, None
        if located is None:
            try:
                located = await _roster_team(db, rights, where, team_name)
            except DomainError as error:
                if error.code == "member_files.which_team" and tag is not None:  # the word was meant as a team
                    raise DomainError("member_files.no_team_of_yours", name=quoted(tag)) from error
                raise
        if tag is not None:
            tags = parse_tags(tag)  # as long as a specialty may be, or refused saying so
            if len(tags) != 1:
                raise DomainError("member_files.roster_usage")
            tag = tags[0]
        lines = await _team_lines(db, located.team, phones=not isinstance(where, ChatGroup))
        if tag is not None:
            lines = [line for line in lines if any(s.tag == tag for s in line.specialties)]
        pages = max(1, -(-len(lines) // ROSTER_PAGE))
        if not 1 <= page <= pages:
            raise DomainError("member_files.no_such_page", page=page, pages=pages)
        return Roster(
            team=located.team.name,
            unit_path=located.unit.path,
            tag=tag,
            lines=lines[(page - 1) * ROSTER_PAGE : page * ROSTER_PAGE],
            page=page,
            pages=pages,
            total=len(lines),
            phones_shown=not isinstance(where, ChatGroup),
            team_named=team_name is not None,
        )


def _may_list(rights: Rights, located: GroupTeam) -> bool:
    return located.team.id in rights.leader_team_ids or rights.covers_unit(located.unit)


async def _visible_team(db: AsyncSession, rights: Rights, name: str) -> GroupTeam | None:
    """The team of this name the caller may list (None when there is none, or several)."""
    rows = (
        await db.exec(select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.name == name.strip()))
    ).all()
    mine = [GroupTeam(team, unit) for team, unit in rows if _may_list(rights, GroupTeam(team, unit))]
    if len(mine) > 1:
        raise DomainError("organisation.several_teams", name=quoted(name))
    return mine[0] if mine else None


async def _roster_team(db: AsyncSession, rights: Rights, where: Where | None, team_name: str | None) -> GroupTeam:
    if team_name is not None:
        located = await _visible_team(db, rights, team_name)
        if located is None:  # a team of another unit reads as no team at all
            raise DomainError("member_files.no_team_of_yours", name=quoted(team_name))
        return located
    if where is not None:
        located = await team_at(db, where)
        if located is None:
            raise DomainError("organisation.group_not_bound")
        if not _may_list(rights, located):
            raise NotAllowed("member_files.roster_team_not_yours", team=located.team.name)
        return located
    if len(rights.leader_team_ids) == 1 and not rights.is_officer:
        located = await team_at(db, InTeam(next(iter(rights.leader_team_ids))))
        if located is not None:
            return located
    raise DomainError("member_files.which_team")


async def _team_lines(db: AsyncSession, team: Team, *, phones: bool) -> list[RosterLine]:
    members = (
        await db.exec(
            select(Member)
            .join(TeamMembership, col(TeamMembership.member_id) == col(Member.id))
            .where(
                TeamMembership.team_id == team.id,
                TeamMembership.status == MembershipStatus.active,
                col(Member.erased_at).is_(None),
            )
            .order_by(col(Member.id))
        )
    ).all()
    leaders = set(
        (await db.exec(select(Role.member_id).where(Role.kind == RoleKind.leader, Role.scope_id == team.id))).all()
    )
    return [
        RosterLine(
            number=id_of(member),
            name=member.name,
            phone=mask_phone(member.phone) if phones else None,
            specialties=specialties_of(member),
            is_leader=member.id in leaders,
        )
        for member in members
    ]
