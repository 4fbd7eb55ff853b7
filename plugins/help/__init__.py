"""/帮助 /help: what the caller may do here, by role and by chat, listed from the command table."""

from nonebot import require
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")


from plugins._commands import TABLE, Audience, Command, Usage, Where
from plugins._common import CurrentPlace, command, finish
from storage.services.organisation import get_rights, get_team_at
from storage.services.people import Rights

__plugin_meta__ = PluginMetadata(name="帮助", description="按身份和场合列出能用的命令", usage="/帮助 或 /help")

help_command = command("帮助", "help")

HEADINGS = {
    Audience.EVERYONE: None,
    Audience.LEADERS: "【队长和民警】",
    Audience.OFFICERS: "【民警】",
    Audience.ADMINISTRATORS: "【管理员】",
}


def sees(rights: Rights, audience: Audience) -> bool:
    """Whether /帮助 shows the caller a section: leaders see theirs, officers theirs and the leaders', and so on."""
    if audience is Audience.LEADERS:
        return rights.is_officer or bool(rights.leader_team_ids)
    if audience is Audience.OFFICERS:
        return rights.is_officer
    if audience is Audience.ADMINISTRATORS:
        return rights.is_admin
    return True


def lines_for(rights: Rights, in_group: bool, in_team_group: bool) -> list[str]:
    """The table's lines the caller may use here, section by section."""
    lines: list[str] = []
    for audience, heading in HEADINGS.items():
        if not sees(rights, audience):
            continue
        if heading is not None:
            lines.append(heading)
        for row in TABLE:
            if row.audience is audience:
                _add(lines, row, in_group, in_team_group)
    return lines


def _add(lines: list[str], row: Command | Usage, in_group: bool, in_team_group: bool) -> None:
    if isinstance(row, Usage):
        lines.append(f"/{row.name} {row.help}")
        return
    if row.help is None:
        return
    if not in_group and row.where is not Where.ANYWHERE:
        if row.in_private:
            lines.append(row.in_private)
        return
    if row.where is Where.TEAM_GROUP and not in_team_group:
        return
    written = f"/{row.name}（/{row.alias}）{row.help}"
    if row.continues is None:
        lines.append(written)
    else:
        lines[-1] += row.continues + written


@help_command.handle()
async def show_help(place: CurrentPlace) -> None:
    rights = await get_rights(place.caller)
    located = await get_team_at(place.group) if place.group is not None else None
    lines = ["义警助手，能用的命令："]
    if place.in_group:
        if located is None:
            lines.append("本群还没有绑定队伍。")
        else:
            lines.append(f"本群是“{located.team.name}”（{located.unit.path}）的队伍群。")
    lines.extend(lines_for(rights, in_group=place.in_group, in_team_group=located is not None))
    lines.append("每个命令不带内容发送，会告诉你怎么写。")
    await finish("\n".join(lines))
