"""Volunteers on a task: /报名, /取消报名, /签到 (with an optional shared location), /签退."""

from nonebot import on_message, require
from nonebot.plugin import PluginMetadata
from nonebot.rule import Rule

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")

from nonebot_plugin_alconna import Args, Match, UniMsg

from plugins._arguments import Number
from plugins._common import LATER, CurrentPlace, command, finish, location_in, refuse_on_error
from storage.services import tasks
from storage.services.when import describe

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
    result = await refuse_on_error(tasks.signup_for_task(place.caller, number.result))
    task = result.task
    when = describe(task.start_at, task.end_at)
    name = place.caller.name or "你"
    if result.status == "waiting":
        state = "已在候补名单" if not result.changed else "报名已满，已排进候补"
        await finish(
            f"{name}：任务 {task.id}（{task.kind}，{when}）{state}，第 {result.position} 位。"
            "有人取消会自动递补并通知你。"
        )
    if not result.changed:
        await finish(f"{name}：你已经报名了任务 {task.id}（{task.kind}，{when}），不用重复报名。")
    await finish(
        f"{name}：报名成功！任务 {task.id}（{task.kind}，{when}，{task.place}），还剩 {result.places_left} 个名额。\n"
        f"开始前半小时起可以 /签到 {task.id}"
    )


@cancel_command.handle()
async def cancel_signup(place: CurrentPlace, number: Match[int]) -> None:
    if not number.available:
        await finish(CANCEL_USAGE)
    result = await refuse_on_error(tasks.cancel_signup(place.caller, number.result))
    task = result.task
    if not result.changed:
        await finish(tasks.NOTHING_TO_CANCEL.format(task_id=task.id))
    if result.promoted is not None:
        await finish(f"已取消你在任务 {task.id} 的报名。名额已由候补的{result.promoted.name}递补，已通知他。")
    await finish(f"已取消你在任务 {task.id} 的{'候补' if result.was_waiting else '报名'}。")


@checkin_command.handle()
async def check_in(place: CurrentPlace, number: Match[int], message: UniMsg) -> None:
    result = await refuse_on_error(tasks.check_in(place.caller, number.result if number.available else None))
    task = result.task
    if not result.changed:
        await finish(f"你已经签到过任务 {task.id} 了。")
    lines = [f"签到成功：任务 {task.id}（{task.kind}，{task.place}）。结束时发送 /签退 {task.id}"]
    location = location_in(message)
    if location is not None:
        checked = await tasks.attach_location(place.caller, *location)
        if checked is not None:
            lines.append(_location_text(checked))
    elif result.task_has_coordinates:
        lines.append("可以在一分钟内发送你的位置，用来核对是否在任务地点。")
    await finish("\n".join(lines))


def _location_text(checked: tasks.LocationCheck) -> str:
    if checked.distance_m is None:
        return "位置已记录。"
    if checked.outside:
        return f"位置已记录：离任务地点约 {checked.distance_m} 米，超出范围，已标记给民警核对。"
    return f"位置已记录：离任务地点约 {checked.distance_m} 米，在范围内。"


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
        await finish(f"任务 {checked.task.id}：{_location_text(checked)}")


@checkout_command.handle()
async def check_out(place: CurrentPlace, number: Match[int]) -> None:
    result = await refuse_on_error(tasks.check_out(place.caller, number.result if number.available else None))
    task = result.task
    if not result.changed:
        await finish(f"你已经签退过任务 {task.id} 了，服务 {result.minutes / 60:.1f} 小时。")
    await finish(f"签退成功：任务 {task.id}，本次服务 {result.minutes / 60:.1f} 小时。辛苦了！")
