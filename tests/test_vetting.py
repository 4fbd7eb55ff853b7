"""The background check (政审) between applying and approval, on where `[members] stages` holds "vetted": an officer
of the applicant's unit records it, a leader cannot; /通过 waits for a passed one; a failed one ends the
application; the applicant is told at each step; /审核 shows what waits at each stage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from storage import db
from storage.errors import DomainError
from storage.models import AuditLog, Member, OutboxMessage, TeamMembership, Vetting, utcnow
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.services.vetting import parse_check_day
from storage.services.when import local
from storage.settings import configure
from tests.chat import finish_the_file_in_private, forget_dialogues, say
from tests.places import in_group

ADMIN, OFFICER, SIBLING_OFFICER, LEADER = 10001, 20001, 20002, 30001
APPLICANT, SECOND_APPLICANT = 40001, 40002
GROUP = 555001


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    """Each test starts, and leaves, with no dialogue waiting in memory (the same people apply in every test)."""
    forget_dialogues()
    yield
    forget_dialogues()


def account(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def set_up() -> None:
    """A team with its officer and leader, an officer of a sibling unit, and two applicants (members 4 and 5,
    applications 2 and 3); then the vetting stage is turned on."""
    for officer, unit in ((OFFICER, "历下分局"), (SIBLING_OFFICER, "历城分局")):
        await organisation.grant_officer(account(ADMIN), PersonRef(platform="onebot", user_id=str(officer)), unit)
    await organisation.bind_group(account(OFFICER), in_group(GROUP), "夕阳红巡逻队")
    leader = await membership.apply_to_team(account(LEADER), in_group(GROUP), "王队长", "13700137000", [])
    await membership.decide_application(account(OFFICER), approve=True, number=leader.number)
    await organisation.set_leader(account(OFFICER), PersonRef(member_number=leader.member.id), in_group(GROUP), None)
    configure(stages=["vetted"])
    await say(APPLICANT, "/加入 老张 13800138000 驾驶", GROUP)
    assert (await finish_the_file_in_private(APPLICANT)) == (
        "已收到老张加入“夕阳红巡逻队”的申请，编号 2。\n下一步由民警政审，再由队长审批，每一步都会通知你。"
    )
    await say(SECOND_APPLICANT, "/加入 老李 13800138001", GROUP)
    await finish_the_file_in_private(SECOND_APPLICANT)


async def private_notices(user_id: int) -> list[str]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).where(OutboxMessage.chat_key == f"user:{user_id}"))).all()
    return [row.text for row in rows]


async def test_an_officer_vets_and_then_the_leader_approves(database: str) -> None:
    await set_up()
    review = await say(LEADER, "/审核")
    assert review == (
        "待政审（共 2 个，民警登记）：\n"
        "成员号 4｜老张｜138****8000｜特长：驾驶｜夕阳红巡逻队\n"
        "成员号 5｜老李｜138****8001｜特长：无｜夕阳红巡逻队\n"
        "待审批（共 0 个）：\n"
        "政审：/政审 成员号 通过|不通过　审批：/通过 编号　拒绝：/拒绝 编号 理由"
    )
    waits = "申请 2（老张）还在等政审：民警登记政审通过后才能审批（/政审 成员号 通过）。"
    assert await say(LEADER, "/通过 2", GROUP) == waits
    assert await say(OFFICER, "/通过 2") == waits  # an officer approves through the same gate
    assert await say(LEADER, "/政审 4 通过") == "政审结果只能由民警登记，队长不能登记。"
    assert await say(SIBLING_OFFICER, "/政审 4 通过") == "成员号 4 没有在你单位等待政审的申请：发送 /审核 查看。"
    assert await say(OFFICER, "/政审 4 通过", GROUP) == "政审结果请私聊我登记：/政审 成员号 通过|不通过 [日期] [备注]。"
    assert await say(OFFICER, "/政审 4") == (
        "登记政审结果：/政审 成员号 通过|不通过 [日期] [备注]\n例如：/政审 12 通过 昨天 派出所已核查\n成员号见 /审核"
    )
    assert await say(OFFICER, "/政审 4 通过 2099-01-01") == (
        "日期“2099-01-01”还没到：写已经做完政审的那天，例如 今天、昨天。"
    )
    async with db.session() as session:
        assert (await session.exec(select(Vetting))).all() == []  # nothing refused was recorded

    recorded = await say(OFFICER, "/政审 4 通过 昨天 派出所已核查")
    assert recorded == "已登记：老张（成员号 4）政审通过。申请“夕阳红巡逻队”现在等队长审批（/通过 编号）。"
    assert await say(OFFICER, "/政审 4 通过 昨天") == "老张（成员号 4）的政审结果之前就登记过了，没有再改动。"
    async with db.session() as session:
        vetting = (await session.exec(select(Vetting).order_by(Vetting.id.desc()))).first()  # type: ignore[union-attr]
    assert vetting is not None
    assert (vetting.result, vetting.note, vetting.officer_id) == ("passed", "派出所已核查", 1)
    assert vetting.checked_on == local(utcnow()).date() - timedelta(days=1)
    assert "老张，你加入“夕阳红巡逻队”的申请已通过政审，现在等队长审批，审批后会通知你。" in await private_notices(
        APPLICANT
    )
    review = await say(LEADER, "/审核")
    assert "待政审（共 1 个，民警登记）：\n成员号 5｜老李" in review
    assert "待审批（共 1 个）：\n编号 2｜老张｜138****8000｜特长：驾驶｜夕阳红巡逻队" in review

    assert await say(LEADER, "/通过 2", GROUP) == "已通过老张加入“夕阳红巡逻队”，成员号 4。"
    async with db.session() as session:
        member = await session.get(Member, 4)
    assert member is not None
    assert member.status == "active"
    assert member.joined_at is not None


async def test_a_failed_check_ends_the_application_and_says_so_plainly(database: str) -> None:
    await set_up()
    recorded = await say(OFFICER, "/政审 5 不通过 今天 有不良记录")
    assert recorded == "已登记：老李（成员号 5）政审未通过，加入“夕阳红巡逻队”的申请已结束，已通知本人。"
    async with db.session() as session:
        application = await session.get(TeamMembership, 3)
    assert application is not None
    assert application.status == "rejected"
    told = await private_notices(SECOND_APPLICANT)
    assert "老李，你加入“夕阳红巡逻队”的申请没有通过政审，申请已结束。有疑问请联系队长或民警。" in told
    assert not any("不良记录" in text for text in told)  # the note stays with the officers
    assert await say(LEADER, "/通过 3", GROUP) == "申请 3（老李）已被拒绝，无需再审。"
    assert "成员号 5" not in await say(LEADER, "/审核")
    assert await say(OFFICER, "/政审 5 通过") == "成员号 5 没有在你单位等待政审的申请：发送 /审核 查看。"

    # where the deployment allows it, the applicant reads the note
    configure(vetting_note_to_applicant=True)
    await say(OFFICER, "/政审 4 不通过 2026-11-30 户籍不在本辖区")
    assert (
        "老张，你加入“夕阳红巡逻队”的申请没有通过政审，申请已结束。说明：户籍不在本辖区。有疑问请联系队长或民警。"
        in (await private_notices(APPLICANT))
    )
    async with db.session() as session:
        entries = (await session.exec(select(AuditLog).where(AuditLog.action == "record_vetting"))).all()
    assert [(entry.target, entry.detail["result"]) for entry in entries] == [
        ("member:5", "failed"),
        ("member:4", "failed"),
    ]


async def test_without_the_stage_approval_is_straight_and_there_is_nothing_to_vet(database: str) -> None:
    await set_up()
    configure(stages=[])
    assert await say(OFFICER, "/政审 4 通过") == "本地没有开启政审环节：队长或民警直接发送 /通过 编号 即可。"
    review = await say(LEADER, "/审核")
    assert review.startswith("待审核的申请（共 2 个）：\n编号 2｜老张")
    assert await say(LEADER, "/通过 2", GROUP) == "已通过老张加入“夕阳红巡逻队”，成员号 4。"


def test_the_day_of_a_check_is_read_as_people_write_it() -> None:
    today = date(2026, 12, 3)
    assert parse_check_day("今天", today) == today
    assert parse_check_day("昨天", today) == date(2026, 12, 2)
    assert parse_check_day("2026-11-30", today) == date(2026, 11, 30)
    assert parse_check_day("2026年11月30日", today) == date(2026, 11, 30)
    assert parse_check_day("12月1日", today) == date(2026, 12, 1)
    assert parse_check_day("12月25日", today) == date(2025, 12, 25)  # the latest one so far
    assert parse_check_day("派出所已核查", today) is None
    for wrong in ("2026-13-01", "2026-12-04"):
        with pytest.raises(DomainError):
            parse_check_day(wrong, today)
