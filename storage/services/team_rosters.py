"""/队员: a team's active members, for its leaders and the officers of its unit and above, filtered by a
specialty and paged; phones (masked) in private only."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import Member, MembershipStatus, Role, RoleKind, Team, TeamMembership, Unit, id_of
from storage.services.actors import Actor, ChatGroup, InTeam, Where
from storage.services.organisation import GroupTeam, team_at
from storage.services.people import Rights, Specialty, mask_phone, parse_tags, rights_of, specialties_of

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
