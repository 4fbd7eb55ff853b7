"""Demo data for trying the bot in the console: a station, two teams, a few members and one applicant."""

from __future__ import annotations

from sqlmodel import select

from storage.db import session
from storage.models import (
    GroupBinding,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    RoleKind,
    TeamMembership,
    Unit,
)
from storage.services.organisation import add_role, ensure_team, ensure_unit_path

DEMO_UNIT = "示范市公安局/示范分局/示范派出所"
DEMO_TEAM = "夕阳红巡逻队"
OTHER_TEAM = "青春飞扬护学队"
DEMO_MEMBERS = [
    ("王建国", "13800000001", ["巡逻", "驾驶"], DEMO_TEAM, MembershipStatus.active),
    ("李秀英", "13800000002", ["调解"], DEMO_TEAM, MembershipStatus.active),
    ("张伟", "13800000003", ["医护", "救援"], OTHER_TEAM, MembershipStatus.active),
    ("赵敏", "13800000004", ["护学"], DEMO_TEAM, MembershipStatus.applied),
]


async def seed_demo(platform: str, user_id: str, group_id: str) -> bool:
    """Seed once: the console user becomes an officer of the demo station and a member of its first team, and the
    console chat that team's group.

    Returns False when the demo data was already there.
    """
    async with session() as db:
        if (await db.exec(select(Unit).where(Unit.path == DEMO_UNIT))).first() is not None:
            return False
        unit = await ensure_unit_path(db, DEMO_UNIT)
        teams = {name: await ensure_team(db, unit, name) for name in (DEMO_TEAM, OTHER_TEAM)}
        officer = Member(name="体验民警", status=MemberStatus.active)
        db.add(officer)
        await db.flush()
        db.add(PlatformIdentity(platform=platform, user_id=user_id, member_id=officer.id))
        await add_role(db, officer, RoleKind.officer, unit.id, None)
        # also a member of the demo team, so that signing up and checking in can be tried too
        db.add(TeamMembership(team_id=teams[DEMO_TEAM].id, member_id=officer.id, status=MembershipStatus.active))
        db.add(GroupBinding(platform=platform, group_id=group_id, team_id=teams[DEMO_TEAM].id, bound_by=officer.id))
        for name, phone, tags, team_name, status in DEMO_MEMBERS:
            member_status = MemberStatus.active if status == MembershipStatus.active else MemberStatus.applied
            member = Member(name=name, phone=phone, tags=tags, status=member_status)
            db.add(member)
            await db.flush()
            db.add(TeamMembership(team_id=teams[team_name].id, member_id=member.id, status=status))
        return True
