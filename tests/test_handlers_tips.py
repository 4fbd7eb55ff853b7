"""Tips through the handlers (nonebug, OneBot v11): the group is only pointed to private chat; a cancelled report
leaves nothing behind."""

from __future__ import annotations

import nonebot
from nonebot.adapters.onebot.v11 import Adapter, Bot
from nonebug import App
from sqlmodel import func, select

from storage import db
from storage.models import Tip
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import (
    ONEBOT_SELF_ID,
    onebot_group_message,
    onebot_private_message,
    onebot_text,
)
from tests.places import in_group

GROUP, OFFICER, REPORTER = 555001, 20001, 30001


async def tips_saved() -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(Tip))).one()


async def test_the_group_gets_a_pointer_and_a_cancelled_report_saves_nothing(app: App, database: str) -> None:
    await organisation.grant_officer(
        ChatAccount("onebot", "10001"), PersonRef(platform="onebot", user_id=str(OFFICER)), "派出所"
    )
    await organisation.bind_group(ChatAccount("onebot", str(OFFICER)), in_group(GROUP), "一队")
    application = await membership.apply_to_team(
        ChatAccount("onebot", str(REPORTER)), in_group(GROUP), "赵铁柱", "13912345678", []
    )
    await membership.decide_application(ChatAccount("onebot", str(OFFICER)), approve=True, number=application.number)

    in_the_group = onebot_group_message(GROUP, REPORTER, "/线索 赌博 三号楼地下室聚赌")
    steps = [
        (in_the_group, "线索请私聊我发送 /线索（/tip），不要在群里发线索内容。"),
        (
            onebot_private_message(REPORTER, "/线索"),
            "报线索，随时回复“取消”退出，不会保存。\n"
            "1/5 哪一类？治安、盗窃、赌博、毒品、诈骗、安全隐患、矛盾纠纷、其他",
        ),
        (onebot_private_message(REPORTER, "赌博"), "2/5 发生了什么？请写时间、地点、人和事。"),
        (
            onebot_private_message(REPORTER, "三号楼地下室聚赌"),
            "3/5 有照片就发过来（可以发几张），发完或没有照片回复“好了”。",
        ),
        (onebot_private_message(REPORTER, "取消"), "已取消，线索没有保存。"),
        (onebot_private_message(OFFICER, "/线索列表"), "没有这样的线索。"),
        (onebot_private_message(REPORTER, "/线索列表"), "只有民警可以查看线索列表。"),
    ]
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        for event, reply in steps:
            ctx.receive_event(bot, event)
            ctx.should_call_send(event, onebot_text(reply), result={"message_id": 1}, bot=bot)
    assert await tips_saved() == 0
