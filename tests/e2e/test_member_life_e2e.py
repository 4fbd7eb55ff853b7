"""A member's whole life with the team, end to end over the OneBot v11 socket against the real bot process: an
officer makes an invite, a stranger applies with it in private through every question and the consent, the
officer vets, the leader approves, the member reads their file, the officer records their insurance, the
reminder before it runs out reaches the member and the leader, the member leaves, takes their data and erases
themself; afterwards the officer's /档案 shows the number's neutral label only and the export names them nowhere.

The bot's clock cannot be moved (it is a separate process reading the real time), so the reminder is made due
today instead: the policy runs out five days from today, inside the 7-day reminder of `[members]
insurance_reminder_days`, and `insurance_reminder_time = "00:00"` makes today's run due from the start. The bot
runs the reminders once a day, at its first tick from that time (`[reminders] tick_seconds = 1`: a second after
the start, before any policy exists); a policy recorded later in the day is reminded the next day. So after the
officer records it the test moves today's run back to yesterday in the bot's database
(bot_database.let_a_day_pass_for_insurance_reminders), which is what the day passing would leave, and the next
tick makes today's run with the policy in it: the same reminder, through the same outbox, the next morning
would bring.
"""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from bot_database import let_a_day_pass_for_insurance_reminders
from joining import join_through_the_group
from onebot_peer import ApiCall, OneBotPeer, SentMessage, at_segment, text_segment
from openpyxl import load_workbook
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, phase_failed, write_bot_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "member-life-token"
ADMIN, OFFICER, LEADER, STRANGER = 10001, 20001, 30001, 40001
TEAM_GROUP = 740001
TEAM = "夕阳红巡逻队"
NAME, PHONE, ID_NUMBER = "李梅", "13912345678", "370102199001011231"
CONTACT_PHONE = "13900139999"
CONSENT = "我同意夕阳红巡逻队为登记、联系和保险保存我填写的信息。"
POLICY = "PICC20261234"
SHANGHAI = ZoneInfo("Asia/Shanghai")

CONFIG = f"""
[members]
ask_id_number = true
consent_text = "{CONSENT}"
stages = ["vetted"]
insurance_reminder_days = [30, 7]
insurance_reminder_time = "00:00"

[reminders]
tick_seconds = 1
"""


@pytest_asyncio.fixture(loop_scope="session")
async def bot(tmp_path: Path, bot_database_url: str) -> AsyncIterator[tuple[BotProcess, int, Path]]:
    port = free_port()
    data = tmp_path / "data"
    bot_section = f'[bot]\nsuperusers = ["onebot:{ADMIN}"]\ntimezone = "Asia/Shanghai"\ndata_dir = "{data}"\n'
    config = write_bot_config(tmp_path, port, bot_database_url, TOKEN, bot_section + CONFIG + FAST_QQ_LIMITS)
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "bot.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
        yield process, port, data
    finally:
        await process.stop_async()


@pytest.fixture(autouse=True)
def _log_on_failure(request: pytest.FixtureRequest, bot: tuple[BotProcess, int, Path]):
    yield
    if phase_failed(request):
        print(bot[0].log_tail(80))  # noqa: T201


def number_after(label: str, text: str) -> int:
    found = re.search(label + r"\s*(\d+)", text)
    assert found is not None, f"no {label} number in {text!r}"
    return int(found.group(1))


def unmasked(text: str) -> list[str]:
    """The phone, ID number and emergency contact's phone, written whole in `text`."""
    return [secret for secret in (PHONE, ID_NUMBER, CONTACT_PHONE) if secret in text]


def day_text(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


async def next_file(qq: OneBotPeer, before: int) -> ApiCall:
    for _ in range(200):  # the file follows the text
        if len(qq.files) > before:
            return qq.files[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no file came")


async def told(qq: OneBotPeer, user_id: int, contains: str, since: int) -> SentMessage:
    """A private message the bot sends on its own (through the outbox), not as the answer to one."""
    return await qq.expect_private(user_id, contains, since=since)


async def set_up_the_team(qq: OneBotPeer) -> int:
    """The officer of 历下分局 binds the team's group; 王队长 joins it, is vetted, approved and made its leader.
    Returns the leader's member number."""
    qq.add_user(OFFICER, "李警官", group_id=TEAM_GROUP)
    qq.add_user(LEADER, "王队长", group_id=TEAM_GROUP)
    granted = await qq.ask_group(
        TEAM_GROUP, ADMIN, [text_segment("/授权民警 "), at_segment(OFFICER), text_segment(" 市局/历下分局")]
    )
    assert "已授权“市局/历下分局”的民警" in granted.text
    bound = await qq.ask_group(TEAM_GROUP, OFFICER, f"/绑定队伍 {TEAM}")
    assert bound.text.startswith(f"本群已绑定到“{TEAM}”"), bound.text
    applied = await join_through_the_group(qq, TEAM_GROUP, LEADER, "王队长", "13700137000")
    assert applied.text.startswith(f"已收到王队长加入“{TEAM}”的申请，编号 "), applied.text
    assert "下一步由民警政审，再由队长审批" in applied.text
    application = number_after("编号", applied.text)
    waiting = await qq.ask_private(OFFICER, "/审核")
    leader = number_after("成员号", waiting.text)
    assert f"成员号 {leader}｜王队长｜137****7000" in waiting.text
    vetted = await qq.ask_private(OFFICER, f"/政审 {leader} 通过")
    assert vetted.text.startswith(f"已登记：王队长（成员号 {leader}）政审通过。")
    approved = await qq.ask_private(OFFICER, f"/通过 {application}")
    assert approved.text == f"已通过王队长加入“{TEAM}”，成员号 {leader}。"
    made = await qq.ask_group(TEAM_GROUP, OFFICER, f"/设队长 {leader}")
    assert made.text == f"王队长已设为“{TEAM}”的队长。"
    return leader


async def test_a_member_from_invite_to_erasure(bot: tuple[BotProcess, int, Path], bot_database_url: str) -> None:
    process, port, _data = bot
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
        await set_up_the_team(qq)

        # the officer makes an invite, in private: a code and a QR picture of what to send
        invite = await qq.ask_private(OFFICER, f"/招募 {TEAM} 7天 5人")
        code = re.search(r"邀请码：([A-Z0-9]{8})", invite.text)
        assert code is not None, invite.text
        assert invite.text.startswith(f"邀请码：{code.group(1)}（加入“{TEAM}”）\n有效期到 ")
        assert f"用法：私聊我发送 /加入 {code.group(1)}，按提示填写申请。" in invite.text
        assert invite.segments("image"), "no QR picture"

        # a stranger, in no group of the bot's, applies in private, one question at a time
        qq.add_user(STRANGER, NAME)
        since = qq.mark()
        conversation = [
            (f"/加入 {code.group(1)}", f"你正在申请加入“{TEAM}”，一共几个问题", "你的姓名？"),
            (NAME, f"已记下姓名：{NAME}。", "你的手机号？"),
            ("139 1234 5678", "已记下手机号：139****5678。", "你的身份证号？"),
            (ID_NUMBER, "已记下身份证号：3701**********1231。", "你住在哪个区域？"),
            ("历下区", "已记下区域：历下区。", "你的工作单位？"),
            ("济南市第一中学", "已记下工作单位：济南市第一中学。", "你的职业？"),
            ("教师", "已记下职业：教师。", "你有什么特长？"),
            ("医护 心理疏导", "已记下特长：医护、心理疏导。", "紧急联系人："),
            (f"丈夫 张强 {CONTACT_PHONE}", "已记下紧急联系人：丈夫 张强 139****9999。", f"最后一步：{CONSENT}"),
        ]
        for typed, first, asks in conversation:
            answer = (await qq.ask_private(STRANGER, typed)).text
            assert answer.startswith(first), (typed, answer)
            assert asks in answer, (typed, answer)
            assert unmasked(answer) == []
        sent = await qq.ask_private(STRANGER, "同意")
        assert sent.text.startswith(f"已收到{NAME}加入“{TEAM}”的申请，编号 "), sent.text
        application = number_after("编号", sent.text)
        await told(
            qq, LEADER, f"新的入队申请：{NAME}用邀请码申请加入“{TEAM}”，编号 {application}，先等民警政审。", since
        )

        # the officer vets; the leader cannot approve before, and can after
        waiting = await qq.ask_private(OFFICER, "/审核")
        assert "待政审（共 1 个，民警登记）：" in waiting.text
        member = number_after("成员号", waiting.text.split("待政审", 1)[1])
        assert f"成员号 {member}｜{NAME}｜139****5678" in waiting.text
        early = await qq.ask_private(LEADER, f"/通过 {application}")
        assert early.text.startswith(f"申请 {application}（{NAME}）还在等政审"), early.text
        since = qq.mark()
        vetted = await qq.ask_private(OFFICER, f"/政审 {member} 通过 今天 派出所已核查")
        assert vetted.text == f"已登记：{NAME}（成员号 {member}）政审通过。申请“{TEAM}”现在等队长审批（/通过 编号）。"
        await told(qq, STRANGER, f"{NAME}，你加入“{TEAM}”的申请已通过政审，现在等队长审批", since)
        since = qq.mark()
        approved = await qq.ask_private(LEADER, f"/通过 {application}")
        assert approved.text == f"已通过{NAME}加入“{TEAM}”，成员号 {member}。"
        await told(qq, STRANGER, "申请已通过", since)

        # the member reads their own file: phone, ID number and contact masked
        own = (await qq.ask_private(STRANGER, "/档案")).text
        assert own.startswith(f"你的档案：{NAME}，成员号 {member}\n手机：139****5678\n身份证：3701**********1231\n")
        assert "紧急联系人：丈夫 张强 139****9999" in own
        assert "地区：历下区　工作单位：济南市第一中学" in own
        assert "政审：通过（" in own
        assert f"队伍：{TEAM}（正式队员）" in own
        assert unmasked(own) == []

        # the officer records the insurance, running out in five days; the member is told, the number masked
        today = datetime.now(SHANGHAI).date()
        ends = today + timedelta(days=5)
        since = qq.mark()
        recorded = await qq.ask_private(OFFICER, f"/保险 {member} 平安 {POLICY} {ends.isoformat()}")
        assert recorded.text.startswith(
            f"已为{NAME}（成员号 {member}）登记保险：平安，保单号 {POLICY}，有效期至{day_text(ends)}（有效）。"
        ), recorded.text
        await told(qq, STRANGER, f"民警已为你登记保险：平安，保单号 PICC****1234，有效期至{day_text(ends)}。", since)

        # the day passes for the reminders: the member and the leader are told in private, once
        since = qq.mark()
        await let_a_day_pass_for_insurance_reminders(bot_database_url, today)
        reminder = await told(qq, STRANGER, "提醒：你的保险", since)
        # five days left, or four when the run fell past midnight in Shanghai after the policy was recorded
        left = (ends - datetime.fromtimestamp(reminder.time, SHANGHAI).date()).days
        assert reminder.text.startswith(
            f"提醒：你的保险（平安，保单号 PICC****1234）有效期至{day_text(ends)}，还有{left}天。"
            "续保后请联系民警登记新保单"
        ), reminder.text
        to_leader = await told(qq, LEADER, "提醒：队员", since)
        assert to_leader.text.startswith(
            f"提醒：队员{NAME}（成员号 {member}）的保险有效期至{day_text(ends)}，还有{left}天。"
        )
        assert "PICC" not in to_leader.text  # a leader is not shown the policy number at all

        # the member leaves after confirming; the leader is told
        asked = await qq.ask_private(STRANGER, "/退出")
        assert asked.text.startswith(f"你要退出“{TEAM}”。"), asked.text
        assert "确认退出请在一分钟内回复“确认”" in asked.text
        since = qq.mark()
        left = await qq.ask_private(STRANGER, "确认")
        assert left.text == f"你已退出“{TEAM}”。以前的记录和积分都还在。想回来可以重新 /加入。"
        await told(qq, LEADER, f"{NAME}（成员号 {member}）已退出“{TEAM}”。", since)

        # their data, as a file in private: their own, unmasked
        files = len(qq.files)
        data = await qq.ask_private(STRANGER, "/我的数据")
        assert data.text.startswith("这是机器人记着的关于你的全部信息"), data.text
        sent_file = await next_file(qq, files)
        assert (sent_file.action, sent_file.params["user_id"]) == ("upload_private_file", STRANGER)
        book = load_workbook(io.BytesIO(sent_file.params["content"]))
        card = {row[0]: row[1] for row in book["档案"].iter_rows(min_row=2, values_only=True)}
        assert (card["姓名"], card["手机"]) == (NAME, PHONE)
        policies = list(book["保险"].iter_rows(min_row=2, values_only=True))
        assert [(row[0], row[1]) for row in policies] == [("平安", POLICY)]
        vetting = list(book["政审"].iter_rows(min_row=2, values_only=True))
        assert len(vetting) == 1

        # the member erases themself after confirming
        asked = await qq.ask_private(STRANGER, "/删除我的信息")
        assert "回复“确认”" in asked.text
        done = await qq.ask_private(STRANGER, "确认")
        assert done.text.startswith("已删除你的个人信息和账号"), done.text
        gone = await qq.ask_private(STRANGER, "/档案")
        assert gone.text.startswith("你还没有登记"), gone.text

        # the officer sees the number and a neutral label only; the export names them nowhere
        label = await qq.ask_private(OFFICER, f"/档案 {member}")
        assert label.text == f"成员号 {member}：已注销的成员"
        files = len(qq.files)
        await qq.ask_private(OFFICER, "/导出 本月")
        export = await next_file(qq, files)
        workbook = load_workbook(io.BytesIO(export.params["content"]))
        cells = [
            str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for value in row
        ]
        for trace in (NAME, "139****5678", PHONE, "3701**********1231", ID_NUMBER, "济南市第一中学", POLICY):
            assert not any(trace in cell for cell in cells), trace

    assert unmasked(process.log_text()) == [], "personal data was written to the bot's log"
