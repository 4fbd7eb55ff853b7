"""The organisation: the unit tree, teams, group bindings, officers and leaders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Row, bindparam, false, or_
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import run_reading, session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import (
    AuditLog,
    GroupBinding,
    Member,
    MembershipStatus,
    Role,
    RoleKind,
    Team,
    TeamMembership,
    Unit,
    detached,
    detached_of,
    id_of,
    table_of,
)
from storage.services.actors import Actor, ChatAccount, ChatGroup, Where
from storage.services.people import (
    PersonRef,
    Rights,
    ensure_member,
    find_person,
    is_plain_name,
    rights_of,
    rights_on,
)
from storage.services.retry import retry_on_conflict

MAX_UNIT_NAME = 30
MAX_TEAM_NAME = 30
WIDE_SLASH = "／"
"""Typed for / between a unit and its parent by a Chinese keyboard."""


@dataclass(frozen=True)
class GroupTeam:
    """A team with its unit: the team a group chat is bound to, or the one a command names."""

    team: Team
    unit: Unit


def split_unit_path(text: str) -> list[str]:
    parts = [part.strip() for part in text.replace(WIDE_SLASH, "/").split("/")]
    if not parts or any(not part for part in parts):
        raise DomainError("organisation.bad_unit_name")
    for part in parts:
        if len(part) > MAX_UNIT_NAME:
            raise DomainError("organisation.unit_name_too_long", name=quoted(part), most=MAX_UNIT_NAME)
        if not is_plain_name(part):
            raise DomainError("organisation.unit_name_not_plain")
    return parts


def check_team_name(text: str) -> str:
    name = text.strip()
    if not name or len(name) > MAX_TEAM_NAME or not is_plain_name(name):
        raise DomainError("organisation.bad_team_name", most=MAX_TEAM_NAME)
    return name


async def audit(
    db: AsyncSession, caller: Actor | None, member: Member | None, action: str, target: str = "", **detail
) -> AuditLog:
    entry = AuditLog(
        actor=caller.key if caller else "cli",
        actor_member_id=member.id if member else None,
        action=action,
        target=target,
        detail=detail,
    )
    db.add(entry)
    return entry


async def find_unit(db: AsyncSession, text: str) -> Unit | None:
    """A unit by its full path, or by its own name when that name is unique."""
    parts = split_unit_path(text)
    path = "/".join(parts)
    unit = (await db.exec(select(Unit).where(Unit.path == path))).first()
    if unit is not None or len(parts) > 1:
        return unit
    candidates = (await db.exec(select(Unit).where(Unit.name == parts[0]))).all()
    if len(candidates) > 1:
        paths = [candidate.path for candidate in candidates]
        raise DomainError("organisation.several_units", name=quoted(parts[0]), paths=paths)
    return candidates[0] if candidates else None


async def ensure_unit_path(db: AsyncSession, text: str) -> Unit:
    """The unit at a path such as 济南市公安局/历下分局, creating what is missing. A bare name that exists is reused."""
    existing = await find_unit(db, text)
    if existing is not None:
        return existing
    parent: Unit | None = None
    path: list[str] = []
    for name in split_unit_path(text):
        path.append(name)
        unit = (await db.exec(select(Unit).where(Unit.path == "/".join(path)))).first()
        if unit is None:
            unit = Unit(name=name, path="/".join(path), parent_id=parent.id if parent else None)
            db.add(unit)
            await db.flush()
        parent = unit
    assert parent is not None
    return parent


async def ensure_team(db: AsyncSession, unit: Unit, name: str) -> Team:
    name = check_team_name(name)
    team = (await db.exec(select(Team).where(Team.unit_id == unit.id, Team.name == name))).first()
    if team is None:
        team = Team(name=name, unit_id=id_of(unit))
        db.add(team)
        await db.flush()
    return team


async def team_of_group(db: AsyncSession, platform: str, group_id: str) -> GroupTeam | None:
    statement = (
        select(Team, Unit)
        .join(GroupBinding, col(GroupBinding.team_id) == col(Team.id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(GroupBinding.platform == platform, GroupBinding.group_id == group_id)
    )
    row = (await db.exec(statement)).first()
    return GroupTeam(team=row[0], unit=row[1]) if row else None


async def team_at(db: AsyncSession, where: Where) -> GroupTeam | None:
    """The team of where a command is given: the team a group chat is bound to (None when it is not bound), or
    the team chosen (None when there is no such team)."""
    if isinstance(where, ChatGroup):
        return await team_of_group(db, where.platform, where.group_id)
    statement = select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(col(Team.id) == where.team_id)
    row = (await db.exec(statement)).first()
    return GroupTeam(team=row[0], unit=row[1]) if row else None


_team_table, _unit_table, _binding_table = table_of(Team), table_of(Unit), table_of(GroupBinding)
_TEAM_AND_UNIT = core_select(_team_table, _unit_table).join(_unit_table, _unit_table.c.id == _team_table.c.unit_id)
TEAM_OF_GROUP = (
    _TEAM_AND_UNIT.join(_binding_table, _binding_table.c.team_id == _team_table.c.id)
    .where(_binding_table.c.platform == bindparam("platform"), _binding_table.c.group_id == bindparam("group_id"))
    .limit(1)
)
TEAM_BY_ID = _TEAM_AND_UNIT.where(_team_table.c.id == bindparam("team_id"))
"""team_at_on's statements, built once: the columns of the team and of its unit."""


GROUP_PLACE = (
    core_select(
        *(column.label(f"place_team_{column.key}") for column in _team_table.columns),
        *(column.label(f"place_unit_{column.key}") for column in _unit_table.columns),
    )
    .select_from(_binding_table)
    .join(_team_table, _team_table.c.id == _binding_table.c.team_id)
    .join(_unit_table, _unit_table.c.id == _team_table.c.unit_id)
    .where(_binding_table.c.platform == bindparam("group_platform"), _binding_table.c.group_id == bindparam("group_id"))
    .limit(1)
    .subquery("place")
)
"""The team a group chat is bound to and its unit, as one row of labelled columns (`place_team_…`,
`place_unit_…`) to read beside the caller's rights in one statement (people.rights_beside); group_team_from
reads it, group_place_params gives its parameters."""


def group_place_params(group: ChatGroup) -> dict[str, str]:
    return {"group_platform": group.platform, "group_id": group.group_id}


def group_team_from(row: Row | None) -> GroupTeam | None:
    """The team and unit of GROUP_PLACE's columns in a row (None: the group is bound to no team)."""
    if row is None:
        return None
    values = row._mapping
    if values["place_team_id"] is None:
        return None
    team = detached_of(Team, {column.key: values[f"place_team_{column.key}"] for column in _team_table.columns})
    unit = detached_of(Unit, {column.key: values[f"place_unit_{column.key}"] for column in _unit_table.columns})
    return GroupTeam(team=team, unit=unit)


def team_at_on(connection: Connection, where: Where) -> GroupTeam | None:
    """team_at for a service that only reads, on a Core connection (storage.db.run_reading), with detached models."""
    if isinstance(where, ChatGroup):
        row = connection.execute(TEAM_OF_GROUP, {"platform": where.platform, "group_id": where.group_id}).first()
    else:
        row = connection.execute(TEAM_BY_ID, {"team_id": where.team_id}).first()
    if row is None:
        return None
    team, unit = detached(Team, row), detached(Unit, row)
    return GroupTeam(team=team, unit=unit) if team is not None and unit is not None else None


def in_unit_or_below(unit: Unit):
    """A condition on Unit: this unit or any unit below it (units form a tree by path)."""
    return or_(col(Unit.path) == unit.path, col(Unit.path).startswith(unit.path + "/"))


def members_of_units(units: Iterable[Unit]):
    """The ids of the active members of teams in these units or below them (what covers_member answers, as a
    subquery: for a list of people in one statement)."""
    return (
        select(TeamMembership.member_id)
        .join(Team, col(Team.id) == col(TeamMembership.team_id))
        .join(Unit, col(Unit.id) == col(Team.unit_id))
        .where(
            TeamMembership.status == MembershipStatus.active,
            or_(false(), *(in_unit_or_below(unit) for unit in units)),
        )
    )


async def units_of_member(db: AsyncSession, member_id: int) -> list[Unit]:
    """The units of the teams the member is an active member of."""
    statement = (
        select(Unit)
        .join(Team, col(Team.unit_id) == col(Unit.id))
        .join(TeamMembership, col(TeamMembership.team_id) == col(Team.id))
        .where(TeamMembership.member_id == member_id, TeamMembership.status == MembershipStatus.active)
    )
    return list((await db.exec(statement)).all())


async def covers_member(db: AsyncSession, rights: Rights, member: Member) -> bool:
    """Officers act for members of teams in their units (and below); administrators for anyone."""
    if rights.is_admin:
        return True
    if not rights.officer_units:
        return False
    return any(rights.covers_unit(unit) for unit in await units_of_member(db, id_of(member)))


async def member_for_officer(
    db: AsyncSession, caller: Actor, target: PersonRef, *, refusals: str, act: str
) -> tuple[Member, Member]:
    """The member an officer acts on (/保险, /停用, /恢复), and the officer. A member outside the officer's units,
    or erased, is answered as one who does not exist, so a sibling unit's officer learns nothing of them. The
    refusals are the caller's own: `{refusals}.officers_only` and `{refusals}.not_your_member`."""
    rights = await rights_of(db, caller)
    if not rights.is_officer:
        raise NotAllowed(f"{refusals}.officers_only", act=act)
    if rights.member is None:
        raise DomainError("people.not_registered")
    try:
        member = await find_person(db, target)
    except DomainError as error:
        raise DomainError(f"{refusals}.not_your_member", number=target.member_number) from error
    if member.erased_at is not None or not await covers_member(db, rights, member):
        raise DomainError(f"{refusals}.not_your_member", number=target.member_number)
    return member, rights.member


async def officer_unit(db: AsyncSession, rights: Rights, unit_text: str | None, act: str) -> Unit:
    """The unit an officer acts for in a command: the one named (theirs or below), or their only unit. `act`
    names the command ("raise_alert"), so that a refusal can show how to write the unit in it."""
    if unit_text:
        unit = await find_unit(db, unit_text)
        if unit is None or not rights.covers_unit(unit):
            raise DomainError("organisation.unit_not_yours", text=quoted(unit_text), act=act)
        return unit
    if len(rights.officer_units) == 1:
        return rights.officer_units[0]
    raise DomainError("organisation.which_unit", act=act)


async def get_team_at(where: Where) -> GroupTeam | None:
    return await run_reading(team_at_on, where)


async def get_rights(caller: Actor) -> Rights:
    return await run_reading(rights_on, caller)


async def add_role(db: AsyncSession, member: Member, kind: RoleKind, scope_id: int, granted_by: Member | None) -> bool:
    """Give a role; False when the member already had it."""
    statement = select(Role).where(Role.member_id == member.id, Role.kind == kind, Role.scope_id == scope_id)
    if (await db.exec(statement)).first() is not None:
        return False
    granter = id_of(granted_by) if granted_by else None
    db.add(Role(member_id=id_of(member), kind=kind, scope_id=scope_id, granted_by=granter))
    await db.flush()
    return True


@dataclass(frozen=True)
class Grant:
    member: Member
    unit: Unit
    new: bool


async def grant_officer_in(
    db: AsyncSession, target: PersonRef, unit_path: str, caller: Actor | None, actor: Member | None
) -> Grant:
    member = await find_person(db, target, create=True)
    unit = await ensure_unit_path(db, unit_path)
    new = await add_role(db, member, RoleKind.officer, id_of(unit), actor)
    await audit(db, caller, actor, "grant_officer", f"member:{member.id}", unit=unit.path, new=new)
    return Grant(member=member, unit=unit, new=new)


@retry_on_conflict
async def grant_officer(caller: Actor, target: PersonRef, unit_path: str) -> Grant:
    """/授权民警: an administrator makes someone an officer of a unit (creating the unit path if missing)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_admin:
            raise NotAllowed("organisation.admins_only", act="grant_officer")
        return await grant_officer_in(db, target, unit_path, caller, rights.member)


@dataclass(frozen=True)
class Binding:
    team: Team
    unit: Unit
    created_team: bool
    previous_team: Team | None


async def _officer_member(db: AsyncSession, caller: Actor, rights: Rights) -> Member:
    """The member acting for the audit log: an administrator named only in the settings gets one on first use."""
    if rights.member is not None:
        return rights.member
    if isinstance(caller, ChatAccount):
        return await ensure_member(db, caller.platform, caller.user_id, caller.name)
    raise DomainError("people.not_registered")


@retry_on_conflict
async def bind_group(caller: Actor, group: ChatGroup, team_name: str, unit_text: str | None = None) -> Binding:
    """/绑定队伍: an officer binds a group chat to a team of their unit, creating the team if needed."""
    team_name = check_team_name(team_name)
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_officer:
            raise NotAllowed("organisation.officers_only", act="bind_team")
        unit = await _unit_for_binding(db, rights, team_name, unit_text)
        if not rights.covers_unit(unit):
            raise NotAllowed("organisation.unit_not_yours_to", unit=unit.path, act="bind_team")
        existing = (await db.exec(select(Team).where(Team.unit_id == unit.id, Team.name == team_name))).first()
        team = existing or await ensure_team(db, unit, team_name)
        binding = (
            await db.exec(
                select(GroupBinding).where(
                    GroupBinding.platform == group.platform, GroupBinding.group_id == group.group_id
                )
            )
        ).first()
        previous: Team | None = None
        actor = await _officer_member(db, caller, rights)
        team_id = id_of(team)
        if binding is None:
            db.add(
                GroupBinding(platform=group.platform, group_id=group.group_id, team_id=team_id, bound_by=id_of(actor))
            )
        elif binding.team_id != team_id:
            previous = await db.get(Team, binding.team_id)
            previous_unit = await db.get(Unit, previous.unit_id) if previous else None
            if previous is not None and previous_unit is not None and not rights.covers_unit(previous_unit):
                raise NotAllowed("organisation.bound_elsewhere", team=previous.name, unit=previous_unit.path)
            binding.team_id = team_id
            binding.bound_by = id_of(actor)
            db.add(binding)
        await audit(db, caller, actor, "bind_group", group.key, team=team.name, unit=unit.path)
        return Binding(team=team, unit=unit, created_team=existing is None, previous_team=previous)


async def _unit_for_binding(db: AsyncSession, rights: Rights, team_name: str, unit_text: str | None) -> Unit:
    if unit_text:
        unit = await find_unit(db, unit_text)
        if unit is None and rights.is_admin:
            return await ensure_unit_path(db, unit_text)  # administrators set up the unit tree as they go
        if unit is None:
            raise DomainError("organisation.no_unit_for_team", text=quoted(unit_text), team=team_name)
        return unit
    # A team of that name under one of the officer's units is meant; otherwise the officer's own unit.
    for unit in rights.officer_units:
        team = (await db.exec(select(Team).where(Team.unit_id == unit.id, Team.name == team_name))).first()
        if team is not None:
            return unit
    if len(rights.officer_units) == 1:
        return rights.officer_units[0]
    if rights.officer_units:
        names = [unit.name for unit in rights.officer_units]
        raise DomainError("organisation.which_unit_for_team", units=names, team=team_name)
    raise DomainError("organisation.unit_for_team_needed", team=team_name)


@dataclass(frozen=True)
class Leadership:
    member: Member
    team: Team
    new: bool


@retry_on_conflict
async def set_leader(caller: Actor, target: PersonRef, where: Where | None, team_name: str | None) -> Leadership:
    """/设队长: an officer of the team's unit appoints an active member of the team as its leader."""
    async with session() as db:
        rights = await rights_of(db, caller)
        located = await team_run_by(db, rights, where, team_name, "set_leader")
        member = await find_person(db, target)
        membership = (
            await db.exec(
                select(TeamMembership).where(
                    TeamMembership.team_id == located.team.id, TeamMembership.member_id == member.id
                )
            )
        ).first()
        if membership is None or membership.status != MembershipStatus.active:
            raise DomainError("organisation.not_active_member", name=member.name, team=located.team.name)
        actor = await _officer_member(db, caller, rights)
        new = await add_role(db, member, RoleKind.leader, id_of(located.team), actor)
        await audit(db, caller, actor, "set_leader", f"member:{member.id}", team=located.team.name, new=new)
        return Leadership(member=member, team=located.team, new=new)


async def team_run_by(
    db: AsyncSession, rights: Rights, where: Where | None, team_name: str | None, act: str
) -> GroupTeam:
    """The team a leader command is about, refused unless the caller is an officer of its unit or above; `act`
    names the command in the refusals ("set_leader")."""
    if not rights.is_officer:
        raise NotAllowed("organisation.officers_only", act=act)
    located = await locate_team(db, rights, where, team_name)
    if not rights.covers_unit(located.unit):
        raise NotAllowed("organisation.team_not_yours", team=located.team.name, act=act)
    return located


async def locate_team(db: AsyncSession, rights: Rights, where: Where | None, team_name: str | None) -> GroupTeam:
    """The team a command is about: named, or else the team of where it was given."""
    if team_name:
        teams = (
            await db.exec(
                select(Team, Unit).join(Unit, col(Unit.id) == col(Team.unit_id)).where(Team.name == team_name.strip())
            )
        ).all()
        mine = [GroupTeam(team, unit) for team, unit in teams if rights.covers_unit(unit)] or [
            GroupTeam(team, unit) for team, unit in teams
        ]
        if not mine:
            raise DomainError("organisation.no_such_team", name=quoted(team_name))
        if len(mine) > 1:
            raise DomainError("organisation.several_teams", name=quoted(team_name))
        return mine[0]
    if where is not None:
        located = await team_at(db, where)
        if located is not None:
            return located
        raise DomainError("organisation.group_not_bound")
    raise DomainError("organisation.team_needed")
