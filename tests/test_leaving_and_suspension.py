"""A member leaves a team (/退出, confirmed): their sign-ups to its future tasks are cancelled, each waiting list
moves up and the one who moves up is told, the team's leaders are told, the history stays. An officer suspends a
member (/停用): signing up, checking in and redeeming are refused with the reason, until /恢复."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update
from sqlmodel import col, select

from plugins._texts.tasks import NO_SUCH_TASK
from storage import db
from storage.models import (
    AuditLog,
    Member,
    OutboxMessage,
    Signup,
    Task,
    TeamMembership,
    utcnow,
)
from storage.services import membership, organisation, shop, standings
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef, member_of
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, SIBLING_OFFICER = 10001, 20001, 20002
ZHANG, LI, LEADER = 30001, 30002, 30003
GROUP, OTHER_GROUP = 555001, 555002


async def set_up() -> dict[int, int]:
    """夕阳红巡逻队 (GROUP) and 朝阳巡逻队 (OTHER_GROUP) of 历下分局: 张三 in both, 李四 and the leader 王五 in the
    first; an officer of 市中分局 beside it. Returns each account's member number."""
    admin = ChatAccount("onebot", str(ADMIN))
    await organisation.grant_officer(admin, PersonRef(platform="onebot", user_id=str(OFFICER)), "济南市公安局/历下分局")
    await organisation.grant_officer(
        admin, PersonRef(platform="onebot", user_id=str(SIBLING_OFFICER)), "济南市公安局/市中分局"
    )
    officer = ChatAccount("onebot", str(OFFICER))
    await organisation.bind_group(officer, in_group(GROUP), "夕阳红巡逻队")
    await organisation.bind_group(officer, in_group(OTHER_GROUP), "朝阳巡逻队")
    joining = ((ZHANG, "张三", "13800138001", GROUP), (LI, "李四", "13800138002", GROUP))
    joining += ((LEADER, "王五", "13800138003", GROUP), (ZHANG, "张三", "13800138001", OTHER_GROUP))
    for user, name, phone, group in joining:
        application = await membership.apply_to_team(ChatAccount("onebot", str(user)), in_group(group), name, phone, [])
        await membership.decide_application(officer, approve=True, number=application.number)
    numbers = {}
    async with db.session() as session:
        for user in (OFFICER, ZHANG, LI, LEADER):
            member = await member_of(session, "onebot", str(user))
            assert member is not None
            assert member.id is not None
            numbers[user] = member.id
    await organisation.set_leader(officer, PersonRef(member_number=numbers[LEADER]), in_group(GROUP), None)
    return numbers


async def private_messages_to(user: int) -> list[str]:
    async with db.session() as session:
        rows = await session.exec(
            select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user}").order_by(col(OutboxMessage.id))
        )
        return [row.text for row in rows.all()]


async def signups(task_id: int) -> dict[int, str]:
    async with db.session() as session:
        rows = (await session.exec(select(Signup).where(Signup.task_id == task_id))).all()
    return {row.member_id: row.status for row in rows}


async def test_leaving_cancels_the_teams_future_sign_ups_and_the_waiting_list_moves_up(database: str) -> None:
    numbers = await set_up()
    zhang, li = numbers[ZHANG], numbers[LI]
    assert (await say(OFFICER, "/发布任务 巡逻 明天19:00 2小时 北区 1人", GROUP)).startswith("已发布任务 1")
    assert (await say(OFFICER, "/发布任务 宣传 后天9:00 2小时 广场 5人", GROUP)).startswith("已发布任务 2")
    both = "/发布任务 安保 后天19:00 2小时 体育场 5人 队伍:夕阳红巡逻队,朝阳巡逻队"
    assert (await say(OFFICER, both, GROUP)).startswith("已发布任务 3")
    for task in (1, 2, 3):
        assert "报名成功" in await say(ZHANG, f"/报名 {task}", GROUP)
    assert "候补" in await say(LI, "/报名 1", GROUP)

    assert await say(ZHANG, "/退出") == (
        "你在几个队伍里：“夕阳红巡逻队”、“朝阳巡逻队”。请写要退出哪个，例如 /退出 夕阳红巡逻队"
    )
    asked = await say(ZHANG, "/退出 夕阳红巡逻队")
    assert asked == (
        "你要退出“夕阳红巡逻队”。你报名的任务 1、2 会一并取消。退出后要重新申请才能回来。\n"
        "确认退出请在一分钟内回复“确认”，回复别的就不退出。"
    )
    assert await say(ZHANG, "确认") == (
        "你已退出“夕阳红巡逻队”。已取消你在任务 1、2 的报名。以前的记录和积分都还在。想回来可以重新 /加入。"
    )
    assert (await signups(1)) == {zhang: "cancelled", li: "signed"}  # 李四 moved up
    assert (await signups(2)) == {zhang: "cancelled"}
    assert (await signups(3)) == {zhang: "signed"}  # also for 朝阳巡逻队, where 张三 stays
    assert (await private_messages_to(LI))[-1].startswith("李四：有人取消，你已从候补转为正式报名任务 1（巡逻，")
    assert (await private_messages_to(LEADER))[-1] == (
        f"张三（成员号 {zhang}）已退出“夕阳红巡逻队”，已取消其任务 1、2 的报名。"
    )
    async with db.session() as session:
        memberships = (await session.exec(select(TeamMembership).where(TeamMembership.member_id == zhang))).all()
        member = await session.get(Member, zhang)
    assert sorted(row.status for row in memberships) == ["active", "left"]  # the row stays, as left
    assert member is not None
    assert member.status == "active"

    # the task list of the team is no longer theirs; signing up again is refused
    assert await say(ZHANG, "/报名 2", GROUP) == NO_SUCH_TASK.format(task_id=2)
    assert await say(ZHANG, "/退出 夕阳红巡逻队") == "你不在这个队伍里。你的队伍：“朝阳巡逻队”，例如 /退出 朝阳巡逻队"


async def test_leaving_asks_first_and_anything_but_confirm_leaves_nothing(database: str) -> None:
    numbers = await set_up()
    assert (await say(LI, "/退出", GROUP)).startswith("你要退出“夕阳红巡逻队”。退出后要重新申请才能回来。")
    assert await say(LI, "算了", GROUP) == "没有退出，什么也没有改。"
    assert (await say(LI, "/leave")).startswith("你要退出“夕阳红巡逻队”。")
    assert await say(LI, "好的") == "没有退出，什么也没有改。"
    async with db.session() as session:
        (row,) = (await session.exec(select(TeamMembership).where(TeamMembership.member_id == numbers[LI]))).all()
    assert row.status == "active"
    # a leader who leaves stops leading; with no team left the member's status is left
    assert (await say(LEADER, "/退出", GROUP)).startswith("你要退出“夕阳红巡逻队”。")
    assert (await say(LEADER, "确认", GROUP)).startswith("你已退出“夕阳红巡逻队”。")
    assert await say(LEADER, "/退出") == "你现在不在任何队伍里，不用退出。"
    assert await say(LEADER, "/审核", GROUP) == "只有本队队长和民警可以审核。"
    async with db.session() as session:
        leader = await session.get(Member, numbers[LEADER])
    assert leader is not None
    assert leader.status == "left"


async def test_a_suspended_member_cannot_sign_up_check_in_or_redeem_until_reinstated(database: str) -> None:
    numbers = await set_up()
    zhang = numbers[ZHANG]
    officer = ChatAccount("onebot", str(OFFICER))
    assert (await say(OFFICER, "/发布任务 巡逻 明天19:00 2小时 北区 5人", GROUP)).startswith("已发布任务 1")
    assert (await say(OFFICER, "/发布任务 宣传 后天9:00 2小时 广场 1人", GROUP)).startswith("已发布任务 2")
    assert (await say(OFFICER, "/发布任务 巡逻 后天19:00 2小时 南区 5人", GROUP)).startswith("已发布任务 3")
    assert "报名成功" in await say(ZHANG, "/报名 1", GROUP)
    assert "报名成功" in await say(ZHANG, "/报名 2", GROUP)
    assert "候补" in await say(LI, "/报名 2", GROUP)
    async with db.session() as session:  # task 1 began ten minutes ago: under way, check-in open
        start = utcnow() - timedelta(minutes=10)
        await session.exec(
            update(Task).where(col(Task.id) == 1).values(start_at=start, end_at=start + timedelta(hours=2))
        )
    reward, _ = await shop.add_reward(officer, "保温杯", 10, 5, None)
    await standings.award_points(officer, PersonRef(member_number=zhang), 50, "协助寻找走失老人")

    assert (
        await say(OFFICER, f"/停用 {zhang}")
        == "停用队员（民警）：/停用 成员号 理由，例如 /停用 12 多次无故缺勤（理由会告诉本人）"
    )
    assert await say(LEADER, f"/停用 {zhang} 多次无故缺勤", GROUP) == "只有民警可以停用队员。"
    assert await say(SIBLING_OFFICER, f"/停用 {zhang} 多次无故缺勤") == (
        f"你管的单位里没有成员号 {zhang} 的队员：请检查成员号。"
    )
    assert await say(OFFICER, f"/停用 {zhang} 多次无故缺勤", GROUP) == (
        f"已停用张三（成员号 {zhang}）。已取消其任务 2 的报名（候补的人已递补）。"  # the reason: not in the group
        f"停用期间不能报名、签到和兑换。已私信告知本人。恢复：/恢复 {zhang}"
    )
    assert (await private_messages_to(ZHANG))[-1] == (
        "你的队员资格已被民警停用，理由：多次无故缺勤。你在任务 2 的报名已取消。"
        "停用期间不能报名、签到和兑换积分。如有疑问请联系民警。"
    )
    assert await signups(2) == {zhang: "cancelled", numbers[LI]: "signed"}  # 李四 moved up, and is told
    assert (await private_messages_to(LI))[-1].startswith("李四：有人取消，你已从候补转为正式报名任务 2（宣传，")
    assert await signups(1) == {zhang: "signed"}  # under way: kept
    suspended = "你的队员资格已被停用：多次无故缺勤。如有疑问请联系民警。"
    in_the_group = "你的队员资格已被停用，原因民警已私信告诉你（私聊我发同样的命令也能看到）。如有疑问请联系民警。"
    assert await say(ZHANG, "/报名 3") == suspended
    assert await say(ZHANG, "/报名 3", GROUP) == in_the_group  # the reason is not told to the whole group
    assert await say(ZHANG, "/签到") == suspended
    assert await say(ZHANG, "/签到 1", GROUP) == in_the_group
    assert await say(ZHANG, "/签到 2") == suspended  # nothing to check in to, and still told why
    assert await say(ZHANG, f"/兑换 {reward.id}") == suspended
    assert await say(ZHANG, f"/兑换 {reward.id}", GROUP) == in_the_group
    assert await say(OFFICER, f"/suspend {zhang} 又一次") == (
        f"张三（成员号 {zhang}）已经是停用状态（理由：多次无故缺勤）。恢复：/恢复 {zhang}"
    )
    assert (
        await say(OFFICER, f"/suspend {zhang} 又一次", GROUP)
        == f"张三（成员号 {zhang}）已经是停用状态。恢复：/恢复 {zhang}"
    )

    assert await say(LEADER, f"/恢复 {zhang}", GROUP) == "只有民警可以恢复队员。"
    assert await say(OFFICER, f"/恢复 {zhang}") == f"已恢复张三（成员号 {zhang}）的队员资格。已私信告知本人。"
    assert (await private_messages_to(ZHANG))[-1] == "民警已恢复你的队员资格，可以正常报名、签到和兑换了。"
    assert await say(OFFICER, f"/reinstate {zhang}") == f"张三（成员号 {zhang}）没有被停用，不用恢复。"
    assert "报名成功" in await say(ZHANG, "/报名 3", GROUP)
    assert (await say(ZHANG, "/签到 1", GROUP)).startswith("签到成功：任务 1（巡逻，北区）。")
    assert (await say(ZHANG, f"/兑换 {reward.id}")).startswith("已兑换“保温杯”，兑换单号 1，用去 10 分，还剩 40 分。")
    async with db.session() as session:
        actions = (await session.exec(select(AuditLog.action).where(col(AuditLog.target) == f"member:{zhang}"))).all()
        member = await session.get(Member, zhang)
    assert {"suspend_member", "reinstate_member"} <= set(actions)
    assert member is not None
    assert (member.status, member.status_reason) == ("active", None)
