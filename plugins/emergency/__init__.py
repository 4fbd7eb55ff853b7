"""Emergency call-outs: /紧急 (officers) and /响应 (volunteers), with escalation when too few answer."""

import re

from nonebot import get_driver, require
from nonebot.log import logger
from nonebot.plugin import PluginMetadata

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, Match, MultiVar
from nonebot_plugin_apscheduler import scheduler

from plugins._arguments import Number, amount_in, as_number
from plugins._common import CurrentPlace, command, finish, refuse_on_error
from plugins._texts.emergency import text_for_alert_state, text_for_closed, text_for_raised, text_for_response
from storage.services import emergency
from storage.services.people import parse_tags

ALERT_USAGE = (
    "紧急呼叫（民警）：/紧急 情况 需要N人 [需要:特长] [范围:单位]\n"
    "例如：/紧急 走失老人，男，75岁，蓝色外套，最后在北园大街 需要10人\n"
    "查看响应：/紧急 编号　结束：/紧急 结束 编号 结果 [积分N]"
)
RESPOND_USAGE = "响应紧急呼叫：/响应 [编号] [预计N分钟]，例如 /响应 5分钟"

__plugin_meta__ = PluginMetadata(
    name="紧急呼叫",
    description="民警向单位所有队伍群发紧急呼叫，队员响应，人数不够时升级",
    usage="\n\n".join([ALERT_USAGE, RESPOND_USAGE]),
)

alert_command = command("紧急", "alert", Args["words", MultiVar(str, "*")])
respond_command = command("响应", "respond", Args["number?", Number]["eta?", str])

ESCALATION_TICK = int(getattr(get_driver().config, "yijing_escalation_tick_seconds", 20))
"""Seconds between looks for call-outs to escalate ([emergency] check_seconds)."""
NEED = re.compile(r"^需要(\d+)(人|名)$")
POINTS = re.compile(r"^积分(\d+)$")
MINUTES = re.compile(r"^(\d+)\s*(分钟|分|min)?$")


def _parse_alert(words: list[str]) -> tuple[str, int, list[str], str | None]:
    need, tags, unit, text = 1, [], None, []
    for word in words:
        if match := NEED.match(word):
            need = amount_in(match.group(1))
        elif word.startswith(("需要:", "需要：")):
            tags = parse_tags(word[3:])
        elif word.startswith(("范围:", "范围：")):
            unit = word[3:].strip() or None
        else:
            text.append(word)
    return " ".join(text), need, tags, unit


@alert_command.handle()
async def alert(place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    if not given:
        await finish(ALERT_USAGE)
    if given[0] == "结束":
        alert_id = as_number(given[1]) if len(given) >= 2 else None
        if alert_id is None:
            await finish(ALERT_USAGE)
        rest = given[2:]
        points = next((amount_in(m.group(1)) for w in rest if (m := POINTS.match(w))), None)
        result = " ".join(w for w in rest if not POINTS.match(w)) or None
        closed = await refuse_on_error(emergency.close_alert(place.caller, alert_id, result, points))
        await finish(text_for_closed(closed, points))
    if len(given) == 1 and (alert_id := as_number(given[0])) is not None:
        state = await refuse_on_error(emergency.alert_state(place.caller, alert_id))
        await finish(text_for_alert_state(state))
    text, need, tags, unit = await refuse_on_error(_parse(given))  # a malformed 需要: list is refused
    raised = await refuse_on_error(emergency.raise_alert(place.caller, text, need, tags, unit))
    await finish(text_for_raised(raised))


async def _parse(words: list[str]) -> tuple[str, int, list[str], str | None]:
    return _parse_alert(words)


@respond_command.handle()
async def respond(place: CurrentPlace, number: Match[int], eta: Match[str]) -> None:
    minutes = None
    if eta.available:
        match = MINUTES.match(eta.result.removeprefix("预计"))
        minutes = as_number(match.group(1), high=24 * 60) if match else None
        if minutes is None:
            await finish(RESPOND_USAGE)
    response = await refuse_on_error(
        emergency.respond(place.caller, number.result if number.available else None, minutes)
    )
    await finish(text_for_response(response, minutes))


async def escalate_due_alerts() -> None:
    try:
        for escalation in await emergency.escalate_due():
            logger.warning(f"emergency call-out {escalation.alert.id} escalated to {escalation.groups} group(s)")
    except Exception as error:
        logger.opt(exception=error).error("escalating emergency call-outs failed; will try again")


scheduler.add_job(
    escalate_due_alerts,
    "interval",
    seconds=ESCALATION_TICK,
    id="escalate_due_alerts",
    replace_existing=True,
    misfire_grace_time=None,
)
