"""The organisation and joining services, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import col, func, select

from storage import db
from storage.errors import NotAllowed
from storage.models import AuditLog, GroupBinding, Member, MembershipStatus, TeamMembership, Unit
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef, mask_phone
from tests.places import in_group
from tests.refusals import refused

ADMIN = ChatAccount("onebot", "10001", "管理员")
OFFICER = ChatAccount("onebot", "20001", "李警官")
OTHER_OFFICER = ChatAccount("onebot", "20002", "王警官")
VOLUNTEER = ChatAccount("onebot", "30001", "老张")
GROUP = "555001"


async def count(model, *conditions) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model).where(*conditions))).one()


async def set_up_team(team: str = "夕阳红巡逻队", unit: str = "济南市公安局/历下分局/闫千户派出所") -> None:
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id=OFFICER.user_id), unit)
    await organisation.bind_group(OFFICER, in_group(GROUP), team)


async def test_grant_creates_the_unit_path_once(database: str) -> None:
    grant = await organisation.grant_officer(
        ADMIN, PersonRef(platform="onebot", user_id="20001", display_name="李警官"), "济南市公安局/历下分局"
    )
    assert grant.new
    assert grant.unit.path == "济南市公安局/历下分局"
    again = await organisation.grant_officer(ADMIN, PersonRef(member_number=grant.member.id), "历下分局")
    assert not again.new
    assert again.unit.id == grant.unit.id
    assert await count(Unit) == 2
    rights = await organisation.get_rights(ChatAccount("onebot", "20001"))
    assert [unit.path for unit in rights.officer_units] == ["济南市公安局/历下分局"]
    assert await count(AuditLog, AuditLog.action == "grant_officer") == 2


async def test_only_an_administrator_grants(database: str) -> None:
    with pytest.raises(NotAllowed):
        await organisation.grant_officer(VOLUNTEER, PersonRef(platform="onebot", user_id="30002"), "某分局")
    assert await count(Unit) == 0
    assert await count(Member) == 0


async def test_officer_binds_a_group_and_the_team_is_created(database: str) -> None:
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20001"), "市局/历下分局")
    binding = await organisation.bind_group(OFFICER, in_group(GROUP), "夕阳红巡逻队")
    assert binding.created_team
    assert binding.unit.path == "市局/历下分局"
    again = await organisation.bind_group(OFFICER, in_group(GROUP), "夕阳红巡逻队")
    assert not again.created_team
    assert await count(GroupBinding) == 1
    located = await organisation.get_team_at(in_group(GROUP))
    assert located is not None
    assert located.team.name == "夕阳红巡逻队"


async def test_volunteer_cannot_bind_and_officer_of_another_unit_cannot_take_over(database: str) -> None:
    await set_up_team()
    with pytest.raises(NotAllowed):
        await organisation.bind_group(VOLUNTEER, in_group("555002"), "我的队")
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id=OTHER_OFFICER.user_id), "市中分局")
    with pytest.raises(NotAllowed):
        await organisation.bind_group(OTHER_OFFICER, in_group(GROUP), "抢来的队")
    located = await organisation.get_team_at(in_group(GROUP))
    assert located.team.name == "夕阳红巡逻队"


async def test_officer_of_a_parent_unit_covers_sub_units(database: str) -> None:
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id=OFFICER.user_id), "市局/历下分局")
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20009"), "市局/历下分局2")
    binding = await organisation.bind_group(OFFICER, in_group(GROUP), "新队", "市局/历下分局")
    assert binding.unit.path == "市局/历下分局"
    parent_officer = ChatAccount("onebot", "20010")
    await organisation.grant_officer(ADMIN, PersonRef(platform="onebot", user_id="20010"), "市局")
    rights = await organisation.get_rights(parent_officer)
    assert rights.covers_unit(binding.unit)
    sibling = await organisation.get_rights(ChatAccount("onebot", "20009"))
    assert not sibling.covers_unit(binding.unit)


async def test_join_validates_and_does_not_duplicate(database: str) -> None:
    await set_up_team()
    with refused("手机号"):
        await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "12345", [])
    with refused("还没有绑定"):
        await membership.apply_to_team(VOLUNTEER, in_group("999"), "张三", "13800138000", [])
    assert await count(TeamMembership) == 0
    first = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "138 0013 8000", ["驾驶、医护"])
    assert first.created
    assert first.member.phone == "13800138000"
    assert first.member.tags == ["驾驶", "医护"]
    second = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", [])
    assert not second.created
    assert second.number == first.number
    assert await count(TeamMembership) == 1


async def test_simultaneous_joins_from_one_account_make_one_application(database: str) -> None:
    await set_up_team()
    results = await asyncio.gather(
        *(membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", []) for _ in range(5))
    )
    assert len({result.number for result in results}) == 1
    assert sum(result.created for result in results) == 1
    assert await count(TeamMembership) == 1
    assert await count(Member, Member.phone == "13800138000") == 1


async def test_someone_else_cannot_take_a_registered_phone(database: str) -> None:
    await set_up_team()
    await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", [])
    with refused("已登记"):
        await membership.apply_to_team(ChatAccount("onebot", "30002"), in_group(GROUP), "李四", "13800138000", [])
    assert await count(Member) == 2  # the officer and 张三


async def test_vetting_by_leader_and_officer(database: str) -> None:
    await set_up_team()
    application = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", ["驾驶"])
    with pytest.raises(NotAllowed):
        await membership.decide_application(ChatAccount("onebot", "30002"), approve=True, number=application.number)
    pending, total = await membership.list_pending(OFFICER, in_group(GROUP))
    assert total == 1
    assert pending[0].phone_masked == "138****8000"
    decision = await membership.decide_application(OFFICER, approve=True, number=application.number)
    assert decision.changed
    assert decision.applicant_accounts == [("onebot", VOLUNTEER.user_id)]
    repeated = await membership.decide_application(OFFICER, approve=True, number=application.number)
    assert not repeated.changed
    with refused("已是正式队员"):
        await membership.decide_application(OFFICER, approve=False, number=application.number)
    assert (await membership.list_pending(OFFICER, in_group(GROUP)))[1] == 0

    leadership = await organisation.set_leader(
        OFFICER, PersonRef(platform="onebot", user_id="30001"), in_group(GROUP), None
    )
    assert leadership.new
    newcomer = ChatAccount("onebot", "30003")
    second = await membership.apply_to_team(newcomer, in_group(GROUP), "王五", "13900139000", [])
    rejected = await membership.decide_application(
        VOLUNTEER,
        approve=False,
        person=PersonRef(platform="onebot", user_id="30003"),
        where=in_group(GROUP),
        reason="重名",
    )
    assert rejected.number == second.number
    assert rejected.reason == "重名"
    profile = await membership.my_profile(newcomer)
    assert profile.teams[0].status == MembershipStatus.rejected
    again = await membership.apply_to_team(newcomer, in_group(GROUP), "王五", "13900139000", [])
    assert again.created
    assert again.number == second.number
    assert await count(AuditLog, col(AuditLog.action).in_(["approve_application", "reject_application"])) == 2


async def test_leader_of_another_team_cannot_decide(database: str) -> None:
    await set_up_team()
    await organisation.bind_group(OFFICER, in_group("555002"), "青春飞扬")
    leader = ChatAccount("onebot", "30009")
    application = await membership.apply_to_team(leader, in_group("555002"), "赵六", "13700137000", [])
    await membership.decide_application(OFFICER, approve=True, number=application.number)
    await organisation.set_leader(OFFICER, PersonRef(member_number=application.member.id), in_group("555002"), None)
    other = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", [])
    with pytest.raises(NotAllowed):
        await membership.decide_application(leader, approve=True, number=other.number)
    with pytest.raises(NotAllowed):
        await membership.list_pending(leader, in_group(GROUP))


async def test_setting_a_leader_needs_an_active_member(database: str) -> None:
    await set_up_team()
    application = await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", [])
    with refused("正式队员"):
        await organisation.set_leader(OFFICER, PersonRef(member_number=application.member.id), in_group(GROUP), None)
    with pytest.raises(NotAllowed):
        await organisation.set_leader(VOLUNTEER, PersonRef(member_number=application.member.id), in_group(GROUP), None)


async def test_profile_masks_the_phone(database: str) -> None:
    await set_up_team()
    await membership.apply_to_team(VOLUNTEER, in_group(GROUP), "张三", "13800138000", ["驾驶"])
    profile = await membership.my_profile(VOLUNTEER)
    assert profile.member.name == "张三"
    assert [team.team_name for team in profile.teams] == ["夕阳红巡逻队"]
    assert mask_phone(profile.member.phone) == "138****8000"
    officer = await membership.my_profile(OFFICER)
    assert officer.officer_units == ["济南市公安局/历下分局/闫千户派出所"]
