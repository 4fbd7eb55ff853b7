"""Joining without posting a phone number where the whole group reads it: /加入 姓名 in the team's group, then the
number and the rest of the member file in private chat with the bot (the same questions as an invite's,
tests/test_recruiting.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from storage import db
from storage.models import JoinRequest, Member, OutboxMessage, OutboxState, TeamMembership, utcnow
from storage.services import applications as applications_service
from storage.services import organisation, outbox
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import forget_dialogues, say
from tests.places import in_group

ADMIN, OFFICER, APPLICANT, OTHER = 10001, 20001, 30001, 30002
GROUP = 555001
JOINING = "老张，请私聊我，发送你的手机号，完成加入“夕阳红巡逻队”的申请（手机号不要发在群里）。"
NOT_BEGUN = "请先在你的队伍群里发送 /加入 姓名，或私聊我发送 /加入 邀请码。"
REST_OF_THE_FILE = ["历下区 泉城路街道", "无", "退休", "妻子 王芳 13900139000", "同意"]
"""Area, employer, profession, emergency contact and consent: what follows the phone when specialties were given in
the group."""


async def rest_of_the_file(user: int, answers: list[str] = REST_OF_THE_FILE) -> str:
    """Answer the questions after the phone; the bot's last answer."""
    last = ""
    for typed in answers:
        last = await say(user, typed)
    return last


@pytest.fixture(autouse=True)
def no_dialogue_waits():
    """Each test starts, and leaves, with no dialogue waiting in memory (the same people apply in every test)."""
    forget_dialogues()
    yield
    forget_dialogues()


async def set_up() -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", str(ADMIN)), PersonRef(platform="onebot", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")


async def applications() -> list[tuple[str, str | None, list[str], str, str | None]]:
    async with db.session() as session:
        statement = select(TeamMembership, Member).join(Member, Member.id == TeamMembership.member_id)
        rows = (await session.exec(statement)).all()
    return [(m.name, m.phone, list(m.tags), t.status, t.applied_group_id) for t, m in rows]


async def test_a_name_in_the_group_and_the_phone_in_private(database: str) -> None:
    await set_up()
    assert await say(APPLICANT, "/加入 老张 驾驶 医护", GROUP) == JOINING
    assert await applications() == []
    async with db.session() as session:
        (prompt,) = (await session.exec(select(OutboxMessage))).all()
    assert prompt.chat_key == f"user:{APPLICANT}"
    assert prompt.best_effort
    assert prompt.text.endswith(
        "（还有6步）你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）"
    )

    asked = await say(APPLICANT, "/加入")
    assert asked == "（还有6步）你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）"
    wrong = await say(APPLICANT, "1380013800")
    assert wrong == "手机号位数不对：写了10位，手机号是11位数字，例如 13800138000（空格、横线都可以）。"
    noted = await say(APPLICANT, "138 0013 8000")
    assert noted == "已记下手机号：138****8000。\n（还有5步）你住在哪个区域？（例如 历下区 泉城路街道）"
    assert await applications() == []  # nothing is an application before the consent
    assert await say(APPLICANT, "历下区 泉城路街道") == (
        "已记下区域：历下区 泉城路街道。\n（还有4步）你的工作单位？（退休或没有就写 无）"
    )
    assert await say(APPLICANT, "无") == "（还有3步）你的职业？（例如 教师、司机、退休）"
    assert await say(APPLICANT, "退休") == (
        "已记下职业：退休。\n（还有2步）紧急联系人：写称呼或姓名和手机号（例如 妻子 王芳 13900139000）"
    )
    consent = await say(APPLICANT, "妻子 王芳 13900139000")
    assert consent.startswith("已记下紧急联系人：妻子 王芳 139****9000。\n最后一步：为了审核你的申请")
    assert consent.endswith("同意请回复“同意”，不同意请回复“不同意”（不同意不会保存任何信息）。")
    assert "13900139000" not in consent
    done = await say(APPLICANT, "同意")
    assert done.startswith("已收到老张加入“夕阳红巡逻队”的申请，编号 1。")
    assert await applications() == [("老张", "13800138000", ["驾驶", "医护"], "applied", str(GROUP))]
    async with db.session() as session:
        member = (await session.exec(select(Member).where(Member.name == "老张"))).one()
    assert (member.area, member.employer, member.profession) == ("历下区 泉城路街道", None, "退休")
    assert member.emergency_contact == "妻子 王芳 13900139000"
    assert member.id_number is None
    assert member.consented_at is not None
    pending = await say(OFFICER, "/审核", GROUP)
    assert "编号 1｜老张｜138****8000｜特长：驾驶、医护｜夕阳红巡逻队" in pending
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []
    again = await say(APPLICANT, "/加入 老张", GROUP)
    assert again == "老张，你的申请（编号 1）已在等待审核，不用重复申请。"


async def test_a_phone_typed_into_the_group_is_kept_for_the_questions_in_private_and_never_said_back(
    database: str,
) -> None:
    await set_up()
    typed = await say(OTHER, "/加入 老王 13900139000 护学", GROUP)
    assert typed == (
        "老王，请私聊我回答剩下的几个登记问题，完成加入“夕阳红巡逻队”的申请。手机号不要发在群里，可以撤回刚才那条消息。"
    )
    assert await applications() == []  # nothing is an application before the consent, given in private
    async with db.session() as session:
        (prompt,) = (await session.exec(select(OutboxMessage))).all()
    assert prompt.chat_key == f"user:{OTHER}"
    assert prompt.text == (
        "老王，你在“夕阳红巡逻队”的群里申请加入，在这里回答几个问题就好（随时回复“取消”退出，不会保存）。\n"
        "已记下手机号：139****9000。\n（还有5步）你住在哪个区域？（例如 历下区 泉城路街道）"
    )
    done = await rest_of_the_file(OTHER)
    assert done.startswith("已收到老王加入“夕阳红巡逻队”的申请，编号 1。"), done
    assert (await applications())[0][:3] == ("老王", "13900139000", ["护学"])
    wrong = await say(APPLICANT, "/加入 老张 1390013900", GROUP)
    assert "1390013900" not in wrong
    assert wrong == "手机号位数不对：写了10位，手机号是11位数字，例如 13800138000（空格、横线都可以）。"


async def test_a_phone_someone_else_holds_is_not_kept_and_the_group_is_not_told_whose_it_is(database: str) -> None:
    await set_up()
    await say(OTHER, "/加入 老王 13900139000 护学", GROUP)
    await rest_of_the_file(OTHER)
    taken = await say(APPLICANT, "/加入 老张 13900139000", GROUP)
    assert taken == JOINING  # the same answer as without a number: the group learns nothing of the number
    asked = await say(APPLICANT, "/加入")
    assert asked.endswith("你的手机号？（11位，例如 13800138000，只有队长和民警能看到，显示时隐去中间四位）"), asked
    assert await say(APPLICANT, "13900139000") == "这个手机号已登记在别的姓名下：请检查姓名和号码，或联系队长。"


async def test_nobody_applies_in_private_to_a_team_by_name(database: str) -> None:
    await set_up()
    refused = NOT_BEGUN
    assert await say(APPLICANT, "/加入 老张 13800138000") == refused
    assert await say(APPLICANT, "13800138000") == refused
    usage = await say(APPLICANT, "/加入")
    assert "在你的队伍群里发送 /加入 姓名 特长" in usage
    assert await applications() == []


async def test_an_application_left_unfinished_expires(database: str) -> None:
    await set_up()
    await say(APPLICANT, "/加入 老张", GROUP)
    async with db.session() as session:
        request = (await session.exec(select(JoinRequest))).one()
        request.created_at = utcnow() - timedelta(days=4)
        session.add(request)
    assert await say(APPLICANT, "13800138000") == NOT_BEGUN
    # the hourly clean-up deletes it, with what it holds; one still under way stays
    await say(OTHER, "/加入 老王", GROUP)
    await say(OTHER, "13900139000")
    assert await applications_service.forget_expired() == 1
    async with db.session() as session:
        (left,) = (await session.exec(select(JoinRequest))).all()
    assert (left.user_id, left.answers) == (str(OTHER), {"phone": "13900139000"})


async def test_the_private_prompt_is_tried_once(database: str) -> None:
    """A platform that refuses a private message to someone who never opened a chat with the bot: the prompt is
    dropped, not retried and parked for the administrator; the group reply told the applicant what to do."""
    await set_up()
    await say(APPLICANT, "/加入 老张", GROUP)
    (claimed,) = await outbox.claim("test", ["onebot"], utcnow(), 10, timedelta(seconds=60))
    parked = await outbox.mark_failed([claimed.id], "ActionFailed: 不是好友", utcnow())
    assert parked == []
    async with db.session() as session:
        row = await session.get(OutboxMessage, claimed.id)
    assert row.state == OutboxState.dropped
    assert row.last_error == "ActionFailed: 不是好友"
    assert (await outbox.summary()).parked == []


async def test_a_phone_is_taken_the_way_people_write_it(database: str) -> None:
    """Spaces, dashes, full-width digits and +86 all give the same 11 digits, in private and in the group."""
    await set_up()
    for number, (user, typed) in enumerate(
        [
            (30011, "137 0013 7001"),
            (30012, "137-0013-7002"),
            (30013, "１３７００１３７００３"),
            (30014, "+86 137 0013 7004"),
            (30015, "86-137-0013-7005"),
            (30016, "我的手机号是 137 0013 7006"),
            (30017, "/加入 ＋８６ １３７ ００１３ ７００７"),
        ],
        start=1,
    ):
        await say(user, "/加入 老张", GROUP)
        answer = await say(user, typed)
        assert answer.startswith(f"已记下手机号：137****700{number}。"), (typed, answer)
        done = await rest_of_the_file(user, ["历下区", "无", "退休", "无", "妻子 王芳 13900139000", "同意"])
        assert done.startswith(f"已收到老张加入“夕阳红巡逻队”的申请，编号 {number}。"), (typed, done)
    in_group = await say(30018, "/加入 老李 137 0013 7008 驾驶", GROUP)
    assert in_group.startswith("老李，请私聊我回答剩下的几个登记问题")
    assert "137" not in in_group
    assert (await rest_of_the_file(30018)).startswith("已收到老李加入“夕阳红巡逻队”的申请，编号 8。")
    assert [(name, phone, tags) for name, phone, tags, _, _ in await applications()] == [
        *(("老张", f"1370013700{n}", []) for n in range(1, 8)),
        ("老李", "13700137008", ["驾驶"]),
    ]


async def test_a_wrong_phone_says_what_is_wrong_and_an_answer_without_one_asks_again(database: str) -> None:
    await set_up()
    await say(APPLICANT, "/加入 老张", GROUP)
    assert await say(APPLICANT, "好的，马上发") == "这条消息里没有手机号。请回复你的手机号（11位，例如 13800138000）。"
    assert await say(APPLICANT, "138 0013 800") == (
        "手机号位数不对：写了10位，手机号是11位数字，例如 13800138000（空格、横线都可以）。"
    )
    assert await say(APPLICANT, "238 0013 8000") == "手机号以1开头：请填11位大陆手机号，例如 13800138000。"
    assert await say(APPLICANT, "138oo138ooo") == (
        "手机号里有字母：请只写数字，例如 13800138000（注意 0 和 o、1 和 l）。"
    )
    wrong_in_group = await say(OTHER, "/加入 老王 139oo139ooo", GROUP)
    assert wrong_in_group.startswith("手机号里有字母")
    assert "139" not in wrong_in_group
    assert await applications() == []
    assert (await say(APPLICANT, "138-0013-8000")).startswith("已记下手机号：138****8000。")
    # nothing waits for OTHER's phone: they are not asked for one, only told where to start
    assert await say(OTHER, "你好") == "我只听命令。发 /帮助 看能用的命令，例如 /任务 看近期任务。"
    assert await say(OTHER, "订单号 20261203123") == "我只听命令。发 /帮助 看能用的命令，例如 /任务 看近期任务。"


async def test_a_name_is_letters_and_refused_with_the_rule(database: str) -> None:
    """2 to 20 letters, Chinese or Latin, · between parts: no emoji, digits, markup or CQ-like text."""
    await set_up()
    rule = "姓名只写汉字或字母（2到20个字，几部分之间可用·，如 阿依古丽·买买提），不要数字、表情或符号，例如 张三。"
    for typed in ["张三🚓", "张三2", "[CQ:at,qq=1]", "<b>张三</b>", "·张三"]:
        assert await say(APPLICANT, f"/加入 {typed} 驾驶", GROUP) == rule, typed
    assert await say(APPLICANT, "/加入 张", GROUP) == "姓名写2到20个字，例如 张三。"
    assert await say(APPLICANT, f"/加入 {'张' * 21}", GROUP) == "姓名写2到20个字，例如 张三。"
    assert await say(APPLICANT, "/加入 张三🚓 13800138000", GROUP) == rule
    assert await applications() == []
    async with db.session() as session:
        assert (await session.exec(select(JoinRequest))).all() == []

    joined = await say(APPLICANT, "/加入 阿依古丽 · 买买提 13800138000 医护", GROUP)
    assert joined.startswith("阿依古丽·买买提，请私聊我回答剩下的几个登记问题")
    assert (await rest_of_the_file(APPLICANT)).startswith("已收到阿依古丽·买买提加入“夕阳红巡逻队”的申请")
    latin = await say(OTHER, "/加入 Li Ming 13900139000 驾驶", GROUP)
    assert latin.startswith("Li Ming，请私聊我回答剩下的几个登记问题")
    assert (await rest_of_the_file(OTHER)).startswith("已收到Li Ming加入“夕阳红巡逻队”的申请")
    assert [(name, tags) for name, _, tags, _, _ in await applications()] == [
        ("阿依古丽·买买提", ["医护"]),
        ("Li Ming", ["驾驶"]),
    ]
