"""Who may read and act on what, tried as a stranger, a member of another team, a leader and an officer of a sibling
unit would: a task's roster is for its teams, their leaders and the officers covering them; team rankings are for
those who run the unit; and a task number nobody may see is answered exactly as one that does not exist."""

from __future__ import annotations

from storage.services import membership, organisation, tasks
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import say
from tests.places import in_group

ADMIN = 10001
OFFICER, SIBLING_OFFICER = 20001, 20002
MEMBER, OTHER_TEAM_MEMBER, LEADER, STRANGER = 30001, 30002, 30003, 39999
TEAM_GROUP, OTHER_GROUP, SIBLING_GROUP, UNBOUND_GROUP = 810001, 810002, 810003, 810009


def caller(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def join(user_id: int, group_id: int, name: str, phone: str, decider: int) -> None:
    applied = await membership.apply_to_team(caller(user_id), in_group(group_id), name, phone, [])
    await membership.decide_application(caller(decider), approve=True, number=applied.number)


async def set_up() -> int:
    """闫千户派出所 (李警官) with 一队 and 二队; 七里山派出所 (王警官) beside it with 外队; a task for 一队."""
    for officer, unit in ((OFFICER, "市局/历下分局/闫千户派出所"), (SIBLING_OFFICER, "市局/历下分局/七里山派出所")):
        await organisation.grant_officer(caller(ADMIN), PersonRef(platform="onebot", user_id=str(officer)), unit)
    await organisation.bind_group(caller(OFFICER), in_group(TEAM_GROUP), "一队")
    await organisation.bind_group(caller(OFFICER), in_group(OTHER_GROUP), "二队")
    await organisation.bind_group(caller(SIBLING_OFFICER), in_group(SIBLING_GROUP), "外队")
    await join(MEMBER, TEAM_GROUP, "张三", "13800000001", OFFICER)
    await join(LEADER, OTHER_GROUP, "李队长", "13800000003", OFFICER)
    await join(OTHER_TEAM_MEMBER, SIBLING_GROUP, "王五", "13800000002", SIBLING_OFFICER)
    await organisation.set_leader(caller(OFFICER), PersonRef(platform="onebot", user_id=str(LEADER)), None, "二队")
    spec = tasks.parse_task_words("巡逻 明天19:00 2小时 幸福小区北门 5人".split())
    posted = await tasks.post_task(caller(OFFICER), in_group(TEAM_GROUP), spec)
    await tasks.signup_for_task(caller(MEMBER), posted.view.task.id)
    return posted.view.task.id


async def test_a_tasks_roster_is_for_its_team_and_the_officers_covering_it(database: str) -> None:
    task = await set_up()
    nobody = "没有你能看到的任务 {n}：发送 /任务 查看你的队伍的任务。"
    assert "已报名（1）：张三" in await say(MEMBER, f"/任务 {task}", TEAM_GROUP)
    assert "幸福小区北门" in await say(OFFICER, f"/任务 {task}")
    assert "已报名（1）：张三" in await say(ADMIN, f"/任务 {task}")
    for user_id, group_id in (
        (STRANGER, UNBOUND_GROUP),
        (STRANGER, TEAM_GROUP),
        (OTHER_TEAM_MEMBER, SIBLING_GROUP),
        (LEADER, OTHER_GROUP),  # leads 二队, which the task is not for
        (SIBLING_OFFICER, None),
    ):
        answer = await say(user_id, f"/任务 {task}", group_id)
        assert answer == nobody.format(n=task), (user_id, answer)
        assert answer.replace(str(task), "N") == (await say(user_id, "/任务 9999", group_id)).replace("9999", "N")
        assert "张三" not in answer
        assert "幸福小区" not in answer


async def test_a_task_one_may_not_act_on_is_answered_as_one_that_does_not_exist(database: str) -> None:
    task = await set_up()
    for user_id, group_id, command in (
        (OTHER_TEAM_MEMBER, SIBLING_GROUP, "/报名"),
        (OTHER_TEAM_MEMBER, SIBLING_GROUP, "/签到"),
        (OTHER_TEAM_MEMBER, SIBLING_GROUP, "/取消报名"),
        (SIBLING_OFFICER, None, "/取消任务"),
        (SIBLING_OFFICER, None, "/结束任务"),
        (MEMBER, TEAM_GROUP, "/取消任务"),
        (STRANGER, UNBOUND_GROUP, "/报名"),
    ):
        existing = await say(user_id, f"{command} {task}", group_id)
        missing = await say(user_id, f"{command} 9999", group_id)
        assert existing.replace(str(task), "N") == missing.replace("9999", "N"), (user_id, command, existing)
    assert "不能取消" not in await say(MEMBER, f"/取消报名 {task}", TEAM_GROUP)  # the member's own sign-up goes


async def test_team_rankings_are_for_those_who_run_the_unit(database: str) -> None:
    await set_up()
    refused = "分队排名只能看你管的单位：请在你的队伍群里发送 /排行榜 单位 分队"
    assert "一队" in await say(OFFICER, "/排行榜 单位 分队", TEAM_GROUP)
    assert "二队" in await say(LEADER, "/排行榜 单位 分队", OTHER_GROUP)
    assert await say(SIBLING_OFFICER, "/排行榜 单位 分队", TEAM_GROUP) == refused
    assert await say(OFFICER, "/排行榜 单位 分队", SIBLING_GROUP) == refused
    assert await say(LEADER, "/排行榜 单位 分队", SIBLING_GROUP) == refused
    assert await say(LEADER, "/排行榜 全市 分队") == refused
    assert "分队人均" in await say(ADMIN, "/排行榜 全市 分队")
