"""Demo data for trying the bot in the console: a station, two teams, a few members with points, one applicant,
and a small shop."""

from __future__ import annotations

from sqlmodel import select

from storage.db import session
from storage.models import (
    GroupBinding,
    LedgerReason,
    Member,
    MembershipStatus,
    MemberStatus,
    PlatformIdentity,
    Reward,
    RoleKind,
    TeamMembership,
    Unit,
    id_of,
)
from storage.services.ledger import record_points
from storage.services.organisation import add_role, ensure_team, ensure_unit_path

DEMO_UNIT = "示范市公安局/示范分局/示范派出所"
DEMO_TEAM = "夕阳红巡逻队"
OTHER_TEAM = "青春飞扬护学队"
DEMO_MEMBERS = [
    ("王建国", "13800000001", ["巡逻", "驾驶"], DEMO_TEAM, MembershipStatus.active, 30),
    ("李秀英", "13800000002", ["调解"], DEMO_TEAM, MembershipStatus.active, 20),
    ("张伟", "13800000003", ["医护", "救援"], OTHER_TEAM, MembershipStatus.active, 25),
    ("赵敏", "13800000004", ["护学"], DEMO_TEAM, MembershipStatus.applied, 0),
]
"""Name, phone, specialties, team, status, and demo points (so that /排行榜 has someone on it)."""
DEMO_REWARDS = [("义警纪念徽章", 20, 10, 1), ("保温杯", 50, 5, None)]
"""Name, cost, stock, per-member limit: the demo station's shop."""


async def seed_demo(platform: str, user_id: str, group_id: str) -> bool:
    """Seed once: the console user becomes an officer of the demo station and a member of its first team, and the
    console chat that team's group.

    Returns False when the demo data was already there.
    """
    async with session() as db:
        if (await db.exec(select(Unit).where(Unit.path == DEMO_UNIT))).first() is not None:
            return False
        unit = await ensure_unit_path(db, DEMO_UNIT)
        team_ids = {name: id_of(await ensure_team(db, unit, name)) for name in (DEMO_TEAM, OTHER_TEAM)}
        officer = Member(name="体验民警", status=MemberStatus.active)
        db.add(officer)
        await db.flush()
        officer_id = id_of(officer)
        db.add(PlatformIdentity(platform=platform, user_id=user_id, member_id=officer_id))
        await add_role(db, officer, RoleKind.officer, id_of(unit), None)
        # also a member of the demo team, so that signing up and checking in can be tried too
        db.add(TeamMembership(team_id=team_ids[DEMO_TEAM], member_id=officer_id, status=MembershipStatus.active))
        db.add(GroupBinding(platform=platform, group_id=group_id, team_id=team_ids[DEMO_TEAM], bound_by=officer_id))
        for name, phone, tags, team_name, status, points in DEMO_MEMBERS:
            member_status = MemberStatus.active if status == MembershipStatus.active else MemberStatus.applied
            member = Member(name=name, phone=phone, tags=tags, status=member_status)
            db.add(member)
            await db.flush()
            member_id = id_of(member)
            db.add(TeamMembership(team_id=team_ids[team_name], member_id=member_id, status=status))
            if points:
                await record_points(db, member_id, points, LedgerReason.award, "demo", member_id, note="示范数据")
        await record_points(db, officer_id, 40, LedgerReason.award, "demo", officer_id, note="示范数据")
        for name, cost, stock, per_member in DEMO_REWARDS:
            db.add(Reward(unit_id=id_of(unit), name=name, cost=cost, stock=stock, per_member_limit=per_member))
        return True
