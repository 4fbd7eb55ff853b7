"""What /帮助 needs to know of who asks and where: their rights, the team of the group chat and whether they are in
it, and whether this is a member's first /帮助 in a group (remembered, so that the welcome is shown once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, exists, update
from sqlmodel import select

from storage.db import run_reading, run_transaction
from storage.models import Member, MembershipStatus, TeamMembership, id_of, table_of, utcnow
from storage.services.actors import Actor, ChatGroup, Where
from storage.services.organisation import GROUP_PLACE, GroupTeam, group_place_params, group_team_from, team_at_on
from storage.services.people import Rights, rights_and_place_on, rights_beside, rights_on


@dataclass(frozen=True)
class HelpFacts:
    rights: Rights
    located: GroupTeam | None
    """The team the group chat is bound to (None: not bound, or a private chat)."""
    in_team_here: bool
    """The caller is an active member of that team."""
    welcome: bool
    """A member (not an officer) asking in a group for the first time: show what volunteers do. Now remembered."""


_membership_table, _member_table = table_of(TeamMembership), table_of(Member)
_RIGHTS_IN_GROUP_AND_IN_TEAM = rights_beside(
    GROUP_PLACE,
    exists()
    .where(
        _membership_table.c.team_id == GROUP_PLACE.c.place_team_id,
        _membership_table.c.member_id == _member_table.c.id,
        _membership_table.c.status == MembershipStatus.active.value,
    )
    .label("member_in_team"),
)
"""Who asks, the team of the group chat, and whether they are an active member of it: one statement."""
_MARK_WELCOMED = (
    update(_member_table)
    .where(_member_table.c.id == bindparam("member_id"), _member_table.c.welcomed_at.is_(None))
    .values(welcomed_at=bindparam("now"))
)


async def help_for(caller: Actor, where: Where | None, *, menu: bool = True) -> HelpFacts:
    """The facts of a /帮助; a welcome is due (and marked given) only when the menu is asked for (`menu`).

    Read on one connection without a transaction (run_reading: the rights, then the group's team and whether the
    caller is in it); only a welcome is written, in a transaction of its own."""
    rights, located, in_team_here = await run_reading(_facts_on, caller, where)
    member = rights.member
    welcome = False
    new = not rights.is_officer and member is not None and member.welcomed_at is None
    if menu and isinstance(where, ChatGroup) and new and member is not None:
        welcome = await run_transaction(_mark_welcomed, id_of(member))
    return HelpFacts(rights=rights, located=located, in_team_here=in_team_here, welcome=welcome)


def _facts_on(connection: Connection, caller: Actor, where: Where | None) -> tuple[Rights, GroupTeam | None, bool]:
    if isinstance(where, ChatGroup):
        rights, rows = rights_and_place_on(connection, caller, _RIGHTS_IN_GROUP_AND_IN_TEAM, group_place_params(where))
        row = rows[0] if rows else None
        if row is not None:
            located = group_team_from(row)
            return rights, located, located is not None and bool(row.member_in_team)
        return rights, team_at_on(connection, where), False  # no member: the group's team read on its own
    rights = rights_on(connection, caller)
    located = team_at_on(connection, where) if where is not None else None
    in_team = False
    if located is not None and rights.member is not None:
        found = connection.execute(
            select(TeamMembership.id).where(
                TeamMembership.team_id == located.team.id,
                TeamMembership.member_id == rights.member.id,
                TeamMembership.status == MembershipStatus.active,
            )
        )
        in_team = found.first() is not None
    return rights, located, in_team


def _mark_welcomed(connection: Connection, member_id: int) -> bool:
    """Whether this /帮助 is the one that welcomes: of two at once, one."""
    return connection.execute(_MARK_WELCOMED, {"member_id": member_id, "now": utcnow()}).rowcount == 1
