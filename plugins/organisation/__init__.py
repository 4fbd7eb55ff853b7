"""Organisation: officers (/授权民警, /撤销民警), group bindings (/绑定队伍) and team leaders (/设队长, /撤销队长)."""

from nonebot import require
from nonebot.adapters import Bot
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, At, Match

from plugins._arguments import NumberOrMention
from plugins._common import CurrentPlace, command, finish, person_from, refuse_on_error
from plugins._texts.organisation import (
    text_for_binding,
    text_for_grant,
    text_for_leader_removed,
    text_for_leadership,
    text_for_officer_revoked,
)
from storage.services import organisation, revocation

GRANT_USAGE = (
    "授权民警（管理员用）：/授权民警 @某人 单位名\n"
    "也可写成员号：/授权民警 12 历下分局\n"
    "写上级单位会一并建好：/授权民警 12 济南市公安局/历下分局"
)
BIND_USAGE = (
    "绑定队伍（民警在队伍群里用）：/绑定队伍 队伍名\n"
    "例如：/绑定队伍 夕阳红巡逻队\n"
    "是几个单位的民警时写上单位：/绑定队伍 夕阳红巡逻队 闫千户派出所"
)
LEADER_USAGE = (
    "设队长（民警用）：在队伍群里发 /设队长 @某人 或 /设队长 成员号\n私聊时写上队伍名：/设队长 12 夕阳红巡逻队"
)
REVOKE_USAGE = (
    "撤销民警（管理员用）：/撤销民警 @某人 单位名，只撤这个单位\n不写单位就撤销他在所有单位的民警权限：/撤销民警 12"
)
UNSET_LEADER_USAGE = (
    "撤销队长（民警用）：在队伍群里发 /撤销队长 @某人 或 /撤销队长 成员号\n私聊时写上队伍名：/撤销队长 12 夕阳红巡逻队"
)

__plugin_meta__ = PluginMetadata(
    name="组织管理",
    description="授权民警、撤销民警、绑定队伍、设队长、撤销队长",
    usage="\n\n".join([GRANT_USAGE, REVOKE_USAGE, BIND_USAGE, LEADER_USAGE, UNSET_LEADER_USAGE]),
)

grant_command = command("授权民警", "grant", Args["who?", NumberOrMention]["unit?", str])
bind_command = command("绑定队伍", "bindteam", Args["team?", str]["unit?", str])
leader_command = command("设队长", "setleader", Args["who?", NumberOrMention]["team?", str])
revoke_command = command("撤销民警", "revoke", Args["who?", NumberOrMention]["unit?", str])
unset_leader_command = command("撤销队长", "unsetleader", Args["who?", NumberOrMention]["team?", str])


@grant_command.handle()
async def grant_officer(bot: Bot, place: CurrentPlace, who: Match[At | int], unit: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None or not unit.available:
        await finish(GRANT_USAGE)
    grant = await refuse_on_error(organisation.grant_officer(place.caller, person, unit.result))
    await finish(text_for_grant(grant))


@bind_command.handle()
async def bind_team(place: CurrentPlace, team: Match[str], unit: Match[str]) -> None:
    if not team.available:
        await finish(BIND_USAGE)
    if place.group is None:
        await finish("请在要绑定的队伍群里发送 /绑定队伍 队伍名")
    binding = await refuse_on_error(
        organisation.bind_group(place.caller, place.group, team.result, unit.result if unit.available else None)
    )
    await finish(text_for_binding(binding))


@leader_command.handle()
async def set_leader(bot: Bot, place: CurrentPlace, who: Match[At | int], team: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(LEADER_USAGE)
    leadership = await refuse_on_error(
        organisation.set_leader(place.caller, person, place.group, team.result if team.available else None)
    )
    await finish(text_for_leadership(leadership))


@revoke_command.handle()
async def revoke_officer(bot: Bot, place: CurrentPlace, who: Match[At | int], unit: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(REVOKE_USAGE)
    unit_text = unit.result if unit.available else None
    revoked = await refuse_on_error(revocation.revoke_officer(place.caller, person, unit_text))
    await finish(text_for_officer_revoked(revoked, unit_text))


@unset_leader_command.handle()
async def unset_leader(bot: Bot, place: CurrentPlace, who: Match[At | int], team: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(UNSET_LEADER_USAGE)
    removed = await refuse_on_error(
        revocation.unset_leader(place.caller, person, place.group, team.result if team.available else None)
    )
    await finish(text_for_leader_removed(removed))
