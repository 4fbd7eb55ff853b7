"""The read-only commands (/我的, /积分, /排行榜, /任务 N, /帮助) find who asks and where on a Core connection
(people.rights_on, organisation.team_at_on): they must find exactly what the sessions' rights_of and team_at find,
for every kind of caller, on SQLite and on PostgreSQL."""

from __future__ import annotations

from storage import db
from storage.models import Member
from storage.services import membership, organisation
from storage.services.actors import ChatAccount, InTeam, SignedInMember
from storage.services.organisation import (
    GROUP_PLACE,
    GroupTeam,
    group_place_params,
    group_team_from,
    team_at,
    team_at_on,
)
from storage.services.people import PersonRef, Rights, rights_and_place_on, rights_beside, rights_of, rights_on
from tests.places import in_group

SUPERUSER = ChatAccount("onebot", "10001", "管理员")
OFFICER = ChatAccount("onebot", "20001", "李警官")
VOLUNTEER = ChatAccount("onebot", "30001", "老张")
STRANGER = ChatAccount("onebot", "39999", "路人")


def facts(rights: Rights) -> tuple:
    member = rights.member
    return (
        None if member is None else (member.id, member.name, member.phone, member.status, member.welcomed_at),
        rights.is_admin,
        [(unit.id, unit.path) for unit in rights.officer_units],
        sorted(rights.leader_team_ids),
    )


def place(found: GroupTeam | None) -> tuple | None:
    return None if found is None else (found.team.id, found.team.name, found.unit.id, found.unit.path)


async def test_rights_read_for_a_reply_are_the_rights_a_command_acts_on(database: str) -> None:
    await organisation.grant_officer(SUPERUSER, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    await organisation.grant_officer(SUPERUSER, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/市中分局")
    await organisation.bind_group(OFFICER, in_group("555001"), "夕阳红巡逻队", "历下分局")
    applied = await membership.apply_to_team(VOLUNTEER, in_group("555001"), "张建国", "13800138000", ["驾驶"])
    await membership.decide_application(OFFICER, approve=True, number=applied.number)
    await organisation.set_leader(
        OFFICER, PersonRef(platform="onebot", user_id=VOLUNTEER.user_id), None, "夕阳红巡逻队"
    )
    async with db.session() as session:
        officer_number = (await rights_of(session, OFFICER)).member
        volunteer = await session.get(Member, applied.member.id)
    assert officer_number is not None
    assert volunteer is not None
    callers = [SUPERUSER, OFFICER, VOLUNTEER, STRANGER, SignedInMember(officer_number.id or 0), SignedInMember(9999)]

    for caller in callers:
        async with db.session() as session:
            expected = facts(await rights_of(session, caller))
        assert facts(await db.run_reading(rights_on, caller)) == expected, caller
    officer = await db.run_reading(rights_on, OFFICER)
    assert [unit.path for unit in officer.officer_units] == ["市局/历下分局", "市局/市中分局"]
    assert officer.covers_path("市局/历下分局/闫千户派出所")
    leader = await db.run_reading(rights_on, VOLUNTEER)
    assert leader.member is not None
    assert leader.member.name == "张建国"
    assert leader.member.tags == ["驾驶"]
    assert leader.leader_team_ids
    assert not leader.is_officer

    located = await db.run_reading(team_at_on, in_group("555001"))
    assert located is not None
    assert located.team.name == "夕阳红巡逻队"
    for where in (in_group("555001"), in_group("555002"), InTeam(located.team.id or 0), InTeam(9999)):
        async with db.session() as session:
            expected_place = place(await team_at(session, where))
        assert place(await db.run_reading(team_at_on, where)) == expected_place, where


async def test_who_asks_and_the_groups_team_read_in_one_statement_are_what_two_find(database: str) -> None:
    """The everyday replies in a group read the caller's rights and the group's team in one statement
    (people.rights_beside with organisation.GROUP_PLACE): the same facts as rights_on and team_at_on, for every
    caller, in a bound and in an unbound group."""
    await organisation.grant_officer(SUPERUSER, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    await organisation.bind_group(OFFICER, in_group("555001"), "夕阳红巡逻队")
    applied = await membership.apply_to_team(VOLUNTEER, in_group("555001"), "张建国", "13800138000", [])
    await membership.decide_application(OFFICER, approve=True, number=applied.number)
    statements = rights_beside(GROUP_PLACE)
    for caller in (SUPERUSER, OFFICER, VOLUNTEER, SignedInMember(applied.member.id or 0)):
        for group in (in_group("555001"), in_group("555002")):
            rights, rows = await db.run_reading(rights_and_place_on, caller, statements, group_place_params(group))
            row = rows[0] if rows else None
            assert facts(rights) == facts(await db.run_reading(rights_on, caller)), caller
            if rights.member is None:  # the superuser by the configuration alone: no member, no row
                assert row is None
                continue
            assert row is not None, caller
            assert place(group_team_from(row)) == place(await db.run_reading(team_at_on, group)), (caller, group)
    rights, rows = await db.run_reading(
        rights_and_place_on, STRANGER, statements, group_place_params(in_group("555001"))
    )
    assert rights.member is None
    assert rows == []  # no member, no row: the team is read on its own


async def test_a_task_for_two_teams_read_beside_several_roles_names_each_team_once_in_order(database: str) -> None:
    """/任务 N reads who asks beside the task's rows (a row for each role and team): an officer of two units (two
    roles) and a leader see the task's two teams once each, in the order they were given, and its roster."""
    from storage.services import tasks

    await organisation.grant_officer(SUPERUSER, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    await organisation.grant_officer(SUPERUSER, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/市中分局")
    await organisation.bind_group(OFFICER, in_group("555001"), "夕阳红巡逻队", "历下分局")
    await organisation.bind_group(OFFICER, in_group("555002"), "朝阳巡逻队", "历下分局")
    applied = await membership.apply_to_team(VOLUNTEER, in_group("555001"), "张建国", "13800138000", [])
    await membership.decide_application(OFFICER, approve=True, number=applied.number)
    await organisation.set_leader(
        OFFICER, PersonRef(platform="onebot", user_id=VOLUNTEER.user_id), None, "夕阳红巡逻队"
    )
    spec = tasks.parse_task_words("安保 明天19:00 2小时 体育场 5人 队伍:朝阳巡逻队,夕阳红巡逻队".split())
    posted = await tasks.post_task(OFFICER, in_group("555001"), spec)
    await tasks.signup_for_task(VOLUNTEER, posted.view.task.id)
    officer = await tasks.task_detail(OFFICER, posted.view.task.id)
    assert officer.view.team_names == ["朝阳巡逻队", "夕阳红巡逻队"]
    assert [line.name for line in officer.signed] == ["张建国"]
    volunteer = await tasks.task_detail(VOLUNTEER, posted.view.task.id)
    assert volunteer.view.team_names == ["朝阳巡逻队", "夕阳红巡逻队"]
    assert volunteer.view.signed == 1
