"""An anonymous tip end to end over the OneBot v11 socket, with every message the bot sent checked for leaks."""

from __future__ import annotations

import asyncio
import base64
import re
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from aiohttp import web
from joining import join_through_the_group
from onebot_peer import OneBotPeer, at_segment, image_segment, text_segment
from process import FAST_QQ_LIMITS, PYTHON, ROOT, BotProcess, free_port, phase_failed, write_bot_config

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio(loop_scope="session")]

TOKEN = "tips-token"
ADMIN = 10001
OFFICER, OTHER_OFFICER, REPORTER = 20001, 20002, 30001
TEAM_GROUP, POLICE_GROUP, OTHER_GROUP = 710001, 710002, 710003
REPORTER_NAME, REPORTER_PHONE = "赵铁柱", "13912345678"
TIP_TEXT = "幸福小区3号楼地下室每晚十点后有人聚众赌博"
ANSWER = "大概十几个人，门口有人望风"


@pytest_asyncio.fixture(loop_scope="session")
async def bot(tmp_path: Path, bot_database_url: str) -> AsyncIterator[tuple[BotProcess, int]]:
    port = free_port()
    bot_section = f'[bot]\nsuperusers = ["onebot:{ADMIN}"]\ndata_dir = "{tmp_path / "data"}"\n'
    # the weekly payout of anonymous rewards is due at once and for a single reporter, checked every second
    bot_section += '[tips]\nanonymous_payout = "周一 00:00"\nanonymous_min_reporters = 1\ncheck_seconds = 1\n'
    config = write_bot_config(tmp_path, port, bot_database_url, TOKEN, bot_section + FAST_QQ_LIMITS)
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


PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC")
"""A one-pixel PNG with nothing but the picture: kept and shown as it is (tests/test_tip_photos.py: with EXIF)."""


class PhotoServer:
    """Where the QQ client says a picture is (NapCat gives a URL on the QQ CDN; the link expires)."""

    def __init__(self, runner: web.AppRunner, url: str) -> None:
        self.runner, self.url = runner, url

    async def close(self) -> None:
        await self.runner.cleanup()


async def serve_photo() -> PhotoServer:
    async def picture(request: web.Request) -> web.Response:
        return web.Response(body=PNG, content_type="image/png")

    app = web.Application()
    app.router.add_get("/evidence.png", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return PhotoServer(runner, f"http://127.0.0.1:{port}/evidence.png")


def number(label: str, text: str) -> int:
    match = re.search(label + r"\s*(\d+)", text)
    assert match, text
    return int(match.group(1))


async def test_an_anonymous_tip_from_report_to_points_leaks_nothing(
    bot: tuple[BotProcess, int], tmp_path: Path
) -> None:
    process, port = bot
    async with OneBotPeer(f"ws://127.0.0.1:{port}/onebot/v11/ws", self_id="10000", access_token=TOKEN) as qq:
        qq.add_user(OFFICER, "李警官", group_id=TEAM_GROUP)
        qq.add_user(OTHER_OFFICER, "王警官", group_id=OTHER_GROUP)
        for officer, unit in ((OFFICER, "市局/历下分局/闫千户派出所"), (OTHER_OFFICER, "市局/市中分局/七里山派出所")):
            await qq.ask_group(
                TEAM_GROUP, ADMIN, [text_segment("/授权民警 "), at_segment(officer), text_segment(f" {unit}")]
            )
        await qq.ask_group(TEAM_GROUP, OFFICER, "/绑定队伍 夕阳红巡逻队")
        set_police = await qq.ask_group(POLICE_GROUP, OFFICER, "/设为警务群")
        assert "警务群" in set_police.text
        applied = await join_through_the_group(qq, TEAM_GROUP, REPORTER, REPORTER_NAME, REPORTER_PHONE)
        since = qq.mark()
        await qq.ask_group(TEAM_GROUP, OFFICER, f"/通过 {number('编号', applied.text)}")
        await qq.expect_private(REPORTER, "申请已通过", since=since)  # before the private dialogue begins

        tip_begins = qq.mark()  # what officers were told before (a new application, by name) predates the tip
        # typed in the group by mistake: the group is only pointed to private chat
        pointer = await qq.ask_group(TEAM_GROUP, REPORTER, f"/线索 赌博 {TIP_TEXT}")
        assert pointer.text == "线索请私聊我发送 /线索（/tip），不要在群里发线索内容。"

        # the step-by-step report in private
        photo = await serve_photo()
        steps = [
            ("/线索", "1/5"),
            ("赌博", "2/5"),
            (TIP_TEXT, "3/5"),
            ([image_segment("evidence.png", photo.url)], "已收到 1 张照片"),
            ("好了", "4/5"),
            ("跳过", "5/5"),
            ("匿名", "请确认"),
        ]
        for answer, expected in steps:
            reply = await qq.ask_private(REPORTER, answer)
            assert expected in reply.text, reply.text
        since = qq.mark()
        receipt = await qq.ask_private(REPORTER, "确认")
        tip = number("编号", receipt.text)
        assert "匿名" in receipt.text
        await qq.expect_private(OFFICER, f"新线索 {tip}（赌博）", since=since)
        announced = await qq.expect_group(POLICE_GROUP, f"新线索 {tip}", since=since)
        assert TIP_TEXT not in announced.text

        refused = await qq.ask_private(OTHER_OFFICER, f"/线索 {tip}")
        assert "无权查看" in refused.text
        refused = await qq.ask_private(OTHER_OFFICER, f"/核实 {tip}")
        assert "无权查看" in refused.text
        since = qq.mark()
        seen = await qq.ask_private(OFFICER, f"/线索 {tip}")
        assert TIP_TEXT in seen.text
        assert "举报人：匿名" in seen.text
        assert "照片 1 张" in seen.text
        images = [segment for segment in seen.message if segment["type"] == "image"]
        assert len(images) == 1
        assert base64.b64decode(images[0]["data"]["file"].removeprefix("base64://")) == PNG  # kept by the bot
        kept = [path for path in (tmp_path / "data" / "tips").rglob("*") if path.is_file()]
        assert [stat.S_IMODE(path.stat().st_mode) for path in kept] == [0o600]  # readable by the bot's user only
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) == 0o700
        await photo.close()
        await qq.expect_private(REPORTER, "已有民警在核查", since=since)  # opening it took it on

        since = qq.mark()
        await qq.ask_private(OFFICER, f"/回复线索 {tip} 请问大概有多少人？")
        question = await qq.expect_private(REPORTER, "民警回复", since=since)
        assert "请问大概有多少人？" in question.text
        assert "李警官" not in question.text
        since = qq.mark()
        added = await qq.ask_private(REPORTER, f"/补充 {tip} {ANSWER}")
        assert added.text == f"已补充到线索 {tip}。"
        await qq.expect_private(OFFICER, f"线索 {tip} 有补充", since=since)
        again = await qq.ask_private(OFFICER, f"/线索 {tip}")
        assert ANSWER in again.text

        since = qq.mark()
        verified = await qq.ask_private(OFFICER, f"/核实 {tip}")
        assert "奖励 20 分会在每周匿名奖励发放时" in verified.text  # 赌博 earns 20 by the default configuration
        await qq.expect_private(REPORTER, "已核实，奖励 20 分", since=since)
        twice = await qq.ask_private(OFFICER, f"/核实 {tip}")
        assert "没有再发积分" in twice.text
        paid = await qq.expect_private(REPORTER, "匿名线索奖励 20 分已到账", since=since)
        assert "只有你能看到" in paid.text
        me = await qq.ask_private(REPORTER, "/我的")
        assert "积分：20" in me.text

        await asyncio.sleep(1)  # anything still queued goes out before the check below
        officers = {OFFICER, OTHER_OFFICER}
        for index, message in enumerate(qq.sent):
            if message.message_type == "group":
                assert TIP_TEXT not in message.text
                assert ANSWER not in message.text
            if message.message_type == "group" or (message.user_id in officers and index >= tip_begins):
                for secret in (REPORTER_NAME, REPORTER_PHONE, REPORTER_PHONE[-4:], str(REPORTER)):
                    if message.message_type == "group" and secret in (REPORTER_NAME, REPORTER_PHONE[-4:]):
                        continue  # the group saw him join by name before he reported
                    assert secret not in message.text, (secret, message.describe())
    log = process.log_text()
    for line in log.splitlines():  # no log line ties the reporter's account to what they reported
        if str(REPORTER) in line:
            assert TIP_TEXT not in line, line
            assert ANSWER not in line, line
