"""Training end to end over the OneBot v11 socket against the real bot process, with `[members]
required_tags_from = "qualified"`: an officer defines a course and gives it a quiz in private; a search needing
the qualification refuses a volunteer and names the course; the volunteer takes the quiz in private and passes;
a second one leaves it midway and nothing is recorded; the training session is posted, both sign up, check in and
out, and at its close the first completes the course and is told, the second is told the quiz is still to pass;
the first then signs up for the search and sees the qualification in /资质.

The bot's clock cannot be moved, so the session is posted to start in twenty minutes and its times are then
moved back in the bot's database (bot_database.let_task_time_pass), as in the task loop's test.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from bot_database import bot_database, let_task_time_pass
from joining import join_through_the_group
from onebot_peer import OneBotPeer, at_segment, text_segment
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, phase_failed, write_bot_config
from sqlmodel import select

from storage.models import QuizAttempt

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "training-token"
ADMIN, OFFICER, ZHANG, LI = 10001, 20001, 30001, 30002
GROUP = 750001
TEAM = "夕阳红巡逻队"
SHANGHAI = ZoneInfo("Asia/Shanghai")
QUIZ = """/题库 1
1. 发现电信诈骗线索应当怎么做？[单选]
A. 自己去抓人  B. 立即告诉民警*  C. 发到群里
2. 劝阻酒驾时可以动手拦车。[判断] 错*
3. 山地搜救时哪些要带上？[多选]
A. 哨子*
B. 头灯*
C. 高跟鞋"""


@pytest_asyncio.fixture(loop_scope="session")
async def bot(tmp_path: Path, bot_database_url: str) -> AsyncIterator[tuple[BotProcess, int]]:
    port = free_port()
    extra = (
        f'[bot]\nsuperusers = ["onebot:{ADMIN}"]\ntimezone = "Asia/Shanghai"\ndata_dir = "{tmp_path / "data"}"\n'
        '[members]\nrequired_tags_from = "qualified"\n'
    )
    config = write_bot_config(tmp_path, port, bot_database_url, TOKEN, extra + FAST_QQ_LIMITS)
    process = BotProcess([PYTHON, "-m", "bot", "--config", str(config)], cwd=ROOT, log_path=tmp_path / "bot.log")
    process.start()
    try:
        await process.wait_for_port(port, timeout=60)
        yield process, port
    finally:
        await process.stop_async()


@pytest.fixture(autouse=True)
def _log_on_failure(request: pytest.FixtureRequest, bot: tuple[BotProcess, int]):
    yield
    if phase_failed(request):
        print(bot[0].log_tail(80))  # noqa: T201


def number_after(label: str, text: str) -> int:
    found = re.search(label + r"\s*(\d+)", text)
    assert found is not None, f"no {label} number in {text!r}"
    return int(found.group(1))


def shanghai_text(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


async def set_up_the_team(qq: OneBotPeer) -> None:
    """The officer of 历下分局 binds the team's group; 张三 and 李四 join and are approved."""
    qq.add_user(OFFICER, "李警官", group_id=GROUP)
    granted = await qq.ask_group(
        GROUP, ADMIN, [text_segment("/授权民警 "), at_segment(OFFICER), text_segment(" 市局/历下分局")]
    )
    assert "已授权“市局/历下分局”的民警" in granted.text
    bound = await qq.ask_group(GROUP, OFFICER, f"/绑定队伍 {TEAM}")
    assert bound.text.startswith(f"本群已绑定到“{TEAM}”"), bound.text
    for user, name, phone in ((ZHANG, "张三", "13700137001"), (LI, "李四", "13700137002")):
        qq.add_user(user, name, group_id=GROUP)
        applied = await join_through_the_group(qq, GROUP, user, name, phone)
        since = qq.mark()
        approved = await qq.ask_group(GROUP, OFFICER, f"/通过 {number_after('编号', applied.text)}")
        assert approved.text.startswith(f"已通过{name}加入“{TEAM}”"), approved.text
        await qq.expect_private(user, "申请已通过", since=since)


async def test_a_course_with_a_quiz_a_session_and_the_qualification_a_search_needs(
    bot: tuple[BotProcess, int], bot_database_url: str
) -> None:
    _, port = bot
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
        await set_up_the_team(qq)

        # the officer defines the course and gives it a quiz, in private
        created = await qq.ask_private(OFFICER, "/课程 新建 山地救援 有效期2年 授予:救援 及格80分 山地搜救和基础急救")
        assert created.text.startswith("已建好课程：1. 山地救援（授予 救援，有效期2年）"), created.text
        in_group = await qq.ask_group(GROUP, OFFICER, QUIZ)
        assert in_group.text == "题库里有答案，请私聊我发送 /题库，不要在群里发。"  # the volunteers read the group
        loaded = await qq.ask_private(OFFICER, QUIZ)
        assert loaded.text.startswith("已保存课程 1（山地救援）的题库：共 3 题（单选 1、多选 1、判断 1），80分及格。")

        # a search needing 救援 refuses 张三 and names the course that grants it
        posted = await qq.ask_group(GROUP, OFFICER, "/发布任务 搜救 后天09:00 3小时 千佛山 5人 需要:救援")
        search = number_after("已发布任务", posted.text)
        refused = await qq.ask_group(GROUP, ZHANG, f"/报名 {search}")
        assert refused.text == (
            f"任务 {search} 需要资质：救援。你还没有有效的这项资质，不能报名。\n"
            "“救援”可以通过课程 1（山地救援）取得：发送 /课程 1 看怎么参加。"
        ), refused.text

        # 张三 takes the quiz in private, one question at a time; an answer that is no option is asked again
        since = qq.mark()
        begun = await qq.ask_private(ZHANG, "/学习 1")
        assert begun.text.startswith("【学习 课程 1】山地救援"), begun.text
        first = await qq.expect_private(ZHANG, "第1/3题（单选）发现电信诈骗线索应当怎么做？", since=since)
        assert "B. 立即告诉民警" in first.text
        assert "*" not in first.text  # the answers are not shown
        again = await qq.ask_private(ZHANG, "好的")
        assert again.text == "第1题请只选一个，回复一个字母，例如 B（回复“取消”退出考试）。"
        second = await qq.ask_private(ZHANG, "b")
        assert second.text.startswith("第2/3题（判断）劝阻酒驾时可以动手拦车。"), second.text
        third = await qq.ask_private(ZHANG, "错")
        assert third.text.startswith("第3/3题（多选）山地搜救时哪些要带上？"), third.text
        result = await qq.ask_private(ZHANG, "A B")
        assert result.text.startswith("课程“山地救援”考试：答对 3/3 题，100分（80分及格），及格了！"), result.text
        assert "还要参加一场这门课程的培训（签到签退）才结业" in result.text

        # 李四 starts it and leaves midway: nothing is recorded
        since = qq.mark()
        await qq.ask_private(LI, "/学习 1")
        await qq.expect_private(LI, "第1/3题", since=since)
        assert (await qq.ask_private(LI, "B")).text.startswith("第2/3题")
        left = await qq.ask_private(LI, "取消")
        assert left.text == "已退出考试，没有记录成绩。需要时重新发送 /学习 课程编号。"
        async with bot_database(bot_database_url) as database:
            attempts = (await database.exec(select(QuizAttempt.score))).all()
        assert attempts == [100]  # 张三's; 李四's unfinished one is not there

        # the training session: both sign up, check in, serve, check out; the officer closes it
        start = datetime.now(timezone.utc).replace(second=0, microsecond=0) + timedelta(minutes=20)
        session_posted = await qq.ask_group(
            GROUP, OFFICER, f"/发布任务 培训 {shanghai_text(start)} 1小时 派出所会议室 10人 课程:1"
        )
        session = number_after("已发布任务", session_posted.text)
        assert "课程 1 的培训：签到签退记为参加，结业要求发送 /课程 1 查看" in session_posted.text, session_posted.text
        for user in (ZHANG, LI):
            assert "报名成功" in (await qq.ask_group(GROUP, user, f"/报名 {session}")).text
            assert (await qq.ask_group(GROUP, user, f"/签到 {session}")).text.startswith(f"签到成功：任务 {session}")
        await let_task_time_pass(bot_database_url, session, timedelta(minutes=50))
        for user in (ZHANG, LI):
            assert "本次服务" in (await qq.ask_group(GROUP, user, f"/签退 {session}")).text
        since = qq.mark()
        closed = await qq.ask_group(GROUP, OFFICER, f"/结束任务 {session}")
        assert "到岗 2 人" in closed.text, closed.text
        assert "完成课程“山地救援”1 人，资质已登记。" in closed.text, closed.text
        assert "还有 1 人要通过考试才算结业：私聊发送 /学习 1" in closed.text, closed.text
        done = await qq.expect_private(ZHANG, "你已完成课程“山地救援”（参加培训），取得资质：救援", since=since)
        assert "发送 /资质 查看" in done.text
        await qq.expect_private(LI, "你参加了课程“山地救援”的培训，还要通过考试才算结业：私聊发送 /学习 1", since=since)

        # now the search takes 张三, and /资质 shows what he holds; 李四 is still refused
        signed = await qq.ask_group(GROUP, ZHANG, f"/报名 {search}")
        assert "报名成功" in signed.text, signed.text
        held = await qq.ask_private(ZHANG, "/资质")
        assert held.text.startswith("张三的资质：\n救援：有效至"), held.text
        assert "来自课程“山地救援”" in held.text
        still = await qq.ask_group(GROUP, LI, f"/报名 {search}")
        assert still.text.startswith(f"任务 {search} 需要资质：救援。"), still.text
