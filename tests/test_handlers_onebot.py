"""Joining and vetting through the command handlers, with OneBot v11 events (nonebug)."""

from __future__ import annotations

import asyncio
import gc
from datetime import timedelta

import nonebot
import pytest
from nonebot.adapters.onebot.v11 import Adapter, Bot, GroupMessageEvent, Message, MessageSegment
from nonebot.matcher import current_event
from nonebug import App
from sqlmodel import func, select

from storage import db
from storage.models import GroupBinding, Member, OutboxMessage, Role, TeamMembership, utcnow
from tests.chat import (
    ONEBOT_SELF_ID,
    finish_the_file_in_private,
    onebot_group_message,
    onebot_private_message,
    onebot_text,
)

GROUP = 555001
ADMIN = 10001
OFFICER = 20001
VOLUNTEER = 30001


async def exchange(app: App, event, reply: str, *, extra=None) -> None:
    """The bot answers `event` with exactly `reply`, as one plain-text segment."""
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.receive_event(bot, event)
        if extra is not None:
            extra(ctx)
        ctx.should_call_send(event, onebot_text(reply), result={"message_id": 1}, bot=bot)


async def queued() -> list[tuple[str, str, str]]:
    async with db.session() as session:
        rows = (await session.exec(select(OutboxMessage).order_by(OutboxMessage.id))).all()
    return [(row.platform, row.chat_key, row.text) for row in rows]


async def count(model) -> int:
    async with db.session() as session:
        return (await session.exec(select(func.count()).select_from(model))).one()


def member_name_lookup(group_id: int, user_id: int, nickname: str):
    """The bot asks the group for the name of someone @-mentioned."""

    def expect(ctx) -> None:
        ctx.should_call_api(
            "get_group_member_info",
            {"group_id": group_id, "user_id": user_id},
            {
                "group_id": group_id,
                "user_id": user_id,
                "nickname": nickname,
                "card": "",
                "role": "member",
                "sex": "unknown",
            },
        )

    return expect


def at(user_id: int, text: str) -> Message:
    head, _, tail = text.partition("{at}")
    return Message([MessageSegment.text(head), MessageSegment.at(user_id), MessageSegment.text(tail)])


async def test_every_command_without_arguments_explains_itself(app: App, database: str) -> None:
    from plugins.membership import APPROVE_USAGE, JOIN_USAGE, REJECT_USAGE
    from plugins.organisation import BIND_USAGE, GRANT_USAGE, LEADER_USAGE

    for text, usage in [
        ("/加入", JOIN_USAGE),
        ("/join", JOIN_USAGE),
        ("/通过", APPROVE_USAGE),
        ("/拒绝", REJECT_USAGE),
        ("/授权民警", GRANT_USAGE),
        ("/grant 张三 历下分局", GRANT_USAGE),
        ("/绑定队伍", BIND_USAGE),
        ("/设队长", LEADER_USAGE),
    ]:
        await exchange(app, onebot_group_message(GROUP, VOLUNTEER, text), usage)
    assert await count(Member) == 0


async def test_who_sent_a_command_is_remembered_without_the_command(
    app: App, database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uninfo remembers a sender and an @-mentioned member for five minutes, with a timer that forgets them. Those
    timers must not hold the command's event and matcher all that time: at an evening peak that was 4 KB per command
    (bench/command_load.py grew by 110 MB)."""
    from nonebot_plugin_uninfo import fetch
    from nonebot_plugin_uninfo.adapters.onebot11 import Loader

    monkeypatch.setattr(fetch.conf, "uninfo_cache", True)  # as in production (the other tests turn it off)
    sender, mentioned = VOLUNTEER + 71, VOLUNTEER + 72
    loop = asyncio.get_running_loop()
    before = set(loop._scheduled)
    try:
        await exchange(
            app,
            onebot_group_message(GROUP, sender, at(mentioned, "/授权民警 {at} 历下分局")),
            "只有管理员可以授权民警。",
            extra=member_name_lookup(GROUP, mentioned, "老张"),
        )
        forgetting = [timer for timer in set(loop._scheduled) - before if timer._callback.__name__ == "pop"]
        assert len(forgetting) == 5  # the sender's session, user, group and membership; the mentioned member
        assert [timer for timer in forgetting if current_event in timer._context] == []
    finally:
        Loader().get_fetcher().clean()
        for timer in set(loop._scheduled) - before:
            timer.cancel()


async def test_a_volunteer_cannot_use_officer_commands(app: App, database: str) -> None:
    await exchange(app, onebot_group_message(GROUP, VOLUNTEER, "/绑定队伍 我的队"), "只有民警可以绑定队伍。")
    await exchange(
        app,
        onebot_group_message(GROUP, VOLUNTEER, at(VOLUNTEER, "/授权民警 {at} 历下分局")),
        "只有管理员可以授权民警。",
        extra=member_name_lookup(GROUP, VOLUNTEER, "老张"),
    )
    await exchange(
        app,
        onebot_group_message(GROUP, VOLUNTEER, "/审核"),
        "本群还没有绑定队伍。私聊我发送 /审核 可以看你管的所有队伍。",
    )
    assert await count(GroupBinding) == 0
    assert await count(Role) == 0


async def test_join_and_vetting_end_to_end_in_handlers(app: App, database: str) -> None:
    await exchange(
        app,
        onebot_group_message(GROUP, ADMIN, at(OFFICER, "/授权民警 {at} 济南市公安局/历下分局"), nickname="管理员"),
        "李警官（成员号 1）已授权“济南市公安局/历下分局”的民警。",
        extra=member_name_lookup(GROUP, OFFICER, "李警官"),
    )
    await exchange(
        app,
        onebot_group_message(GROUP, OFFICER, "/绑定队伍 夕阳红巡逻队", nickname="李警官"),
        "本群已绑定到“夕阳红巡逻队”（济南市公安局/历下分局）。\n这是新建的队伍。\n队员请发送：/加入 姓名 特长",
    )
    await exchange(
        app,
        onebot_group_message(GROUP, VOLUNTEER, "/加入 张三 1380013800"),
        "手机号位数不对：写了10位，手机号是11位数字，例如 13800138000（空格、横线都可以）。",
    )
    await exchange(  # a phone typed into the group is kept, not said back; the rest is asked in private
        app,
        onebot_group_message(GROUP, VOLUNTEER, "/加入 张三 13800138000 驾驶 医护"),
        "张三，请私聊我回答剩下的几个登记问题，完成加入“夕阳红巡逻队”的申请。手机号不要发在群里，可以撤回刚才那条消息。",
    )
    assert await count(TeamMembership) == 0
    applied = await finish_the_file_in_private(VOLUNTEER)
    assert applied.startswith("已收到张三加入“夕阳红巡逻队”的申请，编号 1。"), applied
    await exchange(
        app,
        onebot_group_message(GROUP, VOLUNTEER, "/join 张三 13800138000"),
        "张三，你的申请（编号 1）已在等待审核，不用重复申请。",
    )
    assert await count(TeamMembership) == 1
    await exchange(app, onebot_group_message(GROUP, VOLUNTEER, "/通过 1"), "只有“夕阳红巡逻队”的队长和民警可以审核。")
    await exchange(
        app,
        onebot_group_message(GROUP, OFFICER, "/审核"),
        "待审核的申请（共 1 个）：\n编号 1｜张三｜138****8000｜特长：驾驶、医护｜夕阳红巡逻队\n"
        "通过：/通过 编号　拒绝：/拒绝 编号 理由",
    )

    await exchange(app, onebot_group_message(GROUP, OFFICER, "/通过 1"), "已通过张三加入“夕阳红巡逻队”，成员号 2。")
    # the applicant is told privately through the outbox (the group already saw the answer)
    assert (await queued())[-1] == (
        "onebot",
        "user:30001",
        "张三，你加入“夕阳红巡逻队”的申请已通过，成员号 2。发送 /帮助 看看能做什么。",
    )
    await exchange(
        app, onebot_group_message(GROUP, OFFICER, "/approve 1"), "申请 1（张三）之前就已通过了，没有再改动。"
    )
    await exchange(
        app,
        onebot_private_message(VOLUNTEER, "/我的"),
        "张三，成员号 2\n手机：138****8000\n特长：驾驶、医护\n状态：正常\n积分：0\n队伍：夕阳红巡逻队（正式队员）\n"
        "账号：onebot:30001",
    )
    await exchange(app, onebot_group_message(GROUP, OFFICER, "/设队长 2"), "张三已设为“夕阳红巡逻队”的队长。")


async def test_my_account_for_superusers_is_shown_in_private_and_to_administrators(app: App, database: str) -> None:
    """Someone setting the bot up learns the account to put in [bot] superusers by sending /我的 in private."""
    await exchange(
        app,
        onebot_private_message(40001, "/我的"),
        "你还没有登记。在队伍群里发送 /加入 姓名 即可申请加入。\n账号：onebot:40001",
    )
    await exchange(  # in a group, a volunteer's account is not said out loud
        app, onebot_group_message(GROUP, 40001, "/我的"), "你还没有登记。在队伍群里发送 /加入 姓名 即可申请加入。"
    )
    await exchange(
        app,
        onebot_group_message(GROUP, ADMIN, "/我的"),
        f"你还没有登记。在队伍群里发送 /加入 姓名 即可申请加入。\n你是管理员。\n账号：onebot:{ADMIN}",
    )


async def test_typed_markup_goes_back_as_plain_text(app: App, database: str) -> None:
    await exchange(
        app,
        onebot_group_message(GROUP, ADMIN, at(OFFICER, "/授权民警 {at} 历下分局")),
        "[CQ:at,qq=all]（成员号 1）已授权“历下分局”的民警。",
        extra=member_name_lookup(GROUP, OFFICER, "[CQ:at,qq=all]"),
    )
    await exchange(
        app,
        onebot_group_message(GROUP, OFFICER, "/绑定队伍 [CQ:at,qq=all]"),
        "队伍名请填1到30个字（汉字、字母和数字），例如 夕阳红巡逻队。",
    )
    await exchange(
        app,
        onebot_group_message(GROUP, OFFICER, "/绑定队伍 夕阳红巡逻队"),
        "本群已绑定到“夕阳红巡逻队”（历下分局）。\n这是新建的队伍。\n队员请发送：/加入 姓名 特长",
    )
    await exchange(
        app,
        onebot_group_message(GROUP, VOLUNTEER, "/加入 [CQ:at,qq=all] 13800138000"),
        "姓名只写汉字或字母（2到20个字，几部分之间可用·，如 阿依古丽·买买提），不要数字、表情或符号，例如 张三。",
    )
    assert await count(TeamMembership) == 0


@pytest.mark.parametrize("text", ["大家好", "今天巡逻辛苦了 /加入", "报名"])
async def test_group_chatter_is_dropped_before_any_handler(app: App, database: str, text: str) -> None:
    async with app.test_matcher() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        ctx.receive_event(bot, onebot_group_message(GROUP, VOLUNTEER, text))
        # no uninfo lookups, no reply: nothing is called at all


async def test_group_chatter_leaves_nothing_for_the_garbage_collector(app: App, database: str) -> None:
    """Chatter is most of what the bot sees. Dropped by raising in NoneBot's pre-processors, each message was left
    in reference cycles that only a garbage collection frees; under a flood of chatter those collections stopped
    the bot for up to half a second (bench/command_load.py). Now nothing of it outlives the message."""
    from nonebot.message import handle_event

    async with app.test_api() as ctx:
        bot = ctx.create_bot(base=Bot, adapter=nonebot.get_adapter(Adapter), self_id=ONEBOT_SELF_ID)
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection would free is kept in gc.garbage, to be looked at
        try:
            for text in ["大家好", "今天巡逻辛苦了 /加入"]:
                await handle_event(bot, onebot_group_message(GROUP, VOLUNTEER, text))
            gc.collect()
            left_in_cycles = [thing for thing in gc.garbage if isinstance(thing, GroupMessageEvent)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert left_in_cycles == []


async def test_the_outbox_is_visible_to_administrators_only(app: App, database: str) -> None:
    from storage.services import outbox

    async with db.session() as session:
        await outbox.enqueue(session, outbox.Destination("onebot", "555", private=False), "待发的消息")
    rows = await outbox.claim("test", ["onebot"], utcnow(), 10, timedelta(minutes=1))
    for _ in range(outbox.MAX_ATTEMPTS):
        await outbox.mark_failed([rows[0].id], "ActionFailed: retcode=1200", utcnow())
        rows = await outbox.claim("test", ["onebot"], utcnow() + timedelta(days=1), 10, timedelta(minutes=1)) or rows
    await exchange(app, onebot_private_message(VOLUNTEER, "/发件箱"), "只有管理员可以查看发件箱。")
    await exchange(
        app,
        onebot_private_message(ADMIN, "/outbox"),
        "发件箱：发送失败 1\n失败 1｜onebot group:555｜ActionFailed: retcode=1200\n"
        "重发：/发件箱 重发 全部 或 /发件箱 重发 编号",
    )
    await exchange(app, onebot_private_message(ADMIN, "/发件箱 重发 全部"), "已把 1 条发送失败的消息放回队列。")
