"""The right to one's data end to end over the OneBot v11 socket: a member asks for their data and gets the file,
deletes themselves after confirming, the officer's export names them nowhere, and the same QQ account joins again
as a new member."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from joining import join_through_the_group
from onebot_peer import ApiCall, OneBotPeer, at_segment, text_segment
from openpyxl import load_workbook
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, phase_failed, write_bot_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "own-data-token"
ADMIN, OFFICER, MEMBER = 10001, 20001, 30001
NAME, PHONE = "张三", "13911110001"
TEAM_GROUP = 730001


@pytest_asyncio.fixture(loop_scope="session")
async def bot(tmp_path: Path, bot_database_url: str) -> AsyncIterator[tuple[BotProcess, int, Path]]:
    port = free_port()
    data = tmp_path / "data"
    bot_section = f'[bot]\nsuperusers = ["onebot:{ADMIN}"]\ndata_dir = "{data}"\n'
    config = write_bot_config(tmp_path, port, bot_database_url, TOKEN, bot_section + FAST_QQ_LIMITS)
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


async def next_file(qq: OneBotPeer, before: int) -> ApiCall:
    for _ in range(200):  # the file follows the text
        if len(qq.files) > before:
            return qq.files[-1]
        await asyncio.sleep(0.05)
    raise AssertionError("no file came")


async def join(qq: OneBotPeer, name: str) -> None:
    applied = await join_through_the_group(qq, TEAM_GROUP, MEMBER, name, PHONE)
    number = re.search(r"编号\s*(\d+)", applied.text)
    assert number is not None, applied.text
    since = qq.mark()
    await qq.ask_group(TEAM_GROUP, OFFICER, f"/通过 {number.group(1)}")
    await qq.expect_private(MEMBER, "申请已通过", since=since)


async def test_my_data_then_erasure_then_an_export_naming_no_one(bot: tuple[BotProcess, int, Path]) -> None:
    _process, port, data = bot
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
        qq.add_user(OFFICER, "李警官", group_id=TEAM_GROUP)
        await qq.ask_group(
            TEAM_GROUP, ADMIN, [text_segment("/授权民警 "), at_segment(OFFICER), text_segment(" 市局/历下分局")]
        )
        await qq.ask_group(TEAM_GROUP, OFFICER, "/绑定队伍 夕阳红巡逻队")
        qq.add_user(MEMBER, NAME, group_id=TEAM_GROUP)
        await join(qq, NAME)
        since = qq.mark()
        await qq.ask_group(
            TEAM_GROUP, OFFICER, [text_segment("/奖励 "), at_segment(MEMBER), text_segment(" 12 协助寻找走失老人")]
        )
        await qq.expect_private(MEMBER, "你获得 12 分奖励", since=since)

        before = re.search(r"成员号 (\d+)", (await qq.ask_private(MEMBER, "/我的")).text)
        assert before is not None
        files = len(qq.files)
        told = await qq.ask_private(MEMBER, "/我的数据")
        assert told.text.startswith("这是机器人记着的关于你的全部信息"), told.text
        sent = await next_file(qq, files)
        assert (sent.action, sent.params["user_id"]) == ("upload_private_file", MEMBER)
        book = load_workbook(io.BytesIO(sent.params["content"]))
        card = {row[0]: row[1] for row in book["档案"].iter_rows(min_row=2, values_only=True)}
        assert (card["姓名"], card["手机"]) == (NAME, PHONE)
        assert [row[1] for row in book["积分记录"].iter_rows(min_row=2, values_only=True)] == [12]
        assert not any((data / "exports").rglob("*.xlsx"))  # not kept after sending

        asked = await qq.ask_private(MEMBER, "/删除我的信息")
        assert "回复“确认”" in asked.text
        done = await qq.ask_private(MEMBER, "确认")
        assert done.text.startswith("已删除你的个人信息和账号"), done.text
        gone = await qq.ask_private(MEMBER, "/我的数据")
        assert gone.text == "机器人这里没有你的信息：你还没有加入任何队伍。"

        files = len(qq.files)
        await qq.ask_private(OFFICER, "/导出 本月")
        export = await next_file(qq, files)
        workbook = load_workbook(io.BytesIO(export.params["content"]))
        cells = [
            str(value) for sheet in workbook.worksheets for row in sheet.iter_rows(values_only=True) for value in row
        ]
        assert not any(NAME in cell or "139****0001" in cell for cell in cells)
        assert "已注销队员" in cells  # the points stay, as no one's

        await join(qq, "张新")  # the same QQ account, a new member
        me = await qq.ask_private(MEMBER, "/我的")
        after = re.search(r"成员号 (\d+)", me.text)
        assert after is not None, me.text
        assert "张新" in me.text
        assert after.group(1) != before.group(1)
