"""/帮助 fits a phone: a short menu of what this person does most in this chat, `/帮助 主题` for a topic's commands,
`/帮助 命令名` for one command with an example, and a new member's first /帮助 in a group says what volunteers do.
Every registered command is reachable from it, with its English alias."""

from __future__ import annotations

import math
import re
import unicodedata

import nonebot
import pytest
from arclet.alconna import command_manager

from plugins._commands import COMMANDS
from storage.services import membership, organisation
from storage.services.actors import ChatAccount
from storage.services.people import PersonRef
from tests.chat import say
from tests.places import in_group

ADMIN, OFFICER, LEADER, MEMBER, STRANGER = 10001, 20001, 30003, 30001, 39999
TEAM_GROUP, UNBOUND_GROUP = 810001, 810009
PHONE_WIDTH = 22
"""A phone shows about 22 Chinese characters on a line (a Latin letter or digit takes half of one; quotation marks,
which Chinese fonts draw wide, a whole one)."""

VOLUNTEER_MENU = """本群队伍：一队，常用命令：
/任务 看近期任务　/报名 编号
/签到 到场发　/签退 离开发
/线索 私聊报线索，可匿名
/积分 看余额　/排行榜 看排名
/商城 看奖品　/兑换 编号
/我的 看成员号和队伍
更多：/帮助 任务 签到 线索 积分 排行榜 紧急 队伍 培训"""
WELCOME = """欢迎加入！队员常做三件事：
1. 看任务、报名：发 /任务，再发 /报名 编号
2. 到了现场发 /签到，离开时发 /签退
3. 发现可疑情况，私聊我发 /线索，可以匿名
更多：/帮助 任务 签到 线索 积分 排行榜 紧急 队伍 培训"""
ADMIN_MENU_IN_PRIVATE = """常用命令：
/发布任务 巡逻 明天19:00 2小时 地点 10人
/任务 看近期任务　/结束任务 编号
/线索列表 私聊看线索　/核实 编号 积分
/奖励 成员号 分数 理由
/紧急 情况 需要N人
/统计 看数字　/导出 私聊发 Excel
/授权民警 成员号 单位名　/发件箱 看发送失败
更多：/帮助 任务 签到 线索 积分 排行榜 紧急 队伍 培训 民警 管理"""


def caller(user_id: int) -> ChatAccount:
    return ChatAccount("onebot", str(user_id))


def phone_lines(text: str) -> int:
    """Lines as a phone shows them: a line wider than the screen takes two (or more)."""

    def width(line: str) -> float:
        return sum(1 if unicodedata.east_asian_width(c) in "WFA" else 0.5 for c in line)

    return sum(max(1, math.ceil(width(line) / PHONE_WIDTH)) for line in text.splitlines())


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


async def test_a_new_members_first_help_in_the_group_says_what_volunteers_do_then_the_menu(team: None) -> None:
    assert await say(MEMBER, "/帮助", TEAM_GROUP) == WELCOME
    assert await say(MEMBER, "/帮助", TEAM_GROUP) == VOLUNTEER_MENU
    assert await say(MEMBER, "/help", TEAM_GROUP) == VOLUNTEER_MENU


async def test_the_welcome_waits_for_the_members_first_menu_in_a_group(team: None) -> None:
    assert (await say(LEADER, "/帮助")).startswith("常用命令：")  # in private: the menu, no welcome
    assert (await say(LEADER, "/帮助 任务", TEAM_GROUP)).startswith("【任务】")  # a topic: no welcome either
    assert await say(LEADER, "/帮助", TEAM_GROUP) == WELCOME
    assert (await say(LEADER, "/帮助", TEAM_GROUP)).startswith("本群队伍：一队，")
    assert (await say(OFFICER, "/帮助", TEAM_GROUP)).startswith("本群队伍：一队，")  # officers get no welcome


async def test_someone_not_yet_in_the_team_is_shown_how_to_join_first(team: None) -> None:
    lines = (await say(STRANGER, "/帮助", TEAM_GROUP)).splitlines()
    assert lines[:2] == ["本群队伍：一队，常用命令：", "/加入 姓名 特长　申请入队"]
    assert "/加入" not in await say(STRANGER, "/帮助", UNBOUND_GROUP)


async def test_an_administrators_help_in_private_fits_a_phone(team: None) -> None:
    answer = await say(ADMIN, "/帮助")
    assert answer == ADMIN_MENU_IN_PRIVATE
    assert phone_lines(answer) <= 12


@pytest.mark.parametrize("group_id", [None, TEAM_GROUP, UNBOUND_GROUP])
async def test_every_roles_menu_fits_a_phone_in_every_chat(team: None, group_id: int | None) -> None:
    for user_id in (STRANGER, MEMBER, LEADER, OFFICER, ADMIN):
        await say(user_id, "/帮助", group_id)  # a member's first /帮助 in a group is the welcome
        answer = await say(user_id, "/帮助", group_id)
        assert phone_lines(answer) <= 12, (user_id, group_id, answer)
        assert answer.splitlines()[-1].startswith("更多：/帮助 任务 签到 线索 积分"), answer
    officers = await say(OFFICER, "/帮助", group_id)
    assert ("/绑定队伍 队伍名　绑定本群" in officers) is (group_id is not None)
    assert "民警 管理" not in officers
    assert "审核" not in await say(MEMBER, "/帮助", group_id)


async def test_a_topic_lists_its_commands_the_caller_may_use_here(team: None) -> None:
    assert await say(MEMBER, "/帮助 线索") == (
        "【线索】\n"
        "/线索（/tip）私聊报线索，可匿名　/我的线索（/mytips）看进度　/补充（/tipadd）编号 内容\n"
        "命令不带内容发送会告诉你怎么写；看例子发 /帮助 /线索"
    )
    officer = await say(OFFICER, "/帮助 线索")
    assert "/核实（/verify）编号 积分 备注" in officer
    assert "/设为警务群" not in officer  # in a group only
    assert "/设为警务群（/setpolicegroup）" in await say(OFFICER, "/帮助 民警", UNBOUND_GROUP)
    assert await say(MEMBER, "/帮助 签到", TEAM_GROUP) == (
        "【签到】\n"
        "/签到（/checkin）到场发　/签退（/checkout）离开发\n"
        "命令不带内容发送会告诉你怎么写；看例子发 /帮助 /签到"
    )


async def test_one_command_is_explained_with_an_example(team: None) -> None:
    signup = "/报名（/signup）报名参加任务；满员后排队，有人取消就补上\n写法：/报名 编号\n例如 /报名 12"
    assert await say(MEMBER, "/帮助 报名", TEAM_GROUP) == signup
    assert await say(MEMBER, "/帮助 /报名") == signup
    assert await say(MEMBER, "/help signup") == signup
    assert await say(MEMBER, "/help SignUp") == signup
    assert (await say(MEMBER, "/帮助 ／签到")).startswith("/签到（/checkin）到场签到")
    assert await say(MEMBER, "/帮助 我的") == "/我的（/me）看自己的成员号、队伍、特长、积分和身份\n写法：/我的"
    assert await say(MEMBER, "/帮助 发布任务") == (
        "/发布任务（/newtask）发布任务，一行写完，或只发 /发布任务 一步步来（民警用）\n"
        "写法：/发布任务 类型 时间 时长 地点 人数 [积分]\n"
        "例如 /发布任务 巡逻 明天19:00 2小时 闫千户片区 10人 5分"
    )


async def test_an_unknown_topic_is_answered_with_the_topics(team: None) -> None:
    assert await say(MEMBER, "/帮助 天气") == (
        "没有这个主题或命令。可以发：/帮助 任务 签到 线索 积分 排行榜 紧急 队伍 培训，或 /帮助 命令名，例如 /帮助 报名"
    )
    assert await say(MEMBER, "/帮助 管理") == (
        "“管理”里没有你在这里能用的命令。\n更多：/帮助 任务 签到 线索 积分 排行榜 紧急 队伍 培训"
    )


def test_every_command_has_a_topic_words_for_the_menu_and_a_relative_example() -> None:
    fixed_date = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}月\d{1,2}日|\d{1,2}/\d{1,2}")
    for command in COMMANDS:
        assert command.does, command.name
        assert command.example.startswith(f"/{command.name}"), command.name
        assert not fixed_date.search(command.example), command.example
        assert command.topic is not None or command.name == "帮助", command.name


async def test_every_registered_command_is_in_a_topic_with_its_alias_and_explained(team: None) -> None:
    from nonebot_plugin_alconna import AlconnaMatcher  # plugin code is imported once NoneBot is initialised

    topics = ["任务", "签到", "线索", "积分", "排行榜", "紧急", "队伍", "培训", "民警", "管理"]
    everything = "".join(
        [await say(ADMIN, f"/帮助 {topic}", where) for topic in topics for where in (TEAM_GROUP, None)]
    )
    listed = 0
    for plugin in nonebot.get_loaded_plugins():
        for matcher in plugin.matcher:
            if issubclass(matcher, AlconnaMatcher):
                alconna = matcher.command()
                (alias,) = command_manager.get_shortcut(alconna)
                if alconna.name != "帮助":  # /帮助 is the list itself
                    assert f"/{alconna.name}（/{alias}）" in everything, alconna.name
                assert (await say(MEMBER, f"/help {alias}")).startswith(f"/{alconna.name}（/{alias}）"), alias
                listed += 1
    assert listed >= 39


async def test_an_administrators_menu_in_a_group_with_the_longest_team_name_still_fits(team: None) -> None:
    longest = "历下区" + "夕阳红" * 9  # 30 characters, the most a team name may have
    await organisation.bind_group(caller(OFFICER), in_group(UNBOUND_GROUP), longest)
    answer = await say(ADMIN, "/帮助", UNBOUND_GROUP)
    assert answer.startswith(f"本群队伍：{longest}，")
    assert phone_lines(answer) <= 12
