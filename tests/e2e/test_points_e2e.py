"""Points, the leaderboard picture and the export file end to end over the OneBot v11 socket."""

from __future__ import annotations

import asyncio
import base64
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from joining import join_through_the_group
from onebot_peer import OneBotPeer, at_segment, text_segment
from openpyxl import load_workbook
from PIL import Image
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, phase_failed, write_bot_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "points-token"
ADMIN, OFFICER = 10001, 20001
VOLUNTEERS = {30001: ("张三", "13911110001"), 30002: ("李四", "13911110002")}
TEAM_GROUP = 720001


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


async def test_points_leaderboard_picture_and_export_file(bot: tuple[BotProcess, int, Path]) -> None:
    _process, port, data = bot
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
        qq.add_user(OFFICER, "李警官", group_id=TEAM_GROUP)
        await qq.ask_group(
            TEAM_GROUP, ADMIN, [text_segment("/授权民警 "), at_segment(OFFICER), text_segment(" 市局/历下分局")]
        )
        await qq.ask_group(TEAM_GROUP, OFFICER, "/绑定队伍 夕阳红巡逻队")
        for user_id, (name, phone) in VOLUNTEERS.items():
            qq.add_user(user_id, name, group_id=TEAM_GROUP)
            applied = await join_through_the_group(qq, TEAM_GROUP, user_id, name, phone)
            since = qq.mark()
            number = re.search(r"编号\s*(\d+)", applied.text).group(1)
            await qq.ask_group(TEAM_GROUP, OFFICER, f"/通过 {number}")
            await qq.expect_private(user_id, "申请已通过", since=since)

        since = qq.mark()
        awarded = await qq.ask_group(
            TEAM_GROUP, OFFICER, [text_segment("/奖励 "), at_segment(30001), text_segment(" 12 协助寻找走失老人")]
        )
        assert awarded.text.startswith("已给张三（成员号 2）奖励 12 分"), awarded.text
        await qq.expect_private(30001, "你获得 12 分奖励，理由：协助寻找走失老人", since=since)
        since = qq.mark()
        await qq.ask_group(TEAM_GROUP, OFFICER, "/奖励 3 5 夜间巡逻")
        # the notice of the award comes from the outbox: wait for it, so that it is not taken for the answer below
        await qq.expect_private(30002, "你获得 5 分奖励", since=since)

        points = await qq.ask_private(30002, "/积分")
        assert "李四（成员号 3）积分余额 5 分" in points.text
        assert "本月队内（夕阳红巡逻队）第 2 名" in points.text

        board = await qq.ask_group(TEAM_GROUP, 30002, "/排行榜")
        assert "1. 张三  12分\n2. 李四  5分\n你：第 2 名，5分" in board.text
        pictures = board.segments("image")
        assert len(pictures) == 1
        picture = Image.open(io.BytesIO(base64.b64decode(pictures[0]["data"]["file"].removeprefix("base64://"))))
        assert picture.format == "PNG"
        assert picture.size[0] == 720

        refused = await qq.ask_group(TEAM_GROUP, OFFICER, "/导出")
        assert refused.text == "导出的表格里有队员的个人信息，只能私聊发给你：请私聊我发送 /导出"
        assert not qq.files
        told = await qq.ask_private(OFFICER, "/导出 本月")
        assert "已导出 历下分局" in told.text
        assert "成员 2 行" in told.text
        for _ in range(200):  # the file follows the text
            if qq.files:
                break
            await asyncio.sleep(0.05)
        sent = qq.files[-1]
        assert sent.action == "upload_private_file"
        assert sent.params["user_id"] == OFFICER
        assert sent.params["name"].endswith(".xlsx")
        assert sent.params["mode"] == 0o600  # the workbook holds personal data: the bot's user's alone
        book = load_workbook(io.BytesIO(sent.params["content"]))
        names = sorted(row[1] for row in book["成员"].iter_rows(min_row=2, values_only=True))
        assert names == ["张三", "李四"]
        ledger = list(book["积分流水"].iter_rows(min_row=2, values_only=True))
        assert sorted(row[3] for row in ledger) == [5, 12]
        assert not any((data / "exports").iterdir())  # not kept after sending
