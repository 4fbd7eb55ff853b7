"""Organisation: officers (/授权民警, /撤销民警), group bindings (/绑定队伍) and team leaders (/设队长, /撤销队长)."""

from nonebot import require
from nonebot.adapters import Bot
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, At, Match

from plugins._arguments import NumberOrMention
from plugins._common import CurrentPlace, command, finish, person_from, refuse_on_error
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
    state = "已授权" if grant.new else "本来就是"
    await finish(f"{grant.member.name}（成员号 {grant.member.id}）{state}“{grant.unit.path}”的民警。")


@bind_command.handle()
async def bind_team(place: CurrentPlace, team: Match[str], unit: Match[str]) -> None:
    if not team.available:
        await finish(BIND_USAGE)
    if not place.in_group:
        await finish("请在要绑定的队伍群里发送 /绑定队伍 队伍名")
    binding = await refuse_on_error(
        organisation.bind_group(place.caller, place.group_id, team.result, unit.result if unit.available else None)
    )
    lines = [f"本群已绑定到“{binding.team.name}”（{binding.unit.path}）。"]
    if binding.created_team:
        lines.append("这是新建的队伍。")
    if binding.previous_team is not None:
        lines.append(f"原来绑定的是“{binding.previous_team.name}”。")
    lines.append("队员请发送：/加入 姓名 特长")
    await finish("\n".join(lines))


@leader_command.handle()
async def set_leader(bot: Bot, place: CurrentPlace, who: Match[At | int], team: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(LEADER_USAGE)
    leadership = await refuse_on_error(
        organisation.set_leader(place.caller, person, place.group_id, team.result if team.available else None)
    )
    state = "已设为" if leadership.new else "本来就是"
    await finish(f"{leadership.member.name}{state}“{leadership.team.name}”的队长。")


@revoke_command.handle()
async def revoke_officer(bot: Bot, place: CurrentPlace, who: Match[At | int], unit: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(REVOKE_USAGE)
    revoked = await refuse_on_error(
        revocation.revoke_officer(place.caller, person, unit.result if unit.available else None)
    )
    who_text = f"{revoked.member.name}（成员号 {revoked.member.id}）"
    if not revoked.units:
        where = f"“{unit.result}”的" if unit.available else ""
        await finish(f"{who_text}本来就不是{where}民警，没有可撤销的。")
    lines = [f"已撤销{who_text}在“{'、'.join(revoked.units)}”的民警权限，已私信告知。"]
    if revoked.still:
        lines.append(f"他仍是“{'、'.join(revoked.still)}”的民警。")
    await finish("\n".join(lines))


@unset_leader_command.handle()
async def unset_leader(bot: Bot, place: CurrentPlace, who: Match[At | int], team: Match[str]) -> None:
    person = await person_from(bot, who.result, place) if who.available else None
    if person is None:
        await finish(UNSET_LEADER_USAGE)
    removed = await refuse_on_error(
        revocation.unset_leader(place.caller, person, place.group_id, team.result if team.available else None)
    )
    if not removed.changed:
        await finish(f"{removed.member.name}本来就不是“{removed.team.name}”的队长。")
    await finish(f"{removed.member.name}已不再是“{removed.team.name}”的队长，已私信告知。")
