"""A member's life after joining: /退出 a team (asked to confirm first), and officers' /停用 and /恢复."""

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, At, Match, MultiVar, UniMessage

from plugins._arguments import NumberOrMention
from plugins._common import (
    CurrentPlace,
    answer_or_leave,
    close_dialogue,
    command,
    confirmation_lapsed,
    finish,
    is_confirm,
    open_confirmation,
    person_from,
    refuse_on_error,
)
from plugins._texts import lifecycle as texts
from storage.services import lifecycle

__plugin_meta__ = PluginMetadata(
    name="退出与停用",
    description="队员退出队伍，民警停用和恢复队员",
    usage="\n\n".join([texts.LEAVE_USAGE, texts.SUSPEND_USAGE, texts.REINSTATE_USAGE]),
)

leave_command = command("退出", "leave", Args["team", MultiVar(str, "*")])
suspend_command = command("停用", "suspend", Args["who?", NumberOrMention]["reason", MultiVar(str, "*")])
reinstate_command = command("恢复", "reinstate", Args["who?", NumberOrMention])


@leave_command.handle()
async def leave_team(bot: Bot, event: Event, state: T_State, place: CurrentPlace, team: Match[tuple[str, ...]]) -> None:
    """Says what leaving would do (the team, the sign-ups it cancels) and waits a minute for 确认."""
    name = " ".join(team.result) if team.available else None
    preview = await refuse_on_error(lifecycle.leaving(place.caller, place.group, name or None))
    state["team"] = preview.team
    state["confirm_until"] = open_confirmation(bot, event, texts.CONFIRM_SECONDS, texts.LEAVE_TOO_LATE)
    await leave_command.pause(UniMessage.text(texts.text_for_leaving(preview)))


@leave_command.handle()
async def confirm_leaving(matcher: Matcher, event: Event, state: T_State, place: CurrentPlace) -> None:
    """确认 leaves; anything else leaves nothing (a command ends the question and is answered)."""
    text = await answer_or_leave(matcher, event, cancelled=texts.LEAVE_NOT_DONE, left="已退出确认，没有退出队伍。")
    close_dialogue(event)
    if confirmation_lapsed(state["confirm_until"]):
        await finish(texts.LEAVE_TOO_LATE)
    if not is_confirm(text):
        await finish(texts.LEAVE_NOT_DONE)
    left = await refuse_on_error(lifecycle.leave_team(place.caller, place.group, state["team"]))
    await finish(texts.text_for_left(left))


@suspend_command.handle()
async def suspend_member(bot: Bot, place: CurrentPlace, who: Match[At | int], reason: Match[tuple[str, ...]]) -> None:
    target = await person_from(bot, who.result if who.available else None, place)
    words = " ".join(reason.result) if reason.available else ""
    if target is None:
        await finish(texts.SUSPEND_USAGE)
    result = await refuse_on_error(lifecycle.suspend(place.caller, target, words))
    await finish(texts.text_for_suspended(result, place.in_group))


@reinstate_command.handle()
async def reinstate_member(bot: Bot, place: CurrentPlace, who: Match[At | int]) -> None:
    target = await person_from(bot, who.result if who.available else None, place)
    if target is None:
        await finish(texts.REINSTATE_USAGE)
    result = await refuse_on_error(lifecycle.reinstate(place.caller, target))
    await finish(texts.text_for_reinstated(result))
