"""The real bot, started as `python -m bot --config FILE`, driven over a real OneBot v11 reverse WebSocket and a
local fake Telegram Bot API: joining and vetting on both platforms, and the task loop end to end."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from bot_database import let_task_time_pass
from fake_telegram import FakeTelegram
from joining import join_through_the_group
from onebot_peer import OneBotPeer, OneBotRefused, at_segment, location_segment, text_segment
from openpyxl import load_workbook
from process import PYTHON, ROOT, BotProcess, free_port, phase_failed

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

ONEBOT_TOKEN = "e2e-onebot-token"
TELEGRAM_TOKEN = "654321:E2E-TELEGRAM-TOKEN"
ADMIN_QQ = 10001
ADMIN_TELEGRAM = 9001
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class RunningBot:
    process: BotProcess
    port: int
    database_url: str

    @property
    def onebot_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/onebot/v11/ws"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def telegram(bot_database_url: str) -> AsyncIterator[FakeTelegram]:
    """A fake Telegram of each bot's own (one bot per database)."""
    async with FakeTelegram(token=TELEGRAM_TOKEN, username="yijing_test_bot") as fake:
        yield fake


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def running_bot(
    telegram: FakeTelegram, bot_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningBot]:
    directory = tmp_path_factory.mktemp("bot")
    port = free_port()
    config = directory / "config.toml"
    config.write_text(
        f"""
[bot]
superusers = ["onebot:{ADMIN_QQ}", "telegram:{ADMIN_TELEGRAM}"]
timezone = "Asia/Shanghai"

[server]
host = "127.0.0.1"
port = {port}

[database]
url = "{bot_database_url}"

[onebot]
enabled = true
access_token = "{ONEBOT_TOKEN}"

[telegram]
enabled = true
bots = [{{ token = "{TELEGRAM_TOKEN}", api_server = "{telegram.api_server}" }}]
""",
        encoding="utf-8",
    )
    environment = {"YIJING_BOT__LOG_LEVEL": "DEBUG"}
    process = BotProcess(
        [PYTHON, "-m", "bot", "--config", str(config)], env=environment, cwd=ROOT, log_path=directory / "bot.log"
    )
    process.start()  # the fake Telegram is up first: the adapter gives up for good if getMe fails
    try:
        await process.wait_for_port(port, timeout=60)
        await telegram.wait_polling(timeout=60)
        yield RunningBot(process, port, bot_database_url)
    finally:
        await process.stop_async()
        log = process.log_text()
        assert ONEBOT_TOKEN not in log, "the OneBot token was written to the log"
        assert TELEGRAM_TOKEN not in log, "the Telegram token was written to the log"
        phones = re.findall(r"(?<!\d)1[3-9]\d{9}(?!\d)", log)
        assert phones == [], "phone numbers were written to the log"
        assert "Rule check failed" not in log


@pytest.fixture(autouse=True)
def _bot_log_on_failure(request: pytest.FixtureRequest):
    yield
    if "running_bot" in request.fixturenames and phase_failed(request):
        print(request.getfixturevalue("running_bot").process.log_tail(120))  # noqa: T201


_self_ids = iter(range(11000, 11100))


@pytest_asyncio.fixture(loop_scope="session")
async def qq(running_bot: RunningBot) -> AsyncIterator[OneBotPeer]:
    async with OneBotPeer(running_bot.onebot_url, self_id=str(next(_self_ids)), access_token=ONEBOT_TOKEN) as peer:
        yield peer


def number_after(label: str, text: str) -> int:
    match = re.search(label + r"\s*(\d+)", text)
    assert match, f"no {label} number in {text!r}"
    return int(match.group(1))


async def test_a_wrong_token_is_refused(running_bot: RunningBot) -> None:
    with pytest.raises(OneBotRefused):
        await OneBotPeer(running_bot.onebot_url, self_id="19999", access_token="wrong").connect(timeout=10)


async def test_joining_and_vetting_over_onebot(qq: OneBotPeer) -> None:
    group, officer, volunteer, bystander = 700001, 20001, 30001, 30002
    qq.add_user(officer, "李警官", group_id=group)
    qq.add_user(volunteer, "老张", group_id=group)
    qq.add_user(bystander, "路人", group_id=group)

    granted = await qq.ask_group(
        group, ADMIN_QQ, [text_segment("/授权民警 "), at_segment(officer), text_segment(" 济南市公安局/历下分局")]
    )
    assert "李警官" in granted.text
    assert "已授权“济南市公安局/历下分局”的民警" in granted.text
    refused = await qq.ask_group(group, bystander, "/绑定队伍 抢来的队")
    assert refused.text == "只有民警可以绑定队伍。"
    bound = await qq.ask_group(group, officer, "/绑定队伍 夕阳红巡逻队")
    assert bound.text.startswith("本群已绑定到“夕阳红巡逻队”（济南市公安局/历下分局）")

    usage = await qq.ask_group(group, volunteer, "/加入")
    assert "然后私聊我回答几个登记问题" in usage.text
    markup = await qq.ask_group(group, volunteer, "/加入 [CQ:at,qq=all] 13800138000")
    assert markup.text.startswith("姓名只写汉字或字母（2到20个字")
    assert [segment["type"] for segment in markup.message] == ["text"]
    assert all(segment["type"] != "at" for message in qq.sent for segment in message.message)
    name = "老张"
    since = qq.mark()
    begun = await qq.ask_group(group, volunteer, f"/加入 {name} 驾驶、医护")
    assert begun.text == f"{name}，请私聊我，发送你的手机号，完成加入“夕阳红巡逻队”的申请（手机号不要发在群里）。"
    await qq.expect_private(volunteer, "（还有6步）你的手机号？", since=since)
    noted = await qq.ask_private(volunteer, "13800138000")
    assert noted.text.startswith("已记下手机号：138****8000。")
    for answer in ("历下区", "无", "退休", "妻子 王芳 13900139000"):  # the specialties were given in the group
        await qq.ask_private(volunteer, answer)
    since = qq.mark()
    applied = await qq.ask_private(volunteer, "同意")
    assert applied.text.startswith(f"已收到{name}加入“夕阳红巡逻队”的申请")
    # finished in private, where nobody saw it: the team has no leader yet, so its unit's officer is told
    told = await qq.expect_private(officer, "新的入队申请", since=since)
    assert "138" not in told.text
    number = number_after("编号", applied.text)
    again = await qq.ask_group(group, volunteer, f"/join {name}")
    assert "不用重复申请" in again.text
    assert number_after("编号", again.text) == number
    assert [m.describe() for m in qq.sent if m.message_type == "group" and "13800138000" in m.text] == []

    since = qq.mark()
    await qq.group_message(group, volunteer, "大家好，今天巡逻辛苦了")
    await qq.expect_nothing(timeout=1.0, since=since)

    pending = await qq.ask_group(group, officer, "/审核")
    assert f"编号 {number}｜{name}｜138****8000｜特长：驾驶、医护｜夕阳红巡逻队" in pending.text
    assert "13800138000" not in pending.text
    since = qq.mark()
    approved = await qq.ask_group(group, officer, f"/通过 {number}")
    assert approved.text.startswith(f"已通过{name}加入“夕阳红巡逻队”")
    notice = await qq.expect_private(volunteer, "申请已通过", since=since)
    assert [segment["type"] for segment in notice.message] == ["text"]

    me = await qq.ask_private(volunteer, "/我的")
    assert "手机：138****8000" in me.text
    assert "队伍：夕阳红巡逻队（正式队员）" in me.text
    helped = await qq.ask_group(group, officer, "/帮助")
    assert "/发布任务" in helped.text
    assert "/授权民警" not in helped.text


async def test_a_stranger_recruited_with_an_invite_code_over_onebot(qq: OneBotPeer) -> None:
    """/招募 in private gives a code and its QR picture; someone in no team group sends /加入 CODE to the bot and
    answers its questions there; the officer is told, sees the place taken, and approves."""
    group, officer, stranger = 700301, 20301, 30301
    qq.add_user(officer, "周警官", group_id=group)
    await qq.ask_group(
        group, ADMIN_QQ, [text_segment("/授权民警 "), at_segment(officer), text_segment(" 济南市公安局/天桥分局")]
    )
    await qq.ask_group(group, officer, "/绑定队伍 天桥巡逻队")
    made = await qq.ask_private(officer, "/招募 天桥巡逻队 3天 2人")
    found = re.search(r"邀请码：([A-Z0-9]{8})", made.text)
    assert found is not None, made.text
    code = found.group(1)
    assert len(made.segments("image")) == 1  # the QR code of "/加入 CODE"
    asked = await qq.ask_private(stranger, f"/加入 {code}")
    assert asked.text.endswith("你的姓名？（例如 张三）")
    for answer, next_question in [
        ("吴芳", "你的手机号"),
        ("137 0000 3301", "你住在哪个区域"),
        ("天桥区", "你的工作单位"),
        ("无", "你的职业"),
        ("护士", "你有什么特长"),
        ("医护", "紧急联系人"),
        ("丈夫 刘军 13700003302", "同意请回复“同意”"),
    ]:
        reply = await qq.ask_private(stranger, answer)
        assert next_question in reply.text, (answer, reply.text)
        assert "13700003301" not in reply.text
        assert "13700003302" not in reply.text
    since = qq.mark()
    applied = await qq.ask_private(stranger, "同意")
    assert applied.text.startswith("已收到吴芳加入“天桥巡逻队”的申请")
    number = number_after("编号", applied.text)
    told = await qq.expect_private(officer, "新的入队申请：吴芳用邀请码申请加入“天桥巡逻队”", since=since)
    assert "137" not in told.text
    listed = await qq.ask_private(officer, "/招募")
    assert f"{code}｜天桥巡逻队｜已用 1/2" in listed.text
    since = qq.mark()
    approved = await qq.ask_private(officer, f"/通过 {number}")
    assert approved.text.startswith("已通过吴芳加入“天桥巡逻队”")
    await qq.expect_private(stranger, "申请已通过", since=since)


async def test_joining_and_vetting_over_telegram(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    group, volunteer = -1001234567, 9002
    telegram.add_user(ADMIN_TELEGRAM, "Officer", started=True)
    telegram.add_user(volunteer, "李四", started=True)

    bound = await telegram.ask_group(group, ADMIN_TELEGRAM, "/bindteam 青春飞扬护学队 济南市公安局/历城分局")
    assert bound.text.startswith("本群已绑定到“青春飞扬护学队”（济南市公安局/历城分局）")
    typed = "/join@yijing_test_bot 李四 13900139000 护学"
    applied = await join_through_the_group(telegram, group, volunteer, "李四", "13900139000", typed)
    assert applied.text.startswith("已收到李四加入“青春飞扬护学队”的申请")
    number = number_after("编号", applied.text)
    pending = await telegram.ask_group(group, ADMIN_TELEGRAM, "/pending")
    assert "139****9000" in pending.text
    since = telegram.mark()
    approved = await telegram.ask_group(group, ADMIN_TELEGRAM, f"/approve {number}")
    assert approved.text.startswith("已通过李四加入“青春飞扬护学队”")
    notice = await telegram.expect_chat(volunteer, "申请已通过", since=since)
    assert "parse_mode" not in notice.raw  # plain text: nothing typed is read as markup
    me = await telegram.ask_private(volunteer, "/me")
    assert "队伍：青春飞扬护学队（正式队员）" in me.text

    post = "/newtask 护学岗 明天7:10 50分钟 胜利大街小学 4人 需要:护学"
    posted = await telegram.ask_group(group, ADMIN_TELEGRAM, post)
    task = number_after("已发布任务", posted.text)
    assert f"【任务 {task}】护学岗" in posted.text
    buttons = {button["text"]: button for row in posted.reply_markup["inline_keyboard"] for button in row}
    assert buttons["报名"]["switch_inline_query_current_chat"] == f"/signup {task}"
    # pressing the button fills in "@bot /signup N", which the volunteer sends
    signed = await telegram.ask_group(group, volunteer, f"@yijing_test_bot /signup {task}")
    assert "报名成功" in signed.text


def shanghai_text(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def test_the_task_loop_over_onebot(qq: OneBotPeer, running_bot: RunningBot) -> None:
    group, second_group, officer = 700101, 700102, 20101
    volunteers = {30101: "王一", 30102: "王二", 30103: "王三"}
    await qq.ask_group(
        group, ADMIN_QQ, [text_segment("/授权民警 "), at_segment(officer), text_segment(" 济南市公安局/天桥分局")]
    )
    await qq.ask_group(group, officer, "/绑定队伍 天桥巡逻队")
    await qq.ask_group(second_group, officer, "/绑定队伍 天桥巡逻队")
    for user_id, name in volunteers.items():
        applied = await join_through_the_group(qq, group, user_id, name, f"1370000{user_id - 30000:04d}")
        since = qq.mark()
        await qq.ask_group(group, officer, f"/通过 {number_after('编号', applied.text)}")
        await qq.expect_private(user_id, "申请已通过", since=since)  # delivered before the next private exchange

    start = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=20)
    since = qq.mark()
    posted = await qq.ask_group(
        group, officer, f"/发布任务 巡逻 {shanghai_text(start)} 1小时 北园大街 2人 5分 坐标:36.6800,117.0000 半径:300米"
    )
    task = number_after("已发布任务", posted.text)
    assert f"【任务 {task}】巡逻" in posted.text
    card = await qq.expect_group(second_group, f"【任务 {task}】巡逻", since=since)
    assert "名额：2人，已报 0，还剩 2" in card.text

    first, second, third = volunteers
    assert "报名成功" in (await qq.ask_group(group, first, f"/报名 {task}")).text
    assert "报名成功" in (await qq.ask_group(group, second, f"/报名 {task}")).text
    waiting = await qq.ask_group(group, third, f"/报名 {task}")
    assert "已排进候补，第 1 位" in waiting.text
    since = qq.mark()
    cancelled = await qq.ask_group(group, second, f"/取消报名 {task}")
    assert "由候补的王三递补" in cancelled.text
    await qq.expect_private(third, "你已从候补转为正式报名", since=since)
    roster = await qq.ask_group(group, officer, f"/任务 {task}")
    assert "已报名（2）：王一、王三" in roster.text
    assert "1370000" not in roster.text

    with_location = await qq.ask_group(group, first, "/签到")
    assert with_location.text.startswith(f"签到成功：任务 {task}")
    located = await qq.ask_group(group, first, [location_segment(36.6809, 117.0000)])
    assert "在范围内" in located.text
    plain = await qq.ask_group(group, third, f"/签到 {task}")
    assert plain.text.startswith(f"签到成功：任务 {task}")
    assert "已经签到过" in (await qq.ask_group(group, third, "/签到")).text

    await let_task_time_pass(running_bot.database_url, task, timedelta(minutes=50))  # the task started half an hour ago
    checked_out = await qq.ask_group(group, first, "/签退")
    assert re.search(r"本次服务 3[01]分钟", checked_out.text), checked_out.text  # half an hour and the seconds since
    since = qq.mark()
    closed = await qq.ask_group(group, officer, f"/结束任务 {task}")
    assert "到岗 2 人" in closed.text
    assert re.search(r"王一 3[01]分钟", closed.text), closed.text
    summary = await qq.expect_group(second_group, f"任务 {task}（巡逻", since=since)
    assert "到岗 2 人" in summary.text
    again = await qq.ask_group(group, officer, f"/结束任务 {task}")
    assert "之前已经结束" in again.text

    me = await qq.ask_private(first, "/我的")
    assert "积分：5" in me.text
    absent_one = await qq.ask_private(second, "/我的")
    assert "积分：0" in absent_one.text


async def test_points_board_picture_and_export_over_telegram(telegram: FakeTelegram, running_bot: RunningBot) -> None:
    group, volunteer = -1001234999, 9102
    telegram.add_user(ADMIN_TELEGRAM, "Officer", started=True)
    telegram.add_user(volunteer, "周八", started=True)
    await telegram.ask_group(group, ADMIN_TELEGRAM, "/bindteam 泉城夜巡队 济南市公安局/市中分局")
    applied = await join_through_the_group(telegram, group, volunteer, "周八", "13900139888", "/join 周八 13900139888")
    since = telegram.mark()
    await telegram.ask_group(group, ADMIN_TELEGRAM, f"/approve {number_after('编号', applied.text)}")
    await telegram.expect_chat(volunteer, "申请已通过", since=since)
    member = number_after("成员号", (await telegram.ask_private(volunteer, "/me")).text)

    awarded = await telegram.ask_group(group, ADMIN_TELEGRAM, f"/award {member} 8 夜巡")
    assert "奖励 8 分" in awarded.text, awarded.text
    board = await telegram.ask_group(group, volunteer, "/leaderboard")
    assert board.method.lower() == "sendphoto", board.describe()
    assert "1. 周八  8分" in board.text  # the board's text is the photo's caption
    assert board.files[0].data.startswith(b"\x89PNG")

    refused = await telegram.ask_group(group, ADMIN_TELEGRAM, "/export")
    assert "只能私聊" in refused.text
    told = await telegram.ask_private(ADMIN_TELEGRAM, "/export")
    assert "已导出" in told.text
    documents = []
    for _ in range(200):  # the file follows the text
        documents = [m for m in telegram.sent if m.method.lower() == "senddocument"]
        if documents:
            break
        await asyncio.sleep(0.05)
    assert documents, [m.describe() for m in telegram.sent[-3:]]
    assert documents[-1].chat_id in (ADMIN_TELEGRAM, str(ADMIN_TELEGRAM))
    book = load_workbook(io.BytesIO(documents[-1].files[0].data))
    assert "周八" in [row[1] for row in book["成员"].iter_rows(min_row=2, values_only=True)]


async def test_the_shop_statistics_and_outbox_over_onebot(qq: OneBotPeer, running_bot: RunningBot) -> None:
    group, officer, volunteer = 700201, 20201, 30201
    qq.add_user(officer, "孙警官", group_id=group)
    await qq.ask_group(
        group, ADMIN_QQ, [text_segment("/授权民警 "), at_segment(officer), text_segment(" 济南市公安局/槐荫分局")]
    )
    await qq.ask_group(group, officer, "/绑定队伍 槐荫服务队")
    applied = await join_through_the_group(qq, group, volunteer, "孙小妹", "13700002201")
    since = qq.mark()
    await qq.ask_group(group, officer, f"/通过 {number_after('编号', applied.text)}")
    await qq.expect_private(volunteer, "申请已通过", since=since)
    member = number_after("成员号", (await qq.ask_private(volunteer, "/我的")).text)

    stocked = await qq.ask_private(officer, "/商城 上架 保温杯 积分5 库存1")
    reward = number_after("已上架", stocked.text)
    await qq.ask_private(officer, f"/奖励 {member} 8 助老服务")
    shelf = await qq.ask_group(group, volunteer, "/商城")
    assert f"{reward}. 保温杯　5 分　库存 1" in shelf.text
    redeemed = await qq.ask_private(volunteer, f"/兑换 {reward}")
    order = number_after("兑换单号", redeemed.text)
    assert "还剩 3 分" in redeemed.text
    double_click = await qq.ask_private(volunteer, f"/兑换 {reward}")
    assert "没有重复扣分" in double_click.text
    waiting = await qq.ask_private(officer, "/发放")
    assert f"兑换单 {order}：孙小妹（成员号 {member}）保温杯" in waiting.text
    since = qq.mark()
    handed = await qq.ask_private(officer, f"/发放 {order}")
    assert "已标记为已发放" in handed.text
    await qq.expect_private(volunteer, "已发放", since=since)

    figures = await qq.ask_private(officer, "/统计")
    assert figures.text.startswith("槐荫分局 ")
    assert "新队员 1 人" in figures.text
    refused = await qq.ask_group(group, volunteer, "/统计")
    assert refused.text == "统计只有队长和民警可以查看。"

    outbox = await qq.ask_private(ADMIN_QQ, "/发件箱")
    assert outbox.text.startswith("发件箱：")
    assert "已发" in outbox.text
    assert (await qq.ask_private(officer, "/发件箱")).text == "只有管理员可以查看发件箱。"
