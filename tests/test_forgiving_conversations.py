"""A retiree's first minutes: a typo in a command, a command sent in the middle of a dialogue, a bare command word in
private, four photos picked at once, a photo sent with the tip's text. Nobody is left in silence, and nothing typed
by mistake is taken as an answer."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from nonebot.adapters.onebot.v11 import Message, MessageSegment
from nonebot.message import handle_event
from PIL import Image
from sqlmodel import func, select

from storage import db
from storage.models import Task
from storage.services import membership, organisation, tips
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from storage.settings import configure
from tests.chat import RecordingBot, onebot_group_message, say
from tests.places import in_group

GROUP, OFFICER, VOLUNTEER, STRANGER = 555001, 20001, 30001, 40001


@pytest.fixture
async def team(database: str, tmp_path: Path) -> None:
    """夕阳红巡逻队 in GROUP, its officer, and 张三, an approved volunteer."""
    configure(data_dir=str(tmp_path / "data"))
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id=str(OFFICER)), "历下分局"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "夕阳红巡逻队")
    application = await membership.apply_to_team(
        ChatAccount("onebot", str(VOLUNTEER)), in_group(GROUP), "张三", "13800138000", []
    )
    await membership.decide_application(ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number)


@pytest.fixture
async def photos() -> AsyncIterator[list[str]]:
    """Four different pictures the QQ client says can be fetched, each a little slow to arrive (as over a phone)."""

    async def picture(request: web.Request) -> web.Response:
        number = int(request.match_info["number"])
        await asyncio.sleep(0.05)
        output = io.BytesIO()
        Image.new("RGB", (32, 24), (60 * number, 20, 200 - 40 * number)).save(output, "JPEG")
        return web.Response(body=output.getvalue(), content_type="image/jpeg")

    app = web.Application()
    app.router.add_get("/{number}.jpg", picture)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield [f"http://{host}:{port}/{number}.jpg" for number in range(1, 5)]
    await runner.cleanup()


async def tasks_posted() -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Task))).one()


async def say_to_bot_in_group(user_id: int, text: str) -> str:
    """A group message that @-mentions the bot (the QQ client takes the mention out and says it was to the bot)."""
    bot = RecordingBot()
    event = onebot_group_message(GROUP, user_id, text)
    event.to_me = True
    await handle_event(bot, event)
    return "\n".join(reply.extract_plain_text() for reply in bot.replies())


# Nobody is left in silence


async def test_a_mistyped_command_gets_the_nearest_commands(team: None) -> None:
    assert await say(VOLUNTEER, "/帮主") == "没有这个命令。你是不是要发 /帮助 ？"
    assert await say(VOLUNTEER, "/报明 1", GROUP) == "没有这个命令。你是不是要发 /报名 ？"
    assert await say(VOLUNTEER, "／签道", GROUP) == "没有这个命令。你是不是要发 /签到 或 /签退 ？"
    assert await say(VOLUNTEER, "/请帮我看看", GROUP) == "没有这个命令。发 /帮助 看能用的命令，例如 /任务 看近期任务。"


async def test_english_aliases_are_read_in_any_case(team: None) -> None:
    assert (await say(VOLUNTEER, "/help", GROUP)).startswith("欢迎加入！")  # a new member's first: the welcome
    help_text = await say(VOLUNTEER, "/help", GROUP)
    assert help_text.startswith("本群队伍：夕阳红巡逻队")
    assert await say(VOLUNTEER, "/HELP", GROUP) == help_text
    assert await say(VOLUNTEER, "/Help", GROUP) == help_text
    assert await say(VOLUNTEER, "/ME") == await say(VOLUNTEER, "/我的")


async def test_in_private_a_bare_command_word_is_that_command(team: None) -> None:
    assert await say(VOLUNTEER, "帮助") == await say(VOLUNTEER, "/帮助")
    assert await say(VOLUNTEER, "我的") == await say(VOLUNTEER, "/我的")
    assert await say(VOLUNTEER, "报名 99") == await say(VOLUNTEER, "/报名 99")
    assert await say(VOLUNTEER, "帮主") == "你是不是要发 /帮助 ？"
    assert await say(VOLUNTEER, "你好") == "我只听命令。发 /帮助 看能用的命令，例如 /任务 看近期任务。"
    assert await say(VOLUNTEER, "取消") == "现在没有进行中的步骤，不用取消。要取消报名，发 /取消报名 编号。"


async def test_in_a_group_chatter_stays_ignored_and_a_mention_is_read_as_in_private(team: None) -> None:
    assert await say(VOLUNTEER, "帮助", GROUP) == ""
    assert await say(VOLUNTEER, "今天谁去巡逻？", GROUP) == ""
    assert (await say_to_bot_in_group(VOLUNTEER, "帮助")).startswith("欢迎加入！")  # it was /帮助: the welcome
    assert await say_to_bot_in_group(VOLUNTEER, "帮助") == await say(VOLUNTEER, "/帮助", GROUP)
    assert await say_to_bot_in_group(VOLUNTEER, "帮主") == "你是不是要发 /帮助 ？"


# Commands inside dialogues


async def test_a_command_sent_while_posting_step_by_step_ends_the_dialogue_and_is_answered(team: None) -> None:
    profile = await say(OFFICER, "/我的", GROUP)
    assert (await say(OFFICER, "/发布任务", GROUP)).startswith("发布任务，随时回复“取消”退出。")
    assert await say(OFFICER, "/我的", GROUP) == "已退出发布任务，没有发布。\n" + profile
    assert await say(OFFICER, "巡逻", GROUP) == ""  # the dialogue is over: chatter again
    assert await tasks_posted() == 0


async def test_a_bare_word_is_an_answer_and_every_cancel_word_cancels(team: None) -> None:
    await say(OFFICER, "/发布任务", GROUP)
    assert (await say(OFFICER, "帮助", GROUP)).startswith("2/6")  # 帮助 is the task's kind here, not /帮助
    for cancel in ("取消", "/取消", "退出", "算了", "/算了", "/cancel", "／退出"):
        await say(OFFICER, "/发布任务", GROUP)
        assert await say(OFFICER, cancel, GROUP) == "已取消，什么也没有改。"
    assert await tasks_posted() == 0


async def test_a_command_sent_while_reporting_a_tip_ends_the_report(team: None) -> None:
    await say(VOLUNTEER, "/线索")
    await say(VOLUNTEER, "赌博")
    answer = await say(VOLUNTEER, "/签到")
    assert answer.startswith("已退出报线索，线索没有保存。\n")
    assert answer.removeprefix("已退出报线索，线索没有保存。\n") == await say(VOLUNTEER, "/签到")
    assert await tips.list_tips(ChatAccount("onebot", str(OFFICER))) == []


async def test_a_mistyped_command_inside_a_dialogue_ends_it_and_gets_the_nearest(team: None) -> None:
    await say(VOLUNTEER, "/线索")
    assert await say(VOLUNTEER, "/帮主") == "已退出报线索，线索没有保存。\n没有这个命令。你是不是要发 /帮助 ？"


# Photos


async def test_four_photos_sent_at_once_are_all_kept(team: None, photos: list[str]) -> None:
    for answer, expected in [("/线索", "1/5"), ("赌博", "2/5"), ("三号楼地下室每晚有人聚赌", "3/5")]:
        assert expected in await say(VOLUNTEER, answer)

    burst = await asyncio.gather(*(say(VOLUNTEER, Message(MessageSegment.image(url))) for url in photos))

    assert sorted(burst) == [f"已收到 {n} 张照片。还有就继续发，发完回复“好了”。" for n in range(1, 5)]
    for answer, expected in [("好了", "4/5"), ("跳过", "5/5"), ("匿名", "照片：4 张"), ("确认", "线索已提交")]:
        assert expected in await say(VOLUNTEER, answer)
    (tip,) = await tips.list_tips(ChatAccount("onebot", str(OFFICER)))
    seen = await tips.view_tip(ChatAccount("onebot", str(OFFICER)), tip.number)
    assert len(seen.history[0].photos) == 4


async def test_a_photo_sent_with_the_tip_in_one_message_is_filed_with_it(team: None, photos: list[str]) -> None:
    message = Message("/线索 赌博 三号楼地下室每晚有人聚赌 ") + MessageSegment.image(photos[0])
    receipt = await say(VOLUNTEER, message)
    assert receipt.startswith("线索已提交，编号 ")
    (tip,) = await tips.list_tips(ChatAccount("onebot", str(OFFICER)))
    seen = await tips.view_tip(ChatAccount("onebot", str(OFFICER)), tip.number)
    assert seen.history[0].text == "三号楼地下室每晚有人聚赌"
    assert len(seen.history[0].photos) == 1

    addition = await say(VOLUNTEER, Message(f"/补充 {tip.number} 现场照片 ") + MessageSegment.image(photos[1]))
    assert addition == f"已补充到线索 {tip.number}。"


async def test_a_command_sent_while_a_confirmation_waits_ends_the_question_and_is_answered(team: None) -> None:
    line = "/发布任务 巡逻 明天19:00 2小时 闫千户片区 10人"
    profile = await say(OFFICER, "/我的", GROUP)
    assert (await say(OFFICER, line, GROUP)).startswith("已发布任务 1")
    assert "确认" in await say(OFFICER, line, GROUP)  # the same task again at once: posted only on 确认
    assert await say(OFFICER, "/我的", GROUP) == "已退出，这个任务没有发布。\n" + profile
    assert await tasks_posted() == 1
