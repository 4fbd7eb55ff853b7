"""/帮助 answers each role, in each kind of chat, with the commands it may use, and lists every command the plugins
register with its English alias."""

from __future__ import annotations

import nonebot
import pytest
from arclet.alconna import command_manager

from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, LEADER, MEMBER, STRANGER = 10001, 20001, 30003, 30001, 39999
TEAM_GROUP, UNBOUND_GROUP = 810001, 810009

FIRST = "义警助手，能用的命令："
IN_TEAM_GROUP = """本群是“一队”（市局/历下分局/闫千户派出所）的队伍群。
/加入（/join）姓名 特长　申请加入本队，手机号再私聊发给我"""
IN_UNBOUND_GROUP = "本群还没有绑定队伍。"
IN_PRIVATE = "加入队伍请到队伍群里发送 /加入 姓名"
EVERYONE = """/我的（/me）查看成员号、队伍、积分和身份
/积分（/points）余额、本月排名、最近记录
/排行榜（/leaderboard）[本周|上月|10月|去年|总] [队伍|单位|全市] [积分|时长|线索]
/商城（/shop）看奖品　/兑换（/redeem）编号　/兑换 看我的兑换单
/任务（/tasks）近期任务；/任务 编号 看名单
/报名（/signup）编号　/取消报名（/cancel）编号
/签到（/checkin）　/签退（/checkout）
/线索（/tip）私聊报线索，可匿名　/我的线索（/mytips）　/补充（/tipadd）编号 内容
/响应（/respond）[编号] 预计N分钟　响应紧急呼叫"""
LEADERS = """【队长和民警】
/审核（/pending）查看待审核的申请
/通过（/approve）编号　通过申请
/拒绝（/reject）编号 理由　拒绝申请
/排行榜 单位 分队　各队人均排名
/统计（/stats）[上月|今年|时间段] [队伍|单位]　文字和图表
/导出（/export）[上月|时间段]　私聊发给你 Excel 表格"""
OFFICERS_IN_GROUP = """【民警】
/绑定队伍（/bindteam）队伍名　把本群绑定到队伍"""
OFFICERS_IN_PRIVATE = """【民警】
/绑定队伍 请在要绑定的群里发送"""
OFFICERS = """/发布任务（/newtask）巡逻 明天19:00 2小时 地点 10人 5分
/线索列表（/tips）　/查看线索（/tipview）编号　/核实（/verify）　/驳回（/dismiss）　/回复线索（/tipreply）（均在私聊）
/设为警务群（/setpolicegroup）在只有民警的群里发，新线索提醒发到这里
/紧急（/alert）情况 需要N人 [需要:特长]　/紧急 编号 看响应　/紧急 结束 编号 结果 积分N
/取消任务（/canceltask）编号 原因　/结束任务（/closetask）编号
/设队长（/setleader）@某人 或 成员号　任命队长；/撤销队长（/unsetleader）同样写法
/奖励（/award）@某人 或 成员号 分数 理由　奖励或扣分（负数）
/商城 上架 名称 积分N 库存N [每人N]　/商城 下架 编号　/商城 库存 编号 数量
/发放（/fulfil）看待发放；/发放 兑换单号；/发放 取消 兑换单号 理由"""
ADMINISTRATORS = """【管理员】
/授权民警（/grant）@某人 或 成员号 单位名　授权民警
/撤销民警（/revoke）@某人 或 成员号 [单位名]　撤销民警（不写单位即全部）
/发件箱（/outbox）待发和发送失败的消息；/发件箱 重发 全部"""
LAST = "每个命令不带内容发送，会告诉你怎么写。"

PLACES = {None: IN_PRIVATE, TEAM_GROUP: IN_TEAM_GROUP, UNBOUND_GROUP: IN_UNBOUND_GROUP}


def caller(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


@pytest.fixture
async def team(database: str) -> None:
    """一队 of 闫千户派出所 (李警官, an officer), with 张三 a member and 李队长 its leader."""
    officer = PersonRef(platform="onebot", user_id=str(OFFICER))
    await organisation.grant_officer(caller(ADMIN), officer, "市局/历下分局/闫千户派出所")
    await organisation.bind_group(caller(OFFICER), in_group(TEAM_GROUP), "一队")
    for user_id, name, phone in ((MEMBER, "张三", "13800000001"), (LEADER, "李队长", "13800000003")):
        applied = await membership.apply_to_team(caller(user_id), in_group(TEAM_GROUP), name, phone, [])
        await membership.decide_application(caller(OFFICER), approve=True, number=applied.number)
    leader = PersonRef(platform="onebot", user_id=str(LEADER))
    await organisation.set_leader(caller(OFFICER), leader, None, "一队")


def expected(sections: list[str], group_id: int | None) -> str:
    return "\n".join([FIRST, PLACES[group_id], *sections, LAST])


@pytest.mark.parametrize("group_id", [None, TEAM_GROUP, UNBOUND_GROUP])
async def test_each_role_is_shown_its_own_commands(team: None, group_id: int | None) -> None:
    officers = [OFFICERS_IN_PRIVATE if group_id is None else OFFICERS_IN_GROUP, OFFICERS]
    for user_id, sections in (
        (STRANGER, [EVERYONE]),
        (MEMBER, [EVERYONE]),
        (LEADER, [EVERYONE, LEADERS]),
        (OFFICER, [EVERYONE, LEADERS, *officers]),
        (ADMIN, [EVERYONE, LEADERS, *officers, ADMINISTRATORS]),
    ):
        answer = await say(user_id, "/帮助", group_id)
        assert answer == expected(sections, group_id), (user_id, group_id)
        assert await say(user_id, "/help", group_id) == answer


async def test_help_lists_every_registered_command_with_its_alias(team: None) -> None:
    from nonebot_plugin_alconna import AlconnaMatcher  # plugin code is imported once NoneBot is initialised

    everything = await say(ADMIN, "/帮助", TEAM_GROUP) + await say(ADMIN, "/帮助")
    listed = 0
    for plugin in nonebot.get_loaded_plugins():
        if plugin.module_name == "plugins.help":
            continue  # /帮助 is the list itself
        for matcher in plugin.matcher:
            if issubclass(matcher, AlconnaMatcher):
                alconna = matcher.command()
                (alias,) = command_manager.get_shortcut(alconna)
                assert f"/{alconna.name}（/{alias}）" in everything, alconna.name
                listed += 1
    assert listed >= 38
