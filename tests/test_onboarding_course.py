"""The stage "trained" (`[members] stages = ["trained"]`, `onboarding_course = "新队员培训"`): an applicant completes
the onboarding course before approval, by its quiz in private (an online course) or marked by an officer of the
team's unit (/结业); /通过 waits for it and says how; /审核 lists 待培训; the deciders hear when it is done."""

from __future__ import annotations

import pytest
from sqlmodel import select

from storage import db
from storage.models import OutboxMessage
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure
from tests.chat import finish_the_file_in_private, forget_dialogues, say
from tests.places import in_group

ADMIN, OFFICER, SIBLING_OFFICER, LEADER = 10001, 20001, 20002, 30001
APPLICANT, SECOND_APPLICANT = 40001, 40002
GROUP, SIBLING_GROUP = 555001, 555002
QUIZ = "/题库 1\n1. 发现电信诈骗线索应当怎么做？[单选]\nA. 自己去抓人  B. 立即告诉民警*  C. 发到群里"


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    forget_dialogues()
    yield
    forget_dialogues()


def account(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def set_up() -> None:
    """夕阳红巡逻队 of 历下分局 with its leader (member 3); the stage on; 老张 applies (member 4, application 2)."""
    for officer, unit in ((OFFICER, "历下分局"), (SIBLING_OFFICER, "历城分局")):
        await organisation.grant_officer(account(ADMIN), PersonRef(platform="onebot", user_id=str(officer)), unit)
    await organisation.bind_group(account(OFFICER), in_group(GROUP), "夕阳红巡逻队")
    leader = await membership.apply_to_team(account(LEADER), in_group(GROUP), "王队长", "13700137000", [])
    await membership.decide_application(account(OFFICER), approve=True, number=leader.number)
    await organisation.set_leader(account(OFFICER), PersonRef(member_number=leader.member.id), in_group(GROUP), None)
    configure(stages=["trained"], onboarding_course="新队员培训")


async def apply(user: int, name: str, phone: str) -> str:
    await say(user, f"/加入 {name} {phone}", GROUP)
    return await finish_the_file_in_private(user)


async def private_notices(user_id: int) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user_id}"))).all()
    return [row.text for row in rows]


async def test_an_applicant_passes_the_online_onboarding_course_and_is_then_approved(database: str) -> None:
    await set_up()
    # no such course yet: the applicant is told it is to come, the leader what the officers must do
    assert await apply(APPLICANT, "老张", "13800138000") == (
        "已收到老张加入“夕阳红巡逻队”的申请，编号 2。\n"
        "下一步：你完成课程“新队员培训”，再由队长审批，每一步都会通知你。\n"
        "这门课程民警还没有建好，建好后会安排。"
    )
    assert await say(LEADER, "/通过 2", GROUP) == (
        "审批前要完成课程“新队员培训”，但历下分局和上级单位都还没有这门课程："
        "请民警先发送 /课程 新建 新队员培训 授予:资质 建好（线上课程加 线上，并用 /题库 加考题）。"
    )

    assert (await say(OFFICER, "/课程 新建 新队员培训 长期 授予:义警 线上")).startswith("已建好课程：1. 新队员培训")
    assert (await say(OFFICER, QUIZ)).startswith("已保存课程 1")
    review = await say(LEADER, "/审核")
    assert review.startswith("待培训（共 1 个，完成课程“新队员培训”后审批）：\n成员号 4｜老张｜138****8000")
    assert await say(LEADER, "/通过 2", GROUP) == (
        "申请 2（老张）还没有完成课程“新队员培训”，完成后才能审批：请他私聊我发送 /学习 1 考试；"
        "参加培训后，民警发送 /结业 1 成员号 登记。"
    )

    # the applicant, not yet a member, takes it in private; the leader hears it is done
    assert (await say(APPLICANT, "/学习 1")).endswith("回复一个字母，例如 B")
    assert (await say(APPLICANT, "B")).startswith("课程“新队员培训”考试：答对 1/1 题，100分（80分及格），及格了！")
    assert "老张已完成课程“新队员培训”，加入“夕阳红巡逻队”的申请（编号 2）可以审批了。发送 /审核 查看。" in (
        await private_notices(LEADER)
    )
    assert await say(LEADER, "/通过 2", GROUP) == "已通过老张加入“夕阳红巡逻队”，成员号 4。"


async def test_an_officer_marks_an_applicant_who_attended_and_only_for_the_onboarding_course(database: str) -> None:
    await set_up()
    await say(OFFICER, "/课程 新建 新队员培训 长期 授予:义警")
    await say(OFFICER, "/课程 新建 山地救援 有效期2年 授予:救援")
    assert (await apply(APPLICANT, "老张", "13800138000")).endswith("参加这门课程的培训后，由民警登记完成（/结业）。")
    assert await say(OFFICER, "/结业 2 4") == "没有登记：4（不是你单位的在队队员，或没有这个成员号）。"
    assert await say(SIBLING_OFFICER, "/结业 1 4") == "没有编号为 1 的课程。发送 /课程 看可以参加的课程。"
    assert (await say(OFFICER, "/结业 1 4")).startswith("已登记完成课程“新队员培训”：老张(4)")
    assert "待审批（共 1 个）：\n编号 2｜老张" in await say(LEADER, "/审核")
    assert await say(LEADER, "/通过 2", GROUP) == "已通过老张加入“夕阳红巡逻队”，成员号 4。"

    # without the stage an applicant takes no course and is marked for none
    configure(stages=[])
    await apply(SECOND_APPLICANT, "老李", "13800138001")
    assert await say(OFFICER, "/结业 1 5") == "没有登记：5（不是你单位的在队队员，或没有这个成员号）。"
