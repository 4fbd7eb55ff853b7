"""What /帮助 needs to know of who asks and where: their rights, the team of the group chat and whether they are in
it, and whether this is a member's first /帮助 in a group (remembered, so that the welcome is shown once)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select, update

from storage.db import session
from storage.models import Member, MembershipStatus, TeamMembership, utcnow
from storage.services.actors import Actor, ChatGroup, Where
from storage.services.organisation import GroupTeam, team_at
from storage.services.people import Rights, rights_of


@dataclass(frozen=True)
class HelpFacts:
    rights: Rights
    located: GroupTeam | None
    """The team the group chat is bound to (None: not bound, or a private chat)."""
    in_team_here: bool
    """The caller is an active member of that team."""
    welcome: bool
    """A member (not an officer) asking in a group for the first time: show what volunteers do. Now remembered."""


async def help_for(caller: Actor, where: Where | None, *, menu: bool = True) -> HelpFacts:
    """The facts of a /帮助; a welcome is due (and marked given) only when the menu is asked for (`menu`)."""
    async with session() as db:
        rights = await rights_of(db, caller)
        located = await team_at(db, where) if where is not None else None
        member = rights.member
        in_team_here = False
        if member is not None and located is not None:
            statement = select(TeamMembership.id).where(
                TeamMembership.team_id == located.team.id,
                TeamMembership.member_id == member.id,
                TeamMembership.status == MembershipStatus.active,
            )
            in_team_here = (await db.exec(statement)).first() is not None
        welcome = False
        new = not rights.is_officer and member is not None and member.welcomed_at is None
        if menu and isinstance(where, ChatGroup) and new and member is not None:
            marked = await db.exec(
                update(Member)
                .where(col(Member.id) == member.id, col(Member.welcomed_at).is_(None))
                .values(welcomed_at=utcnow())
            )
            welcome = marked.rowcount == 1  # two /帮助 at once: one of them welcomes
        return HelpFacts(rights=rights, located=located, in_team_here=in_team_here, welcome=welcome)
