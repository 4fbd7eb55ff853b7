"""Tasks for officers: /发布任务 (one line, or step by step), /任务, /取消任务, /结束任务, and closing on time."""

import asyncio
import re
from typing import NoReturn

from nonebot import get_driver, require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher, current_bot, current_event, current_matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, Match, MultiVar, UniMessage
from nonebot_plugin_apscheduler import scheduler

from plugins._arguments import Number, as_number
from plugins._common import (
    CurrentPlace,
    Place,
    answer_or_leave,
    close_dialogue,
    command,
    confirmation_lapsed,
    finish,
    is_confirm,
    open_confirmation,
    open_dialogue,
    refuse_on_error,
    with_buttons,
)
from plugins._texts import refusal
from plugins._texts import tasks as texts
from storage.errors import DomainError, NotAllowed
from storage.services import reminders, tasks
from storage.services.numerals import with_digits
from storage.services.organisation import get_rights
from storage.services.when import parse_duration, parse_span, warm_up

NEWTASK_USAGE = (
    "发布任务（民警用）：一行写完，例如\n"
    "/发布任务 巡逻 明天19:00 2小时 闫千户片区 10人 5分\n"
    "/发布任务 护学岗 下周一 07:10-08:00 胜利大街小学 四人 需要:护学\n"
    "可加：截止:明天18:00　队伍:甲队,乙队　单位:历下分局　坐标:36.65,117.12 半径:300米　每周\n"
    "只发 /发布任务 会一步步问你。"
)
TASKS_USAGE = "查看任务：/任务　查看某个任务和名单：/任务 编号"
CANCELTASK_USAGE = "取消任务（民警用）：/取消任务 编号 原因\n例如：/取消任务 12 暴雨停止户外巡逻"
CLOSETASK_USAGE = "结束任务（民警用）：/结束任务 编号\n未签到的记为缺勤，积分随即发放。"

__plugin_meta__ = PluginMetadata(
    name="任务",
    description="民警发布、取消、结束任务；查看任务和名单",
    usage="\n\n".join([NEWTASK_USAGE, TASKS_USAGE, CANCELTASK_USAGE, CLOSETASK_USAGE]),
)

newtask_command = command("发布任务", "newtask", Args["words", MultiVar(str, "*")])
tasks_command = command("任务", "tasks", Args["number?", Number])
canceltask_command = command("取消任务", "canceltask", Args["number?", Number]["reason", MultiVar(str, "*")])
closetask_command = command("结束任务", "closetask", Args["number?", Number])


CONFIRM_SECONDS = 60
"""How long a confirmation of a task like one just posted is waited for."""


async def _publish(place: Place, spec: tasks.TaskSpec, confirmed: bool = False) -> None:
    try:
        posted = await tasks.post_task(place.caller, place.group, spec, confirmed=confirmed)
    except DomainError as error:
        if error.code != "tasks.maybe_duplicate" or confirmed:
            await finish(refusal(error))
        await _ask_to_confirm(spec, error)
    reply = texts.text_for_posted_task(posted)
    if not posted.posted_here:
        await finish(reply)
    # this group is one of the task's: the card (with its buttons) is the answer here
    await with_buttons(reply, place.caller.platform, tasks.signup_buttons(posted.view.task.id)).finish()


async def _ask_to_confirm(spec: tasks.TaskSpec, error: DomainError) -> NoReturn:
    """The same task was posted a moment ago: wait a minute for 确认 (the next handler, `confirm_duplicate`)."""
    bot, event, state = current_bot.get(), current_event.get(), current_matcher.get().state
    state["duplicate"] = spec
    state["confirm_until"] = open_confirmation(bot, event, CONFIRM_SECONDS, texts.DUPLICATE_TOO_LATE)
    await newtask_command.pause(UniMessage.text(refusal(error)))
    raise AssertionError("unreachable")


async def _answer_duplicate(event: Event, state: T_State, place: Place) -> None:
    """The answer to "post it again?": 确认 posts it, anything else (a cancel word included) does not."""
    spec: tasks.TaskSpec | None = state.pop("duplicate", None)
    if spec is None:
        return  # not asked: the answer is for the step-by-step questions
    text = await answer_or_leave(
        current_matcher.get(), event, cancelled="已取消，什么也没有改。", left="已退出，这个任务没有发布。"
    )
    close_dialogue(event)
    if confirmation_lapsed(state["confirm_until"]):
        await finish(texts.DUPLICATE_TOO_LATE)
    if not is_confirm(text):
        await finish(texts.DUPLICATE_NOT_POSTED)
    await _publish(place, spec, confirmed=True)


WIZARD = [
    ("kind", f"发布任务，随时回复“取消”退出。\n1/6 什么任务？例如 {'、'.join(tasks.KINDS[:4])}"),
    ("time", "2/6 什么时候开始？例如 明天19:00、下周六 8:30、明天 07:10-08:00"),
    ("duration", "3/6 多长时间？例如 2小时、一个半小时、90分钟"),
    ("place", "4/6 在哪里？例如 闫千户片区"),
    ("capacity", "5/6 要几个人？例如 10 或 十人"),
    ("extras", "6/6 积分和要求：例如 5分 需要:护学 截止:明天18:00；没有就回复“无”"),
]
MAX_TRIES = 3
COUNT_WORDS = re.compile(r"\s*(个人|个|人|名)$")
"""What may follow the number of people: 10人, 十人, 六个, 二十名."""


@newtask_command.handle()
async def post_task(bot: Bot, event: Event, state: T_State, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    given = list(words.result) if words.available else []
    if given:
        spec = await refuse_on_error(_parse(given))
        await _publish(place, spec)
    if not (await get_rights(place.caller)).is_officer:
        await finish(refusal(NotAllowed("organisation.officers_only", act="post_task")))
    # Step by step: one question at a time, each answer checked at once; 取消 stops.
    state["answers"] = {}
    state["step"] = 0
    state["tries"] = 0
    open_dialogue(bot, event)
    await newtask_command.pause(UniMessage.text(WIZARD[0][1]))


@newtask_command.handle()
async def confirm_duplicate(event: Event, state: T_State, place: CurrentPlace) -> None:
    """After a one-line /发布任务 like a task just posted."""
    await _answer_duplicate(event, state, place)


@newtask_command.handle()
async def answer_wizard(matcher: Matcher, event: Event, state: T_State, place: CurrentPlace) -> None:
    text = await answer_or_leave(matcher, event, cancelled="已取消，什么也没有改。", left="已退出发布任务，没有发布。")
    answers: dict[str, str] = state["answers"]
    key = WIZARD[state["step"]][0]
    problem = _check_answer(key, text, answers)
    if problem is not None:
        state["tries"] += 1
        if state["tries"] >= MAX_TRIES:
            close_dialogue(event)
            await finish(f"{problem}\n没有发布。需要时重新发送 /发布任务")
        await newtask_command.reject(UniMessage.text(f"{problem}\n请重新回复，或回复“取消”退出。"))
    state["tries"] = 0
    state["step"] += 1
    if state["step"] < len(WIZARD) and WIZARD[state["step"]][0] == "duration" and answers.get("has_end"):
        state["step"] += 1
    if state["step"] < len(WIZARD):
        await newtask_command.reject(UniMessage.text(WIZARD[state["step"]][1]))
    close_dialogue(event)
    spec = await refuse_on_error(_parse(_wizard_words(answers)))
    await _publish(place, spec)


@newtask_command.handle()
async def confirm_duplicate_after_wizard(event: Event, state: T_State, place: CurrentPlace) -> None:
    """After the step-by-step questions, when their task is like one just posted."""
    await _answer_duplicate(event, state, place)


async def _parse(words: list[str]) -> tasks.TaskSpec:
    spec = tasks.parse_task_words(words)
    tasks.check_spec(spec)
    return spec


def _wizard_words(answers: dict[str, str]) -> list[str]:
    words = [answers["kind"], *answers["time"].split()]
    if "duration" in answers:
        words.append(answers["duration"])
    words += [answers["place"], f"{answers['capacity']}人"]
    if answers.get("extras") and answers["extras"] not in ("无", "没有", "不用"):
        words += answers["extras"].split()
    return words


def _check_answer(key: str, text: str, answers: dict[str, str]) -> str | None:
    """Store a checked answer; the reason it cannot be used otherwise."""
    text = text.strip()
    try:
        if key == "kind":
            tasks.check_kind(text)
        elif key == "time":
            span = parse_span(text)
            answers["has_end"] = "yes" if span.end is not None else ""
        elif key == "duration":
            if parse_duration(text) is None:
                return "时长写成 2小时、两小时 或 90分钟。"
        elif key == "place":
            tasks.check_place(text)
        elif key == "capacity":
            number = as_number(COUNT_WORDS.sub("", with_digits(text)), low=1, high=tasks.MAX_CAPACITY)
            if number is None:
                return f"人数写1到{tasks.MAX_CAPACITY}之间的数字，例如 10"
            text = str(number)
    except DomainError as error:
        return refusal(error)
    answers[key] = text
    return None


@tasks_command.handle()
async def show_tasks(place: CurrentPlace, number: Match[int]) -> None:
    if number.available:
        detail = await refuse_on_error(tasks.task_detail(place.caller, number.result))
        await finish(texts.text_for_task_detail(detail))
    views = await refuse_on_error(tasks.list_open_tasks(place.caller, place.group))
    await finish(texts.text_for_open_tasks(views))


@canceltask_command.handle()
async def cancel_task(place: CurrentPlace, number: Match[int], reason: Match[tuple[str, ...]]) -> None:
    if not number.available:
        await finish(CANCELTASK_USAGE)
    text = " ".join(reason.result) if reason.available else None
    cancelled = await refuse_on_error(tasks.cancel_task(place.caller, number.result, text, place.group))
    await finish(texts.text_for_cancelled_task(cancelled))


@closetask_command.handle()
async def close_task(place: CurrentPlace, number: Match[int]) -> None:
    if not number.available:
        await finish(CLOSETASK_USAGE)
    closed = await refuse_on_error(tasks.close_task(place.caller, number.result, where=place.group))
    await finish(texts.text_for_closed_task(closed))


async def close_due_tasks() -> None:
    """Every minute: close open check-ins of ended tasks, and close tasks left open past the delay."""
    try:
        await tasks.close_open_checkins()
        for task_id in await tasks.tasks_due_for_closing():
            await tasks.close_task(None, task_id)
    except Exception as error:
        logger.opt(exception=error).error("closing due tasks failed; will try again in a minute")


async def send_due_reminders() -> None:
    """Every tick: due reminders become outbox messages (what is due lives in the database, so a missed tick
    loses nothing)."""
    dropped = 0
    try:
        while True:  # a batch at a time, letting command replies in between
            run = await reminders.send_due_reminders()
            dropped += run.dropped
            if run.sent + run.dropped + run.cancelled < reminders.BATCH:
                break
            await asyncio.sleep(0)
    except Exception as error:
        logger.opt(exception=error).error("sending due reminders failed; will try again at the next tick")
    if dropped:
        logger.warning(f"{dropped} reminder(s) found too late to be useful were dropped")


REMINDER_TICK = int(getattr(get_driver().config, "yijing_reminder_tick_seconds", 30))
scheduler.add_job(
    close_due_tasks, "interval", minutes=1, id="close_due_tasks", replace_existing=True, misfire_grace_time=None
)
scheduler.add_job(
    send_due_reminders,
    "interval",
    seconds=REMINDER_TICK,
    id="send_due_reminders",
    replace_existing=True,
    misfire_grace_time=None,
)


@get_driver().on_startup
async def warm_up_time_parser() -> None:
    await asyncio.to_thread(warm_up)
