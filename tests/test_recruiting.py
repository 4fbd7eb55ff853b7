"""Recruiting beyond the team groups: a leader or an officer makes an invite code (/招募), a stranger applies with
it in private, one question at a time; expired, revoked and full codes are refused; two strangers racing for the
last place cannot both have it."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta

import pytest
from nonebot.adapters.onebot.v11 import Message as OneBotMessage
from nonebot.message import handle_event
from sqlmodel import select

from plugins._images import qr_image
from plugins._texts.recruiting import DEFAULT_CONSENT_TEXT
from storage import db
from storage.models import AuditLog, Invite, JoinRequest, Member, OutboxMessage, TeamMembership, utcnow
from storage.services import applications, membership, organisation
from storage.services.actors import ChatAccount
from storage.services.invites import CODE_DIGITS, CODE_LETTERS, as_code
from storage.services.people import PersonRef
from storage.settings import configure
from tests.chat import RecordingBot, forget_dialogues, onebot_group_message, onebot_private_message, say
from tests.places import in_group

ADMIN, OFFICER, SIBLING_OFFICER, LEADER, OTHER_LEADER = 10001, 20001, 20002, 30001, 30002
STRANGER, SECOND_STRANGER, NOBODY = 40001, 40002, 40003
GROUP, OTHER_GROUP = 555001, 555002
CODE = re.compile(r"邀请码：([A-Z0-9]{8})")
ID_NUMBER = "370102199001011231"
"""A resident ID number whose check digit is right."""


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    """Each test starts, and leaves, with no dialogue waiting in memory (the same people apply in every test)."""
    forget_dialogues()
    yield
    forget_dialogues()


def account(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


async def set_up() -> None:
    """Two teams of two sibling units, each with its officer and a leader."""
    for officer, unit in ((OFFICER, "历下分局"), (SIBLING_OFFICER, "历城分局")):
        await organisation.grant_officer(account(ADMIN), PersonRef(platform="onebot", user_id=str(officer)), unit)
    await organisation.bind_group(account(OFFICER), in_group(GROUP), "夕阳红巡逻队")
    await organisation.bind_group(account(SIBLING_OFFICER), in_group(OTHER_GROUP), "青春飞扬护学队")
    for leader, officer, group, name, phone in (
        (LEADER, OFFICER, GROUP, "王队长", "13700137000"),
        (OTHER_LEADER, SIBLING_OFFICER, OTHER_GROUP, "赵队长", "13700137001"),
    ):
        applied = await membership.apply_to_team(account(leader), in_group(group), name, phone, [])
        await membership.decide_application(account(officer), approve=True, number=applied.number)
        await organisation.set_leader(
            account(officer), PersonRef(member_number=applied.member.id), in_group(group), None
        )


async def replies(user_id: int, text: str, group_id: int | None = None) -> list[OneBotMessage]:
    bot = RecordingBot()
    event = onebot_private_message(user_id, text) if group_id is None else onebot_group_message(group_id, user_id, text)
    await handle_event(bot, event)
    return bot.replies()


async def make_invite(user_id: int, text: str = "/招募", group_id: int | None = None) -> str:
    answer = await say(user_id, text, group_id)
    found = CODE.search(answer)
    assert found is not None, answer
    return found.group(1)


async def invite_row(code: str) -> Invite:
    async with db.session() as session:
        return (await session.exec(select(Invite).where(Invite.code == code))).one()


async def audited(action: str) -> list[str]:
    async with db.session() as session:
        return [entry.target for entry in (await session.exec(select(AuditLog).where(AuditLog.action == action)))]


async def apply_up_to_consent(user_id: int, code: str, name: str = "李梅", phone: str = "13900139000") -> str:
    """/加入 CODE in private and every answer before the consent; the bot's last answer (the consent text)."""
    asked = await say(user_id, f"/加入 {code}")
    assert asked.startswith("你正在申请加入"), asked
    last = ""
    for typed in (name, phone, "历下区", "济南市第一中学", "教师", "无", "丈夫 张强 13900139999"):
        last = await say(user_id, typed)
    return last


async def test_officers_and_leaders_make_invites_for_their_teams_only(database: str) -> None:
    await set_up()
    # an officer in the team's group: the code, how to use it, and a QR picture of the words to send
    sent = await replies(OFFICER, "/招募 7天", GROUP)
    (message,) = sent
    text = message.extract_plain_text()
    found = CODE.search(text)
    assert found is not None, text
    code = found.group(1)
    assert text.startswith(f"邀请码：{code}（加入“夕阳红巡逻队”）\n有效期到 ")
    assert "，30人。\n" in text  # the configured places
    assert f"用法：私聊我发送 /加入 {code}，按提示填写申请。" in text
    (picture,) = [segment for segment in message if segment.type == "image"]
    assert picture.data["file"] == "base64://" + base64.b64encode(qr_image(f"/加入 {code}")).decode()
    assert len(code) == 8
    assert all(ch in CODE_LETTERS + CODE_DIGITS for ch in code)
    assert sum(ch.isdigit() for ch in code) >= 2
    assert not set(code) & set("0O1Il")

    # the officer names the team, the validity and the places; the leader's own team needs no name
    named = await make_invite(OFFICER, "/招募 夕阳红巡逻队 14天 5人")
    row = await invite_row(named)
    assert (row.places, row.used) == (5, 0)
    assert timedelta(days=13, hours=23) < row.expires_at - utcnow() <= timedelta(days=14)
    own = await make_invite(LEADER, "/招募 不限")
    assert (await invite_row(own)).places is None

    # another team's leader, an officer of a sibling unit and a stranger get nothing
    assert await say(OTHER_LEADER, "/招募 夕阳红巡逻队") == (
        "你不能为“夕阳红巡逻队”招募：队长只能为自己的队，民警为本单位的队。"
    )
    assert await say(SIBLING_OFFICER, "/招募 夕阳红巡逻队") == (
        "你不能为“夕阳红巡逻队”招募：队长只能为自己的队，民警为本单位的队。"
    )
    assert await say(NOBODY, "/招募") == "只有队长和民警可以招募新队员。"
    assert await say(OFFICER, "/招募 夕阳红巡逻队 0人") == "名额写1到100000人，例如 30人；不限名额写 不限。"

    listed = await say(OFFICER, "/招募")
    assert listed.startswith("你发出的有效邀请码（共 2 个）：\n")
    assert f"{code}｜夕阳红巡逻队｜已用 0/30｜到 " in listed
    assert f"{named}｜夕阳红巡逻队｜已用 0/5｜到 " in listed
    assert own not in listed  # the leader's, not the officer's
    assert await say(OTHER_LEADER, f"/招募 撤销 {own}") == (
        "没有这个邀请码：请核对（8位字母和数字），或向发给你邀请码的人再要一个。"
    )
    assert await say(LEADER, f"/招募 撤销 {own.lower()}") == (
        f"邀请码 {own}（“夕阳红巡逻队”）已作废，已用 0 次；用它交的申请不受影响。"
    )
    assert await say(LEADER, f"/招募 撤销 {own}") == f"邀请码 {own} 之前就作废了。"
    assert len(await audited("make_invite")) == 3
    assert await audited("revoke_invite") == [f"invite:{(await invite_row(own)).id}"]


async def test_a_stranger_applies_in_private_with_a_code_through_every_step(database: str) -> None:
    configure(ask_id_number=True)
    await set_up()
    code = await make_invite(LEADER, "/招募 7天")
    assert await say(STRANGER, f"/加入 {code}", GROUP) == (
        "邀请码请私聊我发送，例如 /加入 AB3CD5EF：登记要填手机号等，不要在群里填。"
    )
    conversation = [
        (f"/加入 {code.lower()}", "你正在申请加入“夕阳红巡逻队”，一共几个问题，随时回复“取消”退出（不会保存）。\n"
         "（还有9步）你的姓名？（例如 张三）"),
        ("李梅2", "姓名只写汉字或字母（2到20个字，几部分之间可用·，如 阿依古丽·买买提），"
         "不要数字、表情或符号，例如 张三。"),
        ("李梅", "已记下姓名：李梅。\n"
         "（还有8步）你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）"),
        ("139 0013 9000", "已记下手机号：139****9000。\n（还有7步）你的身份证号？（18位，显示时只露出前4位和后4位）"),
        ("37010219900101123", "身份证号是18位：写了17位。请重新输入，例如 370102199001011231（最后一位可以是X）。"),
        ("370102199001011232", "身份证号的校验位对不上，可能有一位写错了：请核对后重新输入。"),
        (ID_NUMBER, "已记下身份证号：3701**********1231。\n（还有6步）你住在哪个区域？（例如 历下区 泉城路街道）"),
        ("历下区", "已记下区域：历下区。\n（还有5步）你的工作单位？（退休或没有就写 无）"),
        ("济南市第一中学", "已记下工作单位：济南市第一中学。\n（还有4步）你的职业？（例如 教师、司机、退休）"),
        ("教师", "已记下职业：教师。\n"
         "（还有3步）你有什么特长？可以写几个，用空格隔开（例如 驾驶 医护 调解）；没有就写 无"),
        ("医护、心理疏导", "已记下特长：医护、心理疏导。\n"
         "（还有2步）紧急联系人：写称呼或姓名和手机号（例如 妻子 王芳 13900139000）"),
        ("丈夫 张强", "请写上紧急联系人的手机号，例如 妻子 王芳 13900139000。"),
    ]  # fmt: skip
    for typed, expected in conversation:
        assert await say(STRANGER, typed) == expected, typed

    # the bot restarts in the middle: the dialogue is gone from memory, the answers are not
    forget_dialogues()
    consent = await say(STRANGER, "丈夫 张强 13900139999")
    assert consent == (
        "已记下紧急联系人：丈夫 张强 139****9999。\n"
        f"最后一步：{DEFAULT_CONSENT_TEXT}\n同意请回复“同意”，不同意请回复“不同意”（不同意不会保存任何信息）。"
    )
    assert await say(STRANGER, "好") == "同意请回复“同意”，不同意请回复“不同意”（不同意不会保存任何信息）。"
    done = await say(STRANGER, "同意。")
    assert done == "已收到李梅加入“夕阳红巡逻队”的申请，编号 3。\n队长或民警审核后会通知你。队长请发送 /审核 查看。"

    async with db.session() as session:
        member = (await session.exec(select(Member).where(Member.name == "李梅"))).one()
        application = (await session.exec(select(TeamMembership).where(TeamMembership.member_id == member.id))).one()
        told = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        assert (await session.exec(select(JoinRequest))).all() == []
    assert (member.phone, member.id_number, member.area) == ("13900139000", ID_NUMBER, "历下区")
    assert (member.employer, member.profession, member.tags) == ("济南市第一中学", "教师", ["医护", "心理疏导"])
    assert member.emergency_contact == "丈夫 张强 13900139999"
    assert member.consented_at is not None
    assert (application.status, application.applied_group_id) == ("applied", None)
    invite = await invite_row(code)
    assert (application.invite_id, invite.used) == (invite.id, 1)
    # the leader is told in private, with nothing personal
    (notice,) = [message for message in told if message.text.startswith("新的入队申请")]
    assert notice.chat_key == f"user:{LEADER}"  # the team's leader; its officers only when it has none
    assert notice.text == "新的入队申请：李梅用邀请码申请加入“夕阳红巡逻队”，编号 3。发送 /审核 查看。"
    assert notice.target["private"]
    pending = await say(LEADER, "/审核")
    assert "编号 3｜李梅｜139****9000｜特长：医护、心理疏导｜夕阳红巡逻队" in pending
    assert ID_NUMBER not in pending
    # the same code again: already applied, nothing twice
    assert await say(STRANGER, f"/加入 {code}") == "李梅，你的申请（编号 3）已在等待审核，不用重复申请。"
    assert (await invite_row(code)).used == 1


async def test_refusing_consent_or_cancelling_keeps_nothing(database: str) -> None:
    await set_up()
    code = await make_invite(OFFICER, "/招募 夕阳红巡逻队")
    assert (await apply_up_to_consent(STRANGER, code)).startswith("已记下紧急联系人：丈夫 张强 139****9999。\n最后一步")
    async with db.session() as session:
        (request,) = (await session.exec(select(JoinRequest))).all()
    assert request.answers["phone"] == "13900139000"  # kept between the steps, before the consent
    assert await say(STRANGER, "不同意") == "好的，不加入“夕阳红巡逻队”，你填写的信息都没有保存。需要时可以重新申请。"

    await say(SECOND_STRANGER, f"/加入 {code}")
    await say(SECOND_STRANGER, "孙丽")
    assert await say(SECOND_STRANGER, "取消") == "已取消入队申请，填写的内容没有保存。"
    await say(NOBODY, f"/加入 {code}")
    await say(NOBODY, "钱多")
    assert (await say(NOBODY, "/积分")).startswith("已退出入队申请，填写的内容没有保存。")

    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []
        names = [member.name for member in (await session.exec(select(Member))).all()]
        assert not {"李梅", "孙丽", "钱多"} & set(names)
        assert (await session.exec(select(Member).where(Member.phone == "13900139000"))).all() == []
    assert (await invite_row(code)).used == 0
    assert await say(STRANGER, "13900139000") == "请先在你的队伍群里发送 /加入 姓名，或私聊我发送 /加入 邀请码。"


async def test_expired_revoked_and_full_invites_are_refused_plainly(database: str) -> None:
    await set_up()
    expired, revoked, full = [await make_invite(OFFICER, "/招募 夕阳红巡逻队 1人") for _ in range(3)]
    async with db.session() as session:
        for code, change in ((expired, "expires_at"), (revoked, "revoked_at"), (full, "used")):
            row = (await session.exec(select(Invite).where(Invite.code == code))).one()
            if change == "used":
                row.used = 1
            else:
                setattr(row, change, utcnow() - timedelta(minutes=1))
            session.add(row)
    assert await say(STRANGER, f"/加入 {expired}") == "这个邀请码已过期：请向队长或民警要一个新的。"
    assert await say(STRANGER, f"/加入 {revoked}") == "这个邀请码已作废：请向队长或民警要一个新的。"
    assert await say(STRANGER, f"/加入 {full}") == "这个邀请码的名额已满：请向队长或民警要一个新的。"
    assert await say(STRANGER, "/加入 ABCD2345") == (
        "没有这个邀请码：请核对（8位字母和数字），或向发给你邀请码的人再要一个。"
    )

    # revoked while the stranger answers: refused at the consent, and nothing of theirs kept
    code = await make_invite(OFFICER, "/招募 夕阳红巡逻队")
    await apply_up_to_consent(STRANGER, code)
    await say(OFFICER, f"/招募 撤销 {code}")
    assert await say(STRANGER, "同意") == "这个邀请码已作废：请向队长或民警要一个新的。"
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []
        assert (await session.exec(select(Member).where(Member.name == "李梅"))).all() == []


async def test_two_strangers_race_for_the_last_place_and_one_wins(database: str) -> None:
    await set_up()
    code = await make_invite(OFFICER, "/招募 夕阳红巡逻队 1人")
    await apply_up_to_consent(STRANGER, code, "李梅", "13900139000")
    await apply_up_to_consent(SECOND_STRANGER, code, "孙丽", "13900139001")
    outcomes = await asyncio.gather(
        applications.answer(account(STRANGER), "同意"),
        applications.answer(account(SECOND_STRANGER), "同意"),
        return_exceptions=True,
    )
    sent = [outcome for outcome in outcomes if isinstance(outcome, membership.Application)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    assert len(sent) == 1, outcomes
    assert [getattr(error, "code", error) for error in refused] == ["invites.full"]
    assert (await invite_row(code)).used == 1
    async with db.session() as session:
        invited = (await session.exec(select(TeamMembership).where(TeamMembership.invite_id.is_not(None)))).all()  # type: ignore[union-attr]
        assert (await session.exec(select(JoinRequest))).all() == []
    assert [membership_row.member_id for membership_row in invited] == [sent[0].member.id]


@pytest.mark.parametrize("typed", ["AB3CD5EF", "ab3cd5ef", "ＡＢ３ＣＤ５ＥＦ"])
def test_a_code_is_read_however_it_is_typed(typed: str) -> None:
    assert as_code(typed) == "AB3CD5EF"


@pytest.mark.parametrize("typed", ["张三", "ABCDEFGH", "12345678", "AB3CD5E", "A2345678X"])
def test_what_is_no_code(typed: str) -> None:
    assert as_code(typed) is None


async def test_join_sent_again_in_the_middle_asks_where_it_stopped(database: str) -> None:
    await set_up()
    code = await make_invite(OFFICER, "/招募 夕阳红巡逻队")
    await say(STRANGER, f"/加入 {code}")
    await say(STRANGER, "李梅")
    phone = "（还有7步）你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）"
    assert await say(STRANGER, "/加入") == phone
    assert await say(STRANGER, "/join") == phone
    answered = await say(STRANGER, "/加入 139 0013 9000")
    assert answered == "已记下手机号：139****9000。\n（还有6步）你住在哪个区域？（例如 历下区 泉城路街道）"
    assert (await say(STRANGER, "历下区")).startswith("已记下区域：历下区。")
