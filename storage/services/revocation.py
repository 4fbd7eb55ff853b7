"""Taking roles back: /撤销民警 (administrators) and /撤销队长 (officers). Audited; the person is told privately.

A role ends at once: rights are read from the roles on every command, so the former officer or leader can do
nothing more with it from their next message on. What they did meanwhile (tips they took on, tasks they posted)
stays, and the unit's other officers carry on with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from storage.db import session
from storage.errors import DomainError, NotAllowed, quoted
from storage.models import Member, Role, RoleKind, Team, Unit, id_of
from storage.services import notices
from storage.services.actors import Actor, Where
from storage.services.organisation import audit, find_unit, team_run_by
from storage.services.outbox import tell_member
from storage.services.people import PersonRef, find_person, rights_of
from storage.services.retry import retry_on_conflict


@dataclass(frozen=True)
class OfficerRoleEndedNotice:
    """To the member whose officer role an administrator took back."""

    units: tuple[str, ...]
    """The paths of the units they are no longer an officer of."""


@dataclass(frozen=True)
class LeadershipEndedNotice:
    """To the member an officer took a team's leadership from."""

    team: str


@dataclass(frozen=True)
class OfficerRevoked:
    member: Member
    units: list[str]
    """The paths of the units the member is no longer an officer of; empty when there was nothing to take back."""
    still: list[str]
    """The paths of the units they remain an officer of."""


@retry_on_conflict
async def revoke_officer(caller: Actor, target: PersonRef, unit_text: str | None) -> OfficerRevoked:
    """/撤销民警: an administrator ends someone's officer role in one unit, or in every unit when none is named."""
    async with session() as db:
        rights = await rights_of(db, caller)
        if not rights.is_admin:
            raise NotAllowed("organisation.admins_only", act="revoke_officer")
        member = await find_person(db, target)
        held = (
            await db.exec(
                select(Role, Unit)
                .join(Unit, col(Unit.id) == col(Role.scope_id))
                .where(Role.member_id == member.id, Role.kind == RoleKind.officer)
                .order_by(col(Unit.path))
            )
        ).all()
        if unit_text:
            unit = await find_unit(db, unit_text)
            if unit is None:
                raise DomainError("organisation.no_such_unit", text=quoted(unit_text))
            ending = [(role, held_unit) for role, held_unit in held if held_unit.id == unit.id]
        else:
            ending = list(held)
        for role, _ in ending:
            await db.delete(role)
        ended = [held_unit.path for _, held_unit in ending]
        ending_ids = {role.id for role, _ in ending}
        still = [held_unit.path for role, held_unit in held if role.id not in ending_ids]
        if ended:
            await audit(db, caller, rights.member, "revoke_officer", f"member:{member.id}", units=ended)
            await tell_member(db, id_of(member), notices.render(OfficerRoleEndedNotice(units=tuple(ended))))
        return OfficerRevoked(member=member, units=ended, still=still)


@dataclass(frozen=True)
class LeaderRemoved:
    member: Member
    team: Team
    changed: bool
    """False when the member was not the team's leader."""


@retry_on_conflict
async def unset_leader(caller: Actor, target: PersonRef, where: Where | None, team_name: str | None) -> LeaderRemoved:
    """/撤销队长: an officer of the team's unit (or above it) ends someone's leadership of the team."""
    async with session() as db:
        rights = await rights_of(db, caller)
        located = await team_run_by(db, rights, where, team_name, "unset_leader")
        member = await find_person(db, target)
        role = (
            await db.exec(
                select(Role).where(
                    Role.member_id == member.id, Role.kind == RoleKind.leader, Role.scope_id == located.team.id
                )
            )
        ).first()
        if role is None:
            return LeaderRemoved(member=member, team=located.team, changed=False)
        await db.delete(role)
        await audit(db, caller, rights.member, "unset_leader", f"member:{member.id}", team=located.team.name)
        await tell_member(db, id_of(member), notices.render(LeadershipEndedNotice(team=located.team.name)))
        return LeaderRemoved(member=member, team=located.team, changed=True)
