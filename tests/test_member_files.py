"""The member file (一人一档): /档案 for the member in private, for an officer of the member's unit and for the
leader of the member's team; /队员 for a team's leader and officers; /标签 for specialties, and what a task's
需要: accepts of them under `[members] required_tags_from`."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlmodel import col, select

from storage import db
from storage.models import (
    AuditLog,
    Insurance,
    Member,
    MemberTotal,
    OutboxMessage,
    PlatformIdentity,
    Signup,
    SignupStatus,
    Task,
    Vetting,
    utcnow,
)
from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import TagSource, settings
from tests.chat import say
from tests.places import in_group, volunteer_name

ADMIN, OFFICER, SIBLING_OFFICER = 10001, 20001, 20002
LEADER, MEMBER, OTHER_LEADER = 30001, 30002, 30009
GROUP, OTHER_GROUP = 557001, 557002
"""夕阳红巡逻队 (张三 leads it, 李四 is in it) and 护学队 (王五 leads it), both of 历下分局; the sibling officer is
of 历城分局, beside it under the same city bureau."""
ID_NUMBER = "370102199001011234"


def account(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def number_of(user_id: int) -> int:
    async with db.session() as session:
        identity = (await session.exec(select(PlatformIdentity).where(PlatformIdentity.user_id == str(user_id)))).one()
        return identity.member_id


async def join(user_id: int, group: int, name: str, phone: str, tags: list[str]) -> int:
    application = await membership.apply_to_team(account(user_id), in_group(group), name, phone, tags)
    await membership.decide_application(account(OFFICER), approve=True, number=application.number)
    return application.member.id or 0


async def set_up() -> None:
    admin = account(ADMIN)
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=str(OFFICER)), "市局/历下分局")
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=str(SIBLING_OFFICER)), "市局/历城分局")
    await organisation.bind_group(account(OFFICER), in_group(GROUP), "夕阳红巡逻队")
    await organisation.bind_group(account(OFFICER), in_group(OTHER_GROUP), "护学队")
    leader = await join(LEADER, GROUP, "张三", "13800138001", [])
    await join(MEMBER, GROUP, "李四", "13800138002", ["救援", "驾驶"])
    other_leader = await join(OTHER_LEADER, OTHER_GROUP, "王五", "13800138009", [])
    await organisation.set_leader(account(OFFICER), PersonRef(member_number=leader), in_group(GROUP), None)
    await organisation.set_leader(account(OFFICER), PersonRef(member_number=other_leader), in_group(OTHER_GROUP), None)


async def fill_in_the_file() -> int:
    """李四's file as an application and the officers' records leave it: identity, vetting, two policies (the newer
    counts), figures in the running totals, one task attended, and last January's 义警之星 of the team."""
    number = await number_of(MEMBER)
    leader = await number_of(LEADER)
    officer = await number_of(OFFICER)
    async with db.session() as session:
        member = await session.get(Member, number)
        assert member is not None
        member.id_number = ID_NUMBER
        member.emergency_contact = "李母 13900001111"
        member.area, member.employer, member.industry, member.profession = "历下区", "银座超市", "零售", "店员"
        member.verified_tags = ["救援"]
        member.joined_at = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)
        session.add(member)
        session.add(Vetting(member_id=number, result="passed", checked_on=date(2026, 2, 20), officer_id=officer,
                            note="无违法记录"))  # fmt: skip
        session.add(
            Insurance(member_id=number, insurer="人保", policy_number="PA-2025-1", valid_until=date(2026, 6, 30))
        )
        session.add(
            Insurance(member_id=number, insurer="平安", policy_number="PA-2026-7", valid_until=date(2027, 6, 30))
        )
        session.add(MemberTotal(member_id=number, period="all", points=42, minutes=150, tips=2, spendable=37))
        session.add(MemberTotal(member_id=number, period="m2026-01", points=12, minutes=60))
        session.add(MemberTotal(member_id=leader, period="m2026-01", points=8, minutes=90))
        start = utcnow() - timedelta(days=3)
        task = Task(kind="巡逻", place="北区", start_at=start, end_at=start + timedelta(hours=2),
                    signup_deadline=start, capacity=5, unit_id=1)  # fmt: skip
        session.add(task)
        await session.flush()
        session.add(Signup(task_id=task.id or 0, member_id=number, status=SignupStatus.attended, minutes_served=120))
    return number


async def audit_entries(action: str) -> list[tuple[str, str, dict]]:
    async with db.session() as session:
        rows = (await session.exec(select(AuditLog).where(AuditLog.action == action).order_by(col(AuditLog.id)))).all()
    return [(row.actor, row.target, row.detail) for row in rows]


OWN_FILE = """你的档案：李四，成员号 {number}
手机：138****8002
身份证：3701**********1234
紧急联系人：李母 139****1111
地区：历下区　工作单位：银座超市
行业：零售　职业：店员
特长：救援✓、驾驶（✓ 为民警核实）
状态：正常　入队：2026-03-01
政审：通过（2026-02-20）
保险：平安 PA-2026-7，有效期至 2027-06-30
队伍：夕阳红巡逻队（正式队员）
服务 2.5 小时，出勤 1 次，核实线索 2 条，累计积分 42，义警之星 1 次
可用积分：37"""


async def test_the_member_sees_their_own_file_in_private_masked_and_never_in_a_group(database: str) -> None:
    await set_up()
    number = await fill_in_the_file()
    officer_name = (await say(OFFICER, "/我的")).split("，")[0]
    assert await say(MEMBER, "/档案", GROUP) == "档案里有个人信息，请私聊我发送 /档案（/profile）。"
    assert await say(OFFICER, f"/档案 {number}", GROUP) == "档案里有个人信息，请私聊我发送 /档案（/profile）。"
    own = await say(MEMBER, "/档案")
    assert own == OWN_FILE.format(number=number)
    assert officer_name not in own  # who vetted them stays with the officers, and the note too (the default)
    assert ID_NUMBER not in own
    assert "13800138002" not in own
    assert "13900001111" not in own
    assert await say(MEMBER, "/profile") == own
    assert (await say(MEMBER, "/档案 张三")).startswith("看自己的档案：私聊我发送 /档案")
    assert await audit_entries("view_member_file") == []  # reading one's own file is nobody else's business


async def test_who_may_read_a_members_file_and_what_they_see(database: str) -> None:
    await set_up()
    number = await fill_in_the_file()
    refusal = f"你不能查看成员 {number} 的档案：只有本人、所在单位的民警和本队队长可以查看。"

    officer_view = await say(OFFICER, f"/档案 {number}")
    assert officer_view.startswith(f"档案：李四，成员号 {number}\n手机：138****8002\n身份证：3701**********1234\n")
    assert "紧急联系人：李母 139****1111" in officer_view
    assert "无违法记录" in officer_view
    assert "可用积分" not in officer_view  # the balance may hold anonymous rewards: the member's alone
    assert ID_NUMBER not in officer_view

    leader_view = await say(LEADER, f"/档案 {number}")
    assert leader_view.startswith(f"档案：李四，成员号 {number}\n手机：138****8002\n地区：历下区")
    assert "身份证" not in leader_view
    assert "紧急联系人" not in leader_view
    assert "无违法记录" not in leader_view
    assert "政审：通过（2026-02-20" in leader_view
    async with db.session() as session:  # the newest policy has run out: the file says so
        for policy in (await session.exec(select(Insurance))).all():
            policy.valid_until = policy.valid_until.replace(year=policy.valid_until.year - 3)
            session.add(policy)
    assert "保险：平安 PA-2026-7，有效期至 2024-06-30（已过期）" in await say(OFFICER, f"/档案 {number}")

    assert await say(SIBLING_OFFICER, f"/档案 {number}") == refusal  # an officer of the unit beside it
    assert await say(OTHER_LEADER, f"/档案 {number}") == refusal  # the leader of another team
    other_team = await number_of(OTHER_LEADER)
    assert await say(LEADER, f"/档案 {other_team}") == refusal.replace(str(number), str(other_team))
    missing = await say(SIBLING_OFFICER, "/档案 999")
    assert missing == refusal.replace(str(number), "999")  # reads the same: nothing says whether 999 exists
    assert await say(39999, f"/档案 {number}") == "你还没有登记：请先在队伍群里发送 /加入 姓名"
    assert (await say(ADMIN, f"/档案 {number}")).startswith(f"档案：李四，成员号 {number}\n手机：138****8002\n身份证：")

    assert await audit_entries("view_member_file") == [
        (f"onebot:{OFFICER}", f"member:{number}", {"view": "officer"}),
        (f"onebot:{LEADER}", f"member:{number}", {"view": "leader"}),
        (f"onebot:{OFFICER}", f"member:{number}", {"view": "officer"}),
        (f"onebot:{ADMIN}", f"member:{number}", {"view": "officer"}),
    ]


async def test_an_erased_member_is_a_neutral_label_only(database: str) -> None:
    await set_up()
    number = await fill_in_the_file()
    async with db.session() as session:
        member = await session.get(Member, number)
        assert member is not None
        member.erased_at = utcnow()
        session.add(member)
    assert await say(OFFICER, f"/档案 {number}") == f"成员号 {number}：已注销的成员"
    roster = await say(OFFICER, "/队员", GROUP)
    assert "李四" not in roster


async def test_a_member_erased_through_the_chat_is_a_label_to_whom_they_belonged(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/删除我的信息 leaves every place the member had: the officer of their unit, the leader of their team and an
    administrator still see the number's neutral label; a sibling unit's officer and another team's leader are
    refused as for a number that does not exist."""
    monkeypatch.setattr(settings, "data_dir", tmp_path / "data")
    await set_up()
    number = await fill_in_the_file()
    assert "回复“确认”" in await say(MEMBER, "/删除我的信息")
    assert (await say(MEMBER, "确认")).startswith("已删除你的个人信息和账号")
    label = f"成员号 {number}：已注销的成员"
    assert await say(OFFICER, f"/档案 {number}") == label
    assert await say(LEADER, f"/档案 {number}") == label
    assert await say(ADMIN, f"/档案 {number}") == label
    refusal = f"你不能查看成员 {number} 的档案：只有本人、所在单位的民警和本队队长可以查看。"
    assert await say(SIBLING_OFFICER, f"/档案 {number}") == refusal
    assert await say(OTHER_LEADER, f"/档案 {number}") == refusal
    assert await say(SIBLING_OFFICER, "/档案 999") == refusal.replace(str(number), "999")


async def test_the_roster_for_the_leader_and_the_officers_filtered_and_paged(database: str) -> None:
    await set_up()
    number = await number_of(MEMBER)
    for index in range(1, 16):  # 17 members in all: two pages of 15
        await join(
            31000 + index, GROUP, volunteer_name(index), f"1390000{index:04d}", ["救援"] if index % 5 == 0 else []
        )
    leader = await number_of(LEADER)

    in_group = await say(LEADER, "/队员", GROUP)
    lines = in_group.split("\n")
    assert lines[0] == "“夕阳红巡逻队”队员 17 人"
    assert lines[1] == f"{leader}｜张三（队长）｜无"
    assert lines[2] == f"{number}｜李四｜救援、驾驶"
    assert len(lines) == 1 + 15 + 2
    assert lines[-2:] == ["第1页，共2页，发 /队员 2 看下一页", "手机号只在私聊显示。"]
    assert "138" not in in_group
    assert "139" not in in_group

    second = await say(LEADER, "/队员 2", GROUP)
    assert second.split("\n")[-2:] == ["第2页，共2页", "手机号只在私聊显示。"]
    assert len(second.split("\n")) == 1 + 2 + 2
    assert await say(LEADER, "/队员 3", GROUP) == "没有第3页：共2页，例如 /队员 2"

    in_private = await say(LEADER, "/roster 救援")  # the one team they lead
    assert in_private.split("\n")[:2] == [
        "“夕阳红巡逻队”队员 4 人（特长：救援）",
        f"{number}｜李四｜138****8002｜救援、驾驶",
    ]
    assert "手机号只在私聊显示" not in in_private
    assert "13800138002" not in in_private

    named = await say(OFFICER, "/队员 夕阳红巡逻队 驾驶")
    assert named == f"“夕阳红巡逻队”队员 1 人（特长：驾驶）\n{number}｜李四｜138****8002｜救援、驾驶"
    assert (await say(OFFICER, "/队员 夕阳红巡逻队")).split("\n")[
        -1
    ] == "第1页，共2页，发 /队员 夕阳红巡逻队 2 看下一页"
    assert await say(OFFICER, "/队员") == "请写队伍名，例如 /队员 夕阳红巡逻队；或在队伍群里发送 /队员"

    assert await say(OTHER_LEADER, "/队员", GROUP) == "只有“夕阳红巡逻队”的队长和所在单位的民警可以看它的队员名单。"
    assert await say(SIBLING_OFFICER, "/队员 夕阳红巡逻队") == (
        "你管的队伍里没有“夕阳红巡逻队”：请写你的队伍名，例如 /队员 夕阳红巡逻队 救援"
    )
    assert await say(MEMBER, "/队员", GROUP) == "只有队长和民警可以看队员名单。"
    too_long = await say(LEADER, "/队员 " + "救" * 500, GROUP)
    assert too_long == f"特长“{'救' * 20}…”太长：每个特长不超过10个字，例如 救援 医护 驾驶。"


async def outbox_to(user_id: int) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user_id}"))).all()
    return [row.text for row in rows]


async def signs_up(user_id: int, task_id: int) -> str:
    """Whether the member may sign up for the task (and then cancels, to try again later): 'yes' or the refusal."""
    answer = await say(user_id, f"/报名 {task_id}", GROUP)
    if "报名成功" in answer:
        await tasks.cancel_signup(account(user_id), task_id)
        return "yes"
    return answer


@pytest.mark.parametrize("source", [TagSource.declared, TagSource.verified])
async def test_tags_declared_verified_added_and_removed_and_what_a_task_needing_them_accepts(
    database: str, monkeypatch: pytest.MonkeyPatch, source: TagSource
) -> None:
    monkeypatch.setattr(settings, "required_tags_from", source)
    await set_up()
    number = await number_of(LEADER)  # 张三 declared nothing
    words = [str(word) for word in "巡逻 明天19:00 2小时 北区 5人 需要:救援".split()]
    spec = tasks.parse_task_words(words, utcnow())
    task = (await tasks.post_task(account(OFFICER), in_group(GROUP), spec)).view.task.id or 0
    missing = f"任务 {task} 需要：救援"
    assert (await signs_up(LEADER, task)).startswith(missing)

    assert await say(LEADER, "/标签 +救援 -摄影") == "已加上了 救援。现在的特长：救援"
    assert await say(LEADER, "/标签 +救援") == "没有变化。现在的特长：救援"
    declared_only = await signs_up(LEADER, task)
    if source == TagSource.declared:
        assert declared_only == "yes"
    else:
        assert declared_only.startswith(missing)

    verified = await say(OFFICER, f"/标签 {number} +救援 +驾驶")
    assert verified == f"已为张三（成员号 {number}）核实了 救援，加上了 驾驶。已私信告知。\n现在的特长：救援✓、驾驶✓"
    assert await say(OFFICER, f"/tag {number} +救援") == "没有变化。现在的特长：救援✓、驾驶✓"
    assert "\n特长：救援✓、驾驶✓\n" in await say(LEADER, "/我的")
    assert await signs_up(LEADER, task) == "yes"
    assert [text for text in await outbox_to(LEADER) if "特长" in text] == [
        "民警为你的特长核实了 救援，加上了 驾驶。现在的特长：救援✓、驾驶✓（✓ 为民警核实）"
    ]

    assert (await say(OFFICER, f"/标签 {number} -救援")).startswith(f"已为张三（成员号 {number}）去掉了 救援。")
    assert (await signs_up(LEADER, task)).startswith(missing)
    async with db.session() as session:
        member = await session.get(Member, number)
        assert member is not None
        assert (member.tags, member.verified_tags) == ([], ["驾驶"])

    refused_alike = "你不能修改成员 {} 的特长：只有其所在单位的民警可以。"
    assert await say(SIBLING_OFFICER, f"/标签 {number} +救援") == refused_alike.format(number)
    assert await say(SIBLING_OFFICER, "/标签 999 +救援") == refused_alike.format(999)
    assert (await say(ADMIN, f"/标签 {number} +医护")).startswith(f"已为张三（成员号 {number}）加上了 医护。")
    assert await say(OTHER_LEADER, f"/标签 {number} +救援") == (
        "只有成员所在单位的民警可以核实别人的特长；改自己的：/标签 +驾驶 -摄影"
    )
    assert (await say(LEADER, "/标签 救援")).startswith("改自己的特长：/标签 +驾驶 -摄影")
    assert await say(LEADER, "/标签 +救援 -救援") == "“救援”不能同时加上又去掉：例如 /标签 +救援 -驾驶"
    assert [(target, detail) for _, target, detail in await audit_entries("tag_member")] == [
        (f"member:{number}", {"verified": ["救援"], "added": ["驾驶"], "removed": []}),
        (f"member:{number}", {"verified": [], "added": [], "removed": ["救援"]}),
        (f"member:{number}", {"verified": [], "added": ["医护"], "removed": []}),
    ]


@pytest.mark.parametrize("source", [TagSource.declared, TagSource.verified])
async def test_a_call_out_needing_a_specialty_reaches_whom_the_setting_accepts(
    database: str, monkeypatch: pytest.MonkeyPatch, source: TagSource
) -> None:
    from storage.services import emergency

    monkeypatch.setattr(settings, "required_tags_from", source)
    await set_up()
    async with db.session() as session:  # 李四 declared 救援 when joining; 张三 has it verified by an officer
        leader = await session.get(Member, await number_of(LEADER))
        assert leader is not None
        leader.verified_tags = ["救援"]
        session.add(leader)
    raised = await emergency.raise_alert(account(OFFICER), "落水救援", 2, ["救援"], None)
    reached = sorted(chat for chat in await private_chats())
    expected = [f"user:{LEADER}", f"user:{MEMBER}"] if source == TagSource.declared else [f"user:{LEADER}"]
    assert (raised.people, reached) == (len(expected), expected)


async def private_chats() -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage.chat_key).where(col(OutboxMessage.priority) == 0))).all()
    return [row for row in rows if row.startswith("user:")]


def test_the_setting_is_read_from_the_members_section_and_only_its_three_values() -> None:
    from bot.config import ConfigError, load_settings

    read = load_settings(None, environ={"YIJING_MEMBERS__REQUIRED_TAGS_FROM": "verified"})
    assert read.domain_settings()["required_tags_from"] == "verified"
    assert read.domain_settings()["export_full_personal_data"] is False
    only_qualified = load_settings(None, environ={"YIJING_MEMBERS__REQUIRED_TAGS_FROM": "qualified"})
    assert only_qualified.domain_settings()["required_tags_from"] == "qualified"
    with pytest.raises(ConfigError, match="required_tags_from"):
        load_settings(None, environ={"YIJING_MEMBERS__REQUIRED_TAGS_FROM": "qualifications"})
