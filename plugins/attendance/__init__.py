"""Volunteers on a task: /报名, /取消报名, /签到 (with an optional shared location), /签退."""

from nonebot import on_message, require
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Match, UniMsg

from plugins._arguments import Number
from plugins._common import LATER, CurrentPlace, command, finish, location_in, refuse_on_error
from plugins._texts import tasks as texts
from storage.services import tasks

SIGNUP_USAGE = "报名：/报名 任务编号，例如 /报名 12\n任务编号见 /任务"
CANCEL_USAGE = "取消报名：/取消报名 任务编号，例如 /取消报名 12"
CHECKIN_USAGE = "签到：/签到（自动找你现在的任务）或 /签到 任务编号\n签到后一分钟内发送位置，可以一起核对。"
CHECKOUT_USAGE = "签退：/签退 或 /签退 任务编号"

__plugin_meta__ = PluginMetadata(
    name="报名与签到",
    description="队员报名、取消报名、签到签退",
    usage="\n\n".join([SIGNUP_USAGE, CANCEL_USAGE, CHECKIN_USAGE, CHECKOUT_USAGE]),
)

signup_command = command("报名", "signup", Args["number?", Number])
cancel_command = command("取消报名", "cancel", Args["number?", Number])
checkin_command = command("签到", "checkin", Args["number?", Number])
checkout_command = command("签退", "checkout", Args["number?", Number])


@signup_command.handle()
async def signup_for_task(place: CurrentPlace, number: Match[int]) -> None:
    if not number.available:
        await finish(SIGNUP_USAGE)
    result = await refuse_on_error(tasks.signup_for_task(place.caller, number.result), in_group=place.in_group)
    await finish(texts.text_for_signup(place.caller.name, result))


@cancel_command.handle()
async def cancel_signup(place: CurrentPlace, number: Match[int]) -> None:
    if not number.available:
        await finish(CANCEL_USAGE)
    result = await refuse_on_error(tasks.cancel_signup(place.caller, number.result))
    await finish(texts.text_for_cancelled_signup(result))


@checkin_command.handle()
async def check_in(place: CurrentPlace, number: Match[int], message: UniMsg) -> None:
    result = await refuse_on_error(
        tasks.check_in(place.caller, number.result if number.available else None), in_group=place.in_group
    )
    location = location_in(message) if result.changed else None
    checked = await tasks.attach_location(place.caller, *location) if location is not None else None
    await finish(texts.text_for_check_in(result, location is not None, checked))


async def _has_location(message: UniMsg) -> bool:
    return location_in(message) is not None


shared_location = on_message(rule=Rule(_has_location), priority=LATER, block=False)


@shared_location.handle()
async def location_after_check_in(place: CurrentPlace, message: UniMsg) -> None:
    location = location_in(message)
    if location is None:
        return
    checked = await tasks.attach_location(place.caller, *location)
    if checked is not None:
        await finish(texts.text_for_location_after_check_in(checked))


@checkout_command.handle()
async def check_out(place: CurrentPlace, number: Match[int]) -> None:
    result = await refuse_on_error(tasks.check_out(place.caller, number.result if number.available else None))
    await finish(texts.text_for_check_out(result))
