"""Points: /积分, /排行榜 (text and a picture), /奖励 for officers, and the weekly board and monthly honours."""

import asyncio

from nonebot import require
from nonebot.adapters import Bot, Event
from nonebot.log import logger
from nonebot.matcher import Matcher
from nonebot.plugin import PluginMetadata
from nonebot.typing import T_State

require("nonebot_plugin_alconna")
require("nonebot_plugin_uninfo")
require("nonebot_plugin_apscheduler")

from nonebot_plugin_alconna import Args, At, Image, Match, MultiVar, UniMessage
from nonebot_plugin_apscheduler import scheduler

from plugins._arguments import NumberOrMention, SignedNumber
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
    shows_pictures,
)
from plugins._images import board_image
from plugins._texts import refusal
from plugins._texts import standings as texts
from plugins._texts.standings import text_for_award, text_for_board, text_for_points
from storage.errors import DomainError
from storage.services import standings
from storage.services.when import DateRange, parse_date_range

POINTS_USAGE = "/积分（/points）查看积分余额、本月积分和排名、最近的积分记录"
BOARD_USAGE = (
    "排行榜：/排行榜 [本周|上周|本月|上月|10月|今年|去年|总] [队伍|单位|全市] [积分|时长|线索]，默认本月、本队、积分\n"
    "例如 /排行榜 上月 全市 时长；队长和民警可以看分队人均：/排行榜 单位 分队"
)
AWARD_USAGE = "奖励或扣分（民警）：/奖励 @某人 或 成员号 分数 理由，例如 /奖励 12 5 协助寻找走失老人；扣分写负数"
CONFIRM_SECONDS = 60
"""How long the question "take only what the member has?" waits for its answer."""

__plugin_meta__ = PluginMetadata(
    name="积分",
    description="积分余额与排名、排行榜（文字和图片）、民警奖励，每周积分榜和每月义警之星",
    usage="\n\n".join([POINTS_USAGE, BOARD_USAGE, AWARD_USAGE]),
)

points_command = command("积分", "points")
board_command = command("排行榜", "leaderboard", Args["words", MultiVar(str, "*")])
award_command = command(
    "奖励", "award", Args["who?", NumberOrMention]["amount?", SignedNumber]["reason", MultiVar(str, "*")]
)

PERIOD_WORDS = {"本周": "week", "week": "week", "本月": "month", "month": "month", "今年": "year", "year": "year",
                "总": "all", "总榜": "all", "全部": "all", "all": "all"}  # fmt: skip
"""The running periods by name; any other period is read as /统计 reads it (上月, 上周, 去年, 10月, 2026年10月)."""
SCOPE_WORDS = {"队伍": "team", "本队": "team", "team": "team", "单位": "unit", "unit": "unit", "全市": "city",
               "city": "city"}  # fmt: skip
METRIC_WORDS = {"积分": "points", "points": "points", "时长": "minutes", "hours": "minutes", "线索": "tips",
                "tips": "tips"}  # fmt: skip
BY_TEAM_WORDS = ("分队", "按队", "teams")


@points_command.handle()
async def show_points(place: CurrentPlace) -> None:
    summary = await refuse_on_error(standings.my_points(place.caller, place.group))
    await finish(text_for_points(summary))


@board_command.handle()
async def show_board(bot: Bot, place: CurrentPlace, words: Match[tuple[str, ...]]) -> None:
    period: str | DateRange = "month"
    scope, metric, by_team = "team", "points", False
    for word in words.result if words.available else ():
        if word in PERIOD_WORDS:
            period = PERIOD_WORDS[word]
        elif (past := _period_in(word)) is not None:
            period = past
        elif word in SCOPE_WORDS:
            scope = SCOPE_WORDS[word]
        elif word in METRIC_WORDS:
            metric = METRIC_WORDS[word]
        elif word in BY_TEAM_WORDS:
            by_team = True
        else:
            await finish(BOARD_USAGE)
    board = await refuse_on_error(
        standings.leaderboard(place.caller, place.group, period, scope, metric, by_team=by_team)
    )
    message = UniMessage.text(text_for_board(board))
    if not shows_pictures(bot) or not (board.rows or board.by_team):  # an empty board's text says so; no card
        await message.finish()
    try:
        picture = await asyncio.to_thread(board_image, board)
    except Exception as error:  # the text alone still answers
        logger.opt(exception=error).error("could not draw the leaderboard")
    else:
        message += Image(raw=picture, mimetype="image/png")
    await message.finish()


def _period_in(word: str) -> DateRange | None:
    """A period written as /统计 takes it, or None when the word is not one."""
    if word in SCOPE_WORDS or word in METRIC_WORDS or word in BY_TEAM_WORDS:
        return None
    try:
        return parse_date_range(word)
    except DomainError:
        return None


@award_command.handle()
async def award(
    bot: Bot,
    event: Event,
    state: T_State,
    place: CurrentPlace,
    who: Match[At | int],
    amount: Match[int],
    reason: Match[tuple[str, ...]],
) -> None:
    target = await person_from(bot, who.result if who.available else None, place)
    words = " ".join(reason.result) if reason.available else ""
    if target is None or not amount.available or not words:
        await finish(AWARD_USAGE)
    try:
        done = await standings.award_points(place.caller, target, amount.result, words)
    except DomainError as error:
        if error.code != "standings.penalty_beyond_balance":
            await finish(refusal(error))
        # more than the member has: ask, for a minute, whether to take what there is (or, where allowed, all)
        state["award"] = (target, amount.result, words, error.params["overdraft"])
        state["confirm_until"] = open_confirmation(bot, event, CONFIRM_SECONDS, texts.AWARD_TOO_LATE)
        await award_command.pause(UniMessage.text(refusal(error)))
        raise AssertionError("unreachable") from error
    await finish(text_for_award(done))


@award_command.handle()
async def confirm_penalty(matcher: Matcher, event: Event, state: T_State, place: CurrentPlace) -> None:
    """The answer to "take only what the member has?": 确认 caps it, 透支 takes it all, anything else nothing; a
    command ends the question (nothing taken) and is answered."""
    target, amount, words, overdraft_offered = state.pop("award")
    text = await answer_or_leave(matcher, event, cancelled="已取消，什么也没有改。", left="已退出，没有扣分。")
    close_dialogue(event)
    if confirmation_lapsed(state["confirm_until"]):
        await finish(texts.AWARD_TOO_LATE)
    if is_confirm(text):
        beyond: standings.BeyondBalance = "cap"
    elif overdraft_offered and text in texts.OVERDRAW_WORDS:
        beyond = "overdraw"
    else:
        await finish(texts.AWARD_NOT_DONE)
    done = await refuse_on_error(standings.award_points(place.caller, target, amount, words, beyond_balance=beyond))
    await finish(text_for_award(done))


async def post_boards_and_honours() -> None:
    """Each minute: last week's board on its day and time, last month's 义警之星 on the first (once each)."""
    try:
        if sent := await standings.post_weekly_boards():
            logger.info(f"weekly leaderboard queued for {sent} group(s)")
        if sent := await standings.post_monthly_honours():
            logger.info(f"monthly honours queued for {sent} group(s)")
    except Exception as error:
        logger.opt(exception=error).error("posting the weekly board or the honours failed; will try again")


scheduler.add_job(post_boards_and_honours, "interval", minutes=1, id="yijing_boards_and_honours", replace_existing=True)
